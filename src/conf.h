/* conf.h - vsrouted.conf: parse and validate into a plain structure */
#ifndef VSR_CONF_H
#define VSR_CONF_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "common.h"
#include "defence.h"

#define CONF_NAME_MAX   64     /* virtual_server / real_server titles */
#define CONF_SCHED_MAX  16
#define CONF_TUN_MTU_MIN 68     /* tunnel_mtu: RFC 791's smallest MTU */
#define CONF_TUN_MTU_MAX 65515  /* tunnel_mtu: 65535 less GRE's 20 + 4 (rounded to IPIP's 20) */

/* check { }: a health check of a real server (check.c). */
enum check_type {
	CHECK_NONE,             /* no check: always healthy */
	CHECK_TCP,              /* a TCP connect */
	CHECK_HTTP,             /* HTTP/1.0 GET, status line compared */
	CHECK_EXEC,             /* a command, exit 0 = healthy */
	CHECK_UDP,              /* a datagram sent; an ICMP port unreachable or no expected reply fails */
};

/* on_failure: what `fall` failures in a row do to a real server. */
enum check_fail {
	CHECK_FAIL_INHIBIT,     /* weight 0, stays in the service (default) */
	CHECK_FAIL_REMOVE,      /* leaves the service's scheduling (ipvsadm -d) until it recovers */
};

#define CONF_CHECK_STR 256

struct check_conf {
	enum check_type  type;
	int              line;       /* of the check section that set the type */
	unsigned         interval;   /* seconds between checks, default 2 */
	unsigned         timeout;    /* seconds a check may take, default 1 */
	unsigned         rise;       /* successes in a row to go up, default 2 */
	unsigned         fall;       /* failures in a row to go down, default 3 */
	uint16_t         port;       /* host order; 0 = the real server's port */
	int              expect;     /* http: status code, default 200 */
	char             path[CONF_CHECK_STR];     /* http: default "/" */
	char             host[CONF_CHECK_STR];     /* http: Host header, default the address */
	char             command[CONF_CHECK_STR];  /* exec: program (absolute path) and arguments */
	int              command_line;             /* exec: of the command option that set it */
	enum check_fail  on_failure; /* default CHECK_FAIL_INHIBIT */
	uint16_t         payload_len;              /* udp: bytes of payload, 0 = not set */
	uint16_t         reply_len;                /* udp: bytes of reply, 0 = any answer or none */
	uint8_t          payload[CONF_CHECK_STR];  /* udp: the datagram sent, escapes decoded */
	uint8_t          reply[CONF_CHECK_STR];    /* udp: what the answer must start with */
};

struct rs_conf {
	char             name[CONF_NAME_MAX];
	int              line;       /* line of the real_server block in the file */
	int              af;         /* AF_INET or AF_INET6: the service's */
	union vsr_addr   addr;
	uint16_t         port;       /* host order; the service port when not set */
	int              weight;     /* 0 .. 65535, default 1 */
	uint32_t         upper;      /* connection threshold (ipvsadm -x), 0 = none */
	uint32_t         lower;      /* back below this (ipvsadm -y), 0 = 3/4 of upper */
	enum fwd_method  fwd;        /* the service's default unless overridden */
	enum tunnel_type tunnel;     /* tun: the service's unless overridden */
	unsigned         tunnel_mtu; /* tun: inner MTU, 0 = from the route */
	enum client_addr client_addr;/* fullnat: the service's unless overridden; else CA_NONE */
	bool             tunnel_keyed; /* tun, gre: a key in each packet (RFC 2890) */
	uint32_t         tunnel_key; /* host order */
	uint16_t         tunnel_port; /* tun, gue: the UDP port, host order; 0 = none */
	enum tunnel_csum tunnel_csum; /* tun, gue: --tun-nocsum, --tun-csum, --tun-remcsum */
	struct check_conf check;     /* the service's check, with this one's overrides */
};

#define CONF_MADDR_MAX 16   /* announce_address entries of a firewall-mark service */

struct vs_conf {
	char             name[CONF_NAME_MAX];
	int              line;       /* line of the virtual_server block */
	int              af;         /* AF_INET or AF_INET6, its real servers' too */
	union vsr_addr   addr;
	uint16_t         port;       /* host order, 1 .. 65535 */
	int              proto;      /* IPPROTO_TCP or IPPROTO_UDP */
	char             sched[CONF_SCHED_MAX];  /* default "wlc" */
	unsigned         persistent; /* seconds, 0 = off */
	bool             ops;        /* one-packet scheduling (UDP) */
	/*
	 * A firewall-mark service (fwmark = N): proto and port 0, addr the
	 * mark as IPVS keys it (svc_mark_addr), and the addresses it answers
	 * for (announce_address).
	 */
	uint32_t         fwmark;
	struct vsr_ip    maddr[CONF_MADDR_MAX];
	unsigned         nmaddr;
	unsigned         conn_limit; /* live flows at most, 0 = none */
	bool             synproxy;   /* TCP, nat or fullnat: SYN cookies (synproxy.h); default no */
	unsigned         flags;      /* SVC_F_* scheduler flags (common.h) */
	unsigned         mh_size;    /* mh lookup table size, a prime; default 65537 */
	union vsr_addr   netmask;    /* default all ones (/32, /128) */
	enum fwd_method  fwd;        /* default FWD_DR */
	enum tunnel_type tunnel;     /* default TUNNEL_IPIP */
	unsigned         tunnel_mtu; /* tun: inner MTU, 0 = from the route */
	enum client_addr client_addr;/* for its fullnat real servers; default CA_NONE */
	bool             tunnel_keyed; /* tun, gre: tunnel_key set */
	uint32_t         tunnel_key; /* host order */
	uint16_t         tunnel_port; /* tun, gue: the UDP port, host order; 0 = none */
	enum tunnel_csum tunnel_csum; /* tun, gue: none, a UDP checksum, or remote checksum offload */
	struct check_conf check;     /* for each real server; type CHECK_NONE = none */
	struct rs_conf  *rs;
	unsigned         nrs;
	int              has_sorry;  /* a sorry_server section */
	struct rs_conf   sorry;      /* it, as a real server of weight 1 named "sorry" */
};

/* metrics_compat: metric families of another exporter, beside vsrouted_*. */
enum metrics_compat {
	METRICS_COMPAT_NONE,
	METRICS_COMPAT_NODE_IPVS,  /* node_exporter's ipvs collector: node_ipvs_* */
};

/*
 * sync { }: the connection sync daemons (sync.c), IPVS's --start-daemon.
 * Addresses are 16 bytes, network order, IPv4 in the first four.
 */
struct sync_conf {
	unsigned         state;          /* SYNC_STATE_* bits (common.h); 0: no section */
	int              line;           /* of the section */
	char             ifname[IFNAMSIZ];  /* where messages are sent and received */
	unsigned         syncid;         /* 0..255, default 0 (a backup then takes any) */
	int              af;             /* the group's or the peer's family */
	uint8_t          group[16];      /* default 224.0.0.81; the peer when unicast */
	bool             unicast;        /* peer = ADDRESS instead of a group */
	uint16_t         port;           /* host order, default 8848 */
	unsigned         ttl;            /* 1..255, default 1 */
	unsigned         maxlen;         /* message bytes; 0: from the interface's MTU */
	/* When a master sends a connection: IPVS's sysctls of these names. */
	unsigned         threshold;      /* sync_threshold's first: at this packet, default 3 */
	unsigned         period;         /* and its second: then every PERIOD, default 50 */
	unsigned         refresh_period; /* sync_refresh_period, seconds, default 0 */
	unsigned         retries;        /* sync_retries, 0..3, default 0 */
};

#define CONF_WORKERS_MAX 16  /* workers: TAP queues and their threads */
#define CONF_USER_MAX 33   /* a user name: 1..32 characters */

struct config {
	char            *file;           /* path it was read from */
	char             tap[IFNAMSIZ];  /* default "vsr0" */
	char           (*announce)[IFNAMSIZ];
	unsigned         nannounce;
	int              announce_line;  /* for errors found after the parse */
	uint32_t         conn_max;       /* default 1048576; 1 .. 2^26 */
	struct defence_conf defence;     /* drop_entry, drop_packet, secure_tcp, ... */
	unsigned         workers;        /* TAP queues, one thread each; default 1; 1 .. 16 */
	bool             offload;        /* TAP offloads (GSO, partial checksums); default true */
	bool             sloppy_tcp;     /* a TCP segment without entry may make one; default no */
	bool             sloppy_udp;     /* said for symmetry: UDP is always scheduled (conf.c) */
	unsigned         drain_timeout;  /* seconds forwarding after the withdraw on SIGTERM; 0 */
	unsigned         frag_timeout;   /* fragment_timeout: seconds a fragment waits for its first; 30 */
	uint32_t         frag_memory;    /* fragment_memory: bytes of fragments waiting; 4 MiB */
	uint32_t         announce_table; /* routing table of the announce routes; 0 = none */
	struct vsr_ip   *laddr;          /* local_address: the fullnat pool, both families */
	unsigned         nladdr;
	char             control_socket[108];  /* "" = the -s option or its default */
	char             user[CONF_USER_MAX];  /* "" = stay root; looked up at start */
	char             check_user[CONF_USER_MAX]; /* exec checks run as; "" = user, else "vsrouted" */
	int              check_user_line;      /* its line, 0 when not set */
	char             control_group[CONF_USER_MAX]; /* "" = socket mode 0600 */
	char             control_group_read[CONF_USER_MAX]; /* "" = none; listings only (ctl.h) */
	int              control_group_line, control_group_read_line; /* 0 when not set */
	uint32_t         metrics_addr;   /* metrics = ADDR:PORT, network order */
	uint16_t         metrics_port;   /* host order; 0 = no metrics */
	enum metrics_compat metrics_compat; /* other exporters' families too; default none */
	unsigned         timeout_tcp;    /* seconds; defaults 900 / 120 / 300 */
	unsigned         timeout_tcp_fin;
	unsigned         timeout_udp;
	enum vsr_role    role;           /* default ROLE_MASTER */
	struct sync_conf sync;
	struct vs_conf  *vs;
	unsigned         nvs;
};

/*
 * Read and validate FILE. On success returns a new config. On failure
 * returns NULL after logging every error found as "FILE:LINE: message"
 * through log_errx(); nothing on the host is touched either way.
 */
struct config *conf_load(const char *file);
/* CONF has an address of family AF: a VIP, a real or sorry server, a local address. */
bool conf_has_af(const struct config *conf, int af);
/* "tcp", "http", "udp", "exec" ("none" for CHECK_NONE): logs, errors. */
const char *check_type_name(enum check_type t);
/* S is a name the kernel takes for an interface (dev_valid_name's rule). */
bool conf_ifname_ok(const char *s);
void conf_free(struct config *conf);

#endif
