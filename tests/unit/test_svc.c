/* test_svc.c - the service registry: set-up, reload merge, sorry server, checks, thresholds */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conn.h"
#include "log.h"
#include "pkt.h"
#include "sched.h"
#include "svc.h"
#include "unit.h"

/*
 * svc.c linked alone, with its schedulers and the connection table (for
 * the thresholds): real servers are bound through a stub binder that
 * records the calls and refuses one address, as xmit_bind would refuse
 * one without a route. Allocation can be made to fail (calloc is wrapped:
 * -Wl,--wrap=calloc).
 */

void *__real_calloc(size_t n, size_t size);
static int calloc_fail;         /* every calloc fails while set */

void *
__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fail)
		return NULL;
	return __real_calloc(n, size);
}

#define REFUSED "10.20.0.99"    /* the binder's "no route" */

static unsigned binds;

static int
bind_stub(struct dest *d, char *err, size_t errlen)
{
	static const uint8_t ids[FWD_MAX] = {
		[FWD_DR] = XMIT_DR, [FWD_TUN] = XMIT_TUN, [FWD_NAT] = XMIT_NAT,
		[FWD_FULLNAT] = XMIT_FULLNAT,
	};

	binds++;
	if (d->af == AF_INET && d->addr.ip == inet_addr(REFUSED)) {
		snprintf(err, errlen, "no route to the real server");
		return -1;
	}
	d->xmit_id = ids[d->fwd];
	return 0;
}

/* What the VIP hook was told, in order. */
static struct { struct vsr_ip ip; int up; } hooks[16];
static unsigned nhooks;

static void
vip_hook(int af, const union vsr_addr *addr, int up)
{
	if (nhooks < 16)
		hooks[nhooks++] = (typeof(hooks[0])){ { af, *addr }, up };
}

/* ADDR (either family) as an address; aborts the test on a typo. */
static struct vsr_ip
ip(const char *addr)
{
	struct vsr_ip a;

	if (addr_pton(addr, &a.af, &a.addr) < 0)
		abort();
	return a;
}

static int
hooked(const char *addr, int up)
{
	struct vsr_ip a = ip(addr);

	for (unsigned i = 0; i < nhooks; i++)
		if (vsr_ip_eq(&hooks[i].ip, &a) && hooks[i].up == up)
			return 1;
	return 0;
}

static bool
is_vip(const char *addr)
{
	struct vsr_ip a = ip(addr);

	return svc_is_vip(a.af, &a.addr);
}

static struct rs_conf
rs(const char *name, const char *addr, int weight, enum fwd_method fwd)
{
	struct rs_conf r = { .weight = weight, .port = 80, .fwd = fwd, .line = 1 };
	struct vsr_ip a = ip(addr);

	snprintf(r.name, sizeof(r.name), "%s", name);
	r.af = a.af;
	r.addr = a.addr;
	return r;
}

static struct vs_conf
vs(const char *name, const char *addr, const char *sched, struct rs_conf *r, unsigned n)
{
	struct vs_conf v = { .port = 80, .proto = IPPROTO_TCP, .rs = r, .nrs = n, .line = 1 };
	struct vsr_ip a = ip(addr);

	snprintf(v.name, sizeof(v.name), "%s", name);
	snprintf(v.sched, sizeof(v.sched), "%s", sched);
	v.af = a.af;
	v.addr = a.addr;
	addr_plen_mask(a.af, a.af == AF_INET6 ? 128 : 32, &v.netmask);
	return v;
}

static struct service *
lookup(const char *vip)
{
	struct vsr_ip a = ip(vip);

	return svc_lookup(a.af, IPPROTO_TCP, &a.addr, htons(80));
}

static struct dest *
find(struct service *s, const char *addr)
{
	struct vsr_ip a = ip(addr);

	return dest_find(s, &a.addr, htons(80));
}

static int
listed(const struct service *s)
{
	struct service *o;

	TAILQ_FOREACH(o, svc_list(), entry)
		if (o == s)
			return 1;
	return 0;
}

/* D is in S's scheduled list. */
static int
in_dests(struct service *s, const struct dest *d)
{
	struct dest *o;

	TAILQ_FOREACH(o, &s->dests, entry)
		if (o == d)
			return 1;
	return 0;
}

/* The next dest S's scheduler picks for a new flow, NULL when none. */
static struct dest *
pick(struct service *s)
{
	struct pkt p = { .proto = IPPROTO_TCP };

	return s->sched->schedule(s, &p, 0);
}

/* N picks in a row: how many went to D. */
static unsigned
picks_of(struct service *s, const struct dest *d, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		k += pick(s) == d;
	return k;
}

/* ---- set-up ---- */

static void
test_setup(void)
{
	struct rs_conf r1[] = { rs("a", "10.20.0.11", 1, FWD_DR), rs("b", "10.20.0.12", 2, FWD_NAT) };
	struct rs_conf r2[] = { rs("c", "10.20.0.13", 1, FWD_TUN) };
	struct vs_conf v[] = { vs("web", "10.10.0.100", "wrr", r1, 2),
	    vs("dns", "10.10.0.101", "rr", r2, 1) };
	struct config c = { .file = "test.conf", .vs = v, .nvs = 2 };
	struct service *s;

	UNIT_SECTION("set-up");
	binds = 0;
	CHECK_EQ(svc_setup(&c), 0, "two services set up");
	CHECK_EQ(binds, 3, "each real server bound once");
	s = lookup("10.10.0.100");
	if (!CHECK(s != NULL && strcmp(s->name, "web") == 0, "web found by its VIP and port"))
		return;
	CHECK_EQ(s->ndests, 2, "web has two real servers");
	CHECK_EQ(find(s, "10.20.0.11")->xmit_id, XMIT_DR, "a is bound to dr");
	CHECK_EQ(find(s, "10.20.0.12")->xmit_id, XMIT_NAT, "b is bound to nat");
	CHECK(is_vip("10.10.0.101"), "10.10.0.101 is a VIP");
	CHECK(!is_vip("10.10.0.102"), "10.10.0.102 is not");
	struct vsr_ip web_ip = ip("10.10.0.100");
	CHECK(svc_lookup(AF_INET, IPPROTO_UDP, &web_ip.addr, htons(80)) == NULL,
	    "no udp service on web's address");
	svc_teardown();
	CHECK(lookup("10.10.0.100") == NULL && !is_vip("10.10.0.100"),
	    "teardown empties the index");

	/* A real server that cannot be bound fails the whole set-up. */
	struct rs_conf r3[] = { rs("a", "10.20.0.11", 1, FWD_DR), rs("x", REFUSED, 1, FWD_DR) };
	struct vs_conf v3[] = { vs("web", "10.10.0.100", "rr", r3, 2) };
	struct config c3 = { .file = "test.conf", .vs = v3, .nvs = 1 };
	CHECK_EQ(svc_setup(&c3), -1, "a real server the binder refuses fails the set-up");
	CHECK(lookup("10.10.0.100") == NULL && TAILQ_EMPTY(svc_list()), "and nothing is left");

	/* Without a binder, nothing can be bound. */
	svc_set_binder(NULL);
	CHECK_EQ(svc_setup(&c), -1, "no binder: the set-up fails");
	svc_set_binder(bind_stub);
}

/* ---- reload ---- */

static void
test_merge(void)
{
	struct rs_conf r1[] = { rs("a", "10.20.0.11", 1, FWD_DR), rs("b", "10.20.0.12", 1, FWD_DR),
	    rs("c", "10.20.0.13", 1, FWD_DR) };
	struct rs_conf r2[] = { rs("d", "10.20.0.14", 1, FWD_DR) };
	struct vs_conf v[] = { vs("web", "10.10.0.100", "rr", r1, 3),
	    vs("old", "10.10.0.101", "rr", r2, 1) };
	struct config c = { .file = "test.conf", .vs = v, .nvs = 2 };
	struct service *web, *neu;
	struct dest *a, *b, *c_;

	UNIT_SECTION("reload: mark and sweep");
	if (!CHECK_EQ(svc_setup(&c), 0, "set up web (a, b, c) and old (d)"))
		return;
	web = lookup("10.10.0.100");
	a = find(web, "10.20.0.11");
	b = find(web, "10.20.0.12");
	c_ = find(web, "10.20.0.13");
	dest_hold(b);                   /* a connection to b */
	a->stats.conns = 7;

	/*
	 * The new file: web with wlc, a at weight 3, b gone, c on nat, e
	 * new, x refused by the binder; old gone; new service "neu".
	 */
	struct rs_conf n1[] = { rs("a", "10.20.0.11", 3, FWD_DR), rs("c", "10.20.0.13", 1, FWD_NAT),
	    rs("e", "10.20.0.15", 1, FWD_DR), rs("x", REFUSED, 1, FWD_DR) };
	struct rs_conf n2[] = { rs("f", "10.20.0.16", 1, FWD_DR) };
	struct vs_conf nv[] = { vs("web", "10.10.0.100", "wlc", n1, 4),
	    vs("neu", "10.10.0.102", "rr", n2, 1) };
	struct config nc = { .file = "test.conf", .vs = nv, .nvs = 2 };
	nhooks = 0;
	CHECK_EQ(svc_merge(&nc), -1, "svc_merge reports that x could not be added");

	CHECK(lookup("10.10.0.100") == web, "web is changed in place");
	CHECK(strcmp(web->sched->name, "wlc") == 0, "web's scheduler is now wlc");
	CHECK(find(web, "10.20.0.11") == a && a->weight == 3 && a->conf_weight == 3,
	    "a is kept, at weight 3");
	CHECK_EQ(a->stats.conns, 7, "a keeps its counters");
	CHECK(find(web, "10.20.0.12") == NULL, "b is gone from web");
	CHECK(b->svc == NULL && b->refcnt == 1, "b stays allocated for its connection, unlinked");
	CHECK(find(web, "10.20.0.13") == c_ && c_->fwd == FWD_NAT && c_->xmit_id == XMIT_NAT,
	    "c is kept and rebound to nat");
	CHECK(find(web, "10.20.0.15") != NULL, "e is added");
	CHECK(find(web, REFUSED) == NULL, "x, refused by the binder, is not");
	CHECK_EQ(web->ndests, 3, "web schedules a, c and e");
	CHECK(lookup("10.10.0.101") == NULL && !is_vip("10.10.0.101"),
	    "old is removed, its VIP too");
	neu = lookup("10.10.0.102");
	CHECK(neu != NULL && neu->ndests == 1, "neu is added with its real server");
	CHECK(hooked("10.10.0.101", 0) && hooked("10.10.0.102", 1) && nhooks == 2,
	    "the VIP hook hears 10.10.0.101 go and 10.10.0.102 come, nothing else");
	CHECK(pick(web) != NULL, "web schedules after the reload");
	CHECK(TAILQ_FIRST(dest_orphans()) == b && TAILQ_NEXT(b, entry) == NULL &&
	    (b->flags & DEST_F_ORPHAN), "b is the one orphan (its host set-up stays)");
	(void)dest_orphans_gone();
	dest_put(b);                    /* its connection ends: freed */
	CHECK(TAILQ_EMPTY(dest_orphans()), "b's end leaves no orphan");
	CHECK(!dest_orphans_gone(), "a dr orphan's end asks for no nat sync");

	/* A nat one: c, held by a connection when its service goes. */
	dest_hold(c_);
	svc_teardown();
	CHECK(TAILQ_FIRST(dest_orphans()) == c_ && c_->svc == NULL, "c, still held, is an orphan");
	dest_put(c_);
	CHECK(TAILQ_EMPTY(dest_orphans()) && dest_orphans_gone(),
	    "a nat orphan's end asks for a nat sync");
	CHECK(!dest_orphans_gone(), "once");
}

/* Every service and real server, one line each, as the listing would show them. */
static void
listing(char *buf, size_t len)
{
	struct service *s;
	struct dest *d;
	size_t o = 0;

	buf[0] = '\0';
	TAILQ_FOREACH(s, svc_list(), entry) {
		o += (size_t)snprintf(buf + o, len - o, "%s %s %u:", s->name, s->sched->name,
		    s->ndests);
		TAILQ_FOREACH(d, &s->dests, entry)
			o += (size_t)snprintf(buf + o, len - o, " %s/%d/%d", d->name, d->weight, d->fwd);
		o += (size_t)snprintf(buf + o, len - o, "\n");
		if (o >= len)
			return;
	}
}

/* A reload that fails half-way is undone by merging the previous file back (vsrouted.c). */
static void
test_merge_back(void)
{
	struct rs_conf r1[] = { rs("a", "10.20.0.11", 1, FWD_DR), rs("b", "10.20.0.12", 2, FWD_DR) };
	struct rs_conf r2[] = { rs("d", "10.20.0.14", 1, FWD_DR) };
	struct vs_conf v[] = { vs("web", "10.10.0.100", "rr", r1, 2),
	    vs("old", "10.10.0.101", "wlc", r2, 1) };
	struct config c = { .file = "a.conf", .vs = v, .nvs = 2 };
	struct rs_conf n1[] = { rs("a", "10.20.0.11", 5, FWD_NAT), rs("x", REFUSED, 1, FWD_DR),
	    rs("e", "10.20.0.15", 1, FWD_DR) };
	struct rs_conf n2[] = { rs("f", "10.20.0.16", 1, FWD_DR) };
	struct vs_conf nv[] = { vs("web", "10.10.0.100", "wlc", n1, 3),
	    vs("neu", "10.10.0.102", "rr", n2, 1) };
	struct config nc = { .file = "b.conf", .vs = nv, .nvs = 2 };
	char before[1024], half[1024], after[1024];

	UNIT_SECTION("a reload that fails half-way, undone");
	if (!CHECK_EQ(svc_setup(&c), 0, "web (a, b) and old (d)"))
		return;
	listing(before, sizeof(before));
	CHECK_EQ(svc_merge(&nc), -1, "the new file fails half-way (x has no route)");
	listing(half, sizeof(half));
	CHECK(strcmp(before, half) != 0, "and changed what it could before and after x");
	CHECK_EQ(svc_merge(&c), 0, "the previous file merged back succeeds");
	listing(after, sizeof(after));
	CHECK(strcmp(before, after) == 0, "and everything is as before:\n%s", after);
	CHECK(lookup("10.10.0.102") == NULL && !is_vip("10.10.0.102"),
	    "neu and its VIP are gone again");
	CHECK(lookup("10.10.0.101") != NULL && is_vip("10.10.0.101"),
	    "old and its VIP are back");
	svc_teardown();
}

/* ---- real servers down and up, sorry server ---- */

static void
test_down_up(void)
{
	struct rs_conf r[] = { rs("a", "10.20.0.11", 1, FWD_DR), rs("b", "10.20.0.12", 1, FWD_DR) };
	struct vs_conf v[] = { vs("web", "10.10.0.100", "rr", r, 2) };
	struct config c = { .file = "test.conf", .vs = v, .nvs = 1 };
	struct service *s;
	struct dest *a, *b;

	v[0].has_sorry = 1;
	v[0].sorry = rs("sorry", "10.20.0.50", 1, FWD_NAT);

	UNIT_SECTION("real servers down and up, and the sorry server");
	if (!CHECK_EQ(svc_setup(&c), 0, "web with a, b and a sorry server"))
		return;
	s = lookup("10.10.0.100");
	a = find(s, "10.20.0.11");
	b = find(s, "10.20.0.12");
	CHECK(s->sorry != NULL && !svc_sorry_active(s) && s->ndests == 2,
	    "the sorry server is bound but not scheduled");
	CHECK(find(s, "10.20.0.50") == NULL, "dest_find never returns the sorry server");

	dest_set_down(a, true, false);
	CHECK(a->weight == 0 && (a->flags & DEST_F_DOWN) && a->conf_weight == 1,
	    "a down: weight 0, configured weight kept");
	CHECK_EQ(picks_of(s, b, 4), 4, "every new flow goes to b");
	CHECK(!svc_sorry_active(s), "the sorry server stays off while b is up");

	dest_set_down(b, true, true);
	CHECK((b->flags & DEST_F_REMOVED) && !in_dests(s, b) && find(s, "10.20.0.12") == b,
	    "b down with on_failure = remove: out of scheduling, still the service's");
	CHECK(svc_sorry_active(s) && s->sorry_ons == 1 && in_dests(s, s->sorry),
	    "every real server down: the sorry server is on");
	CHECK_EQ(picks_of(s, s->sorry, 3), 3, "new flows go to the sorry server");

	dest_set_down(b, false, true);
	CHECK(!(b->flags & (DEST_F_REMOVED | DEST_F_DOWN)) && b->weight == 1 && in_dests(s, b),
	    "b up again: scheduled again at its weight");
	CHECK(!svc_sorry_active(s) && s->sorry_offs == 1 && !in_dests(s, s->sorry) &&
	    s->ndests == 2, "the sorry server is off again");
	CHECK_EQ(picks_of(s, b, 4), 4, "new flows go to b, a still being down");

	dest_set_down(a, false, false);
	CHECK(a->weight == 1 && !(a->flags & DEST_F_DOWN), "a up: its weight back");
	CHECK_EQ(picks_of(s, a, 4), 2, "a and b share the new flows");

	/* vsradm changes the weight of a real server down: it stays 0 until it is up. */
	struct rs_conf ra = rs("a", "10.20.0.11", 5, FWD_DR);
	dest_set_down(a, true, false);
	CHECK_EQ(dest_edit(a, &ra, (char[64]){ 0 }, 64), 0, "edit a while down");
	CHECK(a->weight == 0 && a->conf_weight == 5, "a stays at 0, with 5 to come back to");
	dest_set_down(a, false, false);
	CHECK_EQ(a->weight, 5, "a up: weight 5");
	svc_teardown();
}

/* ---- thresholds (ipvsadm -x, -y), through the connection table ---- */

static void
test_thresholds(void)
{
	struct rs_conf r[] = { rs("a", "10.20.0.11", 1, FWD_DR), rs("b", "10.20.0.12", 1, FWD_DR) };
	struct vs_conf v[] = { vs("web", "10.10.0.100", "rr", r, 2) };
	struct config c = { .file = "test.conf", .vs = v, .nvs = 1 };
	struct conn_table *t = conn_table_new(64, 0);
	struct conn *conns[8];
	struct service *s;
	struct dest *a, *b;
	char err[64];

	r[0].upper = 4;
	r[0].lower = 2;
	UNIT_SECTION("thresholds");
	if (!CHECK(t != NULL, "a connection table") || !CHECK_EQ(svc_setup(&c), 0, "web: a (-x 4 -y 2), b"))
		return;
	s = lookup("10.10.0.100");
	a = find(s, "10.20.0.11");
	b = find(s, "10.20.0.12");
	CHECK(a->u_threshold == 4 && a->l_threshold == 2, "a's thresholds are set");
	for (unsigned i = 0; i < 4; i++) {
		struct conn_param cp = { .af = AF_INET, .proto = IPPROTO_TCP,
		    .caddr = addr_from_ip(htonl(0xc0000201u + i)), .cport = htons(1000),
		    .vaddr = s->addr, .vport = s->port, .daddr = a->addr, .dport = a->port,
		    .laddr = addr_from_ip(htonl(0xc0000201u + i)), .lport = htons(1000),
		    .flags = CONN_F_NOOUTPUT };
		conns[i] = conn_new(t, &cp, a, 0);
	}
	CHECK(a->flags & DEST_F_OVERLOAD, "a at its upper threshold (4 connections) is overloaded");
	CHECK_EQ(picks_of(s, b, 4), 4, "new flows go to b only");
	conn_expire_now(t, conns[0]);
	conn_expire_now(t, conns[1]);
	CHECK(a->flags & DEST_F_OVERLOAD, "at 2 connections, not below the lower threshold: still");
	conn_expire_now(t, conns[2]);
	CHECK(!(a->flags & DEST_F_OVERLOAD), "at 1, below the lower threshold: available again");
	CHECK_EQ(picks_of(s, a, 4), 2, "a takes its share again");

	/* An edit by vsradm changes the thresholds in place. */
	struct rs_conf ra = rs("a", "10.20.0.11", 1, FWD_DR);
	ra.upper = 100;
	CHECK(dest_edit(a, &ra, err, sizeof(err)) == 0 && a->u_threshold == 100 &&
	    a->l_threshold == 0, "dest_edit: upper 100, lower none");
	conn_expire_now(t, conns[3]);
	svc_teardown();
	conn_table_free(t);
}

/* ---- both families side by side ---- */

static void
test_families(void)
{
	struct rs_conf r4[] = { rs("a", "10.20.0.11", 1, FWD_NAT) };
	struct rs_conf r6[] = { rs("a6", "2001:db8:20::11", 1, FWD_NAT),
	    rs("b6", "2001:db8:20::12", 1, FWD_DR) };
	/* The same bytes as an IPv4 address: 0a0a:0064:: must not be 10.10.0.100. */
	struct vs_conf v[] = { vs("web", "10.10.0.100", "rr", r4, 1),
	    vs("web6", "2001:db8::100", "rr", r6, 2) };
	struct config c = { .file = "test.conf", .vs = v, .nvs = 2 };
	struct service *w4, *w6;
	char err[96] = "";

	UNIT_SECTION("an IPv4 and an IPv6 service side by side");
	nhooks = 0;
	if (!CHECK_EQ(svc_setup(&c), 0, "web (IPv4) and web6 (IPv6)"))
		return;
	w4 = lookup("10.10.0.100");
	w6 = lookup("2001:db8::100");
	CHECK(w4 != NULL && w6 != NULL && w4 != w6 && w6->af == AF_INET6, "each found by its VIP");
	CHECK(is_vip("2001:db8::100") && is_vip("[2001:db8::100]"), "the IPv6 VIP is a VIP");
	CHECK(!is_vip("a0a:64::") && lookup("a0a:64::") == NULL,
	    "an IPv6 address with the IPv4 VIP's bytes is not one");
	CHECK(!is_vip("2001:db8::101"), "2001:db8::101 is not a VIP");
	CHECK(find(w6, "2001:db8:20::12") != NULL && find(w6, "2001:db8:20::12")->af == AF_INET6,
	    "web6's real servers are IPv6 ones");
	CHECK_EQ(w6->ndests, 2, "web6 schedules both");
	CHECK_EQ(addr_mask_plen(AF_INET6, &w6->netmask), 128, "web6's netmask is /128");

	struct rs_conf r4in6 = rs("x", "10.20.0.12", 1, FWD_NAT);
	CHECK_EQ(dest_add(w6, &r4in6, err, sizeof(err)), -1, "an IPv4 real server in web6: refused");
	CHECK(strcmp(err, "Operation not supported with specified address family") == 0,
	    "with the kernel's words (%s)", err);
	struct rs_conf c6 = rs("c6", "2001:db8:20::13", 1, FWD_NAT);
	CHECK_EQ(dest_add(w6, &c6, err, sizeof(err)), 0, "an IPv6 one: added");

	/* A reload that drops web and keeps web6. */
	struct vs_conf nv[] = { vs("web6", "2001:db8::100", "rr", r6, 2) };
	struct config nc = { .file = "test.conf", .vs = nv, .nvs = 1 };
	nhooks = 0;
	svc_merge(&nc);
	CHECK(lookup("2001:db8::100") == w6 && w6->ndests == 2, "web6 kept in place, c6 gone");
	CHECK(hooked("10.10.0.100", 0) && nhooks == 1, "only 10.10.0.100 is withdrawn");
	svc_teardown();
}

/* ---- IPv4 and IPv6 mark 7: two services, two gateways ---- */

static struct vs_conf
mark_vs(const char *name, int af, uint32_t mark, struct rs_conf *r, unsigned n)
{
	struct vs_conf v = { .af = af, .fwmark = mark, .rs = r, .nrs = n, .line = 1 };

	snprintf(v.name, sizeof(v.name), "%s", name);
	snprintf(v.sched, sizeof(v.sched), "rr");
	v.addr = svc_mark_addr(af, mark);
	addr_plen_mask(af, af == AF_INET6 ? 128 : 32, &v.netmask);
	return v;
}

static void
test_marks(void)
{
	struct rs_conf r4[] = { rs("a", "10.20.0.11", 1, FWD_DR) };
	struct rs_conf r6[] = { rs("a6", "2001:db8:20::11", 1, FWD_DR) };
	struct vs_conf v[] = { mark_vs("m4", AF_INET, 7, r4, 1), mark_vs("m6", AF_INET6, 7, r6, 1) };
	struct config c = { .file = "test.conf", .vs = v, .nvs = 2 };
	union vsr_addr a4 = svc_mark_addr(AF_INET, 7), a6 = svc_mark_addr(AF_INET6, 7);
	struct service *m4, *m6;
	char t[ADDR_STRLEN];
	uint8_t mac[6];
	uint32_t mark;

	UNIT_SECTION("IPv4 and IPv6 mark 7: two services, two gateways");
	if (!CHECK_EQ(svc_setup(&c), 0, "m4 (IPv4 mark 7) and m6 (IPv6 mark 7)"))
		return;
	m4 = svc_lookup(AF_INET, 0, &a4, 0);
	m6 = svc_lookup(AF_INET6, 0, &a6, 0);
	CHECK(m4 != NULL && m6 != NULL && m4 != m6 && m6->af == AF_INET6,
	    "each found by its family and mark");
	if (m4 == NULL || m6 == NULL) {
		svc_teardown();
		return;
	}
	union vsr_addr g4 = svc_mark_gw(AF_INET, m4->mark_slot);
	union vsr_addr g6 = svc_mark_gw(AF_INET6, m6->mark_slot);
	CHECK(m4->mark_slot != m6->mark_slot, "each has a slot (table) of its own");
	const struct {
		const char *what;
		int         af;
		union vsr_addr addr;
		int         want;       /* the mark, or 0: not a gateway */
	} gw[] = {
		{ "m4's gateway (IPv4) names mark 7",            AF_INET,  g4, 7 },
		{ "m6's gateway (fe80::76:N) names mark 7",       AF_INET6, g6, 7 },
		{ "m4's slot asked in IPv6: no gateway",         AF_INET6,
		  svc_mark_gw(AF_INET6, m4->mark_slot), 0 },
		{ "m6's slot asked in IPv4: no gateway",         AF_INET,
		  svc_mark_gw(AF_INET, m6->mark_slot), 0 },
		{ "a free slot: no gateway",                     AF_INET6, svc_mark_gw(AF_INET6, 9), 0 },
		{ "an IPv6 VIP is no gateway",                   AF_INET6, ip("2001:db8::100").addr, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(gw); i++) {
		mark = 0;
		bool is = svc_mark_gw_lookup(gw[i].af, &gw[i].addr, &mark);
		CHECK(is == (gw[i].want != 0) && (!is || mark == (uint32_t)gw[i].want), "%s (%s)",
		    gw[i].what, addr_ntop(gw[i].af, &gw[i].addr, t, sizeof(t)));
	}
	addr_ntop(AF_INET6, &g6, t, sizeof(t));
	CHECK(strncmp(t, "fe80::76:", 9) == 0, "the IPv6 gateway is link-local (%s)", t);
	svc_mark_mac(7, mac);
	CHECK(svc_mac_mark(mac, &mark) && mark == 7, "the MAC names the mark back");
	svc_teardown();
	CHECK(!svc_mark_gw_lookup(AF_INET6, &g6, &mark), "after teardown no gateway is left");
}

/* ---- svc_del when the index cannot be rebuilt ---- */

static void
test_del_nomem(void)
{
	struct rs_conf r1[] = { rs("a", "10.20.0.11", 1, FWD_DR) };
	struct rs_conf r2[] = { rs("b", "10.20.0.12", 1, FWD_DR) };
	struct vs_conf v[] = { vs("web", "10.10.0.100", "rr", r1, 1),
	    vs("dns", "10.10.0.101", "rr", r2, 1) };
	struct config c = { .file = "test.conf", .vs = v, .nvs = 2 };
	struct service *dns, *found;
	char err[64] = "";

	UNIT_SECTION("svc_del without memory for the new index");
	if (!CHECK_EQ(svc_setup(&c), 0, "web and dns"))
		return;
	dns = lookup("10.10.0.101");
	nhooks = 0;
	calloc_fail = 1;
	CHECK_EQ(svc_del(dns, err, sizeof(err)), -1, "svc_del fails");
	calloc_fail = 0;
	CHECK(strcmp(err, "Memory allocation problem") == 0, "with ipvsadm's words (%s)", err);
	/* Either dns is gone from the index too, or it is still there, whole. */
	found = lookup("10.10.0.101");
	CHECK(found == NULL || listed(found), "the index points at no freed service");
	CHECK(is_vip("10.10.0.101") == (found != NULL),
	    "10.10.0.101 is a VIP exactly while a service has it");
	CHECK(lookup("10.10.0.100") != NULL, "web is still found");
	CHECK(found == dns && nhooks == 0 && dns->ndests == 1,
	    "dns is still there, whole, and its VIP was not withdrawn");
	CHECK_EQ(svc_del(dns, err, sizeof(err)), 0, "with memory, svc_del succeeds");
	CHECK(lookup("10.10.0.101") == NULL && hooked("10.10.0.101", 0), "dns is gone, its VIP too");
	svc_clear();
	CHECK(TAILQ_EMPTY(svc_list()) && lookup("10.10.0.100") == NULL && hooked("10.10.0.100", 0),
	    "svc_clear removes the rest");
	svc_teardown();
}

int
main(void)
{
	log_init("test_svc", 1, LOG_LVL_ERROR);
	svc_set_binder(bind_stub);
	svc_set_vip_hook(vip_hook);
	test_setup();
	test_merge();
	test_merge_back();
	test_down_up();
	test_thresholds();
	test_families();
	test_marks();
	test_del_nomem();
	return unit_done();
}
