/* arp.c - ARP: answers for VIPs on the TAP link, gratuitous ARP, real servers' MACs */
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
#include "core.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "pkt.h"
#include "stats.h"
#include "svc.h"

/* Ethernet + ARP for IPv4 over Ethernet, as on the wire (RFC 826). */
struct arp_frame {
	uint8_t  dst[6];
	uint8_t  src[6];
	uint16_t ethtype;
	uint16_t htype;
	uint16_t ptype;
	uint8_t  hlen;
	uint8_t  plen;
	uint16_t op;
	uint8_t  sha[6];
	uint8_t  spa[4];
	uint8_t  tha[6];
	uint8_t  tpa[4];
} __attribute__((packed));

#define NEIGH_UNANSWERED_STALE 3

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static struct neigh *neighs;
static struct event_base *arp_base;

static void
arp_fill(struct arp_frame *f, uint16_t op, const uint8_t *dst, const uint8_t *sha,
    uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	memcpy(f->dst, dst, 6);
	memcpy(f->src, sha, 6);
	f->ethtype = htons(ETH_P_ARP);
	f->htype = htons(ARPHRD_ETHER);
	f->ptype = htons(ETH_P_IP);
	f->hlen = 6;
	f->plen = 4;
	f->op = htons(op);
	memcpy(f->sha, sha, 6);
	memcpy(f->spa, &spa, 4);
	memcpy(f->tha, tha, 6);
	memcpy(f->tpa, &tpa, 4);
}

static int
arp_valid(const struct arp_frame *f, uint32_t len)
{
	return len >= sizeof(*f) && f->htype == htons(ARPHRD_ETHER) &&
	    f->ptype == htons(ETH_P_IP) && f->hlen == 6 && f->plen == 4;
}

/* ---- the TAP link: the kernel asks for VIPs, we answer ---- */

void
arp_tap_input(struct worker *w, struct pkt *p)
{
	struct arp_frame *f = (struct arp_frame *)p->data;
	uint32_t tpa, spa;
	uint8_t requester[6];

	if (!arp_valid(f, p->len)) {
		STAT_INC(STAT_DROP_MALFORMED);
		return;
	}
	if (f->op != htons(ARPOP_REQUEST))
		return;
	memcpy(&tpa, f->tpa, 4);
	memcpy(&spa, f->spa, 4);
	if (!svc_is_local_address(tpa))
		return;
	memcpy(requester, f->sha, 6);
	arp_fill(f, ARPOP_REPLY, requester, w->our_mac, tpa, requester, spa);
	memset(p->buf, 0, PKT_VNET_LEN);
	if (core_tap_write(w, p->buf, sizeof(*f)) == 0)
		STAT_INC(STAT_ARP_REPLIES);
}

/* ---- gratuitous ARP on announce interfaces ---- */

int
arp_garp(int ifindex, uint32_t vip)
{
	struct arp_frame f;
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
	arp_fill(&f, ARPOP_REQUEST, mac_bcast, mac, vip, mac_bcast, vip);
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
	struct arp_frame f;
	static const uint8_t zero[6];

	arp_fill(&f, ARPOP_REQUEST, mac_bcast, n->link->mac, n->link->addr, zero, n->addr);
	if (send(n->link->fd_arp, &f, sizeof(f), MSG_DONTWAIT) < 0 && errno != EAGAIN)
		log_debug("ARP probe for %s on %s: %s", inet_ntoa((struct in_addr){ n->addr }),
		    n->link->name, strerror(errno));
	n->unanswered++;
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
	struct arp_frame f;

	(void)what;
	for (int budget = 64; budget > 0; budget--) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, &f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		/* Our own probes come back as outgoing copies. */
		if (from.sll_pkttype == PACKET_OUTGOING || !arp_valid(&f, (uint32_t)n))
			continue;
		/* Replies, and requests or announcements a real server sends itself. */
		uint32_t spa;
		memcpy(&spa, f.spa, 4);
		if (spa != 0) {
			core_lock();    /* xmit_dr reads the entries */
			neigh_learn(l, spa, f.sha);
			core_unlock();
		}
	}
}

int
arp_start(struct event_base *base)
{
	arp_base = base;
	for (struct link *l = link_first(); l; l = l->next) {
		l->ev_arp = event_new(base, l->fd_arp, EV_READ | EV_PERSIST, arp_link_read, l);
		if (l->ev_arp == NULL || event_add(l->ev_arp, NULL) < 0) {
			log_warnx("%s: cannot watch ARP", l->name);
			return -1;
		}
	}
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
}
