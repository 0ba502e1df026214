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
	(void)p;
	(void)now;
	return sched_least(svc, dest_overhead_active);
}

const struct sched_ops sched_sed = {
	.name     = "sed",
	.schedule = sed_schedule,
};
