/* tunnel.c - tunnel output: raw IPIP and GRE sockets, packets queued per worker, sent in batches */
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batch.h"
#include "conf.h"
#include "pkt.h"
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
 * One raw socket per tunnel protocol, without IP_HDRINCL: the kernel
 * writes the outer IPv4 header (source: the route's preferred source
 * toward the real server, i.e. the director's address on that path; TTL
 * and ID its own), routes it, via a gateway if need be, and fragments it
 * when it is larger than the route's MTU: IP_PMTUDISC_DONT, so the outer
 * header never carries DF. With IP_HDRINCL it would refuse instead
 * (EMSGSIZE) and we would have to fragment ourselves. DF of the inner
 * packet is honoured before it is queued (xmit_tun.c). The inner packet
 * goes out from the receive buffer, with the GRE header (if any) written
 * into the headroom before it: no copy.
 *
 * A raw socket takes no virtio-net header, so a GSO super-frame (TAP
 * offloads on) is cut at the flush into TCP segments of gso_size: each
 * batch slot has room for one segment's headers (GRE, IPv4, TCP), written
 * by pkt_gso_segment(), and the segment goes out as two pieces, its
 * headers and its slice of the payload left in the receive buffer. A
 * partial checksum of a packet that is not a super-frame is completed in
 * place. All of it after the batch, outside the data-path lock: the
 * queue holds the packets of one batch, whatever number of segments they
 * make.
 */
#define TUNNEL_SEG_HDR (TUNNEL_GRE_HLEN + TUNNEL_GRE_KEY + PKT_GSO_SEG_HDR)

struct tunnel_txq {             /* one per worker: queued without a lock */
	unsigned           npkts;   /* the batch's packets */
	struct pkt         pkts[RX_BATCH];
	uint32_t           daddr[RX_BATCH];
	uint32_t           key[RX_BATCH];   /* GRE: network order, when keyed */
	bool               keyed[RX_BATCH];
	unsigned           ntx;     /* the sendmmsg() batch, filled at the flush */
	struct sockaddr_in sa[TUNNEL_TXQ];
	struct mmsghdr     msgs[TUNNEL_TXQ];
	struct iovec       iov[TUNNEL_TXQ][2];
	uint8_t            hdr[TUNNEL_TXQ][TUNNEL_SEG_HDR];
};

struct tunnel_sock {
	int                fd;
	struct tunnel_txq  q[TUNNEL_QUEUES];
};

static struct tunnel_sock tunnel_socks[TUNNEL_MAX] = {
	[TUNNEL_IPIP] = { .fd = -1 },
	[TUNNEL_GRE]  = { .fd = -1 },
};

static const unsigned tunnel_overheads[TUNNEL_MAX] = {
	[TUNNEL_IPIP] = 20,
	[TUNNEL_GRE]  = 20 + TUNNEL_GRE_HLEN,
};

static const int tunnel_proto[TUNNEL_MAX] = {
	[TUNNEL_IPIP] = IPPROTO_IPIP,
	[TUNNEL_GRE]  = IPPROTO_GRE,
};

unsigned
tunnel_overhead(enum tunnel_type t, bool keyed)
{
	return tunnel_overheads[t] + (t == TUNNEL_GRE && keyed ? TUNNEL_GRE_KEY : 0);
}

int
tunnel_open(enum tunnel_type t)
{
	struct tunnel_sock *ts = &tunnel_socks[t];
	/* A raw socket of a protocol also receives it: drop all, we only send. */
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	int pmtu = IP_PMTUDISC_DONT, sndbuf = TUNNEL_SNDBUF;
	int fd;

	if (ts->fd >= 0)
		return 0;
	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, tunnel_proto[t]);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* Room for a batch of full-sized packets; best effort. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (unsigned k = 0; k < TUNNEL_QUEUES; k++) {
		struct tunnel_txq *q = &ts->q[k];
		for (unsigned i = 0; i < TUNNEL_TXQ; i++) {
			q->sa[i].sin_family = AF_INET;
			q->msgs[i].msg_hdr.msg_name = &q->sa[i];
			q->msgs[i].msg_hdr.msg_namelen = sizeof(q->sa[i]);
			q->msgs[i].msg_hdr.msg_iov = q->iov[i];
			q->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		q->npkts = 0;
		q->ntx = 0;
	}
	/* Workers read it outside the lock (tunnel_flush_all): published last. */
	__atomic_store_n(&ts->fd, fd, __ATOMIC_RELEASE);
	return 0;
}

int
tunnel_tx(enum tunnel_type t, unsigned q, uint32_t daddr, bool keyed, uint32_t key,
    const struct pkt *p)
{
	struct tunnel_txq *tq = &tunnel_socks[t].q[q];

	/* Never in the daemon: a batch queues at most RX_BATCH packets. */
	if (tq->npkts == RX_BATCH) {
		STAT_INC(STAT_DROP_TUN_TX_ERROR);
		return -1;
	}
	tq->pkts[tq->npkts] = *p;
	tq->daddr[tq->npkts] = daddr;
	tq->keyed[tq->npkts] = keyed;
	tq->key[tq->npkts] = key;
	tq->npkts++;
	return 0;
}

/* GRE version 0, protocol IPv4 (RFC 2784), and the key when KEYED (RFC 2890). */
static void
tunnel_gre_hdr(uint8_t *at, bool keyed, uint32_t key)
{
	at[0] = keyed ? TUNNEL_GRE_F_K : 0;
	at[1] = 0;
	at[2] = ETHTYPE_IPV4 >> 8;
	at[3] = ETHTYPE_IPV4 & 0xff;
	if (keyed)
		memcpy(at + TUNNEL_GRE_HLEN, &key, TUNNEL_GRE_KEY);
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
tunnel_flush(int fd, enum tunnel_type t, struct tunnel_txq *q)
{
	for (unsigned k = 0; k < q->npkts; k++) {
		struct pkt *p = &q->pkts[k];
		unsigned gre = t != TUNNEL_GRE ? 0 :
		    TUNNEL_GRE_HLEN + (q->keyed[k] ? TUNNEL_GRE_KEY : 0);

		if (p->gso_size) {
			unsigned n = pkt_gso_count(p);
			for (unsigned s = 0; s < n; s++) {
				unsigned i = q->ntx;
				const uint8_t *pay;
				uint32_t plen, hlen;

				hlen = pkt_gso_segment(p, s, q->hdr[i] + gre, &pay, &plen);
				if (gre)
					tunnel_gre_hdr(q->hdr[i], q->keyed[k], q->key[k]);
				q->sa[i].sin_addr.s_addr = q->daddr[k];
				q->iov[i][0].iov_base = q->hdr[i];
				q->iov[i][0].iov_len = gre + hlen;
				q->iov[i][1].iov_base = (void *)(uintptr_t)pay;
				q->iov[i][1].iov_len = plen;
				tunnel_push(fd, q, 2);
			}
			STAT_ADD(STAT_TUN_SEGMENTS, n);
			continue;
		}
		if (p->csum == PKT_CSUM_PARTIAL)
			pkt_csum_finish(p);
		/* The headroom (the Ethernet header's place) holds the GRE header, key and all. */
		uint8_t *ip = p->data + p->l3off - gre;
		if (gre)
			tunnel_gre_hdr(ip, q->keyed[k], q->key[k]);
		unsigned i = q->ntx;
		q->sa[i].sin_addr.s_addr = q->daddr[k];
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
	for (unsigned t = 0; t < TUNNEL_MAX; t++) {
		struct tunnel_txq *tq = &tunnel_socks[t].q[q];
		int fd;

		if (tq->npkts == 0)
			continue;
		fd = __atomic_load_n(&tunnel_socks[t].fd, __ATOMIC_ACQUIRE);
		if (fd < 0) {           /* closed: nothing queued can go */
			STAT_ADD(STAT_DROP_TUN_TX_ERROR, tq->npkts);
			tq->npkts = 0;
			continue;
		}
		tunnel_flush(fd, (enum tunnel_type)t, tq);
	}
}

void
tunnel_close(void)
{
	for (unsigned t = 0; t < TUNNEL_MAX; t++) {
		if (tunnel_socks[t].fd >= 0)
			close(tunnel_socks[t].fd);
		tunnel_socks[t].fd = -1;
		for (unsigned q = 0; q < TUNNEL_QUEUES; q++) {
			tunnel_socks[t].q[q].npkts = 0;
			tunnel_socks[t].q[q].ntx = 0;
		}
	}
}
