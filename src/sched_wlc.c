/* sched_wlc.c - weighted least connection: least overhead / weight */
#include <stdint.h>
#include <sys/queue.h>

#include "sched.h"
#include "svc.h"

/*
 * overhead = ActiveConn * 256 + InActConn. A dest d beats the current
 * least l when overhead(l) / weight(l) > overhead(d) / weight(d), compared
 * without division as overhead(l) * weight(d) > overhead(d) * weight(l).
 * Ties keep the earlier dest in list order, as IPVS does.
 */
static struct dest *
wlc_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct dest *d, *least = NULL;
	int64_t loh = 0;

	(void)p;
	(void)now;
	TAILQ_FOREACH(d, &svc->dests, entry) {
		if (!dest_available(d))
			continue;
		int64_t doh = dest_overhead(d);
		if (least == NULL || loh * d->weight > doh * least->weight) {
			least = d;
			loh = doh;
		}
	}
	return least;
}

const struct sched_ops sched_wlc = {
	.name     = "wlc",
	.schedule = wlc_schedule,
};
