/* svc.c - virtual services and their real servers (destinations) at run time */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "laddr.h"
#include "log.h"
#include "sched.h"
#include "svc.h"
#include "xmit.h"

static struct service_list services = TAILQ_HEAD_INITIALIZER(services);

/*
 * Lookup by (proto, VIP, port): open addressing over a power-of-two array
 * of service pointers, at most half full, rebuilt when services change.
 */
static struct service **svc_tab;
static uint32_t svc_tab_mask;
static uint32_t *vips;
static unsigned nvips;

static inline uint32_t
svc_hash(uint8_t proto, uint32_t addr, uint16_t port)
{
	return hash32(addr ^ ((uint32_t)port << 16 | proto));
}

struct service *
svc_lookup(uint8_t proto, uint32_t addr, uint16_t port)
{
	if (svc_tab == NULL)
		return NULL;
	for (uint32_t i = svc_hash(proto, addr, port);; i++) {
		struct service *s = svc_tab[i & svc_tab_mask];
		if (s == NULL)
			return NULL;
		if (s->addr == addr && s->port == port && s->proto == proto)
			return s;
	}
}

bool
svc_is_vip(uint32_t addr)
{
	for (unsigned i = 0; i < nvips; i++)
		if (vips[i] == addr)
			return true;
	return false;
}

bool
svc_is_local_address(uint32_t addr)
{
	return svc_is_vip(addr) || laddr_is_local(addr);
}

struct service_list *
svc_list(void)
{
	return &services;
}

static int
svc_index_build(void)
{
	struct service *s;
	unsigned n = 0, size = 16;

	TAILQ_FOREACH(s, &services, entry)
		n++;
	while (size < 2 * n)
		size <<= 1;
	struct service **tab = calloc(size, sizeof(*tab));
	uint32_t *v = calloc(n ? n : 1, sizeof(*v));
	if (tab == NULL || v == NULL) {
		free(tab);
		free(v);
		log_warn("service index");
		return -1;
	}
	unsigned nv = 0;
	TAILQ_FOREACH(s, &services, entry) {
		uint32_t i = svc_hash(s->proto, s->addr, s->port);
		while (tab[i & (size - 1)])
			i++;
		tab[i & (size - 1)] = s;
		unsigned j;
		for (j = 0; j < nv && v[j] != s->addr; j++)
			;
		if (j == nv)
			v[nv++] = s->addr;
	}
	free(svc_tab);
	free(vips);
	svc_tab = tab;
	svc_tab_mask = size - 1;
	vips = v;
	nvips = nv;
	return 0;
}

void
dest_put(struct dest *d)
{
	if (--d->refcnt == 0)
		free(d);
}

static void
svc_free(struct service *s)
{
	struct dest *d;

	while ((d = TAILQ_FIRST(&s->dests)) != NULL) {
		TAILQ_REMOVE(&s->dests, d, entry);
		d->svc = NULL;
		dest_put(d);
	}
	if (s->sched && s->sched->done_service)
		s->sched->done_service(s);
	free(s);
}

static struct service *
svc_from_conf(const struct config *conf, const struct vs_conf *vc, int tap_ifindex)
{
	struct service *s = calloc(1, sizeof(*s));
	char err[256];
	int bad = 0;

	if (s == NULL) {
		log_warn("service %s", vc->name);
		return NULL;
	}
	TAILQ_INIT(&s->dests);
	snprintf(s->name, sizeof(s->name), "%s", vc->name);
	s->addr = vc->addr.s_addr;
	s->port = htons(vc->port);
	s->proto = (uint8_t)vc->proto;
	s->fwd = vc->fwd;
	s->tunnel = vc->tunnel;
	s->persistent = vc->persistent;
	s->netmask = vc->netmask.s_addr;
	s->flags = vc->flags;
	s->mh_size = vc->mh_size;
	s->sched = sched_lookup(vc->sched);
	if (s->sched == NULL) {
		log_errx("%s:%d: unknown scheduler '%s'", conf->file, vc->line, vc->sched);
		free(s);
		return NULL;
	}
	if (s->sched->init_service && s->sched->init_service(s) < 0) {
		log_errx("%s:%d: scheduler %s: cannot initialise", conf->file, vc->line, vc->sched);
		free(s);
		return NULL;
	}

	for (unsigned i = 0; i < vc->nrs; i++) {
		const struct rs_conf *rc = &vc->rs[i];
		struct dest *d = calloc(1, sizeof(*d));
		if (d == NULL) {
			log_warn("real server %s", rc->name);
			bad = 1;
			break;
		}
		snprintf(d->name, sizeof(d->name), "%s", rc->name);
		d->addr = rc->addr.s_addr;
		d->port = htons(rc->port);
		d->fwd = rc->fwd;
		d->weight = rc->weight;
		d->u_threshold = rc->upper;
		d->l_threshold = rc->lower;
		d->refcnt = 1;
		d->svc = s;             /* the binding may look at the service */
		if (xmit_bind(d, tap_ifindex, err, sizeof(err)) < 0) {
			log_errx("%s:%d: real server %s (%s): %s", conf->file, rc->line, rc->name,
			    inet_ntoa(rc->addr), err);
			free(d);
			bad = 1;
			continue;
		}
		d->svc = s;
		TAILQ_INSERT_TAIL(&s->dests, d, entry);
		s->ndests++;
		if (s->sched->add_dest && s->sched->add_dest(s, d) < 0) {
			log_errx("%s:%d: real server %s: scheduler %s cannot take it (out of memory, "
			    "or more real servers than its table holds)", conf->file, rc->line,
			    rc->name, s->sched->name);
			bad = 1;
		}
	}
	if (bad) {
		svc_free(s);
		return NULL;
	}
	return s;
}

int
svc_setup(const struct config *conf, int tap_ifindex)
{
	int bad = 0;

	for (unsigned i = 0; i < conf->nvs; i++) {
		struct service *s = svc_from_conf(conf, &conf->vs[i], tap_ifindex);
		if (s == NULL) {
			bad = 1;
			continue;
		}
		TAILQ_INSERT_TAIL(&services, s, entry);
	}
	if (bad || svc_index_build() < 0) {
		svc_teardown();
		return -1;
	}
	return 0;
}

void
svc_teardown(void)
{
	struct service *s;

	while ((s = TAILQ_FIRST(&services)) != NULL) {
		TAILQ_REMOVE(&services, s, entry);
		svc_free(s);
	}
	free(svc_tab);
	free(vips);
	svc_tab = NULL;
	vips = NULL;
	nvips = 0;
}
