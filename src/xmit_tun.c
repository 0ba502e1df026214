/* xmit_tun.c - IP tunnelling: the packet wrapped in IPIP, GRE or GUE toward the real server */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "icmplimit.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "pkt.h"
#include "stats.h"
#include "tap.h"
#include "tunnel.h"
#include "worker.h"
#include "xmit.h"

/*
 * The tunnel's MTU is bound with the real server (the route's, or the
 * configured one); DF of the inner packet is honoured here: a DF packet
 * that does not fit is answered with ICMP fragmentation-needed. What fits
 * is queued on the worker's tunnel queue (tunnel.c), which encapsulates
 * and sends it after the batch.
 */

/*
 * The name of D's tunnel as an operator knows it: ipip, ip6ip6, gre,
 * gre over IPv6, gue, gue over IPv6.
 */
static const char *
tun_kind(const struct dest *d)
{
	if (d->af != AF_INET6)
		return tunnel_name(d->tunnel);
	return d->tunnel == TUNNEL_GRE ? "gre over IPv6" :
	    d->tunnel == TUNNEL_GUE ? "gue over IPv6" : "ip6ip6";
}

int
xmit_tun_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	struct nl_route_info ri;
	unsigned mtu, over, inner, least = d->af == AF_INET6 ? IP6_MIN_MTU : 68;
	char src[ADDR_STRLEN];

	if ((unsigned)d->tunnel >= TUNNEL_MAX) {
		snprintf(err, errlen, "unknown tunnel type");
		return -1;
	}
	over = tunnel_overhead(d->af, d->tunnel, d->tunnel_keyed);
	if (link_route(d->af, &d->addr, tap_ifindex, &ri, err, errlen) < 0)
		return -1;
	if (d->tunnel_mtu) {
		inner = d->tunnel_mtu;
	} else {
		/* The route's own MTU if it has one, else its interface's. */
		mtu = ri.mtu;
		if (mtu == 0 && nl_link_mtu(ri.oif, &mtu) < 0) {
			snprintf(err, errlen, "cannot read the MTU toward the real server");
			return -1;
		}
		/* An IPv6 path carries 1280 bytes at least: the kernel fragments the outer packet. */
		if (mtu < over + least && d->af != AF_INET6) {
			snprintf(err, errlen, "MTU %u toward the real server is too small for %s",
			    mtu, tun_kind(d));
			return -1;
		}
		inner = mtu > over ? mtu - over : 0;
	}
	/*
	 * IPv6 packets may not be cut on the way, and no link says less than
	 * 1280 to their sender: below that, ours go whole into outer packets
	 * that we fragment (RFC 2473 7.1).
	 */
	if (inner < least)
		inner = least;
	if (inner > 65535 - over)
		inner = 65535 - over;
	/* GUE's UDP checksum over IPv4 covers our address: the route must say which it is. */
	if (d->tunnel == TUNNEL_GUE && d->tunnel_csum && d->af == AF_INET &&
	    addr_is_zero(&ri.prefsrc)) {
		snprintf(err, errlen, "the route toward the real server names no source "
		    "address for gue's checksum");
		return -1;
	}
	if (d->tunnel == TUNNEL_GUE && d->tunnel_port == 0) {
		snprintf(err, errlen, "gue needs a port");
		return -1;
	}
	if (tunnel_open(d->af, d->tunnel) < 0) {
		snprintf(err, errlen, "%s raw socket: %s", tun_kind(d), strerror(errno));
		return -1;
	}
	d->tun_inner_max = inner;
	d->tun_src = ri.prefsrc;
	d->xmit_id = XMIT_TUN;
	log_info("real server %s: %s tunnel from %s, MTU %u%s%s%s", d->name, tun_kind(d),
	    !addr_is_zero(&ri.prefsrc) ? addr_ntop(d->af, &ri.prefsrc, src, sizeof(src)) :
	    "the route's source", inner, d->tunnel_mtu ? " (configured)" : "",
	    d->tunnel_keyed ? ", keyed" : "",
	    d->tunnel != TUNNEL_GUE ? "" : d->tunnel_csum == TUNNEL_CSUM_REMCSUM ?
	    ", UDP checksum, remote checksum offload" : d->tunnel_csum || d->af == AF_INET6 ?
	    ", UDP checksum" : ", no UDP checksum");
	return 0;
}

/*
 * Tell the client that its packet P, which no router may fragment, does
 * not fit the tunnel: ICMP fragmentation needed or ICMPv6 packet too big
 * (pkt_too_big) with the tunnel's MTU, from the VIP it talked to, written
 * into the TAP for the director's kernel to route to the client.
 */
static void
tun_too_big(struct worker *w, const struct pkt *p, unsigned mtu)
{
	uint8_t buf[PKT_VNET_LEN + ETH_HLEN_ + PKT_TOO_BIG_MAX];
	uint8_t *eth = buf + PKT_VNET_LEN;
	uint32_t len;

	if (!icmp_limit_allow(ICMP_KIND_ERROR, w->now))
		return;         /* counted */
	memset(buf, 0, PKT_VNET_LEN);
	memcpy(eth, w->tap_mac, 6);
	memcpy(eth + 6, w->our_mac, 6);
	memcpy(eth + 12, p->data + 12, 2);      /* the family's ethertype */
	len = pkt_too_big(p, mtu, eth + ETH_HLEN_);
	if (tap_tx(w, buf, ETH_HLEN_ + len) == 0)
		STAT_INC(STAT_TUN_FRAG_NEEDED);
}

int
xmit_tun(struct worker *w, struct conn *c, struct pkt *p)
{
	struct dest *d = c->dest;
	uint32_t len = p->len - p->l3off, max = d->tun_inner_max;

	/* A super-frame's segments are what the client's TCP really sends: DF is judged on them. */
	if (p->gso_size)
		len = p->l4off - p->l3off + (p->data[p->l4off + 12] >> 4) * 4u + p->gso_size;
	/*
	 * A packet that goes with GUE's remote checksum option has 8 bytes
	 * less (tunnel.c); IPv6's 1280 stay (the outer packet is fragmented).
	 */
	if (d->tunnel_csum == TUNNEL_CSUM_REMCSUM && p->csum == PKT_CSUM_PARTIAL &&
	    max >= (d->af == AF_INET6 ? IP6_MIN_MTU : 68u) + TUNNEL_GUE_REMCSUM_LEN)
		max -= TUNNEL_GUE_REMCSUM_LEN;
	if (len > max && p->df) {
		if (p->csum == PKT_CSUM_PARTIAL && !p->gso_size)
			pkt_csum_finish(p);     /* the error quotes it whole */
		tun_too_big(w, p, max);
		return -1;
	}
	struct tunnel_peer peer = { .addr = d->addr, .src = d->tun_src, .key = d->tunnel_key,
	    .port = d->tunnel_port, .keyed = d->tunnel_keyed, .csum = d->tunnel_csum };
	return tunnel_tx(d->tunnel, w->id, &peer, p);
}
