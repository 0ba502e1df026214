/* status.c - the status page (one HTML page) and /status.json: every service and real server and its state */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "check.h"
#include "common.h"
#include "sched.h"
#include "stats.h"
#include "status.h"
#include "svc.h"

static const char *const state_names[STATUS_MAX] = {
	[STATUS_UP]         = "up",
	[STATUS_GOING_DOWN] = "going down",
	[STATUS_DOWN]       = "down",
	[STATUS_GOING_UP]   = "going up",
	[STATUS_DRAINING]   = "draining",
	[STATUS_QUIESCED]   = "quiesced",
	[STATUS_OVERLOADED] = "overloaded",
	[STATUS_SORRY]      = "sorry",
};

/* HAProxy's colours for the same states: background of the row, its legend. */
static const struct {
	const char *css;        /* class: the name without its space */
	const char *bg;
	const char *legend;
} state_style[STATUS_MAX] = {
	[STATUS_UP]         = { "up",        "#c0ffc0", "up" },
	[STATUS_GOING_DOWN] = { "goingdown", "#ffffa0", "up, its check failing" },
	[STATUS_DOWN]       = { "down",      "#ff9090", "down by its check" },
	[STATUS_GOING_UP]   = { "goingup",   "#ffd020", "down, its check passing" },
	[STATUS_DRAINING]   = { "draining",  "#20a0ff", "weight 0, connections left" },
	[STATUS_QUIESCED]   = { "quiesced",  "#c07820", "weight 0, no connection" },
	[STATUS_OVERLOADED] = { "overloaded", "#e0a0e0", "over its upper threshold" },
	[STATUS_SORRY]      = { "sorry",     "#c0c0ff", "sorry server in use" },
};

const char *
status_state_name(enum status_state st)
{
	return (unsigned)st < STATUS_MAX ? state_names[st] : "?";
}

enum status_state
status_state(const struct dest *d, const struct check_info *ci)
{
	if (d->flags & DEST_F_SORRY)
		return STATUS_SORRY;
	if (d->flags & DEST_F_DOWN)
		return ci && ci->ok > 0 ? STATUS_GOING_UP : STATUS_DOWN;
	if (d->conf_weight == 0 || d->weight == 0)
		return d->activeconns + d->inactconns > 0 ? STATUS_DRAINING : STATUS_QUIESCED;
	if (d->flags & DEST_F_OVERLOAD)
		return STATUS_OVERLOADED;
	if (ci && ci->fail > 0)
		return STATUS_GOING_DOWN;
	return STATUS_UP;
}

/* addr.c's formatter, the one of the logs, vsradm and the control socket. */
const char *
status_addr(char *buf, size_t len, int af, const void *addr)
{
	union vsr_addr a = { .w = { 0 } };

	memcpy(&a, addr, addr_len(af));
	return addr_ntop(af, &a, buf, len);
}

const char *
status_addrport(char *buf, size_t len, int af, const void *addr, uint16_t port)
{
	union vsr_addr a = { .w = { 0 } };

	memcpy(&a, addr, addr_len(af));
	return addr_port_ntop(af, &a, ntohs(port), buf, len);
}

/* A service's persistence netmask: "255.255.255.0" for IPv4, "64" for IPv6 (as ipvsadm). */
static const char *
status_netmask(char *buf, size_t len, const struct service *s)
{
	if (s->af == AF_INET6) {
		snprintf(buf, len, "%d", addr_mask_plen(AF_INET6, &s->netmask));
		return buf;
	}
	return addr_ntop(AF_INET, &s->netmask, buf, len);
}

/* ---------------------------------------------------------------- escaping */

/* S with & < > " ' as character references: text and attribute values. */
static void
html_esc(struct evbuffer *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':  evbuffer_add(b, "&amp;", 5); break;
		case '<':  evbuffer_add(b, "&lt;", 4); break;
		case '>':  evbuffer_add(b, "&gt;", 4); break;
		case '"':  evbuffer_add(b, "&quot;", 6); break;
		case '\'': evbuffer_add(b, "&#39;", 5); break;
		default:
			if ((unsigned char)*s < 0x20)
				evbuffer_add(b, "?", 1);
			else
				evbuffer_add(b, s, 1);
		}
	}
}

/* S as a JSON string, quotes included (RFC 8259: " \ and controls escaped). */
static void
json_str(struct evbuffer *b, const char *s)
{
	evbuffer_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			evbuffer_add_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", c);
		else
			evbuffer_add(b, s, 1);
	}
	evbuffer_add(b, "\"", 1);
}

/* ---------------------------------------------------------------- shared */

/* The rows of a service: its real servers, the removed ones, the sorry server in use. */
#define FOREACH_ROW(d, s, list) \
	for (int list = 0; list < 2; list++) \
		TAILQ_FOREACH(d, list == 0 ? &(s)->dests : &(s)->removed, entry) \
			if (!((d)->flags & DEST_F_OUT))

/* "3d4h", "12m5s", "42s": how long ago T was. */
static void
fmt_age(char *buf, size_t len, time_t now, time_t t)
{
	long long d = now > t ? (long long)(now - t) : 0;

	if (d >= 86400)
		snprintf(buf, len, "%lldd%lldh", d / 86400, d % 86400 / 3600);
	else if (d >= 3600)
		snprintf(buf, len, "%lldh%lldm", d / 3600, d % 3600 / 60);
	else if (d >= 60)
		snprintf(buf, len, "%lldm%llds", d / 60, d % 60);
	else
		snprintf(buf, len, "%llds", d);
}

static void
fmt_utc(char *buf, size_t len, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* 1234567 -> "1.2M": rates for people. */
static void
fmt_si(char *buf, size_t len, uint64_t v)
{
	static const char unit[] = "kMGTPE";
	double x = (double)v;
	int u = -1;

	while (x >= 1000 && u < 5) {
		x /= 1000;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%.*f%c", x < 10 ? 1 : 0, x, unit[u]);
}

/* ---------------------------------------------------------------- HTML */

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width\">\n"
	"<title>vsrouted status</title>\n<style>\n"
	"body{font-family:Helvetica,Arial,sans-serif;font-size:12px;margin:8px;background:#fff}\n"
	"h1{font-size:16px;margin:0 0 4px}\n"
	"p.info{margin:0 0 8px;color:#333}\n"
	"table{border-collapse:collapse;margin:0 0 14px}\n"
	"th,td{border:1px solid #999;padding:1px 5px;text-align:right;white-space:nowrap}\n"
	"th{background:#20a0ff;color:#fff;font-weight:normal}\n"
	"th.svc{background:#20d0d0;color:#000;text-align:left;font-weight:bold}\n"
	"td.l{text-align:left}\n"
	"tr.total td{background:#eee;font-weight:bold}\n"
	"td.err{color:#900;text-align:left;white-space:normal;max-width:28em}\n"
	"table.legend td{border:0;padding:1px 6px;text-align:left}\n";

static const char html_script[] =
	"<script>\n"
	"// Refresh every 5 s; add #stop to the address to stop.\n"
	"setTimeout(function(){if(location.hash!=='#stop')location.reload();},5000);\n"
	"</script>\n";

static void
html_rates(struct evbuffer *b, const struct stats *st, const struct stats_est *e)
{
	struct stats_rate r;
	char v[5][16];

	stats_est_read(e, &r);
	fmt_si(v[0], sizeof(v[0]), r.cps);
	fmt_si(v[1], sizeof(v[1]), r.inpps);
	fmt_si(v[2], sizeof(v[2]), r.outpps);
	fmt_si(v[3], sizeof(v[3]), r.inbps);
	fmt_si(v[4], sizeof(v[4]), r.outbps);
	evbuffer_add_printf(b, "<td>%llu</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
	    "<td>%s</td>", (unsigned long long)st->conns, v[0], v[1], v[2], v[3], v[4]);
}

static void
html_dest(struct evbuffer *b, const struct dest *d, time_t now)
{
	struct check_info ci;
	int has = check_info_get(d, &ci) == 0;
	enum status_state st = status_state(d, has ? &ci : NULL);
	char a[STATUS_ADDR_MAX], t[32], age[32];

	evbuffer_add_printf(b, "<tr class=\"%s\"><td class=\"l\">", state_style[st].css);
	html_esc(b, d->name);
	evbuffer_add_printf(b, "</td><td class=\"l\">");
	html_esc(b, status_addrport(a, sizeof(a), d->af, &d->addr, d->port));
	evbuffer_add_printf(b, "</td><td class=\"l\">%s</td><td class=\"l\">%s%s</td>",
	    fwd_name(d->fwd), status_state_name(st),
	    (d->flags & DEST_F_REMOVED) ? " (removed)" : "");
	if (has) {
		fmt_utc(t, sizeof(t), ci.changed);
		fmt_age(age, sizeof(age), now, ci.changed);
		evbuffer_add_printf(b, "<td title=\"%s\">%s</td>", t, age);
	} else {
		evbuffer_add_printf(b, "<td>-</td>");
	}
	evbuffer_add_printf(b, "<td>%d</td><td>%d</td><td>%u</td><td>%u</td><td>%u</td>",
	    d->weight, d->conf_weight, d->activeconns, d->inactconns, d->persistconns);
	html_rates(b, &d->stats, &d->est);
	if (has) {
		evbuffer_add_printf(b, "<td class=\"l\">%s %u/%u ok, %u/%u failed</td>",
		    check_type_name(ci.type), ci.ok, ci.rise, ci.fail, ci.fall);
		if (ci.err_time) {
			fmt_utc(t, sizeof(t), ci.err_time);
			fmt_age(age, sizeof(age), now, ci.err_time);
			evbuffer_add_printf(b, "<td class=\"err\" title=\"%s\">", t);
			html_esc(b, ci.err);
			evbuffer_add_printf(b, " (%s ago)</td>", age);
		} else {
			evbuffer_add_printf(b, "<td class=\"err\"></td>");
		}
	} else {
		evbuffer_add_printf(b, "<td class=\"l\">none</td><td class=\"err\"></td>");
	}
	evbuffer_add_printf(b, "</tr>\n");
}

static void
html_service(struct evbuffer *b, const struct service *s, time_t now)
{
	struct dest *d;
	char a[STATUS_ADDR_MAX];
	unsigned act = 0, inact = 0, pers = 0;

	evbuffer_add_printf(b, "<table>\n<tr><th class=\"svc\" colspan=\"18\">");
	html_esc(b, s->name);
	evbuffer_add_printf(b, " &mdash; %s ", proto_upper_name(s->proto));
	html_esc(b, status_addrport(a, sizeof(a), s->af, &s->addr, s->port));
	evbuffer_add_printf(b, " &mdash; %s", s->sched ? s->sched->name : "?");
	if (s->persistent) {
		status_netmask(a, sizeof(a), s);
		evbuffer_add_printf(b, ", persistent %u s (netmask %s)", s->persistent, a);
	}
	evbuffer_add_printf(b, ", forward %s", fwd_name(s->fwd));
	if (s->synproxy)
		evbuffer_add_printf(b, ", synproxy");
	if (s->sorry) {
		evbuffer_add_printf(b, ", sorry server ");
		html_esc(b, status_addrport(a, sizeof(a), s->sorry->af, &s->sorry->addr,
		    s->sorry->port));
		evbuffer_add_printf(b, "%s", svc_sorry_active(s) ? " IN USE" : " (standby)");
	}
	evbuffer_add_printf(b, "</th></tr>\n<tr><th>Real server</th><th>Address</th>"
	    "<th>Forward</th><th>State</th><th>Since</th><th>Weight</th><th>Conf. weight</th>"
	    "<th>ActiveConn</th><th>InActConn</th><th>Persistent</th><th>Conns</th>"
	    "<th>Conn/s</th><th>In pkt/s</th><th>Out pkt/s</th><th>In B/s</th><th>Out B/s</th>"
	    "<th>Check</th><th>Last check error</th></tr>\n");
	FOREACH_ROW(d, s, list) {
		html_dest(b, d, now);
		act += d->activeconns;
		inact += d->inactconns;
		pers += d->persistconns;
	}
	evbuffer_add_printf(b, "<tr class=\"total\"><td class=\"l\">Total</td><td></td><td></td>"
	    "<td></td><td></td><td></td><td></td><td>%u</td><td>%u</td><td>%u</td>", act, inact,
	    pers);
	html_rates(b, &s->stats, &s->est);
	evbuffer_add_printf(b, "<td></td><td></td></tr>\n</table>\n");
}

void
status_html(struct evbuffer *b, time_t now)
{
	struct service *s;
	char t[32];
	unsigned n = 0, up = 0, total = 0;
	struct dest *d;

	evbuffer_add(b, html_head, sizeof(html_head) - 1);
	for (int i = 0; i < STATUS_MAX; i++)
		evbuffer_add_printf(b, "tr.%s td{background:%s}\n", state_style[i].css,
		    state_style[i].bg);
	evbuffer_add_printf(b, "</style>\n%s</head><body>\n", html_script);
	TAILQ_FOREACH(s, svc_list(), entry) {
		n++;
		FOREACH_ROW(d, s, list) {
			if (d->flags & DEST_F_SORRY)
				continue;
			total++;
			up += !(d->flags & DEST_F_DOWN);
		}
	}
	fmt_utc(t, sizeof(t), now);
	evbuffer_add_printf(b, "<h1>vsrouted %s</h1>\n<p class=\"info\">%s &mdash; %u virtual "
	    "service%s, %u of %u real servers up &mdash; <a href=\"/metrics\">metrics</a>, "
	    "<a href=\"/status.json\">JSON</a></p>\n<table class=\"legend\"><tr>", PACKAGE_VERSION,
	    t, n, n == 1 ? "" : "s", up, total);
	for (int i = 0; i < STATUS_MAX; i++)
		evbuffer_add_printf(b, "<td style=\"background:%s\">%s: %s</td>",
		    state_style[i].bg, state_names[i], state_style[i].legend);
	evbuffer_add_printf(b, "</tr></table>\n");
	TAILQ_FOREACH(s, svc_list(), entry)
		html_service(b, s, now);
	if (n == 0)
		evbuffer_add_printf(b, "<p>No virtual service.</p>\n");
	evbuffer_add_printf(b, "</body></html>\n");
}

/* ---------------------------------------------------------------- JSON */

static void
json_counters(struct evbuffer *b, const struct stats *st, const struct stats_est *e)
{
	struct stats_rate r;

	stats_est_read(e, &r);
	evbuffer_add_printf(b, "\"stats\":{\"conns\":%llu,\"inpkts\":%llu,\"outpkts\":%llu,"
	    "\"inbytes\":%llu,\"outbytes\":%llu},\"rates\":{\"cps\":%llu,\"inpps\":%llu,"
	    "\"outpps\":%llu,\"inbps\":%llu,\"outbps\":%llu}", (unsigned long long)st->conns,
	    (unsigned long long)st->inpkts, (unsigned long long)st->outpkts,
	    (unsigned long long)st->inbytes, (unsigned long long)st->outbytes,
	    (unsigned long long)r.cps, (unsigned long long)r.inpps,
	    (unsigned long long)r.outpps, (unsigned long long)r.inbps,
	    (unsigned long long)r.outbps);
}

static void
json_addr(struct evbuffer *b, const struct dest *d)
{
	char a[STATUS_ADDR_MAX];

	evbuffer_add_printf(b, "\"family\":\"%s\",\"address\":",
	    d->af == AF_INET6 ? "ipv6" : "ipv4");
	json_str(b, status_addr(a, sizeof(a), d->af, &d->addr));
	evbuffer_add_printf(b, ",\"port\":%u,\"forward\":\"%s\"", ntohs(d->port),
	    fwd_name(d->fwd));
}

static void
json_dest(struct evbuffer *b, const struct dest *d, time_t now)
{
	struct check_info ci;
	int has = check_info_get(d, &ci) == 0;
	enum status_state st = status_state(d, has ? &ci : NULL);
	char t[32];

	evbuffer_add_printf(b, "{\"name\":");
	json_str(b, d->name);
	evbuffer_add(b, ",", 1);
	json_addr(b, d);
	evbuffer_add_printf(b, ",\"state\":\"%s\",\"removed\":%s,\"weight\":%d,"
	    "\"configured_weight\":%d,\"active\":%u,\"inactive\":%u,\"persistent\":%u,",
	    status_state_name(st), (d->flags & DEST_F_REMOVED) ? "true" : "false", d->weight,
	    d->conf_weight, d->activeconns, d->inactconns, d->persistconns);
	if (has) {
		fmt_utc(t, sizeof(t), ci.changed);
		evbuffer_add_printf(b, "\"since\":%lld,\"since_utc\":\"%s\",\"since_seconds\":%lld,"
		    "\"check\":{\"type\":\"%s\",\"successes\":%u,\"failures\":%u,\"rise\":%u,"
		    "\"fall\":%u,\"last_error\":", (long long)ci.changed, t,
		    (long long)(now > ci.changed ? now - ci.changed : 0), check_type_name(ci.type),
		    ci.ok, ci.fail, ci.rise, ci.fall);
		if (ci.err_time) {
			json_str(b, ci.err);
			evbuffer_add_printf(b, ",\"last_error_time\":%lld}", (long long)ci.err_time);
		} else {
			evbuffer_add_printf(b, "null,\"last_error_time\":null}");
		}
	} else {
		evbuffer_add_printf(b, "\"since\":null,\"since_utc\":null,\"since_seconds\":null,"
		    "\"check\":null");
	}
	evbuffer_add(b, ",", 1);
	json_counters(b, &d->stats, &d->est);
	evbuffer_add(b, "}", 1);
}

static void
json_service(struct evbuffer *b, const struct service *s, time_t now)
{
	struct dest *d;
	char a[STATUS_ADDR_MAX];
	int first = 1;

	evbuffer_add_printf(b, "{\"name\":");
	json_str(b, s->name);
	evbuffer_add_printf(b, ",\"protocol\":\"%s\",\"family\":\"%s\",\"address\":",
	    proto_upper_name(s->proto), s->af == AF_INET6 ? "ipv6" : "ipv4");
	json_str(b, status_addr(a, sizeof(a), s->af, &s->addr));
	evbuffer_add_printf(b, ",\"port\":%u,\"scheduler\":", ntohs(s->port));
	json_str(b, s->sched ? s->sched->name : "?");
	evbuffer_add_printf(b, ",\"persistent\":%u,\"netmask\":", s->persistent);
	json_str(b, status_netmask(a, sizeof(a), s));
	evbuffer_add_printf(b, ",\"forward\":\"%s\",\"synproxy\":%s,\"sorry_server\":",
	    fwd_name(s->fwd), s->synproxy ? "true" : "false");
	if (s->sorry) {
		evbuffer_add(b, "{", 1);
		json_addr(b, s->sorry);
		evbuffer_add_printf(b, ",\"active\":%s}", svc_sorry_active(s) ? "true" : "false");
	} else {
		evbuffer_add_printf(b, "null");
	}
	evbuffer_add(b, ",", 1);
	json_counters(b, &s->stats, &s->est);
	evbuffer_add_printf(b, ",\"real_servers\":[");
	FOREACH_ROW(d, s, list) {
		if (!first)
			evbuffer_add(b, ",", 1);
		first = 0;
		json_dest(b, d, now);
	}
	evbuffer_add_printf(b, "]}");
}

void
status_json(struct evbuffer *b, time_t now)
{
	struct service *s;
	int first = 1;

	evbuffer_add_printf(b, "{\"version\":\"%s\",\"time\":%lld,\"services\":[",
	    PACKAGE_VERSION, (long long)now);
	TAILQ_FOREACH(s, svc_list(), entry) {
		if (!first)
			evbuffer_add(b, ",", 1);
		first = 0;
		json_service(b, s, now);
	}
	evbuffer_add_printf(b, "]}\n");
}
