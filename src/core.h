/* core.h - the packet path: read frames from the TAP, look up or schedule, transmit */
#ifndef VSR_CORE_H
#define VSR_CORE_H

#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "pkt.h"

#define RX_BATCH   64      /* frames read before the output queues are flushed */
#define RX_BUDGET  4       /* batches per wake-up before yielding to the loop */

struct conn_table;

/*
 * One event loop's worth of packet path: its TAP queue, receive buffers,
 * output queues (index ID in link.c and xmit_tun.c, TAP writes here) and
 * the connection table it shares with the other workers.
 *
 * workers = 1: one worker, on the main event base, no thread, no lock.
 * workers = N > 1: N workers, each reading its own queue of the
 * IFF_MULTI_QUEUE TAP on its own thread and event base; the main thread
 * keeps the control socket, reload, checks, ARP and the timers.
 *
 * What is shared (the conn table, services, real servers and their
 * counters, schedulers' state, the local-port pool, neighbour entries) is
 * guarded by one data-path lock (core_lock). A worker takes it once per
 * batch of up to RX_BATCH frames: the frames are read and parsed before,
 * and sent (TAP writes, sendmmsg to the links and tunnels) after, outside
 * it. The global counters are per thread (stats.h); the per-service and
 * per-real-server ones are written under the lock. The main thread takes
 * the lock for what reads or changes shared state (core_lock callers:
 * vsrouted.c, ctl.c, metrics.c, check.c, arp.c).
 *
 * What scales: the syscalls (TAP reads and writes, sendmmsg), parsing and
 * the global counters. What does not: the table work, serialized by the
 * lock, and the service/real-server counters written under it. Toward 16
 * workers, next would be: a lock per hash-bucket stripe for lookups, with
 * the wheel, free list and dest counters per worker (a flow expires on the
 * worker that made it; conn flags already carry its maker); per-worker
 * service counters summed by the estimator; the local-port pool split per
 * worker; and TUNSETSTEERINGEBPF to send both directions of a flow to one
 * queue where the tuples allow it.
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
	struct conn_table *ct;
	uint32_t           now;           /* tick (CONN_HZ), cached per wake-up */
	uint8_t            our_mac[6];    /* the daemon's address on the TAP link */
	uint8_t            tap_mac[6];    /* the kernel's side of the TAP */
};

/* Ticks of 1/CONN_HZ s from CLOCK_MONOTONIC_COARSE (no syscall). */
uint32_t core_clock(void);

/*
 * Worker ID reading TAP_FD: on BASE (the main loop), or, with BASE NULL,
 * on an event base of its own, to be run on a thread by core_worker_start.
 */
int  core_worker_init(struct worker *w, unsigned id, struct event_base *base, int tap_fd,
    struct conn_table *ct);
/* Start the thread of a worker made with its own base (signals blocked there). */
int  core_worker_start(struct worker *w);
/* Ask its loop to end and join the thread; nothing if it was not started. */
void core_worker_stop(struct worker *w);
void core_worker_fini(struct worker *w);

/*
 * The data-path lock; a no-op until core_set_threaded(1), i.e. with one
 * worker on the main thread. Not recursive: taken only at the top of the
 * main thread's callbacks and around a worker's batch.
 */
void core_set_threaded(int on);
void core_lock(void);
void core_unlock(void);

/* Process one parsed frame (exposed for tests); the caller flushes. */
void core_input(struct worker *w, struct pkt *p);

/*
 * Write a frame (virtio-net header included in BUF) into the TAP. A frame
 * in the worker's receive buffers (rewritten in place) is queued and
 * written after the batch, outside the lock; any other is written now.
 */
int  core_tap_write(struct worker *w, uint8_t *buf, uint32_t len);

#endif
