/* synproxy.c - the TCP SYN proxy: the director answers the handshake with SYN cookies, then splices */
#include <arpa/inet.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "cliaddr.h"
#include "pkt.h"
#include "seqadj.h"
#include "siphash.h"
#include "stats.h"
#include "synproxy.h"
#include "tap.h"
#include "worker.h"

/* ---- cookies ---- */

/* As Linux's syncookie tables: common MSS values, smallest first. */
static const uint16_t sp_mss4[4] = { 536, 1300, 1440, 1460 };
static const uint16_t sp_mss6[4] = { 1220, 1280, 1420, 1440 };

#define SP_MAC_BITS 28u
#define SP_MAC_MASK ((1u << SP_MAC_BITS) - 1u)

/*
 * Two secrets, of period P at [P & 1]: the current one and the last.
 * Written and read under the shared lock (lock.h).
 */
static struct vsr_sipkey sp_key[2];
static uint32_t sp_key_period[2];
static int sp_key_set[2];
static int sp_fixed;            /* tests: the seed derives every period's key */
static struct vsr_sipkey sp_seed_key;

uint16_t
synproxy_mss(int af, unsigned idx)
{
	return (af == AF_INET6 ? sp_mss6 : sp_mss4)[idx & 3u];
}

unsigned
synproxy_mss_idx(int af, unsigned mss)
{
	const uint16_t *t = af == AF_INET6 ? sp_mss6 : sp_mss4;
	unsigned i = 3;

	while (i > 0 && t[i] > mss)
		i--;
	return i;
}

/* A fresh secret for period P. Never blocks: without entropy, clocks folded in. */
static void
sp_fresh(struct vsr_sipkey *k, uint32_t period)
{
	uint64_t r[2];
	struct timespec a;

	if (sp_fixed) {
		uint64_t w = period;
		k->k0 = vsr_siphash13(&sp_seed_key, &w, 1);
		w |= 1ull << 40;
		k->k1 = vsr_siphash13(&sp_seed_key, &w, 1);
		return;
	}
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r)) {
		k->k0 = r[0];
		k->k1 = r[1];
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t w[3] = { (uint64_t)a.tv_sec << 32 ^ (uint64_t)a.tv_nsec, period,
	    (uint64_t)(uintptr_t)&a };
	k->k0 = vsr_siphash13(&sp_key[period & 1u], w, 3) ^ sp_key[(period + 1) & 1u].k1;
	w[1] ^= k->k0;
	k->k1 = vsr_siphash13(&sp_key[period & 1u], w, 3);
}

/* The secret of period P, made when P is the newest; NULL when P's is gone. */
static const struct vsr_sipkey *
sp_key_for(uint32_t p, uint32_t now_p)
{
	unsigned i = p & 1u;

	if (p == now_p && (!sp_key_set[i] || sp_key_period[i] != p)) {
		sp_fresh(&sp_key[i], p);
		sp_key_period[i] = p;
		sp_key_set[i] = 1;
	}
	if (!sp_key_set[i] || sp_key_period[i] != p)
		return NULL;
	return &sp_key[i];
}

void
synproxy_init(uint32_t now)
{
	sp_fixed = 0;
	memset(sp_key_set, 0, sizeof(sp_key_set));
	(void)sp_key_for(now / SYNPROXY_PERIOD, now / SYNPROXY_PERIOD);
}

void
synproxy_seed(uint64_t k0, uint64_t k1, uint32_t now)
{
	sp_fixed = 1;
	sp_seed_key.k0 = k0;
	sp_seed_key.k1 = k1;
	memset(sp_key_set, 0, sizeof(sp_key_set));
	(void)sp_key_for(now / SYNPROXY_PERIOD, now / SYNPROXY_PERIOD);
}

static uint32_t
sp_mac(const struct vsr_sipkey *k, const struct synproxy_tuple *t, uint32_t isn, unsigned idx,
    uint32_t period)
{
	uint64_t w[6];

	memcpy(&w[0], t->caddr.b, 16);
	memcpy(&w[2], t->vaddr.b, 16);
	w[4] = (uint64_t)t->cport << 48 | (uint64_t)t->vport << 32 | isn;
	w[5] = (uint64_t)period << 8 | (uint64_t)idx << 4 | (t->af == AF_INET6);
	return (uint32_t)vsr_siphash13(k, w, 6) & SP_MAC_MASK;
}

uint32_t
synproxy_cookie(const struct synproxy_tuple *t, uint32_t isn, unsigned idx, uint32_t now)
{
	uint32_t p = now / SYNPROXY_PERIOD;
	const struct vsr_sipkey *k = sp_key_for(p, p);

	idx &= 3u;
	return (p & 3u) << 30 | idx << SP_MAC_BITS | sp_mac(k, t, isn, idx, p);
}

int
synproxy_cookie_check(const struct synproxy_tuple *t, uint32_t isn, uint32_t cookie,
    uint32_t now)
{
	uint32_t np = now / SYNPROXY_PERIOD;
	unsigned idx = (cookie >> SP_MAC_BITS) & 3u;

	for (uint32_t back = 0; back < 2; back++) {
		uint32_t p = np - back;
		const struct vsr_sipkey *k;

		if ((p & 3u) != cookie >> 30)
			continue;
		k = sp_key_for(p, np);
		if (k != NULL && sp_mac(k, t, isn, idx, p) == (cookie & SP_MAC_MASK))
			return (int)idx;
	}
	return -1;
}

/* ---- segments ---- */

/* The MSS option of the TCP header at TCP (DOFF bytes), or 0. */
static unsigned
sp_opt_mss(const uint8_t *tcp, unsigned doff)
{
	const uint8_t *opt = tcp + 20;
	unsigned at = 0;
	int i;

	if (doff <= 20)
		return 0;
	while ((i = tcp_opt_next(opt, doff - 20, &at)) >= 0)
		if (opt[i] == TCPOPT_MSS_ && opt[i + 1] == 4)
			return rd16(opt + i + 2);
	return 0;
}

/*
 * P becomes, in place, a TCP segment SRC:SPORT -> DST:DPORT without
 * payload: SEQ, ACK, FLAGS, WIN, the MSS option when MSS is not 0; a
 * plain IP header of P's family (TTL 64, IPv4 DF), complete checksums,
 * no offload. The Ethernet header stays; P's fields follow.
 */
static void
sp_build(struct pkt *p, const union vsr_addr *src, uint16_t sport, const union vsr_addr *dst,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, uint16_t mss)
{
	uint8_t *ip = p->data + p->l3off, *tcp;
	unsigned tl = mss ? 24u : 20u, ihl;
	uint32_t sum;
	uint16_t v;

	/* The caller's addresses may be P's own: copied before the header is written. */
	union vsr_addr s = *src, d = *dst;

	if (p->af == AF_INET6) {
		ihl = IP6_HLEN;
		memset(ip, 0, IP6_HLEN);
		ip[0] = 0x60;
		v = htons((uint16_t)tl);
		memcpy(ip + IP6_PLEN, &v, 2);
		ip[IP6_NXT] = IPPROTO_TCP;
		ip[IP6_HLIM] = 64;
		memcpy(ip + IP6_SADDR, s.b, 16);
		memcpy(ip + IP6_DADDR, d.b, 16);
	} else {
		ihl = IP4_HLEN;
		memset(ip, 0, IP4_HLEN);
		ip[IP4_VHL] = 0x45;
		v = htons((uint16_t)(IP4_HLEN + tl));
		memcpy(ip + IP4_TOTLEN, &v, 2);
		ip[IP4_FRAG] = IP4_DF;
		ip[IP4_TTL] = 64;
		ip[IP4_PROTO] = IPPROTO_TCP;
		memcpy(ip + IP4_SADDR, &s.ip, 4);
		memcpy(ip + IP4_DADDR, &d.ip, 4);
		v = csum_ip(ip, IP4_HLEN);
		memcpy(ip + IP4_CSUM, &v, 2);
	}
	tcp = ip + ihl;
	memset(tcp, 0, tl);
	memcpy(tcp, &sport, 2);
	memcpy(tcp + 2, &dport, 2);
	wr32(tcp + 4, seq);
	wr32(tcp + 8, ack);
	tcp[12] = (uint8_t)((tl / 4) << 4);
	tcp[13] = flags;
	v = htons(win);
	memcpy(tcp + 14, &v, 2);
	if (mss) {
		tcp[20] = 2;
		tcp[21] = 4;
		tcp[22] = (uint8_t)(mss >> 8);
		tcp[23] = (uint8_t)mss;
	}
	if (p->af == AF_INET6)
		sum = csum_partial(ip + IP6_SADDR, 32, IPPROTO_TCP + tl);
	else
		sum = csum_partial(ip + IP4_SADDR, 8, IPPROTO_TCP + tl);
	v = csum_fold(csum_partial(tcp, tl, sum));
	memcpy(tcp + 16, &v, 2);

	memset(p->buf, 0, PKT_VNET_LEN);
	p->l4off = (uint16_t)(p->l3off + ihl);
	p->l4len = (uint16_t)tl;
	p->len = p->l4off + tl;
	p->tcpflags = flags;
	p->csum = PKT_CSUM_FULL;
	p->gso_size = 0;
	p->df = 1;
	p->saddr = s;
	p->daddr = d;
	p->sport = sport;
	p->dport = dport;
}

static inline unsigned
sp_doff(const struct pkt *p)
{
	return (p->data[p->l4off + 12] >> 4) * 4u;
}

static inline uint16_t
sp_win(const struct pkt *p)
{
	const uint8_t *tcp = p->data + p->l4off;

	return (uint16_t)(tcp[14] << 8 | tcp[15]);
}

/* ---- the packet path ---- */

#define SP_F_ON    0x01       /* the flow is a synproxy one */
#define SP_F_WAIT  0x02       /* the SYN went to the real server; no SYN-ACK yet */

enum synproxy_verdict
synproxy_in_new(struct worker *w, struct pkt *p, uint32_t *cookie)
{
	const uint8_t *tcp = p->data + p->l4off;
	uint8_t fl = p->tcpflags & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN);
	struct synproxy_tuple t = { p->af, p->saddr, p->daddr, p->sport, p->dport };
	unsigned doff;
	uint32_t seq, ack;
	int idx;

	if (p->l4len < 20 || (doff = sp_doff(p)) < 20 || doff > p->l4len) {
		STAT_INC(STAT_DROP_MALFORMED);
		return SYNPROXY_DONE;
	}
	seq = rd32(tcp + 4);
	ack = rd32(tcp + 8);
	if (fl == TCPF_SYN) {
		unsigned i = synproxy_mss_idx(p->af, sp_opt_mss(tcp, doff) ?
		    sp_opt_mss(tcp, doff) : (p->af == AF_INET6 ? 1220u : 536u));
		uint32_t c = synproxy_cookie(&t, seq, i, w->now);
		uint8_t *eth = p->data;

		memcpy(eth, eth + 6, 6);
		memcpy(eth + 6, w->our_mac, 6);
		sp_build(p, &t.vaddr, t.vport, &t.caddr, t.cport, c, seq + 1,
		    TCPF_SYN | TCPF_ACK, 65535, synproxy_mss(p->af, i));
		if (tap_tx(w, p->buf, p->len) == 0)
			STAT_INC(STAT_SYNPROXY_COOKIES_SENT);
		return SYNPROXY_DONE;
	}
	if (fl != TCPF_ACK) {
		STAT_INC(STAT_DROP_NO_CONN);
		return SYNPROXY_DONE;
	}
	idx = synproxy_cookie_check(&t, seq - 1, ack - 1, w->now);
	if (idx < 0) {
		STAT_INC(STAT_SYNPROXY_ACK_INVALID);
		return SYNPROXY_DONE;
	}
	STAT_INC(STAT_SYNPROXY_ACK_VALID);
	if (p->l4len > doff)
		STAT_INC(STAT_SYNPROXY_DATA_DROPPED);
	*cookie = ack - 1;
	sp_build(p, &t.caddr, t.cport, &t.vaddr, t.vport, seq - 1, 0, TCPF_SYN, sp_win(p),
	    synproxy_mss(p->af, (unsigned)idx));
	return SYNPROXY_GO;
}

void
synproxy_conn_init(struct cliaddr_state *st, const struct pkt *p, uint32_t cookie)
{
	const uint8_t *tcp = p->data + p->l4off;

	st->sp_flags = SP_F_ON | SP_F_WAIT;
	st->sp_cisn = rd32(tcp + 4);
	st->sp_pisn = cookie;
	st->sp_win = sp_win(p);
	st->sp_mss = (uint16_t)sp_opt_mss(tcp, sp_doff(p));
}

/*
 * A flow this director proxied, or one a sync master proxied (its
 * sequence adjustment came with it, in a side state of no client-address
 * kind): either way spliced from here on.
 */
int
synproxy_flow(const struct cliaddr_state *st)
{
	return st != NULL && ((st->sp_flags & SP_F_ON) ||
	    (st->how == CA_NONE && seqadj_active(&st->sa)));
}

enum synproxy_verdict
synproxy_in(struct cliaddr_state *st, struct pkt *p)
{
	uint8_t *tcp = p->data + p->l4off;
	unsigned doff, sack = 0;

	if (p->l4len < 20 || (doff = sp_doff(p)) < 20 || doff > p->l4len) {
		STAT_INC(STAT_DROP_MALFORMED);
		return SYNPROXY_DONE;
	}
	if (st->sp_flags & SP_F_WAIT) {
		if (p->tcpflags & TCPF_RST)
			return SYNPROXY_GO;     /* its number is the client's ISN + 1, as the server's */
		/* The real server has not answered: the SYN again, the data for a retransmit. */
		if (p->l4len > doff)
			STAT_INC(STAT_SYNPROXY_DATA_DROPPED);
		STAT_INC(STAT_SYNPROXY_SYN_RESENT);
		sp_build(p, &p->saddr, p->sport, &p->daddr, p->dport, st->sp_cisn, 0, TCPF_SYN,
		    st->sp_win, st->sp_mss);
		return SYNPROXY_GO;
	}
	seqadj_tcp(&st->sa, SEQADJ_IN, tcp, doff,
	    p->csum == PKT_CSUM_PARTIAL ? NULL : (uint16_t *)(tcp + 16), &sack);
	if (sack)
		STAT_INC(STAT_SEQADJ_SACK);
	return SYNPROXY_GO;
}

int
synproxy_out(struct cliaddr_state *st, const struct synproxy_tuple *t, struct pkt *p)
{
	uint8_t *tcp = p->data + p->l4off;
	unsigned doff, sack = 0;
	uint32_t seq, ack;

	if (p->l4len < 20 || (doff = sp_doff(p)) < 20 || doff > p->l4len) {
		STAT_INC(STAT_DROP_MALFORMED);
		return SYNPROXY_DONE;
	}
	seq = rd32(tcp + 4);
	ack = rd32(tcp + 8);
	if ((p->tcpflags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == (TCPF_SYN | TCPF_ACK) &&
	    ack == st->sp_cisn + 1) {
		/* The real server's SYN-ACK (or its repeat): the client's numbers from now on. */
		if (st->sp_flags & SP_F_WAIT) {
			seqadj_offset(&st->sa.out, seq, st->sp_pisn - seq);
			st->sp_flags &= (uint8_t)~SP_F_WAIT;
			STAT_INC(STAT_SYNPROXY_SPLICED);
		}
		/* In the real server's numbers already: it goes on without a shift. */
		sp_build(p, &t->caddr, t->cport, &t->vaddr, t->vport, st->sp_cisn + 1, seq + 1,
		    TCPF_ACK, st->sp_win, 0);
		return SYNPROXY_TURNED;
	}
	if (st->sp_flags & SP_F_WAIT) {
		if (p->tcpflags & TCPF_RST) {
			/* Refused: the client must find the RST at the number it expects. */
			uint32_t old, new = htonl(st->sp_pisn + 1);
			memcpy(&old, tcp + 4, 4);
			if (p->csum != PKT_CSUM_PARTIAL)
				csum_replace4((uint16_t *)(tcp + 16), old, new);
			memcpy(tcp + 4, &new, 4);
			return SYNPROXY_GO;
		}
		STAT_INC(STAT_SYNPROXY_DATA_DROPPED);
		return SYNPROXY_DONE;
	}
	seqadj_tcp(&st->sa, SEQADJ_OUT, tcp, doff,
	    p->csum == PKT_CSUM_PARTIAL ? NULL : (uint16_t *)(tcp + 16), &sack);
	if (sack)
		STAT_INC(STAT_SEQADJ_SACK);
	return SYNPROXY_GO;
}

void
synproxy_icmp(const struct cliaddr_state *st, enum seqadj_way way, struct pkt *p)
{
	struct pkt_quoted q;
	uint8_t *tcp;
	uint32_t have;

	if (!synproxy_flow(st) || !seqadj_active(&st->sa) || pkt_parse_quoted(p, &q) < 0 ||
	    q.proto != IPPROTO_TCP)
		return;
	tcp = p->data + q.l4off;
	have = p->len - q.l4off;
	seqadj_quoted(&st->sa, way, tcp, have >= 18 ? (uint16_t *)(tcp + 16) : NULL);
}
