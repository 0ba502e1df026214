/* role.h - the director's part in a pair: what a master announces and a backup withdraws */
#ifndef VSR_ROLE_H
#define VSR_ROLE_H

#include <stdint.h>

#include "addr.h"
#include "common.h"

struct config;
struct event_base;

/*
 * A master keeps proxy-neighbour entries ("ip neigh add proxy") for its
 * VIPs on the announce interfaces and for its fullnat local addresses on
 * the real servers' links, proxy ARP for IPv4 and proxy NDP for IPv6,
 * and on becoming master sends gratuitous ARP (IPv4) and unsolicited
 * neighbour advertisements (IPv6) for all of them, in a burst (at once, then ROLE_GARP_ROUNDS - 1 more
 * times, ROLE_GARP_GAP_MS apart, doubling). A backup removes those
 * entries and announces nothing; it keeps every service, real server,
 * check and connection (synced ones too), its routes into the TAP and
 * its nat rules, and forwards whatever still reaches it. The entries
 * are made and removed through netlink.c, so its journal undoes them.
 *
 * The decision is not ours: keepalived's VRRP makes it and calls
 * vsradm --role (etc/keepalived-vsrouted.conf). A change is logged once.
 * Everything here runs on the main thread, outside the data-path lock.
 */
#define ROLE_GARP_ROUNDS  3
#define ROLE_GARP_GAP_MS  500

/*
 * Take ROLE at start, after the VIP routes and the nat set-up: a master
 * announces, a backup makes sure nothing is announced (leftovers of an
 * instance that died included). The announce interfaces are CONF's.
 */
int  role_start(struct event_base *base, enum vsr_role role, const struct config *conf);
/* Switch to ROLE (WHY for the log). Becoming master again re-sends the burst. */
void role_set(enum vsr_role role, const char *why);
enum vsr_role role_get(void);
/* Started and master: what keeps proxy entries (xmit_nat.c's for the pool). */
int  role_master(void);
/* The announce interfaces after a reload (CONF's). */
void role_reconfig(const struct config *conf);
/*
 * A VIP (of family AF) added (UP) or gone at run time: its proxy entries
 * follow on a master, which also announces it at once when TELL.
 */
void role_vip(int af, const union vsr_addr *vip, int up, int tell);
/* A master announces every VIP and local address once more (after a reload). */
void role_announce(void);
/*
 * FN(MASTER) is called with each role taken (at start too), after the
 * proxy entries are made or removed: the daemon's own part of a role
 * (vsrouted.c: the announce routes of announce_table).
 */
void role_set_hook(void (*fn)(int master));
/* Timers freed; the entries stay for nl_undo_all(). */
void role_stop(void);

#endif
