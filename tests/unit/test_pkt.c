/* test_pkt.c - frame parsing and checksums: pkt_parse, pkt_parse_quoted, csum_*, GSO */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "frame.h"
#include "packet.h"
#include "stats.h"
#include "unit.h"

#define CLIENT  0xc0000201u     /* 192.0.2.1 */
#define VIP     0x0a0a0064u     /* 10.10.0.100 */

/* ---- reference checksums, from RFC 1071 alone (frame_sum, frame.h) ---- */

/* The IPv4 header checksum of IP (IHL from the header), host order. */
static uint16_t
ref_ip_csum(const uint8_t *ip)
{
	uint8_t h[60];
	unsigned ihl = (ip[0] & 0x0f) * 4u;

	memcpy(h, ip, ihl);
	h[10] = h[11] = 0;
	return (uint16_t)~frame_sum(h, ihl, 0);
}

/* The TCP/UDP checksum over pseudo-header + segment (its field taken as 0), host order. */
static uint16_t
ref_l4_csum(const uint8_t *ip)
{
	unsigned ihl = (ip[0] & 0x0f) * 4u;
	unsigned len = frame_rd16(ip + 2) - ihl;
	static uint8_t seg[65536];
	uint8_t ph[12];
	unsigned at = ip[9] == IPPROTO_TCP ? 16 : 6;

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	frame_wr16(ph + 10, (uint16_t)len);
	memcpy(seg, ip + ihl, len);
	seg[at] = seg[at + 1] = 0;
	return (uint16_t)~frame_sum(seg, len, frame_sum(ph, 12, 0));
}

/* Sum over pseudo-header + segment with its checksum field: 0xffff when the checksum holds. */
static uint16_t
ref_l4_verify(const uint8_t *ip)
{
	unsigned ihl = (ip[0] & 0x0f) * 4u;
	unsigned len = frame_rd16(ip + 2) - ihl;
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	frame_wr16(ph + 10, (uint16_t)len);
	return frame_sum(ip + ihl, len, frame_sum(ph, 12, 0));
}

/* ---- frames ---- */

static uint8_t buf[PKT_VNET_LEN + 65536 + 64] __attribute__((aligned(16)));
#define FRAME (buf + PKT_VNET_LEN)
#define IPH   (FRAME + 14)

/*
 * Build a valid frame in FRAME: Ethernet, IPv4 CLIENT -> VIP with OPTLEN
 * bytes of options OPT, then PROTO with PAYLOAD bytes of data. Returns the
 * frame length.
 */
static uint32_t
build(uint8_t proto, unsigned payload, const uint8_t *opt, unsigned optlen)
{
	uint8_t *eth = FRAME, *ip = IPH, *l4;
	unsigned ihl = 20 + optlen, l4len;

	memset(buf, 0, sizeof(buf));
	memcpy(eth, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = 0;
	frame_wr16(ip + 4, 0x1234);
	frame_wr16(ip + 6, 0x4000);               /* DF */
	ip[8] = 64;
	ip[9] = proto;
	frame_wr16(ip + 12, CLIENT >> 16);
	frame_wr16(ip + 14, CLIENT & 0xffff);
	frame_wr16(ip + 16, VIP >> 16);
	frame_wr16(ip + 18, VIP & 0xffff);
	if (optlen)
		memcpy(ip + 20, opt, optlen);
	l4 = ip + ihl;
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
	case IPPROTO_ICMP:
		l4len = 8 + payload;
		l4[0] = 8;                      /* echo request */
		frame_wr16(l4 + 4, 0x4242);
		frame_wr16(l4 + 6, 1);
		break;
	default:
		l4len = payload;
		break;
	}
	for (unsigned i = 0; i < payload; i++)
		l4[l4len - payload + i] = (uint8_t)(i * 7 + 3);
	frame_wr16(ip + 2, (uint16_t)(ihl + l4len));
	if (proto == IPPROTO_TCP)
		frame_wr16(l4 + 16, ref_l4_csum(ip));
	else if (proto == IPPROTO_UDP)
		frame_wr16(l4 + 6, ref_l4_csum(ip));
	else if (proto == IPPROTO_ICMP)
		frame_wr16(l4 + 2, (uint16_t)~frame_sum(l4, l4len, 0));
	frame_wr16(ip + 10, ref_ip_csum(ip));
	return 14 + ihl + l4len;
}

/* After editing the IP header: its checksum made right again. */
static void
fix_ip(void)
{
	frame_wr16(IPH + 10, ref_ip_csum(IPH));
}

/* Each case: a frame built, then changed by MUT (which returns the frame length). */
struct parse_case {
	const char   *what;
	uint32_t    (*mut)(void);
	enum stat_id  want;
};

static uint32_t f_tcp(void)  { return build(IPPROTO_TCP, 10, NULL, 0); }
static uint32_t f_udp(void)  { return build(IPPROTO_UDP, 10, NULL, 0); }
static uint32_t f_icmp(void) { return build(IPPROTO_ICMP, 56, NULL, 0); }
static uint32_t f_tcp0(void) { return build(IPPROTO_TCP, 0, NULL, 0); }
static uint32_t f_udp0(void) { return build(IPPROTO_UDP, 0, NULL, 0); }
static uint32_t f_icmp0(void) { return build(IPPROTO_ICMP, 0, NULL, 0); }

static uint32_t
f_arp(void)
{
	memset(buf, 0, sizeof(buf));
	memcpy(FRAME, "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x02\x08\x06", 14);
	memcpy(FRAME + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	return 14 + 28;
}

static uint32_t
f_ipv6(void)
{
	uint32_t n = build(IPPROTO_TCP, 10, NULL, 0);
	frame_wr16(FRAME + 12, 0x86dd);
	return n;
}

static uint32_t
f_vlan(void)
{
	uint32_t n = build(IPPROTO_TCP, 10, NULL, 0);
	frame_wr16(FRAME + 12, 0x8100);
	return n;
}

static uint32_t f_short(void)    { build(IPPROTO_TCP, 0, NULL, 0); return 13; }
static uint32_t f_eth_only(void) { build(IPPROTO_TCP, 0, NULL, 0); return 14; }
static uint32_t f_ip_trunc(void) { build(IPPROTO_TCP, 0, NULL, 0); return 14 + 19; }
static uint32_t f_empty(void)    { memset(buf, 0, sizeof(buf)); return 0; }

static uint32_t
f_version6(void)
{
	uint32_t n = build(IPPROTO_TCP, 10, NULL, 0);
	IPH[0] = 0x65;
	fix_ip();
	return n;
}

static uint32_t
f_ihl4(void)
{
	uint32_t n = build(IPPROTO_TCP, 10, NULL, 0);
	IPH[0] = 0x44;
	IPH[20 + 8] = 5 << 4;          /* read 4 bytes early, the TCP header would still look right */
	/* A checksum right over those 16 bytes: only the IHL check can refuse it. */
	frame_wr16(IPH + 10, 0);
	frame_wr16(IPH + 10, (uint16_t)~frame_sum(IPH, 16, 0));
	return n;
}

static uint32_t
f_ihl_beyond(void)
{
	/* IHL 15 (60 bytes) in a frame with 20 + 20 bytes of IP. */
	uint32_t n = build(IPPROTO_TCP, 0, NULL, 0);
	IPH[0] = 0x4f;
	return n;
}

static uint32_t
f_tot_lt_ihl(void)
{
	uint32_t n = build(IPPROTO_TCP, 10, NULL, 0);
	frame_wr16(IPH + 2, 19);
	fix_ip();
	return n;
}

static uint32_t
f_tot_gt_frame(void)
{
	uint32_t n = build(IPPROTO_TCP, 10, NULL, 0);
	frame_wr16(IPH + 2, (uint16_t)(frame_rd16(IPH + 2) + 1));
	fix_ip();
	return n;
}

static uint32_t
f_bad_csum(void)
{
	uint32_t n = build(IPPROTO_TCP, 10, NULL, 0);
	IPH[11] ^= 0x01;
	return n;
}

static uint32_t
f_bad_csum_ttl(void)
{
	/* A field changed without updating the checksum. */
	uint32_t n = build(IPPROTO_UDP, 10, NULL, 0);
	IPH[8]--;
	return n;
}

static const uint8_t opt_nops[] = { 1, 1, 1, 0 };
static const uint8_t opt_rr[] = { 7, 7, 4, 0, 0, 0, 0, 0 };       /* record route, then EOL */
static const uint8_t opt_rr_full[] = { 7, 8, 4, 0, 0, 0, 0, 1 };  /* fills the whole area */
static const uint8_t opt_len1[] = { 7, 1, 0, 0 };
static const uint8_t opt_len0[] = { 0x44, 0, 0, 0 };
static const uint8_t opt_too_long[] = { 7, 9, 4, 0, 0, 0, 0, 0 };
static const uint8_t opt_no_len[] = { 1, 1, 1, 0x44 };
static const uint8_t opt_after_eol[] = { 0, 7, 1, 0 };            /* EOL: the rest is padding */

static uint32_t f_opt_nops(void)   { return build(IPPROTO_TCP, 4, opt_nops, sizeof(opt_nops)); }
static uint32_t f_opt_rr(void)     { return build(IPPROTO_UDP, 4, opt_rr, sizeof(opt_rr)); }
static uint32_t f_opt_rr_full(void) { return build(IPPROTO_UDP, 4, opt_rr_full, sizeof(opt_rr_full)); }
static uint32_t f_opt_len1(void)   { return build(IPPROTO_TCP, 4, opt_len1, sizeof(opt_len1)); }
static uint32_t f_opt_len0(void)   { return build(IPPROTO_TCP, 4, opt_len0, sizeof(opt_len0)); }
static uint32_t f_opt_long(void)   { return build(IPPROTO_TCP, 4, opt_too_long, sizeof(opt_too_long)); }
static uint32_t f_opt_nolen(void)  { return build(IPPROTO_TCP, 4, opt_no_len, sizeof(opt_no_len)); }
static uint32_t f_opt_eol(void)    { return build(IPPROTO_TCP, 4, opt_after_eol, sizeof(opt_after_eol)); }

static uint32_t
frag(uint16_t v)
{
	uint32_t n = build(IPPROTO_UDP, 10, NULL, 0);
	frame_wr16(IPH + 6, v);
	fix_ip();
	return n;
}

static uint32_t f_mf(void)          { return frag(0x2000); }
static uint32_t f_offset(void)      { return frag(0x00b9); }
static uint32_t f_mf_offset(void)   { return frag(0x2001); }
static uint32_t f_last_frag(void)   { return frag(0x4000 | 0x1fff); }
static uint32_t f_no_df(void)       { return frag(0x0000); }

/* A fragment of PROTO with flags and offset V. */
static uint32_t
frag_of(uint8_t proto, unsigned payload, uint16_t v)
{
	uint32_t n = build(proto, payload, NULL, 0);
	frame_wr16(IPH + 6, v);
	fix_ip();
	return n;
}

static uint32_t f_tcp_first(void)     { return frag_of(IPPROTO_TCP, 10, 0x2000); }
static uint32_t f_tcp_later(void)     { return frag_of(IPPROTO_TCP, 10, 0x2003); }
static uint32_t f_tcp_overlap1(void)  { return frag_of(IPPROTO_TCP, 10, 0x2001); }
static uint32_t f_tcp_overlap2(void)  { return frag_of(IPPROTO_TCP, 10, 0x0002); }
static uint32_t f_icmp_first(void)    { return frag_of(IPPROTO_ICMP, 56, 0x2000); }
static uint32_t f_icmp_later(void)    { return frag_of(IPPROTO_ICMP, 56, 0x00b9); }

static uint32_t
f_udp_first_long(void)
{
	/* The UDP length is the whole datagram's: 4000 bytes, of which 18 are here. */
	uint32_t n = frag_of(IPPROTO_UDP, 10, 0x2000);
	frame_wr16(IPH + 20 + 4, 4000);
	return n;
}

static uint32_t
f_udp_first_short(void)
{
	/* A first fragment with 4 bytes of the UDP header: tiny (RFC 1858). */
	uint32_t n = build(IPPROTO_UDP, 0, NULL, 0);
	frame_wr16(IPH + 2, 24);
	frame_wr16(IPH + 6, 0x2000);
	fix_ip();
	return n - 4;
}

static uint32_t
f_tcp_first_short(void)
{
	/* 16 bytes of TCP header, the rest to come: tiny (RFC 1858). */
	uint32_t n = build(IPPROTO_TCP, 0, NULL, 0);
	frame_wr16(IPH + 2, 36);
	frame_wr16(IPH + 6, 0x2000);
	fix_ip();
	return n - 4;
}

static uint32_t
f_frag_csum(void)
{
	/* A partial checksum asked for a fragment: no offload takes one. */
	uint32_t n = frag_of(IPPROTO_UDP, 10, 0x2000);
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = 34;
	h->csum_offset = 6;
	return n;
}
static uint32_t f_reserved(void)    { return frag(0x8000); }
static uint32_t f_reserved_df(void) { return frag(0xc000); }

static uint32_t
tcp_doff(uint8_t doff)
{
	uint32_t n = build(IPPROTO_TCP, 8, NULL, 0);
	IPH[20 + 12] = (uint8_t)(doff << 4);
	return n;
}

static uint32_t f_doff4(void)      { return tcp_doff(4); }
static uint32_t f_doff0(void)      { return tcp_doff(0); }
static uint32_t f_doff7(void)      { return tcp_doff(7); }   /* 28 <= 20 + 8: fits */
static uint32_t f_doff8(void)      { return tcp_doff(8); }   /* 32 > 28 */
static uint32_t f_doff15(void)     { return tcp_doff(15); }

static uint32_t
f_tcp_trunc(void)
{
	/* An IP datagram carrying 12 bytes of TCP header. */
	uint32_t n = build(IPPROTO_TCP, 0, NULL, 0);
	frame_wr16(IPH + 2, 20 + 12);
	fix_ip();
	return n - 8;
}

static uint32_t
f_tcp_trunc_frame(void)
{
	/* Total length says 40, the frame holds 36 bytes of IP: cut in the TCP header. */
	uint32_t n = build(IPPROTO_TCP, 0, NULL, 0);
	return n - 4;
}

static uint32_t
udp_len(uint16_t v)
{
	uint32_t n = build(IPPROTO_UDP, 10, NULL, 0);
	frame_wr16(IPH + 20 + 4, v);
	return n;
}

static uint32_t f_ulen7(void)   { return udp_len(7); }
static uint32_t f_ulen0(void)   { return udp_len(0); }
static uint32_t f_ulen19(void)  { return udp_len(19); }  /* payload 18 */
static uint32_t f_ulen12(void)  { return udp_len(12); }  /* shorter than the datagram: allowed */

static uint32_t
f_udp_trunc(void)
{
	uint32_t n = build(IPPROTO_UDP, 0, NULL, 0);
	frame_wr16(IPH + 2, 20 + 4);
	fix_ip();
	return n - 4;
}

static uint32_t
f_icmp_short(void)
{
	uint32_t n = build(IPPROTO_ICMP, 0, NULL, 0);
	frame_wr16(IPH + 2, 20 + 7);
	fix_ip();
	return n - 1;
}

static uint32_t f_gre(void)   { return build(47, 24, NULL, 0); }
static uint32_t f_sctp(void)  { return build(132, 32, NULL, 0); }
static uint32_t f_ipip(void)  { return build(4, 20, NULL, 0); }

static uint32_t
f_padded(void)
{
	/* A 20 + 8 byte UDP datagram in a minimum 60-byte Ethernet frame. */
	uint32_t n = build(IPPROTO_UDP, 0, NULL, 0);
	memset(FRAME + n, 0xee, 60 - n);
	return 60;
}

static const struct parse_case parse_cases[] = {
	{ "valid TCP",                          f_tcp,          STAT_NONE },
	{ "valid TCP, no payload",              f_tcp0,         STAT_NONE },
	{ "valid UDP",                          f_udp,          STAT_NONE },
	{ "valid UDP, no payload",              f_udp0,         STAT_NONE },
	{ "valid ICMP echo",                    f_icmp,         STAT_NONE },
	{ "valid ICMP, header only",            f_icmp0,        STAT_NONE },
	{ "ARP",                                f_arp,          STAT_NONE },
	{ "IPv6 ethertype, IPv4 inside",        f_ipv6,         STAT_DROP_MALFORMED },
	{ "802.1Q ethertype",                   f_vlan,         STAT_DROP_UNEXPECTED },
	{ "empty frame",                        f_empty,        STAT_DROP_MALFORMED },
	{ "13-byte frame",                      f_short,        STAT_DROP_MALFORMED },
	{ "Ethernet header only",               f_eth_only,     STAT_DROP_MALFORMED },
	{ "IP header cut at 19 bytes",          f_ip_trunc,     STAT_DROP_MALFORMED },
	{ "IP version 6 in an IPv4 frame",      f_version6,     STAT_DROP_MALFORMED },
	{ "IHL 4 (< 5)",                        f_ihl4,         STAT_DROP_MALFORMED },
	{ "IHL beyond the frame",               f_ihl_beyond,   STAT_DROP_MALFORMED },
	{ "total length < IHL",                 f_tot_lt_ihl,   STAT_DROP_MALFORMED },
	{ "total length > frame",               f_tot_gt_frame, STAT_DROP_MALFORMED },
	{ "bad IP checksum",                    f_bad_csum,     STAT_DROP_MALFORMED },
	{ "TTL changed, checksum not",          f_bad_csum_ttl, STAT_DROP_MALFORMED },
	{ "options: NOP NOP NOP EOL",           f_opt_nops,     STAT_NONE },
	{ "options: record route, EOL",         f_opt_rr,       STAT_NONE },
	{ "options: record route filling all",  f_opt_rr_full,  STAT_NONE },
	{ "options: EOL, then junk",            f_opt_eol,      STAT_NONE },
	{ "options: length 1",                  f_opt_len1,     STAT_DROP_MALFORMED },
	{ "options: length 0",                  f_opt_len0,     STAT_DROP_MALFORMED },
	{ "options: length past the header",    f_opt_long,     STAT_DROP_MALFORMED },
	{ "options: type without length byte",  f_opt_nolen,    STAT_DROP_MALFORMED },
	{ "fragment: MF (UDP first)",           f_mf,           STAT_NONE },
	{ "fragment: offset (UDP last)",        f_offset,       STAT_NONE },
	{ "fragment: MF and offset 8",          f_mf_offset,    STAT_NONE },
	{ "fragment: past 64 KiB",              f_last_frag,    STAT_DROP_FRAG_MALFORMED },
	{ "fragment: TCP first",                f_tcp_first,    STAT_NONE },
	{ "fragment: TCP at 24",                f_tcp_later,    STAT_NONE },
	{ "fragment: TCP at 8 (RFC 1858)",      f_tcp_overlap1, STAT_DROP_FRAG_OVERLAP },
	{ "fragment: TCP at 16, last",          f_tcp_overlap2, STAT_DROP_FRAG_OVERLAP },
	{ "fragment: ICMP first",               f_icmp_first,   STAT_DROP_FRAGMENT },
	{ "fragment: ICMP later",               f_icmp_later,   STAT_DROP_FRAGMENT },
	{ "fragment: UDP first, whole length",  f_udp_first_long, STAT_NONE },
	{ "fragment: UDP first, 4-byte header", f_udp_first_short, STAT_DROP_FRAG_MALFORMED },
	{ "fragment: TCP first, 16-byte header", f_tcp_first_short, STAT_DROP_FRAG_MALFORMED },
	{ "fragment: NEEDS_CSUM",               f_frag_csum,    STAT_DROP_FRAG_MALFORMED },
	{ "no DF, not a fragment",              f_no_df,        STAT_NONE },
	{ "reserved flag",                      f_reserved,     STAT_DROP_MALFORMED },
	{ "reserved flag with DF",              f_reserved_df,  STAT_DROP_MALFORMED },
	{ "TCP doff 4",                         f_doff4,        STAT_DROP_MALFORMED },
	{ "TCP doff 0",                         f_doff0,        STAT_DROP_MALFORMED },
	{ "TCP doff 7 within the segment",      f_doff7,        STAT_NONE },
	{ "TCP doff 8 beyond the segment",      f_doff8,        STAT_DROP_MALFORMED },
	{ "TCP doff 15 beyond the segment",     f_doff15,       STAT_DROP_MALFORMED },
	{ "TCP header of 12 bytes",             f_tcp_trunc,    STAT_DROP_MALFORMED },
	{ "TCP cut by the frame's end",         f_tcp_trunc_frame, STAT_DROP_MALFORMED },
	{ "UDP length 7",                       f_ulen7,        STAT_DROP_MALFORMED },
	{ "UDP length 0",                       f_ulen0,        STAT_DROP_MALFORMED },
	{ "UDP length > payload",               f_ulen19,       STAT_DROP_MALFORMED },
	{ "UDP length < datagram",              f_ulen12,       STAT_NONE },
	{ "UDP header of 4 bytes",              f_udp_trunc,    STAT_DROP_MALFORMED },
	{ "ICMP of 7 bytes",                    f_icmp_short,   STAT_DROP_MALFORMED },
	{ "GRE",                                f_gre,          STAT_DROP_UNEXPECTED },
	{ "SCTP",                               f_sctp,         STAT_DROP_UNEXPECTED },
	{ "IP in IP",                           f_ipip,         STAT_DROP_UNEXPECTED },
	{ "UDP in a padded 60-byte frame",      f_padded,       STAT_NONE },
};

static void
test_parse_table(void)
{
	UNIT_SECTION("pkt_parse: verdicts");
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct pkt p;
		uint32_t len = c->mut();
		enum stat_id got = pkt_parse(&p, buf, len);

		CHECK(got == c->want, "%s: %s (got %s)", c->what, stat_name(c->want), stat_name(got));
	}
}

/* Fragments: what the parser says of them, and a later one's nat rewrite leaves its data alone. */
static void
test_fragments(void)
{
	uint8_t before[64];
	struct pkt p;
	uint32_t n;

	UNIT_SECTION("pkt_parse: fragments");
	n = frag_of(IPPROTO_UDP, 10, 0x2000);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.frag == PKT_FRAG_FIRST &&
	    p.frag_id == 0x1234 && p.sport == htons(5353) && p.dport == htons(53),
	    "first: PKT_FRAG_FIRST, the id, the ports");
	n = build(IPPROTO_UDP, 10, NULL, 0);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.frag == PKT_FRAG_NONE,
	    "a whole datagram: PKT_FRAG_NONE");

	n = frag_of(IPPROTO_UDP, 10, 0x2000 | 185);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.frag == PKT_FRAG_LATER &&
	    p.frag_id == 0x1234 && p.sport == 0 && p.dport == 0 && p.l4off == 34 && p.l4len == 18,
	    "later: PKT_FRAG_LATER, no ports, l4off at its data");
	memcpy(before, IPH + 20, 18);
	union vsr_addr rip = addr_from_ip(htonl(0x0a000002));
	pkt_set_daddr(&p, &rip);
	pkt_set_dport(&p, htons(5300));
	CHECK(memcmp(before, IPH + 20, 18) == 0, "later: nat leaves its data as it was");
	CHECK(frame_rd16(IPH + 16) == 0x0a00 && frame_rd16(IPH + 18) == 0x0002 &&
	    ref_ip_csum(IPH) == frame_rd16(IPH + 10), "later: address and header checksum");

	/* A first one rewritten: its UDP checksum, over the whole datagram, moves with the pseudo-header. */
	n = frag_of(IPPROTO_UDP, 10, 0x2000);
	pkt_parse(&p, buf, n);
	uint16_t c0 = frame_rd16(IPH + 26);
	pkt_set_daddr(&p, &rip);
	pkt_set_dport(&p, htons(5300));
	uint32_t s = (uint16_t)~c0;
	s += (uint16_t)~0x0a0a + (uint16_t)~0x0064 + 0x0a00 + 0x0002 + (uint16_t)~53 + 5300;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	CHECK_EQ(frame_rd16(IPH + 26), (uint16_t)~s, "first: UDP checksum updated (RFC 1624)");
}

static void
test_parse_fields(void)
{
	struct pkt p;
	uint32_t n;

	UNIT_SECTION("pkt_parse: fields");

	n = build(IPPROTO_TCP, 10, NULL, 0);
	IPH[20 + 13] = 0xff;                       /* every flag, CWR and ECE too */
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE, "tcp: parsed");
	CHECK(p.buf == buf && p.data == buf + PKT_VNET_LEN, "tcp: buf and data");
	CHECK(p.ethtype == ETHTYPE_IPV4 && p.l3off == 14 && p.l4off == 34 && p.l4len == 30 &&
	    p.len == n, "tcp: ethtype, offsets, lengths (l4off %u l4len %u len %u)", p.l4off,
	    p.l4len, p.len);
	CHECK(p.proto == IPPROTO_TCP && p.af == AF_INET && p.saddr.ip == htonl(CLIENT) &&
	    p.daddr.ip == htonl(VIP) && p.saddr.w[1] == 0 && p.daddr.w[3] == 0,
	    "tcp: protocol and addresses (network order)");
	CHECK(p.sport == htons(40000) && p.dport == htons(80), "tcp: ports (network order)");
	CHECK_EQ(p.tcpflags, TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_PSH | TCPF_ACK,
	    "tcp: tcpflags keeps FIN SYN RST PSH ACK only");

	n = build(IPPROTO_TCP, 0, NULL, 0);
	IPH[20 + 13] = TCPF_SYN | TCPF_ACK;
	pkt_parse(&p, buf, n);
	CHECK_EQ(p.tcpflags, TCPF_SYN | TCPF_ACK, "tcp: SYN|ACK");

	n = build(IPPROTO_TCP, 4, opt_nops, sizeof(opt_nops));
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.l4off == 14 + 24 && p.l4len == 24 &&
	    p.sport == htons(40000), "tcp with IP options: l4off after the options (%u)", p.l4off);

	n = build(IPPROTO_UDP, 10, NULL, 0);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.proto == IPPROTO_UDP &&
	    p.sport == htons(5353) && p.dport == htons(53) && p.l4len == 18 && p.tcpflags == 0,
	    "udp: ports, length, no tcpflags");

	n = build(IPPROTO_ICMP, 56, NULL, 0);
	p.sport = p.dport = 0xffff;
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.proto == IPPROTO_ICMP && p.sport == 0 &&
	    p.dport == 0 && p.l4len == 64 && p.tcpflags == 0, "icmp: ports 0, length 64");

	/* tcpflags does not leak from one frame to the next. */
	n = build(IPPROTO_TCP, 0, NULL, 0);
	pkt_parse(&p, buf, n);
	n = build(IPPROTO_UDP, 0, NULL, 0);
	pkt_parse(&p, buf, n);
	CHECK_EQ(p.tcpflags, 0, "a UDP frame after a TCP SYN: tcpflags 0");

	n = f_arp();
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.ethtype == ETHTYPE_ARP && p.len == n,
	    "arp: ethtype ARP, length kept");

	/* Ethernet padding and trailing bytes go: len = 14 + total length. */
	n = f_padded();
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.len == 14 + 28, "padded frame: len %u, want 42",
	    p.len);
	n = build(IPPROTO_TCP, 100, NULL, 0);
	CHECK(pkt_parse(&p, buf, n + 300) == STAT_NONE && p.len == n,
	    "300 trailing bytes: trimmed to the datagram (%u)", p.len);
	CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.len == n, "no trailer: len unchanged");
}

/* ---- ICMP errors quoting a packet ---- */

/*
 * An ICMP error from the client about a packet VIP:vport -> client:cport
 * (what a real server sent through the director's address): quoted IP
 * header with QOPTLEN bytes of options, then QL4 bytes of the transport
 * header. Returns the frame length.
 */
static uint32_t
build_icmp_error(uint8_t type, uint8_t qproto, unsigned qoptlen, unsigned ql4, uint16_t qfrag)
{
	uint8_t q[128];
	unsigned qihl = 20 + qoptlen;

	memset(q, 0, sizeof(q));
	q[0] = (uint8_t)(0x40 | qihl / 4);
	frame_wr16(q + 2, (uint16_t)(qihl + 8 + 100));   /* the original was longer than the quote */
	frame_wr16(q + 6, qfrag);
	q[8] = 63;
	q[9] = qproto;
	frame_wr16(q + 12, VIP >> 16);
	frame_wr16(q + 14, VIP & 0xffff);
	frame_wr16(q + 16, CLIENT >> 16);
	frame_wr16(q + 18, CLIENT & 0xffff);
	for (unsigned i = 0; i < qoptlen; i++)
		q[20 + i] = 1;                     /* NOPs */
	frame_wr16(q + 10, ref_ip_csum(q));
	frame_wr16(q + qihl, 53);                        /* quoted source port: the service's */
	frame_wr16(q + qihl + 2, 5353);                  /* quoted destination: the client's */

	/* The ICMP message from the client to the VIP. */
	uint32_t n = build(IPPROTO_ICMP, qihl + ql4, NULL, 0);
	uint8_t *icmp = IPH + 20;
	icmp[0] = type;
	icmp[1] = type == 3 ? 3 : 0;               /* port unreachable */
	memset(icmp + 4, 0, 4);
	memcpy(icmp + 8, q, qihl + ql4);
	frame_wr16(icmp + 2, 0);
	frame_wr16(icmp + 2, (uint16_t)~frame_sum(icmp, 8 + qihl + ql4, 0));
	return n;
}

static const struct quoted_case {
	const char *what;
	uint8_t     type;
	uint8_t     qproto;
	unsigned    qoptlen, ql4;
	uint16_t    qfrag;
	int         want;                  /* 0 or -1 */
	uint32_t    trim;                  /* bytes cut from the frame's IP payload */
	uint8_t     qver;                  /* quoted version/IHL byte override, 0 = none */
} quoted_cases[] = {
	{ "port unreachable quoting UDP",            3,  IPPROTO_UDP, 0, 8, 0x4000, 0, 0, 0 },
	{ "quoting TCP, 8 bytes of header",          3,  IPPROTO_TCP, 0, 8, 0x4000, 0, 0, 0 },
	{ "time exceeded quoting UDP",               11, IPPROTO_UDP, 0, 8, 0x0000, 0, 0, 0 },
	{ "quoted header with options",              3,  IPPROTO_UDP, 8, 8, 0x4000, 0, 0, 0 },
	{ "more than 8 bytes quoted",                3,  IPPROTO_UDP, 0, 64, 0x4000, 0, 0, 0 },
	{ "first fragment quoted (MF)",              3,  IPPROTO_UDP, 0, 8, 0x2000, 0, 0, 0 },
	{ "later fragment quoted: no ports",         3,  IPPROTO_UDP, 0, 8, 0x2010, -1, 0, 0 },
	{ "4 bytes of transport quoted",             3,  IPPROTO_UDP, 0, 4, 0x4000, -1, 0, 0 },
	{ "options quoted but only 4 bytes after",   3,  IPPROTO_UDP, 8, 4, 0x4000, -1, 0, 0 },
	{ "quoted IP header cut",                    3,  IPPROTO_UDP, 0, 0, 0x4000, -1, 0, 0 },
	{ "quoted version 6",                        3,  IPPROTO_UDP, 0, 8, 0x4000, -1, 0, 0x65 },
	{ "quoted IHL 4",                            3,  IPPROTO_UDP, 0, 8, 0x4000, -1, 0, 0x44 },
	{ "quoted IHL 15 beyond the quote",          3,  IPPROTO_UDP, 0, 8, 0x4000, -1, 0, 0x4f },
	{ "nothing quoted",                          3,  IPPROTO_UDP, 0, 0, 0x4000, -1, 20, 0 },
};

static void
test_quoted(void)
{
	UNIT_SECTION("pkt_parse_quoted");
	for (size_t i = 0; i < ARRAY_SIZE(quoted_cases); i++) {
		const struct quoted_case *c = &quoted_cases[i];
		struct pkt p;
		struct pkt_quoted q;
		uint32_t n = build_icmp_error(c->type, c->qproto, c->qoptlen, c->ql4, c->qfrag);

		if (c->qver)
			IPH[28] = c->qver;
		if (c->trim) {
			frame_wr16(IPH + 2, (uint16_t)(frame_rd16(IPH + 2) - c->trim));
			fix_ip();
			n -= c->trim;
		}
		if (!CHECK(pkt_parse(&p, buf, n) == STAT_NONE, "%s: the ICMP frame parses", c->what))
			continue;
		memset(&q, 0xa5, sizeof(q));
		int r = pkt_parse_quoted(&p, &q);
		if (c->want < 0) {
			CHECK(r == -1, "%s: -1", c->what);
			continue;
		}
		CHECK(r == 0 && q.proto == c->qproto && q.off == 14 + 20 + 8 &&
		    q.saddr.ip == htonl(VIP) && q.daddr.ip == htonl(CLIENT) && q.sport == htons(53) &&
		    q.dport == htons(5353), "%s: proto %u off %u ports %u > %u", c->what, q.proto,
		    q.off, ntohs(q.sport), ntohs(q.dport));
	}

	/* Bytes past the IP total length (padding) are not taken as quoted data. */
	struct pkt p;
	struct pkt_quoted q;
	uint32_t n = build_icmp_error(3, IPPROTO_UDP, 0, 4, 0x4000);
	memset(FRAME + n, 0x77, 8);
	CHECK(pkt_parse(&p, buf, n + 8) == STAT_NONE && pkt_parse_quoted(&p, &q) == -1,
	    "quote cut short, Ethernet padding after it: -1");
}

/* ---- checksums ---- */

static void
test_csum_known(void)
{
	/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2. */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	/* An IPv4 header with its checksum b861 (192.168.0.1 -> 192.168.0.199, UDP). */
	static const uint8_t hdr[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};
	uint8_t h[20];
	uint16_t v;

	UNIT_SECTION("checksums: known values");
	v = csum_fold(csum_partial(rfc, sizeof(rfc), 0));
	CHECK(v == htons(0x220d), "RFC 1071 example: checksum ~0xddf2 = 0x220d (got 0x%04x)", ntohs(v));
	CHECK_EQ(frame_sum(rfc, sizeof(rfc), 0), 0xddf2, "the reference agrees on the RFC 1071 example");

	memcpy(h, hdr, 20);
	CHECK(csum_ip(h, 20) == 0, "csum_ip over a header with a right checksum: 0");
	h[10] = h[11] = 0;
	v = csum_ip(h, 20);
	CHECK(memcmp(&v, "\xb8\x61", 2) == 0, "csum_ip of the header: b8 61 in network order");
	h[8] = 0x3f;
	CHECK(csum_ip(h, 20) != htons(0xb861), "a changed TTL changes the checksum");

	/* Odd lengths, chained sums, a start value. */
	static const uint8_t odd[] = { 0x12, 0x34, 0x56, 0x78, 0x9a };
	CHECK(csum_fold(csum_partial(odd, 5, 0)) == htons((uint16_t)~frame_sum(odd, 5, 0)),
	    "odd length: the last byte is the high half of a word");
	uint8_t big[1501];
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 131 + 17);
	int bad = 0;
	for (unsigned len = 0; len <= sizeof(big); len++) {
		uint16_t want = (uint16_t)~frame_sum(big, len, 0);
		bad += csum_fold(csum_partial(big, len, 0)) != htons(want);
		if (len % 2 == 0 && len >= 2) {
			/* Split at an even offset: the same. */
			uint32_t s = csum_partial(big, len / 2 & ~1u, 0);
			s = csum_partial(big + (len / 2 & ~1u), len - (len / 2 & ~1u), s);
			bad += csum_fold(s) != htons(want);
		}
	}
	CHECK_EQ(bad, 0, "csum_partial over every length 0..1501, whole and in two parts");
	static uint8_t ff[65536];
	memset(ff, 0xff, sizeof(ff));
	CHECK(csum_fold(csum_partial(ff, sizeof(ff), 0xffffffffu)) == htons((uint16_t)~frame_sum(ff,
	    sizeof(ff), 0xffff)), "64 KB of 0xff and a start sum of 0xffffffff: carries kept");
	/* 16384 words of 0xffffffff plus 1 carries out of 32 bits twice. */
	CHECK(csum_fold(csum_partial(ff, sizeof(ff), 1)) == htons((uint16_t)~frame_sum(ff, sizeof(ff),
	    1)), "64 KB of 0xff and a start sum of 1: the second carry kept");
	CHECK(csum_fold(0) == 0xffff, "csum_fold(0) = 0xffff");
}

/* xorshift64*: fixed seed, the same sequence on every libc. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* A random TCP or UDP datagram in FRAME (valid checksums). */
static void
random_packet(uint8_t proto, unsigned payload)
{
	build(proto, payload, NULL, 0);
	uint8_t *ip = IPH, *l4 = IPH + 20;
	uint32_t s = rnd(), d = rnd();
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	frame_wr16(ip + 4, (uint16_t)rnd());
	ip[8] = (uint8_t)rnd();
	frame_wr16(l4, (uint16_t)rnd());
	frame_wr16(l4 + 2, (uint16_t)rnd());
	unsigned hl = proto == IPPROTO_TCP ? 20 : 8;
	for (unsigned i = 0; i < payload; i++)
		l4[hl + i] = (uint8_t)rnd();
	if (proto == IPPROTO_TCP) {
		for (unsigned i = 4; i < 12; i++)
			l4[i] = (uint8_t)rnd();
		l4[13] = (uint8_t)(rnd() & 0x3f);
		frame_wr16(l4 + 14, (uint16_t)rnd());
		frame_wr16(l4 + 16, ref_l4_csum(ip));
	} else {
		uint16_t c = ref_l4_csum(ip);
		frame_wr16(l4 + 6, c ? c : 0xffff);      /* RFC 768: a computed 0 is sent as 0xffff */
	}
	fix_ip();
}

/*
 * Rewrite in FRAME (what DNAT/SNAT and the ICMP echo path do) with
 * csum_replace2/4 on both checksums; WHAT: 0 daddr, 1 saddr, 2 dport,
 * 3 sport, 4 daddr+dport, 5 TTL (IP header only).
 */
static void
rewrite(int what)
{
	uint8_t *ip = IPH, *l4 = IPH + 20;
	uint16_t *ipsum = (uint16_t *)(ip + 10);
	uint16_t *l4sum = (uint16_t *)(l4 + (ip[9] == IPPROTO_TCP ? 16 : 6));
	uint32_t a, na = rnd();
	uint16_t pt, np = (uint16_t)rnd();

	switch (what) {
	case 0:
	case 1:
	case 4:
		memcpy(&a, ip + (what == 1 ? 12 : 16), 4);
		memcpy(ip + (what == 1 ? 12 : 16), &na, 4);
		csum_replace4(ipsum, a, na);
		csum_replace4(l4sum, a, na);
		if (what != 4)
			break;
		/* fall through */
	case 2:
	case 3:
		memcpy(&pt, l4 + (what == 3 ? 0 : 2), 2);
		memcpy(l4 + (what == 3 ? 0 : 2), &np, 2);
		csum_replace2(l4sum, pt, np);
		break;
	case 5: {
		uint16_t old, new;
		memcpy(&old, ip + 8, 2);
		ip[8]--;
		memcpy(&new, ip + 8, 2);
		csum_replace2(ipsum, old, new);
		break;
	}
	}
}

static void
test_csum_random(void)
{
	static const char *const names[] = { "daddr", "saddr", "dport", "sport", "daddr+dport",
	    "ttl" };
	unsigned bad_ip = 0, bad_l4 = 0, bad_verify = 0;
	unsigned per[6] = { 0 };

	UNIT_SECTION("checksums: incremental updates vs recomputation");
	for (int i = 0; i < 10000; i++) {
		uint8_t proto = rnd() & 1 ? IPPROTO_TCP : IPPROTO_UDP;
		unsigned payload = rnd() % 200;
		int what = (int)(rnd() % 6);

		random_packet(proto, payload);
		rewrite(what);
		per[what]++;
		uint8_t *l4 = IPH + 20;
		uint16_t got_ip = frame_rd16(IPH + 10);
		uint16_t got_l4 = frame_rd16(l4 + (proto == IPPROTO_TCP ? 16 : 6));
		uint16_t want_ip = ref_ip_csum(IPH);
		uint16_t want_l4 = ref_l4_csum(IPH);
		if (proto == IPPROTO_UDP) {
			/* 0 and 0xffff are one value (+0, -0); UDP sends 0xffff. */
			if (want_l4 == 0)
				want_l4 = 0xffff;
			if (got_l4 == 0)
				got_l4 = 0xffff;
		}
		if (got_ip != want_ip && bad_ip++ < 3)
			CHECK(0, "case %d (%s): IP checksum 0x%04x, recomputed 0x%04x", i, names[what],
			    got_ip, want_ip);
		if (got_l4 != want_l4 && bad_l4++ < 3)
			CHECK(0, "case %d (%s %s, %u bytes): L4 checksum 0x%04x, recomputed 0x%04x", i,
			    proto == IPPROTO_TCP ? "tcp" : "udp", names[what], payload, got_l4,
			    want_l4);
		bad_verify += ref_l4_verify(IPH) != 0xffff || frame_sum(IPH, 20, 0) != 0xffff;
	}
	CHECK(bad_ip == 0 && bad_l4 == 0 && bad_verify == 0,
	    "10000 random TCP/UDP rewrites: checksums equal recomputation (%u IP, %u L4 differ, "
	    "%u do not verify)", bad_ip, bad_l4, bad_verify);
	CHECK(per[0] && per[1] && per[2] && per[3] && per[4] && per[5], "every kind of rewrite drawn");

	/*
	 * Edge values: a TCP rewrite whose recomputed checksum is 0x0000 must
	 * give 0x0000 (RFC 1624 eqn. 3 never yields 0xffff), and a UDP
	 * checksum sent as 0xffff (a computed 0) updates correctly. A payload
	 * word is chosen to make the checksum of interest 0.
	 */
	unsigned bad = 0;
	for (int i = 0; i < 200; i++) {
		uint16_t oldp, newp = (uint16_t)rnd();
		random_packet(IPPROTO_TCP, 6);
		memcpy(&oldp, IPH + 22, 2);
		memcpy(IPH + 22, &newp, 2);             /* the state after the rewrite */
		/* Make the recomputed checksum 0: payload word = ~(sum of the rest). */
		frame_wr16(IPH + 40, 0);
		uint16_t rest = (uint16_t)~ref_l4_csum(IPH);
		frame_wr16(IPH + 40, (uint16_t)~rest);
		if (ref_l4_csum(IPH) != 0) {
			bad++;
			continue;
		}
		memcpy(IPH + 22, &oldp, 2);             /* back to before, with a right checksum */
		frame_wr16(IPH + 36, ref_l4_csum(IPH));
		memcpy(IPH + 22, &newp, 2);
		csum_replace2((uint16_t *)(IPH + 36), oldp, newp);
		bad += frame_rd16(IPH + 36) != 0x0000 || ref_l4_verify(IPH) != 0xffff;
	}
	CHECK_EQ(bad, 0, "tcp: 200 rewrites to a checksum of 0x0000 give 0x0000, never 0xffff");

	bad = 0;
	for (int i = 0; i < 200; i++) {
		random_packet(IPPROTO_UDP, 6);
		frame_wr16(IPH + 28, 0);
		uint16_t rest = (uint16_t)~ref_l4_csum(IPH);
		frame_wr16(IPH + 28, (uint16_t)~rest);
		if (ref_l4_csum(IPH) != 0) {
			bad++;
			continue;
		}
		frame_wr16(IPH + 26, 0xffff);                 /* a computed 0, as sent */
		rewrite(i % 2 ? 0 : 2);
		uint16_t want = ref_l4_csum(IPH), got = frame_rd16(IPH + 26);
		bad += !(got == want || (want == 0 && got == 0xffff)) || ref_l4_verify(IPH) != 0xffff;
	}
	CHECK_EQ(bad, 0, "udp: 200 checksums sent as 0xffff update right");
}

static void
test_csum_replace_direct(void)
{
	static const struct {
		const char *what;
		uint16_t check, from, to, want;     /* host order */
	} r2[] = {
		/* HC' = ~(~HC + ~m + m'), in one's-complement arithmetic. */
		{ "no change",                  0x1234, 0xabcd, 0xabcd, 0x1234 },
		{ "m 0 -> 1",                   0x1234, 0x0000, 0x0001, 0x1233 },
		{ "m 1 -> 0",                   0x1233, 0x0001, 0x0000, 0x1234 },
		{ "carry around",               0x0000, 0x0000, 0x0001, 0xfffe },
		{ "RFC 1624 example",           0xdd2f, 0x5555, 0x3285, 0x0000 },
	};

	UNIT_SECTION("csum_replace2 / csum_replace4 on fixed values");
	for (size_t i = 0; i < ARRAY_SIZE(r2); i++) {
		uint16_t c = htons(r2[i].check);
		csum_replace2(&c, htons(r2[i].from), htons(r2[i].to));
		CHECK(c == htons(r2[i].want), "csum_replace2: %s: 0x%04x (want 0x%04x)", r2[i].what,
		    ntohs(c), r2[i].want);
	}
	/* csum_replace4 equals two csum_replace2 on the halves. */
	unsigned bad = 0;
	for (int i = 0; i < 10000; i++) {
		uint32_t f = rnd(), t = rnd();
		uint16_t a = (uint16_t)rnd(), b = a;
		if (a == 0xffff)
			continue;
		csum_replace4(&a, f, t);
		csum_replace2(&b, (uint16_t)f, (uint16_t)t);
		csum_replace2(&b, (uint16_t)(f >> 16), (uint16_t)(t >> 16));
		bad += a != b;
	}
	CHECK_EQ(bad, 0, "csum_replace4 = csum_replace2 on each half (10000 random)");
}

/*
 * NAT and FULLNAT as xmit_nat.c does them, through pkt_set_*: the
 * in-direction (daddr+dport, and saddr+sport for FULLNAT) and the reply
 * (saddr+sport, and daddr+dport for FULLNAT) on random TCP/UDP packets,
 * compared with full recomputation; a UDP datagram without a checksum
 * keeps none.
 */
static void
test_nat_rewrite(void)
{
	static const char *const names[] = { "nat in", "nat out", "fullnat in", "fullnat out" };
	unsigned bad = 0, bad_fields = 0, zero_kept = 0;

	UNIT_SECTION("pkt_set_*: NAT and FULLNAT rewrites vs recomputation");
	for (int i = 0; i < 20000; i++) {
		uint8_t proto = rnd() & 1 ? IPPROTO_TCP : IPPROTO_UDP;
		unsigned payload = rnd() % 300;
		int what = (int)(rnd() % 4);
		int nosum = proto == IPPROTO_UDP && rnd() % 8 == 0;
		uint32_t len, a1 = rnd(), a2 = rnd();
		uint16_t p1 = (uint16_t)rnd(), p2 = (uint16_t)rnd();
		struct pkt p;

		random_packet(proto, payload);
		if (nosum)
			frame_wr16(IPH + 26, 0);
		len = 14 + frame_rd16(IPH + 2);
		if (pkt_parse(&p, buf, len) != STAT_NONE) {
			bad++;
			continue;
		}
		if (what == 0 || what >= 2) {
			pkt_set_daddr(&p, &(union vsr_addr){ .ip = a1 });
			pkt_set_dport(&p, p1);
		}
		if (what >= 1) {
			pkt_set_saddr(&p, &(union vsr_addr){ .ip = a2 });
			pkt_set_sport(&p, p2);
		}
		uint32_t s, d;
		uint16_t sp, dp;
		memcpy(&s, IPH + 12, 4);
		memcpy(&d, IPH + 16, 4);
		memcpy(&sp, IPH + 20, 2);
		memcpy(&dp, IPH + 22, 2);
		bad_fields += s != p.saddr.ip || d != p.daddr.ip || sp != p.sport || dp != p.dport;
		if (frame_sum(IPH, 20, 0) != 0xffff) {
			if (bad++ < 3)
				CHECK(0, "case %d (%s): IP checksum wrong", i, names[what]);
			continue;
		}
		if (nosum) {
			zero_kept += frame_rd16(IPH + 26) == 0;
			continue;
		}
		if (proto == IPPROTO_UDP && frame_rd16(IPH + 26) == 0) {
			if (bad++ < 3)
				CHECK(0, "case %d (%s): UDP checksum became 0", i, names[what]);
			continue;
		}
		if (ref_l4_verify(IPH) != 0xffff && bad++ < 3)
			CHECK(0, "case %d (%s %s, %u bytes): L4 checksum does not verify", i,
			    proto == IPPROTO_TCP ? "tcp" : "udp", names[what], payload);
	}
	CHECK_EQ(bad, 0, "20000 random NAT/FULLNAT rewrites: IP and L4 checksums verify");
	CHECK_EQ(bad_fields, 0, "the packet's fields follow the rewrites");
	CHECK(zero_kept > 0, "UDP without a checksum keeps 0 (%u datagrams)", zero_kept);
}

/* ---- the virtio-net header: validation, partial checksums, segmentation ---- */

#define VH ((struct virtio_net_hdr *)buf)

/* The pseudo-header sum (folded, not complemented) a NEEDS_CSUM packet carries. */
static uint16_t
ref_pseudo(const uint8_t *ip)
{
	unsigned ihl = (ip[0] & 0x0f) * 4u;
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	frame_wr16(ph + 10, (uint16_t)(frame_rd16(ip + 2) - ihl));
	return frame_sum(ph, 12, 0);
}

/* Make the frame in FRAME partial: NEEDS_CSUM, its field the pseudo-header sum. */
static void
make_partial(void)
{
	unsigned ihl = (IPH[0] & 0x0f) * 4u, at = IPH[9] == IPPROTO_TCP ? 16 : 6;

	VH->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	VH->csum_start = (uint16_t)(14 + ihl);
	VH->csum_offset = (uint16_t)at;
	frame_wr16(IPH + ihl + at, ref_pseudo(IPH));
}

static uint32_t
make_gso(unsigned payload, uint16_t mss)
{
	uint32_t n = build(IPPROTO_TCP, payload, NULL, 0);

	IPH[20 + 13] = TCPF_ACK | TCPF_PSH;
	make_partial();
	VH->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	VH->gso_size = mss;
	VH->hdr_len = 14 + 20 + 20;
	return n;
}

static uint32_t v_valid(void)     { return make_gso(4000, 1448); }
static uint32_t v_ecn(void)       { uint32_t n = make_gso(4000, 1448); VH->gso_type |= VIRTIO_NET_HDR_GSO_ECN; return n; }
static uint32_t v_nocsum(void)    { uint32_t n = make_gso(4000, 1448); VH->flags = 0; return n; }
static uint32_t v_mss0(void)      { return make_gso(4000, 0); }
static uint32_t v_nopay(void)     { return make_gso(0, 1448); }
static uint32_t v_tcpv6(void)     { uint32_t n = make_gso(4000, 1448); VH->gso_type = VIRTIO_NET_HDR_GSO_TCPV6; return n; }
static uint32_t v_ufo(void)       { uint32_t n = make_gso(4000, 1448); VH->gso_type = VIRTIO_NET_HDR_GSO_UDP; return n; }
static uint32_t v_hdrlen(void)    { uint32_t n = make_gso(100, 1448); VH->hdr_len = (uint16_t)(n + 1); return n; }
static uint32_t v_flag(void)      { uint32_t n = build(IPPROTO_TCP, 10, NULL, 0); VH->flags = 4; return n; }
static uint32_t v_valid_only(void) { uint32_t n = build(IPPROTO_TCP, 10, NULL, 0); VH->flags = VIRTIO_NET_HDR_F_DATA_VALID; return n; }
static uint32_t v_ecn_alone(void) { uint32_t n = build(IPPROTO_TCP, 10, NULL, 0); VH->gso_type = VIRTIO_NET_HDR_GSO_ECN; return n; }
static uint32_t v_tcp_part(void)  { uint32_t n = build(IPPROTO_TCP, 10, NULL, 0); make_partial(); return n; }
static uint32_t v_udp_part(void)  { uint32_t n = build(IPPROTO_UDP, 10, NULL, 0); make_partial(); return n; }
static uint32_t v_icmp_part(void) { uint32_t n = build(IPPROTO_ICMP, 10, NULL, 0); VH->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM; VH->csum_start = 34; VH->csum_offset = 2; return n; }
static uint32_t v_bad_start(void) { uint32_t n = v_tcp_part(); VH->csum_start = 14; return n; }
static uint32_t v_bad_off(void)   { uint32_t n = v_tcp_part(); VH->csum_offset = 6; return n; }
static uint32_t v_udp_gso(void)   { uint32_t n = v_udp_part(); VH->gso_type = VIRTIO_NET_HDR_GSO_TCPV4; VH->gso_size = 100; return n; }

static const struct parse_case vnet_cases[] = {
	{ "GSO TCPv4, NEEDS_CSUM",              v_valid,        STAT_NONE },
	{ "GSO TCPv4 with ECN",                 v_ecn,          STAT_NONE },
	{ "GSO without NEEDS_CSUM",             v_nocsum,       STAT_DROP_MALFORMED },
	{ "GSO with gso_size 0",                v_mss0,         STAT_DROP_MALFORMED },
	{ "GSO without payload",                v_nopay,        STAT_DROP_MALFORMED },
	{ "GSO TCPv6 on IPv4",                  v_tcpv6,        STAT_DROP_MALFORMED },
	{ "GSO UDP (UFO, not negotiated)",      v_ufo,          STAT_DROP_MALFORMED },
	{ "GSO TCPv4 on UDP",                   v_udp_gso,      STAT_DROP_MALFORMED },
	{ "hdr_len beyond the frame",           v_hdrlen,       STAT_DROP_MALFORMED },
	{ "unknown flag",                       v_flag,         STAT_DROP_MALFORMED },
	{ "DATA_VALID alone",                   v_valid_only,   STAT_NONE },
	{ "ECN bit without GSO",                v_ecn_alone,    STAT_DROP_MALFORMED },
	{ "TCP NEEDS_CSUM",                     v_tcp_part,     STAT_NONE },
	{ "UDP NEEDS_CSUM",                     v_udp_part,     STAT_NONE },
	{ "ICMP NEEDS_CSUM",                    v_icmp_part,    STAT_DROP_MALFORMED },
	{ "NEEDS_CSUM, csum_start not L4",      v_bad_start,    STAT_DROP_MALFORMED },
	{ "NEEDS_CSUM, csum_offset not TCP's",  v_bad_off,      STAT_DROP_MALFORMED },
};

static void
test_vnet_parse(void)
{
	UNIT_SECTION("pkt_parse: the virtio-net header");
	for (size_t i = 0; i < ARRAY_SIZE(vnet_cases); i++) {
		const struct parse_case *c = &vnet_cases[i];
		struct pkt p;
		uint32_t len = c->mut();
		enum stat_id got = pkt_parse(&p, buf, len);

		CHECK(got == c->want, "%s: %s (got %s)", c->what, stat_name(c->want), stat_name(got));
	}
	{
		struct pkt p;
		uint32_t n = make_gso(4000, 1448);
		CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.gso_size == 1448 &&
		    p.csum == PKT_CSUM_PARTIAL, "GSO frame: gso_size and partial checksum noted");
		n = build(IPPROTO_TCP, 10, NULL, 0);
		CHECK(pkt_parse(&p, buf, n) == STAT_NONE && p.gso_size == 0 && p.csum == PKT_CSUM_FULL,
		    "zeroed header: no GSO, full checksum");
	}
}

/*
 * NAT rewrites of a partial packet, then the checksum completed: equal to
 * the checksum computed afresh over the rewritten packet. Ports must not
 * touch a partial sum, addresses must move it as a pseudo-header sum.
 */
static void
test_vnet_rewrite(void)
{
	static const uint32_t addrs[] = { 0x0a14000bu, 0xc0a80101u, 0xfffffffeu, 0x01000000u, 0x0a0a0064u };
	static const uint16_t ports[] = { 1, 80, 8080, 65535, 40000 };
	unsigned bad = 0, n = 0, zero_seen = 0;

	UNIT_SECTION("partial checksums through NAT rewrites");
	for (unsigned i = 0; i < 400; i++) {
		uint8_t proto = i & 1 ? IPPROTO_UDP : IPPROTO_TCP;
		unsigned payload = (i * 37) % 1400, ihl, at;
		struct pkt p;
		uint32_t len = build(proto, payload, NULL, 0);

		make_partial();
		if (pkt_parse(&p, buf, len) != STAT_NONE) {
			bad++;
			continue;
		}
		ihl = (IPH[0] & 0x0f) * 4u;
		at = proto == IPPROTO_TCP ? 16 : 6;
		if (i % 3 == 0)
			pkt_set_saddr(&p, &(union vsr_addr){ .ip = htonl(addrs[i % 5]) });
		pkt_set_daddr(&p, &(union vsr_addr){ .ip = htonl(addrs[(i / 5) % 5]) });
		pkt_set_dport(&p, htons(ports[(i / 3) % 5]));
		if (i % 4 == 0)
			pkt_set_sport(&p, htons(ports[i % 5]));
		/* Still a pseudo-header sum of the new addresses. */
		if (frame_rd16(IPH + ihl + at) != ref_pseudo(IPH) && ref_pseudo(IPH) != 0xffff)
			bad++;
		if (ref_ip_csum(IPH) != frame_rd16(IPH + 10))
			bad++;
		pkt_csum_finish(&p);
		if (proto == IPPROTO_UDP && frame_rd16(IPH + ihl + at) == 0)
			zero_seen++;
		if (ref_l4_verify(IPH) != 0xffff || (VH->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
		    p.csum != PKT_CSUM_FULL)
			bad++;
		n++;
	}
	CHECK_EQ(bad, 0, "%u TCP/UDP rewrites of partial packets: pseudo-header sum kept, completed checksum verifies", n);
	CHECK_EQ(zero_seen, 0, "a completed UDP checksum is never 0");

	/* A known one: the full checksum path would have changed the field for a port. */
	{
		struct pkt p;
		uint32_t len = build(IPPROTO_TCP, 100, NULL, 0);
		uint16_t before;
		make_partial();
		pkt_parse(&p, buf, len);
		before = frame_rd16(IPH + 20 + 16);
		pkt_set_dport(&p, htons(8080));
		CHECK_EQ(frame_rd16(IPH + 20 + 16), before, "a port rewrite leaves a partial sum alone");
		pkt_set_daddr(&p, &(union vsr_addr){ .ip = htonl(0x0a14000bu) });
		CHECK_EQ(frame_rd16(IPH + 20 + 16), ref_pseudo(IPH), "an address rewrite gives the new pseudo-header sum");
	}
}

/* Segmentation of super-frames, each segment checked against a checksum computed afresh. */
static void
test_gso_segment(void)
{
	static const struct { unsigned payload; uint16_t mss; uint8_t flags; } cases[] = {
		{ 4000,  1448, TCPF_ACK | TCPF_PSH },
		{ 2896,  1448, TCPF_ACK | TCPF_PSH | TCPF_FIN },
		{ 64000, 1448, TCPF_ACK | TCPF_CWR_ | TCPF_PSH },
		{ 65000, 9000, TCPF_ACK | TCPF_FIN | TCPF_CWR_ | TCPF_ECE_ },
		{ 1001,  1448, TCPF_ACK | TCPF_FIN | TCPF_CWR_ },
		{ 3333,  536,  TCPF_ACK },
		{ 999,   1,    TCPF_ACK | TCPF_PSH },
	};
	static uint8_t seg[65536 + 128];
	static uint8_t whole[65536];

	UNIT_SECTION("GSO segmentation");
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		unsigned payload = cases[c].payload, mss = cases[c].mss, bad = 0, cnt, got = 0;
		uint32_t len = build(IPPROTO_TCP, payload, (const uint8_t *)"\x01\x01\x01\x00", 4);
		uint8_t *tcp = IPH + 24;
		uint32_t seq0 = 0x01020304u, seq;
		struct pkt p;

		/* Options on the TCP side too (a timestamp-sized 12 bytes): doff 8. */
		memmove(tcp + 32, tcp + 20, payload);
		memset(tcp + 20, 1, 12);
		tcp[12] = 8 << 4;
		tcp[13] = cases[c].flags;
		frame_wr16(IPH + 2, (uint16_t)(24 + 32 + payload));
		len += 12;
		fix_ip();
		memcpy(whole, tcp + 32, payload);
		make_partial();
		VH->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		VH->gso_size = (uint16_t)mss;
		if (!CHECK(pkt_parse(&p, buf, len) == STAT_NONE, "super-frame %zu parsed", c))
			continue;
		cnt = pkt_gso_count(&p);
		CHECK_EQ(cnt, (payload + mss - 1) / mss, "super-frame %zu: %u bytes in %u-byte segments", c,
		    payload, mss);
		for (unsigned i = 0; i < cnt; i++) {
			const uint8_t *pay;
			uint32_t plen, hlen = pkt_gso_segment(&p, i, seg, &pay, &plen);
			uint8_t fl = seg[24 + 13];

			memcpy(seg + hlen, pay, plen);
			memcpy(&seq, seg + 24 + 4, 4);
			if (hlen != 24 + 32 || frame_rd16(seg + 2) != hlen + plen || frame_rd16(seg + 4) != ((0x1234 + i) & 0xffff) ||
			    ref_ip_csum(seg) != frame_rd16(seg + 10) || ref_l4_verify(seg) != 0xffff ||
			    ntohl(seq) != seq0 + i * mss || memcmp(seg + hlen, whole + i * mss, plen) != 0 ||
			    memcmp(seg + 24 + 20, tcp + 20, 12) != 0)
				bad++;
			if ((i == cnt - 1 ? (uint8_t)(cases[c].flags & (TCPF_FIN | TCPF_PSH)) : 0) !=
			    (fl & (TCPF_FIN | TCPF_PSH)))
				bad++;
			if ((i == 0 ? (uint8_t)(cases[c].flags & TCPF_CWR_) : 0) != (fl & TCPF_CWR_))
				bad++;
			if ((fl & (TCPF_ACK | TCPF_ECE_)) != (cases[c].flags & (TCPF_ACK | TCPF_ECE_)))
				bad++;
			if (i < cnt - 1 && plen != mss)
				bad++;
			got += plen;
		}
		CHECK(bad == 0 && got == payload,
		    "super-frame %zu: lengths, IP IDs, sequence numbers, flags, payload and checksums of %u segments",
		    c, cnt);
	}
}

/* tcp_opt_next: the options it yields, in order, and where the list ends. */
static void
test_tcp_opts(void)
{
	static const struct {
		const char *what;
		uint8_t     opt[40];
		unsigned    len;
		int         want[8];  /* offsets yielded, then -1 */
	} cases[] = {
		{ .what = "no options", .len = 0, .want = { -1 } },
		{ .what = "MSS alone",
		  .opt = { 2, 4, 5, 180 }, .len = 4, .want = { 0, -1 } },
		{ .what = "NOP, NOP, timestamps",
		  .opt = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 }, .len = 12, .want = { 2, -1 } },
		{ .what = "a SYN's: MSS, SACK permitted, timestamps, NOP, window scale",
		  .opt = { 2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 },
		  .len = 20, .want = { 0, 4, 6, 17, -1 } },
		{ .what = "40 bytes: NOP, NOP, SACK of 4 blocks, 4 NOPs",
		  .opt = { 1, 1, 5, 34, [36] = 1, 1, 1, 1 }, .len = 40, .want = { 2, -1 } },
		{ .what = "an option whose length reaches the end exactly",
		  .opt = { 1, 30, 10, 0, 0, 0, 0, 0, 0, 0, 0 }, .len = 11, .want = { 1, -1 } },
		{ .what = "NOPs alone", .opt = { 1, 1, 1, 1 }, .len = 4, .want = { -1 } },
		{ .what = "EOL ends the list: what follows is padding",
		  .opt = { 2, 4, 5, 180, 0, 2, 4, 1, 1 }, .len = 9, .want = { 0, -1 } },
		{ .what = "EOL first", .opt = { 0, 2, 4, 5, 180 }, .len = 5, .want = { -1 } },
		{ .what = "length 0: the walk stops (no endless loop)",
		  .opt = { 3, 0, 2, 4, 5, 180 }, .len = 6, .want = { -1 } },
		{ .what = "length 1 after an MSS",
		  .opt = { 2, 4, 5, 180, 3, 1, 3, 3 }, .len = 8, .want = { 0, -1 } },
		{ .what = "a length past the end after an MSS",
		  .opt = { 2, 4, 5, 180, 5, 10, 0, 0, 0, 0 }, .len = 10, .want = { 0, -1 } },
		{ .what = "a kind in the last byte, no length byte",
		  .opt = { 1, 1, 1, 2 }, .len = 4, .want = { -1 } },
		{ .what = "an MSS cut short by the list's length",
		  .opt = { 2, 4, 5, 180 }, .len = 3, .want = { -1 } },
		{ .what = "an empty option (length 2), then NOP and EOL",
		  .opt = { 4, 2, 1, 0 }, .len = 4, .want = { 0, -1 } },
	};

	UNIT_SECTION("tcp_opt_next: TCP options");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned at = 0, n = 0;
		int got[9], ok = 1;

		while (n < 8 && (got[n] = tcp_opt_next(cases[c].opt, cases[c].len, &at)) >= 0)
			n++;
		for (unsigned k = 0; k <= n && k < 8; k++)
			if (got[k] != cases[c].want[k])
				ok = 0;
		if (!CHECK(ok && n < 8, "%s: options at the offsets wanted", cases[c].what))
			for (unsigned k = 0; k <= n && k < 8; k++)
				printf("#   %u: got %d, want %d\n", k, got[k], cases[c].want[k]);
		CHECK_EQ(at, cases[c].len, "%s: the walk ends at the list's end", cases[c].what);
		CHECK_EQ(tcp_opt_next(cases[c].opt, cases[c].len, &at), -1,
		    "%s: and stays there", cases[c].what);
	}
}

int
main(void)
{
	test_parse_table();
	test_parse_fields();
	test_fragments();
	test_quoted();
	test_csum_known();
	test_csum_replace_direct();
	test_csum_random();
	test_nat_rewrite();
	test_vnet_parse();
	test_vnet_rewrite();
	test_gso_segment();
	test_tcp_opts();
	return unit_done();
}
