/* frame.h - hand-made frames for the unit tests, and checksums written from the RFCs alone */
#ifndef VSR_FRAME_H
#define VSR_FRAME_H

#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/*
 * A frame as the TAP hands it over: a virtio-net header (zeroes unless a
 * GSO super-frame is asked for), Ethernet, IPv4 without options (or, with
 * V6 set, IPv6 without extension headers, from SADDR6 to DADDR6), then
 * TCP (20-byte header), UDP or ICMP (ICMPv6), and PLEN bytes of payload.
 * Addresses in network order, ports in host order. Checksums complete; a
 * super-frame (GSO_SIZE != 0, TCP only) carries NEEDS_CSUM and, in the
 * TCP checksum field, the pseudo-header sum, as the kernel hands it over.
 */
struct frame_spec {
	const uint8_t *dst, *src;     /* MACs */
	uint32_t       saddr, daddr;
	int            v6;
	uint8_t        saddr6[16], daddr6[16];
	uint8_t        proto;
	uint16_t       sport, dport;  /* TCP, UDP */
	uint8_t        tcpflags;
	uint8_t        icmp_type, icmp_code;
	const uint8_t *payload;       /* NULL: bytes 0, 1, 2, ... */
	uint32_t       plen;
	uint16_t       gso_size;
	int            df;
	uint16_t       ip_id;
};

#define FRAME_VNET ((uint32_t)sizeof(struct virtio_net_hdr))

static inline uint16_t
frame_rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline void
frame_wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* One's-complement sum of 16-bit big-endian words (an odd byte padded), folded (RFC 1071). */
static inline uint16_t
frame_sum(const uint8_t *b, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i += 2)
		acc += (uint32_t)b[i] << 8 | (i + 1 < n ? b[i + 1] : 0);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The TCP/UDP pseudo-header sum (RFC 793, RFC 768), folded, not complemented. */
static inline uint16_t
frame_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	return frame_sum(ip + 12, 8, (uint32_t)proto + l4len);
}

/* IPv6's (RFC 8200 8.1): both addresses, the length, the next header. */
static inline uint16_t
frame_pseudo6(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	return frame_sum(ip + 8, 32, (uint32_t)proto + (l4len >> 16) + (l4len & 0xffff));
}

/* The TCP, UDP or ICMPv6 checksum of the IPv6 packet at IP (no extension header) verifies. */
static inline int
frame_l4_ok6(const uint8_t *ip)
{
	uint32_t l4len = frame_rd16(ip + 4);

	return frame_sum(ip + 40, l4len, frame_pseudo6(ip, ip[6], l4len)) == 0xffff;
}

/* IP header at IP: its checksum verifies. */
static inline int
frame_ip_ok(const uint8_t *ip)
{
	return frame_sum(ip, (ip[0] & 0x0fu) * 4u, 0) == 0xffff;
}

/* The TCP, UDP or ICMP checksum of the IPv4 packet at IP verifies (a UDP 0 counts as none). */
static inline int
frame_l4_ok(const uint8_t *ip)
{
	unsigned ihl = (ip[0] & 0x0fu) * 4u;
	uint32_t l4len = frame_rd16(ip + 2) - ihl;
	const uint8_t *l4 = ip + ihl;

	if (ip[9] == IPPROTO_ICMP)
		return frame_sum(l4, l4len, 0) == 0xffff;
	if (ip[9] == IPPROTO_UDP && frame_rd16(l4 + 6) == 0)
		return 1;
	return frame_sum(l4, l4len, frame_pseudo(ip, ip[9], l4len)) == 0xffff;
}

/* Build F at BUF (virtio-net header first); returns the frame's length after the header. */
static inline uint32_t
frame_build(uint8_t *buf, const struct frame_spec *f)
{
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	unsigned iphl = f->v6 ? 40 : 20;
	uint8_t *eth = buf + FRAME_VNET, *ip = eth + 14, *l4 = ip + iphl, *pay;
	uint32_t hl = f->proto == IPPROTO_TCP ? 20 : 8, l4len = hl + f->plen;

	memset(buf, 0, FRAME_VNET + 14 + iphl + hl);
	memcpy(eth, f->dst, 6);
	memcpy(eth + 6, f->src, 6);
	if (f->v6) {
		frame_wr16(eth + 12, 0x86dd);
		ip[0] = 0x60;
		frame_wr16(ip + 4, (uint16_t)l4len);
		ip[6] = f->proto;
		ip[7] = 64;
		memcpy(ip + 8, f->saddr6, 16);
		memcpy(ip + 24, f->daddr6, 16);
	} else {
		frame_wr16(eth + 12, 0x0800);
		ip[0] = 0x45;
		frame_wr16(ip + 2, (uint16_t)(20 + l4len));
		frame_wr16(ip + 4, f->ip_id);
		ip[6] = f->df ? 0x40 : 0;
		ip[8] = 64;
		ip[9] = f->proto;
		memcpy(ip + 12, &f->saddr, 4);
		memcpy(ip + 16, &f->daddr, 4);
		frame_wr16(ip + 10, (uint16_t)~frame_sum(ip, 20, 0));
	}
	pay = l4 + hl;
	for (uint32_t i = 0; i < f->plen; i++)
		pay[i] = f->payload ? f->payload[i] : (uint8_t)i;
	switch (f->proto) {
	case IPPROTO_TCP:
		frame_wr16(l4, f->sport);
		frame_wr16(l4 + 2, f->dport);
		l4[4] = 0x10;           /* sequence 0x10000000 */
		l4[12] = 5 << 4;
		l4[13] = f->tcpflags;
		frame_wr16(l4 + 14, 65535);
		break;
	case IPPROTO_UDP:
		frame_wr16(l4, f->sport);
		frame_wr16(l4 + 2, f->dport);
		frame_wr16(l4 + 4, (uint16_t)l4len);
		break;
	default:                        /* ICMP, ICMPv6 */
		l4[0] = f->icmp_type;
		l4[1] = f->icmp_code;
		break;
	}
	uint16_t ps = f->v6 ? frame_pseudo6(ip, f->proto, l4len) : frame_pseudo(ip, f->proto, l4len);
	if (f->gso_size) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->gso_type = f->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = f->gso_size;
		h->hdr_len = (uint16_t)(14 + iphl + hl);
		h->csum_start = (uint16_t)(14 + iphl);
		h->csum_offset = 16;
		frame_wr16(l4 + 16, ps);
	} else {
		uint16_t at = f->proto == IPPROTO_TCP ? 16 : f->proto == IPPROTO_UDP ? 6 : 2;
		uint16_t c = (uint16_t)~frame_sum(l4, l4len, f->proto == IPPROTO_ICMP ? 0 : ps);
		if (c == 0 && f->proto == IPPROTO_UDP)
			c = 0xffff;
		frame_wr16(l4 + at, c);
	}
	return 14 + iphl + l4len;
}

#endif
