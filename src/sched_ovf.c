/* sched_ovf.c - weighted overflow: the heaviest dest not above its weight in connections */
#include <stdint.h>
#include <sys/queue.h>

#include "sched.h"
#include "svc.h"

/*
 * The weight is a connection budget: a dest is eligible while its
 * ActiveConn does not exceed its weight (ActiveConn <= weight, as IPVS's
 * ip_vs_ovf.c skips only ActiveConn > weight). Among the eligible
 * available dests the highest weight wins, the earlier in list order on a
 * tie; when all are full, NULL. Inactive connections do not count.
 */
static struct dest *
ovf_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct dest *d, *high = NULL;

	(void)p;
	(void)now;
	TAILQ_FOREACH(d, &svc->dests, entry) {
		if (!dest_available(d) || d->activeconns > (uint32_t)d->weight)
			continue;
		if (high == NULL || d->weight > high->weight)
			high = d;
	}
	return high;
}

const struct sched_ops sched_ovf = {
	.name     = "ovf",
	.schedule = ovf_schedule,
};
