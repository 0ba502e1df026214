/* xmit_tun.c - IP tunnelling: the packet wrapped in IPIP or GRE toward the real server */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "pkt.h"
#include "stats.h"
#include "tap.h"
#include "worker.h"
#include "xmit.h"

#define TUN_TXQ        64      /* packets per sendmmsg() */
#define TUN_QUEUES     16      /* output queues: one per worker (CONF_WORKERS_MAX) */
#define TUN_GRE_HLEN   4       /* GRE without key, checksum or sequence number */
#define TUN_SNDBUF     (4 * 1024 * 1024)

/*
 * One raw socket per tunnel protocol, without IP_HDRINCL: the kernel
 * writes the outer IPv4 header (source: the route's preferred source
 * toward the real server, i.e. the director's address on that path; TTL
 * and ID its own), routes it, via a gateway if need be, and fragments it
 * when it is larger than the route's MTU: IP_PMTUDISC_DONT, so the outer
 * header never carries DF. With IP_HDRINCL it would refuse instead
 * (EMSGSIZE) and we would have to fragment ourselves. DF of the inner
 * packet is honoured here, before the send: a DF packet that does not fit
 * the tunnel is answered with ICMP fragmentation-needed (xmit_tun). The
 * inner packet goes out from the receive buffer, with the GRE header (if
 * any) written into the headroom before it: no copy.
 *
 * A raw socket takes no virtio-net header, so a GSO super-frame (TAP
 * offloads on) is cut here into TCP segments of gso_size: each queue slot
 * has room for one segment's headers (GRE, IPv4, TCP), written by
 * pkt_gso_segment(), and the segment goes out as two pieces, its headers
 * and its slice of the payload left in the receive buffer. A partial
 * checksum of a packet that is not a super-frame is completed in place.
 */
#define TUN_SEG_HDR (TUN_GRE_HLEN + PKT_GSO_SEG_HDR)

struct tun_txq {                /* one per worker: queued without a lock */
	unsigned           ntx;
	struct sockaddr_in sa[TUN_TXQ];
	struct mmsghdr     msgs[TUN_TXQ];
	struct iovec       iov[TUN_TXQ][2];
	uint8_t            hdr[TUN_TXQ][TUN_SEG_HDR];
};

struct tun_sock {
	int                fd;
	struct tun_txq     q[TUN_QUEUES];
};

static struct tun_sock tun_socks[TUNNEL_MAX] = {
	[TUNNEL_IPIP] = { .fd = -1 },
	[TUNNEL_GRE]  = { .fd = -1 },
};

static const unsigned tun_overhead[TUNNEL_MAX] = {
	[TUNNEL_IPIP] = 20,
	[TUNNEL_GRE]  = 20 + TUN_GRE_HLEN,
};

static const int tun_proto[TUNNEL_MAX] = {
	[TUNNEL_IPIP] = IPPROTO_IPIP,
	[TUNNEL_GRE]  = IPPROTO_GRE,
};

static int
tun_open(enum tunnel_type t)
{
	struct tun_sock *ts = &tun_socks[t];
	/* A raw socket of a protocol also receives it: drop all, we only send. */
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	int pmtu = IP_PMTUDISC_DONT, sndbuf = TUN_SNDBUF;
	int fd;

	if (ts->fd >= 0)
		return 0;
	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, tun_proto[t]);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0) {
		close(fd);
		return -1;
	}
	/* Room for a batch of full-sized packets; best effort. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (unsigned k = 0; k < TUN_QUEUES; k++) {
		struct tun_txq *t = &ts->q[k];
		for (unsigned i = 0; i < TUN_TXQ; i++) {
			t->sa[i].sin_family = AF_INET;
			t->msgs[i].msg_hdr.msg_name = &t->sa[i];
			t->msgs[i].msg_hdr.msg_namelen = sizeof(t->sa[i]);
			t->msgs[i].msg_hdr.msg_iov = t->iov[i];
			t->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		t->ntx = 0;
	}
	/* Workers read it outside the lock (xmit_tun_flush): published last. */
	__atomic_store_n(&ts->fd, fd, __ATOMIC_RELEASE);
	return 0;
}

int
xmit_tun_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	struct nl_route_info ri;
	unsigned mtu, over, inner;
	char src[INET_ADDRSTRLEN];

	if ((unsigned)d->tunnel >= TUNNEL_MAX) {
		snprintf(err, errlen, "unknown tunnel type");
		return -1;
	}
	over = tun_overhead[d->tunnel];
	if (link_route(d->addr, tap_ifindex, &ri, err, errlen) < 0)
		return -1;
	if (d->tunnel_mtu) {
		inner = d->tunnel_mtu;
	} else {
		/* The route's own MTU if it has one, else its interface's. */
		mtu = ri.mtu;
		if (mtu == 0 && nl_link_mtu(ri.oif, &mtu) < 0) {
			snprintf(err, errlen, "cannot read the MTU toward the real server");
			return -1;
		}
		if (mtu < over + 68) {
			snprintf(err, errlen, "MTU %u toward the real server is too small for %s",
			    mtu, tunnel_name(d->tunnel));
			return -1;
		}
		inner = mtu - over;
	}
	if (inner > 65535 - over)
		inner = 65535 - over;
	if (tun_open(d->tunnel) < 0) {
		snprintf(err, errlen, "%s raw socket: %s", tunnel_name(d->tunnel), strerror(errno));
		return -1;
	}
	d->tun_inner_max = inner;
	d->tun_src = ri.prefsrc;
	d->xmit_id = XMIT_TUN;
	log_info("real server %s: %s tunnel from %s, MTU %u%s", d->name, tunnel_name(d->tunnel),
	    ri.prefsrc ? inet_ntop(AF_INET, &ri.prefsrc, src, sizeof(src)) : "the route's source",
	    inner, d->tunnel_mtu ? " (configured)" : "");
	return 0;
}

/*
 * Tell the client that its packet P (with DF) does not fit the tunnel:
 * ICMP destination unreachable, fragmentation needed (RFC 792, RFC 1191)
 * with the tunnel's MTU, from the VIP it talked to, quoting its IP header
 * and the first 8 bytes after it, written into the TAP for the director's
 * kernel to route to the client.
 */
static void
tun_frag_needed(struct worker *w, const struct pkt *p, unsigned mtu)
{
	uint8_t buf[PKT_VNET_LEN + ETH_HLEN_ + 20 + ICMP_HLEN_ + 60 + 8];
	const uint8_t *in = p->data + p->l3off;
	unsigned qlen = (unsigned)(in[0] & 0x0f) * 4 + 8;
	uint8_t *eth = buf + PKT_VNET_LEN, *ip = eth + ETH_HLEN_, *icmp = ip + 20;
	uint16_t v;

	if (qlen > p->len - p->l3off)
		qlen = p->len - p->l3off;
	memset(buf, 0, PKT_VNET_LEN + ETH_HLEN_ + 20 + ICMP_HLEN_);
	memcpy(eth, w->tap_mac, 6);
	memcpy(eth + 6, w->our_mac, 6);
	eth[12] = ETHTYPE_IPV4 >> 8;
	eth[13] = ETHTYPE_IPV4 & 0xff;
	ip[0] = 0x45;
	ip[1] = 0xc0;                   /* internetwork control, as the kernel's ICMP errors */
	v = htons((uint16_t)(20 + ICMP_HLEN_ + qlen));
	memcpy(ip + 2, &v, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	memcpy(ip + 12, &p->daddr, 4);  /* the VIP */
	memcpy(ip + 16, &p->saddr, 4);  /* the client */
	v = csum_ip(ip, 20);
	memcpy(ip + 10, &v, 2);
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	v = htons((uint16_t)mtu);       /* next-hop MTU, RFC 1191 */
	memcpy(icmp + 6, &v, 2);
	memcpy(icmp + ICMP_HLEN_, in, qlen);
	v = csum_fold(csum_partial(icmp, ICMP_HLEN_ + qlen, 0));
	memcpy(icmp + 2, &v, 2);
	if (tap_tx(w, buf, ETH_HLEN_ + 20 + ICMP_HLEN_ + qlen) == 0)
		STAT_INC(STAT_TUN_FRAG_NEEDED);
}

static void
tun_flush(int fd, struct tun_txq *t)
{
	unsigned done = 0;

	while (done < t->ntx) {
		int n = sendmmsg(fd, t->msgs + done, t->ntx - done, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* The first one was refused (no buffer, no route): drop it, go on. */
			STAT_INC(STAT_DROP_TUN_TX_ERROR);
			done++;
			continue;
		}
		for (int i = 0; i < n; i++) {
			STAT_INC(STAT_TX_PACKETS);
			STAT_ADD(STAT_TX_BYTES, t->msgs[done + (unsigned)i].msg_len);
		}
		done += (unsigned)n;
	}
	t->ntx = 0;
}

/* GRE version 0, no flags; protocol IPv4 (RFC 2784). */
static void
tun_gre_hdr(uint8_t *at)
{
	at[0] = 0;
	at[1] = 0;
	at[2] = ETHTYPE_IPV4 >> 8;
	at[3] = ETHTYPE_IPV4 & 0xff;
}

/*
 * Queue the segments of super-frame P. DF is judged on a segment's size
 * (headers + gso_size), what the client's TCP really sends.
 */
static int
tun_gso(struct worker *w, struct dest *d, int fd, struct tun_txq *t, struct pkt *p)
{
	const uint8_t *ip = p->data + p->l3off;
	unsigned doff = (p->data[p->l4off + 12] >> 4) * 4u;
	uint32_t seg = p->l4off - p->l3off + doff + p->gso_size;
	unsigned n = pkt_gso_count(p), gre = d->tunnel == TUNNEL_GRE ? TUN_GRE_HLEN : 0;

	if (seg > d->tun_inner_max && (ip[6] & IP4_DF)) {
		tun_frag_needed(w, p, d->tun_inner_max);
		return -1;
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned i = t->ntx;
		const uint8_t *pay;
		uint32_t plen, hlen;

		hlen = pkt_gso_segment(p, k, t->hdr[i] + gre, &pay, &plen);
		if (gre)
			tun_gre_hdr(t->hdr[i]);
		t->sa[i].sin_addr.s_addr = d->addr;
		t->iov[i][0].iov_base = t->hdr[i];
		t->iov[i][0].iov_len = gre + hlen;
		t->iov[i][1].iov_base = (void *)(uintptr_t)pay;
		t->iov[i][1].iov_len = plen;
		t->msgs[i].msg_hdr.msg_iovlen = 2;
		if (++t->ntx == TUN_TXQ)
			tun_flush(fd, t);
	}
	STAT_ADD(STAT_TUN_SEGMENTS, n);
	return 0;
}

int
xmit_tun(struct worker *w, struct conn *c, struct pkt *p)
{
	struct dest *d = c->dest;
	struct tun_sock *ts = &tun_socks[d->tunnel];
	struct tun_txq *t = &ts->q[w->id];
	uint8_t *ip = p->data + p->l3off;
	uint32_t len = p->len - p->l3off;
	unsigned i;

	if (p->gso_size)
		return tun_gso(w, d, ts->fd, t, p);
	if (p->csum == PKT_CSUM_PARTIAL)
		pkt_csum_finish(p);
	if (len > d->tun_inner_max && (ip[6] & IP4_DF)) {
		tun_frag_needed(w, p, d->tun_inner_max);
		return -1;
	}
	if (d->tunnel == TUNNEL_GRE) {
		/* The headroom (the Ethernet header's place) holds it. */
		ip -= TUN_GRE_HLEN;
		tun_gre_hdr(ip);
		len += TUN_GRE_HLEN;
	}
	i = t->ntx;
	t->sa[i].sin_addr.s_addr = d->addr;
	t->iov[i][0].iov_base = ip;
	t->iov[i][0].iov_len = len;
	t->msgs[i].msg_hdr.msg_iovlen = 1;
	if (++t->ntx == TUN_TXQ)
		tun_flush(ts->fd, t);
	return 0;
}

void
xmit_tun_flush(unsigned q)
{
	for (unsigned k = 0; k < TUNNEL_MAX; k++) {
		int fd = __atomic_load_n(&tun_socks[k].fd, __ATOMIC_ACQUIRE);
		if (fd >= 0 && tun_socks[k].q[q].ntx)
			tun_flush(fd, &tun_socks[k].q[q]);
	}
}

void
xmit_tun_close(void)
{
	for (unsigned k = 0; k < TUNNEL_MAX; k++) {
		if (tun_socks[k].fd >= 0)
			close(tun_socks[k].fd);
		tun_socks[k].fd = -1;
		for (unsigned q = 0; q < TUN_QUEUES; q++)
			tun_socks[k].q[q].ntx = 0;
	}
}
