/* xmit_nat.c - nat and fullnat: rewrite addresses and ports, send out toward the next hop */
#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliaddr.h"
#include "conf.h"
#include "conn.h"
#include "laddr.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "nexthop.h"
#include "pkt.h"
#include "stats.h"
#include "steer.h"
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
/*
 * A real server's fragments: the kernel's rule lookup dissects no ports
 * from a fragment, the first one included (fib4_rules_early_flow_dissect
 * and fib6's do not ask for FLOW_DISSECTOR_F_PARSE_1ST_FRAG), so it sees
 * sport 0, which no rule can name (a port range starts at 1). Per nat real
 * server address, interface and protocol: what has a port (1-65534, the
 * most a range may hold) jumps over the next rule (goto NAT_SKIP_PRIO, one
 * nop rule there); what is left, its fragments, goes into the TAP. Its own
 * unfragmented traffic routes as before; its own fragmented traffic (not
 * a reply), and its datagrams from port 65535, which no range may hold,
 * take the TAP too, where they find no flow and the daemon routes them on
 * as the kernel would have (fwd.h): straight out toward their next hop,
 * or back into the TAP, from which none of these rules (they name the
 * real server's interface) brings them back.
 */
#define NAT_PORT_PRIO   7601    /* ports seen: over the fragment rule */
#define NAT_FRAG_PRIO   7602    /* none: a fragment, into the TAP */
#define NAT_SKIP_PRIO   7603    /* the nop the jump lands on */

/* ---- binding ---- */

/*
 * What the host holds for nat and fullnat, made and unmade at run time by
 * xmit_nat_sync() after every change of the services (start, vsradm,
 * reload): per nat real server (address, port, protocol) a policy rule
 * steering its replies into the TAP, and one for the ICMP errors from its
 * address; per family one table route into the TAP via the reply gateway
 * (steer.h); per fullnat
 * interface (toward fullnat real servers) and pool address, a proxy
 * neighbour entry while the director is a master (role.c); per pool
 * address a route into the TAP. Everything journaled (netlink.c); what is
 * no longer wanted is removed.
 */
enum nat_kind { NM_RULE, NM_TABLE, NM_LROUTE, NM_PROXY, NM_MROUTE };

struct nat_made {
	enum nat_kind  kind;
	bool           want;
	struct nl_rule r;               /* NM_RULE */
	int            af;              /* the others */
	union vsr_addr addr;            /* NM_LROUTE NM_PROXY: the pool address */
	union vsr_addr gw;              /* NM_TABLE NM_MROUTE: the gateway it goes via */
	int            ifindex;         /* NM_PROXY */
};
static struct nat_made *nat_made;
static unsigned nat_nmade, nat_cap;
static struct xmit_link nat_rs_if[16];  /* interfaces toward fullnat real servers, per family */
static unsigned nat_nrs_if;
/* The pool is answered for (proxy entries): a master's, as role.c says. */
static bool nat_announce;
static bool nat_ready, nat_rp_done;
static int nat_tap_ifindex;
static char nat_tap[IF_NAMESIZE];
static const struct config *nat_checking;
static int (*nat_family_hook)(int af);

void
xmit_nat_set_family_hook(int (*fn)(int af))
{
	nat_family_hook = fn;
}

void
xmit_nat_checking(const struct config *c)
{
	nat_checking = c;
}

void
xmit_nat_close(void)
{
	free(nat_made);
	nat_made = NULL;
	nat_nmade = nat_cap = 0;
	nat_nrs_if = 0;
	nat_ready = nat_rp_done = false;
}

static int
nat_bind_common(struct dest *d, int tap_ifindex, char *err, size_t errlen,
    struct nl_route_info *ri)
{
	return link_route(d->af, &d->addr, tap_ifindex, ri, err, errlen);
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

/* Local addresses of family AF in the pool being checked (a reload's), or in the running one. */
static unsigned
nat_pool_af(int af)
{
	unsigned n = 0;

	if (nat_checking == NULL)
		return laddr_count_af(af);
	for (unsigned i = 0; i < nat_checking->nladdr; i++)
		n += nat_checking->laddr[i].af == af;
	return n;
}

int
xmit_fullnat_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	struct nl_route_info ri;

	if (nat_pool_af(d->af) == 0) {
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

static bool
nat_same(const struct nat_made *m, const struct nat_made *k)
{
	if (m->kind != k->kind || m->af != k->af)
		return false;
	switch (k->kind) {
	case NM_RULE:
		return m->r.af == k->r.af && addr_eq(&m->r.src, &k->r.src) &&
		    m->r.plen == k->r.plen && m->r.iif == k->r.iif &&
		    m->r.ipproto == k->r.ipproto && m->r.sport == k->r.sport &&
		    m->r.table == k->r.table && m->r.prio == k->r.prio && m->r.fwmark == k->r.fwmark &&
		    m->r.sport_end == k->r.sport_end && m->r.goto_prio == k->r.goto_prio &&
		    m->r.nop == k->r.nop;
	case NM_TABLE:
		return true;
	case NM_LROUTE:
		return addr_eq(&m->addr, &k->addr);
	case NM_PROXY:
		return addr_eq(&m->addr, &k->addr) && m->ifindex == k->ifindex;
	case NM_MROUTE:
		return m->r.table == k->r.table && addr_eq(&m->gw, &k->gw);
	}
	return false;
}

static int
nat_make(const struct nat_made *k)
{
	static const union vsr_addr any;

	switch (k->kind) {
	case NM_RULE:
		return nl_rule_add(&k->r);
	case NM_TABLE:
		/*
		 * One onlink next hop on the TAP, not a neighbour per client:
		 * the reply gateway, which the daemon answers ARP and
		 * neighbour solicitations for with the reply MAC, so that the
		 * TAP's steering knows the frames for replies (steer.h).
		 */
		return nl_route_add_via(k->af, &any, 0, &k->gw, nat_tap_ifindex, NAT_RULE_TABLE);
	case NM_LROUTE:
		return nl_route_add(k->af, &k->addr, (int)addr_len(k->af) * 8, nat_tap_ifindex);
	case NM_PROXY:
		return nl_proxy_neigh_add(k->af, &k->addr, k->ifindex);
	case NM_MROUTE:
		return nl_route_add_via(k->af, &any, 0, &k->gw, nat_tap_ifindex, k->r.table);
	}
	return -1;
}

static int
nat_unmake(const struct nat_made *m)
{
	static const union vsr_addr any;

	switch (m->kind) {
	case NM_RULE:
		return nl_rule_del(&m->r);
	case NM_TABLE:
		return nl_route_del_via(m->af, &any, 0, &m->gw, nat_tap_ifindex, NAT_RULE_TABLE);
	case NM_LROUTE:
		return nl_route_del(m->af, &m->addr, (int)addr_len(m->af) * 8, nat_tap_ifindex);
	case NM_PROXY:
		return nl_proxy_neigh_del(m->af, &m->addr, m->ifindex);
	case NM_MROUTE:
		return nl_route_del_via(m->af, &any, 0, &m->gw, nat_tap_ifindex, m->r.table);
	}
	return -1;
}

/* K is wanted: marked if it is there, else made and recorded. */
static int
nat_want(const struct nat_made *k)
{
	for (unsigned i = 0; i < nat_nmade; i++)
		if (nat_same(&nat_made[i], k)) {
			nat_made[i].want = true;
			return 0;
		}
	if (nat_nmade == nat_cap) {
		unsigned cap = nat_cap ? nat_cap * 2 : 32;
		struct nat_made *n = realloc(nat_made, cap * sizeof(*n));
		if (n == NULL) {
			log_warn("nat host set-up");
			return -1;
		}
		nat_made = n;
		nat_cap = cap;
	}
	if (nat_make(k) < 0)
		return -1;
	nat_made[nat_nmade] = *k;
	nat_made[nat_nmade++].want = true;
	return 0;
}

/* The table route of family AF, via the reply gateway. */
static int
nat_want_table(int af)
{
	return nat_want(&(struct nat_made){ .kind = NM_TABLE, .af = af,
	    .gw = steer_reply_gw(af) });
}

static int
nat_want_rs_if(int oif, int af)
{
	char path[128], ifn[IF_NAMESIZE];
	int v6 = af == AF_INET6;

	for (unsigned i = 0; i < nat_nrs_if; i++)
		if (nat_rs_if[i].ifindex == oif && nat_rs_if[i].af == af)
			return 0;
	if (nat_nrs_if == ARRAY_SIZE(nat_rs_if)) {
		log_warnx("fullnat: more than %zu interfaces toward real servers",
		    ARRAY_SIZE(nat_rs_if));
		return -1;
	}
	nat_rs_if[nat_nrs_if].ifindex = oif;
	nat_rs_if[nat_nrs_if++].af = af;
	/* The pool answered for at once; IPv6 proxy entries answered at all. */
	if (if_indextoname((unsigned)oif, ifn) == NULL)
		return -1;
	snprintf(path, sizeof(path), "net/ipv%c/neigh/%s/proxy_delay", v6 ? '6' : '4', ifn);
	if (sysctl_set(path, "0") < 0)
		return -1;
	snprintf(path, sizeof(path), "net/ipv6/conf/%s/proxy_ndp", ifn);
	if (v6 && sysctl_set(path, "1") < 0)
		return -1;
	return 0;
}

int
xmit_nat_announce(bool on)
{
	nat_announce = on;
	return xmit_nat_sync();
}

/*
 * What the host holds for nat or fullnat real server D (else nothing): a
 * nat one's policy rules, a fullnat one's interface (FULLNAT[family] set).
 */
static int
nat_want_dest(const struct dest *d, bool fullnat[2])
{
	struct nl_route_info ri;
	int f = d->af == AF_INET6, rc = 0;

	if (d->fwd != FWD_NAT && d->fwd != FWD_FULLNAT)
		return 0;
	if (nl_route_get(d->af, &d->addr, &ri) < 0)
		return -1;
	if (!f && !nat_rp_done) {
		if (nat_rp_filter(nat_tap) < 0)
			rc = -1;
		nat_rp_done = true;
	}
	if (d->fwd == FWD_FULLNAT) {
		fullnat[f] = true;
		return nat_want_rs_if(ri.oif, d->af) < 0 ? -1 : rc;
	}
	if (nat_want_table(d->af) < 0)
		rc = -1;
	struct nat_made k = { .kind = NM_RULE, .af = d->af, .r = {
		.af = d->af, .src = d->addr, .plen = (int)addr_len(d->af) * 8,
		.iif = ri.oif, .ipproto = d->proto, .sport = d->port,
		.table = NAT_RULE_TABLE, .prio = NAT_RULE_PRIO,
	} };
	if (nat_want(&k) < 0)
		rc = -1;
	/* Its replies' fragments (NAT_FRAG_PRIO): the nop first, so that the jump never misses it. */
	if (nat_want(&(struct nat_made){ .kind = NM_RULE, .af = d->af, .r = {
	    .af = d->af, .prio = NAT_SKIP_PRIO, .nop = true } }) < 0)
		rc = -1;
	k.r.sport = htons(1);
	k.r.sport_end = htons(65534);
	k.r.table = 0;
	k.r.prio = NAT_PORT_PRIO;
	k.r.goto_prio = NAT_SKIP_PRIO;
	if (nat_want(&k) < 0)
		rc = -1;
	k.r.sport = k.r.sport_end = 0;
	k.r.goto_prio = 0;
	k.r.table = NAT_RULE_TABLE;
	k.r.prio = NAT_FRAG_PRIO;
	if (nat_want(&k) < 0)
		rc = -1;
	/* ICMP errors about the clients' packets, to be translated. */
	k.r.ipproto = f ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	k.r.prio = NAT_RULE_PRIO;
	if (nat_want(&k) < 0)
		rc = -1;
	return rc;
}

int
xmit_nat_sync(void)
{
	struct service *s;
	struct dest *d;
	bool fullnat[2] = { false, false };
	int rc = 0;

	if (!nat_ready)
		return 0;
	for (unsigned i = 0; i < nat_nmade; i++)
		nat_made[i].want = false;
	nat_nrs_if = 0;
	/*
	 * Firewall-mark services: the host's marked packets routed into the
	 * TAP via the gateway whose MAC names the mark (svc.h).
	 */
	TAILQ_FOREACH(s, svc_list(), entry) {
		if (!s->fwmark)
			continue;
		/* The TAP and the host take part in the family (an IPv6 one may have no VIP). */
		if (nat_family_hook != NULL && nat_family_hook(s->af) < 0) {
			rc = -1;
			continue;
		}
		uint32_t table = SVC_MARK_TABLE + s->mark_slot;
		struct nat_made k = { .kind = NM_RULE, .af = s->af, .r = { .af = s->af,
		    .fwmark = s->fwmark, .table = table, .prio = SVC_MARK_PRIO } };
		if (nat_want(&k) < 0)
			rc = -1;
		k = (struct nat_made){ .kind = NM_MROUTE, .af = s->af,
		    .gw = svc_mark_gw(s->af, s->mark_slot), .r = { .table = table } };
		if (nat_want(&k) < 0)
			rc = -1;
	}
	/*
	 * Every nat and fullnat real server that may have flows: those its
	 * scheduler picks, those its health check took out, its sorry server
	 * (in use or not), and those taken out of their service that
	 * connections still hold (svc.h, dest_orphans: until their last
	 * flow ends, which the sweep hears and calls this again).
	 */
	TAILQ_FOREACH(s, svc_list(), entry) {
		TAILQ_FOREACH(d, &s->dests, entry)
			if (nat_want_dest(d, fullnat) < 0)
				rc = -1;
		TAILQ_FOREACH(d, &s->removed, entry)
			if (nat_want_dest(d, fullnat) < 0)
				rc = -1;
		if (s->sorry != NULL && (s->sorry->flags & DEST_F_OUT) &&
		    nat_want_dest(s->sorry, fullnat) < 0)
			rc = -1;
	}
	TAILQ_FOREACH(d, dest_orphans(), entry)
		if (nat_want_dest(d, fullnat) < 0)
			rc = -1;
	/*
	 * The pool: routed into the TAP; answered for on the real servers'
	 * LANs (proxy ARP, or proxy NDP), each address on the interfaces
	 * toward the real servers of its family, by a master (role.c).
	 */
	for (unsigned i = 0; i < laddr_count(); i++) {
		const struct vsr_ip *la = laddr_get(i);
		if (!fullnat[la->af == AF_INET6])
			continue;
		if (nat_want(&(struct nat_made){ .kind = NM_LROUTE, .af = la->af,
		    .addr = la->addr }) < 0)
			rc = -1;
		for (unsigned j = 0; j < nat_nrs_if && nat_announce; j++)
			if (nat_rs_if[j].af == la->af &&
			    nat_want(&(struct nat_made){ .kind = NM_PROXY, .af = la->af,
			    .addr = la->addr, .ifindex = nat_rs_if[j].ifindex }) < 0)
				rc = -1;
	}
	/* What is no longer wanted goes: rules, then the nop they jump to, then the rest. */
	for (int pass = 0; pass < 3; pass++)
		for (unsigned i = 0; i < nat_nmade; ) {
			struct nat_made *m = &nat_made[i];
			int mpass = m->kind != NM_RULE ? 2 : m->r.nop ? 1 : 0;
			if (m->want || mpass != pass) {
				i++;
				continue;
			}
			if (nat_unmake(m) < 0)
				rc = -1;
			nat_made[i] = nat_made[--nat_nmade];
		}
	return rc;
}

int
xmit_nat_setup(int tap_ifindex, const char *tap)
{
	nat_tap_ifindex = tap_ifindex;
	snprintf(nat_tap, sizeof(nat_tap), "%s", tap);
	nat_ready = true;
	return xmit_nat_sync();
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
