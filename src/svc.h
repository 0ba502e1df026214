/* svc.h - virtual services and their real servers (destinations) at run time */
#ifndef VSR_SVC_H
#define VSR_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "addr.h"
#include "common.h"
#include "conf.h"
#include "ctlproto.h"
#include "stats.h"

struct service;
struct check;
struct conn;
struct pkt;
struct worker;
struct neigh;
struct nexthop;

/*
 * A transmit function is bound once per destination and copied into each
 * connection (IPVS's ip_vs_bind_xmit) as a one-byte index into
 * xmit_table (xmit.h); the packet path calls through it, never switching
 * on the mode. Returns 0 when the packet was queued or sent, -1 when it
 * was dropped (and counted by the callee).
 */
typedef int (*xmit_fn)(struct worker *w, struct conn *c, struct pkt *p);

enum xmit_id {
	XMIT_NONE,       /* unbound */
	XMIT_DR,
	XMIT_TUN,
	XMIT_NAT,
	XMIT_FULLNAT,
	XMIT_MAX
};

#define DEST_F_OVERLOAD  0x1   /* above its upper threshold (ipvsadm -x) */
#define DEST_F_DOWN      0x2   /* failed its health check: weight 0 (check.c) */
#define DEST_F_REMOVED   0x4   /* down with on_failure = remove: in svc->removed */
#define DEST_F_SORRY     0x8   /* the service's sorry server (svc->sorry) */
#define DEST_F_OUT       0x10  /* not in svc->dests nor known to the scheduler */
#define DEST_F_ORPHAN    0x20  /* unlinked, held by connections: on dest_orphans() */

struct dest {
	TAILQ_ENTRY(dest) entry;       /* in svc->dests, config order */
	struct service  *svc;          /* NULL once unlinked */
	char             name[CONF_NAME_MAX];
	int              af;           /* its service's: AF_INET or AF_INET6 */
	uint8_t          proto;        /* its service's (an orphan's nat rules name it) */
	union vsr_addr   addr;
	uint16_t         port;         /* network order */
	enum fwd_method  fwd;
	int              weight;       /* in effect: 0 while DEST_F_DOWN */
	int              conf_weight;  /* configured (or set by vsradm): restored on recovery */
	unsigned         flags;        /* DEST_F_* */
	uint32_t         u_threshold;  /* ipvsadm -x: overloaded at this many connections, 0 = none */
	uint32_t         l_threshold;  /* ipvsadm -y: available again below this, 0 = 3/4 of upper */
	uint32_t         activeconns;  /* connections in ESTABLISHED */
	uint32_t         inactconns;   /* every other state */
	uint32_t         persistconns; /* persistence templates pointing here */
	uint32_t         refcnt;       /* bound connections + 1 while linked */
	struct stats     stats;
	struct stats_est est;          /* rates, moved by svc_est_tick */
	uint8_t          xmit_id;      /* enum xmit_id */
	struct neigh    *neigh;        /* dr: where the RS's MAC lives */
	struct nexthop  *nh;           /* nat, fullnat: its next hop (nexthop.h), NULL: the TAP */
	enum tunnel_type tunnel;       /* tun: ipip, gre or gue */
	unsigned         tunnel_mtu;   /* tun: configured path MTU, 0 = from the route */
	bool             tunnel_keyed; /* tun, gre: each packet carries tunnel_key */
	uint32_t         tunnel_key;   /* network order, as on the wire */
	uint16_t         tunnel_port;  /* tun, gue: the UDP port, network order */
	enum tunnel_csum tunnel_csum;  /* tun, gue: UDP checksum over IPv4 (IPv6: always), remcsum */
	unsigned         tun_inner_max;/* tun: largest inner packet that fits, bound */
	union vsr_addr   tun_src;      /* tun: the director's address toward it (logs) */
	enum client_addr client_addr;  /* fullnat: how it learns the client's address (new flows) */
	unsigned         ca_mtu;       /* fullnat: the path MTU toward it, bound (0: not known) */
	struct check    *check;        /* its health check (check.c's), NULL: none */
	uint64_t         check_downs;  /* health check transitions up -> down */
	uint64_t         check_ups;    /* and down -> up */
};

TAILQ_HEAD(dest_list, dest);

struct service {
	TAILQ_ENTRY(service) entry;
	char             name[CONF_NAME_MAX];
	int              af;           /* AF_INET or AF_INET6, its dests' too */
	union vsr_addr   addr;         /* the VIP */
	uint16_t         port;         /* network order */
	uint8_t          proto;        /* IPPROTO_TCP / IPPROTO_UDP */
	enum fwd_method  fwd;          /* default for its dests */
	enum tunnel_type tunnel;
	unsigned         flags;        /* SVC_F_* */
	unsigned         mh_size;      /* mh: lookup table size, a prime */
	unsigned         persistent;   /* seconds, 0 = off */
	bool             ops;          /* one-packet scheduling: UDP datagrams keep no entry */
	uint32_t         fwmark;       /* a firewall-mark service: addr is svc_mark_addr() */
	unsigned         mark_slot;    /* its routing table and gateway (svc_mark_gw) */
	struct vsr_ip    maddr[CONF_MADDR_MAX];  /* the addresses it answers for */
	unsigned         nmaddr;
	unsigned         conn_limit;   /* live flows at most, 0 = no limit (defence.c) */
	bool             synproxy;     /* TCP: the director answers the handshake (synproxy.h) */
	union vsr_addr   netmask;      /* persistence granularity, of the service's family */
	const struct sched_ops *sched;
	void            *sched_data;
	struct dest_list dests;        /* what the scheduler picks from */
	unsigned         ndests;
	/*
	 * Real servers their check took out (on_failure = remove): still the
	 * service's (d->svc set, found by dest_find, checked), not scheduled.
	 */
	struct dest_list removed;
	/*
	 * The sorry server, or NULL: in dests, weight 1, only while every real
	 * server is down by its check; otherwise DEST_F_OUT and weight 0.
	 */
	struct dest     *sorry;
	uint64_t         sorry_ons;    /* switches to the sorry server */
	uint64_t         sorry_offs;   /* and back to the real servers */
	struct stats     stats;
	struct stats_est est;
};

TAILQ_HEAD(service_list, service);

/* A dest may receive new flows: weight > 0 and not overloaded. */
static inline bool
dest_available(const struct dest *d)
{
	return d->weight > 0 && !(d->flags & DEST_F_OVERLOAD);
}

/* IPVS's overhead for lc/wlc: ActiveConn * 256 + InActConn. */
static inline uint32_t
dest_overhead(const struct dest *d)
{
	return (d->activeconns << 8) + d->inactconns;
}

/* Take / drop a reference; the last put frees an unlinked dest. */
static inline void
dest_hold(struct dest *d)
{
	d->refcnt++;
}
void dest_put(struct dest *d);
/*
 * The real servers taken out of their service (vsradm -d, a reload, a
 * service deleted, a sorry server replaced) that connections still hold:
 * their flows go on, as IPVS's do to a server in its trash, and what the
 * host holds for them (a nat server's policy rules, xmit_nat_sync) stays
 * while they do. dest_orphans_gone says, once, that the last flow of a
 * nat or fullnat one ended since it was last asked: what the host holds
 * for it can go. Both under the shared lock (lock.h), where dest_put is.
 */
struct dest_list *dest_orphans(void);
bool dest_orphans_gone(void);

/*
 * How a real server gets its transmit function on this host (xmit_bind:
 * routes, links, neighbours, sockets): the registry only records what a
 * real server is and calls the binder, set once at start, for each new
 * dest and each change of its forwarding method. 0, or -1 with the reason
 * in ERR.
 */
typedef int (*svc_binder_fn)(struct dest *d, char *err, size_t errlen);
void svc_set_binder(svc_binder_fn fn);

/*
 * Build the run-time services from CONF (schedulers initialised, transmit
 * functions bound through the binder). Returns 0, or -1 after logging each
 * problem as "FILE:LINE: message"; on failure nothing is left allocated.
 */
int  svc_setup(const struct config *conf);
void svc_teardown(void);

/* The service for a packet's destination (family AF), or NULL. */
struct service *svc_lookup(int af, uint8_t proto, const union vsr_addr *addr, uint16_t port);
/*
 * Firewall-mark services. IPVS keys one by its mark where others have an
 * address (proto and port 0): svc_mark_addr() is that address. The daemon
 * learns a packet's mark from routing (DESIGN.md): per mark service a rule
 * "fwmark N lookup SVC_MARK_TABLE+slot" and a route "default via GW dev TAP"
 * in that table; GW (svc_mark_gw: 169.254.118.slot+1, or fe80::76:slot+1 for
 * an IPv6 service) is answered for (ARP, or neighbour solicitations) with
 * svc_mark_mac(N), so the frame's destination MAC names the mark; the
 * frame's own family says which of the two services of mark N it is for.
 */
#define SVC_MARK_TABLE  7700
#define SVC_MARK_PRIO   7590
#define SVC_MARK_SLOTS  250
union vsr_addr svc_mark_addr(int af, uint32_t mark);
union vsr_addr svc_mark_gw(int af, unsigned slot);
void svc_mark_mac(uint32_t mark, uint8_t mac[6]);
/* MAC is one svc_mark_mac() made: its mark into *MARK. */
static inline bool
svc_mac_mark(const uint8_t *mac, uint32_t *mark)
{
	if (mac[0] != 0x06 || mac[1] != 0x76)
		return false;
	*mark = (uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
	return true;
}
/* ADDR (of family AF) is the gateway of a mark service's table: its mark into *MARK. */
bool svc_mark_gw_lookup(int af, const union vsr_addr *addr, uint32_t *mark);
/* The VIPs of the running services, each once (a mark service's are its announce addresses). */
unsigned svc_vips(const struct vsr_ip **v);
/* ADDR (of family AF) is one of the VIPs. */
bool svc_is_vip(int af, const union vsr_addr *addr);
/* Iterate all services (for stats dumps and set-up). */
struct service_list *svc_list(void);

/*
 * Run-time changes, from vsradm (ctl.c) and from a reload: the one way
 * services and real servers change after set-up. Each keeps the scheduler
 * informed (sched.h), rebinds the transmit function when the forwarding
 * method changes, and rebuilds the service index; a VIP that appears or
 * goes is reported to the hook (routes, proxy ARP). On failure ERR holds
 * ipvsadm's wording ("Service already exists", "No such destination", ...)
 * and nothing changed. A removed dest that connections still hold stays
 * allocated (dest->svc NULL) until the last of them ends: they keep
 * flowing to it, as a drained real server.
 */
void svc_set_vip_hook(void (*fn)(int af, const union vsr_addr *addr, int up));
struct service *svc_add(const struct vs_conf *vc, char *err, size_t errlen);
int  svc_edit(struct service *s, const struct vs_conf *vc, char *err, size_t errlen);
int  svc_del(struct service *s, char *err, size_t errlen);
void svc_clear(void);
/* Zero the counters and rates of S and of its real servers. */
void svc_zero(struct service *s);
/* Every STATS_EST_SECS seconds: move the rate estimators of all services and real servers. */
void svc_est_tick(void);

/*
 * Reload, once CONF was checked against this host (xmit_check): make the
 * running services what CONF says, in place (mark and sweep), through
 * the functions above. 0, or -1 when any step failed (logged; the others
 * were made): the caller then merges the previous configuration back, so
 * that a reload is applied whole or not at all.
 */
int  svc_merge(const struct config *conf);

/*
 * The counters of VSR_COUNTERS (ctlproto.h) of a service (the first
 * VSR_C_NSVC; the others 0) or of a real server, for the control socket,
 * the SIGUSR1 dump and the metrics.
 */
void svc_counters(const struct service *s, uint64_t v[VSR_C_MAX]);
void dest_counters(const struct dest *d, uint64_t v[VSR_C_MAX]);

/* ADDR is of S's family. */
struct dest *dest_find(struct service *s, const union vsr_addr *addr, uint16_t port);
int  dest_add(struct service *s, const struct rs_conf *rc, char *err, size_t errlen);
int  dest_edit(struct dest *d, const struct rs_conf *rc, char *err, size_t errlen);
void dest_del(struct dest *d);
/*
 * Health check verdict (check.c): DOWN takes D out of scheduling, as weight
 * 0 would or, with REMOVE, as ipvsadm -d would (into svc->removed; existing
 * flows continue either way); up puts it back with its configured weight.
 * Through the scheduler, as an edit by vsradm does. The service's sorry
 * server is switched on or off when this changes whether any real server
 * is healthy.
 */
void dest_set_down(struct dest *d, bool down, bool remove);
/* The sorry server in use: S's real servers all down by their checks. */
static inline bool
svc_sorry_active(const struct service *s)
{
	return s->sorry != NULL && !(s->sorry->flags & DEST_F_OUT);
}

#endif
