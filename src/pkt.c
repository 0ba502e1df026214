/* pkt.c - a frame from the TAP: parsing with every field checked, and checksums */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if_arp.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "pkt.h"

static inline uint16_t
rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Walk IPv4 options: each one must fit (RFC 791); EOL ends the list. */
static int
ip_options_ok(const uint8_t *opt, unsigned len)
{
	unsigned i = 0;

	while (i < len) {
		uint8_t type = opt[i];
		if (type == 0)          /* end of option list */
			return 1;
		if (type == 1) {        /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= len)
			return 0;
		uint8_t olen = opt[i + 1];
		if (olen < 2 || i + olen > len)
			return 0;
		i += olen;
	}
	return 1;
}

/*
 * Check an IPv4 header at IP with AVAIL bytes after it. On success returns
 * the header length and sets *TOT to the total length.
 */
static int
ip_header_ok(const uint8_t *ip, uint32_t avail, uint16_t *tot)
{
	if (avail < IP4_HLEN)
		return -1;
	if ((ip[IP4_VHL] >> 4) != 4)
		return -1;
	unsigned ihl = (ip[IP4_VHL] & 0x0f) * 4u;
	if (ihl < IP4_HLEN || ihl > avail)
		return -1;
	uint16_t t = rd16(ip + IP4_TOTLEN);
	if (t < ihl || t > avail)
		return -1;
	if (ihl > IP4_HLEN && !ip_options_ok(ip + IP4_HLEN, ihl - IP4_HLEN))
		return -1;
	*tot = t;
	return (int)ihl;
}

/*
 * The virtio-net header of a parsed packet P: see pkt.h for what is
 * refused. Fields are in host order (legacy virtio on a little-endian
 * host, as the TAP and AF_PACKET use without TUNSETVNETLE).
 */
static enum stat_id
pkt_parse_vnet(struct pkt *p, unsigned tcp_doff)
{
	const struct virtio_net_hdr *h = pkt_vnet(p);
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint8_t want = p->af == AF_INET6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;

	p->csum = PKT_CSUM_FULL;
	p->gso_size = 0;
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return STAT_DROP_MALFORMED;
	if (h->hdr_len > p->len)
		return STAT_DROP_MALFORMED;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint16_t at = p->proto == IPPROTO_TCP ? 16 : p->proto == IPPROTO_UDP ? 6 : 0;
		if (at == 0 || h->csum_start != p->l4off || h->csum_offset != at)
			return STAT_DROP_MALFORMED;
		p->csum = PKT_CSUM_PARTIAL;
	}
	if (gso == VIRTIO_NET_HDR_GSO_NONE) {
		if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return STAT_DROP_MALFORMED;
		return STAT_NONE;
	}
	if (gso != want || p->proto != IPPROTO_TCP ||
	    p->csum != PKT_CSUM_PARTIAL || h->gso_size == 0)
		return STAT_DROP_MALFORMED;
	/* One segment or more; a super-frame of one is still cut as one. */
	if (p->l4len <= tcp_doff)
		return STAT_DROP_MALFORMED;
	/* A segment's headers must fit where tunnel.c cuts them. */
	if (p->l4off - p->l3off + tcp_doff > PKT_GSO_SEG_HDR)
		return STAT_DROP_MALFORMED;
	p->gso_size = h->gso_size;
	return STAT_NONE;
}

enum stat_id
pkt_parse_l4(struct pkt *p)
{
	const uint8_t *l4 = p->data + p->l4off;
	unsigned doff = 0;

	switch (p->proto) {
	case IPPROTO_TCP: {
		if (p->l4len < 20)
			return STAT_DROP_MALFORMED;
		doff = (l4[12] >> 4) * 4u;
		if (doff < 20 || doff > p->l4len)
			return STAT_DROP_MALFORMED;
		p->tcpflags = l4[13] & (TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_PSH | TCPF_ACK);
		memcpy(&p->sport, l4, 2);
		memcpy(&p->dport, l4 + 2, 2);
		break;
	}
	case IPPROTO_UDP: {
		if (p->l4len < 8)
			return STAT_DROP_MALFORMED;
		uint16_t ulen = rd16(l4 + 4);
		if (ulen < 8 || ulen > p->l4len)
			return STAT_DROP_MALFORMED;
		memcpy(&p->sport, l4, 2);
		memcpy(&p->dport, l4 + 2, 2);
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* Type, code, checksum and the four bytes every message has. */
		if (p->proto != p->ops->icmp_proto || p->l4len < 8)
			return p->proto != p->ops->icmp_proto ? STAT_DROP_UNEXPECTED :
			    STAT_DROP_MALFORMED;
		p->sport = 0;
		p->dport = 0;
		break;
	default:
		return STAT_DROP_UNEXPECTED;
	}
	return pkt_parse_vnet(p, doff);
}

/* ICMP (RFC 792) types: what they are to the director. */
static uint8_t
icmp4_class(uint8_t type)
{
	switch (type) {
	case ICMP_ECHO:
		return PKT_ICMP_ECHO;
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return PKT_ICMP_ERROR;
	default:
		return PKT_ICMP_OTHER;
	}
}

static enum stat_id
pkt_parse4(struct pkt *p, uint32_t len)
{
	const uint8_t *ip = p->data + ETH_HLEN_;
	uint16_t tot;
	int ihl = ip_header_ok(ip, len - ETH_HLEN_, &tot);
	enum stat_id r;

	if (ihl < 0)
		return STAT_DROP_MALFORMED;
	/* A header that the kernel would have refused is not forwarded. */
	if (csum_ip(ip, (unsigned)ihl) != 0)
		return STAT_DROP_MALFORMED;
	/* Ethernet padding and trailing garbage after the datagram go. */
	p->len = ETH_HLEN_ + tot;

	uint16_t frag = rd16(ip + IP4_FRAG);
	if (frag & 0x8000)                 /* reserved bit */
		return STAT_DROP_MALFORMED;
	if (frag & 0x3fff)                 /* MF or a fragment offset */
		return STAT_DROP_FRAGMENT;

	p->af = AF_INET;
	p->ops = &pkt_ops4;
	p->df = (ip[IP4_FRAG] & IP4_DF) != 0;
	p->l3off = ETH_HLEN_;
	p->l4off = (uint16_t)(ETH_HLEN_ + ihl);
	p->l4len = (uint16_t)(tot - ihl);
	p->proto = ip[IP4_PROTO];
	p->saddr = addr_from_ip(0);
	p->daddr = addr_from_ip(0);
	memcpy(&p->saddr.ip, ip + IP4_SADDR, 4);
	memcpy(&p->daddr.ip, ip + IP4_DADDR, 4);
	if ((r = pkt_parse_l4(p)) != STAT_NONE)
		return r;
	if (p->proto == IPPROTO_ICMP)
		p->icmp = icmp4_class(p->data[p->l4off]);
	return STAT_NONE;
}

enum stat_id
pkt_parse(struct pkt *p, uint8_t *buf, uint32_t len)
{
	p->buf = buf;
	p->data = buf + PKT_VNET_LEN;
	p->len = len;
	p->tcpflags = 0;
	p->af = 0;
	p->icmp = PKT_ICMP_OTHER;
	p->csum = PKT_CSUM_FULL;
	p->gso_size = 0;

	if (len < ETH_HLEN_)
		return STAT_DROP_MALFORMED;
	p->ethtype = rd16(p->data + 12);
	switch (p->ethtype) {
	case ETHTYPE_ARP:
		return STAT_NONE;
	case ETHTYPE_IPV4:
		return pkt_parse4(p, len);
	case ETHTYPE_IPV6:
		return pkt_parse6(p, len);
	default:
		return STAT_DROP_UNEXPECTED;
	}
}

static int
parse_quoted4(const struct pkt *p, struct pkt_quoted *q)
{
	/* The quoted datagram follows the ICMP header. */
	uint32_t off = p->l4off + ICMP_HLEN_;
	uint32_t avail = p->len > off ? p->len - off : 0;
	const uint8_t *ip = p->data + off;

	if (avail < IP4_HLEN || (ip[IP4_VHL] >> 4) != 4)
		return -1;
	unsigned ihl = (ip[IP4_VHL] & 0x0f) * 4u;
	/* The quoted total length may exceed what was quoted: not checked. */
	if (ihl < IP4_HLEN || ihl + 8 > avail)
		return -1;
	if (rd16(ip + IP4_FRAG) & 0x1fff)       /* not the first fragment: no ports */
		return -1;
	q->proto = ip[IP4_PROTO];
	q->off = (uint16_t)off;
	q->l4off = (uint16_t)(off + ihl);
	q->saddr = addr_from_ip(0);
	q->daddr = addr_from_ip(0);
	memcpy(&q->saddr.ip, ip + IP4_SADDR, 4);
	memcpy(&q->daddr.ip, ip + IP4_DADDR, 4);
	memcpy(&q->sport, ip + ihl, 2);
	memcpy(&q->dport, ip + ihl + 2, 2);
	return 0;
}

uint32_t
csum_partial(const void *data, uint32_t len, uint32_t sum)
{
	const uint8_t *b = data;
	uint64_t s = 0, w0, w1, w2, w3;
	uint32_t w32;
	uint16_t w16;

	/*
	 * The one's-complement sum does not depend on byte order (RFC 1071
	 * 2.(B)): 64-bit words are summed as the machine loads them, each
	 * carry out added back in (end-around carry), folded to 16 bits and
	 * turned into network order once at the end. A third of the
	 * instructions of 4 bytes at a time through ntohl (bench/segcost
	 * under callgrind).
	 */
	while (len >= 32) {
		memcpy(&w0, b, 8);
		memcpy(&w1, b + 8, 8);
		memcpy(&w2, b + 16, 8);
		memcpy(&w3, b + 24, 8);
		s += w0;
		s += s < w0;
		s += w1;
		s += s < w1;
		s += w2;
		s += s < w2;
		s += w3;
		s += s < w3;
		b += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w0, b, 8);
		s += w0;
		s += s < w0;
		b += 8;
		len -= 8;
	}
	/* At most 7 bytes left: 32-bit halves, no carry out of 64 bits. */
	s = (s & 0xffffffffu) + (s >> 32);
	if (len >= 4) {
		memcpy(&w32, b, 4);
		s += w32;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, b, 2);
		s += w16;
		b += 2;
		len -= 2;
	}
	if (len) {
		/* The odd byte is the first (high, in network order) of a word padded with zero. */
		w16 = 0;
		memcpy(&w16, b, 1);
		s += w16;
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	/* In the sums' convention: network-order words read as numbers, added to SUM. */
	s = (uint64_t)sum + ntohs((uint16_t)s);
	return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

uint16_t
csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

uint16_t
csum_ip(const void *iph, unsigned ihl)
{
	return csum_fold(csum_partial(iph, ihl, 0));
}

/* Sums are kept in host order over network-order words read as numbers. */
void
csum_replace2(uint16_t *check, uint16_t from, uint16_t to)
{
	uint32_t s = (uint16_t)~ntohs(*check);

	s += (uint16_t)~ntohs(from);
	s += ntohs(to);
	*check = csum_fold(s);
}

void
csum_replace4(uint16_t *check, uint32_t from, uint32_t to)
{
	uint32_t f = ntohl(from), t = ntohl(to);
	uint32_t s = (uint16_t)~ntohs(*check);

	s += (uint16_t)~(f >> 16);
	s += (uint16_t)~(f & 0xffff);
	s += t >> 16;
	s += t & 0xffff;
	*check = csum_fold(s);
}

void
csum_replace4_pseudo(uint16_t *check, uint32_t from, uint32_t to)
{
	uint32_t f = ntohl(from), t = ntohl(to);
	uint32_t s = ntohs(*check);

	s += (uint16_t)~(f >> 16);
	s += (uint16_t)~(f & 0xffff);
	s += t >> 16;
	s += t & 0xffff;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*check = htons((uint16_t)s);
}

/*
 * The TCP/UDP checksum field of P; NULL for UDP sent without one (IPv4
 * only, or ICMP). A partial UDP checksum is always there, whatever its
 * value.
 */
uint16_t *
pkt_l4_check(struct pkt *p)
{
	uint8_t *l4 = p->data + p->l4off;
	uint16_t *c;

	if (p->proto == IPPROTO_TCP)
		return (uint16_t *)(l4 + 16);
	if (p->proto != IPPROTO_UDP)
		return NULL;
	c = (uint16_t *)(l4 + 6);
	return *c != 0 || p->csum == PKT_CSUM_PARTIAL ? c : NULL;
}

void
pkt_l4_done(const struct pkt *p, uint16_t *c)
{
	if (p->proto == IPPROTO_UDP && *c == 0)
		*c = 0xffff;
}

/* IPv4: the header checksum and the pseudo-header's. */
static void
set_addr4(struct pkt *p, int dst, const union vsr_addr *a)
{
	uint8_t *ip = p->data + p->l3off;
	uint32_t *field = dst ? &p->daddr.ip : &p->saddr.ip, addr = a->ip;
	uint16_t *c = pkt_l4_check(p);

	csum_replace4((uint16_t *)(ip + IP4_CSUM), *field, addr);
	if (c != NULL && p->csum == PKT_CSUM_PARTIAL) {
		csum_replace4_pseudo(c, *field, addr);
	} else if (c != NULL) {
		csum_replace4(c, *field, addr);
		pkt_l4_done(p, c);
	}
	memcpy(ip + (dst ? IP4_DADDR : IP4_SADDR), &addr, 4);
	*field = addr;
}

static void
pkt_set_port(struct pkt *p, unsigned at, uint16_t *field, uint16_t port)
{
	uint16_t *c = pkt_l4_check(p);

	/* Ports are not in a pseudo-header sum: nothing to do if partial. */
	if (c != NULL && p->csum != PKT_CSUM_PARTIAL) {
		csum_replace2(c, *field, port);
		pkt_l4_done(p, c);
	}
	memcpy(p->data + p->l4off + at, &port, 2);
	*field = port;
}

void
pkt_set_sport(struct pkt *p, uint16_t port)
{
	pkt_set_port(p, 0, &p->sport, port);
}

void
pkt_set_dport(struct pkt *p, uint16_t port)
{
	pkt_set_port(p, 2, &p->dport, port);
}

void
pkt_csum_finish(struct pkt *p)
{
	struct virtio_net_hdr *h = pkt_vnet(p);
	uint8_t *l4 = p->data + p->l4off;
	uint16_t *c = (uint16_t *)(l4 + h->csum_offset);
	uint16_t v;

	v = csum_fold(csum_partial(l4, p->len - p->l4off, 0));
	if (v == 0 && p->proto == IPPROTO_UDP)
		v = 0xffff;
	*c = v;
	h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
	p->csum = PKT_CSUM_FULL;
}

/* 32-bit field at AT: replaced, the checksum at CHECK (if any) updated. */
static void
put32(uint8_t *at, uint16_t *check, uint32_t v)
{
	uint32_t old;

	memcpy(&old, at, 4);
	if (check != NULL)
		csum_replace4(check, old, v);
	memcpy(at, &v, 4);
}

static void
put16(uint8_t *at, uint16_t *check, uint16_t v)
{
	uint16_t old;

	memcpy(&old, at, 2);
	if (check != NULL)
		csum_replace2(check, old, v);
	memcpy(at, &v, 2);
}

/* pkt_icmp_nat for IPv4 (pkt.h). */
static void
icmp_nat4(struct pkt *p, const union vsr_addr *osrc, const union vsr_addr *odst,
    const union vsr_addr *qsrc, uint16_t qsport, const union vsr_addr *qdst, uint16_t qdport)
{
	uint8_t *ip = p->data + p->l3off, *icmp = p->data + p->l4off;
	uint8_t *qip = icmp + ICMP_HLEN_;
	unsigned qihl = (qip[IP4_VHL] & 0x0f) * 4u;
	uint32_t have = p->len - p->l4off - ICMP_HLEN_;
	uint8_t *ql4 = qip + qihl;
	uint16_t *qcheck = NULL, zero = 0, c;

	put32(ip + IP4_SADDR, (uint16_t *)(ip + IP4_CSUM), osrc->ip);
	put32(ip + IP4_DADDR, (uint16_t *)(ip + IP4_CSUM), odst->ip);
	p->saddr = *osrc;
	p->daddr = *odst;

	if (qip[IP4_PROTO] == IPPROTO_TCP && have >= qihl + 18)
		qcheck = (uint16_t *)(ql4 + 16);
	else if (qip[IP4_PROTO] == IPPROTO_UDP && have >= qihl + 8 && memcmp(ql4 + 6, &zero, 2) != 0)
		qcheck = (uint16_t *)(ql4 + 6);
	put32(qip + IP4_SADDR, qcheck, qsrc->ip);
	put32(qip + IP4_DADDR, qcheck, qdst->ip);
	put16(ql4, qcheck, qsport);
	put16(ql4 + 2, qcheck, qdport);
	if (qcheck != NULL && qip[IP4_PROTO] == IPPROTO_UDP && *qcheck == 0)
		*qcheck = 0xffff;
	memset(qip + IP4_CSUM, 0, 2);
	c = csum_ip(qip, qihl);
	memcpy(qip + IP4_CSUM, &c, 2);
	memset(icmp + 2, 0, 2);
	c = csum_fold(csum_partial(icmp, p->l4len, 0));
	memcpy(icmp + 2, &c, 2);
}

/* An echo request turned around in place: addresses swapped, TTL 64, type echo reply. */
static void
echo_reply4(struct pkt *p)
{
	uint8_t *ip = p->data + p->l3off, *icmp = p->data + p->l4off;
	uint16_t *ipsum = (uint16_t *)(ip + IP4_CSUM), *icsum = (uint16_t *)(icmp + 2);
	union vsr_addr a = p->saddr;
	uint16_t old, new;

	memcpy(ip + IP4_SADDR, &p->daddr.ip, 4);
	memcpy(ip + IP4_DADDR, &p->saddr.ip, 4);
	p->saddr = p->daddr;
	p->daddr = a;
	/* TTL 64 (shares a 16-bit word with the protocol). */
	memcpy(&old, ip + IP4_TTL, 2);
	ip[IP4_TTL] = 64;
	memcpy(&new, ip + IP4_TTL, 2);
	csum_replace2(ipsum, old, new);
	/* Type 8 -> 0 (shares a word with the code). */
	memcpy(&old, icmp, 2);
	icmp[0] = ICMP_ECHOREPLY;
	memcpy(&new, icmp, 2);
	csum_replace2(icsum, old, new);
	/*
	 * An all-zero reply (identifier, sequence and data 0) sums to +0,
	 * which only a checksum of 0xffff makes right; 0xffff is right
	 * wherever 0 is (ICMP has no pseudo-header to make the sum non-zero).
	 */
	if (*icsum == 0)
		*icsum = 0xffff;
}

/* ICMP destination unreachable, fragmentation needed, quoting P's header and 8 bytes. */
static uint32_t
too_big4(const struct pkt *p, unsigned mtu, uint8_t *ip)
{
	const uint8_t *in = p->data + p->l3off;
	unsigned qlen = (unsigned)(in[IP4_VHL] & 0x0f) * 4 + 8;
	uint8_t *icmp = ip + IP4_HLEN;
	uint16_t v;

	if (qlen > p->len - p->l3off)
		qlen = p->len - p->l3off;
	memset(ip, 0, IP4_HLEN + ICMP_HLEN_);
	ip[IP4_VHL] = 0x45;
	ip[IP4_TOS] = 0xc0;             /* internetwork control, as the kernel's ICMP errors */
	v = htons((uint16_t)(IP4_HLEN + ICMP_HLEN_ + qlen));
	memcpy(ip + IP4_TOTLEN, &v, 2);
	ip[IP4_TTL] = 64;
	ip[IP4_PROTO] = IPPROTO_ICMP;
	memcpy(ip + IP4_SADDR, &p->daddr.ip, 4);   /* the VIP */
	memcpy(ip + IP4_DADDR, &p->saddr.ip, 4);   /* the client */
	v = csum_ip(ip, IP4_HLEN);
	memcpy(ip + IP4_CSUM, &v, 2);
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	v = htons((uint16_t)mtu);       /* next-hop MTU, RFC 1191 */
	memcpy(icmp + 6, &v, 2);
	memcpy(icmp + ICMP_HLEN_, in, qlen);
	v = csum_fold(csum_partial(icmp, ICMP_HLEN_ + qlen, 0));
	memcpy(icmp + 2, &v, 2);
	return IP4_HLEN + ICMP_HLEN_ + qlen;
}

void
pkt_gso_lens(const struct pkt *p, unsigned *doff, uint32_t *payload)
{
	*doff = (p->data[p->l4off + 12] >> 4) * 4u;
	*payload = p->l4len - *doff;
}

unsigned
pkt_gso_count(const struct pkt *p)
{
	unsigned doff;
	uint32_t pay;

	pkt_gso_lens(p, &doff, &pay);
	return (unsigned)((pay + p->gso_size - 1) / p->gso_size);
}

void
pkt_gso_tcp_fix(const struct pkt *p, unsigned i, uint8_t *tcp, uint32_t off)
{
	unsigned last = pkt_gso_count(p) - 1;
	uint32_t seq;

	memcpy(&seq, tcp + 4, 4);
	seq = htonl(ntohl(seq) + off);
	memcpy(tcp + 4, &seq, 4);
	if (i != last)
		tcp[13] &= (uint8_t)~(TCPF_FIN | TCPF_PSH);
	if (i != 0)
		tcp[13] &= (uint8_t)~TCPF_CWR_;
	memset(tcp + 16, 0, 2);
}

static uint32_t
gso_segment4(const struct pkt *p, unsigned i, uint8_t *hdr, const uint8_t **payload,
    uint32_t *plen)
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
	v = htons((uint16_t)(ihl + doff + n));
	memcpy(hdr + IP4_TOTLEN, &v, 2);
	v = htons((uint16_t)(rd16(ip + IP4_ID) + i));
	memcpy(hdr + IP4_ID, &v, 2);
	memset(hdr + IP4_CSUM, 0, 2);
	v = csum_ip(hdr, ihl);
	memcpy(hdr + IP4_CSUM, &v, 2);

	memcpy(tcp, th, doff);
	pkt_gso_tcp_fix(p, i, tcp, off);
	/* Pseudo-header (RFC 793): addresses, protocol, TCP length. */
	sum = csum_partial(ip + IP4_SADDR, 8, IPPROTO_TCP + doff + n);
	sum = csum_partial(tcp, doff, sum);
	sum = csum_partial(*payload, n, sum);
	v = csum_fold(sum);
	memcpy(tcp + 16, &v, 2);
	return ihl + doff;
}

const struct pkt_ops pkt_ops4 = {
	.af           = AF_INET,
	.icmp_proto   = IPPROTO_ICMP,
	.set_addr     = set_addr4,
	.parse_quoted = parse_quoted4,
	.icmp_nat     = icmp_nat4,
	.echo_reply   = echo_reply4,
	.too_big      = too_big4,
	.gso_segment  = gso_segment4,
};

void
pkt_arp_fill(struct pkt_arp *f, uint16_t op, const uint8_t *dst, const uint8_t *sha,
    uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	memcpy(f->dst, dst, 6);
	memcpy(f->src, sha, 6);
	f->ethtype = htons(ETH_P_ARP);
	f->htype = htons(ARPHRD_ETHER);
	f->ptype = htons(ETH_P_IP);
	f->hlen = 6;
	f->plen = 4;
	f->op = htons(op);
	memcpy(f->sha, sha, 6);
	memcpy(f->spa, &spa, 4);
	memcpy(f->tha, tha, 6);
	memcpy(f->tpa, &tpa, 4);
}

int
pkt_arp_valid(const struct pkt_arp *f, uint32_t len)
{
	return len >= sizeof(*f) && f->htype == htons(ARPHRD_ETHER) &&
	    f->ptype == htons(ETH_P_IP) && f->hlen == 6 && f->plen == 4;
}
