/* icmplimit.c - rate limits on the ICMP messages the director makes itself */
#include <pthread.h>

#include "conn.h"
#include "icmplimit.h"
#include "stats.h"

/*
 * ICMP the director makes (echo replies; fragmentation needed and packet
 * too big for tunnels), both families: a token bucket per kind, icmp_rate
 * tokens a second added each tick, holding a tenth of a second's worth,
 * at least ICMP_BURST_MIN. A flood of pings or of oversized DF packets
 * then costs a bounded output, as Linux's icmp_msgs_per_sec does for the
 * host. The director makes no unreachables: what it cannot forward it
 * drops and counts.
 */
#define ICMP_BURST_MIN 50u
static unsigned rate = 1000;
static struct {
	uint32_t tokens;
	uint32_t last;       /* tick of the last refill */
	int      init;
} icmp_bucket[ICMP_KINDS];
/* Any worker's: a lock of its own, taken last (nothing else is taken while it is held). */
static pthread_mutex_t icmp_mtx = PTHREAD_MUTEX_INITIALIZER;

static int icmp_take(enum icmp_kind kind, uint32_t now);

int
icmp_limit_allow(enum icmp_kind kind, uint32_t now)
{
	int ok;

	pthread_mutex_lock(&icmp_mtx);
	ok = icmp_take(kind, now);
	pthread_mutex_unlock(&icmp_mtx);
	if (!ok)
		STAT_INC(STAT_ICMP_RATE_LIMITED);
	return ok;
}

static int
icmp_take(enum icmp_kind kind, uint32_t now)
{
	uint32_t per_tick = rate / CONN_HZ, burst;

	if (rate == 0)
		return 1;
	burst = per_tick > ICMP_BURST_MIN ? per_tick : ICMP_BURST_MIN;
	if (!icmp_bucket[kind].init) {
		icmp_bucket[kind].init = 1;
		icmp_bucket[kind].tokens = burst;
		icmp_bucket[kind].last = now;
	}
	uint32_t ticks = now - icmp_bucket[kind].last;
	if ((int32_t)ticks > 0) {
		uint64_t t = icmp_bucket[kind].tokens + (uint64_t)ticks * (per_tick ? per_tick : 1);
		icmp_bucket[kind].tokens = t > burst ? burst : (uint32_t)t;
		icmp_bucket[kind].last = now;
	}
	if (icmp_bucket[kind].tokens == 0)
		return 0;
	icmp_bucket[kind].tokens--;
	return 1;
}

void
icmp_limit_set(unsigned r)
{
	pthread_mutex_lock(&icmp_mtx);
	rate = r;
	for (int k = 0; k < ICMP_KINDS; k++)
		icmp_bucket[k].init = 0;
	pthread_mutex_unlock(&icmp_mtx);
}
