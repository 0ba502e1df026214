/* test_conn.c - the connection table: lookups, capacity, dest counters, TCP states, wheel expiry */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cliaddr.h"
#include "conn.h"
#include "laddr.h"
#include "pkt.h"
#include "proto.h"
#include "siphash.h"
#include "stats.h"
#include "steer.h"
#include "unit.h"

#define SEC(s)  ((uint32_t)(s) * CONN_HZ)

#define F  TCPF_FIN
#define S  TCPF_SYN
#define R  TCPF_RST
#define P  TCPF_PSH
#define A  TCPF_ACK

static void
dest_init(struct dest *d, uint32_t addr)
{
	memset(d, 0, sizeof(*d));
	d->af = AF_INET;
	d->addr = addr_from_ip(addr);
	d->port = htons(80);
	d->weight = 1;
	d->refcnt = 1;            /* linked */
	d->xmit_id = XMIT_DR;
}

/* A client flow toward VIP 10.10.0.100:80, to real server D. */
static struct conn_param
flow(uint8_t proto, uint32_t client, uint16_t cport, const struct dest *d, uint8_t flags)
{
	struct conn_param cp = {
		.af = AF_INET,
		.proto = proto,
		.caddr = addr_from_ip(htonl(client)), .cport = htons(cport),
		.vaddr = addr_from_ip(htonl(0x0a0a0064)), .vport = htons(80),
		.daddr = d->addr, .dport = d->port,
		.laddr = addr_from_ip(htonl(client)), .lport = htons(cport),
		.flags = flags,
	};
	return cp;
}

static struct conn *
lookup_in(struct conn_table *t, const struct conn_param *cp)
{
	return conn_lookup_in(t, cp->af, cp->proto, &cp->caddr, cp->cport, &cp->vaddr, cp->vport);
}

static struct conn *
lookup_out(struct conn_table *t, const struct conn_param *cp)
{
	return conn_lookup_out(t, cp->af, cp->proto, &cp->daddr, cp->dport, &cp->laddr, cp->lport);
}

static int
count_cb(struct conn *c, void *arg)
{
	(void)c;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned
live(struct conn_table *t)
{
	unsigned n = 0;

	conn_foreach(t, count_cb, &n);
	return n;
}

/* ---- the client-address side pool (conn_cliaddr) ---- */
static void
test_cliaddr_pool(void)
{
	struct conn_table *t = conn_table_new(64, 0);
	struct dest d;
	union vsr_addr client = addr_from_ip(htonl(0x0a0a0000)), vip = addr_from_ip(htonl(0x0a0a0064));
	struct conn *a, *b, *c, *tpl;
	struct cliaddr_state *sa;

	UNIT_SECTION("client-address states: a side pool, only for the flows that ask");
	dest_init(&d, htonl(0x0a14000b));
	conn_set_timeouts(t, proto_default_timeout);
	struct conn_param pa = flow(IPPROTO_TCP, 0x0a0a0001, 4000, &d, CONN_F_HASH_OUT);
	struct conn_param pb = flow(IPPROTO_TCP, 0x0a0a0002, 4000, &d, CONN_F_HASH_OUT);
	pb.client_addr = CA_PROXY_V2;
	a = conn_new(t, &pa, &d, 0);
	b = conn_new(t, &pb, &d, 0);
	CHECK(a != NULL && conn_cliaddr(t, a) == NULL, "a flow that does not ask has none");
	sa = b != NULL ? conn_cliaddr(t, b) : NULL;
	CHECK(sa != NULL && sa->how == 0 && sa->flags == 0 && !seqadj_active(&sa->sa),
	    "one that asks has one, zeroed");
	CHECK(conn_table_bytes_ca(t) == sizeof(struct cliaddr_state), "one entry used: 36 bytes");
	if (sa == NULL || a == NULL)
		return;
	/* The word a template calls ncontrol: ca for b, the RST window's cseq_next for a. */
	uint32_t ca_b = b->ca;
	*conn_cseq(t, a) = 0x7fffffffu;
	*conn_cseq(t, b) = 0x12345678u;
	CHECK(conn_cliaddr(t, a) == NULL && a->cseq_next == 0x7fffffffu,
	    "a flow without a state keeps its sequence number in the entry, and it is no state's index");
	CHECK(b->ca == ca_b && conn_cliaddr(t, b) == sa && sa->cseq_next == 0x12345678u,
	    "a flow with one keeps it in the state, its index untouched");
	sa->how = CA_PROXY_V2;
	sa->sa.in.init_seq = 1000;
	sa->sa.in.delta = 28;

	/* A template's ncontrol shares the word: a flow with a state under it. */
	tpl = conn_template_new(t, AF_INET, IPPROTO_TCP, &client, &vip, htons(80), &d, 30, 0);
	conn_set_control(t, b, tpl, 0);
	conn_tcp_update(t, b, DIR_INPUT, S, 0);
	conn_tcp_update(t, b, DIR_INPUT, A, 0);
	CHECK(conn_cliaddr(t, tpl) == NULL && tpl->ncontrol == 1 && conn_cliaddr(t, b) == sa,
	    "a template has none; its count and the flow's state stay apart");
	conn_expire_run(t, 40 * CONN_HZ);
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_TCP, &client, &vip, htons(80)) == tpl,
	    "the template outlives its 30 s while the flow lives");

	/* Freed with its flow, reused zeroed, the pool not grown. */
	conn_expire_now(t, b);
	c = conn_new(t, &pb, &d, 40 * CONN_HZ);
	sa = c != NULL ? conn_cliaddr(t, c) : NULL;
	CHECK(sa != NULL && sa->how == 0 && !seqadj_active(&sa->sa) &&
	    conn_table_bytes_ca(t) == sizeof(struct cliaddr_state),
	    "a flow's state goes with it; the next one takes it back, zeroed");
	conn_expire_now(t, c);           /* A, in NONE, expired at 40 s */
	conn_expire_run(t, 100 * CONN_HZ);
	CHECK_EQ(conn_count(t), 0, "all gone, the template with its last flow");
	conn_table_free(t);
}

/* ---- defaults ---- */

static void
test_defaults(void)
{
	static const struct {
		enum conn_state s;
		const char *name;
		unsigned secs;
	} want[] = {
		{ CS_NONE,        "NONE",        2 },
		{ CS_ESTABLISHED, "ESTABLISHED", 900 },
		{ CS_SYN_SENT,    "SYN_SENT",    120 },
		{ CS_SYN_RECV,    "SYN_RECV",    60 },
		{ CS_FIN_WAIT,    "FIN_WAIT",    120 },
		{ CS_TIME_WAIT,   "TIME_WAIT",   120 },
		{ CS_CLOSE,       "CLOSE",       10 },
		{ CS_CLOSE_WAIT,  "CLOSE_WAIT",  60 },
		{ CS_LAST_ACK,    "LAST_ACK",    30 },
		{ CS_LISTEN,      "LISTEN",      120 },
		{ CS_SYNACK,      "SYNACK",      120 },
		{ CS_UDP,         "UDP",         300 },
	};
	struct conn_table *t = conn_table_new(16, 0);

	UNIT_SECTION("defaults: IPVS's timeouts and state names");
	CHECK(ARRAY_SIZE(want) == CS_MAX, "every state has an expected timeout");
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		CHECK_EQ(proto_default_timeout[want[i].s], want[i].secs, "default timeout %s",
		    want[i].name);
		CHECK_EQ(conn_get_timeout(t, want[i].s), want[i].secs, "new table's timeout %s",
		    want[i].name);
		CHECK(strcmp(conn_state_name(want[i].s), want[i].name) == 0, "state name %s",
		    want[i].name);
	}
	CHECK(strcmp(conn_state_name(CS_MAX), "?") == 0, "state name out of range: ?");
	CHECK_EQ(sizeof(struct conn), 64, "a connection takes 64 bytes");
	CHECK(conn_table_bytes(t) >= 16 * sizeof(struct conn), "conn_table_bytes covers the entries");
	CHECK_EQ(conn_capacity(t), 16, "capacity as asked");
	CHECK_EQ(conn_count(t), 0, "empty at start");
	conn_table_free(t);

	errno = 0;
	t = conn_table_new(0, 0);
	CHECK(t == NULL && errno == EINVAL, "conn_max 0 is refused with EINVAL");
	conn_table_free(t);
	errno = 0;
	t = conn_table_new((1u << 26) + 1, 0);
	CHECK(t == NULL && errno == EINVAL, "conn_max above 2^26 is refused with EINVAL");
	conn_table_free(t);
	conn_table_free(NULL);
}

/* ---- creation and lookups ---- */

static void
test_lookup(void)
{
	struct conn_table *t = conn_table_new(64, 1000);
	struct dest d;
	struct conn *c;

	UNIT_SECTION("conn_new and lookups in both directions");
	dest_init(&d, htonl(0x0a14000b));

	/* dr: client side only. */
	struct conn_param dr = flow(IPPROTO_TCP, 0xc0000201, 40000, &d, CONN_F_NOOUTPUT);
	c = conn_new(t, &dr, &d, 1000);
	CHECK(c != NULL, "dr: conn_new");
	CHECK(lookup_in(t, &dr) == c, "dr: found by the client's tuple");
	CHECK(lookup_out(t, &dr) == NULL, "dr: not found by the reply tuple (no CONN_F_HASH_OUT)");
	CHECK(c->caddr == dr.caddr.ip && c->cport == dr.cport && c->vaddr == dr.vaddr.ip &&
	    c->vport == dr.vport && c->daddr == dr.daddr.ip && c->dport == dr.dport &&
	    c->laddr == dr.laddr.ip && c->lport == dr.lport && c->proto == IPPROTO_TCP,
	    "dr: tuple copied");
	CHECK_EQ(c->state, CS_NONE, "dr: a TCP conn starts in NONE");
	CHECK(c->flags == (CONN_F_NOOUTPUT | CONN_F_INACTIVE), "dr: flags NOOUTPUT|INACTIVE (0x%x)",
	    c->flags);
	CHECK(c->dest == &d && c->xmit_id == XMIT_DR, "dr: bound to the dest, its xmit copied");
	CHECK(d.refcnt == 2 && d.inactconns == 1 && d.activeconns == 0 && d.stats.conns == 1,
	    "dr: dest ref taken, InActConn 1, conns 1 (ref %u in %u act %u)", d.refcnt,
	    d.inactconns, d.activeconns);

	/* Near misses are not found. */
	union vsr_addr next = addr_from_ip(dr.caddr.ip ^ htonl(1));
	CHECK(conn_lookup_in(t, AF_INET, IPPROTO_UDP, &dr.caddr, dr.cport, &dr.vaddr, dr.vport) ==
	    NULL, "other protocol: not found");
	CHECK(conn_lookup_in(t, AF_INET, IPPROTO_TCP, &dr.vaddr, dr.vport, &dr.caddr, dr.cport) ==
	    NULL, "addresses and ports reversed: not found");
	CHECK(conn_lookup_in(t, AF_INET, IPPROTO_TCP, &dr.caddr, dr.vport, &dr.vaddr, dr.cport) ==
	    NULL, "ports swapped: not found");
	CHECK(conn_lookup_in(t, AF_INET, IPPROTO_TCP, &dr.caddr, htons(40001), &dr.vaddr,
	    dr.vport) == NULL, "next client port: not found");
	CHECK(conn_lookup_in(t, AF_INET, IPPROTO_TCP, &next, dr.cport, &dr.vaddr, dr.vport) ==
	    NULL, "next client address: not found");
	CHECK(conn_lookup_in(t, AF_INET6, IPPROTO_TCP, &dr.caddr, dr.cport, &dr.vaddr, dr.vport) ==
	    NULL, "the same bytes as IPv6 addresses: not found");

	/* A flow that sees replies: found both ways. */
	struct conn_param nat = flow(IPPROTO_TCP, 0xc0000202, 40000, &d, CONN_F_HASH_OUT);
	nat.dport = htons(8080);
	struct conn *cn = conn_new(t, &nat, &d, 1000);
	CHECK(cn != NULL && cn != c, "nat: conn_new");
	CHECK(lookup_in(t, &nat) == cn, "nat: found by the client's tuple");
	CHECK(lookup_out(t, &nat) == cn, "nat: found by the real server's tuple");
	CHECK(conn_lookup_out(t, AF_INET, IPPROTO_TCP, &nat.laddr, nat.lport, &nat.daddr,
	    nat.dport) == NULL, "nat: reply tuple reversed: not found");
	CHECK(conn_lookup_in(t, AF_INET, IPPROTO_TCP, &nat.daddr, nat.dport, &nat.laddr,
	    nat.lport) == NULL, "nat: the reply tuple is not an input key");

	/* One flow's out key equal to another's in key: each found only its own way. */
	struct conn_param x = flow(IPPROTO_TCP, 0xc0000203, 1234, &d, CONN_F_NOOUTPUT);
	struct conn_param y = flow(IPPROTO_TCP, 0xc0000204, 4321, &d, CONN_F_HASH_OUT);
	y.daddr = x.caddr;
	y.dport = x.cport;
	y.laddr = x.vaddr;
	y.lport = x.vport;
	struct conn *cx = conn_new(t, &x, &d, 1000), *cy = conn_new(t, &y, &d, 1000);
	CHECK(lookup_in(t, &x) == cx && lookup_out(t, &y) == cy,
	    "an in key equal to another flow's out key: each direction finds its own");

	/* UDP starts in UDP. */
	struct conn_param u = flow(IPPROTO_UDP, 0xc0000201, 40000, &d, CONN_F_NOOUTPUT);
	struct conn *cu = conn_new(t, &u, &d, 1000);
	CHECK(cu != NULL && cu->state == CS_UDP, "udp: starts in state UDP");
	CHECK(lookup_in(t, &u) == cu && lookup_in(t, &dr) == c, "udp and tcp of one tuple both found");

	CHECK_EQ(conn_count(t), 5, "conn_count");
	CHECK_EQ(live(t), 5, "conn_foreach visits every live conn");

	unsigned seen = 0;
	CHECK(conn_foreach(t, count_cb, &seen) == 0 && seen == 5,
	    "conn_foreach returns 0 after a full walk");

	conn_expire_now(t, cn);
	CHECK(lookup_in(t, &nat) == NULL && lookup_out(t, &nat) == NULL,
	    "nat: gone both ways after conn_expire_now");
	CHECK(lookup_in(t, &dr) == c && lookup_in(t, &x) == cx && lookup_out(t, &y) == cy &&
	    lookup_in(t, &u) == cu, "the others are still found");
	CHECK_EQ(d.refcnt, 1 + 4, "dest refcnt: one per remaining conn");
	conn_table_free(t);
}

/* ---- IPv6 ---- */

/* 2001:db8::/32 with the 32 bits A in word W (W 4: every word). */
static union vsr_addr
a6(uint32_t a, int w)
{
	union vsr_addr r = { .w = { htonl(0x20010db8), 0, 0, 0 } };

	if (w < 4) {
		r.w[w] ^= htonl(a);
	} else {
		for (int i = 1; i < 4; i++)
			r.w[i] = htonl(a * 0x9e3779b9u + (uint32_t)i);
	}
	return r;
}

/* A client flow toward VIP 2001:db8::100 port 80, to real server D (IPv6). */
static struct conn_param
flow6(uint8_t proto, union vsr_addr client, uint16_t cport, const struct dest *d, uint8_t flags)
{
	struct conn_param cp = {
		.af = AF_INET6, .proto = proto,
		.caddr = client, .cport = htons(cport),
		.vaddr = a6(0x100, 3), .vport = htons(80),
		.daddr = d->addr, .dport = d->port,
		.laddr = client, .lport = htons(cport),
		.flags = flags,
	};
	return cp;
}

static void
test_ipv6(void)
{
	enum { N6 = 3000 };
	struct conn_table *t = conn_table_new(2 * N6 + 64, 1000);
	static struct conn *c6[N6];
	struct dest d, d4;
	struct conn_addrs a;
	unsigned bad = 0;

	UNIT_SECTION("IPv6 entries: the pool, lookups, both families side by side");
	dest_init(&d4, htonl(0x0a14000b));
	memset(&d, 0, sizeof(d));
	d.af = AF_INET6;
	d.addr = a6(0x11, 3);
	d.port = htons(8080);
	d.weight = 1;
	d.refcnt = 1;
	d.xmit_id = XMIT_NAT;

	struct conn_param p = flow6(IPPROTO_TCP, a6(0x1, 3), 40000, &d, CONN_F_HASH_OUT);
	struct conn *c = conn_new(t, &p, &d, 1000);
	if (!CHECK(c != NULL, "an IPv6 flow is made"))
		return;
	CHECK(conn_af(c) == AF_INET6 && conn_l4proto(c) == IPPROTO_TCP && c->state == CS_NONE,
	    "it is IPv6, TCP, in NONE");
	CHECK(lookup_in(t, &p) == c && lookup_out(t, &p) == c, "found both ways");
	conn_addrs(t, c, &a);
	CHECK(addr_eq(&a.caddr, &p.caddr) && addr_eq(&a.vaddr, &p.vaddr) &&
	    addr_eq(&a.daddr, &p.daddr) && addr_eq(&a.laddr, &p.laddr),
	    "its four addresses read back");
	CHECK(conn_count6(t) == 1 && conn_table_bytes6(t) == sizeof(struct conn6),
	    "one pool entry in use, 64 bytes");

	/* Near misses: each word of each address, the family, the protocol. */
	unsigned found = 0;
	for (int w = 0; w < 4; w++) {
		union vsr_addr x = p.caddr, y = p.vaddr;
		x.w[w] ^= htonl(0x80);
		y.w[w] ^= htonl(1);
		found += conn_lookup_in(t, AF_INET6, IPPROTO_TCP, &x, p.cport, &p.vaddr, p.vport) != NULL;
		found += conn_lookup_in(t, AF_INET6, IPPROTO_TCP, &p.caddr, p.cport, &y, p.vport) != NULL;
		found += conn_lookup_out(t, AF_INET6, IPPROTO_TCP, &x, p.dport, &p.laddr, p.lport) != NULL;
	}
	CHECK_EQ(found, 0, "a bit off in any word of either address: not found");
	CHECK(conn_lookup_in(t, AF_INET6, IPPROTO_UDP, &p.caddr, p.cport, &p.vaddr, p.vport) == NULL,
	    "other protocol: not found");
	CHECK(conn_lookup_in(t, AF_INET, IPPROTO_TCP, &p.caddr, p.cport, &p.vaddr, p.vport) == NULL,
	    "the same key as IPv4: not found");

	/* An IPv4 flow whose first words equal the IPv6 one's. */
	struct conn_param p4 = flow(IPPROTO_TCP, ntohl(p.caddr.w[0]), 40000, &d4, CONN_F_HASH_OUT);
	p4.vaddr = addr_from_ip(p.vaddr.w[0]);
	struct conn *c4 = conn_new(t, &p4, &d4, 1000);
	CHECK(c4 != NULL && lookup_in(t, &p4) == c4 && lookup_in(t, &p) == c,
	    "an IPv4 flow with the same first words: each finds its own");
	CHECK_EQ(sizeof(struct conn), 64, "an entry is 64 bytes, either family");

	/* Many flows that differ in one word only, each word in turn. */
	for (unsigned i = 0; i < N6; i++) {
		struct conn_param q = flow6(i % 3 ? IPPROTO_TCP : IPPROTO_UDP, a6(i + 2, (int)(i % 5)),
		    (uint16_t)(1024 + i % 7), &d, CONN_F_HASH_OUT);
		c6[i] = conn_new(t, &q, &d, 1000);
		bad += c6[i] == NULL;
	}
	for (unsigned i = 0; i < N6; i++) {
		struct conn_param q = flow6(i % 3 ? IPPROTO_TCP : IPPROTO_UDP, a6(i + 2, (int)(i % 5)),
		    (uint16_t)(1024 + i % 7), &d, CONN_F_HASH_OUT);
		bad += lookup_in(t, &q) != c6[i] || lookup_out(t, &q) != c6[i];
	}
	CHECK_EQ(bad, 0, "%u flows one word apart: each found by its own keys", N6);
	CHECK_EQ(conn_count6(t), 1 + N6, "%u pool entries in use", 1 + N6);

	/* Freed entries are handed out again before the pool grows. */
	uint64_t hw = conn_table_bytes6(t);
	for (unsigned i = 0; i < N6; i += 2)
		conn_expire_now(t, c6[i]);
	for (unsigned i = 0; i < N6; i += 2) {
		struct conn_param q = flow6(IPPROTO_TCP, a6(i + 0x100000, 3), 2000, &d, CONN_F_NOOUTPUT);
		bad += conn_new(t, &q, &d, 1000) == NULL || lookup_in(t, &q) == NULL;
	}
	CHECK_EQ(bad, 0, "flows made again after half expired");
	CHECK_EQ(conn_table_bytes6(t), hw, "the pool did not grow: freed entries were reused");

	/* An IPv6 template: keyed by the masked client, its timeout kept. */
	union vsr_addr cl = a6(0x7, 1), vip = p.vaddr;
	struct conn *tpl = conn_template_new(t, AF_INET6, IPPROTO_TCP, &cl, &vip, htons(80), &d, 30,
	    1000);
	CHECK(tpl != NULL && conn_template_lookup(t, AF_INET6, IPPROTO_TCP, &cl, &vip, htons(80)) ==
	    tpl && conn_template_lookup(t, AF_INET, IPPROTO_TCP, &cl, &vip, htons(80)) == NULL,
	    "an IPv6 template: found as IPv6 only");
	conn_expire_run(t, 1000 + 31 * CONN_HZ);
	CHECK(conn_template_lookup(t, AF_INET6, IPPROTO_TCP, &cl, &vip, htons(80)) == NULL,
	    "and gone after its 30 s");

	conn_flush(t);
	CHECK(conn_count(t) == 0 && conn_count6(t) == 0, "conn_flush empties the pool too");
	CHECK(d.refcnt == 1 && d.inactconns == 0 && d4.refcnt == 1, "every dest released");
	conn_table_free(t);
}

static int
stop_at_second(struct conn *c, void *arg)
{
	(void)c;
	return ++*(unsigned *)arg == 2 ? 7 : 0;
}

static void
test_foreach_stop(void)
{
	struct conn_table *t = conn_table_new(8, 0);
	struct dest d;
	unsigned n = 0;

	dest_init(&d, htonl(0x0a14000b));
	for (unsigned i = 0; i < 5; i++) {
		struct conn_param cp = flow(IPPROTO_TCP, 0xc0000201, (uint16_t)(1000 + i), &d, 0);
		conn_new(t, &cp, &d, 0);
	}
	CHECK(conn_foreach(t, stop_at_second, &n) == 7 && n == 2,
	    "conn_foreach stops at the first non-zero return and returns it");
	conn_table_free(t);
}

/* ---- capacity ---- */

static void
test_capacity(void)
{
	const uint32_t max = 100;
	struct conn_table *t = conn_table_new(max, 0);
	struct conn *c[101];
	struct dest d;
	uint64_t created = stat_total(STAT_CONN_CREATED);
	uint64_t expired = stat_total(STAT_CONN_EXPIRED);

	UNIT_SECTION("capacity");
	dest_init(&d, htonl(0x0a14000b));
	unsigned ok = 0;
	for (uint32_t i = 0; i < max; i++) {
		struct conn_param cp = flow(IPPROTO_TCP, 0xc0000201, (uint16_t)(1000 + i), &d, 0);
		c[i] = conn_new(t, &cp, &d, 0);
		ok += c[i] != NULL;
	}
	CHECK_EQ(ok, max, "the table takes conn_max connections");
	CHECK_EQ(conn_count(t), max, "conn_count = conn_max");
	struct conn_param extra = flow(IPPROTO_TCP, 0xc0000202, 1, &d, 0);
	CHECK(conn_new(t, &extra, &d, 0) == NULL, "one more: conn_new returns NULL");
	CHECK(d.inactconns == max && d.refcnt == max + 1,
	    "a refused conn_new leaves the dest alone (in %u ref %u)", d.inactconns, d.refcnt);
	CHECK(lookup_in(t, &extra) == NULL, "the refused flow is not in the table");

	struct conn_param victim = flow(IPPROTO_TCP, 0xc0000201, 1000 + 42, &d, 0);
	conn_expire_now(t, c[42]);
	CHECK_EQ(conn_count(t), max - 1, "one freed: count conn_max - 1");
	CHECK(lookup_in(t, &victim) == NULL, "the freed flow is gone");
	c[100] = conn_new(t, &extra, &d, 0);
	CHECK(c[100] != NULL && lookup_in(t, &extra) == c[100], "after freeing one, conn_new succeeds");
	CHECK(conn_new(t, &victim, &d, 0) == NULL, "and the table is full again");
	CHECK_EQ(live(t), max, "conn_foreach counts conn_max");
	CHECK_EQ(stat_total(STAT_CONN_CREATED) - created, max + 1, "conn_created counted");
	CHECK_EQ(stat_total(STAT_CONN_EXPIRED) - expired, 1, "conn_expired counted");

	/* Everything expires; the table is whole again. */
	CHECK_EQ(conn_expire_run(t, SEC(2)), max, "all expire after NONE's 2 s");
	CHECK(conn_count(t) == 0 && live(t) == 0 && d.refcnt == 1 && d.inactconns == 0,
	    "empty again; the dest's counters back to the start");
	ok = 0;
	for (uint32_t i = 0; i < max; i++) {
		struct conn_param cp = flow(IPPROTO_UDP, 0xc0000203, (uint16_t)(2000 + i), &d, 0);
		ok += conn_new(t, &cp, &d, SEC(2)) != NULL;
	}
	CHECK_EQ(ok, max, "and takes conn_max connections again");
	conn_table_free(t);

	t = conn_table_new(1, 0);
	struct conn_param one = flow(IPPROTO_TCP, 0xc0000201, 1, &d, 0);
	struct conn *c1 = conn_new(t, &one, &d, 0);
	CHECK(c1 != NULL && conn_new(t, &extra, &d, 0) == NULL, "a table of one: one conn");
	conn_expire_now(t, c1);
	CHECK(conn_new(t, &extra, &d, 0) != NULL, "a table of one: reused");
	conn_table_free(t);
}

/* ---- many flows ---- */

static void
test_many(void)
{
	enum { N = 30000 };
	struct conn_table *t = conn_table_new(N, 0);
	static struct conn_param cp[N];
	static struct conn *c[N];
	struct dest d[4];
	unsigned n = 0, bad = 0;

	UNIT_SECTION("many flows with similar tuples");
	for (unsigned i = 0; i < 4; i++)
		dest_init(&d[i], htonl(0x0a140010 + i));

	/*
	 * Tuples that differ little: one client on consecutive ports; clients
	 * one bit apart on one port; address pairs and port pairs mirrored;
	 * the same tuples under the other protocol.
	 */
	for (unsigned i = 0; i < 8000; i++, n++)
		cp[n] = flow(IPPROTO_TCP, 0xc0000201, (uint16_t)(1024 + i), &d[i % 4],
		    i % 2 ? CONN_F_HASH_OUT : CONN_F_NOOUTPUT);
	for (unsigned i = 0; i < 8000; i++, n++)
		cp[n] = flow(IPPROTO_TCP, 0xc0000000 + (i << 8), 1024, &d[i % 4], CONN_F_HASH_OUT);
	for (unsigned i = 0; i < 4000; i++, n++) {
		cp[n] = flow(IPPROTO_TCP, 0x0a0a0064, 80, &d[i % 4], CONN_F_HASH_OUT);
		cp[n].vaddr = addr_from_ip(htonl(0xc0000201));
		cp[n].vport = htons((uint16_t)(1024 + i));     /* mirror of the first set */
		cp[n].laddr = cp[n].caddr;
		cp[n].lport = htons((uint16_t)(30000 + i));
	}
	for (unsigned i = 0; i < 8000; i++, n++) {
		cp[n] = cp[i];
		cp[n].proto = IPPROTO_UDP;
	}
	for (unsigned i = 0; n < N; i++, n++) {
		/* Same client port and address, VIP ports changing. */
		cp[n] = flow(IPPROTO_TCP, 0xc0000201, 1024, &d[i % 4], CONN_F_HASH_OUT);
		cp[n].vport = htons((uint16_t)(81 + i));
		cp[n].lport = htons((uint16_t)(50000 + i));
	}

	for (unsigned i = 0; i < N; i++) {
		/* Unique out keys for the flows that hash them: one dport per conn. */
		if (cp[i].flags & CONN_F_HASH_OUT)
			cp[i].dport = htons((uint16_t)(i % 60000 + 1));
		c[i] = conn_new(t, &cp[i], cp[i].proto == IPPROTO_TCP ? &d[i % 4] : &d[0], 0);
		bad += c[i] == NULL;
	}
	CHECK_EQ(bad, 0, "%d flows created", N);
	bad = 0;
	for (unsigned i = 0; i < N; i++) {
		bad += lookup_in(t, &cp[i]) != c[i];
		if (cp[i].flags & CONN_F_HASH_OUT)
			bad += lookup_out(t, &cp[i]) != c[i];
		else
			bad += lookup_out(t, &cp[i]) == c[i];
	}
	CHECK_EQ(bad, 0, "each found by its own tuples");

	/* One ref per hashed direction, spread: similar tuples make no long chain. */
	struct conn_chain_stats cs;
	unsigned nout = 0;
	for (unsigned i = 0; i < N; i++)
		nout += !!(cp[i].flags & CONN_F_HASH_OUT);
	conn_chain_stats(t, &cs);
	CHECK_EQ(cs.refs, N + nout, "chain stats: one ref per flow and one more per out key");
	CHECK(cs.buckets >= 2 * N && (cs.buckets & (cs.buckets - 1)) == 0,
	    "chain stats: buckets a power of two, twice the capacity or more (%u)", cs.buckets);
	CHECK(cs.used <= cs.refs && cs.used > cs.refs / 3,
	    "chain stats: refs spread over %u of %u buckets", cs.used, cs.buckets);
	CHECK(cs.max >= 1 && cs.max < 20, "chain stats: longest chain %u, below 20", cs.max);

	/* Every third removed: the rest still found, the removed not. */
	for (unsigned i = 0; i < N; i += 3)
		conn_expire_now(t, c[i]);
	bad = 0;
	for (unsigned i = 0; i < N; i++) {
		struct conn *want = i % 3 ? c[i] : NULL;
		bad += lookup_in(t, &cp[i]) != want;
		if (cp[i].flags & CONN_F_HASH_OUT)
			bad += lookup_out(t, &cp[i]) != want;
	}
	CHECK_EQ(bad, 0, "after removing every third: the others found, those not");
	CHECK_EQ(conn_count(t), N - (N + 2) / 3, "count after removal");

	/* Put them back (other slots now), look everything up again. */
	bad = 0;
	for (unsigned i = 0; i < N; i += 3) {
		c[i] = conn_new(t, &cp[i], &d[0], 0);
		bad += c[i] == NULL;
	}
	for (unsigned i = 0; i < N; i++) {
		bad += lookup_in(t, &cp[i]) != c[i];
		if (cp[i].flags & CONN_F_HASH_OUT)
			bad += lookup_out(t, &cp[i]) != c[i];
	}
	CHECK_EQ(bad, 0, "re-added: all found again");
	CHECK_EQ(live(t), N, "conn_foreach counts them all");
	CHECK_EQ(conn_expire_run(t, SEC(300)), N, "all expire by UDP's 300 s");
	conn_chain_stats(t, &cs);
	CHECK(cs.refs == 0 && cs.used == 0 && cs.max == 0, "chain stats: every chain empty");
	unsigned refs = 0;
	for (unsigned i = 0; i < 4; i++)
		refs += d[i].refcnt + d[i].inactconns + d[i].activeconns;
	CHECK_EQ(refs, 4, "every dest back to one reference and no conns");
	conn_table_free(t);
}

/* ---- a keyed hash ---- */

/*
 * The IPv4 hash this table used until issue 15 (the reference the attack
 * is built against): the seed XORed into the addresses, the ports and the
 * protocol multiplied in, then a fixed 64-bit finaliser. The finaliser is
 * a bijection, so two tuples whose pre-finaliser words are equal share a
 * bucket whatever the seed is.
 */
static uint64_t
old_hash(uint64_t seed, uint8_t proto, uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2)
{
	uint64_t x = ((uint64_t)a1 << 32 | a2) ^ seed;

	x ^= ((uint64_t)p1 << 24 | (uint64_t)p2 << 8 | proto) * 0x9e3779b97f4a7c15ull;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/*
 * The seed-independent colliding set of issue 15: client ports that differ
 * only in their high byte, as the hash sees them (bits 24..31 of the
 * multiplicand: the low 32 bits of the product do not change), and for
 * each a client address that cancels the product's high 32 bits. Group G
 * (a fixed low byte and a base address) gives 256 (address, port) pairs
 * with one pre-finaliser word toward one VIP:port.
 */
#define COLL_PER 256u
static void
colliding(unsigned g, unsigned h, uint16_t vport, uint32_t *caddr, uint16_t *cport)
{
	uint16_t p = (uint16_t)(h << 8 | (g & 0xff));
	uint16_t p0 = (uint16_t)(g & 0xff);
	uint64_t m = ((uint64_t)p << 24 | (uint64_t)vport << 8 | IPPROTO_TCP) * 0x9e3779b97f4a7c15ull;
	uint64_t m0 = ((uint64_t)p0 << 24 | (uint64_t)vport << 8 | IPPROTO_TCP) * 0x9e3779b97f4a7c15ull;
	uint32_t base = 0x64400000u + (g >> 8) * 0x10000u + g;

	*cport = p;
	*caddr = base ^ (uint32_t)(m >> 32) ^ (uint32_t)(m0 >> 32);
}

static void
test_keyed_hash(void)
{
	enum { GROUPS = 64, N = GROUPS * COLL_PER };
	static const uint64_t seeds[] = { 0, 0x5851f42d4c957f2dull, 0xdeadbeefcafef00dull, ~0ull };
	const uint32_t vip = htonl(0x0a0a0064);
	const uint16_t vport = htons(80);

	UNIT_SECTION("the connection hash is keyed: no seed-independent collisions");

	/* SipHash-1-3 itself: key 00..0f, messages 00..0f and 00..1f. */
	{
		struct vsr_sipkey k = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
		uint64_t w[4];
		unsigned char b[32];
		for (unsigned i = 0; i < 32; i++)
			b[i] = (unsigned char)i;
		memcpy(w, b, 32);
		/* Little-endian hosts only (the words are read as bytes). */
		CHECK_EQ(vsr_siphash13(&k, w, 2), 0xcc4fdd1a7d908b66ull,
		    "SipHash-1-3 of 16 bytes: the reference implementation's value");
		CHECK_EQ(vsr_siphash13(&k, w, 4), 0x81157b6c16a7b60dull,
		    "SipHash-1-3 of 32 bytes: the reference implementation's value");
	}

	/* The set collides in the old function, every seed, every table size. */
	unsigned bad = 0;
	for (unsigned s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++)
		for (unsigned g = 0; g < GROUPS; g++) {
			uint32_t a;
			uint16_t p;
			colliding(g, 0, vport, &a, &p);
			uint64_t want = old_hash(seeds[s], IPPROTO_TCP, a, p, vip, vport);
			for (unsigned h = 1; h < COLL_PER; h++) {
				colliding(g, h, vport, &a, &p);
				bad += old_hash(seeds[s], IPPROTO_TCP, a, p, vip, vport) != want;
			}
		}
	CHECK_EQ(bad, 0, "old hash: %u groups of %u tuples, each one value under all %zu seeds",
	    GROUPS, COLL_PER, sizeof(seeds) / sizeof(seeds[0]));

	/* Distinct tuples all the same (no two pairs alike). */
	{
		uint32_t a0, a1;
		uint16_t p0, p1;
		colliding(3, 1, vport, &a0, &p0);
		colliding(3, 2, vport, &a1, &p1);
		CHECK(a0 != a1 && p0 != p1, "old hash: colliding tuples differ in address and port");
	}

	/* The same set in today's table: chains stay short. */
	struct conn_table *t = conn_table_new(N, 0);
	struct dest d;
	unsigned fail = 0;
	dest_init(&d, htonl(0x0a140010));
	for (unsigned g = 0; g < GROUPS; g++)
		for (unsigned h = 0; h < COLL_PER; h++) {
			uint32_t a;
			uint16_t p;
			colliding(g, h, vport, &a, &p);
			struct conn_param cp = flow(IPPROTO_TCP, 0, 0, &d, CONN_F_NOOUTPUT);
			cp.caddr = addr_from_ip(a);
			cp.cport = p;
			cp.laddr = cp.caddr;
			cp.lport = p;
			struct conn *c = conn_new(t, &cp, &d, 0);
			fail += c == NULL || lookup_in(t, &cp) != c;
		}
	CHECK_EQ(fail, 0, "%u colliding flows created and found", N);
	struct conn_chain_stats cs;
	conn_chain_stats(t, &cs);
	/*
	 * Old: 64 buckets of 256. Keyed, 16,384 refs over 32,768 buckets: a
	 * Poisson(0.5) maximum, about 6; 12 would be one chance in millions.
	 */
	CHECK(cs.max <= 12, "keyed hash: longest chain %u (the old one: %u)", cs.max, COLL_PER);
	CHECK(cs.used > N / 3, "keyed hash: %u flows over %u buckets", N, cs.used);
	conn_flush(t);
	conn_table_free(t);
}

/* ---- flood defences: what the table offers them ---- */

static void
test_unconfirmed(void)
{
	struct conn_table *t = conn_table_new(64, 0);
	struct dest d;
	struct conn *c[8];
	struct conn_param cp[8];

	UNIT_SECTION("flows not past the handshake: counted, evicted, secure_tcp's timeouts");
	dest_init(&d, htonl(0x0a140010));
	for (unsigned i = 0; i < 8; i++) {
		cp[i] = flow(i < 6 ? IPPROTO_TCP : IPPROTO_UDP, 0xc0000201 + i, 1024, &d, CONN_F_NOOUTPUT);
		c[i] = conn_new(t, &cp[i], &d, 0);
	}
	CHECK_EQ(conn_unconfirmed(t), 8, "6 new TCP flows and 2 UDP: all unconfirmed");
	/* The client's SYN then its ACK: ESTABLISHED (dr, input only). */
	for (unsigned i = 0; i < 3; i++) {
		conn_tcp_update(t, c[i], DIR_INPUT, S, 0);
		conn_tcp_update(t, c[i], DIR_INPUT, A, 0);
	}
	CHECK_EQ(c[0]->state, CS_ESTABLISHED, "SYN then ACK: ESTABLISHED");
	CHECK_EQ(conn_unconfirmed(t), 5, "three established: 5 unconfirmed left");
	conn_tcp_update(t, c[3], DIR_INPUT, S, 0);
	CHECK_EQ(conn_unconfirmed(t), 5, "SYN_RECV is still unconfirmed");
	conn_tcp_update(t, c[0], DIR_INPUT, F | A, 0);
	CHECK_EQ(conn_unconfirmed(t), 5, "a closing flow is not unconfirmed");

	/* Random probes: a call may find none among 8 slots; 200 calls find all. */
	unsigned evicted = 0;
	for (unsigned k = 0; k < 200 && conn_unconfirmed(t); k++)
		evicted += (unsigned)conn_evict_unconfirmed(t);
	CHECK_EQ(evicted, 5, "eviction takes the 5 unconfirmed, one at a time");
	CHECK_EQ(conn_unconfirmed(t), 0, "none unconfirmed left");
	CHECK_EQ(conn_count(t), 3, "the 3 that finished their handshake stay");
	unsigned found = 0;
	for (unsigned i = 0; i < 3; i++)
		found += lookup_in(t, &cp[i]) == c[i];
	CHECK_EQ(found, 3, "and are found");
	CHECK_EQ(conn_evict_unconfirmed(t), 0, "nothing to evict: 0");

	/* secure_tcp: new flows before ESTABLISHED live 3 s, ESTABLISHED as configured. */
	conn_set_secure(t, 1);
	CHECK_EQ(conn_secure(t), 1, "secure_tcp in force");
	struct conn_param e = flow(IPPROTO_TCP, 0xc0000301, 2000, &d, CONN_F_NOOUTPUT);
	struct conn *x = conn_new(t, &e, &d, SEC(10));
	conn_tcp_update(t, x, DIR_INPUT, S, SEC(10));
	CHECK_EQ(conn_get_timeout(t, CS_SYN_RECV), 60, "the configured SYN_RECV timeout is still 60 s");
	conn_expire_run(t, SEC(12));
	CHECK(lookup_in(t, &e) == x, "SYN_RECV under secure_tcp: there after 2 s");
	conn_expire_run(t, SEC(14));
	CHECK(lookup_in(t, &e) == NULL, "and gone after 4 s (not 60)");
	CHECK(lookup_in(t, &cp[1]) == c[1], "an ESTABLISHED flow stays");
	conn_set_secure(t, 0);
	x = conn_new(t, &e, &d, SEC(20));
	conn_tcp_update(t, x, DIR_INPUT, S, SEC(20));
	conn_expire_run(t, SEC(30));
	CHECK(lookup_in(t, &e) == x, "secure_tcp off: SYN_RECV kept its minute");
	conn_flush(t);
	CHECK_EQ(conn_unconfirmed(t), 0, "flushed: none unconfirmed");
	conn_table_free(t);
}

/* ---- dest counters ---- */

static void
test_counters(void)
{
	struct conn_table *t = conn_table_new(16, 500);
	struct dest d;
	unsigned puts;

	UNIT_SECTION("ActiveConn / InActConn and the dest reference");
	dest_init(&d, htonl(0x0a14000b));
	struct conn_param cp = flow(IPPROTO_TCP, 0xc0000201, 40000, &d, CONN_F_NOOUTPUT);
	struct conn *c = conn_new(t, &cp, &d, 500);

	CHECK(d.inactconns == 1 && d.activeconns == 0 && d.refcnt == 2,
	    "new: InActConn 1, ActiveConn 0, ref 2");
	conn_tcp_update(t, c, DIR_INPUT, S, 500);
	CHECK(c->state == CS_SYN_RECV && d.inactconns == 1 && d.activeconns == 0,
	    "SYN_RECV: still InActConn");
	conn_tcp_update(t, c, DIR_INPUT, A, 501);
	CHECK(c->state == CS_ESTABLISHED && d.inactconns == 0 && d.activeconns == 1 &&
	    !(c->flags & CONN_F_INACTIVE), "ESTABLISHED: moved to ActiveConn");
	conn_tcp_update(t, c, DIR_INPUT, A | P, 502);
	CHECK(d.inactconns == 0 && d.activeconns == 1, "data in ESTABLISHED: counted once");
	conn_tcp_update(t, c, DIR_INPUT, F | A, 503);
	CHECK(c->state == CS_FIN_WAIT && d.inactconns == 1 && d.activeconns == 0 &&
	    (c->flags & CONN_F_INACTIVE), "leaving ESTABLISHED: back to InActConn");
	conn_tcp_update(t, c, DIR_INPUT, S, 504);           /* FIN_WAIT + SYN -> SYN_RECV */
	conn_tcp_update(t, c, DIR_INPUT, A, 505);           /* -> ESTABLISHED again */
	CHECK(c->state == CS_ESTABLISHED && d.inactconns == 0 && d.activeconns == 1,
	    "ESTABLISHED again: ActiveConn again");

	/* An ESTABLISHED conn expiring: ActiveConn drops, the reference goes. */
	puts = stub_dest_put_calls;
	CHECK_EQ(conn_expire_run(t, 505 + SEC(900) - 1), 0, "not expired a tick early");
	CHECK_EQ(conn_expire_run(t, 505 + SEC(900)), 1, "expired at its time");
	CHECK(d.activeconns == 0 && d.inactconns == 0 && d.refcnt == 1 &&
	    stub_dest_put_calls == puts + 1 && c->dest == NULL,
	    "expiry of an ESTABLISHED conn: ActiveConn 0, dest_put once, ref back to 1");

	/* An inactive conn expiring. */
	uint32_t now = 505 + SEC(900);
	c = conn_new(t, &cp, &d, now);
	puts = stub_dest_put_calls;
	conn_expire_run(t, now + SEC(2));
	CHECK(d.inactconns == 0 && d.activeconns == 0 && d.refcnt == 1 &&
	    stub_dest_put_calls == puts + 1, "expiry of an InActConn conn: counters back to 0");

	/* conn_expire_now of an ESTABLISHED one. */
	c = conn_new(t, &cp, &d, now);
	conn_tcp_update(t, c, DIR_INPUT, S, now);
	conn_tcp_update(t, c, DIR_INPUT, A, now);
	puts = stub_dest_put_calls;
	conn_expire_now(t, c);
	CHECK(d.activeconns == 0 && d.inactconns == 0 && d.refcnt == 1 &&
	    stub_dest_put_calls == puts + 1, "conn_expire_now of an ESTABLISHED conn: same");
	CHECK_EQ(conn_expire_run(t, now + SEC(1000)), 0, "and the wheel does not expire it again");
	CHECK_EQ(stub_dest_put_calls, puts + 1, "no second dest_put");

	/* UDP never becomes active. */
	struct conn_param up = flow(IPPROTO_UDP, 0xc0000201, 40000, &d, CONN_F_NOOUTPUT);
	now += SEC(1000);
	c = conn_new(t, &up, &d, now);
	for (int i = 0; i < 10; i++)
		conn_touch(t, c, now + (uint32_t)i);
	CHECK(c->state == CS_UDP && d.inactconns == 1 && d.activeconns == 0 &&
	    (c->flags & CONN_F_INACTIVE), "UDP: stays InActConn under traffic");

	/* Two dests, conns spread: each counts its own. */
	struct dest d2;
	dest_init(&d2, htonl(0x0a14000c));
	struct conn_param p2 = flow(IPPROTO_TCP, 0xc0000202, 1, &d2, CONN_F_NOOUTPUT);
	struct conn *c2 = conn_new(t, &p2, &d2, now);
	conn_tcp_update(t, c2, DIR_INPUT, S, now);
	conn_tcp_update(t, c2, DIR_INPUT, A, now);
	CHECK(d2.activeconns == 1 && d2.inactconns == 0 && d.inactconns == 1 && d.activeconns == 0,
	    "counters are per dest");
	conn_table_free(t);
}

/* ---- TCP states ---- */

/* Kernel names, to transcribe its table below. */
#define sNO CS_NONE
#define sES CS_ESTABLISHED
#define sSS CS_SYN_SENT
#define sSR CS_SYN_RECV
#define sFW CS_FIN_WAIT
#define sTW CS_TIME_WAIT
#define sCL CS_CLOSE
#define sCW CS_CLOSE_WAIT
#define sLA CS_LAST_ACK
#define sLI CS_LISTEN
#define sSA CS_SYNACK

/*
 * tcp_states[] of Linux's net/netfilter/ipvs/ip_vs_proto_tcp.c (the
 * default table, not tcp_states_dos), as in current mainline: rows syn,
 * fin, ack, rst for INPUT, OUTPUT and INPUT-ONLY.
 */
static const uint8_t kernel_tcp[DIR_MAX][4][11] = {
	[DIR_INPUT] = {
		/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA */
		/*syn*/ { sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR },
		/*fin*/ { sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW },
		/*ack*/ { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES },
		/*rst*/ { sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR },
	},
	[DIR_OUTPUT] = {
		/*syn*/ { sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR },
		/*fin*/ { sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW },
		/*ack*/ { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES },
		/*rst*/ { sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL },
	},
	[DIR_INPUT_ONLY] = {
		/*syn*/ { sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR },
		/*fin*/ { sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW },
		/*ack*/ { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES },
		/*rst*/ { sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL },
	},
};

static const char *const dir_names[DIR_MAX] = { "INPUT", "OUTPUT", "INPUT_ONLY" };

static void
test_tcp_table(void)
{
	static const uint8_t ev_flags[4] = { S, F, A, R };
	static const char *const ev_names[4] = { "SYN", "FIN", "ACK", "RST" };
	unsigned bad = 0;

	UNIT_SECTION("proto_tcp_next against the kernel's table");
	for (int dir = 0; dir < DIR_MAX; dir++)
		for (int ev = 0; ev < 4; ev++)
			for (int s = 0; s <= CS_SYNACK; s++) {
				enum conn_state got = proto_tcp_next((enum conn_state)s,
				    (enum conn_dir)dir, ev_flags[ev]);
				if (got != kernel_tcp[dir][ev][s]) {
					bad++;
					CHECK(0, "%s %s in %s: got %s, want %s", dir_names[dir],
					    ev_names[ev], conn_state_name((enum conn_state)s),
					    conn_state_name(got),
					    conn_state_name((enum conn_state)kernel_tcp[dir][ev][s]));
				}
			}
	CHECK_EQ(bad, 0, "all 132 transitions as in ip_vs_proto_tcp.c");

	static const struct {
		const char *what;
		uint8_t flags;
		enum conn_state from, want;
	} prec[] = {
		{ "RST wins over SYN",           R | S,     sES, sCL },
		{ "RST wins over FIN|ACK",       R | F | A, sSR, sSR },
		{ "SYN wins over FIN",           S | F,     sNO, sSR },
		{ "SYN|ACK is a SYN",            S | A,     sSS, sES },
		{ "FIN wins over ACK",           F | A,     sES, sCW },
		{ "PSH|ACK is an ACK",           P | A,     sSR, sES },
		{ "no flag at all: CLOSE",       0,         sES, sCL },
		{ "PSH alone: CLOSE",            P,         sES, sCL },
		{ "no flag in SYN_RECV: CLOSE",  0,         sSR, sCL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(prec); i++) {
		enum conn_state got = proto_tcp_next(prec[i].from, DIR_INPUT, prec[i].flags);
		CHECK(got == prec[i].want, "INPUT: %s (%s -> %s, got %s)", prec[i].what,
		    conn_state_name(prec[i].from), conn_state_name(prec[i].want),
		    conn_state_name(got));
	}
	CHECK(proto_tcp_next(CS_UDP, DIR_INPUT, A) == CS_CLOSE, "a non-TCP state: CLOSE");
}

/* One segment of a scripted connection and the state and counters after it. */
struct step {
	const char     *what;
	enum conn_dir   dir;
	uint8_t         flags;
	enum conn_state want;
};

static void
run_script(const char *name, uint8_t cflags, const struct step *st, size_t n)
{
	struct conn_table *t = conn_table_new(4, 0);
	struct dest d;
	uint32_t now = 100;

	dest_init(&d, htonl(0x0a14000b));
	struct conn_param cp = flow(IPPROTO_TCP, 0xc0000201, 40000, &d, cflags);
	struct conn *c = conn_new(t, &cp, &d, now);
	for (size_t i = 0; i < n; i++, now += 3) {
		conn_tcp_update(t, c, st[i].dir, st[i].flags, now);
		int es = st[i].want == CS_ESTABLISHED;
		CHECK(c->state == st[i].want && d.activeconns == (unsigned)es &&
		    d.inactconns == (unsigned)!es,
		    "%s: %s -> %s (got %s, act %u inact %u)", name, st[i].what,
		    conn_state_name(st[i].want), conn_state_name((enum conn_state)c->state),
		    d.activeconns, d.inactconns);
	}
	/* It expires at the last segment's time plus the last state's timeout. */
	now -= 3;
	uint32_t due = now + SEC(proto_default_timeout[c->state]);
	CHECK(conn_expire_run(t, due - 1) == 0 && conn_expire_run(t, due) == 1,
	    "%s: expires %u s after the last segment (%s)", name,
	    proto_default_timeout[st[n - 1].want], conn_state_name(st[n - 1].want));
	conn_table_free(t);
}

static void
test_tcp_scripts(void)
{
	/* dr: only the client's half is seen (INPUT_ONLY). */
	static const struct step dr[] = {
		{ "client SYN",         DIR_INPUT, S,         CS_SYN_RECV },
		{ "client ACK",         DIR_INPUT, A,         CS_ESTABLISHED },
		{ "client data",        DIR_INPUT, P | A,     CS_ESTABLISHED },
		{ "client FIN",         DIR_INPUT, F | A,     CS_FIN_WAIT },
		{ "client last ACK",    DIR_INPUT, A,         CS_FIN_WAIT },
	};
	static const struct step dr_rst[] = {
		{ "client SYN",         DIR_INPUT, S,         CS_SYN_RECV },
		{ "client ACK",         DIR_INPUT, A,         CS_ESTABLISHED },
		{ "client RST",         DIR_INPUT, R | A,     CS_CLOSE },
	};
	static const struct step dr_syn_rst[] = {
		{ "client SYN",         DIR_INPUT, S,         CS_SYN_RECV },
		{ "client RST",         DIR_INPUT, R,         CS_SYN_RECV },
	};
	/* INPUT_ONLY differs from INPUT: FIN in ESTABLISHED is FIN_WAIT, not CLOSE_WAIT. */
	static const struct step dr_noflag[] = {
		{ "client SYN",         DIR_INPUT, S,         CS_SYN_RECV },
		{ "client ACK",         DIR_INPUT, A,         CS_ESTABLISHED },
		{ "segment without flags", DIR_INPUT, 0,      CS_CLOSE },
	};
	/* nat-like: both halves seen; the client closes first. */
	static const struct step nat[] = {
		{ "client SYN",         DIR_INPUT,  S,        CS_SYN_RECV },
		{ "server SYN|ACK",     DIR_OUTPUT, S | A,    CS_SYN_RECV },
		{ "client ACK",         DIR_INPUT,  A,        CS_ESTABLISHED },
		{ "server data",        DIR_OUTPUT, P | A,    CS_ESTABLISHED },
		{ "client FIN",         DIR_INPUT,  F | A,    CS_CLOSE_WAIT },
		{ "server ACK",         DIR_OUTPUT, A,        CS_CLOSE_WAIT },
		{ "server FIN",         DIR_OUTPUT, F | A,    CS_TIME_WAIT },
		{ "client last ACK",    DIR_INPUT,  A,        CS_TIME_WAIT },
	};
	/* The server closes first. */
	static const struct step nat_srv[] = {
		{ "client SYN",         DIR_INPUT,  S,        CS_SYN_RECV },
		{ "server SYN|ACK",     DIR_OUTPUT, S | A,    CS_SYN_RECV },
		{ "client ACK",         DIR_INPUT,  A,        CS_ESTABLISHED },
		{ "server FIN",         DIR_OUTPUT, F | A,    CS_FIN_WAIT },
		{ "client ACK",         DIR_INPUT,  A,        CS_FIN_WAIT },
		{ "client FIN",         DIR_INPUT,  F | A,    CS_TIME_WAIT },
		{ "server last ACK",    DIR_OUTPUT, A,        CS_TIME_WAIT },
	};
	static const struct step nat_rst[] = {
		{ "client SYN",         DIR_INPUT,  S,        CS_SYN_RECV },
		{ "server RST",         DIR_OUTPUT, R | A,    CS_CLOSE },
	};
	/* A dr conn that does see a reply leaves INPUT_ONLY for good (IPVS). */
	static const struct step dr_reply[] = {
		{ "client SYN",         DIR_INPUT,  S,        CS_SYN_RECV },
		{ "reply SYN|ACK",      DIR_OUTPUT, S | A,    CS_SYN_RECV },
		{ "client ACK",         DIR_INPUT,  A,        CS_ESTABLISHED },
		{ "client FIN (INPUT table now)", DIR_INPUT, F | A, CS_CLOSE_WAIT },
	};

	UNIT_SECTION("TCP connections through conn_tcp_update");
	run_script("dr", CONN_F_NOOUTPUT, dr, ARRAY_SIZE(dr));
	run_script("dr reset", CONN_F_NOOUTPUT, dr_rst, ARRAY_SIZE(dr_rst));
	run_script("dr RST in SYN_RECV", CONN_F_NOOUTPUT, dr_syn_rst, ARRAY_SIZE(dr_syn_rst));
	run_script("dr no flags", CONN_F_NOOUTPUT, dr_noflag, ARRAY_SIZE(dr_noflag));
	run_script("nat client closes", CONN_F_HASH_OUT, nat, ARRAY_SIZE(nat));
	run_script("nat server closes", CONN_F_HASH_OUT, nat_srv, ARRAY_SIZE(nat_srv));
	run_script("nat server resets", CONN_F_HASH_OUT, nat_rst, ARRAY_SIZE(nat_rst));
	run_script("dr seeing a reply", CONN_F_NOOUTPUT, dr_reply, ARRAY_SIZE(dr_reply));

	/* The NOOUTPUT flag itself. */
	struct conn_table *t = conn_table_new(4, 0);
	struct dest d;
	dest_init(&d, htonl(0x0a14000b));
	struct conn_param cp = flow(IPPROTO_TCP, 0xc0000201, 40000, &d, CONN_F_NOOUTPUT);
	struct conn *c = conn_new(t, &cp, &d, 0);
	conn_tcp_update(t, c, DIR_INPUT, S, 0);
	CHECK(c->flags & CONN_F_NOOUTPUT, "NOOUTPUT kept while only input is seen");
	conn_tcp_update(t, c, DIR_OUTPUT, S | A, 0);
	CHECK(!(c->flags & CONN_F_NOOUTPUT), "NOOUTPUT cleared by an output segment");
	conn_table_free(t);
}

/*
 * A new SYN found on a connection: scheduled anew when the connection is
 * closing, or when its real server is down by its check (the client reused
 * the port of a SYN that server refused: SYN_RECV for a minute); it follows
 * the connection otherwise, to a quiesced server too.
 */
static void
test_syn_reschedule(void)
{
	static const struct {
		const char     *what;
		uint8_t         cflags;
		enum conn_state state;
		unsigned        dflags;
		int             weight;
		enum stat_id    want;
	} cases[] = {
		{ "dr SYN_RECV, server up: follows", CONN_F_NOOUTPUT, CS_SYN_RECV, 0, 1, STAT_NONE },
		{ "dr ESTABLISHED, server up: follows", CONN_F_NOOUTPUT, CS_ESTABLISHED, 0, 1, STAT_NONE },
		{ "dr SYN_RECV, server quiesced (weight 0): follows", CONN_F_NOOUTPUT, CS_SYN_RECV,
		  0, 0, STAT_NONE },
		{ "dr SYN_RECV, server down by its check: anew", CONN_F_NOOUTPUT, CS_SYN_RECV,
		  DEST_F_DOWN, 0, STAT_CONN_RESCHED_DOWN },
		{ "dr ESTABLISHED, server down by its check: anew", CONN_F_NOOUTPUT, CS_ESTABLISHED,
		  DEST_F_DOWN, 0, STAT_CONN_RESCHED_DOWN },
		{ "dr SYN_RECV, server down and removed: anew", CONN_F_NOOUTPUT, CS_SYN_RECV,
		  DEST_F_DOWN | DEST_F_REMOVED | DEST_F_OUT, 0, STAT_CONN_RESCHED_DOWN },
		{ "nat SYN_RECV, server down by its check: anew", CONN_F_HASH_OUT, CS_SYN_RECV,
		  DEST_F_DOWN, 0, STAT_CONN_RESCHED_DOWN },
		{ "sorry server out of use (not down): follows", CONN_F_NOOUTPUT, CS_SYN_RECV,
		  DEST_F_SORRY | DEST_F_OUT, 0, STAT_NONE },
		{ "dr TIME_WAIT: closing, anew", CONN_F_NOOUTPUT, CS_TIME_WAIT, 0, 1,
		  STAT_CONN_RESCHEDULED },
		{ "dr CLOSE: closing, anew", CONN_F_NOOUTPUT, CS_CLOSE, 0, 1, STAT_CONN_RESCHEDULED },
		{ "dr FIN_WAIT (client's half only): anew", CONN_F_NOOUTPUT, CS_FIN_WAIT, 0, 1,
		  STAT_CONN_RESCHEDULED },
		{ "nat FIN_WAIT (both halves seen): follows", CONN_F_HASH_OUT, CS_FIN_WAIT, 0, 1,
		  STAT_NONE },
		{ "closing and down: counted as closing", CONN_F_NOOUTPUT, CS_CLOSE, DEST_F_DOWN, 0,
		  STAT_CONN_RESCHEDULED },
	};

	UNIT_SECTION("a new SYN on a connection: follow it or schedule anew");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct conn_table *t = conn_table_new(4, 0);
		struct dest d;

		dest_init(&d, htonl(0x0a14000b));
		d.flags = cases[i].dflags;
		d.weight = cases[i].weight;
		struct conn_param cp = flow(IPPROTO_TCP, 0xc0000201, 40000, &d, cases[i].cflags);
		struct conn *c = conn_new(t, &cp, &d, 0);
		c->state = (uint8_t)cases[i].state;
		enum stat_id got = conn_tcp_syn_reschedule(c);
		CHECK(got == cases[i].want, "%s (got %s, want %s)", cases[i].what,
		    got == STAT_NONE ? "follow" : stat_name(got),
		    cases[i].want == STAT_NONE ? "follow" : stat_name(cases[i].want));
		conn_table_free(t);
	}
}

/* ---- expiry on the wheel ---- */

/* Step the sweep one tick at a time from FROM to TO; the tick of the first expiry, or 0. */
static uint32_t
first_expiry(struct conn_table *t, uint32_t from, uint32_t to)
{
	for (uint32_t now = from; now != to + 1; now++)
		if (conn_expire_run(t, now) > 0)
			return now;
	return 0;
}

static void
test_expiry(void)
{
	struct dest d;
	struct conn_table *t;
	struct conn *c;
	uint32_t t0, due;

	UNIT_SECTION("expiry on the timer wheel");
	dest_init(&d, htonl(0x0a14000b));

	static const struct {
		const char *what;
		uint32_t start;
		uint8_t proto;
		uint8_t flags[3];       /* segments applied at the start (TCP) */
		unsigned secs;
	} cases[] = {
		{ "TCP NONE (2 s)",                   1000,  IPPROTO_TCP, { 0 }, 2 },
		{ "TCP SYN_RECV (60 s)",              1000,  IPPROTO_TCP, { S }, 60 },
		{ "UDP (300 s)",                      1000,  IPPROTO_UDP, { 0 }, 300 },
		{ "TCP ESTABLISHED (900 s, > the wheel's 409.6 s)", 1000, IPPROTO_TCP, { S, A }, 900 },
		{ "UDP across the tick wrap-around",  UINT32_MAX - 1000, IPPROTO_UDP, { 0 }, 300 },
		{ "ESTABLISHED across the wrap",      UINT32_MAX - 5000, IPPROTO_TCP, { S, A }, 900 },
		{ "NONE created at UINT32_MAX",       UINT32_MAX, IPPROTO_TCP, { 0 }, 2 },
		{ "UDP created at 0",                 0,     IPPROTO_UDP, { 0 }, 300 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		t0 = cases[i].start;
		t = conn_table_new(8, t0);
		struct conn_param cp = flow(cases[i].proto, 0xc0000201, 40000, &d, CONN_F_NOOUTPUT);
		c = conn_new(t, &cp, &d, t0);
		for (int k = 0; k < 3 && cases[i].flags[k]; k++)
			conn_tcp_update(t, c, DIR_INPUT, cases[i].flags[k], t0);
		due = t0 + SEC(cases[i].secs);
		uint32_t got = first_expiry(t, t0 + 1, due + 50);
		CHECK(got == due && conn_count(t) == 0 && lookup_in(t, &cp) == NULL,
		    "%s: expires at t0 + %u ticks exactly (got t0 + %u)", cases[i].what,
		    SEC(cases[i].secs), (uint32_t)(got - t0));
		conn_table_free(t);
	}

	/* Traffic postpones expiry; the sweep may also run in big steps. */
	t0 = 7777;
	t = conn_table_new(8, t0);
	struct conn_param up = flow(IPPROTO_UDP, 0xc0000201, 40000, &d, CONN_F_NOOUTPUT);
	c = conn_new(t, &up, &d, t0);
	CHECK_EQ(conn_expire_run(t, t0 + 1000), 0, "udp: alive at +100 s");
	conn_touch(t, c, t0 + 1000);
	CHECK_EQ(conn_expire_run(t, t0 + SEC(300)), 0, "udp touched at +100 s: alive at +300 s");
	CHECK_EQ(conn_expire_run(t, t0 + 1000 + SEC(300) - 1), 0, "alive a tick before +400 s");
	CHECK_EQ(conn_expire_run(t, t0 + 1000 + SEC(300)), 1, "expires at +400 s");
	conn_table_free(t);

	/* Many touches, each moving expiry by a little: the last one counts. */
	t = conn_table_new(8, 0);
	c = conn_new(t, &up, &d, 0);
	for (uint32_t now = 1; now <= 20000; now += 7) {
		conn_touch(t, c, now);
		conn_expire_run(t, now);
	}
	uint32_t last = 1 + 7 * ((20000 - 1) / 7);
	CHECK_EQ(first_expiry(t, 20001, last + SEC(300) + 10), last + SEC(300),
	    "udp touched every 0.7 s for 2000 s: expires 300 s after the last touch");
	conn_table_free(t);

	/* A state change to a shorter timeout: ESTABLISHED (900 s) -> CLOSE (10 s). */
	t0 = 50;
	t = conn_table_new(8, t0);
	struct conn_param tp = flow(IPPROTO_TCP, 0xc0000201, 40000, &d, CONN_F_NOOUTPUT);
	c = conn_new(t, &tp, &d, t0);
	conn_tcp_update(t, c, DIR_INPUT, S, t0);
	conn_tcp_update(t, c, DIR_INPUT, A, t0);
	conn_expire_run(t, t0 + 100);
	conn_tcp_update(t, c, DIR_INPUT, R, t0 + 100);
	CHECK_EQ(first_expiry(t, t0 + 101, t0 + SEC(900) + 10), t0 + 100 + SEC(10),
	    "ESTABLISHED then RST: expires 10 s after the RST, not at 900 s");
	conn_table_free(t);

	/* ... and FIN_WAIT (120 s) to a longer one back to ESTABLISHED is honoured too. */
	t = conn_table_new(8, 0);
	c = conn_new(t, &tp, &d, 0);
	conn_tcp_update(t, c, DIR_INPUT, S, 0);
	conn_tcp_update(t, c, DIR_INPUT, A, 0);
	conn_tcp_update(t, c, DIR_INPUT, F, 0);          /* FIN_WAIT, 120 s */
	conn_tcp_update(t, c, DIR_INPUT, S, 10);         /* SYN_RECV, 60 s */
	conn_tcp_update(t, c, DIR_INPUT, A, 20);         /* ESTABLISHED, 900 s */
	CHECK_EQ(first_expiry(t, 1, SEC(1000)), 20 + SEC(900),
	    "FIN_WAIT -> SYN_RECV -> ESTABLISHED: expires 900 s after the last segment");
	conn_table_free(t);

	/* conn_set_timeouts: new timeouts apply to conns touched afterwards. */
	unsigned secs[CS_MAX];
	memcpy(secs, proto_default_timeout, sizeof(secs));
	secs[CS_UDP] = 7;
	secs[CS_ESTABLISHED] = 30;
	secs[CS_NONE] = 1;
	t = conn_table_new(8, 0);
	conn_set_timeouts(t, secs);
	CHECK(conn_get_timeout(t, CS_UDP) == 7 && conn_get_timeout(t, CS_ESTABLISHED) == 30 &&
	    conn_get_timeout(t, CS_CLOSE) == 10, "conn_get_timeout reads what conn_set_timeouts set");
	c = conn_new(t, &up, &d, 0);
	CHECK_EQ(first_expiry(t, 1, SEC(400)), SEC(7), "udp timeout set to 7 s: expires at 7 s");
	c = conn_new(t, &tp, &d, SEC(400));
	conn_tcp_update(t, c, DIR_INPUT, S, SEC(400));
	conn_tcp_update(t, c, DIR_INPUT, A, SEC(400));
	CHECK_EQ(first_expiry(t, SEC(400) + 1, SEC(2000)), SEC(430),
	    "tcp timeout set to 30 s: ESTABLISHED expires after 30 s");
	c = conn_new(t, &tp, &d, SEC(2000));
	CHECK_EQ(first_expiry(t, SEC(2000) + 1, SEC(2100)), SEC(2001), "NONE set to 1 s");
	conn_table_free(t);

	/* Timeout 0: gone at the next sweep, not a wheel turn later. */
	secs[CS_CLOSE] = 0;
	t = conn_table_new(8, 100);
	conn_set_timeouts(t, secs);
	c = conn_new(t, &tp, &d, 100);
	conn_tcp_update(t, c, DIR_INPUT, S, 100);
	conn_tcp_update(t, c, DIR_INPUT, R, 100);      /* SYN_RECV + RST -> SYN_RECV (INPUT_ONLY) */
	conn_tcp_update(t, c, DIR_INPUT, 0, 100);      /* no flags -> CLOSE, timeout 0 */
	CHECK_EQ(first_expiry(t, 101, 100 + SEC(500)), 101, "CLOSE with timeout 0: expires at the next tick");
	conn_table_free(t);

	/* The sweep called late, far past several expiries, takes them all at once. */
	t = conn_table_new(64, 0);
	for (unsigned i = 0; i < 40; i++) {
		struct conn_param p = flow(IPPROTO_UDP, 0xc0000201, (uint16_t)(100 + i), &d, 0);
		conn_new(t, &p, &d, i * 100);
	}
	CHECK_EQ(conn_expire_run(t, SEC(300) + 1900), 20, "a late sweep expires every conn due");
	CHECK_EQ(conn_expire_run(t, SEC(300) + 100000), 20, "and a very late one the rest");
	CHECK_EQ(conn_count(t), 0, "none left");
	conn_table_free(t);
}

/*
 * Random traffic against a model: every conn expires exactly at its last
 * segment's tick plus its state's timeout, never earlier, never later.
 */
static void
test_expiry_random(void)
{
	enum { NC = 1000, TICKS = 20000 };
	static struct conn_param cp[NC];
	static struct conn *c[NC];
	static uint32_t due[NC];
	static uint8_t alive[NC];
	unsigned secs[CS_MAX];
	struct dest d;
	uint32_t start = UINT32_MAX - 12000;      /* wraps in the middle */
	unsigned early = 0, late = 0, wrongcount = 0, lost = 0, expired = 0;

	UNIT_SECTION("random traffic against a model of expiry");
	dest_init(&d, htonl(0x0a14000b));
	srand(4242);
	/* Short timeouts, some longer than the wheel, so that many expire. */
	for (int s = 0; s < CS_MAX; s++)
		secs[s] = (unsigned)(1 + rand() % 60);
	secs[CS_ESTABLISHED] = 700;              /* 7000 ticks > 4096 */
	secs[CS_UDP] = 450;
	struct conn_table *t = conn_table_new(NC, start);
	conn_set_timeouts(t, secs);

	for (uint32_t k = 1; k <= TICKS; k++) {
		uint32_t now = start + k;
		/* A few events per tick. */
		for (int e = 0; e < 3; e++) {
			unsigned i = (unsigned)rand() % NC;
			if (!alive[i]) {
				int udp = rand() % 3 == 0;
				cp[i] = flow(udp ? IPPROTO_UDP : IPPROTO_TCP, 0xc0000000 + i,
				    (uint16_t)(1 + i), &d, rand() % 2 ? CONN_F_NOOUTPUT : CONN_F_HASH_OUT);
				c[i] = conn_new(t, &cp[i], &d, now);
				if (c[i] == NULL) {
					lost++;
					continue;
				}
				alive[i] = 1;
			} else if (c[i]->proto == IPPROTO_TCP) {
				static const uint8_t fl[] = { S, A, A, A, F | A, R, S | A, P | A };
				conn_tcp_update(t, c[i], rand() % 4 ? DIR_INPUT : DIR_OUTPUT,
				    fl[rand() % ARRAY_SIZE(fl)], now);
			} else {
				conn_touch(t, c[i], now);
			}
			due[i] = now + SEC(secs[c[i]->state]);
		}
		unsigned want = 0;
		for (unsigned i = 0; i < NC; i++)
			want += alive[i] && due[i] == now;
		unsigned got = conn_expire_run(t, now);
		/* One expired early shows as a count above the model's. */
		wrongcount += got != want;
		expired += got;
		for (unsigned i = 0; i < NC; i++) {
			if (alive[i] && due[i] == now) {
				late += lookup_in(t, &cp[i]) != NULL;
				alive[i] = 0;
			}
		}
		/* Now and then, every live one still there. */
		if (k % 1000 == 0)
			for (unsigned i = 0; i < NC; i++)
				early += alive[i] && lookup_in(t, &cp[i]) != c[i];
	}
	CHECK(lost == 0 && early == 0 && late == 0 && wrongcount == 0,
	    "%u ticks of random traffic: none expired early (%u) or late (%u), counts right "
	    "(%u wrong), none refused (%u)", TICKS, early, late, wrongcount, lost);
	CHECK(expired > 1000, "the model saw many expiries (%u)", expired);
	unsigned n = 0;
	for (unsigned i = 0; i < NC; i++)
		n += alive[i];
	CHECK_EQ(conn_count(t), n, "conn_count matches the model");
	CHECK_EQ(live(t), n, "conn_foreach matches the model");
	CHECK_EQ(d.refcnt, 1 + n, "dest refcnt: one per live conn");
	CHECK_EQ(d.activeconns + d.inactconns, n, "ActiveConn + InActConn: the live conns");
	conn_table_free(t);
}

/* ipvsadm -x/-y: overloaded at the upper threshold, back below the lower. */
static void
test_thresholds(void)
{
	struct conn_table *t = conn_table_new(64, 0);
	struct dest d;
	struct conn *c[4];

	dest_init(&d, htonl(0x0a14000b));
	d.u_threshold = 4;
	for (int i = 0; i < 4; i++) {
		struct conn_param cp = flow(IPPROTO_TCP, 0x0a0a0001, (uint16_t)(1000 + i), &d, CONN_F_NOOUTPUT);
		c[i] = conn_new(t, &cp, &d, 0);
		CHECK(!(d.flags & DEST_F_OVERLOAD) == (i < 3),
		    "upper 4: overloaded exactly from the 4th connection (%d)", i + 1);
	}
	/* No lower threshold: available again below 3/4 of upper (total*4 < 12). */
	conn_expire_now(t, c[3]);
	CHECK(d.flags & DEST_F_OVERLOAD, "upper 4, 3 left: not below 3/4, still overloaded");
	conn_expire_now(t, c[2]);
	CHECK(!(d.flags & DEST_F_OVERLOAD), "upper 4, 2 left: below 3/4, available again");
	conn_expire_now(t, c[1]);
	conn_expire_now(t, c[0]);

	/* With a lower threshold: available only below it. */
	d.u_threshold = 3;
	d.l_threshold = 1;
	for (int i = 0; i < 3; i++) {
		struct conn_param cp = flow(IPPROTO_TCP, 0x0a0a0001, (uint16_t)(2000 + i), &d, CONN_F_NOOUTPUT);
		c[i] = conn_new(t, &cp, &d, 0);
	}
	CHECK(d.flags & DEST_F_OVERLOAD, "upper 3 lower 1: overloaded at 3");
	conn_expire_now(t, c[2]);
	conn_expire_now(t, c[1]);
	CHECK(d.flags & DEST_F_OVERLOAD, "upper 3 lower 1: 1 left, still overloaded (not below 1)");
	conn_expire_now(t, c[0]);
	CHECK(!(d.flags & DEST_F_OVERLOAD), "upper 3 lower 1: 0 left, available");

	/* No thresholds: never overloaded by counts. */
	d.u_threshold = d.l_threshold = 0;
	struct conn_param cp = flow(IPPROTO_TCP, 0x0a0a0001, 3000, &d, CONN_F_NOOUTPUT);
	c[0] = conn_new(t, &cp, &d, 0);
	CHECK(!(d.flags & DEST_F_OVERLOAD), "no threshold: not overloaded");
	conn_expire_now(t, c[0]);
	conn_table_free(t);
}

/* Persistence templates: pin, outlive their flows, invalidate, flush. */
static void
test_templates(void)
{
	struct conn_table *t = conn_table_new(64, 0);
	struct dest d;
	union vsr_addr client = addr_from_ip(htonl(0x0a0a0000)), vip = addr_from_ip(htonl(0x0a0a0064));
	uint16_t vport = htons(80);
	unsigned puts;

	dest_init(&d, htonl(0x0a14000b));
	conn_set_timeouts(t, proto_default_timeout);
	struct conn *tpl = conn_template_new(t, AF_INET, IPPROTO_TCP, &client, &vip, vport, &d, 30, 0);
	CHECK(tpl != NULL && (tpl->flags & CONN_F_TEMPLATE), "a template is made");
	CHECK_EQ(d.persistconns, 1, "it counts in persistconns");
	CHECK_EQ(d.inactconns + d.activeconns, 0, "not in ActiveConn/InActConn");
	CHECK_EQ(d.refcnt, 2, "it holds the dest");
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_TCP, &client, &vip, vport) == tpl, "found by client, VIP, port");
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_UDP, &client, &vip, vport) == NULL, "not by another protocol");
	CHECK(conn_lookup_in(t, AF_INET, IPPROTO_TCP, &client, 0, &vip, vport) == NULL,
	    "never taken for a flow");

	/* A flow controlled by it, ESTABLISHED: 900 s, longer than 30 s. */
	struct conn_param cp = flow(IPPROTO_TCP, 0x0a0a0001, 4000, &d, CONN_F_NOOUTPUT);
	struct conn *c = conn_new(t, &cp, &d, 0);
	conn_set_control(t, c, tpl, 0);
	CHECK_EQ(tpl->ncontrol, 1, "the template controls one flow");
	conn_tcp_update(t, c, DIR_INPUT, S, 0);
	conn_tcp_update(t, c, DIR_INPUT, A, 0);
	conn_expire_run(t, 60 * CONN_HZ);
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_TCP, &client, &vip, vport) == tpl,
	    "past its 30 s, the template stays while its flow lives");
	/* The flow closes (FIN_WAIT 120 s from 60 s): gone at 180 s. */
	conn_tcp_update(t, c, DIR_INPUT, F, 60 * CONN_HZ);
	conn_expire_run(t, 181 * CONN_HZ);
	CHECK_EQ(tpl->ncontrol, 0, "the flow expired, the template controls none");
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_TCP, &client, &vip, vport) == tpl,
	    "the template outlives its last flow");
	conn_expire_run(t, (181 + 31) * CONN_HZ);
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_TCP, &client, &vip, vport) == NULL,
	    "and expires one persistence time after it");
	CHECK_EQ(d.persistconns, 0, "persistconns back to 0");
	CHECK_EQ(d.refcnt, 1, "dest released");

	/* Using a template restarts its persistence time. */
	uint32_t now = 300 * CONN_HZ;
	tpl = conn_template_new(t, AF_INET, IPPROTO_TCP, &client, &vip, vport, &d, 30, now);
	cp = flow(IPPROTO_UDP, 0x0a0a0002, 5000, &d, CONN_F_NOOUTPUT);
	c = conn_new(t, &cp, &d, now + 20 * CONN_HZ);
	conn_set_control(t, c, tpl, now + 20 * CONN_HZ);
	conn_expire_now(t, c);
	conn_expire_run(t, now + 45 * CONN_HZ);
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_TCP, &client, &vip, vport) == tpl,
	    "used at 20 s: still there at 45 s");
	conn_expire_run(t, now + 51 * CONN_HZ);
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_TCP, &client, &vip, vport) == NULL, "gone at 51 s");

	/* Invalidated while controlling a flow: not found, freed after it. */
	now = 600 * CONN_HZ;
	tpl = conn_template_new(t, AF_INET, IPPROTO_TCP, &client, &vip, vport, &d, 30, now);
	cp = flow(IPPROTO_TCP, 0x0a0a0003, 6000, &d, CONN_F_NOOUTPUT);
	c = conn_new(t, &cp, &d, now);
	conn_set_control(t, c, tpl, now);
	conn_template_invalidate(t, tpl);
	CHECK(conn_template_lookup(t, AF_INET, IPPROTO_TCP, &client, &vip, vport) == NULL,
	    "an invalidated template is not found");
	CHECK_EQ(d.persistconns, 1, "but lives while it controls a flow");
	conn_expire_now(t, tpl);
	CHECK_EQ(d.persistconns, 1, "conn_expire_now does not free it under its flow");
	puts = stub_dest_put_calls;
	conn_flush(t);
	CHECK_EQ(conn_count(t), 0, "conn_flush empties the table, templates included");
	CHECK_EQ(stub_dest_put_calls, puts + 2, "flow and template released once each");
	CHECK_EQ(d.persistconns + d.inactconns + d.activeconns, 0, "all counters back to 0");
	conn_table_free(t);
}

/*
 * fullnat's port allocator hands ports out in order from a random start,
 * skipping pairs in use, so a (local address, port) comes back as late as
 * possible (a real server's TIME_WAIT and PAWS); a freed port is not the
 * next one given.
 */
static void
test_laddr(void)
{
	struct conn_table *t = conn_table_new(64, 0);
	struct vsr_ip pool[1] = { { AF_INET, { .ip = htonl(0x0a1400fa) } } };
	union vsr_addr la;
	uint16_t lp[3] = { 0 }, p4 = 0;
	struct dest d;

	dest_init(&d, htonl(0x0a14000b));
	CHECK_EQ(laddr_setup(pool, 1), 0, "laddr: a pool of one address");
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(laddr_alloc(t, AF_INET, IPPROTO_TCP, &d.addr, d.port, 0, 1, &la, &lp[i]), 0,
		    "laddr: allocation %u", i);
		CHECK_EQ(la.ip, pool[0].addr.ip, "laddr: the pool's address");
	}
	CHECK(ntohs(lp[0]) >= LADDR_PORT_MIN, "laddr: in range");
	for (unsigned i = 1; i < 3; i++)
		CHECK(ntohs(lp[i]) == ntohs(lp[i - 1]) + 1 ||
		    (ntohs(lp[i - 1]) == LADDR_PORT_MAX && ntohs(lp[i]) == LADDR_PORT_MIN),
		    "laddr: port %u follows port %u", ntohs(lp[i]), ntohs(lp[i - 1]));
	/* A port held by a connection is skipped. */
	struct conn_param cp = flow(IPPROTO_TCP, 0xc0000201, 1000, &d, CONN_F_HASH_OUT);
	uint16_t next = htons(ntohs(lp[2]) == LADDR_PORT_MAX ? LADDR_PORT_MIN : ntohs(lp[2]) + 1);
	cp.laddr = pool[0].addr;
	cp.lport = next;
	CHECK(conn_new(t, &cp, &d, 0) != NULL, "laddr: a connection holds the next port");
	CHECK_EQ(laddr_alloc(t, AF_INET, IPPROTO_TCP, &d.addr, d.port, 0, 1, &la, &p4), 0, "laddr: one more");
	CHECK(p4 != next && p4 != lp[0], "laddr: neither the held port nor the first one again");
	conn_flush(t);
	laddr_teardown();
	conn_table_free(t);
}

/*
 * One table per worker (conn_table_sharded): each flow in the member its
 * client's side hashes to, a fullnat flow whose local side hashes
 * elsewhere in that one (probe), templates shared, ids apart, limits
 * split and grown, everything counted and flushed through the set.
 */
static void
test_sets(void)
{
	const uint32_t key = 0x5eed1234u;
	struct conn_table *s = conn_table_sharded(2, 101, 0, key);
	struct conn *c[40];
	uint32_t ids[40];
	unsigned in0 = 0;
	struct dest d;

	dest_init(&d, htonl(0x0a14000b));
	CHECK(s != NULL && conn_shards(s) == 2, "sets: two flow tables");
	CHECK_EQ(conn_capacity(s), 101, "sets: conn_max for all the members together");
	CHECK(conn_whole(conn_shard(s, 1)) == s && conn_whole(s) == s, "sets: a member's whole");
	for (unsigned i = 0; i < 40; i++) {
		struct conn_param cp = flow(IPPROTO_TCP, 0xc0000200 + i, 1000 + i, &d, CONN_F_HASH_OUT);
		unsigned at = steer_hash(key, AF_INET, &cp.caddr, cp.cport) % 2;
		c[i] = conn_new(s, &cp, &d, 0);
		CHECK(c[i] != NULL, "sets: flow %u made", i);
		CHECK_EQ(conn_shard_of(s, AF_INET, &cp.caddr, cp.cport), at, "sets: placed by steer_hash");
		CHECK(lookup_in(conn_shard(s, at), &cp) == c[i] && lookup_in(conn_shard(s, !at), &cp) ==
		    NULL, "sets: flow %u in member %u only", i, at);
		CHECK(lookup_in(s, &cp) == c[i] && lookup_out(s, &cp) == c[i],
		    "sets: the set finds flow %u both ways", i);
		ids[i] = conn_id(s, c[i]);
		CHECK_EQ(conn_id(conn_shard(s, at), c[i]), ids[i], "sets: one id from set or member");
		CHECK(ids[i] < conn_id_space(s) && ids[i] % 3 == at, "sets: id %u in member %u's numbers",
		    ids[i], at);
		for (unsigned j = 0; j < i; j++)
			CHECK(ids[j] != ids[i], "sets: ids %u and %u apart", j, i);
		in0 += at == 0;
	}
	CHECK(in0 > 5 && in0 < 35, "sets: both members used (%u of 40 in the first)", in0);
	CHECK_EQ(conn_count(s), 40, "sets: counted through the set");
	CHECK_EQ(live(s), 40, "sets: visited through the set");
	CHECK_EQ(conn_probe(s), 0, "sets: no flow out of place yet");

	/* A template: made through either member, found from both, controlling flows of each. */
	union vsr_addr client = addr_from_ip(htonl(0xc0000200)), vip = addr_from_ip(htonl(0x0a0a0064));
	struct conn *tpl = conn_template_new(conn_shard(s, 1), AF_INET, IPPROTO_TCP, &client, &vip,
	    htons(80), &d, 30, 0);
	CHECK(tpl != NULL && conn_template_lookup(conn_shard(s, 0), AF_INET, IPPROTO_TCP, &client,
	    &vip, htons(80)) == tpl, "sets: a template is every member's");
	unsigned a = conn_shard_of(s, AF_INET, &client, htons(1000)), b = a;
	unsigned k = 1;
	for (; k < 40 && b == a; k++) {
		union vsr_addr ck = addr_from_ip(htonl(0xc0000200 + k));
		b = conn_shard_of(s, AF_INET, &ck, htons((uint16_t)(1000 + k)));
	}
	k--;
	conn_set_control(conn_shard(s, a), c[0], tpl, 0);
	conn_set_control(conn_shard(s, b), c[k], tpl, 0);
	CHECK(a != b && tpl->ncontrol == 2, "sets: one template over flows of both members");
	CHECK(conn_controller(conn_shard(s, b), c[k]) == tpl && conn_controller(s, c[0]) == tpl,
	    "sets: found as their controller");
	conn_expire_now(conn_shard(s, b), c[k]);
	CHECK_EQ(tpl->ncontrol, 1, "sets: a flow's end counts down its template");
	conn_expire_now(s, c[0]);
	CHECK_EQ(tpl->ncontrol, 0, "sets: through the set as well");
	CHECK_EQ(d.persistconns, 1, "sets: the template lives on");

	/* A fullnat flow made by the set whose local side leads elsewhere: placed by it. */
	struct conn_param fp = flow(IPPROTO_TCP, 0xc6336401, 40000, &d, CONN_F_HASH_OUT);
	unsigned cin = conn_shard_of(s, AF_INET, &fp.caddr, fp.cport);
	fp.laddr = addr_from_ip(htonl(0x0a1400fa));
	for (uint16_t p = 1024; ; p++) {
		fp.lport = htons(p);
		if (conn_shard_of(s, AF_INET, &fp.laddr, fp.lport) != cin)
			break;
	}
	struct conn *fc = conn_new(s, &fp, &d, 0);
	CHECK(fc != NULL && lookup_out(conn_shard(s, !cin), &fp) == fc &&
	    lookup_in(conn_shard(s, cin), &fp) == NULL,
	    "sets: a synced fullnat flow sits where its replies lead");
	CHECK_EQ(conn_probe(s), 1, "sets: and the client's side is told to look further");

	CHECK(lookup_in(s, &fp) == fc, "sets: the set finds it by the client's side");
	/* Limits: split on reload, grown in every member (entries move; their ids stay). */
	uint32_t fid = conn_id(s, fc);
	CHECK_EQ(conn_table_reserve(s, 301), 0, "sets: reserved for 301");
	CHECK_EQ(conn_set_limit(s, 301), 301, "sets: conn_max 301 applied");
	CHECK(conn_allocated(conn_shard(s, 0)) >= 301 && conn_allocated(conn_shard(s, 1)) >= 301 &&
	    conn_allocated(s) >= 301, "sets: both members grew");
	fc = lookup_in(s, &fp);
	CHECK(fc != NULL && conn_id(s, fc) == fid, "sets: flows found after the growth");
	while (conn_grow_step(s))
		;
	conn_table_reserve_drop(s);
	/* conn_max bounds the members together, whichever holds the entries. */
	uint32_t live_now = conn_count(s);
	CHECK_EQ(conn_set_limit(s, live_now + 5), live_now + 5, "sets: lowered to 5 more than live");
	struct conn *last = NULL;
	uint32_t cl = 0xc0a80000;
	/* A member takes the flows whose client's side leads to it (a worker's). */
	for (uint32_t i = 0; i < 5; i++) {
		struct conn_param cp;
		do
			cp = flow(IPPROTO_UDP, cl++, 2000, &d, CONN_F_HASH_OUT);
		while (conn_shard_of(s, AF_INET, &cp.caddr, cp.cport) != 0);
		last = conn_new(conn_shard(s, 0), &cp, &d, 0);
		CHECK(last != NULL, "sets: member 0 takes flow %u of the 5", i);
	}
	struct conn_param extra;
	do
		extra = flow(IPPROTO_UDP, cl++, 2000, &d, CONN_F_HASH_OUT);
	while (conn_shard_of(s, AF_INET, &extra.caddr, extra.cport) != 1);
	CHECK(conn_new(conn_shard(s, 1), &extra, &d, 0) == NULL,
	    "sets: member 1, nearly empty, refuses once the set is at conn_max");
	CHECK_EQ(conn_count(s), live_now + 5, "sets: the set's count is its members'");
	conn_expire_now(conn_shard(s, 0), last);
	CHECK(conn_new(conn_shard(s, 1), &extra, &d, 0) != NULL,
	    "sets: and takes it once a flow of member 0 ended");
	CHECK_EQ(conn_count(s), conn_count(conn_shard(s, 0)) + conn_count(conn_shard(s, 1)) +
	    conn_count(conn_shard(s, 2)), "sets: counts agree");
	CHECK_EQ(conn_probe(s), 1, "sets: other flows' ends leave the out-of-place one counted");

	/* The probe lasts as long as such flows: a second, then both gone (expiry, eviction). */
	fp.cport = htons(40001);
	cin = conn_shard_of(s, AF_INET, &fp.caddr, fp.cport);
	for (uint16_t p = ntohs(fp.lport) + 1; ; p++) {
		fp.lport = htons(p);
		if (conn_shard_of(s, AF_INET, &fp.laddr, fp.lport) != cin)
			break;
	}
	conn_set_limit(s, conn_count(s) + 1);
	struct conn *fc2 = conn_new(s, &fp, &d, 0);
	CHECK(fc2 != NULL && conn_probe(s) == 2, "sets: a second one counted (%u)", conn_probe(s));
	conn_expire_now(s, fc);
	CHECK_EQ(conn_probe(s), 1, "sets: one ended, one left");
	unsigned secs[CS_MAX];
	for (unsigned i = 0; i < CS_MAX; i++)
		secs[i] = 1;
	conn_set_timeouts(s, secs);
	conn_touch(s, fc2, 0);
	conn_expire_run(s, 5 * CONN_HZ);
	CHECK(lookup_in(s, &fp) == NULL && conn_probe(s) == 0,
	    "sets: expired by the sweep, the probe stops (%u)", conn_probe(s));

	conn_flush(s);
	CHECK_EQ(conn_count(s), 0, "sets: flushed, templates included");
	CHECK_EQ(d.persistconns + d.inactconns + d.activeconns, 0, "sets: counters back to 0");
	conn_table_free(s);
	s = conn_table_sharded(1, 10, 0, key);
	CHECK(s != NULL && conn_shards(s) == 0 && conn_capacity(s) == 10,
	    "sets: one worker, a plain table");
	conn_table_free(s);
}

int
main(void)
{
	test_defaults();
	test_lookup();
	test_ipv6();
	test_foreach_stop();
	test_capacity();
	test_many();
	test_keyed_hash();
	test_unconfirmed();
	test_counters();
	test_tcp_table();
	test_tcp_scripts();
	test_syn_reschedule();
	test_expiry();
	test_expiry_random();
	test_thresholds();
	test_templates();
	test_laddr();
	test_cliaddr_pool();
	test_sets();
	return unit_done();
}
