/* test_core.c - core_input() with hand-made frames, every mode, the bytes that come out */
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliaddr.h"
#include "conf.h"
#include "conn.h"
#include "core.h"
#include "frag.h"
#include "icmplimit.h"
#include "laddr.h"
#include "log.h"
#include "packet.h"
#include "stats.h"
#include "steer.h"
#include "svc.h"
#include "synproxy.h"
#include "unit.h"
#include "worker.h"
#include "xmit.h"
#include "frame.h"

/*
 * The packet path from core_input() down through the real transmitters
 * (xmit_dr, xmit_tun, xmit_nat) to the output layer, which is stubbed
 * (tests/unit/stubs.c): each frame handed to the TAP, a link or a tunnel
 * is recorded, and checked byte for byte here (MACs, addresses, ports,
 * checksums verified by frame.h's own RFC 1071 sum).
 *
 *   client 192.0.2.1 ---- kernel (TAP MAC 02:..:aa) ---- vsrouted (02:..:bb)
 *   services:  10.10.0.100:80 tcp dr       -> 10.20.0.11:80
 *              10.10.0.101:80 tcp tun ipip -> 10.20.0.12:80
 *              10.10.0.102:80 tcp nat      -> 10.20.0.13:8080
 *              10.10.0.102:53 udp nat      -> 10.20.0.13:5353
 *              10.10.0.103:80 tcp fullnat  -> 10.20.0.14:8080, local address 10.20.0.250
 *   and, over IPv6 (client 2001:db8:c::1):
 *              [2001:db8:10::100]:80 dr      -> 2001:db8:20::11
 *              [2001:db8:10::101]:80 tun     -> 2001:db8:20::12 (ip6ip6, tunnel_mtu 1200)
 *              [2001:db8:10::102]:80 nat     -> [2001:db8:20::13]:8080
 *              [2001:db8:10::103]:80 fullnat -> [2001:db8:20::14]:8080, local address
 *                                               2001:db8:20::250
 *   with ops = yes (one-packet scheduling):
 *              10.10.0.105:53 udp dr, rr   -> 10.20.0.16, 10.20.0.17
 *   with synproxy = yes:
 *              10.10.0.104:80 tcp nat      -> 10.20.0.15:8080
 *              [2001:db8:10::104]:80 fullnat -> [2001:db8:20::15]:8080
 */

static const uint8_t tap_mac[6] = { 0x02, 0, 0, 0, 0, 0xaa };
static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0xbb };
static const uint8_t link_mac[6] = STUB_LINK_MAC;

#define CLIENT  "192.0.2.1"
#define LIP     "10.20.0.250"
#define CLIENT6 "2001:db8:c::1"
#define LIP6    "2001:db8:20::250"

static struct worker w;
static uint8_t *buf;            /* one receive buffer */
static uint8_t *orig;           /* what it held before core_input() */
static struct pkt pk;

static uint32_t
ip(const char *s)
{
	return inet_addr(s);
}

static const uint8_t *
l3(const struct stub_frame *f)
{
	return f->out == STUB_TUNNEL ? f->data : f->data + 14;
}

static const uint8_t *
l4(const struct stub_frame *f)
{
	return l3(f) + (l3(f)[0] & 0x0f) * 4;
}

static uint32_t
addr_at(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return a;
}

/* Build F in the receive buffer, parse it and run it through core_input(); 0 if it parsed. */
static int
input(const struct frame_spec *f)
{
	uint32_t len = frame_build(buf, f);

	memcpy(orig, buf, FRAME_VNET + len);
	stub_nout = 0;
	if (pkt_parse(&pk, buf, len) != STAT_NONE)
		return -1;
	core_input(&w, &pk);
	return 0;
}

/* A client's TCP segment toward VIP:PORT. */
static struct frame_spec
from_client(const char *vip, uint16_t port, uint8_t flags)
{
	struct frame_spec f = {
		.dst = our_mac, .src = tap_mac, .saddr = ip(CLIENT), .daddr = ip(vip),
		.proto = IPPROTO_TCP, .sport = 40000, .dport = port, .tcpflags = flags,
		.plen = 100, .df = 1, .ip_id = 7,
	};
	return f;
}

/* The one frame that came out: its output, and its IP and transport checksums verify. */
static const struct stub_frame *
one_out(enum stub_output out, const char *what)
{
	const struct stub_frame *f = &stub_out[0];

	if (!CHECK(stub_nout == 1 && f->out == out, "%s: one frame out, to the %s", what,
	    out == STUB_TAP ? "TAP" : out == STUB_LINK ? "link" : "tunnel"))
		return NULL;
	/* A partial checksum (a super-frame) is checked by its caller. */
	if (f->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		CHECK(frame_ip_ok(l3(f)), "%s: the IP checksum verifies", what);
	else
		CHECK(frame_ip_ok(l3(f)) && frame_l4_ok(l3(f)), "%s: IP and %s checksums verify",
		    what, l3(f)[9] == IPPROTO_TCP ? "TCP" : l3(f)[9] == IPPROTO_UDP ? "UDP" : "ICMP");
	return f;
}

static void
check_addrs(const struct stub_frame *f, const char *src, uint16_t sport, const char *dst,
    uint16_t dport, const char *what)
{
	CHECK(addr_at(l3(f) + 12) == ip(src) && addr_at(l3(f) + 16) == ip(dst) &&
	    frame_rd16(l4(f)) == sport && frame_rd16(l4(f) + 2) == dport,
	    "%s: %s:%u -> %s:%u", what, src, sport, dst, dport);
}

/* ---- set-up ---- */

static struct rs_conf
rs(const char *addr, uint16_t port, enum fwd_method fwd)
{
	struct rs_conf r = { .weight = 1, .port = port, .fwd = fwd, .tunnel = TUNNEL_IPIP };

	snprintf(r.name, sizeof(r.name), "rs-%s", addr);
	addr_pton(addr, &r.af, &r.addr);
	return r;
}

static struct vs_conf
vs(const char *addr, uint16_t port, int proto, struct rs_conf *r)
{
	struct vs_conf v = { .port = port, .proto = proto, .rs = r, .nrs = 1, .sched = "rr" };

	snprintf(v.name, sizeof(v.name), "vs-%s-%u", addr, port);
	addr_pton(addr, &v.af, &v.addr);
	addr_plen_mask(v.af, v.af == AF_INET6 ? 128 : 32, &v.netmask);
	return v;
}

static int
setup(void)
{
	static struct rs_conf r[13];
	static struct vs_conf v[12];
	static struct config c = { .file = "test.conf", .vs = v, .nvs = 12 };
	struct vsr_ip lips[2] = { { AF_INET, { .ip = ip(LIP) } } };

	r[0] = rs("10.20.0.11", 80, FWD_DR);
	r[1] = rs("10.20.0.12", 80, FWD_TUN);
	r[2] = rs("10.20.0.13", 8080, FWD_NAT);
	r[3] = rs("10.20.0.13", 5353, FWD_NAT);
	r[4] = rs("10.20.0.14", 8080, FWD_FULLNAT);
	v[0] = vs("10.10.0.100", 80, IPPROTO_TCP, &r[0]);
	v[1] = vs("10.10.0.101", 80, IPPROTO_TCP, &r[1]);
	v[2] = vs("10.10.0.102", 80, IPPROTO_TCP, &r[2]);
	v[3] = vs("10.10.0.102", 53, IPPROTO_UDP, &r[3]);
	v[4] = vs("10.10.0.103", 80, IPPROTO_TCP, &r[4]);
	r[5] = rs("2001:db8:20::11", 80, FWD_DR);
	r[6] = rs("2001:db8:20::12", 80, FWD_TUN);
	r[6].tunnel_mtu = 1200;
	r[7] = rs("2001:db8:20::13", 8080, FWD_NAT);
	r[8] = rs("2001:db8:20::14", 8080, FWD_FULLNAT);
	v[5] = vs("2001:db8:10::100", 80, IPPROTO_TCP, &r[5]);
	v[6] = vs("2001:db8:10::101", 80, IPPROTO_TCP, &r[6]);
	v[7] = vs("2001:db8:10::102", 80, IPPROTO_TCP, &r[7]);
	v[8] = vs("2001:db8:10::103", 80, IPPROTO_TCP, &r[8]);
	r[9] = rs("10.20.0.15", 8080, FWD_NAT);
	v[9] = vs("10.10.0.104", 80, IPPROTO_TCP, &r[9]);
	v[9].synproxy = true;
	r[10] = rs("2001:db8:20::15", 8080, FWD_FULLNAT);
	v[10] = vs("2001:db8:10::104", 80, IPPROTO_TCP, &r[10]);
	v[10].synproxy = true;
	addr_pton(LIP6, &lips[1].af, &lips[1].addr);
	r[11] = rs("10.20.0.16", 53, FWD_DR);
	r[12] = rs("10.20.0.17", 53, FWD_DR);
	v[11] = vs("10.10.0.105", 53, IPPROTO_UDP, &r[11]);
	v[11].nrs = 2;
	v[11].ops = true;

	buf = calloc(1, PKT_BUF_STRIDE);
	orig = calloc(1, PKT_BUF_STRIDE);
	w.ct = conn_table_new(1024, 0);
	memcpy(w.our_mac, our_mac, 6);
	memcpy(w.tap_mac, tap_mac, 6);
	if (buf == NULL || orig == NULL || w.ct == NULL || laddr_setup(lips, 2) < 0)
		return -1;
	xmit_init(99);
	svc_set_binder(xmit_bind);
	return svc_setup(&c);
}

/* ---- the modes ---- */

/*
 * A fragment of a 4,000-byte UDP datagram (IP id ID) from the client to
 * the ops service 10.10.0.105:53: the first one (ports) when FIRST, else
 * a later one, at offset 1480.
 */
static int
input_frag(uint16_t id, int first)
{
	struct frame_spec f = {
		.dst = our_mac, .src = tap_mac, .saddr = ip(CLIENT), .daddr = ip("10.10.0.105"),
		.proto = IPPROTO_UDP, .sport = 40000, .dport = 53, .plen = first ? 1472 : 1480,
		.ip_id = id,
	};
	uint32_t len = frame_build(buf, &f);
	uint8_t *iph = buf + FRAME_VNET + 14;

	frame_wr16(iph + 6, first ? 0x2000 : 185);
	if (first)
		frame_wr16(iph + 20 + 4, 4008);
	frame_wr16(iph + 10, 0);
	frame_wr16(iph + 10, (uint16_t)~frame_sum(iph, 20, 0));
	stub_nout = 0;
	if (pkt_parse(&pk, buf, len) != STAT_NONE)
		return -1;
	core_input(&w, &pk);
	return 0;
}

/* The real server (last byte of its MAC) the one frame out went to, 0: none or more. */
static unsigned
ops_out(void)
{
	return stub_nout == 1 && stub_out[0].out == STUB_LINK ? stub_out[0].data[5] : 0;
}

/* Fragments that waited for their first one, through core_input as core.c replays them. */
static unsigned
ops_replay(void)
{
	unsigned idx[8], n = frag_take(idx, 8), to = 0;

	stub_nout = 0;
	for (unsigned k = 0; k < n; k++) {
		uint32_t len;
		uint8_t *b = frag_buf(idx[k], &len);
		struct pkt q;
		if (pkt_parse(&q, b, len) == STAT_NONE)
			core_input(&w, &q);
	}
	if (stub_nout == n && n > 0)
		to = stub_out[0].data[5];
	for (unsigned k = 0; k < stub_nout; k++)
		if (stub_out[k].out != STUB_LINK || stub_out[k].data[5] != to)
			to = 0;
	frag_put(idx, n, w.now);
	return n == 1 ? to : 0;
}

static void
test_ops_fragments(void)
{
	unsigned a, b;
	uint64_t nc = stat_total(STAT_DROP_NO_CONN);
	uint32_t live = conn_count(w.ct);
	struct service *svc;

	UNIT_SECTION("ops: a datagram's later fragments follow its first one's real server");
	CHECK_EQ(frag_configure(30, FRAG_MEMORY_DEF), 0, "the fragment table");
	CHECK_EQ(input_frag(1, 1), 0, "datagram 1, first fragment");
	a = ops_out();
	CHECK(a == 16 || a == 17, "datagram 1: its first fragment to a real server (%u)", a);
	CHECK_EQ(input_frag(1, 0), 0, "datagram 1, a later fragment");
	CHECK_EQ(ops_out(), a, "datagram 1: the later fragment to the same one");
	CHECK_EQ(input_frag(2, 1), 0, "datagram 2, first fragment");
	b = ops_out();
	CHECK(b != a && (b == 16 || b == 17), "datagram 2: rr, the other real server (%u)", b);
	CHECK_EQ(input_frag(2, 0), 0, "datagram 2, a later fragment");
	CHECK_EQ(ops_out(), b, "datagram 2: the later fragment follows it");
	CHECK_EQ(input_frag(1, 0), 0, "datagram 1 again, a later fragment");
	CHECK_EQ(ops_out(), a, "datagram 1: still to its own");
	/* Datagram 3, last fragment first: it waits, then follows. */
	CHECK_EQ(input_frag(3, 0), 0, "datagram 3, a later fragment before its first");
	CHECK_EQ(stub_nout, 0, "datagram 3: the early one waits");
	CHECK_EQ(input_frag(3, 1), 0, "datagram 3, its first fragment");
	CHECK_EQ(ops_out(), a, "datagram 3: rr, back to the first real server");
	CHECK_EQ(frag_ready(), 1, "datagram 3: the early one is ready");
	CHECK_EQ(ops_replay(), a, "datagram 3: the early one follows its first one");
	CHECK_EQ(stat_total(STAT_DROP_NO_CONN), nc, "no fragment dropped for want of a flow");
	CHECK_EQ(conn_count(w.ct), live, "no entry is kept");
	svc = svc_lookup(AF_INET, IPPROTO_UDP, &(union vsr_addr){ .ip = ip("10.10.0.105") },
	    htons(53));
	CHECK(svc != NULL && svc->stats.conns == 3, "the service counts 3 datagrams, not 6 fragments");
	CHECK_EQ(frag_dest_refs(), 3, "the table holds a reference per datagram");
	frag_fini();
	CHECK_EQ(frag_dest_refs(), 0, "all given back");
}

static void
test_dr(void)
{
	struct frame_spec f = from_client("10.10.0.100", 80, TCPF_SYN);
	const uint8_t rs_mac[6] = STUB_NEIGH_MAC(11);
	const struct stub_frame *o;

	UNIT_SECTION("dr");
	if (!CHECK_EQ(input(&f), 0, "a SYN to 10.10.0.100:80 parses"))
		return;
	if ((o = one_out(STUB_LINK, "dr")) == NULL)
		return;
	CHECK(memcmp(o->data, rs_mac, 6) == 0 && memcmp(o->data + 6, link_mac, 6) == 0,
	    "dr: to the real server's MAC, from the link's");
	check_addrs(o, CLIENT, 40000, "10.10.0.100", 80, "dr: the IP packet is untouched");
	CHECK(o->len == 14 + 20 + 20 + 100 &&
	    memcmp(o->data + 14, orig + PKT_VNET_LEN + 14, 20 + 20 + 100) == 0,
	    "dr: the IP packet byte for byte");
	CHECK(conn_lookup_in(w.ct, AF_INET, IPPROTO_TCP, &(union vsr_addr){ .ip = ip(CLIENT) },
	    htons(40000), &(union vsr_addr){ .ip = ip("10.10.0.100") }, htons(80)) != NULL,
	    "dr: the connection is in the table");

	f.tcpflags = TCPF_ACK;
	input(&f);
	CHECK(stub_nout == 1 && stub_out[0].out == STUB_LINK, "dr: the next segment follows it");
}

static void
test_tun(void)
{
	struct frame_spec f = from_client("10.10.0.101", 80, TCPF_SYN);
	const struct stub_frame *o;

	UNIT_SECTION("tun");
	if (!CHECK_EQ(input(&f), 0, "a SYN to 10.10.0.101:80 parses"))
		return;
	if ((o = one_out(STUB_TUNNEL, "tun")) == NULL)
		return;
	CHECK(o->daddr.ip == ip("10.20.0.12"), "tun: into the tunnel to 10.20.0.12");
	CHECK(o->len == 20 + 20 + 100 && memcmp(o->data, orig + PKT_VNET_LEN + 14, o->len) == 0,
	    "tun: the client's IP packet byte for byte, without the Ethernet header");
}

static void
test_nat(void)
{
	struct frame_spec f = from_client("10.10.0.102", 80, TCPF_SYN);
	const struct stub_frame *o;

	UNIT_SECTION("nat");
	if (!CHECK_EQ(input(&f), 0, "a SYN to 10.10.0.102:80 parses"))
		return;
	if ((o = one_out(STUB_TAP, "nat in")) == NULL)
		return;
	CHECK(memcmp(o->data, tap_mac, 6) == 0 && memcmp(o->data + 6, our_mac, 6) == 0,
	    "nat in: back to the kernel's side of the TAP, from ours");
	check_addrs(o, CLIENT, 40000, "10.20.0.13", 8080, "nat in: to the real server");

	/* The real server's SYN-ACK, steered into the TAP by the rules. */
	struct frame_spec r = {
		.dst = our_mac, .src = tap_mac, .saddr = ip("10.20.0.13"), .daddr = ip(CLIENT),
		.proto = IPPROTO_TCP, .sport = 8080, .dport = 40000,
		.tcpflags = TCPF_SYN | TCPF_ACK, .plen = 0,
	};
	input(&r);
	if ((o = one_out(STUB_TAP, "nat out")) == NULL)
		return;
	check_addrs(o, "10.10.0.102", 80, CLIENT, 40000, "nat out: from the VIP to the client");

	/* UDP: the checksum covers the new addresses and ports too. */
	struct frame_spec u = {
		.dst = our_mac, .src = tap_mac, .saddr = ip(CLIENT), .daddr = ip("10.10.0.102"),
		.proto = IPPROTO_UDP, .sport = 33333, .dport = 53, .plen = 40,
	};
	input(&u);
	if ((o = one_out(STUB_TAP, "nat udp")) == NULL)
		return;
	check_addrs(o, CLIENT, 33333, "10.20.0.13", 5353, "nat udp: to the real server");

	/* A GSO super-frame stays one; its partial checksum holds the new pseudo-header. */
	struct frame_spec g = from_client("10.10.0.102", 80, TCPF_ACK);
	g.plen = 3000;
	g.gso_size = 1000;
	input(&g);
	if ((o = one_out(STUB_TAP, "nat gso")) == NULL)
		return;
	CHECK(o->vnet.gso_size == 1000 && o->vnet.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
	    (o->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM), "nat gso: still a super-frame");
	CHECK_EQ(frame_rd16(l4(o) + 16), frame_pseudo(l3(o), IPPROTO_TCP, 20 + 3000),
	    "nat gso: the partial checksum is the new pseudo-header sum");
}

static void
test_fullnat(void)
{
	struct frame_spec f = from_client("10.10.0.103", 80, TCPF_SYN);
	const struct stub_frame *o;
	uint16_t lport;

	UNIT_SECTION("fullnat");
	if (!CHECK_EQ(input(&f), 0, "a SYN to 10.10.0.103:80 parses"))
		return;
	if ((o = one_out(STUB_TAP, "fullnat in")) == NULL)
		return;
	lport = frame_rd16(l4(o));
	check_addrs(o, LIP, lport, "10.20.0.14", 8080, "fullnat in: from a local address");
	CHECK(lport >= LADDR_PORT_MIN, "fullnat in: a local port from the pool (%u)", lport);

	struct frame_spec r = {
		.dst = our_mac, .src = tap_mac, .saddr = ip("10.20.0.14"), .daddr = ip(LIP),
		.proto = IPPROTO_TCP, .sport = 8080, .dport = lport,
		.tcpflags = TCPF_SYN | TCPF_ACK, .plen = 10,
	};
	input(&r);
	if ((o = one_out(STUB_TAP, "fullnat out")) == NULL)
		return;
	check_addrs(o, "10.10.0.103", 80, CLIENT, 40000, "fullnat out: from the VIP to the client");
}

/* ---- what the director answers itself ---- */

static void
test_arp(void)
{
	uint8_t *frame = buf + PKT_VNET_LEN;
	struct pkt_arp *a = (struct pkt_arp *)frame;
	const struct stub_frame *o;
	uint32_t kernel = ip("10.10.0.1");

	UNIT_SECTION("ARP on the TAP link");
	/* A VIP: our MAC; what replies go to (a local address, the nat reply gateway): the reply MAC. */
	const char *targets[] = { "10.10.0.101", LIP, "169.254.118.254", "10.10.0.199" };
	uint8_t reply_mac[6];
	steer_reply_mac(our_mac, reply_mac);
	for (unsigned i = 0; i < 4; i++) {
		static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		const uint8_t *mac = i == 0 ? our_mac : reply_mac;
		memset(buf, 0, PKT_VNET_LEN);
		pkt_arp_fill(a, ARPOP_REQUEST, bcast, tap_mac, kernel, zero, ip(targets[i]));
		stub_nout = 0;
		if (!CHECK_EQ(pkt_parse(&pk, buf, sizeof(*a)), STAT_NONE, "who-has %s parses",
		    targets[i]))
			continue;
		core_input(&w, &pk);
		if (i == 3) {
			CHECK_EQ(stub_nout, 0, "who-has %s (not ours): no answer", targets[i]);
			continue;
		}
		o = &stub_out[0];
		a = (struct pkt_arp *)o->data;
		CHECK(stub_nout == 1 && o->out == STUB_TAP && o->len == sizeof(*a) &&
		    a->op == htons(ARPOP_REPLY) && memcmp(a->dst, tap_mac, 6) == 0 &&
		    memcmp(a->src, mac, 6) == 0 && memcmp(a->sha, mac, 6) == 0 &&
		    addr_at(a->spa) == ip(targets[i]) && memcmp(a->tha, tap_mac, 6) == 0 &&
		    addr_at(a->tpa) == kernel,
		    "who-has %s: %s is-at %s MAC, to the kernel", targets[i], targets[i],
		    i == 0 ? "our" : "the reply");
		a = (struct pkt_arp *)frame;
	}
}

static void
test_icmp(void)
{
	const struct stub_frame *o;

	UNIT_SECTION("ICMP");
	/* Echo to a VIP: answered. */
	struct frame_spec e = {
		.dst = our_mac, .src = tap_mac, .saddr = ip(CLIENT), .daddr = ip("10.10.0.100"),
		.proto = IPPROTO_ICMP, .icmp_type = ICMP_ECHO, .plen = 56,
	};
	input(&e);
	if ((o = one_out(STUB_TAP, "echo")) != NULL) {
		CHECK(memcmp(o->data, tap_mac, 6) == 0 && memcmp(o->data + 6, our_mac, 6) == 0 &&
		    addr_at(l3(o) + 12) == ip("10.10.0.100") && addr_at(l3(o) + 16) == ip(CLIENT) &&
		    l4(o)[0] == ICMP_ECHOREPLY && l3(o)[8] == 64,
		    "echo: reply from the VIP to the client, TTL 64");
		CHECK(memcmp(l4(o) + 4, orig + PKT_VNET_LEN + 14 + 20 + 4, 4 + 56) == 0,
		    "echo: identifier, sequence and data echoed");
	}

	/*
	 * A router on the client's way cannot take the nat flow's packet
	 * VIP:80 -> client:40000 (needs fragmentation): the error goes to
	 * the real server, about RIP:8080 -> client:40000, from the VIP.
	 */
	uint8_t quote[28];
	struct frame_spec q = {
		.dst = our_mac, .src = tap_mac, .saddr = ip("10.10.0.102"), .daddr = ip(CLIENT),
		.proto = IPPROTO_TCP, .sport = 80, .dport = 40000, .tcpflags = TCPF_ACK, .plen = 1400,
	};
	uint8_t *tmp = malloc(PKT_BUF_STRIDE);
	frame_build(tmp, &q);
	memcpy(quote, tmp + PKT_VNET_LEN + 14, sizeof(quote));
	free(tmp);
	struct frame_spec err = {
		.dst = our_mac, .src = tap_mac, .saddr = ip("198.51.100.1"), .daddr = ip("10.10.0.102"),
		.proto = IPPROTO_ICMP, .icmp_type = ICMP_DEST_UNREACH, .icmp_code = ICMP_FRAG_NEEDED,
		.payload = quote, .plen = sizeof(quote),
	};
	input(&err);
	if ((o = one_out(STUB_TAP, "icmp error in")) != NULL) {
		const uint8_t *qip = l4(o) + ICMP_HLEN_;
		CHECK(addr_at(l3(o) + 12) == ip("10.10.0.102") && addr_at(l3(o) + 16) == ip("10.20.0.13"),
		    "icmp error in: from the VIP to the real server");
		CHECK(addr_at(qip + 12) == ip("10.20.0.13") && frame_rd16(qip + 20) == 8080 &&
		    addr_at(qip + 16) == ip(CLIENT) && frame_rd16(qip + 22) == 40000,
		    "icmp error in: about 10.20.0.13:8080 -> client:40000");
		CHECK(frame_ip_ok(qip), "icmp error in: the quoted IP header's checksum verifies");
	}

	/* The real server's own error about the client's packet (client -> RIP:8080). */
	struct frame_spec q2 = {
		.dst = our_mac, .src = tap_mac, .saddr = ip(CLIENT), .daddr = ip("10.20.0.13"),
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 8080, .tcpflags = TCPF_ACK, .plen = 10,
	};
	tmp = malloc(PKT_BUF_STRIDE);
	frame_build(tmp, &q2);
	memcpy(quote, tmp + PKT_VNET_LEN + 14, sizeof(quote));
	free(tmp);
	struct frame_spec err2 = {
		.dst = our_mac, .src = tap_mac, .saddr = ip("10.20.0.13"), .daddr = ip(CLIENT),
		.proto = IPPROTO_ICMP, .icmp_type = ICMP_DEST_UNREACH, .icmp_code = ICMP_PORT_UNREACH,
		.payload = quote, .plen = sizeof(quote),
	};
	input(&err2);
	if ((o = one_out(STUB_TAP, "icmp error out")) != NULL) {
		const uint8_t *qip = l4(o) + ICMP_HLEN_;
		CHECK(addr_at(l3(o) + 12) == ip("10.10.0.102") && addr_at(l3(o) + 16) == ip(CLIENT),
		    "icmp error out: from the VIP to the client");
		CHECK(addr_at(qip + 12) == ip(CLIENT) && frame_rd16(qip + 20) == 40000 &&
		    addr_at(qip + 16) == ip("10.10.0.102") && frame_rd16(qip + 22) == 80,
		    "icmp error out: about client:40000 -> VIP:80");
		CHECK(frame_ip_ok(qip), "icmp error out: the quoted IP header's checksum verifies");
	}
}

/* ---- what is dropped ---- */

static void
test_drops(void)
{
	struct frame_spec f = from_client("10.10.0.100", 80, TCPF_ACK);
	uint64_t before;

	UNIT_SECTION("drops");
	f.sport = 41000;
	before = stat_total(STAT_DROP_NO_CONN);
	input(&f);
	CHECK(stub_nout == 0 && stat_total(STAT_DROP_NO_CONN) == before + 1,
	    "an ACK without a connection: dropped, counted");
	f = from_client("10.10.0.100", 81, TCPF_SYN);
	before = stat_total(STAT_DROP_NO_SERVICE);
	input(&f);
	CHECK(stub_nout == 0 && stat_total(STAT_DROP_NO_SERVICE) == before + 1,
	    "a SYN to a VIP's port without a service: dropped, counted");
	struct frame_spec r = {
		.dst = our_mac, .src = tap_mac, .saddr = ip("10.20.0.13"), .daddr = ip(CLIENT),
		.proto = IPPROTO_TCP, .sport = 8080, .dport = 41111, .tcpflags = TCPF_ACK,
	};
	before = stat_total(STAT_DROP_NO_CONN_OUT);
	r.daddr = ip(LIP);
	input(&r);
	CHECK(stub_nout == 0 && stat_total(STAT_DROP_NO_CONN_OUT) == before + 1,
	    "a fullnat reply to a local address of no connection: dropped, counted");
}

/*
 * ---- a real server's own traffic (fwd.h) ----
 * What the rules bring into the TAP that is no reply: routed on, here
 * into the TAP (the stubs know no next hop), frame untouched but its MACs.
 */
static void
test_forward(void)
{
	static const struct {
		const char *what;
		uint8_t     proto;
		uint16_t    sport;
		const char *daddr;
		int         mark;       /* its MAC names a firewall mark */
		int         fwd;        /* routed on, else dropped as no_conn_out */
	} cases[] = {
		{ .what = "udp from port 65535 to a host beyond", .proto = IPPROTO_UDP,
		  .sport = 65535, .daddr = CLIENT, .fwd = 1 },
		{ .what = "tcp from port 65535, not the server's port", .proto = IPPROTO_TCP,
		  .sport = 65535, .daddr = CLIENT, .fwd = 1 },
		{ .what = "udp from port 65535 to a local address", .proto = IPPROTO_UDP,
		  .sport = 65535, .daddr = LIP, .fwd = 0 },
		{ .what = "udp from 65535, its MAC a mark's", .proto = IPPROTO_UDP,
		  .sport = 65535, .daddr = CLIENT, .mark = 1, .fwd = 0 },
		{ .what = "a whole udp datagram from a service's port (its own query)",
		  .proto = IPPROTO_UDP, .sport = 5353, .daddr = CLIENT, .fwd = 1 },
		{ .what = "tcp from the server's own port, of no flow: passed as IPVS does",
		  .proto = IPPROTO_TCP, .sport = 8080, .daddr = CLIENT, .fwd = 1 },
		{ .what = "tcp from the server's own port to a local address", .proto = IPPROTO_TCP,
		  .sport = 8080, .daddr = LIP, .fwd = 0 },
	};
	static const uint8_t mark_mac[6] = { 0x06, 0x76, 0, 0, 0, 7 };

	UNIT_SECTION("a real server's own traffic, routed on");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct frame_spec f = {
			.dst = cases[i].mark ? mark_mac : our_mac, .src = tap_mac,
			.saddr = ip("10.20.0.13"), .daddr = ip(cases[i].daddr),
			.proto = cases[i].proto, .sport = cases[i].sport, .dport = 7000,
			.tcpflags = cases[i].proto == IPPROTO_TCP ? TCPF_SYN : 0, .plen = 200,
			.ip_id = 9,
		};
		uint64_t fwd = stat_total(STAT_FORWARDED), tap = stat_total(STAT_FORWARDED_VIA_TAP);
		uint64_t drop = stat_total(STAT_DROP_NO_CONN_OUT);

		if (!CHECK(input(&f) == 0, "%s: parsed", cases[i].what))
			continue;
		if (!cases[i].fwd) {
			CHECK(stub_nout == 0 && stat_total(STAT_DROP_NO_CONN_OUT) == drop + 1 &&
			    stat_total(STAT_FORWARDED) == fwd, "%s: dropped, counted", cases[i].what);
			continue;
		}
		const struct stub_frame *o = one_out(STUB_TAP, cases[i].what);
		if (o == NULL)
			continue;
		CHECK(memcmp(o->data, tap_mac, 6) == 0 && memcmp(o->data + 6, our_mac, 6) == 0,
		    "%s: to the kernel's side of the TAP, from ours", cases[i].what);
		CHECK(o->len == pk.len && memcmp(o->data + 14, orig + FRAME_VNET + 14, pk.len - 14) == 0,
		    "%s: the packet itself untouched", cases[i].what);
		CHECK(stat_total(STAT_FORWARDED) == fwd + 1 && stat_total(STAT_FORWARDED_VIA_TAP) == tap + 1 &&
		    stat_total(STAT_DROP_NO_CONN_OUT) == drop, "%s: counted as forwarded, via the TAP",
		    cases[i].what);
	}
}

/* ---- IPv6 ---- */

static void
a6(uint8_t *to, const char *s)
{
	int af;

	if (addr_pton(s, &af, (union vsr_addr *)to) < 0 || af != AF_INET6)
		abort();
}

/* A client's TCP segment toward [VIP]:PORT, over IPv6. */
static struct frame_spec
from_client6(const char *vip, uint16_t port, uint8_t flags)
{
	struct frame_spec f = {
		.dst = our_mac, .src = tap_mac, .v6 = 1, .proto = IPPROTO_TCP, .sport = 40000,
		.dport = port, .tcpflags = flags, .plen = 100,
	};
	a6(f.saddr6, CLIENT6);
	a6(f.daddr6, vip);
	return f;
}

/* The one frame out, of OUT, IPv6 with its transport checksum right (unless partial). */
static const struct stub_frame *
one_out6(enum stub_output out, const char *what)
{
	const struct stub_frame *f = &stub_out[0];

	if (!CHECK(stub_nout == 1 && f->out == out, "%s: one frame out, to the %s", what,
	    out == STUB_TAP ? "TAP" : out == STUB_LINK ? "link" : "tunnel"))
		return NULL;
	if (!(f->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		CHECK((l3(f)[0] >> 4) == 6 && frame_l4_ok6(l3(f)),
		    "%s: IPv6, its checksum (with the pseudo-header) verifies", what);
	return f;
}

/* The IPv6 packet of F: SRC:SPORT -> DST:DPORT (the first 4 bytes after the header). */
static void
check_addrs6(const struct stub_frame *f, const char *src, uint16_t sport, const char *dst,
    uint16_t dport, const char *what)
{
	uint8_t s6[16], d6[16];

	a6(s6, src);
	a6(d6, dst);
	CHECK(memcmp(l3(f) + 8, s6, 16) == 0 && memcmp(l3(f) + 24, d6, 16) == 0 &&
	    frame_rd16(l3(f) + 40) == sport && frame_rd16(l3(f) + 42) == dport,
	    "%s: [%s]:%u -> [%s]:%u", what, src, sport, dst, dport);
}

static void
test_ipv6_modes(void)
{
	const uint8_t rs_mac[6] = STUB_NEIGH_MAC(0x11);
	const struct stub_frame *o;
	struct frame_spec f;
	uint16_t lport;

	UNIT_SECTION("IPv6: dr, tun, nat, fullnat");
	f = from_client6("2001:db8:10::100", 80, TCPF_SYN);
	if (CHECK_EQ(input(&f), 0, "dr6: a SYN parses") && (o = one_out6(STUB_LINK, "dr6")))
		CHECK(memcmp(o->data, rs_mac, 6) == 0 && memcmp(o->data + 6, link_mac, 6) == 0 &&
		    memcmp(o->data + 14, orig + PKT_VNET_LEN + 14, 40 + 20 + 100) == 0,
		    "dr6: to the real server's MAC, the IPv6 packet byte for byte");

	f = from_client6("2001:db8:10::101", 80, TCPF_SYN);
	if (CHECK_EQ(input(&f), 0, "tun6: a SYN parses") && (o = one_out6(STUB_TUNNEL, "tun6"))) {
		union vsr_addr rip;
		a6(rip.b, "2001:db8:20::12");
		CHECK(addr_eq(&o->daddr, &rip) && o->len == 40 + 20 + 100,
		    "tun6: the IPv6 packet into the tunnel to 2001:db8:20::12");
	}
	/* tunnel_mtu 1200: said as 1280, IPv6's least; a 1300-byte packet gets packet too big. */
	f = from_client6("2001:db8:10::101", 80, TCPF_ACK);
	f.plen = 1300 - 60;
	input(&f);
	if ((o = one_out6(STUB_TAP, "tun6 too big")) != NULL) {
		const uint8_t *icmp = l3(o) + 40;
		CHECK(icmp[0] == 2 && frame_rd16(icmp + 6) == 1280 && frame_rd16(icmp + 4) == 0,
		    "tun6 too big: ICMPv6 packet too big, MTU 1280 (not the configured 1200)");
		CHECK(memcmp(l3(o) + 8, orig + PKT_VNET_LEN + 14 + 24, 16) == 0 &&
		    memcmp(l3(o) + 24, orig + PKT_VNET_LEN + 14 + 8, 16) == 0,
		    "tun6 too big: from the VIP to the client");
	}
	f.plen = 1280 - 60;
	input(&f);
	CHECK(stub_nout == 1 && stub_out[0].out == STUB_TUNNEL,
	    "tun6: a 1280-byte packet goes into the tunnel (the outer one is fragmented)");

	f = from_client6("2001:db8:10::102", 80, TCPF_SYN);
	if (CHECK_EQ(input(&f), 0, "nat6: a SYN parses") && (o = one_out6(STUB_TAP, "nat6 in")))
		check_addrs6(o, CLIENT6, 40000, "2001:db8:20::13", 8080, "nat6 in: to the real server");
	struct frame_spec r = {
		.dst = our_mac, .src = tap_mac, .v6 = 1, .proto = IPPROTO_TCP, .sport = 8080,
		.dport = 40000, .tcpflags = TCPF_SYN | TCPF_ACK,
	};
	a6(r.saddr6, "2001:db8:20::13");
	a6(r.daddr6, CLIENT6);
	input(&r);
	if ((o = one_out6(STUB_TAP, "nat6 out")) != NULL)
		check_addrs6(o, "2001:db8:10::102", 80, CLIENT6, 40000, "nat6 out: from the VIP");
	struct frame_spec g = from_client6("2001:db8:10::102", 80, TCPF_ACK);
	g.plen = 3000;
	g.gso_size = 1000;
	input(&g);
	if ((o = one_out6(STUB_TAP, "nat6 gso")) != NULL) {
		CHECK(o->vnet.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 && o->vnet.gso_size == 1000,
		    "nat6 gso: still a TCPv6 super-frame");
		CHECK_EQ(frame_rd16(l3(o) + 40 + 16), frame_pseudo6(l3(o), IPPROTO_TCP, 20 + 3000),
		    "nat6 gso: the partial checksum is the new IPv6 pseudo-header sum");
	}

	f = from_client6("2001:db8:10::103", 80, TCPF_SYN);
	if (CHECK_EQ(input(&f), 0, "fullnat6: a SYN parses") &&
	    (o = one_out6(STUB_TAP, "fullnat6 in")) != NULL) {
		lport = frame_rd16(l3(o) + 40);
		check_addrs6(o, LIP6, lport, "2001:db8:20::14", 8080,
		    "fullnat6 in: from the local address");
		r.sport = 8080;
		r.dport = lport;
		a6(r.saddr6, "2001:db8:20::14");
		a6(r.daddr6, LIP6);
		input(&r);
		if ((o = one_out6(STUB_TAP, "fullnat6 out")) != NULL)
			check_addrs6(o, "2001:db8:10::103", 80, CLIENT6, 40000,
			    "fullnat6 out: from the VIP to the client");
	}
}

static void
test_ipv6_icmp(void)
{
	const struct stub_frame *o;
	uint64_t before;

	UNIT_SECTION("ICMPv6 and neighbour discovery");
	struct frame_spec e = { .dst = our_mac, .src = tap_mac, .v6 = 1, .proto = IPPROTO_ICMPV6,
	    .icmp_type = 128, .plen = 56 };
	a6(e.saddr6, CLIENT6);
	a6(e.daddr6, "2001:db8:10::100");
	input(&e);
	if ((o = one_out6(STUB_TAP, "echo6")) != NULL)
		CHECK(l3(o)[40] == 129 && l3(o)[7] == 64 &&
		    memcmp(l3(o) + 8, orig + PKT_VNET_LEN + 14 + 24, 16) == 0 &&
		    memcmp(l3(o) + 24, orig + PKT_VNET_LEN + 14 + 8, 16) == 0 &&
		    memcmp(l3(o) + 40 + 4, orig + PKT_VNET_LEN + 14 + 40 + 4, 4 + 56) == 0,
		    "echo6: a reply from the VIP to the client, hop limit 64, data echoed");

	/* Packet too big from a router about the nat flow's VIP:80 -> client:40000. */
	struct frame_spec q = from_client6("2001:db8:10::102", 80, TCPF_ACK);
	a6(q.saddr6, "2001:db8:10::102");
	a6(q.daddr6, CLIENT6);
	q.sport = 80;
	q.dport = 40000;
	q.plen = 1400;
	uint8_t *tmp = malloc(PKT_BUF_STRIDE), quote[200];
	frame_build(tmp, &q);
	memcpy(quote, tmp + PKT_VNET_LEN + 14, sizeof(quote));
	free(tmp);
	struct frame_spec err = { .dst = our_mac, .src = tap_mac, .v6 = 1,
	    .proto = IPPROTO_ICMPV6, .icmp_type = 2, .payload = quote, .plen = sizeof(quote) };
	a6(err.saddr6, "2001:db8:ff::1");
	a6(err.daddr6, "2001:db8:10::102");
	input(&err);
	if ((o = one_out6(STUB_TAP, "ptb6 in")) != NULL) {
		const uint8_t *qip = l3(o) + 40 + 8;
		uint8_t rip[16], cl[16];
		a6(rip, "2001:db8:20::13");
		a6(cl, CLIENT6);
		CHECK(memcmp(l3(o) + 24, rip, 16) == 0 && memcmp(qip + 8, rip, 16) == 0 &&
		    frame_rd16(qip + 40) == 8080 && memcmp(qip + 24, cl, 16) == 0,
		    "ptb6 in: to the real server, about [RIP]:8080 -> client");
	}

	/* The kernel's solicitations on the TAP link. */
	static const char *const targets[] = { "2001:db8:10::101", LIP6, "fe80::76:fe",
	    "2001:db8:10::199" };
	uint8_t reply_mac[6];
	steer_reply_mac(our_mac, reply_mac);
	for (unsigned i = 0; i < 4; i++) {
		union vsr_addr t, src, got;
		uint8_t *frame = buf + PKT_VNET_LEN, mac[6];
		const uint8_t *want = i == 0 ? our_mac : reply_mac;
		a6(t.b, targets[i]);
		a6(src.b, "fe80::aa");
		memset(buf, 0, PKT_VNET_LEN);
		uint32_t len = pkt_nd_ns_fill(frame, tap_mac, &src, &t);
		before = stat_total(STAT_ND_IGNORED);
		stub_nout = 0;
		if (!CHECK_EQ(pkt_parse(&pk, buf, len), STAT_NONE, "NS for %s parses", targets[i]))
			continue;
		core_input(&w, &pk);
		if (i == 3) {
			CHECK(stub_nout == 0 && stat_total(STAT_ND_IGNORED) == before + 1,
			    "NS for %s (not ours): no answer, counted", targets[i]);
			continue;
		}
		o = &stub_out[0];
		CHECK(stub_nout == 1 && o->out == STUB_TAP && o->len == PKT_ND_LEN &&
		    memcmp(o->data, tap_mac, 6) == 0 &&
		    pkt_nd_na_parse(o->data, o->len, &got, mac) == 0 && addr_eq(&got, &t) &&
		    memcmp(mac, want, 6) == 0 && (o->data[14 + 40 + 4] & ND_NA_SOLICITED) &&
		    memcmp(o->data + 14 + 24, &src, 16) == 0,
		    "NS for %s: a solicited NA, %s MAC, to the kernel", targets[i],
		    i == 0 ? "our" : "the reply");
	}
	/* A router solicitation of the TAP's own: the link's, not ours to answer or pass. */
	struct frame_spec rs6 = { .dst = our_mac, .src = tap_mac, .v6 = 1,
	    .proto = IPPROTO_ICMPV6, .icmp_type = 133, .plen = 8 };
	a6(rs6.saddr6, "fe80::aa");
	a6(rs6.daddr6, "ff02::2");
	before = stat_total(STAT_ND_IGNORED);
	input(&rs6);
	CHECK(stub_nout == 0 && stat_total(STAT_ND_IGNORED) == before + 1,
	    "a router solicitation on the TAP link: ignored, counted");
}

/* ---- the RST window ---- */

/* F (IPv4 TCP) with sequence number SEQ, through core_input(). */
static void
input_seq(const struct frame_spec *f, uint32_t seq)
{
	uint32_t len = frame_build(buf, f);
	uint8_t *th = buf + FRAME_VNET + 14 + 20;

	th[4] = (uint8_t)(seq >> 24);
	th[5] = (uint8_t)(seq >> 16);
	th[6] = (uint8_t)(seq >> 8);
	th[7] = (uint8_t)seq;
	stub_nout = 0;
	if (pkt_parse(&pk, buf, len) == STAT_NONE)
		core_input(&w, &pk);
}

static void
test_rst_window(void)
{
	const union vsr_addr c = { .ip = ip(CLIENT) }, v = { .ip = ip("10.10.0.100") };
	struct frame_spec f = from_client("10.10.0.100", 80, TCPF_SYN);
	struct conn *cn;
	uint64_t before;

	UNIT_SECTION("a client's RST: honoured within its flow's window only");
	f.sport = 42000;
	f.plen = 0;
	input_seq(&f, 1000);                    /* SYN: next 1001 */
	f.tcpflags = TCPF_ACK;
	f.plen = 100;
	input_seq(&f, 1001);                    /* next 1101 */
	cn = conn_lookup_in(w.ct, AF_INET, IPPROTO_TCP, &c, htons(42000), &v, htons(80));
	if (!CHECK(cn != NULL && cn->state == CS_ESTABLISHED, "SYN, then ACK with data: ESTABLISHED"))
		return;
	CHECK_EQ(cn->cseq_next, 1101, "the client's next sequence number: 1101");
	f.tcpflags = TCPF_RST;
	f.plen = 0;
	before = stat_total(STAT_DROP_RST_WINDOW);
	input_seq(&f, 1101u + 0x80000000u);
	CHECK(stub_nout == 0 && stat_total(STAT_DROP_RST_WINDOW) == before + 1 &&
	    cn->state == CS_ESTABLISHED, "a RST 2 GiB away: dropped, counted, still ESTABLISHED");
	input_seq(&f, 1101u + (1u << 20) + 1);
	CHECK(stub_nout == 0 && cn->state == CS_ESTABLISHED, "a RST 1 MiB + 1 ahead: dropped");
	input_seq(&f, 1101u - 70000u);
	CHECK(stub_nout == 0 && cn->state == CS_ESTABLISHED, "a RST 70,000 behind: dropped");
	CHECK_EQ(stat_total(STAT_DROP_RST_WINDOW), before + 3, "three counted");
	input_seq(&f, 1101);
	CHECK(stub_nout == 1 && cn->state == CS_CLOSE, "a RST at the next sequence number: forwarded, CLOSE");
}

/* ---- limits on the ICMP the director makes ---- */

static void
test_icmp_limit(void)
{
	unsigned ok = 0;

	UNIT_SECTION("ICMP made by the director: a token bucket per kind");
	icmp_limit_set(100);            /* 10 a tick, 50 at once at most */
	for (int i = 0; i < 200; i++)
		ok += (unsigned)icmp_limit_allow(ICMP_KIND_ECHO, 1000);
	CHECK_EQ(ok, 50, "icmp_rate 100: a burst of 50 in one tick, no more");
	CHECK_EQ(icmp_limit_allow(ICMP_KIND_ERROR, 1000), 1, "the other kind has its own budget");
	ok = 0;
	for (int i = 0; i < 200; i++)
		ok += (unsigned)icmp_limit_allow(ICMP_KIND_ECHO, 1001);
	CHECK_EQ(ok, 10, "one tick later: 10 more");
	ok = 0;
	for (uint32_t t = 1002; t < 1012; t++)
		for (int i = 0; i < 200; i++)
			ok += (unsigned)icmp_limit_allow(ICMP_KIND_ECHO, t);
	CHECK_EQ(ok, 100, "a second of a flood: 100 answered");
	icmp_limit_set(0);
	ok = 0;
	for (int i = 0; i < 5000; i++)
		ok += (unsigned)icmp_limit_allow(ICMP_KIND_ECHO, 1012);
	CHECK_EQ(ok, 5000, "icmp_rate 0: no limit");
	icmp_limit_set(0);
}

/* ---- sloppy_tcp: a flow met in its middle ---- */

static void
test_sloppy(void)
{
	static const struct {
		const char *what;
		uint16_t    sport;
		uint8_t     flags;
		int         forwarded;
		enum conn_state state;  /* of the entry made, when forwarded */
	} cases[] = {
		{ "an ACK makes an ESTABLISHED entry", 41500, TCPF_ACK, 1, CS_ESTABLISHED },
		{ "a FIN+ACK makes a CLOSE entry", 41501, TCPF_FIN | TCPF_ACK, 1, CS_CLOSE },
		{ "a PSH+ACK makes an ESTABLISHED entry", 41502, TCPF_PSH | TCPF_ACK, 1, CS_ESTABLISHED },
		{ "a RST makes none", 41503, TCPF_RST | TCPF_ACK, 0, CS_NONE },
	};

	UNIT_SECTION("sloppy");
	core_set_sloppy(1);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct frame_spec f = from_client("10.10.0.100", 80, cases[i].flags);
		uint64_t before = stat_total(STAT_DROP_NO_CONN);
		struct conn *c;

		f.sport = cases[i].sport;
		input(&f);
		c = conn_lookup_in(w.ct, AF_INET, IPPROTO_TCP, &(union vsr_addr){ .ip = ip(CLIENT) },
		    htons(f.sport), &(union vsr_addr){ .ip = ip("10.10.0.100") }, htons(80));
		if (cases[i].forwarded) {
			if (one_out(STUB_LINK, cases[i].what) != NULL)
				check_addrs(&stub_out[0], CLIENT, f.sport, "10.10.0.100", 80, cases[i].what);
			CHECK(c != NULL && c->state == cases[i].state, "%s (state %s)", cases[i].what,
			    c ? conn_state_name((enum conn_state)c->state) : "no entry");
		} else {
			CHECK(stub_nout == 0 && c == NULL &&
			    stat_total(STAT_DROP_NO_CONN) == before + 1, "%s: dropped, counted",
			    cases[i].what);
		}
	}
	core_set_sloppy(0);
}

/* ---- synproxy ---- */

/* Offsets of the IP and TCP headers of an output frame of either family (no options in IP). */
static const uint8_t *
sp_l3(const struct stub_frame *f)
{
	return f->data + 14;
}

static const uint8_t *
sp_l4(const struct stub_frame *f, int v6)
{
	return sp_l3(f) + (v6 ? 40 : (sp_l3(f)[0] & 0x0f) * 4);
}

static uint32_t
rd32b(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void
wr32b(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* F built with SEQ and ACK in its TCP header (checksum made again), run through core_input(). */
static void
sp_input(const struct frame_spec *f, uint32_t seq, uint32_t ack)
{
	uint32_t len = frame_build(buf, f), l4len;
	uint8_t *ip = buf + FRAME_VNET + 14, *tcp = ip + (f->v6 ? 40 : 20);

	wr32b(tcp + 4, seq);
	wr32b(tcp + 8, ack);
	l4len = f->v6 ? frame_rd16(ip + 4) : frame_rd16(ip + 2) - 20u;
	frame_wr16(tcp + 16, 0);
	frame_wr16(tcp + 16, (uint16_t)~frame_sum(tcp, l4len, f->v6 ?
	    frame_pseudo6(ip, IPPROTO_TCP, l4len) : frame_pseudo(ip, IPPROTO_TCP, l4len)));
	stub_nout = 0;
	if (pkt_parse(&pk, buf, len) != STAT_NONE) {
		CHECK(0, "a hand-made segment parses");
		return;
	}
	core_input(&w, &pk);
}

/* The one frame out, a TCP segment of FLAGS with SEQ and ACK whose checksums verify. */
static const uint8_t *
sp_expect(int v6, uint8_t flags, uint32_t seq, uint32_t ack, const char *what)
{
	const struct stub_frame *f = &stub_out[0];
	const uint8_t *tcp;

	if (!CHECK(stub_nout == 1 && f->out == STUB_TAP, "%s: one frame out, into the TAP", what))
		return NULL;
	tcp = sp_l4(f, v6);
	CHECK(v6 ? frame_l4_ok6(sp_l3(f)) : frame_ip_ok(sp_l3(f)) && frame_l4_ok(sp_l3(f)),
	    "%s: its checksums verify", what);
	CHECK(tcp[13] == flags && rd32b(tcp + 4) == seq && rd32b(tcp + 8) == ack,
	    "%s: flags %#x seq %u ack %u (have %#x %u %u)", what, flags, seq, ack, tcp[13],
	    rd32b(tcp + 4), rd32b(tcp + 8));
	return tcp;
}

/*
 * The handshake answered with a cookie and no entry; a forged ACK
 * refused; the good one opens the real server's side with the client's
 * ISN; data before the server answered goes as the SYN again; the
 * server's SYN-ACK answered by the director; then both ways spliced.
 * V6: the IPv6 fullnat service, else the IPv4 nat one.
 */
static void
test_synproxy(int v6)
{
	const char *vip = v6 ? "2001:db8:10::104" : "10.10.0.104";
	const char *what = v6 ? "synproxy6 fullnat" : "synproxy nat";
	struct frame_spec f = from_client(vip, 80, TCPF_SYN);
	union vsr_addr ca, va;
	const uint8_t *tcp;
	uint64_t sent = stat_total(STAT_SYNPROXY_COOKIES_SENT),
	    bad = stat_total(STAT_SYNPROXY_ACK_INVALID);
	uint32_t cookie, isn = 1000, srv = 5000000;
	uint16_t lport = 40000;
	char w1[96];
	int af;

	UNIT_SECTION(what);
	synproxy_seed(1, 2, w.now);
	addr_pton(v6 ? CLIENT6 : CLIENT, &af, &ca);
	addr_pton(vip, &af, &va);
	if (v6) {
		f.v6 = 1;
		memcpy(f.saddr6, ca.b, 16);
		memcpy(f.daddr6, va.b, 16);
	}
	f.plen = 0;
	sp_input(&f, isn, 0);
	snprintf(w1, sizeof(w1), "%s: the SYN answered", what);
	if ((tcp = sp_expect(v6, TCPF_SYN | TCPF_ACK, rd32b(sp_l4(&stub_out[0], v6) + 4), isn + 1,
	    w1)) == NULL)
		return;
	cookie = rd32b(tcp + 4);
	CHECK(memcmp(stub_out[0].data, tap_mac, 6) == 0 &&
	    memcmp(stub_out[0].data + 6, our_mac, 6) == 0 &&
	    memcmp(sp_l3(&stub_out[0]) + (v6 ? 8 : 12), va.b, v6 ? 16 : 4) == 0 &&
	    memcmp(sp_l3(&stub_out[0]) + (v6 ? 24 : 16), ca.b, v6 ? 16 : 4) == 0 &&
	    frame_rd16(tcp) == 80 && frame_rd16(tcp + 2) == 40000,
	    "%s: SYN-ACK from the VIP to the client, back to the kernel", what);
	CHECK((tcp[12] >> 4) == 6 && tcp[20] == 2 && tcp[21] == 4 &&
	    frame_rd16(tcp + 22) == synproxy_mss(af, 0),
	    "%s: the cookie's MSS (%u) offered, no other option", what, synproxy_mss(af, 0));
	CHECK(stat_total(STAT_SYNPROXY_COOKIES_SENT) == sent + 1, "%s: counted", what);
	CHECK(conn_lookup_in(w.ct, af, IPPROTO_TCP, &ca, htons(40000), &va, htons(80)) == NULL,
	    "%s: a SYN makes no entry", what);

	f.tcpflags = TCPF_ACK;
	sp_input(&f, isn + 1, cookie + 2);
	CHECK(stub_nout == 0 && stat_total(STAT_SYNPROXY_ACK_INVALID) == bad + 1 &&
	    conn_lookup_in(w.ct, af, IPPROTO_TCP, &ca, htons(40000), &va, htons(80)) == NULL,
	    "%s: an ACK with a wrong cookie is dropped, counted, makes no entry", what);
	sp_input(&f, isn + 7, cookie + 1);
	CHECK(stub_nout == 0, "%s: an ACK of another ISN is dropped too", what);

	sp_input(&f, isn + 1, cookie + 1);
	snprintf(w1, sizeof(w1), "%s: the good ACK", what);
	if ((tcp = sp_expect(v6, TCPF_SYN, isn, 0, w1)) == NULL)
		return;
	struct conn *c = conn_lookup_in(w.ct, af, IPPROTO_TCP, &ca, htons(40000), &va, htons(80));
	CHECK(c != NULL, "%s: the ACK made the flow", what);
	if (v6)
		lport = frame_rd16(tcp);
	CHECK(frame_rd16(tcp + 2) == 8080 && (tcp[12] >> 4) == 6 && tcp[20] == 2 &&
	    frame_rd16(tcp + 22) == synproxy_mss(af, 0),
	    "%s: a SYN to the real server with the client's ISN and MSS", what);

	f.plen = 100;
	sp_input(&f, isn + 1, cookie + 1);
	snprintf(w1, sizeof(w1), "%s: data before the server answered", what);
	if ((tcp = sp_expect(v6, TCPF_SYN, isn, 0, w1)) == NULL)
		return;
	CHECK(stub_out[0].len == 14u + (v6 ? 40u : 20u) + 24u, "%s: went as the SYN again, "
	    "without its data", what);

	/* The real server's SYN-ACK: answered with the client's ACK, never passed on. */
	struct frame_spec r = {
		.dst = our_mac, .src = tap_mac, .saddr = ip("10.20.0.15"), .daddr = ip(CLIENT),
		.proto = IPPROTO_TCP, .sport = 8080, .dport = lport,
		.tcpflags = TCPF_SYN | TCPF_ACK,
	};
	if (v6) {
		union vsr_addr rs6, l6;
		r.v6 = 1;
		addr_pton("2001:db8:20::15", &af, &rs6);
		addr_pton(LIP6, &af, &l6);
		memcpy(r.saddr6, rs6.b, 16);
		memcpy(r.daddr6, l6.b, 16);
	}
	sp_input(&r, srv, isn + 1);
	snprintf(w1, sizeof(w1), "%s: the server's SYN-ACK", what);
	if ((tcp = sp_expect(v6, TCPF_ACK, isn + 1, srv + 1, w1)) == NULL)
		return;
	CHECK(frame_rd16(tcp + 2) == 8080 && frame_rd16(tcp) == lport,
	    "%s: answered toward the real server", what);
	CHECK(c->state == CS_ESTABLISHED, "%s: the flow is ESTABLISHED (%d)", what, c->state);

	/* Spliced: the server's numbers toward the client, the client's acks back. */
	r.tcpflags = TCPF_ACK | TCPF_PSH;
	r.plen = 100;
	sp_input(&r, srv + 1, isn + 1);
	snprintf(w1, sizeof(w1), "%s: the server's data", what);
	if ((tcp = sp_expect(v6, TCPF_ACK | TCPF_PSH, cookie + 1, isn + 1, w1)) == NULL)
		return;
	CHECK(frame_rd16(tcp) == 80 && frame_rd16(tcp + 2) == 40000,
	    "%s: to the client from the VIP, in the cookie's numbers", what);
	/* A router's "fragmentation needed" about it finds the real server's own numbers. */
	if (!v6) {
		uint8_t quote[40];
		memcpy(quote, sp_l3(&stub_out[0]), sizeof(quote));
		struct frame_spec e = {
			.dst = our_mac, .src = tap_mac, .saddr = ip("192.0.2.254"), .daddr = ip(vip),
			.proto = IPPROTO_ICMP, .icmp_type = ICMP_DEST_UNREACH,
			.icmp_code = ICMP_FRAG_NEEDED, .payload = quote, .plen = sizeof(quote),
		};
		input(&e);
		if (CHECK(stub_nout == 1 && stub_out[0].out == STUB_TAP,
		    "%s: the ICMP error goes on to the real server", what))
			CHECK(rd32b(sp_l3(&stub_out[0]) + 20 + 8 + 20 + 4) == srv + 1,
			    "%s: its quote has the server's sequence number back (%u)", what,
			    rd32b(sp_l3(&stub_out[0]) + 20 + 8 + 20 + 4));
	}
	f.plen = 10;
	sp_input(&f, isn + 1, cookie + 101);
	snprintf(w1, sizeof(w1), "%s: the client's ack", what);
	sp_expect(v6, TCPF_ACK, isn + 1, srv + 101, w1);

	/* As a sync backup has the flow: the adjustment alone, no proxy state. */
	struct cliaddr_state *st = conn_cliaddr(w.ct, c);
	if (!CHECK(st != NULL, "%s: the flow has its side state", what))
		return;
	uint32_t cisn = st->sp_cisn, pisn = st->sp_pisn;
	uint8_t fl = st->sp_flags;
	st->sp_flags = 0;
	st->sp_cisn = st->sp_pisn = 0;
	sp_input(&r, srv + 101, isn + 11);
	snprintf(w1, sizeof(w1), "%s: a backup's flow, the server's data", what);
	sp_expect(v6, TCPF_ACK | TCPF_PSH, cookie + 101, isn + 11, w1);
	st->sp_flags = fl;
	st->sp_cisn = cisn;
	st->sp_pisn = pisn;
}

int
main(void)
{
	log_init("test_core", 1, LOG_LVL_WARNING);
	if (!CHECK_EQ(setup(), 0, "twelve services, both families, bound through the real transmitters"))
		return unit_done();
	test_dr();
	test_tun();
	test_nat();
	test_fullnat();
	test_arp();
	test_icmp();
	test_drops();
	test_forward();
	test_ipv6_modes();
	test_ipv6_icmp();
	test_rst_window();
	test_icmp_limit();
	test_sloppy();
	test_synproxy(0);
	test_synproxy(1);
	test_ops_fragments();
	conn_flush(w.ct);
	svc_teardown();
	laddr_teardown();
	conn_table_free(w.ct);
	free(buf);
	free(orig);
	return unit_done();
}
