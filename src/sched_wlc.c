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
	(void)p;
	(void)now;
	return sched_least(svc, dest_overhead);
}

const struct sched_ops sched_wlc = {
	.name     = "wlc",
	.schedule = wlc_schedule,
};
