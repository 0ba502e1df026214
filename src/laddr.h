/* laddr.h - the fullnat local address pool and its port allocator */
#ifndef VSR_LADDR_H
#define VSR_LADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct conn_table;

#define LADDR_PORT_MIN   1024u
#define LADDR_PORT_MAX   65535u
#define LADDR_TRIES      256u   /* ports probed per local address and new flow */
#define LADDR_SHARES     16u    /* shares of the ports: one per worker (CONF_WORKERS_MAX) */

/* Take the pool, addresses of both families; 0, or -1 when out of memory. */
int  laddr_setup(const struct vsr_ip *addrs, unsigned n);
void laddr_teardown(void);
/* The pool's size, all families, and its address I (NULL beyond). */
unsigned laddr_count(void);
const struct vsr_ip *laddr_get(unsigned i);
/* How many of family AF. */
unsigned laddr_count_af(int af);
/* ADDR (of family AF) is in the pool. */
bool laddr_is_local(int af, const union vsr_addr *addr);

/*
 * A (local address, port) for a new fullnat flow of PROTO to the real
 * server DADDR:DPORT of family AF such that no connection in T holds the
 * out-direction key (AF, PROTO, DADDR, DPORT, *LADDR, *LPORT): local
 * addresses of that family in turn, each probed for at most LADDR_TRIES
 * ports of LADDR_PORT_MIN..LADDR_PORT_MAX from where its last allocation
 * stopped (a random start). Ports are handed out in order, so a (local
 * address, port) pair comes back as late as possible: a real server may
 * still hold it in TIME_WAIT (60 s) with another client's TCP timestamps,
 * and a SYN that reuses it too soon is refused by PAWS (RFC 7323) and has
 * to be retried.
 *
 * NSHARES > 1 (the TAP's queues are steered, steer.h): only ports whose
 * reply (real server -> LADDR:LPORT) the steering sends to queue SHARE,
 * the worker that makes the flow: steer_queue(AF, LADDR, LPORT, NSHARES)
 * == SHARE, about 1/NSHARES of them, each share with a cursor of its own
 * per address. A worker so holds about 64512 / NSHARES ports per local
 * address toward one real server's port, and may run out while another
 * still has some. NSHARES 0 or 1: any port, as without workers.
 *
 * Returns 0; or -1 when every try found the pair in use, after counting
 * STAT_LPORT_EXHAUSTED (logged once, when it starts, and once when ports
 * are found again).
 */
int  laddr_alloc(struct conn_table *t, int af, uint8_t proto, const union vsr_addr *daddr,
    uint16_t dport, unsigned share, unsigned nshares, union vsr_addr *laddr, uint16_t *lport);

#endif
