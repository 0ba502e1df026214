/* fwd.c - frames from the TAP of no flow, not for the director: routed on as the kernel would */
#include <string.h>

#include "frag.h"
#include "fwd.h"
#include "laddr.h"
#include "link.h"
#include "nexthop.h"
#include "stats.h"
#include "svc.h"
#include "tap.h"
#include "worker.h"

static void
fwd_via_tap(struct worker *w, struct pkt *p)
{
	STAT_INC(STAT_FORWARDED_VIA_TAP);
	memcpy(p->data, w->tap_mac, 6);
	memcpy(p->data + 6, w->our_mac, 6);
	(void)tap_tx(w, p->buf, p->len);        /* a failed write is counted there */
}

void
fwd_route(struct worker *w, struct pkt *p)
{
	struct nexthop *nh;
	struct nh_view v;

	switch (nh_client_way(p->af, &p->daddr, &p->saddr, w->id, &nh)) {
	case NH_WAY_TAP:
		STAT_INC(STAT_DROP_FORWARD_LOOP);
		return;
	case NH_WAY_DIRECT:
		if (p->gso_size == 0 && nh_read(nh, &v, w->now) == 0 &&
		    p->len - p->l3off <= v.mtu) {
			STAT_INC(STAT_FORWARDED);
			memcpy(p->data, v.mac, 6);
			memcpy(p->data + 6, v.link->mac, 6);
			link_tx(v.link, w->id, link_sll(v.link, p->af), p->buf, p->len);
			return;
		}
		break;
	default:
		break;
	}
	STAT_INC(STAT_FORWARDED);
	fwd_via_tap(w, p);
}

void
fwd_no_flow(struct worker *w, struct pkt *p)
{
	uint32_t mark;

	/*
	 * A later fragment here: its first one was not forwarded (it went to
	 * a flow that has since gone, or was dropped), and it follows.
	 */
	if (p->frag == PKT_FRAG_LATER || laddr_is_local(p->af, &p->daddr) ||
	    svc_mac_mark(p->data, &mark)) {
		STAT_INC(STAT_DROP_NO_CONN_OUT);
		return;
	}
	if (p->frag == PKT_FRAG_FIRST)
		frag_routed(p, w->now);
	fwd_route(w, p);
}
