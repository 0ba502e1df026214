/* xmit_dr.c - direct routing: the frame goes to the real server's MAC, IP header untouched */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "arp.h"
#include "conn.h"
#include "link.h"
#include "netlink.h"
#include "pkt.h"
#include "stats.h"
#include "worker.h"
#include "xmit.h"

int
xmit_dr_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	struct nl_route_info ri;
	struct link *l;
	char gw[ADDR_STRLEN];

	if (link_route(d->af, &d->addr, tap_ifindex, &ri, err, errlen) < 0)
		return -1;
	if (!addr_is_zero(&ri.gateway)) {
		addr_ntop(d->af, &ri.gateway, gw, sizeof(gw));
		snprintf(err, errlen,
		    "not on a directly connected LAN (reached via %s): dr needs the real server on a LAN of the director",
		    gw);
		return -1;
	}
	l = link_get(ri.oif);
	if (l == NULL) {
		snprintf(err, errlen, "cannot open the interface toward the real server");
		return -1;
	}
	d->neigh = neigh_get(l, d->af, &d->addr);
	if (d->neigh == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->xmit_id = XMIT_DR;
	return 0;
}

int
xmit_dr(struct worker *w, struct conn *c, struct pkt *p)
{
	struct neigh *n = c->dest->neigh;

	if (!n->valid) {
		STAT_INC(STAT_DROP_NO_NEIGH);
		return -1;
	}
	memcpy(p->data, n->mac, 6);
	memcpy(p->data + 6, n->link->mac, 6);
	link_tx(n->link, w->id, n->sll, p->buf, p->len);
	return 0;
}
