/* conn.c - the connection table: preallocated, O(1) lookup both ways, wheel expiry */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "cliaddr.h"
#include "conn.h"
#include "siphash.h"
#include "stats.h"
#include "steer.h"

/*
 * Hash chains link (index, direction) pairs, encoded as a "ref":
 * ref = index * 2 + dir + 1, 0 ending the chain. Each conn carries one
 * chain link per direction (hnext[dir]), so the in and out keys of one
 * flow sit in one bucket array without a second allocation.
 *
 * Expiry: one wheel of WHEEL_SLOTS slots of one tick each. A conn sits in
 * the slot of the expiry it had when it was (re)inserted; traffic only
 * moves c->expires forward. When the sweep reaches a slot, each conn in
 * it is either due (freed) or re-inserted at its real expiry. No timer per
 * connection, and a store per packet.
 *
 * IPv6 entries (conn.h): the same entries, chains and wheel; their
 * addresses in a pool of struct conn6 beside them, of the table's
 * capacity, mapped once without being touched (the kernel backs its pages
 * as they are first written) and handed out from its own free list before
 * its never-used tail, so that N IPv6 flows occupy about N * 64 bytes of
 * it however many IPv4 flows there are. The flows whose real server
 * learns the client's address (client_address, cliaddr.h) keep their
 * state in a second pool made the same way (52 bytes an entry), found
 * through c->ca (with CONN_F_CA), the word a template uses as ncontrol and
 * any other TCP flow as cseq_next.
 */
#define WHEEL_SLOTS 4096u            /* 409.6 s per turn at 10 Hz */
#define WHEEL_MASK  (WHEEL_SLOTS - 1)

enum { HDIR_IN = 0, HDIR_OUT = 1 };

uint32_t
conn_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec * CONN_HZ + (uint32_t)(ts.tv_nsec / (1000000000 / CONN_HZ));
}

struct conn_table {
	struct conn *conns;
	uint32_t     max;            /* allocated at start */
	uint32_t     limit;          /* conn_max in effect: at most max (conn_set_limit) */
	uint32_t     count;
	uint32_t     free_head;      /* index + 1, chained through tnext */
	uint32_t     fresh;          /* entries [fresh, max) never used yet */
	uint32_t    *buckets;        /* refs */
	uint32_t     mask;
	uint32_t    *wheel;          /* index + 1 of the first conn of each slot */
	uint32_t     swept;          /* last tick whose slot was swept */
	struct vsr_sipkey key;      /* the hashes' secret */
	uint32_t     timeout[CS_MAX];    /* ticks, as in use (secure_tcp shortens some) */
	uint32_t     timeout_set[CS_MAX]; /* ticks, as configured */
	uint32_t     unconf;         /* flows not past the handshake, and UDP (conn_unconfirmed) */
	uint64_t     rng;            /* eviction's probes (xorshift64*) */
	int          secure;         /* secure_tcp in force */
	struct conn6 *pool6;         /* max entries, anonymous mmap */
	uint32_t     free6;          /* index + 1, chained through caddr.w[0] */
	uint32_t     fresh6;         /* pool entries [fresh6, max) never used yet */
	uint32_t     count6;
	struct cliaddr_state *poolca;  /* max entries, anonymous mmap */
	uint32_t     freeca;         /* index + 1, chained through the entry's first word */
	uint32_t     freshca;        /* pool entries [freshca, max) never used yet */
	/*
	 * Growth by reload (conn_table_reserve, conn_set_limit): what each
	 * mapping holds (at least max; more after a growth half done), and
	 * the bucket array made ready for NEXT_MAX entries, or the one a
	 * growth left behind (RETIRED), both freed outside the lock.
	 */
	uint32_t     cap, cap6, capca;
	uint32_t     next_max;
	uint32_t    *next_buckets;
	uint32_t     next_nb;
	uint32_t    *retired;
	uint64_t     grow_ns;        /* how long the last growth held the lock, at most */
	/* A growth's move into the larger bucket array: old buckets [moved, omask] are still in use. */
	uint32_t    *old;
	uint32_t     omask, moved;
	/*
	 * Per worker (conn_table_sharded): where this table's flows' templates
	 * are (itself, or the set's template table), the set it belongs to,
	 * and conn_id's numbering, index * id_stride + id_base. A set itself
	 * holds no entry: NSHARD flow tables and one of templates (member
	 * NSHARD), KEY placing a flow (steer.h's hash), SPLIT counting the
	 * flows that sit where the hash of their client's side does not lead
	 * (moved under the shared lock, read by workers without it).
	 */
	struct conn_table  *tpl, *set;
	uint32_t            id_stride, id_base;
	struct conn_table **member;
	unsigned            nshard;
	unsigned            bdiv;       /* buckets for max / bdiv entries: a member's share */
	uint32_t            skey;
	uint32_t            split;
};

/* A set's member I: flow table I below NSHARD, the template table at NSHARD. */
static inline struct conn_table *
set_member(const struct conn_table *t, unsigned i)
{
	return t->member[i];
}

/* What a set's accessor returns: the sum over its members, flow tables only (FLOWS) or all. */
#define SET_SUM(t, fn, flows) do {                                                  \
	if ((t)->nshard) {                                                          \
		uint64_t sum_ = 0;                                                  \
		for (unsigned i_ = 0; i_ < (t)->nshard + !(flows); i_++)            \
			sum_ += fn(set_member((t), i_));                            \
		return sum_;                                                        \
	}                                                                           \
} while (0)

static inline int
conn_in(const struct conn_table *t, const struct conn *c)
{
	return t->conns != NULL && c >= t->conns && c < t->conns + t->cap;
}

/*
 * The table that holds C: T itself (a worker's table and its own
 * flows, the packet path's case), T's template table, or a member of
 * T's set.
 */
static struct conn_table *
conn_home(const struct conn_table *t, const struct conn *c)
{
	const struct conn_table *s;

	if (conn_in(t, c))
		return (struct conn_table *)t;
	if (t->tpl != NULL && conn_in(t->tpl, c))
		return t->tpl;
	s = t->nshard ? t : t->set;
	if (s != NULL)
		for (unsigned i = 0; i <= s->nshard; i++)
			if (conn_in(set_member(s, i), c))
				return set_member(s, i);
	return (struct conn_table *)t;
}

/*
 * A set's LIMIT and COUNT are its members' together: conn_max bounds
 * the entries of every worker's table at once (each member can hold
 * them all: its entries are backed only as used). The daemon makes and
 * releases entries under the shared lock; the count is atomic all the
 * same, so that members used by threads without it (bench/conntab -t)
 * count right, and may then pass the limit by one entry a thread.
 */

static inline int
tick_before_eq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/*
 * The hashes of the keys: SipHash-1-3 (siphash.h) under the table's
 * 128-bit secret, drawn from getrandom() when the table is made. Clients
 * choose their addresses and ports, so a fixed function, or one whose seed
 * is only XORed into its input, lets them build a set of tuples that share
 * a bucket whatever the seed (issue 15: 256 such tuples per bucket turned
 * each lookup into a walk of 512 entries, under the data path's lock).
 * tests/unit/test_conn.c builds that set against the function this one
 * replaced and shows the chains stay short.
 *
 * Only this table takes a secret. The schedulers' hashes of addresses
 * (sh, dh, mh) must give every director the same answer for the same
 * client (issue 17: ECMP in front of several directors), so they stay
 * unkeyed and deterministic; their tables are fixed arrays that a flood
 * can make uneven but not longer. lblc/lblcr's caches are set-associative
 * (8 ways, evicting): a chosen set of addresses costs a miss, never a walk.
 */
static inline uint32_t
hash_tuple(const struct conn_table *t, uint8_t proto, uint32_t a1, uint16_t p1,
    uint32_t a2, uint16_t p2)
{
	uint64_t w[2];

	w[0] = (uint64_t)a1 << 32 | a2;
	w[1] = (uint64_t)proto << 32 | (uint64_t)p1 << 16 | p2;
	return (uint32_t)vsr_siphash13(&t->key, w, 2);
}

/*
 * The hash of an IPv6 key: every bit of both 128-bit addresses, the ports
 * and the protocol, under the same secret. The low half picks the bucket,
 * the high half is the entry's fingerprint (conn.h).
 */
static inline uint64_t
hash_tuple6(const struct conn_table *t, uint8_t proto, const union vsr_addr *a1, uint16_t p1,
    const union vsr_addr *a2, uint16_t p2)
{
	uint64_t w[5];

	memcpy(w, a1, 16);
	memcpy(w + 2, a2, 16);
	w[4] = (uint64_t)proto << 32 | (uint64_t)p1 << 16 | p2;
	return vsr_siphash13(&t->key, w, 5);
}

static inline const struct conn6 *
conn6_of(const struct conn_table *t, const struct conn *c)
{
	return &t->pool6[c->a6 - 1];
}

/* C's key hash in direction DIR, IPv6. */
static inline uint64_t
conn_hash6(const struct conn_table *t, const struct conn *c, int dir)
{
	const struct conn6 *e = conn6_of(t, c);

	if (dir == HDIR_IN)
		return hash_tuple6(t, c->proto, &e->caddr, c->cport, &e->vaddr, c->vport);
	return hash_tuple6(t, c->proto, &e->daddr, c->dport, &e->laddr, c->lport);
}

/* C's key hash in direction DIR, unmasked (IPv6: its low half). */
static inline uint32_t
conn_hash(const struct conn_table *t, const struct conn *c, int dir)
{
	if (c->proto & CONN_PROTO_V6)
		return (uint32_t)conn_hash6(t, c, dir);
	if (dir == HDIR_IN)
		return hash_tuple(t, c->proto, c->caddr, c->cport, c->vaddr, c->vport);
	return hash_tuple(t, c->proto, c->daddr, c->dport, c->laddr, c->lport);
}

static inline uint32_t
conn_index(const struct conn_table *t, const struct conn *c)
{
	return (uint32_t)(c - t->conns);
}

/*
 * The bucket of a key whose hash is H. While a growth moves the keys
 * into the larger array a stretch at a time (conn_grow_step), the old
 * buckets not yet moved still hold theirs.
 */
static inline uint32_t *
bucket_of(const struct conn_table *t, uint32_t h)
{
	if (t->old != NULL && (h & t->omask) >= t->moved)
		return &t->old[h & t->omask];
	return &t->buckets[h & t->mask];
}

/*
 * A fresh secret for T's hashes. Never blocks: without entropy yet (early
 * boot), the clocks and addresses are folded in, weaker but not constant.
 */
static void
conn_table_rekey(struct conn_table *t)
{
	uint64_t k[2];
	struct timespec a, b;

	if (getrandom(k, sizeof(k), GRND_NONBLOCK) == (ssize_t)sizeof(k)) {
		t->key.k0 = k[0];
		t->key.k1 = k[1];
		return;
	}
	clock_gettime(CLOCK_REALTIME, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
	uint64_t w[3] = { (uint64_t)a.tv_sec << 32 ^ (uint64_t)a.tv_nsec,
	    (uint64_t)b.tv_sec << 32 ^ (uint64_t)b.tv_nsec, (uint64_t)(uintptr_t)t };
	struct vsr_sipkey k0 = { 0x5851f42d4c957f2dull, (uint64_t)(uintptr_t)&a };
	t->key.k0 = vsr_siphash13(&k0, w, 3);
	w[0] ^= t->key.k0;
	t->key.k1 = vsr_siphash13(&k0, w, 3);
}

/*
 * Buckets for MAX entries. Two per entry: nat and fullnat flows are
 * hashed both ways, so one per entry meant 1.8 refs per bucket at 90%
 * load, walked by every miss (bench/conntab: misses -40%, hits -25% for
 * 4 bytes more per entry).
 */
static uint32_t
conn_nbuckets(uint32_t max)
{
	uint32_t nb = 1024;

	while (nb < 2 * (uint64_t)max)
		nb <<= 1;
	return nb;
}

/* An anonymous mapping of N entries of SIZE bytes, zeroed; NORESERVE: backed only as used. */
static void *
conn_map(uint32_t n, size_t size, int noreserve)
{
	void *p = mmap(NULL, (size_t)n * size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * A table of MAX entries whose buckets are sized for MAX / DIV of them: a
 * set's member, which may hold all of conn_max but, the flows spread over
 * the members by the steering hash, holds about its share.
 */
static struct conn_table *
conn_table_make(uint32_t max, unsigned div, uint32_t now)
{
	struct conn_table *t;
	uint32_t nb;

	if (max == 0 || max > CONN_MAX_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	nb = conn_nbuckets(max / div);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	/* A mapping, not the heap: a reload's growth moves it (mremap) without copying. */
	/* A member of a set (DIV > 1) holds about its share: its entries backed only as used. */
	t->conns = conn_map(max, sizeof(*t->conns), div > 1);
	t->cap = t->conns ? max : 0;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	t->wheel = calloc(WHEEL_SLOTS, sizeof(*t->wheel));
	/* Reserved, not committed: pages come as IPv6 flows first use them. */
	t->pool6 = conn_map(max, sizeof(*t->pool6), 1);
	t->cap6 = t->pool6 ? max : 0;
	t->poolca = conn_map(max, sizeof(*t->poolca), 1);
	t->capca = t->poolca ? max : 0;
	if (t->conns == NULL || t->buckets == NULL || t->wheel == NULL || t->pool6 == NULL ||
	    t->poolca == NULL) {
		conn_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->max = max;
	t->limit = max;
	t->mask = nb - 1;
	t->swept = now;
	conn_table_rekey(t);
	t->rng = t->key.k0 | 1;
	/*
	 * Entries are handed out from the never-used tail before the free
	 * list exists, so pages of an idle table are never touched.
	 */
	t->free_head = 0;
	t->fresh = 0;
	t->tpl = t;
	t->id_stride = 1;
	t->bdiv = div;
	conn_set_timeouts(t, proto_default_timeout);
	return t;
}

struct conn_table *
conn_table_new(uint32_t max, uint32_t now)
{
	return conn_table_make(max, 1, now);
}

void
conn_table_free(struct conn_table *t)
{
	if (t == NULL)
		return;
	if (t->nshard) {
		for (unsigned i = 0; i <= t->nshard; i++)
			conn_table_free(t->member[i]);
		free(t->member);
		free(t);
		return;
	}
	if (t->pool6 != NULL)
		munmap(t->pool6, (size_t)t->cap6 * sizeof(*t->pool6));
	if (t->poolca != NULL)
		munmap(t->poolca, (size_t)t->capca * sizeof(*t->poolca));
	if (t->conns != NULL)
		munmap(t->conns, (size_t)t->cap * sizeof(*t->conns));
	free(t->buckets);
	free(t->next_buckets);
	free(t->retired);
	free(t->old);
	free(t->wheel);
	free(t);
}

uint64_t
conn_table_bytes(const struct conn_table *t)
{
	/* A set's member: its entries are backed as used, up to their high-water mark. */
	uint64_t entries = t->bdiv > 1 ? t->fresh : t->max;

	SET_SUM(t, conn_table_bytes, 0);
	return sizeof(*t) + entries * sizeof(struct conn) +
	    ((uint64_t)t->mask + 1) * sizeof(uint32_t) + WHEEL_SLOTS * sizeof(uint32_t);
}

uint64_t
conn_table_bytes6(const struct conn_table *t)
{
	SET_SUM(t, conn_table_bytes6, 0);
	return (uint64_t)t->fresh6 * sizeof(struct conn6);
}

uint64_t
conn_table_bytes_ca(const struct conn_table *t)
{
	SET_SUM(t, conn_table_bytes_ca, 0);
	return (uint64_t)t->freshca * sizeof(struct cliaddr_state);
}

struct cliaddr_state *
conn_cliaddr(const struct conn_table *t, const struct conn *c)
{
	if (!(c->flags & CONN_F_CA))
		return NULL;
	t = conn_home(t, c);
	return &t->poolca[c->ca - 1];
}

uint32_t *
conn_cseq(const struct conn_table *t, struct conn *c)
{
	struct cliaddr_state *ca = conn_cliaddr(t, c);

	return ca != NULL ? &ca->cseq_next : &c->cseq_next;
}

/* C (a new flow) takes a client-address state, zeroed (there is always one). */
static void
conn_ca_new(struct conn_table *t, struct conn *c)
{
	uint32_t i;

	if (t->freeca) {
		i = t->freeca - 1;
		memcpy(&t->freeca, &t->poolca[i], sizeof(t->freeca));
	} else {
		i = t->freshca++;
	}
	memset(&t->poolca[i], 0, sizeof(t->poolca[i]));
	c->ca = i + 1;
	c->flags |= CONN_F_CA;
}

static void
conn_ca_free(struct conn_table *t, struct conn *c)
{
	if (!(c->flags & CONN_F_CA))
		return;
	memcpy(&t->poolca[c->ca - 1], &t->freeca, sizeof(t->freeca));
	t->freeca = c->ca;
	c->ca = 0;
	c->flags &= (uint8_t)~CONN_F_CA;
}

uint32_t
conn_count6(const struct conn_table *t)
{
	SET_SUM(t, conn_count6, 0);
	return t->count6;
}

void
conn_addrs(const struct conn_table *t, const struct conn *c, struct conn_addrs *a)
{
	if (c->proto & CONN_PROTO_V6) {
		const struct conn6 *e = conn6_of(conn_home(t, c), c);
		a->caddr = e->caddr;
		a->vaddr = e->vaddr;
		a->daddr = e->daddr;
		a->laddr = e->laddr;
		return;
	}
	a->caddr = addr_from_ip(c->caddr);
	a->vaddr = addr_from_ip(c->vaddr);
	a->daddr = addr_from_ip(c->daddr);
	a->laddr = addr_from_ip(c->laddr);
}

void
conn_chain_stats(const struct conn_table *t, struct conn_chain_stats *s)
{
	if (t->nshard) {
		struct conn_chain_stats m;

		memset(s, 0, sizeof(*s));
		for (unsigned i = 0; i <= t->nshard; i++) {
			conn_chain_stats(set_member(t, i), &m);
			s->buckets += m.buckets;
			s->used += m.used;
			s->refs += m.refs;
			if (m.max > s->max)
				s->max = m.max;
		}
		return;
	}
	s->buckets = t->mask + 1;
	s->used = s->refs = s->max = 0;
	/* During a growth's move, the old buckets not moved yet as well. */
	for (uint32_t b = 0; b <= t->mask + (t->old ? t->omask + 1 : 0); b++) {
		uint32_t len = 0;
		uint32_t head = b <= t->mask ? t->buckets[b] : t->old[b - t->mask - 1];
		for (uint32_t ref = head; ref; len++) {
			uint32_t r = ref - 1;
			ref = t->conns[r >> 1].hnext[r & 1];
		}
		if (len) {
			s->used++;
			s->refs += len;
			if (len > s->max)
				s->max = len;
		}
	}
}

void
conn_set_timeouts(struct conn_table *t, const unsigned secs[CS_MAX])
{
	for (unsigned i = 0; i < t->nshard + !!t->nshard; i++)
		conn_set_timeouts(set_member(t, i), secs);
	for (int s = 0; s < CS_MAX; s++)
		t->timeout_set[s] = secs[s] * CONN_HZ;
	conn_set_secure(t, t->secure);
}

/*
 * secure_tcp in force: a flow that has not finished its handshake is kept
 * CONN_SECURE_EMBRYO seconds at most (a real client's ACK comes within a
 * round trip; a spoofed SYN's never does), instead of SYN_RECV's minute.
 */
#define CONN_SECURE_EMBRYO 3u

void
conn_set_secure(struct conn_table *t, int on)
{
	static const enum conn_state embryo[] = { CS_NONE, CS_SYN_RECV, CS_SYNACK, CS_SYN_SENT };

	for (unsigned i = 0; i < t->nshard + !!t->nshard; i++)
		conn_set_secure(set_member(t, i), on);
	t->secure = on;
	memcpy(t->timeout, t->timeout_set, sizeof(t->timeout));
	if (!on)
		return;
	for (size_t i = 0; i < sizeof(embryo) / sizeof(embryo[0]); i++)
		if (t->timeout[embryo[i]] > CONN_SECURE_EMBRYO * CONN_HZ)
			t->timeout[embryo[i]] = CONN_SECURE_EMBRYO * CONN_HZ;
}

int
conn_secure(const struct conn_table *t)
{
	return t->secure;
}

uint32_t
conn_unconfirmed(const struct conn_table *t)
{
	SET_SUM(t, conn_unconfirmed, 1);
	return t->unconf;
}

unsigned
conn_get_timeout(const struct conn_table *t, enum conn_state s)
{
	if (t->nshard)
		t = set_member(t, 0);
	return t->timeout_set[s] / CONN_HZ;
}

uint32_t
conn_count(const struct conn_table *t)
{
	return __atomic_load_n(&t->count, __ATOMIC_RELAXED);
}

uint32_t
conn_capacity(const struct conn_table *t)
{
	return t->limit;
}

uint32_t
conn_allocated(const struct conn_table *t)
{
	uint32_t least = t->max;

	for (unsigned i = 0; i < t->nshard + !!t->nshard; i++)
		if (i == 0 || set_member(t, i)->max < least)
			least = set_member(t, i)->max;
	return least;
}

static void hash_link(struct conn_table *t, struct conn *c, int dir);

int
conn_table_reserve(struct conn_table *t, uint32_t max)
{
	uint32_t nb;

	if (t->nshard) {
		for (unsigned i = 0; i <= t->nshard; i++)
			if (conn_table_reserve(set_member(t, i), max) < 0)
				return -1;
		return 0;
	}
	if (max <= t->max)
		return 0;
	if (max > CONN_MAX_ENTRIES) {
		errno = EINVAL;
		return -1;
	}
	conn_table_reserve_drop(t);
	nb = conn_nbuckets(max / t->bdiv);
	if (nb > t->mask + 1) {
		t->next_buckets = calloc(nb, sizeof(*t->next_buckets));
		if (t->next_buckets == NULL) {
			errno = ENOMEM;
			return -1;
		}
		/* A word a page, now, on the control thread: backed before the lock, not under it. */
		for (uint32_t i = 0; i < nb; i += 1024)
			((volatile uint32_t *)t->next_buckets)[i] = 0;
	}
	t->next_nb = nb;
	t->next_max = max;
	return 0;
}

void
conn_table_reserve_drop(struct conn_table *t)
{
	for (unsigned i = 0; i < t->nshard + !!t->nshard; i++)
		conn_table_reserve_drop(set_member(t, i));
	free(t->next_buckets);
	free(t->retired);
	t->next_buckets = t->retired = NULL;
	t->next_max = t->next_nb = 0;
}

/* MAP (CAP entries of SIZE bytes) to hold MAX: 0, or -1 with MAP as it was. */
static int
conn_remap(void **map, uint32_t *cap, uint32_t max, size_t size)
{
	void *p;

	if (*cap >= max)
		return 0;
	p = mremap(*map, (size_t)*cap * size, (size_t)max * size, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return -1;
	*map = p;
	*cap = max;
	return 0;
}

/* Time since A, in ns. */
static uint64_t
ns_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (uint64_t)(b.tv_sec - a->tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
	    (uint64_t)a->tv_nsec;
}

/*
 * Up to N old buckets' keys into the larger array (each key hashed
 * again; the chains keep no order); the old array retired once empty.
 * Under the lock.
 */
static void
conn_grow_move(struct conn_table *t, uint32_t n)
{
	while (t->old != NULL && n-- > 0) {
		uint32_t ref = t->old[t->moved];
		t->old[t->moved++] = 0;         /* from now on, its keys' bucket is the new one */
		while (ref) {
			uint32_t r = ref - 1;
			struct conn *c = &t->conns[r >> 1];
			int dir = (int)(r & 1);
			uint32_t *b = bucket_of(t, conn_hash(t, c, dir));
			ref = c->hnext[dir];
			c->hnext[dir] = *b;
			*b = r + 1;
		}
		if (t->moved > t->omask) {
			t->retired = t->old;
			t->old = NULL;
			t->moved = t->omask = 0;
		}
	}
}

int
conn_grow_step(struct conn_table *t)
{
	struct timespec a;
	uint64_t ns;

	if (t->nshard) {
		int more = 0;
		for (unsigned i = 0; i <= t->nshard; i++)
			more |= conn_grow_step(set_member(t, i));
		return more;
	}
	if (t->old == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	conn_grow_move(t, CONN_GROW_STEP);
	ns = ns_since(&a);
	if (ns > t->grow_ns)
		t->grow_ns = ns;
	return t->old != NULL;
}

/*
 * Under the lock: the table grows to the reserved size. The entries, the
 * IPv6 and client-address pools are moved by the kernel's page tables,
 * not copied (indexes, which everything holds, stay); the keys move into
 * the reserved bucket array later, CONN_GROW_STEP old buckets at a time
 * (conn_grow_step), lookups meanwhile finding each in whichever array
 * holds it. 0, or -1 (a mapping could not grow: the table keeps its size,
 * what did grow is kept for the next try).
 */
static int
conn_table_grow(struct conn_table *t)
{
	struct timespec a;
	uint32_t max = t->next_max;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (conn_remap((void **)&t->conns, &t->cap, max, sizeof(*t->conns)) < 0 ||
	    conn_remap((void **)&t->pool6, &t->cap6, max, sizeof(*t->pool6)) < 0 ||
	    conn_remap((void **)&t->poolca, &t->capca, max, sizeof(*t->poolca)) < 0)
		return -1;
	if (t->next_buckets != NULL) {
		/* A move still under way (growths in quick succession) ends first. */
		conn_grow_move(t, UINT32_MAX);
		t->old = t->buckets;
		t->omask = t->mask;
		t->moved = 0;
		t->buckets = t->next_buckets;
		t->mask = t->next_nb - 1;
		t->next_buckets = NULL;
	}
	t->max = max;
	t->next_max = t->next_nb = 0;
	t->grow_ns = ns_since(&a);
	return 0;
}

uint64_t
conn_table_grow_ns(const struct conn_table *t)
{
	uint64_t ns = t->grow_ns;

	for (unsigned i = 0; i < t->nshard + !!t->nshard; i++)
		if (conn_table_grow_ns(set_member(t, i)) > ns)
			ns = conn_table_grow_ns(set_member(t, i));
	return ns;
}

uint32_t
conn_set_limit(struct conn_table *t, uint32_t limit)
{
	if (t->nshard) {
		uint32_t least = UINT32_MAX;
		for (unsigned i = 0; i <= t->nshard; i++) {
			uint32_t got = conn_set_limit(set_member(t, i), limit);
			if (got < least)
				least = got;
		}
		t->limit = least;       /* what every member could take */
		return t->limit;
	}
	if (limit > t->max && t->next_max >= limit)
		(void)conn_table_grow(t);
	t->limit = limit == 0 ? 1 : limit < t->max ? limit : t->max;
	return t->limit;
}

/* ---- hashing ---- */

static void
hash_link(struct conn_table *t, struct conn *c, int dir)
{
	uint32_t *b;

	if (c->proto & CONN_PROTO_V6) {
		uint64_t h = conn_hash6(t, c, dir);
		c->fp[dir] = (uint32_t)(h >> 32);
		b = bucket_of(t, (uint32_t)h);
	} else {
		b = bucket_of(t, conn_hash(t, c, dir));
	}

	c->hnext[dir] = *b;
	*b = conn_index(t, c) * 2 + (uint32_t)dir + 1;
}

static void
hash_unlink(struct conn_table *t, struct conn *c, int dir)
{
	uint32_t want = conn_index(t, c) * 2 + (uint32_t)dir + 1;
	uint32_t *pp = bucket_of(t, conn_hash(t, c, dir));

	while (*pp) {
		if (*pp == want) {
			*pp = c->hnext[dir];
			return;
		}
		uint32_t r = *pp - 1;
		pp = &t->conns[r >> 1].hnext[r & 1];
	}
}

/*
 * An IPv6 key (PROTO with CONN_PROTO_V6) in direction DIR: A1:P1 is the
 * client (in) or the real server (out), A2:P2 the VIP or the local side.
 * The fingerprint and the ports first; the pool only for a likely match.
 */
static struct conn *
lookup6(struct conn_table *t, int dir, uint8_t proto, const union vsr_addr *a1, uint16_t p1,
    const union vsr_addr *a2, uint16_t p2)
{
	uint64_t h = hash_tuple6(t, proto, a1, p1, a2, p2);
	uint32_t fp = (uint32_t)(h >> 32), ref = *bucket_of(t, (uint32_t)h);

	while (ref) {
		uint32_t r = ref - 1;
		struct conn *c = &t->conns[r >> 1];
		if ((int)(r & 1) == dir && c->fp[dir] == fp && c->proto == proto &&
		    (dir == HDIR_IN ? c->cport == p1 && c->vport == p2 :
		    c->dport == p1 && c->lport == p2)) {
			const struct conn6 *e = conn6_of(t, c);
			if (dir == HDIR_IN ? addr_eq(&e->caddr, a1) && addr_eq(&e->vaddr, a2) :
			    addr_eq(&e->daddr, a1) && addr_eq(&e->laddr, a2))
				return c;
		}
		ref = c->hnext[r & 1];
	}
	return NULL;
}

struct conn *
conn_lookup_in(struct conn_table *t, int af, uint8_t proto, const union vsr_addr *ca,
    uint16_t cport, const union vsr_addr *va, uint16_t vport)
{
	if (t->nshard) {
		struct conn *c = NULL;
		for (unsigned i = 0; i < t->nshard && c == NULL; i++)
			c = conn_lookup_in(set_member(t, i), af, proto, ca, cport, va, vport);
		return c;
	}
	if (af == AF_INET6)
		return lookup6(t, HDIR_IN, proto | CONN_PROTO_V6, ca, cport, va, vport);

	uint32_t caddr = ca->ip, vaddr = va->ip;
	uint32_t ref = *bucket_of(t, hash_tuple(t, proto, caddr, cport, vaddr, vport));

	while (ref) {
		uint32_t r = ref - 1;
		struct conn *c = &t->conns[r >> 1];
		if ((r & 1) == HDIR_IN && c->caddr == caddr && c->vaddr == vaddr &&
		    c->cport == cport && c->vport == vport && c->proto == proto)
			return c;
		ref = c->hnext[r & 1];
	}
	return NULL;
}

struct conn *
conn_lookup_out(struct conn_table *t, int af, uint8_t proto, const union vsr_addr *da,
    uint16_t dport, const union vsr_addr *la, uint16_t lport)
{
	if (t->nshard) {
		struct conn *c = NULL;
		for (unsigned i = 0; i < t->nshard && c == NULL; i++)
			c = conn_lookup_out(set_member(t, i), af, proto, da, dport, la, lport);
		return c;
	}
	if (af == AF_INET6)
		return lookup6(t, HDIR_OUT, proto | CONN_PROTO_V6, da, dport, la, lport);

	uint32_t daddr = da->ip, laddr = la->ip;
	uint32_t ref = *bucket_of(t, hash_tuple(t, proto, daddr, dport, laddr, lport));

	while (ref) {
		uint32_t r = ref - 1;
		struct conn *c = &t->conns[r >> 1];
		if ((r & 1) == HDIR_OUT && c->daddr == daddr && c->laddr == laddr &&
		    c->dport == dport && c->lport == lport && c->proto == proto)
			return c;
		ref = c->hnext[r & 1];
	}
	return NULL;
}

/* ---- timer wheel ---- */

/*
 * tprev of the first conn in a slot holds SLOT_HEAD | slot, so a conn can
 * leave its slot even after c->expires moved on (indices stay below 2^26).
 */
#define SLOT_HEAD 0x80000000u

static void
wheel_insert(struct conn_table *t, struct conn *c)
{
	/* Due already: the next slot to be swept. */
	uint32_t at = tick_before_eq(c->expires, t->swept) ? t->swept + 1 : c->expires;
	uint32_t slot = at & WHEEL_MASK;
	uint32_t self = conn_index(t, c) + 1;

	c->tprev = SLOT_HEAD | slot;
	c->tnext = t->wheel[slot];
	if (c->tnext)
		t->conns[c->tnext - 1].tprev = self;
	t->wheel[slot] = self;
}

static void
wheel_remove(struct conn_table *t, struct conn *c)
{
	if (c->tprev & SLOT_HEAD)
		t->wheel[c->tprev & ~SLOT_HEAD] = c->tnext;
	else
		t->conns[c->tprev - 1].tnext = c->tnext;
	if (c->tnext)
		t->conns[c->tnext - 1].tprev = c->tprev;
}

/* ---- life cycle ---- */

/*
 * Thresholds (ipvsadm -x/-y), applied as IPVS binds and unbinds: at the
 * upper threshold a dest is overloaded; it is available again below the
 * lower one, or below 3/4 of the upper when no lower is set.
 */
static void
dest_bound(struct dest *d)
{
	if (d->u_threshold && d->activeconns + d->inactconns >= d->u_threshold)
		d->flags |= DEST_F_OVERLOAD;
}

static void
dest_unbound(struct dest *d)
{
	uint64_t total = (uint64_t)d->activeconns + d->inactconns;

	if (d->l_threshold) {
		if (total < d->l_threshold)
			d->flags &= ~DEST_F_OVERLOAD;
	} else if (d->u_threshold) {
		if (total * 4 < (uint64_t)d->u_threshold * 3)
			d->flags &= ~DEST_F_OVERLOAD;
	} else {
		d->flags &= ~DEST_F_OVERLOAD;
	}
}

/*
 * A flow not past its handshake (TCP before ESTABLISHED, as the state
 * table says), or UDP, which has none: what a spoofed flood makes, and
 * what the defences (core.c) evict first and keep out of the reserve.
 */
static inline int
state_unconfirmed(uint8_t state)
{
	return state == CS_NONE || state == CS_SYN_RECV || state == CS_SYNACK ||
	    state == CS_SYN_SENT || state == CS_UDP;
}

static struct conn *
conn_alloc(struct conn_table *t)
{
	struct conn *c;

	if (t->count >= t->limit || (t->set != NULL &&
	    __atomic_load_n(&t->set->count, __ATOMIC_RELAXED) >= t->set->limit))
		return NULL;
	if (t->set != NULL)
		__atomic_add_fetch(&t->set->count, 1, __ATOMIC_RELAXED);
	if (t->free_head) {
		c = &t->conns[t->free_head - 1];
		t->free_head = c->tnext;
	} else if (t->fresh < t->max) {
		c = &t->conns[t->fresh++];
	} else {
		return NULL;
	}
	t->count++;
	return c;
}

/*
 * C (just allocated, of family AF) takes its addresses: in place for
 * IPv4, in a pool entry for IPv6 (there is always one: the pool has the
 * table's capacity).
 */
static void
conn_set_addrs(struct conn_table *t, struct conn *c, int af, const union vsr_addr *ca,
    const union vsr_addr *va, const union vsr_addr *da, const union vsr_addr *la)
{
	struct conn6 *e;
	uint32_t i;

	if (af != AF_INET6) {
		c->caddr = ca->ip;
		c->vaddr = va->ip;
		c->daddr = da->ip;
		c->laddr = la->ip;
		return;
	}
	if (t->free6) {
		i = t->free6 - 1;
		t->free6 = t->pool6[i].caddr.w[0];
	} else {
		i = t->fresh6++;
	}
	e = &t->pool6[i];
	e->caddr = *ca;
	e->vaddr = *va;
	e->daddr = *da;
	e->laddr = *la;
	c->a6 = i + 1;
	c->fp[0] = c->fp[1] = 0;
	c->laddr = 0;
	t->count6++;
}

/* An IPv6 entry's pool entry goes back to the pool's free list. */
static void
conn_free_addrs(struct conn_table *t, struct conn *c)
{
	if (!(c->proto & CONN_PROTO_V6))
		return;
	t->pool6[c->a6 - 1].caddr.w[0] = t->free6;
	t->free6 = c->a6;
	c->a6 = 0;
	t->count6--;
}

struct conn *
conn_new(struct conn_table *t, const struct conn_param *cp, struct dest *dest, uint32_t now)
{
	struct conn *c;

	if (t->nshard) {
		/*
		 * The table of the worker its packets reach (steer.h): the
		 * client's side, or for fullnat the local side its replies come
		 * back to. Made here, not by a worker (sync, a backup): when
		 * the two sides lead to different workers, the packets of the
		 * other side look for it in the other tables while such a
		 * flow lives (conn_probe; conn_release counts it out).
		 */
		unsigned in = conn_shard_of(t, cp->af, &cp->caddr, cp->cport);
		unsigned at = in;
		if ((cp->flags & CONN_F_HASH_OUT) && (!addr_eq(&cp->laddr, &cp->caddr) ||
		    cp->lport != cp->cport))
			at = conn_shard_of(t, cp->af, &cp->laddr, cp->lport);
		c = conn_new(set_member(t, at), cp, dest, now);
		if (c != NULL && at != in)
			__atomic_add_fetch(&t->split, 1, __ATOMIC_RELAXED);
		return c;
	}
	c = conn_alloc(t);

	if (c == NULL)
		return NULL;
	c->proto = CONN_PROTO(cp->af, cp->proto);
	conn_set_addrs(t, c, cp->af, &cp->caddr, &cp->vaddr, &cp->daddr, &cp->laddr);
	c->cport = cp->cport;
	c->vport = cp->vport;
	c->dport = cp->dport;
	c->lport = cp->lport;
	c->flags = (uint8_t)(cp->flags | CONN_F_INACTIVE);
	c->state = cp->proto == IPPROTO_UDP ? CS_UDP : CS_NONE;
	t->unconf++;
	c->dest = dest;
	c->xmit_id = dest->xmit_id;
	c->control = 0;
	c->ca = 0;
	if (cp->client_addr != CA_NONE || cp->synproxy)
		conn_ca_new(t, c);
	dest_hold(dest);
	dest->inactconns++;
	dest->stats.conns++;
	dest_bound(dest);

	hash_link(t, c, HDIR_IN);
	if (c->flags & CONN_F_HASH_OUT)
		hash_link(t, c, HDIR_OUT);
	c->expires = now + t->timeout[c->state];
	wheel_insert(t, c);
	STAT_INC(STAT_CONN_CREATED);
	return c;
}

struct conn *
conn_template_new(struct conn_table *t, int af, uint8_t proto, const union vsr_addr *caddr,
    const union vsr_addr *vaddr, uint16_t vport, struct dest *dest, unsigned timeout,
    uint32_t now)
{
	static const union vsr_addr none;
	struct conn *c;

	t = t->tpl;
	if ((c = conn_alloc(t)) == NULL)
		return NULL;
	c->proto = CONN_TEMPLATE_PROTO(CONN_PROTO(af, proto));
	conn_set_addrs(t, c, af, caddr, vaddr, &dest->addr, &none);
	c->cport = 0;
	c->vport = vport;
	c->dport = dest->port;
	c->laddr = timeout * CONN_HZ;     /* a template's own timeout */
	c->lport = 0;
	c->flags = CONN_F_TEMPLATE;
	c->state = CS_NONE;
	c->dest = dest;
	c->xmit_id = XMIT_NONE;
	c->control = 0;
	c->ncontrol = 0;
	dest_hold(dest);
	dest->persistconns++;

	hash_link(t, c, HDIR_IN);
	c->expires = now + c->laddr;
	wheel_insert(t, c);
	return c;
}

struct conn *
conn_template_lookup(struct conn_table *t, int af, uint8_t proto, const union vsr_addr *caddr,
    const union vsr_addr *vaddr, uint16_t vport)
{
	return conn_lookup_in(t->tpl, af, CONN_TEMPLATE_PROTO(proto), caddr, 0, vaddr, vport);
}

/*
 * Whether flow C of set member T sits where its client's side does not
 * hash to (conn_new on a set: a synced fullnat flow placed by its local
 * side). Every other flow is in that member, so this tells them apart at
 * the end with nothing kept per flow; asked only while the set has some.
 */
static int
conn_split(const struct conn_table *t, const struct conn *c)
{
	struct conn_addrs a;

	if (t->set == NULL || t->id_base >= t->set->nshard ||
	    !__atomic_load_n(&t->set->split, __ATOMIC_RELAXED))
		return 0;
	conn_addrs(t, c, &a);
	return conn_shard_of(t->set, conn_af(c), &a.caddr, c->cport) != t->id_base;
}

/* Unhash, unbind from the dest and its template, return C to the free list. */
static void
conn_release(struct conn_table *t, struct conn *c)
{
	struct dest *d = c->dest;

	if (conn_split(t, c))
		__atomic_sub_fetch(&t->set->split, 1, __ATOMIC_RELAXED);

	if (!(c->flags & CONN_F_UNHASHED))
		hash_unlink(t, c, HDIR_IN);
	if (c->flags & CONN_F_HASH_OUT)
		hash_unlink(t, c, HDIR_OUT);
	if (c->flags & CONN_F_TEMPLATE) {
		d->persistconns--;
	} else {
		if (state_unconfirmed(c->state))
			t->unconf--;
		if (c->flags & CONN_F_INACTIVE)
			d->inactconns--;
		else
			d->activeconns--;
		dest_unbound(d);
		STAT_INC(STAT_CONN_EXPIRED);
	}
	/* The template is never freed before its flows (see conn_expire_now). */
	if (c->control) {
		t->tpl->conns[c->control - 1].ncontrol--;
		c->control = 0;
	}
	c->dest = NULL;
	c->xmit_id = XMIT_NONE;
	dest_put(d);
	conn_free_addrs(t, c);
	conn_ca_free(t, c);
	c->tnext = t->free_head;
	c->tprev = 0;
	t->free_head = conn_index(t, c) + 1;
	t->count--;
	if (t->set != NULL)
		__atomic_sub_fetch(&t->set->count, 1, __ATOMIC_RELAXED);
}

/* Set C's expiry to E: lazily when later, by moving it when earlier. */
static void
conn_set_expiry(struct conn_table *t, struct conn *c, uint32_t e)
{
	/*
	 * Later than the slot it sits in: the sweep re-inserts it. Earlier
	 * (a shorter timeout after a state change): move it now, so it is
	 * not kept past its time.
	 */
	if (tick_before_eq(c->expires, e)) {
		c->expires = e;
		return;
	}
	wheel_remove(t, c);
	c->expires = e;
	wheel_insert(t, c);
}

void
conn_set_control(struct conn_table *t, struct conn *c, struct conn *tpl, uint32_t now)
{
	t = conn_home(t, c)->tpl;
	c->control = conn_index(t, tpl) + 1;
	tpl->ncontrol++;
	conn_set_expiry(t, tpl, now + tpl->laddr);
}

void
conn_template_invalidate(struct conn_table *t, struct conn *tpl)
{
	if (tpl->flags & CONN_F_UNHASHED)
		return;
	t = conn_home(t, tpl);
	if (tpl->ncontrol == 0) {
		conn_expire_now(t, tpl);
		return;
	}
	hash_unlink(t, tpl, HDIR_IN);
	tpl->flags |= CONN_F_UNHASHED;
}

static void
conn_set_state(struct conn_table *t, struct conn *c, enum conn_state ns)
{
	struct dest *d = c->dest;

	if (ns == c->state)
		return;
	t->unconf = t->unconf - (uint32_t)state_unconfirmed(c->state) +
	    (uint32_t)state_unconfirmed((uint8_t)ns);
	/* ActiveConn counts ESTABLISHED only; InActConn every other state. */
	if (!(c->flags & CONN_F_INACTIVE) && ns != CS_ESTABLISHED) {
		d->activeconns--;
		d->inactconns++;
		c->flags |= CONN_F_INACTIVE;
	} else if ((c->flags & CONN_F_INACTIVE) && ns == CS_ESTABLISHED) {
		d->inactconns--;
		d->activeconns++;
		c->flags &= (uint8_t)~CONN_F_INACTIVE;
	}
	c->state = (uint8_t)ns;
}

void
conn_tcp_update(struct conn_table *t, struct conn *c, enum conn_dir dir, uint8_t tcpflags,
    uint32_t now)
{
	t = conn_home(t, c);
	if (c->flags & CONN_F_NOOUTPUT) {
		if (dir == DIR_OUTPUT)
			c->flags &= (uint8_t)~CONN_F_NOOUTPUT;
		else
			dir = DIR_INPUT_ONLY;
	}
	conn_set_state(t, c, proto_tcp_next((enum conn_state)c->state, dir, tcpflags));
	conn_touch(t, c, now);
}

/*
 * A new SYN does not follow C, but is scheduled anew:
 * - when C is closing (IPVS's conn_reuse_mode): TIME_WAIT and CLOSE, and
 *   FIN_WAIT when only the client's half is seen, as in dr and tun;
 * - when C's real server is down by its health check, whatever C's state
 *   (IPVS's expire_nodest_conn, for a server that is not available): the
 *   client reused the port of an earlier connection to it. A SYN that the
 *   server refused (its service stopped, before the check saw it) leaves C
 *   in SYN_RECV for a minute, and a client that has had its port reset
 *   picks it again soon; following C would send the new SYN to a server
 *   known to refuse it while a healthy one (or the sorry server) waits.
 *   Its established connections are not concerned: a SYN is not theirs.
 * A real server quiesced by hand (weight 0, not down) or removed by a
 * reload is drained: a SYN still follows C, as in IPVS by default.
 */
enum conn_state
conn_tcp_next(const struct conn *c, enum conn_dir dir, uint8_t tcpflags)
{
	if ((c->flags & CONN_F_NOOUTPUT) && dir != DIR_OUTPUT)
		dir = DIR_INPUT_ONLY;
	return proto_tcp_next((enum conn_state)c->state, dir, tcpflags);
}

enum stat_id
conn_tcp_syn_reschedule(const struct conn *c)
{
	if (c->state == CS_TIME_WAIT || c->state == CS_CLOSE ||
	    (c->state == CS_FIN_WAIT && (c->flags & CONN_F_NOOUTPUT)))
		return STAT_CONN_RESCHEDULED;
	if (c->dest->flags & DEST_F_DOWN)
		return STAT_CONN_RESCHED_DOWN;
	return STAT_NONE;
}

uint32_t
conn_id(const struct conn_table *t, const struct conn *c)
{
	t = conn_home(t, c);
	return conn_index(t, c) * t->id_stride + t->id_base;
}

uint32_t
conn_id_space(const struct conn_table *t)
{
	uint32_t most = 0;

	if (!t->nshard)
		return t->max;
	for (unsigned i = 0; i <= t->nshard; i++)
		if (set_member(t, i)->max > most)
			most = set_member(t, i)->max;
	return most * t->id_stride;
}

struct conn *
conn_controller(struct conn_table *t, const struct conn *c)
{
	return c->control ? &conn_home(t, c)->tpl->conns[c->control - 1] : NULL;
}

void
conn_sync_set(struct conn_table *t, struct conn *c, enum conn_state s, unsigned timeout,
    uint32_t now)
{
	t = conn_home(t, c);
	if (c->flags & CONN_F_TEMPLATE)
		c->laddr = timeout * CONN_HZ;   /* a template's own timeout (see conn.h) */
	else
		conn_set_state(t, c, s);
	conn_set_expiry(t, c, now + timeout * CONN_HZ);
}

void
conn_touch(struct conn_table *t, struct conn *c, uint32_t now)
{
	t = conn_home(t, c);
	conn_set_expiry(t, c, now + t->timeout[c->state]);
}

void
conn_expire_now(struct conn_table *t, struct conn *c)
{
	t = conn_home(t, c);
	/* A template still controlling flows only stops being found. */
	if ((c->flags & CONN_F_TEMPLATE) && c->ncontrol) {
		conn_template_invalidate(t, c);
		return;
	}
	wheel_remove(t, c);
	conn_release(t, c);
}

/*
 * Up to CONN_EVICT_PROBES entries drawn at random: the first flow not past
 * its handshake (or UDP) among them is removed. Random, not oldest: a
 * flood's entries are most of those, so a real client's, made a round trip
 * ago, is rarely drawn before its ACK makes it safe. Bounded work, no list
 * to keep, nothing allocated.
 */
#define CONN_EVICT_PROBES 32u

int
conn_evict_unconfirmed(struct conn_table *t)
{
	for (unsigned i = 0; i < t->nshard; i++)
		if (conn_evict_unconfirmed(set_member(t, i)))
			return 1;
	if (t->unconf == 0 || t->fresh == 0)
		return 0;
	for (unsigned i = 0; i < CONN_EVICT_PROBES; i++) {
		t->rng ^= t->rng >> 12;
		t->rng ^= t->rng << 25;
		t->rng ^= t->rng >> 27;
		uint32_t k = (uint32_t)(((t->rng * 0x2545f4914f6cdd1dull) >> 32) * t->fresh >> 32);
		struct conn *c = &t->conns[k];
		if (c->dest == NULL || (c->flags & CONN_F_TEMPLATE) || !state_unconfirmed(c->state))
			continue;
		conn_expire_now(t, c);
		return 1;
	}
	return 0;
}

static int
conn_flush_one(struct conn *c, void *arg)
{
	struct conn_table *t = arg;

	if (!(c->flags & CONN_F_TEMPLATE))
		conn_expire_now(t, c);
	return 0;
}

static int
conn_flush_template(struct conn *c, void *arg)
{
	conn_expire_now(arg, c);
	return 0;
}

void
conn_flush(struct conn_table *t)
{
	/* A set: its flow tables first, then no template controls anything. */
	for (unsigned i = 0; i < t->nshard + !!t->nshard; i++)
		conn_flush(set_member(t, i));
	/* Flows first: then no template controls anything. */
	conn_foreach(t, conn_flush_one, t);
	conn_foreach(t, conn_flush_template, t);
}

unsigned
conn_expire_run(struct conn_table *t, uint32_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->nshard + !!t->nshard; i++)
		n += conn_expire_run(set_member(t, i), now);
	if (t->nshard)
		return n;       /* a set has no wheel of its own */
	while ((int32_t)(now - t->swept) > 0) {
		uint32_t tick = t->swept + 1;
		uint32_t slot = tick & WHEEL_MASK;
		uint32_t ref = t->wheel[slot];

		/* Detach the slot; what is not due goes back where it belongs. */
		t->wheel[slot] = 0;
		t->swept = tick;
		while (ref) {
			struct conn *c = &t->conns[ref - 1];
			ref = c->tnext;
			if (tick_before_eq(c->expires, tick) && (c->flags & CONN_F_TEMPLATE) &&
			    c->ncontrol) {
				/* A template outlives the flows it controls. */
				c->expires = tick + c->laddr;
				wheel_insert(t, c);
			} else if (tick_before_eq(c->expires, tick)) {
				conn_release(t, c);
				n++;
			} else {
				wheel_insert(t, c);
			}
		}
	}
	return n;
}

int
conn_foreach(struct conn_table *t, int (*fn)(struct conn *c, void *arg), void *arg)
{
	for (unsigned i = 0; i < t->nshard + !!t->nshard; i++) {
		int r = conn_foreach(set_member(t, i), fn, arg);
		if (r)
			return r;
	}
	for (uint32_t i = 0; i < t->fresh; i++) {
		struct conn *c = &t->conns[i];
		if (c->dest != NULL) {
			int r = fn(c, arg);
			if (r)
				return r;
		}
	}
	return 0;
}

/* ---- one table per worker ---- */

struct conn_table *
conn_table_sharded(unsigned n, uint32_t max, uint32_t now, uint32_t key)
{
	struct conn_table *s;

	if (n <= 1)
		return conn_table_new(max, now);
	if (max == 0 || max > CONN_MAX_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->member = calloc(n + 1, sizeof(*s->member))) == NULL) {
		free(s);
		return NULL;
	}
	s->nshard = n;
	s->skey = key;
	s->max = s->limit = max;
	s->id_stride = n + 1;
	for (unsigned i = 0; i <= n; i++) {
		struct conn_table *m = conn_table_make(max, n, now);
		if (m == NULL) {
			int err = errno;
			conn_table_free(s);
			errno = err;
			return NULL;
		}
		m->set = s;
		m->id_stride = n + 1;
		m->id_base = i;
		s->member[i] = m;
	}
	s->tpl = s->member[n];
	for (unsigned i = 0; i < n; i++)
		s->member[i]->tpl = s->tpl;
	conn_set_timeouts(s, proto_default_timeout);
	return s;
}

struct conn_table *
conn_whole(const struct conn_table *t)
{
	return (struct conn_table *)(t->set != NULL ? t->set : t);
}

unsigned
conn_shards(const struct conn_table *t)
{
	return t->nshard;
}

struct conn_table *
conn_shard(const struct conn_table *t, unsigned i)
{
	return t->nshard ? set_member(t, i) : (struct conn_table *)t;
}

unsigned
conn_shard_of(const struct conn_table *t, int af, const union vsr_addr *addr, uint16_t port)
{
	return t->nshard ? steer_hash(t->skey, af, addr, port) % t->nshard : 0;
}

uint32_t
conn_probe(const struct conn_table *t)
{
	return __atomic_load_n(&t->split, __ATOMIC_RELAXED);
}
