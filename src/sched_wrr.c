/* sched_wrr.c - weighted round robin, interleaved by the weights' gcd and max */
#include <sys/queue.h>

#include "sched.h"
#include "svc.h"

/*
 * The classic LVS sequence: walk the list repeatedly; on each pass pick
 * the dests whose weight is at least the current weight cw, and lower cw
 * by the gcd of the weights after every pass, back to the maximum when it
 * drops to zero. Weights 3:1 give A A A B.
 * Invariants: mw = max weight (0: nothing available), di = gcd of the
 * positive weights (>= 1 when mw > 0), 0 < cw <= mw while mw > 0.
 */
struct wrr_mark {
	struct dest *cl;    /* current position; NULL = before the head */
	int          cw;    /* current weight */
	int          mw;    /* maximum weight */
	int          di;    /* gcd of the weights */
};

static int
gcd(int a, int b)
{
	while (b) {
		int t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static void
wrr_reset(struct service *svc)
{
	struct wrr_mark *m = svc->sched_data;
	struct dest *d;

	m->mw = 0;
	m->di = 0;
	TAILQ_FOREACH(d, &svc->dests, entry) {
		if (d->weight <= 0)
			continue;
		if (d->weight > m->mw)
			m->mw = d->weight;
		m->di = m->di ? gcd(m->di, d->weight) : d->weight;
	}
	m->cl = NULL;
	if (m->cw <= 0 || m->cw > m->mw)
		m->cw = m->mw;
}

static int
wrr_init(struct service *svc)
{
	struct wrr_mark *m = sched_data_new(svc, sizeof(*m));

	if (m == NULL)
		return -1;
	wrr_reset(svc);
	return 0;
}

static int
wrr_update(struct service *svc, struct dest *d)
{
	(void)d;
	wrr_reset(svc);
	return 0;
}

static int
wrr_del_dest(struct service *svc, struct dest *d)
{
	struct wrr_mark *m = svc->sched_data;

	/* Recomputed without d: it is still linked, so skip it by hand. */
	int w = d->weight;
	d->weight = 0;
	wrr_reset(svc);
	d->weight = w;
	if (m->cl == d)
		m->cl = NULL;
	return 0;
}

static struct dest *
wrr_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct wrr_mark *m = svc->sched_data;
	struct dest *d = m->cl;
	/* Bound: every cw level of one full cycle, each over every dest. */
	unsigned steps = svc->ndests * (unsigned)(m->mw / (m->di ? m->di : 1) + 1) + 1;

	(void)p;
	(void)now;
	if (m->mw == 0)
		return NULL;
	while (steps--) {
		d = d ? TAILQ_NEXT(d, entry) : TAILQ_FIRST(&svc->dests);
		if (d == NULL) {
			/* End of a pass: lower the bar. */
			m->cw -= m->di;
			if (m->cw <= 0)
				m->cw = m->mw;
			d = TAILQ_FIRST(&svc->dests);
			if (d == NULL)
				return NULL;
		}
		if (!(d->flags & DEST_F_OVERLOAD) && d->weight >= m->cw) {
			m->cl = d;
			return d;
		}
	}
	return NULL;
}

const struct sched_ops sched_wrr = {
	.name         = "wrr",
	.init_service = wrr_init,
	.done_service = sched_data_free,
	.add_dest     = wrr_update,
	.del_dest     = wrr_del_dest,
	.upd_dest     = wrr_update,
	.schedule     = wrr_schedule,
};
