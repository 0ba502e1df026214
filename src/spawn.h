/* spawn.h - run a program of the configuration (exec checks) with nothing of the daemon's */
#ifndef VSR_SPAWN_H
#define VSR_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"

/* Who a program runs as: looked up once, before anything runs. */
struct spawn_user {
	char  name[CONF_USER_MAX];
	uid_t uid;
	gid_t gid;              /* the user's primary group: its only group */
};

/*
 * Look NAME up (getpwnam) into U. 0, or -1 with errno (ENOENT: no such
 * user); nothing is logged.
 */
int   spawn_user_lookup(const char *name, struct spawn_user *u);

/*
 * Fork and execute ARGV[0] (an absolute path; no shell, no PATH search)
 * with ARGV, as a process that has nothing of the daemon's:
 *   - a session of its own (setsid), so that it and everything it starts
 *     are one process group, killed whole by spawn_kill();
 *   - standard input, output and error on /dev/null, no other descriptor;
 *     every signal at its default, none blocked;
 *   - the user U (its uid and gid, that group alone) when the daemon is not
 *     U already; changing user needs root, and the caller checked that
 *     (spawn_user_usable);
 *   - no capability at all: effective, permitted, inheritable and ambient
 *     sets empty, the bounding set too where the daemon may empty it, and
 *     no_new_privs, so that a set-uid or file-capability program gains
 *     nothing either;
 *   - the working directory /, umask 022, and the environment PATH, HOME=/,
 *     USER and LOGNAME only.
 * Only async-signal-safe calls and raw system calls run between the fork
 * and the exec (the daemon may have worker threads). A child that cannot
 * become U or shed its capabilities exits 126 before running anything;
 * one whose exec fails, 127. Returns the child's pid, which is also its
 * process group, or -1 (fork failed, errno set).
 */
pid_t spawn(char *const argv[], const struct spawn_user *u);

/* SIGKILL the process group of spawned PID: the program and whatever it started. */
void  spawn_kill(pid_t pid);

/*
 * May the daemon, which runs as DAEMON_UID once set up, run programs as U?
 * Root may run them as anyone; anyone else only as itself (it keeps no
 * CAP_SETUID). 0, or -1 with WHY set.
 */
int   spawn_user_usable(const struct spawn_user *u, uid_t daemon_uid, char *why, size_t len);

/*
 * Script security, as keepalived's enable_script_security: no one but
 * root and U can change what PATH runs. PATH must be absolute; it, every
 * directory on the way to it, and every target of a symbolic link met on
 * the way, must be owned by root or by U, not writable by others (a
 * directory with the sticky bit, as /tmp, excepted), and not writable by
 * its group unless that is root's group; PATH must end at a regular file
 * that U may execute. 0, or -1 with WHY set ("... is writable by others
 * (mode 0757)").
 */
int   spawn_path_check(const char *path, const struct spawn_user *u, char *why, size_t len);

#endif
