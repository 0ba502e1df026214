/* sync.h - the connection sync daemons: IPVS's master and backup, over UDP */
#ifndef VSR_SYNC_H
#define VSR_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "sync_msg.h"

struct event_base;

/*
 * IPVS's sync daemon (ip_vs_sync.c), as vsrouted runs it: a master sends
 * the connections this director forwards, a backup receives another
 * director's and keeps them; one, the other or both run (sync { state },
 * vsradm --start-daemon). Messages are IPVS's protocol version 1
 * (sync_msg.h), to a multicast group (224.0.0.81:8848 by default, TTL 1)
 * on one interface, or to one peer by unicast.
 *
 * Sending. The packet path never blocks nor allocates for it: where IPVS
 * calls ip_vs_sync_conn(), the worker decides as IPVS does whether the
 * connection is due (sync_conn.c) and writes an entry into a bounded
 * queue of its own (SYNC_QUEUE_SLOTS); when that queue is full the entry
 * is dropped and counted (sync_tx_queue_full). The main thread empties
 * the queues every SYNC_SEND_MS into messages of at most sync-maxlen
 * bytes, sends each as soon as it is full, and a partly filled one
 * SYNC_FLUSH_MS after its first entry.
 *
 * Receiving. Each datagram's arrival interface and source are checked
 * (the sync interface; the peer, or an address on the interface's own
 * networks for a group), then the whole message field by field
 * (sync_msg_decode) before any entry is used; what fails is dropped and
 * counted. At most SYNC_RX_BUDGET datagrams are read per wake-up, and
 * the entries of one message are applied under the data-path lock at a
 * time, so that a flood cannot starve the packet path; the connection
 * table's conn_max bounds what it can create.
 */
#define SYNC_QUEUE_SLOTS  4096      /* entries per worker's queue, a power of 2 */
#define SYNC_SEND_MS      20        /* IPVS_SYNC_SEND_DELAY (HZ / 50) */
#define SYNC_FLUSH_MS     250       /* a partly filled message waits this long at most */
#define SYNC_OUTQ         32        /* messages waiting for the socket */
#define SYNC_RX_BUDGET    32        /* datagrams read per wake-up */

/* What the receiver made of an accepted entry (sync_conn.c). */
enum sync_verdict {
	SYNC_V_CREATED,         /* a new connection or template */
	SYNC_V_UPDATED,         /* an existing one's state and timeout */
	SYNC_V_STALE,           /* about a connection already replaced: ignored, as IPVS */
	SYNC_V_NO_DEST,         /* no such service or real server here */
	SYNC_V_TABLE_FULL,      /* conn_max reached */
};

/* The applier: under the data-path lock, NOW the connection clock. */
typedef enum sync_verdict (*sync_apply_fn)(const struct sync_entry *e, uint32_t now);

/*
 * Once at start: the loop the sockets and timers run on, the workers'
 * count, the connection table's capacity (the per-connection sync state
 * is sized by it) and the applier.
 */
int  sync_init(struct event_base *base, unsigned nworkers, uint32_t conn_max,
    sync_apply_fn apply);
/*
 * The connection table grew to CONN_MAX entries (a reload; under the data
 * path's lock): the master's per-connection state grows with it, moved by
 * mremap, not copied. 0, or -1: the entries above the old size are not
 * synced (said by the caller).
 */
int  sync_conn_grow(uint32_t conn_max);
/* At exit: both daemons stopped, everything freed. */
void sync_fini(void);

/*
 * Start daemon STATE (SYNC_STATE_MASTER or SYNC_STATE_BACKUP) with SC's
 * interface, sync id, group or peer, port, TTL and maxlen (0: the
 * kernel's default for the state). 0; or -1 with errno as the kernel's
 * (EEXIST: it runs already; ENODEV: no such interface; EINVAL ...),
 * after logging why.
 */
int  sync_start(unsigned state, const struct sync_conf *sc);
/* Stop daemon STATE; -1 (ESRCH) when it does not run. */
int  sync_stop(unsigned state);
/* The daemons that run (SYNC_STATE_* bits). */
unsigned sync_running(void);
/* Daemon STATE's settings as they run (maxlen, port, TTL filled in); NULL if it does not. */
const struct sync_conf *sync_daemon(unsigned state);
/*
 * Reload: the file's sync { } section went from OLD to NEW. When it
 * changed, the daemons it names are restarted with it (a failure is
 * logged, the others keep running); when not, the running ones stay.
 */
void sync_reconfig(const struct sync_conf *old, const struct sync_conf *new);

/* Messages refused by the checks, by reason (the metrics, the SIGUSR1 dump). */
uint64_t sync_refused(enum sync_err why);

/*
 * The packet path's side (sync_conn.c), on worker ID's thread under the
 * data-path lock: a slot of its queue to fill, NULL when the queue is
 * full (counted); sync_queue_commit() publishes it. The master's state
 * of each connection (IPVS's in_pkts, old_state, sync_endtime), by the
 * connection's index in the table.
 */
struct sync_cstate {
	uint32_t pkts;          /* the client's packets so far (in_pkts) */
	uint32_t endtime;       /* tick of the last sync's expiry, low 2 bits retries */
	uint32_t key;           /* whose state this is: a hash of the flow */
	uint8_t  old_state;     /* the state when last synced */
};

extern bool sync_master_on;     /* the master daemon runs: read by the packet path */

static inline bool
sync_master_running(void)
{
	return __atomic_load_n(&sync_master_on, __ATOMIC_RELAXED);
}

struct sync_entry *sync_queue_slot(unsigned id);
void sync_queue_commit(unsigned id);
struct sync_cstate *sync_cstate(uint32_t conn_index);

#endif
