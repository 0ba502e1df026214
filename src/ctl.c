/* ctl.c - the control socket: vsradm's requests, served from the event loop */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "ctl.h"
#include "lock.h"
#include "log.h"
#include "sched.h"
#include "svc.h"

#define CTL_CLIENTS_MAX 16
#define CTL_ARGS_MAX    16

struct ctl_client {
	struct bufferevent *bev;
	struct ctl_client  *next;
};

static struct {
	struct event_base *base;
	struct event      *ev_listen;
	int                fd;
	char               path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn_table *ct;
	struct ctl_client *clients;
	unsigned           nclients;
} ctl = { .fd = -1 };

static void
out(struct evbuffer *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out(struct evbuffer *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(o, fmt, ap);
	va_end(ap);
}

static const char *
ap_str(uint32_t addr, uint16_t port_net, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, ntohs(port_net));
	return buf;
}

static void
out_stats(struct evbuffer *o, const struct stats *st)
{
	out(o, " %llu %llu %llu %llu %llu", (unsigned long long)st->conns,
	    (unsigned long long)st->inpkts, (unsigned long long)st->outpkts,
	    (unsigned long long)st->inbytes, (unsigned long long)st->outbytes);
}

static void
out_rates(struct evbuffer *o, const struct stats_est *e)
{
	struct stats_rate r;

	stats_est_read(e, &r);
	out(o, " %llu %llu %llu %llu %llu", (unsigned long long)r.cps,
	    (unsigned long long)r.inpps, (unsigned long long)r.outpps,
	    (unsigned long long)r.inbps, (unsigned long long)r.outbps);
}

static int
req_list(struct evbuffer *o)
{
	struct service *s;
	struct dest *d;
	char ap[32], nm[INET_ADDRSTRLEN], fl[64];

	out(o, "size %u\n", conn_capacity(ctl.ct));
	TAILQ_FOREACH(s, svc_list(), entry) {
		inet_ntop(AF_INET, &s->netmask, nm, sizeof(nm));
		svc_flags_format(s->flags, fl, sizeof(fl));
		out(o, "svc %s %s %s %u %s %s", s->proto == IPPROTO_UDP ? "udp" : "tcp",
		    ap_str(s->addr, s->port, ap, sizeof(ap)), s->sched->name, s->persistent, nm,
		    fl[0] ? fl : "-");
		out_stats(o, &s->stats);
		out_rates(o, &s->est);
		out(o, "\n");
		TAILQ_FOREACH(d, &s->dests, entry) {
			out(o, "dest %s %s %d %u %u %u %u", ap_str(d->addr, d->port, ap, sizeof(ap)),
			    fwd_name(d->fwd), d->weight, d->u_threshold, d->l_threshold,
			    d->activeconns, d->inactconns);
			out_stats(o, &d->stats);
			out(o, " %s", tunnel_name(d->tunnel));
			out_rates(o, &d->est);
			out(o, "\n");
		}
	}
	return 0;
}

struct conns_walk {
	struct evbuffer *o;
	uint32_t now;
	unsigned n;
};

static int
conns_one(struct conn *c, void *arg)
{
	struct conns_walk *w = arg;
	char ca[32], va[32], da[32];
	int32_t left = (int32_t)(c->expires - w->now);

	if (w->n++ == CTL_CONNS_MAX)
		return 1;
	out(w->o, "conn %s %s %s %s %s %u\n", (c->proto & 0x7f) == IPPROTO_UDP ? "udp" : "tcp",
	    ap_str(c->caddr, c->cport, ca, sizeof(ca)), ap_str(c->vaddr, c->vport, va, sizeof(va)),
	    ap_str(c->daddr, c->dport, da, sizeof(da)), conn_state_name((enum conn_state)c->state),
	    left > 0 ? (unsigned)left / CONN_HZ : 0);
	return 0;
}

static int
req_conns(struct evbuffer *o)
{
	struct conns_walk w = { o, conn_clock(), 0 };

	/* A listing may walk the table; it is capped, not streamed. */
	if (conn_foreach(ctl.ct, conns_one, &w))
		out(o, "truncated %u\n", CTL_CONNS_MAX);
	return 0;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return (*s == '\0' || *end != '\0' || errno || *v > max || *s == '-') ? -1 : 0;
}

/* "tcp 10.10.0.100:80" -> the service key into VC; 0 or -1 (ERR set). */
static int
parse_service(char **argv, int argc, struct vs_conf *vc, char *err, size_t len)
{
	uint32_t a;
	uint16_t p;

	if (argc < 2 || (vc->proto = proto_parse(argv[0])) < 0 ||
	    addrport_parse(argv[1], &a, &p, 1) < 0) {
		snprintf(err, len, "Illegal virtual server address[:port] specified");
		return -1;
	}
	vc->addr.s_addr = a;
	vc->port = p;
	return 0;
}

static void
vs_from_service(struct vs_conf *vc, const struct service *s)
{
	memset(vc, 0, sizeof(*vc));
	vc->proto = s->proto;
	vc->addr.s_addr = s->addr;
	vc->port = ntohs(s->port);
	snprintf(vc->sched, sizeof(vc->sched), "%s", s->sched->name);
	vc->persistent = s->persistent;
	vc->flags = s->flags;
	vc->mh_size = s->mh_size;
	vc->netmask.s_addr = s->netmask;
	vc->fwd = s->fwd;
	vc->tunnel = s->tunnel;
}

static int
parse_svc_opts(char **argv, int argc, struct vs_conf *vc, char *err, size_t len)
{
	unsigned long v;

	for (int i = 0; i < argc; i++) {
		char *k = argv[i], *val = strchr(k, '=');
		if (val == NULL) {
			snprintf(err, len, "unknown option '%s'", k);
			return -1;
		}
		*val++ = '\0';
		if (strcmp(k, "sched") == 0) {
			if (sched_lookup(val) == NULL || strlen(val) >= sizeof(vc->sched)) {
				snprintf(err, len, "Scheduler not found: %s", val);
				return -1;
			}
			snprintf(vc->sched, sizeof(vc->sched), "%s", val);
		} else if (strcmp(k, "persistent") == 0) {
			if (parse_uint(val, 31536000, &v) < 0) {
				snprintf(err, len, "Illegal timeout for persistent service");
				return -1;
			}
			vc->persistent = (unsigned)v;
		} else if (strcmp(k, "netmask") == 0) {
			if (inet_pton(AF_INET, val, &vc->netmask) != 1) {
				snprintf(err, len, "Illegal virtual server netmask");
				return -1;
			}
		} else if (strcmp(k, "flags") == 0) {
			if (svc_flags_parse(strcmp(val, "-") ? val : "", &vc->flags) < 0) {
				snprintf(err, len, "Invalid scheduler flag '%s'", val);
				return -1;
			}
		} else {
			snprintf(err, len, "unknown option '%s'", k);
			return -1;
		}
	}
	return 0;
}

static int
parse_dest_opts(char **argv, int argc, struct rs_conf *rc, char *err, size_t len)
{
	unsigned long v;
	int f;

	for (int i = 0; i < argc; i++) {
		char *k = argv[i], *val = strchr(k, '=');
		if (val == NULL) {
			snprintf(err, len, "unknown option '%s'", k);
			return -1;
		}
		*val++ = '\0';
		if (strcmp(k, "fwd") == 0) {
			if ((f = fwd_parse(val)) < 0) {
				snprintf(err, len, "Illegal forwarding method '%s'", val);
				return -1;
			}
			rc->fwd = (enum fwd_method)f;
		} else if (strcmp(k, "tunnel") == 0) {
			if ((f = tunnel_parse(val)) < 0) {
				snprintf(err, len, "Illegal tunnel type '%s' (ipip or gre)", val);
				return -1;
			}
			rc->tunnel = (enum tunnel_type)f;
		} else if (strcmp(k, "weight") == 0) {
			if (parse_uint(val, 65535, &v) < 0) {
				snprintf(err, len, "Illegal weight specified");
				return -1;
			}
			rc->weight = (int)v;
		} else if (strcmp(k, "upper") == 0 || strcmp(k, "lower") == 0) {
			if (parse_uint(val, 65535, &v) < 0) {
				snprintf(err, len, "Illegal %s connection threshold specified",
				    k[0] == 'u' ? "upper" : "lower");
				return -1;
			}
			*(k[0] == 'u' ? &rc->upper : &rc->lower) = (uint32_t)v;
		} else {
			snprintf(err, len, "unknown option '%s'", k);
			return -1;
		}
	}
	return 0;
}

static int
req_svc(char **argv, int argc, char *err, size_t len)
{
	struct vs_conf vc = { .sched = "wlc", .mh_size = 65537, .fwd = FWD_DR,
	    .netmask.s_addr = 0xffffffffu };
	struct service *s;

	if (parse_service(argv + 1, argc - 1, &vc, err, len) < 0)
		return -1;
	s = svc_lookup((uint8_t)vc.proto, vc.addr.s_addr, htons(vc.port));
	if (strcmp(argv[0], "svc-add") == 0) {
		snprintf(vc.name, sizeof(vc.name), "%s", argv[2]);
		if (parse_svc_opts(argv + 3, argc - 3, &vc, err, len) < 0)
			return -1;
		return svc_add(&vc, err, len) ? 0 : -1;
	}
	if (s == NULL) {
		snprintf(err, len, "No such service");
		return -1;
	}
	if (strcmp(argv[0], "svc-del") == 0)
		return svc_del(s, err, len);
	vs_from_service(&vc, s);
	if (parse_svc_opts(argv + 3, argc - 3, &vc, err, len) < 0)
		return -1;
	return svc_edit(s, &vc, err, len);
}

static int
req_dest(char **argv, int argc, char *err, size_t len)
{
	struct vs_conf vc;
	struct rs_conf rc = { .weight = 1 };
	struct service *s;
	struct dest *d;
	uint32_t a;
	uint16_t p;

	if (parse_service(argv + 1, argc - 1, &vc, err, len) < 0)
		return -1;
	if (argc < 4 || addrport_parse(argv[3], &a, &p, 1) < 0) {
		snprintf(err, len, "Illegal real server address[:port] specified");
		return -1;
	}
	if ((s = svc_lookup((uint8_t)vc.proto, vc.addr.s_addr, htons(vc.port))) == NULL) {
		snprintf(err, len, "Service not defined");
		return -1;
	}
	d = dest_find(s, a, htons(p));
	if (strcmp(argv[0], "dest-add") == 0) {
		if (d != NULL) {
			snprintf(err, len, "Destination already exists");
			return -1;
		}
		rc.addr.s_addr = a;
		rc.port = p;
		rc.fwd = s->fwd;
		rc.tunnel = s->tunnel;
		snprintf(rc.name, sizeof(rc.name), "%s", argv[3]);
	} else if (d == NULL) {
		snprintf(err, len, "No such destination");
		return -1;
	} else if (strcmp(argv[0], "dest-del") == 0) {
		dest_del(d);
		return 0;
	} else {
		rc.addr.s_addr = d->addr;
		rc.port = ntohs(d->port);
		rc.fwd = d->fwd;
		rc.tunnel = d->tunnel;
		rc.tunnel_mtu = d->tunnel_mtu;
		rc.weight = d->conf_weight;  /* not 0 because its check failed */
		rc.upper = d->u_threshold;
		rc.lower = d->l_threshold;
	}
	if (parse_dest_opts(argv + 4, argc - 4, &rc, err, len) < 0)
		return -1;
	/* dr leaves the packet as it is and tun only wraps it (as the config). */
	if ((rc.fwd == FWD_DR || rc.fwd == FWD_TUN) && rc.port != vc.port) {
		snprintf(err, len, "real server port must equal the service port for %s",
		    fwd_name(rc.fwd));
		return -1;
	}
	if (rc.upper && rc.lower > rc.upper) {
		snprintf(err, len, "Illegal lower connection threshold specified");
		return -1;
	}
	if (d == NULL)
		return dest_add(s, &rc, err, len);
	return dest_edit(d, &rc, err, len);
}

static int
req_set(char **argv, int argc, char *err, size_t len)
{
	static const enum conn_state which[3] = { CS_ESTABLISHED, CS_FIN_WAIT, CS_UDP };
	unsigned secs[CS_MAX];
	unsigned long v[3];

	for (int i = 0; i < 3; i++)
		if (argc != 4 || parse_uint(argv[i + 1], 31536000, &v[i]) < 0) {
			snprintf(err, len, "Illegal timeout value");
			return -1;
		}
	for (int s = 0; s < CS_MAX; s++)
		secs[s] = conn_get_timeout(ctl.ct, (enum conn_state)s);
	for (int i = 0; i < 3; i++)
		if (v[i])
			secs[which[i]] = (unsigned)v[i];
	conn_set_timeouts(ctl.ct, secs);
	return 0;
}

static int
req_zero(char **argv, int argc, char *err, size_t len)
{
	struct vs_conf vc;
	struct service *s;

	if (argc == 1) {
		TAILQ_FOREACH(s, svc_list(), entry)
			svc_zero(s);
		return 0;
	}
	if (parse_service(argv + 1, argc - 1, &vc, err, len) < 0)
		return -1;
	if ((s = svc_lookup((uint8_t)vc.proto, vc.addr.s_addr, htons(vc.port))) == NULL) {
		snprintf(err, len, "No such service");
		return -1;
	}
	svc_zero(s);
	return 0;
}

/* One request line; its answer goes into O. */
static void
ctl_request(char *line, struct evbuffer *o)
{
	char *argv[CTL_ARGS_MAX], *save, err[256] = "";
	int argc = 0, rc;

	for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (argc == CTL_ARGS_MAX) {
			out(o, "err too many arguments\n");
			return;
		}
		argv[argc++] = t;
	}
	if (argc == 0) {
		out(o, "err empty request\n");
		return;
	}
	if (strcmp(argv[0], "list") == 0)
		rc = req_list(o);
	else if (strcmp(argv[0], "conns") == 0)
		rc = req_conns(o);
	else if (strcmp(argv[0], "timeout") == 0) {
		out(o, "timeout %u %u %u\n", conn_get_timeout(ctl.ct, CS_ESTABLISHED),
		    conn_get_timeout(ctl.ct, CS_FIN_WAIT), conn_get_timeout(ctl.ct, CS_UDP));
		rc = 0;
	} else if (strcmp(argv[0], "set") == 0)
		rc = req_set(argv, argc, err, sizeof(err));
	else if (strcmp(argv[0], "zero") == 0)
		rc = req_zero(argv, argc, err, sizeof(err));
	else if (strcmp(argv[0], "clear") == 0) {
		svc_clear();
		rc = 0;
	} else if (strncmp(argv[0], "svc-", 4) == 0 && (strcmp(argv[0] + 4, "add") == 0 ||
	    strcmp(argv[0] + 4, "edit") == 0 || strcmp(argv[0] + 4, "del") == 0))
		rc = req_svc(argv, argc, err, sizeof(err));
	else if (strncmp(argv[0], "dest-", 5) == 0 && (strcmp(argv[0] + 5, "add") == 0 ||
	    strcmp(argv[0] + 5, "edit") == 0 || strcmp(argv[0] + 5, "del") == 0))
		rc = req_dest(argv, argc, err, sizeof(err));
	else {
		snprintf(err, sizeof(err), "unknown request '%s'", argv[0]);
		rc = -1;
	}
	if (rc == 0)
		out(o, "ok\n");
	else
		out(o, "err %s\n", err);
}

static void
ctl_client_free(struct ctl_client *c)
{
	struct ctl_client **pp;

	for (pp = &ctl.clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bufferevent_free(c->bev);
	free(c);
	ctl.nclients--;
}

static void
ctl_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		if (n < CTL_LINE_MAX) {
			/* Requests read and change what the workers use. */
			lock_acquire();
			ctl_request(line, bufferevent_get_output(bev));
			lock_release();
		}
		else
			evbuffer_add_printf(bufferevent_get_output(bev), "err request too long\n");
		free(line);
	}
	if (evbuffer_get_length(in) >= CTL_LINE_MAX) {
		log_warnx("control: request longer than %d bytes; connection closed", CTL_LINE_MAX);
		ctl_client_free(arg);
	}
}

static void
ctl_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ctl_client_free(arg);
}

static void
ctl_accept(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c;
	int s;

	(void)what;
	(void)arg;
	s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (s < 0)
		return;
	if (ctl.nclients >= CTL_CLIENTS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		close(s);
		return;
	}
	c->bev = bufferevent_socket_new(ctl.base, s, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(s);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, ctl_read, NULL, ctl_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_LINE_MAX * 4);
	bufferevent_enable(c->bev, EV_READ);
	c->next = ctl.clients;
	ctl.clients = c;
	ctl.nclients++;
}

int
ctl_start(struct event_base *base, const char *path, const char *group, struct conn_table *ct)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t um;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_errx("control socket %s: path too long", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ctl.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl.fd < 0) {
		log_err("control socket");
		return -1;
	}
	/* A socket left by a daemon that is gone is replaced; a live one is not. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int t = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (t >= 0 && connect(t, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(t);
			log_errx("control socket %s: another daemon answers there", path);
			goto fail;
		}
		if (t >= 0)
			close(t);
		unlink(path);
	}
	um = umask(0177);
	if (bind(ctl.fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(um);
		log_err("control socket %s", path);
		goto fail;
	}
	umask(um);
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	if (group[0]) {
		struct group *g = getgrnam(group);
		if (g == NULL) {
			log_errx("control_group %s: no such group", group);
			goto fail;
		}
		if (chown(path, (uid_t)-1, g->gr_gid) < 0 || chmod(path, 0660) < 0) {
			log_err("control socket %s: group %s", path, group);
			goto fail;
		}
	}
	if (listen(ctl.fd, 8) < 0) {
		log_err("control socket %s: listen", path);
		goto fail;
	}
	ctl.base = base;
	ctl.ct = ct;
	ctl.ev_listen = event_new(base, ctl.fd, EV_READ | EV_PERSIST, ctl_accept, NULL);
	if (ctl.ev_listen == NULL || event_add(ctl.ev_listen, NULL) < 0) {
		log_errx("control socket: cannot watch it");
		goto fail;
	}
	return 0;
fail:
	ctl_stop();
	return -1;
}

void
ctl_stop(void)
{
	while (ctl.clients)
		ctl_client_free(ctl.clients);
	if (ctl.ev_listen)
		event_free(ctl.ev_listen);
	ctl.ev_listen = NULL;
	if (ctl.fd >= 0)
		close(ctl.fd);
	ctl.fd = -1;
	/* After a drop to "user" the directory may not be ours: said, and replaced at the next start. */
	if (ctl.path[0] && unlink(ctl.path) < 0 && errno != ENOENT)
		log_warn("control socket %s is left behind (the next start replaces it)", ctl.path);
	ctl.path[0] = '\0';
}
