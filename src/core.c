/* core.c - the packet path: read frames from the TAP, look up or schedule, transmit */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <net/if_arp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cliaddr.h"
#include "conf.h"
#include "conn.h"
#include "core.h"
#include "defence.h"
#include "frag.h"
#include "fwd.h"
#include "icmplimit.h"
#include "laddr.h"
#include "lock.h"
#include "log.h"
#include "packet.h"
#include "sched.h"
#include "stats.h"
#include "steer.h"
#include "svc.h"
#include "sync_conn.h"
#include "synproxy.h"
#include "tap.h"
#include "xmit.h"

_Static_assert(STATS_SLOTS == CONF_WORKERS_MAX + 1, "a stats slot per worker");
_Static_assert(LADDR_SHARES >= CONF_WORKERS_MAX, "a share of the local ports per worker");

/*
 * sloppy_tcp (IPVS's sysctl): a TCP segment with no entry here may make one,
 * whatever its flags but RST, as a SYN would. Written under the data-path
 * lock (start, reload), read under it.
 */
static int core_sloppy_tcp;

void
core_set_sloppy(int tcp)
{
	core_sloppy_tcp = tcp != 0;
}

/*
 * The locks (lock.h). A worker holds one table's lock at a time: its own
 * through a batch, another's for a packet whose flow that one has
 * (core_use); the shared lock on top of it only for what touches the
 * state the workers share (core_shared), until the batch ends or the
 * table changes. One table (nt == 0): the locks are no-ops.
 */
static void
core_unlock(struct worker *w)
{
	if (w->shared)
		unlock_shared();
	w->shared = false;
	if (w->held)
		unlock_table(w->held - 1);
	w->held = 0;
}

/* Work on table I, under its lock. */
static void
core_use(struct worker *w, unsigned i)
{
	if (w->nt == 0 || w->held == i + 1)
		return;
	core_unlock(w);
	lock_table(i);
	if (i != w->id)
		STAT_INC(STAT_LOCK_OTHER_TABLE);
	w->held = i + 1;
	w->ct = conn_shard(w->set, i);
	w->now = conn_clock();          /* after the wait: the sweep may have moved on */
}

/* Work on the table of the flows whose packets hash by AF/ADDR:PORT (steer.h). */
static inline void
core_use_side(struct worker *w, int af, const union vsr_addr *addr, uint16_t port)
{
	if (w->nt)
		core_use(w, conn_shard_of(w->set, af, addr, port));
}

static inline void
core_shared(struct worker *w)
{
	if (!w->shared) {
		lock_shared();
		if (w->nt)
			STAT_INC(STAT_LOCK_SHARED);
	}
	w->shared = true;
}

/*
 * A lookup that found nothing in its table: when some flow may sit in
 * another one (conn_probe: a backup's synced fullnat flows), the others
 * are looked in, each under its lock; the table that has it stays in
 * use. NULL, back on the first table, when none has it.
 */
static struct conn *
core_probe(struct worker *w, bool out, int af, uint8_t proto, const union vsr_addr *a1,
    uint16_t p1, const union vsr_addr *a2, uint16_t p2)
{
	unsigned first;
	struct conn *c;

	if (w->nt == 0 || !conn_probe(w->set))
		return NULL;
	first = w->held - 1;
	for (unsigned k = 1; k <= w->nt; k++) {
		core_use(w, (first + k) % w->nt);
		c = out ? conn_lookup_out(w->ct, af, proto, a1, p1, a2, p2) :
		    conn_lookup_in(w->ct, af, proto, a1, p1, a2, p2);
		if (c != NULL)
			return c;
	}
	return NULL;    /* the loop ended on the first table, looked in again */
}

static inline struct conn *
core_lookup_in(struct worker *w, int af, uint8_t proto, const union vsr_addr *caddr,
    uint16_t cport, const union vsr_addr *vaddr, uint16_t vport)
{
	struct conn *c = conn_lookup_in(w->ct, af, proto, caddr, cport, vaddr, vport);

	return c != NULL ? c : core_probe(w, false, af, proto, caddr, cport, vaddr, vport);
}

static inline struct conn *
core_lookup_out(struct worker *w, int af, uint8_t proto, const union vsr_addr *daddr,
    uint16_t dport, const union vsr_addr *laddr, uint16_t lport)
{
	struct conn *c = conn_lookup_out(w->ct, af, proto, daddr, dport, laddr, lport);

	return c != NULL ? c : core_probe(w, true, af, proto, daddr, dport, laddr, lport);
}

/* A TCP segment's flags on C: a change of state moves its real server's counts (shared). */
static inline void
core_tcp_update(struct worker *w, struct conn *c, enum conn_dir dir, uint8_t flags)
{
	if (conn_tcp_next(c, dir, flags) != (enum conn_state)c->state)
		core_shared(w);
	conn_tcp_update(w->ct, c, dir, flags, w->now);
}

/* ADDR is ours on the TAP link: a VIP, or in the fullnat local_address pool. */
static inline bool
core_is_local(int af, const union vsr_addr *addr)
{
	return svc_is_vip(af, addr) || laddr_is_local(af, addr);
}

/* A SYN that opens a connection: SYN without ACK, RST or FIN. */
static inline int
tcp_is_new(const struct pkt *p)
{
	return (p->tcpflags & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN)) == TCPF_SYN;
}

/*
 * Persistence (ipvsadm -p, -M): a client, masked by the netmask, with a
 * live template goes to the template's dest; otherwise the scheduler
 * chooses and a template is made. A template whose dest was quiesced
 * (weight 0) or removed pins nothing new (IPVS's expire_quiescent_template).
 * Returns the dest, or NULL after counting why there is none.
 */
static struct dest *
core_persist(struct worker *w, struct service *svc, const struct pkt *p, struct conn **tplp)
{
	union vsr_addr client;
	struct conn *tpl;
	struct dest *d;
	/*
	 * A mark service's templates span its addresses, ports and protocols:
	 * keyed, as IPVS keys them, by the mark (the service's own "address"),
	 * port 0 and protocol 0.
	 */
	uint8_t proto = svc->fwmark ? 0 : p->proto;
	const union vsr_addr *vaddr = svc->fwmark ? &svc->addr : &p->daddr;
	uint16_t vport = svc->fwmark ? 0 : p->dport;

	addr_and(&client, &p->saddr, &svc->netmask);
	tpl = conn_template_lookup(w->ct, p->af, proto, &client, vaddr, vport);
	if (tpl != NULL && (tpl->dest->svc != svc || tpl->dest->weight <= 0)) {
		conn_template_invalidate(w->ct, tpl);
		tpl = NULL;
	}
	if (tpl != NULL) {
		*tplp = tpl;
		return tpl->dest;
	}
	d = svc->sched->schedule(svc, p, w->now);
	if (d == NULL) {
		STAT_INC(STAT_DROP_NO_DEST);
		return NULL;
	}
	*tplp = conn_template_new(w->ct, p->af, proto, &client, vaddr, vport, d,
	    svc->persistent, w->now);
	if (*tplp == NULL) {
		STAT_INC(STAT_DROP_TABLE_FULL);
		return NULL;
	}
	return d;
}

/* A flow of P bound to D (under template TPL if not NULL), or NULL (counted). */
static struct conn *
core_conn_new(struct worker *w, struct dest *d, struct conn *tpl, const struct pkt *p,
    int synproxy)
{
	struct conn *c;
	struct conn_param cp = {
		.af = p->af,
		.proto = p->proto,
		.caddr = p->saddr, .cport = p->sport,
		.vaddr = p->daddr, .vport = p->dport,
		/* A mark service's real server without a port takes the packet's. */
		.daddr = d->addr,  .dport = d->port ? d->port : p->dport,
		.laddr = p->saddr, .lport = p->sport,
		/* Replies bypass the director in dr and tun. */
		.flags = (uint8_t)(((d->fwd == FWD_DR || d->fwd == FWD_TUN) ? CONN_F_NOOUTPUT :
		    CONN_F_HASH_OUT) | CONN_F_WORKER(w->id)),
		/* fullnat only: the real server learns the client's address (cliaddr.h). */
		.client_addr = (uint8_t)(d->fwd == FWD_FULLNAT ? d->client_addr : CA_NONE),
		.synproxy = (uint8_t)synproxy,
	};
	/*
	 * fullnat: the client's side is a (local address, port) of ours, one
	 * whose replies the TAP's steering brings to this worker (steer.h).
	 */
	if (d->fwd == FWD_FULLNAT &&
	    laddr_alloc(w->ct, p->af, p->proto, &d->addr, d->port, w->held ? w->held - 1 : 0,
	    w->nt, &cp.laddr, &cp.lport) < 0)
		return NULL;    /* counted */
	c = conn_new(w->ct, &cp, d, w->now);
	if (c == NULL) {
		STAT_INC(STAT_DROP_TABLE_FULL);
		return NULL;
	}
	if (cp.client_addr != CA_NONE)
		cliaddr_init(conn_cliaddr(w->ct, c), (enum client_addr)cp.client_addr, p->af);
	if (tpl != NULL)
		conn_set_control(w->ct, c, tpl, w->now);
	return c;
}

static struct conn *
core_schedule(struct worker *w, struct service *svc, const struct pkt *p, int synproxy)
{
	struct conn *c, *tpl = NULL;
	struct dest *d;

	if (svc->persistent)
		d = core_persist(w, svc, p, &tpl);      /* counts its own drops */
	else if ((d = svc->sched->schedule(svc, p, w->now)) == NULL)
		STAT_INC(STAT_DROP_NO_DEST);
	if (d == NULL)
		return NULL;
	c = core_conn_new(w, d, tpl, p, synproxy);
	if (c != NULL)
		svc->stats.conns++;
	return c;
}

/*
 * The real server's and its service's packet and byte counters: any
 * worker's flows may count on them at once, under their own tables'
 * locks: atomic adds (the main thread reads them holding every lock).
 */
#define CORE_ADD(x, v) ((void)__atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED))

static void
core_account_in(struct conn *c, const struct pkt *p)
{
	struct dest *d = c->dest;
	uint32_t bytes = p->len - p->l3off;

	CORE_ADD(d->stats.inpkts, 1);
	CORE_ADD(d->stats.inbytes, bytes);
	if (d->svc) {
		CORE_ADD(d->svc->stats.inpkts, 1);
		CORE_ADD(d->svc->stats.inbytes, bytes);
	}
}

static void
core_account_out(struct conn *c, const struct pkt *p)
{
	struct dest *d = c->dest;
	uint32_t bytes = p->len - p->l3off;

	CORE_ADD(d->stats.outpkts, 1);
	CORE_ADD(d->stats.outbytes, bytes);
	if (d->svc) {
		CORE_ADD(d->svc->stats.outpkts, 1);
		CORE_ADD(d->svc->stats.outbytes, bytes);
	}
}

/*
 * The kernel's ARP request on the TAP link for one of our addresses:
 * answered in place, for a VIP with OUR_MAC, for what replies are sent to
 * (a fullnat local address, the nat reply tables' gateway) with the reply
 * MAC, which the TAP's steering program tells apart (steer.h), for a mark
 * service's gateway with its mark's MAC (svc.h). Anything else is ignored.
 */
static void
core_arp(struct worker *w, struct pkt *p)
{
	struct pkt_arp *f = (struct pkt_arp *)p->data;
	uint32_t tpa, spa;
	uint8_t requester[6];

	if (!pkt_arp_valid(f, p->len)) {
		STAT_INC(STAT_DROP_MALFORMED);
		return;
	}
	if (f->op != htons(ARPOP_REQUEST))
		return;
	memcpy(&tpa, f->tpa, 4);
	memcpy(&spa, f->spa, 4);
	union vsr_addr target = addr_from_ip(tpa);
	uint8_t mac[6];
	uint32_t mark;
	/* A mark service's gateway: answered with the MAC that names its mark. */
	if (svc_mark_gw_lookup(AF_INET, &target, &mark))
		svc_mark_mac(mark, mac);
	else if (svc_is_vip(AF_INET, &target))
		memcpy(mac, w->our_mac, 6);
	else if (laddr_is_local(AF_INET, &target) || steer_is_reply_gw(AF_INET, &target))
		steer_reply_mac(w->our_mac, mac);
	else
		return;
	memcpy(requester, f->sha, 6);
	pkt_arp_fill(f, ARPOP_REPLY, requester, mac, tpa, requester, spa);
	memset(p->buf, 0, PKT_VNET_LEN);
	if (tap_tx(w, p->buf, sizeof(*f)) == 0)
		STAT_INC(STAT_ARP_REPLIES);
}

/* Echo request to a VIP: turned around in place and written back into the TAP. */
static void
core_icmp_echo(struct worker *w, struct pkt *p)
{
	uint8_t *eth = p->data;

	if (!icmp_limit_allow(ICMP_KIND_ECHO, w->now))
		return;         /* counted */
	memcpy(eth, eth + 6, 6);
	memcpy(eth + 6, w->our_mac, 6);
	pkt_echo_reply(p);
	memset(p->buf, 0, PKT_VNET_LEN);
	if (tap_tx(w, p->buf, p->len) == 0)
		STAT_INC(STAT_ICMP_ECHO_REPLIES);
}

/*
 * The kernel's neighbour solicitation on the TAP link for one of our
 * addresses, IPv6's ARP request: answered in place with a solicited
 * advertisement (to all nodes when the solicitation is a duplicate
 * address detection's, from ::), with the MAC that core_arp() gives.
 * Anything else is the link's own business: counted, not answered.
 */
static void
core_nd(struct worker *w, struct pkt *p)
{
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const union vsr_addr all_nodes = { .b = { 0xff, 0x02, [15] = 1 } };
	union vsr_addr target, to;
	uint8_t dmac[6], mac[6];
	uint8_t flags = ND_NA_OVERRIDE;
	uint32_t mark;

	if (pkt_nd_ns_target(p, &target) < 0) {
		STAT_INC(STAT_DROP_MALFORMED);
		return;
	}
	/* A mark service's gateway: answered with the MAC that names its mark. */
	if (svc_mark_gw_lookup(AF_INET6, &target, &mark)) {
		svc_mark_mac(mark, mac);
	} else if (svc_is_vip(AF_INET6, &target)) {
		memcpy(mac, w->our_mac, 6);
	} else if (laddr_is_local(AF_INET6, &target) || steer_is_reply_gw(AF_INET6, &target)) {
		steer_reply_mac(w->our_mac, mac);
	} else {
		STAT_INC(STAT_ND_IGNORED);
		return;
	}
	if (addr_is_zero(&p->saddr)) {
		to = all_nodes;
		memcpy(dmac, all_nodes_mac, 6);
	} else {
		to = p->saddr;
		memcpy(dmac, p->data + 6, 6);
		flags |= ND_NA_SOLICITED;
	}
	pkt_nd_na_fill(p->data, dmac, mac, &target, &to, &target, flags);
	memset(p->buf, 0, PKT_VNET_LEN);
	if (tap_tx(w, p->buf, PKT_ND_LEN) == 0)
		STAT_INC(STAT_NA_REPLIES);
}

/*
 * ICMP and ICMPv6, one code for both: what a message is (p->icmp) the
 * parser said, the family's parts are pkt.c's and pkt6.c's.
 */
static void
core_icmp(struct worker *w, struct pkt *p)
{
	struct pkt_quoted q;
	struct conn *c;

	switch (p->icmp) {
	case PKT_ICMP_ECHO:
		if (svc_is_vip(p->af, &p->daddr)) {
			core_icmp_echo(w, p);
			return;
		}
		break;
	case PKT_ICMP_NS:
		core_nd(w, p);
		return;
	case PKT_ICMP_ERROR:
		/*
		 * An error about a packet VIP:vport -> client:cport that the
		 * client (or a router on its way) could not take: it belongs
		 * to the real server that sent that packet.
		 */
		if (pkt_parse_quoted(p, &q) < 0) {
			STAT_INC(STAT_DROP_MALFORMED);
			return;
		}
		if (q.proto != IPPROTO_TCP && q.proto != IPPROTO_UDP)
			break;
		if (!svc_is_vip(p->af, &p->daddr)) {
			/*
			 * From a nat/fullnat real server's side, toward the
			 * client or a local address: about a packet
			 * client/LIP -> RIP that we sent.
			 */
			core_use_side(w, p->af, &q.saddr, q.sport);
			c = core_lookup_out(w, p->af, q.proto, &q.daddr, q.dport, &q.saddr,
			    q.sport);
			if (c == NULL)
				break;
			core_account_out(c, p);
			STAT_INC(STAT_ICMP_RELAYED);
			synproxy_icmp(conn_cliaddr(w->ct, c), SEQADJ_IN, p);
			xmit_out_table[c->xmit_id](w, c, p);
			return;
		}
		core_use_side(w, p->af, &q.daddr, q.dport);
		c = core_lookup_in(w, p->af, q.proto, &q.daddr, q.dport, &q.saddr, q.sport);
		if (c == NULL)
			break;
		core_account_in(c, p);
		STAT_INC(STAT_ICMP_RELAYED);
		synproxy_icmp(conn_cliaddr(w->ct, c), SEQADJ_OUT, p);
		xmit_table[c->xmit_id](w, c, p);
		return;
	case PKT_ICMP_LINK:
		STAT_INC(STAT_ND_IGNORED);
		return;
	default:
		break;
	}
	/*
	 * A nat real server's own ICMP (the rules steer all of it here) that
	 * is about no connection goes back to the kernel as it came; never
	 * toward a local address, which is routed into the TAP again.
	 */
	if (!core_is_local(p->af, &p->daddr)) {
		memcpy(p->data, w->tap_mac, 6);
		memcpy(p->data + 6, w->our_mac, 6);
		memset(p->buf, 0, PKT_VNET_LEN);
		if (tap_tx(w, p->buf, p->len) == 0)
			STAT_INC(STAT_ICMP_PASSED);
		return;
	}
	STAT_INC(STAT_DROP_ICMP);
}

/* Count a packet of C that a worker other than C's maker handles (modulo 8). */
static inline void
core_note_worker(const struct worker *w, const struct conn *c)
{
	if (CONN_WORKER(c) != (w->id & 3u))
		STAT_INC(STAT_WORKER_CROSSED);
}

/*
 * The client's sequence numbers, for the RST window (issue 15 item 8): a
 * flow keeps the next sequence number it has seen from the client
 * (cseq_next: the highest seq + length, SYN and FIN counting one). A RST
 * from the client's side moves the flow to CLOSE only when its sequence
 * number lies in [next - CORE_RST_BEHIND, next + CORE_RST_AHEAD): a real
 * client's RST carries its SND.NXT, which is what we saw, or ahead of it
 * by what was lost on the way here; a blind attacker must hit a window of
 * 1.06 MiB in 4 GiB (IPVS goes by secure_tcp's state table; Linux by RFC
 * 5961 on the real server, which we leave to do the same after us). One
 * out of the window is dropped and counted (drop_rst_window): the real
 * server would ignore it too.
 */
#define CORE_RST_BEHIND 65536u
#define CORE_RST_AHEAD  (1u << 20)

/* 1 to go on with P, of C's client side; 0 to drop it (counted). NEW: P made C. */
static int
core_tcp_seq(struct worker *w, struct conn *c, const struct pkt *p, int new)
{
	const uint8_t *th = p->data + p->l4off;
	uint32_t seq, end, *next = conn_cseq(w->ct, c);

	if (p->l4len < 20)
		return 1;
	seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7];
	end = seq + (uint32_t)(p->l4len - (th[12] >> 4) * 4u) +
	    !!(p->tcpflags & TCPF_SYN) + !!(p->tcpflags & TCPF_FIN);
	/* 0: not known yet (a flow made elsewhere, e.g. by a peer's sync): learnt. */
	if (new || c->state == CS_NONE || *next == 0) {
		*next = end;
		return 1;
	}
	if (p->tcpflags & TCPF_RST) {
		uint32_t off = seq - *next + CORE_RST_BEHIND;
		if (off >= CORE_RST_BEHIND + CORE_RST_AHEAD) {
			STAT_INC(STAT_DROP_RST_WINDOW);
			return 0;
		}
		return 1;
	}
	if ((int32_t)(end - *next) > 0)
		*next = end;
	return 1;
}

static void core_forward_in(struct worker *w, struct conn *c, struct pkt *p, bool fresh,
    bool once);

/*
 * The SYN proxy's splice (synproxy.h), for a flow of a service that has
 * it: WAY's packet P of C shifted, or turned. Returns what to do with P.
 */
static int
core_synproxy(struct worker *w, struct conn *c, struct pkt *p, enum seqadj_way way)
{
	struct cliaddr_state *st = conn_cliaddr(w->ct, c);
	struct conn_addrs a;

	if (!synproxy_flow(st) || p->proto != IPPROTO_TCP || p->frag == PKT_FRAG_LATER)
		return SYNPROXY_GO;
	if (way == SEQADJ_IN)
		return synproxy_in(st, p);
	conn_addrs(w->ct, c, &a);
	struct synproxy_tuple t = { conn_af(c), a.caddr, a.vaddr, c->cport, c->vport };
	return synproxy_out(st, &t, p);
}

/* A frame toward no VIP: a nat/fullnat real server's reply to a client or a LIP. */
static void
core_reply(struct worker *w, struct pkt *p)
{
	struct conn *c;

	core_use_side(w, p->af, &p->daddr, p->dport);
	c = core_lookup_out(w, p->af, p->proto, &p->saddr, p->sport, &p->daddr, p->dport);
	if (c == NULL) {
		core_shared(w);
		fwd_no_flow(w, p);      /* a real server's own traffic: routed on; else dropped, counted */
		return;
	}
	core_note_worker(w, c);
	if (p->proto == IPPROTO_TCP && p->frag != PKT_FRAG_LATER)
		core_tcp_update(w, c, DIR_OUTPUT, p->tcpflags);
	else
		conn_touch(w->ct, c, w->now);
	core_account_out(c, p);
	switch (core_synproxy(w, c, p, SEQADJ_OUT)) {
	case SYNPROXY_DONE:
		return;
	case SYNPROXY_TURNED:
		/* The real server's SYN-ACK, now the client's ACK: on to the real server. */
		core_forward_in(w, c, p, false, false);
		return;
	default:
		break;
	}
	xmit_out_table[c->xmit_id](w, c, p);
}

/*
 * The client's packet P of C (FRESH: P made C) on to the real server;
 * ONCE: C was made for P alone (a one-packet datagram's later fragment).
 */
static void
core_forward_in(struct worker *w, struct conn *c, struct pkt *p, bool fresh, bool once)
{
	/* A later fragment has no TCP header: the flow is only touched. */
	bool tcp = p->proto == IPPROTO_TCP && p->frag != PKT_FRAG_LATER;

	if (tcp && !core_tcp_seq(w, c, p, fresh))
		return;         /* counted */

	core_note_worker(w, c);
	if (tcp)
		core_tcp_update(w, c, DIR_INPUT, p->tcpflags);
	else
		conn_touch(w->ct, c, w->now);
	core_account_in(c, p);
	xmit_table[c->xmit_id](w, c, p);
	/* Where IPVS calls ip_vs_sync_conn(): the master sync daemon may send C. */
	if (sync_master_running()) {
		if (c->control)
			core_shared(w);         /* its template's count is every worker's */
		sync_conn_in(w, c, fresh);
	}
	/*
	 * One-packet scheduling (ipvsadm -o), UDP: the entry served this
	 * datagram only (counted, its persistence template kept) and goes;
	 * the next one is scheduled on its own. Its real servers are dr or
	 * tun (svc.c refuses nat and fullnat), whose replies need none. A
	 * datagram's first fragment leaves the real server in the fragment
	 * table: its later ones go there too (core_ops_later).
	 */
	if (once || (p->proto == IPPROTO_UDP && c->dest->svc != NULL && c->dest->svc->ops)) {
		core_shared(w);
		frag_set_dest(p, c->dest, w->now);
		conn_expire_now(w->ct, c);
	}
}

/*
 * A later fragment with no flow: if its datagram went through a
 * one-packet service, it follows its first fragment to the same real
 * server, by an entry made for it alone (not a new connection: the
 * service's count is the first one's). Otherwise it belongs to nothing.
 */
static void
core_ops_later(struct worker *w, struct pkt *p)
{
	struct dest *d = frag_dest(p, w->now);
	struct conn *c;

	if (d == NULL) {
		STAT_INC(STAT_DROP_NO_CONN);    /* its first one made no flow, or it has gone */
		return;
	}
	c = core_conn_new(w, d, NULL, p, 0);
	if (c != NULL)
		core_forward_in(w, c, p, false, true);
}

void
core_input(struct worker *w, struct pkt *p)
{
	struct conn *c;
	bool fresh = false;

	if (p->ethtype == ETHTYPE_ARP) {
		core_arp(w, p);
		return;
	}
	/* A fragment: a later one takes its first one's ports, or waits for them (frag.h). */
	if (p->frag != PKT_FRAG_NONE) {
		core_shared(w);
		w->fragged = true;
		int r = frag_in(p, w->now);
		if (r == FRAG_ROUTED)
			fwd_route(w, p);        /* its first one was routed on (fwd.h) */
		if (r != 0)
			return;         /* queued or dropped: counted */
	}
	if (p->proto == p->ops->icmp_proto) {
		core_icmp(w, p);
		return;
	}
	if (!svc_is_vip(p->af, &p->daddr)) {
		core_reply(w, p);
		return;
	}

	/* Existing flows first: they keep flowing whatever the services are now. */
	core_use_side(w, p->af, &p->saddr, p->sport);
	c = core_lookup_in(w, p->af, p->proto, &p->saddr, p->sport, &p->daddr, p->dport);
	if (c != NULL && p->proto == IPPROTO_TCP && tcp_is_new(p)) {
		/* A closing connection, or one to a real server down: scheduled anew. */
		enum stat_id why = conn_tcp_syn_reschedule(c);
		if (why != STAT_NONE) {
			core_shared(w);
			conn_expire_now(w->ct, c);
			STAT_INC(why);
			c = NULL;
		}
	}
	if (c == NULL) {
		struct service *svc;
		uint32_t mark;

		core_shared(w);         /* scheduling, templates, defences: shared */
		if (p->frag == PKT_FRAG_LATER) {
			core_ops_later(w, p);
			return;
		}
		/* Marked by the host's firewall (its route's gateway MAC names the mark): first. */
		if (svc_mac_mark(p->data, &mark)) {
			union vsr_addr ma = svc_mark_addr(p->af, mark);
			svc = svc_lookup(p->af, 0, &ma, 0);
		} else {
			svc = svc_lookup(p->af, p->proto, &p->daddr, p->dport);
		}
		if (svc == NULL) {
			STAT_INC(STAT_DROP_NO_SERVICE);
			return;
		}
		/*
		 * TCP flows start with a SYN; anything else without state is
		 * stray, unless sloppy: then a segment in the middle of a flow
		 * that another director started (ECMP moved it here) is
		 * scheduled as its SYN was, and its entry takes the state its
		 * flags say (an ACK: ESTABLISHED). A RST makes no entry (IPVS's
		 * tcp_conn_schedule).
		 */
		/*
		 * synproxy (synproxy.h): a SYN is answered here, with no entry;
		 * only an ACK with a valid cookie goes on, turned into the SYN.
		 */
		int proxy = svc->synproxy && p->proto == IPPROTO_TCP;
		uint32_t cookie = 0;
		if (proxy && synproxy_in_new(w, p, &cookie) != SYNPROXY_GO)
			return;         /* answered or dropped, counted */
		if (!proxy && p->proto == IPPROTO_TCP && !tcp_is_new(p) &&
		    (!core_sloppy_tcp || (p->tcpflags & TCPF_RST))) {
			STAT_INC(STAT_DROP_NO_CONN);
			return;
		}
		if (!defence_admit(w->ct, svc))
			return;         /* counted */
		c = core_schedule(w, svc, p, proxy);
		if (c == NULL)
			return;
		if (proxy)
			synproxy_conn_init(conn_cliaddr(w->ct, c), p, cookie);
		fresh = true;
	} else if (core_synproxy(w, c, p, SEQADJ_IN) != SYNPROXY_GO) {
		return;
	}
	core_forward_in(w, c, p, fresh, false);
}

/*
 * Fragments that waited for their first one, which this batch brought:
 * through the packet path as if read now, from the queue's own copies,
 * which stay taken until they are sent.
 */
static void
core_frag_replay(struct worker *w)
{
	unsigned idx[RX_BATCH], n;

	do {
		core_use(w, w->id);
		core_shared(w);
		n = frag_take(idx, RX_BATCH);
		for (unsigned k = 0; k < n; k++) {
			uint32_t len;
			uint8_t *buf = frag_buf(idx[k], &len);
			enum stat_id r = pkt_parse(&w->rx[k], buf, len);
			if (r != STAT_NONE)
				STAT_INC(r);
			else
				core_input(w, &w->rx[k]);
		}
		core_unlock(w);
		xmit_flush(w);
		core_use(w, w->id);
		core_shared(w);
		frag_put(idx, n, w->now);
		core_unlock(w);
	} while (n == RX_BATCH);
}

/*
 * Up to RX_BUDGET batches per wake-up. Each batch: read and parse up to
 * RX_BATCH frames (no lock), process them under the worker's table lock, then
 * send what they produced (no lock). Frames stay in the receive buffers
 * until their batch is sent.
 */
static void
core_tap_read(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)what;
	for (int b = 0; b < RX_BUDGET; b++) {
		unsigned i, np = 0, ready = 0;
		for (i = 0; i < RX_BATCH; i++) {
			uint8_t *buf = w->rxbuf + (size_t)i * PKT_BUF_STRIDE;
			ssize_t n = read(fd, buf, PKT_BUF_SIZE);
			enum stat_id r;

			if (n < 0)
				break;          /* EAGAIN: drained; anything else: retried on the next wake-up */
			if ((size_t)n < PKT_VNET_LEN) {
				STAT_INC(STAT_DROP_MALFORMED);
				continue;
			}
			STAT_INC(STAT_RX_PACKETS);
			STAT_ADD(STAT_RX_BYTES, (uint64_t)n - PKT_VNET_LEN);
			r = pkt_parse(&w->rx[np], buf, (uint32_t)n - PKT_VNET_LEN);
			if (r != STAT_NONE) {
				STAT_INC(r);
				continue;
			}
			if (w->rx[np].gso_size)
				STAT_INC(STAT_RX_GSO);
			np++;
		}
		if (np > 0) {
			w->now = conn_clock();
			core_use(w, w->id);     /* its own table: nobody else's, but for a moment */
			w->fragged = false;
			for (unsigned k = 0; k < np; k++)
				core_input(w, &w->rx[k]);
			if (w->fragged) {
				core_shared(w);
				ready = frag_ready();
			}
			core_unlock(w);
		}
		/* Queued frames point into the receive buffers: out before reuse. */
		xmit_flush(w);
		if (ready > 0)
			core_frag_replay(w);
		if (i < RX_BATCH)
			return;
	}
}

static void
core_on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t v;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("worker %u: stop event", w->id);
	event_base_loopbreak(w->base);
}

int
core_worker_init(struct worker *w, unsigned id, struct event_base *base, int tap_fd,
    struct conn_table *ct)
{
	w->id = id;
	w->tap_fd = tap_fd;
	w->stop_fd = -1;
	w->set = ct;
	w->nt = conn_shards(ct);
	w->ct = conn_shard(ct, w->nt ? id : 0);
	w->held = 0;
	w->shared = false;
	w->now = conn_clock();
	w->rxbuf = malloc((size_t)RX_BATCH * PKT_BUF_STRIDE);
	w->rx = calloc(RX_BATCH, sizeof(*w->rx));
	if (w->rxbuf == NULL || w->rx == NULL) {
		log_warn("receive buffers");
		return -1;
	}
	if (base == NULL) {
		w->own_base = 1;
		w->slot = 1 + id;
		w->base = event_base_new();
		if (w->base == NULL) {
			log_warnx("worker %u: cannot create its event loop", id);
			return -1;
		}
		w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (w->stop_fd < 0) {
			log_warn("worker %u: eventfd", id);
			return -1;
		}
		w->ev_stop = event_new(w->base, w->stop_fd, EV_READ | EV_PERSIST, core_on_stop, w);
		if (w->ev_stop == NULL || event_add(w->ev_stop, NULL) < 0) {
			log_warnx("worker %u: cannot watch its stop event", id);
			return -1;
		}
	} else {
		w->base = base;
		w->slot = 0;
	}
	w->ev_tap = event_new(w->base, tap_fd, EV_READ | EV_PERSIST, core_tap_read, w);
	if (w->ev_tap == NULL || event_add(w->ev_tap, NULL) < 0) {
		log_warnx("cannot watch the TAP");
		return -1;
	}
	return 0;
}

static void *
core_worker_main(void *arg)
{
	struct worker *w = arg;

	stats_mine = stats_slots[w->slot].v;
	if (event_base_dispatch(w->base) < 0)
		log_warnx("worker %u: event loop failed", w->id);
	return NULL;
}

int
core_worker_start(struct worker *w)
{
	sigset_t all, old;
	int rc;

	/* Signals are the main loop's: the thread starts with them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, core_worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warnx("worker %u: cannot start its thread: %s", w->id, strerror(rc));
		return -1;
	}
	w->running = 1;
	return 0;
}

void
core_worker_stop(struct worker *w)
{
	uint64_t one = 1;

	if (!w->running)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("worker %u: stop event", w->id);
	pthread_join(w->thread, NULL);
	w->running = 0;
}

void
core_worker_fini(struct worker *w)
{
	if (w->ev_tap)
		event_free(w->ev_tap);
	w->ev_tap = NULL;
	if (w->ev_stop)
		event_free(w->ev_stop);
	w->ev_stop = NULL;
	if (w->own_base && w->stop_fd >= 0)
		close(w->stop_fd);
	w->stop_fd = -1;
	if (w->own_base && w->base)
		event_base_free(w->base);
	w->base = NULL;
	free(w->rxbuf);
	w->rxbuf = NULL;
	free(w->rx);
	w->rx = NULL;
}
