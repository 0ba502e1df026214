/* link.h - the director's interfaces toward real servers: AF_PACKET output in batches */
#ifndef VSR_LINK_H
#define VSR_LINK_H

#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "addr.h"
#include "worker.h"

#define LINK_TXQ    RX_BATCH  /* frames per queue: a batch's, sent by one sendmmsg() */
#define LINK_QUEUES 16        /* output queues per link: one per worker (CONF_WORKERS_MAX) */

struct event;

struct link {
	struct link   *next;
	int            ifindex;
	char           name[IFNAMSIZ];
	uint8_t        mac[6];
	uint32_t       addr;        /* its IPv4 address (ARP sender), 0 if none */
	union vsr_addr addr6;       /* its IPv6 address (NS sender), link-local if any; zero if none */
	unsigned       mtu;
	int            fd_tx;       /* SOCK_RAW, protocol 0 (sends only), PACKET_VNET_HDR */
	int            fd_arp;      /* SOCK_RAW, ETH_P_ARP: neighbour replies */
	struct event  *ev_arp;
	int            fd_nd;       /* SOCK_RAW, ETH_P_IPV6, neighbour advertisements only; -1 */
	struct event  *ev_nd;
	/*
	 * Where each frame queued goes, per family (its sll_protocol tells
	 * the kernel what the frame is, for the super-frames' segmentation):
	 * chosen once per real server (link_sll), not per frame.
	 */
	struct sockaddr_ll sll[2];  /* IPv4, IPv6 */
	struct link_txq {           /* one output queue per worker: no lock to send */
		unsigned       ntx;
		struct mmsghdr msgs[LINK_TXQ];
		struct iovec   iov[LINK_TXQ];
	} txq[LINK_QUEUES];
};

struct nl_route_info;
/*
 * How the kernel reaches ADDR (a real server's, of family AF), for
 * binding: fails (reason in ERR) when there is no route, when it is this
 * host's own address, or when it is routed into the TAP.
 */
int link_route(int af, const union vsr_addr *addr, int tap_ifindex, struct nl_route_info *ri,
    char *err, size_t errlen);

/* The link for IFINDEX, opened (sockets, MAC, address) on first use; NULL on error. */
struct link *link_get(int ifindex);
struct link *link_first(void);
void links_close(void);
/* L's IPv6 neighbour-advertisement socket, opened on first use: 0, or -1 logged. */
int  link_nd_open(struct link *l);
/* L's destination address for frames of family AF (link_tx). */
static inline const struct sockaddr_ll *
link_sll(const struct link *l, int af)
{
	return &l->sll[af == AF_INET6];
}

/*
 * Queue BUF (virtio-net header + frame of LEN bytes) on output queue Q
 * (the worker's id) for sending to TO (link_sll); the buffer must stay
 * untouched until
 * link_flush_all(Q), which sends it, outside the data-path lock. A queue
 * holds a batch (RX_BATCH frames); beyond, a frame is dropped (counted).
 * Queue Q is only ever touched by worker Q's thread; the sockets are
 * shared (sendmmsg on one socket from several threads is safe). The peer
 * of tap_tx() (tap.h) and tunnel_tx() (tunnel.h).
 */
void link_tx(struct link *l, unsigned q, const struct sockaddr_ll *to, uint8_t *buf,
    uint32_t len);
void link_flush_all(unsigned q);

#endif
