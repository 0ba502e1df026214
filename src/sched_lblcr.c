/* sched_lblcr.c - locality-based least connection with replication: an address keeps a set of dests */
#include <arpa/inet.h>
#include <stdint.h>
#include <sys/queue.h>

#include "conn.h"
#include "pkt.h"
#include "common.h"
#include "sched.h"
#include "svc.h"

/*
 * As IPVS's ip_vs_lblcr.c: each destination address (p->daddr) maps to a
 * set of dests. A new flow goes to the set's least overhead / weight
 * available dest; if there is none, or it is overloaded in lblc's sense
 * (ActiveConn > weight while some dest has ActiveConn * 2 < weight), the
 * service's least overhead / weight dest is taken and added to the set.
 * When the set has more than one member and has not changed for
 * LBLCR_EXPIRE (24 h, the kernel's lblcr_expiration default), its most
 * loaded member (overhead / weight, weight > 0) is dropped. Adding or
 * dropping a member is a change (lastmod). As in the kernel, members are
 * tried newest first, so ties go to the most recently added.
 * A cached member must be available (dest_available()).
 *
 * Expiry: an entry not used for LBLCR_EXPIRE is gone, checked when met
 * (the kernel sweeps every 30 min for them). Ages are (uint32_t)(now -
 * then) ticks.
 *
 * Bound: a fixed table of LBLCR_SETS x LBLCR_WAYS = 16384 entries (the
 * kernel's max_size) of LBLCR_MEMBERS dests each, ~80 bytes an entry,
 * allocated at init_service. An address hashes to one set of 8 ways;
 * when all are live the least recently used is replaced. A full dest
 * set makes room by dropping its most loaded member. del_dest removes
 * the dest from every set (an emptied entry is freed).
 * Invariant: an entry is in use iff n > 0; m[0..n-1] are linked dests,
 * oldest first, without duplicates.
 */
#define LBLCR_SETS    2048u                        /* a power of two */
#define LBLCR_WAYS    8u
#define LBLCR_MEMBERS 8u
#define LBLCR_EXPIRE  (24u * 60 * 60 * CONN_HZ)    /* ticks */

struct lblcr_entry {
	union vsr_addr addr;        /* of the service's family */
	uint32_t       lastuse;     /* ticks */
	uint32_t       lastmod;     /* ticks: the set last changed */
	uint32_t       n;           /* members; 0 = entry free */
	struct dest   *m[LBLCR_MEMBERS];
};

struct lblcr_table {
	struct lblcr_entry e[LBLCR_SETS * LBLCR_WAYS];
};

static int
lblcr_init(struct service *svc)
{
	return sched_data_new(svc, sizeof(struct lblcr_table)) != NULL ? 0 : -1;
}

/* Remove member I, keeping the others in order. */
static void
lblcr_erase(struct lblcr_entry *en, uint32_t i, uint32_t now)
{
	for (; i + 1 < en->n; i++)
		en->m[i] = en->m[i + 1];
	en->n--;
	en->lastmod = now;
}

static int
lblcr_del_dest(struct service *svc, struct dest *d)
{
	struct lblcr_table *t = svc->sched_data;

	for (size_t k = 0; k < LBLCR_SETS * LBLCR_WAYS; k++) {
		struct lblcr_entry *en = &t->e[k];
		for (uint32_t i = 0; i < en->n; i++)
			if (en->m[i] == d) {
				lblcr_erase(en, i, en->lastmod);
				break;
			}
	}
	return 0;
}

/* The set's least overhead / weight available member, newest first on a tie. */
static struct dest *
lblcr_set_min(const struct lblcr_entry *en)
{
	struct dest *least = NULL;
	int64_t loh = 0;

	for (uint32_t i = en->n; i-- > 0; ) {
		struct dest *d = en->m[i];
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

/* Index of the set's most loaded member of weight > 0 (overload aside), or -1. */
static int
lblcr_set_max(const struct lblcr_entry *en)
{
	int most = -1;
	int64_t moh = 0;

	for (uint32_t i = en->n; i-- > 0; ) {
		struct dest *d = en->m[i];
		if (d->weight <= 0)
			continue;
		int64_t doh = dest_overhead(d);
		if (most < 0 || moh * d->weight < doh * en->m[most]->weight) {
			most = (int)i;
			moh = doh;
		}
	}
	return most;
}

/* The kernel's is_overloaded(): busy beyond its weight while another is under half. */
static int
lblcr_overloaded(const struct service *svc, const struct dest *d)
{
	const struct dest *o;

	if (d->activeconns <= (uint32_t)d->weight)
		return 0;
	TAILQ_FOREACH(o, &svc->dests, entry)
		if (o->weight > 0 && (uint64_t)o->activeconns * 2 < (uint64_t)o->weight)
			return 1;
	return 0;
}

/* Add D to the set unless there; a full set drops its most loaded member first. */
static void
lblcr_insert(struct lblcr_entry *en, struct dest *d, uint32_t now)
{
	for (uint32_t i = 0; i < en->n; i++)
		if (en->m[i] == d)
			return;
	if (en->n == LBLCR_MEMBERS) {
		int most = lblcr_set_max(en);
		lblcr_erase(en, most >= 0 ? (uint32_t)most : 0, now);
	}
	en->m[en->n++] = d;
	en->lastmod = now;
}

static struct dest *
lblcr_schedule(struct service *svc, const struct pkt *p, uint32_t now)
{
	struct lblcr_table *t = svc->sched_data;
	struct lblcr_entry *set = &t->e[(hash32(addr_fold32(p->af, &p->daddr)) & (LBLCR_SETS - 1)) * LBLCR_WAYS];
	struct lblcr_entry *en = NULL, *victim = NULL;
	struct dest *d;

	for (unsigned i = 0; i < LBLCR_WAYS; i++) {
		struct lblcr_entry *e = &set[i];
		if (e->n && (uint32_t)(now - e->lastuse) >= LBLCR_EXPIRE)
			e->n = 0;                       /* expired */
		if (e->n == 0) {
			if (victim == NULL || victim->n)
				victim = e;
			continue;
		}
		if (addr_eq(&e->addr, &p->daddr)) {
			en = e;
			break;
		}
		if (victim == NULL ||
		    (victim->n && (uint32_t)(now - e->lastuse) > (uint32_t)(now - victim->lastuse)))
			victim = e;
	}
	if (en) {
		en->lastuse = now;
		d = lblcr_set_min(en);
		/* Unchanged for long with more than one member: shed the most loaded. */
		if (en->n > 1 && (uint32_t)(now - en->lastmod) > LBLCR_EXPIRE) {
			int most = lblcr_set_max(en);
			if (most >= 0)
				lblcr_erase(en, (uint32_t)most, now);
		}
		if (d && !lblcr_overloaded(svc, d))
			return d;
		d = sched_least(svc, dest_overhead);
		if (d == NULL)
			return NULL;
		lblcr_insert(en, d, now);
		return d;
	}
	d = sched_least(svc, dest_overhead);
	if (d == NULL)
		return NULL;
	en = victim;                                    /* free, expired or least recently used */
	en->addr = p->daddr;
	en->lastuse = now;
	en->n = 0;
	lblcr_insert(en, d, now);
	return d;
}

const struct sched_ops sched_lblcr = {
	.name         = "lblcr",
	.init_service = lblcr_init,
	.done_service = sched_data_free,
	.del_dest     = lblcr_del_dest,
	.schedule     = lblcr_schedule,
};
