/* test_sync_conn.c - sync and the connection table: when IPVS sends, what a backup makes of it */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliaddr.h"
#include "conf.h"
#include "conn.h"
#include "laddr.h"
#include "log.h"
#include "pkt.h"
#include "stats.h"
#include "svc.h"
#include "sync_conn.h"
#include "sync_msg.h"
#include "unit.h"
#include "xmit.h"

/*
 * The services of a backup (set up as at start, the output layer stubbed):
 *   10.10.0.100:80 tcp dr      -> 10.20.0.11:80
 *   10.10.0.102:80 tcp nat     -> 10.20.0.13:8080
 *   10.10.0.102:53 udp nat     -> 10.20.0.13:5353
 *   10.10.0.103:80 tcp fullnat -> 10.20.0.14:8080, local address 10.20.0.250
 *   10.10.0.104:80 tcp dr, persistent 300 s -> 10.20.0.15:80
 *   [2001:db8:10::100]:80 tcp nat     -> [2001:db8:20::11]:8080
 *   [2001:db8:10::103]:80 tcp fullnat -> [2001:db8:20::14]:8080,
 *                                        local address 2001:db8:20::250
 *   [2001:db8:10::104]:80 tcp dr, persistent 300 s, /64 -> [2001:db8:20::15]:80
 *   10.10.0.105:80 tcp fullnat proxy-v2 -> 10.20.0.16:8080, local address 10.20.0.250
 *   10.10.0.105:53 udp fullnat proxy-v2 -> 10.20.0.16:5353
 */

/* An address of either family, in our form. */
static union vsr_addr
ip(const char *s)
{
	union vsr_addr a;
	int af;

	if (addr_pton(s, &af, &a) < 0)
		abort();
	return a;
}

/* An address as a message carries it: 4 or 16 bytes. */
static void
a4(uint8_t a[16], const char *s)
{
	union vsr_addr x = ip(s);

	memcpy(a, x.b, 16);
}

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
	static struct rs_conf r[11];
	static struct vs_conf v[11];
	static struct config c = { .file = "test.conf", .vs = v, .nvs = 11 };
	struct vsr_ip lip[2] = { { AF_INET, ip("10.20.0.250") },
	    { AF_INET6, ip("2001:db8:20::250") } };

	r[0] = rs("10.20.0.11", 80, FWD_DR);
	r[1] = rs("10.20.0.13", 8080, FWD_NAT);
	r[2] = rs("10.20.0.13", 5353, FWD_NAT);
	r[3] = rs("10.20.0.14", 8080, FWD_FULLNAT);
	r[4] = rs("10.20.0.15", 80, FWD_DR);
	v[0] = vs("10.10.0.100", 80, IPPROTO_TCP, &r[0]);
	v[1] = vs("10.10.0.102", 80, IPPROTO_TCP, &r[1]);
	v[2] = vs("10.10.0.102", 53, IPPROTO_UDP, &r[2]);
	v[3] = vs("10.10.0.103", 80, IPPROTO_TCP, &r[3]);
	v[4] = vs("10.10.0.104", 80, IPPROTO_TCP, &r[4]);
	v[4].persistent = 300;
	r[5] = rs("2001:db8:20::11", 8080, FWD_NAT);
	r[6] = rs("2001:db8:20::14", 8080, FWD_FULLNAT);
	r[7] = rs("2001:db8:20::15", 80, FWD_DR);
	v[5] = vs("2001:db8:10::100", 80, IPPROTO_TCP, &r[5]);
	v[6] = vs("2001:db8:10::103", 80, IPPROTO_TCP, &r[6]);
	v[7] = vs("2001:db8:10::104", 80, IPPROTO_TCP, &r[7]);
	v[7].persistent = 300;
	addr_plen_mask(AF_INET6, 64, &v[7].netmask);
	r[8] = rs("10.20.0.16", 8080, FWD_FULLNAT);
	r[9] = rs("10.20.0.16", 5353, FWD_FULLNAT);
	r[8].client_addr = r[9].client_addr = CA_PROXY_V2;
	v[8] = vs("10.10.0.105", 80, IPPROTO_TCP, &r[8]);
	v[9] = vs("10.10.0.105", 53, IPPROTO_UDP, &r[9]);
	/* fwmark 7, persistent, its real server of port 0 (the packet's port). */
	r[10] = rs("10.20.0.17", 0, FWD_DR);
	v[10] = (struct vs_conf){ .af = AF_INET, .fwmark = 7, .rs = &r[10], .nrs = 1,
	    .sched = "rr", .persistent = 300, .name = "vs-fwmark-7" };
	v[10].addr = svc_mark_addr(AF_INET, 7);
	addr_plen_mask(AF_INET, 32, &v[10].netmask);
	if (laddr_setup(lip, 2) < 0)
		return -1;
	xmit_init(99);
	svc_set_binder(xmit_bind);
	return svc_setup(&c);
}

/* ---- when a master sends: ip_vs_sync_conn_needed() ---- */

static const struct sync_conf ipvs_defaults = { .threshold = 3, .period = 50 };

/* The packets (1..N) at which a connection always in STATE is sent. */
static unsigned
due_at(const struct sync_conf *sc, uint8_t proto, uint8_t state, bool tpl, unsigned n,
    unsigned *first, unsigned *second)
{
	struct sync_cstate cs = { 0 };
	unsigned count = 0;

	*first = *second = 0;
	for (unsigned p = 1; p <= n; p++)
		if (sync_due(sc, 900 * CONN_HZ, proto, state, tpl, &cs, p, 1000)) {
			if (count == 0)
				*first = p;
			else if (count == 1)
				*second = p;
			count++;
		}
	return count;
}

static void
test_due(void)
{
	static const struct sync_conf once = { .threshold = 3, .period = 0 };
	static const struct {
		const char *what;
		const struct sync_conf *sc;
		uint8_t proto, state;
		bool tpl;
		unsigned count, first, second;     /* of 200 packets */
	} cases[] = {
		{ "TCP ESTABLISHED: the 3rd packet, then every 50th", &ipvs_defaults,
		  IPPROTO_TCP, CS_ESTABLISHED, false, 4, 3, 53 },
		{ "TCP SYN_RECV: never",                 &ipvs_defaults, IPPROTO_TCP, CS_SYN_RECV,
		  false, 0, 0, 0 },
		{ "TCP CLOSE_WAIT: at once, then as ESTABLISHED", &ipvs_defaults, IPPROTO_TCP,
		  CS_CLOSE_WAIT, false, 5, 1, 3 },
		{ "UDP: the 3rd packet, then every 50th", &ipvs_defaults, IPPROTO_UDP, CS_UDP,
		  false, 4, 3, 53 },
		{ "a template: with every packet of its flows", &ipvs_defaults, IPPROTO_TCP,
		  CS_NONE, true, 200, 1, 2 },
		{ "period 0: the 3rd packet only",       &once, IPPROTO_TCP, CS_ESTABLISHED,
		  false, 1, 3, 0 },
	};

	UNIT_SECTION("sync_due: IPVS's threshold, period and state changes");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned first, second;
		unsigned n = due_at(cases[i].sc, cases[i].proto, cases[i].state, cases[i].tpl, 200,
		    &first, &second);

		CHECK(n == cases[i].count && first == cases[i].first && second == cases[i].second,
		    "%s (%u times, at %u and %u)", cases[i].what, n, first, second);
	}

	/* A state change is sent at once; to ESTABLISHED only by the threshold. */
	struct sync_cstate cs = { 0 };
	CHECK(!sync_due(&ipvs_defaults, 9000, IPPROTO_TCP, CS_ESTABLISHED, false, &cs, 2, 0),
	    "ESTABLISHED at the 2nd packet: not yet");
	CHECK(sync_due(&ipvs_defaults, 9000, IPPROTO_TCP, CS_ESTABLISHED, false, &cs, 3, 0),
	    "at the 3rd: sent");
	CHECK(sync_due(&ipvs_defaults, 1200, IPPROTO_TCP, CS_FIN_WAIT, false, &cs, 4, 0),
	    "FIN_WAIT at the 4th: sent at once");
	CHECK(!sync_due(&ipvs_defaults, 1200, IPPROTO_TCP, CS_FIN_WAIT, false, &cs, 5, 0),
	    "FIN_WAIT again at the 5th: not");
	CHECK(sync_due(&ipvs_defaults, 1200, IPPROTO_TCP, CS_TIME_WAIT, false, &cs, 6, 0),
	    "TIME_WAIT: sent at once");

	/* sync_refresh_period 30 s: again only once the timeout moved by that much. */
	struct sync_conf rp = { .threshold = 3, .period = 50, .refresh_period = 30 };
	memset(&cs, 0, sizeof(cs));
	CHECK(sync_due(&rp, 9000, IPPROTO_TCP, CS_ESTABLISHED, false, &cs, 3, 100),
	    "refresh period: the first at the threshold");
	CHECK(!sync_due(&rp, 9000, IPPROTO_TCP, CS_ESTABLISHED, false, &cs, 53, 200),
	    "refresh period: not 10 s later, at the 53rd packet");
	CHECK(sync_due(&rp, 9000, IPPROTO_TCP, CS_ESTABLISHED, false, &cs, 103, 100 + 300),
	    "refresh period: 30 s later, at the 103rd");
	rp.retries = 1;
	CHECK(sync_due(&rp, 9000, IPPROTO_TCP, CS_ESTABLISHED, false, &cs, 153, 400 + 40),
	    "with retries 1: once more after an eighth of the period");
	CHECK(!sync_due(&rp, 9000, IPPROTO_TCP, CS_ESTABLISHED, false, &cs, 203, 400 + 80),
	    "but not twice");
}

/* ---- what a backup makes of a message: ip_vs_proc_conn() ---- */

static struct sync_entry
entry(const char *c, uint16_t cport, const char *v, uint16_t vport, const char *d, uint16_t dport,
    uint8_t proto, uint16_t state, uint32_t flags, uint32_t timeout)
{
	struct sync_entry e = {
		.af = strchr(c, ':') ? AF_INET6 : AF_INET, .proto = proto, .state = state,
		.flags = flags,
		.cport = htons(cport), .vport = htons(vport), .dport = htons(dport),
		.timeout = timeout,
	};

	a4(e.caddr, c);
	a4(e.vaddr, v);
	a4(e.daddr, d);
	return e;
}

static void
test_apply(void)
{
	struct conn_table *t = conn_table_new(8, 1000);
	struct sync_entry e;
	struct conn *c;
	uint32_t now = 1000;
	struct dest *d;

	UNIT_SECTION("sync_conn_apply: connections and templates from messages");
	if (!CHECK(t != NULL, "a table of 8"))
		return;
	sync_conn_init(t);
	e = entry("192.0.2.1", 40000, "10.10.0.100", 80, "10.20.0.11", 80, IPPROTO_TCP,
	    CS_ESTABLISHED, SYNC_F_DROUTE | SYNC_F_NOOUTPUT, 900);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED, "a dr flow: created");
	union vsr_addr x1 = ip("192.0.2.1"), x2 = ip("10.10.0.100");
	c = conn_lookup_in(t, AF_INET, IPPROTO_TCP, &x1, htons(40000), &x2, htons(80));
	if (CHECK(c != NULL, "found by its client's tuple")) {
		CHECK_EQ(c->state, CS_ESTABLISHED, "in the message's state");
		CHECK_EQ(c->expires, now + 900 * CONN_HZ, "expiring the message's timeout from now");
		CHECK(c->dest->activeconns == 1 && c->dest->inactconns == 0,
		    "counted as ActiveConn");
		CHECK(c->flags & CONN_F_NOOUTPUT, "dr: no reply expected");
	}
	e.state = CS_FIN_WAIT;
	e.timeout = 120;
	CHECK_EQ(sync_conn_apply(&e, now + 50), SYNC_V_UPDATED, "the same flow again: updated");
	if (c) {
		CHECK(c->state == CS_FIN_WAIT && c->dest->activeconns == 0 &&
		    c->dest->inactconns == 1, "FIN_WAIT, counted as InActConn");
		CHECK_EQ(c->expires, now + 50 + 120 * CONN_HZ, "its expiry the new timeout's");
	}
	CHECK_EQ(conn_count(t), 1, "one entry still");

	/* Another real server than the entry's: replaced, unless the message is the older. */
	e = entry("192.0.2.1", 40000, "10.10.0.100", 80, "10.20.0.99", 80, IPPROTO_TCP,
	    CS_ESTABLISHED, SYNC_F_DROUTE | SYNC_F_INACTIVE, 900);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_STALE,
	    "another real server, the message inactive: ignored");
	e.flags &= ~(uint32_t)SYNC_F_INACTIVE;
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_NO_DEST,
	    "another real server, active: the old entry goes, the new has no real server here");
	CHECK_EQ(conn_count(t), 0, "so none is left");

	e = entry("192.0.2.1", 40001, "10.10.0.109", 80, "10.20.0.11", 80, IPPROTO_TCP,
	    CS_ESTABLISHED, SYNC_F_DROUTE, 900);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_NO_DEST, "no such service: dropped");

	e = entry("192.0.2.1", 5000, "10.10.0.102", 53, "10.20.0.13", 5353, IPPROTO_UDP, 0,
	    SYNC_F_MASQ, 300);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED, "a nat UDP flow: created");
	x1 = ip("10.20.0.13");
	x2 = ip("192.0.2.1");
	c = conn_lookup_out(t, AF_INET, IPPROTO_UDP, &x1, htons(5353), &x2, htons(5000));
	CHECK(c != NULL && c->state == CS_UDP, "found by its real server's reply too, state UDP");

	/* fullnat: the local address and port travel with it, and are taken here. */
	e = entry("192.0.2.1", 40002, "10.10.0.103", 80, "10.20.0.14", 8080, IPPROTO_TCP,
	    CS_ESTABLISHED, SYNC_F_MASQ, 900);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_NO_DEST, "fullnat without its option: dropped");
	e.has_fullnat = true;
	a4(e.laddr, "10.10.0.103");
	e.lport = htons(2000);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_NO_DEST,
	    "fullnat whose local address is a virtual address: dropped");
	a4(e.laddr, "224.0.0.81");
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_NO_DEST,
	    "fullnat whose local address is multicast: dropped");
	a4(e.laddr, "10.20.0.77");
	e.cport = htons(40009);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED,
	    "fullnat with a peer's local address (scale-out): created");
	x1 = ip("10.20.0.14");
	x2 = ip("10.20.0.77");
	c = conn_lookup_out(t, AF_INET, IPPROTO_TCP, &x1, htons(8080), &x2, htons(2000));
	CHECK(c != NULL && c->cport == htons(40009), "found by the reply to the peer's address");
	e.cport = htons(40002);
	a4(e.laddr, "10.20.0.250");
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED, "fullnat with a pool address: created");
	x1 = ip("10.20.0.14");
	x2 = ip("10.20.0.250");
	c = conn_lookup_out(t, AF_INET, IPPROTO_TCP, &x1, htons(8080), &x2, htons(2000));
	CHECK(c != NULL && c->cport == htons(40002), "found by the real server's reply to it");
	union vsr_addr la;
	uint16_t lp;
	int got = laddr_alloc(t, AF_INET, IPPROTO_TCP, &x1, htons(8080), 0, 1, &la, &lp);
	CHECK(got == 0 && !(addr_eq(&la, &x2) && lp == htons(2000)),
	    "the port allocator hands out another port");
	e.cport = htons(40003);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_NO_DEST,
	    "another flow with the same local port: dropped");

	/* A persistence template: its own key, its timeout. */
	e = entry("192.0.2.0", 0, "10.10.0.104", 80, "10.20.0.15", 80, IPPROTO_TCP, 0,
	    SYNC_F_DROUTE | SYNC_F_TEMPLATE, 300);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED, "a template: created");
	x1 = ip("192.0.2.0");
	x2 = ip("10.10.0.104");
	c = conn_template_lookup(t, AF_INET, IPPROTO_TCP, &x1, &x2, htons(80));
	CHECK(c != NULL && (c->flags & CONN_F_TEMPLATE) && c->laddr == 300 * CONN_HZ &&
	    c->expires == now + 300 * CONN_HZ, "found as a template, 300 s its own timeout");
	d = c ? c->dest : NULL;
	CHECK(d && d->persistconns == 1, "counted as a persistent connection");
	e.timeout = 360;
	CHECK_EQ(sync_conn_apply(&e, now + 10), SYNC_V_UPDATED, "the template again: updated");

	/* IPv6: a nat flow, a fullnat flow with its local address, a /64 template. */
	e = entry("2001:db8:99::1", 40000, "2001:db8:10::100", 80, "2001:db8:20::11", 8080,
	    IPPROTO_TCP, CS_ESTABLISHED, SYNC_F_MASQ, 900);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED, "an IPv6 nat flow: created");
	x1 = ip("2001:db8:20::11");
	x2 = ip("2001:db8:99::1");
	c = conn_lookup_out(t, AF_INET6, IPPROTO_TCP, &x1, htons(8080), &x2, htons(40000));
	CHECK(c != NULL && conn_af(c) == AF_INET6 && c->state == CS_ESTABLISHED,
	    "found by its real server's reply, IPv6, ESTABLISHED");
	e = entry("2001:db8:99::1", 40000, "10.10.0.102", 80, "10.20.0.13", 8080,
	    IPPROTO_TCP, CS_ESTABLISHED, SYNC_F_MASQ, 900);
	e.af = AF_INET6;
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_NO_DEST,
	    "an IPv6 entry for an IPv4 service's address bytes: no such service");
	e = entry("2001:db8:99::1", 40001, "2001:db8:10::103", 80, "2001:db8:20::14", 8080,
	    IPPROTO_TCP, CS_ESTABLISHED, SYNC_F_MASQ, 900);
	e.has_fullnat = true;
	a4(e.laddr, "10.20.0.250");
	e.lport = htons(3000);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED,
	    "IPv6 fullnat whose local address is the IPv4 pool's bytes: a peer's, created");
	e.cport = htons(40011);
	a4(e.laddr, "2001:db8:20::250");
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED, "IPv6 fullnat with a pool address: created");
	x1 = ip("2001:db8:20::14");
	x2 = ip("2001:db8:20::250");
	c = conn_lookup_out(t, AF_INET6, IPPROTO_TCP, &x1, htons(8080), &x2, htons(3000));
	CHECK(c != NULL && c->cport == htons(40011), "found by the real server's reply to it");
	e = entry("2001:db8:99::", 0, "2001:db8:10::104", 80, "2001:db8:20::15", 80, IPPROTO_TCP,
	    0, SYNC_F_DROUTE | SYNC_F_TEMPLATE, 300);
	CHECK_EQ(sync_conn_apply(&e, now), SYNC_V_CREATED, "an IPv6 template: created");
	x1 = ip("2001:db8:99::");
	x2 = ip("2001:db8:10::104");
	c = conn_template_lookup(t, AF_INET6, IPPROTO_TCP, &x1, &x2, htons(80));
	CHECK(c != NULL && (c->flags & CONN_F_TEMPLATE) && c->laddr == 300 * CONN_HZ,
	    "found as an IPv6 template, 300 s its own timeout");
	conn_flush(t);

	/* The table's capacity bounds what messages make. */
	unsigned made = 0, full = 0;
	for (unsigned p = 0; p < 20; p++) {
		e = entry("192.0.2.9", (uint16_t)(1000 + p), "10.10.0.100", 80, "10.20.0.11", 80,
		    IPPROTO_TCP, CS_ESTABLISHED, SYNC_F_DROUTE, 900);
		enum sync_verdict v = sync_conn_apply(&e, now);
		made += v == SYNC_V_CREATED;
		full += v == SYNC_V_TABLE_FULL;
	}
	CHECK(conn_count(t) == 8 && full == 20 - made, "conn_max 8: %u made, %u refused as full",
	    made, full);
	conn_flush(t);
	conn_table_free(t);
}

/* ---- a master's connection as the backup gets it ---- */

static void
test_roundtrip(void)
{
	struct conn_table *m = conn_table_new(16, 1000), *b = conn_table_new(16, 1000);
	union vsr_addr vip = ip("10.10.0.103");
	struct service *s = svc_lookup(AF_INET, IPPROTO_TCP, &vip, htons(80));
	struct dest *d = s ? TAILQ_FIRST(&s->dests) : NULL;
	struct sync_entry e, out[SYNC_CONNS_MAX];
	enum sync_err errs[SYNC_CONNS_MAX];
	struct sync_writer w;
	uint8_t msg[1500];
	struct conn *c, *bc;
	unsigned n;

	UNIT_SECTION("a fullnat connection from a master's table to a backup's");
	if (!CHECK(m && b && d, "two tables and the fullnat real server"))
		return;
	struct conn_param cp = {
		.af = AF_INET, .proto = IPPROTO_TCP, .caddr = ip("192.0.2.1"), .cport = htons(41000),
		.vaddr = vip, .vport = htons(80), .daddr = d->addr, .dport = d->port,
		.flags = CONN_F_HASH_OUT,
	};
	laddr_alloc(m, AF_INET, IPPROTO_TCP, &d->addr, d->port, 0, 1, &cp.laddr, &cp.lport);
	c = conn_new(m, &cp, d, 1000);
	conn_tcp_update(m, c, DIR_INPUT, TCPF_SYN, 1000);
	conn_tcp_update(m, c, DIR_OUTPUT, TCPF_SYN | TCPF_ACK, 1000);
	conn_tcp_update(m, c, DIR_INPUT, TCPF_ACK, 1000);
	sync_conn_entry(m, c, &e);
	CHECK(e.state == CS_ESTABLISHED && e.flags == SYNC_F_MASQ && e.timeout == 900 &&
	    e.has_fullnat && e.lport == c->lport, "the entry: ESTABLISHED, masq, 900 s, "
	    "the local port");
	sync_msg_begin(&w, msg, sizeof(msg), sizeof(msg), 1);
	sync_msg_add(&w, &e);
	CHECK(sync_msg_decode(msg, sync_msg_len(&w), 1, out, errs, &n) == SYNC_E_OK && n == 1 &&
	    errs[0] == SYNC_E_OK, "through a message");
	sync_conn_init(b);
	CHECK_EQ(sync_conn_apply(&out[0], 2000), SYNC_V_CREATED, "created on the backup");
	bc = conn_lookup_out(b, AF_INET, IPPROTO_TCP, &d->addr, d->port, &cp.laddr, c->lport);
	CHECK(bc && bc->caddr == c->caddr && bc->cport == c->cport && bc->state == c->state &&
	    bc->dest == c->dest, "the same connection, found by the reply's tuple");
	conn_flush(m);
	conn_flush(b);
	conn_table_free(m);
	conn_table_free(b);
}

/* ---- a firewall-mark service's flow and template: found by the mark ---- */

static void
test_fwmark(void)
{
	struct conn_table *m = conn_table_new(16, 1000), *b = conn_table_new(16, 1000);
	union vsr_addr ma = svc_mark_addr(AF_INET, 7), vip = ip("10.10.0.110");
	union vsr_addr cl = ip("192.0.2.7");
	struct service *s = svc_lookup(AF_INET, 0, &ma, 0);
	struct dest *d = s ? TAILQ_FIRST(&s->dests) : NULL;
	struct sync_entry e[2], out[SYNC_CONNS_MAX];
	enum sync_err errs[SYNC_CONNS_MAX];
	struct sync_writer w;
	uint8_t msg[1500];
	struct conn *c, *tpl, *bc;
	unsigned n;

	UNIT_SECTION("a firewall-mark service's connection and template to a backup");
	if (!CHECK(m && b && d && d->port == 0, "two tables and the mark service's real server"))
		return;
	tpl = conn_template_new(m, AF_INET, 0, &cl, &ma, 0, d, 300, 1000);
	struct conn_param cp = {
		.af = AF_INET, .proto = IPPROTO_TCP, .caddr = cl, .cport = htons(41007),
		.vaddr = vip, .vport = htons(443), .daddr = d->addr, .dport = htons(443),
		.laddr = cl, .lport = htons(41007), .flags = CONN_F_NOOUTPUT,
	};
	c = conn_new(m, &cp, d, 1000);
	if (!CHECK(tpl && c, "a template and a flow on the master"))
		return;
	conn_tcp_update(m, c, DIR_INPUT, TCPF_SYN, 1000);
	conn_tcp_update(m, c, DIR_INPUT, TCPF_ACK, 1000);
	sync_conn_entry(m, tpl, &e[0]);
	sync_conn_entry(m, c, &e[1]);
	CHECK(e[0].fwmark == 7 && e[1].fwmark == 7, "both entries name mark 7");
	sync_msg_begin(&w, msg, sizeof(msg), sizeof(msg), 1);
	sync_msg_add(&w, &e[0]);
	sync_msg_add(&w, &e[1]);
	CHECK(sync_msg_decode(msg, sync_msg_len(&w), 1, out, errs, &n) == SYNC_E_OK && n == 2 &&
	    out[0].fwmark == 7 && out[1].fwmark == 7, "the mark through a message");
	sync_conn_init(b);
	CHECK_EQ(sync_conn_apply(&out[0], 2000), SYNC_V_CREATED, "the template created on the backup");
	CHECK_EQ(sync_conn_apply(&out[1], 2000), SYNC_V_CREATED, "the flow created on the backup");
	bc = conn_lookup_in(b, AF_INET, IPPROTO_TCP, &cl, htons(41007), &vip, htons(443));
	CHECK(bc && bc->dest == d && bc->dport == htons(443),
	    "the flow to the same real server, on the packet's port 443");
	CHECK(conn_template_lookup(b, AF_INET, 0, &cl, &ma, 0) != NULL,
	    "the template keyed by the mark, as persistence looks it up");
	conn_flush(m);
	conn_flush(b);
	conn_table_free(m);
	conn_table_free(b);
}

/* ---- the sequence adjustment of a proxy-v2 flow (IPVS_OPT_SEQ_DATA) ---- */

static void
test_seq(void)
{
	struct conn_table *m = conn_table_new(16, 1000), *b = conn_table_new(16, 1000);
	union vsr_addr vip = ip("10.10.0.105");
	struct service *s = svc_lookup(AF_INET, IPPROTO_TCP, &vip, htons(80));
	struct service *su = svc_lookup(AF_INET, IPPROTO_UDP, &vip, htons(53));
	struct dest *d = s ? TAILQ_FIRST(&s->dests) : NULL;
	struct dest *du = su ? TAILQ_FIRST(&su->dests) : NULL;
	struct sync_entry e, out[SYNC_CONNS_MAX];
	enum sync_err errs[SYNC_CONNS_MAX];
	struct cliaddr_state *ca, *bca;
	struct sync_writer w;
	uint8_t msg[1500];
	struct conn *c, *bc;
	unsigned n;

	UNIT_SECTION("the connection's sequence adjustment travels (proxy-v2)");
	if (!CHECK(m && b && d && du, "two tables and the proxy-v2 real servers"))
		return;
	struct conn_param cp = {
		.af = AF_INET, .proto = IPPROTO_TCP, .caddr = ip("192.0.2.1"), .cport = htons(42000),
		.vaddr = vip, .vport = htons(80), .daddr = d->addr, .dport = d->port,
		.flags = CONN_F_HASH_OUT, .client_addr = CA_PROXY_V2,
	};
	laddr_alloc(m, AF_INET, IPPROTO_TCP, &d->addr, d->port, 0, 1, &cp.laddr, &cp.lport);
	c = conn_new(m, &cp, d, 1000);
	if (!CHECK(c && (ca = conn_cliaddr(m, c)) != NULL, "a master's flow with its state"))
		return;
	cliaddr_init(ca, CA_PROXY_V2, AF_INET);
	conn_tcp_update(m, c, DIR_INPUT, TCPF_SYN, 1000);
	conn_tcp_update(m, c, DIR_OUTPUT, TCPF_SYN | TCPF_ACK, 1000);
	conn_tcp_update(m, c, DIR_INPUT, TCPF_ACK, 1000);

	sync_conn_entry(m, c, &e);
	CHECK(!e.has_seq && !(e.flags & SYNC_F_SEQ_MASK),
	    "no shift yet (no SYN seen): no option, no flags");
	/* As cliaddr_in() does on the client's SYN (ISN 0xfffffff0: the shift wraps). */
	seqadj_shift(&ca->sa.in, 0xfffffff0u, PPV2_LEN4);
	ca->flags = CA_F_ISN | CA_F_SENT | CA_F_ACKED | CA_F_DATA;
	sync_conn_entry(m, c, &e);
	CHECK(e.has_seq && (e.flags & SYNC_F_SEQ_MASK) == SYNC_F_IN_SEQ &&
	    e.in_seq.init_seq == 0xfffffff0u && e.in_seq.delta == PPV2_LEN4 &&
	    e.in_seq.previous_delta == 0 && e.out_seq.delta == 0,
	    "the option: in_seq the client's ISN and the header's 28 bytes, IN_SEQ only");
	/* A SYN proxy's offset goes in the other direction of the same struct. */
	seqadj_offset(&ca->sa.out, 5000, 0x12345678u);
	sync_conn_entry(m, c, &e);
	CHECK((e.flags & SYNC_F_SEQ_MASK) == SYNC_F_SEQ_MASK && e.out_seq.init_seq == 5000 &&
	    e.out_seq.delta == 0x12345678u && e.out_seq.previous_delta == 0x12345678u,
	    "out_seq too when the other direction is renumbered: IN_SEQ | OUT_SEQ");
	CHECK_EQ(sync_entry_len(&e), SYNC_V4_LEN + 2 + SYNC_SEQ_LEN + 2 + SYNC_FULLNAT4_LEN,
	    "the entry: 36 bytes, the sequence option, the fullnat option");

	sync_msg_begin(&w, msg, sizeof(msg), sizeof(msg), 1);
	sync_msg_add(&w, &e);
	CHECK(sync_msg_decode(msg, sync_msg_len(&w), 1, out, errs, &n) == SYNC_E_OK && n == 1 &&
	    errs[0] == SYNC_E_OK && out[0].has_seq, "through a message");
	sync_conn_init(b);
	CHECK_EQ(sync_conn_apply(&out[0], 2000), SYNC_V_CREATED, "created on the backup");
	bc = conn_lookup_out(b, AF_INET, IPPROTO_TCP, &d->addr, d->port, &cp.laddr, c->lport);
	bca = bc ? conn_cliaddr(b, bc) : NULL;
	if (CHECK(bca != NULL, "the backup's flow has a client-address state")) {
		CHECK(!memcmp(&bca->sa, &ca->sa, sizeof(bca->sa)), "the same seqadj, both ways");
		CHECK(bca->how == CA_PROXY_V2 && bca->len == PPV2_LEN4,
		    "proxy-v2, a 28-byte header");
		CHECK((bca->flags & (CA_F_ISN | CA_F_SENT)) == (CA_F_ISN | CA_F_SENT) &&
		    !(bca->flags & (CA_F_RESEND | CA_F_DATA)),
		    "the header counted as sent: no second one, the server's ack checked");
		CHECK_EQ(bca->cseq_next, 0, "the RST window learnt from the next packet");
	}

	/* Updated: the message's adjustment replaces the backup's. */
	e.in_seq.delta = 52;
	CHECK_EQ(sync_conn_apply(&e, 2100), SYNC_V_UPDATED, "the same flow again: updated");
	CHECK(bca && bca->sa.in.delta == 52, "the new adjustment taken");

	/* A flow made here without a state (sloppy, or the config differs) is made again. */
	e.cport = htons(42001);
	e.lport = htons((uint16_t)(ntohs(e.lport) + 1));
	e.flags &= ~(uint32_t)SYNC_F_SEQ_MASK;
	e.has_seq = false;
	CHECK_EQ(sync_conn_apply(&e, 2000), SYNC_V_CREATED, "a flow without the option: created");
	union vsr_addr x1 = ip("192.0.2.1");
	bc = conn_lookup_in(b, AF_INET, IPPROTO_TCP, &x1, htons(42001), &vip, htons(80));
	CHECK(bc && conn_cliaddr(b, bc) == NULL,
	    "a TCP flow without the option: nothing to shift, no state");
	sync_entry_set_seq(&e, &out[0].in_seq, NULL);
	CHECK_EQ(sync_conn_apply(&e, 2000), SYNC_V_CREATED,
	    "then with it: made again, with a place for the shift");
	bc = conn_lookup_in(b, AF_INET, IPPROTO_TCP, &x1, htons(42001), &vip, htons(80));
	CHECK(bc && (bca = conn_cliaddr(b, bc)) != NULL && bca->sa.in.delta == PPV2_LEN4,
	    "found with its shift");

	/* A non-TCP entry's option is not a shift; a UDP flow gets its per-datagram header. */
	e = entry("192.0.2.1", 5000, "10.10.0.105", 53, "10.20.0.16", 5353, IPPROTO_UDP, 0,
	    SYNC_F_MASQ, 300);
	e.has_fullnat = true;
	memcpy(e.laddr, cp.laddr.b, 4);
	e.lport = htons(6000);
	CHECK_EQ(sync_conn_apply(&e, 2000), SYNC_V_CREATED, "a proxy-v2 UDP flow: created");
	bc = conn_lookup_in(b, AF_INET, IPPROTO_UDP, &x1, htons(5000), &vip, htons(53));
	CHECK(bc && (bca = conn_cliaddr(b, bc)) != NULL && bca->how == CA_PROXY_V2 &&
	    !seqadj_active(&bca->sa), "with a proxy-v2 state, no shift: each datagram's header");

	conn_flush(m);
	conn_flush(b);
	conn_table_free(m);
	conn_table_free(b);
}

int
main(void)
{
	log_init("test_sync_conn", 1, LOG_LVL_WARNING);
	if (setup() < 0) {
		fprintf(stderr, "test_sync_conn: set-up failed\n");
		return 1;
	}
	test_due();
	test_apply();
	test_roundtrip();
	test_fwmark();
	test_seq();
	svc_teardown();
	laddr_teardown();
	return unit_done();
}
