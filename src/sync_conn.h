/* sync_conn.h - the connection table's side of sync: which connection is due, what a message makes */
#ifndef VSR_SYNC_CONN_H
#define VSR_SYNC_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "sync.h"

struct conn;
struct conn_table;
struct worker;

/*
 * The packet path, where IPVS calls ip_vs_sync_conn(): after C (FRESH:
 * made by this packet) forwarded a client's packet, on worker W's thread
 * under the data-path lock. Decides as ip_vs_sync_conn_needed() whether
 * C is due -- its packet count against threshold and period, a TCP state
 * change, the refresh period -- and so for its persistence template, and
 * queues what is due (sync.h). Call it only while sync_master_running().
 */
void sync_conn_in(struct worker *w, struct conn *c, bool fresh);

/*
 * ip_vs_sync_conn_needed(), by itself: whether a connection (or template,
 * TPL) of PROTO in STATE, whose timeout is TIMEOUT ticks, is to be sent
 * at its PKTS-th packet at tick NOW, by SC's threshold, period, refresh
 * period and retries. CS, its state at the last sync, is updated when it
 * is.
 */
bool sync_due(const struct sync_conf *sc, uint32_t timeout, uint8_t proto, uint8_t state,
    bool tpl, struct sync_cstate *cs, uint32_t pkts, uint32_t now);
/* C as an entry of a message. */
void sync_conn_entry(const struct conn_table *t, const struct conn *c, struct sync_entry *e);

/*
 * The backup's applier (sync_init's): E creates or updates a connection
 * or template of T's, as ip_vs_proc_conn() does. Under the data-path lock.
 */
void sync_conn_init(struct conn_table *t);
enum sync_verdict sync_conn_apply(const struct sync_entry *e, uint32_t now);

#endif
