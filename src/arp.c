/* arp.c - ARP on the main thread: gratuitous ARP, real servers' MACs probed and learnt */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arp.h"
#include "link.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "pkt.h"
#include "stats.h"

#define NEIGH_UNANSWERED_STALE 3

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static struct neigh *neighs;
static struct event_base *arp_base;

/* ---- gratuitous ARP on announce interfaces ---- */

int
arp_garp(int ifindex, uint32_t vip)
{
	struct pkt_arp f;
	struct sockaddr_ll sll = {
		.sll_family   = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex  = ifindex,
		.sll_halen    = 6,
	};
	uint8_t mac[6];
	int fd, rc = -1;

	if (nl_link_mac(ifindex, mac) < 0)
		return -1;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("gratuitous ARP: AF_PACKET socket");
		return -1;
	}
	memcpy(sll.sll_addr, mac_bcast, 6);
	pkt_arp_fill(&f, ARPOP_REQUEST, mac_bcast, mac, vip, mac_bcast, vip);
	memset(f.tha, 0, 6);
	if (sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_warn("gratuitous ARP for %s on ifindex %d", inet_ntoa((struct in_addr){ vip }), ifindex);
	} else {
		STAT_INC(STAT_GARP_SENT);
		rc = 0;
	}
	close(fd);
	return rc;
}

/* ---- real servers' MACs ---- */

static void
neigh_probe(struct neigh *n)
{
	struct pkt_arp f;
	static const uint8_t zero[6];

	pkt_arp_fill(&f, ARPOP_REQUEST, mac_bcast, n->link->mac, n->link->addr, zero, n->addr);
	if (send(n->link->fd_arp, &f, sizeof(f), MSG_DONTWAIT) < 0 && errno != EAGAIN)
		log_debug("ARP probe for %s on %s: %s", inet_ntoa((struct in_addr){ n->addr }),
		    n->link->name, strerror(errno));
	n->unanswered++;
}

static void arp_link_read(evutil_socket_t fd, short what, void *arg);

/* Read L's ARP socket from now on; once per link. */
static int
arp_watch(struct link *l)
{
	if (l->ev_arp != NULL)
		return 0;
	l->ev_arp = event_new(arp_base, l->fd_arp, EV_READ | EV_PERSIST, arp_link_read, l);
	if (l->ev_arp == NULL || event_add(l->ev_arp, NULL) < 0) {
		log_warnx("%s: cannot watch ARP", l->name);
		if (l->ev_arp != NULL)
			event_free(l->ev_arp);
		l->ev_arp = NULL;
		return -1;
	}
	return 0;
}

struct neigh *
neigh_get(struct link *l, uint32_t addr)
{
	struct neigh *n;

	for (n = neighs; n; n = n->next)
		if (n->link == l && n->addr == addr)
			return n;
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		log_warn("neighbour: out of memory");
		return NULL;
	}
	n->link = l;
	n->addr = addr;
	/* Start from what the kernel knows; our own probes confirm it. */
	if (nl_neigh_get(addr, l->ifindex, n->mac) == 0)
		n->valid = true;
	n->next = neighs;
	neighs = n;
	/*
	 * After start (a real server added by vsradm or a reload): the link
	 * may be new, with nobody reading its replies yet; probe at once.
	 */
	if (arp_base != NULL) {
		if (arp_watch(l) < 0) {
			neighs = n->next;
			free(n);
			return NULL;
		}
		neigh_probe(n);
	}
	return n;
}

static void
neigh_learn(struct link *l, uint32_t addr, const uint8_t *mac)
{
	for (struct neigh *n = neighs; n; n = n->next) {
		if (n->link != l || n->addr != addr)
			continue;
		if (!n->valid) {
			log_info("real server %s is at %02x:%02x:%02x:%02x:%02x:%02x on %s",
			    inet_ntoa((struct in_addr){ addr }), mac[0], mac[1], mac[2], mac[3],
			    mac[4], mac[5], l->name);
		} else if (memcmp(n->mac, mac, 6) != 0) {
			log_notice("real server %s moved to %02x:%02x:%02x:%02x:%02x:%02x on %s",
			    inet_ntoa((struct in_addr){ addr }), mac[0], mac[1], mac[2], mac[3],
			    mac[4], mac[5], l->name);
			STAT_INC(STAT_NEIGH_CHANGED);
		}
		memcpy(n->mac, mac, 6);
		n->valid = true;
		n->unanswered = 0;
	}
}

static void
arp_link_read(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	struct pkt_arp f;

	(void)what;
	for (int budget = 64; budget > 0; budget--) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, &f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		/* Our own probes come back as outgoing copies. */
		if (from.sll_pkttype == PACKET_OUTGOING || !pkt_arp_valid(&f, (uint32_t)n))
			continue;
		/* Replies, and requests or announcements a real server sends itself. */
		uint32_t spa;
		memcpy(&spa, f.spa, 4);
		if (spa != 0) {
			lock_acquire();    /* xmit_dr reads the entries */
			neigh_learn(l, spa, f.sha);
			lock_release();
		}
	}
}

int
arp_start(struct event_base *base)
{
	arp_base = base;
	for (struct link *l = link_first(); l; l = l->next)
		if (arp_watch(l) < 0)
			return -1;
	for (struct neigh *n = neighs; n; n = n->next)
		neigh_probe(n);
	return 0;
}

void
arp_refresh(bool all)
{
	for (struct neigh *n = neighs; n; n = n->next) {
		if (n->valid && !all)
			continue;
		if (n->valid && n->unanswered == NEIGH_UNANSWERED_STALE)
			log_warnx("real server %s on %s does not answer ARP; keeping its last MAC",
			    inet_ntoa((struct in_addr){ n->addr }), n->link->name);
		neigh_probe(n);
	}
}

unsigned
arp_unresolved(void)
{
	unsigned n = 0;

	for (struct neigh *e = neighs; e; e = e->next)
		n += !e->valid;
	return n;
}

void
arp_stop(void)
{
	for (struct link *l = link_first(); l; l = l->next) {
		if (l->ev_arp)
			event_free(l->ev_arp);
		l->ev_arp = NULL;
	}
	while (neighs) {
		struct neigh *n = neighs;
		neighs = n->next;
		free(n);
	}
	arp_base = NULL;
}
