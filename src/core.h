/* core.h - the packet path: read frames from the TAP, look up or schedule, transmit */
#ifndef VSR_CORE_H
#define VSR_CORE_H

#include <event2/event.h>
#include <stdint.h>

#include "pkt.h"

#define RX_BATCH   64      /* frames read before the output queues are flushed */
#define RX_BUDGET  4       /* batches per wake-up before yielding to the loop */

struct conn_table;

/*
 * One event loop's worth of packet path: its TAP queue, receive buffers
 * and the connection table it uses. One for now; IFF_MULTI_QUEUE gives
 * one per queue later.
 */
struct worker {
	struct event_base *base;
	int                tap_fd;
	struct event      *ev_tap;
	uint8_t           *rxbuf;         /* RX_BATCH * PKT_BUF_STRIDE */
	struct conn_table *ct;
	uint32_t           now;           /* tick (CONN_HZ), cached per wake-up */
	uint8_t            our_mac[6];    /* the daemon's address on the TAP link */
	uint8_t            tap_mac[6];    /* the kernel's side of the TAP */
};

/* Ticks of 1/CONN_HZ s from CLOCK_MONOTONIC_COARSE (no syscall). */
uint32_t core_clock(void);

int  core_worker_init(struct worker *w, struct event_base *base, int tap_fd,
    struct conn_table *ct);
void core_worker_fini(struct worker *w);

/* Process one parsed frame (exposed for tests); the caller flushes. */
void core_input(struct worker *w, struct pkt *p);

/* Write a frame (virtio-net header included in BUF) into the TAP. */
int  core_tap_write(struct worker *w, uint8_t *buf, uint32_t len);

#endif
