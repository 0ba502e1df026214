/* fwd.c - frames from the TAP of no flow, not for the director: routed on as the kernel would */
#include <arpa/inet.h>
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

/*
 * SADDR:SPORT (network order) is a nat real server's address and port in
 * a service of protocol PROTO (a mark service's real server without a
 * port: any port). Under the data-path lock; only for frames of no flow.
 */
static bool
fwd_is_rs_port(int af, uint8_t proto, const union vsr_addr *saddr, uint16_t sport)
{
	struct service *s;
	struct dest *d;

	TAILQ_FOREACH(s, svc_list(), entry) {
		if (s->af != af || (!s->fwmark && s->proto != proto))
			continue;
		for (int l = 0; l < 2; l++)
			TAILQ_FOREACH(d, l ? &s->removed : &s->dests, entry)
				if (d->fwd == FWD_NAT && addr_eq(&d->addr, saddr) &&
				    (d->port == sport || d->port == 0))
					return true;
	}
	return false;
}

/*
 * P is a stray reply: from a nat real server's address and port. A whole
 * packet with a source port the rules' range holds (1-65534) came by the
 * rule that names its real server's port (or a mark service's, which
 * names none): one without a look at the services, so that the replies of
 * flows a restart forgot cost no more than before. The rest (fragments,
 * ports 0 and 65535) is looked up.
 */
static bool
fwd_stray(const struct pkt *p)
{
	if (p->frag == PKT_FRAG_NONE && p->sport != 0 && p->sport != htons(65535))
		return true;
	return fwd_is_rs_port(p->af, p->proto, &p->saddr, p->sport);
}

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
	    svc_mac_mark(p->data, &mark) || fwd_stray(p)) {
		STAT_INC(STAT_DROP_NO_CONN_OUT);
		return;
	}
	if (p->frag == PKT_FRAG_FIRST)
		frag_routed(p, w->now);
	fwd_route(w, p);
}
