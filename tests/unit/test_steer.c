/* test_steer.c - the TAP's steering program, its hash in C, and fullnat's port shares */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conn.h"
#include "laddr.h"
#include "stats.h"
#include "steer.h"
#include "svc.h"
#include "unit.h"
#include "frame.h"

#define KEY 0x0badcafeu

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0xbb };
static const uint8_t tap_mac[6] = { 0x02, 0, 0, 0, 0, 0xaa };

static union vsr_addr
a4(const char *s)
{
	union vsr_addr a;

	memset(&a, 0, sizeof(a));
	inet_pton(AF_INET, s, &a.ip);
	return a;
}

static union vsr_addr
a6(const char *s)
{
	union vsr_addr a;

	inet_pton(AF_INET6, s, a.b);
	return a;
}

/*
 * The hash against values computed apart from this code (Python, from
 * steer.h's description: h = (h ^ x) * 0x9e3779b1, h ^= h >> 16 per
 * word, then * 0x85ebca6b, ^ >> 16, low 16 bits).
 */
static void
test_hash_values(void)
{
	static const struct {
		const char *what;
		uint32_t    key;
		int         af;
		const char *addr;
		uint16_t    port;
		uint16_t    want;
	} cases[] = {
		{ "IPv4, key 0",               0,   AF_INET,  "10.10.0.1",      40000, 18007 },
		{ "IPv4",                      KEY, AF_INET,  "10.10.0.1",      40000, 24512 },
		{ "IPv4, no port",             KEY, AF_INET,  "10.10.0.1",      0,     52440 },
		{ "a local address and port",  KEY, AF_INET,  "10.20.0.250",    1024,  60821 },
		{ "IPv6",                      KEY, AF_INET6, "2001:db8:10::1", 40000, 64703 },
	};

	UNIT_SECTION("the hash, against values computed apart");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		union vsr_addr a = cases[i].af == AF_INET ? a4(cases[i].addr) : a6(cases[i].addr);
		CHECK_EQ(steer_hash(cases[i].key, cases[i].af, &a, htons(cases[i].port)),
		    cases[i].want, "%s: %s port %u", cases[i].what, cases[i].addr, cases[i].port);
	}
}

/* A local address's ports fall into the shares about evenly: each worker gets ~1/N. */
static void
test_hash_spread(void)
{
	union vsr_addr lip = a4("10.20.0.250"), lip6 = a6("2001:db8:20::250");

	UNIT_SECTION("the ports of a local address, spread over the queues");
	for (unsigned nq = 2; nq <= 4; nq += 2) {
		unsigned n4[4] = { 0 }, n6[4] = { 0 }, total = LADDR_PORT_MAX - LADDR_PORT_MIN + 1;
		for (uint32_t p = LADDR_PORT_MIN; p <= LADDR_PORT_MAX; p++) {
			n4[steer_hash(KEY, AF_INET, &lip, htons((uint16_t)p)) % nq]++;
			n6[steer_hash(KEY, AF_INET6, &lip6, htons((uint16_t)p)) % nq]++;
		}
		for (unsigned q = 0; q < nq; q++) {
			CHECK(n4[q] * nq * 100 > total * 95 && n4[q] * nq * 100 < total * 105,
			    "%u queues: queue %u gets %u of %u IPv4 ports (within 5 %% of 1/%u)",
			    nq, q, n4[q], total, nq);
			CHECK(n6[q] * nq * 100 > total * 95 && n6[q] * nq * 100 < total * 105,
			    "%u queues: queue %u gets %u of %u IPv6 ports (within 5 %% of 1/%u)",
			    nq, q, n6[q], total, nq);
		}
	}
}

/* ---- the program itself, in the kernel's verifier and BPF_PROG_TEST_RUN ---- */

/*
 * Run program FD on the Ethernet frame ETH (LEN bytes). The test run of a
 * socket filter pulls an Ethernet header off the data first (it runs it
 * at the network header, net/bpf/test_run.c), where at queue selection
 * the program sees the frame from its Ethernet header: a dummy header
 * goes in front, so that the program gets the frame as the TAP would.
 * The program's return value, or -1.
 */
static long
run(int fd, const uint8_t *eth, uint32_t len)
{
	static uint8_t in[14 + 2048];
	union bpf_attr attr;

	memset(in, 0, 14);
	memcpy(in, tap_mac, 6);
	memcpy(in + 6, tap_mac, 6);
	in[12] = 0x08;                  /* IPv4: any type will do */
	memcpy(in + 14, eth, len);
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (uint32_t)fd;
	attr.test.data_in = (uint64_t)(uintptr_t)in;
	attr.test.data_size_in = 14 + len;
	attr.test.repeat = 1;
	if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &attr, sizeof(attr)) < 0)
		return -1;
	return attr.test.retval;
}

static uint8_t fbuf[2048];

struct pcase {
	const char *what;
	int         v6;
	uint8_t     proto;
	int         reply;      /* to the reply MAC */
	const uint8_t *dst;     /* else this MAC (NULL: ours) */
	int         frag;       /* IPv4: 1 a first fragment (MF), 2 a later one */
	int         opts;       /* IPv4: 4 bytes of options */
	int         ext;        /* IPv6: a hop-by-hop header before the TCP one */
	int         ports;      /* the ports hashed (else the addresses alone) */
};

/* Build case C at fbuf (Ethernet on); its length. */
static uint32_t
build(const struct pcase *c, const uint8_t *reply_mac)
{
	struct frame_spec f = {
		.dst = c->reply ? reply_mac : c->dst ? c->dst : our_mac, .src = tap_mac,
		.v6 = c->v6, .proto = c->proto, .sport = 40000, .dport = 8080, .plen = 16,
		.icmp_type = c->v6 ? 128 : 8,
	};
	uint8_t *eth = fbuf + FRAME_VNET, *ip = eth + 14;
	union vsr_addr s4 = a4("192.0.2.1"), d4 = a4("10.20.0.250");
	union vsr_addr s6 = a6("2001:db8:10::1"), d6 = a6("2001:db8:20::250");
	uint32_t len;

	f.saddr = s4.ip;
	f.daddr = d4.ip;
	memcpy(f.saddr6, s6.b, 16);
	memcpy(f.daddr6, d6.b, 16);
	len = frame_build(fbuf, &f);
	if (c->frag == 1)
		ip[6] |= 0x20;
	if (c->frag == 2)
		ip[7] = 100;
	if (c->opts) {
		/* Four NOPs after the fixed header: IHL 6, the ports 4 bytes on. */
		memmove(ip + 24, ip + 20, len - 14 - 20);
		memset(ip + 20, 1, 4);
		ip[0] = 0x46;
		len += 4;
	}
	if (c->ext) {
		/* A hop-by-hop header (8 bytes, padding only) before the TCP one. */
		memmove(ip + 48, ip + 40, len - 14 - 40);
		memset(ip + 40, 0, 8);
		ip[40] = ip[6];
		ip[41] = 0;
		ip[42] = 1;             /* PadN, 4 bytes of it */
		ip[43] = 4;
		ip[6] = 0;
		len += 8;
	}
	return len;
}

static void
test_program(void)
{
	static const uint8_t mark_mac[6] = { 0x06, 0x76, 0, 0, 0, 7 };
	uint8_t reply_mac[6], near1[6], near2[6];
	char *vlog = malloc(1 << 16);
	int fd;

	steer_reply_mac(our_mac, reply_mac);
	memcpy(near1, reply_mac, 6);
	near1[0] ^= 0x04;                       /* the reply MAC but in its first word */
	memcpy(near2, reply_mac, 6);
	near2[4] ^= 0x01;                       /* ... but in its last two bytes */
	const struct pcase cases[] = {
		{ "IPv4 tcp toward a VIP",                 0, IPPROTO_TCP,  0, NULL, 0, 0, 0, 1 },
		{ "IPv4 tcp reply",                        0, IPPROTO_TCP,  1, NULL, 0, 0, 0, 1 },
		{ "IPv4 udp toward a VIP",                 0, IPPROTO_UDP,  0, NULL, 0, 0, 0, 1 },
		{ "IPv4 udp reply",                        0, IPPROTO_UDP,  1, NULL, 0, 0, 0, 1 },
		{ "IPv4 udp first fragment",               0, IPPROTO_UDP,  0, NULL, 1, 0, 0, 0 },
		{ "IPv4 udp later fragment, a reply",      0, IPPROTO_UDP,  1, NULL, 2, 0, 0, 0 },
		{ "IPv4 icmp",                             0, IPPROTO_ICMP, 0, NULL, 0, 0, 0, 0 },
		{ "IPv4 icmp reply",                       0, IPPROTO_ICMP, 1, NULL, 0, 0, 0, 0 },
		{ "IPv4 tcp with options",                 0, IPPROTO_TCP,  0, NULL, 0, 1, 0, 1 },
		{ "IPv4 tcp reply with options",           0, IPPROTO_TCP,  1, NULL, 0, 1, 0, 1 },
		{ "IPv4 tcp to a mark's gateway",          0, IPPROTO_TCP,  0, mark_mac, 0, 0, 0, 1 },
		{ "IPv4 tcp to a MAC off the reply one's first word", 0, IPPROTO_TCP, 0, near1, 0, 0, 0, 1 },
		{ "IPv4 tcp to a MAC off the reply one's last bytes", 0, IPPROTO_TCP, 0, near2, 0, 0, 0, 1 },
		{ "IPv6 tcp toward a VIP",                 1, IPPROTO_TCP,  0, NULL, 0, 0, 0, 1 },
		{ "IPv6 tcp reply",                        1, IPPROTO_TCP,  1, NULL, 0, 0, 0, 1 },
		{ "IPv6 udp toward a VIP",                 1, IPPROTO_UDP,  0, NULL, 0, 0, 0, 1 },
		{ "IPv6 udp reply",                        1, IPPROTO_UDP,  1, NULL, 0, 0, 0, 1 },
		{ "IPv6 icmpv6",                           1, IPPROTO_ICMPV6, 0, NULL, 0, 0, 0, 0 },
		{ "IPv6 tcp behind a hop-by-hop header",   1, IPPROTO_TCP,  0, NULL, 0, 0, 1, 0 },
		{ "IPv6 tcp reply behind a hop-by-hop header", 1, IPPROTO_TCP, 1, NULL, 0, 0, 1, 0 },
	};

	UNIT_SECTION("the steering program, run by the kernel");
	if (vlog == NULL)
		return;
	fd = steer_prog_load(KEY, reply_mac, vlog, 1 << 16);
	if (fd < 0) {
		/* Not a pass: nothing is checked, and it says why. */
		if (errno == EPERM)
			printf("# skip: loading it needs CAP_BPF or CAP_SYS_ADMIN (%s)\n",
			    strerror(errno));
		else
			CHECK(0, "the verifier takes the program: %s\n%s", strerror(errno), vlog);
		free(vlog);
		return;
	}
	CHECK(1, "the verifier takes the program");
	free(vlog);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		uint32_t len = build(c, reply_mac);
		int af = c->v6 ? AF_INET6 : AF_INET;
		/* The client's side: the source of a request, the destination of a reply. */
		union vsr_addr a = c->v6 ? a6(c->reply ? "2001:db8:20::250" : "2001:db8:10::1") :
		    a4(c->reply ? "10.20.0.250" : "192.0.2.1");
		uint16_t port = !c->ports ? 0 : htons(c->reply ? 8080 : 40000);
		CHECK_EQ(run(fd, fbuf + FRAME_VNET, len), steer_hash(KEY, af, &a, port),
		    "%s: the program's value is steer_hash() of its client's side%s", c->what,
		    c->ports ? "" : " (addresses only)");
	}
	/* What is not IP: queue 0. */
	uint8_t arp[60] = { 0 };
	memset(arp, 0xff, 6);
	memcpy(arp + 6, tap_mac, 6);
	arp[12] = 0x08;
	arp[13] = 0x06;
	CHECK_EQ(run(fd, arp, sizeof(arp)), 0, "an ARP request: 0");
	/* A frame cut short: the program ends with 0, it reads nothing beyond. */
	struct pcase cut = { "cut", 0, IPPROTO_TCP, 0, NULL, 0, 0, 0, 1 };
	build(&cut, reply_mac);
	CHECK_EQ(run(fd, fbuf + FRAME_VNET, 14 + 20 + 1), 0, "a TCP frame cut in its ports: 0");
	close(fd);
}

/* ---- fullnat's local ports, by share ---- */

static void
dest_init(struct dest *d, int af, const union vsr_addr *addr)
{
	memset(d, 0, sizeof(*d));
	d->af = af;
	d->addr = *addr;
	d->port = htons(8080);
	d->weight = 1;
	d->refcnt = 1;
	d->xmit_id = XMIT_FULLNAT;
}

static void
test_laddr_shares(void)
{
	struct conn_table *t = conn_table_new(1u << 16, 0);
	struct vsr_ip pool[2] = { { AF_INET, a4("10.20.0.250") },
	    { AF_INET6, a6("2001:db8:20::250") } };
	union vsr_addr rs4 = a4("10.20.0.14"), rs6 = a6("2001:db8:20::14"), la;
	struct dest d;
	uint16_t lp, last;
	unsigned bad = 0, order = 0;

	UNIT_SECTION("fullnat's local ports, a share per worker");
	if (!CHECK(t != NULL && laddr_setup(pool, 2) == 0, "a table and a pool"))
		return;
	steer_set(KEY, 2);
	for (unsigned share = 0; share < 2; share++) {
		for (int v6 = 0; v6 <= 1; v6++) {
			int af = v6 ? AF_INET6 : AF_INET;
			const union vsr_addr *rs = v6 ? &rs6 : &rs4;
			bad = order = 0;
			last = 0;
			for (unsigned i = 0; i < 200; i++) {
				if (laddr_alloc(t, af, IPPROTO_TCP, rs, htons(8080), share, 2, &la,
				    &lp) < 0) {
					bad++;
					continue;
				}
				bad += !addr_eq(&la, &pool[v6].addr) ||
				    steer_queue(af, &la, lp, 2) != share;
				/* In order, but for the wrap from 65535 to 1024. */
				order += i > 0 && ntohs(lp) <= ntohs(last) &&
				    ntohs(last) - ntohs(lp) < 32768;
				last = lp;
			}
			CHECK_EQ(bad, 0, "worker %u of 2, IPv%c: 200 ports, each of its share",
			    share, v6 ? '6' : '4');
			CHECK_EQ(order, 0, "worker %u of 2, IPv%c: handed out in order", share,
			    v6 ? '6' : '4');
		}
	}
	/* Worker 0's share toward one real server's port, all taken: it refuses, worker 1 goes on. */
	dest_init(&d, AF_INET, &rs4);
	unsigned held = 0;
	for (uint32_t p = LADDR_PORT_MIN; p <= LADDR_PORT_MAX; p++) {
		uint16_t port = htons((uint16_t)p);
		if (steer_queue(AF_INET, &pool[0].addr, port, 2) != 0)
			continue;
		struct conn_param cp = {
			.af = AF_INET, .proto = IPPROTO_TCP,
			.caddr = a4("192.0.2.1"), .cport = htons((uint16_t)(p & 0xffff)),
			.vaddr = a4("10.10.0.100"), .vport = htons(80),
			.daddr = rs4, .dport = htons(8080),
			.laddr = pool[0].addr, .lport = port, .flags = CONN_F_HASH_OUT,
		};
		held += conn_new(t, &cp, &d, 0) != NULL;
	}
	CHECK(held > 30000 && held < 34000, "worker 0's share of 10.20.0.250: %u ports, all held",
	    held);
	uint64_t before = stat_total(STAT_LPORT_EXHAUSTED);
	CHECK(laddr_alloc(t, AF_INET, IPPROTO_TCP, &rs4, htons(8080), 0, 2, &la, &lp) < 0 &&
	    stat_total(STAT_LPORT_EXHAUSTED) == before + 1,
	    "worker 0 is refused a port toward 10.20.0.14:8080, counted as lport_exhausted");
	CHECK(laddr_alloc(t, AF_INET, IPPROTO_TCP, &rs4, htons(8080), 1, 2, &la, &lp) == 0 &&
	    steer_queue(AF_INET, &la, lp, 2) == 1, "worker 1 still gets one of its own");
	CHECK(laddr_alloc(t, AF_INET, IPPROTO_TCP, &rs4, htons(8081), 0, 2, &la, &lp) == 0,
	    "worker 0 still gets one toward another port of the server");
	/* Not steered (no program, or one worker): any port, worker 0's taken ones skipped. */
	CHECK(laddr_alloc(t, AF_INET, IPPROTO_TCP, &rs4, htons(8080), 0, 1, &la, &lp) == 0 &&
	    steer_queue(AF_INET, &la, lp, 2) == 1, "unsteered: a free port, whatever its share");
	conn_flush(t);
	conn_table_free(t);
	laddr_teardown();
	steer_set(0, 0);
}

int
main(void)
{
	test_hash_values();
	test_hash_spread();
	test_program();
	test_laddr_shares();
	return unit_done();
}
