/* nexthop.c - where a rewritten frame goes by itself: the kernel's routes and neighbours, cached and kept fresh */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <linux/neighbour.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "nexthop.h"
#include "pkt.h"
#include "pkt6.h"

/* Kernel neighbour states with a MAC to send to; and those that need no confirming. */
#define NH_NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)
#define NH_NUD_FRESH  (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP)

#define NH_QUEUES   16          /* one request queue per worker */
#define NH_QLEN     64          /* requests per queue */

_Static_assert(NH_QUEUES >= CONF_WORKERS_MAX, "a next-hop request queue per worker");
_Static_assert((NH_CLIENTS & (NH_CLIENTS - 1)) == 0, "the client cache is a power of two");
_Static_assert(NH_MAX < 0xfffe, "an entry's index fits a cache slot, below NH_SLOT_LOOP");

/*
 * A client cache slot, one 64-bit word so that it is read and written
 * whole: the client's key (32 bits), the entry (16: its index + 1;
 * NH_SLOT_PENDING while the main thread has yet to answer,
 * NH_SLOT_NONE when it answered "the TAP", NH_SLOT_LOOP when the route
 * itself leads into the TAP), the generation (16) it
 * belongs to. A slot of an older generation is a miss. IPv4's key is the
 * address itself; IPv6's is a hash of it, the address in full kept
 * beside the slot (nh_full6) and compared under the slot's word as under
 * a sequence lock: the main thread makes the slot pending before it
 * writes another address there, and a reader reads the word again after
 * the address, so that an address and an answer of different clients are
 * never taken together.
 */
#define NH_SLOT_PENDING 0u
#define NH_SLOT_NONE    0xffffu
#define NH_SLOT_LOOP    0xfffeu

struct nh_req {
	int            af;
	union vsr_addr caddr, vaddr;
};

struct nh_queue {               /* one producer (worker q), one consumer (main thread) */
	uint32_t      head;         /* written by the worker */
	uint32_t      tail;         /* written by the main thread */
	struct nh_req req[NH_QLEN];
};

static struct nexthop   nh_tab[NH_MAX];
static unsigned         nh_used;          /* entries ever handed out: [0, nh_used) */
static uint64_t         nh_slots[2][NH_CLIENTS];     /* IPv4's, IPv6's */
static uint32_t         nh_full6[NH_CLIENTS][4];     /* the IPv6 address of a slot's answer */
static uint16_t         nh_gen = 1;
static struct nh_queue  nh_queues[NH_QUEUES];
static struct nh_stats  nh_st;
static int              nh_tap;
static int              nh_fd = -1;
static struct event    *nh_ev, *nh_timer;
static uint32_t         nh_last_touch;
static int              nh_dirty;         /* some real server's entry is to be resolved again */

static inline uint64_t
slot_make(uint32_t caddr, unsigned idx, uint16_t gen)
{
	return (uint64_t)caddr << 32 | (uint64_t)(idx & 0xffffu) << 16 | gen;
}

static inline unsigned
slot_of(uint32_t key)
{
	uint32_t h = key * 0x9e3779b1u;

	return (h ^ (h >> 15)) & (NH_CLIENTS - 1);
}

/* A client's key: IPv4's address, a mix of IPv6's four words (all of them count). */
static inline uint32_t
client_key(int af, const union vsr_addr *a)
{
	uint32_t h;

	if (af == AF_INET)
		return a->ip;
	h = a->w[0] * 0x85ebca6bu;
	h = (h ^ (h >> 13) ^ a->w[1]) * 0xc2b2ae35u;
	h = (h ^ (h >> 16) ^ a->w[2]) * 0x85ebca6bu;
	h = (h ^ (h >> 13) ^ a->w[3]) * 0xc2b2ae35u;
	return h ^ (h >> 16);
}

/* ---- publishing an entry's fields to the workers ---- */

static void
nh_write_begin(struct nexthop *nh)
{
	__atomic_store_n(&nh->seq, nh->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
nh_write_end(struct nexthop *nh)
{
	__atomic_store_n(&nh->seq, nh->seq + 1, __ATOMIC_RELEASE);
}

/* The fields nh_read() copies, stored as it loads them (nexthop.h). */
static void
nh_store_valid(struct nexthop *nh, uint8_t valid)
{
	__atomic_store_n(&nh->valid, valid, __ATOMIC_RELAXED);
}

static void
nh_store_mac(struct nexthop *nh, const uint8_t *mac)
{
	for (unsigned k = 0; k < 6; k++)
		__atomic_store_n(&nh->mac[k], mac[k], __ATOMIC_RELAXED);
}

static void
nh_store_way(struct nexthop *nh, struct link *l, unsigned mtu)
{
	__atomic_store_n(&nh->link, l, __ATOMIC_RELAXED);
	__atomic_store_n(&nh->mtu, mtu, __ATOMIC_RELAXED);
}

static void
nh_set_invalid(struct nexthop *nh)
{
	if (!nh->valid)
		return;
	nh_write_begin(nh);
	nh_store_valid(nh, 0);
	nh_write_end(nh);
}

/*
 * A unicast ARP request, or neighbour solicitation, to the neighbour's
 * MAC from the link's own address: its answer (a reply to us, or a
 * solicited advertisement) makes the kernel's entry REACHABLE again, as
 * its own probe of a stale entry would (RFC 4861 7.3.3: a unicast
 * solicitation to the cached address).
 */
static void
nh_probe(const struct nexthop *nh)
{
	static const uint8_t zero[6];
	char a[ADDR_STRLEN];
	ssize_t r;

	if (nh->link == NULL || nh->link->fd_tx < 0)
		return;
	if (nh->af == AF_INET6) {
		uint8_t f[PKT_VNET_LEN + PKT_ND_LEN] = { 0 }, *eth = f + PKT_VNET_LEN;
		uint32_t len;
		uint16_t *check;

		if (addr_is_zero(&nh->link->addr6))
			return;
		/* To the group, then made unicast: the address and the sum with it. */
		len = pkt_nd_ns_fill(eth, nh->link->mac, &nh->link->addr6, &nh->via);
		memcpy(eth, nh->mac, 6);
		check = (uint16_t *)(void *)(eth + ETH_HLEN_ + IP6_HLEN + 2);
		csum_replace16(check, eth + ETH_HLEN_ + IP6_DADDR, &nh->via);
		memcpy(eth + ETH_HLEN_ + IP6_DADDR, &nh->via, 16);
		/* The link's send socket takes a virtio-net header (none needed: zero). */
		r = sendto(nh->link->fd_tx, f, PKT_VNET_LEN + len, MSG_DONTWAIT,
		    (const struct sockaddr *)link_sll(nh->link, AF_INET6),
		    sizeof(struct sockaddr_ll));
	} else {
		struct pkt_arp f;

		if (nh->link->fd_arp < 0 || nh->link->addr == 0)
			return;
		pkt_arp_fill(&f, ARPOP_REQUEST, nh->mac, nh->link->mac, nh->link->addr, zero,
		    nh->via.ip);
		r = send(nh->link->fd_arp, &f, sizeof(f), MSG_DONTWAIT);
	}
	if (r < 0)
		log_debug("next hop %s: probe: %s", addr_ntop(nh->af, &nh->via, a, sizeof(a)),
		    strerror(errno));
}

/*
 * The neighbour's MAC from the kernel's table; without a usable entry,
 * the kernel is asked to resolve it (its answer comes to the monitor).
 * With PROBE, a stale entry is confirmed (nh_arp_probe), or resolved
 * afresh after NH_UNANSWERED unanswered probes.
 */
static void
nh_neigh_check(struct nexthop *nh, int probe)
{
	uint8_t mac[6];
	uint16_t state = 0;

	if (nl_neigh_state(nh->af, &nh->via, nh->oif, mac, &state) < 0 ||
	    !(state & NH_NUD_USABLE)) {
		nh_set_invalid(nh);
		/* Resolving already (INCOMPLETE): let it be. */
		if (!(state & NUD_INCOMPLETE))
			(void)nl_neigh_use(nh->af, &nh->via, nh->oif);
		nh->unanswered = 0;
		return;
	}
	if (!nh->valid || memcmp(mac, nh->mac, 6) != 0) {
		nh_write_begin(nh);
		nh_store_mac(nh, mac);
		nh_store_valid(nh, nh->link != NULL);
		nh_write_end(nh);
	}
	if (!probe || (state & NH_NUD_FRESH)) {
		nh->unanswered = 0;
		return;
	}
	if (nh->unanswered >= NH_UNANSWERED) {
		/* Gone silent, or moved to another MAC without telling: find it again. */
		nh->unanswered = 0;
		(void)nl_neigh_use(nh->af, &nh->via, nh->oif);
		return;
	}
	/* DELAY, PROBE: the kernel is confirming it already; STALE: we do. */
	if (state & NUD_STALE)
		nh_probe(nh);
	nh->unanswered++;
}

static void
nh_neigh(struct nexthop *nh)
{
	nh_neigh_check(nh, 0);
}

/* Route info RI (or none, OK 0) for NH: its way out, then its neighbour. */
static void
nh_apply_route(struct nexthop *nh, int ok, const struct nl_route_info *ri)
{
	const union vsr_addr *via;
	struct link *l = NULL;
	unsigned mtu = 0;

	nh_st.resolved++;
	if (!ok || ri->local || ri->oif == nh_tap || ri->oif <= 0 ||
	    (l = link_get(ri->oif)) == NULL) {
		nh_set_invalid(nh);
		nh->oif = 0;
		memset(&nh->via, 0, sizeof(nh->via));
		return;
	}
	mtu = ri->mtu ? ri->mtu : l->mtu;
	via = addr_is_zero(&ri->gateway) ? &nh->dst : &ri->gateway;
	nh_write_begin(nh);
	nh_store_way(nh, l, mtu);
	if (nh->oif != ri->oif || !addr_eq(&nh->via, via))
		nh_store_valid(nh, 0);      /* another neighbour: its MAC is to be found */
	nh->oif = ri->oif;
	nh->via = *via;
	nh_write_end(nh);
	if (!nh->valid)
		nh_neigh(nh);
}

static void
nh_resolve(struct nexthop *nh)
{
	struct nl_route_info ri;

	nh->dirty = 0;
	nh_apply_route(nh, nl_route_get(nh->af, &nh->dst, &ri) == 0, &ri);
}

/* A free entry (never used, or put back), or NULL. */
static struct nexthop *
nh_alloc(void)
{
	for (unsigned i = 0; i < nh_used; i++)
		if (nh_tab[i].kind == NH_FREE)
			return &nh_tab[i];
	if (nh_used == NH_MAX)
		return NULL;
	return &nh_tab[nh_used++];
}

struct nexthop *
nh_get(int af, const union vsr_addr *dst)
{
	struct nexthop *nh;

	for (unsigned i = 0; i < nh_used; i++)
		if (nh_tab[i].kind == NH_RS && nh_tab[i].af == af && addr_eq(&nh_tab[i].dst, dst)) {
			nh_tab[i].refs++;
			return &nh_tab[i];
		}
	nh = nh_alloc();
	if (nh == NULL) {
		log_warnx("next hops: table full (%u)", NH_MAX);
		return NULL;
	}
	nh->kind = NH_RS;
	nh->af = af;
	nh->dst = *dst;
	nh->refs = 1;
	nh_resolve(nh);
	return nh;
}

void
nh_put(struct nexthop *nh)
{
	if (nh == NULL || --nh->refs > 0)
		return;
	/* No dest points here any more, so no worker does: free for another. */
	nh_set_invalid(nh);
	nh->kind = NH_FREE;
	memset(&nh->dst, 0, sizeof(nh->dst));
	memset(&nh->via, 0, sizeof(nh->via));
	nh->oif = 0;
	nh_store_way(nh, NULL, nh->mtu);
}

/* ---- clients ---- */

/* IPv6: the address of slot S is A's (nh_client's reader side of the sequence). */
static inline bool
full6_is(unsigned s, const union vsr_addr *a)
{
	return (__atomic_load_n(&nh_full6[s][0], __ATOMIC_RELAXED) ^ a->w[0]) == 0 &&
	    (__atomic_load_n(&nh_full6[s][1], __ATOMIC_RELAXED) ^ a->w[1]) == 0 &&
	    (__atomic_load_n(&nh_full6[s][2], __ATOMIC_RELAXED) ^ a->w[2]) == 0 &&
	    (__atomic_load_n(&nh_full6[s][3], __ATOMIC_RELAXED) ^ a->w[3]) == 0;
}

struct nexthop *
nh_client(int af, const union vsr_addr *caddr, const union vsr_addr *vaddr, unsigned q)
{
	struct nexthop *nh;

	(void)nh_client_way(af, caddr, vaddr, q, &nh);
	return nh;
}

enum nh_way
nh_client_way(int af, const union vsr_addr *caddr, const union vsr_addr *vaddr, unsigned q,
    struct nexthop **nhp)
{
	int f = af == AF_INET6;
	uint32_t key = client_key(af, caddr);
	unsigned s = slot_of(key);
	uint64_t *slot = &nh_slots[f][s];
	uint64_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	uint16_t gen = __atomic_load_n(&nh_gen, __ATOMIC_RELAXED);
	unsigned idx = (unsigned)(v >> 16) & 0xffffu;
	struct nh_queue *nq = &nh_queues[q];
	uint32_t head, tail;

	*nhp = NULL;
	if ((uint32_t)(v >> 32) == key && (uint16_t)v == gen) {
		if (idx == NH_SLOT_PENDING)
			return NH_WAY_UNKNOWN;
		if (f) {
			/* Another client of the same key: a miss, and not asked for (rare). */
			bool same = full6_is(s, caddr);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (!same || __atomic_load_n(slot, __ATOMIC_RELAXED) != v)
				return NH_WAY_UNKNOWN;
		}
		if (idx == NH_SLOT_NONE)
			return NH_WAY_KERNEL;
		if (idx == NH_SLOT_LOOP)
			return NH_WAY_TAP;
		*nhp = &nh_tab[idx - 1];
		return NH_WAY_DIRECT;
	}
	/* A miss: claim the slot as pending, so that the flow's next packets do not ask again. */
	if (!__atomic_compare_exchange_n(slot, &v, slot_make(key, NH_SLOT_PENDING, gen),
	    0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return NH_WAY_UNKNOWN;
	head = nq->head;
	tail = __atomic_load_n(&nq->tail, __ATOMIC_ACQUIRE);
	if (head - tail >= NH_QLEN) {
		__atomic_add_fetch(&nh_st.client_dropped, 1, __ATOMIC_RELAXED);
		/* Not pending after all: let a later packet ask. */
		__atomic_store_n(slot, 0, __ATOMIC_RELEASE);
		return NH_WAY_UNKNOWN;
	}
	nq->req[head % NH_QLEN] = (struct nh_req){ af, *caddr, *vaddr };
	__atomic_store_n(&nq->head, head + 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&nh_st.client_queued, 1, __ATOMIC_RELAXED);
	return NH_WAY_UNKNOWN;
}

/* The clients' entry for RI's neighbour toward CADDR, made if need be; NULL: the table is full. */
static struct nexthop *
nh_client_entry(int af, const struct nl_route_info *ri, const union vsr_addr *caddr)
{
	const union vsr_addr *via = addr_is_zero(&ri->gateway) ? caddr : &ri->gateway;
	struct nexthop *nh;
	struct link *l;

	for (unsigned i = 0; i < nh_used; i++)
		if (nh_tab[i].kind == NH_CLIENT && nh_tab[i].af == af && nh_tab[i].oif == ri->oif &&
		    addr_eq(&nh_tab[i].via, via))
			return &nh_tab[i];
	nh = nh_alloc();
	if (nh == NULL)
		return NULL;
	nh->kind = NH_CLIENT;
	nh->refs = 1;           /* client entries stay: workers may hold them */
	nh->af = af;
	memset(&nh->dst, 0, sizeof(nh->dst));
	nh->oif = ri->oif;
	nh->via = *via;
	l = link_get(ri->oif);
	nh_store_way(nh, l, ri->mtu ? ri->mtu : l ? l->mtu : 0);
	if (nh->link != NULL)
		nh_neigh(nh);
	return nh;
}

static void
nh_client_resolve(const struct nh_req *r)
{
	struct nl_route_info ri;
	struct nexthop *nh = NULL;
	int f = r->af == AF_INET6;
	uint32_t key = client_key(r->af, &r->caddr);
	unsigned s = slot_of(key);
	unsigned answer = NH_SLOT_NONE;

	nh_st.resolved++;
	if (nl_route_get_input(r->af, &r->caddr, &r->vaddr, nh_tap, &ri) == 0 && !ri.local) {
		if (ri.oif == nh_tap)
			answer = NH_SLOT_LOOP;
		else if (ri.oif > 0 && (nh = nh_client_entry(r->af, &ri, &r->caddr)) != NULL)
			answer = (unsigned)(nh - nh_tab) + 1;
	}
	if (f) {
		/* Pending while another address is written (full6_is). */
		__atomic_store_n(&nh_slots[1][s], slot_make(key, NH_SLOT_PENDING, nh_gen),
		    __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		for (unsigned k = 0; k < 4; k++)
			__atomic_store_n(&nh_full6[s][k], r->caddr.w[k], __ATOMIC_RELAXED);
	}
	__atomic_store_n(&nh_slots[f][s], slot_make(key, answer, nh_gen), __ATOMIC_RELEASE);
}

/* ---- the monitor ---- */

static void
nh_on_event(const struct nl_event *ev, void *arg)
{
	(void)arg;
	nh_st.events++;
	if (ev->kind == NL_EV_NEIGH) {
		for (unsigned i = 0; i < nh_used; i++) {
			struct nexthop *nh = &nh_tab[i];
			if (nh->kind == NH_FREE || nh->af != ev->af || nh->oif != ev->ifindex ||
			    !addr_eq(&nh->via, &ev->addr) || addr_is_zero(&nh->via))
				continue;
			nh_write_begin(nh);
			if (ev->usable)
				nh_store_mac(nh, ev->mac);
			nh_store_valid(nh, ev->usable && nh->link != NULL);
			nh_write_end(nh);
		}
		return;
	}
	/*
	 * Routes, rules, addresses or links changed (or events were lost):
	 * every real server's way is looked up again, clients' are
	 * forgotten (resolved again when next asked for).
	 */
	for (unsigned i = 0; i < nh_used; i++)
		if (nh_tab[i].kind == NH_RS) {
			nh_tab[i].dirty = 1;
			nh_dirty = 1;
		}
	if ((uint16_t)(nh_gen + 1) == 0) {
		/* Wrapped: no slot of 65,536 generations ago may look current. */
		for (unsigned f = 0; f < 2; f++)
			for (unsigned i = 0; i < NH_CLIENTS; i++)
				__atomic_store_n(&nh_slots[f][i], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&nh_gen, 1, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&nh_gen, (uint16_t)(nh_gen + 1), __ATOMIC_RELEASE);
	}
}

void
nh_monitor_run(void)
{
	if (nh_fd >= 0)
		(void)nl_monitor_read(nh_fd, nh_on_event, NULL);
}

void
nh_tick(uint32_t now)
{
	unsigned budget = NH_RESOLVE_MAX;

	/* Real servers whose way may have changed. */
	if (nh_dirty) {
		nh_dirty = 0;
		for (unsigned i = 0; i < nh_used; i++) {
			if (!nh_tab[i].dirty)
				continue;
			if (budget == 0) {
				nh_dirty = 1;
				break;
			}
			nh_resolve(&nh_tab[i]);
			budget--;
		}
	}
	/* Clients the workers asked for. */
	for (unsigned q = 0; q < NH_QUEUES && budget > 0; q++) {
		struct nh_queue *nq = &nh_queues[q];
		uint32_t head = __atomic_load_n(&nq->head, __ATOMIC_ACQUIRE);

		while (nq->tail != head && budget > 0) {
			nh_client_resolve(&nq->req[nq->tail % NH_QLEN]);
			__atomic_store_n(&nq->tail, nq->tail + 1, __ATOMIC_RELEASE);
			budget--;
		}
	}
	/*
	 * Neighbours in use, or not resolved yet, checked against the
	 * kernel's table: the kernel no longer sends to them itself, so it
	 * would let them go stale, and never notice a silent change.
	 */
	if ((uint32_t)(now - nh_last_touch) < NH_TOUCH_S * CONN_HZ)
		return;
	nh_last_touch = now;
	for (unsigned i = 0; i < nh_used; i++) {
		struct nexthop *nh = &nh_tab[i];
		uint32_t used = __atomic_load_n(&nh->used, __ATOMIC_RELAXED);
		if (nh->kind == NH_FREE || addr_is_zero(&nh->via) || nh->oif == 0 ||
		    nh->link == NULL)
			continue;
		if (!nh->valid || (uint32_t)(now - used) < NH_TOUCH_S * CONN_HZ) {
			nh_neigh_check(nh, 1);
			nh_st.touched++;
		}
	}
}

static void
nh_on_monitor(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	nh_monitor_run();
}

static void
nh_on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	nh_tick(conn_clock());
}

int
nh_init(struct event_base *base, int tap_ifindex)
{
	nh_tap = tap_ifindex;
	nh_fd = nl_monitor_open();
	if (nh_fd < 0)
		return -1;
	return base != NULL ? nh_start(base) : 0;
}

int
nh_start(struct event_base *base)
{
	struct timeval tv = { 0, NH_TICK_MS * 1000 };

	nh_ev = event_new(base, nh_fd, EV_READ | EV_PERSIST, nh_on_monitor, NULL);
	nh_timer = event_new(base, -1, EV_PERSIST, nh_on_tick, NULL);
	if (nh_ev == NULL || nh_timer == NULL || event_add(nh_ev, NULL) < 0 ||
	    event_add(nh_timer, &tv) < 0) {
		log_warnx("next hops: cannot watch the kernel's changes");
		nh_fini();
		return -1;
	}
	return 0;
}

void
nh_fini(void)
{
	if (nh_ev != NULL)
		event_free(nh_ev);
	if (nh_timer != NULL)
		event_free(nh_timer);
	nh_ev = nh_timer = NULL;
	if (nh_fd >= 0)
		close(nh_fd);
	nh_fd = -1;
	memset(nh_tab, 0, sizeof(nh_tab));
	memset(nh_slots, 0, sizeof(nh_slots));
	memset(nh_full6, 0, sizeof(nh_full6));
	memset(nh_queues, 0, sizeof(nh_queues));
	nh_used = 0;
	nh_gen = 1;
	nh_dirty = 0;
	nh_last_touch = 0;
}

const struct nh_stats *
nh_stats(void)
{
	return &nh_st;
}
