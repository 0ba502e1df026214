/* sched_sed.c - shortest expected delay: least (ActiveConn + 1) / weight */
#include <stdint.h>
#include <sys/queue.h>

#include "sched.h"
#include "svc.h"

/*
 * The expected delay of a new connection on d is (ActiveConn + 1) /
 * weight: inactive connections do not count. d beats the current least
 * l when (Al + 1) * Wd > (Ad + 1) * Wl (no division; both weights > 0
 * because only available dests are compared). Ties keep the earlier dest
 * in list order, as IPVS's ip_vs_sed.c does.
 */
static struct dest *
sed_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct dest *d, *least = NULL;
	int64_t loh = 0;

	(void)p;
	(void)now;
	TAILQ_FOREACH(d, &svc->dests, entry) {
		if (!dest_available(d))
			continue;
		int64_t doh = (int64_t)d->activeconns + 1;
		if (least == NULL || loh * d->weight > doh * least->weight) {
			least = d;
			loh = doh;
		}
	}
	return least;
}

const struct sched_ops sched_sed = {
	.name     = "sed",
	.schedule = sed_schedule,
};
