/* lock.h - the data-path lock: what the workers and the main thread share */
#ifndef VSR_LOCK_H
#define VSR_LOCK_H

/*
 * What the workers share (the conn table, services, real servers and their
 * counters, schedulers' state, the local-port pool, neighbour entries) is
 * guarded by this one lock. A worker takes it once per batch of frames
 * (worker.h): the frames are read and parsed before, and sent after,
 * outside it. The main thread takes it around what reads or changes
 * shared state: applying a reload, control requests, health check
 * verdicts, metrics, the expiry sweep, learnt neighbours.
 *
 * A no-op until lock_set_threaded(1), i.e. with one worker on the main
 * thread. Not recursive: taken only at the top of the main thread's
 * callbacks and around a worker's batch.
 *
 * The TAP's steering (steer.h) brings the TCP and UDP packets of a flow to
 * the worker that made it, so each worker's flows are its own on the
 * packet path: a table, timer wheel, free list and port share per worker
 * could do without this lock there. Not done yet: the main thread's
 * readers (control, metrics, sync, the sweep), the schedulers' and the
 * per-service counters, persistence templates (a client's flows may be
 * on several workers), fragments and ICMP errors (which may come in on
 * any queue), and the fallback without the program, all still need it.
 */
void lock_set_threaded(int on);
void lock_acquire(void);
void lock_release(void);

#endif
