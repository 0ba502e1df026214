/* link.h - the director's interfaces toward real servers: AF_PACKET output in batches */
#ifndef VSR_LINK_H
#define VSR_LINK_H

#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define LINK_TXQ 64     /* frames per sendmmsg() */

struct event;

struct link {
	struct link   *next;
	int            ifindex;
	char           name[IFNAMSIZ];
	uint8_t        mac[6];
	uint32_t       addr;        /* its IPv4 address (ARP sender), 0 if none */
	unsigned       mtu;
	int            fd_tx;       /* SOCK_RAW, protocol 0 (sends only), PACKET_VNET_HDR */
	int            fd_arp;      /* SOCK_RAW, ETH_P_ARP: neighbour replies */
	struct event  *ev_arp;
	struct sockaddr_ll sll;     /* destination for every frame queued */
	unsigned       ntx;
	struct mmsghdr msgs[LINK_TXQ];
	struct iovec   iov[LINK_TXQ];
};

/* The link for IFINDEX, opened (sockets, MAC, address) on first use; NULL on error. */
struct link *link_get(int ifindex);
struct link *link_first(void);
void links_close(void);

/*
 * Queue BUF (virtio-net header + frame of LEN bytes) for sending; the
 * buffer must stay untouched until link_flush_all(). Flushes by itself
 * when the queue is full.
 */
void link_tx(struct link *l, uint8_t *buf, uint32_t len);
void link_flush_all(void);

#endif
