/* ctl.h - the control socket: vsradm's requests, served from the event loop */
#ifndef VSR_CTL_H
#define VSR_CTL_H

#include <event2/event.h>

struct conn_table;

/*
 * The protocol, its request names, options and listing fields are in
 * ctlproto.h, shared with vsradm; this file is the socket.
 */

/* Listen on PATH (a stale socket there is replaced). 0, or -1 logged. */
/*
 * Listen on PATH. GROUP "" leaves the socket mode 0600 (root only);
 * otherwise it belongs to that group, mode 0660 (an unknown group fails).
 */
int  ctl_start(struct event_base *base, const char *path, const char *group,
    struct conn_table *ct);
/* Close every client and the listener, and unlink the socket. */
void ctl_stop(void);

#endif
