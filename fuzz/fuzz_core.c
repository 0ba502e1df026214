/* fuzz_core.c - libFuzzer harness: one worker's whole packet path over the live configuration */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conn.h"
#include "core.h"
#include "fuzz.h"
#include "fzframe.h"
#include "laddr.h"
#include "packet.h"
#include "stats.h"
#include "svc.h"
#include "synproxy.h"
#include "unit.h"
#include "worker.h"
#include "xmit.h"

/*
 * A worker as core.c runs one: frames parsed by pkt_parse(), then
 * core_input() down through the real transmitters (dr, tun, nat,
 * fullnat, ICMP, ARP, neighbour discovery), the connection table, the
 * schedulers and the fullnat port allocator, over the services of the
 * live configuration (fuzz.h, parsed from its file; real servers bound
 * by xmit_bind). The output layer (TAP, links, tunnels) and the host's
 * routes and neighbours are tests/unit/stubs.c's, which record each
 * frame handed to them.
 *
 * The input is a sequence of records: OP (1 byte), LEN (2 bytes,
 * big-endian), then LEN bytes of receive buffer (the virtio-net header
 * and the frame). OP's low 4 bits move the worker's clock forward by
 * that many seconds times 16 first, and expire connections as the
 * timer does; bit 4 leaves the frame's checksums as they came
 * (otherwise they are made right, as a sender's stack makes them:
 * fzframe.h), and the frame then goes unchecked by the oracles below;
 * bit 5 keeps an IPv4 UDP checksum of 0 (none).
 * The connection table is emptied after each input, so that inputs do
 * not depend on one another.
 *
 * Oracles, on every frame the worker sends: an IPv4 or IPv6 packet
 * that lies within what was recorded, whose IP length is its length,
 * whose IPv4 header checksum verifies, and whose TCP, UDP or ICMP
 * checksum verifies when it is complete (a partial one, NEEDS_CSUM, is
 * the pseudo-header sum of the new addresses); for a tunnel, the inner
 * packet likewise. The whole packet path under ASan and UBSan.
 */

static const uint8_t fz_tap_mac[6] = { 0x02, 0, 0, 0, 0, 0xaa };
static const uint8_t fz_our_mac[6] = { 0x02, 0, 0, 0, 0, 0xbb };

static struct worker fz_w;
static uint8_t *fz_buf;
static struct config *fz_conf;
static bool fz_verbose;         /* VSR_FUZZ_LOG: what became of each frame */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	fz_verbose = getenv("VSR_FUZZ_LOG") != NULL;
	fz_conf = fuzz_live_load();
	fz_buf = aligned_alloc(16, PKT_BUF_STRIDE);
	fz_w.ct = conn_table_new(fz_conf->conn_max, 0);
	/* The SYN proxy's cookies under a fixed secret: a run is repeatable. */
	synproxy_seed(1, 2, 0);
	memcpy(fz_w.our_mac, fz_our_mac, 6);
	memcpy(fz_w.tap_mac, fz_tap_mac, 6);
	if (fz_buf == NULL || fz_w.ct == NULL || laddr_setup(fz_conf->laddr, fz_conf->nladdr) < 0)
		abort();
	xmit_init(99);
	svc_set_binder(xmit_bind);
	if (svc_setup(fz_conf) < 0) {
		fprintf(stderr, "fuzz: the live configuration does not set up\n");
		abort();
	}
	return 0;
}

/* A partial (NEEDS_CSUM) TCP or UDP checksum at L4 holds the pseudo-header sum PSEUDO. */
static void
fz_check_partial(const uint8_t *l4, uint32_t len, uint8_t proto, uint16_t pseudo, const char *what)
{
	unsigned at = proto == IPPROTO_TCP ? 16 : 6;

	FUZZ_ASSERT(proto != IPPROTO_ICMP && proto != IPPROTO_ICMPV6 && len >= at + 2,
	    "%s: a partial checksum on protocol %u", what, proto);
	FUZZ_ASSERT(frame_rd16(l4 + at) == pseudo, "%s: the partial checksum %#x is not the "
	    "pseudo-header sum %#x", what, frame_rd16(l4 + at), pseudo);
}

/* The IP packet at IP of at most ROOM bytes (recorded) holds together. */
static void
fz_check_ip(const uint8_t *ip, uint32_t room, bool partial, const char *what)
{
	uint32_t tl, hl;
	uint8_t proto;

	FUZZ_ASSERT(room >= 20, "%s: %u bytes", what, room);
	if ((ip[0] >> 4) == 4) {
		hl = (ip[0] & 0x0fu) * 4u;
		tl = frame_rd16(ip + 2);
		proto = ip[9];
		FUZZ_ASSERT(hl >= 20 && tl >= hl && tl <= room, "%s: IPv4 header %u, length %u of %u",
		    what, hl, tl, room);
		FUZZ_ASSERT(frame_ip_ok(ip), "%s: the IPv4 header checksum verifies", what);
		if (frame_rd16(ip + 6) & 0x3fff)
			return;         /* a fragment: its transport is not all here */
		if (proto == IPPROTO_IPIP || proto == IPPROTO_GRE) {
			unsigned gre = proto == IPPROTO_GRE ? 4u + ((ip[hl] & 0x20) ? 4u : 0u) : 0u;
			if (tl >= hl + gre + 20)
				fz_check_ip(ip + hl + gre, tl - hl - gre, partial, "inner");
			return;
		}
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_ICMP)
			return;
		if (partial)
			fz_check_partial(ip + hl, tl - hl, proto, frame_pseudo(ip, proto, tl - hl), what);
		else
			FUZZ_ASSERT(frame_l4_ok(ip), "%s: the %u checksum verifies", what, proto);
		return;
	}
	FUZZ_ASSERT((ip[0] >> 4) == 6 && room >= 40, "%s: version %u", what, ip[0] >> 4);
	tl = 40u + frame_rd16(ip + 4);
	FUZZ_ASSERT(tl <= room, "%s: IPv6 length %u of %u", what, tl, room);
	proto = ip[6];
	if (proto == IPPROTO_IPV6 || proto == IPPROTO_IPIP) {
		if (tl >= 60)
			fz_check_ip(ip + 40, tl - 40, partial, "inner");
		return;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_ICMPV6)
		return;         /* extension headers: the parser's harness checks those */
	if (partial)
		fz_check_partial(ip + 40, tl - 40, proto, frame_pseudo6(ip, proto, tl - 40), what);
	else
		FUZZ_ASSERT(frame_l4_ok6(ip), "%s: the %u checksum verifies", what, proto);
}

static void
fz_check_out(void)
{
	for (unsigned i = 0; i < stub_nout && i < STUB_OUT_MAX; i++) {
		const struct stub_frame *f = &stub_out[i];
		bool partial = f->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
		const uint8_t *ip = f->data;
		uint32_t room = f->len;
		uint16_t et;

		if (f->len == sizeof(f->data))
			continue;       /* cut by the recorder: not all of it is here */
		if (f->out != STUB_TUNNEL) {
			FUZZ_ASSERT(f->len >= 14, "frame %u: %u bytes", i, f->len);
			et = frame_rd16(f->data + 12);
			if (et == 0x0806)
				continue;
			FUZZ_ASSERT(et == 0x0800 || et == 0x86dd, "frame %u: ethertype %#x", i, et);
			ip += 14;
			room -= 14;
		}
		fz_check_ip(ip, room, partial, f->out == STUB_TAP ? "to the TAP" :
		    f->out == STUB_LINK ? "to a link" : "into a tunnel");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_w.now = 1;
	while (size >= 3) {
		uint8_t op = data[0];
		uint32_t len = (uint32_t)data[1] << 8 | data[2];
		enum stat_id st;
		struct pkt p;

		data += 3;
		size -= 3;
		if (len > size)
			len = (uint32_t)size;
		if (op & 0x0f) {
			fz_w.now += (op & 0x0fu) * 16u * CONN_HZ;
			conn_expire_run(fz_w.ct, fz_w.now);
		}
		if (len >= PKT_VNET_LEN && len <= PKT_BUF_SIZE) {
			memcpy(fz_buf, data, len);
			if (!(op & 0x10))
				fz_fix_ip4(fz_buf + PKT_VNET_LEN, len - PKT_VNET_LEN);
			stub_nout = 0;
			st = pkt_parse(&p, fz_buf, len - PKT_VNET_LEN);
			/* ARP parses without an IP layer: nothing to fix there. */
			if (st == STAT_NONE && !(op & 0x10) && p.ethtype != ETHTYPE_ARP)
				fz_fix(&p, op & 0x20);
			if (st == STAT_NONE) {
				core_input(&fz_w, &p);
				/* A frame whose checksums were wrong to begin with stays wrong. */
				if (!(op & 0x10))
					fz_check_out();
			}
			if (fz_verbose)
				fprintf(stderr, "fuzz: %u bytes: %s, %u frames out%s\n", len,
				    st == STAT_NONE ? "parsed" : stat_name(st), stub_nout,
				    stub_nout ? (stub_out[0].out == STUB_TAP ? " (TAP)" :
				    stub_out[0].out == STUB_LINK ? " (link)" : " (tunnel)") : "");
		}
		data += len;
		size -= len;
	}
	conn_flush(fz_w.ct);
	return 0;
}
