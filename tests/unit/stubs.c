/* stubs.c - what a module under test needs from the modules it is not linked with */
#include "svc.h"
#include "unit.h"

unsigned stub_dest_put_calls;

/*
 * svc.c's dest_put() frees an unlinked dest on its last reference; the
 * tests own their dests (on the stack), so only the count drops and the
 * call is recorded.
 */
void
dest_put(struct dest *d)
{
	d->refcnt--;
	stub_dest_put_calls++;
}
