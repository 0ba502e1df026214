/* tunnel.h - tunnel output: raw IPIP and GRE sockets, packets queued per worker, sent in batches */
#ifndef VSR_TUNNEL_H
#define VSR_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#define TUNNEL_QUEUES 16   /* output queues per tunnel type: one per worker (CONF_WORKERS_MAX) */

struct pkt;

/*
 * Bytes a tunnel of type T puts before the inner packet: the outer IPv4
 * header, and GRE's (4 more with a key, KEYED).
 */
unsigned tunnel_overhead(enum tunnel_type t, bool keyed);

/* T's raw socket, opened on first use: 0, or -1 with errno set. */
int  tunnel_open(enum tunnel_type t);

/*
 * Queue the IPv4 packet P for the real server DADDR (network order)
 * through a tunnel of type T, on output queue Q (the worker's id): P is
 * copied, its buffer must stay untouched until tunnel_flush_all(Q). With
 * KEYED, GRE carries KEY (network order; RFC 2890). Up to RX_BATCH
 * packets a queue, one batch's worth; beyond, -1 (counted). The peer of
 * link_tx() (link.h) and tap_tx() (tap.h).
 */
int  tunnel_tx(enum tunnel_type t, unsigned q, uint32_t daddr, bool keyed, uint32_t key,
    const struct pkt *p);

/*
 * Send what queue Q holds, outside the data-path lock: a GSO super-frame
 * is cut into TCP segments here, a partial checksum completed, the GRE
 * header written; then sendmmsg() in batches.
 */
void tunnel_flush_all(unsigned q);

/* Close the raw sockets (at exit). */
void tunnel_close(void);

#endif
