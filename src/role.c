/* role.c - the director's part in a pair: what a master announces and a backup withdraws */
#include <arpa/inet.h>
#include <event2/event.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "arp.h"
#include "conf.h"
#include "laddr.h"
#include "log.h"
#include "netlink.h"
#include "role.h"
#include "svc.h"
#include "xmit.h"

#define ROLE_ANNOUNCE_MAX 16

static struct {
	enum vsr_role      role;
	struct event_base *base;
	struct event      *ev_garp;
	unsigned           garp_round;     /* rounds of the burst sent so far */
	int                announce[ROLE_ANNOUNCE_MAX];   /* ifindexes; 0: gone */
	unsigned           nannounce;
	int                started;
	void             (*hook)(int master);
} role = { .role = ROLE_MASTER };

void
role_set_hook(void (*fn)(int master))
{
	role.hook = fn;
}

enum vsr_role
role_get(void)
{
	return role.role;
}

int
role_master(void)
{
	return role.started && role.role == ROLE_MASTER;
}

void
role_reconfig(const struct config *conf)
{
	role.nannounce = 0;
	for (unsigned i = 0; i < conf->nannounce && i < ROLE_ANNOUNCE_MAX; i++)
		role.announce[role.nannounce++] = (int)if_nametoindex(conf->announce[i]);
}

/* The VIPs once each (svc_vips: shared ones once, a mark service's its own list): FN(AF, VIP, ARG). */
static void
role_each_vip(void (*fn)(int af, const union vsr_addr *vip, void *arg), void *arg)
{
	const struct vsr_ip *v;
	unsigned nv = svc_vips(&v);

	for (unsigned i = 0; i < nv; i++)
		fn(v[i].af, &v[i].addr, arg);
}

/* ---- proxy entries ---- */

static void
vip_proxy(int af, const union vsr_addr *vip, void *arg)
{
	int add = *(int *)arg;

	for (unsigned a = 0; a < role.nannounce; a++) {
		if (role.announce[a] == 0)
			continue;
		if (add)
			nl_proxy_neigh_add(af, vip, role.announce[a]);
		else
			nl_proxy_neigh_del(af, vip, role.announce[a]);
	}
}

/* The fullnat pool's entries on the real servers' links removed (leftovers included). */
static void
laddr_unproxy(void)
{
	const struct xmit_link *links;
	unsigned n = xmit_fullnat_links(&links);

	for (unsigned k = 0; k < laddr_count(); k++) {
		const struct vsr_ip *la = laddr_get(k);

		for (unsigned i = 0; i < n; i++)
			if (links[i].af == la->af)
				nl_proxy_neigh_del(la->af, &la->addr, links[i].ifindex);
	}
}

/* ---- the burst of gratuitous ARP and unsolicited neighbour advertisements ---- */

static void
vip_garp(int af, const union vsr_addr *vip, void *arg)
{
	(void)arg;
	for (unsigned a = 0; a < role.nannounce; a++)
		if (role.announce[a])
			neigh_announce(role.announce[a], af, vip);
}

static void
garp_round(void)
{
	const struct xmit_link *links;
	unsigned n = xmit_fullnat_links(&links);

	role_each_vip(vip_garp, NULL);
	for (unsigned k = 0; k < laddr_count(); k++) {
		const struct vsr_ip *la = laddr_get(k);

		for (unsigned i = 0; i < n; i++)
			if (links[i].af == la->af)
				neigh_announce(links[i].ifindex, la->af, &la->addr);
	}
}

static void
garp_arm(void)
{
	/* ROLE_GARP_GAP_MS after the first round, then twice as long each time. */
	unsigned ms = ROLE_GARP_GAP_MS << (role.garp_round - 1);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (role.ev_garp)
		event_add(role.ev_garp, &tv);
}

static void
on_garp(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (role.role != ROLE_MASTER)
		return;
	garp_round();
	if (++role.garp_round < ROLE_GARP_ROUNDS)
		garp_arm();
}

static void
garp_burst(void)
{
	if (role.ev_garp)
		event_del(role.ev_garp);
	role.garp_round = 0;
	garp_round();
	role.garp_round = 1;
	if (ROLE_GARP_ROUNDS > 1)
		garp_arm();
}

/* ---- switching ---- */

static void
role_apply(enum vsr_role r)
{
	int add = r == ROLE_MASTER;

	role.role = r;
	role_each_vip(vip_proxy, &add);
	/*
	 * The pool's entries are xmit_nat's, which makes them on a master
	 * and follows the pool and the real servers' links at run time; a
	 * backup also removes any that an earlier instance left.
	 */
	(void)xmit_nat_announce(add);
	if (!add)
		laddr_unproxy();
	if (add)
		garp_burst();
	else if (role.ev_garp)
		event_del(role.ev_garp);
	if (role.hook)
		role.hook(add);
}

int
role_start(struct event_base *base, enum vsr_role r, const struct config *conf)
{
	role.base = base;
	role_reconfig(conf);
	role.ev_garp = evtimer_new(base, on_garp, NULL);
	if (role.ev_garp == NULL) {
		log_errx("role: cannot make its timer");
		return -1;
	}
	role.started = 1;
	role_apply(r);
	log_notice("role: %s", role_name(r));
	return 0;
}

void
role_set(enum vsr_role r, const char *why)
{
	enum vsr_role old = role.role;

	if (!role.started) {
		role.role = r;
		return;
	}
	if (r == old) {
		/* keepalived says it again (a new master election): announce again. */
		if (r == ROLE_MASTER)
			garp_burst();
		log_debug("role: %s again (%s)", role_name(r), why);
		return;
	}
	role_apply(r);
	log_notice("role: %s -> %s (%s)", role_name(old), role_name(r), why);
}

void
role_vip(int af, const union vsr_addr *vip, int up, int tell)
{
	if (!role.started)
		return;
	if (up && role.role == ROLE_MASTER) {
		vip_proxy(af, vip, &up);
		if (tell)
			vip_garp(af, vip, NULL);
	} else if (!up) {
		vip_proxy(af, vip, &up);
	}
}

void
role_announce(void)
{
	if (role.started && role.role == ROLE_MASTER)
		garp_round();
}

void
role_stop(void)
{
	if (role.ev_garp)
		event_free(role.ev_garp);
	role.ev_garp = NULL;
	role.started = 0;
}
