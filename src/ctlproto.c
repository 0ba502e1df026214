/* ctlproto.c - the control protocol's names and value syntax (ctlproto.h), for vsrouted and vsradm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ctlproto.h"

const char *const ctl_req_names[CTL_REQ_MAX] = {
#define X(id, name) [CTL_REQ_##id] = name,
	CTL_REQUESTS(X)
#undef X
};

const char *const ctl_opt_names[CTL_OPT_MAX] = {
#define X(id, name) [CTL_OPT_##id] = name,
	CTL_OPTIONS(X)
#undef X
};

const struct vsr_counter_name vsr_counter_names[VSR_C_MAX] = {
#define X(id, dump, metric, type, svc, help) [VSR_C_##id] = { dump, metric, type, help, svc },
	VSR_COUNTERS(X)
#undef X
};

/* A service's counters are the first VSR_C_NSVC: its svc line carries those. */
#define X(id, dump, metric, type, svc, help) \
	_Static_assert(!(svc) || (int)VSR_C_##id < (int)VSR_C_NSVC, "service counters come first: " #id);
VSR_COUNTERS(X)
#undef X

const char *const ctl_kind_names[CTL_KIND_MAX] = {
	[CTL_KIND_TCP]     = "tcp",
	[CTL_KIND_UDP]     = "udp",
	[CTL_KIND_SCTP]    = "sctp",
	[CTL_KIND_FWMARK]  = "fwmark",
	[CTL_KIND_FWMARK6] = "fwmark6",
};

const char *const ctl_tun_names[CTL_TUN_MAX] = {
	[CTL_TUN_IPIP] = "ipip",
	[CTL_TUN_GUE]  = "gue",
	[CTL_TUN_GRE]  = "gre",
};

const char *const ctl_csum_names[CTL_CSUM_MAX] = {
	[CTL_CSUM_NO]     = "nocsum",
	[CTL_CSUM_YES]    = "csum",
	[CTL_CSUM_REMOTE] = "remcsum",
};

int
ctl_lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

bool
ctl_value_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* The address through addr.c's parser and formatter, the daemon's and the tests'. */
int
ctl_addr_parse(const char *s, struct ctl_addr *a)
{
	char buf[CTL_ADDR_STRLEN], *port, *end;
	union vsr_addr x;
	unsigned long p;
	int af;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	memset(a, 0, sizeof(*a));
	if (buf[0] == '[') {
		/* "[IPv6]:PORT", the address kept in its brackets for addr_pton */
		char *close = strchr(buf, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		close[1] = '\0';
		port = close + 2;
		if (addr_pton(buf, &af, &x) < 0 || af != AF_INET6)
			return -1;
	} else {
		char *colon = strchr(buf, ':');
		if (colon == NULL)
			return -1;
		*colon = '\0';
		port = colon + 1;
		if (addr_pton(buf, &af, &x) < 0 || af != AF_INET)
			return -1;
	}
	if (*port < '0' || *port > '9')
		return -1;
	p = strtoul(port, &end, 10);
	if (*end != '\0' || p > 65535)
		return -1;
	a->af = af;
	memcpy(&a->u, &x, addr_len(af));
	a->port = (uint16_t)p;
	return 0;
}

const char *
ctl_addr_format(const struct ctl_addr *a, char *buf, size_t len)
{
	union vsr_addr x = { .w = { 0 } };

	memcpy(&x, &a->u, addr_len(a->af));
	return addr_port_ntop(a->af, &x, a->port, buf, len);
}

/* The names of the three flags for a scheduler: its own for sh and mh. */
static const char *const *
sched_flag_names(const char *sched)
{
	static const char *const sh[3] = { "sh-fallback", "sh-port", NULL };
	static const char *const mh[3] = { "mh-fallback", "mh-port", NULL };
	static const char *const other[3] = { "flag-1", "flag-2", "flag-3" };

	if (strcmp(sched, "sh") == 0)
		return sh;
	if (strcmp(sched, "mh") == 0)
		return mh;
	return other;
}

int
ctl_sched_flags_parse(const char *sched, char *list, unsigned *bits, const char **bad)
{
	static const char *const generic[3] = { "flag-1", "flag-2", "flag-3" };
	static const struct { const char *name; const char *sched; unsigned bit; } named[] = {
		{ "sh-fallback", "sh", CTL_SF_1 },
		{ "sh-port",     "sh", CTL_SF_2 },
		{ "mh-fallback", "mh", CTL_SF_1 },
		{ "mh-port",     "mh", CTL_SF_2 },
	};
	char *save, *t;

	*bits = 0;
	*bad = list;
	if ((t = strtok_r(list, ",", &save)) == NULL)
		return -1;
	for (; t; t = strtok_r(NULL, ",", &save)) {
		size_t i;
		*bad = t;
		for (i = 0; i < 3; i++)
			if (strcmp(t, generic[i]) == 0)
				break;
		if (i < 3) {
			*bits |= 1u << i;
			continue;
		}
		for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
			if (strcmp(t, named[i].name) == 0)
				break;
		if (i == sizeof(named) / sizeof(named[0]))
			return -1;
		*bits |= named[i].bit;
		if (strcmp(sched, named[i].sched) != 0)
			return -2;
	}
	return 0;
}

void
ctl_sched_flags_format(const char *sched, unsigned bits, char *buf, size_t len)
{
	const char *const *names = sched_flag_names(sched);
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 3; i++)
		if ((bits & (1u << i)) && names[i] && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", names[i]);
}
