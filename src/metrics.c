/* metrics.c - Prometheus text exposition of the counters over HTTP (evhttp) */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

#include "conn.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "svc.h"

static struct evhttp *metrics_http;
static const struct conn_table *metrics_ct;

/* Metric families: a name, a type, a help text; samples follow each. */
static void
family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP vsrouted_%s %s\n# TYPE vsrouted_%s %s\n", name, help,
	    name, type);
}

/* Label values here are names (no space, quote or backslash: conf.c) and addresses. */
static void
svc_labels(char *buf, size_t len, const struct service *s)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &s->addr, a, sizeof(a));
	snprintf(buf, len, "vs=\"%s\",proto=\"%s\",vip=\"%s\",port=\"%u\"", s->name,
	    proto_upper_name(s->proto), a, ntohs(s->port));
}

static void
dest_labels(char *buf, size_t len, const struct service *s, const struct dest *d)
{
	char sl[256], a[INET_ADDRSTRLEN];

	svc_labels(sl, sizeof(sl), s);
	inet_ntop(AF_INET, &d->addr, a, sizeof(a));
	snprintf(buf, len, "%s,rs=\"%s\",rip=\"%s\",rport=\"%u\",forward=\"%s\"", sl, d->name,
	    a, ntohs(d->port), fwd_name(d->fwd));
}

/* One family over every service (DEST 0) or every real server (DEST 1). */
enum field { F_CONNS, F_INPKTS, F_OUTPKTS, F_INBYTES, F_OUTBYTES, F_CPS, F_INPPS, F_OUTPPS,
	F_INBPS, F_OUTBPS, F_ACTIVE, F_INACTIVE, F_PERSIST, F_WEIGHT, F_OVERLOADED, F_HEALTHY, F_REMOVED,
	F_CHECK_DOWNS, F_CHECK_UPS, F_MAX };

static const struct {
	const char *name;
	const char *type;
	const char *help;
	int         dest_only;
} fields[F_MAX] = {
	[F_CONNS]      = { "connections_total",   "counter", "connections scheduled", 0 },
	[F_INPKTS]     = { "in_packets_total",    "counter", "packets from clients", 0 },
	[F_OUTPKTS]    = { "out_packets_total",   "counter", "packets of replies (nat, fullnat)", 0 },
	[F_INBYTES]    = { "in_bytes_total",      "counter", "bytes from clients", 0 },
	[F_OUTBYTES]   = { "out_bytes_total",     "counter", "bytes of replies (nat, fullnat)", 0 },
	[F_CPS]        = { "connections_per_second", "gauge", "connection rate (2 s estimator)", 0 },
	[F_INPPS]      = { "in_packets_per_second",  "gauge", "incoming packet rate", 0 },
	[F_OUTPPS]     = { "out_packets_per_second", "gauge", "outgoing packet rate", 0 },
	[F_INBPS]      = { "in_bytes_per_second",    "gauge", "incoming byte rate", 0 },
	[F_OUTBPS]     = { "out_bytes_per_second",   "gauge", "outgoing byte rate", 0 },
	[F_ACTIVE]     = { "active_connections",     "gauge", "ActiveConn: connections in ESTABLISHED", 1 },
	[F_INACTIVE]   = { "inactive_connections",   "gauge", "InActConn: connections in other states", 1 },
	[F_PERSIST]    = { "persistent_connections", "gauge", "persistence templates", 1 },
	[F_WEIGHT]     = { "weight",                 "gauge", "weight (0: quiesced)", 1 },
	[F_OVERLOADED] = { "overloaded",             "gauge", "1 above its upper threshold", 1 },
	[F_HEALTHY]    = { "healthy",                "gauge", "1 unless its health check failed", 1 },
	[F_REMOVED]    = { "removed",                "gauge", "1 while taken out of the service by its check (on_failure = remove)", 1 },
	[F_CHECK_DOWNS] = { "check_downs_total",     "counter", "health check transitions up to down", 1 },
	[F_CHECK_UPS]  = { "check_ups_total",        "counter", "health check transitions down to up", 1 },
};

static uint64_t
value(enum field f, const struct stats *st, const struct stats_est *e, const struct dest *d)
{
	struct stats_rate r;

	stats_est_read(e, &r);
	switch (f) {
	case F_CONNS:      return st->conns;
	case F_INPKTS:     return st->inpkts;
	case F_OUTPKTS:    return st->outpkts;
	case F_INBYTES:    return st->inbytes;
	case F_OUTBYTES:   return st->outbytes;
	case F_CPS:        return r.cps;
	case F_INPPS:      return r.inpps;
	case F_OUTPPS:     return r.outpps;
	case F_INBPS:      return r.inbps;
	case F_OUTBPS:     return r.outbps;
	case F_ACTIVE:     return d->activeconns;
	case F_INACTIVE:   return d->inactconns;
	case F_PERSIST:    return d->persistconns;
	case F_WEIGHT:     return d->weight > 0 ? (uint64_t)d->weight : 0;
	case F_OVERLOADED: return !!(d->flags & DEST_F_OVERLOAD);
	case F_HEALTHY:    return !(d->flags & DEST_F_DOWN);
	case F_REMOVED:    return !!(d->flags & DEST_F_REMOVED);
	case F_CHECK_DOWNS: return d->check_downs;
	case F_CHECK_UPS:  return d->check_ups;
	default:           return 0;
	}
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
	family(b, "table_connections", "gauge", "entries in the connection table");
	evbuffer_add_printf(b, "vsrouted_table_connections %u\n", conn_count(metrics_ct));
	family(b, "table_capacity", "gauge", "conn_max");
	evbuffer_add_printf(b, "vsrouted_table_capacity %u\n", conn_capacity(metrics_ct));

	for (int f = 0; f < F_MAX; f++) {
		if (!fields[f].dest_only) {
			snprintf(n, sizeof(n), "service_%s", fields[f].name);
			family(b, n, fields[f].type, fields[f].help);
			TAILQ_FOREACH(s, svc_list(), entry) {
				svc_labels(l, sizeof(l), s);
				evbuffer_add_printf(b, "vsrouted_%s{%s} %llu\n", n, l,
				    (unsigned long long)value((enum field)f, &s->stats, &s->est, NULL));
			}
		}
		snprintf(n, sizeof(n), "real_server_%s", fields[f].name);
		family(b, n, fields[f].type, fields[f].help);
		TAILQ_FOREACH(s, svc_list(), entry) {
			TAILQ_FOREACH(d, &s->dests, entry) {
				dest_labels(l, sizeof(l), s, d);
				evbuffer_add_printf(b, "vsrouted_%s{%s} %llu\n", n, l,
				    (unsigned long long)value((enum field)f, &d->stats, &d->est, d));
			}
			TAILQ_FOREACH(d, &s->removed, entry) {
				dest_labels(l, sizeof(l), s, d);
				evbuffer_add_printf(b, "vsrouted_%s{%s} %llu\n", n, l,
				    (unsigned long long)value((enum field)f, &d->stats, &d->est, d));
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

static void
metrics_request(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evbuffer *b;

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "only GET");
		return;
	}
	if (path == NULL || (strcmp(path, "/metrics") != 0 && strcmp(path, "/") != 0)) {
		evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
		return;
	}
	b = evbuffer_new();
	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	lock_acquire();            /* the counters and the table, as the workers leave them */
	metrics_render(b);
	lock_release();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

int
metrics_start(struct event_base *base, uint32_t addr, uint16_t port, const struct conn_table *ct)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	metrics_ct = ct;
	metrics_http = evhttp_new(base);
	if (metrics_http == NULL) {
		log_errx("metrics: cannot create the HTTP server");
		return -1;
	}
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(metrics_http, 10);
	evhttp_set_gencb(metrics_http, metrics_request, NULL);
	if (evhttp_bind_socket(metrics_http, a, port) < 0) {
		log_err("metrics: cannot listen on %s:%u", a, port);
		metrics_stop();
		return -1;
	}
	log_info("metrics on http://%s:%u/metrics", a, port);
	return 0;
}

void
metrics_stop(void)
{
	if (metrics_http)
		evhttp_free(metrics_http);
	metrics_http = NULL;
}
