/* sched_lc.c - least connection: the least overhead, weights aside */
#include <stdint.h>
#include <sys/queue.h>

#include "sched.h"
#include "svc.h"

/*
 * overhead = ActiveConn * 256 + InActConn (dest_overhead()). Weight only
 * decides availability: a dest of weight 0 or overloaded gets nothing.
 * Strictly less wins, so ties keep the earlier dest in list order, as
 * IPVS's ip_vs_lc.c does.
 */
static struct dest *
lc_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct dest *d, *least = NULL;
	uint64_t loh = 0;

	(void)p;
	(void)now;
	TAILQ_FOREACH(d, &svc->dests, entry) {
		if (!dest_available(d))
			continue;
		uint64_t doh = dest_overhead(d);
		if (least == NULL || doh < loh) {
			least = d;
			loh = doh;
		}
	}
	return least;
}

const struct sched_ops sched_lc = {
	.name     = "lc",
	.schedule = lc_schedule,
};
