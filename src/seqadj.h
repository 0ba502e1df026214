/* seqadj.h - TCP sequence adjustment: bytes added to a stream, its seq, ack and SACK numbers shifted to match */
#ifndef VSR_SEQADJ_H
#define VSR_SEQADJ_H

#include <stdbool.h>
#include <stdint.h>

/*
 * When the director puts bytes into one direction of a TCP connection (a
 * PROXY protocol header before the client's first byte) or answers for
 * one side with numbers of its own (issue 15's SYN proxy), the two ends no
 * longer count alike: every later sequence number of that direction must
 * be shifted on its way, and every acknowledgement of the other direction
 * (SACK blocks, D-SACK among them) shifted back, for the life of the
 * connection. The kernel does this in nf_conntrack_seqadj.c and IPVS in
 * ip_vs_app.c; this is the same idea, written for vsrouted.
 *
 * One direction's correction is IPVS's struct ip_vs_seq: the bytes of the
 * direction numbered after INIT_SEQ are shifted by DELTA, those up to and
 * including it by PREVIOUS_DELTA (DELTA before the last change). All zero:
 * nothing to do. Numbers are host order, compared modulo 2^32.
 *
 * Use: the packet path keeps one struct seqadj per connection that needs
 * one (conn.h: conn_cliaddr, a side pool), sets it with seqadj_shift()
 * (bytes put into a stream) or seqadj_offset() (a stream numbered anew),
 * and runs every TCP packet of the connection through seqadj_tcp() with
 * its direction, after its own rewriting, and every ICMP error about one
 * through seqadj_quoted(). Nothing here allocates or keeps a pointer.
 */
struct seqadj_dir {
	uint32_t init_seq;
	uint32_t delta;          /* two's complement: bytes taken out are negative */
	uint32_t previous_delta;
};

/*
 * The whole per-connection state, in one struct so that connection sync
 * can carry it as it is: IN corrects the client's packets (their sequence
 * numbers; the real server's acknowledgements of them go back through
 * it), OUT the real server's. Field for field IPVS's struct
 * ip_vs_sync_conn_options (in_seq, out_seq), which ip_vs_sync.c sends as
 * the sequence option (IPVS_OPT_SEQ_DATA) in network order.
 */
struct seqadj {
	struct seqadj_dir in;
	struct seqadj_dir out;
};

/* The direction a packet travels, naming the correction of its sequence numbers. */
enum seqadj_way {
	SEQADJ_IN,               /* client -> real server */
	SEQADJ_OUT,              /* real server -> client */
};

/* Sequence number arithmetic modulo 2^32 (RFC 793 3.3): A comes after B. */
static inline bool
seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool
seqadj_dir_active(const struct seqadj_dir *d)
{
	return (d->delta | d->previous_delta) != 0;
}

static inline bool
seqadj_active(const struct seqadj *s)
{
	return seqadj_dir_active(&s->in) || seqadj_dir_active(&s->out);
}

/*
 * Every number of D's direction from SEQ on (SEQ itself included: a SYN)
 * counted OFF further on its way, as a SYN proxy needs for the real
 * server's direction once it has answered the client with an ISN of its
 * own: seqadj_offset(&s->out, server_isn, proxy_isn - server_isn), and
 * the client's acknowledgements come back in the server's numbers. OFF 0
 * makes D inactive.
 */
static inline void
seqadj_offset(struct seqadj_dir *d, uint32_t seq, uint32_t off)
{
	d->init_seq = seq;
	d->delta = off;
	d->previous_delta = off;
}

/*
 * LEN more bytes (negative: fewer) in D's stream from the byte after SEQ
 * on. A change after the last one moves the correction point (what was
 * DELTA becomes PREVIOUS_DELTA); one at or before it, the same change seen
 * again on a retransmission, changes nothing.
 */
void seqadj_shift(struct seqadj_dir *d, uint32_t seq, int32_t len);

/* SEQ, a sequence number of D's sender, as D's receiver counts it. */
static inline uint32_t
seqadj_seq(const struct seqadj_dir *d, uint32_t seq)
{
	return seq + (seq_after(seq, d->init_seq) ? d->delta : d->previous_delta);
}

/*
 * ACK, an acknowledgement (or a SACK block's edge) of D's receiver, in the
 * numbers of D's sender. An acknowledgement that ends inside bytes the
 * director added acknowledges none of the sender's bytes after INIT_SEQ:
 * it becomes INIT_SEQ + 1, never a number the sender did not send.
 */
uint32_t seqadj_ack(const struct seqadj_dir *d, uint32_t ack);

/*
 * The TCP header at TCP (DOFF bytes, options included, already checked to
 * lie in the packet) of a packet going WAY: its sequence number through
 * that way's correction and, with ACK set, its acknowledgement number and
 * every SACK block edge back through the other way's. CHECK is the TCP
 * checksum to update incrementally (RFC 1624), or NULL when it is a
 * partial one that the kernel completes (sequence numbers are not in the
 * pseudo-header sum). Options that do not parse are left as they are.
 * Returns the number of 32-bit fields changed, and in *SACK (unless NULL)
 * how many of them were SACK block edges.
 */
unsigned seqadj_tcp(const struct seqadj *s, enum seqadj_way way, uint8_t *tcp, unsigned doff,
    uint16_t *check, unsigned *sack);

/*
 * The TCP header at TCP quoted in an ICMP error (its first 8 bytes at
 * least), of a segment that went WAY and was shifted on its way: its
 * sequence number back in its sender's numbers, so that the sender finds
 * it in its window (Linux ignores an error about a segment it did not
 * send). CHECK is the quoted checksum to update, or NULL when the quote
 * stops before it. Returns 1 when the number changed.
 */
unsigned seqadj_quoted(const struct seqadj *s, enum seqadj_way way, uint8_t *tcp,
    uint16_t *check);

#endif
