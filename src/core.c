/* core.c - the packet path: read frames from the TAP, look up or schedule, transmit */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arp.h"
#include "conn.h"
#include "core.h"
#include "laddr.h"
#include "link.h"
#include "log.h"
#include "sched.h"
#include "stats.h"
#include "svc.h"
#include "xmit.h"

#define ICMP_ECHOREPLY_   0
#define ICMP_UNREACH_     3
#define ICMP_SRCQUENCH_   4
#define ICMP_ECHO_        8
#define ICMP_TIMXCEED_    11
#define ICMP_PARAMPROB_   12

uint32_t
core_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec * CONN_HZ + (uint32_t)(ts.tv_nsec / (1000000000 / CONN_HZ));
}

int
core_tap_write(struct worker *w, uint8_t *buf, uint32_t len)
{
	ssize_t n = write(w->tap_fd, buf, PKT_VNET_LEN + len);

	if (n < 0 || (uint32_t)n != PKT_VNET_LEN + len) {
		STAT_INC(STAT_DROP_TX_ERROR);
		return -1;
	}
	STAT_INC(STAT_TX_PACKETS);
	STAT_ADD(STAT_TX_BYTES, len);
	return 0;
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
	uint32_t client = p->saddr & svc->netmask;
	struct conn *tpl = conn_template_lookup(w->ct, p->proto, client, p->daddr, p->dport);
	struct dest *d;

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
	*tplp = conn_template_new(w->ct, p->proto, client, p->daddr, p->dport, d,
	    svc->persistent, w->now);
	if (*tplp == NULL) {
		STAT_INC(STAT_DROP_TABLE_FULL);
		return NULL;
	}
	return d;
}

static struct conn *
core_schedule(struct worker *w, struct service *svc, const struct pkt *p)
{
	struct conn *c, *tpl = NULL;
	struct dest *d;

	if (svc->persistent)
		d = core_persist(w, svc, p, &tpl);      /* counts its own drops */
	else if ((d = svc->sched->schedule(svc, p, w->now)) == NULL)
		STAT_INC(STAT_DROP_NO_DEST);
	if (d == NULL)
		return NULL;
	struct conn_param cp = {
		.proto = p->proto,
		.caddr = p->saddr, .cport = p->sport,
		.vaddr = p->daddr, .vport = p->dport,
		.daddr = d->addr,  .dport = d->port,
		.laddr = p->saddr, .lport = p->sport,
		/* Replies bypass the director in dr and tun. */
		.flags = (d->fwd == FWD_DR || d->fwd == FWD_TUN) ? CONN_F_NOOUTPUT : CONN_F_HASH_OUT,
	};
	/* fullnat: the client's side is a (local address, port) of ours. */
	if (d->fwd == FWD_FULLNAT &&
	    laddr_alloc(w->ct, p->proto, d->addr, d->port, &cp.laddr, &cp.lport) < 0)
		return NULL;    /* counted */
	c = conn_new(w->ct, &cp, d, w->now);
	if (c == NULL) {
		STAT_INC(STAT_DROP_TABLE_FULL);
		return NULL;
	}
	if (tpl != NULL)
		conn_set_control(w->ct, c, tpl, w->now);
	svc->stats.conns++;
	return c;
}

static void
core_account_in(struct conn *c, const struct pkt *p)
{
	struct dest *d = c->dest;
	uint32_t bytes = p->len - p->l3off;

	d->stats.inpkts++;
	d->stats.inbytes += bytes;
	if (d->svc) {
		d->svc->stats.inpkts++;
		d->svc->stats.inbytes += bytes;
	}
}

static void
core_account_out(struct conn *c, const struct pkt *p)
{
	struct dest *d = c->dest;
	uint32_t bytes = p->len - p->l3off;

	d->stats.outpkts++;
	d->stats.outbytes += bytes;
	if (d->svc) {
		d->svc->stats.outpkts++;
		d->svc->stats.outbytes += bytes;
	}
}

/* Echo request to a VIP: turned around in place and written back into the TAP. */
static void
core_icmp_echo(struct worker *w, struct pkt *p)
{
	uint8_t *eth = p->data;
	uint8_t *ip = p->data + p->l3off;
	uint8_t *icmp = p->data + p->l4off;
	uint16_t *ipsum = (uint16_t *)(ip + 10);
	uint16_t *icsum = (uint16_t *)(icmp + 2);
	uint16_t old, new;

	memcpy(eth, eth + 6, 6);
	memcpy(eth + 6, w->our_mac, 6);
	memcpy(ip + 12, &p->daddr, 4);
	memcpy(ip + 16, &p->saddr, 4);
	/* TTL 64 (shares a 16-bit word with the protocol). */
	memcpy(&old, ip + 8, 2);
	ip[8] = 64;
	memcpy(&new, ip + 8, 2);
	csum_replace2(ipsum, old, new);
	/* Type 8 -> 0 (shares a word with the code). */
	memcpy(&old, icmp, 2);
	icmp[0] = ICMP_ECHOREPLY_;
	memcpy(&new, icmp, 2);
	csum_replace2(icsum, old, new);
	memset(p->buf, 0, PKT_VNET_LEN);
	if (core_tap_write(w, p->buf, p->len) == 0)
		STAT_INC(STAT_ICMP_ECHO_REPLIES);
}

static void
core_icmp(struct worker *w, struct pkt *p)
{
	uint8_t type = p->data[p->l4off];
	struct pkt_quoted q;
	struct conn *c;

	switch (type) {
	case ICMP_ECHO_:
		if (svc_is_vip(p->daddr)) {
			core_icmp_echo(w, p);
			return;
		}
		break;
	case ICMP_UNREACH_:
	case ICMP_SRCQUENCH_:
	case ICMP_TIMXCEED_:
	case ICMP_PARAMPROB_:
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
		if (!svc_is_vip(p->daddr)) {
			/*
			 * From a nat/fullnat real server's side, toward the
			 * client or a local address: about a packet
			 * client/LIP -> RIP that we sent.
			 */
			c = conn_lookup_out(w->ct, q.proto, q.daddr, q.dport, q.saddr, q.sport);
			if (c == NULL)
				break;
			core_account_out(c, p);
			STAT_INC(STAT_ICMP_RELAYED);
			xmit_out_table[c->xmit_id](w, c, p);
			return;
		}
		c = conn_lookup_in(w->ct, q.proto, q.daddr, q.dport, q.saddr, q.sport);
		if (c == NULL)
			break;
		core_account_in(c, p);
		STAT_INC(STAT_ICMP_RELAYED);
		xmit_table[c->xmit_id](w, c, p);
		return;
	default:
		break;
	}
	/*
	 * A nat real server's own ICMP (the rules steer all of it here) that
	 * is about no connection goes back to the kernel as it came; never
	 * toward a local address, which is routed into the TAP again.
	 */
	if (!svc_is_local_address(p->daddr)) {
		memcpy(p->data, w->tap_mac, 6);
		memcpy(p->data + 6, w->our_mac, 6);
		memset(p->buf, 0, PKT_VNET_LEN);
		if (core_tap_write(w, p->buf, p->len) == 0)
			STAT_INC(STAT_ICMP_PASSED);
		return;
	}
	STAT_INC(STAT_DROP_ICMP);
}

/* A frame toward no VIP: a nat/fullnat real server's reply to a client or a LIP. */
static void
core_reply(struct worker *w, struct pkt *p)
{
	struct conn *c = conn_lookup_out(w->ct, p->proto, p->saddr, p->sport, p->daddr, p->dport);

	if (c == NULL) {
		STAT_INC(STAT_DROP_NO_CONN_OUT);
		return;
	}
	if (p->proto == IPPROTO_TCP)
		conn_tcp_update(w->ct, c, DIR_OUTPUT, p->tcpflags, w->now);
	else
		conn_touch(w->ct, c, w->now);
	core_account_out(c, p);
	xmit_out_table[c->xmit_id](w, c, p);
}

void
core_input(struct worker *w, struct pkt *p)
{
	struct conn *c;

	if (p->ethtype == ETHTYPE_ARP) {
		arp_tap_input(w, p);
		return;
	}
	if (p->proto == IPPROTO_ICMP) {
		core_icmp(w, p);
		return;
	}
	if (!svc_is_vip(p->daddr)) {
		core_reply(w, p);
		return;
	}

	/* Existing flows first: they keep flowing whatever the services are now. */
	c = conn_lookup_in(w->ct, p->proto, p->saddr, p->sport, p->daddr, p->dport);
	if (c != NULL && p->proto == IPPROTO_TCP && tcp_is_new(p)) {
		/* A closing connection, or one to a real server down: scheduled anew. */
		enum stat_id why = conn_tcp_syn_reschedule(c);
		if (why != STAT_NONE) {
			conn_expire_now(w->ct, c);
			STAT_INC(why);
			c = NULL;
		}
	}
	if (c == NULL) {
		struct service *svc = svc_lookup(p->proto, p->daddr, p->dport);
		if (svc == NULL) {
			STAT_INC(STAT_DROP_NO_SERVICE);
			return;
		}
		/* TCP flows start with a SYN; anything else without state is stray. */
		if (p->proto == IPPROTO_TCP && !tcp_is_new(p)) {
			STAT_INC(STAT_DROP_NO_CONN);
			return;
		}
		c = core_schedule(w, svc, p);
		if (c == NULL)
			return;
	}

	if (p->proto == IPPROTO_TCP)
		conn_tcp_update(w->ct, c, DIR_INPUT, p->tcpflags, w->now);
	else
		conn_touch(w->ct, c, w->now);
	core_account_in(c, p);
	xmit_table[c->xmit_id](w, c, p);
}

static void
core_tap_read(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)what;
	w->now = core_clock();
	for (int b = 0; b < RX_BUDGET; b++) {
		unsigned i;
		for (i = 0; i < RX_BATCH; i++) {
			uint8_t *buf = w->rxbuf + (size_t)i * PKT_BUF_STRIDE;
			ssize_t n = read(fd, buf, PKT_BUF_SIZE);
			struct pkt p;
			enum stat_id r;

			if (n < 0)
				break;          /* EAGAIN: drained; anything else: retried on the next wake-up */
			if ((size_t)n < PKT_VNET_LEN) {
				STAT_INC(STAT_DROP_MALFORMED);
				continue;
			}
			STAT_INC(STAT_RX_PACKETS);
			STAT_ADD(STAT_RX_BYTES, (uint64_t)n - PKT_VNET_LEN);
			r = pkt_parse(&p, buf, (uint32_t)n - PKT_VNET_LEN);
			if (r != STAT_NONE) {
				STAT_INC(r);
				continue;
			}
			if (p.gso_size)
				STAT_INC(STAT_RX_GSO);
			core_input(w, &p);
		}
		/* Queued frames point into the receive buffers: out before reuse. */
		link_flush_all();
		xmit_tun_flush();
		if (i < RX_BATCH)
			return;
	}
}

int
core_worker_init(struct worker *w, struct event_base *base, int tap_fd, struct conn_table *ct)
{
	w->base = base;
	w->tap_fd = tap_fd;
	w->ct = ct;
	w->now = core_clock();
	w->rxbuf = malloc((size_t)RX_BATCH * PKT_BUF_STRIDE);
	if (w->rxbuf == NULL) {
		log_warn("receive buffers");
		return -1;
	}
	w->ev_tap = event_new(base, tap_fd, EV_READ | EV_PERSIST, core_tap_read, w);
	if (w->ev_tap == NULL || event_add(w->ev_tap, NULL) < 0) {
		log_warnx("cannot watch the TAP");
		return -1;
	}
	return 0;
}

void
core_worker_fini(struct worker *w)
{
	if (w->ev_tap)
		event_free(w->ev_tap);
	w->ev_tap = NULL;
	free(w->rxbuf);
	w->rxbuf = NULL;
}
