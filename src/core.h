/* core.h - the packet path: read frames from the TAP, look up or schedule, transmit */
#ifndef VSR_CORE_H
#define VSR_CORE_H

#include "worker.h"

struct event_base;
struct pkt;

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

/* sloppy_tcp: TCP segments without an entry other than RST are scheduled (0 or 1). */
void core_set_sloppy(int tcp);

/*
 * Process one parsed frame, under the data-path lock: what it produces is
 * queued on W's output queues, sent by xmit_flush(W) after the batch.
 */
void core_input(struct worker *w, struct pkt *p);

#endif
