/* sched_lblc.c - locality-based least connection: a destination address sticks to one dest */
#include <arpa/inet.h>
#include <stdint.h>
#include <sys/queue.h>

#include "conn.h"
#include "pkt.h"
#include "common.h"
#include "sched.h"
#include "svc.h"

/*
 * As IPVS's ip_vs_lblc.c, for cache clusters: each destination address
 * (p->daddr) is remembered with the dest it was given. While that dest
 * is available and not "overloaded" in lblc's sense it keeps the address;
 * otherwise the address goes to the least overhead / weight dest (as wlc,
 * ties to the earlier in list order) and the entry is rewritten.
 * Overloaded: ActiveConn > weight while some dest of the service has
 * ActiveConn * 2 < weight (is_overloaded() in the kernel).
 * Unlike the kernel, which returns a cached dest above its upper
 * threshold, a cached dest must be available (dest_available()).
 *
 * Expiry: an entry not used for LBLC_EXPIRE (24 h, the kernel's
 * lblc_expiration default) is gone; it is checked when the entry is met,
 * so there is no timer (the kernel sweeps every 30 min for such entries).
 * Ages are (uint32_t)(now - lastuse) ticks: exact for gaps under 13 years.
 *
 * Bound: a fixed table of LBLC_SETS x LBLC_WAYS = 16384 entries (the
 * kernel's max_size, 16 x 1024 buckets), 24 bytes each, allocated at
 * init_service. An address hashes to one set of 8 ways. When all 8 are
 * live, the least recently used one is replaced: a flood of addresses
 * costs the old addresses their stickiness, never memory. (The kernel
 * grows past max_size and drops entries idle for 6 min every minute.)
 * del_dest clears the entries of the dest being removed.
 * Invariant: an entry is in use iff dest != NULL, and then dest is linked.
 */
#define LBLC_SETS    2048u                        /* a power of two */
#define LBLC_WAYS    8u
#define LBLC_EXPIRE  (24u * 60 * 60 * CONN_HZ)    /* ticks */

struct lblc_entry {
	struct dest   *dest;
	union vsr_addr addr;       /* of the service's family */
	uint32_t       lastuse;    /* ticks */
};

struct lblc_table {
	struct lblc_entry e[LBLC_SETS * LBLC_WAYS];
};

static int
lblc_init(struct service *svc)
{
	return sched_data_new(svc, sizeof(struct lblc_table)) != NULL ? 0 : -1;
}

static int
lblc_del_dest(struct service *svc, struct dest *d)
{
	struct lblc_table *t = svc->sched_data;

	for (size_t i = 0; i < LBLC_SETS * LBLC_WAYS; i++)
		if (t->e[i].dest == d)
			t->e[i].dest = NULL;
	return 0;
}

/* The kernel's is_overloaded(): busy beyond its weight while another is under half. */
static int
lblc_overloaded(const struct service *svc, const struct dest *d)
{
	const struct dest *o;

	if (d->activeconns <= (uint32_t)d->weight)
		return 0;
	TAILQ_FOREACH(o, &svc->dests, entry)
		if (o->weight > 0 && (uint64_t)o->activeconns * 2 < (uint64_t)o->weight)
			return 1;
	return 0;
}

static struct dest *
lblc_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct lblc_table *t = svc->sched_data;
	struct lblc_entry *set = &t->e[(hash32(addr_fold32(p->af, &p->daddr)) & (LBLC_SETS - 1)) * LBLC_WAYS];
	struct lblc_entry *en = NULL, *victim = NULL;
	struct dest *d;

	for (unsigned i = 0; i < LBLC_WAYS; i++) {
		struct lblc_entry *e = &set[i];
		if (e->dest && (uint32_t)(now - e->lastuse) >= LBLC_EXPIRE)
			e->dest = NULL;                 /* expired */
		if (e->dest == NULL) {
			if (victim == NULL || victim->dest)
				victim = e;
			continue;
		}
		if (addr_eq(&e->addr, &p->daddr)) {
			en = e;
			break;
		}
		if (victim == NULL ||
		    (victim->dest && (uint32_t)(now - e->lastuse) > (uint32_t)(now - victim->lastuse)))
			victim = e;
	}
	if (en) {
		en->lastuse = now;
		d = en->dest;
		if (dest_available(d) && !lblc_overloaded(svc, d))
			return d;
	}
	d = sched_least(svc, dest_overhead);
	if (d == NULL)
		return NULL;
	if (en == NULL) {
		en = victim;                            /* free, expired or least recently used */
		en->addr = p->daddr;
	}
	en->dest = d;
	en->lastuse = now;
	return d;
}

const struct sched_ops sched_lblc = {
	.name         = "lblc",
	.init_service = lblc_init,
	.done_service = sched_data_free,
	.del_dest     = lblc_del_dest,
	.schedule     = lblc_schedule,
};
