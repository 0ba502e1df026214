/* fzframe.h - the packet harnesses' checksums, from scratch: tests/unit/frame.h's RFC 1071 sums over a parsed frame */
#ifndef VSR_FZFRAME_H
#define VSR_FZFRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "packet.h"

/*
 * What a sender's stack would have put in a frame, so that the packet
 * path's own incremental updates can be held to a checksum computed from
 * scratch afterwards: nothing here comes from pkt.c but the offsets of
 * the parse.
 */

static inline bool
fz_v6(const struct pkt *p)
{
	return p->af == AF_INET6;
}

static inline uint8_t *
fz_ip(const struct pkt *p)
{
	return p->data + p->l3off;
}

/* The transport checksum field's offset in its header, or 0 for none. */
static inline unsigned
fz_csum_at(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 :
	    proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ? 2 : 0;
}

/* The pseudo-header sum of P's transport of LEN bytes, folded, not complemented (frame.h). */
static inline uint16_t
fz_pseudo(const struct pkt *p, uint32_t len)
{
	if (p->proto == IPPROTO_ICMP)
		return 0;
	return fz_v6(p) ? frame_pseudo6(fz_ip(p), p->proto, len) :
	    frame_pseudo(fz_ip(p), p->proto, len);
}

/* P's transport checksum verifies from scratch (an IPv4 UDP 0: none, fine). */
static inline bool
fz_l4_ok(const struct pkt *p)
{
	const uint8_t *l4 = p->data + p->l4off;

	if (p->proto == IPPROTO_UDP && !fz_v6(p) && frame_rd16(l4 + 6) == 0)
		return true;
	return frame_sum(l4, p->l4len, fz_pseudo(p, p->l4len)) == 0xffff;
}

/* An IPv4 header in the frame at F of LEN bytes gets its right checksum, before parsing. */
static inline void
fz_fix_ip4(uint8_t *f, uint32_t len)
{
	uint8_t *ip = f + ETH_HLEN_;
	unsigned ihl;

	if (len < ETH_HLEN_ + IP4_HLEN || frame_rd16(f + 12) != ETHTYPE_IPV4)
		return;
	ihl = (ip[0] & 0x0fu) * 4u;
	if (ihl < IP4_HLEN || ihl > len - ETH_HLEN_)
		return;
	frame_wr16(ip + IP4_CSUM, 0);
	frame_wr16(ip + IP4_CSUM, (uint16_t)~frame_sum(ip, ihl, 0));
}

/* Make P's checksums valid, as a sender's stack would have: full, or the pseudo sum if partial. */
static inline void
fz_fix(struct pkt *p, bool keep_udp0)
{
	uint8_t *l4 = p->data + p->l4off;
	unsigned at = fz_csum_at(p->proto);

	if (!fz_v6(p)) {
		uint8_t *ip = fz_ip(p);
		frame_wr16(ip + 10, 0);
		frame_wr16(ip + 10, (uint16_t)~frame_sum(ip, (ip[0] & 0x0fu) * 4u, 0));
	}
	if (at == 0 || p->l4len < at + 2)
		return;
	if (p->csum == PKT_CSUM_PARTIAL) {
		frame_wr16(l4 + at, fz_pseudo(p, p->l4len));
		return;
	}
	if (keep_udp0 && p->proto == IPPROTO_UDP && !fz_v6(p) && frame_rd16(l4 + 6) == 0)
		return;
	frame_wr16(l4 + at, 0);
	uint16_t c = (uint16_t)~frame_sum(l4, p->l4len, fz_pseudo(p, p->l4len));
	if (c == 0 && p->proto == IPPROTO_UDP)
		c = 0xffff;
	frame_wr16(l4 + at, c);
}

#endif
