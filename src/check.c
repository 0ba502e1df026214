/* check.c - health checks of real servers: tcp, http, udp, exec, on the event loop */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "lock.h"
#include "log.h"
#include "spawn.h"
#include "stats.h"
#include "svc.h"

#define CHECK_RESP_MAX  64     /* bytes of the answer read: the status line */
#define CHECK_ARGV_MAX  32     /* exec: words of the command, address and port included */

struct check {
	TAILQ_ENTRY(check) entry;
	struct dest       *d;            /* held (dest_hold) while the check lives */
	char               svc[CONF_NAME_MAX];
	struct check_conf  cc;
	int                marked;       /* check_sync: still in the config */
	unsigned           ok, fail;     /* results in a row */
	struct event      *tick;         /* every interval */
	struct event      *deadline;     /* the check in flight times out */
	struct event      *io;           /* its socket */
	int                fd;           /* -1: none */
	pid_t              pid;          /* exec: the child, 0: none */
	int                killed;       /* exec: SIGKILLed at the deadline */
	size_t             len;          /* http: bytes of resp */
	char               resp[CHECK_RESP_MAX];
	time_t             changed;      /* wall clock of the last up/down change, or the start */
	time_t             err_time;     /* of the last failure, 0: none yet */
	char               err[CHECK_ERR_MAX];  /* its cause */
};

static TAILQ_HEAD(, check) checks = TAILQ_HEAD_INITIALIZER(checks);
static struct event_base *check_base;
static struct event      *ev_chld;
static struct spawn_user  check_as;     /* exec checks run as (check_sync) */

static uint16_t
check_port(const struct check *c)
{
	return c->cc.port ? c->cc.port : ntohs(c->d->port);
}

/* End what is in flight: socket, deadline; an exec child is killed with its group, reaped later. */
static void
check_end(struct check *c)
{
	if (c->io) {
		event_free(c->io);
		c->io = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	evtimer_del(c->deadline);
	if (c->pid > 0 && !c->killed) {
		spawn_kill(c->pid);
		c->killed = 1;
	}
}

/* One result: count it in a row and turn the real server up or down on the edge. */
static void
check_result(struct check *c, int ok, const char *why)
{
	struct dest *d = c->d;
	char a[ADDRPORT_STRLEN];

	check_end(c);
	lock_all();            /* the schedulers read the dest's flags */
	addr_port_ntop(d->af, &d->addr, ntohs(d->port), a, sizeof(a));
	if (ok) {
		c->fail = 0;
		if (c->ok < c->cc.rise)
			c->ok++;
		if ((d->flags & DEST_F_DOWN) && c->ok >= c->cc.rise) {
			log_notice("real server %s/%s (%s) is up: %s check passed (%u of %u "
			    "successes)", c->svc, d->name, a,
			    check_type_name(c->cc.type), c->ok, c->cc.rise);
			dest_set_down(d, false, false);
			c->changed = time(NULL);
			d->check_ups++;
			STAT_INC(STAT_CHECK_UP);
		}
	} else {
		c->ok = 0;
		if (c->fail < c->cc.fall)
			c->fail++;
		c->err_time = time(NULL);
		snprintf(c->err, sizeof(c->err), "%s", why ? why : "failed");
		log_debug("real server %s/%s (%s): %s check: %s", c->svc, d->name, a,
		    check_type_name(c->cc.type), why);
		if (!(d->flags & DEST_F_DOWN) && c->fail >= c->cc.fall) {
			log_notice("real server %s/%s (%s) is down: %s check: %s (%u of %u "
			    "failures)", c->svc, d->name, a,
			    check_type_name(c->cc.type), why, c->fail, c->cc.fall);
			dest_set_down(d, true, c->cc.on_failure == CHECK_FAIL_REMOVE);
			c->changed = time(NULL);
			d->check_downs++;
			STAT_INC(STAT_CHECK_DOWN);
		}
	}
	unlock_all();
}

static void
check_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	char why[64];

	(void)fd;
	(void)what;
	/* udp without an expected reply: silence is success (no port unreachable). */
	if (c->cc.type == CHECK_UDP && c->cc.reply_len == 0) {
		check_result(c, 1, NULL);
		return;
	}
	snprintf(why, sizeof(why), "no %s within %u s", c->cc.type == CHECK_UDP ?
	    "reply" : "answer", c->cc.timeout);
	check_result(c, 0, why);
}

/*
 * udp: a datagram arrived on the connected socket, or an error: ICMP port
 * unreachable is ECONNREFUSED. With an expected reply the datagram must
 * start with it; without, any answer is success.
 */
static void
check_on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	uint8_t buf[CONF_CHECK_STR];
	char why[96];
	ssize_t n;

	(void)what;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		snprintf(why, sizeof(why), "%s", errno == ECONNREFUSED ?
		    "port unreachable" : strerror(errno));
		check_result(c, 0, why);
		return;
	}
	if ((size_t)n < c->cc.reply_len || memcmp(buf, c->cc.reply, c->cc.reply_len) != 0) {
		snprintf(why, sizeof(why), "unexpected reply (%zd bytes)", n);
		check_result(c, 0, why);
		return;
	}
	check_result(c, 1, NULL);
}

/* udp: a connected, non-blocking socket sends the payload; check_on_udp waits. */
static void
check_udp(struct check *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_sockaddr(c->d->af, &c->d->addr, check_port(c), &ss);
	char why[96];

	c->fd = socket(c->d->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		check_result(c, 0, why);
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, sl) < 0 ||
	    send(c->fd, c->cc.payload, c->cc.payload_len, 0) < 0) {
		snprintf(why, sizeof(why), "%s", errno == ECONNREFUSED ? "port unreachable" :
		    strerror(errno));
		check_result(c, 0, why);
		return;
	}
	c->io = event_new(check_base, c->fd, EV_READ | EV_PERSIST, check_on_udp, c);
	if (c->io == NULL || event_add(c->io, NULL) < 0)
		check_result(c, 0, "out of memory");
}

/* http: "HTTP/1.x NNN" read: compare the status code. */
static void
check_http_status(struct check *c)
{
	char why[96];
	int code;

	if (c->len < 12 || strncmp(c->resp, "HTTP/1.", 7) != 0 ||
	    sscanf(c->resp + 8, " %3d", &code) != 1) {
		check_result(c, 0, "no HTTP status line in the answer");
		return;
	}
	if (code != c->cc.expect) {
		snprintf(why, sizeof(why), "status %d, expected %d", code, c->cc.expect);
		check_result(c, 0, why);
		return;
	}
	check_result(c, 1, NULL);
}

static void
check_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	ssize_t n;

	(void)what;
	n = read(fd, c->resp + c->len, sizeof(c->resp) - 1 - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		check_result(c, 0, strerror(errno));
		return;
	}
	c->len += (size_t)n;
	c->resp[c->len] = '\0';
	/* The status line is all we need: stop at its end, the buffer's, or EOF. */
	if (n == 0 || strchr(c->resp, '\n') || c->len == sizeof(c->resp) - 1)
		check_http_status(c);
}

static void
check_on_connect(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	char req[2 * CONF_CHECK_STR + 128], a[ADDR_STRLEN + 2], s[ADDR_STRLEN];
	int err = 0;
	socklen_t len = sizeof(err);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		char why[96];
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		check_result(c, 0, why);
		return;
	}
	if (c->cc.type == CHECK_TCP) {
		check_result(c, 1, NULL);
		return;
	}
	/* Host: an IPv6 address in brackets (RFC 3986's IP-literal). */
	addr_ntop(c->d->af, &c->d->addr, s, sizeof(s));
	snprintf(a, sizeof(a), c->d->af == AF_INET6 ? "[%s]" : "%s", s);
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "User-Agent: vsrouted-check\r\nConnection: close\r\n\r\n", c->cc.path,
	    c->cc.host[0] ? c->cc.host : a);
	/* A fresh socket's send buffer takes a few hundred bytes at once. */
	if (write(fd, req, (size_t)n) != n) {
		check_result(c, 0, "cannot send the request");
		return;
	}
	event_free(c->io);
	c->len = 0;
	c->io = event_new(check_base, fd, EV_READ | EV_PERSIST, check_on_read, c);
	if (c->io == NULL || event_add(c->io, NULL) < 0)
		check_result(c, 0, "out of memory");
}

static void
check_connect(struct check *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_sockaddr(c->d->af, &c->d->addr, check_port(c), &ss);
	char why[96];

	c->fd = socket(c->d->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		check_result(c, 0, why);
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		check_result(c, 0, why);
		return;
	}
	c->io = event_new(check_base, c->fd, EV_WRITE, check_on_connect, c);
	if (c->io == NULL || event_add(c->io, NULL) < 0)
		check_result(c, 0, "out of memory");
}

/* exec: the command's words, then the real server's address and port; no shell. */
static void
check_exec(struct check *c)
{
	char cmd[CONF_CHECK_STR], a[ADDR_STRLEN], port[8], *argv[CHECK_ARGV_MAX + 1];
	char *save = NULL, *w;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "%s", c->cc.command);
	for (w = strtok_r(cmd, " \t", &save); w && n < CHECK_ARGV_MAX - 2;
	    w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	addr_ntop(c->d->af, &c->d->addr, a, sizeof(a));
	snprintf(port, sizeof(port), "%u", check_port(c));
	argv[n++] = a;
	argv[n++] = port;
	argv[n] = NULL;
	c->killed = 0;
	c->pid = spawn(argv, &check_as);
	if (c->pid < 0) {
		c->pid = 0;
		check_result(c, 0, "fork failed");
	}
}

static void check_free(struct check *c);

static void
check_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	struct timeval tmo = { c->cc.timeout, 0 };

	(void)fd;
	(void)what;
	/* Still in flight (timeout >= interval), or a killed child not reaped yet. */
	if (c->fd >= 0 || c->pid > 0)
		return;
	if (c->d->svc == NULL) {     /* removed (vsradm -d): the check goes with it */
		lock_all();             /* its reference, which the workers' flows drop too */
		check_free(c);
		unlock_all();
		return;
	}
	evtimer_add(c->deadline, &tmo);
	if (c->cc.type == CHECK_EXEC)
		check_exec(c);
	else if (c->cc.type == CHECK_UDP)
		check_udp(c);
	else
		check_connect(c);
}

/*
 * SIGCHLD: reap the children of exec checks, each by its pid. What a
 * script left running in its group is killed first, while the dead
 * leader still holds the group's id (no other group can have it then).
 */
static void
check_on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct check *c;
	siginfo_t si;
	int st;

	(void)sig;
	(void)what;
	(void)arg;
	TAILQ_FOREACH(c, &checks, entry) {
		if (c->pid <= 0)
			continue;
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid != c->pid)
			continue;
		kill(-c->pid, SIGKILL);
		if (waitpid(c->pid, &st, 0) != c->pid)
			continue;
		c->pid = 0;
		if (c->killed) {        /* its result, a timeout, is counted */
			c->killed = 0;
			continue;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			check_result(c, 1, NULL);
		} else {
			char why[64];
			if (WIFEXITED(st))
				snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
			else
				snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(st));
			check_result(c, 0, why);
		}
	}
}

int
check_init(struct event_base *base)
{
	check_base = base;
	ev_chld = evsignal_new(base, SIGCHLD, check_on_sigchld, NULL);
	if (ev_chld == NULL || event_add(ev_chld, NULL) < 0) {
		log_errx("cannot watch SIGCHLD");
		return -1;
	}
	return 0;
}

static void
check_free(struct check *c)
{
	check_end(c);
	if (c->pid > 0) {
		/* Killed just now: reap it here, once, so no zombie outlives us. */
		waitpid(c->pid, NULL, 0);
	}
	event_free(c->tick);
	event_free(c->deadline);
	TAILQ_REMOVE(&checks, c, entry);
	c->d->check = NULL;
	if (c->d->flags & DEST_F_DOWN)
		dest_set_down(c->d, false, false);
	dest_put(c->d);
	free(c);
}

/* D's check: a pointer kept in the dest, so that the status page's walk
 * over every dest under the data-path lock costs nothing per check. */
static struct check *
check_find(const struct dest *d)
{
	return d->check;
}

static int
check_same(const struct check_conf *a, const struct check_conf *b)
{
	return a->type == b->type && a->interval == b->interval && a->timeout == b->timeout &&
	    a->port == b->port && a->expect == b->expect && strcmp(a->path, b->path) == 0 &&
	    strcmp(a->host, b->host) == 0 && strcmp(a->command, b->command) == 0 &&
	    a->payload_len == b->payload_len && a->reply_len == b->reply_len &&
	    memcmp(a->payload, b->payload, a->payload_len) == 0 &&
	    memcmp(a->reply, b->reply, a->reply_len) == 0;
}

/* Start, or carry over with its state, the check of D. */
static void
check_set(struct dest *d, const char *svc, const struct check_conf *cc)
{
	struct check *c = check_find(d);
	struct timeval iv = { cc->interval, 0 };

	if (c != NULL) {
		c->marked = 1;
		snprintf(c->svc, sizeof(c->svc), "%s", svc);
		/* on_failure changed while down: out of the service, or back at weight 0. */
		if (cc->on_failure != c->cc.on_failure && (d->flags & DEST_F_DOWN))
			dest_set_down(d, true, cc->on_failure == CHECK_FAIL_REMOVE);
		if (check_same(&c->cc, cc)) {
			c->cc = *cc;    /* rise and fall: from the next result on */
			return;
		}
		/* Another check: end the one in flight, keep up/down and the counts. */
		check_end(c);
		c->cc = *cc;
		evtimer_del(c->tick);
	} else {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("check of %s/%s", svc, d->name);
			return;
		}
		c->d = d;
		c->fd = -1;
		c->cc = *cc;
		c->changed = time(NULL);
		c->marked = 1;
		snprintf(c->svc, sizeof(c->svc), "%s", svc);
		c->tick = event_new(check_base, -1, EV_PERSIST, check_on_tick, c);
		c->deadline = evtimer_new(check_base, check_on_deadline, c);
		if (c->tick == NULL || c->deadline == NULL) {
			log_warnx("check of %s/%s: out of memory", svc, d->name);
			if (c->tick)
				event_free(c->tick);
			if (c->deadline)
				event_free(c->deadline);
			free(c);
			return;
		}
		dest_hold(d);
		d->check = c;
		TAILQ_INSERT_TAIL(&checks, c, entry);
	}
	event_add(c->tick, &iv);
	event_active(c->tick, EV_TIMEOUT, 0);   /* the first check now */
}

/* Who exec checks run as when check_user is not set. */
#define CHECK_USER_DEFAULT "vsrouted"

int
check_conf_verify(const struct config *conf, uid_t daemon_uid, struct spawn_user *as)
{
	const char *name = conf->check_user[0] ? conf->check_user :
	    conf->user[0] ? conf->user : CHECK_USER_DEFAULT;
	int first = 0, last = -1, rc = 0;
	char why[PATH_MAX + 128];

	memset(as, 0, sizeof(*as));
	for (unsigned i = 0; i < conf->nvs && !first; i++)
		for (unsigned j = 0; j < conf->vs[i].nrs && !first; j++)
			if (conf->vs[i].rs[j].check.type == CHECK_EXEC)
				first = conf->vs[i].rs[j].check.line;
	if (!first)
		return 0;       /* no exec check: no user needed */
	/* Errors about the user point at check_user, or else at the first exec check. */
	int uline = conf->check_user_line ? conf->check_user_line : first;
	if (spawn_user_lookup(name, as) < 0) {
		if (errno == ENOENT)
			log_errx("%s:%d: check_user %s does not exist%s", conf->file, uline, name,
			    conf->check_user[0] ? "" : " (the default for exec checks: make it "
			    "with vsrouted.sysusers, or name another with check_user)");
		else
			log_errx("%s:%d: check_user %s: %s", conf->file, uline, name, strerror(errno));
		return -1;
	}
	if (as->uid == 0 && !conf->check_user[0]) {
		log_errx("%s:%d: exec checks would run as root (%s): say check_user = %s to "
		    "allow it, or name an unprivileged user", conf->file, uline, name, name);
		return -1;
	}
	if (spawn_user_usable(as, daemon_uid, why, sizeof(why)) < 0) {
		log_errx("%s:%d: check_user %s: %s", conf->file, uline, name, why);
		return -1;
	}
	for (unsigned i = 0; i < conf->nvs; i++) {
		for (unsigned j = 0; j < conf->vs[i].nrs; j++) {
			const struct check_conf *cc = &conf->vs[i].rs[j].check;
			char prog[CONF_CHECK_STR];
			int line = cc->command_line ? cc->command_line : cc->line;

			if (cc->type != CHECK_EXEC || line == last)
				continue;       /* one message per command line */
			snprintf(prog, sizeof(prog), "%s", cc->command + strspn(cc->command, " \t"));
			prog[strcspn(prog, " \t")] = '\0';
			if (spawn_path_check(prog, as, why, sizeof(why)) < 0) {
				log_errx("%s:%d: exec check: %s: refused, only root and %s may be able "
				    "to change what it runs", conf->file, line, why, as->name);
				rc = -1;
				last = line;
			}
		}
	}
	return rc;
}

void
check_sync(const struct config *conf, const struct spawn_user *as)
{
	struct check *c, *next;

	check_as = *as;

	TAILQ_FOREACH(c, &checks, entry)
		c->marked = 0;
	for (unsigned i = 0; i < conf->nvs; i++) {
		const struct vs_conf *vc = &conf->vs[i];
		struct service *s = svc_lookup(vc->af, (uint8_t)vc->proto, &vc->addr,
		    htons(vc->port));
		if (s == NULL)
			continue;
		for (unsigned j = 0; j < vc->nrs; j++) {
			const struct rs_conf *rc = &vc->rs[j];
			struct dest *d = dest_find(s, &rc->addr, htons(rc->port));
			if (d != NULL && rc->check.type != CHECK_NONE)
				check_set(d, s->name, &rc->check);
		}
	}
	for (c = TAILQ_FIRST(&checks); c; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->marked || c->d->svc == NULL)
			check_free(c);
	}
}

int
check_info_get(const struct dest *d, struct check_info *ci)
{
	const struct check *c = check_find(d);

	if (c == NULL)
		return -1;
	ci->type = c->cc.type;
	ci->ok = c->ok;
	ci->fail = c->fail;
	ci->rise = c->cc.rise;
	ci->fall = c->cc.fall;
	ci->changed = c->changed;
	ci->err_time = c->err_time;
	snprintf(ci->err, sizeof(ci->err), "%s", c->err);
	return 0;
}

void
check_stop_all(void)
{
	struct check *c;

	while ((c = TAILQ_FIRST(&checks)) != NULL)
		check_free(c);
	if (ev_chld) {
		event_free(ev_chld);
		ev_chld = NULL;
	}
}
