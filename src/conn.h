/* conn.h - the connection table: preallocated, O(1) lookup both ways, wheel expiry */
#ifndef VSR_CONN_H
#define VSR_CONN_H

#include <stdint.h>

#include "addr.h"
#include "proto.h"
#include "stats.h"
#include "svc.h"

/* Time in ticks of 1/CONN_HZ s, from a monotonic clock, wrapping. */
#define CONN_HZ 10u

/* Ticks of 1/CONN_HZ s from CLOCK_MONOTONIC_COARSE (no syscall). */
uint32_t conn_clock(void);

#define CONN_F_INACTIVE   0x01   /* counted in the dest's InActConn */
#define CONN_F_NOOUTPUT   0x02   /* replies bypass us (dr, tun): INPUT_ONLY */
#define CONN_F_HASH_OUT   0x04   /* also found by the reply's tuple */
#define CONN_F_TEMPLATE   0x08   /* a persistence template, not a flow */
#define CONN_F_UNHASHED   0x10   /* template no longer found; goes with its last flow */
#define CONN_F_CA         0x20   /* the word after control is ca, not cseq_next */
/*
 * Bits 6..7: the worker that made the flow, modulo 4 (core.c counts the
 * packets another worker handles: STAT_WORKER_CROSSED). A diagnostic only:
 * beyond 4 workers, workers i and i + 4 look alike to it.
 */
#define CONN_F_WORKER_SHIFT 6
#define CONN_F_WORKER(id) ((uint8_t)(((id) & 3u) << CONN_F_WORKER_SHIFT))
#define CONN_WORKER(c)    ((unsigned)(c)->flags >> CONN_F_WORKER_SHIFT)

/*
 * The family is part of the key: an IPv6 entry's proto has CONN_PROTO_V6
 * set (TCP and UDP leave bits 0x40 and 0x80 free), so that no IPv4 key
 * ever matches an IPv6 entry and the entry says how to read its
 * addresses (below).
 */
#define CONN_PROTO_V6     0x40
#define CONN_PROTO_L4     0x3f
#define CONN_PROTO(af, p) ((uint8_t)((p) | ((af) == AF_INET6 ? CONN_PROTO_V6 : 0)))

/*
 * Persistence templates (IPVS's IP_VS_CONN_F_TEMPLATE) live in the same
 * table: key (TEMPLATE_PROTO(proto), client & netmask, port 0, VIP, vport),
 * the dest they pin in daddr/dport/dest. A protocol number no service can
 * have keeps them apart from flows. A template's own timeout (the
 * service's persistence, in ticks) is kept in laddr, which only FULLNAT
 * flows use (and IPv6 entries never); ncontrol counts the flows it
 * controls, and it does not expire while there are any.
 */
#define CONN_TEMPLATE_PROTO(p) ((uint8_t)((p) | 0x80))

/*
 * One flow, 64 bytes: one cache line. In-direction key: (proto, caddr, cport, vaddr, vport),
 * the client's packet as it reaches the VIP. Out-direction key, for modes
 * that see replies: (proto, daddr, dport, laddr, lport), the real server's
 * packet; laddr/lport equal caddr/cport except under FULLNAT.
 *
 * An IPv4 entry keeps its four addresses in place. An IPv6 entry keeps
 * them (struct conn6, 64 bytes) in the table's IPv6 pool, at a6 - 1, and
 * in fp[] the high halves of its keys' hashes: a chain walk
 * compares those and the ports, and reads the pool only for the entry
 * that matches. So an IPv4 entry stays the size it was, and N IPv6 flows
 * cost N more pool entries. conn_addrs() reads either kind.
 */
struct conn {
	union {
		struct {                          /* IPv4, network order */
			uint32_t caddr, vaddr, daddr, laddr;
		};
		struct {                          /* IPv6 (laddr: a template's timeout) */
			uint32_t a6;              /* index + 1 in the pool */
			uint32_t fp[2];           /* per direction: its key's hash, high half */
		};
	};
	uint16_t cport, vport, dport, lport;
	uint32_t hnext[2];      /* hash chains, per direction (refs, see conn.c) */
	uint32_t tnext, tprev;  /* timer wheel slot list (index + 1) */
	uint32_t expires;       /* tick; moved forward by traffic, lazily */
	uint8_t  proto;
	uint8_t  state;         /* enum conn_state */
	uint8_t  flags;         /* CONN_F_* */
	uint8_t  xmit_id;       /* bound from the dest at creation (xmit_table) */
	struct dest *dest;      /* holds a reference */
	uint32_t control;       /* flow: index + 1 of its template, 0 if none */
	union {
		uint32_t ncontrol;  /* template: flows it controls */
		uint32_t ca;        /* flow with CONN_F_CA: index + 1 of its client-address state */
		uint32_t cseq_next; /* TCP flow without: the client's next sequence number seen
		                       (core.c); one with keeps it in that state (conn_cseq) */
	};
};

_Static_assert(sizeof(struct conn) == 64, "a connection must stay one cache line");

/* An IPv6 entry's addresses, in the table's pool: one cache line. */
struct conn6 {
	union vsr_addr caddr, vaddr, daddr, laddr;
};

_Static_assert(sizeof(struct conn6) == 64, "an IPv6 pool entry is one cache line");

/* C's family and transport protocol. */
static inline int
conn_af(const struct conn *c)
{
	return (c->proto & CONN_PROTO_V6) ? AF_INET6 : AF_INET;
}

static inline uint8_t
conn_l4proto(const struct conn *c)
{
	return c->proto & CONN_PROTO_L4;
}

struct conn_param {
	uint8_t  af;            /* AF_INET or AF_INET6 */
	uint8_t  proto;         /* IPPROTO_TCP or IPPROTO_UDP */
	union vsr_addr caddr, vaddr, daddr, laddr;
	uint16_t cport, vport, dport, lport;
	uint8_t  flags;         /* CONN_F_NOOUTPUT, CONN_F_HASH_OUT */
	uint8_t  client_addr;   /* not CA_NONE: the flow gets a client-address state, zeroed (below) */
	uint8_t  synproxy;      /* its service proxies the handshake: the same side state (synproxy.h) */
};

/* C's addresses, of either family, as unions (the IPv4 ones padded with zeroes). */
struct conn_addrs {
	union vsr_addr caddr, vaddr, daddr, laddr;
};

struct conn_table;

/* All memory is taken here, once; NULL (errno set) if it cannot be. */
struct conn_table *conn_table_new(uint32_t max, uint32_t now);
void conn_table_free(struct conn_table *t);
/*
 * Bytes allocated for the table (entries, buckets, wheel; a set's
 * members' entries as far as used, their high-water mark); the IPv6 pool
 * is reserved at the same capacity but backed by the kernel only as it is
 * used, and counted apart: conn_table_bytes6() is what its entries in use
 * so far (its high-water mark) occupy.
 */
uint64_t conn_table_bytes(const struct conn_table *t);
uint64_t conn_table_bytes6(const struct conn_table *t);
/* Live IPv6 entries (flows and templates). */
uint32_t conn_count6(const struct conn_table *t);

/* C's addresses, either family. */
void conn_addrs(const struct conn_table *t, const struct conn *c, struct conn_addrs *a);

/*
 * Hash chain occupancy (benchmarks, diagnostics; walks every bucket):
 * REFS is one per hashed direction of each entry, MAX the longest chain.
 */
struct conn_chain_stats {
	uint32_t buckets, used, refs, max;
};
void conn_chain_stats(const struct conn_table *t, struct conn_chain_stats *s);

/* Timeouts in seconds per state (proto_default_timeout to start with). */
void conn_set_timeouts(struct conn_table *t, const unsigned secs[CS_MAX]);
unsigned conn_get_timeout(const struct conn_table *t, enum conn_state s);
uint32_t conn_count(const struct conn_table *t);
/* Flows not past the TCP handshake (before ESTABLISHED), and UDP flows. */
uint32_t conn_unconfirmed(const struct conn_table *t);
/*
 * Remove one of those, drawn at random among a bounded number of probes:
 * 1 if one was, 0 if none was found (the defences, core.c).
 */
int conn_evict_unconfirmed(struct conn_table *t);
/* secure_tcp in force: flows before ESTABLISHED get a timeout of 3 s at most. */
void conn_set_secure(struct conn_table *t, int on);
int conn_secure(const struct conn_table *t);
/* conn_max in effect: new entries are refused at that many. */
uint32_t conn_capacity(const struct conn_table *t);
/* Entries allocated: what conn_set_limit() may raise the limit to without a growth. */
uint32_t conn_allocated(const struct conn_table *t);
/* The most a table may hold (conn_max's bound). */
#define CONN_MAX_ENTRIES (1u << 26)
/*
 * Growth by reload, in two steps so that the data path waits only for
 * the second. conn_table_reserve, on the control thread, outside the
 * lock: the bucket array for MAX entries, allocated and touched; 0, or -1
 * (errno: ENOMEM, EINVAL) with nothing changed. conn_set_limit, under
 * the lock, with a LIMIT above conn_allocated() and within the reserved
 * size: the table grows first (its mappings moved by mremap, every key
 * rehashed into the new buckets; conn_table_grow_ns says how long that
 * took); if a mapping cannot grow, the table keeps its size and the
 * value applied says so. conn_table_reserve_drop, outside the lock
 * again: what the growth left behind (the old buckets) or did not use.
 */
int      conn_table_reserve(struct conn_table *t, uint32_t max);
void     conn_table_reserve_drop(struct conn_table *t);
/*
 * The keys move into a growth's larger bucket array CONN_GROW_STEP old
 * buckets at a time, one step a sweep (under the lock, as the expiry):
 * 1 while some are left. Lookups find every key meanwhile.
 */
#define CONN_GROW_STEP 8192u
int      conn_grow_step(struct conn_table *t);
/* The longest the last growth held the lock: its mremap, or one of its steps (ns). */
uint64_t conn_table_grow_ns(const struct conn_table *t);
/*
 * A reload's conn_max: LIMIT (1 .. conn_allocated(), or the reserved
 * size) from now on, the value applied returned. Entries above a lowered
 * limit stay until they end; no new one is made until the count is
 * below it.
 */
uint32_t conn_set_limit(struct conn_table *t, uint32_t limit);

/* Addresses of family AF; ports in network order. */
struct conn *conn_lookup_in(struct conn_table *t, int af, uint8_t proto,
    const union vsr_addr *caddr, uint16_t cport, const union vsr_addr *vaddr, uint16_t vport);
struct conn *conn_lookup_out(struct conn_table *t, int af, uint8_t proto,
    const union vsr_addr *daddr, uint16_t dport, const union vsr_addr *laddr, uint16_t lport);

/*
 * A new connection bound to DEST (a reference is taken, InActConn counted,
 * the transmit function copied), in state NONE for TCP or UDP for UDP.
 * NULL when the table is full (or, for IPv6, its pool).
 */
struct conn *conn_new(struct conn_table *t, const struct conn_param *cp,
    struct dest *dest, uint32_t now);

/*
 * A persistence template for (AF, PROTO, CADDR already masked, VADDR,
 * VPORT) pinning DEST for TIMEOUT seconds after its last use; NULL when
 * full.
 */
struct conn *conn_template_new(struct conn_table *t, int af, uint8_t proto,
    const union vsr_addr *caddr, const union vsr_addr *vaddr, uint16_t vport,
    struct dest *dest, unsigned timeout, uint32_t now);
struct conn *conn_template_lookup(struct conn_table *t, int af, uint8_t proto,
    const union vsr_addr *caddr, const union vsr_addr *vaddr, uint16_t vport);
/* C is controlled by template TPL: TPL lives at least as long as C, and
 * its persistence time starts again now. */
void conn_set_control(struct conn_table *t, struct conn *c, struct conn *tpl, uint32_t now);
/*
 * TPL may pin no new flow (its dest was quiesced or removed): it is found
 * no more, and goes at its expiry once no flow it controls is left.
 */
void conn_template_invalidate(struct conn_table *t, struct conn *tpl);

/* The state a TCP segment's flags would move C to (conn_tcp_update's), nothing changed. */
enum conn_state conn_tcp_next(const struct conn *c, enum conn_dir dir, uint8_t tcpflags);
/* Apply a TCP segment's flags (dir as seen by us) and refresh the timeout. */
void conn_tcp_update(struct conn_table *t, struct conn *c, enum conn_dir dir,
    uint8_t tcpflags, uint32_t now);
/*
 * A SYN that opens a connection (SYN without ACK, RST or FIN), found on C by
 * its tuple: the counter to count it under if it starts a new flow,
 * scheduled anew, rather than follow C (C is to be expired), or STAT_NONE.
 */
enum stat_id conn_tcp_syn_reschedule(const struct conn *c);
/* Refresh the timeout of the current state. */
void conn_touch(struct conn_table *t, struct conn *c, uint32_t now);
/* Remove C at once (the dest reference dropped, the slot freed). */
void conn_expire_now(struct conn_table *t, struct conn *c);

/*
 * C's number, below conn_id_space(T): for what another module keeps per
 * connection (sync.c). A table's index; in a set, index * (N + 1) + the
 * member's number, so that no two members' entries share one and a
 * growth moves none.
 */
uint32_t conn_id(const struct conn_table *t, const struct conn *c);
uint32_t conn_id_space(const struct conn_table *t);
/* C's persistence template, or NULL. */
struct conn *conn_controller(struct conn_table *t, const struct conn *c);
/*
 * A connection or template the sync daemon received (sync_conn.c): state
 * S (ActiveConn and InActConn counted as for traffic; a template keeps
 * its own) and expiry TIMEOUT seconds from NOW, as the master said.
 */
void conn_sync_set(struct conn_table *t, struct conn *c, enum conn_state s, unsigned timeout,
    uint32_t now);
/*
 * A flow's client-address state (cliaddr.h: PROXY v2 header or TOA
 * option, and the sequence adjustment that goes with the header), for the
 * flows made with a client_addr other than CA_NONE, NULL for any other.
 * Like IPv6 addresses, it lives in a pool beside the table, of the
 * table's capacity, mapped once and backed by the kernel as it is used,
 * found from the entry through c->ca: an entry that needs none stays 64
 * bytes and costs nothing more. conn_new() gives a flow one, zeroed, when
 * its conn_param's client_addr is not CA_NONE; its maker sets it up
 * (cliaddr_init). Its struct seqadj (first in it) is what
 * connection sync carries as IPVS's sequence option.
 */
struct cliaddr_state *conn_cliaddr(const struct conn_table *t, const struct conn *c);
/* Where flow C keeps the client's next sequence number (core.c's RST window). */
uint32_t *conn_cseq(const struct conn_table *t, struct conn *c);
/* Bytes of the pool's entries in use so far (its high-water mark). */
uint64_t conn_table_bytes_ca(const struct conn_table *t);

/* Remove every connection and template (at exit). */
void conn_flush(struct conn_table *t);

/* Expire what is due up to NOW; returns how many were removed. */
unsigned conn_expire_run(struct conn_table *t, uint32_t now);

/* Visit every live connection (for listings and reloads); stops when FN returns non-zero. */
int conn_foreach(struct conn_table *t, int (*fn)(struct conn *c, void *arg), void *arg);

/*
 * One table per worker (workers = N > 1): a set of N flow tables, each
 * with its own buckets, timer wheel, free list and pools, and one table
 * of persistence templates, which a client's flows share whichever
 * worker has them. MAX is conn_max, and bounds the entries of all the
 * members together (the set's count, kept as they are made and released,
 * under the shared lock): each member can hold them all, its entries
 * backed by the kernel only as they are used, its buckets sized for its
 * share (MAX / N), which the steering hash makes what it holds.
 * N <= 1: a table, as conn_table_new.
 *
 * A worker works on its own member (conn_shard), under its own lock
 * (lock.h); its flows' templates are found from it (conn_template_*,
 * conn_controller), under the shared lock. Everything above that takes
 * a table (counts, limits, growth, timeouts, lookups, listings, expiry)
 * takes the set as well and covers every member: the main thread's way,
 * holding every lock.
 *
 * A flow's member is the worker the TAP steers its packets to (steer.h,
 * KEY the steering program's): conn_shard_of its client's address and
 * port; a fullnat flow's local port is chosen so that its replies lead
 * there too. conn_new on a member takes only flows whose client's side
 * leads to it (a worker's, core.c); conn_new on the set places a flow so,
 * and one whose two sides lead to different members (a backup's synced
 * fullnat flow, its local port chosen by the master's key) by its local
 * side. conn_probe counts such flows while they live: while it is not 0,
 * a packet of the client's side that its member does not know is looked
 * for in the others.
 */
struct conn_table *conn_table_sharded(unsigned n, uint32_t max, uint32_t now, uint32_t key);
/*
 * The number of flow tables of a set (0 for a table), and member I: flow
 * table I below that, the templates' table at conn_shards(T); a table
 * is its own member 0.
 */
unsigned conn_shards(const struct conn_table *t);
struct conn_table *conn_shard(const struct conn_table *t, unsigned i);
/* The member that a flow whose packets hash by AF/ADDR:PORT belongs to (0 for a table). */
unsigned conn_shard_of(const struct conn_table *t, int af, const union vsr_addr *addr,
    uint16_t port);
uint32_t conn_probe(const struct conn_table *t);
/* The set T is a member of, or T: whose count and capacity bound a new entry in T. */
struct conn_table *conn_whole(const struct conn_table *t);

#endif
