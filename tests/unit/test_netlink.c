/* test_netlink.c - netlink.c against the real kernel, in a private network namespace */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/sched.h>    /* CLONE_NEWNET; <sched.h> is shadowed by src/sched.h under -Isrc */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "netlink.h"

/*
 *   lo (up)         veth0 ===== veth1          vg0 ===== vg1
 *                  10.99.0.1/24  (no address)   deleted before the undo,
 *                  02:00:00:00:00:01 mtu 1400   as the TAP vanishes
 *
 *   192.0.2.0/24 via 10.99.0.2 dev veth0 (added by the test with ip(8))
 */

static int failures, checks;

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int
sh(const char *fmt, ...)
{
	char    cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Output of CMD (both streams) into BUF; "" on failure. */
static const char *
sh_out(char *buf, size_t len, const char *cmd)
{
	FILE  *p;
	size_t n = 0;

	buf[0] = '\0';
	p = popen(cmd, "r");
	if (p == NULL)
		return buf;
	n = fread(buf, 1, len - 1, p);
	buf[n] = '\0';
	pclose(p);
	return buf;
}

/* Log capture: stderr goes into a temporary file between begin and end. */
static FILE *cap_file;
static int   cap_saved = -1;

static void
cap_begin(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	cap_saved = dup(STDERR_FILENO);
	if (cap_file == NULL || cap_saved < 0 ||
	    dup2(fileno(cap_file), STDERR_FILENO) < 0) {
		perror("capture");
		exit(1);
	}
}

static const char *
cap_end(char *buf, size_t len)
{
	size_t n;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	rewind(cap_file);
	n = fread(buf, 1, len - 1, cap_file);
	buf[n] = '\0';
	fclose(cap_file);
	if (n > 0)
		fprintf(stderr, "%s", buf);   /* show what was logged */
	return buf;
}

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

/* S, of either family, in one of a few static slots (so that a call may take two). */
static const union vsr_addr *
A(const char *s)
{
	static union vsr_addr slots[4];
	static unsigned next;
	union vsr_addr *a = &slots[next++ % 4];
	int af;

	if (addr_pton(s, &af, a) < 0)
		abort();
	return a;
}

/* Direct reads, independent of the module under test. */
static int
if_flags(const char *name)
{
	struct ifreq ifr = { 0 };
	int          fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 ? ifr.ifr_flags : -1;
	if (fd >= 0)
		close(fd);
	return ret;
}

static const char *
proc_sys(const char *path, char *buf, size_t len)
{
	char  file[256];
	FILE *f;

	snprintf(file, sizeof(file), "/proc/sys/%s", path);
	buf[0] = '\0';
	f = fopen(file, "r");
	if (f == NULL)
		return "(absent)";
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return buf;
}

/* ---- the journal file ---- */

static char jdir[64], jpath[128];

/* FNV-1a, as the journal's record checksum is documented (netlink.c). */
static uint32_t
fnv1a(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--) {
		h ^= (uint8_t)*s++;
		h *= 16777619u;
	}
	return h;
}

/* The header this process would write, read from /proc independently. */
static void
jheader(char *buf, size_t len, const char *boot_override)
{
	char boot[64] = "";
	struct stat st;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (f != NULL) {
		if (fgets(boot, sizeof(boot), f) == NULL)
			boot[0] = '\0';
		fclose(f);
	}
	boot[strcspn(boot, "\n")] = '\0';
	stat("/proc/self/ns/net", &st);
	snprintf(buf, len, "vsrouted-journal 1 boot=%s netns=%lu pid=4242\n",
	    boot_override ? boot_override : boot, (unsigned long)st.st_ino);
}

/* A record line: BODY, " #CRC" and a newline (CRC 0 when BAD). */
static void
jrecord(FILE *f, const char *body, int bad)
{
	fprintf(f, "%s #%08x\n", body, bad ? 0u : fnv1a(body, strlen(body)));
}

#define JSYS(op, path, old) \
	op " sysctl 0.0.0.0/0 if=0 table=0 prio=0 via=0.0.0.0 sport=0 proto=0 path=" path " old=" old

struct jcase {
	const char *what;
	const char *boot;      /* header's boot id; NULL: this boot's; "" : no header at all */
	const char *lines[4];  /* records, whole lines ("~" first: bad checksum; "!" first: torn) */
	const char *expect;    /* rp_filter of veth0 after the open; it is "2" before */
};

static const struct jcase jcases[] = {
	{ .what = "a record of a sysctl is undone: the old value is back",
	  .lines = { JSYS("+", "net/ipv4/conf/veth0/rp_filter", "1") }, .expect = "1" },
	{ .what = "two records of one sysctl: the oldest value wins",
	  .lines = { JSYS("+", "net/ipv4/conf/veth0/rp_filter", "0"),
		     JSYS("+", "net/ipv4/conf/veth0/rp_filter", "1") }, .expect = "0" },
	{ .what = "a record and its undo record: nothing to do",
	  .lines = { JSYS("+", "net/ipv4/conf/veth0/rp_filter", "1"),
		     JSYS("-", "net/ipv4/conf/veth0/rp_filter", "1") }, .expect = "2" },
	{ .what = "a record whose checksum fails is not acted upon",
	  .lines = { "~" JSYS("+", "net/ipv4/conf/veth0/rp_filter", "1") }, .expect = "2" },
	{ .what = "a torn last record is not acted upon, the whole ones before it are",
	  .lines = { JSYS("+", "net/ipv4/conf/veth0/rp_filter", "0"),
		     "!" JSYS("+", "net/ipv4/conf/veth0/rp_filter", "1") }, .expect = "0" },
	{ .what = "a sysctl outside net/ is never written",
	  .lines = { JSYS("+", "kernel/../net/ipv4/conf/veth0/rp_filter", "1") }, .expect = "2" },
	{ .what = "a journal of another boot is not acted upon",
	  .boot = "00000000-0000-0000-0000-000000000000",
	  .lines = { JSYS("+", "net/ipv4/conf/veth0/rp_filter", "1") }, .expect = "2" },
	{ .what = "a file without the header is not acted upon",
	  .boot = "", .lines = { JSYS("+", "net/ipv4/conf/veth0/rp_filter", "1") }, .expect = "2" },
	{ .what = "an escaped value is decoded (%30 is 0)",
	  .lines = { JSYS("+", "net/ipv4/conf/veth0/rp_filter", "%30") }, .expect = "0" },
};

static void
journal_cases(int veth0)
{
	char buf[64], hdr[256], log[4096];
	(void)veth0;

	snprintf(jdir, sizeof(jdir), "/tmp/test_netlink.XXXXXX");
	if (mkdtemp(jdir) == NULL) {
		check(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(jpath, sizeof(jpath), "%s/vsrouted.journal", jdir);
	for (size_t i = 0; i < sizeof(jcases) / sizeof(jcases[0]); i++) {
		const struct jcase *c = &jcases[i];
		FILE *f;
		int ret;

		sh("echo 2 > /proc/sys/net/ipv4/conf/veth0/rp_filter");
		f = fopen(jpath, "w");
		if (f == NULL)
			abort();
		if (c->boot == NULL || c->boot[0] != '\0') {
			jheader(hdr, sizeof(hdr), c->boot);
			fputs(hdr, f);
		}
		for (int k = 0; k < 4 && c->lines[k]; k++) {
			const char *l = c->lines[k];
			if (l[0] == '!')
				fprintf(f, "%s #%08x", l + 1, fnv1a(l + 1, strlen(l + 1)));
			else
				jrecord(f, l[0] == '~' ? l + 1 : l, l[0] == '~');
		}
		fclose(f);
		chmod(jpath, 0600);
		cap_begin();
		ret = nl_journal_open(jpath);
		cap_end(log, sizeof(log));
		check(ret == 0 && strcmp(proc_sys("net/ipv4/conf/veth0/rp_filter", buf, sizeof(buf)),
		    c->expect) == 0, "journal: %s (rp_filter %s, expected %s)", c->what, buf, c->expect);
		nl_fini();
		nl_init();
	}
	check(access(jpath, F_OK) != 0, "journal: nl_fini with nothing left removes the file");
}

/* A child makes changes with the journal on and dies by SIGKILL; the next open undoes them. */
static void
journal_crash(int veth0)
{
	char out[8192], buf[64], old_fwd[64], log[4096];
	pid_t pid;
	int st, ret;

	sh("echo 2 > /proc/sys/net/ipv4/conf/veth0/rp_filter");
	proc_sys("net/ipv4/ip_forward", old_fwd, sizeof(old_fwd));
	pid = fork();
	if (pid == 0) {
		log_init("test_netlink-child", 1, LOG_LVL_WARNING);
		if (nl_journal_open(jpath) < 0 ||
		    nl_route_add(AF_INET, A("10.10.0.150"), 32, veth0) < 0 ||
		    nl_proxy_neigh_add(AF_INET, A("10.10.0.150"), veth0) < 0 ||
		    nl_route_add(AF_INET6, A("2001:db8:10::150"), 128, veth0) < 0 ||
		    nl_proxy_neigh_add(AF_INET6, A("2001:db8:10::150"), veth0) < 0 ||
		    nl_rule_add(&(struct nl_rule){ .af = AF_INET, .src = *A("10.20.0.50"), .plen = 32,
			.iif = veth0, .ipproto = IPPROTO_TCP, .sport = htons(8080), .table = 7600,
			.prio = 7600 }) < 0 ||
		    nl_rule_add(&(struct nl_rule){ .af = AF_INET6, .prio = 7603, .nop = true }) < 0 ||
		    nl_rule_add(&(struct nl_rule){ .af = AF_INET6, .src = *A("2001:db8:20::50"),
			.plen = 128, .iif = veth0, .ipproto = IPPROTO_UDP, .sport = htons(1),
			.sport_end = htons(65534), .prio = 7601, .goto_prio = 7603 }) < 0 ||
		    sysctl_set("net/ipv4/conf/veth0/rp_filter", "0") < 0 ||
		    sysctl_set("net/ipv4/ip_forward", strcmp(old_fwd, "1") ? "1" : "0") < 0 ||
		    nl_route_add(AF_INET, A("10.10.0.151"), 32, veth0) < 0 ||
		    nl_route_del(AF_INET, A("10.10.0.151"), 32, veth0) < 0)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	waitpid(pid, &st, 0);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "journal: the child made its changes and was killed");
	check(strstr(sh_out(out, sizeof(out), "ip rule show"), "from 10.20.0.50") != NULL &&
	    strstr(sh_out(out, sizeof(out), "ip -6 rule show"),
	    "from 2001:db8:20::50 iif veth0 ipproto udp sport 1-65534 goto 7603") != NULL &&
	    strstr(out, "7603:\tfrom all nop") != NULL &&
	    strstr(sh_out(out, sizeof(out), "ip neigh show proxy"), "10.10.0.150") != NULL &&
	    strstr(sh_out(out, sizeof(out), "ip -6 neigh show proxy"), "2001:db8:10::150") != NULL &&
	    strstr(sh_out(out, sizeof(out), "ip -6 route show"), "2001:db8:10::150") != NULL &&
	    strcmp(proc_sys("net/ipv4/conf/veth0/rp_filter", buf, sizeof(buf)), "0") == 0,
	    "journal: what it changed is still there");
	cap_begin();
	ret = nl_journal_open(jpath);
	cap_end(log, sizeof(log));
	check(ret == 0 && strstr(log, "undoing 9 host changes left by an earlier instance") != NULL,
	    "journal: the next open undoes the 9 changes left (a route added and deleted is not one)");
	check(strstr(sh_out(out, sizeof(out), "ip -6 rule show"), "2001:db8:20::50") == NULL &&
	    strstr(out, "nop") == NULL,
	    "journal: the goto rule with a port range and the nop are gone (read back from the file)");
	check(strstr(sh_out(out, sizeof(out), "ip rule show"), "10.20.0.50") == NULL &&
	    strstr(sh_out(out, sizeof(out), "ip neigh show proxy"), "10.10.0.150") == NULL &&
	    strstr(sh_out(out, sizeof(out), "ip -4 route show"), "10.10.0.150") == NULL,
	    "journal: the rule, proxy entry and route are gone");
	check(strstr(sh_out(out, sizeof(out), "ip -6 neigh show proxy"), "2001:db8:10::150") == NULL &&
	    strstr(sh_out(out, sizeof(out), "ip -6 route show"), "2001:db8:10::150") == NULL,
	    "journal: the IPv6 proxy entry and route are gone too");
	check(strcmp(proc_sys("net/ipv4/conf/veth0/rp_filter", buf, sizeof(buf)), "2") == 0 &&
	    strcmp(proc_sys("net/ipv4/ip_forward", out, sizeof(out)), old_fwd) == 0,
	    "journal: the sysctls hold their old values again");
	check(nl_rule_add(&(struct nl_rule){ .af = AF_INET, .src = *A("10.20.0.50"), .plen = 32,
	    .iif = veth0, .ipproto = IPPROTO_TCP, .sport = htons(8080), .table = 7600,
	    .prio = 7600 }) == 0,
	    "journal: the same rule can be made again (no \"File exists\")");
	nl_undo_all();
	nl_fini();
	nl_init();
}

/* A journal locked by a live process is refused, and a file not private to us too. */
static void
journal_lock(void)
{
	char log[4096], want[128];
	int p[2], ret;
	pid_t pid;

	sigset_t usr2;
	int sig;

	if (pipe(p) < 0)
		abort();
	/* Blocked before the fork: the child's signal may come before the parent waits. */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	pid = fork();
	if (pid == 0) {
		char c;
		log_init("test_netlink-child", 1, LOG_LVL_WARNING);
		close(p[1]);
		if (nl_journal_open(jpath) < 0)
			_exit(1);
		/* the parent tries while this one holds it; it closes the pipe when done */
		kill(getppid(), SIGUSR2);
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		nl_fini();
		_exit(0);
	}
	close(p[0]);
	sigwait(&usr2, &sig);
	cap_begin();
	ret = nl_journal_open(jpath);
	cap_end(log, sizeof(log));
	snprintf(want, sizeof(want), "is held by a running vsrouted (pid %ld)", (long)pid);
	check(ret == -1 && strstr(log, want) != NULL, "journal: one held by a live process is refused");
	close(p[1]);
	waitpid(pid, NULL, 0);
	check(access(jpath, F_OK) != 0, "journal: the holder's clean exit removed it");

	int fd = open(jpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	close(fd);
	chmod(jpath, 0644);
	cap_begin();
	ret = nl_journal_open(jpath);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "not a private file") != NULL,
	    "journal: a file others may read (0644) is refused");
	unlink(jpath);
	if (symlink("/etc/passwd", jpath) == 0) {
		cap_begin();
		ret = nl_journal_open(jpath);
		cap_end(log, sizeof(log));
		check(ret == -1, "journal: a symbolic link is not followed");
		unlink(jpath);
	}
}

/* Many changes made and undone: the file stays small, and still tells the truth. */
static void
journal_compact(int veth0)
{
	char line[512], out[8192];
	size_t lines = 0;
	pid_t pid;
	FILE *f;

	pid = fork();
	if (pid == 0) {
		log_init("test_netlink-child", 1, LOG_LVL_WARNING);
		if (nl_journal_open(jpath) < 0 || nl_route_add(AF_INET, A("10.10.0.160"), 32, veth0) < 0)
			_exit(1);
		for (int i = 0; i < 1000; i++)
			if (nl_route_add(AF_INET, A("10.10.0.161"), 32, veth0) < 0 ||
			    nl_route_del(AF_INET, A("10.10.0.161"), 32, veth0) < 0)
				_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	waitpid(pid, NULL, 0);
	f = fopen(jpath, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		lines++;
	if (f != NULL)
		fclose(f);
	check(lines > 0 && lines < 600, "journal: 2001 changes leave %zu lines (rewritten as it grows)", lines);
	check(nl_journal_open(jpath) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -4 route show"), "10.10.0.16") == NULL,
	    "journal: after the rewrites the route left is undone");
	nl_fini();
	nl_init();
	unlink(jpath);
	rmdir(jdir);
}

int
main(void)

{
	static const uint8_t mac0[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t mac7[6] = { 0x02, 0, 0, 0, 0, 0x07 };
	static const uint8_t mac10[6] = { 0x02, 0, 0, 0, 0, 0x0a };
	struct nl_route_info ri;
	char                 out[8192], log[4096], buf[64];
	char                 old_fwd[64], old_rp[64], new_rp[8], rp_path[64];
	uint8_t              mac[6];
	unsigned             mtu;
	union vsr_addr       addr;
	int                  veth0, veth1, vg0, lo, ret;

	if (geteuid() != 0) {
		printf("skip: needs root\n");
		return 77;
	}
	if (syscall(SYS_unshare, CLONE_NEWNET) < 0) {
		printf("skip: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	log_init("test_netlink", 1, LOG_LVL_INFO);

	if (sh("ip link add veth0 type veth peer name veth1 && "
	       "ip link set veth0 address 02:00:00:00:00:01 mtu 1400 && "
	       "ip link add vg0 type veth peer name vg1 && ip link set vg1 up") != 0) {
		printf("not ok - set up the veth pairs\n");
		return 1;
	}
	lo = (int)if_nametoindex("lo");
	veth0 = (int)if_nametoindex("veth0");
	veth1 = (int)if_nametoindex("veth1");
	vg0 = (int)if_nametoindex("vg0");

	check(nl_init() == 0, "nl_init");

	/* links */
	check(!(if_flags("veth0") & IFF_UP), "veth0 starts down");
	check(nl_link_up(lo) == 0 && (if_flags("lo") & IFF_UP), "nl_link_up lo");
	check(nl_link_up(veth0) == 0 && (if_flags("veth0") & IFF_UP), "nl_link_up veth0");
	check(nl_link_up(veth1) == 0 && (if_flags("veth1") & IFF_UP), "nl_link_up veth1");
	check(nl_link_up(vg0) == 0 && (if_flags("vg0") & IFF_UP), "nl_link_up vg0");
	check(nl_link_mac(veth0, mac) == 0 && memcmp(mac, mac0, 6) == 0,
	    "nl_link_mac veth0 is 02:00:00:00:00:01");
	ret = nl_link_mtu(veth0, &mtu);
	check(ret == 0 && mtu == 1400, "nl_link_mtu veth0 is 1400 (%u)", mtu);
	ret = nl_link_mtu(lo, &mtu);
	check(ret == 0 && mtu == 65536, "nl_link_mtu lo is 65536 (%u)", mtu);
	cap_begin();
	ret = nl_link_mtu(9999, &mtu);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "link if9999 mtu: No such device") != NULL,
	    "nl_link_mtu on a missing link fails with one log line");
	cap_begin();
	ret = nl_link_up(9999);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "link if9999 up: No such device") != NULL,
	    "nl_link_up on a missing link fails with one log line");

	sh("ip addr add 10.99.0.1/24 dev veth0");

	/* routes */
	check(nl_route_add(AF_INET, A("10.10.0.100"), 32, veth0) == 0, "nl_route_add 10.10.0.100/32 dev veth0");
	sh_out(out, sizeof(out), "ip -4 route show 10.10.0.100/32");
	check(strstr(out, "10.10.0.100 dev veth0 proto static scope link") != NULL,
	    "ip route shows it as static, scope link");
	check(nl_route_get(AF_INET, A("10.10.0.100"), &ri) == 0 && ri.oif == veth0 &&
	    addr_is_zero(&ri.gateway) && ri.prefsrc.ip == ip("10.99.0.1") && !ri.local,
	    "nl_route_get 10.10.0.100: dev veth0, no gateway, src 10.99.0.1");
	cap_begin();
	ret = nl_route_add(AF_INET, A("10.10.0.100"), 32, veth0);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "route 10.10.0.100/32 dev veth0: File exists\n") != NULL &&
	    strchr(log, '\n') == strrchr(log, '\n'),
	    "second nl_route_add fails with one line \"... File exists\"");
	cap_begin();
	ret = nl_route_add(AF_INET, A("10.10.0.0"), 33, veth0);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "Invalid argument") != NULL, "nl_route_add /33 is refused");

	sh("ip route add 192.0.2.0/24 via 10.99.0.2 dev veth0");
	check(nl_route_get(AF_INET, A("192.0.2.5"), &ri) == 0 && ri.oif == veth0 &&
	    ri.gateway.ip == ip("10.99.0.2") && !ri.local,
	    "nl_route_get 192.0.2.5: via 10.99.0.2 dev veth0");
	check(nl_route_get(AF_INET, A("10.99.0.1"), &ri) == 0 && ri.local && ri.oif == lo,
	    "nl_route_get 10.99.0.1: local, dev lo");
	check(nl_route_get(AF_INET, A("10.99.0.5"), &ri) == 0 && ri.oif == veth0 &&
	    addr_is_zero(&ri.gateway) && !ri.local, "nl_route_get 10.99.0.5: on link veth0");
	cap_begin();
	ret = nl_route_get(AF_INET, A("203.0.113.1"), &ri);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "route get 203.0.113.1: Network is unreachable") != NULL,
	    "nl_route_get with no route fails with one log line");

	/* a route added and removed again (reload) */
	check(nl_route_add(AF_INET, A("10.10.0.101"), 32, veth0) == 0 &&
	    nl_route_del(AF_INET, A("10.10.0.101"), 32, veth0) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -4 route show 10.10.0.101/32"), "10.10.0.101") == NULL,
	    "nl_route_del removes a route");
	check(nl_route_del(AF_INET, A("10.10.0.101"), 32, veth0) == 0,
	    "nl_route_del of a route already gone is no error");

	/* proxy neighbours */
	check(nl_proxy_neigh_add(AF_INET, A("10.10.0.100"), veth0) == 0, "nl_proxy_neigh_add 10.10.0.100 dev veth0");
	check(nl_proxy_neigh_add(AF_INET, A("10.10.0.100"), veth0) == 0, "nl_proxy_neigh_add again takes it over");
	sh_out(out, sizeof(out), "ip neigh show proxy");
	check(strstr(out, "10.10.0.100 dev veth0 proxy") != NULL, "ip neigh show proxy lists it");
	check(nl_proxy_neigh_add(AF_INET, A("10.10.0.101"), veth0) == 0 &&
	    nl_proxy_neigh_del(AF_INET, A("10.10.0.101"), veth0) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip neigh show proxy"), "10.10.0.101") == NULL,
	    "nl_proxy_neigh_del removes a proxy entry");

	/* policy routing */
#define RULE(s, pl, i, pr, sp, t, pf) \
	((struct nl_rule){ .af = AF_INET, .src = *(s), .plen = (pl), .iif = (i), .ipproto = (pr), \
	    .sport = (sp), .table = (t), .prio = (pf) })
	check(nl_route_add_table(AF_INET, A("0.0.0.0"), 0, veth1, 100) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -4 route show table 100"),
	    "default dev veth1 proto static scope link") != NULL,
	    "nl_route_add_table default dev veth1 table 100");
	check(nl_route_add_table(AF_INET, A("10.30.0.0"), 24, veth1, 1000) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -4 route show table 1000"),
	    "10.30.0.0/24 dev veth1") != NULL, "nl_route_add_table in table 1000");
	check(nl_rule_add(&RULE(A("10.20.0.11"), 32, veth0, 0, 0, 100, 100)) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"),
	    "100:\tfrom 10.20.0.11 iif veth0 lookup 100") != NULL,
	    "nl_rule_add from 10.20.0.11 iif veth0 lookup 100 pref 100");
	cap_begin();
	ret = nl_rule_add(&RULE(A("10.20.0.11"), 32, veth0, 0, 0, 100, 100));
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "rule from 10.20.0.11/32 iif veth0 lookup 100 pref 100: File exists") != NULL,
	    "a second identical nl_rule_add fails with \"File exists\"");
	check(nl_rule_add(&RULE(A("10.20.0.12"), 32, veth0, 0, 0, 1000, 101)) == 0 &&
	    nl_rule_del(&RULE(A("10.20.0.12"), 32, veth0, 0, 0, 1000, 101)) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"), "10.20.0.12") == NULL,
	    "nl_rule_del removes a rule");

	check(nl_rule_add(&RULE(A("10.20.0.15"), 32, veth0, IPPROTO_TCP, htons(8080), 100, 103)) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"),
	    "103:\tfrom 10.20.0.15 iif veth0 ipproto tcp sport 8080 lookup 100") != NULL,
	    "nl_rule_add from 10.20.0.15 ipproto tcp sport 8080 iif veth0 lookup 100 pref 103");
	check(nl_rule_add(&RULE(A("10.20.0.15"), 32, veth0, IPPROTO_UDP, htons(8080), 100, 103)) == 0 &&
	    nl_rule_del(&RULE(A("10.20.0.15"), 32, veth0, IPPROTO_UDP, htons(8080), 100, 103)) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"), "ipproto udp") == NULL &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"), "ipproto tcp sport 8080") != NULL,
	    "nl_rule_del removes the udp rule and keeps the tcp one of the same source");
	/* a real server's fragments (xmit_nat.c): a port range jumping over a rule to a nop */
	check(nl_rule_add(&(struct nl_rule){ .af = AF_INET, .prio = 7603, .nop = true }) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"), "7603:\tfrom all nop") != NULL,
	    "nl_rule_add nop pref 7603");
	struct nl_rule jump = { .af = AF_INET, .src = *A("10.20.0.16"), .plen = 32, .iif = veth0,
	    .ipproto = IPPROTO_UDP, .sport = htons(1), .sport_end = htons(65534), .prio = 7601,
	    .goto_prio = 7603 };
	check(nl_rule_add(&jump) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"),
	    "7601:\tfrom 10.20.0.16 iif veth0 ipproto udp sport 1-65534 goto 7603") != NULL,
	    "nl_rule_add from 10.20.0.16 ipproto udp sport 1-65534 goto 7603 pref 7601");
	check(nl_rule_del(&jump) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"), "10.20.0.16") == NULL &&
	    nl_rule_del(&(struct nl_rule){ .af = AF_INET, .prio = 7603, .nop = true }) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"), "nop") == NULL,
	    "nl_rule_del removes the goto rule and the nop");
	jump.goto_prio = 7600;
	cap_begin();
	ret = nl_rule_add(&jump);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "goto 7600 pref 7601") != NULL,
	    "a goto backwards is refused before the kernel sees it");
	check(nl_route_add_via(AF_INET, A("0.0.0.0"), 0, A("10.30.0.1"), veth1, 300) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -4 route show table 300"),
	    "default via 10.30.0.1 dev veth1 proto static onlink") != NULL,
	    "nl_route_add_via default via 10.30.0.1 dev veth1 onlink table 300");
	check(nl_rule_add(&RULE(A("10.20.0.14"), 32, 0, 0, 0, 100, 0)) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip rule show"), "from 10.20.0.14 lookup 100") != NULL,
	    "nl_rule_add from 10.20.0.14 lookup 100, any iif, kernel's pref");

	/* sysctls */
	snprintf(rp_path, sizeof(rp_path), "net/ipv4/conf/veth0/rp_filter");
	check(sysctl_get("net/ipv4/ip_forward", old_fwd, sizeof(old_fwd)) == 0 &&
	    strcmp(old_fwd, proc_sys("net/ipv4/ip_forward", buf, sizeof(buf))) == 0,
	    "sysctl_get net/ipv4/ip_forward = %s", old_fwd);
	check(sysctl_set("net/ipv4/ip_forward", "1") == 0 &&
	    strcmp(proc_sys("net/ipv4/ip_forward", buf, sizeof(buf)), "1") == 0,
	    "sysctl_set net/ipv4/ip_forward = 1");
	check(sysctl_set("net/ipv4/ip_forward", "1") == 0, "sysctl_set to the value it holds");
	check(sysctl_get(rp_path, old_rp, sizeof(old_rp)) == 0, "sysctl_get %s = %s", rp_path, old_rp);
	snprintf(new_rp, sizeof(new_rp), "%s", strcmp(old_rp, "2") == 0 ? "1" : "2");
	check(sysctl_set(rp_path, new_rp) == 0 &&
	    strcmp(proc_sys(rp_path, buf, sizeof(buf)), new_rp) == 0,
	    "sysctl_set %s = %s", rp_path, new_rp);
	check(sysctl_set(rp_path, "0") == 0 &&
	    strcmp(proc_sys(rp_path, buf, sizeof(buf)), "0") == 0,
	    "sysctl_set %s = 0 (set twice)", rp_path);
	cap_begin();
	ret = sysctl_set("net/ipv4/ip_forward", "abc");
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "sysctl net/ipv4/ip_forward = abc: Invalid argument") != NULL &&
	    strcmp(proc_sys("net/ipv4/ip_forward", buf, sizeof(buf)), "1") == 0,
	    "sysctl_set of a bad value fails and changes nothing");
	cap_begin();
	ret = sysctl_get("net/ipv4/no_such_knob", buf, sizeof(buf));
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "No such file or directory") != NULL,
	    "sysctl_get of a missing path fails");
	cap_begin();
	ret = sysctl_get("net/ipv4/ip_local_port_range", buf, 4);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "sysctl net/ipv4/ip_local_port_range: Value too large") != NULL,
	    "sysctl_get into a too small buffer fails");
	check(sysctl_get("net/ipv4/ip_local_port_range", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, proc_sys("net/ipv4/ip_local_port_range", out, sizeof(out))) == 0,
	    "sysctl_get net/ipv4/ip_local_port_range = %s", buf);

	/* addresses */
	check(nl_addr_get(AF_INET, veth0, &addr) == 0 && addr.ip == ip("10.99.0.1"),
	    "nl_addr_get veth0 is 10.99.0.1");
	check(nl_addr_get(AF_INET, veth1, &addr) == -1, "nl_addr_get veth1 (no address) fails");

	/* neighbours */
	sh("ip neigh add 10.99.0.7 lladdr 02:00:00:00:00:07 dev veth0 nud permanent");
	sh("ip neigh add 10.99.0.10 lladdr 02:00:00:00:00:0a dev veth0 nud stale");
	sh("ip neigh add 10.99.0.9 dev veth0 nud incomplete");
	memset(mac, 0, sizeof(mac));
	check(nl_neigh_get(AF_INET, A("10.99.0.7"), veth0, mac) == 0 && memcmp(mac, mac7, 6) == 0,
	    "nl_neigh_get permanent 10.99.0.7 is 02:00:00:00:00:07");
	check(nl_neigh_get(AF_INET, A("10.99.0.10"), veth0, mac) == 0 && memcmp(mac, mac10, 6) == 0,
	    "nl_neigh_get stale 10.99.0.10 is 02:00:00:00:00:0a");
	check(nl_neigh_get(AF_INET, A("10.99.0.9"), veth0, mac) == -1, "nl_neigh_get incomplete 10.99.0.9 fails");
	check(nl_neigh_get(AF_INET, A("10.99.0.11"), veth0, mac) == -1, "nl_neigh_get unknown 10.99.0.11 fails");
	check(nl_neigh_get(AF_INET, A("10.99.0.7"), veth1, mac) == -1, "nl_neigh_get 10.99.0.7 on veth1 fails");
	check(nl_neigh_get(AF_INET, A("10.10.0.100"), veth0, mac) == -1, "nl_neigh_get does not return a proxy entry");

	/* IPv6: the same objects, 128-bit addresses */
	sh("sysctl -qw net.ipv6.conf.veth0.accept_dad=0 net.ipv6.conf.veth1.accept_dad=0");
	sh("ip -6 addr add 2001:db8:99::1/64 dev veth0 nodad");
	check(nl_route_add(AF_INET6, A("2001:db8:10::100"), 128, veth0) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -6 route show 2001:db8:10::100/128"),
	    "2001:db8:10::100 dev veth0 proto static") != NULL,
	    "nl_route_add 2001:db8:10::100/128 dev veth0");
	check(nl_route_get(AF_INET6, A("2001:db8:10::100"), &ri) == 0 && ri.oif == veth0 &&
	    addr_is_zero(&ri.gateway) && addr_eq(&ri.prefsrc, A("2001:db8:99::1")) && !ri.local,
	    "nl_route_get 2001:db8:10::100: dev veth0, no gateway, src 2001:db8:99::1");
	sh("ip -6 route add 2001:db8:30::/48 via 2001:db8:99::2 dev veth0");
	check(nl_route_get(AF_INET6, A("2001:db8:30::5"), &ri) == 0 &&
	    addr_eq(&ri.gateway, A("2001:db8:99::2")), "nl_route_get 2001:db8:30::5: via 2001:db8:99::2");
	check(nl_route_get(AF_INET6, A("2001:db8:99::1"), &ri) == 0 && ri.local,
	    "nl_route_get 2001:db8:99::1: local");
	cap_begin();
	ret = nl_route_add(AF_INET6, A("2001:db8::"), 129, veth0);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "Invalid argument") != NULL, "nl_route_add /129 is refused");
	check(nl_proxy_neigh_add(AF_INET6, A("2001:db8:10::100"), veth0) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -6 neigh show proxy"),
	    "2001:db8:10::100 dev veth0 proxy") != NULL, "nl_proxy_neigh_add 2001:db8:10::100 (proxy NDP)");
	check(nl_proxy_neigh_add(AF_INET6, A("2001:db8:10::101"), veth0) == 0 &&
	    nl_proxy_neigh_del(AF_INET6, A("2001:db8:10::101"), veth0) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -6 neigh show proxy"), "2001:db8:10::101") == NULL,
	    "nl_proxy_neigh_del removes an IPv6 proxy entry");
	/* As nat's: via the VIP, on the device the VIP is routed to (IPv6 checks that). */
	check(nl_route_add_via(AF_INET6, A("::"), 0, A("2001:db8:10::100"), veth0, 7600) == 0 &&
	    strstr(sh_out(out, sizeof(out), "ip -6 route show table 7600"),
	    "default via 2001:db8:10::100 dev veth0 proto static metric 1024 onlink") != NULL,
	    "nl_route_add_via ::/0 via 2001:db8:10::100 dev veth0 onlink table 7600");
	check(nl_rule_add(&(struct nl_rule){ .af = AF_INET6, .src = *A("2001:db8:20::11"),
	    .plen = 128, .iif = veth0, .ipproto = IPPROTO_TCP, .sport = htons(8080), .table = 7600,
	    .prio = 7600 }) == 0 && strstr(sh_out(out, sizeof(out), "ip -6 rule show"),
	    "7600:\tfrom 2001:db8:20::11 iif veth0 ipproto tcp sport 8080 lookup 7600") != NULL,
	    "nl_rule_add -6 from 2001:db8:20::11 iif veth0 ipproto tcp sport 8080 lookup 7600");
	check(nl_rule_add(&(struct nl_rule){ .af = AF_INET6, .src = *A("2001:db8:20::11"),
	    .plen = 129, .table = 7600 }) == -1, "nl_rule_add -6 /129 is refused");
	check(nl_addr_get(AF_INET6, veth0, &addr) == 0 && IN6_IS_ADDR_LINKLOCAL(&addr.in6),
	    "nl_addr_get IPv6 veth0: its link-local address first");
	check(nl_addr_add(AF_INET6, A("2001:db8:98::1"), 128, veth1) == 0 &&
	    nl_addr_get(AF_INET6, veth1, &addr) == 0,
	    "nl_addr_add 2001:db8:98::1/128 dev veth1, found again");
	sh("ip -6 neigh add 2001:db8:99::7 lladdr 02:00:00:00:00:07 dev veth0 nud permanent");
	check(nl_neigh_get(AF_INET6, A("2001:db8:99::7"), veth0, mac) == 0 && memcmp(mac, mac7, 6) == 0,
	    "nl_neigh_get 2001:db8:99::7 is 02:00:00:00:00:07");
	check(nl_neigh_get(AF_INET, A("10.99.0.7"), veth0, mac) == 0,
	    "an IPv4 neighbour is still found beside");
	check(sysctl_set("net/ipv6/conf/veth0/proxy_ndp", "1") == 0, "sysctl_set proxy_ndp on veth0");

	/* what the TAP does: things on a link that disappears before the undo */
	check(nl_route_add(AF_INET, A("10.10.0.200"), 32, vg0) == 0, "nl_route_add 10.10.0.200/32 dev vg0");
	check(nl_proxy_neigh_add(AF_INET, A("10.10.0.200"), vg0) == 0, "nl_proxy_neigh_add 10.10.0.200 dev vg0");
	check(nl_rule_add(&RULE(A("10.20.0.13"), 32, vg0, 0, 0, 100, 102)) == 0, "nl_rule_add iif vg0");
	check(nl_route_add_table(AF_INET, A("0.0.0.0"), 0, vg0, 200) == 0, "nl_route_add_table default dev vg0 table 200");
	check(sysctl_set("net/ipv4/conf/vg0/rp_filter", "2") == 0 &&
	    sysctl_set("net/ipv4/conf/vg0/proxy_arp", "1") == 0, "sysctl_set on vg0");
	check(sh("ip link del vg0") == 0, "vg0 deleted");

	/* undo */
	cap_begin();
	nl_undo_all();
	cap_end(log, sizeof(log));
	check(log[0] == '\0', "nl_undo_all logs nothing at level info");
	sh_out(out, sizeof(out), "ip -4 route show table all proto static");
	check(out[0] == '\0', "no static route is left");
	sh_out(out, sizeof(out), "ip -6 route show table all proto static");
	check(out[0] == '\0', "no static IPv6 route is left");
	sh_out(out, sizeof(out), "ip neigh show proxy; ip -6 neigh show proxy");
	check(out[0] == '\0', "no proxy entry is left, IPv4 or IPv6");
	sh_out(out, sizeof(out), "ip rule show");
	check(strstr(out, "10.20.0.") == NULL, "no rule is left");
	sh_out(out, sizeof(out), "ip -6 rule show");
	check(strstr(out, "2001:db8:20::") == NULL, "no IPv6 rule is left");
	sh_out(out, sizeof(out), "ip -6 addr show dev veth1");
	check(strstr(out, "2001:db8:98::1") == NULL, "the IPv6 address added is gone");
	check(strcmp(proc_sys("net/ipv6/conf/veth0/proxy_ndp", buf, sizeof(buf)), "0") == 0,
	    "proxy_ndp is back to 0");
	check(strcmp(proc_sys("net/ipv4/ip_forward", buf, sizeof(buf)), old_fwd) == 0,
	    "ip_forward is back to %s", old_fwd);
	check(strcmp(proc_sys(rp_path, buf, sizeof(buf)), old_rp) == 0,
	    "%s is back to %s", rp_path, old_rp);
	sh_out(out, sizeof(out), "ip -4 route show 192.0.2.0/24");
	check(strstr(out, "192.0.2.0/24 via 10.99.0.2") != NULL, "a route the module did not add stays");
	sh_out(out, sizeof(out), "ip neigh show 10.99.0.7");
	check(strstr(out, "PERMANENT") != NULL, "a neighbour the module did not add stays");

	/* a second undo has nothing left to do */
	sh("echo 1 > /proc/sys/net/ipv4/ip_forward");
	cap_begin();
	nl_undo_all();
	cap_end(log, sizeof(log));
	check(log[0] == '\0' && strcmp(proc_sys("net/ipv4/ip_forward", buf, sizeof(buf)), "1") == 0,
	    "the journal is emptied by nl_undo_all");
	sh("echo %s > /proc/sys/net/ipv4/ip_forward", old_fwd);
	cap_begin();
	nl_fini();
	cap_end(log, sizeof(log));
	check(log[0] == '\0', "nl_fini after the undo logs nothing");

	/* the journal file: what an earlier instance left is undone at the next open */
	check(nl_init() == 0, "nl_init again, for the journal file");
	journal_cases(veth0);
	journal_crash(veth0);
	journal_lock();
	journal_compact(veth0);
	nl_fini();


	/* without a socket */
	cap_begin();
	ret = nl_route_add(AF_INET, A("10.10.0.100"), 32, veth0);
	cap_end(log, sizeof(log));
	check(ret == -1 && strstr(log, "route 10.10.0.100/32 dev veth0: Transport endpoint is not connected") != NULL,
	    "nl_route_add before nl_init fails");
	nl_fini();

	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
