/* tunnel.c - tunnel output: raw IPIP, ip6ip6, GRE and GUE (UDP) sockets, packets queued per worker, sent in batches */
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batch.h"
#include "conf.h"
#include "pkt.h"
#include "pkt6.h"
#include "stats.h"
#include "tunnel.h"
#include "worker.h"

#define TUNNEL_TXQ     64      /* packets per sendmmsg() */
#define TUNNEL_GRE_HLEN 4      /* GRE without key, checksum or sequence number */
#define TUNNEL_GRE_KEY  4      /* and the key after it, when there is one (RFC 2890) */
#define TUNNEL_GRE_F_K  0x20   /* first byte of the GRE header: a key follows */
#define TUNNEL_SNDBUF  (4 * 1024 * 1024)

/* Queue q is worker q's: there must be one for each worker the config allows. */
_Static_assert(TUNNEL_QUEUES >= CONF_WORKERS_MAX, "a tunnel output queue per worker");

/*
 * One raw socket per family and tunnel protocol, without IP_HDRINCL: the
 * kernel writes the outer IPv4 or IPv6 header (source: the route's
 * preferred source toward the real server, i.e. the director's address
 * on that path; TTL or hop limit and ID its own), routes it, via a
 * gateway if need be, and fragments it when it is larger than the
 * route's MTU: IP_PMTUDISC_DONT (IPV6_PMTUDISC_DONT), so the outer IPv4
 * header never carries DF and an outer IPv6 packet is fragmented by us,
 * its source, as RFC 2473 has a tunnel entry point do below the minimum
 * MTU. With IP_HDRINCL it would refuse instead (EMSGSIZE) and we would
 * have to fragment ourselves. That no router may fragment the inner
 * packet is honoured before it is queued (xmit_tun.c). The inner packet
 * goes out from the receive buffer, with the GRE header (if any) written
 * into the headroom before it: no copy.
 *
 * A raw socket takes no virtio-net header, so a GSO super-frame (TAP
 * offloads on) is cut at the flush into TCP segments of gso_size: each
 * batch slot has room for one segment's headers (GRE, IP, TCP), written
 * by pkt_gso_segment(), and the segment goes out as two pieces, its
 * headers and its slice of the payload left in the receive buffer. A
 * partial checksum of a packet that is not a super-frame is completed in
 * place. All of it after the batch, outside the data-path lock: the
 * queue holds the packets of one batch, whatever number of segments they
 * make.
 */
/*
 * GUE goes through a raw UDP socket the same way: the UDP and GUE headers
 * are ours, so that the source port can follow the inner flow (as IPVS's
 * does; a UDP socket would have one port), the IP header the kernel's.
 * Over IPv4 the UDP checksum is ours too, with the route's preferred
 * source in the pseudo-header, or 0 (ipvsadm's default --tun-nocsum);
 * over IPv6 the kernel always computes it (IPV6_CHECKSUM): a zero UDP
 * checksum over IPv6 is dropped by receivers that have not asked for it
 * (RFC 6936), vsrtun's kernel among them.
 *
 * With remote checksum offload (tunnel_csum = remcsum, --tun-remcsum) a
 * packet whose TCP or UDP checksum came partial from the TAP (virtio-net
 * NEEDS_CSUM, and every GSO super-frame) is not completed here: its
 * field keeps the pseudo-header sum, and GUE's private flags and remote
 * checksum option tell the real server where the sum starts and where it
 * goes (as the kernel's IPVS and fou: start and field from the start of
 * the inner packet). The outer UDP checksum is written as with csum, as
 * IPVS does: the real server derives the inner one from it, and the
 * packet stays covered on the way. A super-frame's segments get their
 * pseudo-header sums alone (pkt_gso_segment_partial); a packet already
 * complete goes without the option, as the kernel sends it.
 */
#define TUNNEL_TUN_HDR_MAX (TUNNEL_UDP_HLEN + TUNNEL_GUE_HLEN + TUNNEL_GUE_REMCSUM_LEN)
_Static_assert(TUNNEL_TUN_HDR_MAX >= TUNNEL_GRE_HLEN + TUNNEL_GRE_KEY, "room for GRE's header");
/* A packet's tunnel headers are written where its virtio-net and Ethernet headers were. */
_Static_assert(PKT_VNET_LEN + ETH_HLEN_ >= TUNNEL_TUN_HDR_MAX, "headroom for the tunnel header");
#define TUNNEL_SEG_HDR (TUNNEL_TUN_HDR_MAX + PKT_GSO_SEG_HDR)


union tunnel_sa {
	struct sockaddr_in  v4;
	struct sockaddr_in6 v6;
};

struct tunnel_txq {             /* one per worker: queued without a lock */
	unsigned           npkts;   /* the batch's packets */
	struct pkt         pkts[RX_BATCH];
	struct tunnel_peer peer[RX_BATCH];
	uint16_t           sport[RX_BATCH]; /* GUE: the UDP source port, host order */
	unsigned           ntx;     /* the sendmmsg() batch, filled at the flush */
	union tunnel_sa    sa[TUNNEL_TXQ];
	struct mmsghdr     msgs[TUNNEL_TXQ];
	struct iovec       iov[TUNNEL_TXQ][2];
	uint8_t            hdr[TUNNEL_TXQ][TUNNEL_SEG_HDR];
};

struct tunnel_sock {
	int                fd;
	struct tunnel_txq  q[TUNNEL_QUEUES];
};

/*
 * Per family (IPv4, IPv6) and tunnel type, allocated with its socket on
 * first use (a tunnel not used costs nothing), freed at tunnel_close(). A
 * worker reads the pointer outside the lock (tunnel_flush_all): it is
 * published, with release, once the socket and its queues are set up.
 */
static struct tunnel_sock *tunnel_socks[2][TUNNEL_MAX];

/* What differs between the families: the outer header, the protocols. */
static const struct {
	int      af;
	unsigned hlen;                  /* the outer header */
	int      proto[TUNNEL_MAX];     /* the raw sockets' protocols */
	uint16_t gre_type;              /* GRE's protocol type of the inner packet */
	int      level, mtu_opt, pmtu_dont;
} tunnel_fam[2] = {
	{ AF_INET,  20, { [TUNNEL_IPIP] = IPPROTO_IPIP, [TUNNEL_GRE] = IPPROTO_GRE,
	  [TUNNEL_GUE] = IPPROTO_UDP },
	  ETHTYPE_IPV4, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT },
	{ AF_INET6, 40, { [TUNNEL_IPIP] = IPPROTO_IPV6, [TUNNEL_GRE] = IPPROTO_GRE,
	  [TUNNEL_GUE] = IPPROTO_UDP },
	  ETHTYPE_IPV6, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT },
};

static inline unsigned
tunnel_f(int af)
{
	return af == AF_INET6;
}

unsigned
tunnel_overhead(int af, enum tunnel_type t, bool keyed)
{
	return tunnel_fam[tunnel_f(af)].hlen +
	    (t == TUNNEL_GRE ? TUNNEL_GRE_HLEN + (keyed ? TUNNEL_GRE_KEY : 0) :
	    t == TUNNEL_GUE ? TUNNEL_UDP_HLEN + TUNNEL_GUE_HLEN : 0);
}

/* The bytes between the outer IP header and the inner packet, the remote checksum option aside. */
static unsigned
tunnel_hdr_len(enum tunnel_type t, bool keyed)
{
	return tunnel_overhead(AF_INET, t, keyed) - tunnel_fam[0].hlen;
}

/*
 * Remote checksum offload for P toward PEER: where its checksum starts
 * and where its field is, from the start of the inner packet, in *CSTART
 * and *COFF, and 1; 0 when P goes without the option (complete, or the
 * peer not asking for it).
 */
static int
tunnel_remcsum(const struct tunnel_peer *peer, const struct pkt *p, unsigned *cstart,
    unsigned *coff)
{
	if (peer->csum != TUNNEL_CSUM_REMCSUM || p->csum != PKT_CSUM_PARTIAL)
		return 0;
	*cstart = (unsigned)(p->l4off - p->l3off);
	*coff = *cstart + (p->proto == IPPROTO_TCP ? 16u : 6u);
	return 1;
}

uint16_t
tunnel_gue_sport(const struct pkt *p)
{
	uint32_t w[10], h = 0x9e3779b9u;
	unsigned n = 0, alen = p->af == AF_INET6 ? 4 : 1;

	memcpy(w + n, &p->saddr, alen * 4);
	n += alen;
	memcpy(w + n, &p->daddr, alen * 4);
	n += alen;
	w[n++] = (uint32_t)p->sport << 16 | p->dport;
	w[n++] = p->proto;
	for (unsigned i = 0; i < n; i++) {
		h ^= w[i];
		h *= 0x85ebca6bu;
		h ^= h >> 13;
	}
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	/* The ephemeral range Linux uses by default, 32768 .. 60999, as udp_flow_src_port. */
	return (uint16_t)(32768 + h % (61000 - 32768));
}

int
tunnel_open(int af, enum tunnel_type t)
{
	unsigned f = tunnel_f(af);
	struct tunnel_sock *ts = NULL;
	/* A raw socket of a protocol also receives it: drop all, we only send. */
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	int pmtu = tunnel_fam[f].pmtu_dont, sndbuf = TUNNEL_SNDBUF;
	int fd;

	if (tunnel_socks[f][t] != NULL)
		return 0;
	fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, tunnel_fam[f].proto[t]);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, tunnel_fam[f].level, tunnel_fam[f].mtu_opt, &pmtu, sizeof(pmtu)) < 0 ||
	    (ts = calloc(1, sizeof(*ts))) == NULL) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	ts->fd = fd;
	/*
	 * IPv6 routers never fragment: the kernel must learn the path MTU
	 * toward each real server from the "packet too big" the routers send
	 * back, to fragment our outer packets to it. For a raw socket that is
	 * not connected it does so only with IPV6_RECVERR, which also queues
	 * the errors to us: tunnel_errors() reads them off now and then.
	 */
	if ((f && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &(int){ 1 }, sizeof(int)) < 0) ||
	    (f && t == TUNNEL_GUE &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &(int){ 6 }, sizeof(int)) < 0)) {
		int e = errno;
		close(fd);
		free(ts);
		errno = e;
		return -1;
	}
	/* Room for a batch of full-sized packets; best effort. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (unsigned k = 0; k < TUNNEL_QUEUES; k++) {
		struct tunnel_txq *q = &ts->q[k];
		for (unsigned i = 0; i < TUNNEL_TXQ; i++) {
			memset(&q->sa[i], 0, sizeof(q->sa[i]));
			q->sa[i].v4.sin_family = (sa_family_t)af;
			q->msgs[i].msg_hdr.msg_name = &q->sa[i];
			q->msgs[i].msg_hdr.msg_namelen = f ? sizeof(q->sa[i].v6) : sizeof(q->sa[i].v4);
			q->msgs[i].msg_hdr.msg_iov = q->iov[i];
			q->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		q->npkts = 0;
		q->ntx = 0;
	}
	/* Workers read it outside the lock (tunnel_flush_all): published last. */
	__atomic_store_n(&tunnel_socks[f][t], ts, __ATOMIC_RELEASE);
	return 0;
}

int
tunnel_tx(enum tunnel_type t, unsigned q, const struct tunnel_peer *peer, const struct pkt *p)
{
	/* The real server's binding opened it: never NULL here. */
	struct tunnel_txq *tq = &tunnel_socks[tunnel_f(p->af)][t]->q[q];

	/* Never in the daemon: a batch queues at most RX_BATCH packets. */
	if (tq->npkts == RX_BATCH) {
		STAT_INC(STAT_DROP_TUN_TX_ERROR);
		return -1;
	}
	tq->pkts[tq->npkts] = *p;
	tq->peer[tq->npkts] = *peer;
	if (t == TUNNEL_GUE)
		tq->sport[tq->npkts] = tunnel_gue_sport(p);
	tq->npkts++;
	return 0;
}

/*
 * GRE version 0, protocol TYPE, the inner packet's (RFC 2784), and the key
 * when KEYED (RFC 2890).
 */
static void
tunnel_gre_hdr(uint8_t *at, uint16_t type, bool keyed, uint32_t key)
{
	at[0] = keyed ? TUNNEL_GRE_F_K : 0;
	at[1] = 0;
	at[2] = (uint8_t)(type >> 8);
	at[3] = (uint8_t)type;
	if (keyed)
		memcpy(at + TUNNEL_GRE_HLEN, &key, TUNNEL_GRE_KEY);
}

/* Destination of batch slot I: the real server K's address, of the queue's family. */
static void
tunnel_dest(struct tunnel_txq *q, unsigned f, unsigned i, unsigned k)
{
	if (f)
		q->sa[i].v6.sin6_addr = q->peer[k].addr.in6;
	else
		q->sa[i].v4.sin_addr.s_addr = q->peer[k].addr.ip;
}

/*
 * UDP's and GUE's headers at AT for packet K of Q (family F), LEN bytes
 * of UDP in all, GUE's remote checksum option when CSTART is not 0; the
 * checksum over IPv4 when asked, over AT's HLEN bytes and then PAY's
 * PLEN (the segment's payload, or nothing).
 */
static void
tunnel_gue_write(struct tunnel_txq *q, unsigned f, unsigned k, uint8_t *at, uint32_t len,
    uint32_t hlen, const uint8_t *pay, uint32_t plen, unsigned cstart, unsigned coff)
{
	const struct tunnel_peer *pe = &q->peer[k];
	uint16_t sport = htons(q->sport[k]), ulen = htons((uint16_t)len), check = 0;

	memcpy(at, &sport, 2);
	memcpy(at + 2, &pe->port, 2);
	memcpy(at + 4, &ulen, 2);
	memset(at + 6, 0, 2);   /* IPv6: the kernel's (IPV6_CHECKSUM) */
	tunnel_gue_hdr(at + TUNNEL_UDP_HLEN, f ? AF_INET6 : AF_INET, cstart, coff);
	if (f || pe->csum == TUNNEL_CSUM_NONE)
		return;
	uint8_t ph[12];
	memcpy(ph, &pe->src.ip, 4);
	memcpy(ph + 4, &pe->addr.ip, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP;
	memcpy(ph + 10, &ulen, 2);
	uint32_t sum = csum_partial(ph, sizeof(ph), 0);
	sum = csum_partial(at, hlen, sum);
	if (plen)
		sum = csum_partial(pay, plen, sum);
	check = csum_fold(sum);
	if (check == 0)
		check = 0xffff;         /* RFC 768: 0 would say "no checksum" */
	memcpy(at + 6, &check, 2);
}

/* One more message in Q's sendmmsg() batch; a full batch is sent. */
static void
tunnel_push(int fd, struct tunnel_txq *q, unsigned niov)
{
	q->msgs[q->ntx].msg_hdr.msg_iovlen = niov;
	if (++q->ntx == TUNNEL_TXQ) {
		batch_send(fd, q->msgs, q->ntx, 0, STAT_DROP_TUN_TX_ERROR);
		q->ntx = 0;
	}
}

static void
tunnel_flush(int fd, unsigned f, enum tunnel_type t, struct tunnel_txq *q)
{
	uint16_t gre_type = tunnel_fam[f].gre_type;

	for (unsigned k = 0; k < q->npkts; k++) {
		struct pkt *p = &q->pkts[k];
		/* GRE's header, or UDP's and GUE's: before the inner packet. */
		unsigned gre = tunnel_hdr_len(t, q->peer[k].keyed), cstart = 0, coff = 0;
		int rem = t == TUNNEL_GUE && tunnel_remcsum(&q->peer[k], p, &cstart, &coff);

		if (rem)
			gre += TUNNEL_GUE_REMCSUM_LEN;
		if (p->gso_size) {
			unsigned n = pkt_gso_count(p);
			for (unsigned s = 0; s < n; s++) {
				unsigned i = q->ntx;
				const uint8_t *pay;
				uint32_t plen, hlen;

				hlen = rem ? pkt_gso_segment_partial(p, s, q->hdr[i] + gre, &pay, &plen) :
				    pkt_gso_segment(p, s, q->hdr[i] + gre, &pay, &plen);
				if (t == TUNNEL_GRE)
					tunnel_gre_hdr(q->hdr[i], gre_type, q->peer[k].keyed,
					    q->peer[k].key);
				else if (t == TUNNEL_GUE)
					tunnel_gue_write(q, f, k, q->hdr[i], gre + hlen + plen,
					    gre + hlen, pay, plen, cstart, coff);
				tunnel_dest(q, f, i, k);
				q->iov[i][0].iov_base = q->hdr[i];
				q->iov[i][0].iov_len = gre + hlen;
				q->iov[i][1].iov_base = (void *)(uintptr_t)pay;
				q->iov[i][1].iov_len = plen;
				tunnel_push(fd, q, 2);
			}
			STAT_ADD(STAT_TUN_SEGMENTS, n);
			continue;
		}
		if (p->csum == PKT_CSUM_PARTIAL && !rem)
			pkt_csum_finish(p);
		/* The headroom (the virtio-net and Ethernet headers' place) holds the tunnel header. */
		uint8_t *ip = p->data + p->l3off - gre;
		uint32_t ilen = p->len - p->l3off;
		if (t == TUNNEL_GRE)
			tunnel_gre_hdr(ip, gre_type, q->peer[k].keyed, q->peer[k].key);
		else if (t == TUNNEL_GUE)
			tunnel_gue_write(q, f, k, ip, gre + ilen, gre + ilen, NULL, 0, cstart, coff);
		unsigned i = q->ntx;
		tunnel_dest(q, f, i, k);
		q->iov[i][0].iov_base = ip;
		q->iov[i][0].iov_len = p->len - p->l3off + gre;
		tunnel_push(fd, q, 1);
	}
	if (q->ntx)
		batch_send(fd, q->msgs, q->ntx, 0, STAT_DROP_TUN_TX_ERROR);
	q->ntx = 0;
	q->npkts = 0;
}

void
tunnel_flush_all(unsigned q)
{
	for (unsigned f = 0; f < 2; f++) {
		for (unsigned t = 0; t < TUNNEL_MAX; t++) {
			struct tunnel_sock *ts = __atomic_load_n(&tunnel_socks[f][t],
			    __ATOMIC_ACQUIRE);

			if (ts != NULL && ts->q[q].npkts != 0)
				tunnel_flush(ts->fd, f, (enum tunnel_type)t, &ts->q[q]);
		}
	}
}

unsigned
tunnel_errors(void)
{
	uint8_t buf[256], ctl[256];
	unsigned n = 0;

	for (unsigned t = 0; t < TUNNEL_MAX; t++) {
		struct tunnel_sock *ts = tunnel_socks[1][t];
		if (ts == NULL)
			continue;
		for (unsigned k = 0; k < 1024; k++) {
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
			if (recvmsg(ts->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
				break;
			n++;
		}
	}
	return n;
}

void
tunnel_close(void)
{
	/* After the workers: nothing is queued or read any more. */
	for (unsigned f = 0; f < 2; f++) {
		for (unsigned t = 0; t < TUNNEL_MAX; t++) {
			struct tunnel_sock *ts = tunnel_socks[f][t];
			if (ts == NULL)
				continue;
			close(ts->fd);
			free(ts);
			tunnel_socks[f][t] = NULL;
		}
	}
}
