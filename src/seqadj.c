/* seqadj.c - TCP sequence adjustment: bytes added to a stream, its seq, ack and SACK numbers shifted to match */
#include <arpa/inet.h>
#include <string.h>

#include "pkt.h"
#include "seqadj.h"

void
seqadj_shift(struct seqadj_dir *d, uint32_t seq, int32_t len)
{
	if (!seqadj_dir_active(d)) {
		d->init_seq = seq;
		d->previous_delta = 0;
		d->delta = (uint32_t)len;
		return;
	}
	if (!seq_after(seq, d->init_seq))
		return;
	d->previous_delta = d->delta;
	d->delta += (uint32_t)len;
	d->init_seq = seq;
}

/*
 * The receiver's byte N is the sender's N - PREVIOUS_DELTA up to INIT_SEQ
 * + PREVIOUS_DELTA, and N - DELTA from INIT_SEQ + 1 + DELTA on; what lies
 * between was added. An acknowledgement names the next byte expected.
 */
uint32_t
seqadj_ack(const struct seqadj_dir *d, uint32_t ack)
{
	if (seq_after(ack - d->delta, d->init_seq))
		return ack - d->delta;
	if (!seq_after(ack - d->previous_delta, d->init_seq + 1))
		return ack - d->previous_delta;
	return d->init_seq + 1;
}

/* The 32-bit field at AT becomes V (host order), the checksum following. */
static unsigned
put32(uint8_t *at, uint32_t v, uint16_t *check)
{
	uint32_t old, new = htonl(v);

	memcpy(&old, at, 4);
	if (old == new)
		return 0;
	if (check != NULL)
		csum_replace4(check, old, new);
	memcpy(at, &new, 4);
	return 1;
}

/* SACK blocks' edges in the options OPT (LEN bytes) back through D. */
static unsigned
seqadj_sack(const struct seqadj_dir *d, uint8_t *opt, unsigned len, uint16_t *check)
{
	unsigned at = 0, n = 0;
	int i;

	/* What most segments carry: NOP, NOP, timestamps (RFC 7323 appendix A). */
	if (len == 12 && opt[0] == TCPOPT_NOP_ && opt[1] == TCPOPT_NOP_ && opt[2] == 8 &&
	    opt[3] == 10)
		return 0;
	while ((i = tcp_opt_next(opt, len, &at)) >= 0) {
		unsigned olen = opt[i + 1];

		if (opt[i] == TCPOPT_SACK_ && olen >= 10 && (olen - 2) % 8 == 0)
			for (unsigned e = (unsigned)i + 2; e < (unsigned)i + olen; e += 4)
				n += put32(opt + e, seqadj_ack(d, rd32(opt + e)), check);
	}
	return n;
}

unsigned
seqadj_quoted(const struct seqadj *s, enum seqadj_way way, uint8_t *tcp, uint16_t *check)
{
	const struct seqadj_dir *d = way == SEQADJ_IN ? &s->in : &s->out;

	if (!seqadj_dir_active(d))
		return 0;
	return put32(tcp + 4, seqadj_ack(d, rd32(tcp + 4)), check);
}

unsigned
seqadj_tcp(const struct seqadj *s, enum seqadj_way way, uint8_t *tcp, unsigned doff,
    uint16_t *check, unsigned *sack)
{
	const struct seqadj_dir *mine = way == SEQADJ_IN ? &s->in : &s->out;
	const struct seqadj_dir *other = way == SEQADJ_IN ? &s->out : &s->in;
	unsigned n = 0, e = 0;

	if (seqadj_dir_active(mine))
		n += put32(tcp + 4, seqadj_seq(mine, rd32(tcp + 4)), check);
	if ((tcp[13] & TCPF_ACK) && seqadj_dir_active(other)) {
		n += put32(tcp + 8, seqadj_ack(other, rd32(tcp + 8)), check);
		if (doff > 20)
			e = seqadj_sack(other, tcp + 20, doff - 20, check);
	}
	if (sack != NULL)
		*sack = e;
	return n + e;
}
