/* vsradm.c - ipvsadm's language over vsrouted's control socket (ctl.h has the protocol) */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"
#include "kaimport.h"

#define LINE_MAX_ 1024

enum cmd { CMD_NONE, CMD_ADD_SVC, CMD_EDIT_SVC, CMD_DEL_SVC, CMD_CLEAR, CMD_RESTORE,
	CMD_SAVE, CMD_ADD_DEST, CMD_EDIT_DEST, CMD_DEL_DEST, CMD_LIST, CMD_ZERO, CMD_SET,
	CMD_TIMEOUT, CMD_CONNS };

#define FMT_STATS 0x1
#define FMT_RATE  0x2
#define FMT_EXACT 0x4

struct req {
	enum cmd cmd;
	const char *proto;         /* "tcp" / "udp", NULL: no -t/-u */
	char svc[32];              /* ADDR:PORT */
	char dest[32];
	char opts[512];            /* " key=value" ... */
	unsigned format;
	const char *set[3];
};

static const char *sockpath = VSR_DEFAULT_SOCKET;
static FILE *sock_in, *sock_out;

static void __attribute__((noreturn))
die(const char *msg)
{
	fprintf(stderr, "%s\n", msg);
	exit(1);
}

static void __attribute__((noreturn))
usage(FILE *f, int rc)
{
	fprintf(f,
	    "usage: vsradm [--socket PATH] COMMAND [OPTIONS]\n"
	    "  vsradm -A|E -t|u service-address [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags]\n"
	    "  vsradm -D -t|u service-address\n"
	    "  vsradm -C\n"
	    "  vsradm -R\n"
	    "  vsradm -S [-n]\n"
	    "  vsradm -a|e -t|u service-address -r server-address [-g|i|m|--fullnat] [-w weight] [-x upper] [-y lower]\n"
	    "  vsradm -d -t|u service-address -r server-address\n"
	    "  vsradm -L|l [-t|u service-address] [-n] [--stats] [--exact]\n"
	    "  vsradm -L|l -c [-n]\n"
	    "  vsradm -L|l --timeout\n"
	    "  vsradm -Z [-t|u service-address]\n"
	    "  vsradm --set tcp tcpfin udp\n"
	    "  vsradm -h\n");
	exit(rc);
}

static void
sock_open(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (sock_in)
		return;
	if (strlen(sockpath) >= sizeof(sun.sun_path))
		die("vsradm: socket path too long");
	/* Without --socket: the default path, else the systemd unit's. */
	if (strcmp(sockpath, VSR_DEFAULT_SOCKET) == 0 && access(VSR_DEFAULT_SOCKET, F_OK) < 0 &&
	    access(VSR_UNIT_SOCKET, F_OK) == 0)
		sockpath = VSR_UNIT_SOCKET;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockpath);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "vsradm: cannot reach vsrouted at %s: %s\n"
		    "Is vsrouted running (vsradm --socket PATH for another socket)?\n",
		    sockpath, strerror(errno));
		exit(1);
	}
	sock_in = fdopen(fd, "r");
	sock_out = fdopen(dup(fd), "w");
	if (sock_in == NULL || sock_out == NULL)
		die("vsradm: out of memory");
}

/*
 * Send one request; the data lines of the answer are handed to FN (when
 * not NULL). Returns 0 on "ok"; on "err MSG" prints MSG and returns -1.
 */
static int
transact(const char *request, void (*fn)(char *line, void *arg), void *arg)
{
	char line[LINE_MAX_ * 4];

	sock_open();
	if (fprintf(sock_out, "%s\n", request) < 0 || fflush(sock_out) != 0)
		die("vsradm: the daemon closed the control socket");
	while (fgets(line, sizeof(line), sock_in)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "ok") == 0)
			return 0;
		if (strncmp(line, "err ", 4) == 0) {
			fprintf(stderr, "%s\n", line + 4);
			return -1;
		}
		if (fn)
			fn(line, arg);
	}
	die("vsradm: the daemon closed the control socket");
}

/* ---- listings, in ipvsadm's layout ---- */

static void
print_num(unsigned long long n, unsigned format)
{
	if (format & FMT_EXACT) {
		int len = snprintf(NULL, 0, "%llu", n);
		printf("%*llu", len <= 8 ? 9 : len + 1, n);
	} else if (n < 100000000ULL)
		printf("%9llu", n);
	else if (n < 1000000000ULL)
		printf("%8lluK", n / 1000);
	else if (n < 100000000000ULL)
		printf("%8lluM", n / 1000000);
	else if (n < 100000000000000ULL)
		printf("%8lluG", n / 1000000000ULL);
	else
		printf("%8lluT", n / 1000000000000ULL);
}

struct list_ctx {
	const struct req *r;
	int shown;                 /* the current service is shown */
	int found;
	char svc[32];              /* ADDR:PORT of the current service */
	char proto[8];
};

static const char *
upper(const char *proto)
{
	return strcmp(proto, "udp") == 0 ? "UDP" : "TCP";
}

static void
list_line(char *line, void *arg)
{
	struct list_ctx *x = arg;
	const struct req *r = x->r;
	char ap[32], sched[32], mask[32], flags[80], fwd[16], tun[8];
	unsigned long long st[5], rt[5] = { 0 };
	unsigned pers, size;
	int w;
	unsigned up, lo, act, inact;

	if (sscanf(line, "size %u", &size) == 1) {
		if (r->cmd == CMD_SAVE)
			return;
		printf("IP Virtual Server version 1.2.1 (size=%u)\n", size);
		if (r->format & FMT_STATS)
			printf("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			    "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes",
			    "OutBytes");
		else if (r->format & FMT_RATE)
			printf("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			    "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
		else
			printf("Prot LocalAddress:Port Scheduler Flags\n"
			    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
	} else if (sscanf(line, "svc %7s %31s %31s %u %31s %79s %llu %llu %llu %llu %llu"
	    " %llu %llu %llu %llu %llu", x->proto, ap, sched, &pers, mask, flags, &st[0], &st[1],
	    &st[2], &st[3], &st[4], &rt[0], &rt[1], &rt[2], &rt[3], &rt[4]) >= 11) {
		snprintf(x->svc, sizeof(x->svc), "%s", ap);
		x->shown = r->proto == NULL || (strcmp(r->proto, x->proto) == 0 &&
		    strcmp(r->svc, ap) == 0);
		if (!x->shown)
			return;
		x->found = 1;
		if (r->cmd == CMD_SAVE) {
			printf("-A %s %s -s %s", strcmp(x->proto, "udp") ? "-t" : "-u", ap, sched);
			if (strcmp(flags, "-"))
				printf(" -b %s", flags);
			if (pers) {
				printf(" -p %u", pers);
				if (strcmp(mask, "255.255.255.255"))
					printf(" -M %s", mask);
			}
			printf("\n");
		} else if (r->format & FMT_STATS) {
			char name[64];
			snprintf(name, sizeof(name), "%s  %s", upper(x->proto), ap);
			printf("%-33s", name);
			for (int i = 0; i < 5; i++)
				print_num(st[i], r->format);
			printf("\n");
		} else if (r->format & FMT_RATE) {
			char name[64];
			snprintf(name, sizeof(name), "%s  %s", upper(x->proto), ap);
			printf("%-33s", name);
			for (int i = 0; i < 5; i++)
				print_num(rt[i], r->format);
			printf("\n");
		} else {
			printf("%s  %s %s", upper(x->proto), ap, sched);
			if (strcmp(flags, "-"))
				printf(" (%s)", flags);
			if (pers) {
				printf(" persistent %u", pers);
				if (strcmp(mask, "255.255.255.255"))
					printf(" mask %s", mask);
			}
			printf("\n");
		}
	} else if (sscanf(line, "dest %31s %15s %d %u %u %u %u %llu %llu %llu %llu %llu %7s"
	    " %llu %llu %llu %llu %llu", ap, fwd, &w, &up, &lo, &act, &inact, &st[0], &st[1],
	    &st[2], &st[3], &st[4], tun, &rt[0], &rt[1], &rt[2], &rt[3], &rt[4]) >= 13) {
		int f = fwd_parse(fwd);
		if (!x->shown)
			return;
		if (r->cmd == CMD_SAVE) {
			static const char *const flag[FWD_MAX] = {
				[FWD_DR] = "-g", [FWD_TUN] = "-i", [FWD_NAT] = "-m",
				[FWD_FULLNAT] = "--fullnat" };
			printf("-a %s %s -r %s %s -w %d", strcmp(x->proto, "udp") ? "-t" : "-u",
			    x->svc, ap, f >= 0 ? flag[f] : "-g", w);
			if (f == FWD_TUN && strcmp(tun, "ipip"))
				printf(" --tun-type %s", tun);
			if (up)
				printf(" -x %u", up);
			if (lo)
				printf(" -y %u", lo);
			printf("\n");
		} else if (r->format & FMT_STATS) {
			printf("  -> %-28s", ap);
			for (int i = 0; i < 5; i++)
				print_num(st[i], r->format);
			printf("\n");
		} else if (r->format & FMT_RATE) {
			printf("  -> %-28s", ap);
			for (int i = 0; i < 5; i++)
				print_num(rt[i], r->format);
			printf("\n");
		} else {
			printf("  -> %-28s %-7s %-6d %-10u %-10u\n", ap,
			    fwd_listing_name((enum fwd_method)(f >= 0 ? f : 0)), w, act, inact);
		}
	}
}

static void
conn_line(char *line, void *arg)
{
	char proto[8], c[32], v[32], d[32], state[16];
	unsigned exp, n;

	(void)arg;
	if (sscanf(line, "conn %7s %31s %31s %31s %15s %u", proto, c, v, d, state, &exp) == 6)
		printf("%-3s %02u:%02u  %-11s %-18s %-18s %s\n", upper(proto), exp / 60, exp % 60,
		    state, c, v, d);
	else if (sscanf(line, "truncated %u", &n) == 1)
		fprintf(stderr, "vsradm: only the first %u connections are listed\n", n);
}

static void
timeout_line(char *line, void *arg)
{
	unsigned t[3];

	(void)arg;
	if (sscanf(line, "timeout %u %u %u", &t[0], &t[1], &t[2]) == 3)
		printf("Timeout (tcp tcpfin udp): %u %u %u\n", t[0], t[1], t[2]);
}

/* ---- the command line ---- */

enum { OPT_STATS = 256, OPT_RATE, OPT_EXACT, OPT_TIMEOUT, OPT_SET, OPT_FULLNAT, OPT_SOCKET,
	OPT_TUNTYPE };

static const struct option longopts[] = {
	{ "add-service",     no_argument,       NULL, 'A' },
	{ "edit-service",    no_argument,       NULL, 'E' },
	{ "delete-service",  no_argument,       NULL, 'D' },
	{ "clear",           no_argument,       NULL, 'C' },
	{ "restore",         no_argument,       NULL, 'R' },
	{ "save",            no_argument,       NULL, 'S' },
	{ "add-server",      no_argument,       NULL, 'a' },
	{ "edit-server",     no_argument,       NULL, 'e' },
	{ "delete-server",   no_argument,       NULL, 'd' },
	{ "list",            no_argument,       NULL, 'L' },
	{ "zero",            no_argument,       NULL, 'Z' },
	{ "set",             no_argument,       NULL, OPT_SET },
	{ "tcp-service",     required_argument, NULL, 't' },
	{ "udp-service",     required_argument, NULL, 'u' },
	{ "scheduler",       required_argument, NULL, 's' },
	{ "persistent",      optional_argument, NULL, 'p' },
	{ "netmask",         required_argument, NULL, 'M' },
	{ "sched-flags",     required_argument, NULL, 'b' },
	{ "real-server",     required_argument, NULL, 'r' },
	{ "gatewaying",      no_argument,       NULL, 'g' },
	{ "ipip",            no_argument,       NULL, 'i' },
	{ "masquerading",    no_argument,       NULL, 'm' },
	{ "fullnat",         no_argument,       NULL, OPT_FULLNAT },
	{ "tun-type",        required_argument, NULL, OPT_TUNTYPE },
	{ "weight",          required_argument, NULL, 'w' },
	{ "u-threshold",     required_argument, NULL, 'x' },
	{ "l-threshold",     required_argument, NULL, 'y' },
	{ "numeric",         no_argument,       NULL, 'n' },
	{ "connection",      no_argument,       NULL, 'c' },
	{ "stats",           no_argument,       NULL, OPT_STATS },
	{ "rate",            no_argument,       NULL, OPT_RATE },
	{ "exact",           no_argument,       NULL, OPT_EXACT },
	{ "timeout",         no_argument,       NULL, OPT_TIMEOUT },
	{ "socket",          required_argument, NULL, OPT_SOCKET },
	{ "help",            no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
set_cmd(struct req *r, enum cmd c)
{
	if (r->cmd != CMD_NONE && r->cmd != c)
		die("vsradm: multiple commands specified");
	r->cmd = c;
}

static void
add_opt(struct req *r, const char *fmt, const char *v)
{
	size_t n = strlen(r->opts);

	snprintf(r->opts + n, sizeof(r->opts) - n, fmt, v);
}

static int
parse_addr(char *dst, size_t len, const char *arg, uint16_t defport, const char *what)
{
	uint32_t a;
	uint16_t p = defport;
	char s[INET_ADDRSTRLEN];

	if (addrport_parse(arg, &a, &p, defport == 0) < 0) {
		fprintf(stderr, "Illegal %s address[:port] specified\n", what);
		return -1;
	}
	inet_ntop(AF_INET, &a, s, sizeof(s));
	snprintf(dst, len, "%s:%u", s, p);
	return 0;
}

static int
is_uint(const char *s)
{
	return s && *s && strspn(s, "0123456789") == strlen(s);
}

/* Parse one ipvsadm command line into R; -1 after a message on an error. */
static int
parse_args(int argc, char **argv, struct req *r)
{
	const char *rs = NULL, *svc = NULL;
	int ch;

	memset(r, 0, sizeof(*r));
	optind = 0;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "AEDCRSaedLlZt:u:s:p::M:b:r:gimw:x:y:nch",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'A': set_cmd(r, CMD_ADD_SVC); break;
		case 'E': set_cmd(r, CMD_EDIT_SVC); break;
		case 'D': set_cmd(r, CMD_DEL_SVC); break;
		case 'C': set_cmd(r, CMD_CLEAR); break;
		case 'R': set_cmd(r, CMD_RESTORE); break;
		case 'S': set_cmd(r, CMD_SAVE); break;
		case 'a': set_cmd(r, CMD_ADD_DEST); break;
		case 'e': set_cmd(r, CMD_EDIT_DEST); break;
		case 'd': set_cmd(r, CMD_DEL_DEST); break;
		case 'L': case 'l':
			if (r->cmd != CMD_CONNS && r->cmd != CMD_TIMEOUT)
				set_cmd(r, CMD_LIST);
			break;
		case 'Z': set_cmd(r, CMD_ZERO); break;
		case OPT_SET: set_cmd(r, CMD_SET); break;
		case 'c': r->cmd = CMD_CONNS; break;
		case OPT_TIMEOUT: r->cmd = CMD_TIMEOUT; break;
		case 't': case 'u':
			r->proto = ch == 't' ? "tcp" : "udp";
			svc = optarg;
			break;
		case 's': add_opt(r, " sched=%s", optarg); break;
		case 'p':
			if (optarg == NULL && optind < argc && is_uint(argv[optind]))
				optarg = argv[optind++];
			if (optarg && !is_uint(optarg)) {
				fprintf(stderr, "Illegal timeout for persistent service\n");
				return -1;
			}
			if (optarg)
				add_opt(r, " persistent=%s", optarg);
			else
				add_opt(r, " persistent=%s", "360");
			break;
		case 'M': add_opt(r, " netmask=%s", optarg); break;
		case 'b': add_opt(r, " flags=%s", optarg); break;
		case 'r': rs = optarg; break;
		case 'g': add_opt(r, " fwd=%s", "dr"); break;
		case 'i': add_opt(r, " fwd=%s", "tun"); break;
		case 'm': add_opt(r, " fwd=%s", "nat"); break;
		case OPT_FULLNAT: add_opt(r, " fwd=%s", "fullnat"); break;
		case OPT_TUNTYPE: add_opt(r, " tunnel=%s", optarg); break;
		case 'w': add_opt(r, " weight=%s", optarg); break;
		case 'x': add_opt(r, " upper=%s", optarg); break;
		case 'y': add_opt(r, " lower=%s", optarg); break;
		case 'n': break;              /* always numeric */
		case OPT_STATS: r->format |= FMT_STATS; break;
		case OPT_RATE: r->format |= FMT_RATE; break;
		case OPT_EXACT: r->format |= FMT_EXACT; break;
		case OPT_SOCKET: sockpath = optarg; break;
		case 'h': usage(stdout, 0);
		default: return -1;
		}
	}
	if (r->cmd == CMD_SET) {
		if (argc - optind != 3) {
			fprintf(stderr, "vsradm: --set needs three values: tcp tcpfin udp\n");
			return -1;
		}
		for (int i = 0; i < 3; i++)
			r->set[i] = argv[optind + i];
		optind += 3;
	}
	if (optind != argc) {
		fprintf(stderr, "vsradm: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (r->cmd == CMD_NONE)
		return -1;
	if (svc && parse_addr(r->svc, sizeof(r->svc), svc, 0, "virtual server") < 0)
		return -1;
	switch (r->cmd) {
	case CMD_ADD_SVC: case CMD_EDIT_SVC: case CMD_DEL_SVC:
	case CMD_ADD_DEST: case CMD_EDIT_DEST: case CMD_DEL_DEST:
		if (svc == NULL) {
			fprintf(stderr, "vsradm: a service is needed: -t or -u ADDR:PORT\n");
			return -1;
		}
		break;
	default:
		break;
	}
	if (r->cmd == CMD_ADD_DEST || r->cmd == CMD_EDIT_DEST || r->cmd == CMD_DEL_DEST) {
		uint16_t vport = (uint16_t)atoi(strchr(r->svc, ':') + 1);
		if (rs == NULL) {
			fprintf(stderr, "vsradm: a real server is needed: -r ADDR[:PORT]\n");
			return -1;
		}
		if (parse_addr(r->dest, sizeof(r->dest), rs, vport, "real server") < 0)
			return -1;
	}
	return 0;
}

static int run(const struct req *r);

static int
restore(void)
{
	char line[LINE_MAX_], *argv[64];
	int rc = 0, lineno = 0;

	while (fgets(line, sizeof(line), stdin)) {
		int argc = 1;
		struct req r;
		lineno++;
		argv[0] = "vsradm";
		for (char *save, *t = strtok_r(line, " \t\n", &save); t && argc < 63;
		    t = strtok_r(NULL, " \t\n", &save))
			argv[argc++] = t;
		argv[argc] = NULL;
		if (argc == 1 || argv[1][0] == '#')
			continue;
		if (parse_args(argc, argv, &r) < 0 || r.cmd == CMD_RESTORE || run(&r) != 0) {
			fprintf(stderr, "vsradm: restore: line %d failed\n", lineno);
			rc = 1;
		}
	}
	return rc;
}

static int
run(const struct req *r)
{
	char q[LINE_MAX_];
	struct list_ctx x = { .r = r };

	switch (r->cmd) {
	case CMD_ADD_SVC:
	case CMD_EDIT_SVC:
	case CMD_DEL_SVC:
		snprintf(q, sizeof(q), "svc-%s %s %s%s", r->cmd == CMD_ADD_SVC ? "add" :
		    r->cmd == CMD_EDIT_SVC ? "edit" : "del", r->proto, r->svc,
		    r->cmd == CMD_DEL_SVC ? "" : r->opts);
		return transact(q, NULL, NULL) ? 1 : 0;
	case CMD_ADD_DEST:
	case CMD_EDIT_DEST:
	case CMD_DEL_DEST:
		snprintf(q, sizeof(q), "dest-%s %s %s %s%s", r->cmd == CMD_ADD_DEST ? "add" :
		    r->cmd == CMD_EDIT_DEST ? "edit" : "del", r->proto, r->svc, r->dest,
		    r->cmd == CMD_DEL_DEST ? "" : r->opts);
		return transact(q, NULL, NULL) ? 1 : 0;
	case CMD_CLEAR:
		return transact("clear", NULL, NULL) ? 1 : 0;
	case CMD_ZERO:
		if (r->proto)
			snprintf(q, sizeof(q), "zero %s %s", r->proto, r->svc);
		else
			snprintf(q, sizeof(q), "zero");
		return transact(q, NULL, NULL) ? 1 : 0;
	case CMD_SET:
		snprintf(q, sizeof(q), "set %s %s %s", r->set[0], r->set[1], r->set[2]);
		return transact(q, NULL, NULL) ? 1 : 0;
	case CMD_TIMEOUT:
		return transact("timeout", timeout_line, NULL) ? 1 : 0;
	case CMD_CONNS:
		printf("IPVS connection entries\n");
		printf("pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual",
		    "destination");
		return transact("conns", conn_line, NULL) ? 1 : 0;
	case CMD_LIST:
	case CMD_SAVE:
		if (transact("list", list_line, &x))
			return 1;
		if (r->proto && !x.found) {
			fprintf(stderr, "No such service\n");
			return 1;
		}
		return 0;
	case CMD_RESTORE:
		return restore();
	default:
		return 1;
	}
}

int
main(int argc, char **argv)
{
	struct req r;

	if (argc > 1 && strcmp(argv[1], "--import-keepalived") == 0)
		return kaimport_main(argc, argv);
	if (argc == 1) {
		/* ipvsadm alone lists */
		char *deflt[] = { argv[0], "-L", "-n", NULL };
		argv = deflt;
		argc = 3;
	}
	if (parse_args(argc, argv, &r) < 0) {
		if (r.cmd == CMD_NONE)
			usage(stderr, 2);
		return 1;
	}
	return run(&r);
}
