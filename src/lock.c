/* lock.c - the data path's locks: each worker's table, and what the workers share */
#include <pthread.h>

#include "conf.h"
#include "lock.h"

/* Held for a batch's work, a few microseconds: spin a little before sleeping. */
static pthread_mutex_t lock_shared_mtx = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t lock_table_mtx[CONF_WORKERS_MAX];
static unsigned lock_ntables;   /* 0: one worker on the main thread, no lock at all */

void
lock_set_threaded(unsigned ntables)
{
	pthread_mutexattr_t a;

	if (ntables > CONF_WORKERS_MAX)
		ntables = CONF_WORKERS_MAX;
	if (ntables > lock_ntables) {
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
		for (unsigned i = lock_ntables; i < ntables; i++)
			pthread_mutex_init(&lock_table_mtx[i], &a);
		pthread_mutexattr_destroy(&a);
	}
	lock_ntables = ntables;
}

void
lock_table(unsigned i)
{
	if (lock_ntables)
		pthread_mutex_lock(&lock_table_mtx[i]);
}

void
unlock_table(unsigned i)
{
	if (lock_ntables)
		pthread_mutex_unlock(&lock_table_mtx[i]);
}

void
lock_shared(void)
{
	if (lock_ntables)
		pthread_mutex_lock(&lock_shared_mtx);
}

void
unlock_shared(void)
{
	if (lock_ntables)
		pthread_mutex_unlock(&lock_shared_mtx);
}

void
lock_all(void)
{
	for (unsigned i = 0; i < lock_ntables; i++)
		pthread_mutex_lock(&lock_table_mtx[i]);
	lock_shared();
}

void
unlock_all(void)
{
	unlock_shared();
	for (unsigned i = lock_ntables; i-- > 0;)
		pthread_mutex_unlock(&lock_table_mtx[i]);
}
