/* vsrouted.c - the daemon: options, set-up of the director, signals, the event loop */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "arp.h"
#include "check.h"
#include "conf.h"
#include "conn.h"
#include "defence.h"
#include "frag.h"
#include "core.h"
#include "ctl.h"
#include "laddr.h"
#include "link.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "netlink.h"
#include "nexthop.h"
#include "notify.h"
#include "priv.h"
#include "role.h"
#include "spawn.h"
#include "stats.h"
#include "steer.h"
#include "svc.h"
#include "sync.h"
#include "sync_conn.h"
#include "tap.h"
#include "tunnel.h"
#include "xmit.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF SYSCONFDIR "/vsrouted.conf"

#define SWEEP_MS      100   /* connection expiry */
#define NEIGH_SECS    1     /* unresolved real servers are probed this often */
#define NEIGH_ALL     10    /* every NEIGH_ALL rounds, resolved ones too */

struct daemon {
	struct config     *conf;
	struct conn_table *ct;
	struct worker      workers[CONF_WORKERS_MAX];
	unsigned           nworkers;      /* "workers", fixed until a restart */
	struct event_base *base;
	int                tap_fds[CONF_WORKERS_MAX];  /* one per TAP queue; -1 closed */
	int                tap_ifindex;
	const char        *pidfile;
	const char        *sockpath;      /* -s; else the config's, else the default */
	struct event      *ev_sig[5];
	struct event      *ev_sweep;
	struct event      *ev_neigh;
	struct event      *ev_est;        /* rate estimator, every STATS_EST_SECS */
	struct event      *ev_drain;      /* SIGTERM with drain_timeout: the stop, later */
	int                announcing;    /* the announce routes are in (announce_table) */
	unsigned           neigh_rounds;
	const char        *file;          /* the configuration, read again on SIGHUP */
	int                reloading;
	struct priv_user   user;          /* "user": looked up at start, dropped to after set-up */
	int                announce_ready[2];  /* announce_prepare() ran: IPv4, IPv6 */
	struct spawn_user  check_as;      /* who exec checks run as (check_conf_verify) */
};

static void announce_routes(struct daemon *d, int on);

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vsrouted [-f FILE] [-n] [-t] [-p PIDFILE] [-s SOCKET] [-l LEVEL] [-V] [-h]\n"
	    "  -f FILE     configuration file (default %s)\n"
	    "  -n          stay in the foreground, log to stderr\n"
	    "  -t          check the configuration and exit (0 valid, 1 not)\n"
	    "  -p PIDFILE  write the process id to PIDFILE\n"
	    "  -s SOCKET   control socket (default %s)\n"
	    "  -l LEVEL    debug, info, notice, warning or error (default info)\n"
	    "  -V          print the version and exit\n"
	    "  -h          this help\n", DEFAULT_CONF, VSR_DEFAULT_SOCKET);
}

/* One real server's lines of the SIGUSR1 dump: the counters of VSR_COUNTERS. */
static void
stats_dump_dest(const struct service *s, const struct dest *dst)
{
	uint64_t v[VSR_C_MAX];

	dest_counters(dst, v);
	for (int i = 0; i < VSR_C_MAX; i++)
		log_notice("stat rs %s/%s %s %llu", s->name, dst->name, vsr_counter_names[i].dump,
		    (unsigned long long)v[i]);
}

static void
stats_dump(struct daemon *d)
{
	struct service *s;
	struct dest *dst;

	for (int i = STAT_NONE + 1; i < STAT_MAX; i++)
		log_notice("stat %s %llu", stat_name((enum stat_id)i),
		    (unsigned long long)stat_total((enum stat_id)i));
	for (unsigned i = 0; i < d->nworkers; i++) {
		const struct worker *w = &d->workers[i];
		log_notice("stat worker %u rx_packets %llu", i,
		    (unsigned long long)stat_slot_get(w->slot, STAT_RX_PACKETS));
		log_notice("stat worker %u tx_packets %llu", i,
		    (unsigned long long)stat_slot_get(w->slot, STAT_TX_PACKETS));
		log_notice("stat worker %u conn_created %llu", i,
		    (unsigned long long)stat_slot_get(w->slot, STAT_CONN_CREATED));
		log_notice("stat worker %u worker_crossed %llu", i,
		    (unsigned long long)stat_slot_get(w->slot, STAT_WORKER_CROSSED));
		log_notice("stat worker %u lock_shared %llu", i,
		    (unsigned long long)stat_slot_get(w->slot, STAT_LOCK_SHARED));
	}
	for (int e = SYNC_E_OK + 1; e < SYNC_E_MAX; e++)
		if (e != SYNC_E_SYNCID)
			log_notice("stat sync_refused %s %llu", sync_err_name((enum sync_err)e),
			    (unsigned long long)sync_refused((enum sync_err)e));
	log_notice("stat conns %u", conn_count(d->ct));
	log_notice("stat conn_max %u", conn_capacity(d->ct));
	TAILQ_FOREACH(s, svc_list(), entry) {
		uint64_t v[VSR_C_MAX];

		svc_counters(s, v);
		for (int i = 0; i < VSR_C_NSVC; i++)
			log_notice("stat vs %s %s %llu", s->name, vsr_counter_names[i].dump,
			    (unsigned long long)v[i]);
		if (s->sorry != NULL) {
			log_notice("stat vs %s sorry_active %u", s->name, svc_sorry_active(s));
			log_notice("stat vs %s sorry_ons %llu", s->name,
			    (unsigned long long)s->sorry_ons);
			log_notice("stat vs %s sorry_offs %llu", s->name,
			    (unsigned long long)s->sorry_offs);
		}
		TAILQ_FOREACH(dst, &s->dests, entry)
			stats_dump_dest(s, dst);
		TAILQ_FOREACH(dst, &s->removed, entry)
			stats_dump_dest(s, dst);
	}
	log_notice("stat end");
}

static void
conn_timeouts(struct conn_table *ct, const struct config *c)
{
	unsigned timeouts[CS_MAX];

	memcpy(timeouts, proto_default_timeout, sizeof(timeouts));
	timeouts[CS_ESTABLISHED] = c->timeout_tcp;
	timeouts[CS_FIN_WAIT] = c->timeout_tcp_fin;
	timeouts[CS_UDP] = c->timeout_udp;
	conn_set_timeouts(ct, timeouts);
	defence_configure(&c->defence);
}

static int
announce_same(const struct config *a, const struct config *b)
{
	if (a->nannounce != b->nannounce)
		return 0;
	for (unsigned i = 0; i < a->nannounce; i++)
		if (strcmp(a->announce[i], b->announce[i]) != 0)
			return 0;
	return 1;
}

/*
 * SIGHUP, in two steps. reload_read: read, parse and check the whole file
 * (schedulers known, every real server bindable on this host), and keep
 * what only a restart can change at its old value, with a warning; all
 * of it on the main thread only, the workers forwarding meanwhile.
 * Returns the new config, or NULL when it is not valid (the running one
 * stays). reload_apply, under the data-path lock: merge the services and
 * real servers in place (svc_merge: connections keep their real server),
 * the timeouts and the checks.
 */
static struct config *
reload_read(struct daemon *d, struct spawn_user *as)
{
	struct config *nc, *oc = d->conf;

	nc = conf_load(d->file);
	if (nc == NULL || xmit_check(nc) < 0 || check_conf_verify(nc, geteuid(), as) < 0) {
		log_warnx("reload: %s is not valid; the running configuration stays", d->file);
		conf_free(nc);
		return NULL;
	}
	if (strcmp(nc->tap, oc->tap) != 0)
		log_warnx("reload: tap %s -> %s needs a restart; keeping %s", oc->tap, nc->tap, oc->tap);
	memcpy(nc->tap, oc->tap, sizeof(nc->tap));
	/*
	 * conn_max above what the table holds: it grows, its new buckets
	 * made here, outside the lock (reload_apply moves the entries in).
	 * Without the memory, the reload is refused whole.
	 */
	if (nc->conn_max > conn_allocated(d->ct) && conn_table_reserve(d->ct, nc->conn_max) < 0) {
		log_warnx("reload: conn_max %u: cannot allocate the larger connection table "
		    "(%s); the running configuration stays", nc->conn_max, strerror(errno));
		conf_free(nc);
		return NULL;
	}
	if (nc->workers != oc->workers)
		log_warnx("reload: workers %u -> %u needs a restart; keeping %u", oc->workers,
		    nc->workers, oc->workers);
	nc->workers = oc->workers;
	if (nc->offload != oc->offload)
		log_warnx("reload: offload %s -> %s needs a restart; keeping %s",
		    oc->offload ? "true" : "false", nc->offload ? "true" : "false",
		    oc->offload ? "true" : "false");
	nc->offload = oc->offload;
	/*
	 * metrics, control_socket, control_group, control_group_read and
	 * announce_table change after the apply (reload_endpoints); user
	 * cannot: the privileges are dropped at start, before the workers
	 * run (capabilities are per thread), and not taken back.
	 */
	if (strcmp(nc->user, oc->user) != 0) {
		if (oc->user[0])
			log_warnx("reload: user %s -> %s: the privileges were dropped to %s at start "
			    "and cannot be taken back; keeping %s until a restart", oc->user,
			    nc->user[0] ? nc->user : "root", oc->user, oc->user);
		else
			log_warnx("reload: user root -> %s: the privileges are dropped only at start, "
			    "before the workers run; staying root until a restart", nc->user);
	}
	memcpy(nc->user, oc->user, sizeof(nc->user));
	return nc;
}

/*
 * Make NC the running configuration, under the data-path lock: 0. If any
 * step fails (checked beforehand, so only memory or a host that changed
 * under us), the previous configuration is merged back and stays running:
 * -1. Either way *DROP is the configuration to free, out of the lock.
 */
static bool
laddr_same(const struct config *a, const struct config *b)
{
	return a->nladdr == b->nladdr && (a->nladdr == 0 ||
	    memcmp(a->laddr, b->laddr, a->nladdr * sizeof(*a->laddr)) == 0);
}

static bool
announce_has(const struct config *c, const char *ifn)
{
	for (unsigned i = 0; i < c->nannounce; i++)
		if (strcmp(c->announce[i], ifn) == 0)
			return true;
	return false;
}

/*
 * The announce interfaces go from OC's to NC's while OC's services run:
 * an interface that went stops answering for their VIPs, a new one
 * answers for them at once on a master (the VIPs the merge then adds or
 * removes follow role.c's interfaces, NC's from now). 0, or -1 (logged).
 */
static int
announce_change(struct daemon *d, const struct config *oc, const struct config *nc)
{
	char path[128];
	int rc = 0;
	const struct vsr_ip *v;
	unsigned nv = svc_vips(&v);     /* OC's: the merge has not run */

	for (unsigned a = 0; a < oc->nannounce; a++) {
		if (announce_has(nc, oc->announce[a]))
			continue;
		int ifx = (int)if_nametoindex(oc->announce[a]);
		for (unsigned i = 0; i < nv; i++)
			if (ifx > 0)
				(void)nl_proxy_neigh_del(v[i].af, &v[i].addr, ifx);
	}
	for (unsigned a = 0; a < nc->nannounce; a++) {
		if (announce_has(oc, nc->announce[a]))
			continue;
		int ifx = (int)if_nametoindex(nc->announce[a]);
		for (int f = 0; f < 2; f++) {
			if (!d->announce_ready[f])
				continue;
			snprintf(path, sizeof(path), "net/ipv%c/neigh/%s/proxy_delay",
			    f ? '6' : '4', nc->announce[a]);
			if (sysctl_set(path, "0") < 0)
				rc = -1;
			snprintf(path, sizeof(path), "net/ipv6/conf/%s/proxy_ndp", nc->announce[a]);
			if (f && sysctl_set(path, "1") < 0)
				rc = -1;
		}
		/* The proxy entries are a master's (role.c). */
		for (unsigned i = 0; i < nv && role_master(); i++)
			if (nl_proxy_neigh_add(v[i].af, &v[i].addr, ifx) < 0)
				rc = -1;
	}
	role_reconfig(nc);
	return rc;
}

static int
reload_apply(struct daemon *d, struct config *nc, const struct spawn_user *as,
    struct config **drop)
{
	struct config *oc = d->conf;
	bool pool = !laddr_same(oc, nc);
	/* announce_table: the routes leave the old table, and go into the new one if wanted. */
	bool table = nc->announce_table != oc->announce_table;
	int want = role_master() && d->ev_drain == NULL;
	uint32_t had = conn_allocated(d->ct);

	*drop = nc;
	/* First, as it may fail: the table grows to a larger conn_max (reload_read). */
	if (conn_set_limit(d->ct, nc->conn_max) != nc->conn_max) {
		conn_set_limit(d->ct, oc->conn_max);
		log_warnx("reload: conn_max %u: the connection table could not grow past %u "
		    "entries; the running configuration stays", nc->conn_max, conn_allocated(d->ct));
		return -1;
	}
	if (conn_allocated(d->ct) > had && sync_conn_grow(conn_id_space(d->ct)) < 0)
		log_warnx("reload: the sync master's state could not grow: flows beyond the "
		    "first %u entries are not synced until a restart", had);
	if (conn_allocated(d->ct) > had)
		log_notice("reload: the connection table grew to %u entries (%u live) in %llu us",
		    conn_allocated(d->ct), conn_count(d->ct),
		    (unsigned long long)conn_table_grow_ns(d->ct) / 1000);
	if (table)
		announce_routes(d, 0);

	/* The VIP hook reads d->conf (announce interfaces): the new one from now. */
	d->conf = nc;
	conn_timeouts(d->ct, nc);
	core_set_sloppy(nc->sloppy_tcp);
	/* Out of memory for a new size: the old queue stays, and says so. */
	if (frag_configure(nc->frag_timeout, nc->frag_memory) < 0)
		log_warnx("reload: fragment_memory %u: cannot allocate it; the fragment queue "
		    "keeps its size", nc->frag_memory);
	if (!announce_same(oc, nc))
		(void)announce_change(d, oc, nc);
	if ((pool && laddr_setup(nc->laddr, nc->nladdr) < 0) || svc_merge(nc) < 0) {
		log_warnx("reload: %s could not be applied whole; putting the previous "
		    "configuration back", d->file);
		d->conf = oc;
		conn_timeouts(d->ct, oc);
		conn_set_limit(d->ct, oc->conn_max);
		core_set_sloppy(oc->sloppy_tcp);
		(void)frag_configure(oc->frag_timeout, oc->frag_memory);
		if (!announce_same(oc, nc))
			(void)announce_change(d, nc, oc);
		if ((pool && laddr_setup(oc->laddr, oc->nladdr) < 0) || svc_merge(oc) < 0)
			log_warnx("reload: the previous configuration could not be put back whole "
			    "either; see above");
		(void)xmit_nat_sync();
		if (table && want)
			announce_routes(d, 1);
		return -1;
	}
	if (table && want)
		announce_routes(d, 1);
	if (nc->conn_max != oc->conn_max)
		log_notice("reload: conn_max %u -> %u (%u entries live)", oc->conn_max, nc->conn_max,
		    conn_count(d->ct));
	/* nat rules, fullnat interfaces and the pool's routes and proxy entries follow. */
	if (xmit_nat_sync() < 0)
		log_warnx("reload: the host set-up for nat could not be made whole; see above");
	d->check_as = *as;
	check_sync(nc, &d->check_as);
	*drop = oc;
	return 0;
}

static void announce_vips(struct daemon *d);

/*
 * After an applied reload, outside the lock: the metrics endpoint and the
 * control socket (path, groups) of NC. One that cannot be had (an address
 * in use, a path that cannot be bound, a group the daemon may no longer
 * give after dropping its privileges) keeps the old one, and NC says so,
 * so that the next reload compares with what runs.
 */
static void
reload_endpoints(struct daemon *d, const struct config *oc, struct config *nc)
{
	const char *op = d->sockpath ? d->sockpath : oc->control_socket;
	const char *np = d->sockpath ? d->sockpath : nc->control_socket;

	if ((nc->metrics_addr != oc->metrics_addr || nc->metrics_port != oc->metrics_port ||
	    nc->metrics_compat != oc->metrics_compat) &&
	    metrics_reconfig(d->base, nc->metrics_addr, nc->metrics_port, nc->metrics_compat,
	    d->ct) < 0) {
		log_warnx("reload: metrics: keeping the old endpoint");
		nc->metrics_addr = oc->metrics_addr;
		nc->metrics_port = oc->metrics_port;
	}
	if (d->sockpath && strcmp(nc->control_socket, oc->control_socket) != 0)
		log_info("reload: control_socket %s: the command line's -s %s stays", nc->control_socket,
		    d->sockpath);
	if ((strcmp(np, op) != 0 || strcmp(nc->control_group, oc->control_group) != 0 ||
	    strcmp(nc->control_group_read, oc->control_group_read) != 0) &&
	    ctl_reconfig(np, nc->control_group, nc->control_group_read) < 0) {
		log_warnx("reload: keeping the control socket %s and its groups as they were", op);
		memcpy(nc->control_socket, oc->control_socket, sizeof(nc->control_socket));
		memcpy(nc->control_group, oc->control_group, sizeof(nc->control_group));
		memcpy(nc->control_group_read, oc->control_group_read,
		    sizeof(nc->control_group_read));
	}
}

/*
 * A reload is applied whole or not at all: the file is read and checked
 * first (a bad one changes nothing), and an apply that fails half-way is
 * undone. Either way the outcome is logged and told to systemd (STATUS=),
 * and the VIPs that run are announced again.
 */
static void
reload(struct daemon *d)
{
	struct config *nc;
	struct spawn_user as;
	struct timespec t0, t1;

	if (d->reloading) {
		log_warnx("SIGHUP: a reload is already running; this one is refused");
		return;
	}
	d->reloading = 1;
	notify_reloading();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	log_notice("SIGHUP: reloading %s", d->file);
	nc = reload_read(d, &as);
	if (nc == NULL) {
		notify_status("reload of %s refused: the file is not valid (see the log); "
		    "serving the previous configuration", d->file);
	} else {
		struct config *drop;
		enum vsr_role file_role = d->conf->role;
		int rc;

		lock_all();
		rc = reload_apply(d, nc, &as, &drop);
		unlock_all();
		conn_table_reserve_drop(d->ct);         /* the old buckets, or the unused new ones */
		if (rc == 0) {
			reload_endpoints(d, drop, nc);
			/* The file's role only when its line changed: not to undo keepalived's. */
			if (nc->role != file_role)
				role_set(nc->role, "reload");
			/* The sync daemons again when the section changed (they take the lock). */
			sync_reconfig(&drop->sync, &nc->sync);
		}
		conf_free(drop);
		if (rc < 0) {
			notify_status("reload of %s failed and was undone (see the log); serving "
			    "the previous configuration", d->file);
		} else {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			log_notice("reloaded: %u virtual services, in %ld us", nc->nvs,
			    (long)((t1.tv_sec - t0.tv_sec) * 1000000 +
			    (t1.tv_nsec - t0.tv_nsec) / 1000));
			notify_status("reloaded %s: %u virtual services", d->file, nc->nvs);
		}
		announce_vips(d);
	}
	d->reloading = 0;
	notify_ready();
}

static void
on_drained(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	log_notice("drained: stopping");
	event_base_loopbreak(d->base);
}

/*
 * SIGTERM, SIGINT: with drain_timeout, withdraw the announce routes first
 * and keep forwarding for that long, so that the flows the router still
 * sends here (in flight, or until it has heard the withdraw) find their
 * entries; then stop. A second signal during the drain stops at once.
 */
static void
stop_or_drain(struct daemon *d, int sig)
{
	struct timeval tv = { (time_t)d->conf->drain_timeout, 0 };

	if (d->ev_drain != NULL || d->conf->drain_timeout == 0) {
		log_notice("signal %d: stopping", sig);
		notify_stopping();
		event_base_loopbreak(d->base);
		return;
	}
	log_notice("signal %d: withdrawing, forwarding for %u s (drain_timeout), then stopping",
	    sig, d->conf->drain_timeout);
	notify_stopping();
	notify_status("draining for %u s", d->conf->drain_timeout);
	announce_routes(d, 0);
	d->ev_drain = evtimer_new(d->base, on_drained, d);
	if (d->ev_drain == NULL || evtimer_add(d->ev_drain, &tv) < 0) {
		log_warnx("cannot time the drain; stopping now");
		event_base_loopbreak(d->base);
	}
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		stop_or_drain(d, (int)sig);
		break;
	case SIGHUP:
		reload(d);             /* locks only to apply */
		break;
	case SIGUSR1:
		lock_all();
		stats_dump(d);
		unlock_all();
		break;
	default:
		break;
	}
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	int moving = 0;
	unsigned n = conn_shards(d->ct);

	/* Each worker's table under its lock: the others go on meanwhile. */
	for (unsigned i = 0; i < n; i++) {
		struct conn_table *t = conn_shard(d->ct, i);

		lock_table(i);
		lock_shared();          /* expiry: the real servers' counts, the templates */
		conn_expire_run(t, conn_clock());
		moving |= conn_grow_step(t);
		unlock_shared();
		unlock_table(i);
	}
	/* The templates (member N of a set), or the one table. */
	lock_shared();
	conn_expire_run(conn_shard(d->ct, n), conn_clock());
	frag_sweep(conn_clock());
	/* A growth by reload: its keys into the larger buckets, a step a sweep (conn.h). */
	moving |= conn_grow_step(conn_shard(d->ct, n));
	bool orphans = dest_orphans_gone();
	unlock_shared();
	if (!moving)
		conn_table_reserve_drop(d->ct);     /* the old buckets, once moved */
	/* The last flow of a nat real server taken out of its service ended: its rules go. */
	if (orphans) {
		lock_all();
		if (xmit_nat_sync() < 0)
			log_warnx("the host set-up for nat could not be made whole; see above");
		unlock_all();
	}
}

static void
on_neigh(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	arp_refresh(++d->neigh_rounds % NEIGH_ALL == 0);
	tunnel_errors();
}

static void
on_est(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	lock_all();
	svc_est_tick();
	unlock_all();
}

static void
random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6)
		memcpy(mac, "\x02\x76\x73\x72\x00\x01", 6);
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);    /* unicast, locally administered */
	/* Never a mark service's MAC, nor its reply MAC one (06:76:..., svc.h, steer.h). */
	if (mac[0] == 0x06 && mac[1] == 0x76)
		mac[1] ^= 0x01;
}

/*
 * What announcing addresses of a family takes on the host, once (at
 * start for IPv4, as before; for IPv6 when its first VIP comes, at start
 * or later): the announce interfaces answer for them at once (the
 * kernel's proxy_delay, 0.8 s by default, to 0) and, for IPv6, answer
 * solicitations for proxy entries at all (proxy_ndp); the TAP takes part
 * in IPv6 (link-local address at once, no router discovery: the kernel's
 * solicitations for the VIPs need it as their source) and the host
 * forwards IPv6. All journaled, all undone at stop.
 */
static const char *const tap6_sysctls[][2] = {
	{ "accept_dad", "0" }, { "dad_transmits", "0" }, { "accept_ra", "0" },
	{ "autoconf", "0" }, { "router_solicitations", "0" }, { "disable_ipv6", "0" },
};

static int
announce_prepare(struct daemon *d, int af)
{
	const struct config *c = d->conf;
	int f = af == AF_INET6;
	char path[128];

	if (d->announce_ready[f])
		return 0;
	for (unsigned a = 0; a < c->nannounce; a++) {
		snprintf(path, sizeof(path), "net/ipv%c/neigh/%s/proxy_delay", f ? '6' : '4',
		    c->announce[a]);
		if (sysctl_set(path, "0") < 0)
			return -1;
		snprintf(path, sizeof(path), "net/ipv6/conf/%s/proxy_ndp", c->announce[a]);
		if (f && sysctl_set(path, "1") < 0)
			return -1;
	}
	if (f) {
		for (size_t i = 0; i < ARRAY_SIZE(tap6_sysctls); i++) {
			snprintf(path, sizeof(path), "net/ipv6/conf/%s/%s", c->tap, tap6_sysctls[i][0]);
			if (sysctl_set(path, tap6_sysctls[i][1]) < 0)
				return -1;
		}
		if (sysctl_set("net/ipv6/conf/all/forwarding", "1") < 0)
			return -1;
	}
	d->announce_ready[f] = 1;
	return 0;
}

/*
 * VIP (of family AF) routed into the TAP, whatever the role: a backup
 * forwards what reaches it. Its proxy ARP or NDP entries on the announce
 * interfaces are the role's (role.c): a master's only.
 */
static int
announce_vip(struct daemon *d, int af, const union vsr_addr *vip)
{
	if (announce_prepare(d, af) < 0 ||
	    nl_route_add(af, vip, (int)addr_len(af) * 8, d->tap_ifindex) < 0)
		return -1;
	return 0;
}

/* Each VIP routed into the TAP (announce_vip). */
static int
setup_vips(struct daemon *d)
{
	const struct vsr_ip *v;
	unsigned nv = svc_vips(&v);

	if (announce_prepare(d, AF_INET) < 0)
		return -1;
	for (unsigned i = 0; i < nv; i++)
		if (announce_vip(d, v[i].af, &v[i].addr) < 0)
			return -1;
	return 0;
}

static struct daemon *the_daemon;   /* for the VIP hook */

/* A family's first mark service (xmit_nat_set_family_hook): announce_prepare. */
static int
family_ready(int af)
{
	return announce_prepare(the_daemon, af);
}

/* A role taken (role.c): a master's announce routes in, a backup's out. */
static void
role_changed(int master)
{
	announce_routes(the_daemon, master);
}

/*
 * The announce routes: "VIP/32 dev TAP table announce_table" for every
 * VIP (VIP/128 for IPv6 ones), which a routing daemon (etc/bird-vsrouted.conf) learns from that
 * table and exports to the upstream router. They exist while this
 * director wants new traffic: ON puts them in, !ON takes them out (the
 * router then sends the VIPs' flows to the other directors) while the
 * VIPs' own routes in the main table stay and flows keep being
 * forwarded. Journalled like every host change; they go with the TAP
 * when the daemon dies. This is the one switch for taking a director
 * out of service and back: the SIGTERM drain calls it, and so can a
 * role change to backup (announce_routes(d, 0)) and back to master (1).
 * Nothing without announce_table.
 */
static void
announce_routes(struct daemon *d, int on)
{
	const struct vsr_ip *v;
	unsigned nv = svc_vips(&v);     /* each once; a mark service's are its own list */
	uint32_t table = d->conf->announce_table;

	if (table == 0 || d->announcing == !!on)
		return;
	d->announcing = !!on;
	for (unsigned i = 0; i < nv; i++) {
		int plen = (int)addr_len(v[i].af) * 8;

		if (on)
			nl_route_add_table(v[i].af, &v[i].addr, plen, d->tap_ifindex, table);
		else
			nl_route_del_table(v[i].af, &v[i].addr, plen, d->tap_ifindex, table);
	}
	log_notice("%s the virtual addresses in table %u", on ? "announcing" : "withdrew",
	    table);
}

/* A VIP appeared or went at run time (vsradm, reload): its route and proxy entries follow. */
static void
vip_changed(int af, const union vsr_addr *vip, int up)
{
	struct daemon *d = the_daemon;
	const struct config *c = d->conf;
	char a[ADDR_STRLEN];

	log_info("virtual address %s %s", addr_ntop(af, vip, a, sizeof(a)),
	    up ? "added" : "removed");
	if (up) {
		(void)announce_vip(d, af, vip);        /* each failure logged */
		if (d->announcing)
			nl_route_add_table(af, vip, (int)addr_len(af) * 8, d->tap_ifindex,
			    c->announce_table);
		/* A master's proxy entries; a reload announces every VIP once applied (announce_vips). */
		role_vip(af, vip, 1, !d->reloading);
		return;
	}
	if (d->announcing)
		nl_route_del_table(af, vip, (int)addr_len(af) * 8, d->tap_ifindex, c->announce_table);
	role_vip(af, vip, 0, 0);
	nl_route_del(af, vip, (int)addr_len(af) * 8, d->tap_ifindex);
}

/*
 * Gratuitous ARP or an unsolicited advertisement for each VIP on each
 * announce interface after each reload, so that neighbours that cached
 * another host for a VIP (a previous director, say) learn ours again: a
 * master's (role.c), one round.
 */
static void
announce_vips(struct daemon *d)
{
	(void)d;
	role_announce();
}

/*
 * The journal of host changes lives beside the control socket, in the
 * runtime directory: SOCKET less ".sock", plus ".journal"
 * (/run/vsrouted/vsrouted.journal under the unit).
 */
static int
journal_path(const char *sock, char *buf, size_t len)
{
	size_t n = strlen(sock);

	if (n > 5 && strcmp(sock + n - 5, ".sock") == 0)
		n -= 5;
	if ((size_t)snprintf(buf, len, "%.*s.journal", (int)n, sock) >= len) {
		log_errx("journal for %s: path too long", sock);
		return -1;
	}
	return 0;
}

static int
setup(struct daemon *d)
{
	const struct config *c = d->conf;
	char path[128], journal[PATH_MAX];
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	const char *sock = d->sockpath ? d->sockpath :
	    c->control_socket[0] ? c->control_socket : VSR_DEFAULT_SOCKET;

	for (unsigned a = 0; a < c->nannounce; a++) {
		if (if_nametoindex(c->announce[a]) == 0) {
			log_errx("announce interface %s does not exist", c->announce[a]);
			return -1;
		}
	}
	/* workers > 1: a table per worker, placed by the TAP's steering key (steer.h). */
	uint32_t skey = steer_new_key();
	steer_set(skey, 0);
	d->ct = conn_table_sharded(c->workers, c->conn_max, conn_clock(), skey);
	if (d->ct == NULL) {
		/* Entries and their two 4-byte buckets each (conn_table_new). */
		log_errx("conn_max %u: cannot allocate the connection table (about %llu MiB)",
		    c->conn_max, (unsigned long long)((uint64_t)c->conn_max *
		    (sizeof(struct conn) + 2 * sizeof(uint32_t))) >> 20);
		return -1;
	}
	conn_timeouts(d->ct, c);
	if (frag_configure(c->frag_timeout, c->frag_memory) < 0) {
		log_errx("fragment_memory %u: cannot allocate the fragment queue", c->frag_memory);
		return -1;
	}

	/* What an earlier instance left (kill -9) is undone before anything is set up. */
	if (nl_init() < 0 || journal_path(sock, journal, sizeof(journal)) < 0 ||
	    nl_journal_open(journal) < 0)
		return -1;
	d->nworkers = c->workers;
	if (tap_open(c->tap, d->nworkers, c->offload, d->tap_fds, &d->tap_ifindex) < 0 ||
	    nl_link_journal(c->tap) < 0)
		return -1;
	random_mac(d->workers[0].our_mac);
	if (nl_link_mac(d->tap_ifindex, d->workers[0].tap_mac) < 0)
		return -1;
	for (unsigned i = 1; i < d->nworkers; i++) {
		memcpy(d->workers[i].our_mac, d->workers[0].our_mac, 6);
		memcpy(d->workers[i].tap_mac, d->workers[0].tap_mac, 6);
	}
	/*
	 * Both directions of a flow to one worker: the TAP's steering program,
	 * loaded while root (kept across reloads: it knows only MACs). Without
	 * it the kernel spreads the frames by its own hash (logged once).
	 */
	if (d->nworkers > 1)
		(void)steer_attach(d->tap_fds[0], d->nworkers, d->workers[0].our_mac, skey);

	/*
	 * The TAP: no reverse-path filter, forwarding on; without IPv6 (no
	 * chatter) until an IPv6 address is announced (announce_prepare).
	 */
	if (!conf_has_af(c, AF_INET6)) {
		snprintf(path, sizeof(path), "net/ipv6/conf/%s/disable_ipv6", c->tap);
		if (sysctl_set(path, "1") < 0)
			log_info("IPv6 is not available on %s; going on", c->tap);
	}
	snprintf(path, sizeof(path), "net/ipv4/conf/%s/rp_filter", c->tap);
	if (sysctl_set(path, "0") < 0)
		return -1;
	if (sysctl_set("net/ipv4/ip_forward", "1") < 0)
		return -1;
	if (nl_link_up(d->tap_ifindex) < 0)
		return -1;

	if (laddr_setup(c->laddr, c->nladdr) < 0)
		return -1;
	xmit_init(d->tap_ifindex);
	/* nat and fullnat real servers' next hops are resolved when they are bound. */
	if (nh_init(NULL, d->tap_ifindex) < 0)
		return -1;
	svc_set_binder(xmit_bind);
	if (svc_setup(c) < 0)
		return -1;
	if (setup_vips(d) < 0)
		return -1;
	the_daemon = d;
	xmit_nat_set_family_hook(family_ready);
	if (xmit_nat_setup(d->tap_ifindex, c->tap) < 0)
		return -1;

	d->base = event_base_new();
	if (d->base == NULL) {
		log_errx("cannot create the event loop");
		return -1;
	}
	/* One worker: on this loop. More: each on a loop and a thread of its own. */
	for (unsigned i = 0; i < d->nworkers; i++)
		if (core_worker_init(&d->workers[i], i, d->nworkers > 1 ? NULL : d->base,
		    d->tap_fds[i], d->ct) < 0)
			return -1;
	if (arp_start(d->base) < 0 || nh_start(d->base) < 0)
		return -1;
	if (check_init(d->base) < 0)
		return -1;
	check_sync(c, &d->check_as);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		d->ev_sig[i] = evsignal_new(d->base, sigs[i], on_signal, d);
		if (d->ev_sig[i] == NULL || event_add(d->ev_sig[i], NULL) < 0) {
			log_errx("cannot watch signal %d", sigs[i]);
			return -1;
		}
	}
	struct timeval sweep = { 0, SWEEP_MS * 1000 }, neigh = { NEIGH_SECS, 0 },
	    est = { STATS_EST_SECS, 0 };
	d->ev_sweep = event_new(d->base, -1, EV_PERSIST, on_sweep, d);
	d->ev_neigh = event_new(d->base, -1, EV_PERSIST, on_neigh, d);
	d->ev_est = event_new(d->base, -1, EV_PERSIST, on_est, d);
	if (d->ev_sweep == NULL || d->ev_neigh == NULL || d->ev_est == NULL ||
	    event_add(d->ev_sweep, &sweep) < 0 || event_add(d->ev_neigh, &neigh) < 0 ||
	    event_add(d->ev_est, &est) < 0) {
		log_errx("cannot start the timers");
		return -1;
	}
	if (ctl_start(d->base, sock, c->control_group, c->control_group_read, d->ct) < 0)
		return -1;
	if (c->metrics_port &&
	    metrics_start(d->base, c->metrics_addr, c->metrics_port, c->metrics_compat, d->ct) < 0)
		return -1;
	/* The sync daemons of the file, before the workers run (sync.h). */
	sync_conn_init(d->ct);
	sync_init(d->base, d->nworkers, conn_id_space(d->ct), sync_conn_apply);
	for (unsigned st = SYNC_STATE_MASTER; st <= SYNC_STATE_BACKUP; st <<= 1)
		if ((c->sync.state & st) && sync_start(st, &c->sync) < 0) {
			log_errx("sync: cannot start the %s daemon on %s: %s", sync_state_name(st),
			    c->sync.ifname, strerror(errno));
			return -1;
		}
	the_daemon = d;
	svc_set_vip_hook(vip_changed);
	core_set_sloppy(c->sloppy_tcp);
	/*
	 * A master announces the VIPs and the pool (and sends its burst), and
	 * puts in its announce routes; a backup does neither (role_changed).
	 */
	role_set_hook(role_changed);
	if (role_start(d->base, c->role, c) < 0)
		return -1;
	/* Everything that needs root is open or written: from now on the two capabilities. */
	if (c->user[0] && priv_drop(&d->user) < 0)
		return -1;
	/* Started unprivileged (the systemd unit): what only the start needed goes. */
	if (!c->user[0] && geteuid() != 0 && priv_trim() < 0)
		return -1;
	/* Threads last: they inherit the dropped privileges (capabilities are per thread). */
	if (d->nworkers > 1) {
		lock_set_threaded(d->nworkers);
		for (unsigned i = 0; i < d->nworkers; i++)
			if (core_worker_start(&d->workers[i]) < 0)
				return -1;
		log_info("%u workers, one per queue of %s", d->nworkers, c->tap);
	}
	return 0;
}

static void
teardown(struct daemon *d)
{
	/* The workers first: nothing they use may go before they are joined. */
	for (unsigned i = 0; i < d->nworkers; i++)
		core_worker_stop(&d->workers[i]);
	lock_set_threaded(0);
	sync_fini();
	metrics_stop();
	role_stop();
	check_stop_all();
	for (size_t i = 0; i < ARRAY_SIZE(d->ev_sig); i++)
		if (d->ev_sig[i])
			event_free(d->ev_sig[i]);
	if (d->ev_sweep)
		event_free(d->ev_sweep);
	if (d->ev_neigh)
		event_free(d->ev_neigh);
	if (d->ev_est)
		event_free(d->ev_est);
	if (d->ev_drain)
		event_free(d->ev_drain);
	ctl_stop();
	notify_fini();
	for (unsigned i = 0; i < d->nworkers; i++)
		core_worker_fini(&d->workers[i]);
	arp_stop();
	if (d->ct)
		conn_flush(d->ct);
	svc_teardown();
	laddr_teardown();
	nh_fini();
	links_close();
	tunnel_close();
	xmit_nat_close();
	/* Host changes go first; the TAP (and routes into it) with its fd. */
	nl_undo_all();
	for (unsigned i = 0; i < CONF_WORKERS_MAX; i++)
		if (d->tap_fds[i] >= 0)
			close(d->tap_fds[i]);
	nl_fini();
	conn_table_free(d->ct);
	frag_fini();
	if (d->base)
		event_base_free(d->base);
	if (d->pidfile && unlink(d->pidfile) < 0 && errno != ENOENT)
		log_warn("pid file %s is left behind", d->pidfile);
	conf_free(d->conf);
}

/*
 * What the start would find missing on this host before changing it, said
 * by -t as well, as FILE:LINE: announce interfaces, the control groups.
 */
static int
host_check(const struct config *c)
{
	int bad = 0;

	for (unsigned a = 0; a < c->nannounce; a++)
		if (if_nametoindex(c->announce[a]) == 0) {
			log_errx("%s:%d: announce interface %s does not exist", c->file,
			    c->announce_line, c->announce[a]);
			bad = 1;
		}
	if (c->control_group[0] && getgrnam(c->control_group) == NULL) {
		log_errx("%s:%d: control_group %s: no such group", c->file, c->control_group_line,
		    c->control_group);
		bad = 1;
	}
	if (c->control_group_read[0] && getgrnam(c->control_group_read) == NULL) {
		log_errx("%s:%d: control_group_read %s: no such group", c->file,
		    c->control_group_read_line, c->control_group_read);
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
		log_err("pid file %s", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct daemon d = { .nworkers = 0 };
	const char *file = DEFAULT_CONF;
	int foreground = 0, check = 0, ch, lvl = LOG_LVL_INFO, rc = 1;

	for (unsigned i = 0; i < CONF_WORKERS_MAX; i++)
		d.tap_fds[i] = -1;

	while ((ch = getopt(argc, argv, "f:ntp:s:l:Vh")) != -1) {
		switch (ch) {
		case 'f': file = optarg; break;
		case 'n': foreground = 1; break;
		case 't': check = 1; break;
		case 'p': d.pidfile = optarg; break;
		case 's': d.sockpath = optarg; break;
		case 'l':
			lvl = log_level_parse(optarg);
			if (lvl < 0) {
				fprintf(stderr, "vsrouted: -l: unknown level '%s'\n", optarg);
				return 1;
			}
			break;
		case 'V':
			printf("vsrouted %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}

	log_init("vsrouted", foreground || check, (enum log_level)lvl);
	d.conf = conf_load(file);
	if (d.conf == NULL)
		return 1;
	/*
	 * What a start refuses before it touches the host, -t refuses too: a
	 * user that does not exist, exec checks that could not run as their
	 * user, or whose program others can change, an announce interface or
	 * a control group that is not there.
	 */
	if ((d.conf->user[0] && priv_lookup(d.conf->user, &d.user) < 0) ||
	    check_conf_verify(d.conf, d.conf->user[0] ? d.user.uid : geteuid(), &d.check_as) < 0 ||
	    host_check(d.conf) < 0) {
		conf_free(d.conf);
		return 1;
	}
	if (check) {
		conf_free(d.conf);
		fprintf(stderr, "%s: configuration is valid\n", file);
		return 0;
	}
		/* daemon() leaves for "/": a reload must still find the file. */
	char *abspath = realpath(file, NULL);
	d.file = abspath ? abspath : file;
	if (!foreground && daemon(0, 0) < 0) {
		log_err("daemon");
		conf_free(d.conf);
		free(abspath);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	notify_init();
	if (d.pidfile && write_pidfile(d.pidfile) < 0)
		d.pidfile = NULL;
	else if (setup(&d) == 0) {
		log_notice("ready: %u virtual services on %s, %u-connection table",
		    d.conf->nvs, d.conf->tap, d.conf->conn_max);
		notify_status("serving %u virtual services on %s", d.conf->nvs, d.conf->tap);
		notify_ready();
		if (event_base_dispatch(d.base) < 0)
			log_errx("event loop failed");
		else
			rc = 0;
	}
	teardown(&d);
	free(abspath);
	if (rc == 0)
		log_notice("stopped");
	return rc;
}
