/* addr.c - an IP address of either family: the type, its parser, formatter, mask and hash */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "common.h"

const char *
addr_family_name(int af)
{
	return af == AF_INET6 ? "IPv6" : af == AF_INET ? "IPv4" : "?";
}

int
addr_plen_mask(int af, unsigned plen, union vsr_addr *mask)
{
	unsigned bits = addr_len(af) * 8;

	if (plen > bits)
		return -1;
	memset(mask, 0, sizeof(*mask));
	for (unsigned i = 0; i < 4 && plen > 0; i++) {
		unsigned n = plen > 32 ? 32 : plen;
		mask->w[i] = htonl(n == 32 ? 0xffffffffu : ~(0xffffffffu >> n));
		plen -= n;
	}
	return 0;
}

int
addr_mask_plen(int af, const union vsr_addr *mask)
{
	unsigned words = addr_len(af) / 4, plen = 0;
	bool ended = false;

	for (unsigned i = 0; i < words; i++) {
		uint32_t m = ntohl(mask->w[i]), inv = ~m;
		if (ended && m != 0)
			return -1;
		if (inv & (inv + 1))    /* not 1...10...0 */
			return -1;
		unsigned n = 0;
		while (n < 32 && (m & (0x80000000u >> n)))
			n++;
		plen += n;
		if (n < 32)
			ended = true;
	}
	return (int)plen;
}

int
addr_pton(const char *s, int *af, union vsr_addr *a)
{
	char buf[ADDR_STRLEN + 2];
	size_t n = strlen(s);

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->in) == 1) {
		*af = AF_INET;
		return 0;
	}
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	/* inet_pton takes "::ffff:1.2.3.4" too: a v4-mapped IPv6 address, kept as such. */
	if (inet_pton(AF_INET6, s, &a->in6) == 1) {
		*af = AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return -1;
}

const char *
addr_ntop(int af, const union vsr_addr *a, char *buf, size_t len)
{
	if (inet_ntop(af == AF_INET6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *
addr_port_ntop(int af, const union vsr_addr *a, uint16_t port, char *buf, size_t len)
{
	char s[ADDR_STRLEN];

	addr_ntop(af, a, s, sizeof(s));
	snprintf(buf, len, af == AF_INET6 ? "[%s]:%u" : "%s:%u", s, port);
	return buf;
}

int
addr_port_pton(const char *s, int *af, union vsr_addr *a, uint16_t *port, int needport)
{
	char buf[ADDRPORT_STRLEN + 1], *p = NULL, *end;
	unsigned long v;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (close == NULL)
			return -1;
		if (close[1] == ':')
			p = close + 2;
		else if (close[1] != '\0')
			return -1;
		close[1] = '\0';
		if (addr_pton(buf, af, a) < 0 || *af != AF_INET6)
			return -1;
	} else {
		char *colon = strchr(buf, ':');
		/* One colon: IPv4 and a port. More: an IPv6 address without brackets, no port. */
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			*colon = '\0';
			p = colon + 1;
			if (addr_pton(buf, af, a) < 0 || *af != AF_INET)
				return -1;
		} else if (addr_pton(buf, af, a) < 0) {
			return -1;
		}
	}
	if (p == NULL)
		return needport ? -1 : 0;
	if (*p < '0' || *p > '9')
		return -1;
	v = strtoul(p, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

socklen_t
addr_sockaddr(int af, const union vsr_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = a->in6;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_addr = a->in;
	s4->sin_port = htons(port);
	return sizeof(*s4);
}

const char *
addr_unusable(int af, const union vsr_addr *a)
{
	if (af == AF_INET) {
		uint32_t h = ntohl(a->ip);
		if (h == 0)
			return "unspecified";
		if (h == 0xffffffffu)
			return "broadcast";
		if ((h >> 28) == 0xe)
			return "multicast";
		return NULL;
	}
	if (addr_is_zero(a))
		return "unspecified";
	if (IN6_IS_ADDR_MULTICAST(&a->in6))
		return "multicast";
	if (IN6_IS_ADDR_LOOPBACK(&a->in6))
		return "loopback";
	if (IN6_IS_ADDR_LINKLOCAL(&a->in6))
		return "link-local";
	if (IN6_IS_ADDR_V4MAPPED(&a->in6))
		return "v4-mapped: write the IPv4 address";
	return NULL;
}

uint32_t
addr_fold32(int af, const union vsr_addr *a)
{
	if (af != AF_INET6)
		return ntohl(a->ip);
	return hash32(ntohl(a->w[0]) ^ hash32(ntohl(a->w[1]) ^ hash32(ntohl(a->w[2]) ^
	    hash32(ntohl(a->w[3])))));
}
