/* test_addr.c - addresses of either family: parsing, formatting, masks, the 32-bit fold */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "common.h"
#include "unit.h"

/* Text in, family, canonical text and (with a port) ipvsadm's ADDR:PORT out. */
static void
test_parse_format(void)
{
	static const struct {
		const char *what;
		const char *in;
		int         af;          /* 0: refused */
		const char *out;         /* addr_ntop */
	} cases[] = {
		{ "dotted IPv4",                  "10.10.0.100",        AF_INET,  "10.10.0.100" },
		{ "IPv6, compressed",             "2001:db8::1",        AF_INET6, "2001:db8::1" },
		{ "IPv6, upper case, zeroes",     "2001:DB8:0:0::0001", AF_INET6, "2001:db8::1" },
		{ "IPv6 in brackets",             "[2001:db8::1]",      AF_INET6, "2001:db8::1" },
		{ "v4-mapped stays IPv6",         "::ffff:10.0.0.1",    AF_INET6, "::ffff:10.0.0.1" },
		{ "IPv4 in brackets: no",         "[10.0.0.1]",         0,        NULL },
		{ "half a bracket: no",           "[2001:db8::1",       0,        NULL },
		{ "IPv4 with a port: no",         "10.0.0.1:80",        0,        NULL },
		{ "three IPv6 colons: no",        "2001:db8:::1",       0,        NULL },
		{ "a name: no",                   "localhost",          0,        NULL },
		{ "empty: no",                    "",                   0,        NULL },
	};
	char buf[ADDR_STRLEN];

	UNIT_SECTION("addr_pton, addr_ntop");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		union vsr_addr a;
		int af = -1, r = addr_pton(cases[i].in, &af, &a);

		if (cases[i].af == 0) {
			CHECK(r == -1 && addr_is_zero(&a), "%s: refused, nothing left", cases[i].what);
			continue;
		}
		CHECK(r == 0 && af == cases[i].af, "%s: %s", cases[i].what,
		    addr_family_name(cases[i].af));
		CHECK(strcmp(addr_ntop(af, &a, buf, sizeof(buf)), cases[i].out) == 0,
		    "%s: written back as %s (%s)", cases[i].what, cases[i].out, buf);
		if (af == AF_INET)
			CHECK(a.ip == inet_addr(cases[i].in) && a.w[1] == 0 && a.w[2] == 0 &&
			    a.w[3] == 0, "%s: IPVS's form, the first word and zeroes", cases[i].what);
	}
}

static void
test_addr_port(void)
{
	static const struct {
		const char *what;
		const char *in;
		int         needport;
		int         ok;
		const char *out;          /* addr_port_ntop, with the port parsed or 0 */
	} cases[] = {
		{ "IPv4:port",                    "10.0.0.1:80",         1, 1, "10.0.0.1:80" },
		{ "[IPv6]:port",                  "[2001:db8::1]:443",   1, 1, "[2001:db8::1]:443" },
		{ "[IPv6]:65535",                 "[::2]:65535",         1, 1, "[::2]:65535" },
		{ "IPv6 without brackets, port needed: no", "2001:db8::1:80", 1, 0, NULL },
		{ "IPv6 without brackets, no port", "2001:db8::1",       0, 1, "[2001:db8::1]:0" },
		{ "[IPv6] without a port",        "[2001:db8::1]",       0, 1, "[2001:db8::1]:0" },
		{ "[IPv6] without a port, needed: no", "[2001:db8::1]",  1, 0, NULL },
		{ "IPv4 alone",                   "10.0.0.1",            0, 1, "10.0.0.1:0" },
		{ "port 0: no",                   "10.0.0.1:0",          1, 0, NULL },
		{ "port 65536: no",               "[::1]:65536",         1, 0, NULL },
		{ "port with a sign: no",         "10.0.0.1:+80",        1, 0, NULL },
		{ "port empty: no",               "[::1]:",              1, 0, NULL },
		{ "junk after ]: no",             "[::1]x80",            1, 0, NULL },
		{ "[IPv4]:port: no",              "[10.0.0.1]:80",       1, 0, NULL },
	};
	char buf[ADDRPORT_STRLEN];

	UNIT_SECTION("addr_port_pton, addr_port_ntop (ipvsadm's [2001:db8::1]:80)");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		union vsr_addr a;
		uint16_t port = 0;
		int af = 0, r = addr_port_pton(cases[i].in, &af, &a, &port, cases[i].needport);

		if (!cases[i].ok) {
			CHECK(r == -1, "%s: refused", cases[i].what);
			continue;
		}
		CHECK(r == 0 && strcmp(addr_port_ntop(af, &a, port, buf, sizeof(buf)),
		    cases[i].out) == 0, "%s: %s (%s)", cases[i].what, cases[i].out, buf);
	}
}

static void
test_masks(void)
{
	static const struct {
		int         af;
		unsigned    plen;
		const char *mask;
	} cases[] = {
		{ AF_INET,  32,  "255.255.255.255" },
		{ AF_INET,  24,  "255.255.255.0" },
		{ AF_INET,  0,   "0.0.0.0" },
		{ AF_INET,  1,   "128.0.0.0" },
		{ AF_INET6, 128, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ AF_INET6, 64,  "ffff:ffff:ffff:ffff::" },
		{ AF_INET6, 56,  "ffff:ffff:ffff:ff00::" },
		{ AF_INET6, 33,  "ffff:ffff:8000::" },
		{ AF_INET6, 1,   "8000::" },
	};
	char buf[ADDR_STRLEN];
	union vsr_addr m, a, out;
	int af;

	UNIT_SECTION("prefix lengths and masks");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK(addr_plen_mask(cases[i].af, cases[i].plen, &m) == 0 &&
		    strcmp(addr_ntop(cases[i].af, &m, buf, sizeof(buf)), cases[i].mask) == 0,
		    "%s /%u is %s (%s)", addr_family_name(cases[i].af), cases[i].plen,
		    cases[i].mask, buf);
		CHECK_EQ(addr_mask_plen(cases[i].af, &m), cases[i].plen, "%s back to /%u",
		    cases[i].mask, cases[i].plen);
	}
	CHECK(addr_plen_mask(AF_INET, 33, &m) == -1 && addr_plen_mask(AF_INET6, 129, &m) == -1,
	    "/33 for IPv4, /129 for IPv6: refused");
	addr_pton("255.0.255.0", &af, &m);
	CHECK_EQ(addr_mask_plen(AF_INET, &m), (unsigned long long)-1, "255.0.255.0 is not contiguous");
	addr_pton("ffff::ffff", &af, &m);
	CHECK_EQ(addr_mask_plen(AF_INET6, &m), (unsigned long long)-1, "ffff::ffff is not contiguous");

	addr_pton("2001:db8:1:2:3:4:5:6", &af, &a);
	addr_plen_mask(AF_INET6, 48, &m);
	addr_and(&out, &a, &m);
	CHECK(strcmp(addr_ntop(AF_INET6, &out, buf, sizeof(buf)), "2001:db8:1::") == 0,
	    "2001:db8:1:2:3:4:5:6 & /48 is 2001:db8:1:: (%s)", buf);
	addr_pton("10.1.2.3", &af, &a);
	addr_plen_mask(AF_INET, 16, &m);
	addr_and(&out, &a, &m);
	CHECK(out.ip == inet_addr("10.1.0.0") && out.w[1] == 0 && out.w[3] == 0,
	    "10.1.2.3 & /16 is 10.1.0.0, the rest zero");
}

static void
test_unusable(void)
{
	static const struct {
		const char *in;
		const char *why;          /* NULL: usable */
	} cases[] = {
		{ "10.0.0.1",        NULL },
		{ "0.0.0.0",         "unspecified" },
		{ "255.255.255.255", "broadcast" },
		{ "239.1.1.1",       "multicast" },
		{ "2001:db8::1",     NULL },
		{ "::",              "unspecified" },
		{ "::1",             "loopback" },
		{ "ff02::1",         "multicast" },
		{ "fe80::1",         "link-local" },
		{ "::ffff:10.0.0.1", "v4-mapped: write the IPv4 address" },
	};

	UNIT_SECTION("addresses no service can have");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		union vsr_addr a;
		int af;
		const char *why;

		addr_pton(cases[i].in, &af, &a);
		why = addr_unusable(af, &a);
		CHECK(cases[i].why ? why != NULL && strcmp(why, cases[i].why) == 0 : why == NULL,
		    "%s: %s", cases[i].in, cases[i].why ? cases[i].why : "usable");
	}
}

/* The fold: IPv4 as it was (hash spreading unchanged), every bit of IPv6 counts. */
static void
test_fold(void)
{
	union vsr_addr a = { .w = { htonl(0x20010db8), 0, 0, htonl(1) } }, b;
	uint32_t f = addr_fold32(AF_INET6, &a);
	unsigned changed = 0;

	UNIT_SECTION("addr_fold32");
	CHECK_EQ(addr_fold32(AF_INET, &(union vsr_addr){ .ip = htonl(0x0a0a0064) }), 0x0a0a0064,
	    "IPv4: the address itself, host order");
	for (int bit = 0; bit < 128; bit++) {
		b = a;
		b.b[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		changed += addr_fold32(AF_INET6, &b) != f;
	}
	CHECK_EQ(changed, 128, "IPv6: each of the 128 bits changes the fold");
}

int
main(void)
{
	test_parse_format();
	test_addr_port();
	test_masks();
	test_unusable();
	test_fold();
	return unit_done();
}
