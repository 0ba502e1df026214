/* fuzz_pkt.c - libFuzzer harness: the frame parser, the nat rewrites and segmentation, checked from scratch */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fzframe.h"

/*
 * The input: one control byte, the rewrite's values (a source and a
 * destination address of 16 bytes each, a source and a destination port,
 * an MTU), then a receive buffer as the TAP fills it: the virtio-net
 * header and an Ethernet frame.
 *
 * The frame goes through pkt_parse(). When it parses, the harness first
 * makes its checksums valid from scratch where the frame says they are
 * (control bit 0 clear; with it set the frame is taken as it came), with
 * tests/unit/frame.h's RFC 1071 sums, which share nothing with pkt.c;
 * then applies what the packet path would, and checks from scratch:
 *
 *   TCP, UDP    nat and fullnat: pkt_set_saddr, _daddr, _sport, _dport
 *               (incremental, RFC 1624); the IPv4 header checksum and the
 *               transport checksum verify, the fields hold the new values;
 *               a UDP checksum of 0 (IPv4) stays 0. A partial checksum
 *               (NEEDS_CSUM) holds the new pseudo-header sum, and
 *               pkt_csum_finish() completes one that verifies.
 *   super-frame pkt_gso_segment(): as many segments as pkt_gso_count()
 *               says, each of gso_size bytes but the last, whose payloads
 *               are the super-frame's, in order, adding up to it; each
 *               segment's IP header and TCP checksum verify, its sequence
 *               number is the first plus its offset;
 *               pkt_gso_segment_partial(): the same headers, the TCP
 *               checksum field the segment's pseudo-header sum alone.
 *   ICMP error  pkt_icmp_nat() of the quoted packet: the ICMP (ICMPv6)
 *               checksum verifies, and the quote, parsed again, holds the
 *               new addresses and ports.
 *   echo        pkt_echo_reply(): addresses swapped, checksums verify.
 *   too big     pkt_too_big() of any packet: at most PKT_TOO_BIG_MAX
 *               bytes, from its destination to its source, checksums that
 *               verify.
 *
 * And of the parser: what it accepts lies within the bytes given, and the
 * transport header and payload end where the IP length says.
 */

#define FZ_HDR (1 + 16 + 16 + 2 + 2 + 2)

static uint8_t *fz_buf;         /* a receive buffer */
static uint8_t *fz_orig;        /* the frame before any rewrite */
static uint8_t *fz_seg;         /* one segment, headers and payload */
static bool fz_verbose;         /* VSR_FUZZ_LOG: say what each frame parsed to */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	fz_verbose = getenv("VSR_FUZZ_LOG") != NULL;
	/* aligned_alloc: the IP header 4-byte aligned, as in the daemon's buffers */
	fz_buf = aligned_alloc(16, PKT_BUF_STRIDE);
	fz_orig = aligned_alloc(16, PKT_BUF_STRIDE);
	fz_seg = aligned_alloc(16, PKT_BUF_STRIDE);
	if (fz_buf == NULL || fz_orig == NULL || fz_seg == NULL)
		abort();
	return 0;
}

/* Zero the IPv4 header and transport checksums of P's frame at FRAME. */
static void
fz_zero_csums(const struct pkt *p, uint8_t *frame)
{
	if (!fz_v6(p))
		memset(frame + p->l3off + IP4_CSUM, 0, 2);
	memset(frame + p->l4off + fz_csum_at(p->proto), 0, 2);
}

static void
fz_check_ip(const struct pkt *p, const char *what)
{
	if (!fz_v6(p))
		FUZZ_ASSERT(frame_ip_ok(fz_ip(p)), "%s: the IPv4 header checksum", what);
}

/* The addresses of P's header are A (source) and B (destination). */
static void
fz_check_addrs(const struct pkt *p, const union vsr_addr *a, const union vsr_addr *b,
    const char *what)
{
	unsigned alen = fz_v6(p) ? 16 : 4, so = fz_v6(p) ? IP6_SADDR : IP4_SADDR,
	    dso = fz_v6(p) ? IP6_DADDR : IP4_DADDR;

	FUZZ_ASSERT(memcmp(fz_ip(p) + so, a->b, alen) == 0 && memcmp(fz_ip(p) + dso, b->b, alen) == 0,
	    "%s: the addresses in the header", what);
}

/* nat, fullnat: both addresses and both ports, as xmit_nat.c rewrites them. */
static void
fz_rewrite(struct pkt *p, const union vsr_addr *s, const union vsr_addr *d, uint16_t sport,
    uint16_t dport)
{
	const uint8_t *l4 = p->data + p->l4off;
	bool udp0 = p->proto == IPPROTO_UDP && !fz_v6(p) && frame_rd16(l4 + 6) == 0 &&
	    p->csum == PKT_CSUM_FULL;

	pkt_set_saddr(p, s);
	pkt_set_daddr(p, d);
	pkt_set_sport(p, sport);
	pkt_set_dport(p, dport);
	fz_check_ip(p, "nat");
	fz_check_addrs(p, s, d, "nat");
	FUZZ_ASSERT(memcmp(l4, &sport, 2) == 0 && memcmp(l4 + 2, &dport, 2) == 0 &&
	    p->sport == sport && p->dport == dport, "nat: the ports");
	if (udp0)
		FUZZ_ASSERT(frame_rd16(l4 + 6) == 0, "nat: a UDP checksum of 0 stays 0");
	if (p->csum == PKT_CSUM_FULL) {
		FUZZ_ASSERT(fz_l4_ok(p), "nat: the %s checksum verifies after the rewrite",
		    p->proto == IPPROTO_TCP ? "TCP" : "UDP");
		if (p->proto == IPPROTO_UDP && !udp0)
			FUZZ_ASSERT(frame_rd16(l4 + 6) != 0, "nat: a UDP checksum became 0");
		return;
	}
	FUZZ_ASSERT(frame_rd16(l4 + fz_csum_at(p->proto)) == fz_pseudo(p, p->l4len),
	    "nat: the partial checksum is the new pseudo-header sum");
}

/* A super-frame's segments: payloads in order adding up, each segment whole and valid. */
static void
fz_segments(const struct pkt *p)
{
	const uint8_t *l4 = p->data + p->l4off;
	unsigned n = pkt_gso_count(p), doff = (l4[12] >> 4) * 4u;
	const uint8_t *pay0 = l4 + doff;
	uint32_t total = p->l4len - doff, off = 0, seq0;
	uint8_t hdr[PKT_GSO_SEG_HDR], part[PKT_GSO_SEG_HDR];

	memcpy(&seq0, l4 + 4, 4);
	seq0 = ntohl(seq0);
	FUZZ_ASSERT(n >= 1 && n == (total ? (total + p->gso_size - 1) / p->gso_size : 1),
	    "gso: %u segments for %u bytes of %u", n, total, p->gso_size);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *pay;
		uint32_t plen, hlen = pkt_gso_segment(p, i, hdr, &pay, &plen), seq;
		unsigned ihl = fz_v6(p) ? 40 : (hdr[0] & 0x0fu) * 4u;
		uint32_t tl;
		const uint8_t *sip = fz_seg, *stcp;

		FUZZ_ASSERT(hlen == p->l4off - p->l3off + doff && hlen <= PKT_GSO_SEG_HDR,
		    "gso: segment %u's headers are %u bytes", i, hlen);
		FUZZ_ASSERT(pay == pay0 + off, "gso: segment %u's payload at %td, not %u", i,
		    pay - pay0, off);
		FUZZ_ASSERT(plen == (i + 1 < n ? p->gso_size : total - off),
		    "gso: segment %u of %u has %u bytes", i, n, plen);
		memcpy(fz_seg, hdr, hlen);
		memcpy(fz_seg + hlen, pay, plen);
		stcp = fz_seg + (p->l4off - p->l3off);
		tl = (uint32_t)(stcp - sip) + doff + plen;
		if (fz_v6(p)) {
			FUZZ_ASSERT(frame_rd16(sip + 4) == tl - 40, "gso: segment %u's payload length", i);
			FUZZ_ASSERT(frame_sum(stcp, doff + plen, frame_pseudo6(sip, IPPROTO_TCP,
			    doff + plen)) == 0xffff, "gso: segment %u's TCP checksum verifies", i);
		} else {
			FUZZ_ASSERT(frame_rd16(sip + 2) == tl && ihl >= 20,
			    "gso: segment %u's total length", i);
			FUZZ_ASSERT(frame_ip_ok(sip), "gso: segment %u's IP header checksum", i);
			FUZZ_ASSERT(frame_l4_ok(sip), "gso: segment %u's TCP checksum verifies", i);
		}
		memcpy(&seq, stcp + 4, 4);
		FUZZ_ASSERT(ntohl(seq) == seq0 + off, "gso: segment %u's sequence number", i);
		/* GUE's remote checksum offload: the same segment, its checksum left partial. */
		const uint8_t *ppay;
		uint32_t pplen, phlen = pkt_gso_segment_partial(p, i, part, &ppay, &pplen);
		unsigned at = (unsigned)(stcp - sip) + 16;
		FUZZ_ASSERT(phlen == hlen && ppay == pay && pplen == plen &&
		    memcmp(part, hdr, at) == 0 && memcmp(part + at + 2, hdr + at + 2, hlen - at - 2) == 0,
		    "gso: partial segment %u's headers are the full one's", i);
		FUZZ_ASSERT(frame_rd16(part + at) == (fz_v6(p) ?
		    frame_pseudo6(sip, IPPROTO_TCP, doff + plen) : frame_pseudo(sip, IPPROTO_TCP, doff + plen)),
		    "gso: partial segment %u's TCP checksum field is its pseudo-header sum", i);
		off += plen;
	}
	FUZZ_ASSERT(off == total, "gso: segments carry %u of %u bytes", off, total);
}

/* The ICMP (ICMPv6) checksum of P verifies from scratch. */
static bool
fz_icmp_ok(const struct pkt *p)
{
	return frame_sum(p->data + p->l4off, p->l4len, fz_pseudo(p, p->l4len)) == 0xffff;
}

static void
fz_icmp_error(struct pkt *p, const union vsr_addr *s, const union vsr_addr *d, uint16_t sport,
    uint16_t dport)
{
	struct pkt_quoted q;

	if (pkt_parse_quoted(p, &q) < 0 || (q.proto != IPPROTO_TCP && q.proto != IPPROTO_UDP))
		return;
	/* As xmit_nat.c: the outer pair and the quoted one, here from the input. */
	pkt_icmp_nat(p, d, s, s, sport, d, dport);
	fz_check_ip(p, "icmp nat");
	fz_check_addrs(p, d, s, "icmp nat");
	FUZZ_ASSERT(fz_icmp_ok(p), "icmp nat: the ICMP checksum verifies");
	FUZZ_ASSERT(pkt_parse_quoted(p, &q) == 0, "icmp nat: the quote parses again");
	FUZZ_ASSERT(addr_eq(&q.saddr, s) && addr_eq(&q.daddr, d) && q.sport == sport &&
	    q.dport == dport, "icmp nat: the quote holds the new addresses and ports");
	if (!fz_v6(p))
		FUZZ_ASSERT(frame_ip_ok(p->data + q.off), "icmp nat: the quoted IP header checksum");
}

static void
fz_too_big(const struct pkt *p, unsigned mtu)
{
	uint8_t out[PKT_TOO_BIG_MAX + 64];
	uint32_t len = pkt_too_big(p, mtu, out);
	unsigned alen = fz_v6(p) ? 16 : 4, so = fz_v6(p) ? IP6_SADDR : IP4_SADDR,
	    dso = fz_v6(p) ? IP6_DADDR : IP4_DADDR;

	FUZZ_ASSERT(len >= (fz_v6(p) ? 48u : 28u) && len <= PKT_TOO_BIG_MAX, "too big: %u bytes",
	    len);
	FUZZ_ASSERT(memcmp(out + so, fz_ip(p) + dso, alen) == 0 &&
	    memcmp(out + dso, fz_ip(p) + so, alen) == 0, "too big: from P's destination to its source");
	if (fz_v6(p)) {
		FUZZ_ASSERT(frame_rd16(out + 4) == len - 40 && out[6] == IPPROTO_ICMPV6,
		    "too big: the IPv6 header");
		FUZZ_ASSERT(frame_l4_ok6(out), "too big: the ICMPv6 checksum verifies");
	} else {
		FUZZ_ASSERT(frame_rd16(out + 2) == len && out[9] == IPPROTO_ICMP &&
		    (out[0] & 0x0f) == 5, "too big: the IPv4 header");
		FUZZ_ASSERT(frame_ip_ok(out) && frame_l4_ok(out), "too big: the checksums verify");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union vsr_addr s, d, os, od;
	uint16_t sport, dport, mtu16;
	enum stat_id st;
	uint8_t ctl;
	struct pkt p;
	uint32_t len;

	if (size < FZ_HDR + PKT_VNET_LEN || size - FZ_HDR > PKT_BUF_SIZE)
		return 0;
	ctl = data[0];
	memcpy(s.b, data + 1, 16);
	memcpy(d.b, data + 17, 16);
	memcpy(&sport, data + 33, 2);
	memcpy(&dport, data + 35, 2);
	memcpy(&mtu16, data + 37, 2);
	len = (uint32_t)(size - FZ_HDR - PKT_VNET_LEN);
	memcpy(fz_buf, data + FZ_HDR, PKT_VNET_LEN + len);

	/* The parser checks an IPv4 header's checksum: made right first, unless bit 0 says not. */
	if (!(ctl & 1))
		fz_fix_ip4(fz_buf + PKT_VNET_LEN, len);
	st = pkt_parse(&p, fz_buf, len);
	if (fz_verbose)
		fprintf(stderr, "fuzz: %u bytes: %s\n", len, st == STAT_NONE ? "parsed" : stat_name(st));
	if (st != STAT_NONE || p.ethtype == ETHTYPE_ARP)
		return 0;
	FUZZ_ASSERT(p.data == fz_buf + PKT_VNET_LEN && p.len <= len && p.l3off >= ETH_HLEN_ &&
	    p.l4off >= p.l3off + (fz_v6(&p) ? IP6_HLEN : IP4_HLEN) &&
	    (uint32_t)p.l4off + p.l4len == p.len, "parse: l3 %u l4 %u+%u in %u of %u bytes",
	    p.l3off, p.l4off, p.l4len, p.len, len);
	if (!fz_v6(&p)) {
		memset(s.b + 4, 0, 12);
		memset(d.b + 4, 0, 12);
	}
	/*
	 * A later fragment: no transport header, its bytes are payload. The
	 * rewrite sets the addresses (and the ports it carries in struct pkt
	 * only) and leaves every byte after the IP header as it was.
	 */
	if (p.frag == PKT_FRAG_LATER) {
		memcpy(fz_orig, fz_buf, PKT_VNET_LEN + p.len);
		pkt_set_saddr(&p, &s);
		pkt_set_daddr(&p, &d);
		pkt_set_sport(&p, sport);
		pkt_set_dport(&p, dport);
		if (!(ctl & 1))
			fz_check_ip(&p, "nat, a later fragment");
		fz_check_addrs(&p, &s, &d, "nat, a later fragment");
		FUZZ_ASSERT(memcmp(fz_buf + PKT_VNET_LEN + p.l4off, fz_orig + PKT_VNET_LEN + p.l4off,
		    p.l4len) == 0, "nat, a later fragment: its payload changed");
		return 0;
	}
	if (!(ctl & 1))
		fz_fix(&p, ctl & 2);
	memcpy(fz_orig, fz_buf, PKT_VNET_LEN + p.len);
	os = p.saddr;
	od = p.daddr;

	if (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP) {
		bool valid = (ctl & 1) == 0 || (p.csum == PKT_CSUM_FULL && fz_l4_ok(&p));

		fz_too_big(&p, fz_v6(&p) ? IP6_MIN_MTU + mtu16 % 64000u : 68u + mtu16 % 65000u);
		if (!valid)
			return 0;       /* a checksum wrong to begin with stays wrong: no oracle */
		fz_rewrite(&p, &s, &d, sport, dport);
		if (p.gso_size)
			fz_segments(&p);
		else if (p.csum == PKT_CSUM_PARTIAL) {
			pkt_csum_finish(&p);
			FUZZ_ASSERT(p.csum == PKT_CSUM_FULL && fz_l4_ok(&p),
			    "finish: the completed checksum verifies");
		}
		/* And back, as the reply's rewrite: the frame is what it was. */
		if (!p.gso_size && p.csum == PKT_CSUM_FULL && (ctl & 4)) {
			uint16_t osp, odp;

			memcpy(&osp, fz_orig + PKT_VNET_LEN + p.l4off, 2);
			memcpy(&odp, fz_orig + PKT_VNET_LEN + p.l4off + 2, 2);
			fz_rewrite(&p, &os, &od, osp, odp);
			/* Byte for byte but the checksums (0x0000 and 0xffff are one value). */
			fz_zero_csums(&p, fz_buf + PKT_VNET_LEN);
			fz_zero_csums(&p, fz_orig + PKT_VNET_LEN);
			FUZZ_ASSERT(memcmp(fz_buf + PKT_VNET_LEN, fz_orig + PKT_VNET_LEN, p.len) == 0,
			    "nat there and back: the frame changed");
		}
		return 0;
	}
	if (p.proto != p.ops->icmp_proto || ((ctl & 1) && !fz_icmp_ok(&p)))
		return 0;
	switch (p.icmp) {
	case PKT_ICMP_ERROR:
		fz_icmp_error(&p, &s, &d, sport, dport);
		break;
	case PKT_ICMP_ECHO:
		pkt_echo_reply(&p);
		fz_check_ip(&p, "echo");
		fz_check_addrs(&p, &od, &os, "echo");
		FUZZ_ASSERT(fz_icmp_ok(&p), "echo: the reply's checksum verifies");
		break;
	default:
		break;
	}
	return 0;
}
