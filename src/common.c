/* common.c - names of the shared enums, in one table each */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

static const struct {
	const char *key;
	const char *listing;
} fwd_names[FWD_MAX] = {
	[FWD_DR]      = { "dr",      "Route" },
	[FWD_TUN]     = { "tun",     "Tunnel" },
	[FWD_NAT]     = { "nat",     "Masq" },
	[FWD_FULLNAT] = { "fullnat", "FullNat" },
};

static const char *const tunnel_names[TUNNEL_MAX] = {
	[TUNNEL_IPIP] = "ipip",
	[TUNNEL_GRE]  = "gre",
	[TUNNEL_GUE]  = "gue",
};

static const char *const tunnel_csum_names[TUNNEL_CSUM_MAX] = {
	[TUNNEL_CSUM_NONE]    = "none",
	[TUNNEL_CSUM_CSUM]    = "csum",
	[TUNNEL_CSUM_REMCSUM] = "remcsum",
};

static const char *const role_names[ROLE_MAX] = {
	[ROLE_MASTER] = "master",
	[ROLE_BACKUP] = "backup",
};

static const char *const sync_state_names[SYNC_STATE_BOTH + 1] = {
	[0]                 = "none",
	[SYNC_STATE_MASTER] = "master",
	[SYNC_STATE_BACKUP] = "backup",
	[SYNC_STATE_BOTH]   = "both",
};

const char *
role_name(enum vsr_role r)
{
	return (unsigned)r < ROLE_MAX ? role_names[r] : "?";
}

int
role_parse(const char *s)
{
	for (int i = 0; i < ROLE_MAX; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

const char *
sync_state_name(unsigned state)
{
	return state < ARRAY_SIZE(sync_state_names) ? sync_state_names[state] : "?";
}

int
sync_state_parse(const char *s)
{
	for (unsigned i = SYNC_STATE_MASTER; i < ARRAY_SIZE(sync_state_names); i++)
		if (strcmp(s, sync_state_names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *const client_addr_names[CA_MAX] = {
	[CA_NONE]     = "none",
	[CA_PROXY_V2] = "proxy-v2",
	[CA_TOA]      = "toa",
};

const char *
fwd_name(enum fwd_method f)
{
	return (unsigned)f < FWD_MAX ? fwd_names[f].key : "?";
}

const char *
fwd_listing_name(enum fwd_method f)
{
	return (unsigned)f < FWD_MAX ? fwd_names[f].listing : "?";
}

int
fwd_parse(const char *s)
{
	for (int i = 0; i < FWD_MAX; i++)
		if (strcasecmp(s, fwd_names[i].key) == 0)
			return i;
	return -1;
}

const char *
tunnel_name(enum tunnel_type t)
{
	return (unsigned)t < TUNNEL_MAX ? tunnel_names[t] : "?";
}

int
tunnel_parse(const char *s)
{
	for (int i = 0; i < TUNNEL_MAX; i++)
		if (strcasecmp(s, tunnel_names[i]) == 0)
			return i;
	return -1;
}

const char *
tunnel_csum_name(enum tunnel_csum c)
{
	return (unsigned)c < TUNNEL_CSUM_MAX ? tunnel_csum_names[c] : "?";
}

int
tunnel_csum_parse(const char *s)
{
	for (int i = 0; i < TUNNEL_CSUM_MAX; i++)
		if (strcasecmp(s, tunnel_csum_names[i]) == 0)
			return i;
	return -1;
}

const char *
client_addr_name(enum client_addr c)
{
	return (unsigned)c < CA_MAX ? client_addr_names[c] : "?";
}

int
client_addr_parse(const char *s)
{
	for (int i = 0; i < CA_MAX; i++)
		if (strcasecmp(s, client_addr_names[i]) == 0)
			return i;
	return -1;
}

int
proto_parse(const char *s)
{
	if (strcasecmp(s, "tcp") == 0)
		return IPPROTO_TCP;
	if (strcasecmp(s, "udp") == 0)
		return IPPROTO_UDP;
	return -1;
}

const char *
proto_upper_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:  return "TCP";
	case IPPROTO_UDP:  return "UDP";
	case IPPROTO_ICMP: return "ICMP";
	default:           return "?";
	}
}

static const struct {
	const char *name;
	unsigned    flag;
} svc_flag_names[] = {
	{ "sh-fallback", SVC_F_SH_FALLBACK },
	{ "sh-port",     SVC_F_SH_PORT },
	{ "mh-fallback", SVC_F_MH_FALLBACK },
	{ "mh-port",     SVC_F_MH_PORT },
};

int
svc_flags_parse(const char *list, unsigned *flags)
{
	char buf[128], *tok, *save;

	*flags = 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(svc_flag_names); i++)
			if (strcmp(tok, svc_flag_names[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(svc_flag_names))
			return -1;
		*flags |= svc_flag_names[i].flag;
	}
	return 0;
}

void
svc_flags_format(unsigned flags, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(svc_flag_names); i++)
		if ((flags & svc_flag_names[i].flag) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
			    svc_flag_names[i].name);
}

int
addrport_parse(const char *s, uint32_t *addr, uint16_t *port, int needport)
{
	char buf[64], *colon, *end;
	struct in_addr a;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*addr = a.s_addr;
	if (colon == NULL)
		return needport ? -1 : 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p == 0 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	return 0;
}
