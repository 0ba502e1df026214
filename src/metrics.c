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
