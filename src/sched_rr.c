/* sched_rr.c - round robin: the next available dest after the last one chosen */
#include <stddef.h>
#include <sys/queue.h>

#include "sched.h"
#include "svc.h"

/* svc->sched_data: the dest chosen last, or NULL to start at the head. */

static int
rr_init(struct service *svc)
{
	svc->sched_data = NULL;
	return 0;
}

static int
rr_del_dest(struct service *svc, struct dest *d)
{
	/* Step back so the dest after the removed one comes next. */
	if (svc->sched_data == d)
		svc->sched_data = TAILQ_PREV(d, dest_list, entry);
	return 0;
}

static struct dest *
rr_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct dest *last = svc->sched_data;
	struct dest *d = last ? TAILQ_NEXT(last, entry) : TAILQ_FIRST(&svc->dests);

	(void)p;
	(void)now;
	/* At most one full turn, wrapping at the tail. */
	for (unsigned i = 0; i < svc->ndests; i++) {
		if (d == NULL)
			d = TAILQ_FIRST(&svc->dests);
		if (dest_available(d)) {
			svc->sched_data = d;
			return d;
		}
		d = TAILQ_NEXT(d, entry);
	}
	return NULL;
}

const struct sched_ops sched_rr = {
	.name         = "rr",
	.init_service = rr_init,
	.del_dest     = rr_del_dest,
	.schedule     = rr_schedule,
};
