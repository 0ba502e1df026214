/* xmit_nat.c - nat and fullnat: rewrite addresses and ports, send out toward the next hop */
#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliaddr.h"
#include "conn.h"
#include "laddr.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "nexthop.h"
#include "pkt.h"
#include "stats.h"
#include "tap.h"
#include "worker.h"
#include "xmit.h"

/*
 * In: client -> VIP:vport becomes client -> RIP:rport (nat), or
 * LIP:lport -> RIP:rport (fullnat). Out: the real server's reply
 * RIP:rport -> client (or LIP:lport) becomes VIP:vport -> client:cport.
 * Either way the frame keeps its virtio-net header as it came (a GSO
 * super-frame stays one, a partial checksum stays partial: pkt_set_*
 * updated its pseudo-header sum) and leaves by the shortest way: straight
 * out of the interface toward its next hop (link_tx, AF_PACKET), the
 * real server's (resolved when it is bound) or the client's (nh_client),
 * both the kernel's own (nexthop.h). Whatever has no usable next hop,
 * does not fit the way out's MTU whole (not a super-frame), or is an ICMP
 * error, goes back into the TAP, addressed to the kernel's side of it,
 * and the kernel routes it on as before: segmenting, completing, answering
 * "fragmentation needed". The kernel forwarded the frame into the TAP,
 * which decremented its TTL and dropped (and answered) what had none left:
 * sent straight out, the director is one hop, as a router is; through the
 * TAP again it is two. ICMP errors about a connection take the same
 * functions: the outer header and the quoted one are both rewritten.
 */

#define NAT_RULE_TABLE  7600    /* the table nat replies are steered into */
#define NAT_RULE_PRIO   7600    /* priority of their rules */

/* ---- binding ---- */

/*
 * What xmit_nat_setup() made on the host at start: the rules of each nat
 * real server (address, port, protocol) and the interfaces on which the
 * fullnat pool is answered for. After it ran, a real server needing host
 * changes it did not make (a new one from vsradm or a reload) is refused:
 * its rules are made at start only, and a restart makes them.
 */
struct nat_rule_key {
	int            af;
	union vsr_addr addr;
	uint16_t       port;
	uint8_t        proto;
};
static struct nat_rule_key *nat_rules;
static unsigned nat_nrules;
static struct xmit_link nat_rs_if[16];  /* interfaces toward fullnat real servers, per family */
static unsigned nat_nrs_if;
static bool nat_ready;

static bool
nat_rule_made(const struct dest *d)
{
	for (unsigned i = 0; i < nat_nrules; i++)
		if (nat_rules[i].af == d->af && addr_eq(&nat_rules[i].addr, &d->addr) &&
		    nat_rules[i].port == d->port && nat_rules[i].proto == d->svc->proto)
			return true;
	return false;
}

static bool
nat_rs_if_made(int oif, int af)
{
	for (unsigned i = 0; i < nat_nrs_if; i++)
		if (nat_rs_if[i].ifindex == oif && nat_rs_if[i].af == af)
			return true;
	return false;
}

static int
nat_rule_record(const struct dest *d)
{
	struct nat_rule_key *n = realloc(nat_rules, (nat_nrules + 1) * sizeof(*n));

	if (n == NULL) {
		log_warn("nat rules");
		return -1;
	}
	nat_rules = n;
	nat_rules[nat_nrules++] = (struct nat_rule_key){ d->af, d->addr, d->port, d->svc->proto };
	return 0;
}

void
xmit_nat_close(void)
{
	free(nat_rules);
	nat_rules = NULL;
	nat_nrules = 0;
	nat_nrs_if = 0;
	nat_ready = false;
}

static int
nat_bind_common(struct dest *d, int tap_ifindex, char *err, size_t errlen,
    struct nl_route_info *ri)
{
	if (link_route(d->af, &d->addr, tap_ifindex, ri, err, errlen) < 0)
		return -1;
	if (nat_ready && d->fwd == FWD_NAT && !nat_rule_made(d)) {
		snprintf(err, errlen, "a new nat real server needs a restart: its policy rule "
		    "is made at start");
		return -1;
	}
	if (nat_ready && d->fwd == FWD_FULLNAT && !nat_rs_if_made(ri->oif, d->af)) {
		snprintf(err, errlen, "a fullnat real server on a new interface needs a "
		    "restart: the pool's proxy entries are made at start");
		return -1;
	}
	return 0;
}

int
xmit_nat_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	struct nl_route_info ri;

	if (nat_bind_common(d, tap_ifindex, err, errlen, &ri) < 0)
		return -1;
	/* NULL (the table full): its frames take the TAP. */
	d->nh = nh_get(d->af, &d->addr);
	d->xmit_id = XMIT_NAT;
	return 0;
}

int
xmit_fullnat_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	struct nl_route_info ri;

	if (laddr_count_af(d->af) == 0) {
		snprintf(err, errlen, "fullnat needs a local_address pool with an %s address",
		    addr_family_name(d->af));
		return -1;
	}
	if (nat_bind_common(d, tap_ifindex, err, errlen, &ri) < 0)
		return -1;
	/* What a PROXY v2 header or a TOA option may grow a packet to (cliaddr_in). */
	d->ca_mtu = ri.mtu;
	if (d->ca_mtu == 0 && nl_link_mtu(ri.oif, &d->ca_mtu) < 0)
		d->ca_mtu = 0;
	d->nh = nh_get(d->af, &d->addr);
	d->xmit_id = XMIT_FULLNAT;
	return 0;
}

/* ---- host set-up ---- */

/*
 * rp_filter: the kernel applies the larger of conf/all and conf/IFACE,
 * and nat frames come out of the TAP with a client's (or the VIP's)
 * source. all goes to 0; each interface whose own value was below the old
 * all value is raised to it, so that it filters as before.
 */
static int
nat_rp_filter(const char *tap)
{
	char old[16], path[320], v[16];
	struct dirent *de;
	DIR *dir;
	int rc = 0;

	if (sysctl_get("net/ipv4/conf/all/rp_filter", old, sizeof(old)) < 0)
		return -1;
	if (strcmp(old, "0") == 0)
		return 0;
	dir = opendir("/proc/sys/net/ipv4/conf");
	if (dir == NULL) {
		log_warn("/proc/sys/net/ipv4/conf");
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "all") == 0 ||
		    strcmp(de->d_name, tap) == 0)
			continue;
		snprintf(path, sizeof(path), "net/ipv4/conf/%s/rp_filter", de->d_name);
		if (sysctl_get(path, v, sizeof(v)) < 0)
			continue;
		if (atoi(v) < atoi(old) && sysctl_set(path, old) < 0)
			rc = -1;
	}
	closedir(dir);
	if (rc == 0 && sysctl_set("net/ipv4/conf/all/rp_filter", "0") < 0)
		rc = -1;
	return rc;
}

/* D's rules are already there for an earlier dest with the same address (and port). */
static bool
nat_seen(const struct dest *d, bool port)
{
	struct service *s;
	struct dest *o;

	TAILQ_FOREACH(s, svc_list(), entry) {
		TAILQ_FOREACH(o, &s->dests, entry) {
			if (o == d)
				return false;
			if (o->fwd == FWD_NAT && o->af == d->af && addr_eq(&o->addr, &d->addr) &&
			    (!port || (o->port == d->port && s->proto == d->svc->proto)))
				return true;
		}
	}
	return false;
}

int
xmit_nat_setup(int tap_ifindex, const char *tap)
{
	static const union vsr_addr any;
	struct service *s;
	struct dest *d;
	struct nl_route_info ri;
	bool nat[2] = { false, false }, fullnat[2] = { false, false };
	char path[128], ifn[IF_NAMESIZE];

	TAILQ_FOREACH(s, svc_list(), entry) {
		TAILQ_FOREACH(d, &s->dests, entry) {
			int f = d->af == AF_INET6;
			if (d->fwd != FWD_NAT && d->fwd != FWD_FULLNAT)
				continue;
			if (nl_route_get(d->af, &d->addr, &ri) < 0)
				return -1;
			if (d->fwd == FWD_FULLNAT) {
				fullnat[f] = true;
				if (!nat_rs_if_made(ri.oif, d->af) &&
				    nat_nrs_if < ARRAY_SIZE(nat_rs_if)) {
					nat_rs_if[nat_nrs_if].ifindex = ri.oif;
					nat_rs_if[nat_nrs_if++].af = d->af;
				}
				continue;
			}
			if (!nat[f]) {
				/*
				 * One onlink next hop on the TAP (a VIP, which the
				 * daemon answers ARP or neighbour solicitations
				 * for), not a neighbour per client.
				 */
				if (nl_route_add_via(d->af, &any, 0, &s->addr, tap_ifindex,
				    NAT_RULE_TABLE) < 0)
					return -1;
				nat[f] = true;
			}
			struct nl_rule r = {
				.af = d->af, .src = d->addr, .plen = (int)addr_len(d->af) * 8,
				.iif = ri.oif, .ipproto = s->proto, .sport = d->port,
				.table = NAT_RULE_TABLE, .prio = NAT_RULE_PRIO,
			};
			if (!nat_seen(d, true) && nl_rule_add(&r) < 0)
				return -1;
			if (nat_rule_record(d) < 0)
				return -1;
			/* ICMP errors about the clients' packets, to be translated. */
			r.ipproto = f ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
			r.sport = 0;
			if (!nat_seen(d, false) && nl_rule_add(&r) < 0)
				return -1;
		}
	}
	/* IPv6 has no reverse-path filter of its own. */
	if ((nat[0] || fullnat[0]) && nat_rp_filter(tap) < 0)
		return -1;
	nat_ready = true;
	/*
	 * The pool: routed into the TAP; answered for on the real servers'
	 * LANs (proxy ARP, or proxy NDP), each address on the interfaces
	 * toward the real servers of its family, by a master (role.c).
	 */
	for (unsigned i = 0; i < nat_nrs_if; i++) {
		int v6 = nat_rs_if[i].af == AF_INET6;
		if (if_indextoname((unsigned)nat_rs_if[i].ifindex, ifn) == NULL)
			return -1;
		snprintf(path, sizeof(path), "net/ipv%c/neigh/%s/proxy_delay", v6 ? '6' : '4', ifn);
		if (sysctl_set(path, "0") < 0)
			return -1;
		snprintf(path, sizeof(path), "net/ipv6/conf/%s/proxy_ndp", ifn);
		if (v6 && sysctl_set(path, "1") < 0)
			return -1;
	}
	for (unsigned k = 0; k < laddr_count(); k++) {
		const struct vsr_ip *la = laddr_get(k);
		if (!fullnat[la->af == AF_INET6])
			continue;
		if (nl_route_add(la->af, &la->addr, (int)addr_len(la->af) * 8, tap_ifindex) < 0)
			return -1;
	}
	return 0;
}

unsigned
xmit_fullnat_links(const struct xmit_link **l)
{
	*l = nat_rs_if;
	return nat_nrs_if;
}

/* ---- the packet path ---- */

static int
nat_tap_out(struct worker *w, struct pkt *p)
{
	STAT_INC(STAT_NAT_VIA_TAP);
	memcpy(p->data, w->tap_mac, 6);
	memcpy(p->data + 6, w->our_mac, 6);
	return tap_tx(w, p->buf, p->len);
}

/*
 * P straight out toward NH when it is usable and P fits its MTU: a
 * packet whole, a super-frame segment by segment (the kernel cuts it on
 * the way out, or the interface does). Else into the TAP. Either
 * family, the same way (nexthop.h).
 */
static int
nat_out(struct worker *w, struct nexthop *nh, struct pkt *p)
{
	struct nh_view v;
	uint32_t size = p->len - p->l3off;

	if (nh == NULL || nh_read(nh, &v, w->now) < 0)
		return nat_tap_out(w, p);
	if (p->gso_size)
		size = p->l4off - p->l3off + ((p->data[p->l4off + 12] >> 4) * 4u) + p->gso_size;
	if (size > v.mtu)
		return nat_tap_out(w, p);
	memcpy(p->data, v.mac, 6);
	memcpy(p->data + 6, v.link->mac, 6);
	STAT_INC(STAT_NAT_DIRECT);
	link_tx(v.link, w->id, link_sll(v.link, p->af), p->buf, p->len);
	return 0;
}

int
xmit_nat(struct worker *w, struct conn *c, struct pkt *p)
{
	struct conn_addrs a;

	conn_addrs(w->ct, c, &a);
	if (p->proto == p->ops->icmp_proto) {
		/*
		 * About VIP:vport -> client:cport. From the VIP: the error
		 * may come from this host's own kernel (a smaller MTU toward
		 * the client), and a packet with a local source coming out
		 * of the TAP would be dropped as a martian.
		 */
		pkt_icmp_nat(p, &a.vaddr, &a.daddr, &a.daddr, c->dport, &a.caddr, c->cport);
		return nat_tap_out(w, p);
	}
	pkt_set_daddr(p, &a.daddr);
	pkt_set_dport(p, c->dport);
	return nat_out(w, c->dest->nh, p);
}

int
xmit_nat_out(struct worker *w, struct conn *c, struct pkt *p)
{
	struct conn_addrs a;

	conn_addrs(w->ct, c, &a);
	if (p->proto == p->ops->icmp_proto) {
		/* about client:cport -> RIP:rport */
		union vsr_addr to = p->daddr;
		pkt_icmp_nat(p, &a.vaddr, &to, &a.caddr, c->cport, &a.vaddr, c->vport);
		return nat_tap_out(w, p);
	}
	pkt_set_saddr(p, &a.vaddr);
	pkt_set_sport(p, c->vport);
	return nat_out(w, nh_client(p->af, &a.caddr, &a.vaddr, w->id), p);
}

/*
 * The client's address behind fullnat (cliaddr.h): a flow with a state
 * gets its PROXY v2 header or TOA option, and its sequence numbers
 * shifted, once its addresses are rewritten; these are the only calls.
 */
struct ca_flow {
	const struct conn_table *ct;
	const struct conn       *c;
};

/* cliaddr_flow's callback: the flow's ends as its client sees them. */
static void
ca_ends(const void *arg, struct cliaddr_ends *e)
{
	const struct ca_flow *f = arg;
	struct conn_addrs a;

	conn_addrs(f->ct, f->c, &a);
	e->af = conn_af(f->c);
	memcpy(e->caddr, a.caddr.b, sizeof(e->caddr));
	memcpy(e->vaddr, a.vaddr.b, sizeof(e->vaddr));
	e->cport = f->c->cport;
	e->vport = f->c->vport;
}

/* A header in a segment of its own, sent before the packet it goes with (in the batch). */
static _Thread_local uint8_t ca_pre[CLIADDR_PRE_MAX];

/* true when a segment of its own went first, into the TAP: P must follow it there. */
static bool
ca_in(struct worker *w, struct conn *c, struct cliaddr_state *st, struct pkt *p)
{
	struct ca_flow arg = { w->ct, c };
	struct cliaddr_flow f = { ca_ends, &arg };
	uint32_t n = cliaddr_in(st, &f, c->dest->ca_mtu, p, ca_pre);

	if (n > PKT_VNET_LEN) {
		memcpy(ca_pre + PKT_VNET_LEN, w->tap_mac, 6);
		memcpy(ca_pre + PKT_VNET_LEN + 6, w->our_mac, 6);
		(void)tap_tx(w, ca_pre, n - PKT_VNET_LEN);
		return true;
	}
	return false;
}

int
xmit_fullnat(struct worker *w, struct conn *c, struct pkt *p)
{
	struct cliaddr_state *st = conn_cliaddr(w->ct, c);
	struct conn_addrs a;

	conn_addrs(w->ct, c, &a);
	if (p->proto == p->ops->icmp_proto) {
		/* about VIP:vport -> client:cport: from the LIP, as the flow */
		if (st != NULL)
			cliaddr_icmp(st, SEQADJ_OUT, p);
		pkt_icmp_nat(p, &a.laddr, &a.daddr, &a.daddr, c->dport, &a.laddr, c->lport);
		return nat_tap_out(w, p);
	}
	pkt_set_saddr(p, &a.laddr);
	pkt_set_sport(p, c->lport);
	pkt_set_daddr(p, &a.daddr);
	pkt_set_dport(p, c->dport);
	/* A header sent on its own went into the TAP: the packet behind it takes the same way. */
	if (st != NULL && ca_in(w, c, st, p))
		return nat_out(w, NULL, p);
	return nat_out(w, c->dest->nh, p);
}

int
xmit_fullnat_out(struct worker *w, struct conn *c, struct pkt *p)
{
	struct cliaddr_state *st = conn_cliaddr(w->ct, c);
	struct conn_addrs a;

	conn_addrs(w->ct, c, &a);
	if (p->proto == p->ops->icmp_proto) {
		/* about LIP:lport -> RIP:rport, in the numbers the real server saw */
		if (st != NULL)
			cliaddr_icmp(st, SEQADJ_IN, p);
		pkt_icmp_nat(p, &a.vaddr, &a.caddr, &a.caddr, c->cport, &a.vaddr, c->vport);
		return nat_tap_out(w, p);
	}
	if (st != NULL)
		cliaddr_out(st, p);
	pkt_set_saddr(p, &a.vaddr);
	pkt_set_sport(p, c->vport);
	pkt_set_daddr(p, &a.caddr);
	pkt_set_dport(p, c->cport);
	return nat_out(w, nh_client(p->af, &a.caddr, &a.vaddr, w->id), p);
}
