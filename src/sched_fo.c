/* sched_fo.c - weighted failover: the available dest of the highest weight */
#include <stdint.h>
#include <sys/queue.h>

#include "sched.h"
#include "svc.h"

/*
 * Every new connection goes to the available dest of the highest weight,
 * whatever its load; the others take over, by weight, only when it is
 * quiesced (weight 0) or overloaded (IPVS's ip_vs_fo.c). Strictly higher
 * wins, so among equal weights the earlier dest in list order is used.
 */
static struct dest *
fo_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct dest *d, *high = NULL;

	(void)p;
	(void)now;
	TAILQ_FOREACH(d, &svc->dests, entry)
		if (dest_available(d) && (high == NULL || d->weight > high->weight))
			high = d;
	return high;
}

const struct sched_ops sched_fo = {
	.name     = "fo",
	.schedule = fo_schedule,
};
