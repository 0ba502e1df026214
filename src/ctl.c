/* ctl.c - the control socket: vsradm's requests, served from the event loop */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "conn.h"
#include "ctl.h"
#include "ctlproto.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "role.h"
#include "sched.h"
#include "svc.h"
#include "sync.h"
#include "xmit.h"

#define CTL_CLIENTS_MAX 16
#define CTL_OUT_MAX     (256 * 1024)  /* answers held for a client before its next request waits */
#define CTL_STALL_S     30            /* a client that takes nothing of its answers this long goes */
#define CTL_PAUSE_MS    500           /* the listener rests this long when descriptors run out */
#define CTL_ACCEPT_MAX  16            /* connections accepted per wake-up */
#define CTL_REFUSED_S   5             /* a refused client has this long to send its request */
#define CTL_REFUSED_MAX 4             /* refused clients kept at once: the others are just closed */

/* What a client may do, from its credentials (SO_PEERCRED, SO_PEERGROUPS). */
enum ctl_role {
	CTL_ROLE_NONE,          /* its first request is refused, then it is closed */
	CTL_ROLE_READ,          /* control_group_read: listings, stats, rates */
	CTL_ROLE_ADMIN,         /* root, control_group: everything */
};

struct ctl_client {
	struct bufferevent *bev;
	struct ctl_client  *next;
	enum ctl_role       role;
	bool                waiting;      /* its requests wait for its answers to be read */
	bool                closing;      /* closed once its answers are sent */
	bool                reserved;     /* accepted on the reserve descriptor */
};

static struct {
	struct event_base *base;
	struct event      *ev_listen;
	struct event      *ev_resume;     /* the end of a pause at EMFILE */
	int                fd;
	int                reserve;       /* a descriptor kept for one more client at EMFILE */
	bool               starved;       /* paused since the last accept that worked */
	unsigned           pauses;
	char               path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn_table *ct;
	struct ctl_client *clients;
	unsigned           nclients;
	unsigned           nrefused;      /* of them, CTL_ROLE_NONE */
	gid_t              gid_admin;     /* control_group; (gid_t)-1 none */
	gid_t              gid_read;      /* control_group_read; (gid_t)-1 none */
} ctl = { .fd = -1, .reserve = -1, .gid_admin = (gid_t)-1, .gid_read = (gid_t)-1 };

/* One request being served: its words, where the answer goes, the error text. */
struct ctl_call {
	char            **argv;         /* argv[0] is the request's name */
	int               argc;
	struct evbuffer  *o;
	char              err[256];
};

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

static int
fail(struct ctl_call *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set R's error; returns -1 for "return fail(...)". */
static int
fail(struct ctl_call *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* ADDR:PORT as the protocol carries it: "10.0.0.1:80", "[2001:db8::1]:80". */
static const char *
ap_str(int af, const union vsr_addr *addr, uint16_t port_net, char *buf, size_t len)
{
	return addr_port_ntop(af, addr, ntohs(port_net), buf, len);
}

/* A protocol address as ours: its family into *AF, the address into *A. */
static void
ctl_addr_get(const struct ctl_addr *ca, int *af, union vsr_addr *a)
{
	*af = ca->af;
	memset(a, 0, sizeof(*a));
	memcpy(a, &ca->u, addr_len(ca->af));
}

/* A service's netmask: dotted for IPv4, a prefix length for IPv6 (as ipvsadm). */
static const char *
netmask_str(const struct service *s, char *buf, size_t len)
{
	if (s->af == AF_INET6)
		snprintf(buf, len, "%d", addr_mask_plen(AF_INET6, &s->netmask));
	else
		addr_ntop(AF_INET, &s->netmask, buf, len);
	return buf;
}

/* ---- the option table: KEY=VALUE words into VAL[], by CTL_OPT_* ---- */

/*
 * Each word of ARGV must be one of the options in ALLOWED (CTL_OPT_BIT),
 * once, with a value; VAL[id] points at it (NULL: not given).
 */
static int
opts_parse(struct ctl_call *r, char **argv, int argc, unsigned allowed,
    const char *val[CTL_OPT_MAX])
{
	for (int i = 0; i < CTL_OPT_MAX; i++)
		val[i] = NULL;
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		int id;

		if (eq == NULL)
			return fail(r, "malformed option '%s' (KEY=VALUE)", argv[i]);
		*eq = '\0';
		id = ctl_lookup(ctl_opt_names, CTL_OPT_MAX, argv[i]);
		if (id < 0 || !(allowed & (1u << id)))
			return fail(r, "unknown option '%s' for %s", argv[i], r->argv[0]);
		if (val[id])
			return fail(r, "option '%s' given twice", argv[i]);
		if (!ctl_value_ok(eq + 1))
			return fail(r, "option '%s' without a value", argv[i]);
		val[id] = eq + 1;
	}
	return 0;
}

/* An unsigned decimal number 0 .. MAX into *V; -1 if malformed or larger. */
static int
parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return (*end != '\0' || errno || *v > max) ? -1 : 0;
}

/* Option ID as a number 0 .. MAX, DEF when not given. */
static int
opt_uint(struct ctl_call *r, const char *val[CTL_OPT_MAX], enum ctl_opt id, unsigned long max,
    unsigned long def, unsigned long *v)
{
	*v = def;
	if (val[id] && parse_uint(val[id], max, v) < 0)
		return fail(r, "option '%s': a number from 0 to %lu, not '%s'", ctl_opt_names[id],
		    max, val[id]);
	return 0;
}

/* ---- services: KEY, lookup, flags ---- */

struct svc_key {
	enum ctl_kind   kind;
	struct ctl_addr a;              /* tcp udp sctp */
	uint32_t        fwmark;         /* fwmark fwmark6 */
};

/* ARGV[0] ARGV[1]: KIND VALUE. */
static int
key_parse(struct ctl_call *r, char **argv, int argc, struct svc_key *k)
{
	int kind;
	unsigned long m;

	memset(k, 0, sizeof(*k));
	if (argc < 2)
		return fail(r, "%s needs a service: KIND VALUE", r->argv[0]);
	if ((kind = ctl_lookup(ctl_kind_names, CTL_KIND_MAX, argv[0])) < 0)
		return fail(r, "unknown service kind '%s'", argv[0]);
	k->kind = (enum ctl_kind)kind;
	if (k->kind == CTL_KIND_FWMARK || k->kind == CTL_KIND_FWMARK6) {
		if (parse_uint(argv[1], 0xffffffffUL, &m) < 0 || m == 0)
			return fail(r, "malformed firewall mark '%s'", argv[1]);
		k->fwmark = (uint32_t)m;
	} else if (ctl_addr_parse(argv[1], &k->a) < 0) {
		return fail(r, "malformed service address '%s'", argv[1]);
	}
	return 0;
}

/* The running service K names: TCP, UDP or firewall-mark, of either family. */
static struct service *
key_lookup(const struct svc_key *k)
{
	union vsr_addr a;
	int af;

	if (k->kind == CTL_KIND_FWMARK || k->kind == CTL_KIND_FWMARK6) {
		af = k->kind == CTL_KIND_FWMARK6 ? AF_INET6 : AF_INET;
		a = svc_mark_addr(af, k->fwmark);
		return svc_lookup(af, 0, &a, 0);
	}
	if (k->kind != CTL_KIND_TCP && k->kind != CTL_KIND_UDP)
		return NULL;
	ctl_addr_get(&k->a, &af, &a);
	return svc_lookup(af, k->kind == CTL_KIND_UDP ? IPPROTO_UDP : IPPROTO_TCP, &a,
	    htons(k->a.port));
}

/*
 * ipvsadm's -b bits (CTL_SF_*) <-> the service's SVC_F_*: the first two
 * are sh's and mh's own flags; a flag without meaning for the scheduler
 * is kept as it was given (SVC_F_SCHEDn), as IPVS keeps it.
 */
static unsigned
flags_from_ctl(const char *sched, unsigned bits)
{
	int sh = strcmp(sched, "sh") == 0, mh = strcmp(sched, "mh") == 0;
	unsigned f = 0;

	if (bits & CTL_SF_1)
		f |= sh ? SVC_F_SH_FALLBACK : mh ? SVC_F_MH_FALLBACK : SVC_F_SCHED1;
	if (bits & CTL_SF_2)
		f |= sh ? SVC_F_SH_PORT : mh ? SVC_F_MH_PORT : SVC_F_SCHED2;
	if (bits & CTL_SF_3)
		f |= SVC_F_SCHED3;
	return f;
}

static unsigned
flags_to_ctl(unsigned f)
{
	unsigned bits = 0;

	if (f & (SVC_F_SH_FALLBACK | SVC_F_MH_FALLBACK | SVC_F_SCHED1))
		bits |= CTL_SF_1;
	if (f & (SVC_F_SH_PORT | SVC_F_MH_PORT | SVC_F_SCHED2))
		bits |= CTL_SF_2;
	if (f & SVC_F_SCHED3)
		bits |= CTL_SF_3;
	return bits;
}

/* ---- list, conns, timeout ---- */

static void
out_counters(struct evbuffer *o, const uint64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		out(o, " %llu", (unsigned long long)v[i]);
}

static void
out_service(struct evbuffer *o, const struct service *s)
{
	char ap[ADDRPORT_STRLEN], nm[ADDR_STRLEN];
	uint64_t v[VSR_C_MAX];
	const struct dest *d;

	netmask_str(s, nm, sizeof(nm));
	if (s->fwmark)
		snprintf(ap, sizeof(ap), "%u", s->fwmark);
	out(o, CTL_TAG_SVC " %s %s %s %u %u %s - %d",
	    ctl_kind_names[s->fwmark ? (s->af == AF_INET6 ? CTL_KIND_FWMARK6 : CTL_KIND_FWMARK) :
	    s->proto == IPPROTO_UDP ? CTL_KIND_UDP : CTL_KIND_TCP],
	    s->fwmark ? ap : ap_str(s->af, &s->addr, s->port, ap, sizeof(ap)),
	    s->sched->name, flags_to_ctl(s->flags), s->persistent, nm, s->ops ? 1 : 0);
	svc_counters(s, v);
	out_counters(o, v, VSR_C_NSVC);
	out(o, "\n");
	TAILQ_FOREACH(d, &s->dests, entry) {
		out(o, CTL_TAG_DEST " %s %s %u %u %s %u %s %s",
		    ap_str(d->af, &d->addr, d->port, ap, sizeof(ap)),
		    fwd_name(d->fwd), d->u_threshold, d->l_threshold,
		    ctl_tun_names[d->tunnel == TUNNEL_GRE ? CTL_TUN_GRE :
		    d->tunnel == TUNNEL_GUE ? CTL_TUN_GUE : CTL_TUN_IPIP], ntohs(d->tunnel_port),
		    ctl_csum_names[d->tunnel_csum],
		    client_addr_name(d->client_addr));
		dest_counters(d, v);
		out_counters(o, v, VSR_C_MAX);
		out(o, "\n");
	}
}

static int
req_list(struct ctl_call *r)
{
	struct service *s;
	struct svc_key k;

	if (r->argc == 1) {
		out(r->o, CTL_TAG_SIZE " %u\n", conn_capacity(ctl.ct));
		TAILQ_FOREACH(s, svc_list(), entry)
			out_service(r->o, s);
		return 0;
	}
	if (key_parse(r, r->argv + 1, r->argc - 1, &k) < 0)
		return -1;
	if (r->argc > 3)
		return fail(r, "list: unexpected '%s'", r->argv[3]);
	if ((s = key_lookup(&k)) == NULL)
		return fail(r, CTL_E_NO_SVC);
	out(r->o, CTL_TAG_SIZE " %u\n", conn_capacity(ctl.ct));
	out_service(r->o, s);
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
	char ca[ADDRPORT_STRLEN], va[ADDRPORT_STRLEN], da[ADDRPORT_STRLEN];
	int32_t left = (int32_t)(c->expires - w->now);
	struct conn_addrs a;
	int af = conn_af(c);

	if (w->n++ == CTL_CONNS_MAX)
		return 1;
	conn_addrs(ctl.ct, c, &a);
	out(w->o, CTL_TAG_CONN " %s %s %s %s %s %u\n",
	    ctl_kind_names[conn_l4proto(c) == IPPROTO_UDP ? CTL_KIND_UDP : CTL_KIND_TCP],
	    ap_str(af, &a.caddr, c->cport, ca, sizeof(ca)),
	    ap_str(af, &a.vaddr, c->vport, va, sizeof(va)),
	    ap_str(af, &a.daddr, c->dport, da, sizeof(da)),
	    conn_state_name((enum conn_state)c->state), left > 0 ? (unsigned)left / CONN_HZ : 0);
	return 0;
}

static int
req_conns(struct ctl_call *r)
{
	struct conns_walk w = { r->o, conn_clock(), 0 };

	/* A listing may walk the table; it is capped, not streamed. */
	if (conn_foreach(ctl.ct, conns_one, &w))
		out(r->o, CTL_TAG_TRUNCATED " %u\n", CTL_CONNS_MAX);
	return 0;
}

static int
req_timeout(struct ctl_call *r)
{
	out(r->o, CTL_TAG_TIMEOUT " %u %u %u\n", conn_get_timeout(ctl.ct, CS_ESTABLISHED),
	    conn_get_timeout(ctl.ct, CS_FIN_WAIT), conn_get_timeout(ctl.ct, CS_UDP));
	return 0;
}

static int
req_set(struct ctl_call *r)
{
	static const enum conn_state which[3] = { CS_ESTABLISHED, CS_FIN_WAIT, CS_UDP };
	unsigned secs[CS_MAX];
	unsigned long v[3];

	if (r->argc != 4)
		return fail(r, "set needs three timeouts: TCP TCPFIN UDP");
	for (int i = 0; i < 3; i++)
		if (parse_uint(r->argv[i + 1], CTL_TIMEOUT_MAX, &v[i]) < 0)
			return fail(r, "set: a timeout from 0 to %u, not '%s'", CTL_TIMEOUT_MAX,
			    r->argv[i + 1]);
	for (int s = 0; s < CS_MAX; s++)
		secs[s] = conn_get_timeout(ctl.ct, (enum conn_state)s);
	for (int i = 0; i < 3; i++)
		if (v[i])
			secs[which[i]] = (unsigned)v[i];
	conn_set_timeouts(ctl.ct, secs);
	return 0;
}

static int
req_zero(struct ctl_call *r)
{
	struct service *s;
	struct svc_key k;

	if (r->argc == 1) {
		TAILQ_FOREACH(s, svc_list(), entry)
			svc_zero(s);
		return 0;
	}
	if (key_parse(r, r->argv + 1, r->argc - 1, &k) < 0)
		return -1;
	if (r->argc > 3)
		return fail(r, "zero: unexpected '%s'", r->argv[3]);
	if ((s = key_lookup(&k)) == NULL)
		return fail(r, CTL_E_NO_SVC);
	svc_zero(s);
	return 0;
}

static int
req_clear(struct ctl_call *r)
{
	if (r->argc != 1)
		return fail(r, "clear: unexpected '%s'", r->argv[1]);
	svc_clear();
	return 0;
}

/* ---- svc-add, svc-edit, svc-del ---- */

#define SVC_OPTS (CTL_OPT_BIT(SCHED) | CTL_OPT_BIT(FLAGS) | CTL_OPT_BIT(PERSISTENT) | \
	CTL_OPT_BIT(NETMASK) | CTL_OPT_BIT(PE) | CTL_OPT_BIT(OPS))

/*
 * Replace the ipvsadm-visible fields of VC by the options (or their
 * defaults): -E leaves nothing of the old entry but what ipvsadm cannot
 * say (the name, the mh table size, the forwarding default of the file).
 */
static int
svc_opts(struct ctl_call *r, const char *val[CTL_OPT_MAX], struct vs_conf *vc)
{
	const char *sched = val[CTL_OPT_SCHED] ? val[CTL_OPT_SCHED] : "wlc";
	unsigned long v;

	if (sched_lookup(sched) == NULL || strlen(sched) >= sizeof(vc->sched))
		return fail(r, CTL_E_SCHED);
	if (val[CTL_OPT_PE] && strcmp(val[CTL_OPT_PE], "-") != 0)
		return fail(r, CTL_E_SCHED);    /* no persistence engine (IPVS has sip) */
	snprintf(vc->sched, sizeof(vc->sched), "%s", sched);
	if (opt_uint(r, val, CTL_OPT_FLAGS, CTL_SF_ALL, 0, &v) < 0)
		return -1;
	vc->flags = flags_from_ctl(sched, (unsigned)v);
	if (opt_uint(r, val, CTL_OPT_PERSISTENT, CTL_TIMEOUT_MAX, 0, &v) < 0)
		return -1;
	vc->persistent = (unsigned)v;
	/* Dotted for an IPv4 service, a prefix length for an IPv6 one; all ones by default. */
	(void)addr_plen_mask(vc->af, vc->af == AF_INET6 ? 128 : 32, &vc->netmask);
	if (val[CTL_OPT_NETMASK]) {
		int af;

		if (vc->af == AF_INET6 ? parse_uint(val[CTL_OPT_NETMASK], 128, &v) < 0 || v == 0 ||
		    addr_plen_mask(AF_INET6, (unsigned)v, &vc->netmask) < 0 :
		    addr_pton(val[CTL_OPT_NETMASK], &af, &vc->netmask) < 0 || af != AF_INET)
			return fail(r, CTL_E_INVAL);
	}
	if (opt_uint(r, val, CTL_OPT_OPS, 1, 0, &v) < 0)
		return -1;
	vc->ops = v != 0;               /* as IPVS: kept for any service, acts on UDP */
	return 0;
}

/* What a service KEY of this kind needs that the daemon cannot do yet. */
static int
key_supported(struct ctl_call *r, const struct svc_key *k)
{
	if (k->kind == CTL_KIND_FWMARK || k->kind == CTL_KIND_FWMARK6)
		return 0;
	if (k->kind == CTL_KIND_SCTP)
		return fail(r, CTL_E_PROTO);
	if (k->a.port == 0)             /* IPVS's all-ports persistent service */
		return fail(r, CTL_E_INVAL);
	return 0;
}

static int
req_svc(struct ctl_call *r)
{
	enum ctl_req id = (enum ctl_req)ctl_lookup(ctl_req_names, CTL_REQ_MAX, r->argv[0]);
	const char *val[CTL_OPT_MAX];
	struct vs_conf vc;
	struct service *s;
	struct svc_key k;

	if (key_parse(r, r->argv + 1, r->argc - 1, &k) < 0)
		return -1;
	if (opts_parse(r, r->argv + 3, r->argc - 3, id == CTL_REQ_SVC_DEL ? 0 : SVC_OPTS, val) < 0)
		return -1;
	s = key_lookup(&k);
	if (id == CTL_REQ_SVC_ADD) {
		if (s != NULL)
			return fail(r, CTL_E_SVC_EXISTS);
		if (key_supported(r, &k) < 0)
			return -1;
		memset(&vc, 0, sizeof(vc));
		if (k.kind == CTL_KIND_FWMARK || k.kind == CTL_KIND_FWMARK6) {
			/* Its addresses are the host's to route here (or another service's). */
			vc.af = k.kind == CTL_KIND_FWMARK6 ? AF_INET6 : AF_INET;
			vc.fwmark = k.fwmark;
			vc.addr = svc_mark_addr(vc.af, k.fwmark);
		} else {
			vc.proto = k.kind == CTL_KIND_UDP ? IPPROTO_UDP : IPPROTO_TCP;
			ctl_addr_get(&k.a, &vc.af, &vc.addr);
			vc.port = k.a.port;
		}
		vc.mh_size = 65537;
		vc.fwd = FWD_DR;
		vc.tunnel = TUNNEL_IPIP;
		snprintf(vc.name, sizeof(vc.name), "%s", r->argv[2]);
		if (svc_opts(r, val, &vc) < 0)
			return -1;
		return svc_add(&vc, r->err, sizeof(r->err)) ? 0 : -1;
	}
	if (s == NULL)
		return fail(r, CTL_E_NO_SVC);
	if (id == CTL_REQ_SVC_DEL)
		return svc_del(s, r->err, sizeof(r->err));
	memset(&vc, 0, sizeof(vc));
	vc.proto = s->proto;
	vc.af = s->af;
	vc.addr = s->addr;
	vc.port = ntohs(s->port);
	vc.mh_size = s->mh_size;
	vc.fwd = s->fwd;
	vc.tunnel = s->tunnel;
	/* What ipvsadm has no word for stays as the file said. */
	vc.conn_limit = s->conn_limit;
	vc.synproxy = s->synproxy;
	vc.fwmark = s->fwmark;
	vc.nmaddr = s->nmaddr;
	memcpy(vc.maddr, s->maddr, sizeof(vc.maddr));
	if (svc_opts(r, val, &vc) < 0)
		return -1;
	if (vc.ops) {
		const struct dest *d;
		TAILQ_FOREACH(d, &s->dests, entry)
			if (d->fwd == FWD_NAT || d->fwd == FWD_FULLNAT)
				return fail(r, "%s with one-packet scheduling: no entry is kept, so "
				    "the replies could not be translated; use dr or tun",
				    fwd_name(d->fwd));
	}
	return svc_edit(s, &vc, r->err, sizeof(r->err));
}

/* ---- dest-add, dest-edit, dest-del ---- */

#define DEST_OPTS (CTL_OPT_BIT(FWD) | CTL_OPT_BIT(WEIGHT) | CTL_OPT_BIT(UPPER) | \
	CTL_OPT_BIT(LOWER) | CTL_OPT_BIT(TUN_TYPE) | CTL_OPT_BIT(TUN_PORT) | CTL_OPT_BIT(TUN_CSUM) | \
	CTL_OPT_BIT(CLIENT_ADDR))

/* The options into RC, replacing what ipvsadm can say (as -e does). */
static int
dest_opts(struct ctl_call *r, const char *val[CTL_OPT_MAX], struct rs_conf *rc)
{
	unsigned long w, up, lo, port;
	int f, t = CTL_TUN_IPIP, c = CTL_CSUM_NO, ca = CA_NONE;

	f = val[CTL_OPT_FWD] ? fwd_parse(val[CTL_OPT_FWD]) : FWD_DR;
	if (f < 0)
		return fail(r, "unknown forwarding method '%s'", val[CTL_OPT_FWD]);
	if (val[CTL_OPT_CLIENT_ADDR] && (ca = client_addr_parse(val[CTL_OPT_CLIENT_ADDR])) < 0)
		return fail(r, "unknown client address '%s' (none, proxy-v2 or toa)",
		    val[CTL_OPT_CLIENT_ADDR]);
	/* As the config: only fullnat hides the client's address. */
	if (ca != CA_NONE && f != FWD_FULLNAT)
		return fail(r, "client address %s is for fullnat real servers, not %s",
		    client_addr_name((enum client_addr)ca), fwd_name((enum fwd_method)f));
	if (opt_uint(r, val, CTL_OPT_WEIGHT, CTL_WEIGHT_MAX, 1, &w) < 0 ||
	    opt_uint(r, val, CTL_OPT_UPPER, CTL_THRESH_MAX, 0, &up) < 0 ||
	    opt_uint(r, val, CTL_OPT_LOWER, CTL_THRESH_MAX, 0, &lo) < 0 ||
	    opt_uint(r, val, CTL_OPT_TUN_PORT, 65535, 0, &port) < 0)
		return -1;
	if (val[CTL_OPT_TUN_TYPE] &&
	    (t = ctl_lookup(ctl_tun_names, CTL_TUN_MAX, val[CTL_OPT_TUN_TYPE])) < 0)
		return fail(r, "unknown tunnel type '%s'", val[CTL_OPT_TUN_TYPE]);
	if (val[CTL_OPT_TUN_CSUM] &&
	    (c = ctl_lookup(ctl_csum_names, CTL_CSUM_MAX, val[CTL_OPT_TUN_CSUM])) < 0)
		return fail(r, "unknown tunnel checksum '%s'", val[CTL_OPT_TUN_CSUM]);
	/* As IPVS: the thresholds first (ERANGE), then a GUE tunnel's port. */
	if (lo > up)
		return fail(r, CTL_E_RANGE);
	if (t == CTL_TUN_GUE && port == 0)
		return fail(r, CTL_E_INVAL);
	_Static_assert((int)CTL_CSUM_NO == TUNNEL_CSUM_NONE && (int)CTL_CSUM_YES == TUNNEL_CSUM_CSUM &&
	    (int)CTL_CSUM_REMOTE == TUNNEL_CSUM_REMCSUM, "one vocabulary of GUE checksums");
	/* GRE with checksums: not in vsrouted (IPVS sends GRE's; vsrtun would have to take it). */
	if (c != CTL_CSUM_NO && t != CTL_TUN_GUE)
		return fail(r, CTL_E_INVAL);
	rc->fwd = (enum fwd_method)f;
	rc->client_addr = (enum client_addr)ca;
	rc->tunnel = t == CTL_TUN_GRE ? TUNNEL_GRE : t == CTL_TUN_GUE ? TUNNEL_GUE : TUNNEL_IPIP;
	rc->tunnel_port = t == CTL_TUN_GUE ? (uint16_t)port : 0;
	rc->tunnel_csum = t == CTL_TUN_GUE ? (enum tunnel_csum)c : TUNNEL_CSUM_NONE;
	rc->weight = (int)w;
	rc->upper = (uint32_t)up;
	rc->lower = (uint32_t)lo;
	return 0;
}

static int
req_dest(struct ctl_call *r)
{
	enum ctl_req id = (enum ctl_req)ctl_lookup(ctl_req_names, CTL_REQ_MAX, r->argv[0]);
	const char *val[CTL_OPT_MAX];
	struct nl_route_info ri;
	struct rs_conf rc;
	struct ctl_addr ra;
	struct service *s;
	struct svc_key k;
	struct dest *d;
	union vsr_addr a;
	int af;

	if (key_parse(r, r->argv + 1, r->argc - 1, &k) < 0)
		return -1;
	if (r->argc < 4 || ctl_addr_parse(r->argv[3], &ra) < 0)
		return fail(r, "%s needs a real server: ADDR:PORT", r->argv[0]);
	if (opts_parse(r, r->argv + 4, r->argc - 4, id == CTL_REQ_DEST_DEL ? 0 : DEST_OPTS,
	    val) < 0)
		return -1;
	if ((s = key_lookup(&k)) == NULL)
		return fail(r, CTL_E_SVC_UNDEF);
	/*
	 * A real server of the other family: IPVS takes it for tun only (vsradm
	 * refuses the others first, as ipvsadm does); vsrouted never.
	 */
	ctl_addr_get(&ra, &af, &a);
	if (af != s->af)
		return fail(r, id == CTL_REQ_DEST_ADD ? CTL_E_AF : CTL_E_NO_DEST);
	d = dest_find(s, &a, htons(ra.port));
	if (id == CTL_REQ_DEST_DEL) {
		if (d == NULL)
			return fail(r, CTL_E_NO_DEST);
		dest_del(d);
		return 0;
	}
	memset(&rc, 0, sizeof(rc));
	if (dest_opts(r, val, &rc) < 0)
		return -1;
	/* As the config: a SYN proxy must see the replies (synproxy.h). */
	if (s->synproxy && (rc.fwd == FWD_DR || rc.fwd == FWD_TUN) &&
	    !(rc.fwd == FWD_DR && d != NULL && d->fwd != FWD_DR && !val[CTL_OPT_FWD]))
		return fail(r, "service %s has synproxy = yes: its real servers are nat or "
		    "fullnat, not %s", s->name, fwd_name(rc.fwd));
	if (id == CTL_REQ_DEST_ADD) {
		if (d != NULL)
			return fail(r, CTL_E_DEST_EXISTS);
		snprintf(rc.name, sizeof(rc.name), "%s", r->argv[3]);
	} else {
		if (d == NULL)
			return fail(r, CTL_E_NO_DEST);
		rc.tunnel_mtu = d->tunnel_mtu;  /* the file's; ipvsadm has no word for it */
		/* The file's too: kept while the tunnel stays GRE, which alone carries one. */
		rc.tunnel_keyed = d->tunnel_keyed && rc.tunnel == TUNNEL_GRE;
		rc.tunnel_key = ntohl(d->tunnel_key);
	}
	rc.af = af;
	rc.addr = a;
	rc.port = ra.port;
	if (ra.port == 0 && !s->fwmark)     /* a mark service's: the packet's port */
		return fail(r, CTL_E_INVAL);
	/* An address of this host would be IPVS's "Local" forwarding: not in vsrouted. */
	if (nl_route_get(af, &rc.addr, &ri) == 0 && ri.local)
		return fail(r, CTL_E_INVAL);
	/* dr leaves the packet as it is and tun only wraps it (as the config). */
	if ((rc.fwd == FWD_DR || rc.fwd == FWD_TUN) && !s->fwmark && rc.port != ntohs(s->port))
		return fail(r, "real server port must equal the service port for %s",
		    fwd_name(rc.fwd));
	if (rc.client_addr == CA_TOA && s->proto != IPPROTO_TCP)
		return fail(r, "client address toa is a TCP option: not for a %s service",
		    proto_upper_name(s->proto));
	if (d == NULL)
		return dest_add(s, &rc, r->err, sizeof(r->err));
	return dest_edit(d, &rc, r->err, sizeof(r->err));
}

/* ---- the sync daemons ---- */

#define DAEMON_OPTS (CTL_OPT_BIT(MCAST_IFN) | CTL_OPT_BIT(SYNCID) | CTL_OPT_BIT(MAXLEN) | \
	CTL_OPT_BIT(GROUP) | CTL_OPT_BIT(PORT) | CTL_OPT_BIT(TTL))

static void
out_daemon(struct evbuffer *o, const struct sync_conf *c)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->af, c->group, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "-");
	out(o, CTL_TAG_DAEMON " %s %s %u %u %s %u %u %s\n", sync_state_name(c->state), c->ifname,
	    c->syncid, c->maxlen, c->unicast ? "-" : a, c->port, c->ttl, c->unicast ? a : "-");
}

/* daemon-start's options into SC, as the kernel takes ipvsadm's (defaults filled by sync.c). */
static int
daemon_opts(struct ctl_call *r, const char *val[CTL_OPT_MAX], struct sync_conf *sc)
{
	unsigned long v;
	const char *g = val[CTL_OPT_GROUP];

	memset(sc, 0, sizeof(*sc));
	if (val[CTL_OPT_MCAST_IFN] == NULL || !conf_ifname_ok(val[CTL_OPT_MCAST_IFN]))
		return fail(r, CTL_E_INVAL);
	snprintf(sc->ifname, sizeof(sc->ifname), "%s", val[CTL_OPT_MCAST_IFN]);
	if (opt_uint(r, val, CTL_OPT_SYNCID, 255, 0, &v) < 0)
		return -1;
	sc->syncid = (unsigned)v;
	if (opt_uint(r, val, CTL_OPT_MAXLEN, 65535 - 20 - 8, 0, &v) < 0)
		return -1;
	sc->maxlen = (unsigned)v;
	if (opt_uint(r, val, CTL_OPT_PORT, 65535, 0, &v) < 0)
		return -1;
	sc->port = (uint16_t)v;
	if (opt_uint(r, val, CTL_OPT_TTL, 255, 0, &v) < 0)
		return -1;
	sc->ttl = (unsigned)v;
	if (g) {
		sc->af = strchr(g, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(sc->af, g, sc->group) != 1)
			return fail(r, CTL_E_INVAL);
		/* As ip_vs_genl_new_daemon(): a group is a multicast address. */
		if (sc->af == AF_INET6 ? sc->group[0] != 0xff : (sc->group[0] >> 4) != 0xe)
			return fail(r, CTL_E_INVAL);
	}
	return 0;
}

static int
req_daemon(struct ctl_call *r)
{
	const char *val[CTL_OPT_MAX];
	enum ctl_req id = (enum ctl_req)ctl_lookup(ctl_req_names, CTL_REQ_MAX, r->argv[0]);
	struct sync_conf sc;
	unsigned state;

	if (id == CTL_REQ_DAEMON) {
		if (r->argc != 1)
			return fail(r, "daemon: unexpected '%s'", r->argv[1]);
		for (state = SYNC_STATE_MASTER; state <= SYNC_STATE_BACKUP; state <<= 1)
			if (sync_daemon(state))
				out_daemon(r->o, sync_daemon(state));
		return 0;
	}
	if (r->argc < 2 || (strcmp(r->argv[1], "master") && strcmp(r->argv[1], "backup")))
		return fail(r, "%s needs master or backup", r->argv[0]);
	state = strcmp(r->argv[1], "master") == 0 ? SYNC_STATE_MASTER : SYNC_STATE_BACKUP;
	if (opts_parse(r, r->argv + 2, r->argc - 2,
	    id == CTL_REQ_DAEMON_START ? DAEMON_OPTS : CTL_OPT_BIT(SYNCID), val) < 0)
		return -1;
	if (id == CTL_REQ_DAEMON_STOP)
		return sync_stop(state) == 0 ? 0 : fail(r, CTL_E_NO_DAEMON);
	if (daemon_opts(r, val, &sc) < 0)
		return -1;
	if (sync_start(state, &sc) == 0)
		return 0;
	if (errno == EEXIST)
		return fail(r, CTL_E_DAEMON_RUNS);
	if (errno == EINVAL)
		return fail(r, CTL_E_INVAL);
	if (errno == ENOMEM)
		return fail(r, CTL_E_NOMEM);
	return fail(r, "%s", strerror(errno));
}

/* ---- the director's role ---- */

static int
req_role(struct ctl_call *r)
{
	int role;

	if (r->argc == 1) {
		out(r->o, CTL_TAG_ROLE " %s\n", role_name(role_get()));
		return 0;
	}
	if (r->argc > 2)
		return fail(r, "role: unexpected '%s'", r->argv[2]);
	if ((role = role_parse(r->argv[1])) < 0)
		return fail(r, "role: master or backup, not '%s'", r->argv[1]);
	role_set((enum vsr_role)role, "vsradm --role");
	return 0;
}

/* ---- dispatch ---- */

/*
 * Each request's handler, whether it changes what runs (what a read-only
 * client, a member of control_group_read, may not send), and whether it
 * runs under the data-path lock (what the workers use), or outside it
 * because it touches none of that and may take a while (netlink, sockets).
 */
static const struct {
	int  (*fn)(struct ctl_call *);
	bool   changes;
	bool   locked;
} ctl_dispatch[CTL_REQ_MAX] = {
	[CTL_REQ_LIST]         = { req_list,    false, true },
	[CTL_REQ_CONNS]        = { req_conns,   false, true },
	[CTL_REQ_TIMEOUT]      = { req_timeout, false, true },
	[CTL_REQ_SET]          = { req_set,     true,  true },
	[CTL_REQ_ZERO]         = { req_zero,    true,  true },
	[CTL_REQ_CLEAR]        = { req_clear,   true,  true },
	[CTL_REQ_SVC_ADD]      = { req_svc,     true,  true },
	[CTL_REQ_SVC_EDIT]     = { req_svc,     true,  true },
	[CTL_REQ_SVC_DEL]      = { req_svc,     true,  true },
	[CTL_REQ_DEST_ADD]     = { req_dest,    true,  true },
	[CTL_REQ_DEST_EDIT]    = { req_dest,    true,  true },
	[CTL_REQ_DEST_DEL]     = { req_dest,    true,  true },
	[CTL_REQ_DAEMON]       = { req_daemon,  false, false },
	[CTL_REQ_DAEMON_START] = { req_daemon,  true,  false },
	[CTL_REQ_DAEMON_STOP]  = { req_daemon,  true,  false },
	[CTL_REQ_ROLE]         = { req_role,    true,  false },
};

/*
 * One request line; its answer goes into O. Words are separated by single
 * spaces; a control character anywhere refuses the whole line, so that no
 * value can smuggle a second request or a split word in.
 */
static void
ctl_request(char *line, struct evbuffer *o, bool read_only)
{
	char *argv[CTL_ARGS_MAX], *save;
	struct ctl_call r = { .argv = argv, .o = o };
	int id, rc;

	for (const char *p = line; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			out(o, "err request with a control character refused\n");
			return;
		}
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (r.argc == CTL_ARGS_MAX) {
			out(o, "err too many arguments\n");
			return;
		}
		argv[r.argc++] = t;
	}
	if (r.argc == 0) {
		out(o, "err empty request\n");
		return;
	}
	id = ctl_lookup(ctl_req_names, CTL_REQ_MAX, argv[0]);
	if (id < 0) {
		rc = fail(&r, "unknown request '%s'", argv[0]);
	} else if (read_only && ctl_dispatch[id].changes) {
		rc = fail(&r, "permission denied: members of control_group_read may list, not "
		    "change ('%s')", argv[0]);
	} else if (ctl_dispatch[id].locked) {
		/* Requests read and change what the workers use. */
		lock_all();
		rc = ctl_dispatch[id].fn(&r);
		/*
		 * nat and fullnat real servers added or removed: their rules,
		 * routes and proxy entries follow now, before the workers see
		 * them.
		 */
		if (ctl_dispatch[id].changes && xmit_nat_sync() < 0 && rc == 0)
			rc = fail(&r, "the host set-up for nat could not be made whole; see the log");
		unlock_all();
	} else {
		rc = ctl_dispatch[id].fn(&r);
	}
	if (rc == 0)
		out(o, "ok\n");
	else
		out(o, "err %s\n", r.err[0] ? r.err : "failed");
}

/* A client in no group: its first request is refused, and it is closed. */
static bool
ctl_permitted(struct ctl_client *c, struct evbuffer *o)
{
	if (c->role != CTL_ROLE_NONE)
		return true;
	out(o, "err permission denied: only root and the members of control_group and "
	    "control_group_read may use this socket\n");
	c->closing = true;
	return false;
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
	if (c->role == CTL_ROLE_NONE)
		ctl.nrefused--;
	/* Its descriptor is free again: the reserve takes it back. */
	if (c->reserved && ctl.reserve < 0)
		ctl.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	free(c);
	ctl.nclients--;
}

/*
 * Serve the complete request lines read, in order, while the answers not
 * yet taken by the client stay below CTL_OUT_MAX; past it, stop reading
 * from the client (its later requests wait in the socket) until it has
 * read enough of them (ctl_written). A client that sends requests and
 * never reads the answers holds at most CTL_OUT_MAX plus one answer.
 */
static void
ctl_read(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev), *o = bufferevent_get_output(bev);
	char *line;
	size_t n;

	for (;;) {
		if (c->closing) {
			bufferevent_disable(bev, EV_READ);
			if (evbuffer_get_length(o) == 0)
				ctl_client_free(c);
			return;         /* else when it is sent (ctl_written) */
		}
		if (evbuffer_get_length(o) >= CTL_OUT_MAX) {
			if (!c->waiting) {
				c->waiting = true;
				bufferevent_disable(bev, EV_READ);
			}
			return;
		}
		if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) == NULL)
			break;
		if (n >= CTL_LINE_MAX)
			evbuffer_add_printf(o, "err request too long\n");
		else if (ctl_permitted(c, o))
			ctl_request(line, o, c->role == CTL_ROLE_READ);   /* takes the lock (dispatch) */
		free(line);
	}
	if (evbuffer_get_length(in) >= CTL_LINE_MAX) {
		log_warnx("control: request longer than %d bytes; connection closed", CTL_LINE_MAX);
		ctl_client_free(c);
	}
}

/* The client took its answers down to half the bound: its requests go on. */
static void
ctl_written(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		ctl_client_free(c);
		return;
	}
	if (!c->waiting)
		return;
	c->waiting = false;
	bufferevent_enable(bev, EV_READ);
	ctl_read(bev, c);
}

static void
ctl_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client *c = arg;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING))
		log_info("control: a client took none of its answers for %d s; closed", CTL_STALL_S);
	/*
	 * A client that closed its side after its requests (a script's
	 * "printf ... | socat") still reads their answers: it is closed once
	 * they are sent (ctl_written), or at the stall timeout.
	 */
	if (what == (BEV_EVENT_READING | BEV_EVENT_EOF) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		c->closing = true;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		ctl_client_free(c);
}

static bool
ctl_member(gid_t gid, gid_t primary, const gid_t *groups, size_t n)
{
	if (gid == (gid_t)-1)
		return false;
	if (gid == primary)
		return true;
	for (size_t i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Root and members of control_group may do anything, members of control_group_read list. */
static enum ctl_role
ctl_peer_role(int s, struct ucred *uc)
{
	gid_t groups[256];
	socklen_t len = sizeof(*uc);
	size_t n = 0;

	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, uc, &len) < 0)
		return CTL_ROLE_NONE;
	if (uc->uid == 0)
		return CTL_ROLE_ADMIN;
	len = sizeof(groups);
	if (getsockopt(s, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		n = len / sizeof(gid_t);
	if (ctl_member(ctl.gid_admin, uc->gid, groups, n))
		return CTL_ROLE_ADMIN;
	if (ctl_member(ctl.gid_read, uc->gid, groups, n))
		return CTL_ROLE_READ;
	return CTL_ROLE_NONE;
}

static void
ctl_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (ctl.reserve < 0)
		ctl.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	event_add(ctl.ev_listen, NULL);
}

/*
 * Out of descriptors (or memory): stop watching the listener for
 * CTL_PAUSE_MS instead of waking up for the same connection again and
 * again; the connections wait in its backlog. Said once per episode.
 */
static void
ctl_pause(int err)
{
	struct timeval tv = { 0, CTL_PAUSE_MS * 1000 };

	if (!ctl.starved)
		log_warnx("control socket: cannot accept (%s): pausing %d ms at a time until "
		    "it can", strerror(err), CTL_PAUSE_MS);
	ctl.starved = true;
	ctl.pauses++;
	event_del(ctl.ev_listen);
	evtimer_add(ctl.ev_resume, &tv);
}

/* A new client on descriptor S: its role, its bufferevent. 0, or -1 (S is closed). */
static int
ctl_client_new(int s, bool reserved)
{
	static const struct timeval stall = { CTL_STALL_S, 0 }, refused = { CTL_REFUSED_S, 0 };
	struct ctl_client *c;
	struct ucred uc = { 0 };
	enum ctl_role role = ctl_peer_role(s, &uc);

	/* Refused with a reason, once it has sent its request (an answer before would cut its write short). */
	if (role == CTL_ROLE_NONE)
		log_info("control: uid %ld gid %ld is not allowed; refused", (long)uc.uid,
		    (long)uc.gid);
	if (ctl.nclients >= CTL_CLIENTS_MAX ||
	    (role == CTL_ROLE_NONE && ctl.nrefused >= CTL_REFUSED_MAX) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		close(s);
		return -1;
	}
	c->bev = bufferevent_socket_new(ctl.base, s, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(s);
		free(c);
		return -1;
	}
	c->role = role;
	if (role == CTL_ROLE_NONE)
		ctl.nrefused++;
	c->reserved = reserved;
	bufferevent_setcb(c->bev, ctl_read, ctl_written, ctl_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_LINE_MAX * 4);
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_OUT_MAX / 2, 0);
	bufferevent_set_timeouts(c->bev, role == CTL_ROLE_NONE ? &refused : NULL, &stall);
	bufferevent_enable(c->bev, EV_READ);
	c->next = ctl.clients;
	ctl.clients = c;
	ctl.nclients++;
	return 0;
}

/*
 * Accept what waits, CTL_ACCEPT_MAX at most. At EMFILE the reserve
 * descriptor makes room for one more client (an operator's vsradm while
 * something else ate the descriptors); past that the listener pauses.
 */
static void
ctl_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	for (int i = 0; i < CTL_ACCEPT_MAX; i++) {
		bool reserved = false;
		int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (s < 0 && (errno == EMFILE || errno == ENFILE) && ctl.reserve >= 0) {
			close(ctl.reserve);
			ctl.reserve = -1;
			s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			reserved = s >= 0;
			if (reserved)
				log_warnx("control socket: out of descriptors: one more client let in "
				    "on the one kept in reserve");
			if (s < 0) {
				int err = errno;
				ctl.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
				errno = err;
			}
		}
		if (s < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				ctl_pause(errno);
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("control socket: accept");
			return;
		}
		if (ctl.starved) {
			log_info("control socket: accepting again (%u pauses)", ctl.pauses);
			ctl.starved = false;
			ctl.pauses = 0;
		}
		if (ctl_client_new(s, reserved) < 0 && reserved && ctl.reserve < 0)
			ctl.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
}

static int
ctl_group(const char *name, const char *opt, gid_t *gid)
{
	struct group *g;

	if (name[0] == '\0')
		return 0;
	if ((g = getgrnam(name)) == NULL) {
		log_errx("%s %s: no such group", opt, name);
		return -1;
	}
	*gid = g->gr_gid;
	return 0;
}

/*
 * The socket's group and mode: with one group, the socket's own
 * permissions keep others out (0660). A socket has one group: with a
 * read-only group too, anyone may connect (0666) and the peer's
 * credentials decide, at accept. Neither: our own group, 0600.
 */
static int
ctl_perms(const char *path, const char *group, const char *group_read, gid_t admin, gid_t rd)
{
	gid_t g = group[0] ? (admin != (gid_t)-1 ? admin : rd) : group_read[0] ? rd : getegid();
	mode_t mode = group_read[0] ? 0666 : group[0] ? 0660 : 0600;

	if (chown(path, (uid_t)-1, g) < 0 || chmod(path, mode) < 0) {
		log_err("control socket %s: group %s", path, group[0] ? group :
		    group_read[0] ? group_read : "(own)");
		return -1;
	}
	return 0;
}

/* A listening socket on PATH with those permissions: its descriptor, or -1 (logged). */
static int
ctl_listen(const char *path, const char *group, const char *group_read, gid_t admin, gid_t rd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t um;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_errx("control socket %s: path too long", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
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
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(um);
		log_err("control socket %s", path);
		goto fail;
	}
	umask(um);
	if ((group[0] || group_read[0]) && ctl_perms(path, group, group_read, admin, rd) < 0) {
		unlink(path);
		goto fail;
	}
	if (listen(fd, 8) < 0) {
		log_err("control socket %s: listen", path);
		unlink(path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int
ctl_start(struct event_base *base, const char *path, const char *group, const char *group_read,
    struct conn_table *ct)
{
	if (ctl_group(group, "control_group", &ctl.gid_admin) < 0 ||
	    ctl_group(group_read, "control_group_read", &ctl.gid_read) < 0)
		return -1;
	if ((ctl.fd = ctl_listen(path, group, group_read, ctl.gid_admin, ctl.gid_read)) < 0)
		return -1;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	ctl.base = base;
	ctl.ct = ct;
	ctl.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ctl.ev_listen = event_new(base, ctl.fd, EV_READ | EV_PERSIST, ctl_accept, NULL);
	ctl.ev_resume = evtimer_new(base, ctl_resume, NULL);
	if (ctl.reserve < 0 || ctl.ev_listen == NULL || ctl.ev_resume == NULL ||
	    event_add(ctl.ev_listen, NULL) < 0) {
		log_errx("control socket: cannot watch it");
		ctl_stop();
		return -1;
	}
	return 0;
}

int
ctl_reconfig(const char *path, const char *group, const char *group_read)
{
	gid_t admin = (gid_t)-1, rd = (gid_t)-1;
	struct event *ev;
	int fd;

	if (ctl_group(group, "control_group", &admin) < 0 ||
	    ctl_group(group_read, "control_group_read", &rd) < 0)
		return -1;
	if (strcmp(path, ctl.path) == 0) {
		if (ctl_perms(path, group, group_read, admin, rd) < 0)
			return -1;
	} else {
		if ((fd = ctl_listen(path, group, group_read, admin, rd)) < 0)
			return -1;
		if ((ev = event_new(ctl.base, fd, EV_READ | EV_PERSIST, ctl_accept, NULL)) == NULL ||
		    (!ctl.starved && event_add(ev, NULL) < 0)) {
			log_errx("control socket %s: cannot watch it", path);
			if (ev)
				event_free(ev);
			close(fd);
			unlink(path);
			return -1;
		}
		/* The clients connected through the old one stay; the old path goes. */
		event_free(ctl.ev_listen);
		close(ctl.fd);
		if (unlink(ctl.path) < 0 && errno != ENOENT)
			log_warn("control socket %s is left behind", ctl.path);
		log_info("control socket %s -> %s", ctl.path, path);
		ctl.ev_listen = ev;
		ctl.fd = fd;
		snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	}
	ctl.gid_admin = admin;
	ctl.gid_read = rd;
	return 0;
}

void
ctl_stop(void)
{
	while (ctl.clients)
		ctl_client_free(ctl.clients);
	if (ctl.ev_listen)
		event_free(ctl.ev_listen);
	ctl.ev_listen = NULL;
	if (ctl.ev_resume)
		event_free(ctl.ev_resume);
	ctl.ev_resume = NULL;
	if (ctl.reserve >= 0)
		close(ctl.reserve);
	ctl.reserve = -1;
	if (ctl.fd >= 0)
		close(ctl.fd);
	ctl.fd = -1;
	/* After a drop to "user" the directory may not be ours: said, and replaced at the next start. */
	if (ctl.path[0] && unlink(ctl.path) < 0 && errno != ENOENT)
		log_warn("control socket %s is left behind (the next start replaces it)", ctl.path);
	ctl.path[0] = '\0';
}
