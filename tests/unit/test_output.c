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

/*
 * What left on the watched link into a tunnel since the last look
 * (tun_sent): packets, those wrong in any way, and those that carried
 * GUE's remote checksum option. A packet is right when its outer UDP
 * checksum is what its case asks (GUE), its tunnel header is the case's,
 * and its inner checksums verify; with the option, when the inner
 * checksum field holds the pseudo-header sum alone, the option points at
 * the inner transport header and at that field, and the checksum the
 * real server completes from there verifies.
 */
#define GUE_PORT 6080
static struct {
	unsigned pkts, bad, rem;
	uint16_t gue_sport;     /* the UDP source port of the first TCP segment, 0: none yet */
} tun;

/* The case being looked at: what its packets must carry. */
struct tun_case {
	const char      *what;
	int              v6;
	enum tunnel_type type;
	enum tunnel_csum csum;
	bool             keyed;         /* GRE */
	const char      *addr;          /* the real server */
	unsigned         inner_max;     /* what xmit_tun_bind() must find */
	unsigned         supers;        /* TCP super-frames of 40 segments */
	unsigned         udp_partial;   /* UDP packets of 101 bytes, checksum partial (NEEDS_CSUM) */
	unsigned         udp_full;      /* and complete */
};
static const struct tun_case *tun_now;

/* The inner packet at IN (family of V6) verifies, its checksum completed from the option first. */
static int
inner_ok(const uint8_t *in, int v6, unsigned cstart, unsigned coff)
{
	uint8_t c[2048];
	unsigned ihl = v6 ? 40 : (in[0] & 0x0fu) * 4u;
	uint32_t len = v6 ? 40u + frame_rd16(in + 4) : frame_rd16(in + 2);
	uint8_t proto = in[v6 ? 6 : 9];

	if (len > sizeof(c) || (!v6 && !frame_ip_ok(in)))
		return 0;
	memcpy(c, in, len);
	if (cstart) {
		uint16_t ps = v6 ? frame_pseudo6(c, proto, len - ihl) : frame_pseudo(c, proto, len - ihl);
		if (cstart != ihl || coff != ihl + (proto == IPPROTO_TCP ? 16u : 6u) ||
		    frame_rd16(c + coff) != ps)
			return 0;
		frame_wr16(c + coff, (uint16_t)~frame_sum(c + cstart, len - cstart, 0));
	}
	return v6 ? frame_l4_ok6(c) : frame_l4_ok(c);
}

/* One tunnelled packet at OUTER (IPv4 or IPv6, as the case's), of IP protocol PROTO. */
static void
tun_check(const uint8_t *outer, uint8_t proto)
{
	const struct tun_case *k = tun_now;
	int v6 = k->v6, ok = 1;
	const uint8_t *l4 = outer + (v6 ? 40 : (outer[0] & 0x0f) * 4), *in = l4;
	unsigned cstart = 0, coff = 0;

	if (proto == IPPROTO_UDP) {
		struct tunnel_gue g;
		uint16_t sport = frame_rd16(l4), check = frame_rd16(l4 + 6);

		ok = k->type == TUNNEL_GUE && sport >= 32768 && sport <= 60999 &&
		    tunnel_gue_parse(l4 + 8, frame_rd16(l4 + 4) - 8, &g) == 1 &&
		    g.af == (v6 ? AF_INET6 : AF_INET);
		/* A UDP checksum that verifies, over IPv6 always; none over IPv4 without csum. */
		if (v6 || k->csum != TUNNEL_CSUM_NONE)
			ok = ok && check != 0 && (v6 ? frame_l4_ok6(outer) : frame_l4_ok(outer));
		else
			ok = ok && check == 0;
		if (ok) {
			cstart = g.cstart;
			coff = g.coff;
			in = l4 + 8 + g.hlen;
			/* The TCP segments are one flow: one source port. */
			if (in[v6 ? 6 : 9] == IPPROTO_TCP) {
				if (tun.gue_sport == 0)
					tun.gue_sport = sport;
				else if (sport != tun.gue_sport)
					ok = 0;
			}
		}
	} else if (proto == IPPROTO_GRE) {
		ok = k->type == TUNNEL_GRE && l4[0] == (k->keyed ? 0x20 : 0) && l4[1] == 0 &&
		    frame_rd16(l4 + 2) == (v6 ? 0x86dd : 0x0800);
		in = l4 + 4 + (k->keyed ? 4 : 0);
	} else {
		ok = k->type == TUNNEL_IPIP;
	}
	if (cstart)
		tun.rem++;
	if (!ok || !inner_ok(in, v6, cstart, coff))
		tun.bad++;
	tun.pkts++;
}

/* Frames sent on the watched link since the last call: the link's test frames, and tunnelled ones. */
static void
sent(int fd, unsigned *marked)
{
	uint8_t b[2048];

	*marked = 0;
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (from.sll_pkttype != PACKET_OUTGOING || n < 34)
			continue;
		if (frame_rd16(b + 12) == MARK_ETHTYPE) {
			(*marked)++;
			continue;
		}
		uint8_t proto = frame_rd16(b + 12) == 0x0800 ? b[14 + 9] :
		    frame_rd16(b + 12) == 0x86dd ? b[14 + 6] : 0;
		if (tun_now != NULL && (proto == IPPROTO_UDP || proto == IPPROTO_GRE ||
		    proto == IPPROTO_IPIP || proto == IPPROTO_IPV6))
			tun_check(b + 14, proto);
	}
}

/* The packet of BUF (frame_build) with a partial checksum, as the TAP hands one over with NEEDS_CSUM. */
static void
frame_partial(uint8_t *buf, int v6)
{
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	uint8_t *ip = buf + FRAME_VNET + 14;
	unsigned ihl = v6 ? 40 : 20;
	uint32_t l4len = v6 ? frame_rd16(ip + 4) : frame_rd16(ip + 2) - ihl;
	uint8_t proto = ip[v6 ? 6 : 9];
	unsigned at = proto == IPPROTO_TCP ? 16 : 6;

	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)(14 + ihl);
	h->csum_offset = (uint16_t)at;
	frame_wr16(ip + ihl + at, v6 ? frame_pseudo6(ip, proto, l4len) :
	    frame_pseudo(ip, proto, l4len));
}

/*
 * Case K through the worker W: a real server bound as K says, its
 * packets queued (nothing on the wire), then all sent at the flush, each
 * right, the option on every packet whose checksum was partial when K is
 * remcsum and on none else.
 */
static void
tun_run(struct worker *w, const struct tun_case *k, int watch)
{
	static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
	static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	struct dest d = { .name = "t", .af = k->v6 ? AF_INET6 : AF_INET, .port = htons(80),
	    .fwd = FWD_TUN, .tunnel = k->type, .tunnel_csum = k->csum, .tunnel_keyed = k->keyed,
	    .tunnel_key = htonl(7),
	    .tunnel_port = k->type == TUNNEL_GUE ? htons(GUE_PORT) : 0 };
	struct conn c = { .dest = &d };
	unsigned n = 0, marked, want = k->supers * 40 + k->udp_partial + k->udp_full;
	char err[256] = "";

	UNIT_SECTION("%s", k->what);
	addr_pton(k->addr, &d.af, &d.addr);
	if (!CHECK(xmit_tun_bind(&d, 0, err, sizeof(err)) == 0 && d.tun_inner_max == k->inner_max,
	    "bound: inner MTU %u (%u)%s%s", k->inner_max, d.tun_inner_max, err[0] ? ": " : "", err))
		return;
	tun_now = k;
	tun = (typeof(tun)){ 0 };
	for (unsigned i = 0; i < k->supers + k->udp_partial + k->udp_full; i++) {
		struct frame_spec f = {
			.dst = mac_a, .src = mac_b, .v6 = k->v6,
			.saddr = inet_addr("192.0.2.1"), .daddr = inet_addr("10.10.0.100"),
			.proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .tcpflags = 0x18,
			.plen = 40 * 1000, .gso_size = 1000,
		};
		inet_pton(AF_INET6, "2001:db8:c::1", f.saddr6);
		inet_pton(AF_INET6, "2001:db8:10::100", f.daddr6);
		if (i >= k->supers) {   /* an odd length: the checksum's last byte alone */
			f.proto = IPPROTO_UDP;
			f.plen = 101;
			f.gso_size = 0;
			f.tcpflags = 0;
		}
		uint8_t *buf = w->rxbuf + (size_t)i * PKT_BUF_STRIDE;
		uint32_t len = frame_build(buf, &f);
		struct pkt *p = &w->rx[i];
		if (i >= k->supers && i < k->supers + k->udp_partial)
			frame_partial(buf, k->v6);
		if (!CHECK_EQ(pkt_parse(p, buf, len), STAT_NONE, "packet %u parses", i))
			return;
		n += p->gso_size ? pkt_gso_count(p) : 1;
		CHECK_EQ(xmit_tun(w, &c, p), 0, "packet %u queued", i);
	}
	CHECK_EQ(n, want, "%u packets to send", want);
	sent(watch, &marked);
	CHECK_EQ(tun.pkts, 0, "nothing sent into the tunnel before the flush");
	tunnel_flush_all(w->id);
	sent(watch, &marked);
	CHECK_EQ(tun.pkts, want, "every segment and packet sent at the flush");
	CHECK_EQ(tun.bad, 0, "each with its tunnel's header and outer checksum, its inner "
	    "checksums verifying");
	CHECK_EQ(tun.rem, k->csum == TUNNEL_CSUM_REMCSUM ? want - k->udp_full : 0,
	    "the remote checksum option on %s", k->csum == TUNNEL_CSUM_REMCSUM ?
	    "each packet whose checksum was partial, none else" : "none");
	CHECK_EQ(stat_total(STAT_DROP_TUN_TX_ERROR), 0, "no tunnel send refused");
	tun_now = NULL;
}

int
main(void)
{
	static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
	static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	struct worker w = { .id = 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	unsigned marked;
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
	sent(watch, &marked);
	CHECK_EQ(marked, 0, "nothing sent on the link before the flush");
	link_flush_all(w.id);
	sent(watch, &marked);
	CHECK_EQ(marked, RX_BATCH, "all of the batch sent at the flush");

	/*
	 * IPv6 on veth0 too; GUE's checksum over IPv4 needs the route's
	 * source in its pseudo-header: a route that names it.
	 */
	if (!CHECK(sh("sysctl -qw net.ipv6.conf.veth0.accept_dad=0 && "
	    "ip -6 addr add 2001:db8:99::1/64 dev veth0 nodad && "
	    "ip -6 neigh add 2001:db8:99::2 lladdr 02:00:00:00:00:02 nud permanent dev veth0 && "
	    "ip route add 10.98.0.0/24 via 10.99.0.2 src 10.99.0.1") == 0,
	    "veth0 gets IPv6, a route with a source"))
		return unit_done();
	static const struct tun_case cases[] = {
		{ "ipip: two super-frames of 40 segments each, UDP partial and complete", 0,
		  TUNNEL_IPIP, TUNNEL_CSUM_NONE, false, "10.99.0.2", 1500 - 20, 2, 1, 1 },
		{ "ip6ip6: two IPv6 super-frames of 40 segments each", 1,
		  TUNNEL_IPIP, TUNNEL_CSUM_NONE, false, "2001:db8:99::2", 1500 - 40, 2, 0, 0 },
		{ "gre with a key", 0,
		  TUNNEL_GRE, TUNNEL_CSUM_NONE, true, "10.99.0.2", 1500 - 20 - 8, 2, 1, 0 },
		{ "gue, no UDP checksum", 0,
		  TUNNEL_GUE, TUNNEL_CSUM_NONE, false, "10.98.0.7", 1500 - 20 - 8 - 4, 1, 1, 0 },
		{ "gue with a UDP checksum: super-frames, a small UDP packet", 0,
		  TUNNEL_GUE, TUNNEL_CSUM_CSUM, false, "10.98.0.7", 1500 - 20 - 8 - 4, 2, 1, 1 },
		{ "gue over IPv6: the kernel's UDP checksum", 1,
		  TUNNEL_GUE, TUNNEL_CSUM_NONE, false, "2001:db8:99::2", 1500 - 40 - 8 - 4, 2, 1, 0 },
		{ "gue remcsum: partial checksums left to the real server, the option on them", 0,
		  TUNNEL_GUE, TUNNEL_CSUM_REMCSUM, false, "10.98.0.7", 1500 - 20 - 8 - 4, 2, 1, 1 },
		{ "gue remcsum over IPv6", 1,
		  TUNNEL_GUE, TUNNEL_CSUM_REMCSUM, false, "2001:db8:99::2", 1500 - 40 - 8 - 4, 2, 1, 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		tun_run(&w, &cases[i], watch);

	UNIT_SECTION("GUE's header as vsrtun reads it");
	{
		static const struct {
			const char *what;
			uint8_t     h[12];
			uint32_t    len;
			int         r, af;
			unsigned    hlen, cstart, coff;
		} gc[] = {
			{ "IPv4 inner", { 0, 4, 0, 0 }, 4, 1, AF_INET, 4, 0, 0 },
			{ "IPv6 inner", { 0, 41, 0, 0 }, 4, 1, AF_INET6, 4, 0, 0 },
			{ "remote checksum offload, IPv4 TCP", { 2, 4, 0, 1, 0x80, 0, 0, 0, 0, 20, 0, 36 },
			  12, 1, AF_INET, 12, 20, 36 },
			{ "remote checksum offload, IPv6 UDP", { 2, 41, 0, 1, 0x80, 0, 0, 0, 0, 40, 0, 46 },
			  12, 1, AF_INET6, 12, 40, 46 },
			{ "short", { 0, 4, 0, 0 }, 3, -1, 0, 0, 0, 0 },
			{ "the option cut short", { 2, 4, 0, 1, 0x80, 0, 0, 0, 0, 20 }, 10, -1, 0, 0, 0, 0 },
			{ "version 1", { 0x40, 4, 0, 0 }, 4, 0, 0, 0, 0, 0 },
			{ "a control message (C)", { 0x20, 4, 0, 0 }, 4, 0, 0, 0, 0, 0 },
			{ "options (hlen 1) without a flag", { 0x01, 4, 0, 0 }, 4, 0, 0, 0, 0, 0 },
			{ "the private flag without options", { 0, 4, 0, 1 }, 4, 0, 0, 0, 0, 0 },
			{ "another flag with the option's length", { 2, 4, 0x80, 0 }, 12, 0, 0, 0, 0, 0 },
			{ "private flags other than remcsum", { 2, 4, 0, 1, 0x40, 0, 0, 0, 0, 20, 0, 36 },
			  12, 0, 0, 0, 0, 0 },
			{ "remcsum and another private flag", { 2, 4, 0, 1, 0x80, 0, 0, 1, 0, 20, 0, 36 },
			  12, 0, 0, 0, 0, 0 },
			{ "hlen 3: more options than remcsum's", { 3, 4, 0, 1, 0x80, 0, 0, 0, 0, 20, 0, 36 },
			  16, 0, 0, 0, 0, 0 },
			{ "another protocol (UDP)", { 0, 17, 0, 0 }, 4, 0, 0, 0, 0, 0 },
		};
		uint8_t h[12];

		for (size_t i = 0; i < ARRAY_SIZE(gc); i++) {
			struct tunnel_gue g;
			int r = tunnel_gue_parse(gc[i].h, gc[i].len, &g);
			if (CHECK_EQ(r, gc[i].r, "%s", gc[i].what) && r == 1)
				CHECK(g.af == gc[i].af && g.hlen == gc[i].hlen &&
				    g.cstart == gc[i].cstart && g.coff == gc[i].coff,
				    "%s: family, length, start and field", gc[i].what);
		}
		CHECK(tunnel_gue_hdr(h, AF_INET, 0, 0) == 4 && memcmp(h, gc[0].h, 4) == 0,
		    "written for IPv4: 0, 4, 0, 0");
		CHECK(tunnel_gue_hdr(h, AF_INET6, 0, 0) == 4 && memcmp(h, gc[1].h, 4) == 0,
		    "written for IPv6: 0, 41, 0, 0");
		CHECK(tunnel_gue_hdr(h, AF_INET, 20, 36) == 12 && memcmp(h, gc[2].h, 12) == 0,
		    "written with the option: hlen 2, the private flag, remcsum, start 20, field 36");
		CHECK(tunnel_gue_hdr(h, AF_INET6, 40, 46) == 12 && memcmp(h, gc[3].h, 12) == 0,
		    "and for IPv6 UDP: start 40, field 46");
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
