/* test_pkt6.c - IPv6 frames: the extension-header chain, checksums, ICMPv6, ND, GSO */
#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <netinet/icmp6.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "frame.h"
#include "packet.h"
#include "stats.h"
#include "unit.h"

/* ---- reference checksums, from RFC 1071 (frame_sum, frame.h) and RFC 8200 8.1 alone ---- */

/* The pseudo-header of RFC 8200 8.1: source, destination, length (32 bits), next header. */
static uint16_t
ref_pseudo(const uint8_t *ip, uint32_t len, uint8_t nxt)
{
	uint8_t ph[40];

	memcpy(ph, ip + 8, 32);
	ph[32] = (uint8_t)(len >> 24);
	ph[33] = (uint8_t)(len >> 16);
	ph[34] = (uint8_t)(len >> 8);
	ph[35] = (uint8_t)len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = nxt;
	return frame_sum(ph, 40, 0);
}

/* The transport message of LEN bytes at L4, its checksum included, verifies. */
static int
ref_ok(const uint8_t *ip, const uint8_t *l4, uint32_t len, uint8_t nxt)
{
	return frame_sum(l4, len, ref_pseudo(ip, len, nxt)) == 0xffff;
}

/* ---- frames ---- */

static uint8_t buf[PKT_VNET_LEN + 65536 + 64] __attribute__((aligned(16)));
#define FRAME (buf + PKT_VNET_LEN)
#define IPH   (FRAME + 14)

static const uint8_t CLIENT6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xc0, [15] = 0x01 };
static const uint8_t VIP6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x01, [15] = 0x00 };

/*
 * An extension header to put before the transport one: its type, its
 * length in bytes (a multiple of 8; fragment: 8), and for routing its
 * segments left, for fragment its offset field.
 */
struct ext {
	uint8_t  type;
	uint16_t len;
	uint16_t arg;
};

/*
 * Build a valid IPv6 frame in FRAME: CLIENT6 -> VIP6, the extension
 * headers EXT (N of them), then PROTO (TCP, UDP, ICMPv6 echo) with
 * PAYLOAD bytes. Returns the frame length.
 */
static uint32_t
build6(uint8_t proto, unsigned payload, const struct ext *ext, unsigned n)
{
	uint8_t *ip = IPH, *h = ip + 40, *l4;
	uint8_t *nxt = ip + 6;
	uint32_t l4len = 0;

	memset(buf, 0, sizeof(buf));
	memcpy(FRAME, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x86\xdd", 14);
	ip[0] = 0x60;
	ip[7] = 64;
	memcpy(ip + 8, CLIENT6, 16);
	memcpy(ip + 24, VIP6, 16);
	for (unsigned i = 0; i < n; i++) {
		*nxt = ext[i].type;
		nxt = h;
		if (ext[i].type == IPPROTO_FRAGMENT) {
			frame_wr16(h + 2, ext[i].arg);
			h += 8;
			continue;
		}
		h[1] = (uint8_t)(ext[i].len / 8 - 1);
		if (ext[i].type == IPPROTO_ROUTING)
			h[3] = (uint8_t)ext[i].arg;
		else
			h[2] = 1;               /* a PadN option filling the rest */
		if (ext[i].type != IPPROTO_ROUTING)
			h[3] = (uint8_t)(ext[i].len - 4);
		h += ext[i].len;
	}
	*nxt = proto;
	l4 = h;
	switch (proto) {
	case IPPROTO_TCP:
		l4len = 20 + payload;
		frame_wr16(l4, 40000);
		frame_wr16(l4 + 2, 80);
		frame_wr16(l4 + 4, 0x0102);
		frame_wr16(l4 + 6, 0x0304);
		l4[12] = 5 << 4;
		l4[13] = TCPF_SYN;
		frame_wr16(l4 + 14, 65535);
		break;
	case IPPROTO_UDP:
		l4len = 8 + payload;
		frame_wr16(l4, 5353);
		frame_wr16(l4 + 2, 53);
		frame_wr16(l4 + 4, (uint16_t)l4len);
		break;
	case IPPROTO_ICMPV6:
		l4len = 8 + payload;
		l4[0] = ICMP6_ECHO_REQUEST;
		frame_wr16(l4 + 4, 0x4242);
		frame_wr16(l4 + 6, 1);
		break;
	default:
		l4len = payload;
		break;
	}
	for (unsigned i = 0; i < payload; i++)
		l4[l4len - payload + i] = (uint8_t)(i * 7 + 3);
	frame_wr16(ip + 4, (uint16_t)(h - ip - 40 + l4len));
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMPV6) {
		unsigned at = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
		uint16_t c = (uint16_t)~frame_sum(l4, l4len, ref_pseudo(ip, l4len, proto));
		if (c == 0 && proto == IPPROTO_UDP)
			c = 0xffff;
		frame_wr16(l4 + at, c);
	}
	return (uint32_t)(14 + (l4 - ip) + l4len);
}

/* ---- the parser ---- */

struct parse_case {
	const char   *what;
	uint32_t    (*mut)(void);
	enum stat_id  want;
	uint16_t      l4off;          /* for STAT_NONE: where the transport header is */
};

#define E(t, l, a) { (t), (l), (a) }
#define BUILD(p, pay, ...) \
	__extension__ ({ const struct ext e_[] = { __VA_ARGS__ }; build6((p), (pay), e_, ARRAY_SIZE(e_)); })

static uint32_t f_tcp(void)   { return build6(IPPROTO_TCP, 10, NULL, 0); }
static uint32_t f_udp(void)   { return build6(IPPROTO_UDP, 10, NULL, 0); }
static uint32_t f_icmp(void)  { return build6(IPPROTO_ICMPV6, 56, NULL, 0); }
static uint32_t f_hbh(void)   { return BUILD(IPPROTO_TCP, 10, E(IPPROTO_HOPOPTS, 8, 0)); }
static uint32_t f_chain(void)
{
	/* RFC 8200 4.1's order: hop-by-hop, destination, routing, fragment, destination. */
	return BUILD(IPPROTO_UDP, 10, E(IPPROTO_HOPOPTS, 16, 0), E(IPPROTO_DSTOPTS, 8, 0),
	    E(IPPROTO_ROUTING, 24, 0), E(IPPROTO_FRAGMENT, 8, 0), E(IPPROTO_DSTOPTS, 8, 0));
}
static uint32_t f_atomic(void) { return BUILD(IPPROTO_TCP, 10, E(IPPROTO_FRAGMENT, 8, 0)); }
static uint32_t f_frag_first(void) { return BUILD(IPPROTO_TCP, 10, E(IPPROTO_FRAGMENT, 8, 1)); }
static uint32_t f_frag_later(void) { return BUILD(IPPROTO_TCP, 10, E(IPPROTO_FRAGMENT, 8, 0x0b9 << 3)); }
static uint32_t f_frag_last(void)  { return BUILD(IPPROTO_UDP, 10, E(IPPROTO_FRAGMENT, 8, 8 << 3)); }
static uint32_t f_frag_overlap(void) { return BUILD(IPPROTO_TCP, 10, E(IPPROTO_FRAGMENT, 8, 1 << 3 | 1)); }
static uint32_t f_frag_icmp(void)  { return BUILD(IPPROTO_ICMPV6, 56, E(IPPROTO_FRAGMENT, 8, 1)); }
static uint32_t f_frag_past(void)  { return BUILD(IPPROTO_UDP, 10, E(IPPROTO_FRAGMENT, 8, 0xfff8)); }
static uint32_t
f_frag_dstopts(void)
{
	/* Destination options after the fragment header, in a first fragment: walked. */
	return BUILD(IPPROTO_UDP, 10, E(IPPROTO_FRAGMENT, 8, 1), E(IPPROTO_DSTOPTS, 8, 0));
}
static uint32_t f_frag_twice(void)
{
	return BUILD(IPPROTO_TCP, 10, E(IPPROTO_FRAGMENT, 8, 0), E(IPPROTO_FRAGMENT, 8, 0));
}
static uint32_t f_hbh_second(void)
{
	return BUILD(IPPROTO_TCP, 10, E(IPPROTO_DSTOPTS, 8, 0), E(IPPROTO_HOPOPTS, 8, 0));
}
static uint32_t f_hbh_twice(void)
{
	return BUILD(IPPROTO_TCP, 10, E(IPPROTO_HOPOPTS, 8, 0), E(IPPROTO_HOPOPTS, 8, 0));
}
static uint32_t f_dst3(void)
{
	return BUILD(IPPROTO_TCP, 10, E(IPPROTO_DSTOPTS, 8, 0), E(IPPROTO_DSTOPTS, 8, 0),
	    E(IPPROTO_DSTOPTS, 8, 0));
}
static uint32_t f_rh_twice(void)
{
	return BUILD(IPPROTO_TCP, 10, E(IPPROTO_ROUTING, 8, 0), E(IPPROTO_ROUTING, 8, 0));
}
static uint32_t f_rh_segleft(void) { return BUILD(IPPROTO_TCP, 10, E(IPPROTO_ROUTING, 24, 1)); }
static uint32_t f_many(void)
{
	/* Nine: one over IP6_EXT_MAX, each kind within its own limit is not enough. */
	return BUILD(IPPROTO_TCP, 10, E(IPPROTO_HOPOPTS, 8, 0), E(IPPROTO_DSTOPTS, 8, 0),
	    E(IPPROTO_ROUTING, 8, 0), E(IPPROTO_FRAGMENT, 8, 0), E(IPPROTO_DSTOPTS, 8, 0),
	    E(IPPROTO_DSTOPTS, 8, 0), E(IPPROTO_DSTOPTS, 8, 0), E(IPPROTO_DSTOPTS, 8, 0),
	    E(IPPROTO_DSTOPTS, 8, 0));
}
static uint32_t f_loop(void)
{
	/* A destination header naming itself next, over and over: a "loop" in the chain. */
	uint32_t n = BUILD(IPPROTO_TCP, 10, E(IPPROTO_DSTOPTS, 8, 0), E(IPPROTO_DSTOPTS, 8, 0));
	IPH[40 + 8] = IPPROTO_DSTOPTS;
	return n;
}
static uint32_t f_ext_beyond(void)
{
	/* A header whose length runs past the payload. */
	uint32_t n = BUILD(IPPROTO_TCP, 10, E(IPPROTO_DSTOPTS, 8, 0));
	IPH[40 + 1] = 20;
	return n;
}
static uint32_t f_ext_cut(void)
{
	/* The payload ends inside an extension header. */
	uint32_t n = BUILD(IPPROTO_TCP, 0, E(IPPROTO_DSTOPTS, 8, 0));
	frame_wr16(IPH + 4, 4);
	return n - 24;
}
static uint32_t f_esp(void)     { return BUILD(50, 32, E(IPPROTO_DSTOPTS, 8, 0)); }
static uint32_t f_ah(void)      { return build6(51, 24, NULL, 0); }
static uint32_t f_nonext(void)  { return build6(IPPROTO_NONE, 8, NULL, 0); }
static uint32_t f_unknown(void) { return build6(253, 16, NULL, 0); }
static uint32_t f_icmp4(void)   { return build6(IPPROTO_ICMP, 16, NULL, 0); }
static uint32_t f_sctp(void)    { return build6(132, 32, NULL, 0); }
static uint32_t f_short(void)   { build6(IPPROTO_TCP, 0, NULL, 0); return 14 + 39; }
static uint32_t f_version(void)
{
	uint32_t n = build6(IPPROTO_TCP, 10, NULL, 0);
	IPH[0] = 0x40;
	return n;
}
static uint32_t f_plen0(void)
{
	uint32_t n = build6(IPPROTO_TCP, 10, NULL, 0);
	frame_wr16(IPH + 4, 0);
	return n;
}
static uint32_t f_plen_beyond(void)
{
	uint32_t n = build6(IPPROTO_TCP, 10, NULL, 0);
	frame_wr16(IPH + 4, (uint16_t)(frame_rd16(IPH + 4) + 1));
	return n;
}
static uint32_t f_trailer(void)
{
	uint32_t n = build6(IPPROTO_UDP, 0, NULL, 0);
	memset(FRAME + n, 0xee, 16);
	return n + 16;
}
static uint32_t f_udp_zero(void)
{
	uint32_t n = build6(IPPROTO_UDP, 10, NULL, 0);
	frame_wr16(IPH + 40 + 6, 0);
	return n;
}
static uint32_t f_udp_len(void)
{
	uint32_t n = build6(IPPROTO_UDP, 10, NULL, 0);
	frame_wr16(IPH + 40 + 4, 19);
	return n;
}
static uint32_t f_doff(void)
{
	uint32_t n = build6(IPPROTO_TCP, 8, NULL, 0);
	IPH[40 + 12] = 8 << 4;
	return n;
}
static uint32_t f_icmp_short(void)
{
	uint32_t n = build6(IPPROTO_ICMPV6, 0, NULL, 0);
	frame_wr16(IPH + 4, 7);
	return n - 1;
}

static const struct parse_case parse_cases[] = {
	{ "TCP",                                    f_tcp,         STAT_NONE, 14 + 40 },
	{ "UDP",                                    f_udp,         STAT_NONE, 14 + 40 },
	{ "ICMPv6 echo",                            f_icmp,        STAT_NONE, 14 + 40 },
	{ "hop-by-hop, then TCP",                   f_hbh,         STAT_NONE, 14 + 48 },
	{ "hop-by-hop, destination, routing (no segment left), fragment (atomic), destination",
	                                            f_chain,       STAT_NONE, 14 + 40 + 64 },
	{ "an atomic fragment (RFC 6946)",          f_atomic,      STAT_NONE, 14 + 48 },
	{ "Ethernet padding after the datagram",    f_trailer,     STAT_NONE, 14 + 40 },
	{ "first fragment",                         f_frag_first,  STAT_NONE, 14 + 48 },
	{ "later fragment: its data after the fragment header", f_frag_later, STAT_NONE, 14 + 48 },
	{ "last fragment",                          f_frag_last,   STAT_NONE, 14 + 48 },
	{ "first fragment, destination options after", f_frag_dstopts, STAT_NONE, 14 + 56 },
	{ "TCP fragment at 8 (RFC 1858)",           f_frag_overlap, STAT_DROP_FRAG_OVERLAP, 0 },
	{ "ICMPv6 fragment",                        f_frag_icmp,   STAT_DROP_FRAGMENT, 0 },
	{ "fragment past 64 KiB",                   f_frag_past,   STAT_DROP_FRAG_MALFORMED, 0 },
	{ "two fragment headers",                   f_frag_twice,  STAT_DROP_IPV6_EXT, 0 },
	{ "hop-by-hop not first",                   f_hbh_second,  STAT_DROP_IPV6_EXT, 0 },
	{ "hop-by-hop twice",                       f_hbh_twice,   STAT_DROP_IPV6_EXT, 0 },
	{ "destination options three times",        f_dst3,        STAT_DROP_IPV6_EXT, 0 },
	{ "routing twice",                          f_rh_twice,    STAT_DROP_IPV6_EXT, 0 },
	{ "routing with a segment left",            f_rh_segleft,  STAT_DROP_IPV6_EXT, 0 },
	{ "nine extension headers",                 f_many,        STAT_DROP_IPV6_EXT, 0 },
	{ "a header that names itself next",        f_loop,        STAT_DROP_IPV6_EXT, 0 },
	{ "a header longer than the payload",       f_ext_beyond,  STAT_DROP_MALFORMED, 0 },
	{ "the payload ends inside a header",       f_ext_cut,     STAT_DROP_MALFORMED, 0 },
	{ "ESP",                                    f_esp,         STAT_DROP_IPV6_EXT, 0 },
	{ "AH",                                     f_ah,          STAT_DROP_IPV6_EXT, 0 },
	{ "no next header",                         f_nonext,      STAT_DROP_IPV6_EXT, 0 },
	{ "next header 253",                        f_unknown,     STAT_DROP_IPV6_EXT, 0 },
	{ "ICMPv4 inside IPv6",                     f_icmp4,       STAT_DROP_IPV6_EXT, 0 },
	{ "SCTP",                                   f_sctp,        STAT_DROP_IPV6_EXT, 0 },
	{ "header cut at 39 bytes",                 f_short,       STAT_DROP_MALFORMED, 0 },
	{ "version 4 in an IPv6 frame",             f_version,     STAT_DROP_MALFORMED, 0 },
	{ "payload length 0 (a jumbogram)",         f_plen0,       STAT_DROP_MALFORMED, 0 },
	{ "payload length beyond the frame",        f_plen_beyond, STAT_DROP_MALFORMED, 0 },
	{ "UDP checksum 0",                         f_udp_zero,    STAT_DROP_MALFORMED, 0 },
	{ "UDP length beyond the datagram",         f_udp_len,     STAT_DROP_MALFORMED, 0 },
	{ "TCP data offset beyond the segment",     f_doff,        STAT_DROP_MALFORMED, 0 },
	{ "ICMPv6 of 7 bytes",                      f_icmp_short,  STAT_DROP_MALFORMED, 0 },
};

static void
test_parse(void)
{
	struct pkt p;
	uint32_t n;

	UNIT_SECTION("pkt_parse: IPv6 verdicts, the extension-header chain");
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		uint32_t len = c->mut();
		enum stat_id got = pkt_parse(&p, buf, len);

		CHECK(got == c->want, "%s: %s (got %s)", c->what, stat_name(c->want), stat_name(got));
		if (got == STAT_NONE && c->want == STAT_NONE)
			CHECK(p.l4off == c->l4off && p.af == AF_INET6 && p.ops == &pkt_ops6 && p.df,
			    "%s: IPv6, transport header at %u (got %u)", c->what, c->l4off, p.l4off);
	}

	UNIT_SECTION("pkt_parse: IPv6 fields");
	n = f_tcp();
	if (!CHECK_EQ(pkt_parse(&p, buf, n), STAT_NONE, "TCP parses"))
		return;
	CHECK(memcmp(&p.saddr, CLIENT6, 16) == 0 && memcmp(&p.daddr, VIP6, 16) == 0,
	    "all 128 bits of both addresses");
	CHECK(p.proto == IPPROTO_TCP && p.sport == htons(40000) && p.dport == htons(80) &&
	    p.tcpflags == TCPF_SYN && p.l4len == 30 && p.len == n, "protocol, ports, flags, lengths");
	n = f_trailer();
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.len == n - 16, "padding trimmed off");
	n = f_icmp();
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.icmp == PKT_ICMP_ECHO, "an echo request");

	UNIT_SECTION("pkt_parse: IPv6 fragments");
	n = f_frag_first();
	frame_wr16(FRAME + 14 + 40 + 4, 0xdead);
	frame_wr16(FRAME + 14 + 40 + 6, 0xbeef);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.frag == PKT_FRAG_FIRST &&
	    p.frag_id == 0xdeadbeef && p.sport == htons(40000) && p.dport == htons(80),
	    "first: PKT_FRAG_FIRST, the 32-bit id, the ports");
	n = f_frag_last();
	frame_wr16(FRAME + 14 + 40 + 6, 7);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.frag == PKT_FRAG_LATER && p.frag_id == 7 &&
	    p.proto == IPPROTO_UDP && p.sport == 0 && p.dport == 0, "later: PKT_FRAG_LATER, no ports");
	uint8_t before[18];
	union vsr_addr rip = { .b = { 0x20, 0x01, 0x0d, 0xb8, 0xaa, [15] = 2 } };
	memcpy(before, FRAME + 14 + 48, 18);
	pkt_set_daddr(&p, &rip);
	pkt_set_dport(&p, htons(5300));
	CHECK(memcmp(before, FRAME + 14 + 48, 18) == 0 && memcmp(FRAME + 14 + 24, &rip, 16) == 0,
	    "later: nat rewrites the address, leaves its data as it was");
	n = f_atomic();
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.frag == PKT_FRAG_NONE, "atomic: a whole packet");
}

/* ---- GSO: the virtio-net header ---- */

static void
gso_frame(unsigned payload, uint16_t gso, uint8_t type)
{
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	uint32_t n = build6(IPPROTO_TCP, payload, NULL, 0);

	(void)n;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = type;
	h->gso_size = gso;
	h->hdr_len = 14 + 40 + 20;
	h->csum_start = 14 + 40;
	h->csum_offset = 16;
	/* As the kernel hands it over: the pseudo-header sum in the field. */
	frame_wr16(IPH + 40 + 16, ref_pseudo(IPH, 20 + payload, IPPROTO_TCP));
}

static void
test_gso(void)
{
	struct pkt p;
	uint8_t hdr[PKT_GSO_SEG_HDR];
	unsigned bad = 0;

	UNIT_SECTION("GSO TCPv6 super-frames");
	gso_frame(9000, 1440, VIRTIO_NET_HDR_GSO_TCPV6);
	if (!CHECK_EQ(pkt_parse(&p, buf, 14 + 40 + 20 + 9000), STAT_NONE, "a TCPv6 super-frame parses"))
		return;
	CHECK(p.gso_size == 1440 && p.csum == PKT_CSUM_PARTIAL, "gso_size 1440, partial checksum");
	unsigned n = pkt_gso_count(&p);
	CHECK_EQ(n, 7, "9000 bytes in segments of 1440: 7");
	uint32_t seq0 = (uint32_t)frame_rd16(IPH + 40 + 4) << 16 | frame_rd16(IPH + 40 + 6), total = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *pay;
		uint32_t plen, hl = pkt_gso_segment(&p, i, hdr, &pay, &plen);
		uint8_t seg[2048];
		uint32_t seq = (uint32_t)frame_rd16(hdr + 40 + 4) << 16 | frame_rd16(hdr + 40 + 6);

		memcpy(seg, hdr, hl);
		memcpy(seg + hl, pay, plen);
		bad += hl != 60 || frame_rd16(seg + 4) != 20 + plen || seq != seq0 + i * 1440 ||
		    !ref_ok(seg, seg + 40, 20 + plen, IPPROTO_TCP);
		total += plen;
	}
	CHECK(bad == 0 && total == 9000, "each segment: payload length, sequence, checksum right");

	gso_frame(9000, 1440, VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK_EQ(pkt_parse(&p, buf, 14 + 40 + 20 + 9000), STAT_DROP_MALFORMED,
	    "a TCPv4 super-frame type on IPv6: malformed");
	gso_frame(9000, 1440, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN);
	CHECK_EQ(pkt_parse(&p, buf, 14 + 40 + 20 + 9000), STAT_NONE, "TCPv6 with ECN: taken");
}

/* ---- address rewrites ---- */

static void
test_set_addr(void)
{
	union vsr_addr rip = { .b = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 0x11 } };
	union vsr_addr lip = { .b = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [14] = 0x02, [15] = 0x50 } };
	struct pkt p;
	uint32_t n;

	UNIT_SECTION("nat rewrites: the IPv6 pseudo-header, incrementally");
	for (int proto = 0; proto < 2; proto++) {
		uint8_t pr = proto ? IPPROTO_UDP : IPPROTO_TCP;
		const char *name = proto ? "UDP" : "TCP";

		n = build6(pr, 333, NULL, 0);
		if (!CHECK_EQ(pkt_parse(&p, buf, n), STAT_NONE, "%s parses", name))
			continue;
		pkt_set_daddr(&p, &rip);
		pkt_set_dport(&p, htons(8080));
		pkt_set_saddr(&p, &lip);
		pkt_set_sport(&p, htons(1025));
		CHECK(memcmp(IPH + 24, &rip, 16) == 0 && memcmp(IPH + 8, &lip, 16) == 0 &&
		    addr_eq(&p.daddr, &rip) && addr_eq(&p.saddr, &lip), "%s: addresses written", name);
		CHECK(ref_ok(IPH, IPH + 40, p.l4len, pr), "%s: the checksum still verifies", name);
	}

	/* Partial: the field holds the pseudo-header sum; only addresses move it. */
	gso_frame(3000, 1440, VIRTIO_NET_HDR_GSO_TCPV6);
	if (CHECK_EQ(pkt_parse(&p, buf, 14 + 40 + 20 + 3000), STAT_NONE, "a super-frame parses")) {
		pkt_set_dport(&p, htons(8080));
		pkt_set_daddr(&p, &rip);
		CHECK_EQ(frame_rd16(IPH + 40 + 16), ref_pseudo(IPH, 20 + 3000, IPPROTO_TCP),
		    "partial: the new pseudo-header sum");
	}
}

/* ---- ICMPv6: echo, errors about a connection, packet too big ---- */

/*
 * An ICMPv6 error of TYPE from FROM to TO quoting the TCP packet the
 * director sent VIP6:80 -> CLIENT6:40000 (QLEN bytes of it).
 */
static uint32_t
icmp_error(uint8_t type, const uint8_t *from, const uint8_t *to, unsigned qlen)
{
	uint8_t q[1500];
	uint32_t n = build6(IPPROTO_TCP, 200, NULL, 0), len;
	uint8_t *icmp = IPH + 40;

	/* The quoted packet: the built one turned around. */
	memcpy(IPH + 8, VIP6, 16);
	memcpy(IPH + 24, CLIENT6, 16);
	frame_wr16(IPH + 40, 80);
	frame_wr16(IPH + 42, 40000);
	frame_wr16(IPH + 40 + 16, 0);
	frame_wr16(IPH + 40 + 16, (uint16_t)~frame_sum(IPH + 40, 220, ref_pseudo(IPH, 220, IPPROTO_TCP)));
	memcpy(q, IPH, n - 14);
	if (qlen > n - 14)
		qlen = n - 14;
	memset(IPH, 0, 40 + 8 + qlen);
	IPH[0] = 0x60;
	IPH[6] = IPPROTO_ICMPV6;
	IPH[7] = 64;
	memcpy(IPH + 8, from, 16);
	memcpy(IPH + 24, to, 16);
	len = 8 + qlen;
	frame_wr16(IPH + 4, (uint16_t)len);
	icmp[0] = type;
	frame_wr16(icmp + 6, 1400);
	memcpy(icmp + 8, q, qlen);
	frame_wr16(icmp + 2, (uint16_t)~frame_sum(icmp, len, ref_pseudo(IPH, len, IPPROTO_ICMPV6)));
	return 14 + 40 + len;
}

static void
test_icmp(void)
{
	static const uint8_t ROUTER[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 0xfe };
	union vsr_addr rip = { .b = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 0x11 } };
	union vsr_addr vip, client;
	struct pkt_quoted q;
	struct pkt p;
	uint8_t out[PKT_TOO_BIG_MAX];
	uint32_t n;

	memcpy(&vip, VIP6, 16);
	memcpy(&client, CLIENT6, 16);
	UNIT_SECTION("ICMPv6");
	n = f_icmp();
	if (CHECK_EQ(pkt_parse(&p, buf, n), STAT_NONE, "an echo request parses")) {
		pkt_echo_reply(&p);
		CHECK(IPH + 40 == p.data + p.l4off && IPH[40] == ICMP6_ECHO_REPLY && IPH[7] == 64 &&
		    memcmp(IPH + 8, VIP6, 16) == 0 && memcmp(IPH + 24, CLIENT6, 16) == 0 &&
		    ref_ok(IPH, IPH + 40, p.l4len, IPPROTO_ICMPV6),
		    "echo reply: type 129, from the VIP, hop limit 64, checksum right");
	}

	n = icmp_error(ICMP6_PACKET_TOO_BIG, ROUTER, VIP6, 1000);
	if (!CHECK_EQ(pkt_parse(&p, buf, n), STAT_NONE, "packet too big to the VIP parses"))
		return;
	CHECK(p.icmp == PKT_ICMP_ERROR, "an error");
	if (!CHECK(pkt_parse_quoted(&p, &q) == 0, "its quote parses"))
		return;
	CHECK(q.proto == IPPROTO_TCP && addr_eq(&q.saddr, &vip) && addr_eq(&q.daddr, &client) &&
	    q.sport == htons(80) && q.dport == htons(40000) && q.l4off == 14 + 40 + 8 + 40,
	    "quoted: TCP VIP:80 -> client:40000");
	/* nat: about RIP:8080 -> client, from the VIP to the real server. */
	pkt_icmp_nat(&p, &vip, &rip, &rip, htons(8080), &client, htons(40000));
	const uint8_t *qip = IPH + 48;
	CHECK(memcmp(IPH + 8, VIP6, 16) == 0 && memcmp(IPH + 24, &rip, 16) == 0 &&
	    memcmp(qip + 8, &rip, 16) == 0 && frame_rd16(qip + 40) == 8080,
	    "outer VIP -> RIP, quoted RIP:8080 -> client");
	CHECK(ref_ok(IPH, IPH + 40, p.l4len, IPPROTO_ICMPV6), "the ICMPv6 checksum verifies");
	CHECK(ref_ok(qip, qip + 40, 220, IPPROTO_TCP), "the quoted TCP checksum still verifies");
	CHECK_EQ((uint32_t)frame_rd16(IPH + 40 + 4) << 16 | frame_rd16(IPH + 40 + 6), 1400, "the MTU is kept");

	n = icmp_error(ICMP6_PACKET_TOO_BIG, ROUTER, VIP6, 30);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && pkt_parse_quoted(&p, &q) == -1,
	    "a quote cut inside the IPv6 header: not taken");
	n = icmp_error(ICMP6_DST_UNREACH, ROUTER, VIP6, 48);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && pkt_parse_quoted(&p, &q) == 0,
	    "a quote of the header and 8 bytes: enough");

	/* Too big, built: a 1500-byte packet quoted to fit 1280 bytes. */
	n = build6(IPPROTO_TCP, 1500 - 60, NULL, 0);
	pkt_parse(&p, buf, n);
	uint32_t len = pkt_too_big(&p, 1000, out);
	CHECK(len == IP6_MIN_MTU && frame_rd16(out + 4) == IP6_MIN_MTU - 40 && out[6] == IPPROTO_ICMPV6 &&
	    out[40] == ICMP6_PACKET_TOO_BIG && memcmp(out + 8, VIP6, 16) == 0 &&
	    memcmp(out + 24, CLIENT6, 16) == 0, "too big: 1280 bytes from the VIP to the client");
	CHECK_EQ((uint32_t)frame_rd16(out + 44) << 16 | frame_rd16(out + 46), IP6_MIN_MTU,
	    "an MTU below 1280 is said as 1280");
	CHECK(ref_ok(out, out + 40, len - 40, IPPROTO_ICMPV6) && memcmp(out + 48, IPH, 1232) == 0,
	    "its checksum verifies, it quotes the packet's start");
	len = pkt_too_big(&p, 1400, out);
	CHECK_EQ((uint32_t)frame_rd16(out + 44) << 16 | frame_rd16(out + 46), 1400, "MTU 1400 as it is");
}

/* ---- neighbour discovery ---- */

static void
test_nd(void)
{
	static const uint8_t mac[6] = { 0x02, 0x76, 0x73, 0x72, 0, 1 };
	union vsr_addr ll = { .b = { 0xfe, 0x80, [15] = 0x22 } }, target, vip, none = { .w = { 0 } };
	uint8_t got[6];
	struct pkt p;
	uint32_t n;

	memcpy(&vip, VIP6, 16);
	UNIT_SECTION("neighbour discovery");
	memset(buf, 0, sizeof(buf));
	n = pkt_nd_ns_fill(FRAME, mac, &ll, &vip);
	CHECK(n == PKT_ND_LEN && FRAME[0] == 0x33 && FRAME[2] == 0xff && FRAME[5] == 0x00 &&
	    IPH[24] == 0xff && IPH[25] == 0x02 && IPH[35] == 1 && IPH[36] == 0xff,
	    "NS to the VIP's solicited-node group (33:33:ff:..)");
	if (CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.icmp == PKT_ICMP_NS, "it parses as an NS"))
		CHECK(pkt_nd_ns_target(&p, &target) == 0 && addr_eq(&target, &vip),
		    "its target is the VIP");
	IPH[7] = 254;
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && pkt_nd_ns_target(&p, &target) == -1,
	    "hop limit 254: not taken");
	IPH[7] = 255;
	IPH[40 + 25] = 0;
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && pkt_nd_ns_target(&p, &target) == -1,
	    "an option of length 0: not taken");
	n = pkt_nd_ns_fill(FRAME, mac, &none, &vip);
	CHECK(n == 14 + 40 + 24 && pkt_parse(&p, buf, n) == STAT_NONE &&
	    pkt_nd_ns_target(&p, &target) == 0, "a duplicate address detection NS, from ::");
	IPH[40 + 10] ^= 1;
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && pkt_nd_ns_target(&p, &target) == -1,
	    "a bit flipped: the checksum refuses it");

	n = pkt_nd_na_fill(FRAME, FRAME + 6, mac, &vip, &ll, &vip, ND_NA_SOLICITED | ND_NA_OVERRIDE);
	CHECK(n == PKT_ND_LEN && ref_ok(IPH, IPH + 40, 32, IPPROTO_ICMPV6) && IPH[7] == 255 &&
	    IPH[40] == ND_NEIGHBOR_ADVERT && IPH[44] == 0x60, "NA: hop limit 255, S and O, checksum");
	CHECK(pkt_nd_na_parse(FRAME, n, &target, got) == 0 && addr_eq(&target, &vip) &&
	    memcmp(got, mac, 6) == 0, "read back: target and MAC");
	IPH[40 + 26] = 0xaa;
	CHECK(pkt_nd_na_parse(FRAME, n, &target, got) == -1, "a changed byte: refused");
	static const union vsr_addr all = { .b = { 0xff, 0x02, [15] = 1 } };
	n = pkt_nd_na_fill(FRAME, FRAME + 6, mac, &vip, &all, &vip, ND_NA_SOLICITED);
	CHECK(pkt_nd_na_parse(FRAME, n, &target, got) == -1, "solicited to a group: refused");
	n = pkt_nd_na_fill(FRAME, FRAME + 6, mac, &vip, &all, &vip, ND_NA_OVERRIDE);
	CHECK(pkt_nd_na_parse(FRAME, n, &target, got) == 0, "unsolicited to all nodes: taken");
}

/* ---- random mutations: the parser never reads past a frame, and says so ---- */

static uint64_t fuzz_state = 0x9e3779b97f4a7c15ull;

static uint32_t
fuzz_rand(void)
{
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return (uint32_t)((fuzz_state * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * Valid frames of every shape, mutated: bytes flipped in the headers,
 * next-header and length fields set to chosen values, the frame cut.
 * Each goes into a heap buffer of exactly its size (this test is built
 * with AddressSanitizer: a read past it fails the test); what the parser
 * accepts must be self-consistent, and the quote and ND parsers run on
 * what it calls an error or a solicitation.
 */
static void
test_fuzz(void)
{
	static const uint8_t nexts[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
	    IPPROTO_FRAGMENT, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6, IPPROTO_NONE, 50, 51 };
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	unsigned accepted = 0, bad = 0, kinds[STAT_MAX] = { 0 };
	enum { ROUNDS = 100000 };

	UNIT_SECTION("random mutations of IPv6 frames (%u)", ROUNDS);
	for (unsigned r = 0; r < ROUNDS; r++) {
		uint32_t n, k = fuzz_rand() % 8;
		union vsr_addr vip, t;
		struct pkt p;
		struct pkt_quoted q;

		memcpy(&vip, VIP6, 16);
		switch (k) {
		case 0: n = f_tcp(); break;
		case 1: n = f_chain(); break;
		case 2: n = f_atomic(); break;
		case 3: n = icmp_error(ICMP6_PACKET_TOO_BIG, VIP6, CLIENT6, 100 + fuzz_rand() % 200); break;
		case 4: memset(buf, 0, sizeof(buf)); n = pkt_nd_ns_fill(FRAME, mac, &vip, &vip); break;
		case 5: n = BUILD(IPPROTO_UDP, 40, E(IPPROTO_DSTOPTS, 16, 0), E(IPPROTO_ROUTING, 8, 0)); break;
		case 6: gso_frame(3000, 1000, VIRTIO_NET_HDR_GSO_TCPV6); n = 14 + 40 + 20 + 3000; break;
		default: n = f_icmp(); break;
		}
		for (unsigned m = 1 + fuzz_rand() % 4; m > 0; m--) {
			uint32_t at = 14 + fuzz_rand() % 140;
			switch (fuzz_rand() % 5) {
			case 0: FRAME[at] ^= (uint8_t)(1u << (fuzz_rand() % 8)); break;
			case 1: FRAME[at] = nexts[fuzz_rand() % ARRAY_SIZE(nexts)]; break;
			case 2: FRAME[at] = (uint8_t)fuzz_rand(); break;
			case 3: n = n > 14 ? 14 + fuzz_rand() % (n - 13) : n; break;
			default: frame_wr16(IPH + 4, (uint16_t)(fuzz_rand() % (n + 16))); break;
			}
		}
		uint8_t *copy = malloc(PKT_VNET_LEN + n);
		if (copy == NULL)
			abort();
		memcpy(copy, buf, PKT_VNET_LEN + n);
		enum stat_id st = pkt_parse(&p, copy, n);
		kinds[st]++;
		if (st == STAT_NONE && p.ethtype == ETHTYPE_IPV6) {
			accepted++;
			bad += p.len > n || p.l4off < 14 + 40 || p.l4off > p.len ||
			    p.l4len != p.len - p.l4off || p.af != AF_INET6;
			if (p.icmp == PKT_ICMP_ERROR && pkt_parse_quoted(&p, &q) == 0)
				bad += q.l4off + 8u > p.len;
			if (p.icmp == PKT_ICMP_NS)
				(void)pkt_nd_ns_target(&p, &t);
			if (p.gso_size)
				bad += pkt_gso_count(&p) == 0;
		}
		free(copy);
	}
	CHECK(bad == 0, "%u mutations: %u accepted, all self-consistent; %u malformed, %u "
	    "extension headers refused, %u fragments", ROUNDS, accepted,
	    kinds[STAT_DROP_MALFORMED], kinds[STAT_DROP_IPV6_EXT], kinds[STAT_DROP_FRAGMENT]);
	CHECK(accepted > 0 && kinds[STAT_DROP_MALFORMED] > 0 && kinds[STAT_DROP_IPV6_EXT] > 0,
	    "the mutations reached every verdict");
}

int
main(void)
{
	test_parse();
	test_gso();
	test_set_addr();
	test_icmp();
	test_nd();
	test_fuzz();
	return unit_done();
}
