/* ctl.h - the control socket: vsradm's requests, served from the event loop */
#ifndef VSR_CTL_H
#define VSR_CTL_H

#include <event2/event.h>

struct conn_table;

/*
 * The protocol, its request names, options and listing fields are in
 * ctlproto.h, shared with vsradm; this file is the socket.
 */

/*
 * Listen on PATH (a stale socket there is replaced). Who may use it, from
 * the peer's credentials at accept: root and the members of GROUP
 * (control_group) everything; the members of GROUP_READ
 * (control_group_read) the requests that change nothing (list, conns,
 * timeout); anyone else gets "err permission denied" for its first
 * request and is closed (after CTL_REFUSED_S seconds without one; beyond
 * CTL_REFUSED_MAX such clients at once, at once), so that others cannot
 * take the operators' places.
 * The socket is mode 0600 with neither group, 0660 of GROUP with GROUP
 * alone, 0666 with GROUP_READ (a socket has one group: the credentials
 * decide). An unknown group fails. 0, or -1 logged.
 *
 * Bounds: CTL_CLIENTS_MAX clients; a client whose unread answers reach
 * CTL_OUT_MAX is not read from until it has taken half of them, and one
 * that takes nothing for CTL_STALL_S seconds is closed. When descriptors
 * run out (EMFILE), one held in reserve lets one more client in, and then
 * the listener pauses CTL_PAUSE_MS at a time instead of spinning.
 */
int  ctl_start(struct event_base *base, const char *path, const char *group,
    const char *group_read, struct conn_table *ct);
/* Close every client and the listener, and unlink the socket. */
void ctl_stop(void);
/*
 * A reload's control socket: on another PATH a new socket listens before
 * the old one is closed and unlinked (its clients stay connected); on the
 * same one the group and mode change in place. -1 (logged): nothing
 * changed, the old socket and groups stay.
 */
int  ctl_reconfig(const char *path, const char *group, const char *group_read);

#endif
