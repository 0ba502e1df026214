/* arp.c - neighbours on the main thread: ARP and IPv6 neighbour discovery toward real servers and clients */
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
#include "packet.h"
#include "stats.h"

#define NEIGH_UNANSWERED_STALE 3

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static struct neigh *neighs;
static struct event_base *arp_base;

/* ---- announcing an address on an announce interface ---- */

static int
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
		char a[ADDR_STRLEN];
		log_warn("gratuitous ARP for %s on ifindex %d",
		    addr_ntop(AF_INET, &(union vsr_addr){ .ip = vip }, a, sizeof(a)), ifindex);
	} else {
		STAT_INC(STAT_GARP_SENT);
		rc = 0;
	}
	close(fd);
	return rc;
}

/* An unsolicited neighbour advertisement for ADDR to all nodes (RFC 4861 7.2.6). */
static int
nd_unsolicited(int ifindex, const union vsr_addr *addr)
{
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const union vsr_addr all_nodes = { .b = { 0xff, 0x02, [15] = 1 } };
	struct sockaddr_ll sll = {
		.sll_family   = AF_PACKET,
		.sll_protocol = htons(ETH_P_IPV6),
		.sll_ifindex  = ifindex,
		.sll_halen    = 6,
	};
	uint8_t f[PKT_ND_LEN], mac[6];
	union vsr_addr src;
	char a[ADDR_STRLEN];
	int fd, rc = -1;

	if (nl_link_mac(ifindex, mac) < 0)
		return -1;
	/* From the interface's link-local address, as a router's own would be; else the VIP. */
	if (nl_addr_get(AF_INET6, ifindex, &src) < 0 || !IN6_IS_ADDR_LINKLOCAL(&src.in6))
		src = *addr;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("neighbour advertisement: AF_PACKET socket");
		return -1;
	}
	memcpy(sll.sll_addr, all_nodes_mac, 6);
	pkt_nd_na_fill(f, all_nodes_mac, mac, &src, &all_nodes, addr, ND_NA_OVERRIDE);
	if (sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_warn("neighbour advertisement for %s on ifindex %d",
		    addr_ntop(AF_INET6, addr, a, sizeof(a)), ifindex);
	} else {
		STAT_INC(STAT_NA_SENT);
		rc = 0;
	}
	close(fd);
	return rc;
}

int
neigh_announce(int ifindex, int af, const union vsr_addr *addr)
{
	return af == AF_INET6 ? nd_unsolicited(ifindex, addr) : arp_garp(ifindex, addr->ip);
}

/* ---- real servers' MACs ---- */

static void
neigh_probe(struct neigh *n)
{
	struct link *l = n->link;
	char a[ADDR_STRLEN];
	ssize_t r;

	if (n->af == AF_INET6) {
		/* A solicitation to the target's group, from the link's own address (or ::). */
		uint8_t f[PKT_ND_LEN];
		uint32_t len = pkt_nd_ns_fill(f, l->mac, &l->addr6, &n->addr);
		r = sendto(l->fd_nd, f, len, MSG_DONTWAIT, (const struct sockaddr *)n->sll,
		    sizeof(*n->sll));
	} else {
		struct pkt_arp f;
		static const uint8_t zero[6];
		pkt_arp_fill(&f, ARPOP_REQUEST, mac_bcast, l->mac, l->addr, zero, n->addr.ip);
		r = send(l->fd_arp, &f, sizeof(f), MSG_DONTWAIT);
	}
	if (r < 0 && errno != EAGAIN)
		log_debug("%s probe for %s on %s: %s", n->af == AF_INET6 ? "NS" : "ARP",
		    addr_ntop(n->af, &n->addr, a, sizeof(a)), l->name, strerror(errno));
	n->unanswered++;
}

static void arp_link_read(evutil_socket_t fd, short what, void *arg);
static void nd_link_read(evutil_socket_t fd, short what, void *arg);

/* Read FD (of L) with CB from now on, into *EV; once per link and socket. */
static int
arp_watch_fd(struct link *l, int fd, struct event **ev, event_callback_fn cb, const char *what)
{
	if (*ev != NULL || fd < 0)
		return 0;
	*ev = event_new(arp_base, fd, EV_READ | EV_PERSIST, cb, l);
	if (*ev == NULL || event_add(*ev, NULL) < 0) {
		log_warnx("%s: cannot watch %s", l->name, what);
		if (*ev != NULL)
			event_free(*ev);
		*ev = NULL;
		return -1;
	}
	return 0;
}

/* Read L's ARP (and, once it has IPv6 neighbours, advertisement) socket from now on. */
static int
arp_watch(struct link *l)
{
	if (arp_watch_fd(l, l->fd_arp, &l->ev_arp, arp_link_read, "ARP") < 0)
		return -1;
	return arp_watch_fd(l, l->fd_nd, &l->ev_nd, nd_link_read, "neighbour advertisements");
}

struct neigh *
neigh_get(struct link *l, int af, const union vsr_addr *addr)
{
	struct neigh *n;

	for (n = neighs; n; n = n->next)
		if (n->link == l && n->af == af && addr_eq(&n->addr, addr))
			return n;
	if (af == AF_INET6 && link_nd_open(l) < 0)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		log_warn("neighbour: out of memory");
		return NULL;
	}
	n->link = l;
	n->sll = link_sll(l, af);
	n->af = af;
	n->addr = *addr;
	/* Start from what the kernel knows; our own probes confirm it. */
	if (nl_neigh_get(af, addr, l->ifindex, n->mac) == 0)
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
neigh_learn(struct link *l, int af, const union vsr_addr *addr, const uint8_t *mac)
{
	char a[ADDR_STRLEN];

	for (struct neigh *n = neighs; n; n = n->next) {
		if (n->link != l || n->af != af || !addr_eq(&n->addr, addr))
			continue;
		if (!n->valid) {
			log_info("real server %s is at %02x:%02x:%02x:%02x:%02x:%02x on %s",
			    addr_ntop(af, addr, a, sizeof(a)), mac[0], mac[1], mac[2], mac[3],
			    mac[4], mac[5], l->name);
		} else if (memcmp(n->mac, mac, 6) != 0) {
			log_notice("real server %s moved to %02x:%02x:%02x:%02x:%02x:%02x on %s",
			    addr_ntop(af, addr, a, sizeof(a)), mac[0], mac[1], mac[2], mac[3],
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
			union vsr_addr a = addr_from_ip(spa);
			lock_all();    /* xmit_dr reads the entries */
			neigh_learn(l, AF_INET, &a, f.sha);
			unlock_all();
		}
	}
}

/* Neighbour advertisements on L (the socket's filter lets nothing else through). */
static void
nd_link_read(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	uint8_t f[1600];

	(void)what;
	for (int budget = 64; budget > 0; budget--) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		union vsr_addr target;
		uint8_t mac[6];
		ssize_t n = recvfrom(fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		if (from.sll_pkttype == PACKET_OUTGOING ||
		    pkt_nd_na_parse(f, (uint32_t)n, &target, mac) < 0)
			continue;
		lock_all();    /* xmit_dr reads the entries */
		neigh_learn(l, AF_INET6, &target, mac);
		unlock_all();
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
	char a[ADDR_STRLEN];

	for (struct neigh *n = neighs; n; n = n->next) {
		if (n->valid && !all)
			continue;
		if (n->valid && n->unanswered == NEIGH_UNANSWERED_STALE)
			log_warnx("real server %s on %s does not answer %s; keeping its last MAC",
			    addr_ntop(n->af, &n->addr, a, sizeof(a)), n->link->name,
			    n->af == AF_INET6 ? "neighbour solicitations" : "ARP");
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
		if (l->ev_nd)
			event_free(l->ev_nd);
		l->ev_nd = NULL;
	}
	while (neighs) {
		struct neigh *n = neighs;
		neighs = n->next;
		free(n);
	}
	arp_base = NULL;
}
