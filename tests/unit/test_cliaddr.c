/* test_cliaddr.c - the client's address behind fullnat: PROXY v2 headers and TOA options, byte for byte */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "cliaddr.h"
#include "common.h"
#include "unit.h"

/* The expected bytes, written from proxy-protocol.txt 2.2 and LVS's TOA layout. */
struct build_case {
	const char *what;
	int         af, proto;
	const char *src, *dst;
	uint16_t    sport, dport;     /* host order */
	size_t      want_len;
	uint8_t     want[64];
};

static const struct build_case ppv2_cases[] = {
	{ "TCP over IPv4", AF_INET, IPPROTO_TCP, "192.0.2.1", "10.10.0.100", 40000, 80, 28,
	    { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	      0x21, 0x11, 0x00, 0x0c,
	      192, 0, 2, 1, 10, 10, 0, 100, 0x9c, 0x40, 0x00, 0x50 } },
	{ "UDP over IPv4", AF_INET, IPPROTO_UDP, "10.10.0.1", "10.10.0.100", 1, 65535, 28,
	    { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	      0x21, 0x12, 0x00, 0x0c,
	      10, 10, 0, 1, 10, 10, 0, 100, 0x00, 0x01, 0xff, 0xff } },
	{ "TCP over IPv6", AF_INET6, IPPROTO_TCP, "2001:db8::1", "2001:db8:0:1::100", 443, 8443,
	    52,
	    { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	      0x21, 0x21, 0x00, 0x24,
	      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	      0x01, 0xbb, 0x20, 0xfb } },
	{ "UDP over IPv6", AF_INET6, IPPROTO_UDP, "fd00::a", "fd00::b", 5353, 53, 52,
	    { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	      0x21, 0x22, 0x00, 0x24,
	      0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
	      0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
	      0x14, 0xe9, 0x00, 0x35 } },
	{ "no header for another family", AF_UNIX, IPPROTO_TCP, "192.0.2.1", "10.10.0.100", 1, 2,
	    0, { 0 } },
	{ "no header for another protocol", AF_INET, IPPROTO_ICMP, "192.0.2.1", "10.10.0.100", 1,
	    2, 0, { 0 } },
};

static const struct build_case toa_cases[] = {
	{ "IPv4: kind 254, length 8, port, address", AF_INET, IPPROTO_TCP, "192.0.2.1", NULL,
	    40000, 0, 8, { 254, 8, 0x9c, 0x40, 192, 0, 2, 1 } },
	{ "IPv6: kind 254, length 20", AF_INET6, IPPROTO_TCP, "2001:db8::1", NULL, 1234, 0, 20,
	    { 254, 20, 0x04, 0xd2, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	      1 } },
	{ "nothing for another family", AF_UNIX, IPPROTO_TCP, "192.0.2.1", NULL, 1, 0, 0, { 0 } },
};

static void
addr_of(int af, const char *s, uint8_t *a)
{
	memset(a, 0, 16);
	if (inet_pton(af == AF_INET6 ? AF_INET6 : AF_INET, s, a) != 1)
		memset(a, 0xee, 16);
}

int
main(void)
{
	UNIT_SECTION("ppv2_build");
	for (size_t i = 0; i < ARRAY_SIZE(ppv2_cases); i++) {
		const struct build_case *c = &ppv2_cases[i];
		uint8_t out[PPV2_MAX + 8], s[16], d[16];
		size_t n;

		memset(out, 0xaa, sizeof(out));
		addr_of(c->af, c->src, s);
		addr_of(c->af, c->dst, d);
		n = ppv2_build(out, c->af, c->proto, s, htons(c->sport), d, htons(c->dport));
		CHECK(n == c->want_len && memcmp(out, c->want, n) == 0, "%s (%zu bytes)", c->what,
		    n);
		CHECK(out[n ? n : 0] == 0xaa && out[PPV2_MAX] == 0xaa,
		    "%s: nothing written past its length", c->what);
		if (n)
			CHECK_EQ(n, PPV2_FIXED_LEN + (size_t)(out[14] << 8 | out[15]),
			    "%s: the length field counts what follows the fixed part", c->what);
	}

	UNIT_SECTION("toa_build");
	for (size_t i = 0; i < ARRAY_SIZE(toa_cases); i++) {
		const struct build_case *c = &toa_cases[i];
		uint8_t out[TOA_MAX + 8], a[16];
		size_t n;

		memset(out, 0xaa, sizeof(out));
		addr_of(c->af, c->src, a);
		n = toa_build(out, c->af, a, htons(c->sport));
		CHECK(n == c->want_len && memcmp(out, c->want, n) == 0 && out[n] == 0xaa,
		    "%s (%zu bytes)", c->what, n);
		if (n)
			CHECK(n % 4 == 0 && out[1] == n, "%s: its length byte, a multiple of 4",
			    c->what);
	}
	return unit_done();
}
