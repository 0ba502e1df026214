/* arp.h - ARP on the main thread: gratuitous ARP, real servers' MACs probed and learnt */
#ifndef VSR_ARP_H
#define VSR_ARP_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct link;

/* A real server's MAC on a link, resolved by our own ARP and kept fresh. */
struct neigh {
	struct neigh *next;
	struct link  *link;
	uint32_t      addr;         /* network order */
	uint8_t       mac[6];
	bool          valid;
	unsigned      unanswered;   /* probes since the last reply */
};

/*
 * The neighbour entry for ADDR on L, created on first use, from the
 * kernel's neighbour table if it knows ADDR. After arp_start(), a new
 * entry is probed at once and L's replies are read (L may be new).
 */
struct neigh *neigh_get(struct link *l, uint32_t addr);
/* Listen for ARP on every link and probe every neighbour; call once after set-up. */
int  arp_start(struct event_base *base);
/* Probe unresolved neighbours; with ALL, resolved ones too (to notice a change). */
void arp_refresh(bool all);
/* Number of neighbours without a MAC yet. */
unsigned arp_unresolved(void);
void arp_stop(void);

/* Gratuitous ARP for VIP from interface IFINDEX (request, sender = target). */
int  arp_garp(int ifindex, uint32_t vip);

#endif
