/* frag.c - IP fragments follow their datagram's first one: a bounded table and a bounded queue */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conn.h"
#include "frag.h"
#include "siphash.h"
#include "stats.h"
#include "svc.h"

/* What names a datagram (RFC 791 3.2, RFC 8200 4.5); zeroed whole, so compared with memcmp. */
struct frag_key {
	union vsr_addr saddr, daddr;
	uint32_t       id;
	uint8_t        af, proto;
	uint8_t        pad[2];
};

/*
 * A first fragment seen: its datagram's ports, until EXPIRES; for a
 * one-packet service's datagram, the real server it went to (a reference
 * held until the entry is reused, swept or dropped: a dest removed
 * meanwhile stays allocated, as for a connection).
 */
struct frag_ent {
	struct frag_key k;
	uint16_t        sport, dport;
	uint32_t        expires;        /* conn_clock ticks; 0: empty */
	struct dest    *dest;
	uint8_t         routed;         /* the first one had no flow and was forwarded (fwd.h) */
};

enum { SLOT_FREE, SLOT_QUEUED, SLOT_READY, SLOT_TAKEN };

/* A later fragment waiting, copied into the arena at OFF. */
struct frag_slot {
	struct frag_key k;
	uint32_t        off, size;      /* in the arena; size rounded up to 16 */
	uint32_t        len;            /* frame length */
	uint32_t        born;
	uint32_t        qbucket;
	uint8_t         state;
};

#define FRAG_PROBE    8u        /* table entries looked at for a key */
#define FRAG_QBUCKETS 1024u     /* counts of queued fragments by hash: scans only where some wait */
#define FRAG_SWEEP_SCAN 8192u   /* table entries a sweep looks at for stale dest references */

static struct {
	struct vsr_sipkey key;
	struct frag_ent  *tab;
	uint32_t          tmask;
	uint8_t          *arena;    /* MEMORY bytes, 16-byte aligned */
	uint32_t          memory;
	uint32_t          head;     /* where the next copy goes */
	struct frag_slot *slots;    /* a ring in arrival order */
	uint32_t          nslots, s_tail, s_head, s_used;
	uint32_t          queued, queued_bytes, ready, taken;
	uint32_t          ticks;    /* fragment_timeout in ticks */
	uint16_t          qcount[FRAG_QBUCKETS];
	uint32_t          held;     /* table entries holding a dest reference */
	uint32_t          cursor;   /* where the next sweep of them starts */
	/* A size change that waits for the taken fragments to come back. */
	int               pending;
	unsigned          p_timeout;
	uint32_t          p_memory;
} F;

static uint64_t
frag_hash(const struct frag_key *k)
{
	uint64_t w[5];

	memcpy(w, &k->saddr, 16);
	memcpy(w + 2, &k->daddr, 16);
	w[4] = (uint64_t)k->id << 16 | (uint64_t)k->af << 8 | k->proto;
	return vsr_siphash13(&F.key, w, 5);
}

static void
frag_key_of(struct frag_key *k, const struct pkt *p)
{
	memset(k, 0, sizeof(*k));
	k->saddr = p->saddr;
	k->daddr = p->daddr;
	k->id = p->frag_id;
	k->af = p->af;
	k->proto = p->proto;
}

static inline int
tick_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* E's dest reference, if any, given back. */
static void
frag_ent_release(struct frag_ent *e)
{
	if (e->dest == NULL)
		return;
	dest_put(e->dest);
	e->dest = NULL;
	F.held--;
}

/* Every dest reference of the table given back (a new table, the end). */
static void
frag_release_all(void)
{
	for (uint32_t i = 0; F.tab != NULL && F.held > 0 && i <= F.tmask; i++)
		frag_ent_release(&F.tab[i]);
}

static void
frag_free_all(void)
{
	frag_release_all();
	free(F.tab);
	free(F.arena);
	free(F.slots);
	F.tab = NULL;
	F.arena = NULL;
	F.slots = NULL;
}

static int
frag_alloc(unsigned timeout, uint32_t memory)
{
	uint32_t nslots = memory / 256u + 16u, tsize = 1024;
	struct frag_ent *tab;
	struct frag_slot *slots;
	uint8_t *arena;

	/* Table: as many datagrams as the queue could hold fragments of, twice. */
	while (tsize < 2 * nslots && tsize < (1u << 22))
		tsize <<= 1;
	tab = calloc(tsize, sizeof(*tab));
	slots = calloc(nslots, sizeof(*slots));
	arena = aligned_alloc(16, memory);
	if (tab == NULL || slots == NULL || arena == NULL) {
		free(tab);
		free(slots);
		free(arena);
		return -1;
	}
	if (F.queued > 0)
		STAT_ADD(STAT_DROP_FRAG_TIMEOUT, F.queued + F.ready);
	frag_free_all();
	F.tab = tab;
	F.tmask = tsize - 1;
	F.slots = slots;
	F.nslots = nslots;
	F.arena = arena;
	F.memory = memory;
	F.head = F.s_tail = F.s_head = F.s_used = 0;
	F.queued = F.queued_bytes = F.ready = F.taken = 0;
	F.held = F.cursor = 0;
	memset(F.qcount, 0, sizeof(F.qcount));
	F.ticks = timeout * CONN_HZ;
	return 0;
}

int
frag_configure(unsigned timeout, uint32_t memory)
{
	if (F.key.k0 == 0 && F.key.k1 == 0 &&
	    getrandom(&F.key, sizeof(F.key), GRND_NONBLOCK) != sizeof(F.key)) {
		F.key.k0 = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&F;
		F.key.k1 = 0xbf58476d1ce4e5b9ull;
	}
	if (F.tab != NULL && memory == F.memory) {
		F.ticks = timeout * CONN_HZ;
		return 0;
	}
	if (F.taken > 0) {
		F.pending = 1;
		F.p_timeout = timeout;
		F.p_memory = memory;
		F.ticks = timeout * CONN_HZ;
		return 0;
	}
	F.pending = 0;
	return frag_alloc(timeout, memory);
}

void
frag_fini(void)
{
	frag_free_all();
	memset(&F, 0, sizeof(F));
}

/* The table entry of K, or NULL. */
static struct frag_ent *
frag_lookup(const struct frag_key *k, uint64_t h, uint32_t now)
{
	for (uint32_t i = 0; i < FRAG_PROBE; i++) {
		struct frag_ent *e = &F.tab[(h + i) & F.tmask];
		if (e->expires != 0 && tick_before(now, e->expires) &&
		    memcmp(&e->k, k, sizeof(*k)) == 0)
			return e;
	}
	return NULL;
}

/* K's entry, made in an empty or stale place, else in the one that expires first. */
static void
frag_insert(const struct frag_key *k, uint64_t h, uint16_t sport, uint16_t dport, uint32_t now)
{
	struct frag_ent *e = NULL, *old = NULL;

	for (uint32_t i = 0; i < FRAG_PROBE; i++) {
		struct frag_ent *c = &F.tab[(h + i) & F.tmask];
		if (c->expires != 0 && tick_before(now, c->expires) &&
		    memcmp(&c->k, k, sizeof(*k)) == 0) {
			e = c;          /* the same datagram again: a first fragment sent twice */
			break;
		}
		if (e == NULL && (c->expires == 0 || !tick_before(now, c->expires)))
			e = c;
		if (old == NULL || tick_before(c->expires, old->expires))
			old = c;
	}
	if (e == NULL)
		e = old;
	frag_ent_release(e);    /* another datagram's, or this one's first sent again */
	e->k = *k;
	e->sport = sport;
	e->dport = dport;
	e->routed = 0;
	e->expires = now + F.ticks;
	if (e->expires == 0)
		e->expires = 1;
}

/* The oldest slots, once free or out of time, give their room back. */
static void
frag_reclaim(uint32_t now)
{
	while (F.s_used > 0) {
		struct frag_slot *s = &F.slots[F.s_tail];
		if (s->state == SLOT_READY || s->state == SLOT_TAKEN)
			break;
		if (s->state == SLOT_QUEUED) {
			if (tick_before(now, s->born + F.ticks))
				break;          /* still in time, and so is everything newer */
			STAT_INC(STAT_DROP_FRAG_TIMEOUT);
			F.queued--;
			F.queued_bytes -= s->len;
			F.qcount[s->qbucket]--;
		}
		s->state = SLOT_FREE;
		F.s_tail = (F.s_tail + 1) % F.nslots;
		F.s_used--;
	}
	if (F.s_used == 0)
		F.head = 0;
}

/* SIZE bytes of the arena, after the newest and before the oldest: the offset, or -1. */
static int64_t
frag_room(uint32_t size)
{
	uint32_t tail;

	if (F.s_used == F.nslots)
		return -1;
	if (F.s_used == 0)
		return size <= F.memory ? 0 : -1;
	tail = F.slots[F.s_tail].off;
	if (F.head > tail) {            /* the newest is after the oldest: room at the end, or from 0 */
		if (F.head + size <= F.memory)
			return F.head;
		return size < tail ? 0 : -1;
	}
	/* The newest wrapped around: the room is up to the oldest, never touching it. */
	return F.head + size < tail ? (int64_t)F.head : -1;
}

static int
frag_queue(struct pkt *p, const struct frag_key *k, uint64_t h, uint32_t now)
{
	uint32_t size = (PKT_VNET_LEN + p->len + 15u) & ~15u;
	struct frag_slot *s;
	int64_t off;

	frag_reclaim(now);
	off = frag_room(size);
	if (off < 0) {
		STAT_INC(STAT_DROP_FRAG_MEMORY);
		return -1;
	}
	s = &F.slots[F.s_head];
	s->k = *k;
	s->off = (uint32_t)off;
	s->size = size;
	s->len = p->len;
	s->born = now;
	s->qbucket = (uint32_t)(h >> 32) & (FRAG_QBUCKETS - 1);
	s->state = SLOT_QUEUED;
	memcpy(F.arena + off, p->buf, PKT_VNET_LEN + p->len);
	F.head = (uint32_t)off + size;
	F.s_head = (F.s_head + 1) % F.nslots;
	F.s_used++;
	F.queued++;
	F.queued_bytes += p->len;
	F.qcount[s->qbucket]++;
	STAT_INC(STAT_FRAG_QUEUED);
	return 0;
}

/* The first fragment of K came: its waiting fragments are to be sent. */
static void
frag_wake(const struct frag_key *k, uint64_t h)
{
	uint32_t b = (uint32_t)(h >> 32) & (FRAG_QBUCKETS - 1);

	if (F.qcount[b] == 0)
		return;
	for (uint32_t i = 0, at = F.s_tail; i < F.s_used; i++, at = (at + 1) % F.nslots) {
		struct frag_slot *s = &F.slots[at];
		if (s->state == SLOT_QUEUED && s->qbucket == b && memcmp(&s->k, k, sizeof(*k)) == 0) {
			s->state = SLOT_READY;
			F.qcount[b]--;
			F.queued--;
			F.queued_bytes -= s->len;
			F.ready++;
		}
	}
}

int
frag_in(struct pkt *p, uint32_t now)
{
	struct frag_key k;
	struct frag_ent *e;
	uint64_t h;

	if (F.tab == NULL) {
		STAT_INC(STAT_DROP_FRAGMENT);
		return 1;
	}
	frag_key_of(&k, p);
	h = frag_hash(&k);
	if (p->frag == PKT_FRAG_FIRST) {
		frag_insert(&k, h, p->sport, p->dport, now);
		frag_wake(&k, h);
		STAT_INC(STAT_FRAG_FORWARDED);
		return 0;
	}
	e = frag_lookup(&k, h, now);
	if (e != NULL) {
		p->sport = e->sport;
		p->dport = e->dport;
		STAT_INC(STAT_FRAG_FORWARDED);
		return e->routed ? FRAG_ROUTED : 0;
	}
	(void)frag_queue(p, &k, h, now);
	return 1;
}

void
frag_set_dest(const struct pkt *p, struct dest *d, uint32_t now)
{
	struct frag_key k;
	struct frag_ent *e;

	if (F.tab == NULL || p->frag != PKT_FRAG_FIRST)
		return;
	frag_key_of(&k, p);
	e = frag_lookup(&k, frag_hash(&k), now);
	if (e == NULL || e->dest == d)
		return;
	frag_ent_release(e);
	d->refcnt++;
	e->dest = d;
	F.held++;
}

struct dest *
frag_dest(const struct pkt *p, uint32_t now)
{
	struct frag_key k;
	struct frag_ent *e;

	if (F.tab == NULL || p->frag != PKT_FRAG_LATER)
		return NULL;
	frag_key_of(&k, p);
	e = frag_lookup(&k, frag_hash(&k), now);
	return e != NULL ? e->dest : NULL;
}

uint32_t
frag_dest_refs(void)
{
	return F.held;
}

void
frag_routed(const struct pkt *p, uint32_t now)
{
	struct frag_key k;
	struct frag_ent *e;

	if (F.tab == NULL)
		return;
	frag_key_of(&k, p);
	e = frag_lookup(&k, frag_hash(&k), now);
	if (e != NULL)
		e->routed = 1;
}

unsigned
frag_ready(void)
{
	return F.ready;
}

unsigned
frag_take(unsigned *idx, unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = 0, at = F.s_tail; i < F.s_used && n < max && F.ready > 0;
	    i++, at = (at + 1) % F.nslots) {
		struct frag_slot *s = &F.slots[at];
		if (s->state != SLOT_READY)
			continue;
		s->state = SLOT_TAKEN;
		F.ready--;
		F.taken++;
		idx[n++] = at;
	}
	return n;
}

uint8_t *
frag_buf(unsigned idx, uint32_t *len)
{
	*len = F.slots[idx].len;
	return F.arena + F.slots[idx].off;
}

void
frag_put(const unsigned *idx, unsigned n, uint32_t now)
{
	for (unsigned i = 0; i < n; i++) {
		F.slots[idx[i]].state = SLOT_FREE;
		F.taken--;
	}
	if (F.pending && F.taken == 0) {
		F.pending = 0;
		if (frag_alloc(F.p_timeout, F.p_memory) < 0)
			F.ticks = F.p_timeout * CONN_HZ;        /* the old queue stays */
	}
	frag_reclaim(now);
}

void
frag_sweep(uint32_t now)
{
	if (F.tab == NULL)
		return;
	frag_reclaim(now);
	/* Out-of-time entries give their dest back, a bounded stretch of the table at a time. */
	for (uint32_t i = 0; i < FRAG_SWEEP_SCAN && F.held > 0; i++) {
		struct frag_ent *e = &F.tab[F.cursor];
		if (e->dest != NULL && !tick_before(now, e->expires))
			frag_ent_release(e);
		F.cursor = (F.cursor + 1) & F.tmask;
	}
}

uint32_t
frag_queued_bytes(void)
{
	return F.queued_bytes;
}

unsigned
frag_queued(void)
{
	return F.queued;
}
