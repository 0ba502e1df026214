/* common.c - names of the shared enums, in one table each */
#include <netinet/in.h>
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
