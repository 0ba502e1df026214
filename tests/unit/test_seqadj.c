/* test_seqadj.c - sequence adjustment: seqadj_shift, seqadj_seq, seqadj_ack, seqadj_tcp */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "pkt.h"
#include "seqadj.h"
#include "unit.h"

/* ---- a reference checksum, from RFC 1071 alone ---- */

static uint16_t
ref_sum(const uint8_t *b, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i += 2)
		acc += (uint32_t)b[i] << 8 | (i + 1 < n ? b[i + 1] : 0);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}



/* A pseudo-header of 192.0.2.1 -> 10.20.0.11, TCP, LEN bytes. */
static uint32_t
pseudo(unsigned len)
{
	static const uint8_t ph[10] = { 192, 0, 2, 1, 10, 20, 0, 11, 0, IPPROTO_TCP };
	uint8_t l[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	return ref_sum(l, 2, ref_sum(ph, 10, 0));
}

/* The complete checksum of segment SEG (LEN bytes), its field taken as zero. */
static uint16_t
ref_tcp_csum(const uint8_t *seg, unsigned len)
{
	uint8_t tmp[256];

	memcpy(tmp, seg, len);
	tmp[16] = tmp[17] = 0;
	return (uint16_t)~ref_sum(tmp, len, pseudo(len));
}

/* ---- seqadj_shift, seqadj_seq, seqadj_ack ---- */

static void
test_shift(void)
{
	struct seqadj_dir d;

	UNIT_SECTION("seqadj_shift");
	memset(&d, 0, sizeof(d));
	CHECK(!seqadj_dir_active(&d), "a zeroed direction changes nothing");
	seqadj_shift(&d, 0xfffffff0u, 28);
	CHECK(d.init_seq == 0xfffffff0u && d.delta == 28 && d.previous_delta == 0,
	    "the first change sets the point, whatever its number (%08x %u %u)", d.init_seq,
	    d.delta, d.previous_delta);
	seqadj_shift(&d, 0xfffffff0u, 28);
	CHECK(d.init_seq == 0xfffffff0u && d.delta == 28 && d.previous_delta == 0,
	    "the same change again (a retransmission) changes nothing");
	seqadj_shift(&d, 0xffffff00u, 5);
	CHECK(d.delta == 28, "a change before the point changes nothing");
	seqadj_shift(&d, 0x10u, -4);
	CHECK(d.init_seq == 0x10u && d.delta == 24 && d.previous_delta == 28,
	    "a later change, across the wrap, moves the point (%08x %u %u)", d.init_seq, d.delta,
	    d.previous_delta);
}

struct map_case {
	const char *what;
	uint32_t    init, delta, prev;
	uint32_t    in, want;
};

static const struct map_case seq_cases[] = {
	{ "the ISN itself (the SYN) is not shifted", 1000, 28, 0, 1000, 1000 },
	{ "the first payload byte moves by the header", 1000, 28, 0, 1001, 1029 },
	{ "a later byte too", 1000, 28, 0, 50000, 50028 },
	{ "a byte before the point keeps the previous delta", 1000, 28, 4, 900, 904 },
	{ "across the wrap: after the point", 0xfffffffeu, 52, 0, 3, 55 },
	{ "across the wrap: shifted past zero", 0xfffffff0u, 52, 0, 0xfffffff1u, 0x25 },
	{ "a constant offset (SYN proxy) applies both sides", 77, 0x80000000u, 0x80000000u,
	    10, 0x8000000au },
	{ "a negative delta takes bytes out", 1000, (uint32_t)-8, 0, 2000, 1992 },
};

static const struct map_case ack_cases[] = {
	{ "the SYN's acknowledgement (ISN + 1) stays", 1000, 28, 0, 1001, 1001 },
	{ "an ack inside the header acknowledges no client byte", 1000, 28, 0, 1015, 1001 },
	{ "the header's last byte acknowledged", 1000, 28, 0, 1028, 1001 },
	{ "the whole header: the client's ISN + 1", 1000, 28, 0, 1029, 1001 },
	{ "the header and one byte", 1000, 28, 0, 1030, 1002 },
	{ "far on", 1000, 28, 0, 900000, 899972 },
	{ "before the point (an old duplicate)", 1000, 28, 0, 990, 990 },
	{ "across the wrap", 0xfffffff0u, 52, 0, 0x30u, 0xfffffffcu },
	{ "across the wrap, inside the header", 0xfffffff0u, 52, 0, 0x10u, 0xfffffff1u },
	{ "a constant offset comes back whole", 77, 0x80000000u, 0x80000000u, 0x8000000au, 10 },
	{ "a constant offset at the point", 77, 5, 5, 83, 78 },
	{ "a second insertion keeps the first one's bytes", 2000, 40, 28, 2029, 2001 },
	{ "and acknowledges through the second", 2000, 40, 28, 2041, 2001 },
	{ "beyond both", 2000, 40, 28, 3040, 3000 },
};

static void
test_maps(void)
{
	UNIT_SECTION("seqadj_seq and seqadj_ack");
	for (size_t i = 0; i < ARRAY_SIZE(seq_cases); i++) {
		const struct map_case *c = &seq_cases[i];
		struct seqadj_dir d = { c->init, c->delta, c->prev };

		CHECK_EQ(seqadj_seq(&d, c->in), c->want, "seq: %s", c->what);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ack_cases); i++) {
		const struct map_case *c = &ack_cases[i];
		struct seqadj_dir d = { c->init, c->delta, c->prev };

		CHECK_EQ(seqadj_ack(&d, c->in), c->want, "ack: %s", c->what);
	}
}

/* A SYN proxy's constant offset: the server's numbers in the proxy's, and back. */
static void
test_offset(void)
{
	const uint32_t sisn = 0xfffffff0u, pisn = 0x12345678u;
	struct seqadj_dir d;

	UNIT_SECTION("seqadj_offset");
	seqadj_offset(&d, sisn, pisn - sisn);
	CHECK(seqadj_dir_active(&d), "an offset is a correction");
	CHECK_EQ(seqadj_seq(&d, sisn), pisn, "the server's SYN-ACK in the proxy's numbers");
	CHECK_EQ(seqadj_seq(&d, sisn + 1), pisn + 1, "its first byte");
	CHECK_EQ(seqadj_seq(&d, sisn + 100000), pisn + 100000, "far on, across the wrap");
	CHECK_EQ(seqadj_ack(&d, pisn + 1), sisn + 1, "the client's ack of the SYN-ACK back");
	CHECK_EQ(seqadj_ack(&d, pisn + 100000), sisn + 100000, "and of far on");
	seqadj_offset(&d, sisn, 0);
	CHECK(!seqadj_dir_active(&d), "offset 0: nothing to do");
}

/*
 * For any point, any insertion and any byte the sender sent, the
 * receiver's acknowledgement of it comes back as the sender's own number.
 */
static void
test_roundtrip(void)
{
	unsigned bad = 0, n = 0;

	UNIT_SECTION("round trips");
	srandom(19);
	for (int i = 0; i < 200000; i++) {
		struct seqadj_dir d = { (uint32_t)random() << 1 ^ (uint32_t)random(),
			(uint32_t)(random() % 4096), 0 };
		uint32_t s = d.init_seq + 1 + (uint32_t)(random() % 0x7fff0000);

		if (i & 1)
			d.previous_delta = (uint32_t)(random() % 64);
		if (d.previous_delta > d.delta)
			continue;
		n++;
		if (seqadj_ack(&d, seqadj_seq(&d, s)) != s)
			bad++;
		/* and a byte at or before the point */
		s = d.init_seq - (uint32_t)(random() % 0x7fff0000);
		if (seqadj_ack(&d, seqadj_seq(&d, s)) != s)
			bad++;
	}
	CHECK(n > 150000 && bad == 0, "%u random points, deltas and bytes map back (%u wrong)", n,
	    bad);
}

/* ---- seqadj_tcp on whole headers ---- */

/*
 * A segment: 20 bytes of header, OPTLEN of options OPT, 6 bytes of data;
 * seq, ack and flags given; a complete checksum. Returns its length.
 */
static unsigned
segment(uint8_t *seg, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *opt,
    unsigned optlen)
{
	unsigned doff = 20 + optlen, len = doff + 6;
	uint16_t c;

	memset(seg, 0, 256);
	seg[0] = 0x9c; seg[1] = 0x40;           /* 40000 */
	seg[2] = 0x00; seg[3] = 0x50;           /* 80 */
	wr32(seg + 4, seq);
	wr32(seg + 8, ack);
	seg[12] = (uint8_t)(doff / 4 << 4);
	seg[13] = flags;
	seg[14] = 0xff; seg[15] = 0xff;
	memcpy(seg + 20, opt, optlen);
	memcpy(seg + doff, "abcdef", 6);
	c = htons(ref_tcp_csum(seg, len));
	memcpy(seg + 16, &c, 2);
	return len;
}

/* NOP NOP timestamps, then NOP NOP SACK with N blocks from EDGES. */
static unsigned
opts_sack(uint8_t *o, const uint32_t *edges, unsigned nblocks)
{
	static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	unsigned n = 0;

	memcpy(o, ts, 12);
	n = 12;
	if (nblocks == 0)
		return n;
	o[n++] = 1;
	o[n++] = 1;
	o[n++] = 5;
	o[n++] = (uint8_t)(2 + 8 * nblocks);
	for (unsigned i = 0; i < 2 * nblocks; i++, n += 4)
		wr32(o + n, edges[i]);
	return n;
}

static int
csum_holds(const uint8_t *seg, unsigned len)
{
	return ref_sum(seg, len, pseudo(len)) == 0xffff;
}

static void
test_tcp(void)
{
	/* proxy-v2 on a connection whose client ISN is 1000, a 28-byte header. */
	struct seqadj s = { .in = { 1000, 28, 0 } };
	uint8_t seg[256], opt[40], before[256];
	unsigned len, n;

	UNIT_SECTION("seqadj_tcp");

	len = segment(seg, 5001, 777, TCPF_ACK, opt, opts_sack(opt, NULL, 0));
	n = seqadj_tcp(&s, SEQADJ_IN, seg, 32, (uint16_t *)(seg + 16), NULL);
	CHECK(n == 1 && rd32(seg + 4) == 5029 && rd32(seg + 8) == 777,
	    "a client segment: its seq shifted, its ack (the server's numbers) not");
	CHECK(csum_holds(seg, len), "and its checksum updated");

	len = segment(seg, 777, 5029, TCPF_ACK, opt, opts_sack(opt, NULL, 0));
	n = seqadj_tcp(&s, SEQADJ_OUT, seg, 32, (uint16_t *)(seg + 16), NULL);
	CHECK(n == 1 && rd32(seg + 4) == 777 && rd32(seg + 8) == 5001,
	    "a server segment: its ack shifted back, its seq not");
	CHECK(csum_holds(seg, len), "and its checksum updated");

	{
		/* D-SACK of the header sent twice, then two blocks of data. */
		const uint32_t e[6] = { 1001, 1029, 3029, 4029, 6029, 7029 };
		len = segment(seg, 777, 2029, TCPF_ACK, opt, opts_sack(opt, e, 3));
		unsigned edges = 99;
		n = seqadj_tcp(&s, SEQADJ_OUT, seg, 20 + 40, (uint16_t *)(seg + 16), &edges);
		CHECK(n == 6 && edges == 5 && rd32(seg + 8) == 2001,
		    "SACK: the ack and five edges changed (%u, %u edges)", n, edges);
		CHECK(rd32(seg + 36) == 1001 && rd32(seg + 40) == 1001,
		    "a D-SACK of the header alone becomes an empty block at ISN + 1");
		CHECK(rd32(seg + 44) == 3001 && rd32(seg + 48) == 4001 && rd32(seg + 52) == 6001 &&
		    rd32(seg + 56) == 7001, "data blocks shifted back");
		CHECK(csum_holds(seg, len), "and the checksum follows every edge");
	}
	{
		const uint32_t e[8] = { 3029, 4029, 5029, 6029, 7029, 8029, 9029, 9529 };
		uint8_t o[40];
		unsigned ol;

		/* four blocks without timestamps: SACK at once */
		o[0] = 1;
		o[1] = 1;
		o[2] = 5;
		o[3] = 34;
		for (unsigned i = 0; i < 8; i++)
			wr32(o + 4 + 4 * i, e[i]);
		ol = 36;
		len = segment(seg, 777, 2029, TCPF_ACK, o, ol);
		n = seqadj_tcp(&s, SEQADJ_OUT, seg, 20 + ol, (uint16_t *)(seg + 16), NULL);
		CHECK(n == 9 && rd32(seg + 24) == 3001 && rd32(seg + 52) == 9501,
		    "four SACK blocks, all edges (%u)", n);
		CHECK(csum_holds(seg, len), "checksum");
	}

	len = segment(seg, 777, 5029, TCPF_SYN, opt, opts_sack(opt, NULL, 0));
	memcpy(before, seg, len);
	n = seqadj_tcp(&s, SEQADJ_OUT, seg, 32, (uint16_t *)(seg + 16), NULL);
	CHECK(n == 0 && memcmp(before, seg, len) == 0, "without ACK the ack field is not read");

	/* A partial checksum (offload): left alone, the kernel sums it later. */
	len = segment(seg, 5001, 777, TCPF_ACK, opt, opts_sack(opt, NULL, 0));
	memcpy(before, seg, len);
	n = seqadj_tcp(&s, SEQADJ_IN, seg, 32, NULL, NULL);
	CHECK(n == 1 && seg[16] == before[16] && seg[17] == before[17] && rd32(seg + 4) == 5029,
	    "with no checksum to update only the number changes");

	{
		/* Options that do not parse: the walk stops, nothing else is touched. */
		static const struct {
			const char *what;
			uint8_t     o[12];
		} bad[] = {
			{ "an option of length 0", { 1, 1, 5, 0, 0, 0, 3, 0xed, 0, 0, 3, 0xf0 } },
			{ "an option running past the header", { 1, 1, 5, 18, 0, 0, 3, 0xed, 0, 0, 3,
			    0xf0 } },
			{ "a SACK of a length no block count gives", { 1, 1, 5, 9, 0, 0, 3, 0xed, 0, 0,
			    3, 0xf0 } },
			{ "a kind with no room for its length", { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5 } },
		};
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			len = segment(seg, 777, 5029, TCPF_ACK, bad[i].o, 12);
			n = seqadj_tcp(&s, SEQADJ_OUT, seg, 32, (uint16_t *)(seg + 16), NULL);
			CHECK(n == 1 && rd32(seg + 8) == 5001 && memcmp(seg + 20, bad[i].o, 12) == 0 &&
			    csum_holds(seg, len), "%s: only the ack changes", bad[i].what);
		}
	}
	{
		struct seqadj none = { { 0, 0, 0 }, { 0, 0, 0 } };

		len = segment(seg, 5001, 777, TCPF_ACK, opt, opts_sack(opt, NULL, 0));
		memcpy(before, seg, len);
		CHECK(seqadj_tcp(&none, SEQADJ_IN, seg, 32, (uint16_t *)(seg + 16), NULL) == 0 &&
		    memcmp(before, seg, len) == 0 && !seqadj_active(&none),
		    "no correction: nothing changes");
	}
}

/* An ICMP error's quote: 8 bytes of TCP, or the whole header with its checksum. */
static void
test_quoted(void)
{
	struct seqadj s = { .in = { 1000, 28, 0 } };
	uint8_t seg[256], opt[40];
	unsigned len;

	UNIT_SECTION("seqadj_quoted");
	len = segment(seg, 5029, 777, TCPF_ACK, opt, opts_sack(opt, NULL, 0));
	CHECK(seqadj_quoted(&s, SEQADJ_IN, seg, (uint16_t *)(seg + 16)) == 1 &&
	    rd32(seg + 4) == 5001 && csum_holds(seg, len),
	    "a client segment quoted whole: its seq back, its checksum updated");
	len = segment(seg, 1001, 777, TCPF_ACK | TCPF_PSH, opt, opts_sack(opt, NULL, 0));
	CHECK(seqadj_quoted(&s, SEQADJ_IN, seg, NULL) == 0 && rd32(seg + 4) == 1001,
	    "the header's own segment (at ISN + 1) stays, 8 bytes quoted");
	len = segment(seg, 777, 5029, TCPF_ACK, opt, opts_sack(opt, NULL, 0));
	CHECK(seqadj_quoted(&s, SEQADJ_OUT, seg, (uint16_t *)(seg + 16)) == 0 &&
	    rd32(seg + 8) == 5029, "a server segment: no correction that way, nothing changes");
}

int
main(void)
{
	test_quoted();
	test_shift();
	test_maps();
	test_offset();
	test_roundtrip();
	test_tcp();
	return unit_done();
}
