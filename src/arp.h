/* arp.h - neighbours on the main thread: ARP and IPv6 neighbour discovery toward real servers and clients */
#ifndef VSR_ARP_H
#define VSR_ARP_H

#include <event2/event.h>
#include <linux/if_packet.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct link;

/*
 * A real server's MAC on a link, resolved by our own ARP (IPv4) or
 * neighbour solicitations (IPv6) and kept fresh.
 */
struct neigh {
	struct neigh  *next;
	struct link   *link;
	const struct sockaddr_ll *sll;  /* the link's destination for its family (link_sll) */
	int            af;
	union vsr_addr addr;
	uint8_t        mac[6];
	bool           valid;
	unsigned       unanswered;   /* probes since the last reply */
};

/*
 * The neighbour entry for ADDR (of family AF) on L, created on first
 * use, from the kernel's neighbour table if it knows ADDR. After
 * arp_start(), a new entry is probed at once and L's replies are read (L
 * may be new).
 */
struct neigh *neigh_get(struct link *l, int af, const union vsr_addr *addr);
/* Listen for ARP and neighbour advertisements on every link and probe every neighbour; once after set-up. */
int  arp_start(struct event_base *base);
/* Probe unresolved neighbours; with ALL, resolved ones too (to notice a change). */
void arp_refresh(bool all);
/* Number of neighbours without a MAC yet. */
unsigned arp_unresolved(void);
void arp_stop(void);

/*
 * Tell the LAN of interface IFINDEX that ADDR is here: gratuitous ARP
 * (a request, sender = target) for IPv4, an unsolicited neighbour
 * advertisement to all nodes (override set, from the interface's
 * link-local address) for IPv6.
 */
int  neigh_announce(int ifindex, int af, const union vsr_addr *addr);

#endif
