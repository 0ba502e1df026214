/* test_conf.c - unit test of the vsrouted.conf parser (src/conf.c) */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "svc.h"
#include "conf.h"
#include "log.h"
#include "unit.h"

#define MAX_ERRS 6

static char fixdir[4096];

/* Load PATH with stderr caught; *out gets what conf_load() printed. */
static struct config *
load(const char *path, char **out)
{
	struct config *c;
	FILE          *tmp = tmpfile();
	int            saved = dup(STDERR_FILENO);
	long           n;

	if (tmp == NULL || saved < 0) {
		perror("tmpfile/dup");
		exit(2);
	}
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	c = conf_load(path);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);

	n = ftell(tmp);
	*out = calloc(1, n > 0 ? (size_t)n + 1 : 1);
	rewind(tmp);
	if (n > 0 && fread(*out, 1, (size_t)n, tmp) != (size_t)n)
		(*out)[0] = '\0';
	fclose(tmp);
	return c;
}

/* Write TEXT to a fresh temporary file; its name goes to PATH. */
static void
write_tmp(const char *text, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/test_conf.XXXXXX");
	if ((fd = mkstemp(path)) < 0 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("mkstemp/write");
		exit(2);
	}
	close(fd);
}

static const char *
fixture(const char *name)
{
	static char path[8192];

	snprintf(path, sizeof(path), "%s/%s", fixdir, name);
	return path;
}

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

/*
 * OUT (what conf_load printed for FILE) holds exactly the errors in WANT,
 * in that order, each "LINE: substring" of a line "FILE:LINE: message".
 */
static int
errors_match(const char *file, const char *out, const char *const *want,
    char *why, size_t whylen)
{
	const char *p = out;
	size_t      i;

	for (i = 0; i < MAX_ERRS && want[i]; i++) {
		const char *eol = strchr(p, '\n');
		char        line[1024], prefix[4200];
		long        lno = strtol(want[i], NULL, 10);
		const char *sub = strstr(want[i], ": ");

		if (eol == NULL) {
			snprintf(why, whylen, "error %zu missing", i + 1);
			return 0;
		}
		snprintf(line, sizeof(line), "%.*s", (int)(eol - p), p);
		snprintf(prefix, sizeof(prefix), "%s:%ld: ", file, lno);
		if (strncmp(line, prefix, strlen(prefix)) != 0 ||
		    (sub && strstr(line + strlen(prefix), sub + 2) == NULL)) {
			snprintf(why, whylen, "got \"%s\"", line);
			return 0;
		}
		p = eol + 1;
	}
	if (*p) {
		snprintf(why, whylen, "more output: \"%s\"", p);
		return 0;
	}
	return 1;
}

/* Field by field */

struct num_case {
	const char *what;
	long        got;
	long        want;
};

struct str_case {
	const char *what;
	const char *got;
	const char *want;
};

static void
run_num(const char *file, const struct num_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].got == t[i].want)
			CHECK(1, "%s: %s", file, t[i].what);
		else
			CHECK(0, "%s: %s (got %ld, want %ld)", file, t[i].what,
			    t[i].got, t[i].want);
}

static void
run_str(const char *file, const struct str_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK(strcmp(t[i].got, t[i].want) == 0, "%s: %s (got '%s')",
		    file, t[i].what, t[i].got);
}

/* Everything not in the file takes its documented default. */
static void
test_minimal(void)
{
	const char    *file = "good-minimal.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 1 || c->vs[0].nrs != 1) {
		CHECK(0, "%s: one virtual server with one real server", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *v = &c->vs[0];
	const struct rs_conf *r = &v->rs[0];
	const struct num_case num[] = {
		{ "one announce interface",       c->nannounce,          1 },
		{ "conn_max default 1048576",     c->conn_max,           1048576 },
		{ "workers default 1",            c->workers,            1 },
		{ "offload default true",         c->offload,            1 },
		{ "sloppy_tcp default no",        c->sloppy_tcp,         0 },
		{ "drain_timeout default 0",      c->drain_timeout,      0 },
		{ "announce_table default 0",     c->announce_table,     0 },
		{ "timeout tcp default 900",      c->timeout_tcp,        900 },
		{ "timeout tcp_fin default 120",  c->timeout_tcp_fin,    120 },
		{ "timeout udp default 300",      c->timeout_udp,        300 },
		{ "vs line",                      v->line,               4 },
		{ "vs address",                   v->addr.ip,        ip("10.10.0.100") },
		{ "vs port",                      v->port,               80 },
		{ "protocol default tcp",         v->proto,              IPPROTO_TCP },
		{ "persistent default 0",         v->persistent,         0 },
		{ "netmask default /32",          v->netmask.ip,     ip("255.255.255.255") },
		{ "no scheduler flags",           v->flags,              0 },
		{ "mh_table_size default 65537",  v->mh_size,            65537 },
		{ "rs upper default 0",           r->upper,              0 },
		{ "rs lower default 0",           r->lower,              0 },
		{ "forward default dr",           v->fwd,                FWD_DR },
		{ "tunnel default ipip",          v->tunnel,             TUNNEL_IPIP },
		{ "rs line",                      r->line,               7 },
		{ "rs address",                   r->addr.ip,        ip("10.10.0.11") },
		{ "rs port defaults to the service port", r->port,       80 },
		{ "rs weight default 1",          r->weight,             1 },
		{ "rs forward defaults to the service's", r->fwd,        FWD_DR },
	};
	const struct str_case str[] = {
		{ "tap default vsr0",             c->tap,                "vsr0" },
		{ "announce eth0",                c->announce[0],        "eth0" },
		{ "file is the path as given",    c->file,               fixture(file) },
		{ "vs name",                      v->name,               "web" },
		{ "scheduler default wlc",        v->sched,              "wlc" },
		{ "rs name",                      r->name,               "rs1" },
	};

	run_num(file, num, ARRAY_SIZE(num));
	run_str(file, str, ARRAY_SIZE(str));
	free(out);
	conf_free(c);
}

/* nat, fullnat and dr side by side; port mapping; the local_address pool. */
static void
test_nat(void)
{
	const char    *file = "good-nat.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 2 || c->vs[0].nrs != 3 || c->vs[1].nrs != 1) {
		CHECK(0, "%s: two virtual servers with 3 and 1 real servers", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *v = &c->vs[0], *u = &c->vs[1];
	const struct num_case num[] = {
		{ "two local addresses",          c->nladdr,             2 },
		{ "first local address",          c->laddr[0].addr.ip,    ip("10.20.0.250") },
		{ "second local address",         c->laddr[1].addr.ip,    ip("10.20.0.251") },
		{ "vs forward nat",               v->fwd,                FWD_NAT },
		{ "rs1 inherits nat",             v->rs[0].fwd,          FWD_NAT },
		{ "rs1 port 8080",                v->rs[0].port,         8080 },
		{ "rs2 fullnat",                  v->rs[1].fwd,          FWD_FULLNAT },
		{ "rs2 port 8081",                v->rs[1].port,         8081 },
		{ "rs3 dr",                       v->rs[2].fwd,          FWD_DR },
		{ "rs3 port is the service's",    v->rs[2].port,         80 },
		{ "udp service fullnat",          u->rs[0].fwd,          FWD_FULLNAT },
		{ "udp rs port 5353",             u->rs[0].port,         5353 },
	};

	run_num(file, num, ARRAY_SIZE(num));
	free(out);
	conf_free(c);
}

/* client_address: the service's for its fullnat real servers, overridden per real server. */
static void
test_client_addr(void)
{
	const char    *file = "good-client-address.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 2 || c->vs[0].nrs != 4 || c->vs[1].nrs != 2) {
		CHECK(0, "%s: two virtual servers with 4 and 2 real servers", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *v = &c->vs[0], *u = &c->vs[1];
	const struct num_case num[] = {
		{ "service proxy-v2",               v->client_addr,           CA_PROXY_V2 },
		{ "rs1 inherits proxy-v2",          v->rs[0].client_addr,     CA_PROXY_V2 },
		{ "rs2 says toa",                   v->rs[1].client_addr,     CA_TOA },
		{ "rs3 says none",                  v->rs[2].client_addr,     CA_NONE },
		{ "a nat rs4 inherits nothing",     v->rs[3].client_addr,     CA_NONE },
		{ "the sorry server inherits it",   v->sorry.client_addr,     CA_PROXY_V2 },
		{ "udp: none by default",           u->client_addr,           CA_NONE },
		{ "udp rs1 proxy-v2 (any case)",    u->rs[0].client_addr,     CA_PROXY_V2 },
		{ "udp rs2 (nat) none",             u->rs[1].client_addr,     CA_NONE },
	};

	run_num(file, num, ARRAY_SIZE(num));
	CHECK(strcmp(client_addr_name(CA_PROXY_V2), "proxy-v2") == 0 &&
	    strcmp(client_addr_name(CA_TOA), "toa") == 0 && client_addr_parse("TOA") == CA_TOA &&
	    client_addr_parse("proxy") == -1, "client_address names both ways");
	free(out);
	conf_free(c);
}

/* ADDR (either family) as written: the same bytes as the config's. */
static int
same_addr(int af, const union vsr_addr *a, const char *want)
{
	union vsr_addr w;
	int waf;

	return addr_pton(want, &waf, &w) == 0 && waf == af && addr_eq(a, &w);
}

/* IPv6 services in every mode beside an IPv4 one, a pool of both families. */
static void
test_ipv6(void)
{
	const char    *file = "good-ipv6.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 2 || c->vs[0].nrs != 4 || c->vs[1].nrs != 1) {
		CHECK(0, "%s: two virtual servers with 4 and 1 real servers", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *v = &c->vs[0], *u = &c->vs[1];
	const struct num_case num[] = {
		{ "three local addresses",        c->nladdr,             3 },
		{ "the first is IPv4",            c->laddr[0].af,        AF_INET },
		{ "the second IPv6",              same_addr(c->laddr[1].af, &c->laddr[1].addr,
		                                  "2001:db8:20::250"), 1 },
		{ "the third, in brackets, IPv6", same_addr(c->laddr[2].af, &c->laddr[2].addr,
		                                  "2001:db8:20::251"), 1 },
		{ "web6 is IPv6",                 same_addr(v->af, &v->addr, "2001:db8::100"), 1 },
		{ "web6 netmask /64",             addr_mask_plen(AF_INET6, &v->netmask), 64 },
		{ "rs1 IPv6, port 8080",          same_addr(v->rs[0].af, &v->rs[0].addr,
		                                  "2001:db8:20::11") && v->rs[0].port == 8080, 1 },
		{ "rs2 in brackets",              same_addr(v->rs[1].af, &v->rs[1].addr,
		                                  "2001:db8:20::12"), 1 },
		{ "rs2 fullnat",                  v->rs[1].fwd,          FWD_FULLNAT },
		{ "rs3 dr",                       v->rs[2].fwd,          FWD_DR },
		{ "rs4 tun over gre",             v->rs[3].fwd == FWD_TUN && v->rs[3].tunnel ==
		                                  TUNNEL_GRE, 1 },
		{ "the sorry server IPv6",        v->has_sorry && same_addr(v->sorry.af,
		                                  &v->sorry.addr, "2001:db8:20::50"), 1 },
		{ "web4 is IPv4",                 same_addr(u->af, &u->addr, "10.10.0.100"), 1 },
		{ "web4 netmask default /32",     addr_mask_plen(AF_INET, &u->netmask), 32 },
		{ "web4's real server IPv4",      u->rs[0].af,           AF_INET },
	};

	run_num(file, num, ARRAY_SIZE(num));
	free(out);
	conf_free(c);
}

/* Persistence, scheduler flags, the Maglev table, thresholds. */
static void
test_sched_keys(void)
{
	const char    *file = "good-sched.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 2 || c->vs[0].nrs != 2) {
		CHECK(0, "%s: two virtual servers, two real servers in the first", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *v = &c->vs[0];
	const struct num_case num[] = {
		{ "persistent 600",               v->persistent,         600 },
		{ "netmask /24",                  v->netmask.ip,     ip("255.255.255.0") },
		{ "flags mh-port, mh-fallback",   v->flags,              SVC_F_MH_PORT | SVC_F_MH_FALLBACK },
		{ "mh_table_size 251",            v->mh_size,            251 },
		{ "rs1 upper 100",                v->rs[0].upper,        100 },
		{ "rs1 lower 80",                 v->rs[0].lower,        80 },
		{ "rs2 upper 10",                 v->rs[1].upper,        10 },
		{ "rs2 lower default 0",          v->rs[1].lower,        0 },
		{ "other vs: no flags",           c->vs[1].flags,        0 },
		{ "other vs: persistent 0",       c->vs[1].persistent,   0 },
	};
	const struct str_case str[] = {
		{ "scheduler mh",                 v->sched,              "mh" },
	};

	run_num(file, num, ARRAY_SIZE(num));
	run_str(file, str, ARRAY_SIZE(str));
	free(out);
	conf_free(c);
}

/* Every option set away from its default, in every layout. */
static void
test_full(void)
{
	const char    *file = "good-full.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 3 || c->nannounce != 2 ||
	    c->vs[0].nrs != 2 || c->vs[1].nrs != 2 || c->vs[2].nrs != 0) {
		CHECK(0, "%s: the shape is 2 announce, 3 vs with 2, 2, 0 rs", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *web = &c->vs[0], *dns = &c->vs[1], *idle = &c->vs[2];
	const struct num_case num[] = {
		{ "conn_max",                     c->conn_max,              4096 },
		{ "offload",                      c->offload,               0 },
		{ "timeout tcp",                  c->timeout_tcp,           3600 },
		{ "timeout tcp_fin",              c->timeout_tcp_fin,       60 },
		{ "timeout udp",                  c->timeout_udp,           30 },
		{ "web line is its brace's",      web->line,                19 },
		{ "web address",                  web->addr.ip,         ip("10.10.0.100") },
		{ "web port",                     web->port,                443 },
		{ "web protocol TCP (any case)",  web->proto,               IPPROTO_TCP },
		{ "web persistent 0",             web->persistent,          0 },
		{ "web netmask",                  web->netmask.ip,      ip("255.255.255.0") },
		{ "web forward",                  web->fwd,                 FWD_DR },
		{ "web tunnel gre",               web->tunnel,              TUNNEL_GRE },
		{ "web rs1 line",                 web->rs[0].line,          29 },
		{ "web rs1 address",              web->rs[0].addr.ip,   ip("10.20.0.11") },
		{ "web rs1 port",                 web->rs[0].port,          443 },
		{ "web rs1 weight 0",             web->rs[0].weight,        0 },
		{ "web rs1 forward",              web->rs[0].fwd,           FWD_DR },
		{ "web rs-2 line",                web->rs[1].line,          34 },
		{ "web rs-2 address",             web->rs[1].addr.ip,   ip("10.20.0.12") },
		{ "web rs-2 port",                web->rs[1].port,          443 },
		{ "web rs-2 weight 65535",        web->rs[1].weight,        65535 },
		{ "web rs-2 forward DR",          web->rs[1].fwd,           FWD_DR },
		{ "dns line",                     dns->line,                37 },
		{ "dns protocol udp",             dns->proto,               IPPROTO_UDP },
		{ "dns port",                     dns->port,                53 },
		{ "dns a line",                   dns->rs[0].line,          38 },
		{ "dns a port from the service",  dns->rs[0].port,          53 },
		{ "dns b line",                   dns->rs[1].line,          39 },
		{ "dns b address",                dns->rs[1].addr.ip,   ip("10.20.0.54") },
		{ "idle line",                    idle->line,               42 },
		{ "idle has no real server",      idle->nrs,                0 },
		{ "idle shares web's address",    idle->addr.ip,        ip("10.10.0.100") },
	};
	const struct str_case str[] = {
		{ "tap",                          c->tap,                   "vsr1" },
		{ "announce[0]",                  c->announce[0],           "eth0" },
		{ "announce[1], quoted, by +=",   c->announce[1],           "eth1" },
		{ "web name, quoted",             web->name,                "web" },
		{ "web scheduler",                web->sched,               "wrr" },
		{ "web rs-2 name, single-quoted", web->rs[1].name,          "rs-2" },
		{ "dns scheduler",                dns->sched,               "rr" },
		{ "dns a name",                   dns->rs[0].name,          "a" },
		{ "idle name",                    idle->name,               "idle" },
		{ "idle scheduler default",       idle->sched,              "wlc" },
	};

	run_num(file, num, ARRAY_SIZE(num));
	run_str(file, str, ARRAY_SIZE(str));
	free(out);
	conf_free(c);
}

/* The operations keys: control_socket and user (and "" when they are not set). */
static void
test_ops(void)
{
	const char    *file = "good-ops.conf";
	char          *out, *out2;
	struct config *c = load(fixture(file), &out);
	struct config *m = load(fixture("good-minimal.conf"), &out2);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c != NULL) {
		const struct str_case str[] = {
			{ "control_socket", c->control_socket, "/run/vsrouted-test.sock" },
			{ "user",           c->user,           "nobody" },
		};
		run_str(file, str, ARRAY_SIZE(str));
	}
	CHECK(m != NULL && m->control_socket[0] == '\0',
	    "good-minimal.conf: control_socket empty when not set");
	CHECK(m != NULL && m->user[0] == '\0', "good-minimal.conf: user empty when not set");
	CHECK(c != NULL && c->metrics_addr == htonl(0x7f000001) && c->metrics_port == 9410,
	    "%s: metrics 127.0.0.1:9410", file);
	CHECK(m != NULL && m->metrics_port == 0, "good-minimal.conf: no metrics when not set");
	CHECK(m != NULL && m->metrics_compat == METRICS_COMPAT_NONE,
	    "good-minimal.conf: metrics_compat none when not set");
	free(out);
	free(out2);
	conf_free(c);
	conf_free(m);
	c = load(fixture("good-metrics-port.conf"), &out);
	CHECK(c != NULL && c->metrics_addr == htonl(0x7f000001) && c->metrics_port == 9411,
	    "good-metrics-port.conf: a port alone is 127.0.0.1's");
	CHECK(c != NULL && c->metrics_compat == METRICS_COMPAT_NODE_IPVS,
	    "good-metrics-port.conf: metrics_compat node_ipvs");
	free(out);
	conf_free(c);
}

/* role and sync { }: values, defaults, and none without the section. */
static void
test_sync(void)
{
	const char    *file = "good-sync.conf";
	char          *out, *out2, *out3;
	struct config *c = load(fixture(file), &out);
	struct config *d = load(fixture("good-sync-default.conf"), &out2);
	struct config *m = load(fixture("good-minimal.conf"), &out3);
	uint8_t        peer[16], group[16] = { 224, 0, 0, 81 };

	inet_pton(AF_INET6, "2001:db8:20::3", peer);
	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	CHECK(d != NULL && *out2 == '\0', "good-sync-default.conf: loads silently");
	if (c != NULL && d != NULL) {
		const struct num_case num[] = {
			{ "role backup",                  c->role,            ROLE_BACKUP },
			{ "state backup",                 c->sync.state,      SYNC_STATE_BACKUP },
			{ "syncid 7",                     c->sync.syncid,     7 },
			{ "peer: unicast",                c->sync.unicast,    1 },
			{ "peer's family",                c->sync.af,         AF_INET6 },
			{ "port 9000",                    c->sync.port,       9000 },
			{ "ttl 3",                        c->sync.ttl,        3 },
			{ "maxlen 1400",                  c->sync.maxlen,     1400 },
			{ "default: role master",         d->role,            ROLE_MASTER },
			{ "default: state both",          d->sync.state,      SYNC_STATE_BOTH },
			{ "default: syncid 0",            d->sync.syncid,     0 },
			{ "default: a group",             d->sync.unicast,    0 },
			{ "default: IPv4",                d->sync.af,         AF_INET },
			{ "default: port 8848",           d->sync.port,       8848 },
			{ "default: ttl 1",               d->sync.ttl,        1 },
			{ "default: maxlen from the MTU", d->sync.maxlen,     0 },
			{ "default: threshold 3",         d->sync.threshold,  3 },
			{ "default: period 50",           d->sync.period,     50 },
			{ "default: refresh_period 0",    d->sync.refresh_period, 0 },
			{ "default: retries 0",           d->sync.retries,    0 },
			{ "threshold 1",                  c->sync.threshold,  1 },
			{ "period 0",                     c->sync.period,     0 },
			{ "refresh_period 30",            c->sync.refresh_period, 30 },
			{ "retries 2",                    c->sync.retries,    2 },
		};
		run_num(file, num, ARRAY_SIZE(num));
		CHECK(strcmp(c->sync.ifname, "eth1") == 0, "%s: interface eth1", file);
		CHECK(memcmp(c->sync.group, peer, 16) == 0, "%s: the peer's address", file);
		CHECK(memcmp(d->sync.group, group, 16) == 0, "good-sync-default.conf: 224.0.0.81");
	}
	CHECK(m != NULL && m->sync.state == 0 && m->role == ROLE_MASTER,
	    "good-minimal.conf: no sync daemon, role master");
	free(out);
	free(out2);
	free(out3);
	conf_free(c);
	conf_free(d);
	conf_free(m);
}

/* forward = tun: tunnel and tunnel_mtu, per service and per real server. */
/* check { }: defaults, the service's section, a real server's override. */
static void
test_check(void)
{
	const char    *file = "good-check.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 2 || c->vs[0].nrs != 2 || c->vs[1].nrs != 1) {
		CHECK(0, "%s: the shape is 2 vs with 2 and 1 rs", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct check_conf *r1 = &c->vs[0].rs[0].check, *r2 = &c->vs[0].rs[1].check,
	    *p = &c->vs[1].rs[0].check;
	const struct num_case num[] = {
		{ "rs1 type http from the service", r1->type,     CHECK_HTTP },
		{ "rs1 interval 1",                 r1->interval, 1 },
		{ "rs1 timeout default 1",          r1->timeout,  1 },
		{ "rs1 rise 1",                     r1->rise,     1 },
		{ "rs1 fall default 3",             r1->fall,     3 },
		{ "rs1 expect default 200",         r1->expect,   200 },
		{ "rs1 port default 0 (the rs's)",  r1->port,     0 },
		{ "rs2 type exec overridden",       r2->type,     CHECK_EXEC },
		{ "rs2 timeout overridden",         r2->timeout,  3 },
		{ "rs2 interval from the service",  r2->interval, 1 },
		{ "plain: no check",                p->type,      CHECK_NONE },
		{ "plain: interval default 2",      p->interval,  2 },
	};

	run_num(file, num, ARRAY_SIZE(num));
	CHECK(strcmp(r1->path, "/health") == 0 && strcmp(r1->host, "www.example") == 0,
	    "%s: rs1 path and host from the service", file);
	CHECK(strcmp(r2->command, "/bin/true --quick") == 0,
	    "%s: rs2 command", file);
	CHECK(strcmp(p->path, "/") == 0, "%s: path default /", file);
	free(out);
	conf_free(c);
}

/* udp check: payload and reply with escapes, on_failure, sorry_server. */
static void
test_check_udp(void)
{
	const char    *file = "good-check-udp.conf";
	static const uint8_t query[] = { 0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1 };
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 2 || c->vs[0].nrs != 2 || c->vs[1].nrs != 1) {
		CHECK(0, "%s: the shape is 2 vs with 2 and 1 rs", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *dns = &c->vs[0], *web = &c->vs[1];
	const struct check_conf *r1 = &dns->rs[0].check, *r2 = &dns->rs[1].check,
	    *w = &web->rs[0].check;
	const struct num_case num[] = {
		{ "ns1 type udp",                    r1->type,        CHECK_UDP },
		{ "ns1 payload 29 bytes, NULs kept", r1->payload_len, sizeof(query) },
		{ "ns1 reply 2 bytes",               r1->reply_len,   2 },
		{ "ns1 on_failure remove",           r1->on_failure,  CHECK_FAIL_REMOVE },
		{ "ns2 on_failure inhibit",          r2->on_failure,  CHECK_FAIL_INHIBIT },
		{ "ns2 payload 5 bytes",             r2->payload_len, 5 },
		{ "ns2 reply from the service",      r2->reply_len,   2 },
		{ "ns2 port 5353",                   r2->port,        5353 },
		{ "web on_failure default inhibit",  w->on_failure,   CHECK_FAIL_INHIBIT },
		{ "dns has a sorry server",          dns->has_sorry,  1 },
		{ "dns sorry port 5300",             dns->sorry.port, 5300 },
		{ "dns sorry forward fullnat",       dns->sorry.fwd,  FWD_FULLNAT },
		{ "dns sorry weight 1",              dns->sorry.weight, 1 },
		{ "dns sorry line",                  dns->sorry.line, 19 },
		{ "web sorry port: the service's",   web->sorry.port, 80 },
		{ "web sorry forward: the service's", web->sorry.fwd, FWD_DR },
	};

	run_num(file, num, ARRAY_SIZE(num));
	CHECK(memcmp(r1->payload, query, sizeof(query)) == 0, "%s: ns1 payload bytes", file);
	CHECK(memcmp(r2->payload, "ping\n", 5) == 0, "%s: ns2 payload 'ping\\n'", file);
	CHECK(memcmp(r1->reply, "\x12\x34", 2) == 0, "%s: ns1 reply bytes", file);
	CHECK(dns->sorry.addr.ip == htonl(0x0a0a0063), "%s: sorry address", file);
	free(out);
	conf_free(c);
}

static void
test_tun(void)
{
	const char    *file = "good-tun.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 2 || c->vs[0].nrs != 3 || c->vs[1].nrs != 1) {
		CHECK(0, "%s: the shape is 2 vs with 3 and 1 rs", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *web = &c->vs[0], *dns = &c->vs[1];
	const struct num_case num[] = {
		{ "web forward tun",              web->fwd,                 FWD_TUN },
		{ "web tunnel gre",               web->tunnel,              TUNNEL_GRE },
		{ "web tunnel_mtu",               web->tunnel_mtu,          1400 },
		{ "rs1 forward from the service", web->rs[0].fwd,           FWD_TUN },
		{ "rs1 tunnel from the service",  web->rs[0].tunnel,        TUNNEL_GRE },
		{ "rs1 tunnel_mtu from the service", web->rs[0].tunnel_mtu, 1400 },
		{ "rs2 tunnel overridden",        web->rs[1].tunnel,        TUNNEL_IPIP },
		{ "rs2 tunnel_mtu lower bound",   web->rs[1].tunnel_mtu,    68 },
		{ "rs3 forward dr",               web->rs[2].fwd,           FWD_DR },
		{ "dns forward dr",               dns->fwd,                 FWD_DR },
		{ "dns tunnel default ipip",      dns->tunnel,              TUNNEL_IPIP },
		{ "dns tunnel_mtu default 0",     dns->tunnel_mtu,          0 },
		{ "dns a forward tun",            dns->rs[0].fwd,           FWD_TUN },
		{ "dns a tunnel ipip",            dns->rs[0].tunnel,        TUNNEL_IPIP },
		{ "dns a tunnel_mtu upper bound", dns->rs[0].tunnel_mtu,    65515 },
	};

	run_num(file, num, ARRAY_SIZE(num));
	free(out);
	conf_free(c);
}

/* tunnel_key: the service's, a real server's own, and none where not set. */
static void
test_tunnel_key(void)
{
	const char    *file = "good-tunnel-key.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 1 || c->vs[0].nrs != 2) {
		CHECK(0, "%s: the shape is 1 vs with 2 rs", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *web = &c->vs[0];
	const struct num_case num[] = {
		{ "web keyed",                    web->tunnel_keyed,        1 },
		{ "web key, the largest",         web->tunnel_key,          4294967295u },
		{ "rs1 keyed from the service",   web->rs[0].tunnel_keyed,  1 },
		{ "rs1 key from the service",     web->rs[0].tunnel_key,    4294967295u },
		{ "rs2 keyed",                    web->rs[1].tunnel_keyed,  1 },
		{ "rs2 key 0 of its own",         web->rs[1].tunnel_key,    0 },
	};

	run_num(file, num, ARRAY_SIZE(num));
	free(out);
	conf_free(c);
	c = load(fixture("good-tun.conf"), &out);
	CHECK(c != NULL && !c->vs[0].tunnel_keyed && !c->vs[0].rs[0].tunnel_keyed,
	    "good-tun.conf: no key where none is set");
	free(out);
	conf_free(c);
}

/*
 * GUE: the service's port and checksum, a real server's own, none for
 * another tunnel type, remcsum, and the older yes and no.
 */
static void
test_tunnel_gue(void)
{
	const char    *file = "good-tunnel-gue.conf";
	char          *out;
	struct config *c = load(fixture(file), &out);

	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 1 || c->vs[0].nrs != 6) {
		CHECK(0, "%s: the shape is 1 vs with 6 rs", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *web = &c->vs[0];
	const struct num_case num[] = {
		{ "web gue",                      web->tunnel,              TUNNEL_GUE },
		{ "web port",                     web->tunnel_port,         6080 },
		{ "web csum",                     web->tunnel_csum,         TUNNEL_CSUM_CSUM },
		{ "rs1 gue from the service",     web->rs[0].tunnel,        TUNNEL_GUE },
		{ "rs1 port from the service",    web->rs[0].tunnel_port,   6080 },
		{ "rs1 csum from the service",    web->rs[0].tunnel_csum,   TUNNEL_CSUM_CSUM },
		{ "rs2 port of its own",          web->rs[1].tunnel_port,   5555 },
		{ "rs2 no csum of its own (no)",  web->rs[1].tunnel_csum,   TUNNEL_CSUM_NONE },
		{ "rs3 ipip",                     web->rs[2].tunnel,        TUNNEL_IPIP },
		{ "rs3 no port",                  web->rs[2].tunnel_port,   0 },
		{ "rs3 no csum",                  web->rs[2].tunnel_csum,   TUNNEL_CSUM_NONE },
		{ "rs4 remcsum",                  web->rs[3].tunnel_csum,   TUNNEL_CSUM_REMCSUM },
		{ "rs5 none",                     web->rs[4].tunnel_csum,   TUNNEL_CSUM_NONE },
		{ "rs6 csum (yes)",               web->rs[5].tunnel_csum,   TUNNEL_CSUM_CSUM },
	};

	run_num(file, num, ARRAY_SIZE(num));
	free(out);
	conf_free(c);
}

/* The example shipped in etc/ (the README's demo) is valid and says what it should. */
static void
test_example(void)
{
	const char    *file = "etc/vsrouted.conf";
	char           path[8192], *out;
	struct config *c;
	struct stat    st;

	snprintf(path, sizeof(path), "%s/../../../%s", fixdir, file);
	if (stat(path, &st) < 0) {
		CHECK(1, "%s: # skip, not found beside the fixtures", file);
		return;
	}
	c = load(path, &out);
	CHECK(c != NULL && *out == '\0', "%s: loads silently", file);
	if (c == NULL || c->nvs != 1 || c->vs[0].nrs != 3 || c->nannounce != 1) {
		CHECK(0, "%s: one announce, one vs with three rs", file);
		free(out);
		conf_free(c);
		return;
	}
	const struct vs_conf *v = &c->vs[0];
	const struct num_case num[] = {
		{ "web address",   v->addr.ip,       ip("10.10.0.100") },
		{ "web port",      v->port,              80 },
		{ "web tcp",       v->proto,             IPPROTO_TCP },
		{ "web dr",        v->fwd,               FWD_DR },
		{ "rs1 address",   v->rs[0].addr.ip, ip("10.10.0.11") },
		{ "rs2 address",   v->rs[1].addr.ip, ip("10.10.0.12") },
		{ "rs3 address",   v->rs[2].addr.ip, ip("10.10.0.13") },
		{ "rs1 weight",    v->rs[0].weight,      1 },
		{ "rs2 weight",    v->rs[1].weight,      1 },
		{ "rs3 weight",    v->rs[2].weight,      1 },
		{ "rs3 port",      v->rs[2].port,        80 },
	};
	const struct str_case str[] = {
		{ "tap",           c->tap,               "vsr0" },
		{ "announce",      c->announce[0],       "eth0" },
		{ "web name",      v->name,              "web" },
		{ "web rr",        v->sched,             "rr" },
		{ "rs3 name",      v->rs[2].name,        "rs3" },
	};

	run_num(file, num, ARRAY_SIZE(num));
	run_str(file, str, ARRAY_SIZE(str));
	free(out);
	conf_free(c);
}

/* Every good-*.conf loads without a word; every bad-*.conf fails with
 * exactly the one error its first line announces. */

static int
is_fixture(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0 &&
	    (strncmp(d->d_name, "good-", 5) == 0 ||
	     strncmp(d->d_name, "bad-", 4) == 0);
}

static void
test_fixtures(void)
{
	struct dirent **ents;
	int             n = scandir(fixdir, &ents, is_fixture, alphasort);
	int             nbad = 0, ngood = 0;

	if (n < 0) {
		CHECK(0, "scandir %s: %s", fixdir, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		const char    *name = ents[i]->d_name;
		const char    *path = fixture(name);
		char           head[512] = "", why[1200] = "", *out, *nl;
		const char    *want[MAX_ERRS] = { NULL };
		struct config *c;
		FILE          *fp;

		if (strncmp(name, "good-", 5) == 0) {
			c = load(path, &out);
			CHECK(c != NULL && *out == '\0', "%s: valid", name);
			if (*out)
				printf("# %s", out);
			ngood++;
			conf_free(c);
			free(out);
			continue;
		}
		nbad++;
		if ((fp = fopen(path, "r")) != NULL) {
			if (fgets(head, sizeof(head), fp) == NULL)
				head[0] = '\0';
			fclose(fp);
		}
		if ((nl = strchr(head, '\n')) != NULL)
			*nl = '\0';
		if (strncmp(head, "# expect: ", 10) != 0) {
			CHECK(0, "%s: first line is '# expect: LINE: message'", name);
			continue;
		}
		want[0] = head + 10;
		c = load(path, &out);
		CHECK(c == NULL && errors_match(path, out, want, why, sizeof(why)),
		    "%s: %s%s%s", name, want[0], *why ? " -- " : "", why);
		conf_free(c);
		free(out);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	CHECK(nbad >= 15, "at least 15 bad fixtures (%d)", nbad);
	CHECK(ngood >= 2, "at least 2 good fixtures (%d)", ngood);
}

/* Cases written on the fly */

struct text_case {
	const char *what;
	const char *text;
	const char *errs[MAX_ERRS];           /* none: the text is valid */
	int       (*check)(const struct config *c);
};

static int
check_hash_in_quotes(const struct config *c)
{
	return strcmp(c->tap, "a#b") == 0 && c->nannounce == 2 &&
	    strcmp(c->announce[1], "eth1") == 0;
}

static int
check_bounds(const struct config *c)
{
	return c->conn_max == 67108864 && c->timeout_tcp == 1 &&
	    c->timeout_udp == 31536000 && c->nvs == 2 &&
	    c->vs[0].port == 1 && c->vs[1].port == 65535 &&
	    c->vs[0].netmask.ip == 0 && c->vs[0].rs[0].weight == 0;
}

static int
check_decimal(const struct config *c)
{
	return c->nvs == 1 && c->vs[0].port == 10 && c->vs[0].rs[0].weight == 8;
}

static int
check_workers16(const struct config *c)
{
	return c->workers == 16;
}

static int
check_scaleout(const struct config *c)
{
	return c->sloppy_tcp && c->sloppy_udp && c->drain_timeout == 5 && c->announce_table == 100;
}

static int
check_sloppy_no(const struct config *c)
{
	return !c->sloppy_tcp && !c->sloppy_udp;
}

/* IPv6 mark 7 (its family said), IPv6 mark 8 (inferred), IPv4 mark 7 beside it. */
static int
check_fwmark6(const struct config *c)
{
	static const uint8_t mark7[16] = { [15] = 7 };

	return c->nvs == 3 && c->vs[0].af == AF_INET6 && c->vs[0].fwmark == 7 &&
	    memcmp(c->vs[0].addr.b, mark7, 16) == 0 && c->vs[0].nmaddr == 2 &&
	    c->vs[0].maddr[1].af == AF_INET6 && c->vs[0].rs[0].af == AF_INET6 &&
	    c->vs[1].af == AF_INET6 && c->vs[1].fwmark == 8 &&
	    c->vs[2].af == AF_INET && c->vs[2].fwmark == 7 && c->vs[2].addr.ip == htonl(7);
}

/* With nothing to say its family, a mark service is IPv4 (as keepalived's). */
static int
check_fwmark_bare(const struct config *c)
{
	return c->nvs == 1 && c->vs[0].af == AF_INET && c->vs[0].nrs == 0;
}

static const struct text_case text_cases[] = {
	{ .what = "IPv6 firewall-mark services: family said or inferred, beside IPv4's",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server m6 { fwmark = 7  family = inet6\n"
	    "    announce_address = { 2001:db8::100, 2001:db8::101 }\n"
	    "    real_server r { address = 2001:db8::11 } }\n"
	    "virtual_server m8 { fwmark = 8\n"
	    "    real_server r { address = [2001:db8::11] } }\n"
	    "virtual_server m4 { fwmark = 7  family = inet\n"
	    "    real_server r { address = 10.0.0.11 } }\n",
	  .check = check_fwmark6,
	},
	{ .what = "a firewall-mark service with nothing to say its family is IPv4",
	  .text = "announce = { eth0 }\nvirtual_server m { fwmark = 1 }\n",
	  .check = check_fwmark_bare,
	},
	{ .what = "a firewall-mark service's addresses and real servers are of its family",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server a { fwmark = 7  family = inet6\n"
	    "    announce_address = { 10.0.0.100 }\n"
	    "    real_server r { address = 10.0.0.11 }\n"
	    "    real_server s { address = 2001:db8::11 } }\n"
	    "virtual_server b { fwmark = 8\n"
	    "    announce_address = { 2001:db8::100, 10.0.0.100 }\n"
	    "    real_server r { address = 10.0.0.11 } }\n",
	  .errs = { "3: virtual_server 'a': announce_address 10.0.0.100 is an IPv4 address "
	    "and the service is inet6",
	    "4: real_server 'r': 10.0.0.11 is an IPv4 address and the service's fwmark 7 an "
	    "IPv6 one",
	    "7: virtual_server 'b': announce_address 10.0.0.100 is an IPv4 address and the "
	    "service is inet6",
	    "8: real_server 'r': 10.0.0.11 is an IPv4 address and the service's fwmark 8 an "
	    "IPv6 one" },
	},
	{ .what = "family: inet or inet6, and only for firewall-mark services",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server a { fwmark = 7  family = ipv6 }\n"
	    "virtual_server b { address = 10.0.0.1  port = 80  family = inet }\n",
	  .errs = { "2: unknown family 'ipv6' (inet or inet6)",
	    "3: virtual_server 'b': 'family' is for firewall-mark services" },
	},
	{ .what = "IPv4 and IPv6 mark 7 are two services; two IPv6 mark 7 are one twice",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server a { fwmark = 7  family = inet6 }\n"
	    "virtual_server b { fwmark = 7 }\n"
	    "virtual_server c { fwmark = 7  family = inet6 }\n",
	  .errs = { "4: virtual_server 'c' duplicates the firewall-mark service 7 of "
	    "virtual_server 'a' (line 2)" },
	},
	{ .what = "the scale-out options are read",
	  .text =
	    "announce = { eth0 }\nsloppy_tcp = yes\nsloppy_udp = yes\n"
	    "drain_timeout = 5\nannounce_table = 100\n",
	  .check = check_scaleout,
	},
	{ .what = "sloppy_tcp and sloppy_udp both take no",
	  .text = "announce = { eth0 }\nsloppy_tcp = no\nsloppy_udp = no\n",
	  .check = check_sloppy_no,
	},
	{ .what = "the scale-out options refuse what they cannot do",
	  .text =
	    "announce = { eth0 }\n"
	    "sloppy_tcp = maybe\n"                                  /* 2 */
	    "sloppy_udp = perhaps\n"                                /* 3 */
	    "drain_timeout = -1\n"                                  /* 4 */
	    "announce_table = 254\n",                               /* 5 */
	  .errs = { "2: invalid value 'maybe' for 'sloppy_tcp' (yes or no)",
	    "3: invalid value 'perhaps' for 'sloppy_udp' (yes or no)",
	    "4: 'drain_timeout' value -1 out of range (0..31536000)",
	    "5: 'announce_table' 254 is a table of the kernel's own (253 default, "
	    "254 main, 255 local)" },
	},
	{ .what = "every error is reported, in line order",
	  .text =
	    "announce = { eth0 }\n"                                  /* 1 */
	    "virtual_server web {\n"
	    "    address = 10.10.0.100  port = 80\n"
	    "    real_server a { address = 10.0.0.1  port = 81 }\n"     /* 4 */
	    "    scheduler = fastest\n"                                 /* 5 */
	    "    real_server b { address = 10.0.0.2  weight = -1 }\n"   /* 6 */
	    "}\n"
	    "conn_max = many\n",                                     /* 8 */
	  .errs = { "4: real server port must equal the service port for dr",
	    "5: unknown scheduler 'fastest'",
	    "6: 'weight' value -1 out of range (0..65535)",
	    "8: invalid number 'many' for 'conn_max'" },
	},
	{ .what = "comments of every kind keep line numbers true",
	  .text =
	    "# one\n"
	    "// two\n"
	    "/* three\n"
	    "   four */ announce = { eth0 } # five\n"
	    "virtual_server web { /* six */\n"
	    "    address = 10.10.0.300\n",                           /* 6 */
	  .errs = { "5: '{' not closed", "5: 'port' is required",
	    "6: invalid address '10.10.0.300' for 'address'" },
	},
	{ .what = "a # or // inside quotes is not a comment",
	  .text =
	    "tap = \"a#b\"\nannounce = { eth0, 'eth1' } // eth2\n",
	  .check = check_hash_in_quotes,
	},
	{ .what = "bounds are inclusive",
	  .text =
	    "announce = { eth0 }\nconn_max = 67108864\n"
	    "timeout { tcp = 1  udp = 31536000 }\n"
	    "virtual_server a { address = 10.0.0.1  port = 1  netmask = 0.0.0.0\n"
	    "    real_server r { address = 10.0.1.1  weight = 0 } }\n"
	    "virtual_server b { address = 10.0.0.1  port = 65535 }\n",
	  .check = check_bounds,
	},
	{ .what = "numbers are decimal, a leading 0 is not octal",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server a { address = 10.0.0.1  port = 010\n"
	    "    real_server r { address = 10.0.1.1  port = 10  weight = 08 } }\n",
	  .check = check_decimal,
	},
	{ .what = "workers is at least 1",
	  .text =
	    "announce = { eth0 }\nworkers = 0\n",
	  .errs = { "2: 'workers' value 0 out of range (1..16)" },
	},
	{ .what = "workers is at most 16",
	  .text =
	    "announce = { eth0 }\n\nworkers = 17\n",
	  .errs = { "3: 'workers' value 17 out of range (1..16)" },
	},
	{ .what = "workers = 16 is taken",
	  .text =
	    "announce = { eth0 }\nworkers = 16\n",
	  .check = check_workers16,
	},
	{ .what = "hex and signs are not numbers",
	  .text =
	    "announce = { eth0 }\nconn_max = 0x10\ntimeout { tcp = \"+5\" }\n",
	  .errs = { "2: invalid number '0x10' for 'conn_max'",
	    "3: invalid number '+5' for 'timeout tcp'" },
	},
	{ .what = "an empty file lacks announce",
	  .text =
	    "",
	  .errs = { "1: 'announce' is required" },
	},
	{ .what = "= on a list already set is refused, += adds",
	  .text =
	    "announce = { eth0 }\nannounce += { eth1 }\nannounce = { eth2 }\n",
	  .errs = { "3: 'announce' is set twice (first at line 1)" },
	},
	{ .what = "addresses are strict dotted quads",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server a { address = 10.0.0  port = 1 }\n"
	    "virtual_server b { address = 1.2.3.4.5  port = 1 }\n"
	    "virtual_server c { address = 255.255.255.255  port = 1 }\n"
	    "virtual_server d { address = 0.0.0.0  port = 1 }\n"
	    "virtual_server e { address = eth0  port = 1 }\n",
	  .errs = { "2: invalid address '10.0.0'", "3: invalid address '1.2.3.4.5'",
	    "4: (broadcast)", "5: (unspecified)", "6: invalid address 'eth0'" },
	},
	{ .what = "same address and port under another protocol is another service",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server a { address = 10.0.0.1  port = 53 }\n"
	    "virtual_server b { address = 10.0.0.1  port = 53  protocol = udp }\n",
	},
	{ .what = "a refused value does not cascade into more errors",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server a { address = 10.0.0.1  port = 0\n"
	    "    real_server r { address = 10.0.1.1  port = 80 } }\n"
	    "virtual_server b { address = 10.0.0.1  port = 0 }\n",
	  .errs = { "2: 'port' value 0 out of range", "4: 'port' value 0 out of range" },
	},
	{ .what = "unknown option in timeout names the section",
	  .text =
	    "announce = { eth0 }\ntimeout { tcpfin = 10 }\n",
	  .errs = { "2: unknown option 'tcpfin' in timeout" },
	},
	{ .what = "a name is 63 characters at most",
	  .text =
	    "announce = { eth0 }\n"
	    "virtual_server a234567890123456789012345678901234567890123456789012345678901234 "
	    "{ address = 10.0.0.1  port = 1 }\n",
	  .errs = { "2: invalid virtual_server name" },
	},
};

static void
test_texts(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(text_cases); i++) {
		const struct text_case *t = &text_cases[i];
		char                    path[64], *out, why[1200] = "";
		struct config          *c;
		int                     good;

		write_tmp(t->text, path, sizeof(path));
		c = load(path, &out);
		if (t->errs[0] == NULL)
			good = c != NULL && *out == '\0' &&
			    (t->check == NULL || t->check(c));
		else
			good = c == NULL &&
			    errors_match(path, out, t->errs, why, sizeof(why));
		CHECK(good, "%s%s%s", t->what, *why ? " -- " : "", why);
		if (!good && *out)
			printf("# %s", out);
		conf_free(c);
		free(out);
		unlink(path);
	}
}

static void
test_missing_file(void)
{
	char           *out, want[256];
	struct config  *c = load("/nonexistent/vsrouted.conf", &out);

	snprintf(want, sizeof(want), "/nonexistent/vsrouted.conf: %s\n",
	    strerror(ENOENT));
	CHECK(c == NULL && strcmp(out, want) == 0,
	    "a missing file is 'FILE: reason'");
	conf_free(c);
	free(out);
}

/*
 * The fixtures: argv[1], else CONF_FIXTURES (set by Makefile.am), else
 * found from $srcdir, $top_srcdir or the current directory.
 */
static int
find_fixdir(const char *arg)
{
	const char *bases[] = { getenv("srcdir"), getenv("top_srcdir"), "." };
	const char *tries[] = { "%s/conf", "%s/tests/unit/conf" };
	struct stat st;

	if (arg == NULL) {
#ifdef CONF_FIXTURES
		arg = CONF_FIXTURES;
#endif
	}
	if (arg) {
		snprintf(fixdir, sizeof(fixdir), "%s", arg);
		return stat(fixdir, &st) == 0 ? 0 : -1;
	}
	for (size_t b = 0; b < ARRAY_SIZE(bases); b++)
		for (size_t i = 0; bases[b] && i < ARRAY_SIZE(tries); i++) {
			snprintf(fixdir, sizeof(fixdir), tries[i], bases[b]);
			if (stat(fixture("good-minimal.conf"), &st) == 0)
				return 0;
		}
	return -1;
}

int
main(int argc, char **argv)
{
	log_init("test_conf", 1, LOG_LVL_DEBUG);
	if (find_fixdir(argc > 1 ? argv[1] : NULL) < 0) {
		fprintf(stderr, "test_conf: fixture directory not found "
		    "(give it as the argument)\n");
		return 2;
	}
	test_minimal();
	test_nat();
	test_client_addr();
	test_ipv6();
	test_full();
	test_tun();
	test_tunnel_key();
	test_tunnel_gue();
	test_sched_keys();
	test_check();
	test_check_udp();
	test_ops();
	test_sync();
	test_example();
	test_fixtures();
	test_texts();
	test_missing_file();
	return unit_done();
}
