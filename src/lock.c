/* lock.c - the data-path lock: what the workers and the main thread share */
#include <pthread.h>

#include "lock.h"

/* Held for a batch's table work, a few microseconds: spin a little before sleeping. */
static pthread_mutex_t lock_mtx = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static int lock_threaded;

void
lock_set_threaded(int on)
{
	lock_threaded = on;
}

void
lock_acquire(void)
{
	if (lock_threaded)
		pthread_mutex_lock(&lock_mtx);
}

void
lock_release(void)
{
	if (lock_threaded)
		pthread_mutex_unlock(&lock_mtx);
}
