/* xmit.h - transmit functions, one per forwarding method, bound once per dest */
#ifndef VSR_XMIT_H
#define VSR_XMIT_H

#include <stddef.h>

#include "svc.h"

/*
 * Bind D's transmit function and whatever it needs on this host (for dr:
 * the interface toward the real server and its MAC). Returns 0, or -1 with
 * the reason written into ERR.
 */
int xmit_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);

struct nl_route_info;
/*
 * How the kernel reaches D's address, for binding: fails (reason in ERR)
 * when there is no route, when it is this host's own address, or when it
 * is routed into the TAP.
 */
int xmit_route(const struct dest *d, int tap_ifindex, struct nl_route_info *ri, char *err,
    size_t errlen);

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
 * proxy entries, sysctls; journaled, see vsrouted.8).
 */
#define NAT_RULE_TABLE  7600    /* the table nat replies are steered into */
#define NAT_RULE_PRIO   7600    /* priority of their rules */
int xmit_nat_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_fullnat_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_nat_setup(int tap_ifindex, const char *tap);
/* Forget what xmit_nat_setup() made (the journal undoes it). */
void xmit_nat_close(void);
int xmit_nat(struct worker *w, struct conn *c, struct pkt *p);
int xmit_nat_out(struct worker *w, struct conn *c, struct pkt *p);
int xmit_fullnat(struct worker *w, struct conn *c, struct pkt *p);
int xmit_fullnat_out(struct worker *w, struct conn *c, struct pkt *p);
/* tun: D's tunnel type, MTU and raw socket; packets queued, sent by xmit_tun_flush(). */
int xmit_tun_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_tun(struct worker *w, struct conn *c, struct pkt *p);
/* Send what xmit_tun() queued on worker Q's queue; after each read batch, as link_flush_all(). */
void xmit_tun_flush(unsigned q);
/* Close the raw sockets (at exit). */
void xmit_tun_close(void);

#endif
