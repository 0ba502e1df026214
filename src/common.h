/* common.h - enums shared by the config, the daemon and vsradm, and their names */
#ifndef VSR_COMMON_H
#define VSR_COMMON_H

#include <stddef.h>

#include <stdint.h>

/* Where vsrouted listens and vsradm connects unless told otherwise. */
#define VSR_DEFAULT_SOCKET "/run/vsrouted.sock"
/* Where the systemd unit puts it (its RuntimeDirectory); vsradm's second choice. */
#define VSR_UNIT_SOCKET    "/run/vsrouted/vsrouted.sock"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A 32-bit integer mixer: every input bit reaches every output bit, and the
 * low bits of the result depend on all of the input (unlike a
 * multiply-and-mask). Used by the hashing schedulers and the service index.
 */
static inline uint32_t
hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* LVS forwarding methods (ipvsadm -g -i -m, and --fullnat) */
enum fwd_method {
	FWD_DR,
	FWD_TUN,
	FWD_NAT,
	FWD_FULLNAT,
	FWD_MAX
};

enum tunnel_type {
	TUNNEL_IPIP,
	TUNNEL_GRE,
	TUNNEL_GUE,             /* UDP, draft-ietf-intarea-gue; IPVS's IP_VS_CONN_F_TUNNEL_TYPE_GUE */
	TUNNEL_MAX
};

/*
 * GUE's checksums (ipvsadm --tun-nocsum, --tun-csum, --tun-remcsum): no
 * UDP checksum; one; or one and the inner TCP/UDP checksum left for the
 * real server to complete (remote checksum offload, the GUE option).
 * The values are the control protocol's (enum ctl_csum).
 */
enum tunnel_csum {
	TUNNEL_CSUM_NONE,
	TUNNEL_CSUM_CSUM,
	TUNNEL_CSUM_REMCSUM,
	TUNNEL_CSUM_MAX
};

/* A director's part in a pair (role = ..., vsradm --role): role.c. */
enum vsr_role {
	ROLE_MASTER,            /* announces the VIPs and local addresses */
	ROLE_BACKUP,            /* announces nothing, forwards what reaches it */
	ROLE_MAX
};

/* The sync daemons that run (IPVS's IP_VS_STATE_MASTER, _BACKUP bits). */
#define SYNC_STATE_MASTER 0x1   /* sends the connections it forwards */
#define SYNC_STATE_BACKUP 0x2   /* receives and keeps them */
#define SYNC_STATE_BOTH   (SYNC_STATE_MASTER | SYNC_STATE_BACKUP)

/* "master", "backup"; -1 when unknown. */
const char *role_name(enum vsr_role r);
int role_parse(const char *s);
/* SYNC_STATE_* bits <-> "master", "backup", "both"; -1 when unknown. */
const char *sync_state_name(unsigned state);
int sync_state_parse(const char *s);

/*
 * How a fullnat real server learns the client's address (cliaddr.h):
 * client_address in the config, vsradm --client-address.
 */
enum client_addr {
	CA_NONE,
	CA_PROXY_V2,       /* a PROXY protocol v2 header before the stream, or each datagram */
	CA_TOA,            /* the TOA TCP option on the first packets */
	CA_MAX
};

/* config keyword ("dr") and ipvsadm listing word ("Route") */
const char *fwd_name(enum fwd_method f);
const char *fwd_listing_name(enum fwd_method f);
/* -1 when unknown */
int fwd_parse(const char *s);
const char *tunnel_name(enum tunnel_type t);
int tunnel_parse(const char *s);
/* "none", "csum", "remcsum": the config's word; -1 when unknown */
const char *tunnel_csum_name(enum tunnel_csum c);
int tunnel_csum_parse(const char *s);
/* "none", "proxy-v2", "toa": the config's, vsradm's and the listings' word; -1 when unknown */
const char *client_addr_name(enum client_addr c);
int client_addr_parse(const char *s);
/* "tcp"/"udp" -> IPPROTO_*; -1 when unknown */
int proto_parse(const char *s);
/* IPPROTO_TCP -> "TCP" (ipvsadm's spelling) */
const char *proto_upper_name(int proto);

/* Scheduler flags (ipvsadm -b): hash the port too / fall back to another dest. */
#define SVC_F_SH_FALLBACK 0x1
#define SVC_F_SH_PORT     0x2
#define SVC_F_MH_FALLBACK 0x4
#define SVC_F_MH_PORT     0x8
/* ipvsadm's flag-1..3 where the scheduler gives them no meaning: kept, as IPVS keeps them. */
#define SVC_F_SCHED1      0x10
#define SVC_F_SCHED2      0x20
#define SVC_F_SCHED3      0x40

/*
 * Scheduler flags (ipvsadm -b, the config's flags): "sh-fallback,sh-port"
 * <-> SVC_F_* bits. svc_flags_parse returns -1 on an unknown name;
 * svc_flags_format writes "" for none.
 */
int  svc_flags_parse(const char *list, unsigned *flags);
void svc_flags_format(unsigned flags, char *buf, size_t len);

/* "10.10.0.100:80" -> address (network order) and port (host order); with
 * NEEDPORT 0 a missing ":port" leaves *PORT as it is. 0, or -1 if malformed. */
int  addrport_parse(const char *s, uint32_t *addr, uint16_t *port, int needport);

#endif
