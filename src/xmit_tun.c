/* xmit_tun.c - IP tunnelling: the packet wrapped in IPIP or GRE toward the real server */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
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

int
xmit_tun_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	struct nl_route_info ri;
	unsigned mtu, over, inner;
	char src[INET_ADDRSTRLEN];

	if ((unsigned)d->tunnel >= TUNNEL_MAX) {
		snprintf(err, errlen, "unknown tunnel type");
		return -1;
	}
	over = tunnel_overhead(d->tunnel, d->tunnel_keyed);
	if (link_route(d->addr, tap_ifindex, &ri, err, errlen) < 0)
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
		if (mtu < over + 68) {
			snprintf(err, errlen, "MTU %u toward the real server is too small for %s",
			    mtu, tunnel_name(d->tunnel));
			return -1;
		}
		inner = mtu - over;
	}
	if (inner > 65535 - over)
		inner = 65535 - over;
	if (tunnel_open(d->tunnel) < 0) {
		snprintf(err, errlen, "%s raw socket: %s", tunnel_name(d->tunnel), strerror(errno));
		return -1;
	}
	d->tun_inner_max = inner;
	d->tun_src = ri.prefsrc;
	d->xmit_id = XMIT_TUN;
	log_info("real server %s: %s tunnel from %s, MTU %u%s%s", d->name, tunnel_name(d->tunnel),
	    ri.prefsrc ? inet_ntop(AF_INET, &ri.prefsrc, src, sizeof(src)) : "the route's source",
	    inner, d->tunnel_mtu ? " (configured)" : "", d->tunnel_keyed ? ", keyed" : "");
	return 0;
}

/*
 * Tell the client that its packet P (with DF) does not fit the tunnel:
 * ICMP destination unreachable, fragmentation needed (RFC 792, RFC 1191)
 * with the tunnel's MTU, from the VIP it talked to, quoting its IP header
 * and the first 8 bytes after it, written into the TAP for the director's
 * kernel to route to the client.
 */
static void
tun_frag_needed(struct worker *w, const struct pkt *p, unsigned mtu)
{
	uint8_t buf[PKT_VNET_LEN + ETH_HLEN_ + IP4_HLEN + ICMP_HLEN_ + 60 + 8];
	const uint8_t *in = p->data + p->l3off;
	unsigned qlen = (unsigned)(in[IP4_VHL] & 0x0f) * 4 + 8;
	uint8_t *eth = buf + PKT_VNET_LEN, *ip = eth + ETH_HLEN_, *icmp = ip + IP4_HLEN;
	uint16_t v;

	if (qlen > p->len - p->l3off)
		qlen = p->len - p->l3off;
	memset(buf, 0, PKT_VNET_LEN + ETH_HLEN_ + IP4_HLEN + ICMP_HLEN_);
	memcpy(eth, w->tap_mac, 6);
	memcpy(eth + 6, w->our_mac, 6);
	eth[12] = ETHTYPE_IPV4 >> 8;
	eth[13] = ETHTYPE_IPV4 & 0xff;
	ip[IP4_VHL] = 0x45;
	ip[IP4_TOS] = 0xc0;             /* internetwork control, as the kernel's ICMP errors */
	v = htons((uint16_t)(IP4_HLEN + ICMP_HLEN_ + qlen));
	memcpy(ip + IP4_TOTLEN, &v, 2);
	ip[IP4_TTL] = 64;
	ip[IP4_PROTO] = IPPROTO_ICMP;
	memcpy(ip + IP4_SADDR, &p->daddr, 4);   /* the VIP */
	memcpy(ip + IP4_DADDR, &p->saddr, 4);   /* the client */
	v = csum_ip(ip, IP4_HLEN);
	memcpy(ip + IP4_CSUM, &v, 2);
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	v = htons((uint16_t)mtu);       /* next-hop MTU, RFC 1191 */
	memcpy(icmp + 6, &v, 2);
	memcpy(icmp + ICMP_HLEN_, in, qlen);
	v = csum_fold(csum_partial(icmp, ICMP_HLEN_ + qlen, 0));
	memcpy(icmp + 2, &v, 2);
	if (tap_tx(w, buf, ETH_HLEN_ + IP4_HLEN + ICMP_HLEN_ + qlen) == 0)
		STAT_INC(STAT_TUN_FRAG_NEEDED);
}

int
xmit_tun(struct worker *w, struct conn *c, struct pkt *p)
{
	struct dest *d = c->dest;
	const uint8_t *ip = p->data + p->l3off;
	uint32_t len = p->len - p->l3off;

	/* A super-frame's segments are what the client's TCP really sends: DF is judged on them. */
	if (p->gso_size)
		len = p->l4off - p->l3off + (p->data[p->l4off + 12] >> 4) * 4u + p->gso_size;
	if (len > d->tun_inner_max && (ip[IP4_FRAG] & IP4_DF)) {
		if (p->csum == PKT_CSUM_PARTIAL && !p->gso_size)
			pkt_csum_finish(p);     /* the error quotes it whole */
		tun_frag_needed(w, p, d->tun_inner_max);
		return -1;
	}
	return tunnel_tx(d->tunnel, w->id, d->addr, d->tunnel_keyed, d->tunnel_key, p);
}
