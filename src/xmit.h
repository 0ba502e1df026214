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

/* Indexed by enum xmit_id; XMIT_NONE drops (and counts) what it is given. */
extern const xmit_fn xmit_table[XMIT_MAX];

int xmit_dr_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_dr(struct worker *w, struct conn *c, struct pkt *p);

/* tun: D's tunnel type, MTU and raw socket; packets queued, sent by xmit_tun_flush(). */
int xmit_tun_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_tun(struct worker *w, struct conn *c, struct pkt *p);
/* Send what xmit_tun() queued; called after each read batch, as link_flush_all(). */
void xmit_tun_flush(void);
/* Close the raw sockets (at exit). */
void xmit_tun_close(void);

#endif
