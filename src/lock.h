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
 */
void lock_set_threaded(int on);
void lock_acquire(void);
void lock_release(void);

#endif
