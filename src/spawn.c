/* spawn.c - run a program of the configuration (exec checks) with nothing of the daemon's */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn.h"

#define SPAWN_PATH   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SPAWN_CAPS   64     /* bounding set entries tried; the kernel's last is far below */

int
spawn_user_lookup(const char *name, struct spawn_user *u)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

int
spawn_user_usable(const struct spawn_user *u, uid_t daemon_uid, char *why, size_t len)
{
	if (daemon_uid == 0 || daemon_uid == u->uid)
		return 0;
	snprintf(why, len, "the daemon runs as uid %ld and cannot run programs as %s "
	    "(uid %ld): it keeps no CAP_SETUID", (long)daemon_uid, u->name, (long)u->uid);
	return -1;
}

/* The child, between fork and exec: raw system calls and async-signal-safe ones only. */
static void __attribute__((noreturn))
spawn_child(char *const argv[], char *const envp[], const struct spawn_user *u)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2];
	struct sigaction dfl;
	sigset_t all;
	int null;

	setsid();
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);     /* SIGKILL, SIGSTOP and the RT ones refuse: fine */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(null, STDERR_FILENO) < 0)
		_exit(126);
	syscall(SYS_close_range, 3U, ~0U, 0U);

	/* The bounding set needs CAP_SETPCAP: root (before it leaves) may empty it. */
	for (int c = 0; c < SPAWN_CAPS; c++)
		prctl(PR_CAPBSET_DROP, (unsigned long)c, 0L, 0L, 0L);
	if (geteuid() != u->uid || getegid() != u->gid) {
		/* raw calls: this thread is the child's only one, glibc's setxid broadcast is not wanted */
		if (syscall(SYS_setgroups, 1, &u->gid) < 0 ||
		    syscall(SYS_setresgid, u->gid, u->gid, u->gid) < 0 ||
		    syscall(SYS_setresuid, u->uid, u->uid, u->uid) < 0)
			_exit(126);
	}
	memset(none, 0, sizeof(none));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0 && errno != EINVAL)
		_exit(126);
	if (syscall(SYS_capset, &hdr, none) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		_exit(126);
	if (chdir("/") < 0)
		_exit(126);
	umask(022);
	execve(argv[0], argv, envp);
	_exit(127);
}

pid_t
spawn(char *const argv[], const struct spawn_user *u)
{
	char user[8 + CONF_USER_MAX], logname[8 + CONF_USER_MAX];
	char *envp[] = { SPAWN_PATH, "HOME=/", user, logname, NULL };
	pid_t pid;

	snprintf(user, sizeof(user), "USER=%s", u->name);
	snprintf(logname, sizeof(logname), "LOGNAME=%s", u->name);
	pid = fork();
	if (pid == 0)
		spawn_child(argv, envp, u);
	return pid;
}

void
spawn_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);     /* before its setsid, the group is not there yet */
}

/* One component of a path: who may change it. 0, or -1 with WHY. */
static int
spawn_node_check(const char *p, const struct stat *st, const struct spawn_user *u,
    char *why, size_t len)
{
	int sticky_dir = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);

	if (st->st_uid != 0 && st->st_uid != u->uid) {
		snprintf(why, len, "%s belongs to uid %ld, neither root nor the check user %s",
		    p, (long)st->st_uid, u->name);
		return -1;
	}
	if (S_ISLNK(st->st_mode) || sticky_dir)
		return 0;
	if (st->st_mode & S_IWOTH) {
		snprintf(why, len, "%s is writable by others (mode %04o)", p,
		    (unsigned)(st->st_mode & 07777));
		return -1;
	}
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0) {
		snprintf(why, len, "%s is writable by its group, gid %ld (mode %04o)", p,
		    (long)st->st_gid, (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Every component of absolute PATH but "/", not following symbolic links. */
static int
spawn_walk(const char *path, const struct spawn_user *u, char *why, size_t len)
{
	char p[PATH_MAX];
	struct stat st;
	size_t n = strlen(path);

	if (n >= sizeof(p)) {
		snprintf(why, len, "%s: path too long", path);
		return -1;
	}
	for (size_t i = 1; i <= n; i++) {
		if ((i < n && path[i] != '/') || path[i - 1] == '/')
			continue;
		memcpy(p, path, i);
		p[i] = '\0';
		if (lstat(p, &st) < 0) {
			snprintf(why, len, "%s: %s", p, strerror(errno));
			return -1;
		}
		if (spawn_node_check(p, &st, u, why, len) < 0)
			return -1;
	}
	return 0;
}

int
spawn_path_check(const char *path, const struct spawn_user *u, char *why, size_t len)
{
	char *real;
	struct stat st, root;
	int rc = -1;

	if (path[0] != '/') {
		snprintf(why, len, "%s is not an absolute path", path);
		return -1;
	}
	if (lstat("/", &root) < 0 || spawn_node_check("/", &root, u, why, len) < 0)
		return -1;
	if (spawn_walk(path, u, why, len) < 0)
		return -1;
	real = realpath(path, NULL);
	if (real == NULL) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (strcmp(real, path) != 0 && spawn_walk(real, u, why, len) < 0)
		goto out;
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s is not a regular file", real);
		goto out;
	}
	mode_t x = u->uid == 0 ? (S_IXUSR | S_IXGRP | S_IXOTH) :
	    st.st_uid == u->uid ? S_IXUSR : st.st_gid == u->gid ? S_IXGRP : S_IXOTH;
	if (!(st.st_mode & x)) {
		snprintf(why, len, "%s is not executable by %s (mode %04o)", real, u->name,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	rc = 0;
out:
	free(real);
	return rc;
}
