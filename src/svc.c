/* svc.c - virtual services and their real servers (destinations) at run time */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sched.h"
#include "svc.h"

static struct service_list services = TAILQ_HEAD_INITIALIZER(services);
static struct dest_list orphans = TAILQ_HEAD_INITIALIZER(orphans);
static bool orphan_gone;

/*
 * Lookup by (proto, VIP, port): open addressing over a power-of-two array
 * of service pointers, at most half full, rebuilt when services change.
 */
static struct service **svc_tab;
static uint32_t svc_tab_mask;
static struct vsr_ip *vips;
static unsigned nvips;
/*
 * The VIPs again, hashed: svc_is_vip() runs for every packet (a client's
 * packet or a reply), so it must not scan. Open addressing, at most half
 * full; af 0 marks a free slot.
 */
static struct vsr_ip *vip_set;
static uint32_t vip_set_mask;

/* An IPv4 address as it is (as before IPv6 came), all of an IPv6 one folded. */
static inline uint32_t
svc_addr_key(int af, const union vsr_addr *a)
{
	return af == AF_INET6 ? addr_fold32(af, a) : a->ip;
}

static inline uint32_t
svc_hash(int af, uint8_t proto, const union vsr_addr *addr, uint16_t port)
{
	return hash32(svc_addr_key(af, addr) ^ ((uint32_t)port << 16 | proto));
}

struct service *
svc_lookup(int af, uint8_t proto, const union vsr_addr *addr, uint16_t port)
{
	if (svc_tab == NULL)
		return NULL;
	for (uint32_t i = svc_hash(af, proto, addr, port);; i++) {
		struct service *s = svc_tab[i & svc_tab_mask];
		if (s == NULL)
			return NULL;
		if (s->port == port && s->proto == proto && s->af == af &&
		    addr_eq(&s->addr, addr))
			return s;
	}
}

bool
svc_is_vip(int af, const union vsr_addr *addr)
{
	if (vip_set == NULL)
		return false;
	for (uint32_t i = hash32(svc_addr_key(af, addr));; i++) {
		const struct vsr_ip *v = &vip_set[i & vip_set_mask];
		if (v->af == af && addr_eq(&v->addr, addr))
			return true;
		if (v->af == 0)
			return false;
	}
}

/* ---- firewall-mark services ---- */

/* Per slot the mark and family of the service that holds it; mark 0: free. */
static uint32_t mark_of_slot[SVC_MARK_SLOTS];
static uint8_t  af6_of_slot[SVC_MARK_SLOTS];

union vsr_addr
svc_mark_addr(int af, uint32_t mark)
{
	union vsr_addr a;

	memset(&a, 0, sizeof(a));
	if (af == AF_INET6)
		memcpy(&a.b[12], &(uint32_t){ htonl(mark) }, 4);
	else
		a.ip = htonl(mark);
	return a;
}

union vsr_addr
svc_mark_gw(int af, unsigned slot)
{
	union vsr_addr a;

	if (af != AF_INET6)
		return addr_from_ip(htonl(0xa9fe7600u | (slot + 1)));   /* 169.254.118.N */
	memset(&a, 0, sizeof(a));                                       /* fe80::76:N */
	a.b[0] = 0xfe;
	a.b[1] = 0x80;
	a.b[13] = 0x76;
	a.b[15] = (uint8_t)(slot + 1);
	return a;
}

void
svc_mark_mac(uint32_t mark, uint8_t mac[6])
{
	mac[0] = 0x06;          /* unicast, locally administered */
	mac[1] = 0x76;
	mac[2] = (uint8_t)(mark >> 24);
	mac[3] = (uint8_t)(mark >> 16);
	mac[4] = (uint8_t)(mark >> 8);
	mac[5] = (uint8_t)mark;
}

bool
svc_mark_gw_lookup(int af, const union vsr_addr *addr, uint32_t *mark)
{
	unsigned n;

	if (af == AF_INET6) {
		static const uint8_t pre[15] = { 0xfe, 0x80, [13] = 0x76 };
		if (memcmp(addr->b, pre, sizeof(pre)) != 0)
			return false;
		n = addr->b[15];
	} else {
		uint32_t h = ntohl(addr->ip);
		if ((h & 0xffffff00u) != 0xa9fe7600u)
			return false;
		n = h & 0xff;
	}
	if (n == 0 || n > SVC_MARK_SLOTS || af6_of_slot[n - 1] != (af == AF_INET6))
		return false;
	*mark = mark_of_slot[n - 1];
	return *mark != 0;
}

unsigned
svc_vips(const struct vsr_ip **v)
{
	*v = vips;
	return nvips;
}

struct service_list *
svc_list(void)
{
	return &services;
}

static void (*vip_hook)(int af, const union vsr_addr *addr, int up);
static svc_binder_fn binder;

void
svc_set_vip_hook(void (*fn)(int af, const union vsr_addr *addr, int up))
{
	vip_hook = fn;
}

void
svc_set_binder(svc_binder_fn fn)
{
	binder = fn;
}

/* D's transmit function, through the binder: 0, or -1 with the reason in ERR. */
static int
dest_bind(struct dest *d, char *err, size_t errlen)
{
	if (d->svc != NULL && d->svc->ops && (d->fwd == FWD_NAT || d->fwd == FWD_FULLNAT)) {
		snprintf(err, errlen, "%s with one-packet scheduling: no entry is kept, so the "
		    "replies could not be translated; use dr or tun", fwd_name(d->fwd));
		return -1;
	}
	if (binder == NULL) {
		snprintf(err, errlen, "no transmit layer to bind the real server to");
		return -1;
	}
	return binder(d, err, errlen);
}

/*
 * Rebuild the lookup index and the VIP list from the service list; with
 * NOTIFY, tell the VIP hook which addresses appeared and which went.
 */
static int
svc_index_build(int notify)
{
	struct service *s;
	unsigned n = 0, size = 16;

	unsigned na = 0;
	TAILQ_FOREACH(s, &services, entry) {
		n++;
		na += s->fwmark ? s->nmaddr : 1;
	}
	if (na > n)
		n = na;
	while (size < 2 * n)
		size <<= 1;
	/* No service: no index (NULL is looked up as empty); this cannot fail. */
	struct service **tab = n ? calloc(size, sizeof(*tab)) : NULL;
	struct vsr_ip *v = n ? calloc(n, sizeof(*v)) : NULL;
	struct vsr_ip *set = n ? calloc(size, sizeof(*set)) : NULL;
	if (n && (tab == NULL || v == NULL || set == NULL)) {
		free(tab);
		free(v);
		free(set);
		log_warn("service index");
		return -1;
	}
	unsigned nv = 0;
	TAILQ_FOREACH(s, &services, entry) {
		uint32_t i = svc_hash(s->af, s->proto, &s->addr, s->port);
		struct vsr_ip vip = { .af = s->af, .addr = s->addr };
		while (tab[i & (size - 1)])
			i++;
		tab[i & (size - 1)] = s;
		/* A mark service's VIPs are its announce addresses; its own is its mark. */
		for (unsigned k = 0; k < (s->fwmark ? s->nmaddr : 1); k++) {
			unsigned j;
			if (s->fwmark)
				vip = s->maddr[k];
			for (j = 0; j < nv && !vsr_ip_eq(&v[j], &vip); j++)
				;
			if (j == nv) {
				v[nv++] = vip;
				for (i = hash32(svc_addr_key(vip.af, &vip.addr)); set[i & (size - 1)].af;
				    i++)
					;
				set[i & (size - 1)] = vip;
			}
		}
	}
	struct vsr_ip *old = vips;
	unsigned nold = nvips;
	free(svc_tab);
	svc_tab = tab;
	svc_tab_mask = size - 1;
	vips = v;
	nvips = nv;
	free(vip_set);
	vip_set = set;
	vip_set_mask = size - 1;
	if (notify && vip_hook) {
		for (unsigned i = 0; i < nold; i++)
			if (!svc_is_vip(old[i].af, &old[i].addr))
				vip_hook(old[i].af, &old[i].addr, 0);
		for (unsigned i = 0; i < nv; i++) {
			unsigned j;
			for (j = 0; j < nold && !vsr_ip_eq(&old[j], &v[i]); j++)
				;
			if (j == nold)
				vip_hook(v[i].af, &v[i].addr, 1);
		}
	}
	free(old);
	return 0;
}

void
dest_put(struct dest *d)
{
	if (--d->refcnt)
		return;
	if (d->flags & DEST_F_ORPHAN) {
		TAILQ_REMOVE(&orphans, d, entry);
		orphan_gone |= d->fwd == FWD_NAT || d->fwd == FWD_FULLNAT;
	}
	free(d);
}

struct dest_list *
dest_orphans(void)
{
	return &orphans;
}

bool
dest_orphans_gone(void)
{
	bool gone = orphan_gone;

	orphan_gone = false;
	return gone;
}

/* D, in no list of its service any more, leaves it: an orphan while connections hold it. */
static void
dest_leave(struct dest *d)
{
	d->svc = NULL;
	if (d->refcnt > 1) {
		TAILQ_INSERT_TAIL(&orphans, d, entry);
		d->flags |= DEST_F_ORPHAN;
	}
	dest_put(d);
}

/* A real server of S, scheduled or removed by its check; never the sorry server. */
struct dest *
dest_find(struct service *s, const union vsr_addr *addr, uint16_t port)
{
	struct dest *d;

	TAILQ_FOREACH(d, &s->dests, entry)
		if (addr_eq(&d->addr, addr) && d->port == port && !(d->flags & DEST_F_SORRY))
			return d;
	TAILQ_FOREACH(d, &s->removed, entry)
		if (addr_eq(&d->addr, addr) && d->port == port)
			return d;
	return NULL;
}

/* D (in dests) leaves the scheduler and the list, into LIST if not NULL. */
static void
dest_out(struct service *s, struct dest *d, struct dest_list *list)
{
	if (s->sched->del_dest)
		s->sched->del_dest(s, d);
	TAILQ_REMOVE(&s->dests, d, entry);
	s->ndests--;
	d->flags |= DEST_F_OUT;
	if (list != NULL)
		TAILQ_INSERT_TAIL(list, d, entry);
}

/* D goes back into dests and the scheduler (at the end, as ipvsadm -a). */
static int
dest_in(struct service *s, struct dest *d)
{
	TAILQ_INSERT_TAIL(&s->dests, d, entry);
	s->ndests++;
	if (s->sched->add_dest && s->sched->add_dest(s, d) < 0) {
		TAILQ_REMOVE(&s->dests, d, entry);
		s->ndests--;
		return -1;
	}
	d->flags &= ~DEST_F_OUT;
	return 0;
}

/* Unlink D from its service; connections holding it keep it allocated. */
static void
dest_unlink(struct service *s, struct dest *d)
{
	if (d->flags & DEST_F_REMOVED) {
		TAILQ_REMOVE(&s->removed, d, entry);
		d->flags &= ~DEST_F_REMOVED;
	} else if (!(d->flags & DEST_F_OUT)) {
		dest_out(s, d, NULL);
	}
	dest_leave(d);
}

/* A new dest of S from RC, bound, in no list yet. */
static struct dest *
dest_new(struct service *s, const struct rs_conf *rc, char *err, size_t errlen)
{
	struct dest *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "Memory allocation problem");
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", rc->name);
	d->af = s->af;
	d->proto = s->proto;
	d->addr = rc->addr;
	d->port = htons(rc->port);
	d->fwd = rc->fwd;
	d->tunnel = rc->tunnel;
	d->tunnel_mtu = rc->tunnel_mtu;
	d->client_addr = rc->client_addr;
	d->tunnel_keyed = rc->tunnel_keyed;
	d->tunnel_key = htonl(rc->tunnel_key);
	d->tunnel_port = htons(rc->tunnel_port);
	d->tunnel_csum = rc->tunnel_csum;
	d->weight = rc->weight;
	d->conf_weight = rc->weight;
	d->u_threshold = rc->upper;
	d->l_threshold = rc->lower;
	d->refcnt = 1;
	d->svc = s;             /* the binding may look at its service */
	d->flags = DEST_F_OUT;
	if (dest_bind(d, err, errlen) < 0) {
		free(d);
		return NULL;
	}
	return d;
}

static void svc_sorry_update(struct service *s);

int
dest_add(struct service *s, const struct rs_conf *rc, char *err, size_t errlen)
{
	struct dest *d;

	/* IPVS mixes families for tun only; a service here is of one. */
	if (rc->af != s->af) {
		snprintf(err, errlen, "Operation not supported with specified address family");
		return -1;
	}
	if (dest_find(s, &rc->addr, htons(rc->port)) != NULL) {
		snprintf(err, errlen, "Destination already exists");
		return -1;
	}
	if ((d = dest_new(s, rc, err, errlen)) == NULL)
		return -1;
	if (dest_in(s, d) < 0) {
		snprintf(err, errlen, "scheduler %s cannot take the real server (out of memory, "
		    "or more real servers than its table holds)", s->sched->name);
		free(d);
		return -1;
	}
	svc_sorry_update(s);
	return 0;
}

int
dest_edit(struct dest *d, const struct rs_conf *rc, char *err, size_t errlen)
{
	struct service *s = d->svc;

	if (rc->fwd != d->fwd || rc->tunnel != d->tunnel || rc->tunnel_mtu != d->tunnel_mtu ||
	    rc->tunnel_keyed != d->tunnel_keyed || htonl(rc->tunnel_key) != d->tunnel_key ||
	    htons(rc->tunnel_port) != d->tunnel_port || rc->tunnel_csum != d->tunnel_csum) {
		/* Bind anew; connections keep the function they were bound to. */
		enum fwd_method old = d->fwd;
		enum tunnel_type oldt = d->tunnel;
		unsigned oldm = d->tunnel_mtu;
		bool oldk = d->tunnel_keyed;
		uint32_t oldkey = d->tunnel_key;
		uint16_t oldport = d->tunnel_port;
		enum tunnel_csum oldcsum = d->tunnel_csum;
		d->fwd = rc->fwd;
		d->tunnel = rc->tunnel;
		d->tunnel_mtu = rc->tunnel_mtu;
		d->tunnel_keyed = rc->tunnel_keyed;
		d->tunnel_key = htonl(rc->tunnel_key);
		d->tunnel_port = htons(rc->tunnel_port);
		d->tunnel_csum = rc->tunnel_csum;
		if (dest_bind(d, err, errlen) < 0) {
			d->fwd = old;
			d->tunnel = oldt;
			d->tunnel_mtu = oldm;
			d->tunnel_keyed = oldk;
			d->tunnel_key = oldkey;
			d->tunnel_port = oldport;
			d->tunnel_csum = oldcsum;
			return -1;
		}
	}
	if (rc->name[0])
		snprintf(d->name, sizeof(d->name), "%s", rc->name);
	/* New flows take it; a flow keeps what it started with (conn.h). */
	d->client_addr = rc->client_addr;
	d->u_threshold = rc->upper;
	d->l_threshold = rc->lower;
	d->conf_weight = rc->weight;
	/* A real server down by its check (or a sorry server not in use) stays at 0. */
	int w = (d->flags & (DEST_F_DOWN | DEST_F_OUT)) ? 0 : rc->weight;
	if (d->weight != w) {
		d->weight = w;
		if (!(d->flags & DEST_F_OUT) && s->sched->upd_dest)
			s->sched->upd_dest(s, d);
	}
	return 0;
}

void
dest_set_down(struct dest *d, bool down, bool remove)
{
	struct service *s = d->svc;
	char a[ADDRPORT_STRLEN];
	int w;

	if (down)
		d->flags |= DEST_F_DOWN;
	else
		d->flags &= ~DEST_F_DOWN;
	w = down ? 0 : d->conf_weight;
	if (s == NULL) {                /* unlinked: only its connections hold it */
		d->weight = w;
		return;
	}
	if (down && remove && !(d->flags & DEST_F_REMOVED)) {
		d->weight = 0;          /* persistence templates to it are not followed */
		dest_out(s, d, &s->removed);
		d->flags |= DEST_F_REMOVED;
	} else if (!(down && remove) && (d->flags & DEST_F_REMOVED)) {
		TAILQ_REMOVE(&s->removed, d, entry);
		d->flags &= ~DEST_F_REMOVED;
		d->weight = w;
		if (dest_in(s, d) < 0) {
			/* Scheduler out of room: it stays out, as vsradm -a would fail. */
			log_warnx("real server %s/%s (%s): scheduler %s cannot take it back",
			    s->name, d->name, addr_port_ntop(d->af, &d->addr, ntohs(d->port), a,
			    sizeof(a)), s->sched->name);
			d->weight = 0;
			TAILQ_INSERT_TAIL(&s->removed, d, entry);
			d->flags |= DEST_F_REMOVED;
		}
	} else if (d->weight != w) {
		d->weight = w;
		if (!(d->flags & DEST_F_OUT) && s->sched->upd_dest)
			s->sched->upd_dest(s, d);
	}
	svc_sorry_update(s);
}

void
dest_del(struct dest *d)
{
	struct service *s = d->svc;

	dest_unlink(s, d);
	svc_sorry_update(s);
}

/*
 * The sorry server takes new flows while S has real servers and every one
 * is down by its check (so a service without checks never uses it), and
 * none as soon as one is back; its flows continue either way. Logged once
 * and counted on each switch.
 */
static void
svc_sorry_update(struct service *s)
{
	struct dest *d, *sd = s->sorry;
	unsigned n = 0, up = 0;
	char a[ADDRPORT_STRLEN];

	if (sd == NULL)
		return;
	TAILQ_FOREACH(d, &s->dests, entry)
		if (d != sd) {
			n++;
			up += !(d->flags & DEST_F_DOWN);
		}
	TAILQ_FOREACH(d, &s->removed, entry)
		n++;
	bool want = n > 0 && up == 0;
	if (want == svc_sorry_active(s))
		return;
	addr_port_ntop(sd->af, &sd->addr, ntohs(sd->port), a, sizeof(a));
	if (want) {
		sd->weight = sd->conf_weight;
		if (dest_in(s, sd) < 0) {
			sd->weight = 0;
			log_warnx("virtual server %s: every real server is down, and scheduler %s "
			    "cannot take the sorry server %s", s->name, s->sched->name, a);
			return;
		}
		s->sorry_ons++;
		STAT_INC(STAT_SORRY_ON);
		log_notice("virtual server %s: every real server is down: new flows go to the "
		    "sorry server %s", s->name, a);
	} else {
		sd->weight = 0;         /* persistence templates to it are not followed */
		dest_out(s, sd, NULL);
		s->sorry_offs++;
		STAT_INC(STAT_SORRY_OFF);
		log_notice("virtual server %s: %s: new flows go to the real servers again, not "
		    "to the sorry server %s", s->name, n ? "a real server is up" :
		    "no real server left", a);
	}
}

/* Drop S's sorry server: out of the scheduler if in use; its flows keep it. */
static void
svc_sorry_drop(struct service *s)
{
	struct dest *sd = s->sorry;

	if (sd == NULL)
		return;
	if (!(sd->flags & DEST_F_OUT))
		dest_out(s, sd, NULL);
	s->sorry = NULL;
	dest_leave(sd);
}

/*
 * Make S's sorry server what RC says (NULL: none): kept, with its state,
 * when its address and port stay; rebound when its forwarding changes.
 */
static int
svc_sorry_set(struct service *s, const struct rs_conf *rc, char *err, size_t errlen)
{
	struct dest *sd = s->sorry;

	if (sd != NULL && (rc == NULL || !addr_eq(&sd->addr, &rc->addr) ||
	    sd->port != htons(rc->port)))
		svc_sorry_drop(s);
	if (rc == NULL)
		return 0;
	if (s->sorry != NULL)
		return dest_edit(s->sorry, rc, err, errlen);
	if ((sd = dest_new(s, rc, err, errlen)) == NULL)
		return -1;
	sd->flags |= DEST_F_SORRY;
	sd->weight = 0;
	s->sorry = sd;
	return 0;
}

static void
svc_free(struct service *s)
{
	struct dest *d;

	svc_sorry_drop(s);
	while ((d = TAILQ_FIRST(&s->dests)) != NULL) {
		TAILQ_REMOVE(&s->dests, d, entry);
		dest_leave(d);
	}
	while ((d = TAILQ_FIRST(&s->removed)) != NULL) {
		TAILQ_REMOVE(&s->removed, d, entry);
		dest_leave(d);
	}
	if (s->sched && s->sched->done_service)
		s->sched->done_service(s);
	if (s->fwmark)
		mark_of_slot[s->mark_slot] = 0;
	free(s);
}

/* Service fields of VC into S, scheduler aside. */
static void
svc_fields(struct service *s, const struct vs_conf *vc)
{
	if (vc->name[0])
		snprintf(s->name, sizeof(s->name), "%s", vc->name);
	s->fwd = vc->fwd;
	s->tunnel = vc->tunnel;
	s->persistent = vc->persistent;
	s->ops = vc->ops;
	s->nmaddr = vc->nmaddr;
	memcpy(s->maddr, vc->maddr, sizeof(s->maddr));
	s->conn_limit = vc->conn_limit;
	s->synproxy = vc->synproxy;
	s->netmask = vc->netmask;
	s->flags = vc->flags;
	s->mh_size = vc->mh_size;
}

/* A new service from VC, without its real servers, not yet listed. */
static struct service *
svc_new(const struct vs_conf *vc, char *err, size_t errlen)
{
	struct service *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "Memory allocation problem");
		return NULL;
	}
	TAILQ_INIT(&s->dests);
	TAILQ_INIT(&s->removed);
	s->af = vc->af;
	s->addr = vc->addr;
	s->port = htons(vc->port);
	s->proto = (uint8_t)vc->proto;
	s->fwmark = vc->fwmark;
	if (s->fwmark) {
		unsigned k;
		for (k = 0; k < SVC_MARK_SLOTS && mark_of_slot[k]; k++)
			;
		if (k == SVC_MARK_SLOTS) {
			snprintf(err, errlen, "more than %d firewall-mark services", SVC_MARK_SLOTS);
			free(s);
			return NULL;
		}
		s->mark_slot = k;
		mark_of_slot[k] = s->fwmark;
		af6_of_slot[k] = s->af == AF_INET6;
	}
	svc_fields(s, vc);
	s->sched = sched_lookup(vc->sched);
	if (s->sched == NULL) {
		snprintf(err, errlen, "Scheduler not found: %s", vc->sched);
		if (s->fwmark)
			mark_of_slot[s->mark_slot] = 0;
		free(s);
		return NULL;
	}
	if (s->sched->init_service && s->sched->init_service(s) < 0) {
		snprintf(err, errlen, "scheduler %s: cannot initialise", vc->sched);
		if (s->fwmark)
			mark_of_slot[s->mark_slot] = 0;
		free(s);
		return NULL;
	}
	return s;
}

struct service *
svc_add(const struct vs_conf *vc, char *err, size_t errlen)
{
	struct service *s;

	if (svc_lookup(vc->af, (uint8_t)vc->proto, &vc->addr, htons(vc->port)) != NULL) {
		snprintf(err, errlen, "Service already exists");
		return NULL;
	}
	if ((s = svc_new(vc, err, errlen)) == NULL)
		return NULL;
	TAILQ_INSERT_TAIL(&services, s, entry);
	if (svc_index_build(1) < 0) {
		TAILQ_REMOVE(&services, s, entry);
		svc_free(s);
		snprintf(err, errlen, "Memory allocation problem");
		return NULL;
	}
	return s;
}

int
svc_edit(struct service *s, const struct vs_conf *vc, char *err, size_t errlen)
{
	const struct sched_ops *ns = sched_lookup(vc->sched);
	struct dest *d;

	if (ns == NULL) {
		snprintf(err, errlen, "Scheduler not found: %s", vc->sched);
		return -1;
	}
	/* Changes of the scheduler's inputs (flags, mh size) re-initialise it too. */
	if (ns != s->sched || vc->flags != s->flags || vc->mh_size != s->mh_size) {
		struct service tmp = *s;

		TAILQ_FOREACH(d, &s->dests, entry)
			if (s->sched->del_dest)
				s->sched->del_dest(s, d);
		if (s->sched->done_service)
			s->sched->done_service(s);
		s->sched_data = NULL;
		s->sched = ns;
		svc_fields(s, vc);
		if (ns->init_service && ns->init_service(s) < 0) {
			/* Back to the old one, which had worked. */
			*s = tmp;
			s->sched_data = NULL;
			if (s->sched->init_service)
				(void)s->sched->init_service(s);
			snprintf(err, errlen, "scheduler %s: cannot initialise", vc->sched);
		} else {
			err[0] = '\0';
		}
		TAILQ_FOREACH(d, &s->dests, entry)
			if (s->sched->add_dest)
				s->sched->add_dest(s, d);
		return err[0] ? -1 : 0;
	}
	svc_fields(s, vc);
	return 0;
}

/* S, out of the list and the index: its dests unlinked (their connections keep them), freed. */
static void
svc_release(struct service *s)
{
	struct dest *d;

	svc_sorry_drop(s);
	while ((d = TAILQ_FIRST(&s->dests)) != NULL)
		dest_unlink(s, d);
	while ((d = TAILQ_FIRST(&s->removed)) != NULL)
		dest_unlink(s, d);
	svc_free(s);
}

int
svc_del(struct service *s, char *err, size_t errlen)
{
	struct service *next = TAILQ_NEXT(s, entry);

	/* Out of the index first: when it cannot be rebuilt, nothing changes. */
	TAILQ_REMOVE(&services, s, entry);
	if (svc_index_build(1) < 0) {
		if (next != NULL)
			TAILQ_INSERT_BEFORE(next, s, entry);
		else
			TAILQ_INSERT_TAIL(&services, s, entry);
		snprintf(err, errlen, "Memory allocation problem");
		return -1;
	}
	svc_release(s);
	return 0;
}

void
svc_clear(void)
{
	struct service_list gone = TAILQ_HEAD_INITIALIZER(gone);
	struct service *s;

	TAILQ_CONCAT(&gone, &services, entry);
	(void)svc_index_build(1);       /* empty: allocates nothing */
	while ((s = TAILQ_FIRST(&gone)) != NULL) {
		TAILQ_REMOVE(&gone, s, entry);
		svc_release(s);
	}
}

int
svc_setup(const struct config *conf)
{
	char err[256], a[ADDR_STRLEN];
	int bad = 0;

	for (unsigned i = 0; i < conf->nvs; i++) {
		const struct vs_conf *vc = &conf->vs[i];
		struct service *s = svc_new(vc, err, sizeof(err));
		if (s == NULL) {
			log_errx("%s:%d: %s", conf->file, vc->line, err);
			bad = 1;
			continue;
		}
		TAILQ_INSERT_TAIL(&services, s, entry);
		for (unsigned j = 0; j < vc->nrs; j++) {
			const struct rs_conf *rc = &vc->rs[j];
			if (dest_add(s, rc, err, sizeof(err)) < 0) {
				log_errx("%s:%d: real server %s (%s): %s", conf->file, rc->line, rc->name,
				    addr_ntop(rc->af, &rc->addr, a, sizeof(a)), err);
				bad = 1;
			}
		}
		if (vc->has_sorry && svc_sorry_set(s, &vc->sorry, err, sizeof(err)) < 0) {
			log_errx("%s:%d: sorry server (%s): %s", conf->file, vc->sorry.line,
			    addr_ntop(vc->sorry.af, &vc->sorry.addr, a, sizeof(a)), err);
			bad = 1;
		}
	}
	if (bad || svc_index_build(0) < 0) {
		svc_teardown();
		return -1;
	}
	return 0;
}

void
svc_teardown(void)
{
	struct service *s;

	while ((s = TAILQ_FIRST(&services)) != NULL) {
		TAILQ_REMOVE(&services, s, entry);
		svc_free(s);
	}
	free(svc_tab);
	free(vip_set);
	vip_set = NULL;
	free(vips);
	svc_tab = NULL;
	vips = NULL;
	nvips = 0;
}

void
svc_zero(struct service *s)
{
	struct dest *d;

	memset(&s->stats, 0, sizeof(s->stats));
	stats_est_reset(&s->est, &s->stats);
	TAILQ_FOREACH(d, &s->dests, entry) {
		memset(&d->stats, 0, sizeof(d->stats));
		stats_est_reset(&d->est, &d->stats);
	}
	TAILQ_FOREACH(d, &s->removed, entry) {
		memset(&d->stats, 0, sizeof(d->stats));
		stats_est_reset(&d->est, &d->stats);
	}
	if (s->sorry != NULL && (s->sorry->flags & DEST_F_OUT)) {
		memset(&s->sorry->stats, 0, sizeof(s->sorry->stats));
		stats_est_reset(&s->sorry->est, &s->sorry->stats);
	}
}

void
svc_est_tick(void)
{
	struct service *s;
	struct dest *d;

	TAILQ_FOREACH(s, &services, entry) {
		stats_est_tick(&s->est, &s->stats);
		TAILQ_FOREACH(d, &s->dests, entry)
			stats_est_tick(&d->est, &d->stats);
		TAILQ_FOREACH(d, &s->removed, entry)
			stats_est_tick(&d->est, &d->stats);
		if (s->sorry != NULL && (s->sorry->flags & DEST_F_OUT))
			stats_est_tick(&s->sorry->est, &s->sorry->stats);
	}
}

static const struct vs_conf *
conf_find_vs(const struct config *conf, const struct service *s)
{
	for (unsigned i = 0; i < conf->nvs; i++) {
		const struct vs_conf *vc = &conf->vs[i];
		if ((uint8_t)vc->proto == s->proto && vc->af == s->af &&
		    addr_eq(&vc->addr, &s->addr) && htons(vc->port) == s->port)
			return vc;
	}
	return NULL;
}

static const struct rs_conf *
conf_find_rs(const struct vs_conf *vc, const struct dest *d)
{
	for (unsigned i = 0; i < vc->nrs; i++)
		if (vc->rs[i].af == d->af && addr_eq(&vc->rs[i].addr, &d->addr) &&
		    htons(vc->rs[i].port) == d->port)
			return &vc->rs[i];
	return NULL;
}

/*
 * Mark and sweep: what CONF has is added or changed in place (matched by
 * protocol, address and port), then what it no longer has is removed.
 * Adding first keeps a VIP that stays from being withdrawn for a moment.
 */
int
svc_merge(const struct config *conf)
{
	struct service *s, *snext;
	struct dest *d, *dnext;
	char err[256];
	int bad = 0;

	for (unsigned i = 0; i < conf->nvs; i++) {
		const struct vs_conf *vc = &conf->vs[i];
		s = svc_lookup(vc->af, (uint8_t)vc->proto, &vc->addr, htons(vc->port));
		if (s == NULL && (s = svc_add(vc, err, sizeof(err))) == NULL) {
			log_warnx("reload: virtual server %s: %s", vc->name, err);
			bad = 1;
			continue;
		}
		if (svc_edit(s, vc, err, sizeof(err)) < 0) {
			log_warnx("reload: virtual server %s: %s", vc->name, err);
			bad = 1;
		}
		for (d = TAILQ_FIRST(&s->dests); d; d = dnext) {
			dnext = TAILQ_NEXT(d, entry);
			if (!(d->flags & DEST_F_SORRY) && conf_find_rs(vc, d) == NULL)
				dest_del(d);
		}
		for (d = TAILQ_FIRST(&s->removed); d; d = dnext) {
			dnext = TAILQ_NEXT(d, entry);
			if (conf_find_rs(vc, d) == NULL)
				dest_del(d);
		}
		for (unsigned j = 0; j < vc->nrs; j++) {
			const struct rs_conf *rc = &vc->rs[j];
			d = dest_find(s, &rc->addr, htons(rc->port));
			if ((d ? dest_edit(d, rc, err, sizeof(err)) :
			    dest_add(s, rc, err, sizeof(err))) < 0) {
				log_warnx("reload: real server %s/%s: %s", vc->name, rc->name, err);
				bad = 1;
			}
		}
		if (svc_sorry_set(s, vc->has_sorry ? &vc->sorry : NULL, err, sizeof(err)) < 0) {
			log_warnx("reload: virtual server %s: sorry server: %s", vc->name, err);
			bad = 1;
		}
		svc_sorry_update(s);
	}
	for (s = TAILQ_FIRST(&services); s; s = snext) {
		snext = TAILQ_NEXT(s, entry);
		if (conf_find_vs(conf, s) == NULL && svc_del(s, err, sizeof(err)) < 0) {
			log_warnx("reload: virtual server %s: %s", s->name, err);
			bad = 1;
		}
	}
	/* A mark service's announce addresses may have changed: the VIPs follow. */
	if (svc_index_build(1) < 0)
		bad = 1;
	return bad ? -1 : 0;
}

/* The traffic counters and rates of ST and E into V (the first VSR_C_NSVC). */
static void
traffic_counters(const struct stats *st, const struct stats_est *e, uint64_t v[VSR_C_MAX])
{
	struct stats_rate r;

	stats_est_read(e, &r);
	memset(v, 0, sizeof(uint64_t) * VSR_C_MAX);
	v[VSR_C_CONNS] = st->conns;
	v[VSR_C_INPKTS] = st->inpkts;
	v[VSR_C_OUTPKTS] = st->outpkts;
	v[VSR_C_INBYTES] = st->inbytes;
	v[VSR_C_OUTBYTES] = st->outbytes;
	v[VSR_C_CPS] = r.cps;
	v[VSR_C_INPPS] = r.inpps;
	v[VSR_C_OUTPPS] = r.outpps;
	v[VSR_C_INBPS] = r.inbps;
	v[VSR_C_OUTBPS] = r.outbps;
}

void
svc_counters(const struct service *s, uint64_t v[VSR_C_MAX])
{
	traffic_counters(&s->stats, &s->est, v);
}

void
dest_counters(const struct dest *d, uint64_t v[VSR_C_MAX])
{
	traffic_counters(&d->stats, &d->est, v);
	v[VSR_C_ACTIVE] = d->activeconns;
	v[VSR_C_INACTIVE] = d->inactconns;
	v[VSR_C_PERSIST] = d->persistconns;
	v[VSR_C_WEIGHT] = d->weight > 0 ? (uint64_t)d->weight : 0;
	v[VSR_C_OVERLOADED] = !!(d->flags & DEST_F_OVERLOAD);
	v[VSR_C_HEALTHY] = !(d->flags & DEST_F_DOWN);
	v[VSR_C_REMOVED] = !!(d->flags & DEST_F_REMOVED);
	v[VSR_C_CHECK_DOWNS] = d->check_downs;
	v[VSR_C_CHECK_UPS] = d->check_ups;
}
