/* metrics.c - the metrics listener: Prometheus text, the status page, bounded against hostile clients */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "defence.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "role.h"
#include "stats.h"
#include "status.h"
#include "svc.h"
#include "sync.h"

/* What the listener refused or cut short, counted (vsrouted_http_rejected_total). */
enum http_reject {
	REJ_HEADER_SIZE,        /* the header outgrew METRICS_HDR_MAX: 431 */
	REJ_DEADLINE,           /* not done within METRICS_DEADLINE: closed */
	REJ_BAD_REQUEST,        /* no parsable request line: 400 */
	REJ_METHOD,             /* not GET or HEAD: 405 */
	REJ_BODY,               /* a request body announced: 413 */
	REJ_NOT_FOUND,          /* no such page: 404 */
	REJ_FD_RESERVE,         /* accepted into the descriptor reserve: closed, paused */
	REJ_ACCEPT_ERROR,       /* accept failed (EMFILE, ENFILE, ENOBUFS ...): paused */
	REJ_MAX
};

static const char *const reject_names[REJ_MAX] = {
	[REJ_HEADER_SIZE]  = "header_too_large",
	[REJ_DEADLINE]     = "deadline",
	[REJ_BAD_REQUEST]  = "bad_request",
	[REJ_METHOD]       = "method",
	[REJ_BODY]         = "body",
	[REJ_NOT_FOUND]    = "not_found",
	[REJ_FD_RESERVE]   = "fd_reserve",
	[REJ_ACCEPT_ERROR] = "accept_error",
};

/* One client: its header read into a fixed buffer, then its answer written. */
struct mconn {
	TAILQ_ENTRY(mconn) entry;
	int                fd;
	struct event      *io;           /* read, then write */
	struct event      *deadline;     /* METRICS_DEADLINE after the accept */
	struct evbuffer   *out;          /* the answer, once the request is read */
	int                lingering;    /* answered: reading and dropping until the client's end */
	size_t             len;          /* bytes in hdr; lingering: bytes dropped */
	size_t             scanned;      /* hdr[0 .. scanned) has no end of header */
	char               hdr[METRICS_HDR_MAX + 1];
};

static struct {
	struct event_base *base;
	const struct conn_table *ct;
	enum metrics_compat compat;
	int                fd;           /* the listening socket, -1: none */
	uint32_t           addr;         /* its address (network order) and port */
	uint16_t           port;
	struct event      *ev_listen;
	struct event      *ev_resume;    /* the pause after EMFILE or the reserve */
	int                listening;    /* ev_listen is added */
	int                paused;       /* ev_resume is pending */
	int                stopping;     /* metrics_stop: no resume */
	int                starved;      /* logged the edge of the pause */
	unsigned           nconn;
	const struct timeval *deadline;  /* a common timeout of METRICS_DEADLINE s */
	TAILQ_HEAD(, mconn) conns;
	uint64_t           requests;     /* answered 200 */
	uint64_t           accepted;
	uint64_t           rejected[REJ_MAX];
	uint64_t           pauses;       /* the listener paused: full, EMFILE or reserve */
} m = { .fd = -1, .conns = TAILQ_HEAD_INITIALIZER(m.conns) };

/* Metric families: a name, a type, a help text; samples follow each. */
static void
family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP vsrouted_%s %s\n# TYPE vsrouted_%s %s\n", name, help,
	    name, type);
}

/*
 * Label values here are names (no space, quote or backslash: conf.c) and
 * addresses, IPv6 ones as inet_ntop writes them (the port is a label of
 * its own: no brackets).
 */
static void
svc_labels(char *buf, size_t len, const struct service *s)
{
	char a[ADDR_STRLEN];

	addr_ntop(s->af, &s->addr, a, sizeof(a));
	snprintf(buf, len, "vs=\"%s\",proto=\"%s\",vip=\"%s\",port=\"%u\"", s->name,
	    proto_upper_name(s->proto), a, ntohs(s->port));
}

static void
dest_labels(char *buf, size_t len, const struct service *s, const struct dest *d)
{
	char sl[256], a[ADDR_STRLEN];

	svc_labels(sl, sizeof(sl), s);
	addr_ntop(d->af, &d->addr, a, sizeof(a));
	snprintf(buf, len, "%s,rs=\"%s\",rip=\"%s\",rport=\"%u\",forward=\"%s\"", sl, d->name,
	    a, ntohs(d->port), fwd_name(d->fwd));
}

static void
metrics_render(struct evbuffer *b)
{
	struct service *s;
	struct dest *d;
	char l[512], n[64];

	for (int i = STAT_NONE + 1; i < STAT_MAX; i++) {
		snprintf(n, sizeof(n), "%s_total", stat_name((enum stat_id)i));
		family(b, n, "counter", "global counter (see vsrouted(8), SIGNALS)");
		evbuffer_add_printf(b, "vsrouted_%s %llu\n", n,
		    (unsigned long long)stat_total((enum stat_id)i));
	}
	family(b, "role", "gauge", "1 for the director's role (vsradm --role): master or backup");
	for (int r = 0; r < ROLE_MAX; r++)
		evbuffer_add_printf(b, "vsrouted_role{role=\"%s\"} %d\n", role_name((enum vsr_role)r),
		    role_get() == (enum vsr_role)r);
	family(b, "sync_refused_total", "counter",
	    "sync messages and entries refused by the checks, by reason (sync_msg.h)");
	for (int e = SYNC_E_OK + 1; e < SYNC_E_MAX; e++)
		if (e != SYNC_E_SYNCID)
			evbuffer_add_printf(b, "vsrouted_sync_refused_total{reason=\"%s\"} %llu\n",
			    sync_err_name((enum sync_err)e),
			    (unsigned long long)sync_refused((enum sync_err)e));
	family(b, "table_connections", "gauge", "entries in the connection table");
	evbuffer_add_printf(b, "vsrouted_table_connections %u\n", conn_count(m.ct));
	family(b, "table_capacity", "gauge", "conn_max");
	evbuffer_add_printf(b, "vsrouted_table_capacity %u\n", conn_capacity(m.ct));
	family(b, "table_unconfirmed", "gauge",
	    "connections not past the TCP handshake, and UDP ones (the flood defences)");
	evbuffer_add_printf(b, "vsrouted_table_unconfirmed %u\n", conn_unconfirmed(m.ct));
	{
		int lv[3];
		static const char *const names[3] = { "drop_entry", "drop_packet", "secure_tcp" };

		defence_levels(&lv[0], &lv[1], &lv[2]);
		family(b, "defence_level", "gauge",
		    "IPVS's value of each flood defence: 0 off, 1 auto, 2 auto and in force, 3 always");
		for (int i = 0; i < 3; i++)
			evbuffer_add_printf(b, "vsrouted_defence_level{strategy=\"%s\"} %d\n",
			    names[i], lv[i]);
	}

	/* The counters of services and real servers (VSR_COUNTERS, ctlproto.h), a family each. */
	for (int f = 0; f < VSR_C_MAX; f++) {
		const struct vsr_counter_name *c = &vsr_counter_names[f];
		uint64_t v[VSR_C_MAX];

		if (c->svc) {
			snprintf(n, sizeof(n), "service_%s", c->metric);
			family(b, n, c->type, c->help);
			TAILQ_FOREACH(s, svc_list(), entry) {
				svc_labels(l, sizeof(l), s);
				svc_counters(s, v);
				evbuffer_add_printf(b, "vsrouted_%s{%s} %llu\n", n, l,
				    (unsigned long long)v[f]);
			}
		}
		snprintf(n, sizeof(n), "real_server_%s", c->metric);
		family(b, n, c->type, c->help);
		TAILQ_FOREACH(s, svc_list(), entry) {
			TAILQ_FOREACH(d, &s->dests, entry) {
				dest_labels(l, sizeof(l), s, d);
				dest_counters(d, v);
				evbuffer_add_printf(b, "vsrouted_%s{%s} %llu\n", n, l,
				    (unsigned long long)v[f]);
			}
			TAILQ_FOREACH(d, &s->removed, entry) {
				dest_labels(l, sizeof(l), s, d);
				dest_counters(d, v);
				evbuffer_add_printf(b, "vsrouted_%s{%s} %llu\n", n, l,
				    (unsigned long long)v[f]);
			}
		}
	}

	/* Sorry servers: in use or not, and the switches, per service. */
	family(b, "service_sorry_active", "gauge", "1 while the sorry server takes the new flows");
	TAILQ_FOREACH(s, svc_list(), entry) {
		svc_labels(l, sizeof(l), s);
		evbuffer_add_printf(b, "vsrouted_service_sorry_active{%s} %d\n", l,
		    svc_sorry_active(s));
	}
	family(b, "service_sorry_ons_total", "counter", "switches to the sorry server");
	TAILQ_FOREACH(s, svc_list(), entry) {
		svc_labels(l, sizeof(l), s);
		evbuffer_add_printf(b, "vsrouted_service_sorry_ons_total{%s} %llu\n", l,
		    (unsigned long long)s->sorry_ons);
	}
	family(b, "service_sorry_offs_total", "counter", "switches back to the real servers");
	TAILQ_FOREACH(s, svc_list(), entry) {
		svc_labels(l, sizeof(l), s);
		evbuffer_add_printf(b, "vsrouted_service_sorry_offs_total{%s} %llu\n", l,
		    (unsigned long long)s->sorry_offs);
	}
}


/* The listener's own counters: what it answered and what it refused. */
static void
metrics_render_http(struct evbuffer *b)
{
	family(b, "http_requests_total", "counter", "requests of the metrics listener answered");
	evbuffer_add_printf(b, "vsrouted_http_requests_total %llu\n",
	    (unsigned long long)m.requests);
	family(b, "http_rejected_total", "counter", "requests of the metrics listener refused or "
	    "cut short, by reason");
	for (int i = 0; i < REJ_MAX; i++)
		evbuffer_add_printf(b, "vsrouted_http_rejected_total{reason=\"%s\"} %llu\n",
		    reject_names[i], (unsigned long long)m.rejected[i]);
	family(b, "http_pauses_total", "counter", "times the metrics listener stopped accepting: "
	    "connection cap, descriptor reserve or accept error");
	evbuffer_add_printf(b, "vsrouted_http_pauses_total %llu\n", (unsigned long long)m.pauses);
	family(b, "http_connections", "gauge", "connections of the metrics listener open");
	evbuffer_add_printf(b, "vsrouted_http_connections %u\n", m.nconn);
}

/*
 * node_exporter's ipvs collector (collector/ipvs_linux.go), as it reads
 * /proc/net/ip_vs and ip_vs_stats: the five totals without labels, and per
 * real server its active and inactive connections and weight, labelled
 * local_address, local_mark, local_port, proto, remote_address,
 * remote_port (in the order its client library prints them). proto is the
 * kernel's upper-case name; local_mark is "" but for firewall-mark
 * services. Only what IPVS would list: not the real servers their check
 * removed, the sorry server only while in use. The totals are the sums
 * over the services present (the kernel keeps a deleted service's share).
 */
enum ipvs_backend { IB_ACTIVE, IB_INACTIVE, IB_WEIGHT, IB_MAX };

static void
metrics_render_node_ipvs(struct evbuffer *b)
{
	static const struct {
		const char *name, *help;
	} totals[] = {
		{ "connections_total",      "The total number of connections made." },
		{ "incoming_packets_total", "The total number of incoming packets." },
		{ "outgoing_packets_total", "The total number of outgoing packets." },
		{ "incoming_bytes_total",   "The total amount of incoming data." },
		{ "outgoing_bytes_total",   "The total amount of outgoing data." },
	}, backend[IB_MAX] = {
		[IB_ACTIVE]   = { "backend_connections_active",
		    "The current active connections by local and remote address." },
		[IB_INACTIVE] = { "backend_connections_inactive",
		    "The current inactive connections by local and remote address." },
		[IB_WEIGHT]   = { "backend_weight",
		    "The current backend weight by local and remote address." },
	};
	struct stats sum = { 0 };
	struct service *s;
	struct dest *d;
	char va[STATUS_ADDR_MAX], ra[STATUS_ADDR_MAX];

	TAILQ_FOREACH(s, svc_list(), entry) {
		sum.conns += s->stats.conns;
		sum.inpkts += s->stats.inpkts;
		sum.outpkts += s->stats.outpkts;
		sum.inbytes += s->stats.inbytes;
		sum.outbytes += s->stats.outbytes;
	}
	const uint64_t tv[] = { sum.conns, sum.inpkts, sum.outpkts, sum.inbytes, sum.outbytes };
	for (size_t i = 0; i < ARRAY_SIZE(totals); i++)
		evbuffer_add_printf(b, "# HELP node_ipvs_%s %s\n# TYPE node_ipvs_%s counter\n"
		    "node_ipvs_%s %llu\n", totals[i].name, totals[i].help, totals[i].name,
		    totals[i].name, (unsigned long long)tv[i]);
	for (int f = 0; f < IB_MAX; f++) {
		evbuffer_add_printf(b, "# HELP node_ipvs_%s %s\n# TYPE node_ipvs_%s gauge\n",
		    backend[f].name, backend[f].help, backend[f].name);
		TAILQ_FOREACH(s, svc_list(), entry) {
			status_addr(va, sizeof(va), s->af, &s->addr);
			TAILQ_FOREACH(d, &s->dests, entry) {
				if (d->flags & DEST_F_OUT)
					continue;
				status_addr(ra, sizeof(ra), d->af, &d->addr);
				uint64_t v = f == IB_ACTIVE ? d->activeconns :
				    f == IB_INACTIVE ? d->inactconns :
				    d->weight > 0 ? (uint64_t)d->weight : 0;
				evbuffer_add_printf(b, "node_ipvs_%s{local_address=\"%s\","
				    "local_mark=\"\",local_port=\"%u\",proto=\"%s\","
				    "remote_address=\"%s\",remote_port=\"%u\"} %llu\n",
				    backend[f].name, va, ntohs(s->port),
				    proto_upper_name(s->proto), ra, ntohs(d->port),
				    (unsigned long long)v);
			}
		}
	}
}

/* ---------------------------------------------------------------- HTTP */

static void metrics_listen_update(void);

static void
mconn_free(struct mconn *c)
{
	TAILQ_REMOVE(&m.conns, c, entry);
	if (c->io)
		event_free(c->io);
	if (c->deadline)
		event_free(c->deadline);
	if (c->out)
		evbuffer_free(c->out);
	close(c->fd);
	free(c);
	m.nconn--;
	metrics_listen_update();
}

static void
mconn_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct mconn *c = arg;

	(void)fd;
	(void)what;
	if (!c->lingering)      /* answered already: no refusal */
		m.rejected[REJ_DEADLINE]++;
	mconn_free(c);
}

/* Lingering: what the client still sends is read and dropped, METRICS_LINGER_MAX bytes at most. */
static void
mconn_on_linger(evutil_socket_t fd, short what, void *arg)
{
	struct mconn *c = arg;
	ssize_t n;

	(void)what;
	n = read(fd, c->hdr, METRICS_HDR_MAX);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && (c->len += (size_t)n) <= METRICS_LINGER_MAX)
		return;
	mconn_free(c);          /* its end (or an error), or enough */
}

static void
mconn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct mconn *c = arg;

	(void)what;
	while (evbuffer_get_length(c->out) > 0) {
		int n = evbuffer_write(c->out, fd);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;         /* EV_WRITE again (EV_PERSIST) */
		if (n <= 0) {
			mconn_free(c);  /* the client went away */
			return;
		}
	}
	/*
	 * A lingering close: the client may still be sending (a header cut
	 * at 431, a request body refused), and closing with unread bytes
	 * would reset the connection and lose the answer on its way. Stop
	 * writing and drop what comes until the client closes, within the
	 * deadline.
	 */
	event_free(c->io);
	c->lingering = 1;
	c->len = 0;
	c->io = event_new(m.base, fd, EV_READ | EV_PERSIST, mconn_on_linger, c);
	if (shutdown(fd, SHUT_WR) < 0 || c->io == NULL || event_add(c->io, NULL) < 0)
		mconn_free(c);
}

/* Queue the answer and start writing it; the connection closes after it. */
static void
mconn_reply(struct mconn *c, int code, const char *reason, const char *ctype,
    struct evbuffer *body, int head, const char *extra)
{
	size_t len = body ? evbuffer_get_length(body) : 0;

	event_free(c->io);
	c->io = NULL;
	if ((c->out = evbuffer_new()) == NULL) {
		mconn_free(c);
		return;
	}
	evbuffer_add_printf(c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n%sConnection: close\r\n\r\n", code, reason,
	    ctype, len, extra ? extra : "");
	if (body && !head)
		evbuffer_add_buffer(c->out, body);
	c->io = event_new(m.base, c->fd, EV_WRITE | EV_PERSIST, mconn_on_write, c);
	if (c->io == NULL || event_add(c->io, NULL) < 0) {
		mconn_free(c);
		return;
	}
	mconn_on_write(c->fd, EV_WRITE, c);
}

static void
mconn_error(struct mconn *c, enum http_reject why, int code, const char *reason,
    const char *extra)
{
	struct evbuffer *b = evbuffer_new();

	m.rejected[why]++;
	if (b)
		evbuffer_add_printf(b, "%d %s\n", code, reason);
	mconn_reply(c, code, reason, "text/plain; charset=utf-8", b, 0, extra);
	if (b)
		evbuffer_free(b);
}

/* The value of header NAME (case-insensitive) in the header block H, or NULL. */
static const char *
hdr_find(const char *h, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = strchr(h, '\n'); l != NULL; l = strchr(l, '\n')) {
		l++;
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			l += n + 1;
			while (*l == ' ' || *l == '\t')
				l++;
			return l;
		}
	}
	return NULL;
}

/* The whole header is in c->hdr (NUL-terminated at its end): answer it. */
static void
mconn_request(struct mconn *c)
{
	static const struct {
		const char *path, *ctype;
		void (*render)(struct evbuffer *, time_t);
		const char *extra;
	} pages[] = {
		{ "/metrics", "text/plain; version=0.0.4; charset=utf-8", NULL, NULL },
		{ "/", "text/html; charset=utf-8", status_html,
		    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
		    "script-src 'unsafe-inline'\r\n" },
		{ "/status.json", "application/json", status_json, NULL },
	};
	char method[8], target[256];
	const char *v;
	struct evbuffer *b;
	int head;

	if (sscanf(c->hdr, "%7[A-Z] %255[^ \r\n] HTTP/1.%*1[01]", method, target) != 2) {
		mconn_error(c, REJ_BAD_REQUEST, 400, "Bad Request", NULL);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		mconn_error(c, REJ_METHOD, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
		return;
	}
	if (((v = hdr_find(c->hdr, "Content-Length")) != NULL && strtoul(v, NULL, 10) != 0) ||
	    hdr_find(c->hdr, "Transfer-Encoding") != NULL) {
		mconn_error(c, REJ_BODY, 413, "Content Too Large", NULL);
		return;
	}
	target[strcspn(target, "?#")] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		if (strcmp(target, pages[i].path) != 0)
			continue;
		if ((b = evbuffer_new()) == NULL) {
			mconn_free(c);
			return;
		}
		lock_all();    /* the counters and the table, as the workers leave them */
		if (pages[i].render)
			pages[i].render(b, time(NULL));
		else {
			metrics_render(b);
			metrics_render_http(b);
			if (m.compat == METRICS_COMPAT_NODE_IPVS)
				metrics_render_node_ipvs(b);
		}
		unlock_all();
		m.requests++;
		mconn_reply(c, 200, "OK", pages[i].ctype, b, head, pages[i].extra);
		evbuffer_free(b);
		return;
	}
	mconn_error(c, REJ_NOT_FOUND, 404, "Not Found (try /, /metrics or /status.json)", NULL);
}

/*
 * Read what the client sends into the fixed header buffer; only the bytes
 * not scanned yet are searched for the blank line, so a header that never
 * ends costs linear work, and no more than METRICS_HDR_MAX bytes.
 */
static void
mconn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct mconn *c = arg;
	ssize_t n;
	char *end;

	(void)what;
	n = read(fd, c->hdr + c->len, METRICS_HDR_MAX - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		mconn_free(c);          /* closed or reset before its request was whole */
		return;
	}
	c->len += (size_t)n;
	c->hdr[c->len] = '\0';
	for (end = c->hdr + c->scanned; end < c->hdr + c->len; end++)
		if (*end == '\n' && ((end > c->hdr && end[-1] == '\n') ||
		    (end - c->hdr >= 2 && end[-1] == '\r' && end[-2] == '\n')))
			break;
	if (end < c->hdr + c->len) {
		end[1] = '\0';          /* what follows the header is not read: no body */
		mconn_request(c);
		return;
	}
	c->scanned = c->len;
	if (c->len == METRICS_HDR_MAX)
		mconn_error(c, REJ_HEADER_SIZE, 431, "Request Header Fields Too Large", NULL);
}

/* Accept, pause or resume: the listener is on only while it may take a connection. */
static void
metrics_listen_update(void)
{
	int want = m.ev_listen != NULL && !m.stopping && !m.paused &&
	    m.nconn < METRICS_CONN_MAX;

	if (want && !m.listening) {
		if (event_add(m.ev_listen, NULL) == 0)
			m.listening = 1;
	} else if (!want && m.listening) {
		event_del(m.ev_listen);
		m.listening = 0;
		m.pauses++;
	}
}

/* Stop accepting for a second (EMFILE, the reserve reached); logged on the edge. */
static void
metrics_pause(const char *why)
{
	struct timeval one = { 1, 0 };

	if (!m.starved)
		log_warnx("metrics: %s; not accepting for a while", why);
	m.starved = 1;
	m.paused = 1;
	evtimer_add(m.ev_resume, &one);
	metrics_listen_update();
}

static void
metrics_on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	m.paused = 0;
	metrics_listen_update();
}

static void
metrics_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct rlimit rl;
	struct mconn *c;
	char why[96];
	int fd;

	(void)what;
	(void)arg;
	/* A few per wake-up: the packet path and the checks share this loop. */
	for (int i = 0; i < 8 && m.listening; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			m.rejected[REJ_ACCEPT_ERROR]++;
			snprintf(why, sizeof(why), "accept: %s", strerror(errno));
			metrics_pause(why);
			return;
		}
		/*
		 * Descriptors are handed out lowest first: FD this high means
		 * nearly every one below the limit is taken. Leave the rest to
		 * the checks and the control socket.
		 */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    (rlim_t)fd + METRICS_FD_RESERVE >= rl.rlim_cur) {
			close(fd);
			m.rejected[REJ_FD_RESERVE]++;
			snprintf(why, sizeof(why), "descriptor %d of at most %llu: kept for the "
			    "checks and the control socket", fd, (unsigned long long)rl.rlim_cur);
			metrics_pause(why);
			return;
		}
		m.starved = 0;
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			metrics_pause("out of memory");
			return;
		}
		c->fd = fd;
		TAILQ_INSERT_TAIL(&m.conns, c, entry);
		m.nconn++;
		m.accepted++;
		c->io = event_new(m.base, fd, EV_READ | EV_PERSIST, mconn_on_read, c);
		c->deadline = evtimer_new(m.base, mconn_on_deadline, c);
		if (c->io == NULL || c->deadline == NULL || event_add(c->io, NULL) < 0 ||
		    evtimer_add(c->deadline, m.deadline) < 0) {
			mconn_free(c);
			return;
		}
		metrics_listen_update();
	}
}

int
metrics_start(struct event_base *base, uint32_t addr, uint16_t port, enum metrics_compat compat,
    const struct conn_table *ct)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr,
	    .sin_port = htons(port) };
	struct timeval dl = { METRICS_DEADLINE, 0 };
	char a[STATUS_ADDR_MAX];
	int one = 1;

	status_addrport(a, sizeof(a), AF_INET, &addr, htons(port));
	m.base = base;
	m.ct = ct;
	m.compat = compat;
	m.deadline = event_base_init_common_timeout(base, &dl);
	m.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m.fd < 0 || setsockopt(m.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(m.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(m.fd, 64) < 0) {
		log_err("metrics: cannot listen on %s", a);
		metrics_stop();
		return -1;
	}
	m.ev_listen = event_new(base, m.fd, EV_READ | EV_PERSIST, metrics_on_accept, NULL);
	m.ev_resume = evtimer_new(base, metrics_on_resume, NULL);
	if (m.ev_listen == NULL || m.ev_resume == NULL || m.deadline == NULL) {
		log_errx("metrics: out of memory");
		metrics_stop();
		return -1;
	}
	m.addr = addr;
	m.port = port;
	metrics_listen_update();
	if ((ntohl(addr) >> 24) != 127)
		log_warnx("metrics on %s: reachable from other hosts, without authentication; "
		    "a loopback address is safer", a);
	log_info("metrics on http://%s/metrics, status page http://%s/", a, a);
	return 0;
}

/*
 * A reload's endpoint: the same one keeps its socket (a new COMPAT takes
 * effect at the next request); another is bound first and the old one
 * closed only once it listens, so that a failure (in use, a low port
 * after the privileges were dropped) keeps the old one. The requests
 * being answered on the old socket finish.
 */
int
metrics_reconfig(struct event_base *base, uint32_t addr, uint16_t port,
    enum metrics_compat compat, const struct conn_table *ct)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr,
	    .sin_port = htons(port) };
	struct event *ev;
	char a[STATUS_ADDR_MAX];
	int fd, one = 1;

	m.compat = compat;
	if (port == 0) {
		if (m.fd >= 0)
			log_info("metrics: no longer served");
		metrics_stop();
		return 0;
	}
	if (m.fd < 0)
		return metrics_start(base, addr, port, compat, ct);
	if (addr == m.addr && port == m.port)
		return 0;
	status_addrport(a, sizeof(a), AF_INET, &addr, htons(port));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 64) < 0) {
		log_warn("metrics: cannot listen on %s; the old endpoint stays", a);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((ev = event_new(base, fd, EV_READ | EV_PERSIST, metrics_on_accept, NULL)) == NULL) {
		log_warnx("metrics: out of memory; the old endpoint stays");
		close(fd);
		return -1;
	}
	if (m.listening)
		event_del(m.ev_listen);
	event_free(m.ev_listen);
	m.listening = 0;
	close(m.fd);
	m.fd = fd;
	m.ev_listen = ev;
	m.addr = addr;
	m.port = port;
	metrics_listen_update();
	if ((ntohl(addr) >> 24) != 127)
		log_warnx("metrics on %s: reachable from other hosts, without authentication; "
		    "a loopback address is safer", a);
	log_info("metrics now on http://%s/metrics, status page http://%s/", a, a);
	return 0;
}

void
metrics_stop(void)
{
	struct mconn *c;

	m.stopping = 1;         /* mconn_free resumes nothing now */
	while ((c = TAILQ_FIRST(&m.conns)) != NULL)
		mconn_free(c);
	if (m.listening)
		event_del(m.ev_listen);
	if (m.ev_listen)
		event_free(m.ev_listen);
	if (m.ev_resume)
		event_free(m.ev_resume);
	m.ev_listen = m.ev_resume = NULL;
	m.listening = m.paused = m.stopping = 0;
	if (m.fd >= 0)
		close(m.fd);
	m.fd = -1;
}
