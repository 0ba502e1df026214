/* sched_dh.c - destination hashing: a static 256-bucket table keyed by the destination address */
#include <arpa/inet.h>
#include <stdint.h>
#include <sys/queue.h>

#include "pkt.h"
#include "common.h"
#include "sched.h"
#include "svc.h"

/*
 * As IPVS's ip_vs_dh.c: the 256 buckets are dealt to the dests in list
 * order, one each in turn, weights ignored (a dest of weight 0 holds its
 * buckets too). A packet's destination address hashes to one bucket; if
 * that bucket's dest is not available the answer is NULL, never another
 * dest. The table is rebuilt on every add_dest, upd_dest and del_dest,
 * so a change of the dest set moves most keys.
 * Invariant: every bucket holds a linked dest, or all are NULL when the
 * service has none.
 */
#define DH_TAB_BITS 8
#define DH_TAB_SIZE (1u << DH_TAB_BITS)

struct dh_state {
	struct dest *bucket[DH_TAB_SIZE];
};

/* Deal the buckets round robin over the linked dests except SKIP. */
static void
dh_assign(struct service *svc, const struct dest *skip)
{
	struct dh_state *s = svc->sched_data;
	struct dest *d = NULL;

	for (unsigned i = 0; i < DH_TAB_SIZE; i++) {
		/* Next dest after d, wrapping, not SKIP; at most one turn. */
		for (unsigned n = 0; n <= svc->ndests; n++) {
			d = d ? TAILQ_NEXT(d, entry) : NULL;
			if (d == NULL)
				d = TAILQ_FIRST(&svc->dests);
			if (d != skip)
				break;
		}
		s->bucket[i] = d != skip ? d : NULL;
	}
}

static int
dh_init(struct service *svc)
{
	struct dh_state *s = sched_data_new(svc, sizeof(*s));

	if (s == NULL)
		return -1;
	dh_assign(svc, NULL);
	return 0;
}

static int
dh_changed(struct service *svc, struct dest *d)
{
	(void)d;
	dh_assign(svc, NULL);
	return 0;
}

static int
dh_del_dest(struct service *svc, struct dest *d)
{
	/* Still linked: deal the buckets without it. */
	dh_assign(svc, d);
	return 0;
}

static struct dest *
dh_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct dh_state *s = svc->sched_data;
	struct dest *d = s->bucket[hash32(addr_fold32(p->af, &p->daddr)) & (DH_TAB_SIZE - 1)];

	(void)now;
	return d && dest_available(d) ? d : NULL;
}

const struct sched_ops sched_dh = {
	.name         = "dh",
	.init_service = dh_init,
	.done_service = sched_data_free,
	.add_dest     = dh_changed,
	.del_dest     = dh_del_dest,
	.upd_dest     = dh_changed,
	.schedule     = dh_schedule,
};
