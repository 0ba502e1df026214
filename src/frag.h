/* frag.h - IP fragments follow their datagram's first one: a bounded table and a bounded queue */
#ifndef VSR_FRAG_H
#define VSR_FRAG_H

#include <stdint.h>

#include "wire.h"

/*
 * Nothing is reassembled. The first fragment of a datagram (offset 0,
 * more to come) carries the ports and goes the way a whole packet would;
 * it leaves its ports in a table keyed by (family, protocol, source,
 * destination, IP id). A later fragment takes the ports from there and
 * goes the same way: same connection, same real server, its addresses
 * rewritten by nat and fullnat, its payload untouched. A later fragment
 * that comes before its first one waits in a queue, copied, until the
 * first comes (then it is sent after it), fragment_timeout passes
 * (dropped, counted), or there is no room (fragment_memory bytes:
 * dropped, counted). The table and the queue are allocated by
 * frag_configure, at start and on a reload that changes their size,
 * never per packet. Everything here runs under the data-path lock
 * (lock.h), as the connection table does.
 *
 * The defaults are the kernel's for its own reassembly, which IPVS
 * uses: ipfrag_time 30 s, ipfrag_high_thresh 4 MiB.
 */
#define FRAG_TIMEOUT_DEF 30u
#define FRAG_MEMORY_DEF  (4u << 20)
#define FRAG_MEMORY_MIN  (64u << 10)     /* one largest fragment, whole */
#define FRAG_MEMORY_MAX  (1u << 30)

/*
 * Size the table and the queue for MEMORY bytes of waiting fragments, and
 * let them wait TIMEOUT seconds. At start; on reload (the queue's
 * fragments are dropped if its size changes, counted as timed out; while
 * a worker is still sending some, the change waits for it). 0, or -1
 * (out of memory: the previous ones stay).
 */
int  frag_configure(unsigned timeout, uint32_t memory);
void frag_fini(void);

/*
 * A fragment P (p->frag != PKT_FRAG_NONE) at NOW (conn_clock): 0 when it
 * goes on through the packet path (a later one with the ports of its
 * first one in p->sport and p->dport); 1 when it was queued or dropped
 * (counted); FRAG_ROUTED (a later one, its ports given) when its first
 * one was marked by frag_routed: it is to be forwarded as that one was.
 */
#define FRAG_ROUTED 2
int  frag_in(struct pkt *p, uint32_t now);

/*
 * One-packet services (ops = yes): no connection entry outlives a
 * datagram, so its first fragment P leaves where it went, D (a reference
 * is held), in its table entry; frag_dest gives it to a later fragment P
 * of the same datagram (NULL: none). A later fragment goes to that real
 * server even if it was removed or quiesced meanwhile, as a connection's
 * packets would: the datagram is not cut in two. The reference goes
 * with the entry (reused, out of time at a sweep, frag_configure's new
 * table, frag_fini).
 */
struct dest;
void         frag_set_dest(const struct pkt *p, struct dest *d, uint32_t now);
struct dest *frag_dest(const struct pkt *p, uint32_t now);
/* Table entries holding a dest reference (tests). */
uint32_t     frag_dest_refs(void);

/*
 * The first fragment P, just through frag_in, belongs to no flow and was
 * forwarded as a router would (fwd.h): its later fragments are to follow.
 */
void frag_routed(const struct pkt *p, uint32_t now);

/* Fragments whose first one has come, waiting to be sent: frag_take. */
unsigned frag_ready(void);
/*
 * Up to MAX of them into IDX, each kept for the caller until frag_put;
 * frag_buf gives one's buffer (virtio-net header, then the frame; as a
 * receive buffer, for pkt_parse) and its frame length.
 */
unsigned frag_take(unsigned *idx, unsigned max);
uint8_t *frag_buf(unsigned idx, uint32_t *len);
void     frag_put(const unsigned *idx, unsigned n, uint32_t now);

/* Drop what waited too long (the main thread's sweep). */
void frag_sweep(uint32_t now);

/* What the queue holds: bytes and fragments (tests, metrics). */
uint32_t frag_queued_bytes(void);
unsigned frag_queued(void);

#endif
