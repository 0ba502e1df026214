/* pkt6.c - IPv6's part of the packet layer: extension headers, pseudo-header, ICMPv6, ND */
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <string.h>

#include "pkt6.h"

/*
 * Everything here is what IPv6 does differently from IPv4 (pkt.c): no
 * header checksum, a 128-bit pseudo-header in every transport checksum,
 * ICMPv6's included, a chain of extension headers between the fixed
 * header and the transport one, errors that quote as much as fits in the
 * minimum MTU, and neighbour discovery instead of ARP. The rest of the
 * packet path reaches it through pkt_ops6, chosen by pkt_parse.
 */

#define ND_OPT_SLLA    1       /* source link-layer address (RFC 4861 4.6.1) */
#define ND_OPT_TLLA    2       /* target link-layer address */



uint32_t
csum_pseudo6(const union vsr_addr *src, const union vsr_addr *dst, uint32_t len, uint8_t nxt)
{
	uint64_t s = csum_partial(dst, 16, csum_partial(src, 16, 0));

	/*
	 * Upper-layer length (32 bits) and next header (the low byte of 32
	 * bits), with their carry: the addresses' sum may be close to 2^32.
	 */
	s += (len >> 16) + (len & 0xffff) + nxt;
	return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

/* RFC 1624 over eight 16-bit words: ~(~HC + sum(~m) + sum(m')). */
static uint32_t
csum_diff16(uint32_t s, const void *from, const void *to)
{
	const uint8_t *f = from, *t = to;

	for (int i = 0; i < 16; i += 2) {
		s += (uint16_t)~rd16(f + i);
		s += rd16(t + i);
	}
	return s;
}

void
csum_replace16(uint16_t *check, const void *from, const void *to)
{
	*check = csum_fold(csum_diff16((uint16_t)~ntohs(*check), from, to));
}

void
csum_replace16_pseudo(uint16_t *check, const void *from, const void *to)
{
	uint32_t s = csum_diff16(ntohs(*check), from, to);

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*check = htons((uint16_t)s);
}

/* ---- the extension-header chain ---- */

enum ext_frag {
	FRAG_NONE,              /* no fragment header */
	FRAG_ATOMIC,            /* offset 0, no more fragments: a whole datagram (RFC 6946) */
	FRAG_FIRST,             /* offset 0, more to come: the transport header is here */
	FRAG_LATER,             /* offset > 0: no transport header */
};

/*
 * Walk the extension headers of the IPv6 packet at IP, of which LEN bytes
 * are there, from next header *NXT: on return *NXT is the transport
 * protocol, *OFF its offset from IP and *FRAG what the fragment header
 * said. Hop-by-hop options only first, destination options twice at
 * most, routing and fragment once (RFC 8200 4.1), IP6_EXT_MAX headers at
 * most, each within LEN: the chain always moves forward by at least 8
 * bytes, so it ends. A routing header with segments left would make
 * another node the destination (an intermediate hop of ours): refused.
 * STAT_NONE, STAT_DROP_MALFORMED (a header cut short) or
 * STAT_DROP_IPV6_EXT (unknown, out of place, repeated, too many). A
 * fragment header gives its datagram's id in *FID and its offset (in
 * 8-byte units) in *FOFF, when they are not NULL; after that of a later
 * fragment the walk ends: *NXT is the header that follows it, *OFF where
 * the fragment's data starts.
 */
static enum stat_id
ext_walk(const uint8_t *ip, uint32_t len, uint8_t *nxt, uint32_t *off, enum ext_frag *frag,
    uint32_t *fid, uint16_t *foff)
{
	unsigned n = 0, dstopts = 0, routing = 0;
	uint32_t at = IP6_HLEN;

	*frag = FRAG_NONE;
	for (;;) {
		const uint8_t *h = ip + at;
		uint32_t hlen;

		switch (*nxt) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
		case IPPROTO_ICMPV6:
			*off = at;
			return STAT_NONE;
		case IPPROTO_HOPOPTS:
			if (at != IP6_HLEN)
				return STAT_DROP_IPV6_EXT;
			break;
		case IPPROTO_DSTOPTS:
			if (++dstopts > 2)
				return STAT_DROP_IPV6_EXT;
			break;
		case IPPROTO_ROUTING:
			if (++routing > 1)
				return STAT_DROP_IPV6_EXT;
			break;
		case IPPROTO_FRAGMENT:
			if (*frag != FRAG_NONE)
				return STAT_DROP_IPV6_EXT;
			break;
		default:        /* ESP, AH, no next header, mobility, HIP, unknown */
			return STAT_DROP_IPV6_EXT;
		}
		if (++n > IP6_EXT_MAX)
			return STAT_DROP_IPV6_EXT;
		if (at + 8 > len)
			return STAT_DROP_MALFORMED;
		if (*nxt == IPPROTO_FRAGMENT) {
			uint16_t fo = rd16(h + 2);
			*frag = (fo & 0xfff8) ? FRAG_LATER : (fo & 1) ? FRAG_FIRST : FRAG_ATOMIC;
			hlen = 8;
			if (fid != NULL)
				*fid = (uint32_t)rd16(h + 4) << 16 | rd16(h + 6);
			if (foff != NULL)
				*foff = fo >> 3;
			if (*frag == FRAG_LATER) {
				/* What follows is the datagram's payload, not headers. */
				*nxt = h[0];
				*off = at + hlen;
				return STAT_NONE;
			}
		} else {
			hlen = ((uint32_t)h[1] + 1) * 8;
			if (at + hlen > len)
				return STAT_DROP_MALFORMED;
			if (*nxt == IPPROTO_ROUTING && h[3] != 0)
				return STAT_DROP_IPV6_EXT;
		}
		*nxt = h[0];
		at += hlen;
	}
}

/* ICMPv6 (RFC 4443, 4861) types: what they are to the director. */
static uint8_t
icmp6_class(uint8_t type)
{
	switch (type) {
	case ICMP6_ECHO_REQUEST:
		return PKT_ICMP_ECHO;
	case ICMP6_DST_UNREACH:
	case ICMP6_PACKET_TOO_BIG:
	case ICMP6_TIME_EXCEEDED:
	case ICMP6_PARAM_PROB:
		return PKT_ICMP_ERROR;
	case ND_NEIGHBOR_SOLICIT:
		return PKT_ICMP_NS;
	case MLD_LISTENER_QUERY:
	case MLD_LISTENER_REPORT:
	case MLD_LISTENER_REDUCTION:
	case ND_ROUTER_SOLICIT:
	case ND_ROUTER_ADVERT:
	case ND_NEIGHBOR_ADVERT:
	case ND_REDIRECT:
	case 143:               /* MLDv2 listener report (RFC 3810) */
		return PKT_ICMP_LINK;
	default:
		return PKT_ICMP_OTHER;
	}
}

enum stat_id
pkt_parse6(struct pkt *p, uint32_t len)
{
	const uint8_t *ip = p->data + ETH_HLEN_;
	uint32_t avail = len - ETH_HLEN_, plen, off;
	enum ext_frag frag;
	uint16_t fo = 0;
	uint8_t nxt;
	enum stat_id r;

	if (avail < IP6_HLEN || (ip[IP6_VTCFL] >> 4) != 6)
		return STAT_DROP_MALFORMED;
	/* 0 would be a jumbogram (RFC 2675): no link of ours carries one. */
	plen = rd16(ip + IP6_PLEN);
	if (plen == 0 || IP6_HLEN + plen > avail)
		return STAT_DROP_MALFORMED;
	/* Ethernet padding and trailing garbage after the datagram go. */
	p->len = ETH_HLEN_ + IP6_HLEN + plen;
	nxt = ip[IP6_NXT];
	if ((r = ext_walk(ip, IP6_HLEN + plen, &nxt, &off, &frag, &p->frag_id, &fo)) != STAT_NONE)
		return r;
	if (frag == FRAG_LATER) {
		/* TCP's header is 20 bytes: one at 8 or 16 would rewrite its ports (RFC 1858). */
		if (fo < 3 && nxt == IPPROTO_TCP)
			return STAT_DROP_FRAG_OVERLAP;
		if ((uint32_t)fo * 8u + IP6_HLEN + plen - off > 65535u)
			return STAT_DROP_FRAG_MALFORMED;
		p->frag = PKT_FRAG_LATER;
	} else if (frag == FRAG_FIRST) {
		p->frag = PKT_FRAG_FIRST;
	}

	p->af = AF_INET6;
	p->ops = &pkt_ops6;
	p->df = 1;              /* routers never fragment IPv6 */
	p->l3off = ETH_HLEN_;
	p->l4off = (uint16_t)(ETH_HLEN_ + off);
	p->l4len = (uint16_t)(IP6_HLEN + plen - off);
	p->proto = nxt;
	memcpy(&p->saddr, ip + IP6_SADDR, 16);
	memcpy(&p->daddr, ip + IP6_DADDR, 16);
	if ((r = pkt_parse_l4(p)) != STAT_NONE)
		return r;
	/* UDP's checksum is mandatory over IPv6 (RFC 8200 8.1). */
	if (p->proto == IPPROTO_UDP && p->csum != PKT_CSUM_PARTIAL &&
	    p->frag != PKT_FRAG_LATER && rd16(p->data + p->l4off + 6) == 0)
		return STAT_DROP_MALFORMED;
	if (p->proto == IPPROTO_ICMPV6) {
		p->icmp = icmp6_class(p->data[p->l4off]);
		/* An informational message to a group is the link's too. */
		if (p->icmp == PKT_ICMP_OTHER && IN6_IS_ADDR_MULTICAST(&p->daddr.in6))
			p->icmp = PKT_ICMP_LINK;
	}
	return STAT_NONE;
}

static int
parse_quoted6(const struct pkt *p, struct pkt_quoted *q)
{
	/* The quoted packet follows the ICMPv6 header; it may be cut short. */
	uint32_t off = p->l4off + ICMP6_HLEN_, l4;
	uint32_t avail = p->len > off ? p->len - off : 0;
	const uint8_t *ip = p->data + off;
	enum ext_frag frag;
	uint8_t nxt;

	if (avail < IP6_HLEN || (ip[IP6_VTCFL] >> 4) != 6)
		return -1;
	nxt = ip[IP6_NXT];
	if (ext_walk(ip, avail, &nxt, &l4, &frag, NULL, NULL) != STAT_NONE || frag == FRAG_LATER ||
	    l4 + 8 > avail)
		return -1;
	q->proto = nxt;
	q->off = (uint16_t)off;
	q->l4off = (uint16_t)(off + l4);
	memcpy(&q->saddr, ip + IP6_SADDR, 16);
	memcpy(&q->daddr, ip + IP6_DADDR, 16);
	memcpy(&q->sport, ip + l4, 2);
	memcpy(&q->dport, ip + l4 + 2, 2);
	return 0;
}

/* ---- rewrites ---- */

/* No header checksum; the transport's (ICMPv6's too) covers the addresses. */
static void
set_addr6(struct pkt *p, int dst, const union vsr_addr *a)
{
	uint8_t *ip = p->data + p->l3off;
	union vsr_addr *field = dst ? &p->daddr : &p->saddr;
	uint16_t *c = p->proto == IPPROTO_ICMPV6 ? (uint16_t *)(p->data + p->l4off + 2) :
	    pkt_l4_check(p);

	if (c != NULL && p->csum == PKT_CSUM_PARTIAL) {
		csum_replace16_pseudo(c, field, a);
	} else if (c != NULL) {
		csum_replace16(c, field, a);
		pkt_l4_done(p, c);
	}
	memcpy(ip + (dst ? IP6_DADDR : IP6_SADDR), a, 16);
	*field = *a;
}

/* A 16-bit or 128-bit field: replaced, the checksum at CHECK (if any) updated. */
static void
put_addr(uint8_t *at, uint16_t *check, const union vsr_addr *a)
{
	if (check != NULL)
		csum_replace16(check, at, a);
	memcpy(at, a, 16);
}

static void
put_port(uint8_t *at, uint16_t *check, uint16_t v)
{
	uint16_t old;

	memcpy(&old, at, 2);
	if (check != NULL)
		csum_replace2(check, old, v);
	memcpy(at, &v, 2);
}

/* The ICMPv6 checksum of the message at ICMP (LEN bytes) from SRC to DST, computed anew. */
static void
icmp6_csum(uint8_t *icmp, uint32_t len, const union vsr_addr *src, const union vsr_addr *dst)
{
	uint16_t c;

	memset(icmp + 2, 0, 2);
	c = csum_fold(csum_partial(icmp, len, csum_pseudo6(src, dst, len, IPPROTO_ICMPV6)));
	memcpy(icmp + 2, &c, 2);
}

/* pkt_icmp_nat for IPv6 (pkt.h). */
static void
icmp_nat6(struct pkt *p, const union vsr_addr *osrc, const union vsr_addr *odst,
    const union vsr_addr *qsrc, uint16_t qsport, const union vsr_addr *qdst, uint16_t qdport)
{
	uint8_t *ip = p->data + p->l3off, *icmp = p->data + p->l4off;
	struct pkt_quoted q;
	uint16_t *qcheck = NULL;
	uint8_t *qip, *ql4;
	uint32_t have;

	memcpy(ip + IP6_SADDR, osrc, 16);
	memcpy(ip + IP6_DADDR, odst, 16);
	p->saddr = *osrc;
	p->daddr = *odst;
	/* core.c found the connection by this quote: it parses. */
	if (parse_quoted6(p, &q) == 0) {
		qip = p->data + q.off;
		ql4 = p->data + q.l4off;
		have = p->len - q.l4off;
		if (q.proto == IPPROTO_TCP && have >= 18)
			qcheck = (uint16_t *)(ql4 + 16);
		else if (q.proto == IPPROTO_UDP && have >= 8 && rd16(ql4 + 6) != 0)
			qcheck = (uint16_t *)(ql4 + 6);
		put_addr(qip + IP6_SADDR, qcheck, qsrc);
		put_addr(qip + IP6_DADDR, qcheck, qdst);
		put_port(ql4, qcheck, qsport);
		put_port(ql4 + 2, qcheck, qdport);
		if (qcheck != NULL && q.proto == IPPROTO_UDP && *qcheck == 0)
			*qcheck = 0xffff;
	}
	icmp6_csum(icmp, p->l4len, osrc, odst);
}

/* An echo request turned around in place: addresses swapped (the sum keeps), hop limit 64. */
static void
echo_reply6(struct pkt *p)
{
	uint8_t *ip = p->data + p->l3off, *icmp = p->data + p->l4off;
	union vsr_addr a = p->saddr;
	uint16_t old, new;

	memcpy(ip + IP6_SADDR, &p->daddr, 16);
	memcpy(ip + IP6_DADDR, &p->saddr, 16);
	p->saddr = p->daddr;
	p->daddr = a;
	ip[IP6_HLIM] = 64;      /* in no checksum */
	memcpy(&old, icmp, 2);
	icmp[0] = ICMP6_ECHO_REPLY;
	memcpy(&new, icmp, 2);
	csum_replace2((uint16_t *)(icmp + 2), old, new);
}

/* An IPv6 header at IP: payload PLEN, next header NXT, hop limit HLIM, SRC -> DST. */
static void
ip6_fill(uint8_t *ip, uint16_t plen, uint8_t nxt, uint8_t hlim, const union vsr_addr *src,
    const union vsr_addr *dst)
{
	memset(ip, 0, 4);
	ip[IP6_VTCFL] = 0x60;
	wr16(ip + IP6_PLEN, plen);
	ip[IP6_NXT] = nxt;
	ip[IP6_HLIM] = hlim;
	memcpy(ip + IP6_SADDR, src, 16);
	memcpy(ip + IP6_DADDR, dst, 16);
}

/*
 * ICMPv6 packet too big (RFC 4443 3.2) with MTU (at least the minimum,
 * 1280: below it a tunnel fragments instead), quoting as much of P as
 * fits in the minimum MTU.
 */
static uint32_t
too_big6(const struct pkt *p, unsigned mtu, uint8_t *ip)
{
	uint32_t qlen = p->len - p->l3off, v;
	uint8_t *icmp = ip + IP6_HLEN;

	if (qlen > IP6_MIN_MTU - IP6_HLEN - ICMP6_HLEN_)
		qlen = IP6_MIN_MTU - IP6_HLEN - ICMP6_HLEN_;
	ip6_fill(ip, (uint16_t)(ICMP6_HLEN_ + qlen), IPPROTO_ICMPV6, 64, &p->daddr, &p->saddr);
	icmp[0] = ICMP6_PACKET_TOO_BIG;
	icmp[1] = 0;
	v = htonl(mtu < IP6_MIN_MTU ? IP6_MIN_MTU : mtu);
	memcpy(icmp + 4, &v, 4);
	memcpy(icmp + ICMP6_HLEN_, p->data + p->l3off, qlen);
	icmp6_csum(icmp, ICMP6_HLEN_ + qlen, &p->daddr, &p->saddr);
	return IP6_HLEN + ICMP6_HLEN_ + qlen;
}

/* A segment: the IPv6 header and extension headers copied, the payload length its own. */
static uint32_t
gso_segment6(const struct pkt *p, unsigned i, uint8_t *hdr, const uint8_t **payload,
    uint32_t *plen, bool partial)
{
	const uint8_t *ip = p->data + p->l3off, *th = p->data + p->l4off;
	unsigned ihl = p->l4off - p->l3off, doff;
	uint32_t pay, off = (uint32_t)i * p->gso_size, n, sum;
	uint8_t *tcp = hdr + ihl;
	uint16_t v;

	pkt_gso_lens(p, &doff, &pay);
	n = pay - off < p->gso_size ? pay - off : p->gso_size;
	*payload = th + doff + off;
	*plen = n;

	memcpy(hdr, ip, ihl);
	wr16(hdr + IP6_PLEN, (uint16_t)(ihl - IP6_HLEN + doff + n));
	memcpy(tcp, th, doff);
	pkt_gso_tcp_fix(p, i, tcp, off);
	sum = csum_pseudo6(&p->saddr, &p->daddr, doff + n, IPPROTO_TCP);
	if (partial) {
		v = (uint16_t)~csum_fold(sum);  /* the pseudo-header's alone */
		memcpy(tcp + 16, &v, 2);
		return ihl + doff;
	}
	sum = csum_partial(tcp, doff, sum);
	sum = csum_partial(*payload, n, sum);
	v = csum_fold(sum);
	memcpy(tcp + 16, &v, 2);
	return ihl + doff;
}

const struct pkt_ops pkt_ops6 = {
	.af           = AF_INET6,
	.icmp_proto   = IPPROTO_ICMPV6,
	.set_addr     = set_addr6,
	.parse_quoted = parse_quoted6,
	.icmp_nat     = icmp_nat6,
	.echo_reply   = echo_reply6,
	.too_big      = too_big6,
	.gso_segment  = gso_segment6,
};

/* ---- neighbour discovery ---- */

/* The options of an ND message at OPT (LEN bytes): each of non-zero length, within. */
static int
nd_opts_ok(const uint8_t *opt, uint32_t len, const uint8_t **lla, uint8_t want)
{
	*lla = NULL;
	while (len > 0) {
		uint32_t olen;

		if (len < 2 || opt[1] == 0)
			return 0;
		olen = (uint32_t)opt[1] * 8;
		if (olen > len)
			return 0;
		if (opt[0] == want && olen == 8)
			*lla = opt + 2;
		opt += olen;
		len -= olen;
	}
	return 1;
}

/* The ICMPv6 message at ICMP (LEN bytes) from SRC to DST has a right checksum. */
static int
icmp6_sum_ok(const uint8_t *icmp, uint32_t len, const union vsr_addr *src,
    const union vsr_addr *dst)
{
	return csum_fold(csum_partial(icmp, len, csum_pseudo6(src, dst, len, IPPROTO_ICMPV6))) == 0;
}

int
pkt_nd_ns_target(const struct pkt *p, union vsr_addr *target)
{
	const uint8_t *ip = p->data + p->l3off, *icmp = p->data + p->l4off, *lla;

	/* From the link itself, never forwarded; no extension header (RFC 4861 7.1.1). */
	if (ip[IP6_HLIM] != 255 || p->l4off != p->l3off + IP6_HLEN || icmp[1] != 0 ||
	    p->l4len < 24 || !icmp6_sum_ok(icmp, p->l4len, &p->saddr, &p->daddr))
		return -1;
	memcpy(target, icmp + 8, 16);
	if (IN6_IS_ADDR_MULTICAST(&target->in6))
		return -1;
	if (!nd_opts_ok(icmp + 24, p->l4len - 24u, &lla, ND_OPT_SLLA))
		return -1;
	if (addr_is_zero(&p->saddr) && lla != NULL)
		return -1;
	return 0;
}

/* Ethernet header at ETH: DMAC, MAC, IPv6. */
static void
eth_fill(uint8_t *eth, const uint8_t *dmac, const uint8_t *mac)
{
	memcpy(eth, dmac, 6);
	memcpy(eth + 6, mac, 6);
	wr16(eth + 12, ETHTYPE_IPV6);
}

uint32_t
pkt_nd_na_fill(uint8_t *eth, const uint8_t *dmac, const uint8_t *mac,
    const union vsr_addr *src, const union vsr_addr *dst, const union vsr_addr *target,
    uint8_t flags)
{
	uint8_t *ip = eth + ETH_HLEN_, *icmp = ip + IP6_HLEN;

	eth_fill(eth, dmac, mac);
	ip6_fill(ip, 32, IPPROTO_ICMPV6, 255, src, dst);
	memset(icmp, 0, 32);
	icmp[0] = ND_NEIGHBOR_ADVERT;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	icmp6_csum(icmp, 32, src, dst);
	return PKT_ND_LEN;
}

uint32_t
pkt_nd_ns_fill(uint8_t *eth, const uint8_t *mac, const union vsr_addr *src,
    const union vsr_addr *target)
{
	uint8_t *ip = eth + ETH_HLEN_, *icmp = ip + IP6_HLEN;
	/* The solicited-node group (RFC 4291 2.7.1) and its MAC (RFC 2464 7). */
	union vsr_addr snm = { .b = { 0xff, 0x02, [11] = 0x01, [12] = 0xff,
	    [13] = target->b[13], [14] = target->b[14], [15] = target->b[15] } };
	uint8_t dmac[6] = { 0x33, 0x33, 0xff, target->b[13], target->b[14], target->b[15] };
	uint16_t len = addr_is_zero(src) ? 24 : 32;

	eth_fill(eth, dmac, mac);
	ip6_fill(ip, len, IPPROTO_ICMPV6, 255, src, &snm);
	memset(icmp, 0, len);
	icmp[0] = ND_NEIGHBOR_SOLICIT;
	memcpy(icmp + 8, target, 16);
	if (len == 32) {
		icmp[24] = ND_OPT_SLLA;
		icmp[25] = 1;
		memcpy(icmp + 26, mac, 6);
	}
	icmp6_csum(icmp, len, src, &snm);
	return ETH_HLEN_ + IP6_HLEN + len;
}

int
pkt_nd_na_parse(const uint8_t *eth, uint32_t len, union vsr_addr *target, uint8_t *mac)
{
	const uint8_t *ip = eth + ETH_HLEN_, *icmp = ip + IP6_HLEN, *lla;
	union vsr_addr src, dst;
	uint32_t plen;

	if (len < ETH_HLEN_ + IP6_HLEN || rd16(eth + 12) != ETHTYPE_IPV6 ||
	    (ip[IP6_VTCFL] >> 4) != 6)
		return -1;
	plen = rd16(ip + IP6_PLEN);
	if (ETH_HLEN_ + IP6_HLEN + plen > len || ip[IP6_NXT] != IPPROTO_ICMPV6 ||
	    ip[IP6_HLIM] != 255 || plen < 24 || icmp[0] != ND_NEIGHBOR_ADVERT || icmp[1] != 0)
		return -1;
	memcpy(&src, ip + IP6_SADDR, 16);
	memcpy(&dst, ip + IP6_DADDR, 16);
	memcpy(target, icmp + 8, 16);
	if (!icmp6_sum_ok(icmp, plen, &src, &dst) || IN6_IS_ADDR_MULTICAST(&target->in6))
		return -1;
	/* A solicited advertisement is never sent to a group. */
	if (IN6_IS_ADDR_MULTICAST(&dst.in6) && (icmp[4] & ND_NA_SOLICITED))
		return -1;
	if (!nd_opts_ok(icmp + 24, plen - 24, &lla, ND_OPT_TLLA))
		return -1;
	memcpy(mac, lla != NULL ? lla : eth + 6, 6);
	return 0;
}
