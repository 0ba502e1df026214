/* vsradm.c - ipvsadm's commands, options, refusals, listings and save format, over vsrouted's control socket */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"
#include "ctlproto.h"
#include "kaimport.h"

/*
 * vsradm is ipvsadm 1.31 (ipvsadm(8)) with vsrouted's control socket where
 * ipvsadm has the kernel: the same command line (popt's rules, checked
 * against the same table of commands and options), the same messages and
 * exit statuses (2: a bad command line; 255: the daemon refused; 1: a
 * listing failed), the same listings, sorted the same way, and the same
 * save format. Run as ipvsadm-save or ipvsadm-restore it is those scripts.
 * vsradm(8) lists what it adds and what it refuses.
 */

#define IPVS_VERSION_STR "1.2.1"        /* what vsrouted implements of IPVS */
#define DEF_SCHED        "wlc"
#define DEF_MCAST_IFN    "eth0"
#define PERSISTENT_DEFAULT 360          /* -p without a value */
#define SCHEDNAME_MAX    16             /* IPVS's sizes: names are cut to one less */
#define PENAME_MAX       16
#define IFNAME_MAX       16
#define RESTORE_LINE_MAX (CTL_LINE_MAX - 1)

static const char *prog;               /* argv[0]: named where ipvsadm names itself */
static const char *sockpath;
static FILE *sock_in, *sock_out;
static FILE *restore_in;               /* what -R reads: stdin, or ipvsadm-restore's lines */

/* ---------------------------------------------------------------- messages */

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void __attribute__((noreturn))
tryhelp_exit(int status)
{
	fprintf(stderr, "Try `%s -h' or '%s --help' for more information.\n", prog, prog);
	exit(status);
}

static void
version(FILE *f)
{
	fprintf(f, "vsradm v" PACKAGE_VERSION " (ipvsadm v1.31's language over vsrouted's "
	    "control socket, IPVS v" IPVS_VERSION_STR ")\n");
}

static void __attribute__((noreturn))
usage_exit(int status)
{
	FILE *f = status ? stderr : stdout;
	const char *p = prog;

	version(f);
	fprintf(f,
	    "Usage:\n"
	    "  %s -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n"
	    "  %s -D virtual-service\n"
	    "  %s -C\n"
	    "  %s -R\n"
	    "  %s -S [-n]\n"
	    "  %s -a|e virtual-service -r server-address [options]\n"
	    "  %s -d virtual-service -r server-address\n"
	    "  %s -L|l [virtual-service] [options]\n"
	    "  %s -Z [virtual-service]\n"
	    "  %s --set tcp tcpfin udp\n"
	    "  %s --start-daemon {master|backup} [daemon-options]\n"
	    "  %s --stop-daemon {master|backup}\n"
	    "  %s --role [master|backup]\n"
	    "  %s -h\n\n", p, p, p, p, p, p, p, p, p, p, p, p, p, p);
	fprintf(f,
	    "Commands:\n"
	    "Either long or short options are allowed.\n"
	    "  --add-service     -A        add virtual service with options\n"
	    "  --edit-service    -E        edit virtual service with options\n"
	    "  --delete-service  -D        delete virtual service\n"
	    "  --clear           -C        clear the whole table\n"
	    "  --restore         -R        restore rules from stdin\n"
	    "  --save            -S        save rules to stdout\n"
	    "  --add-server      -a        add real server with options\n"
	    "  --edit-server     -e        edit real server with options\n"
	    "  --delete-server   -d        delete real server\n"
	    "  --list            -L|-l     list the table\n"
	    "  --zero            -Z        zero counters in a service or all services\n"
	    "  --set tcp tcpfin udp        set connection timeout values\n"
	    "  --start-daemon              start connection sync daemon\n"
	    "  --stop-daemon               stop connection sync daemon\n"
	    "  --help            -h        display this help message\n"
	    "  --version         -v        display the version\n\n");
	fprintf(f,
	    "virtual-service:\n"
	    "  --tcp-service|-t  service-address   service-address is host[:port]\n"
	    "  --udp-service|-u  service-address   service-address is host[:port]\n"
	    "  --sctp-service    service-address   service-address is host[:port]\n"
	    "  --fwmark-service|-f fwmark          fwmark is an integer greater than zero\n\n");
	fprintf(f,
	    "Options:\n"
	    "  --ipv6         -6                   fwmark entry uses IPv6\n"
	    "  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|sed|nq|dh|sh|lblc|lblcr|mh|fo|ovf|twos,\n"
	    "                                      the default scheduler is " DEF_SCHED ".\n"
	    "  --pe            engine              alternate persistence engine (none in vsrouted yet)\n"
	    "  --persistent   -p [timeout]         persistent service\n"
	    "  --netmask      -M netmask           persistent granularity mask\n"
	    "  --real-server  -r server-address    server-address is host (and port)\n"
	    "  --gatewaying   -g                   gatewaying (direct routing) (default)\n"
	    "  --ipip         -i                   ipip encapsulation (tunneling)\n"
	    "  --masquerading -m                   masquerading (NAT)\n"
	    "  --fullnat                           full NAT: source address from local_address (vsradm)\n"
	    "  --client-address none|proxy-v2|toa  how a fullnat real server learns the client (vsradm)\n"
	    "  --tun-type      type                one of ipip|gue|gre,\n"
	    "                                      the default tunnel type is ipip.\n"
	    "  --tun-port      port                tunnel destination port\n"
	    "  --tun-nocsum                        tunnel encapsulation without checksum\n"
	    "  --tun-csum                          tunnel encapsulation with checksum\n"
	    "  --tun-remcsum                       tunnel encapsulation with remote checksum\n"
	    "  --weight       -w weight            capacity of real server\n"
	    "  --u-threshold  -x uthreshold        upper threshold of connections\n"
	    "  --l-threshold  -y lthreshold        lower threshold of connections\n"
	    "  --connection   -c                   output of current IPVS connections\n"
	    "  --timeout                           output of timeout (tcp tcpfin udp)\n"
	    "  --daemon                            output of daemon information\n"
	    "  --stats                             output of statistics information\n"
	    "  --rate                              output of rate information\n"
	    "  --exact                             expand numbers (display exact values)\n"
	    "  --thresholds                        output of thresholds information\n"
	    "  --persistent-conn                   output of persistent connection info\n"
	    "  --tun-info                          output of tunnel information\n"
	    "  --nosort                            disable sorting output of service/server entries\n"
	    "  --sort                              does nothing, for backwards compatibility\n"
	    "  --ops          -o                   one-packet scheduling\n"
	    "  --numeric      -n                   numeric output of addresses and ports\n"
	    "  --sched-flags  -b flags             scheduler flags (comma-separated)\n"
	    "  --socket       path                 vsrouted's control socket (vsradm; also VSRADM_SOCKET)\n"
	    "  --role [master|backup]              print or switch the director's role (vsradm)\n");
	fprintf(f,
	    "Daemon Options:\n"
	    "  --syncid sid                        syncid for connection sync (default=255)\n"
	    "  --sync-maxlen length                Max sync message length (default=1472)\n"
	    "  --mcast-interface interface         multicast interface for connection sync\n"
	    "  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)\n"
	    "  --mcast-port port                   UDP port (default=8848)\n"
	    "  --mcast-ttl ttl                     Multicast TTL (default=1)\n");
	exit(status);
}

/* ---------------------------------------------------------------- commands and options */

enum cmd { CMD_NONE, CMD_ADD, CMD_EDIT, CMD_DEL, CMD_FLUSH, CMD_LIST, CMD_ADDDEST, CMD_DELDEST,
	CMD_EDITDEST, CMD_TIMEOUT, CMD_STARTDAEMON, CMD_STOPDAEMON, CMD_RESTORE, CMD_SAVE,
	CMD_ZERO, CMD_MAX };

/*
 * The options checked against the command, in ipvsadm's order: its
 * messages name the first one that breaks a rule, in this order.
 */
enum optc { OPTC_NUMERIC, OPTC_CONNECTION, OPTC_SERVICE, OPTC_SCHEDULER, OPTC_PERSISTENT,
	OPTC_NETMASK, OPTC_SERVER, OPTC_FORWARD, OPTC_WEIGHT, OPTC_UTHRESHOLD, OPTC_LTHRESHOLD,
	OPTC_MCAST, OPTC_TIMEOUT, OPTC_DAEMON, OPTC_STATS, OPTC_RATE, OPTC_THRESHOLDS,
	OPTC_PERSISTENTCONN, OPTC_NOSORT, OPTC_SYNCID, OPTC_EXACT, OPTC_ONEPACKET, OPTC_PE,
	OPTC_SCHED_FLAGS, OPTC_MCAST_GROUP, OPTC_MCAST_PORT, OPTC_MCAST_TTL, OPTC_SYNC_MAXLEN,
	OPTC_TUN_INFO, OPTC_TUN_TYPE, OPTC_TUN_PORT, OPTC_TUN_NOCSUM, OPTC_TUN_CSUM,
	OPTC_TUN_REMCSUM, OPTC_CLIENT_ADDR, OPTC_MAX };

static const char *const optc_names[OPTC_MAX] = {
	[OPTC_NUMERIC] = "numeric", [OPTC_CONNECTION] = "connection",
	[OPTC_SERVICE] = "service-address", [OPTC_SCHEDULER] = "scheduler",
	[OPTC_PERSISTENT] = "persistent", [OPTC_NETMASK] = "netmask",
	[OPTC_SERVER] = "real-server", [OPTC_FORWARD] = "forwarding-method",
	[OPTC_WEIGHT] = "weight", [OPTC_UTHRESHOLD] = "u-threshold",
	[OPTC_LTHRESHOLD] = "l-threshold", [OPTC_MCAST] = "mcast-interface",
	[OPTC_TIMEOUT] = "timeout", [OPTC_DAEMON] = "daemon", [OPTC_STATS] = "stats",
	[OPTC_RATE] = "rate", [OPTC_THRESHOLDS] = "thresholds",
	[OPTC_PERSISTENTCONN] = "persistent-conn", [OPTC_NOSORT] = "nosort",
	[OPTC_SYNCID] = "syncid", [OPTC_EXACT] = "exact", [OPTC_ONEPACKET] = "ops",
	[OPTC_PE] = "pe", [OPTC_SCHED_FLAGS] = "sched-flags", [OPTC_MCAST_GROUP] = "mcast-group",
	[OPTC_MCAST_PORT] = "mcast-port", [OPTC_MCAST_TTL] = "mcast-ttl",
	[OPTC_SYNC_MAXLEN] = "sync-maxlen", [OPTC_TUN_INFO] = "tun-info",
	[OPTC_TUN_TYPE] = "tun-type", [OPTC_TUN_PORT] = "tun-port",
	[OPTC_TUN_NOCSUM] = "tun-nocsum", [OPTC_TUN_CSUM] = "tun-csum",
	[OPTC_TUN_REMCSUM] = "tun-remcsum", [OPTC_CLIENT_ADDR] = "client-address",
};

#define O(x) (1ULL << OPTC_##x)
#define DEST_OPTS (O(FORWARD) | O(WEIGHT) | O(UTHRESHOLD) | O(LTHRESHOLD) | O(TUN_TYPE) | \
	O(TUN_PORT) | O(TUN_NOCSUM) | O(TUN_CSUM) | O(TUN_REMCSUM) | O(CLIENT_ADDR))
#define SVC_OPTS (O(SCHEDULER) | O(PERSISTENT) | O(NETMASK) | O(ONEPACKET) | O(PE) | \
	O(SCHED_FLAGS))

/*
 * What each command takes: NEED must be given, MAY may be, at most one of
 * ONE; anything else is refused. ipvsadm(8)'s table, by command.
 */
static const struct {
	const char *name;
	uint64_t    need, may, one;
} cmd_rules[CMD_MAX] = {
	[CMD_ADD]         = { "add-service",    O(SERVICE), SVC_OPTS, 0 },
	[CMD_EDIT]        = { "edit-service",   O(SERVICE), SVC_OPTS, 0 },
	[CMD_DEL]         = { "delete-service", O(SERVICE), 0, 0 },
	[CMD_FLUSH]       = { "flush",          0, 0, 0 },
	[CMD_LIST]        = { "list",           0,
	    O(NUMERIC) | O(STATS) | O(RATE) | O(THRESHOLDS) | O(PERSISTENTCONN) | O(NOSORT) |
	    O(SYNCID) | O(EXACT) | O(TUN_INFO),
	    O(CONNECTION) | O(SERVICE) | O(TIMEOUT) | O(DAEMON) },
	[CMD_ADDDEST]     = { "add-server",     O(SERVICE) | O(SERVER), DEST_OPTS, 0 },
	[CMD_DELDEST]     = { "delete-server",  O(SERVICE) | O(SERVER), 0, 0 },
	[CMD_EDITDEST]    = { "edit-server",    O(SERVICE) | O(SERVER), DEST_OPTS, 0 },
	[CMD_TIMEOUT]     = { "set",            0, 0, 0 },
	[CMD_STARTDAEMON] = { "start-daemon",   0,
	    O(MCAST) | O(SYNCID) | O(MCAST_GROUP) | O(MCAST_PORT) | O(MCAST_TTL) | O(SYNC_MAXLEN),
	    0 },
	[CMD_STOPDAEMON]  = { "stop-daemon",    0, O(SYNCID), 0 },
	[CMD_RESTORE]     = { "restore",        0, 0, 0 },
	[CMD_SAVE]        = { "save",           0, O(NUMERIC), 0 },
	[CMD_ZERO]        = { "zero",           0, O(SERVICE), 0 },
};

/* The same for the tunnel options, by tunnel type (ipvsadm's second table). */
static const enum optc tun_optc[4] = { OPTC_TUN_PORT, OPTC_TUN_NOCSUM, OPTC_TUN_CSUM,
	OPTC_TUN_REMCSUM };
static const struct {
	uint64_t need, one;             /* the rest of tun_optc is refused */
} tun_rules[CTL_TUN_MAX] = {
	[CTL_TUN_IPIP] = { 0, 0 },
	[CTL_TUN_GUE]  = { O(TUN_PORT), O(TUN_NOCSUM) | O(TUN_CSUM) | O(TUN_REMCSUM) },
	[CTL_TUN_GRE]  = { 0, O(TUN_NOCSUM) | O(TUN_CSUM) },
};

/* Listing formats */
#define FMT_NUMERIC        0x0001
#define FMT_RULE           0x0002
#define FMT_STATS          0x0004
#define FMT_RATE           0x0008
#define FMT_THRESHOLDS     0x0010
#define FMT_PERSISTENTCONN 0x0020
#define FMT_NOSORT         0x0040
#define FMT_EXACT          0x0080
#define FMT_TUN_INFO       0x0100

/* The long and short options, popt's way: val is the short letter or a TAG_*. */
enum { TAG_SET = 256, TAG_START_DAEMON, TAG_STOP_DAEMON, TAG_MCAST_INTERFACE, TAG_TIMEOUT,
	TAG_DAEMON, TAG_STATS, TAG_RATE, TAG_THRESHOLDS, TAG_PERSISTENTCONN, TAG_SORT, TAG_NO_SORT,
	TAG_PE, TAG_SCTP_SERVICE, TAG_MCAST_GROUP, TAG_MCAST_PORT, TAG_MCAST_TTL, TAG_SYNC_MAXLEN,
	TAG_TUN_INFO, TAG_TUN_TYPE, TAG_TUN_PORT, TAG_TUN_NOCSUM, TAG_TUN_CSUM, TAG_TUN_REMCSUM,
	TAG_SYNCID, TAG_FULLNAT, TAG_CLIENT_ADDR };

enum { ARG_NONE, ARG_REQ, ARG_OPT };

static const struct opt {
	const char *lname;
	char        sname;
	int         arg;
	int         val;
} opts[] = {
	{ "add-service",     'A', ARG_NONE, 'A' },
	{ "edit-service",    'E', ARG_NONE, 'E' },
	{ "delete-service",  'D', ARG_NONE, 'D' },
	{ "clear",           'C', ARG_NONE, 'C' },
	{ "list",            'L', ARG_NONE, 'L' },
	{ "list",            'l', ARG_NONE, 'l' },
	{ "zero",            'Z', ARG_NONE, 'Z' },
	{ "add-server",      'a', ARG_NONE, 'a' },
	{ "edit-server",     'e', ARG_NONE, 'e' },
	{ "delete-server",   'd', ARG_NONE, 'd' },
	{ "set",              0,  ARG_NONE, TAG_SET },
	{ "help",            'h', ARG_NONE, 'h' },
	{ "version",         'v', ARG_NONE, 'v' },
	{ "restore",         'R', ARG_NONE, 'R' },
	{ "save",            'S', ARG_NONE, 'S' },
	{ "start-daemon",     0,  ARG_REQ,  TAG_START_DAEMON },
	{ "stop-daemon",      0,  ARG_REQ,  TAG_STOP_DAEMON },
	{ "tcp-service",     't', ARG_REQ,  't' },
	{ "udp-service",     'u', ARG_REQ,  'u' },
	{ "sctp-service",     0,  ARG_REQ,  TAG_SCTP_SERVICE },
	{ "fwmark-service",  'f', ARG_REQ,  'f' },
	{ "scheduler",       's', ARG_REQ,  's' },
	{ "persistent",      'p', ARG_OPT,  'p' },
	{ "netmask",         'M', ARG_REQ,  'M' },
	{ "real-server",     'r', ARG_REQ,  'r' },
	{ "masquerading",    'm', ARG_NONE, 'm' },
	{ "ipip",            'i', ARG_NONE, 'i' },
	{ "gatewaying",      'g', ARG_NONE, 'g' },
	{ "fullnat",          0,  ARG_NONE, TAG_FULLNAT },
	{ "client-address",   0,  ARG_REQ,  TAG_CLIENT_ADDR },
	{ "weight",          'w', ARG_REQ,  'w' },
	{ "u-threshold",     'x', ARG_REQ,  'x' },
	{ "l-threshold",     'y', ARG_REQ,  'y' },
	{ "numeric",         'n', ARG_NONE, 'n' },
	{ "connection",      'c', ARG_NONE, 'c' },
	{ "mcast-interface",  0,  ARG_REQ,  TAG_MCAST_INTERFACE },
	{ "syncid",           0,  ARG_REQ,  TAG_SYNCID },
	{ "timeout",          0,  ARG_NONE, TAG_TIMEOUT },
	{ "daemon",           0,  ARG_NONE, TAG_DAEMON },
	{ "stats",            0,  ARG_NONE, TAG_STATS },
	{ "rate",             0,  ARG_NONE, TAG_RATE },
	{ "thresholds",       0,  ARG_NONE, TAG_THRESHOLDS },
	{ "persistent-conn",  0,  ARG_NONE, TAG_PERSISTENTCONN },
	{ "nosort",           0,  ARG_NONE, TAG_NO_SORT },
	{ "sort",             0,  ARG_NONE, TAG_SORT },
	{ "exact",           'X', ARG_NONE, 'X' },
	{ "ipv6",            '6', ARG_NONE, '6' },
	{ "ops",             'o', ARG_NONE, 'o' },
	{ "pe",               0,  ARG_REQ,  TAG_PE },
	{ "sched-flags",     'b', ARG_REQ,  'b' },
	{ "mcast-group",      0,  ARG_REQ,  TAG_MCAST_GROUP },
	{ "mcast-port",       0,  ARG_REQ,  TAG_MCAST_PORT },
	{ "mcast-ttl",        0,  ARG_REQ,  TAG_MCAST_TTL },
	{ "sync-maxlen",      0,  ARG_REQ,  TAG_SYNC_MAXLEN },
	{ "tun-info",         0,  ARG_NONE, TAG_TUN_INFO },
	{ "tun-type",         0,  ARG_REQ,  TAG_TUN_TYPE },
	{ "tun-port",         0,  ARG_REQ,  TAG_TUN_PORT },
	{ "tun-nocsum",       0,  ARG_NONE, TAG_TUN_NOCSUM },
	{ "tun-csum",         0,  ARG_NONE, TAG_TUN_CSUM },
	{ "tun-remcsum",      0,  ARG_NONE, TAG_TUN_REMCSUM },
};

/*
 * popt's rules (ipvsadm is built with popt, 1.19 here): "--name",
 * "--name=value"; no abbreviation; "-abc" is a, b, c unless "abc" is a
 * one-dash long name (none here); the rest of a short bundle ("-tHOST",
 * "-t=HOST") is the argument of an option that takes one, or else the next
 * word, whatever it starts with; "=value" after an option that takes none
 * is refused; an optional argument (-p) is the next word only when that
 * does not start with '-'; words that are not options are kept aside
 * (leftovers), "--" ends the options.
 */
#define POPT_BADOPT      (-11)
#define POPT_NOARG       (-10)
#define POPT_UNWANTEDARG (-12)

struct popt {
	int          argc;
	char       **argv;
	int          next;
	const char  *nextchar;          /* the rest of a short bundle */
	int          rest;              /* after "--" */
	char       **left;              /* leftovers */
	int          nleft, leftpos;
	const char  *arg;               /* the current option's argument or NULL */
};

static void
popt_init(struct popt *p, int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	p->argc = argc;
	p->argv = argv;
	p->next = 1;
	p->left = calloc((size_t)argc + 1, sizeof(char *));
	if (p->left == NULL)
		fail(2, "%s: out of memory", prog);
}

static const struct opt *
opt_long(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (strlen(opts[i].lname) == len && strncmp(opts[i].lname, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt *
opt_short(char c)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].sname && opts[i].sname == c)
			return &opts[i];
	return NULL;
}

/* The next option's val; -1 at the end; POPT_BADOPT, POPT_NOARG or POPT_UNWANTEDARG on an error. */
static int
popt_next(struct popt *p)
{
	const struct opt *o = NULL;
	const char *longarg = NULL;

	p->arg = NULL;
	for (;;) {
		if (p->nextchar == NULL && p->next == p->argc)
			return -1;
		if (p->nextchar == NULL) {
			const char *s = p->argv[p->next++], *n, *eq;
			size_t len;

			if (p->rest || s[0] != '-' || s[1] == '\0') {
				p->left[p->nleft++] = (char *)s;
				continue;
			}
			if (s[1] == '-' && s[2] == '\0') {
				p->rest = 1;
				continue;
			}
			if (s[1] == '-') {
				n = s + 2;
				eq = strchr(n, '=');
				len = eq ? (size_t)(eq - n) : strlen(n);
				if ((o = opt_long(n, len)) == NULL)
					return POPT_BADOPT;
				longarg = eq ? eq + 1 : NULL;
			} else {
				p->nextchar = s + 1;
			}
		}
		if (p->nextchar != NULL) {
			if ((o = opt_short(*p->nextchar)) == NULL) {
				p->nextchar = NULL;
				return POPT_BADOPT;
			}
			p->nextchar++;
			if (*p->nextchar == '\0')
				p->nextchar = NULL;
		}
		break;
	}
	if (o->arg == ARG_NONE) {
		if (longarg || (p->nextchar && *p->nextchar == '='))
			return POPT_UNWANTEDARG;
	} else {
		if (longarg)
			p->arg = longarg;
		else if (p->nextchar) {
			p->arg = p->nextchar + (*p->nextchar == '=');
			p->nextchar = NULL;
		} else if (p->next == p->argc) {
			if (o->arg == ARG_REQ)
				return POPT_NOARG;
		} else if (o->arg == ARG_OPT && p->argv[p->next][0] == '-') {
			p->arg = NULL;
		} else {
			p->arg = p->argv[p->next++];
		}
	}
	return o->val;
}

/* The word of the option that failed (popt's poptBadOption). */
static const char *
popt_bad(const struct popt *p)
{
	return p->argv[p->next - 1];
}

static const char *
popt_strerror(int rc)
{
	return rc == POPT_NOARG ? "missing argument" : rc == POPT_BADOPT ? "unknown option" :
	    rc == POPT_UNWANTEDARG ? "option does not take an argument" : "unknown error";
}

static const char *
popt_leftover(struct popt *p)
{
	return p->leftpos < p->nleft ? p->left[p->leftpos++] : NULL;
}

/* ---------------------------------------------------------------- the command entry */

union addr {
	struct in_addr  v4;
	struct in6_addr v6;
};

struct svc_spec {
	int         af;                 /* 0 until an address or -f */
	int         protocol;           /* IPPROTO_TCP UDP SCTP */
	union addr  addr;
	uint16_t    port;               /* host order */
	uint32_t    fwmark;
	char        sched[SCHEDNAME_MAX];
	unsigned    persistent;         /* seconds; 0: -p not given */
	unsigned    netmask;            /* IPv4: network order mask; IPv6: prefix length */
	char        pe[PENAME_MAX + 1];
	int         ops;
	unsigned    sched_flags;        /* CTL_SF_* */
};

struct dest_spec {
	int         af;
	union addr  addr;
	uint16_t    port;
	enum fwd_method fwd;
	int         weight;
	unsigned    upper, lower;
	int         tun_type;           /* enum ctl_tun */
	unsigned    tun_port;
	int         tun_csum;           /* enum ctl_csum */
	int         client_addr;        /* enum client_addr */
};

struct daemon_spec {
	const char *state;              /* "master" or "backup" */
	char        ifn[IFNAME_MAX];
	int         syncid, maxlen, port, ttl;
	const char *group;
};

struct entry {
	enum cmd           cmd;
	uint64_t           options;
	unsigned           format;
	struct svc_spec    svc;
	struct dest_spec   dest;
	struct daemon_spec daemon;
	unsigned           timeout[3];
};

#define SERVICE_NONE 0x0
#define SERVICE_ADDR 0x1
#define SERVICE_PORT 0x2

/* ipvsadm's numbers: strtol base 10, all of it, MIN .. MAX; -1 if not. */
static long
string_to_number(const char *s, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (*end == '\0' && end != s && errno != ERANGE && n >= min && n <= max)
		return n;
	return -1;
}

static int
str_is_digit(const char *s)
{
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* A host name to its first IPv4 address (names are accepted as ipvsadm accepts them). */
static int
host_to_addr(const char *name, struct in_addr *a)
{
	struct addrinfo hints = { .ai_family = AF_INET }, *res;

	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return -1;
	*a = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

static const char *
proto_word(int proto)
{
	return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_SCTP ? "sctp" : "tcp";
}

static int
service_to_port(const char *name, int proto)
{
	struct servent *s;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_SCTP)
		return -1;
	if ((s = getservbyname(name, proto_word(proto))) == NULL)
		return -1;
	return ntohs((uint16_t)s->s_port);
}

/*
 * host[:port], [IPv6]:port or a bare IPv6 address, as ipvsadm reads them
 * (inet_aton's forms, host and service names for PROTO included). Returns
 * SERVICE_ADDR|SERVICE_PORT for what it found, SERVICE_NONE when malformed.
 */
static int
parse_service(const char *arg, int proto, int *af, union addr *a, uint16_t *port)
{
	char buf[4096], *b = buf, *portp = NULL;
	int result = SERVICE_NONE;
	long n;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf) || str_is_digit(buf))
		return SERVICE_NONE;
	if (b[0] == '[') {
		b++;
		if ((portp = strchr(b, ']')) == NULL)
			return SERVICE_NONE;
		*portp++ = '\0';
		if (*portp != ':')
			return SERVICE_NONE;
		*portp = '\0';
	}
	if (inet_pton(AF_INET6, b, &a->v6) > 0) {
		*af = AF_INET6;
	} else {
		portp = strrchr(b, ':');
		if (portp)
			*portp = '\0';
		if (inet_aton(b, &a->v4) == 0 && host_to_addr(b, &a->v4) < 0)
			return SERVICE_NONE;
		*af = AF_INET;
	}
	result |= SERVICE_ADDR;
	if (portp != NULL) {
		result |= SERVICE_PORT;
		if ((n = string_to_number(portp + 1, 0, 65535)) == -1 &&
		    (n = service_to_port(portp + 1, proto)) == -1)
			return SERVICE_NONE;
		*port = (uint16_t)n;
	}
	return result;
}

static unsigned
parse_timeout(const char *s, long min, long max)
{
	long n;

	if (s == NULL)
		return PERSISTENT_DEFAULT;
	if ((n = string_to_number(s, min, max)) == -1)
		fail(2, "invalid timeout value `%s' specified", s);
	return (unsigned)n;
}

static void
set_command(struct entry *ce, enum cmd c)
{
	if (ce->cmd != CMD_NONE)
		fail(2, "multiple commands specified");
	ce->cmd = c;
}

static void
set_option(struct entry *ce, enum optc o)
{
	if (ce->options & (1ULL << o))
		fail(2, "multiple '%s' options specified", optc_names[o]);
	ce->options |= 1ULL << o;
}

/* A value that goes to the daemon as text (a name): refused as ipvsadm's kernel would. */
static void
check_name(const char *v, const char *refusal, int status)
{
	if (!ctl_value_ok(v))
		fail(status, "%s", refusal);
}

/*
 * Parse one command line into CE, exiting with ipvsadm's message and
 * status on a bad one; -1 after popt's message (ipvsadm returns -1 there).
 */
static int
parse_options(int argc, char **argv, struct entry *ce)
{
	struct popt p;
	char flags_arg[128] = "";
	const char *a;
	int c, parse;
	long n;

	popt_init(&p, argc, argv);
	c = popt_next(&p);
	switch (c) {
	case 'A': set_command(ce, CMD_ADD); break;
	case 'E': set_command(ce, CMD_EDIT); break;
	case 'D': set_command(ce, CMD_DEL); break;
	case 'a': set_command(ce, CMD_ADDDEST); break;
	case 'e': set_command(ce, CMD_EDITDEST); break;
	case 'd': set_command(ce, CMD_DELDEST); break;
	case 'C': set_command(ce, CMD_FLUSH); break;
	case 'L': case 'l': set_command(ce, CMD_LIST); break;
	case 'Z': set_command(ce, CMD_ZERO); break;
	case TAG_SET: set_command(ce, CMD_TIMEOUT); break;
	case 'R': set_command(ce, CMD_RESTORE); break;
	case 'S': set_command(ce, CMD_SAVE); break;
	case TAG_START_DAEMON:
	case TAG_STOP_DAEMON:
		set_command(ce, c == TAG_START_DAEMON ? CMD_STARTDAEMON : CMD_STOPDAEMON);
		if (strcmp(p.arg, "master") == 0 || strcmp(p.arg, "backup") == 0)
			ce->daemon.state = strcmp(p.arg, "master") == 0 ? "master" : "backup";
		else if (c == TAG_START_DAEMON)
			fail(2, "illegal start-daemon parameter specified");
		else
			fail(2, "illegal start_daemon specified");
		break;
	case 'h': usage_exit(0);
	case 'v': version(stdout); exit(0);
	default: tryhelp_exit(255);
	}

	while ((c = popt_next(&p)) >= 0) {
		a = p.arg;
		switch (c) {
		case 't': case 'u': case TAG_SCTP_SERVICE:
			set_option(ce, OPTC_SERVICE);
			ce->svc.protocol = c == 't' ? IPPROTO_TCP : c == 'u' ? IPPROTO_UDP :
			    IPPROTO_SCTP;
			parse = parse_service(a, ce->svc.protocol, &ce->svc.af, &ce->svc.addr,
			    &ce->svc.port);
			if (!(parse & SERVICE_ADDR))
				fail(2, "illegal virtual server address[:port] specified");
			if (ce->svc.af == AF_INET6)
				ce->svc.netmask = 128;
			break;
		case 'f':
			set_option(ce, OPTC_SERVICE);
			errno = 0;
			{
				char *end;
				n = strtol(a, &end, 10);
				if (*end != '\0' || end == a || errno == ERANGE || n <= 0 ||
				    (unsigned long)n > UINT_MAX)
					fail(2, "invalid fwmark value `%s' specified", a);
			}
			ce->svc.af = AF_INET;
			ce->svc.protocol = IPPROTO_TCP;
			ce->svc.fwmark = (uint32_t)n;
			break;
		case 's':
			set_option(ce, OPTC_SCHEDULER);
			snprintf(ce->svc.sched, sizeof(ce->svc.sched), "%s", a);
			break;
		case 'p':
			set_option(ce, OPTC_PERSISTENT);
			ce->svc.persistent = parse_timeout(a, 1, CTL_TIMEOUT_MAX);
			break;
		case 'M':
			set_option(ce, OPTC_NETMASK);
			if (ce->svc.af != AF_INET6) {
				struct in_addr m;
				if (inet_aton(a, &m) == 0 && host_to_addr(a, &m) < 0)
					fail(2, "illegal virtual server persistent mask specified");
				ce->svc.netmask = m.s_addr;
			} else {
				ce->svc.netmask = (unsigned)atoi(a);
				if (ce->svc.netmask < 1 || ce->svc.netmask > 128)
					fail(2, "illegal ipv6 netmask specified");
			}
			break;
		case 'r': {
			/* A copy of the service so far: its port when none is given. */
			int af = ce->svc.af;
			union addr ra = ce->svc.addr;
			uint16_t port = ce->svc.port;

			set_option(ce, OPTC_SERVER);
			parse = parse_service(a, ce->svc.protocol, &af, &ra, &port);
			ce->dest.af = af;
			ce->dest.addr = ra;
			ce->dest.port = port;
			if (!(parse & SERVICE_ADDR))
				fail(2, "illegal real server address[:port] specified");
			if (parse == SERVICE_ADDR)
				ce->dest.port = ce->svc.port;
			break;
		}
		case 'i': set_option(ce, OPTC_FORWARD); ce->dest.fwd = FWD_TUN; break;
		case 'g': set_option(ce, OPTC_FORWARD); ce->dest.fwd = FWD_DR; break;
		case 'm': set_option(ce, OPTC_FORWARD); ce->dest.fwd = FWD_NAT; break;
		case TAG_FULLNAT: set_option(ce, OPTC_FORWARD); ce->dest.fwd = FWD_FULLNAT; break;
		case TAG_CLIENT_ADDR:
			set_option(ce, OPTC_CLIENT_ADDR);
			if ((ce->dest.client_addr = client_addr_parse(a)) < 0)
				fail(2, "illegal client address specified");
			break;
		case 'w':
			set_option(ce, OPTC_WEIGHT);
			if ((n = string_to_number(a, 0, CTL_WEIGHT_MAX)) == -1)
				fail(2, "illegal weight specified");
			ce->dest.weight = (int)n;
			break;
		case 'x':
			set_option(ce, OPTC_UTHRESHOLD);
			if ((n = string_to_number(a, 0, INT_MAX)) == -1)
				fail(2, "illegal u_threshold specified");
			ce->dest.upper = (unsigned)n;
			break;
		case 'y':
			set_option(ce, OPTC_LTHRESHOLD);
			if ((n = string_to_number(a, 0, INT_MAX)) == -1)
				fail(2, "illegal l_threshold specified");
			ce->dest.lower = (unsigned)n;
			break;
		case 'c': set_option(ce, OPTC_CONNECTION); break;
		case 'n': set_option(ce, OPTC_NUMERIC); ce->format |= FMT_NUMERIC; break;
		case TAG_MCAST_INTERFACE:
			set_option(ce, OPTC_MCAST);
			snprintf(ce->daemon.ifn, sizeof(ce->daemon.ifn), "%s", a);
			break;
		case TAG_SYNCID:
			set_option(ce, OPTC_SYNCID);
			if ((ce->daemon.syncid = (int)string_to_number(a, 0, 255)) == -1)
				fail(2, "illegal syncid specified");
			break;
		case TAG_TIMEOUT: set_option(ce, OPTC_TIMEOUT); break;
		case TAG_DAEMON: set_option(ce, OPTC_DAEMON); break;
		case TAG_STATS: set_option(ce, OPTC_STATS); ce->format |= FMT_STATS; break;
		case TAG_RATE: set_option(ce, OPTC_RATE); ce->format |= FMT_RATE; break;
		case TAG_THRESHOLDS:
			set_option(ce, OPTC_THRESHOLDS);
			ce->format |= FMT_THRESHOLDS;
			break;
		case TAG_PERSISTENTCONN:
			set_option(ce, OPTC_PERSISTENTCONN);
			ce->format |= FMT_PERSISTENTCONN;
			break;
		case TAG_NO_SORT: set_option(ce, OPTC_NOSORT); ce->format |= FMT_NOSORT; break;
		case TAG_SORT: break;           /* the default; accepted, as ipvsadm does */
		case 'X': set_option(ce, OPTC_EXACT); ce->format |= FMT_EXACT; break;
		case '6':
			if (ce->svc.fwmark) {
				ce->svc.af = AF_INET6;
				ce->svc.netmask = 128;
			} else {
				fail(2, "-6 used before -f\n");
			}
			break;
		case 'o': set_option(ce, OPTC_ONEPACKET); ce->svc.ops = 1; break;
		case TAG_PE:
			set_option(ce, OPTC_PE);
			snprintf(ce->svc.pe, sizeof(ce->svc.pe), "%s", a);
			break;
		case 'b':
			set_option(ce, OPTC_SCHED_FLAGS);
			snprintf(flags_arg, sizeof(flags_arg), "%s", a);
			break;
		case TAG_MCAST_GROUP: {
			union addr g;
			set_option(ce, OPTC_MCAST_GROUP);
			if (strchr(a, ':')) {
				if (inet_pton(AF_INET6, a, &g.v6) <= 0 || !IN6_IS_ADDR_MULTICAST(&g.v6))
					fail(2, "invalid IPv6 mcast-group `%s'", a);
			} else if (inet_pton(AF_INET, a, &g.v4) <= 0 ||
			    !IN_MULTICAST(ntohl(g.v4.s_addr))) {
				fail(2, "invalid IPv4 mcast-group `%s'", a);
			}
			ce->daemon.group = a;
			break;
		}
		case TAG_MCAST_PORT:
			set_option(ce, OPTC_MCAST_PORT);
			if ((ce->daemon.port = (int)string_to_number(a, 1, 65535)) == -1)
				fail(2, "illegal mcast-port specified");
			break;
		case TAG_MCAST_TTL:
			set_option(ce, OPTC_MCAST_TTL);
			if ((ce->daemon.ttl = (int)string_to_number(a, 1, 255)) == -1)
				fail(2, "illegal mcast-ttl specified");
			break;
		case TAG_SYNC_MAXLEN:
			set_option(ce, OPTC_SYNC_MAXLEN);
			if ((ce->daemon.maxlen = (int)string_to_number(a, 1, 65535 - 20 - 8)) == -1)
				fail(2, "illegal sync-maxlen specified");
			break;
		case TAG_TUN_INFO: set_option(ce, OPTC_TUN_INFO); ce->format |= FMT_TUN_INFO; break;
		case TAG_TUN_TYPE:
			set_option(ce, OPTC_TUN_TYPE);
			if ((ce->dest.tun_type = ctl_lookup(ctl_tun_names, CTL_TUN_MAX, a)) < 0)
				fail(2, "illegal tunnel type specified");
			break;
		case TAG_TUN_PORT:
			set_option(ce, OPTC_TUN_PORT);
			if ((n = string_to_number(a, 1, 65535)) == -1)
				fail(2, "illegal tunnel port specified");
			ce->dest.tun_port = (unsigned)n;
			break;
		case TAG_TUN_NOCSUM: set_option(ce, OPTC_TUN_NOCSUM); break;
		case TAG_TUN_CSUM:
			set_option(ce, OPTC_TUN_CSUM);
			ce->dest.tun_csum = CTL_CSUM_YES;
			break;
		case TAG_TUN_REMCSUM:
			set_option(ce, OPTC_TUN_REMCSUM);
			ce->dest.tun_csum = CTL_CSUM_REMOTE;
			break;
		default:
			fail(2, "invalid option `%s'", popt_bad(&p));
		}
	}
	if (c < -1) {
		fprintf(stderr, "%s: %s\n", popt_bad(&p), popt_strerror(c));
		free(p.left);
		return -1;
	}
	if (ce->cmd == CMD_TIMEOUT) {
		const char *t[3];
		if ((t[0] = popt_leftover(&p)) && (t[1] = popt_leftover(&p)) &&
		    (t[2] = popt_leftover(&p))) {
			for (int i = 0; i < 3; i++)
				ce->timeout[i] = parse_timeout(t[i], 0, CTL_TIMEOUT_MAX);
		} else {
			fail(2, "--set option requires 3 timeout values");
		}
	}
	if ((a = popt_leftover(&p)) != NULL)
		fail(2, "unexpected argument %s", a);
	if (flags_arg[0]) {
		const char *bad;
		int rc = ctl_sched_flags_parse(ce->svc.sched[0] ? ce->svc.sched : DEF_SCHED,
		    flags_arg, &ce->svc.sched_flags, &bad);
		if (rc == -1)
			fail(2, "invalid scheduler flag `%s'", bad);
		if (rc == -2)
			fail(2, "incompatible scheduler flag `%s'", bad);
	}
	free(p.left);
	return 0;
}

/* ipvsadm's table of commands and options (cmd_rules): the first breach ends it. */
static void
generic_opt_check(const struct entry *ce)
{
	const char *cmd = cmd_rules[ce->cmd].name;
	int count = 0, last = 0;

	for (int j = 0; j < OPTC_MAX; j++) {
		uint64_t bit = 1ULL << j;
		if (!(ce->options & bit)) {
			if (cmd_rules[ce->cmd].need & bit)
				fail(2, "You need to supply the '%s' option for the '%s' command",
				    optc_names[j], cmd);
			continue;
		}
		if (!((cmd_rules[ce->cmd].need | cmd_rules[ce->cmd].may |
		    cmd_rules[ce->cmd].one) & bit))
			fail(2, "Illegal '%s' option with the '%s' command", optc_names[j], cmd);
		if (cmd_rules[ce->cmd].one & bit) {
			if (++count == 1) {
				last = j;
				continue;
			}
			fail(2, "The option '%s' conflicts with the '%s' option in the '%s' command",
			    optc_names[j], optc_names[last], cmd);
		}
	}
}

static void
tunnel_opt_check(const struct entry *ce)
{
	const char *type = ctl_tun_names[ce->dest.tun_type];
	int count = 0;
	enum optc last = OPTC_TUN_PORT;

	for (int j = 0; j < 4; j++) {
		enum optc k = tun_optc[j];
		uint64_t bit = 1ULL << k;
		if (!(ce->options & bit)) {
			if (tun_rules[ce->dest.tun_type].need & bit)
				fail(2, "You need to supply the '%s' option for the '%s' tunnel type",
				    optc_names[k], type);
			continue;
		}
		if (!((tun_rules[ce->dest.tun_type].need | tun_rules[ce->dest.tun_type].one) & bit))
			fail(2, "Illegal '%s' option with the '%s' tunnel type", optc_names[k], type);
		if (tun_rules[ce->dest.tun_type].one & bit) {
			if (++count == 1) {
				last = k;
				continue;
			}
			fail(2, "The option '%s' conflicts with the '%s' option in the '%s' tunnel type",
			    optc_names[k], optc_names[last], type);
		}
	}
}

/* ---------------------------------------------------------------- the control socket */

static void
sock_open(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (sock_in)
		return;
	if (strlen(sockpath) >= sizeof(sun.sun_path))
		fail(2, "Can't initialize ipvs: %s: control socket path too long", sockpath);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockpath);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fail(2, "Can't initialize ipvs: %s: %s\n"
		    "Are you sure that vsrouted is running? (vsradm --socket PATH or "
		    "VSRADM_SOCKET for another control socket)", sockpath, strerror(errno));
	sock_in = fdopen(fd, "r");
	sock_out = fdopen(dup(fd), "w");
	if (sock_in == NULL || sock_out == NULL)
		fail(2, "Can't initialize ipvs: %s", strerror(errno));
}

/*
 * Send REQUEST; FN (when not NULL) gets each data line of the answer.
 * Returns 0 on "ok"; on "err MSG" prints MSG as ipvsadm prints the
 * kernel's answer and returns -1; -1 too if the daemon went away.
 */
static int
transact(const char *request, void (*fn)(char *line, void *arg), void *arg)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	sock_open();
	if (fprintf(sock_out, "%s\n", request) < 0 || fflush(sock_out) != 0) {
		fprintf(stderr, "%s: vsrouted closed its control socket\n", prog);
		return -1;
	}
	while ((n = getline(&line, &cap, sock_in)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (strcmp(line, "ok") == 0) {
			free(line);
			return 0;
		}
		if (strncmp(line, "err ", 4) == 0) {
			fprintf(stderr, "%s\n", line + 4);
			free(line);
			return -1;
		}
		if (fn)
			fn(line, arg);
	}
	free(line);
	fprintf(stderr, "%s: vsrouted closed its control socket\n", prog);
	return -1;
}

/* A request line being built: words appended, each checked to be one word. */
struct req {
	char   buf[CTL_LINE_MAX];
	size_t len;
};

static void
req_add(struct req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
req_add(struct req *q, const char *fmt, ...)
{
	char w[CTL_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w, sizeof(w), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(w) || !ctl_value_ok(w) ||
	    q->len + (size_t)n + 2 > sizeof(q->buf))
		fail(2, "%s: cannot send '%s' to vsrouted (white space, a control character, "
		    "or too long)", prog, w);
	q->len += (size_t)snprintf(q->buf + q->len, sizeof(q->buf) - q->len, "%s%s",
	    q->len ? " " : "", w);
}

/* The service's KEY words. */
static void
req_svc_key(struct req *q, const struct svc_spec *s)
{
	char a[CTL_ADDR_STRLEN];
	struct ctl_addr ca = { .af = s->af, .u.v6 = s->addr.v6, .port = s->port };

	if (s->fwmark) {
		req_add(q, "%s", ctl_kind_names[s->af == AF_INET6 ? CTL_KIND_FWMARK6 :
		    CTL_KIND_FWMARK]);
		req_add(q, "%u", s->fwmark);
		return;
	}
	if (s->af == AF_INET)
		ca.u.v4 = s->addr.v4;
	req_add(q, "%s", ctl_kind_names[s->protocol == IPPROTO_UDP ? CTL_KIND_UDP :
	    s->protocol == IPPROTO_SCTP ? CTL_KIND_SCTP : CTL_KIND_TCP]);
	req_add(q, "%s", ctl_addr_format(&ca, a, sizeof(a)));
}

/* ---------------------------------------------------------------- listings */

struct ldest {
	struct ctl_addr a;
	int             fwd;            /* enum fwd_method */
	unsigned        upper, lower;
	int             tun_type, tun_csum;
	unsigned        tun_port;
	int             client_addr;    /* enum client_addr */
	uint64_t        c[VSR_C_MAX];
};

struct lsvc {
	enum ctl_kind   kind;
	struct ctl_addr a;
	uint32_t        fwmark;
	int             protocol;
	char            sched[SCHEDNAME_MAX];
	unsigned        flags;          /* CTL_SF_* */
	unsigned        persistent;
	char            netmask[INET6_ADDRSTRLEN];
	char            pe[PENAME_MAX + 1];
	int             ops;
	uint64_t        c[VSR_C_NSVC];
	struct ldest   *d;
	size_t          nd, capd;
};

struct table {
	unsigned      size;
	struct lsvc  *s;
	size_t        n, cap;
	int           bad;              /* a line could not be read */
};

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 8;
	if ((p = realloc(p, *cap * size)) == NULL)
		fail(1, "%s: out of memory", prog);
	return p;
}

/* Cut LINE into its space-separated words; how many (at most MAX). */
static int
split(char *line, char **w, int max)
{
	char *save;
	int n = 0;

	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

static int
u64_of(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end || errno ? -1 : 0;
}

static int
uint_of(const char *s, unsigned *v)
{
	uint64_t x;

	if (u64_of(s, &x) < 0 || x > UINT_MAX)
		return -1;
	*v = (unsigned)x;
	return 0;
}

/* One svc line: every field of CTL_SVC_FIELDS and its counters, or -1. */
static int
svc_line(char **w, int n, struct lsvc *s)
{
	int k;

	memset(s, 0, sizeof(*s));
	if (n != CTL_SVC_NFIELDS)
		return -1;
	if ((k = ctl_lookup(ctl_kind_names, CTL_KIND_MAX, w[CTL_SVC_KIND])) < 0)
		return -1;
	s->kind = (enum ctl_kind)k;
	if (s->kind == CTL_KIND_FWMARK || s->kind == CTL_KIND_FWMARK6) {
		if (uint_of(w[CTL_SVC_KEY], &s->fwmark) < 0)
			return -1;
		s->a.af = s->kind == CTL_KIND_FWMARK6 ? AF_INET6 : AF_INET;
		s->protocol = IPPROTO_TCP;
	} else {
		if (ctl_addr_parse(w[CTL_SVC_KEY], &s->a) < 0)
			return -1;
		s->protocol = s->kind == CTL_KIND_UDP ? IPPROTO_UDP : s->kind == CTL_KIND_SCTP ?
		    IPPROTO_SCTP : IPPROTO_TCP;
	}
	if (strlen(w[CTL_SVC_SCHED]) >= sizeof(s->sched) ||
	    uint_of(w[CTL_SVC_FLAGS], &s->flags) < 0 ||
	    uint_of(w[CTL_SVC_PERSISTENT], &s->persistent) < 0 ||
	    strlen(w[CTL_SVC_NETMASK]) >= sizeof(s->netmask) ||
	    strlen(w[CTL_SVC_PE]) >= sizeof(s->pe) ||
	    (strcmp(w[CTL_SVC_OPS], "0") && strcmp(w[CTL_SVC_OPS], "1")))
		return -1;
	snprintf(s->sched, sizeof(s->sched), "%s", w[CTL_SVC_SCHED]);
	snprintf(s->netmask, sizeof(s->netmask), "%s", w[CTL_SVC_NETMASK]);
	snprintf(s->pe, sizeof(s->pe), "%s", strcmp(w[CTL_SVC_PE], "-") ? w[CTL_SVC_PE] : "");
	s->ops = w[CTL_SVC_OPS][0] == '1';
	for (int i = 0; i < VSR_C_NSVC; i++)
		if (u64_of(w[CTL_SVC_COUNTERS + i], &s->c[i]) < 0)
			return -1;
	return 0;
}

static int
dest_line(char **w, int n, struct ldest *d)
{
	memset(d, 0, sizeof(*d));
	if (n != CTL_DEST_NFIELDS || ctl_addr_parse(w[CTL_DEST_ADDR], &d->a) < 0 ||
	    (d->fwd = fwd_parse(w[CTL_DEST_FWD])) < 0 ||
	    uint_of(w[CTL_DEST_UPPER], &d->upper) < 0 || uint_of(w[CTL_DEST_LOWER], &d->lower) < 0 ||
	    (d->tun_type = ctl_lookup(ctl_tun_names, CTL_TUN_MAX, w[CTL_DEST_TUN_TYPE])) < 0 ||
	    uint_of(w[CTL_DEST_TUN_PORT], &d->tun_port) < 0 ||
	    (d->tun_csum = ctl_lookup(ctl_csum_names, CTL_CSUM_MAX, w[CTL_DEST_TUN_CSUM])) < 0 ||
	    (d->client_addr = client_addr_parse(w[CTL_DEST_CLIENT_ADDR])) < 0)
		return -1;
	for (int i = 0; i < VSR_C_MAX; i++)
		if (u64_of(w[CTL_DEST_COUNTERS + i], &d->c[i]) < 0)
			return -1;
	return 0;
}

static void
table_line(char *line, void *arg)
{
	struct table *t = arg;
	char copy[CTL_LINE_MAX * 2], *w[CTL_DEST_NFIELDS + 2];
	int n;

	snprintf(copy, sizeof(copy), "%s", line);
	n = split(line, w, CTL_DEST_NFIELDS + 1);
	if (n >= 2 && strcmp(w[0], CTL_TAG_SIZE) == 0 && n == 2 && uint_of(w[1], &t->size) == 0)
		return;
	if (n >= 1 && strcmp(w[0], CTL_TAG_SVC) == 0) {
		t->s = grow(t->s, &t->cap, t->n, sizeof(*t->s));
		if (svc_line(w + 1, n - 1, &t->s[t->n]) == 0) {
			t->n++;
			return;
		}
	} else if (n >= 1 && strcmp(w[0], CTL_TAG_DEST) == 0 && t->n > 0) {
		struct lsvc *s = &t->s[t->n - 1];
		s->d = grow(s->d, &s->capd, s->nd, sizeof(*s->d));
		if (dest_line(w + 1, n - 1, &s->d[s->nd]) == 0) {
			s->nd++;
			return;
		}
	}
	if (!t->bad)
		fprintf(stderr, "%s: cannot read vsrouted's answer: %s\n", prog, copy);
	t->bad = 1;
}

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i].d);
	free(t->s);
}

/*
 * ipvsadm's order: fwmark, family, protocol, address, port; real servers
 * by address and port. Its comparisons are differences taken as int, so
 * that two addresses 2^31 or more apart compare the other way round: the
 * same here, so that listings are the same byte for byte.
 */
static int
addr_cmp(const struct ctl_addr *a, const struct ctl_addr *b)
{
	int r = 0;

	if (a->af == AF_INET6) {
		for (int i = 0; !r && i < 4; i++) {
			uint32_t x, y;
			memcpy(&x, a->u.v6.s6_addr + 4 * i, 4);
			memcpy(&y, b->u.v6.s6_addr + 4 * i, 4);
			r = (int)(ntohl(x) - ntohl(y));
		}
	} else {
		r = (int)(ntohl(a->u.v4.s_addr) - ntohl(b->u.v4.s_addr));
	}
	return r ? r : (int)a->port - (int)b->port;
}

static int
svc_cmp(const void *x, const void *y)
{
	const struct lsvc *a = x, *b = y;
	int r;

	if ((r = (int)(a->fwmark - b->fwmark)) != 0 || (r = a->a.af - b->a.af) != 0 ||
	    (r = a->protocol - b->protocol) != 0)
		return r;
	return addr_cmp(&a->a, &b->a);
}

static int
dest_cmp(const void *x, const void *y)
{
	return addr_cmp(&((const struct ldest *)x)->a, &((const struct ldest *)y)->a);
}

/* ---- names, resolved unless -n ---- */

static const char *
proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" :
	    proto == IPPROTO_SCTP ? "SCTP" : "?";
}

/* "host:service" (or "[host]:service"), names unless FMT_NUMERIC; at most 59 characters. */
static char *
addrport_name(const struct ctl_addr *a, int proto, unsigned format, char buf[60])
{
	char host[NI_MAXHOST], num[INET6_ADDRSTRLEN], port[16], full[NI_MAXHOST + 64];
	const char *h = num, *p = port;
	int v6 = a->af == AF_INET6;
	size_t n;

	inet_ntop(a->af, &a->u, num, sizeof(num));
	snprintf(port, sizeof(port), "%u", a->port);
	if (!(format & FMT_NUMERIC)) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len;
		struct servent *se;

		if (v6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_addr = a->u.v6;
			len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			s4->sin_addr = a->u.v4;
			len = sizeof(*s4);
		}
		if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0,
		    NI_NAMEREQD) == 0)
			h = host;
		if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) &&
		    (se = getservbyport(htons(a->port), proto_word(proto))) != NULL)
			p = se->s_name;
	}
	/* At most 59 characters, as ipvsadm's buffer holds. */
	snprintf(full, sizeof(full), "%s%s%s:%s", v6 ? "[" : "", h, v6 ? "]" : "", p);
	n = strnlen(full, 59);
	memcpy(buf, full, n);
	buf[n] = '\0';
	return buf;
}

/* ipvsadm's numbers: 9 columns, K M G T beyond 8 digits, or --exact. */
static void
print_largenum(unsigned long long n, unsigned format)
{
	if (format & FMT_EXACT) {
		int len = snprintf(NULL, 0, "%llu", n);
		printf("%*llu", len <= 8 ? 9 : len + 1, n);
	} else if (n < 100000000ULL) {
		printf("%9llu", n);
	} else if (n < 1000000000ULL) {
		printf("%8lluK", n / 1000);
	} else if (n < 100000000000ULL) {
		printf("%8lluM", n / 1000000);
	} else if (n < 100000000000000ULL) {
		printf("%8lluG", n / 1000000000ULL);
	} else {
		printf("%8lluT", n / 1000000000000ULL);
	}
}

static void
print_title(unsigned format)
{
	if (format & FMT_STATS)
		printf("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
		    "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
	else if (format & FMT_RATE)
		printf("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
		    "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
	else if (format & FMT_THRESHOLDS)
		printf("%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
		    "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
	else if (format & FMT_PERSISTENTCONN)
		printf("%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
		    "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn");
	else if (format & FMT_TUN_INFO)
		printf("Prot LocalAddress:Port Scheduler Flags\n"
		    "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n");
	else if (!(format & FMT_RULE))
		printf("Prot LocalAddress:Port Scheduler Flags\n"
		    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
}

/* -g -i -m, and --fullnat: a word ipvsadm's -R refuses, so that the line fails whole there. */
static const char *
fwd_switch(int fwd)
{
	static const char *const sw[FWD_MAX] = { [FWD_DR] = "-g", [FWD_TUN] = "-i",
		[FWD_NAT] = "-m", [FWD_FULLNAT] = "--fullnat" };
	return (unsigned)fwd < FWD_MAX ? sw[fwd] : "-g";
}

static const char *const tun_flag_opts[CTL_CSUM_MAX] = { "--tun-nocsum", "--tun-csum",
	"--tun-remcsum" };
static const char *const tun_flag_words[CTL_CSUM_MAX] = { "-c", "+c", "r+c" };

static void
print_service(struct lsvc *s, unsigned format)
{
	char name[1024], v[60], fl[64];

	if (s->fwmark) {
		if (format & FMT_RULE)
			snprintf(name, sizeof(name), "-f %u%s", s->fwmark,
			    s->a.af == AF_INET6 ? " -6" : "");
		else
			snprintf(name, sizeof(name), "FWM  %u%s", s->fwmark,
			    s->a.af == AF_INET6 ? " IPv6" : "");
	} else {
		addrport_name(&s->a, s->protocol, format, v);
		if (format & FMT_RULE) {
			snprintf(name, sizeof(name), "%s %s", s->protocol == IPPROTO_UDP ? "-u" :
			    s->protocol == IPPROTO_SCTP ? "--sctp-service" : "-t", v);
		} else {
			snprintf(name, sizeof(name), "%-4s %s", proto_name(s->protocol), v);
			if (s->a.af != AF_INET6)
				name[33] = '\0';
		}
	}
	ctl_sched_flags_format(s->sched, s->flags, fl, sizeof(fl));
	if (format & FMT_RULE) {
		printf("-A %s -s %s", name, s->sched);
		if (s->persistent) {
			printf(" -p %u", s->persistent);
			if (s->a.af == AF_INET6 ? strcmp(s->netmask, "128") != 0 :
			    strcmp(s->netmask, "255.255.255.255") != 0)
				printf(" -M %s", s->netmask);
		}
		if (s->pe[0])
			printf(" --pe %s", s->pe);
		if (s->ops)
			printf(" -o");
		if (s->flags)
			printf(" -b %s", fl);
	} else if (format & (FMT_STATS | FMT_RATE)) {
		int base = format & FMT_STATS ? VSR_C_CONNS : VSR_C_CPS;
		printf("%-33s", name);
		for (int i = 0; i < 5; i++)
			print_largenum(s->c[base + i], format);
	} else {
		printf("%s %s", name, s->sched);
		if (s->flags)
			printf(" (%s)", fl);
		if (s->persistent) {
			printf(" persistent %u", s->persistent);
			if (s->a.af == AF_INET6 ? strcmp(s->netmask, "128") != 0 :
			    strcmp(s->netmask, "255.255.255.255") != 0)
				printf(" mask %s", s->netmask);
			if (s->pe[0])
				printf(" pe %s", s->pe);
		}
		if (s->ops)
			printf(" ops");
	}
	printf("\n");

	if (!(format & FMT_NOSORT) && s->nd > 1)
		qsort(s->d, s->nd, sizeof(*s->d), dest_cmp);
	for (size_t i = 0; i < s->nd; i++) {
		const struct ldest *e = &s->d[i];
		char dn[60];

		addrport_name(&e->a, s->protocol, format, dn);
		if (!(format & FMT_RULE) && e->a.af != AF_INET6)
			dn[28] = '\0';
		if (format & FMT_RULE) {
			printf("-a %s -r %s %s -w %llu", name, dn, fwd_switch(e->fwd),
			    (unsigned long long)e->c[VSR_C_WEIGHT]);
			if (e->fwd == FWD_TUN) {
				printf(" --tun-type %s", ctl_tun_names[e->tun_type]);
				if (e->tun_type == CTL_TUN_GUE)
					printf(" --tun-port %u", e->tun_port);
				if (e->tun_type != CTL_TUN_IPIP)
					printf(" %s", tun_flag_opts[e->tun_csum]);
			}
			/* vsradm's own, as --fullnat: ipvsadm -R refuses the line whole. */
			if (e->client_addr != CA_NONE)
				printf(" --client-address %s",
				    client_addr_name((enum client_addr)e->client_addr));
			printf("\n");
		} else if (format & FMT_STATS) {
			printf("  -> %-28s", dn);
			for (int j = 0; j < 5; j++)
				print_largenum(e->c[VSR_C_CONNS + j], format);
			printf("\n");
		} else if (format & FMT_RATE) {
			printf("  -> %-28s %8llu %8llu %8llu", dn, (unsigned long long)e->c[VSR_C_CPS],
			    (unsigned long long)e->c[VSR_C_INPPS],
			    (unsigned long long)e->c[VSR_C_OUTPPS]);
			print_largenum(e->c[VSR_C_INBPS], format);
			print_largenum(e->c[VSR_C_OUTBPS], format);
			printf("\n");
		} else if (format & FMT_THRESHOLDS) {
			printf("  -> %-28s %-10u %-10u %-10llu %-10llu\n", dn, e->upper, e->lower,
			    (unsigned long long)e->c[VSR_C_ACTIVE],
			    (unsigned long long)e->c[VSR_C_INACTIVE]);
		} else if (format & FMT_PERSISTENTCONN) {
			printf("  -> %-28s %-9llu %-11llu %-10llu %-10llu\n", dn,
			    (unsigned long long)e->c[VSR_C_WEIGHT],
			    (unsigned long long)e->c[VSR_C_PERSIST],
			    (unsigned long long)e->c[VSR_C_ACTIVE],
			    (unsigned long long)e->c[VSR_C_INACTIVE]);
		} else if (format & FMT_TUN_INFO) {
			char ti[16] = "n/a";
			if (e->fwd == FWD_TUN && e->tun_type == CTL_TUN_IPIP)
				snprintf(ti, sizeof(ti), "%s", ctl_tun_names[e->tun_type]);
			else if (e->fwd == FWD_TUN && e->tun_type == CTL_TUN_GUE)
				snprintf(ti, sizeof(ti), "%s:%u:%s", ctl_tun_names[e->tun_type],
				    e->tun_port, tun_flag_words[e->tun_csum]);
			else if (e->fwd == FWD_TUN)
				snprintf(ti, sizeof(ti), "%s:%s", ctl_tun_names[e->tun_type],
				    tun_flag_words[e->tun_csum]);
			printf("  -> %-28s %-7s %-13s %-6llu %-10llu %-10llu\n", dn,
			    fwd_listing_name((enum fwd_method)e->fwd), ti,
			    (unsigned long long)e->c[VSR_C_WEIGHT],
			    (unsigned long long)e->c[VSR_C_ACTIVE],
			    (unsigned long long)e->c[VSR_C_INACTIVE]);
		} else {
			printf("  -> %-28s %-7s %-6llu %-10llu %-10llu", dn,
			    fwd_listing_name((enum fwd_method)e->fwd),
			    (unsigned long long)e->c[VSR_C_WEIGHT],
			    (unsigned long long)e->c[VSR_C_ACTIVE],
			    (unsigned long long)e->c[VSR_C_INACTIVE]);
			/* A flag word at the end, as the service line's "ops". */
			if (e->client_addr != CA_NONE)
				printf(" %s", client_addr_name((enum client_addr)e->client_addr));
			printf("\n");
		}
	}
}

/* The whole table (KEY NULL) or one service, read from the daemon; exits 1 on an error. */
static void
table_get(struct table *t, const struct svc_spec *key)
{
	struct req q = { .len = 0 };

	memset(t, 0, sizeof(*t));
	req_add(&q, "%s", ctl_req_names[CTL_REQ_LIST]);
	if (key)
		req_svc_key(&q, key);
	if (transact(q.buf, table_line, t) < 0 || t->bad) {
		table_free(t);
		exit(1);
	}
}

static void
list_all(unsigned format)
{
	struct table t;

	table_get(&t, NULL);
	if (!(format & FMT_RULE))
		printf("IP Virtual Server version " IPVS_VERSION_STR " (size=%u)\n", t.size);
	if (!(format & FMT_NOSORT) && t.n > 1)
		qsort(t.s, t.n, sizeof(*t.s), svc_cmp);
	print_title(format);
	for (size_t i = 0; i < t.n; i++)
		print_service(&t.s[i], format);
	table_free(&t);
}

static void
list_service(const struct svc_spec *key, unsigned format)
{
	struct table t;

	table_get(&t, key);
	print_title(format);
	for (size_t i = 0; i < t.n; i++)
		print_service(&t.s[i], format);
	table_free(&t);
}

static void
conn_line(char *line, void *arg)
{
	unsigned format = *(unsigned *)arg;
	char copy[CTL_LINE_MAX], *w[CTL_CONN_NFIELDS + 2], c[60], v[60], d[60], exp[16];
	struct ctl_addr ca, va, da;
	unsigned e, n;
	int proto;

	snprintf(copy, sizeof(copy), "%s", line);
	n = (unsigned)split(line, w, CTL_CONN_NFIELDS + 2);
	if (n == 2 && strcmp(w[0], CTL_TAG_TRUNCATED) == 0 && uint_of(w[1], &e) == 0) {
		fprintf(stderr, "%s: only the first %u connections are listed\n", prog, e);
		return;
	}
	if (n != CTL_CONN_NFIELDS + 1 || strcmp(w[0], CTL_TAG_CONN) != 0 ||
	    (proto = ctl_lookup(ctl_kind_names, CTL_KIND_MAX, w[1 + CTL_CONN_PROTO])) < 0 ||
	    ctl_addr_parse(w[1 + CTL_CONN_CLIENT], &ca) < 0 ||
	    ctl_addr_parse(w[1 + CTL_CONN_VIRTUAL], &va) < 0 ||
	    ctl_addr_parse(w[1 + CTL_CONN_DEST], &da) < 0 ||
	    uint_of(w[1 + CTL_CONN_EXPIRE], &e) < 0) {
		fprintf(stderr, "%s: cannot read vsrouted's answer: %s\n", prog, copy);
		return;
	}
	proto = proto == CTL_KIND_UDP ? IPPROTO_UDP : proto == CTL_KIND_SCTP ? IPPROTO_SCTP :
	    IPPROTO_TCP;
	snprintf(exp, sizeof(exp), "%02u:%02u", e / 60, e % 60);
	printf("%-3s %-6s %-11s %-18s %-18s %s\n", proto_name(proto), exp, w[1 + CTL_CONN_STATE],
	    addrport_name(&ca, proto, format, c), addrport_name(&va, proto, format, v),
	    addrport_name(&da, proto, format, d));
}

static void
list_conn(unsigned format)
{
	printf("IPVS connection entries\n");
	if (format & FMT_PERSISTENTCONN)
		printf("pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source", "virtual",
		    "destination", "pe name", "pe_data");
	else
		printf("pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual",
		    "destination");
	fflush(stdout);
	if (transact(ctl_req_names[CTL_REQ_CONNS], conn_line, &format) < 0)
		exit(1);
}

static void
timeout_line(char *line, void *arg)
{
	char *w[CTL_TIMEOUT_NFIELDS + 2];
	unsigned t[CTL_TIMEOUT_NFIELDS];

	(void)arg;
	if (split(line, w, CTL_TIMEOUT_NFIELDS + 1) == CTL_TIMEOUT_NFIELDS + 1 &&
	    strcmp(w[0], CTL_TAG_TIMEOUT) == 0 && uint_of(w[1], &t[0]) == 0 &&
	    uint_of(w[2], &t[1]) == 0 && uint_of(w[3], &t[2]) == 0)
		printf("Timeout (tcp tcpfin udp): %u %u %u\n", t[CTL_TIMEOUT_TCP],
		    t[CTL_TIMEOUT_TCPFIN], t[CTL_TIMEOUT_UDP]);
}

static void
daemon_line(char *line, void *arg)
{
	char *w[CTL_DAEMON_NFIELDS + 2];
	unsigned id, maxlen, port, ttl;

	(void)arg;
	if (split(line, w, CTL_DAEMON_NFIELDS + 1) != CTL_DAEMON_NFIELDS + 1 ||
	    strcmp(w[0], CTL_TAG_DAEMON) != 0 || uint_of(w[1 + CTL_DAEMON_SYNCID], &id) < 0 ||
	    uint_of(w[1 + CTL_DAEMON_MAXLEN], &maxlen) < 0 ||
	    uint_of(w[1 + CTL_DAEMON_PORT], &port) < 0 || uint_of(w[1 + CTL_DAEMON_TTL], &ttl) < 0)
		return;
	printf("%s sync daemon (mcast=%s, syncid=%u", w[1 + CTL_DAEMON_STATE],
	    w[1 + CTL_DAEMON_IFN], id);
	if (maxlen)
		printf(", maxlen=%u", maxlen);
	if (strcmp(w[1 + CTL_DAEMON_GROUP], "-"))
		printf(", group=%s", w[1 + CTL_DAEMON_GROUP]);
	if (strcmp(w[1 + CTL_DAEMON_PEER], "-"))
		printf(", peer=%s", w[1 + CTL_DAEMON_PEER]);  /* vsrouted's unicast, not ipvsadm's */
	if (port)
		printf(", port=%u", port);
	if (ttl)
		printf(", ttl=%u", ttl);
	printf(")\n");
}

/* ---------------------------------------------------------------- commands */

static int process_options(int argc, char **argv, int reading_stdin);
static const char *base_name(const char *p);
static void role_line(char *line, void *arg);

/* A request that changes something; -1 after the daemon's refusal. */
static int
run_change(const struct entry *ce)
{
	static const enum ctl_req reqs[CMD_MAX] = {
		[CMD_ADD] = CTL_REQ_SVC_ADD, [CMD_EDIT] = CTL_REQ_SVC_EDIT,
		[CMD_DEL] = CTL_REQ_SVC_DEL, [CMD_ADDDEST] = CTL_REQ_DEST_ADD,
		[CMD_EDITDEST] = CTL_REQ_DEST_EDIT, [CMD_DELDEST] = CTL_REQ_DEST_DEL,
		[CMD_FLUSH] = CTL_REQ_CLEAR, [CMD_ZERO] = CTL_REQ_ZERO, [CMD_TIMEOUT] = CTL_REQ_SET,
		[CMD_STARTDAEMON] = CTL_REQ_DAEMON_START, [CMD_STOPDAEMON] = CTL_REQ_DAEMON_STOP,
	};
	const struct svc_spec *s = &ce->svc;
	const struct dest_spec *d = &ce->dest;
	struct req q = { .len = 0 };
	char a[CTL_ADDR_STRLEN];

	req_add(&q, "%s", ctl_req_names[reqs[ce->cmd]]);
	switch (ce->cmd) {
	case CMD_ADD:
	case CMD_EDIT:
		/* Names go as they are: one that cannot be sent cannot exist either. */
		check_name(s->sched, CTL_E_SCHED, 255);
		if (s->pe[0])
			check_name(s->pe, CTL_E_SCHED, 255);
		req_svc_key(&q, s);
		req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_SCHED], s->sched);
		if (s->sched_flags)
			req_add(&q, "%s=%u", ctl_opt_names[CTL_OPT_FLAGS], s->sched_flags);
		if (s->persistent) {
			req_add(&q, "%s=%u", ctl_opt_names[CTL_OPT_PERSISTENT], s->persistent);
			if (s->af == AF_INET6)
				req_add(&q, "%s=%u", ctl_opt_names[CTL_OPT_NETMASK], s->netmask);
			else
				req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_NETMASK],
				    inet_ntoa((struct in_addr){ .s_addr = s->netmask }));
		}
		if (s->pe[0])
			req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_PE], s->pe);
		if (s->ops)
			req_add(&q, "%s=1", ctl_opt_names[CTL_OPT_OPS]);
		break;
	case CMD_DEL:
		req_svc_key(&q, s);
		break;
	case CMD_ZERO:
		if (ce->options & O(SERVICE))
			req_svc_key(&q, s);
		break;
	case CMD_ADDDEST:
	case CMD_EDITDEST:
	case CMD_DELDEST: {
		struct ctl_addr ra = { .af = d->af, .u.v6 = d->addr.v6, .port = d->port };
		if (d->af == AF_INET)
			ra.u.v4 = d->addr.v4;
		req_svc_key(&q, s);
		req_add(&q, "%s", ctl_addr_format(&ra, a, sizeof(a)));
		if (ce->cmd == CMD_DELDEST)
			break;
		req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_FWD], fwd_name(d->fwd));
		req_add(&q, "%s=%d", ctl_opt_names[CTL_OPT_WEIGHT], d->weight);
		if (d->upper)
			req_add(&q, "%s=%u", ctl_opt_names[CTL_OPT_UPPER], d->upper);
		if (d->lower)
			req_add(&q, "%s=%u", ctl_opt_names[CTL_OPT_LOWER], d->lower);
		if (d->fwd == FWD_TUN) {
			req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_TUN_TYPE], ctl_tun_names[d->tun_type]);
			if (d->tun_port)
				req_add(&q, "%s=%u", ctl_opt_names[CTL_OPT_TUN_PORT], d->tun_port);
			if (d->tun_csum != CTL_CSUM_NO)
				req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_TUN_CSUM],
				    ctl_csum_names[d->tun_csum]);
		}
		if (d->client_addr != CA_NONE)
			req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_CLIENT_ADDR],
			    client_addr_name((enum client_addr)d->client_addr));
		break;
	}
	case CMD_TIMEOUT:
		for (int i = 0; i < 3; i++)
			req_add(&q, "%u", ce->timeout[i]);
		break;
	case CMD_STARTDAEMON:
		req_add(&q, "%s", ce->daemon.state);
		check_name(ce->daemon.ifn, CTL_E_INVAL, 255);
		req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_MCAST_IFN], ce->daemon.ifn);
		if (ce->options & O(SYNCID))
			req_add(&q, "%s=%d", ctl_opt_names[CTL_OPT_SYNCID], ce->daemon.syncid);
		if (ce->daemon.maxlen)
			req_add(&q, "%s=%d", ctl_opt_names[CTL_OPT_MAXLEN], ce->daemon.maxlen);
		if (ce->daemon.group)
			req_add(&q, "%s=%s", ctl_opt_names[CTL_OPT_GROUP], ce->daemon.group);
		if (ce->daemon.port)
			req_add(&q, "%s=%d", ctl_opt_names[CTL_OPT_PORT], ce->daemon.port);
		if (ce->daemon.ttl)
			req_add(&q, "%s=%d", ctl_opt_names[CTL_OPT_TTL], ce->daemon.ttl);
		break;
	case CMD_STOPDAEMON:
		req_add(&q, "%s", ce->daemon.state);
		if (ce->options & O(SYNCID))
			req_add(&q, "%s=%d", ctl_opt_names[CTL_OPT_SYNCID], ce->daemon.syncid);
		break;
	default:
		break;
	}
	return transact(q.buf, NULL, NULL);
}

/*
 * -R: each line of stdin is a command line (without the program's name;
 * the word "ipvsadm" is dropped wherever it stands, as ipvsadm drops it).
 * A bad command line ends it as it would end ipvsadm (status 2); a refusal
 * by the daemon is said and the next line is read; the status is the last
 * line's. A line longer than RESTORE_LINE_MAX is refused with its number.
 */
static int
restore_table(int reading_stdin)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int result = 0;

	if (reading_stdin)
		tryhelp_exit(255);
	while ((len = getline(&line, &cap, restore_in)) > 0) {
		char **argv, *save;
		int argc = 1;

		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > RESTORE_LINE_MAX)
			fail(2, "%s: line %u is longer than %d bytes", prog, lineno, RESTORE_LINE_MAX);
		if ((argv = calloc((size_t)len / 2 + 3, sizeof(char *))) == NULL)
			fail(2, "%s: out of memory", prog);
		argv[0] = (char *)prog;
		for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save))
			if (strcmp(t, "ipvsadm") != 0)
				argv[argc++] = t;
		argv[argc] = NULL;
		if (argc > 1)
			result = process_options(argc, argv, 1);
		free(argv);
	}
	free(line);
	return result;
}

static int
process_options(int argc, char **argv, int reading_stdin)
{
	struct entry ce;

	memset(&ce, 0, sizeof(ce));
	ce.dest.weight = 1;
	ce.dest.fwd = FWD_DR;
	ce.dest.tun_type = CTL_TUN_IPIP;
	ce.svc.netmask = 0xffffffffu;

	if (parse_options(argc, argv, &ce) < 0)
		return -1;
	generic_opt_check(&ce);

	if (ce.cmd == CMD_ADD || ce.cmd == CMD_EDIT) {
		if (!ce.svc.fwmark && !ce.svc.port && !ce.svc.persistent)
			fail(2, "Zero port specified for non-persistent service");
		if (ce.svc.ops && !ce.svc.fwmark && ce.svc.protocol != IPPROTO_UDP)
			fail(2, "One-Packet Scheduling is only for UDP virtual services");
		if (ce.svc.sched[0] == '\0')
			snprintf(ce.svc.sched, sizeof(ce.svc.sched), "%s", DEF_SCHED);
	}
	if (ce.cmd == CMD_STARTDAEMON && ce.daemon.ifn[0] == '\0')
		snprintf(ce.daemon.ifn, sizeof(ce.daemon.ifn), "%s", DEF_MCAST_IFN);
	if (ce.cmd == CMD_ADDDEST || ce.cmd == CMD_EDITDEST) {
		/* dr and tun leave the port as it is: the service's, whatever -r said. */
		if (!ce.svc.fwmark && (ce.dest.fwd == FWD_TUN || ce.dest.fwd == FWD_DR))
			ce.dest.port = ce.svc.port;
		if (ce.dest.af != ce.svc.af && ce.dest.fwd != FWD_TUN)
			fail(2, "Different address family is allowed only for tunneling servers");
		if ((ce.options & (O(TUN_TYPE) | O(TUN_PORT) | O(TUN_NOCSUM) | O(TUN_CSUM) |
		    O(TUN_REMCSUM))) && ce.dest.fwd != FWD_TUN)
			fail(2, "Tunnel options conflict with forward method");
		tunnel_opt_check(&ce);
		if (ce.dest.client_addr != CA_NONE && ce.dest.fwd != FWD_FULLNAT)
			fail(2, "Client address option conflicts with forward method");
	}

	switch (ce.cmd) {
	case CMD_LIST:
		if (((ce.options & (O(CONNECTION) | O(TIMEOUT) | O(DAEMON))) &&
		    (ce.options & (O(STATS) | O(RATE) | O(THRESHOLDS)))) ||
		    ((ce.options & (O(TIMEOUT) | O(DAEMON))) && (ce.options & O(PERSISTENTCONN))))
			fail(2, "options conflicts in the list command");
		if (ce.options & O(CONNECTION))
			list_conn(ce.format);
		else if (ce.options & O(SERVICE))
			list_service(&ce.svc, ce.format);
		else if (ce.options & O(TIMEOUT)) {
			if (transact(ctl_req_names[CTL_REQ_TIMEOUT], timeout_line, NULL) < 0)
				exit(1);
		} else if (ce.options & O(DAEMON)) {
			int seen = 0;

			if (transact(ctl_req_names[CTL_REQ_DAEMON], daemon_line, NULL) < 0)
				exit(1);
			/* vsradm says the director's role after ipvsadm's lines; ipvsadm does not. */
			if (strcmp(base_name(prog), "ipvsadm") != 0) {
				fputs("role: ", stdout);
				if (transact(ctl_req_names[CTL_REQ_ROLE], role_line, &seen) < 0 || !seen)
					exit(1);
			}
		} else
			list_all(ce.format);
		fflush(stdout);
		return 0;
	case CMD_RESTORE:
		return restore_table(reading_stdin);
	case CMD_SAVE:
		list_all(ce.format | FMT_RULE);
		fflush(stdout);
		return 0;
	default:
		return run_change(&ce);
	}
}

/* ---------------------------------------------------------------- main */

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* ipvsadm-save [-n]: ipvsadm -S [-n]; any other option: its help, status 1. The exit status. */
static int
save_main(int argc, char **argv)
{
	char *args[] = { (char *)prog, "-S", NULL, NULL };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0)
			args[2] = "-n";
		else if (argv[i][0] == '-') {
			fprintf(stderr, "%s: Script to save the IPVS table to stdout.\n"
			    "   With the -n option, prints out the table in numeric format.\n",
			    base_name(prog));
			return 1;
		}
	}
	return process_options(args[2] ? 3 : 2, args, 0) ? 255 : 0;
}

/*
 * ipvsadm-restore: the lines of stdin but those starting with '#' are
 * restored into a cleared table (ipvsadm -C, then ipvsadm -R). The exit
 * status.
 */
static int
restore_main(void)
{
	char *in = NULL, *line = NULL;
	size_t insize = 0, cap = 0;
	ssize_t n;
	FILE *f = open_memstream(&in, &insize);
	char *clear[] = { (char *)prog, "-C", NULL }, *rest[] = { (char *)prog, "-R", NULL };
	int rc;

	if (f == NULL)
		fail(2, "%s: out of memory", prog);
	while ((n = getline(&line, &cap, stdin)) > 0)
		if (line[0] != '#')
			fwrite(line, 1, (size_t)n, f);
	free(line);
	fclose(f);
	(void)process_options(2, clear, 0);
	if (insize == 0) {              /* nothing to restore */
		free(in);
		return 0;
	}
	if ((restore_in = fmemopen(in, insize, "r")) == NULL)
		fail(2, "%s: out of memory", prog);
	rc = process_options(2, rest, 0);
	fclose(restore_in);
	free(in);
	return rc ? 255 : 0;
}

static void
role_line(char *line, void *arg)
{
	char *w[3];

	if (split(line, w, 2) == 2 && strcmp(w[0], CTL_TAG_ROLE) == 0) {
		printf("%s\n", w[1]);
		*(int *)arg = 1;
	}
}

/*
 * vsradm --role [master|backup]: vsradm's own (keepalived's notify
 * scripts call it). Alone it prints the role; with a word it switches.
 * Exit status 0; 2 for a bad command line; 255 when the daemon refuses;
 * 1 when it cannot be asked.
 */
static int
role_main(int argc, char **argv)
{
	char req[64];
	int seen = 0;

	if (argc > 3 || (argc == 3 && role_parse(argv[2]) < 0)) {
		fprintf(stderr, "%s: --role takes master or backup, or nothing\n", prog);
		return 2;
	}
	snprintf(req, sizeof(req), "%s%s%s", ctl_req_names[CTL_REQ_ROLE], argc == 3 ? " " : "",
	    argc == 3 ? argv[2] : "");
	if (transact(req, argc == 3 ? NULL : role_line, &seen) < 0)
		return 255;
	if (argc == 2 && !seen) {
		fprintf(stderr, "%s: vsrouted did not say its role\n", prog);
		return 1;
	}
	return 0;
}

/* --socket PATH (or --socket=PATH) anywhere: vsradm's own, taken out before ipvsadm's rules. */
static int
take_socket(int argc, char **argv)
{
	int j = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--socket") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr, "%s: %s\n", argv[i], popt_strerror(POPT_NOARG));
				exit(255);
			}
			sockpath = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			sockpath = argv[i] + 9;
		} else {
			argv[j++] = argv[i];
		}
	}
	argv[j] = NULL;
	return j;
}

int
main(int argc, char **argv)
{
	const char *name;

	if (argc > 1 && strcmp(argv[1], "--import-keepalived") == 0)
		return kaimport_main(argc, argv);

	prog = argv[0] ? argv[0] : "vsradm";
	name = base_name(prog);
	sockpath = getenv("VSRADM_SOCKET");
	if (sockpath == NULL || *sockpath == '\0') {
		/* The default path, else the systemd unit's. */
		sockpath = VSR_DEFAULT_SOCKET;
		if (access(VSR_DEFAULT_SOCKET, F_OK) < 0 && access(VSR_UNIT_SOCKET, F_OK) == 0)
			sockpath = VSR_UNIT_SOCKET;
	}
	argc = take_socket(argc, argv);

	restore_in = stdin;
	if (argc > 1 && strcmp(argv[1], "--role") == 0)
		return role_main(argc, argv);
	if (strcmp(name, "ipvsadm-save") == 0)
		return save_main(argc, argv);
	if (strcmp(name, "ipvsadm-restore") == 0)
		return restore_main();
	if (argc == 1) {
		list_all(0);            /* ipvsadm alone lists, names resolved */
		return 0;
	}
	return process_options(argc, argv, 0) ? 255 : 0;
}
