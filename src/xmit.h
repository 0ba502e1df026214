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

/* Indexed by enum xmit_id; XMIT_NONE drops (and counts) what it is given. */
extern const xmit_fn xmit_table[XMIT_MAX];

int xmit_dr_bind(struct dest *d, int tap_ifindex, char *err, size_t errlen);
int xmit_dr(struct worker *w, struct conn *c, struct pkt *p);

#endif
