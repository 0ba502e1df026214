/* link.c - the director's interfaces toward real servers: AF_PACKET output in batches */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "conf.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "pkt.h"
#include "stats.h"

/* Queue q is worker q's: there must be one for each worker the config allows. */
_Static_assert(LINK_QUEUES >= CONF_WORKERS_MAX, "a link output queue per worker");

static struct link *links;

static int
packet_socket(int ifindex, uint16_t proto, int vnet)
{
	struct sockaddr_ll sll = {
		.sll_family   = AF_PACKET,
		.sll_protocol = htons(proto),
		.sll_ifindex  = ifindex,
	};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(proto));

	if (fd < 0)
		return -1;
	if (vnet && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &vnet, sizeof(vnet)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int
link_route(int af, const union vsr_addr *addr, int tap_ifindex, struct nl_route_info *ri,
    char *err, size_t errlen)
{
	if (nl_route_get(af, addr, ri) < 0) {
		snprintf(err, errlen, "no route to the real server");
		return -1;
	}
	if (ri->local) {
		snprintf(err, errlen, "the real server's address is one of this host's");
		return -1;
	}
	if (ri->oif == tap_ifindex) {
		snprintf(err, errlen, "the real server's address is routed into the TAP");
		return -1;
	}
	return 0;
}

struct link *
link_get(int ifindex)
{
	struct link *l;

	for (l = links; l; l = l->next)
		if (l->ifindex == ifindex)
			return l;

	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		log_warn("link: out of memory");
		return NULL;
	}
	l->ifindex = ifindex;
	l->fd_tx = l->fd_arp = l->fd_nd = -1;
	if (if_indextoname((unsigned)ifindex, l->name) == NULL) {
		log_warn("interface index %d", ifindex);
		goto fail;
	}
	if (nl_link_mac(ifindex, l->mac) < 0 || nl_link_mtu(ifindex, &l->mtu) < 0)
		goto fail;
	union vsr_addr a;
	l->addr = nl_addr_get(AF_INET, ifindex, &a) == 0 ? a.ip : 0;
	if (nl_addr_get(AF_INET6, ifindex, &l->addr6) < 0)
		memset(&l->addr6, 0, sizeof(l->addr6));
	/* Protocol 0: a send-only socket, nothing is queued to it. */
	l->fd_tx = packet_socket(ifindex, 0, 1);
	if (l->fd_tx < 0) {
		log_warn("%s: AF_PACKET socket", l->name);
		goto fail;
	}
	l->fd_arp = packet_socket(ifindex, ETH_P_ARP, 0);
	if (l->fd_arp < 0) {
		log_warn("%s: AF_PACKET ARP socket", l->name);
		goto fail;
	}
	for (int f = 0; f < 2; f++) {
		l->sll[f].sll_family = AF_PACKET;
		l->sll[f].sll_protocol = htons(f ? ETH_P_IPV6 : ETH_P_IP);
		l->sll[f].sll_ifindex = ifindex;
		l->sll[f].sll_halen = 6;
	}
	for (unsigned q = 0; q < LINK_QUEUES; q++) {
		struct link_txq *t = &l->txq[q];
		for (unsigned i = 0; i < LINK_TXQ; i++) {
			t->msgs[i].msg_hdr.msg_name = &l->sll[0];
			t->msgs[i].msg_hdr.msg_namelen = sizeof(l->sll[0]);
			t->msgs[i].msg_hdr.msg_iov = &t->iov[i];
			t->msgs[i].msg_hdr.msg_iovlen = 1;
		}
	}
	l->next = links;
	__atomic_store_n(&links, l, __ATOMIC_RELEASE);
	log_debug("link %s: index %d, mtu %u", l->name, ifindex, l->mtu);
	return l;
fail:
	if (l->fd_tx >= 0)
		close(l->fd_tx);
	free(l);
	return NULL;
}

struct link *
link_first(void)
{
	return links;
}

/*
 * The kernel filter of the neighbour-advertisement socket: IPv6, next
 * header ICMPv6 right after the fixed header (neighbour discovery has no
 * extension header), type 136. Nothing else of the link's traffic is
 * copied to us.
 */
static struct sock_filter nd_filter[] = {
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 3),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ND_NEIGHBOR_ADVERT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

int
link_nd_open(struct link *l)
{
	struct sock_fprog prog = { .len = ARRAY_SIZE(nd_filter), .filter = nd_filter };

	if (l->fd_nd >= 0)
		return 0;
	l->fd_nd = packet_socket(l->ifindex, ETH_P_IPV6, 0);
	if (l->fd_nd < 0) {
		log_warn("%s: AF_PACKET IPv6 socket", l->name);
		return -1;
	}
	if (setsockopt(l->fd_nd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		log_warn("%s: neighbour advertisement filter", l->name);
		close(l->fd_nd);
		l->fd_nd = -1;
		return -1;
	}
	return 0;
}

static void
link_flush(struct link *l, struct link_txq *t)
{
	batch_send(l->fd_tx, t->msgs, t->ntx, PKT_VNET_LEN, STAT_DROP_TX_ERROR);
	t->ntx = 0;
}

void
link_tx(struct link *l, unsigned q, const struct sockaddr_ll *to, uint8_t *buf, uint32_t len)
{
	struct link_txq *t = &l->txq[q];

	/* Never in the daemon: a batch queues at most RX_BATCH frames. */
	if (t->ntx == LINK_TXQ) {
		STAT_INC(STAT_DROP_TX_ERROR);
		return;
	}
	t->msgs[t->ntx].msg_hdr.msg_name = (void *)(uintptr_t)to;
	t->iov[t->ntx].iov_base = buf;
	t->iov[t->ntx].iov_len = PKT_VNET_LEN + len;
	t->ntx++;
}

/*
 * The list of links only grows, on the main thread (binding a real
 * server, or checking a reload's before the lock is taken); a worker
 * walks it outside the lock, so the head is read with acquire and a new
 * link is published with release (link_get), after it is complete.
 */
void
link_flush_all(unsigned q)
{
	for (struct link *l = __atomic_load_n(&links, __ATOMIC_ACQUIRE); l; l = l->next)
		if (l->txq[q].ntx)
			link_flush(l, &l->txq[q]);
}

void
links_close(void)
{
	while (links) {
		struct link *l = links;
		links = l->next;
		/* The event is freed by its owner (arp.c) before this. */
		if (l->fd_tx >= 0)
			close(l->fd_tx);
		if (l->fd_arp >= 0)
			close(l->fd_arp);
		if (l->fd_nd >= 0)
			close(l->fd_nd);
		free(l);
	}
}
