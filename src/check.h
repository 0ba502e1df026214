/* check.h - health checks of real servers: tcp, http, udp, exec, on the event loop */
#ifndef VSR_CHECK_H
#define VSR_CHECK_H

#include <event2/event.h>
#include <time.h>

#include "conf.h"
#include "spawn.h"

/*
 * One check per real server that has a check section, run every interval
 * on BASE without ever blocking: a non-blocking connect (tcp), a minimal
 * HTTP/1.0 GET whose status line is compared (http), a datagram on a
 * connected socket whose answer or ICMP port unreachable is looked at
 * (udp), or a child process killed at the timeout (exec). After `fall`
 * failures in a row the real server is down (dest_set_down: weight 0, or
 * out of the service with on_failure = remove; existing flows continue);
 * after `rise` successes in a row it is up again with its configured
 * weight. A removed real server keeps its check.
 * Each transition is logged once and counted (stats.c, struct dest).
 *
 * check_sync makes the running checks what CONF says, after svc_setup or
 * svc_merge: real servers that remain keep their state (up or down, the
 * counts in a row), new ones start up, checks of real servers that went or
 * lost their check section stop (and such a real server is put back).
 */
/*
 * What a real server's check last did, for the status page: its type, the
 * results in a row, the wall-clock time of its last up/down change (or of
 * the check's start) and its last failure's cause and time (err_time 0:
 * none). Returns -1 when D has no check.
 */
#define CHECK_ERR_MAX 96
struct check_info {
	enum check_type type;
	unsigned        ok, fail;      /* successes / failures in a row */
	unsigned        rise, fall;
	time_t          changed;
	time_t          err_time;
	char            err[CHECK_ERR_MAX];
};
struct dest;
int  check_info_get(const struct dest *d, struct check_info *ci);

int  check_init(struct event_base *base);
void check_sync(const struct config *conf, const struct spawn_user *as);
void check_stop_all(void);

/*
 * exec checks run as AS (spawn.h: a session of their own, killed whole at
 * the timeout, no capability, a minimal environment). check_conf_verify
 * finds AS for CONF and checks what a start would refuse, for vsrouted -t,
 * the start and a reload alike: the check user (check_user; else user;
 * else vsrouted) exists, is root only when check_user names it, and is one
 * the daemon, running as DAEMON_UID once set up, can run programs as; each
 * command's program is one that only root and the check user can change
 * (spawn_path_check). Every error is logged as FILE:LINE: message.
 * Without exec checks nothing is needed (AS is zeroed). 0 or -1.
 */
int  check_conf_verify(const struct config *conf, uid_t daemon_uid, struct spawn_user *as);

#endif
