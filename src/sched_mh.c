/* sched_mh.c - Maglev hashing: a prime-sized lookup table filled from per-dest permutations */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "pkt.h"
#include "common.h"
#include "sched.h"
#include "svc.h"

/*
 * Maglev (Eisenbud et al., NSDI 2016, section 3.4) as in IPVS's
 * ip_vs_mh.c. The table has M slots, M prime: svc->mh_size, or 65537 when
 * 0 (the paper's and Katran's size; the kernel's default is 4093). Each
 * dest has a permutation of the slots, offset + j * skip (mod M), from two
 * hashes of its address and port; the dests take turns claiming their
 * next free preferred slot until every slot is taken. A dest claims
 * weight / gcd slots per turn (shifted right when the largest would
 * exceed 2^(log2 M / 2), as the kernel does), so slots follow weights.
 * The table is built from each dest's last non-zero weight (the kernel's
 * last_weight): quiescing a dest (weight 0) leaves the table alone and
 * its keys get NULL (or fall back), so they come back when it does; a dest
 * added with weight 0 has no slot.
 * Unlike the kernel, the dests take turns in order of address and port,
 * not list order, so the table depends on the set of dests only:
 * removing one and adding it back restores every slot.
 * A packet's source address (and source port with mh-port) hashes to a
 * slot. Not available: NULL, or with mh-fallback the slots are probed by
 * double hashing (start + k * step, step in 1..M-1, M prime: every slot
 * once), so the keys of that dest spread over the others.
 * The hashes use fixed keys (mh_keys): the same real servers give the
 * same table on every director and after every restart.
 * Memory: M * 2 bytes for the table, M / 8 for the claim bitmap, both
 * allocated at init; per-dest records grow in add_dest. At most
 * min(M, 65535) dests: add_dest fails beyond that.
 * Invariant: lookup[] holds indexes into ds[] (MH_NONE when no dest has a
 * non-zero last weight); ds[] has a record for every linked dest except
 * one being deleted.
 */
#define MH_DEFAULT_SIZE 65537u
#define MH_NONE         0xffffu

struct mh_dest {
	struct dest *d;
	int          last_weight;  /* last non-zero weight; 0: added with 0 */
	uint32_t     offset, skip; /* the permutation: offset + j * skip */
	uint32_t     perm;         /* next preferred slot while filling */
	unsigned     turns;        /* slots claimed per turn */
};

struct mh_state {
	uint32_t        size;      /* M, prime */
	uint32_t        bits;      /* log2(M) / 2: the turns' cap in bits */
	uint32_t        seed[3];   /* key hash, dest offset, dest skip */
	uint16_t       *lookup;    /* M slots */
	uint8_t        *claimed;   /* M bits, scratch for mh_build */
	struct mh_dest *ds;
	unsigned        nds, cap;
};

/* A key's hash under SEED: hash32 (common.h) twice, address then port. */
static inline uint32_t
mh_hash(uint32_t seed, uint32_t addr, uint16_t port)
{
	return hash32(hash32(seed ^ addr) ^ port);
}

static unsigned
mh_gcd(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static int
mh_cmp(const void *a, const void *b)
{
	const struct dest *x = ((const struct mh_dest *)a)->d;
	const struct dest *y = ((const struct mh_dest *)b)->d;
	/* Network order, byte by byte: numeric order, for either family. */
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
	uint16_t xp = ntohs(x->port), yp = ntohs(y->port);

	if (c != 0)
		return c < 0 ? -1 : 1;
	if (xp != yp)
		return xp < yp ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Refill the lookup table from ds[]. */
static void
mh_build(struct mh_state *s)
{
	const uint32_t m = s->size;
	unsigned g = 0, mw = 0, shift = 0, n = 0;

	if (s->nds > 1)
		qsort(s->ds, s->nds, sizeof(*s->ds), mh_cmp);
	for (unsigned i = 0; i < s->nds; i++) {
		int w = s->ds[i].last_weight;
		if (w > 0) {
			g = mh_gcd(g, (unsigned)w);
			mw = (unsigned)w > mw ? (unsigned)w : mw;
		}
	}
	for (uint32_t i = 0; i < m; i++)
		s->lookup[i] = MH_NONE;
	if (g == 0)
		return;
	/* shift = bits occupied by max / gcd beyond the cap. */
	for (unsigned v = mw / g; v >> shift >= (1u << s->bits); )
		shift++;
	for (unsigned i = 0; i < s->nds; i++) {
		struct mh_dest *e = &s->ds[i];
		uint32_t a = addr_fold32(e->d->af, &e->d->addr);
		uint16_t p = ntohs(e->d->port);
		unsigned lw = e->last_weight > 0 ? (unsigned)e->last_weight : 0;

		e->offset = mh_hash(s->seed[1], a, p) % m;
		e->skip = mh_hash(s->seed[2], a, p) % (m - 1) + 1;
		e->perm = e->offset;
		e->turns = (lw / g) >> shift;
		if (e->turns == 0 && lw > 0)
			e->turns = 1;
	}
	memset(s->claimed, 0, (m + 7) / 8);
	/* Turns over the dests until all M slots are claimed (g > 0: some turns > 0). */
	while (n < m) {
		for (unsigned i = 0; i < s->nds && n < m; i++) {
			struct mh_dest *e = &s->ds[i];
			for (unsigned t = 0; t < e->turns && n < m; t++) {
				uint32_t c = e->perm;
				while (s->claimed[c >> 3] & (1u << (c & 7))) {
					c += e->skip;
					if (c >= m)
						c -= m;
				}
				s->claimed[c >> 3] |= (uint8_t)(1u << (c & 7));
				s->lookup[c] = (uint16_t)i;
				e->perm = c;
				n++;
			}
		}
	}
}

/*
 * Fixed keys, as the kernel's: every director, and every restart, builds
 * the same table from the same real servers, so a backup director taking
 * over (or several behind ECMP) sends each client where the other did.
 */
static const uint32_t mh_keys[3] = { 0x6d616776u, 0x6c657673u, 0x72746564u };

static int mh_add_dest(struct service *svc, struct dest *d);

static void
mh_done(struct service *svc)
{
	struct mh_state *s = svc->sched_data;

	if (s) {
		free(s->lookup);
		free(s->claimed);
		free(s->ds);
		free(s);
	}
	svc->sched_data = NULL;
}

static int
mh_init(struct service *svc)
{
	struct mh_state *s = calloc(1, sizeof(*s));
	struct dest *d;

	if (s == NULL)
		return -1;
	svc->sched_data = s;
	s->size = svc->mh_size ? svc->mh_size : MH_DEFAULT_SIZE;
	if (s->size < 3) {
		mh_done(svc);
		return -1;
	}
	for (uint32_t v = s->size; v > 1; v >>= 1)
		s->bits++;
	s->bits /= 2;
	memcpy(s->seed, mh_keys, sizeof(mh_keys));
	s->lookup = malloc(s->size * sizeof(*s->lookup));
	s->claimed = malloc((s->size + 7) / 8);
	if (s->lookup == NULL || s->claimed == NULL) {
		mh_done(svc);
		return -1;
	}
	mh_build(s);
	/* Dests linked before init_service (none in svc.c) are taken in. */
	TAILQ_FOREACH(d, &svc->dests, entry)
		if (mh_add_dest(svc, d) < 0) {
			mh_done(svc);
			return -1;
		}
	return 0;
}

static struct mh_dest *
mh_find(struct mh_state *s, const struct dest *d)
{
	for (unsigned i = 0; i < s->nds; i++)
		if (s->ds[i].d == d)
			return &s->ds[i];
	return NULL;
}

static int
mh_add_dest(struct service *svc, struct dest *d)
{
	struct mh_state *s = svc->sched_data;

	if (mh_find(s, d))
		return 0;
	if (s->nds >= s->size || s->nds >= MH_NONE)
		return -1;
	if (s->nds == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 8;
		struct mh_dest *ds = realloc(s->ds, cap * sizeof(*ds));
		if (ds == NULL)
			return -1;
		s->ds = ds;
		s->cap = cap;
	}
	memset(&s->ds[s->nds], 0, sizeof(s->ds[0]));
	s->ds[s->nds].d = d;
	s->ds[s->nds].last_weight = d->weight > 0 ? d->weight : 0;
	s->nds++;
	mh_build(s);
	return 0;
}

static int
mh_upd_dest(struct service *svc, struct dest *d)
{
	struct mh_state *s = svc->sched_data;
	struct mh_dest *e = mh_find(s, d);

	if (e == NULL)
		return mh_add_dest(svc, d);
	/* Weight 0 quiesces: the slots stay with the last non-zero weight. */
	if (d->weight > 0 && d->weight != e->last_weight) {
		e->last_weight = d->weight;
		mh_build(s);
	}
	return 0;
}

static int
mh_del_dest(struct service *svc, struct dest *d)
{
	struct mh_state *s = svc->sched_data;
	struct mh_dest *e = mh_find(s, d);

	if (e == NULL)
		return 0;
	*e = s->ds[--s->nds];
	mh_build(s);
	return 0;
}

static struct dest *
mh_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct mh_state *s = svc->sched_data;
	const uint32_t m = s->size;
	uint16_t port = svc->flags & SVC_F_MH_PORT ? ntohs(p->sport) : 0;
	uint32_t h = mh_hash(s->seed[0], addr_fold32(p->af, &p->saddr), port);
	uint32_t c = h % m;
	struct dest *d;

	(void)now;
	if (s->lookup[c] == MH_NONE)
		return NULL;
	d = s->ds[s->lookup[c]].d;
	if (dest_available(d))
		return d;
	if (!(svc->flags & SVC_F_MH_FALLBACK))
		return NULL;
	/* Nothing to find: do not probe M slots. */
	unsigned avail = 0;
	for (unsigned i = 0; i < s->nds && !avail; i++)
		avail = dest_available(s->ds[i].d);
	if (!avail)
		return NULL;
	uint32_t step = hash32(h ^ 0x5bd1e995u) % (m - 1) + 1;
	for (uint32_t k = 1; k < m; k++) {
		c += step;
		if (c >= m)
			c -= m;
		d = s->ds[s->lookup[c]].d;
		if (dest_available(d))
			return d;
	}
	return NULL;
}

/* One lookup slot at least per dest, and indexes below MH_NONE. */
static unsigned
mh_max_dests(const struct vs_conf *vc)
{
	unsigned size = vc->mh_size ? vc->mh_size : MH_DEFAULT_SIZE;

	return size < MH_NONE ? size : MH_NONE;
}

const struct sched_ops sched_mh = {
	.name         = "mh",
	.init_service = mh_init,
	.done_service = mh_done,
	.add_dest     = mh_add_dest,
	.del_dest     = mh_del_dest,
	.upd_dest     = mh_upd_dest,
	.schedule     = mh_schedule,
	.max_dests    = mh_max_dests,
};
