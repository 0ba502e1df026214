/* ctl.h - the control socket: vsradm's requests, served from the event loop */
#ifndef VSR_CTL_H
#define VSR_CTL_H

#include <event2/event.h>

struct conn_table;

/*
 * Protocol (also in vsradm(8)). A Unix stream socket, mode 0600. The
 * client sends one request per line (at most CTL_LINE_MAX bytes with the
 * newline; a longer one ends the connection); for each, the daemon answers
 * with zero or more data lines and then one final line, "ok" or
 * "err MESSAGE" (MESSAGE in ipvsadm's words). Several requests may follow
 * one another on one connection. Addresses are ADDR:PORT, protocols
 * tcp|udp; KEY=VALUE options may come in any order.
 *
 *   list                          size CONN_MAX
 *                                 svc PROTO ADDR:PORT SCHED PERSISTENT NETMASK FLAGS|-
 *                                     CONNS INPKTS OUTPKTS INBYTES OUTBYTES
 *                                     CPS INPPS OUTPPS INBPS OUTBPS
 *                                 dest ADDR:PORT FWD WEIGHT UPPER LOWER ACTIVE INACT
 *                                     CONNS INPKTS OUTPKTS INBYTES OUTBYTES TUNNEL
 *                                     CPS INPPS OUTPPS INBPS OUTBPS
 *                                 (rates per second, from the estimator of stats.h)
 *                                 (each svc line followed by its dest lines)
 *   conns                         conn PROTO CADDR:CPORT VADDR:VPORT DADDR:DPORT STATE EXPIRE
 *                                 (at most CTL_CONNS_MAX, then "truncated N")
 *   timeout                       timeout TCP TCPFIN UDP
 *   set TCP TCPFIN UDP            (0 leaves a value as it is)
 *   zero [PROTO ADDR:PORT]
 *   svc-add  PROTO ADDR:PORT [sched=S] [persistent=SECS] [netmask=M] [flags=F,..]
 *   svc-edit PROTO ADDR:PORT [the same]
 *   svc-del  PROTO ADDR:PORT
 *   clear
 *   dest-add  PROTO ADDR:PORT RADDR:RPORT [fwd=dr|tun|nat|fullnat] [weight=W]
 *             [upper=X] [lower=Y]
 *   dest-edit PROTO ADDR:PORT RADDR:RPORT [the same]
 *   dest-del  PROTO ADDR:PORT RADDR:RPORT
 *
 * Runtime changes last until the next reload, which puts the file's
 * services back.
 */
#define CTL_LINE_MAX   1024
#define CTL_CONNS_MAX  100000

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

#endif
