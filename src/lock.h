/* lock.h - the data path's locks: each worker's table, and what the workers share */
#ifndef VSR_LOCK_H
#define VSR_LOCK_H

/*
 * With workers = N > 1, each worker owns a connection table (conn.h,
 * conn_table_sharded): its buckets, timer wheel, free list and pools.
 * The TAP's steering (steer.h) brings every TCP and UDP packet of a flow
 * to the worker that made it, so a worker works on its own table, under
 * its own lock, which nobody else takes while traffic flows: the main
 * thread takes it only to read or change what the worker uses (below),
 * another worker only for a packet the steering could not place
 * (fragments, ICMP errors, everything when the program could not be
 * loaded; counted as worker_crossed).
 *
 *   lock_table(i)   worker i's table. A worker holds one table's lock
 *                   through a batch of frames (worker.h), and never two.
 *   lock_shared()   what every worker may change: the schedulers and the
 *                   real servers' connection counts and references, the
 *                   persistence templates, the local-port pool, the
 *                   fragment queue, sync's templates, the defences, rate
 *                   limits. Taken after a table's lock, only by what a
 *                   packet of an established flow does not do: a new flow,
 *                   a change of TCP state, an expiry, a fragment, an ICMP
 *                   error, a packet with no flow.
 *   lock_all()      every table's lock in order, then the shared one: the
 *                   main thread, around what reads or changes any of it
 *                   (a reload, control requests, health check verdicts,
 *                   metrics, the rate estimator, learnt neighbours,
 *                   sync's backup). No worker is mid-batch meanwhile.
 *
 * The order is always a table's lock before the shared one, so none
 * waits for another in a circle. Packets of an established flow write
 * only their own table and their real server's byte counters (atomic
 * adds, core.c). No lock at all while lock_set_threaded(0), i.e. with one
 * worker on the main thread. Not recursive.
 */
void lock_set_threaded(unsigned ntables);
void lock_table(unsigned i);
void unlock_table(unsigned i);
void lock_shared(void);
void unlock_shared(void);
void lock_all(void);
void unlock_all(void);

#endif
