/* test_synproxy.c - SYN cookies: made and checked, their MSS, their age, their secret */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "synproxy.h"
#include "unit.h"

static struct synproxy_tuple
tuple(const char *c, uint16_t cport, const char *v, uint16_t vport)
{
	struct synproxy_tuple t = { .cport = htons(cport), .vport = htons(vport) };
	int af;

	addr_pton(c, &t.af, &t.caddr);
	addr_pton(v, &af, &t.vaddr);
	return t;
}

/* MSS values to the table's index: the largest entry not above what the client said. */
static void
test_mss(void)
{
	static const struct {
		const char *what;
		int af;
		unsigned mss, idx;
	} cases[] = {
		{ .what = "IPv4 1460 (Ethernet)",       .af = AF_INET,  .mss = 1460,  .idx = 3 },
		{ .what = "IPv4 65495 (loopback)",      .af = AF_INET,  .mss = 65495, .idx = 3 },
		{ .what = "IPv4 1452 (PPPoE)",          .af = AF_INET,  .mss = 1452,  .idx = 2 },
		{ .what = "IPv4 1400",                  .af = AF_INET,  .mss = 1400,  .idx = 1 },
		{ .what = "IPv4 536 (no option)",       .af = AF_INET,  .mss = 536,   .idx = 0 },
		{ .what = "IPv4 100: the least entry",  .af = AF_INET,  .mss = 100,   .idx = 0 },
		{ .what = "IPv6 1440 (Ethernet)",       .af = AF_INET6, .mss = 1440,  .idx = 3 },
		{ .what = "IPv6 1280",                  .af = AF_INET6, .mss = 1280,  .idx = 1 },
		{ .what = "IPv6 1220 (minimum MTU)",    .af = AF_INET6, .mss = 1220,  .idx = 0 },
	};

	UNIT_SECTION("the MSS table");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned idx = synproxy_mss_idx(cases[i].af, cases[i].mss);
		CHECK(idx == cases[i].idx, "%s: index %u (%u)", cases[i].what, idx,
		    synproxy_mss(cases[i].af, idx));
	}
}

/* A cookie checks out for its own SYN, at each MSS index, in both families. */
static void
test_roundtrip(void)
{
	struct synproxy_tuple t4 = tuple("192.0.2.1", 40000, "10.10.0.100", 80);
	struct synproxy_tuple t6 = tuple("2001:db8:c::1", 40000, "2001:db8:10::100", 80);
	uint32_t now = 123456;

	UNIT_SECTION("made and checked");
	synproxy_seed(0x0123456789abcdefull, 0xfedcba9876543210ull, now);
	for (unsigned idx = 0; idx < 4; idx++) {
		uint32_t c4 = synproxy_cookie(&t4, 1000 + idx, idx, now);
		uint32_t c6 = synproxy_cookie(&t6, 0xfffffff0u + idx, idx, now);
		CHECK_EQ(synproxy_cookie_check(&t4, 1000 + idx, c4, now), (int)idx,
		    "IPv4, MSS index %u: the cookie gives its index back", idx);
		CHECK_EQ(synproxy_cookie_check(&t6, 0xfffffff0u + idx, c6, now), (int)idx,
		    "IPv6, MSS index %u (ISN near the wrap): the same", idx);
	}
}

/* Anything of the flow changed, and the cookie fails. */
static void
test_tamper(void)
{
	struct synproxy_tuple t = tuple("192.0.2.1", 40000, "10.10.0.100", 80);
	uint32_t now = 5000, isn = 77777, c;
	static const struct {
		const char *what;
		int field;
	} cases[] = {
		{ .what = "another client address", .field = 0 },
		{ .what = "another client port",    .field = 1 },
		{ .what = "another VIP",            .field = 2 },
		{ .what = "another service port",   .field = 3 },
		{ .what = "another ISN",            .field = 4 },
		{ .what = "another MSS index bit",  .field = 5 },
		{ .what = "a bit of the MAC",       .field = 6 },
		{ .what = "another period's bits",  .field = 7 },
		{ .what = "the IPv6 family, same bytes", .field = 8 },
	};

	UNIT_SECTION("tampered");
	synproxy_seed(11, 22, now);
	c = synproxy_cookie(&t, isn, 2, now);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct synproxy_tuple u = t;
		uint32_t ui = isn, uc = c;

		switch (cases[i].field) {
		case 0: u.caddr.ip ^= htonl(1); break;
		case 1: u.cport ^= htons(1); break;
		case 2: u.vaddr.ip ^= htonl(0x100); break;
		case 3: u.vport ^= htons(0x8000); break;
		case 4: ui++; break;
		case 5: uc ^= 1u << 28; break;
		case 6: uc ^= 1u << 3; break;
		case 7: uc ^= 1u << 30; break;
		case 8: u.af = AF_INET6; break;
		}
		CHECK_EQ(synproxy_cookie_check(&u, ui, uc, now), -1, "%s: refused", cases[i].what);
	}
}

/* A cookie is good in its period and the next, not after; nor under another secret. */
static void
test_age(void)
{
	struct synproxy_tuple t = tuple("198.51.100.7", 5555, "10.10.0.100", 443);
	uint32_t start = SYNPROXY_PERIOD * 1000u + 5, c;
	static const struct {
		const char *what;
		uint32_t later;
		int good;
	} cases[] = {
		{ .what = "at once",                        .later = 0,                          .good = 1 },
		{ .what = "at the end of its period",       .later = SYNPROXY_PERIOD - 6,        .good = 1 },
		{ .what = "in the next period",             .later = SYNPROXY_PERIOD + 100,      .good = 1 },
		{ .what = "two periods on: expired",        .later = 2 * SYNPROXY_PERIOD,        .good = 0 },
		{ .what = "four periods on (same 2 bits)",  .later = 4 * SYNPROXY_PERIOD,        .good = 0 },
		{ .what = "five periods on",                .later = 5 * SYNPROXY_PERIOD,        .good = 0 },
	};

	UNIT_SECTION("expiry");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		synproxy_seed(3, 4, start);
		c = synproxy_cookie(&t, 42, 1, start);
		/* Time goes on: a SYN now and then makes each period's secret as it comes. */
		for (uint32_t p = start; p < start + cases[i].later; p += SYNPROXY_PERIOD / 2)
			(void)synproxy_cookie(&t, 1, 0, p);
		CHECK_EQ(synproxy_cookie_check(&t, 42, c, start + cases[i].later),
		    cases[i].good ? 1 : -1, "%s: %s", cases[i].what,
		    cases[i].good ? "accepted" : "refused");
	}

	UNIT_SECTION("secrets");
	synproxy_seed(3, 4, start);
	c = synproxy_cookie(&t, 42, 1, start);
	synproxy_seed(3, 5, start);
	CHECK_EQ(synproxy_cookie_check(&t, 42, c, start), -1,
	    "a cookie of another secret: refused");
	synproxy_init(start);
	CHECK_EQ(synproxy_cookie_check(&t, 42, c, start), -1,
	    "after a random secret replaced the fixed one: refused");
	uint32_t r1 = synproxy_cookie(&t, 42, 1, start);
	synproxy_init(start);
	uint32_t r2 = synproxy_cookie(&t, 42, 1, start);
	CHECK(r1 != r2 && synproxy_cookie_check(&t, 42, r2, start) == 1,
	    "two random secrets make two cookies (%08x, %08x), the last one good", r1, r2);
	/* A skipped period: the last secret is not its predecessor's, nothing older holds. */
	synproxy_seed(7, 8, start);
	c = synproxy_cookie(&t, 42, 1, start);
	CHECK_EQ(synproxy_cookie_check(&t, 42, c, start + 3 * SYNPROXY_PERIOD), -1,
	    "three periods with no SYN: refused");
}

/* A blind attacker's ACKs: how many of many random cookies pass (should be ~n / 2^28). */
static void
test_blind(void)
{
	struct synproxy_tuple t = tuple("203.0.113.9", 1234, "10.10.0.100", 80);
	uint32_t x = 2463534242u, now = 777;
	unsigned pass = 0, n = 1u << 20;

	UNIT_SECTION("guessing");
	synproxy_seed(9, 10, now);
	for (unsigned i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if (synproxy_cookie_check(&t, i, x, now) >= 0)
			pass++;
	}
	CHECK(pass <= 2, "%u of %u random (ISN, cookie) pairs pass (2^-28 each, 2 periods)",
	    pass, n);
}

int
main(void)
{
	test_mss();
	test_roundtrip();
	test_tamper();
	test_age();
	test_blind();
	return unit_done();
}
