/* worker.h - one event loop's worth of packet path: its TAP queue, buffers and output queues */
#ifndef VSR_WORKER_H
#define VSR_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define RX_BATCH   64      /* frames read before the output queues are flushed */
#define RX_BUDGET  4       /* batches per wake-up before yielding to the loop */

struct conn_table;
struct event;
struct event_base;
struct pkt;

/*
 * A worker reads its queue of the TAP, processes each batch of up to
 * RX_BATCH frames under its table's lock (lock.h) and sends what they
 * produced after it: the output queues are its own, indexed by its id in
 * link.c and tunnel.c, its TAP queue here (tap.c). With more than one
 * worker, each has a connection table of its own (conn_table_sharded):
 * member ID of the set.
 *
 * workers = 1: one worker, on the main event base, no thread, no lock.
 * workers = N > 1: N workers, each reading its own queue of the
 * IFF_MULTI_QUEUE TAP on its own thread and event base; the main thread
 * keeps the control socket, reload, checks, ARP and the timers. The
 * global counters are per thread (stats.h, slot); the per-service and
 * per-real-server ones are written under the lock.
 *
 * Queue i is worker i's: tap_open() attaches the queues in order and the
 * kernel numbers them so (drivers/net/tun.c, tun_attach). The TAP's
 * steering program (steer.h) sends every TCP and UDP packet of a flow,
 * both directions, to the queue of the worker that made it (a fullnat
 * flow's local port chosen for it, laddr.h); fragments, ICMP errors, and
 * everything when the program could not be loaded, may come in on
 * another worker's queue (counted as worker_crossed), which the shared
 * table under the lock handles all the same.
 */
struct worker {
	unsigned           id;            /* 0..workers-1: output queue index */
	unsigned           slot;          /* stats slot: 0 on the main thread, else 1 + id */
	struct event_base *base;
	int                own_base;      /* a thread of its own: base, stop event */
	int                tap_fd;
	struct event      *ev_tap;
	int                stop_fd;       /* eventfd: the main thread asks the loop to end */
	struct event      *ev_stop;
	pthread_t          thread;
	int                running;
	uint8_t           *rxbuf;         /* RX_BATCH * PKT_BUF_STRIDE */
	struct pkt        *rx;            /* RX_BATCH parsed frames of the batch */
	unsigned           ntapq;         /* frames to write into the TAP after the batch */
	struct iovec       tapq[RX_BATCH];
	struct conn_table *ct;            /* the table in use: its own, or another's for a crossed packet */
	struct conn_table *set;           /* every table (conn_table_sharded), or the one */
	unsigned           nt;            /* the set's flow tables; 0: one table, no locks */
	unsigned           held;          /* 1 + the table whose lock is held; 0: none */
	bool               shared;        /* the shared lock is held too */
	bool               fragged;       /* the batch gave the fragment queue a packet */
	uint32_t           now;           /* tick (CONN_HZ), cached per batch and lock */
	uint8_t            our_mac[6];    /* the daemon's address on the TAP link */
	uint8_t            tap_mac[6];    /* the kernel's side of the TAP */
};

#endif
