/* sched_sh.c - source hashing: a static 256-bucket table filled by weight, keyed by the client */
#include <arpa/inet.h>
#include <stdint.h>
#include <sys/queue.h>

#include "pkt.h"
#include "common.h"
#include "sched.h"
#include "svc.h"

/*
 * As IPVS's ip_vs_sh.c: the 256 buckets are filled walking the dests in
 * list order, each taking as many consecutive buckets as its weight
 * (a dest of weight 0 takes one), round and round until the table is
 * full. Weights are first divided by their gcd, so 100:200 is dealt as
 * 1:2 (the kernel deals it as 100:156); they are honoured exactly when
 * their sum divides 256, to within one cycle otherwise.
 * A packet's source address (and source port with sh-port) hashes to a
 * bucket. If its dest is not available: NULL, or with sh-fallback
 * buckets are probed by re-hashing the key (up to 255 times, then all
 * 256 in order), so the keys of a dead dest spread over the others by
 * their share of buckets while every other key stays where it was. (The
 * kernel probes the next buckets in order, which hands them all to the
 * neighbours in the table.)
 * Invariant: every bucket holds a linked dest, or all are NULL when the
 * service has none. Rebuilt on add_dest, upd_dest and del_dest.
 */
#define SH_TAB_BITS 8
#define SH_TAB_SIZE (1u << SH_TAB_BITS)
#define SH_TAB_MASK (SH_TAB_SIZE - 1)

struct sh_state {
	struct dest *bucket[SH_TAB_SIZE];
};

static unsigned
sh_gcd(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Fill the buckets by weight over the linked dests except SKIP. */
static void
sh_assign(struct service *svc, const struct dest *skip)
{
	struct sh_state *s = svc->sched_data;
	struct dest *d;
	unsigned g = 0, n = 0;

	TAILQ_FOREACH(d, &svc->dests, entry) {
		if (d == skip)
			continue;
		n++;
		if (d->weight > 0)
			g = sh_gcd(g, (unsigned)d->weight);
	}
	if (g == 0)
		g = 1;
	d = NULL;
	for (unsigned i = 0; i < SH_TAB_SIZE; ) {
		if (n == 0) {
			s->bucket[i++] = NULL;
			continue;
		}
		do {
			d = d ? TAILQ_NEXT(d, entry) : NULL;
			if (d == NULL)
				d = TAILQ_FIRST(&svc->dests);
		} while (d == skip);
		unsigned turns = d->weight > 0 ? (unsigned)d->weight / g : 1;
		for (unsigned t = 0; t < turns && i < SH_TAB_SIZE; t++)
			s->bucket[i++] = d;
	}
}

static int
sh_init(struct service *svc)
{
	struct sh_state *s = sched_data_new(svc, sizeof(*s));

	if (s == NULL)
		return -1;
	sh_assign(svc, NULL);
	return 0;
}

static int
sh_changed(struct service *svc, struct dest *d)
{
	(void)d;
	sh_assign(svc, NULL);
	return 0;
}

static int
sh_del_dest(struct service *svc, struct dest *d)
{
	/* Still linked: fill the buckets without it. */
	sh_assign(svc, d);
	return 0;
}

static struct dest *
sh_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct sh_state *s = svc->sched_data;
	uint32_t h = hash32(addr_fold32(p->af, &p->saddr));
	struct dest *d;

	(void)now;
	if (svc->flags & SVC_F_SH_PORT)
		h = hash32(h ^ ntohs(p->sport));
	d = s->bucket[h & SH_TAB_MASK];
	if (d == NULL || dest_available(d))
		return d;
	if (!(svc->flags & SVC_F_SH_FALLBACK))
		return NULL;
	/*
	 * Probe buckets picked by re-hashing the key (so the keys of a dead
	 * dest spread over the others in proportion to their buckets), then,
	 * should all those miss, every bucket in turn.
	 */
	for (uint32_t k = 1; k < SH_TAB_SIZE; k++) {
		d = s->bucket[hash32(h + k * 0x9e3779b9u) & SH_TAB_MASK];
		if (dest_available(d))
			return d;
	}
	for (uint32_t k = 0; k < SH_TAB_SIZE; k++)
		if (dest_available(s->bucket[k]))
			return s->bucket[k];
	return NULL;
}

const struct sched_ops sched_sh = {
	.name         = "sh",
	.init_service = sh_init,
	.done_service = sched_data_free,
	.add_dest     = sh_changed,
	.del_dest     = sh_del_dest,
	.upd_dest     = sh_changed,
	.schedule     = sh_schedule,
};
