/* sched.h - the scheduler interface and its registry */
#ifndef VSR_SCHED_H
#define VSR_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "svc.h"

struct service;
struct dest;
struct pkt;

/*
 * A scheduler is one file that exports one const struct sched_ops and is
 * listed once in the registry in sched.c. Its per-service state lives in
 * svc->sched_data, owned by init_service/done_service. add_dest and
 * upd_dest are called after the dest was linked or changed (weight,
 * thresholds), del_dest just before it is unlinked; any may be NULL.
 * done_service runs after the dests are gone and must not touch them.
 * schedule returns an available dest (weight > 0, not overloaded) or NULL.
 * Integer arithmetic only.
 */
struct sched_ops {
	const char *name;
	int  (*init_service)(struct service *svc);
	void (*done_service)(struct service *svc);
	int  (*add_dest)(struct service *svc, struct dest *d);
	int  (*del_dest)(struct service *svc, struct dest *d);
	int  (*upd_dest)(struct service *svc, struct dest *d);
	/* NOW: ticks of 1/CONN_HZ s (conn.h), for schedulers that age state. */
	struct dest *(*schedule)(struct service *svc, const struct pkt *p, uint32_t now);
	/*
	 * How many dests a service configured as VC can hold (its real servers
	 * and its sorry server); NULL: no limit. The parse refuses more, so
	 * that -t, the start and a reload all know it before anything is set.
	 */
	unsigned (*max_dests)(const struct vs_conf *vc);
};

/*
 * The available dest with the least overhead(d) / weight(d), compared
 * without division as overhead(l) * weight(d) > overhead(d) * weight(l);
 * ties keep the earlier dest in list order, as IPVS does. Inline, so that
 * each caller's overhead function is inlined into its loop.
 */
static inline struct dest *
sched_least(struct service *svc, uint32_t (*overhead)(const struct dest *))
{
	struct dest *d, *least = NULL;
	int64_t loh = 0;

	TAILQ_FOREACH(d, &svc->dests, entry) {
		if (!dest_available(d))
			continue;
		int64_t doh = overhead(d);
		if (least == NULL || loh * d->weight > doh * least->weight) {
			least = d;
			loh = doh;
		}
	}
	return least;
}

/* sed's and nq's overhead: the expected delay counts active connections only. */
static inline uint32_t
dest_overhead_active(const struct dest *d)
{
	return d->activeconns + 1;
}

/*
 * A scheduler's per-service state: SIZE bytes, zeroed, put into
 * svc->sched_data; NULL when out of memory. sched_data_free (a
 * done_service as it is) frees it.
 */
void *sched_data_new(struct service *svc, size_t size);
void sched_data_free(struct service *svc);

/* The scheduler registered as NAME, or NULL. */
const struct sched_ops *sched_lookup(const char *name);
/* NAME is one of the fourteen IPVS scheduler names (implemented or not). */
int sched_is_ipvs_name(const char *name);

extern const struct sched_ops sched_rr;
extern const struct sched_ops sched_wrr;
extern const struct sched_ops sched_lc;
extern const struct sched_ops sched_wlc;
extern const struct sched_ops sched_sed;
extern const struct sched_ops sched_nq;
extern const struct sched_ops sched_dh;
extern const struct sched_ops sched_sh;
extern const struct sched_ops sched_lblc;
extern const struct sched_ops sched_lblcr;
extern const struct sched_ops sched_mh;
extern const struct sched_ops sched_fo;
extern const struct sched_ops sched_ovf;
extern const struct sched_ops sched_twos;

#endif
