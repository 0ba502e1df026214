/* sched_nq.c - never queue: an idle dest if there is one, else as sed */
#include <stdint.h>
#include <sys/queue.h>

#include "sched.h"
#include "svc.h"

/*
 * The first available dest with no active connection is taken at once,
 * whatever its weight and its inactive connections (IPVS's ip_vs_nq.c).
 * Otherwise the least (ActiveConn + 1) / weight, compared as
 * (Al + 1) * Wd > (Ad + 1) * Wl; ties keep the earlier dest.
 */
static struct dest *
nq_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct dest *d;

	(void)p;
	(void)now;
	TAILQ_FOREACH(d, &svc->dests, entry)
		if (dest_available(d) && d->activeconns == 0)
			return d;
	return sched_least(svc, dest_overhead_active);
}

const struct sched_ops sched_nq = {
	.name     = "nq",
	.schedule = nq_schedule,
};
