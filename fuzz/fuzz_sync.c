/* fuzz_sync.c - libFuzzer harness of the sync receiver's decoder (make fuzz) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sync_msg.h"

/*
 * Whatever a datagram holds: the decoder reads only inside it, and what it
 * accepts is what the encoder writes back (the same entries, the same
 * verdicts when read again), so that a message the receiver accepts is
 * one the sender could have made. Options the encoder does not write
 * (PE data and name, unknown optional ones) are left out of the
 * comparison by re-encoding the decoded entries and decoding that.
 */
static struct sync_entry ents[SYNC_CONNS_MAX], again[SYNC_CONNS_MAX];
static enum sync_err errs[SYNC_CONNS_MAX], errs2[SYNC_CONNS_MAX];
static uint8_t out[SYNC_MSG_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_writer w;
	unsigned n, n2;
	enum sync_err e;

	if (size > SYNC_MSG_MAX)
		return 0;
	e = sync_msg_decode(data, size, 0, ents, errs, &n);
	if (e != SYNC_E_OK)
		return 0;
	if (n > SYNC_CONNS_MAX)
		__builtin_trap();
	sync_msg_begin(&w, out, sizeof(out), sizeof(out), data[1]);
	for (unsigned i = 0; i < n; i++) {
		if (errs[i] != SYNC_E_OK)
			continue;
		if (ents[i].af != 2 && ents[i].af != 10)
			__builtin_trap();
		if (sync_msg_add(&w, &ents[i]) < 0)
			__builtin_trap();       /* no more than came in, and smaller */
	}
	if (sync_msg_decode(out, sync_msg_len(&w), data[1], again, errs2, &n2) != SYNC_E_OK)
		__builtin_trap();
	for (unsigned i = 0, j = 0; i < n; i++) {
		if (errs[i] != SYNC_E_OK)
			continue;
		if (errs2[j] != SYNC_E_OK || again[j].af != ents[i].af ||
		    again[j].state != ents[i].state || again[j].cport != ents[i].cport ||
		    memcmp(again[j].daddr, ents[i].daddr, 16) != 0 ||
		    again[j].has_fullnat != ents[i].has_fullnat || again[j].has_seq != ents[i].has_seq)
			__builtin_trap();
		j++;
	}
	return 0;
}
