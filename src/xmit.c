/* xmit.c - the table of transmit functions, binding one to a real server, flushing the outputs */
#include <arpa/inet.h>
#include <stdio.h>

#include "conf.h"
#include "link.h"
#include "log.h"
#include "nexthop.h"
#include "sched.h"
#include "stats.h"
#include "tap.h"
#include "tunnel.h"
#include "worker.h"
#include "xmit.h"

static int tap_ifx;                 /* routes into the TAP are refused */

static int
xmit_none(struct worker *w, struct conn *c, struct pkt *p)
{
	(void)w;
	(void)c;
	(void)p;
	STAT_INC(STAT_DROP_TX_ERROR);
	return -1;
}

const xmit_fn xmit_table[XMIT_MAX] = {
	[XMIT_NONE]    = xmit_none,
	[XMIT_DR]      = xmit_dr,
	[XMIT_TUN]     = xmit_tun,
	[XMIT_NAT]     = xmit_nat,
	[XMIT_FULLNAT] = xmit_fullnat,
};

const xmit_fn xmit_out_table[XMIT_MAX] = {
	[XMIT_NONE]    = xmit_none,
	[XMIT_DR]      = xmit_none,
	[XMIT_TUN]     = xmit_none,
	[XMIT_NAT]     = xmit_nat_out,
	[XMIT_FULLNAT] = xmit_fullnat_out,
};

void
xmit_init(int tap_ifindex)
{
	tap_ifx = tap_ifindex;
}

int
xmit_bind(struct dest *d, char *err, size_t errlen)
{
	switch (d->fwd) {
	case FWD_DR:
		return xmit_dr_bind(d, tap_ifx, err, errlen);
	case FWD_TUN:
		return xmit_tun_bind(d, tap_ifx, err, errlen);
	case FWD_NAT:
		return xmit_nat_bind(d, tap_ifx, err, errlen);
	case FWD_FULLNAT:
		return xmit_fullnat_bind(d, tap_ifx, err, errlen);
	default:
		snprintf(err, errlen, "forwarding method '%s' is not supported yet", fwd_name(d->fwd));
		return -1;
	}
}

int
xmit_check(const struct config *conf)
{
	char err[256], a[ADDR_STRLEN];
	int bad = 0;

	xmit_nat_checking(conf);
	for (unsigned i = 0; i < conf->nvs; i++) {
		const struct vs_conf *vc = &conf->vs[i];
		if (sched_lookup(vc->sched) == NULL) {
			log_errx("%s:%d: unknown scheduler '%s'", conf->file, vc->line, vc->sched);
			bad = 1;
		}
		/* A stand-in for the service: its protocol is all a binding reads. */
		struct service ts = { .af = vc->af, .proto = (uint8_t)vc->proto, .addr = vc->addr,
		    .port = htons(vc->port) };
		for (unsigned j = 0; j < vc->nrs + (vc->has_sorry ? 1 : 0); j++) {
			const struct rs_conf *rc = j < vc->nrs ? &vc->rs[j] : &vc->sorry;
			struct dest t = { .af = rc->af, .addr = rc->addr, .port = htons(rc->port),
			    .fwd = rc->fwd, .tunnel = rc->tunnel, .tunnel_mtu = rc->tunnel_mtu,
			    .svc = &ts };
			/* Binding a copy reaches the same link and neighbour entry. */
			if (xmit_bind(&t, err, sizeof(err)) < 0) {
				log_errx("%s:%d: %s server %s (%s): %s", conf->file, rc->line,
				    j < vc->nrs ? "real" : "sorry", rc->name,
				    addr_ntop(rc->af, &rc->addr, a, sizeof(a)), err);
				bad = 1;
			}
			nh_put(t.nh);   /* the copy's hold on its next hop (nat, fullnat) */
		}
	}
	xmit_nat_checking(NULL);
	return bad ? -1 : 0;
}

void
xmit_flush(struct worker *w)
{
	tap_flush(w);
	link_flush_all(w->id);
	tunnel_flush_all(w->id);
}
