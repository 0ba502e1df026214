/* stubs.c - what a module under test needs from the modules it is not linked with */
#include <errno.h>
#include <string.h>

#include "arp.h"
#include "link.h"
#include "netlink.h"
#include "nexthop.h"
#include "pkt.h"
#include "role.h"
#include "svc.h"
#include "tap.h"
#include "tunnel.h"
#include "unit.h"
#include "worker.h"
#include "xmit.h"

/*
 * Every stub is weak: a test that links the real module gets the real
 * function, whatever else it takes from here.
 */
#define STUB __attribute__((weak))

unsigned stub_dest_put_calls;

/*
 * svc.c's dest_put() frees an unlinked dest on its last reference; the
 * tests own their dests (on the stack), so only the count drops and the
 * call is recorded.
 */
STUB void
dest_put(struct dest *d)
{
	d->refcnt--;
	stub_dest_put_calls++;
}

/* ---- the output layer (tap.c, link.c, tunnel.c): what would be sent is recorded ---- */

struct stub_frame stub_out[STUB_OUT_MAX];
unsigned stub_nout;

static void
stub_record(enum stub_output out, const uint8_t *vnet, const uint8_t *data, uint32_t len,
    const union vsr_addr *daddr, unsigned q)
{
	struct stub_frame *f;

	if (stub_nout == STUB_OUT_MAX)
		return;
	f = &stub_out[stub_nout++];
	f->out = out;
	f->q = q;
	memset(&f->daddr, 0, sizeof(f->daddr));
	if (daddr != NULL)
		f->daddr = *daddr;
	f->len = len < sizeof(f->data) ? len : (uint32_t)sizeof(f->data);
	memcpy(f->data, data, f->len);
	if (vnet != NULL)
		memcpy(&f->vnet, vnet, sizeof(f->vnet));
	else
		memset(&f->vnet, 0, sizeof(f->vnet));
}

STUB int
tap_tx(struct worker *w, uint8_t *buf, uint32_t len)
{
	stub_record(STUB_TAP, buf, buf + PKT_VNET_LEN, len, NULL, w->id);
	return 0;
}

STUB void
tap_flush(struct worker *w)
{
	(void)w;
}

/* One LAN toward every real server, on ifindex STUB_LINK_IFINDEX, MAC STUB_LINK_MAC. */
static struct link stub_link = {
	.ifindex = STUB_LINK_IFINDEX,
	.name = "stub0",
	.mac = STUB_LINK_MAC,
	.mtu = 1500,
};

STUB int
link_route(int af, const union vsr_addr *addr, int tap_ifindex, struct nl_route_info *ri,
    char *err, size_t errlen)
{
	(void)addr;
	(void)tap_ifindex;
	(void)err;
	(void)errlen;
	memset(ri, 0, sizeof(*ri));
	ri->oif = STUB_LINK_IFINDEX;
	if (af == AF_INET6)                     /* 2001:db8:20::1 */
		ri->prefsrc = (union vsr_addr){ .b = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 1 } };
	else
		ri->prefsrc = addr_from_ip(htonl(0x0a140001));  /* 10.20.0.1 */
	return 0;
}

STUB struct link *
link_get(int ifindex)
{
	return ifindex == STUB_LINK_IFINDEX ? &stub_link : NULL;
}

STUB void
link_tx(struct link *l, unsigned q, const struct sockaddr_ll *to, uint8_t *buf, uint32_t len)
{
	(void)l;
	(void)to;
	stub_record(STUB_LINK, buf, buf + PKT_VNET_LEN, len, NULL, q);
}

STUB void
link_flush_all(unsigned q)
{
	(void)q;
}

/* nat and fullnat next hops: none known, so their frames take the TAP (test_core checks it). */
STUB struct nexthop *
nh_get(int af, const union vsr_addr *dst)
{
	(void)af;
	(void)dst;
	return NULL;
}

STUB void
nh_put(struct nexthop *nh)
{
	(void)nh;
}

STUB struct nexthop *
nh_client(int af, const union vsr_addr *caddr, const union vsr_addr *vaddr, unsigned q)
{
	(void)af;
	(void)caddr;
	(void)vaddr;
	(void)q;
	return NULL;
}

/* Frames routed on (fwd.c): their next hop not known yet, so they take the TAP. */
STUB enum nh_way
nh_client_way(int af, const union vsr_addr *caddr, const union vsr_addr *vaddr, unsigned q,
    struct nexthop **nh)
{
	(void)af;
	(void)caddr;
	(void)vaddr;
	(void)q;
	*nh = NULL;
	return NH_WAY_UNKNOWN;
}

/*
 * Every real server answers ARP and neighbour solicitations: its MAC is
 * 02:00:00:00:01:<last byte of its address>, either family.
 */
static struct neigh stub_neighs[2][256];

STUB struct neigh *
neigh_get(struct link *l, int af, const union vsr_addr *addr)
{
	uint8_t last = af == AF_INET6 ? addr->b[15] : (uint8_t)(ntohl(addr->ip) & 0xff);
	struct neigh *n = &stub_neighs[af == AF_INET6][last];
	static const uint8_t mac[6] = STUB_NEIGH_MAC(0);

	n->link = l;
	n->sll = link_sll(l, af);
	n->af = af;
	n->addr = *addr;
	memcpy(n->mac, mac, 6);
	n->mac[5] = last;
	n->valid = true;
	return n;
}

STUB int
tunnel_open(int af, enum tunnel_type t)
{
	(void)af;
	(void)t;
	return 0;
}

STUB unsigned
tunnel_overhead(int af, enum tunnel_type t, bool keyed)
{
	return (af == AF_INET6 ? 40 : 20) + (t == TUNNEL_GRE ? 4 + (keyed ? 4 : 0) :
	    t == TUNNEL_GUE ? 8 + 4 : 0);
}

STUB int
tunnel_tx(enum tunnel_type t, unsigned q, const struct tunnel_peer *peer, const struct pkt *p)
{
	(void)t;
	stub_record(STUB_TUNNEL, p->buf, p->data + p->l3off, p->len - p->l3off, &peer->addr, q);
	return 0;
}

STUB void
tunnel_flush_all(unsigned q)
{
	(void)q;
}

/* ---- netlink: the transmitters' host set-up is not unit-tested; what binding reads ---- */

STUB int
nl_link_mtu(int ifindex, unsigned *mtu)
{
	(void)ifindex;
	*mtu = 1500;
	return 0;
}

/*
 * What would change or read the host fails with ENOSYS, whatever it is
 * asked: these stubs read none of their parameters.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define STUB_ENOSYS { errno = ENOSYS; return -1; }

STUB int nl_addr_get(int af, int ifindex, union vsr_addr *addr) STUB_ENOSYS
STUB int nl_route_get(int af, const union vsr_addr *addr, struct nl_route_info *out) STUB_ENOSYS
STUB int nl_route_add(int af, const union vsr_addr *addr, int plen, int ifindex) STUB_ENOSYS
STUB int nl_route_add_via(int af, const union vsr_addr *addr, int plen,
    const union vsr_addr *gateway, int ifindex, uint32_t table) STUB_ENOSYS
STUB int nl_rule_add(const struct nl_rule *r) STUB_ENOSYS
STUB int nl_proxy_neigh_add(int af, const union vsr_addr *addr, int ifindex) STUB_ENOSYS
STUB int nl_route_del(int af, const union vsr_addr *addr, int plen, int ifindex) STUB_ENOSYS
STUB int nl_route_del_via(int af, const union vsr_addr *addr, int plen,
    const union vsr_addr *gateway, int ifindex, uint32_t table) STUB_ENOSYS
STUB int nl_rule_del(const struct nl_rule *r) STUB_ENOSYS
STUB int nl_proxy_neigh_del(int af, const union vsr_addr *addr, int ifindex) STUB_ENOSYS
STUB int sysctl_set(const char *path, const char *value) STUB_ENOSYS
STUB int sysctl_get(const char *path, char *buf, size_t len) STUB_ENOSYS

#undef STUB_ENOSYS
#pragma GCC diagnostic pop

/* ---- role.c: a master, as a director without keepalived is ---- */

STUB int
role_master(void)
{
	return 1;
}

/* ---- xmit_nat.c's host set-up: nothing to make (fuzz-ctl, whose requests call it) ---- */

STUB int
xmit_nat_sync(void)
{
	return 0;
}
