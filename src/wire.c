/* wire.c - the frame layer under both families: virtio-net header, transport checks, checksums */
#include <arpa/inet.h>
#include <string.h>

#include "wire.h"


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

	if (p->frag != PKT_FRAG_NONE) {
		const struct virtio_net_hdr *h = pkt_vnet(p);
		if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
			return STAT_DROP_FRAGMENT;
		if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			return STAT_DROP_FRAG_MALFORMED;
		if (p->frag == PKT_FRAG_LATER) {
			p->sport = 0;
			p->dport = 0;
			return STAT_NONE;
		}
		/* The transport header whole in the first one (RFC 1858). */
		if (p->l4len < (p->proto == IPPROTO_TCP ? 20u : 8u) ||
		    (p->proto == IPPROTO_TCP && (l4[12] >> 4) * 4u > p->l4len))
			return STAT_DROP_FRAG_MALFORMED;
	}
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
		/* A first fragment's UDP length is the whole datagram's. */
		if (ulen < 8 || (ulen > p->l4len && p->frag == PKT_FRAG_NONE))
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

	if (p->frag == PKT_FRAG_LATER)
		return NULL;            /* the checksum is in the first fragment */
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

static void
pkt_set_port(struct pkt *p, unsigned at, uint16_t *field, uint16_t port)
{
	uint16_t *c = pkt_l4_check(p);

	if (p->frag == PKT_FRAG_LATER) {
		*field = port;          /* no transport header here */
		return;
	}
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

int
tcp_opt_next(const uint8_t *opt, unsigned len, unsigned *at)
{
	unsigned i = *at;

	while (i < len && opt[i] == TCPOPT_NOP_)
		i++;
	if (i >= len || opt[i] == TCPOPT_EOL_ || i + 1 >= len ||
	    opt[i + 1] < 2 || opt[i + 1] > len - i) {
		*at = len;
		return -1;
	}
	*at = i + opt[i + 1];
	return (int)i;
}
