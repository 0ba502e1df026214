/* xmit.h - transmit functions, one per forwarding method, bound once per dest */
#ifndef VSR_XMIT_H
#define VSR_XMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "svc.h"

struct config;
struct worker;

/* The TAP's interface index, which the bindings check routes against: set once at start. */
void xmit_init(int tap_ifindex);

/*
 * svc.c's binder (svc_set_binder): bind D's transmit function and
 * whatever it needs on this host (for dr: the interface toward the real
 * server and its MAC). Returns 0, or -1 with the reason written into ERR.
 */
int xmit_bind(struct dest *d, char *err, size_t errlen);

/*
 * Reload: whether CONF can be applied on this host (its schedulers known,
 * each real server bindable), each problem logged as "FILE:LINE:
 * message". 0, or -1. Changes nothing that the workers use.
 */
int xmit_check(const struct config *conf);

/*
 * Send what W's batch queued on its output queues (the TAP, the links,
 * the tunnels), outside the data-path lock: after each batch, before its
 * receive buffers are reused.
 */
void xmit_flush(struct worker *w);

/*
 * Indexed by enum xmit_id; XMIT_NONE drops (and counts) what it is given.
 * xmit_table takes a client's packet (to a VIP, or an ICMP error about a
 * reply); xmit_out_table a real server's reply found by the out-direction
 * key (conn_lookup_out), or an ICMP error about a packet sent to it. Modes
 * that never see replies (dr, tun) have XMIT_NONE's function there.
 */
extern const xmit_fn xmit_table[XMIT_MAX];
extern const xmit_fn xmit_out_table[XMIT_MAX];

int xmit_dr_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_dr(struct worker *w, struct conn *c, struct pkt *p);

/*
 * nat and fullnat (xmit_nat.c): the packet is rewritten and written back
 * into the TAP for the kernel to route. xmit_nat_setup() makes the host
 * changes they need once every service is bound (policy rules, routes,
 * sysctls; journaled, see vsrouted.8); the pool's proxy entries are the
 * role's (role.c).
 */
int xmit_nat_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_fullnat_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_nat_setup(int tap_ifindex, const char *tap);
/*
 * After each change of the services, vsradm's or a reload's (under the
 * data-path lock, before the workers see it): make what the nat and
 * fullnat real servers and the pool now need on the host, remove what
 * they no longer need. 0, or -1 when a step failed (logged).
 */
int xmit_nat_sync(void);
/*
 * FN(af) readies the TAP and the host for a family (IPv6 on the TAP,
 * forwarding) before a mark service's route of that family is made: such
 * a service may have no VIP of its own to do it.
 */
void xmit_nat_set_family_hook(int (*fn)(int af));
/*
 * Whether the director answers for the local_address pool on the real
 * servers' links (role.c: on a master, not on a backup); then as
 * xmit_nat_sync().
 */
int xmit_nat_announce(bool on);
/* xmit_check's reload: fullnat bindings count the pool of C (NULL: the running one). */
void xmit_nat_checking(const struct config *c);
/* Forget what xmit_nat_setup() made (the journal undoes it). */
void xmit_nat_close(void);
/*
 * The links toward fullnat real servers, found by xmit_nat_setup(), each
 * with the family of the real servers it leads to: where the
 * local_address pool's addresses of that family are answered for (role.c
 * makes those proxy entries while the director is master). Their count;
 * *L the links.
 */
struct xmit_link {
	int ifindex;
	int af;
};
unsigned xmit_fullnat_links(const struct xmit_link **l);
int xmit_nat(struct worker *w, struct conn *c, struct pkt *p);
int xmit_nat_out(struct worker *w, struct conn *c, struct pkt *p);
int xmit_fullnat(struct worker *w, struct conn *c, struct pkt *p);
int xmit_fullnat_out(struct worker *w, struct conn *c, struct pkt *p);
/* tun: D's tunnel type, MTU and raw socket; packets queued on the worker's tunnel queue (tunnel.h). */
int xmit_tun_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_tun(struct worker *w, struct conn *c, struct pkt *p);

#endif
