/* netlink.h - the director's host set-up over rtnetlink (libmnl), journaled for undo */
#ifndef VSR_NETLINK_H
#define VSR_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/*
 * Every change to the host made through this module (routes, rules, proxy
 * neighbour entries, addresses, sysctls with their old values, the TAP) is
 * recorded in a journal, and nl_undo_all() reverts the journal in reverse
 * order. Functions return 0 on success and -1 on failure after logging one
 * line that names the object and the kernel's reason (log_warnx/log_warn).
 * Addresses are of either family (AF, beside them), in network order; a
 * prefix length is at most 32 or 128.
 */

int  nl_init(void);             /* open and bind the rtnetlink socket */
/*
 * nl_undo_all() must have run first; an emptied journal file is removed
 * (or left empty where it cannot be), one that still holds changes stays
 * for the next start.
 */
void nl_fini(void);

/*
 * Keep the journal in the file PATH too, from now on (after nl_init(),
 * before any change): PATH is created (0600) or opened and locked (flock);
 * one locked by a running instance is refused, as is one that is not a
 * private regular file of our uid. What it holds -- the changes of an
 * earlier instance that could not undo them (kill -9, the OOM killer) --
 * is undone first, newest first, old sysctl values put back; one written
 * in another boot or network namespace is not acted upon. Then each change
 * is appended before it is made and each undo after it is done, one line
 * with a checksum each, so that a kill -9 at any moment leaves a file the
 * next start can use. 0, or -1 logged: nothing was changed.
 */
int  nl_journal_open(const char *path);

/*
 * The TAP NAME exists (it goes with its descriptors): journaled, so that
 * the undo removes a tun/tap device of that name should one be left.
 */
int  nl_link_journal(const char *name);

/* Link helpers. */
int  nl_link_up(int ifindex);
int  nl_link_mac(int ifindex, uint8_t mac[6]);
int  nl_link_mtu(int ifindex, unsigned *mtu);

/* "ip route add ADDR/PLEN dev IFINDEX scope link proto static"; journaled. */
int  nl_route_add(int af, const union vsr_addr *addr, int plen, int ifindex);
/* "ip neigh add proxy ADDR dev IFINDEX" (proxy ARP, proxy NDP); journaled. */
int  nl_proxy_neigh_add(int af, const union vsr_addr *addr, int ifindex);

/*
 * Reload sweep: remove what nl_route_add()/nl_proxy_neigh_add() made and
 * drop its journal entry; an object that is already gone is not an error.
 */
int  nl_route_del(int af, const union vsr_addr *addr, int plen, int ifindex);
/* The same for a route of nl_route_add_table(), e.g. an announce route. */
int  nl_route_del_table(int af, const union vsr_addr *addr, int plen, int ifindex,
    uint32_t table);
int  nl_proxy_neigh_del(int af, const union vsr_addr *addr, int ifindex);

/*
 * Policy routing for nat, e.g. "ip route add 0.0.0.0/0 dev TAP table 100"
 * (nl_route_add_via: "... via GATEWAY dev TAP onlink table 100") and
 * "ip rule add from RIP/32 ipproto tcp sport 8080 iif IIF lookup 100
 * pref 100" (IIF 0: any, IPPROTO 0 and SPORT 0: any, PRIO 0: the
 * kernel's choice); journaled. nl_rule_del() takes the same rule as
 * nl_rule_add() and drops its journal entry.
 */
struct nl_rule {
	int      af;
	union vsr_addr src;
	int      plen;
	int      iif;
	uint8_t  ipproto;
	uint16_t sport;       /* network order */
	uint16_t sport_end;   /* "sport SPORT-END" (network order), 0: SPORT alone */
	uint32_t fwmark;      /* "fwmark N", 0: any */
	uint32_t table;       /* 0 with goto_prio or nop */
	uint32_t prio;
	uint32_t goto_prio;   /* "goto N" instead of a table, 0: none */
	bool     nop;         /* "nop": only a target for goto */
};
int  nl_route_add_table(int af, const union vsr_addr *addr, int plen, int ifindex,
    uint32_t table);
/* GATEWAY of family AF, or NULL for none. */
int  nl_route_add_via(int af, const union vsr_addr *addr, int plen,
    const union vsr_addr *gateway, int ifindex, uint32_t table);
/* Remove what nl_route_add_via() made (the same arguments) and drop its journal entry. */
int  nl_route_del_via(int af, const union vsr_addr *addr, int plen,
    const union vsr_addr *gateway, int ifindex, uint32_t table);
int  nl_rule_add(const struct nl_rule *r);
int  nl_rule_del(const struct nl_rule *r);

/* What the kernel would do to reach ADDR ("ip route get ADDR"). */
struct nl_route_info {
	int      oif;         /* output interface index */
	union vsr_addr gateway;  /* zero when ADDR is on a directly connected link */
	union vsr_addr prefsrc;  /* preferred source address, zero if none */
	int      local;       /* ADDR is one of this host's own addresses */
	uint32_t mtu;         /* the route's own MTU metric ("mtu lock 1400"), 0 if none */
};
int  nl_route_get(int af, const union vsr_addr *addr, struct nl_route_info *out);

/* "ip addr add ADDR/PLEN dev IFINDEX" (IPv6: "nodad"); journaled (undo deletes it). */
int  nl_addr_add(int af, const union vsr_addr *addr, int plen, int ifindex);

/*
 * Forget the journal without undoing it: for a process whose changes all
 * go away with a device it owns, once it no longer has the privileges to
 * undo them one by one (vsrtun after dropping to -u USER).
 */
void nl_journal_forget(void);

/*
 * An address of family AF on IFINDEX: the first IPv4 one; for IPv6 a
 * link-local one if there is, else the first. -1 when there is none.
 */
int  nl_addr_get(int af, int ifindex, union vsr_addr *addr);

/* Kernel neighbour table lookup; 0 and MAC when a usable entry exists. */
int  nl_neigh_get(int af, const union vsr_addr *addr, int ifindex, uint8_t mac[6]);

/*
 * Write VALUE into /proc/sys/PATH (e.g. "net/ipv4/conf/vsr0/rp_filter"),
 * journaling the old value; nothing is journaled when it already holds
 * VALUE, or when the write fails.
 */
int  sysctl_set(const char *path, const char *value);
/* Read /proc/sys/PATH into BUF (newline stripped). */
int  sysctl_get(const char *path, char *buf, size_t len);

/* Undo every journaled change, newest first; logs what fails and goes on. */
void nl_undo_all(void);

/*
 * The monitor (nexthop.c): a socket of its own that the kernel tells of
 * every change to links, addresses, routes and rules (both families), and
 * neighbours. nl_monitor_read() reads what is queued (non-blocking) and
 * calls CB for each change of interest; events lost to a full socket
 * buffer come as one NL_EV_OVERRUN. nl_monitor_parse() does the same for
 * a buffer of messages (tests).
 */
enum nl_ev_kind { NL_EV_NEIGH, NL_EV_ROUTE, NL_EV_RULE, NL_EV_ADDR, NL_EV_LINK, NL_EV_OVERRUN };
struct nl_event {
	enum nl_ev_kind kind;
	int      del;         /* RTM_DEL* */
	int      af;          /* neighbour, route: its family */
	int      ifindex;     /* neighbour, link */
	union vsr_addr addr;  /* neighbour: its address */
	uint16_t state;       /* neighbour: NUD_* */
	int      usable;      /* neighbour: a state with a MAC to send to, in MAC */
	uint8_t  mac[6];
};
typedef void (*nl_event_fn)(const struct nl_event *ev, void *arg);
int  nl_monitor_open(void);
int  nl_monitor_read(int fd, nl_event_fn cb, void *arg);
int  nl_monitor_parse(const void *buf, size_t len, nl_event_fn cb, void *arg);

/*
 * Have the kernel resolve ADDR (of family AF) on IFINDEX as if it were
 * sending there (RTM_NEWNEIGH with NTF_USE: the entry is made if need be
 * and probed -- ARP or neighbour solicitations; nothing is configured,
 * nothing journaled); the answer comes to the monitor. Only for an
 * address without a usable entry: on an existing one this kernel first
 * sets the state given (none), MAC and all, even a permanent entry's.
 */
int  nl_neigh_use(int af, const union vsr_addr *addr, int ifindex);
/*
 * The kernel's entry for ADDR (of family AF) on IFINDEX: 0 with its NUD_*
 * state, and its MAC when the state has one to send to; -1 (errno ENOENT)
 * when there is none.
 */
int  nl_neigh_state(int af, const union vsr_addr *addr, int ifindex, uint8_t mac[6],
    uint16_t *state);
/*
 * How the kernel would forward a packet from SRC to DST (of family AF)
 * that arrived on IIF ("ip route get DST from SRC iif IIF"): policy rules
 * included.
 */
int  nl_route_get_input(int af, const union vsr_addr *dst, const union vsr_addr *src, int iif,
    struct nl_route_info *out);

#endif
