/* test_output.c - the output queues: nothing leaves during a batch, everything at its flush */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sched.h>    /* CLONE_NEWNET; <sched.h> is shadowed by src/sched.h under -Isrc */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conn.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "packet.h"
#include "stats.h"
#include "tunnel.h"
#include "unit.h"
#include "worker.h"
#include "xmit.h"
#include "frame.h"

/*
 * In a private network namespace, as root (skipped otherwise, as
 * test_netlink):
 *
 *   veth0 10.99.0.1/24 ===== veth1 (up, no address)
 *   10.99.0.2 lladdr 02:00:00:00:00:02 permanent on veth0
 *
 * A worker's batch queues its output while the data-path lock is held
 * (core.c); what it queued is sent after the lock is released. So a
 * batch of RX_BATCH frames to one link, or super-frames cut into more
 * tunnel segments than a sendmmsg() takes, must leave nothing on the wire
 * before the flush, and everything at it. A packet socket on veth0 sees
 * each frame sent there (PACKET_OUTGOING), synchronously.
 */

#define MARK_ETHTYPE 0x88b5     /* IEEE local experimental: the link's test frames */

static int
sh(const char *cmd)
{
	return system(cmd);
}

static unsigned bad_inner;      /* IPIP segments whose inner checksums do not verify */
#define GUE_PORT 6080
static unsigned gue, bad_gue;   /* GUE packets sent, and those wrong in any way (below) */
static unsigned gue_sport;      /* the UDP source port of the first one, 0: none yet */

/*
 * A GUE packet: UDP to GUE_PORT with a checksum that verifies (at L4 of
 * OUTER, an IPv4 or IPv6 packet), a source port in Linux's ephemeral
 * range and the same for each TCP segment (one flow), GUE version 0 without options
 * for an inner packet of the family OUTER has, whose checksums verify.
 */
static void
gue_check(const uint8_t *outer, int v6)
{
	const uint8_t *udp = outer + (v6 ? 40 : (outer[0] & 0x0f) * 4);
	uint16_t sport = frame_rd16(udp);
	int ok = frame_rd16(udp + 6) != 0 && (v6 ? frame_l4_ok6(outer) : frame_l4_ok(outer)) &&
	    sport >= 32768 && sport <= 60999 &&
	    tunnel_gue_parse(udp + 8, frame_rd16(udp + 4) - 8) == (v6 ? AF_INET6 : AF_INET);
	const uint8_t *inner = udp + 8 + TUNNEL_GUE_HLEN;

	if (ok)
		ok = v6 ? frame_l4_ok6(inner) : frame_ip_ok(inner) && frame_l4_ok(inner);
	/* The TCP segments are one flow: one source port. */
	if (inner[v6 ? 6 : 9] == IPPROTO_TCP) {
		if (gue_sport == 0)
			gue_sport = sport;
		else if (sport != gue_sport)
			ok = 0;
	}
	gue++;
	if (!ok)
		bad_gue++;
}

/* Frames sent on the watched link since the last call: the link's test frames, and IPIP ones. */
static void
sent(int fd, unsigned *marked, unsigned *ipip)
{
	uint8_t b[2048];

	*marked = *ipip = 0;
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (from.sll_pkttype != PACKET_OUTGOING || n < 34)
			continue;
		if (frame_rd16(b + 12) == MARK_ETHTYPE)
			(*marked)++;
		else if (frame_rd16(b + 12) == 0x0800 && b[14 + 9] == IPPROTO_UDP &&
		    frame_rd16(b + 14 + (b[14] & 0x0f) * 4 + 2) == GUE_PORT)
			gue_check(b + 14, 0);
		else if (frame_rd16(b + 12) == 0x86dd && b[14 + 6] == IPPROTO_UDP &&
		    frame_rd16(b + 14 + 40 + 2) == GUE_PORT)
			gue_check(b + 14, 1);
		else if (frame_rd16(b + 12) == 0x0800 && b[14 + 9] == IPPROTO_IPIP) {
			const uint8_t *inner = b + 14 + (b[14] & 0x0f) * 4;
			(*ipip)++;
			if (!frame_ip_ok(inner) || !frame_l4_ok(inner))
				bad_inner++;
		} else if (frame_rd16(b + 12) == 0x86dd && b[14 + 6] == IPPROTO_IPV6) {
			/* ip6ip6: the outer IPv6 header, then the inner IPv6 packet */
			(*ipip)++;
			if (!frame_l4_ok6(b + 14 + 40))
				bad_inner++;
		}
	}
}

int
main(void)
{
	static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
	static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	struct worker w = { .id = 0 };
	struct dest d = { .name = "t", .port = htons(80), .fwd = FWD_TUN, .tunnel = TUNNEL_IPIP };
	struct conn c = { .dest = &d };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	char err[256] = "";
	unsigned marked, ipip, segs = 0;
	int rbuf = 8 << 20, watch, veth0;
	struct link *l;

	if (geteuid() != 0) {
		printf("skip: needs root\n");
		return 77;
	}
	if (syscall(SYS_unshare, CLONE_NEWNET) < 0) {
		printf("skip: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	log_init("test_output", 1, LOG_LVL_WARNING);
	if (sh("ip link add veth0 type veth peer name veth1 && ip link set veth1 up && "
	    "ip link set veth0 up && ip addr add 10.99.0.1/24 dev veth0 && "
	    "ip neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 nud permanent dev veth0") != 0) {
		printf("not ok - set up veth0\n");
		return 1;
	}
	veth0 = (int)if_nametoindex("veth0");
	if (!CHECK(nl_init() == 0, "nl_init"))
		return unit_done();
	watch = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sll.sll_ifindex = veth0;
	if (!CHECK(watch >= 0 && bind(watch, (struct sockaddr *)&sll, sizeof(sll)) == 0 &&
	    setsockopt(watch, SOL_SOCKET, SO_RCVBUFFORCE, &rbuf, sizeof(rbuf)) == 0,
	    "a packet socket watches veth0"))
		return unit_done();

	w.rxbuf = calloc(RX_BATCH, PKT_BUF_STRIDE);
	w.rx = calloc(RX_BATCH, sizeof(*w.rx));
	if (w.rxbuf == NULL || w.rx == NULL)
		return 1;

	UNIT_SECTION("a link: a batch of RX_BATCH frames");
	l = link_get(veth0);
	if (!CHECK(l != NULL, "link_get veth0"))
		return unit_done();
	for (unsigned i = 0; i < RX_BATCH; i++) {
		uint8_t *buf = w.rxbuf + (size_t)i * PKT_BUF_STRIDE, *eth = buf + PKT_VNET_LEN;
		memset(buf, 0, PKT_VNET_LEN + 60);
		memcpy(eth, mac_b, 6);
		memcpy(eth + 6, mac_a, 6);
		frame_wr16(eth + 12, MARK_ETHTYPE);
		link_tx(l, w.id, link_sll(l, AF_INET), buf, 60);
	}
	sent(watch, &marked, &ipip);
	CHECK_EQ(marked, 0, "nothing sent on the link before the flush");
	link_flush_all(w.id);
	sent(watch, &marked, &ipip);
	CHECK_EQ(marked, RX_BATCH, "all of the batch sent at the flush");

	UNIT_SECTION("a tunnel: two super-frames of 40 segments each");
	d.af = AF_INET;
	d.addr = addr_from_ip(inet_addr("10.99.0.2"));
	if (!CHECK(xmit_tun_bind(&d, 0, err, sizeof(err)) == 0, "bind an ipip real server%s%s",
	    err[0] ? ": " : "", err))
		return unit_done();
	for (unsigned i = 0; i < 2; i++) {
		struct frame_spec f = {
			.dst = mac_a, .src = mac_b,
			.saddr = inet_addr("192.0.2.1"), .daddr = inet_addr("10.10.0.100"),
			.proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .tcpflags = 0x18,
			.plen = 40 * 1000, .gso_size = 1000,
		};
		uint8_t *buf = w.rxbuf + (size_t)i * PKT_BUF_STRIDE;
		uint32_t len = frame_build(buf, &f);
		struct pkt *p = &w.rx[i];
		if (!CHECK_EQ(pkt_parse(p, buf, len), STAT_NONE, "super-frame %u parses", i))
			return unit_done();
		segs += pkt_gso_count(p);
		CHECK_EQ(xmit_tun(&w, &c, p), 0, "super-frame %u queued", i);
	}
	CHECK_EQ(segs, 80, "80 segments");
	sent(watch, &marked, &ipip);
	CHECK_EQ(ipip, 0, "nothing sent into the tunnel before the flush");
	tunnel_flush_all(w.id);
	sent(watch, &marked, &ipip);
	CHECK_EQ(ipip, 80, "every segment sent at the flush");
	CHECK_EQ(bad_inner, 0, "each segment's inner IPv4 and TCP checksums verify");
	CHECK_EQ(stat_total(STAT_DROP_TUN_TX_ERROR), 0, "no tunnel send refused");

	UNIT_SECTION("an ip6ip6 tunnel: two IPv6 super-frames of 40 segments each");
	if (!CHECK(sh("sysctl -qw net.ipv6.conf.veth0.accept_dad=0 && "
	    "ip -6 addr add 2001:db8:99::1/64 dev veth0 nodad && "
	    "ip -6 neigh add 2001:db8:99::2 lladdr 02:00:00:00:00:02 nud permanent dev veth0") == 0,
	    "veth0 gets IPv6"))
		return unit_done();
	struct dest d6 = { .name = "t6", .af = AF_INET6, .port = htons(80), .fwd = FWD_TUN,
	    .tunnel = TUNNEL_IPIP };
	struct conn c6 = { .dest = &d6 };
	addr_pton("2001:db8:99::2", &d6.af, &d6.addr);
	err[0] = '\0';
	if (!CHECK(xmit_tun_bind(&d6, 0, err, sizeof(err)) == 0 && d6.tun_inner_max == 1500 - 40,
	    "bind an ip6ip6 real server: inner MTU 1460%s%s", err[0] ? ": " : "", err))
		return unit_done();
	segs = 0;
	bad_inner = 0;
	for (unsigned i = 0; i < 2; i++) {
		struct frame_spec f = {
			.dst = mac_a, .src = mac_b, .v6 = 1,
			.proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .tcpflags = 0x18,
			.plen = 40 * 1000, .gso_size = 1000,
		};
		inet_pton(AF_INET6, "2001:db8:c::1", f.saddr6);
		inet_pton(AF_INET6, "2001:db8:10::100", f.daddr6);
		uint8_t *buf = w.rxbuf + (size_t)i * PKT_BUF_STRIDE;
		uint32_t len = frame_build(buf, &f);
		struct pkt *p = &w.rx[i];
		if (!CHECK_EQ(pkt_parse(p, buf, len), STAT_NONE, "IPv6 super-frame %u parses", i))
			return unit_done();
		segs += pkt_gso_count(p);
		CHECK_EQ(xmit_tun(&w, &c6, p), 0, "IPv6 super-frame %u queued", i);
	}
	CHECK_EQ(segs, 80, "80 segments");
	sent(watch, &marked, &ipip);
	CHECK_EQ(ipip, 0, "nothing sent into the tunnel before the flush");
	tunnel_flush_all(w.id);
	sent(watch, &marked, &ipip);
	CHECK_EQ(ipip, 80, "every segment sent at the flush, ip6ip6 from the kernel's IPv6 socket");
	CHECK_EQ(bad_inner, 0, "each segment's inner TCP checksum (IPv6 pseudo-header) verifies");
	CHECK_EQ(stat_total(STAT_DROP_TUN_TX_ERROR), 0, "no tunnel send refused");

	UNIT_SECTION("a GUE tunnel with a UDP checksum: two super-frames of 40 segments each, a small UDP packet");
	/* The checksum's pseudo-header needs the route's source: a route that names it. */
	if (!CHECK(sh("ip route add 10.98.0.0/24 via 10.99.0.2 src 10.99.0.1") == 0,
	    "a route with a source"))
		return unit_done();
	struct dest dg = { .name = "g", .af = AF_INET, .port = htons(80), .fwd = FWD_TUN,
	    .tunnel = TUNNEL_GUE, .tunnel_port = htons(GUE_PORT), .tunnel_csum = true };
	struct conn cg = { .dest = &dg };
	dg.addr = addr_from_ip(inet_addr("10.98.0.7"));
	err[0] = '\0';
	if (!CHECK(xmit_tun_bind(&dg, 0, err, sizeof(err)) == 0 &&
	    dg.tun_inner_max == 1500 - 20 - 8 - 4,
	    "bind a GUE real server: inner MTU 1468%s%s", err[0] ? ": " : "", err))
		return unit_done();
	segs = 0;
	for (unsigned i = 0; i < 3; i++) {
		struct frame_spec f = {
			.dst = mac_a, .src = mac_b,
			.saddr = inet_addr("192.0.2.1"), .daddr = inet_addr("10.10.0.100"),
			.proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .tcpflags = 0x18,
			.plen = 40 * 1000, .gso_size = 1000,
		};
		if (i == 2) {   /* an odd length: the checksum's last byte alone */
			f.proto = IPPROTO_UDP;
			f.plen = 101;
			f.gso_size = 0;
			f.tcpflags = 0;
		}
		uint8_t *buf = w.rxbuf + (size_t)i * PKT_BUF_STRIDE;
		uint32_t len = frame_build(buf, &f);
		struct pkt *p = &w.rx[i];
		if (!CHECK_EQ(pkt_parse(p, buf, len), STAT_NONE, "packet %u parses", i))
			return unit_done();
		segs += p->gso_size ? pkt_gso_count(p) : 1;
		CHECK_EQ(xmit_tun(&w, &cg, p), 0, "packet %u queued", i);
	}
	sent(watch, &marked, &ipip);
	CHECK_EQ(gue, 0, "nothing sent into the tunnel before the flush");
	tunnel_flush_all(w.id);
	gue_sport = 0;
	sent(watch, &marked, &ipip);
	CHECK_EQ(gue, 81, "every segment and the UDP packet sent at the flush");
	CHECK_EQ(bad_gue, 0, "each is UDP to the port with a checksum that verifies, GUE 0 for IPv4, "
	    "its inner checksums verify");

	UNIT_SECTION("GUE over IPv6: the kernel's UDP checksum");
	struct dest dg6 = { .name = "g6", .af = AF_INET6, .port = htons(80), .fwd = FWD_TUN,
	    .tunnel = TUNNEL_GUE, .tunnel_port = htons(GUE_PORT) };
	struct conn cg6 = { .dest = &dg6 };
	addr_pton("2001:db8:99::2", &dg6.af, &dg6.addr);
	err[0] = '\0';
	if (!CHECK(xmit_tun_bind(&dg6, 0, err, sizeof(err)) == 0 &&
	    dg6.tun_inner_max == 1500 - 40 - 8 - 4,
	    "bind a GUE real server over IPv6: inner MTU 1448%s%s", err[0] ? ": " : "", err))
		return unit_done();
	gue = bad_gue = gue_sport = 0;
	for (unsigned i = 0; i < 2; i++) {
		struct frame_spec f = {
			.dst = mac_a, .src = mac_b, .v6 = 1,
			.proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .tcpflags = 0x18,
			.plen = 40 * 1000, .gso_size = 1000,
		};
		inet_pton(AF_INET6, "2001:db8:c::1", f.saddr6);
		inet_pton(AF_INET6, "2001:db8:10::100", f.daddr6);
		uint8_t *buf = w.rxbuf + (size_t)i * PKT_BUF_STRIDE;
		uint32_t len = frame_build(buf, &f);
		struct pkt *p = &w.rx[i];
		if (!CHECK_EQ(pkt_parse(p, buf, len), STAT_NONE, "IPv6 super-frame %u parses", i))
			return unit_done();
		CHECK_EQ(xmit_tun(&w, &cg6, p), 0, "IPv6 super-frame %u queued", i);
	}
	tunnel_flush_all(w.id);
	sent(watch, &marked, &ipip);
	CHECK_EQ(gue, 80, "every segment sent at the flush");
	CHECK_EQ(bad_gue, 0, "each with a UDP checksum that verifies, GUE 0 for IPv6, its inner "
	    "checksum verifying");
	CHECK_EQ(stat_total(STAT_DROP_TUN_TX_ERROR), 0, "no tunnel send refused");

	UNIT_SECTION("GUE's header as vsrtun reads it");
	{
		static const struct {
			const char *what;
			uint8_t     h[4];
			uint32_t    len;
			int         af;
		} gc[] = {
			{ "IPv4 inner",                     { 0, 4, 0, 0 },    4, AF_INET },
			{ "IPv6 inner",                     { 0, 41, 0, 0 },   4, AF_INET6 },
			{ "short",                          { 0, 4, 0, 0 },    3, 0 },
			{ "version 1",                      { 0x40, 4, 0, 0 }, 4, 0 },
			{ "a control message (C)",          { 0x20, 4, 0, 0 }, 4, 0 },
			{ "options (hlen 1)",               { 0x01, 4, 0, 0 }, 4, 0 },
			{ "a flag (private flags follow)",  { 0, 4, 0, 1 },    4, 0 },
			{ "another protocol (UDP)",         { 0, 17, 0, 0 },   4, 0 },
		};
		uint8_t h[4];

		for (size_t i = 0; i < ARRAY_SIZE(gc); i++)
			CHECK_EQ(tunnel_gue_parse(gc[i].h, gc[i].len), gc[i].af, "%s", gc[i].what);
		tunnel_gue_hdr(h, AF_INET);
		CHECK(memcmp(h, gc[0].h, 4) == 0, "written for IPv4: 0, 4, 0, 0");
		tunnel_gue_hdr(h, AF_INET6);
		CHECK(memcmp(h, gc[1].h, 4) == 0, "written for IPv6: 0, 41, 0, 0");
	}

	tunnel_close();
	links_close();
	nl_undo_all();
	nl_fini();
	free(w.rxbuf);
	free(w.rx);
	close(watch);
	return unit_done();
}
