/* test_spawn.c - spawn.c: script security, the user rule, and what a spawned program gets */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "unit.h"

static char dir[64];

static void
sh(const char *fmt, const char *arg)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg, arg);
	if (system(cmd) != 0) {
		printf("not ok - set-up: %s\n", cmd);
		exit(1);
	}
}

/*
 * Each case makes DIR/c (a fresh directory) with SETUP (a shell line; %s
 * is DIR/c) and checks PATH (%s as well) as USER 65534 (a stand-in for an
 * unprivileged check user) or root; WHY: a part of the refusal, NULL for
 * an accepted path.
 */
struct pcase {
	const char *what;
	const char *setup;
	const char *path;
	int         as_root;
	const char *why;
};

#define MKS "printf '#!/bin/sh\\nexit 0\\n' > %s/s && chmod 0755 %s/s"

static const struct pcase pcases[] = {
	{ .what = "a root-owned 0755 script in root-owned directories",
	  .setup = MKS, .path = "%s/s" },
	{ .what = "writable by others",
	  .setup = MKS " && chmod 0757 %s/s", .path = "%s/s", .why = "s is writable by others (mode 0757)" },
	{ .what = "writable by a group other than root's",
	  .setup = MKS " && chgrp 65534 %s/s && chmod 0775 %s/s", .path = "%s/s",
	  .why = "is writable by its group, gid 65534" },
	{ .what = "writable by root's group is fine",
	  .setup = MKS " && chmod 0775 %s/s", .path = "%s/s" },
	{ .what = "owned by the check user is fine (it runs as that user anyway)",
	  .setup = MKS " && chown 65534 %s/s", .path = "%s/s" },
	{ .what = "owned by the check user is refused when the check user is root",
	  .setup = MKS " && chown 65534 %s/s", .path = "%s/s", .as_root = 1,
	  .why = "belongs to uid 65534, neither root nor the check user" },
	{ .what = "owned by another user",
	  .setup = MKS " && chown 65533 %s/s", .path = "%s/s",
	  .why = "belongs to uid 65533, neither root nor the check user" },
	{ .what = "in a directory writable by others",
	  .setup = "mkdir -m 0777 %s/d && printf x > %s/d/s && chmod 0755 %s/d/s", .path = "%s/d/s",
	  .why = "/d is writable by others (mode 0777)" },
	{ .what = "in a sticky directory writable by others (as /tmp)",
	  .setup = "mkdir -m 1777 %s/d && printf x > %s/d/s && chmod 0755 %s/d/s", .path = "%s/d/s" },
	{ .what = "a link in a safe directory to a script in an open one",
	  .setup = "mkdir -m 0777 %s/d && printf x > %s/d/s && chmod 0755 %s/d/s && ln -s d/s %s/l",
	  .path = "%s/l", .why = "/d is writable by others" },
	{ .what = "a link in an open directory",
	  .setup = MKS " && mkdir -m 0777 %s/d && ln -s ../s %s/d/l", .path = "%s/d/l",
	  .why = "/d is writable by others" },
	{ .what = "not executable by the check user",
	  .setup = MKS " && chmod 0750 %s/s", .path = "%s/s", .why = "is not executable by u" },
	{ .what = "not a regular file",
	  .setup = "mkdir -m 0755 %s/s", .path = "%s/s", .why = "is not a regular file" },
	{ .what = "absent",
	  .setup = "true", .path = "%s/none", .why = "No such file or directory" },
	{ .what = "a relative path",
	  .setup = "true", .path = "s", .why = "is not an absolute path" },
};

static void
test_paths(void)
{
	char c[128], path[256], why[512], setup[1024];
	struct spawn_user u = { .name = "u", .uid = 65534, .gid = 65534 };
	struct spawn_user root = { .name = "root", .uid = 0, .gid = 0 };

	UNIT_SECTION("spawn_path_check");
	snprintf(c, sizeof(c), "%s/c", dir);
	for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *p = &pcases[i];
		int rc;

		sh("rm -rf %s && mkdir -m 0755 %s", c);
		/* every %s of the set-up is the case's directory */
		snprintf(setup, sizeof(setup), p->setup, c, c, c, c, c, c);
		sh("%s", setup);
		snprintf(path, sizeof(path), p->path, c);
		why[0] = '\0';
		rc = spawn_path_check(path, p->as_root ? &root : &u, why, sizeof(why));
		if (p->why == NULL)
			CHECK(rc == 0, "%s: accepted%s%s", p->what, rc ? ": " : "", rc ? why : "");
		else
			CHECK(rc == -1 && strstr(why, p->why) != NULL, "%s: refused (%s)", p->what, why);
	}
}

static void
test_usable(void)
{
	struct spawn_user u = { .name = "u", .uid = 65534, .gid = 65534 };
	char why[256];

	UNIT_SECTION("spawn_user_usable");
	CHECK(spawn_user_usable(&u, 0, why, sizeof(why)) == 0, "root may run programs as anyone");
	CHECK(spawn_user_usable(&u, 65534, why, sizeof(why)) == 0, "a user may run them as itself");
	CHECK(spawn_user_usable(&u, 1000, why, sizeof(why)) == -1 &&
	    strstr(why, "keeps no CAP_SETUID") != NULL, "and not as another (%s)", why);
}

static int
count_marked(const char *mark)
{
	char cmd[128], buf[32] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "pgrep -c -x -f 'sleep %s'", mark);
	f = popen(cmd, "r");
	if (f == NULL || fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	if (f)
		pclose(f);
	return atoi(buf);
}

static int
wait_file(const char *path)
{
	for (int i = 0; i < 100; i++) {
		if (access(path, F_OK) == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

static void
test_spawn(void)
{
	struct spawn_user u = { .name = "nobody", .uid = 65534, .gid = 65534 };
	char script[128], out[128], buf[4096], mark[16];
	char *argv[] = { script, out, NULL };
	int st, n;
	pid_t pid;
	FILE *f;

	UNIT_SECTION("spawn");
	snprintf(mark, sizeof(mark), "%d", 4000 + (int)(getpid() % 1000));
	snprintf(script, sizeof(script), "%s/run.sh", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	sh("mkdir -m 1777 %s", out);
	f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\n"
	    "{ id -u; id -G; grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status;"
	    "  grep NoNewPrivs /proc/self/status; echo leaked $(ls -l /proc/$$/fd | grep -c leak-canary); pwd;"
	    "  tr '\\0' ' ' </proc/$$/environ; echo; } >\"$1/report.tmp\"\n"
	    "mv \"$1/report.tmp\" \"$1/report\"\n"
	    "sleep %s & (sleep %s &) ; exec sleep %s\n", mark, mark, mark);
	fclose(f);
	chmod(script, 0755);
	setenv("VSR_CANARY", "leak", 1);
	/* a descriptor of ours, not close-on-exec: it must not reach the program */
	snprintf(buf, sizeof(buf), "%s/leak-canary", dir);
	int keep = open(buf, O_RDWR | O_CREAT, 0600);
	pid = spawn(argv, &u);
	close(keep);
	CHECK(pid > 0, "spawn runs the script (pid %ld)", (long)pid);
	if (pid <= 0)
		return;
	snprintf(buf, sizeof(buf), "%s/report", out);
	CHECK(wait_file(buf) == 0, "it reports");
	f = fopen(buf, "r");
	n = f ? (int)fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n > 0 ? n : 0] = '\0';
	if (f)
		fclose(f);
	CHECK(strncmp(buf, "65534\n65534\n", 12) == 0, "as uid 65534, group 65534 alone");
	CHECK(strstr(buf, "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
	    "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
	    "CapAmb:\t0000000000000000\n") != NULL, "with no capability, bounding set included");
	CHECK(strstr(buf, "NoNewPrivs:\t1") != NULL, "and no_new_privs");
	CHECK(strstr(buf, "\nleaked 0\n/\n") != NULL, "no descriptor of the daemon's, in /");
	CHECK(strstr(buf, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ "
	    "USER=nobody LOGNAME=nobody \n") != NULL, "PATH, HOME, USER and LOGNAME only");
	CHECK(strstr(buf, "VSR_CANARY") == NULL, "nothing else of the daemon's environment");
	for (int i = 0; i < 100 && count_marked(mark) < 3; i++)
		usleep(50000);
	CHECK_EQ(count_marked(mark), 3, "its three sleepers run");
	CHECK_EQ(getpgid(pid), pid, "it leads a process group of its own");
	CHECK(getsid(pid) == pid, "and a session");
	spawn_kill(pid);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "spawn_kill kills it");
	for (int i = 0; i < 100 && count_marked(mark) > 0; i++)
		usleep(50000);
	CHECK_EQ(count_marked(mark), 0, "and every process of its group, the orphaned one too");

	/* a program that cannot be run: 127 */
	char *bad[] = { "/nonexistent/prog", NULL };
	pid = spawn(bad, &u);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 127,
	    "an exec that fails exits 127");
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("skip: needs root (ownership, and changing user)\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/test_spawn.XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0) {
		perror("mkdtemp");
		return 1;
	}
	test_paths();
	test_usable();
	test_spawn();
	sh("rm -rf %s", dir);
	return unit_done();
}
