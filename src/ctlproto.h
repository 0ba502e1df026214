/* ctlproto.h - the control protocol's vocabulary, written once for vsrouted (ctl.c) and vsradm */
#ifndef VSR_CTLPROTO_H
#define VSR_CTLPROTO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The protocol (vsradm(8), CONTROL PROTOCOL). A Unix stream socket. The
 * client sends one request per line, at most CTL_LINE_MAX bytes with the
 * newline: a NAME (CTL_REQUESTS) and its arguments, separated by single
 * spaces. A line with a control character (tab included) or DEL is
 * refused whole; so is an option without a value. For each request the
 * daemon answers zero or more data lines, then one final line, "ok" or
 * "err MESSAGE" (MESSAGE in ipvsadm's words where ipvsadm has some:
 * CTL_E_*). Several requests may follow one another on one connection.
 *
 * A service is named by a KEY of two words, KIND VALUE:
 *   tcp|udp|sctp ADDR:PORT     ADDR dotted IPv4, or an IPv6 address in
 *                              brackets: [2001:db8::1]:80
 *   fwmark|fwmark6 MARK        a firewall-mark service (IPv4 or IPv6)
 * A real server is RADDR:RPORT, written the same way, of its service's
 * family (else CTL_E_AF: IPVS takes the other family for tun only).
 *
 *   list [KEY]              size CONN_MAX, then each service's svc line
 *                           followed by its dest lines (CTL_SVC_FIELDS,
 *                           CTL_DEST_FIELDS), in the daemon's order; with
 *                           KEY that service only, or "No such service"
 *   conns                   conn lines (CTL_CONN_FIELDS), at most
 *                           CTL_CONNS_MAX, then "truncated N" if more
 *   timeout                 timeout TCP TCPFIN UDP
 *   set TCP TCPFIN UDP      seconds, 0 .. CTL_TIMEOUT_MAX; 0 keeps a value
 *   zero [KEY]              zero the counters of KEY, or of every service
 *   clear                   remove every service
 *   svc-add KEY [OPT=V..]   add a service
 *   svc-edit KEY [OPT=V..]  replace a service's options: what is not
 *                           given takes its default (as ipvsadm -E)
 *   svc-del KEY
 *   dest-add KEY RADDR [OPT=V..]
 *   dest-edit KEY RADDR [OPT=V..]   replaced as svc-edit (ipvsadm -e)
 *   dest-del KEY RADDR
 *   daemon                  daemon lines (CTL_DAEMON_FIELDS): the sync
 *                           daemons that run, master first
 *   daemon-start master|backup [OPT=V..]
 *   daemon-stop master|backup [syncid=N]
 *   role [master|backup]    without a word, "role master|backup": the
 *                           director's role (role.c); with one, switch
 *
 * Options (CTL_OPTIONS) and their defaults:
 *   services:     sched=wlc flags=0 persistent=0 netmask=255.255.255.255
 *                 (or 128 for IPv6) pe=- ops=0
 *   real servers: fwd=dr weight=1 upper=0 lower=0 tun-type=ipip tun-port=0
 *                 tun-csum=nocsum client-address=none (fullnat: proxy-v2, toa)
 *   sync daemon:  mcast-interface syncid sync-maxlen mcast-group mcast-port
 *                 mcast-ttl (ipvsadm's --start-daemon options)
 *
 * Runtime changes last until the next reload, which puts the file's
 * services back.
 *
 * Where the features still to come plug in (each refused today by ctl.c
 * with ipvsadm's own text for what the kernel cannot do, CTL_E_*):
 *   one-packet   option ops=1 and the svc line's OPS field (CTL_E_INVAL);
 *   GUE          tun-type=gue with tun-port and tun-csum=nocsum|csum is
 *                taken; tun-csum=remcsum, and csum or remcsum for GRE or
 *                IPIP, are refused (CTL_E_INVAL);
 *   SCTP         KIND sctp (CTL_E_PROTO);
 *   persistence  option pe=NAME (only "sip" exists in IPVS; CTL_E_SCHED);
 */
#define CTL_LINE_MAX     1024
#define CTL_CONNS_MAX    100000
#define CTL_ARGS_MAX     24
#define CTL_TIMEOUT_MAX  (86400 * 31)   /* ipvsadm's: 31 days */
#define CTL_WEIGHT_MAX   65535
#define CTL_THRESH_MAX   2147483647u    /* ipvsadm -x/-y: INT_MAX */

/* Answers in ipvsadm's (libipvs's) words. */
#define CTL_E_SVC_EXISTS   "Service already exists"
#define CTL_E_SCHED        "Scheduler or persistence engine not found"
#define CTL_E_NO_SVC       "No such service"
#define CTL_E_SVC_UNDEF    "Service not defined"
#define CTL_E_DEST_EXISTS  "Destination already exists"
#define CTL_E_NO_DEST      "No such destination"
#define CTL_E_DAEMON_RUNS  "Daemon has already run"
#define CTL_E_NO_DAEMON    "No daemon is running"
#define CTL_E_NOMEM        "Memory allocation problem"
#define CTL_E_RANGE        "Numerical result out of range"  /* the kernel's ERANGE */
/* What a kernel without the feature answers, for what vsrouted cannot do yet. */
#define CTL_E_INVAL        "Invalid operation.  Possibly wrong module version, address not unicast, ..."
#define CTL_E_AF           "Operation not supported with specified address family"
#define CTL_E_PROTO        "Protocol not available"

/* Requests: X(ID, NAME). */
#define CTL_REQUESTS(X)                        \
	X(LIST,         "list")                \
	X(CONNS,        "conns")               \
	X(TIMEOUT,      "timeout")             \
	X(SET,          "set")                 \
	X(ZERO,         "zero")                \
	X(CLEAR,        "clear")               \
	X(SVC_ADD,      "svc-add")             \
	X(SVC_EDIT,     "svc-edit")            \
	X(SVC_DEL,      "svc-del")             \
	X(DEST_ADD,     "dest-add")            \
	X(DEST_EDIT,    "dest-edit")           \
	X(DEST_DEL,     "dest-del")            \
	X(DAEMON,       "daemon")              \
	X(DAEMON_START, "daemon-start")        \
	X(DAEMON_STOP,  "daemon-stop")         \
	X(ROLE,         "role")

enum ctl_req {
#define X(id, name) CTL_REQ_##id,
	CTL_REQUESTS(X)
#undef X
	CTL_REQ_MAX
};

/* KEY=VALUE options of the requests: X(ID, NAME). */
#define CTL_OPTIONS(X)                         \
	X(SCHED,      "sched")                 \
	X(FLAGS,      "flags")                 \
	X(PERSISTENT, "persistent")            \
	X(NETMASK,    "netmask")               \
	X(PE,         "pe")                    \
	X(OPS,        "ops")                   \
	X(FWD,        "fwd")                   \
	X(WEIGHT,     "weight")                \
	X(UPPER,      "upper")                 \
	X(LOWER,      "lower")                 \
	X(TUN_TYPE,   "tun-type")              \
	X(TUN_PORT,   "tun-port")              \
	X(TUN_CSUM,   "tun-csum")              \
	X(CLIENT_ADDR, "client-address")       \
	X(MCAST_IFN,  "mcast-interface")       \
	X(SYNCID,     "syncid")                \
	X(MAXLEN,     "sync-maxlen")           \
	X(GROUP,      "mcast-group")           \
	X(PORT,       "mcast-port")            \
	X(TTL,        "mcast-ttl")

enum ctl_opt {
#define X(id, name) CTL_OPT_##id,
	CTL_OPTIONS(X)
#undef X
	CTL_OPT_MAX
};
#define CTL_OPT_BIT(id) (1u << CTL_OPT_##id)

/*
 * The counters of a service and of a real server, listed once: their order
 * in the svc and dest lines, their names in the SIGUSR1 dump (vsrouted(8))
 * and in the metrics (metrics.c). X(ID, DUMP, METRIC, TYPE, SVC, HELP);
 * SVC 1: a service has it too (those come first). Rates are per second,
 * from the estimator of stats.h; WEIGHT is the weight in effect (0 while
 * a check holds the real server down).
 */
#define VSR_COUNTERS(X)                                                                      \
	X(CONNS,       "conns",          "connections_total",      "counter", 1,               \
	    "connections scheduled")                                                         \
	X(INPKTS,      "in_packets",     "in_packets_total",       "counter", 1,               \
	    "packets from clients")                                                          \
	X(OUTPKTS,     "out_packets",    "out_packets_total",      "counter", 1,               \
	    "packets of replies (nat, fullnat)")                                             \
	X(INBYTES,     "in_bytes",       "in_bytes_total",         "counter", 1,               \
	    "bytes from clients")                                                            \
	X(OUTBYTES,    "out_bytes",      "out_bytes_total",        "counter", 1,               \
	    "bytes of replies (nat, fullnat)")                                               \
	X(CPS,         "cps",            "connections_per_second", "gauge",   1,               \
	    "connection rate (2 s estimator)")                                               \
	X(INPPS,       "in_pps",         "in_packets_per_second",  "gauge",   1,               \
	    "incoming packet rate")                                                          \
	X(OUTPPS,      "out_pps",        "out_packets_per_second", "gauge",   1,               \
	    "outgoing packet rate")                                                          \
	X(INBPS,       "in_bps",         "in_bytes_per_second",    "gauge",   1,               \
	    "incoming byte rate")                                                            \
	X(OUTBPS,      "out_bps",        "out_bytes_per_second",   "gauge",   1,               \
	    "outgoing byte rate")                                                            \
	X(ACTIVE,      "active_conns",   "active_connections",     "gauge",   0,               \
	    "ActiveConn: connections in ESTABLISHED")                                        \
	X(INACTIVE,    "inactive_conns", "inactive_connections",   "gauge",   0,               \
	    "InActConn: connections in other states")                                        \
	X(PERSIST,     "persist_conns",  "persistent_connections", "gauge",   0,               \
	    "persistence templates")                                                         \
	X(WEIGHT,      "weight",         "weight",                 "gauge",   0,               \
	    "weight (0: quiesced)")                                                          \
	X(OVERLOADED,  "overloaded",     "overloaded",             "gauge",   0,               \
	    "1 above its upper threshold")                                                   \
	X(HEALTHY,     "healthy",        "healthy",                "gauge",   0,               \
	    "1 unless its health check failed")                                              \
	X(REMOVED,     "removed",        "removed",                "gauge",   0,               \
	    "1 while taken out of the service by its check (on_failure = remove)")           \
	X(CHECK_DOWNS, "check_downs",    "check_downs_total",      "counter", 0,               \
	    "health check transitions up to down")                                           \
	X(CHECK_UPS,   "check_ups",      "check_ups_total",        "counter", 0,               \
	    "health check transitions down to up")

enum vsr_counter {
#define X(id, dump, metric, type, svc, help) VSR_C_##id,
	VSR_COUNTERS(X)
#undef X
	VSR_C_MAX
};

/* How many counters a service has: the first VSR_C_NSVC of the list. */
enum {
#define X(id, dump, metric, type, svc, help) + (svc)
	VSR_C_NSVC = 0 VSR_COUNTERS(X)
#undef X
};

struct vsr_counter_name {
	const char *dump;       /* "active_conns" */
	const char *metric;     /* "active_connections" */
	const char *type;       /* "counter" or "gauge" */
	const char *help;
	bool        svc;        /* a service has it too */
};
extern const struct vsr_counter_name vsr_counter_names[VSR_C_MAX];

/*
 * The data lines. Each starts with its tag word; the fields follow in
 * this order, then (svc, dest) the counters of VSR_COUNTERS. X(ID, NAME).
 */
#define CTL_SVC_FIELDS(X)                                                   \
	X(KIND,       "kind")         /* tcp udp sctp fwmark fwmark6 */     \
	X(KEY,        "key")          /* ADDR:PORT, or the mark */          \
	X(SCHED,      "sched")                                              \
	X(FLAGS,      "flags")        /* CTL_SF_* */                        \
	X(PERSISTENT, "persistent")   /* seconds, 0: not persistent */      \
	X(NETMASK,    "netmask")      /* dotted, or a prefix length */      \
	X(PE,         "pe")           /* persistence engine, "-": none */   \
	X(OPS,        "ops")          /* one-packet scheduling: 0 or 1 */

#define CTL_DEST_FIELDS(X)                                                  \
	X(ADDR,       "addr")         /* RADDR:RPORT */                     \
	X(FWD,        "fwd")          /* dr tun nat fullnat */              \
	X(UPPER,      "upper")        /* connection thresholds (-x, -y) */  \
	X(LOWER,      "lower")                                              \
	X(TUN_TYPE,   "tun-type")     /* ipip gue gre */                    \
	X(TUN_PORT,   "tun-port")     /* GUE's port, else 0 */              \
	X(TUN_CSUM,   "tun-csum")     /* nocsum csum remcsum */         \
	X(CLIENT_ADDR, "client-address") /* none proxy-v2 toa */

#define CTL_CONN_FIELDS(X)                                                  \
	X(PROTO,      "proto")        /* tcp udp */                         \
	X(CLIENT,     "client")       /* CADDR:CPORT */                     \
	X(VIRTUAL,    "virtual")      /* VADDR:VPORT */                     \
	X(DEST,       "dest")         /* DADDR:DPORT */                     \
	X(STATE,      "state")        /* ESTABLISHED, SYN_RECV, UDP ... */  \
	X(EXPIRE,     "expire")       /* seconds left */

#define CTL_TIMEOUT_FIELDS(X)                                               \
	X(TCP,        "tcp")                                                \
	X(TCPFIN,     "tcpfin")                                             \
	X(UDP,        "udp")

#define CTL_DAEMON_FIELDS(X)                                                \
	X(STATE,      "state")        /* master backup */                   \
	X(IFN,        "mcast-interface")                                    \
	X(SYNCID,     "syncid")                                             \
	X(MAXLEN,     "sync-maxlen")                                        \
	X(GROUP,      "mcast-group")  /* "-": a peer instead */             \
	X(PORT,       "mcast-port")                                         \
	X(TTL,        "mcast-ttl")                                          \
	X(PEER,       "peer")         /* unicast to it (sync { peer }), "-" */

enum ctl_svc_field {
#define X(id, name) CTL_SVC_##id,
	CTL_SVC_FIELDS(X)
#undef X
	CTL_SVC_COUNTERS,                       /* the first counter */
	CTL_SVC_NFIELDS = CTL_SVC_COUNTERS + VSR_C_NSVC
};
enum ctl_dest_field {
#define X(id, name) CTL_DEST_##id,
	CTL_DEST_FIELDS(X)
#undef X
	CTL_DEST_COUNTERS,
	CTL_DEST_NFIELDS = CTL_DEST_COUNTERS + VSR_C_MAX
};
enum ctl_conn_field {
#define X(id, name) CTL_CONN_##id,
	CTL_CONN_FIELDS(X)
#undef X
	CTL_CONN_NFIELDS
};
enum ctl_timeout_field {
#define X(id, name) CTL_TIMEOUT_##id,
	CTL_TIMEOUT_FIELDS(X)
#undef X
	CTL_TIMEOUT_NFIELDS
};
enum ctl_daemon_field {
#define X(id, name) CTL_DAEMON_##id,
	CTL_DAEMON_FIELDS(X)
#undef X
	CTL_DAEMON_NFIELDS
};

/* The tag words of the data lines. */
#define CTL_TAG_SIZE      "size"
#define CTL_TAG_SVC       "svc"
#define CTL_TAG_DEST      "dest"
#define CTL_TAG_CONN      "conn"
#define CTL_TAG_TRUNCATED "truncated"
#define CTL_TAG_TIMEOUT   "timeout"
#define CTL_TAG_DAEMON    "daemon"
#define CTL_TAG_ROLE      "role"

/* Service kinds (a KEY's first word). */
enum ctl_kind { CTL_KIND_TCP, CTL_KIND_UDP, CTL_KIND_SCTP, CTL_KIND_FWMARK, CTL_KIND_FWMARK6,
	CTL_KIND_MAX };

/* ipvsadm -b as bits, as IPVS keeps them (IP_VS_SVC_F_SCHED1..3). */
#define CTL_SF_1   0x1          /* flag-1: sh-fallback for sh, mh-fallback for mh */
#define CTL_SF_2   0x2          /* flag-2: sh-port, mh-port */
#define CTL_SF_3   0x4          /* flag-3 */
#define CTL_SF_ALL 0x7

/* IPVS's tunnel types and checksum choices, in its numbering. */
enum ctl_tun { CTL_TUN_IPIP, CTL_TUN_GUE, CTL_TUN_GRE, CTL_TUN_MAX };
enum ctl_csum { CTL_CSUM_NO, CTL_CSUM_YES, CTL_CSUM_REMOTE, CTL_CSUM_MAX };

/* An address and port, either family. */
struct ctl_addr {
	int      af;                /* AF_INET or AF_INET6 */
	union {
		struct in_addr  v4;
		struct in6_addr v6;
	} u;
	uint16_t port;              /* host order */
};

/* Names <-> values; a lookup returns -1 when the name is unknown. */
extern const char *const ctl_req_names[CTL_REQ_MAX];
extern const char *const ctl_opt_names[CTL_OPT_MAX];
extern const char *const ctl_kind_names[CTL_KIND_MAX];
extern const char *const ctl_tun_names[CTL_TUN_MAX];
extern const char *const ctl_csum_names[CTL_CSUM_MAX];
int ctl_lookup(const char *const *names, int n, const char *s);

/*
 * A value that may travel in a request or a data line: not empty, no
 * space, no control character (tab, newline ...) and no DEL.
 */
bool ctl_value_ok(const char *s);

/* "10.0.0.1:80" or "[2001:db8::1]:80" (port 0 .. 65535): 0, or -1 if malformed. */
int  ctl_addr_parse(const char *s, struct ctl_addr *a);
/* The reverse: BUF of at least CTL_ADDR_STRLEN bytes. */
#define CTL_ADDR_STRLEN (INET6_ADDRSTRLEN + 8)
const char *ctl_addr_format(const struct ctl_addr *a, char *buf, size_t len);

/*
 * ipvsadm -b: a comma-separated list of flag-1, flag-2, flag-3 and, for
 * the sh and mh schedulers, their names (sh-fallback, sh-port, mh-fallback,
 * mh-port) -> CTL_SF_* bits for scheduler SCHED. Returns 0, -1 for an
 * unknown name, -2 for a name of another scheduler; *BAD then points at it
 * (inside LIST, which is cut into pieces).
 */
int  ctl_sched_flags_parse(const char *sched, char *list, unsigned *bits, const char **bad);
/* The bits as ipvsadm lists them for SCHED ("sh-fallback,sh-port"); "" for none. */
void ctl_sched_flags_format(const char *sched, unsigned bits, char *buf, size_t len);

#endif
