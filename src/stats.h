/* stats.h - global counters, drop reasons among them, and their names */
#ifndef VSR_STATS_H
#define VSR_STATS_H

#include <stdint.h>

/*
 * One table of counters; the names (stats.c) are used by the log dump,
 * and later by vsradm and the metrics. Per-packet events are counted here,
 * never logged.
 */
enum stat_id {
	STAT_NONE = 0,          /* not a counter: "no drop" */
	STAT_RX_PACKETS,        /* frames read from the TAP */
	STAT_RX_BYTES,
	STAT_TX_PACKETS,        /* frames handed to an output socket */
	STAT_TX_BYTES,
	STAT_CONN_CREATED,
	STAT_CONN_EXPIRED,
	STAT_CONN_RESCHEDULED,  /* SYN on a closing connection: scheduled anew */
	STAT_CONN_RESCHED_DOWN, /* SYN on a connection to a real server down by its check: anew */
	STAT_ARP_REPLIES,       /* ARP answers for VIPs on the TAP link */
	STAT_GARP_SENT,
	STAT_ICMP_ECHO_REPLIES,
	STAT_ICMP_RELAYED,      /* ICMP errors about a connection, forwarded */
	STAT_NEIGH_CHANGED,     /* a real server's MAC changed */
	STAT_TUN_FRAG_NEEDED,   /* tun: DF packet too big for the tunnel, ICMP sent to the client */
	STAT_ICMP_PASSED,       /* ICMP from a nat real server about no connection, passed on */
	STAT_LPORT_EXHAUSTED,   /* fullnat: no free (local address, port) for a new flow */
	STAT_CHECK_DOWN,        /* a real server failed its health check: taken out */
	STAT_CHECK_UP,          /* and passed it again: put back */
	STAT_WORKER_CROSSED,    /* a packet of a flow another worker made (workers > 1) */
	STAT_LOCK_SHARED,       /* the shared lock taken by a worker (lock.h; workers > 1) */
	STAT_LOCK_OTHER_TABLE,  /* another worker's table's lock taken by a worker */
	STAT_SORRY_ON,          /* every real server of a service down: its sorry server takes over */
	STAT_SORRY_OFF,         /* a real server back: the sorry server gets no new flows */
	STAT_RX_GSO,            /* GSO super-frames read from the TAP (offload on) */
	STAT_TUN_SEGMENTS,      /* tun: segments cut from GSO super-frames */
	/* the connection sync daemons (sync.c) */
	STAT_SYNC_TX_CONNS,     /* entries sent (connections and templates) */
	STAT_SYNC_TX_MESSAGES,  /* messages sent */
	STAT_SYNC_TX_QUEUE_FULL,/* entries the packet path could not queue: its queue was full */
	STAT_SYNC_TX_ERRORS,    /* messages the socket refused, or with no room to wait */
	STAT_SYNC_RX_MESSAGES,  /* messages received and accepted */
	STAT_SYNC_RX_CONNS,     /* entries applied: connections created or updated */
	STAT_SYNC_RX_REFUSED,   /* messages refused by the checks (sync_msg.h), whole */
	STAT_SYNC_RX_ENTRIES_REFUSED, /* entries refused by the checks, the rest read */
	STAT_SYNC_RX_FOREIGN,   /* messages from another address or interface */
	STAT_SYNC_RX_SYNCID,    /* messages of another sync id */
	STAT_SYNC_RX_NO_DEST,   /* entries whose service or real server is not configured here */
	STAT_SYNC_RX_TABLE_FULL,/* entries not created: conn_max reached */
	STAT_NA_REPLIES,        /* neighbour solicitations for VIPs answered on the TAP link */
	STAT_NA_SENT,           /* unsolicited neighbour advertisements sent */
	STAT_ND_IGNORED,        /* ICMPv6 of the TAP link that needs no answer (RS, MLD, ...) */
	STAT_CA_PROXY_SENT,     /* proxy-v2: headers put into the client's first ACK (or a re-ACK) */
	STAT_CA_PROXY_RESENT,   /* proxy-v2: headers sent in a segment of their own (a loss, reordering) */
	STAT_CA_PROXY_DGRAM,    /* proxy-v2: UDP datagrams given a header */
	STAT_CA_OVERSIZE,       /* proxy-v2: UDP datagrams sent without: too big with it, or fragmented */
	STAT_CA_SYN_DATA,       /* proxy-v2: SYNs whose data (TCP Fast Open) was dropped, to follow it */
	STAT_CA_TOA,            /* toa: options added to the client's first packets */
	STAT_CA_TOA_NOROOM,     /* toa: first packets with no room for it (options full, MTU, GSO) */
	STAT_SEQADJ_SACK,       /* packets whose SACK blocks were shifted (seqadj.h) */
	STAT_DEFENCE_EVICTED,   /* drop_entry: a flow not past its handshake evicted for a new one */
	STAT_SYNPROXY_COOKIES_SENT, /* synproxy: SYNs answered with a cookie (no entry made) */
	STAT_SYNPROXY_ACK_VALID,    /* synproxy: ACKs whose cookie held: a flow made */
	STAT_SYNPROXY_ACK_INVALID,  /* synproxy: ACKs without a flow whose cookie did not: dropped */
	STAT_SYNPROXY_SPLICED,      /* synproxy: real servers' SYN-ACKs answered, numbers spliced */
	STAT_SYNPROXY_SYN_RESENT,   /* synproxy: client segments before the server answered, sent as the SYN again */
	STAT_SYNPROXY_DATA_DROPPED, /* synproxy: segments with data before the server answered: dropped */
	STAT_ICMP_RATE_LIMITED, /* an echo reply or too-big message not made: over icmp_rate */
	STAT_NAT_DIRECT,        /* nat, fullnat: frames sent straight out toward their next hop */
	STAT_NAT_VIA_TAP,       /* and written into the TAP instead: next hop unknown, too big */
	STAT_FRAG_FORWARDED,    /* IP fragments sent on: first ones, and later ones that found theirs */
	STAT_FRAG_QUEUED,       /* later fragments that came before their first one: made to wait */
	STAT_FORWARDED,         /* a real server's own frames into the TAP, of no flow, routed on (fwd.h) */
	STAT_FORWARDED_VIA_TAP, /* of them, those written back into the TAP for the kernel to route */
	/* drop reasons */
	STAT_DROP_MALFORMED,    /* a header or length field is wrong */
	STAT_DROP_UNEXPECTED,   /* not IPv4, IPv6 or ARP, or not TCP/UDP/ICMP(v6) */
	STAT_DROP_FRAGMENT,     /* IP fragments of ICMP: not forwarded */
	STAT_DROP_FRAG_TIMEOUT, /* fragments whose first one did not come within fragment_timeout */
	STAT_DROP_FRAG_MEMORY,  /* fragments with no room to wait: fragment_memory full */
	STAT_DROP_FRAG_MALFORMED, /* a first fragment without its whole transport header, one past 64 KiB */
	STAT_DROP_FRAG_OVERLAP, /* a later fragment over its first one's TCP header (RFC 1858) */
	STAT_DROP_IPV6_EXT,     /* an IPv6 extension header not taken: unknown, repeated, misplaced */
	STAT_DROP_NO_SERVICE,   /* no virtual service at that address/port */
	STAT_DROP_NO_CONN,      /* TCP segment other than SYN without a connection */
	STAT_DROP_NO_CONN_OUT,  /* a packet into the TAP toward no VIP, of no connection, not routed on */
	STAT_DROP_FORWARD_LOOP, /* one to route on whose route leads into the TAP (fwd.h) */
	STAT_DROP_NO_DEST,      /* the scheduler found no available real server */
	STAT_DROP_TABLE_FULL,   /* new flow while conn_max connections exist */
	STAT_DROP_RESERVE,      /* new flow while unconfirmed flows fill all but conn_reserve */
	STAT_DROP_CONN_LIMIT,   /* new flow while its service has conn_limit flows */
	STAT_DEFENCE_DROP_PACKET, /* drop_packet: a new flow's packet dropped */
	STAT_DROP_RST_WINDOW,   /* a client's RST outside the window of its flow's sequence numbers */
	STAT_DROP_NO_NEIGH,     /* real server's MAC not resolved yet */
	STAT_DROP_ICMP,         /* ICMP that is neither echo nor about a connection */
	STAT_DROP_TX_ERROR,     /* the output socket refused the frame */
	STAT_DROP_TUN_TX_ERROR, /* tun: the raw socket refused the encapsulated packet */
	STAT_MAX
};

/*
 * The counters are kept per thread, summed when read (stat_total): slot 0
 * is the main thread's (and the packet path's with workers = 1), slot 1+i
 * worker thread i's. Each slot is written by its own thread only, and is
 * cache-line aligned, so the packet path never shares a line with another
 * writer and needs no atomic read-modify-write: the relaxed load and store
 * compile to a plain add, yet make the concurrent reads defined (ThreadSanitizer
 * agrees). stats_mine points at the calling thread's slot.
 */
#define STATS_SLOTS 17          /* the main thread + CONF_WORKERS_MAX */

struct stats_slot {
	uint64_t v[STAT_MAX];
} __attribute__((aligned(64)));

extern struct stats_slot stats_slots[STATS_SLOTS];
extern __thread uint64_t *stats_mine;

#define STAT_ADD(id, n) __atomic_store_n(&stats_mine[(id)], \
	__atomic_load_n(&stats_mine[(id)], __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define STAT_INC(id)        STAT_ADD(id, 1)

/* The sum of counter ID over every thread; one thread's with stat_slot_get. */
uint64_t stat_total(enum stat_id id);
uint64_t stat_slot_get(unsigned slot, enum stat_id id);

/* "rx_packets", "drop_malformed", ... */
const char *stat_name(enum stat_id id);

/* Per service and per real server: 64-bit counters, as ipvsadm --stats shows them. */
struct stats {
	uint64_t conns;
	uint64_t inpkts;
	uint64_t outpkts;
	uint64_t inbytes;
	uint64_t outbytes;
};

/*
 * The rate estimator of IPVS (ip_vs_est.c): every STATS_EST_SECS seconds a
 * timer takes the counters' increase since the last tick and moves a
 * smoothed average a quarter of the way toward it (an exponentially
 * weighted moving average, time constant about 8 s). Averages are kept
 * scaled, per second: connections and packets << 10, bytes << 5, as the
 * kernel does, so small rates keep their fraction. The packet path only
 * bumps struct stats; nothing here runs per packet.
 */
#define STATS_EST_SECS 2

struct stats_est {
	struct stats last;      /* the counters at the previous tick */
	uint64_t cps, inpps, outpps, inbps, outbps;     /* scaled averages */
};

/* Per second, rounded: what vsradm --rate and the metrics show. */
struct stats_rate {
	uint64_t cps, inpps, outpps, inbps, outbps;
};

/* One tick of E over the counters S (every STATS_EST_SECS seconds). */
void stats_est_tick(struct stats_est *e, const struct stats *s);
void stats_est_read(const struct stats_est *e, struct stats_rate *r);
/* Start over from S (after the counters were zeroed, or at creation). */
void stats_est_reset(struct stats_est *e, const struct stats *s);

#endif
