/* sched_twos.c - weighted random two choices: the less loaded of two weighted random picks */
#include <stdint.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>

#include "sched.h"
#include "svc.h"

/*
 * As IPVS's ip_vs_twos.c (Mitzenmacher's power of two choices): two
 * dests are drawn at random among the available ones, each with
 * probability weight / total weight; the second replaces the first only
 * when its overhead / weight is strictly lower, O1 * W2 > O2 * W1 with
 * overhead = ActiveConn * 256 + InActConn. The kernel draws from
 * 0..total inclusive, which gives the first dest one extra chance; here
 * each draw is uniform over 0..total-1.
 * Randomness: xorshift64* per service, seeded from getrandom() at
 * init_service; a draw below TOTAL is (r32 * total) >> 32 (no division,
 * bias below total / 2^32).
 * Invariant: the PRNG state is never 0.
 */
struct twos_state {
	uint64_t x;
};

static inline uint32_t
twos_rand(struct twos_state *s)
{
	s->x ^= s->x >> 12;
	s->x ^= s->x << 25;
	s->x ^= s->x >> 27;
	return (uint32_t)((s->x * 0x2545f4914f6cdd1dull) >> 32);
}

static int
twos_init(struct service *svc)
{
	struct twos_state *s = sched_data_new(svc, sizeof(*s));

	if (s == NULL)
		return -1;
	if (getrandom(&s->x, sizeof(s->x), GRND_NONBLOCK) != (ssize_t)sizeof(s->x)) {
		/* No entropy yet (early boot): any non-zero seed will do. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s->x = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uintptr_t)s;
	}
	if (s->x == 0)
		s->x = 0x9e3779b97f4a7c15ull;
	return 0;
}

static struct dest *
twos_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct twos_state *s = svc->sched_data;
	struct dest *d, *c1 = NULL, *c2 = NULL;
	uint64_t total = 0;

	(void)p;
	(void)now;
	TAILQ_FOREACH(d, &svc->dests, entry)
		if (dest_available(d))
			total += (uint64_t)d->weight;
	if (total == 0)
		return NULL;
	/* total < 2^32 unless there are more than 2 dests of weight 2^31. */
	uint64_t r1 = ((uint64_t)twos_rand(s) * total) >> 32;
	uint64_t r2 = ((uint64_t)twos_rand(s) * total) >> 32;
	uint64_t cum = 0;
	TAILQ_FOREACH(d, &svc->dests, entry) {
		if (!dest_available(d))
			continue;
		cum += (uint64_t)d->weight;
		if (c1 == NULL && r1 < cum)
			c1 = d;
		if (c2 == NULL && r2 < cum)
			c2 = d;
		if (c1 && c2)
			break;
	}
	if ((int64_t)dest_overhead(c1) * c2->weight > (int64_t)dest_overhead(c2) * c1->weight)
		return c2;
	return c1;
}

const struct sched_ops sched_twos = {
	.name         = "twos",
	.init_service = twos_init,
	.done_service = sched_data_free,
	.schedule     = twos_schedule,
};
