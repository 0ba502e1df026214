/* xmit.c - the table of transmit functions, and binding one to a real server */
#include <stdio.h>

#include "netlink.h"
#include "stats.h"
#include "xmit.h"

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

int
xmit_route(const struct dest *d, int tap_ifindex, struct nl_route_info *ri, char *err,
    size_t errlen)
{
	if (nl_route_get(d->addr, ri) < 0) {
		snprintf(err, errlen, "no route to the real server");
		return -1;
	}
	if (ri->local) {
		snprintf(err, errlen, "the real server's address is one of this host's");
		return -1;
	}
	if (ri->oif == tap_ifindex) {
		snprintf(err, errlen, "the real server's address is routed into the TAP");
		return -1;
	}
	return 0;
}

int
xmit_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	switch (d->fwd) {
	case FWD_DR:
		return xmit_dr_bind(d, tap_ifindex, err, errlen);
	case FWD_TUN:
		return xmit_tun_bind(d, tap_ifindex, err, errlen);
	case FWD_NAT:
		return xmit_nat_bind(d, tap_ifindex, err, errlen);
	case FWD_FULLNAT:
		return xmit_fullnat_bind(d, tap_ifindex, err, errlen);
	default:
		snprintf(err, errlen, "forwarding method '%s' is not supported yet", fwd_name(d->fwd));
		return -1;
	}
}
