/* sync_conn.c - the connection table's side of sync: which connection is due, what a message makes */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cliaddr.h"
#include "conn.h"
#include "laddr.h"
#include "svc.h"
#include "sync_conn.h"
#include "worker.h"

static struct conn_table *sc_table;

void
sync_conn_init(struct conn_table *t)
{
	sc_table = t;
}

/* Whose state a sync_cstate slot holds: a slot reused by another flow starts again. */
static uint32_t
flow_key(const struct conn_table *t, const struct conn *c)
{
	struct conn_addrs a;
	int af = conn_af(c);

	conn_addrs(t, c, &a);
	return hash32(addr_fold32(af, &a.caddr) ^ hash32(addr_fold32(af, &a.vaddr) ^
	    ((uint32_t)c->cport << 16 | c->vport)) ^ c->proto);
}

/* IPVS's state number of C (templates: IP_VS_CTPL_S_NONE). */
static uint16_t
ipvs_state(const struct conn *c)
{
	if (c->flags & CONN_F_TEMPLATE)
		return 0;
	return c->state == CS_UDP ? 0 : c->state;
}

/* C's timeout in ticks, as IPVS's cp->timeout: its state's, a template's own. */
static uint32_t
timeout_ticks(const struct conn_table *t, const struct conn *c)
{
	if (c->flags & CONN_F_TEMPLATE)
		return c->laddr;
	return conn_get_timeout(t, (enum conn_state)c->state) * CONN_HZ;
}

static inline bool
tick_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

bool
sync_due(const struct sync_conf *sc, uint32_t timeout, uint8_t proto, uint8_t state, bool tpl,
    struct sync_cstate *cs, uint32_t pkts, uint32_t now)
{
	uint32_t orig = cs->endtime, n = (now + timeout) & ~3u;
	uint32_t refresh = sc->refresh_period * CONN_HZ;

	if (!tpl && proto == IPPROTO_TCP) {
		static const unsigned synced = 1u << CS_ESTABLISHED | 1u << CS_FIN_WAIT |
		    1u << CS_CLOSE | 1u << CS_CLOSE_WAIT | 1u << CS_TIME_WAIT;

		if (!((1u << state) & synced))
			return false;
		/* A change of state is sent at once, but to ESTABLISHED (the threshold's). */
		if (state != cs->old_state && state != CS_ESTABLISHED)
			goto set;
	}
	if (refresh > 0) {
		int32_t diff = (int32_t)(n - orig);
		uint32_t min_diff = timeout / 2 > 10 * CONN_HZ ? timeout / 2 : 10 * CONN_HZ;
		uint32_t lim = refresh < min_diff ? refresh : min_diff;

		/* Not sent again before its timeout moved by that much; retried meanwhile. */
		if ((uint32_t)(diff < 0 ? -diff : diff) < lim) {
			unsigned retries = orig & 3;

			if (retries >= sc->retries)
				return false;
			if (tick_before(now, orig - timeout + (refresh >> 3)))
				return false;
			n |= retries + 1;
		}
	}
	if (sc->period > 0) {
		if (!tpl && pkts % sc->period != sc->threshold)
			return false;
	} else if (refresh == 0 && pkts != sc->threshold) {
		return false;
	}
set:
	cs->old_state = state;
	cs->endtime = n;
	return true;
}

/*
 * The connection's sequence adjustment (seqadj.h), what IPVS keeps as
 * cp->in_seq and cp->out_seq and syncs as its sequence option: NULL for a
 * flow whose numbers go through as they are. It lives in the flow's
 * client-address state (proxy-v2 shifts the client's stream by its
 * header); whatever else renumbers a stream (a SYN proxy's offset) keeps
 * it in the same struct seqadj, and sync carries it from here.
 */
static const struct seqadj *
conn_seqadj(const struct conn_table *t, const struct conn *c)
{
	const struct cliaddr_state *ca;

	if (c->flags & CONN_F_TEMPLATE || conn_l4proto(c) != IPPROTO_TCP ||
	    (ca = conn_cliaddr(t, c)) == NULL || !seqadj_active(&ca->sa))
		return NULL;
	return &ca->sa;
}

static struct sync_seq
seq_of(const struct seqadj_dir *d)
{
	return (struct sync_seq){ d->init_seq, d->delta, d->previous_delta };
}

static struct seqadj_dir
dir_of(const struct sync_seq *s)
{
	return (struct seqadj_dir){ s->init_seq, s->delta, s->previous_delta };
}

static uint32_t
fwd_flags(const struct dest *d)
{
	switch (d->fwd) {
	case FWD_DR:  return SYNC_F_DROUTE;
	case FWD_TUN: return SYNC_F_TUNNEL;
	default:      return SYNC_F_MASQ;          /* nat, and fullnat (with its option) */
	}
}

void
sync_conn_entry(const struct conn_table *t, const struct conn *c, struct sync_entry *e)
{
	bool tpl = c->flags & CONN_F_TEMPLATE;
	struct conn_addrs a;
	unsigned alen;

	memset(e, 0, sizeof(*e));
	e->af = conn_af(c);
	alen = addr_len(e->af);
	e->proto = conn_l4proto(c);
	e->state = ipvs_state(c);
	e->flags = fwd_flags(c->dest);
	if (tpl) {
		e->flags |= SYNC_F_TEMPLATE;
	} else {
		if (c->flags & CONN_F_NOOUTPUT)
			e->flags |= SYNC_F_NOOUTPUT;
		if (c->flags & CONN_F_INACTIVE)
			e->flags |= SYNC_F_INACTIVE;
	}
	e->cport = c->cport;
	e->vport = c->vport;
	e->dport = c->dport;
	/* A firewall-mark service's entry names its mark (as IPVS's cp->fwmark): the
	 * peer finds the service by it, not by the flow's address and port. */
	if (c->dest != NULL && c->dest->svc != NULL)
		e->fwmark = c->dest->svc->fwmark;
	e->timeout = timeout_ticks(t, c) / CONN_HZ;
	conn_addrs(t, c, &a);
	memcpy(e->caddr, a.caddr.b, alen);
	memcpy(e->vaddr, a.vaddr.b, alen);
	memcpy(e->daddr, a.daddr.b, alen);
	if (!tpl && c->dest->fwd == FWD_FULLNAT) {
		e->has_fullnat = true;
		memcpy(e->laddr, a.laddr.b, alen);
		e->lport = c->lport;
	}
	/* A connection whose numbers are shifted: IPVS_OPT_SEQ_DATA, with IN_SEQ / OUT_SEQ. */
	const struct seqadj *sa = conn_seqadj(t, c);

	if (sa != NULL) {
		struct sync_seq in = seq_of(&sa->in), out = seq_of(&sa->out);

		sync_entry_set_seq(e, seqadj_dir_active(&sa->in) ? &in : NULL,
		    seqadj_dir_active(&sa->out) ? &out : NULL);
	}
}

/* The sync state of C: reset when its slot holds another flow's (or C is new). */
static struct sync_cstate *
cstate_of(const struct conn_table *t, const struct conn *c, bool fresh)
{
	struct sync_cstate *cs = sync_cstate(conn_id(t, c));
	uint32_t key = flow_key(t, c);

	if (cs == NULL)
		return NULL;
	if (fresh || cs->key != key) {
		memset(cs, 0, sizeof(*cs));
		cs->key = key;
	}
	return cs;
}

void
sync_conn_in(struct worker *w, struct conn *c, bool fresh)
{
	const struct sync_conf *sc = sync_daemon(SYNC_STATE_MASTER);
	struct sync_cstate *cs;
	uint32_t pkts;
	bool skip;

	if (sc == NULL || (cs = cstate_of(w->ct, c, fresh)) == NULL)
		return;
	pkts = ++cs->pkts;
	/* A one-packet entry is not sent (IPVS's ip_vs_sync_conn), its template is. */
	skip = c->dest != NULL && c->dest->svc != NULL && c->dest->svc->ops &&
	    !(c->flags & CONN_F_TEMPLATE);
	for (;;) {
		struct sync_entry *e;

		if (!skip && sync_due(sc, timeout_ticks(w->ct, c), conn_l4proto(c), c->state,
		    c->flags & CONN_F_TEMPLATE, cs, pkts, w->now) &&
		    (e = sync_queue_slot(w->id)) != NULL) {     /* NULL: full, counted */
			sync_conn_entry(w->ct, c, e);
			sync_queue_commit(w->id);
		}
		/* Then its template, which counts every packet of its flows. */
		if ((c = conn_controller(w->ct, c)) == NULL ||
		    (cs = cstate_of(w->ct, c, false)) == NULL)
			return;
		pkts = ++cs->pkts;
		skip = false;
	}
}

/* ---- the backup ---- */

/* An address of the message (4 or 16 bytes, by AF) in our form. */
static union vsr_addr
addr_of(int af, const uint8_t *b)
{
	union vsr_addr a = { .w = { 0, 0, 0, 0 } };

	memcpy(a.b, b, addr_len(af));
	return a;
}

enum sync_verdict
sync_conn_apply(const struct sync_entry *e, uint32_t now)
{
	struct conn_table *t = sc_table;
	bool tpl = e->flags & SYNC_F_TEMPLATE;
	int af = e->af;
	union vsr_addr caddr, vaddr, daddr, laddr;
	enum conn_state st = tpl ? CS_NONE : e->proto == IPPROTO_UDP ? CS_UDP :
	    (enum conn_state)e->state;
	enum sync_verdict v = SYNC_V_UPDATED;
	struct service *svc;
	struct dest *d;
	struct conn *c;
	unsigned timeout;
	struct seqadj seq;
	const struct seqadj *sa = NULL;

	if (t == NULL || (af != AF_INET && af != AF_INET6))
		return SYNC_V_NO_DEST;
	caddr = addr_of(af, e->caddr);
	vaddr = addr_of(af, e->vaddr);
	daddr = addr_of(af, e->daddr);
	if (e->has_seq && !tpl && e->proto == IPPROTO_TCP) {
		seq.in = dir_of(&e->in_seq);
		seq.out = dir_of(&e->out_seq);
		sa = &seq;
	}
	if (tpl) {
		c = conn_template_lookup(t, af, e->proto, &caddr, &vaddr, e->vport);
	} else {
		c = conn_lookup_in(t, af, e->proto, &caddr, e->cport, &vaddr, e->vport);
		/* Another real server now: the old entry goes, unless this one is old news. */
		if (c) {
			struct conn_addrs ca;

			conn_addrs(t, c, &ca);
			if (c->dport != e->dport || !addr_eq(&ca.daddr, &daddr)) {
				if (e->flags & SYNC_F_INACTIVE)
					return SYNC_V_STALE;
				conn_expire_now(t, c);
				c = NULL;
			}
		}
		/* Shifted now and made here without a place for it (the message knows better). */
		if (c && sa && conn_cliaddr(t, c) == NULL) {
			conn_expire_now(t, c);
			c = NULL;
		}
	}
	if (c == NULL) {
		if (e->fwmark != 0) {
			union vsr_addr ma = svc_mark_addr(af, e->fwmark);

			svc = svc_lookup(af, 0, &ma, 0);
		} else {
			svc = svc_lookup(af, e->proto, &vaddr, e->vport);
		}
		if (svc == NULL)
			return SYNC_V_NO_DEST;
		/* A mark service's real server of port 0 takes the packet's port. */
		if ((d = dest_find(svc, &daddr, e->dport)) == NULL &&
		    (svc->fwmark == 0 || (d = dest_find(svc, &daddr, 0)) == NULL))
			return SYNC_V_NO_DEST;
		if (tpl) {
			c = conn_template_new(t, af, e->proto, &caddr, &vaddr, e->vport, d,
			    e->timeout ? e->timeout : 180, now);
		} else {
			struct conn_param cp = {
				.af = (uint8_t)af,
				.proto = e->proto,
				.caddr = caddr, .cport = e->cport,
				.vaddr = vaddr, .vport = e->vport,
				.daddr = d->addr, .dport = d->port ? d->port : e->dport,
				.laddr = caddr, .lport = e->cport,
				.flags = (d->fwd == FWD_DR || d->fwd == FWD_TUN) ? CONN_F_NOOUTPUT :
				    CONN_F_HASH_OUT,
			};

			if (d->fwd == FWD_FULLNAT) {
				/*
				 * Its local address and port, free here: one of ours
				 * (two directors of one pool, HA), or a peer's (scale-out:
				 * a flow the router may move here, whose real server
				 * answers the peer that owns the address), never a
				 * virtual address nor none.
				 */
				if (!e->has_fullnat)
					return SYNC_V_NO_DEST;
				laddr = addr_of(af, e->laddr);
				if (addr_is_zero(&laddr) || svc_is_vip(af, &laddr) ||
				    (af == AF_INET && (laddr.b[0] & 0xf0) == 0xe0) ||
				    (af == AF_INET6 && laddr.b[0] == 0xff) ||
				    conn_lookup_out(t, af, e->proto, &d->addr, d->port, &laddr,
				    e->lport) != NULL)
					return SYNC_V_NO_DEST;
				cp.laddr = laddr;
				cp.lport = e->lport;
				/*
				 * The client's address: a shifted TCP stream keeps its
				 * shift (the header went on the other director); a UDP
				 * flow's datagrams each take a header here too.
				 */
				if (sa != NULL && !svc->synproxy)
					cp.client_addr = CA_PROXY_V2;
				else if (e->proto == IPPROTO_UDP)
					cp.client_addr = (uint8_t)d->client_addr;
			}
			/*
			 * A SYN proxy's flow (nat or fullnat; synproxy and
			 * client_address exclude each other): its shift alone, in a
			 * side state of no client-address kind, which synproxy.c
			 * splices as the master did.
			 */
			cp.synproxy = sa != NULL && svc->synproxy;
			c = conn_new(t, &cp, d, now);
			if (c != NULL && (cp.client_addr != CA_NONE || cp.synproxy))
				cliaddr_synced(conn_cliaddr(t, c), (enum client_addr)cp.client_addr,
				    af, sa);
		}
		if (c == NULL)
			return SYNC_V_TABLE_FULL;
		v = SYNC_V_CREATED;
	}
	/* The message's timeout; 0 (version 0's) the state's own, 3 minutes for a template. */
	timeout = e->timeout ? e->timeout : tpl ? 180 : conn_get_timeout(t, st);
	conn_sync_set(t, c, st, timeout, now);
	/* As IPVS sets in_pkts: a master this director becomes counts on from the threshold. */
	struct sync_cstate *cs = cstate_of(t, c, true);
	const struct sync_conf *sc = sync_daemon(SYNC_STATE_MASTER);

	if (cs && sc) {
		cs->pkts = sc->threshold;
		cs->old_state = c->state;
	}
	/* An update brings the adjustment again, as ip_vs_proc_conn() copies it. */
	struct cliaddr_state *ca;

	if (v == SYNC_V_UPDATED && sa && (ca = conn_cliaddr(t, c)) != NULL) {
		if ((ca->how == CA_PROXY_V2 && (ca->flags & CA_F_ISN)) || ca->how == CA_NONE) {
			ca->sa = *sa;   /* a PROXY header's shift, or a SYN proxy's */
		} else {
			/* Made here mid-flow (sloppy) before the message came: as if by it. */
			uint32_t cseq = ca->cseq_next;

			cliaddr_synced(ca, CA_PROXY_V2, af, sa);
			ca->cseq_next = cseq;
		}
	}
	return v;
}
