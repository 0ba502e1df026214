/* test_stats.c - the rate estimator: stats_est_tick, stats_est_read, stats_est_reset */
#include <string.h>

#include "common.h"
#include "stats.h"
#include "unit.h"

/* Feed a constant rate for TICKS ticks; return what the estimator reads. */
static struct stats_rate
steady(struct stats_est *e, struct stats *s, const struct stats *per_sec, unsigned ticks)
{
	struct stats_rate r;

	for (unsigned i = 0; i < ticks; i++) {
		s->conns += per_sec->conns * STATS_EST_SECS;
		s->inpkts += per_sec->inpkts * STATS_EST_SECS;
		s->outpkts += per_sec->outpkts * STATS_EST_SECS;
		s->inbytes += per_sec->inbytes * STATS_EST_SECS;
		s->outbytes += per_sec->outbytes * STATS_EST_SECS;
		stats_est_tick(e, s);
	}
	stats_est_read(e, &r);
	return r;
}

int
main(void)
{
	struct stats s = { 0 };
	struct stats_est e;
	struct stats_rate r;
	const struct stats rate = { 50, 1000, 0, 1500000, 7 };
	const struct stats none = { 0 };

	stats_est_reset(&e, &s);
	stats_est_read(&e, &r);
	CHECK_EQ(r.cps + r.inpps + r.outpps + r.inbps + r.outbps, 0, "a new estimator reads 0");

	/* A quarter of the way per tick: 1 - (3/4)^n of the rate. */
	r = steady(&e, &s, &rate, 1);
	CHECK_EQ(r.cps, 12, "one tick at 50/s reads a quarter, 12.5 (the kernel rounds at +0x1ff)");
	r = steady(&e, &s, &rate, 79);
	CHECK_EQ(r.cps, 50, "after 80 ticks CPS is the steady rate");
	CHECK_EQ(r.inpps, 1000, "InPPS is the steady rate");
	CHECK_EQ(r.outpps, 0, "OutPPS stays 0 without output");
	CHECK_EQ(r.inbps, 1500000, "InBPS is the steady rate");
	CHECK_EQ(r.outbps, 7, "a small byte rate keeps its value");

	r = steady(&e, &s, &none, 1);
	CHECK(r.cps < 50 && r.cps > 30, "the rate falls when traffic stops (%llu)",
	    (unsigned long long)r.cps);
	r = steady(&e, &s, &none, 60);
	CHECK_EQ(r.cps + r.inpps + r.inbps, 0, "and reaches 0");

	/* Counters zeroed (vsradm -Z): no wrap-around into a huge rate. */
	steady(&e, &s, &rate, 10);
	memset(&s, 0, sizeof(s));
	stats_est_reset(&e, &s);
	r = steady(&e, &s, &none, 1);
	CHECK_EQ(r.cps + r.inpps + r.inbps, 0, "reset after zeroing reads 0");
	return unit_done();
}
