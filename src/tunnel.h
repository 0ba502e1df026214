/* tunnel.h - tunnel output: raw IPIP, ip6ip6 and GRE sockets, packets queued per worker, sent in batches */
#ifndef VSR_TUNNEL_H
#define VSR_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "common.h"

#define TUNNEL_QUEUES 16   /* output queues per tunnel type: one per worker (CONF_WORKERS_MAX) */

struct pkt;

/*
 * A tunnel of type T toward a real server of family AF wraps the packet,
 * of that family too, in an outer header of it: IPIP or ip6ip6 (RFC
 * 2473), GRE over IPv4 or IPv6 (RFC 2784, RFC 7676). The bytes it puts
 * before the inner packet: the outer IP header, and GRE's (4 more with a
 * key, KEYED).
 */
unsigned tunnel_overhead(int af, enum tunnel_type t, bool keyed);

/* The raw socket of T for family AF, opened on first use: 0, or -1 with errno set. */
int  tunnel_open(int af, enum tunnel_type t);

/*
 * Queue the packet P (of family P->af) for the real server DADDR through
 * a tunnel of type T, on output queue Q (the worker's id): P is copied,
 * its buffer must stay untouched until tunnel_flush_all(Q). With KEYED,
 * GRE carries KEY (network order; RFC 2890). Up to RX_BATCH packets a
 * queue, one batch's worth; beyond, -1 (counted). The peer of link_tx()
 * (link.h) and tap_tx() (tap.h).
 */
int  tunnel_tx(enum tunnel_type t, unsigned q, const union vsr_addr *daddr, bool keyed,
    uint32_t key, const struct pkt *p);

/*
 * Send what queue Q holds, outside the data-path lock: a GSO super-frame
 * is cut into TCP segments here, a partial checksum completed, the GRE
 * header written; then sendmmsg() in batches.
 */
void tunnel_flush_all(unsigned q);

/*
 * Read off the errors the kernel queued on the IPv6 tunnel sockets (it
 * learnt the path MTU from them already, see tunnel.c): from the main
 * loop, now and then. Returns how many.
 */
unsigned tunnel_errors(void);

/* Close the raw sockets (at exit). */
void tunnel_close(void);

#endif
