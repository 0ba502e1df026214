/* nexthop.h - where a rewritten frame goes by itself: the kernel's routes and neighbours, cached and kept fresh */
#ifndef VSR_NEXTHOP_H
#define VSR_NEXTHOP_H

#include <stdint.h>

#include "addr.h"

struct event_base;

/*
 * nat and fullnat frames are to leave straight out of the interface
 * toward their next hop (AF_PACKET, link.h) rather than back through the
 * TAP and the kernel's routing (issue 21). The next hop is the kernel's
 * own: the route toward a destination (interface, gateway, MTU) and the
 * neighbour entry of the gateway, or of the destination when it is on
 * the link. The main thread resolves them over netlink and keeps them
 * fresh; workers only read, without a lock:
 *
 *   - a destination of our own (a real server) has an entry of its own,
 *     resolved when it is bound (nh_get) and held until nh_put;
 *   - a client's next hop is looked up by the client's address in a
 *     bounded direct-mapped cache per family (nh_client); a miss is
 *     answered NULL
 *     (the frame takes the TAP) and queued for the main thread, which
 *     resolves it as the kernel would forward the reply (the route
 *     from the VIP, arriving on the TAP: policy rules included), so no
 *     worker ever waits for netlink.
 *
 * Clients whose replies go to the same neighbour on the same interface
 * share an entry (there are few: the routers); a real server's entry is
 * its own. The cache is keyed by the client's address alone: the first
 * VIP to ask stands for the others (they differ only under policy rules
 * by source). Both families alike: IPv4's neighbours are ARP's, IPv6's
 * neighbour discovery's (a gateway may be a link-local address: an entry
 * is its neighbour on its interface). Kept fresh by the netlink monitor:
 * a neighbour's change (a new MAC, unreachable) is applied to its entry at once; any change of
 * routes, rules, addresses or links has every real server's entry
 * resolved again (a bounded number per tick) and every client's
 * forgotten (a new generation). The kernel no longer sends to these
 * neighbours itself, so it would let their entries go stale and never
 * notice a silent change: every NH_TOUCH_S the entries in use are read
 * again from its table, a stale one is confirmed by a unicast ARP
 * request or neighbour solicitation (whose answer makes the kernel's
 * entry reachable), and one
 * that does not answer NH_UNANSWERED of them, or that has no usable
 * entry, is resolved afresh by the kernel (nl_neigh_use).
 *
 * Not an entry (NULL, or nh_read() < 0), and so the TAP: no route, a
 * route into the TAP or to this host, a neighbour not (yet) resolved,
 * a table full.
 */

#define NH_MAX          256     /* next-hop entries */
#define NH_CLIENTS      4096    /* client cache slots (a power of two) */
#define NH_RESOLVE_MAX  64      /* resolutions per tick */
#define NH_TICK_MS      100
#define NH_TOUCH_S      5
#define NH_UNANSWERED   2       /* unicast probes of a stale neighbour before it is resolved afresh */

struct link;

/*
 * Written by the main thread between two increments of SEQ (odd while it
 * writes); read by workers with nh_read(), which retries nothing: a read
 * that meets a write takes the TAP that once. VALID, MAC, LINK and MTU
 * are read and written as relaxed atomics (nh_store_* in nexthop.c), so
 * that a read beside a write is not a data race in C11's terms (nor in
 * ThreadSanitizer's); SEQ and its fences order them.
 */
struct nexthop {
	uint32_t     seq;
	uint8_t      valid;     /* a route out of a link, and the neighbour's MAC */
	uint8_t      mac[6];
	struct link *link;
	unsigned     mtu;       /* the route's, else the link's */
	uint32_t     used;      /* conn_clock() tick of a worker's last use (relaxed) */
	/* main thread only */
	uint8_t      kind;      /* NH_FREE, NH_RS (a real server's), NH_CLIENT (clients' next hop) */
	int          af;
	union vsr_addr dst;     /* a real server's address (NH_RS) */
	union vsr_addr via;     /* the neighbour: the gateway, or dst itself; zero: none */
	int          oif;
	unsigned     refs;      /* nh_get()s, and client cache slots pointing here */
	uint8_t      dirty;     /* to resolve again */
	uint8_t      unanswered;  /* unicast probes of a stale neighbour since it answered */
};

/* A worker's copy of an entry. */
struct nh_view {
	uint8_t      mac[6];
	struct link *link;
	unsigned     mtu;
};

/*
 * TAP_IFINDEX: routes into it lead nowhere of ours. With BASE, the
 * monitor and the tick run on it (the main loop); without, the caller
 * calls nh_monitor_run() and nh_tick() (tests). 0, or -1 logged.
 */
int  nh_init(struct event_base *base, int tap_ifindex);
/* The monitor and the tick on BASE, after nh_init(NULL, ...): 0, or -1 logged. */
int  nh_start(struct event_base *base);
void nh_fini(void);

enum { NH_FREE, NH_RS, NH_CLIENT };

/* A real server's next hop (DST, of family AF), resolved now (main thread); NULL: table full. */
struct nexthop *nh_get(int af, const union vsr_addr *dst);
void nh_put(struct nexthop *nh);

/* The packet path: a consistent copy of NH, 0 when it can be sent to; NOW marks it used. */
static inline int
nh_read(struct nexthop *nh, struct nh_view *v, uint32_t now)
{
	uint32_t s = __atomic_load_n(&nh->seq, __ATOMIC_ACQUIRE);

	if ((s & 1) || !__atomic_load_n(&nh->valid, __ATOMIC_RELAXED))
		return -1;
	for (unsigned k = 0; k < 6; k++)
		v->mac[k] = __atomic_load_n(&nh->mac[k], __ATOMIC_RELAXED);
	v->link = __atomic_load_n(&nh->link, __ATOMIC_RELAXED);
	v->mtu = __atomic_load_n(&nh->mtu, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&nh->seq, __ATOMIC_RELAXED) != s)
		return -1;
	if (__atomic_load_n(&nh->used, __ATOMIC_RELAXED) != now)
		__atomic_store_n(&nh->used, now, __ATOMIC_RELAXED);
	return 0;
}

/*
 * The next hop toward client CADDR (of family AF) for a reply from VADDR,
 * or NULL: then queued (by worker Q, without a lock) for the main thread
 * to resolve, if its queue has room.
 */
struct nexthop *nh_client(int af, const union vsr_addr *caddr, const union vsr_addr *vaddr,
    unsigned q);

/*
 * As nh_client, with what the main thread answered: DIRECT (*NH, which
 * nh_read may still refuse), UNKNOWN (not answered yet, or a miss now
 * asked for), KERNEL (no usable next hop: no route, not resolvable, the
 * table full; the kernel knows what to do with the frame), TAP (the route
 * itself leads into the TAP: a frame written there comes back).
 */
enum nh_way { NH_WAY_DIRECT, NH_WAY_UNKNOWN, NH_WAY_KERNEL, NH_WAY_TAP };
enum nh_way nh_client_way(int af, const union vsr_addr *caddr, const union vsr_addr *vaddr,
    unsigned q, struct nexthop **nh);

/* Without a BASE: read the monitor's events, and do what a tick does. */
void nh_monitor_run(void);
void nh_tick(uint32_t now);

/* Counters for tests and the dump: resolutions done, clients' misses queued and dropped. */
struct nh_stats {
	uint64_t resolved, client_queued, client_dropped, touched, events;
};
const struct nh_stats *nh_stats(void);

#endif
