/* xmit_nat.c - nat and fullnat: rewrite addresses and ports, send out toward the next hop */
#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	uint32_t addr;
	uint16_t port;
	uint8_t  proto;
};
static struct nat_rule_key *nat_rules;
static unsigned nat_nrules;
static int nat_rs_if[16];
static unsigned nat_nrs_if;
static bool nat_ready;

static bool
nat_rule_made(const struct dest *d)
{
	for (unsigned i = 0; i < nat_nrules; i++)
		if (nat_rules[i].addr == d->addr && nat_rules[i].port == d->port &&
		    nat_rules[i].proto == d->svc->proto)
			return true;
	return false;
}

static bool
nat_rs_if_made(int oif)
{
	for (unsigned i = 0; i < nat_nrs_if; i++)
		if (nat_rs_if[i] == oif)
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
	nat_rules[nat_nrules++] = (struct nat_rule_key){ d->addr, d->port, d->svc->proto };
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
	if (link_route(d->addr, tap_ifindex, ri, err, errlen) < 0)
		return -1;
	if (nat_ready && d->fwd == FWD_NAT && !nat_rule_made(d)) {
		snprintf(err, errlen, "a new nat real server needs a restart: its policy rule "
		    "is made at start");
		return -1;
	}
	if (nat_ready && d->fwd == FWD_FULLNAT && !nat_rs_if_made(ri->oif)) {
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
	d->nh = nh_get(d->addr);
	d->xmit_id = XMIT_NAT;
	return 0;
}

int
xmit_fullnat_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen)
{
	struct nl_route_info ri;

	if (laddr_count() == 0) {
		snprintf(err, errlen, "fullnat needs a local_address pool");
		return -1;
	}
	if (nat_bind_common(d, tap_ifindex, err, errlen, &ri) < 0)
		return -1;
	d->nh = nh_get(d->addr);
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
			if (o->fwd == FWD_NAT && o->addr == d->addr &&
			    (!port || (o->port == d->port && s->proto == d->svc->proto)))
				return true;
		}
	}
	return false;
}

int
xmit_nat_setup(int tap_ifindex, const char *tap)
{
	struct service *s;
	struct dest *d;
	struct nl_route_info ri;
	uint32_t gw = 0;
	bool nat = false, fullnat = false;
	char path[128], ifn[IF_NAMESIZE];

	TAILQ_FOREACH(s, svc_list(), entry) {
		TAILQ_FOREACH(d, &s->dests, entry) {
			if (d->fwd != FWD_NAT && d->fwd != FWD_FULLNAT)
				continue;
			if (nl_route_get(d->addr, &ri) < 0)
				return -1;
			if (d->fwd == FWD_FULLNAT) {
				unsigned i;
				fullnat = true;
				for (i = 0; i < nat_nrs_if && nat_rs_if[i] != ri.oif; i++)
					;
				if (i == nat_nrs_if && nat_nrs_if < ARRAY_SIZE(nat_rs_if))
					nat_rs_if[nat_nrs_if++] = ri.oif;
				continue;
			}
			if (!nat) {
				/*
				 * One onlink next hop on the TAP (a VIP, which the
				 * daemon answers ARP for), not a neighbour per client.
				 */
				gw = s->addr;
				if (nl_route_add_via(0, 0, gw, tap_ifindex, NAT_RULE_TABLE) < 0)
					return -1;
				nat = true;
			}
			struct nl_rule r = {
				.src = d->addr, .plen = 32, .iif = ri.oif,
				.ipproto = s->proto, .sport = d->port,
				.table = NAT_RULE_TABLE, .prio = NAT_RULE_PRIO,
			};
			if (!nat_seen(d, true) && nl_rule_add(&r) < 0)
				return -1;
			if (nat_rule_record(d) < 0)
				return -1;
			/* ICMP errors about the clients' packets, to be translated. */
			r.ipproto = IPPROTO_ICMP;
			r.sport = 0;
			if (!nat_seen(d, false) && nl_rule_add(&r) < 0)
				return -1;
		}
	}
	if ((nat || fullnat) && nat_rp_filter(tap) < 0)
		return -1;
	nat_ready = true;
	if (!fullnat)
		return 0;
	/* The pool: routed into the TAP, answered for on the real servers' LANs. */
	for (unsigned i = 0; i < nat_nrs_if; i++) {
		if (if_indextoname((unsigned)nat_rs_if[i], ifn) == NULL)
			return -1;
		snprintf(path, sizeof(path), "net/ipv4/neigh/%s/proxy_delay", ifn);
		if (sysctl_set(path, "0") < 0)
			return -1;
	}
	for (unsigned k = 0; k < laddr_count(); k++) {
		if (nl_route_add(laddr_get(k), 32, tap_ifindex) < 0)
			return -1;
		for (unsigned i = 0; i < nat_nrs_if; i++)
			if (nl_proxy_neigh_add(laddr_get(k), nat_rs_if[i]) < 0)
				return -1;
	}
	return 0;
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
 * the way out, or the interface does). Else into the TAP.
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
	link_tx(v.link, w->id, p->buf, p->len);
	return 0;
}

static void
put32(uint8_t *at, uint16_t *check, uint32_t v)
{
	uint32_t old;

	memcpy(&old, at, 4);
	if (check != NULL)
		csum_replace4(check, old, v);
	memcpy(at, &v, 4);
}

static void
put16(uint8_t *at, uint16_t *check, uint16_t v)
{
	uint16_t old;

	memcpy(&old, at, 2);
	if (check != NULL)
		csum_replace2(check, old, v);
	memcpy(at, &v, 2);
}

/*
 * An ICMP error: outer source and destination become OSRC and ODST, the
 * quoted packet QSRC:QSPORT -> QDST:QDPORT. The quoted TCP/UDP checksum is
 * updated when it was quoted (a UDP 0 stays 0), the quoted IP header
 * checksum and the ICMP checksum (over the quote) recomputed; the rest,
 * the MTU of "fragmentation needed" among it, is left as it is.
 */
static void
nat_icmp_rewrite(struct pkt *p, uint32_t osrc, uint32_t odst, uint32_t qsrc, uint16_t qsport,
    uint32_t qdst, uint16_t qdport)
{
	uint8_t *ip = p->data + p->l3off, *icmp = p->data + p->l4off;
	uint8_t *qip = icmp + ICMP_HLEN_;
	unsigned qihl = (qip[IP4_VHL] & 0x0f) * 4u;
	uint32_t have = p->len - p->l4off - ICMP_HLEN_;
	uint8_t *ql4 = qip + qihl;
	uint16_t *qcheck = NULL, zero = 0;

	put32(ip + IP4_SADDR, (uint16_t *)(ip + IP4_CSUM), osrc);
	put32(ip + IP4_DADDR, (uint16_t *)(ip + IP4_CSUM), odst);
	p->saddr = osrc;
	p->daddr = odst;

	if (qip[IP4_PROTO] == IPPROTO_TCP && have >= qihl + 18)
		qcheck = (uint16_t *)(ql4 + 16);
	else if (qip[IP4_PROTO] == IPPROTO_UDP && have >= qihl + 8 && memcmp(ql4 + 6, &zero, 2) != 0)
		qcheck = (uint16_t *)(ql4 + 6);
	put32(qip + IP4_SADDR, qcheck, qsrc);
	put32(qip + IP4_DADDR, qcheck, qdst);
	put16(ql4, qcheck, qsport);
	put16(ql4 + 2, qcheck, qdport);
	if (qcheck != NULL && qip[IP4_PROTO] == IPPROTO_UDP && *qcheck == 0)
		*qcheck = 0xffff;
	memset(qip + IP4_CSUM, 0, 2);
	{
		uint16_t c = csum_ip(qip, qihl);
		memcpy(qip + IP4_CSUM, &c, 2);
	}
	memset(icmp + 2, 0, 2);
	{
		uint16_t c = csum_fold(csum_partial(icmp, p->l4len, 0));
		memcpy(icmp + 2, &c, 2);
	}
}

int
xmit_nat(struct worker *w, struct conn *c, struct pkt *p)
{
	if (p->proto == IPPROTO_ICMP) {
		/*
		 * About VIP:vport -> client:cport. From the VIP: the error
		 * may come from this host's own kernel (a smaller MTU toward
		 * the client), and a packet with a local source coming out
		 * of the TAP would be dropped as a martian.
		 */
		nat_icmp_rewrite(p, c->vaddr, c->daddr, c->daddr, c->dport, c->caddr, c->cport);
		return nat_tap_out(w, p);
	}
	pkt_set_daddr(p, c->daddr);
	pkt_set_dport(p, c->dport);
	return nat_out(w, c->dest->nh, p);
}

int
xmit_nat_out(struct worker *w, struct conn *c, struct pkt *p)
{
	if (p->proto == IPPROTO_ICMP) {
		/* about client:cport -> RIP:rport */
		nat_icmp_rewrite(p, c->vaddr, p->daddr, c->caddr, c->cport, c->vaddr, c->vport);
		return nat_tap_out(w, p);
	}
	pkt_set_saddr(p, c->vaddr);
	pkt_set_sport(p, c->vport);
	return nat_out(w, nh_client(c->caddr, c->vaddr, w->id), p);
}

int
xmit_fullnat(struct worker *w, struct conn *c, struct pkt *p)
{
	if (p->proto == IPPROTO_ICMP) {
		/* about VIP:vport -> client:cport: from the LIP, as the flow */
		nat_icmp_rewrite(p, c->laddr, c->daddr, c->daddr, c->dport, c->laddr, c->lport);
		return nat_tap_out(w, p);
	}
	pkt_set_saddr(p, c->laddr);
	pkt_set_sport(p, c->lport);
	pkt_set_daddr(p, c->daddr);
	pkt_set_dport(p, c->dport);
	return nat_out(w, c->dest->nh, p);
}

int
xmit_fullnat_out(struct worker *w, struct conn *c, struct pkt *p)
{
	if (p->proto == IPPROTO_ICMP) {
		/* about LIP:lport -> RIP:rport */
		nat_icmp_rewrite(p, c->vaddr, c->caddr, c->caddr, c->cport, c->vaddr, c->vport);
		return nat_tap_out(w, p);
	}
	pkt_set_saddr(p, c->vaddr);
	pkt_set_sport(p, c->vport);
	pkt_set_daddr(p, c->caddr);
	pkt_set_dport(p, c->cport);
	return nat_out(w, nh_client(c->caddr, c->vaddr, w->id), p);
}
