/* test_gro.c - user-space GRO: which segments become one super-frame, and what it holds */
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gro.h"
#include "pkt.h"
#include "unit.h"

/*
 * The TUN is stood in for by a SOCK_SEQPACKET socket pair: one writev(),
 * one message, read back whole. Segments are IPv4 + TCP with a timestamp
 * option (header 52 bytes), DF, TTL 64, built with right checksums; the
 * payload byte at sequence number K of flow F is (K * 7 + F) & 0xff, so
 * a super-frame's payload can be checked byte by byte.
 */

#define HLEN     52u
#define SEGBUF   2048u

enum mut { M_NONE, M_BADSUM, M_TS, M_TTL, M_WIN, M_UDP, M_IPOPT };

struct seg {
	char     flow;          /* 'A'.. : the client's port and the pattern */
	uint32_t seq;           /* relative */
	uint16_t id;
	uint8_t  flags;
	uint16_t pay;
	enum mut mut;
};

struct want {
	char     flow;
	unsigned nseg;          /* 1: as it came */
	uint16_t gso;           /* gso_size when nseg > 1 */
	uint32_t seq;
	uint8_t  psh;           /* the super-frame has PSH */
};

struct gro_case {
	const char *what;
	struct seg  in[12];
	unsigned    nin;
	struct want out[12];
	unsigned    nout;
	unsigned    csum_bad;
};

#define A TCPF_ACK
#define AP (TCPF_ACK | TCPF_PSH)

static const struct gro_case cases[] = {
	{ "three segments of a flow: one super-frame",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, 0 }, { 'A', 2000, 3, A, 1000, 0 } }, 3,
	  { { 'A', 3, 1000, 0, 0 } }, 1, 0 },
	{ "one segment alone goes as it came",
	  { { 'A', 0, 1, A, 1000, 0 } }, 1,
	  { { 'A', 1, 0, 0, 0 } }, 1, 0 },
	{ "a short segment is the last of its run",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 500, 0 }, { 'A', 1500, 3, A, 1000, 0 } }, 3,
	  { { 'A', 2, 1000, 0, 0 }, { 'A', 1, 0, 1500, 0 } }, 2, 0 },
	{ "a last segment of the same size ends no run",
	  { { 'A', 0, 1, A, 800, 0 }, { 'A', 800, 2, A, 800, 0 }, { 'A', 1600, 3, A, 300, 0 } }, 3,
	  { { 'A', 3, 800, 0, 0 } }, 1, 0 },
	{ "PSH ends the run and is kept",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, AP, 1000, 0 }, { 'A', 2000, 3, A, 1000, 0 } }, 3,
	  { { 'A', 2, 1000, 0, 1 }, { 'A', 1, 0, 2000, 0 } }, 2, 0 },
	{ "a PSH first segment goes alone",
	  { { 'A', 0, 1, AP, 1000, 0 }, { 'A', 1000, 2, A, 1000, 0 } }, 2,
	  { { 'A', 1, 0, 0, 0 }, { 'A', 1, 0, 1000, 0 } }, 2, 0 },
	{ "a gap in the sequence starts a new run",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 2000, 2, A, 1000, 0 }, { 'A', 3000, 3, A, 1000, 0 } }, 3,
	  { { 'A', 1, 0, 0, 0 }, { 'A', 2, 1000, 2000, 0 } }, 2, 0 },
	{ "two flows interleaved: a super-frame each",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'B', 0, 1, A, 700, 0 }, { 'A', 1000, 2, A, 1000, 0 },
	    { 'B', 700, 2, A, 700, 0 }, { 'A', 2000, 3, A, 1000, 0 } }, 5,
	  { { 'A', 3, 1000, 0, 0 }, { 'B', 2, 700, 0, 0 } }, 2, 0 },
	{ "a bad checksum is written alone, after its flow's run",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, 0 }, { 'A', 2000, 3, A, 1000, M_BADSUM },
	    { 'A', 3000, 4, A, 1000, 0 } }, 4,
	  { { 'A', 2, 1000, 0, 0 }, { 'A', 1, 0, 2000, 0 }, { 'A', 1, 0, 3000, 0 } }, 3, 1 },
	{ "a FIN goes alone, after the run before it",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, 0 },
	    { 'A', 2000, 3, A | TCPF_FIN, 1000, 0 } }, 3,
	  { { 'A', 2, 1000, 0, 0 }, { 'A', 1, 0, 2000, 0 } }, 2, 0 },
	{ "another timestamp: no merge",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, M_TS } }, 2,
	  { { 'A', 1, 0, 0, 0 }, { 'A', 1, 0, 1000, 0 } }, 2, 0 },
	{ "another TTL: no merge",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, M_TTL } }, 2,
	  { { 'A', 1, 0, 0, 0 }, { 'A', 1, 0, 1000, 0 } }, 2, 0 },
	{ "another window: no merge",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, M_WIN } }, 2,
	  { { 'A', 1, 0, 0, 0 }, { 'A', 1, 0, 1000, 0 } }, 2, 0 },
	{ "IP IDs that do not count up: no merge",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 9, A, 1000, 0 } }, 2,
	  { { 'A', 1, 0, 0, 0 }, { 'A', 1, 0, 1000, 0 } }, 2, 0 },
	{ "UDP between the same addresses goes after the run",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, 0 }, { 'A', 0, 3, 0, 100, M_UDP },
	    { 'A', 2000, 4, A, 1000, 0 } }, 4,
	  { { 'A', 2, 1000, 0, 0 }, { 'A', 1, 0, 0, 0 }, { 'A', 1, 0, 2000, 0 } }, 3, 0 },
	{ "IP options go alone, after the run",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, 0 }, { 'A', 2000, 3, A, 1000, M_IPOPT } }, 3,
	  { { 'A', 2, 1000, 0, 0 }, { 'A', 1, 0, 2000, 0 } }, 2, 0 },
	{ "a pure ACK goes alone, after the run",
	  { { 'A', 0, 1, A, 1000, 0 }, { 'A', 1000, 2, A, 1000, 0 }, { 'A', 2000, 3, A, 0, 0 } }, 3,
	  { { 'A', 2, 1000, 0, 0 }, { 'A', 1, 0, 2000, 0 } }, 2, 0 },
	{ "more flows than runs: the oldest is written first",
	  { { 'A', 0, 1, A, 100, 0 }, { 'B', 0, 1, A, 100, 0 }, { 'C', 0, 1, A, 100, 0 },
	    { 'D', 0, 1, A, 100, 0 }, { 'E', 0, 1, A, 100, 0 }, { 'F', 0, 1, A, 100, 0 },
	    { 'G', 0, 1, A, 100, 0 }, { 'H', 0, 1, A, 100, 0 }, { 'I', 0, 1, A, 100, 0 },
	    { 'B', 100, 2, A, 100, 0 } }, 10,
	  { { 'A', 1, 0, 0, 0 }, { 'B', 2, 100, 0, 0 }, { 'C', 1, 0, 0, 0 }, { 'D', 1, 0, 0, 0 },
	    { 'E', 1, 0, 0, 0 }, { 'F', 1, 0, 0, 0 }, { 'G', 1, 0, 0, 0 }, { 'H', 1, 0, 0, 0 },
	    { 'I', 1, 0, 0, 0 } }, 9, 0 },
};





/* RFC 1071, written out again: the folded sum of 16-bit big-endian words. */
static uint32_t
ref_sum(const uint8_t *b, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i += 2)
		acc += (uint32_t)b[i] << 8 | (i + 1 < n ? b[i + 1] : 0);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

/* The pseudo-header's sum for an L4 segment of LEN bytes in IPv4 header IP. */
static uint32_t
ref_pseudo(const uint8_t *ip, unsigned len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	wr16(ph + 10, (uint16_t)len);
	return ref_sum(ph, 12, 0);
}

#define SEQ0   0x10000000u
#define CADDR  0xc0000201u
#define VADDR  0x0a0a0064u

/* Segment S into B; returns its length. */
static unsigned
mkseg(uint8_t *b, const struct seg *s)
{
	unsigned ihl = s->mut == M_IPOPT ? 24 : 20, l4 = s->mut == M_UDP ? 8 : 32;
	unsigned len = ihl + l4 + s->pay, f = (unsigned)(s->flow - 'A');
	uint8_t *th = b + ihl;

	memset(b, 0, ihl + l4);
	b[0] = (uint8_t)(0x40 | ihl / 4);
	wr16(b + 2, (uint16_t)len);
	wr16(b + 4, s->id);
	b[6] = 0x40;
	b[8] = s->mut == M_TTL ? 63 : 64;
	b[9] = s->mut == M_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	wr32(b + 12, CADDR);
	wr32(b + 16, VADDR);
	if (ihl == 24)
		b[20] = 1, b[21] = 1, b[22] = 1, b[23] = 0;    /* NOPs, end */
	wr16(th, (uint16_t)(40000 + f));
	wr16(th + 2, 5201);
	if (s->mut == M_UDP) {
		wr16(th + 4, (uint16_t)(8 + s->pay));
	} else {
		wr32(th + 4, SEQ0 + s->seq);
		wr32(th + 8, 0x20000000u);
		th[12] = 8 << 4;
		th[13] = s->flags;
		wr16(th + 14, s->mut == M_WIN ? 1000 : 512);
		th[20] = 1;                     /* NOP, NOP, timestamps */
		th[21] = 1;
		th[22] = 8;
		th[23] = 10;
		wr32(th + 24, s->mut == M_TS ? 1001 : 1000);
		wr32(th + 28, 77);
	}
	for (unsigned k = 0; k < s->pay; k++)
		b[ihl + l4 + k] = (uint8_t)((s->seq + k) * 7 + f);
	wr16(b + 10, (uint16_t)~ref_sum(b, ihl, 0));
	wr16(th + (s->mut == M_UDP ? 6 : 16),
	    (uint16_t)~ref_sum(th, l4 + s->pay, ref_pseudo(b, l4 + s->pay)));
	if (s->mut == M_BADSUM)
		th[16] ^= 0x55;
	return len;
}

static int sv[2];
static uint8_t rbuf[70000];

/* The next message written, or -1. */
static ssize_t
next_out(void)
{
	return recv(sv[1], rbuf, sizeof(rbuf), MSG_DONTWAIT);
}

/* Check output W against what was read (N bytes at rbuf). */
static void
check_out(const char *what, unsigned k, const struct want *w, ssize_t n)
{
	struct virtio_net_hdr h;
	uint8_t *ip = rbuf + sizeof(h), *th;
	unsigned len, ihl, f = (unsigned)(w->flow - 'A');

	if (!CHECK(n >= (ssize_t)(sizeof(h) + 20), "%s: output %u was written", what, k))
		return;
	memcpy(&h, rbuf, sizeof(h));
	len = (unsigned)n - sizeof(h);
	ihl = (ip[0] & 0x0f) * 4u;
	th = ip + ihl;
	CHECK_EQ(rd16(ip + 2), len, "%s: output %u: IP total length", what, k);
	CHECK_EQ(ref_sum(ip, ihl, 0), 0xffff, "%s: output %u: IP header checksum", what, k);
	CHECK_EQ(rd16(th) - 40000, f, "%s: output %u: its flow", what, k);
	if (ip[9] == IPPROTO_TCP)
		CHECK_EQ(rd32(th + 4) - SEQ0, w->seq, "%s: output %u: first sequence number", what, k);
	if (w->nseg == 1) {
		CHECK(h.flags == 0 && h.gso_type == 0 && h.gso_size == 0,
		    "%s: output %u: as it came, an empty virtio-net header", what, k);
		return;
	}
	CHECK(h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
	    h.hdr_len == HLEN && h.csum_start == 20 && h.csum_offset == 16,
	    "%s: output %u: a TCPv4 super-frame, checksum partial from the TCP header", what, k);
	CHECK_EQ(h.gso_size, w->gso, "%s: output %u: segment size", what, k);
	CHECK_EQ(len, HLEN + (w->nseg - 1) * w->gso + (len - HLEN - (w->nseg - 1) * w->gso),
	    "%s: output %u: length", what, k);
	CHECK_EQ((len - HLEN + w->gso - 1) / w->gso, w->nseg, "%s: output %u: segments", what, k);
	CHECK_EQ(!!(th[13] & TCPF_PSH), w->psh, "%s: output %u: PSH", what, k);
	/* The field holds the pseudo-header's sum: completed as the kernel would. */
	CHECK_EQ(rd16(th + 16), ref_pseudo(ip, len - ihl),
	    "%s: output %u: the checksum field holds the pseudo-header's sum", what, k);
	wr16(th + 16, (uint16_t)~ref_sum(th, len - ihl, 0));
	CHECK_EQ(ref_sum(th, len - ihl, ref_pseudo(ip, len - ihl)), 0xffff,
	    "%s: output %u: completed, the TCP checksum holds", what, k);
	unsigned bad = 0;
	for (unsigned i = 0; i < len - HLEN; i++)
		bad += ip[HLEN + i] != (uint8_t)((w->seq + i) * 7 + f);
	CHECK_EQ(bad, 0, "%s: output %u: the payloads in order", what, k);
}

static void
run_case(const struct gro_case *c)
{
	static uint8_t bufs[12][SEGBUF];
	struct gro g;
	unsigned k = 0;
	ssize_t n;

	gro_init(&g, sv[0]);
	for (unsigned i = 0; i < c->nin; i++)
		gro_add(&g, bufs[i], mkseg(bufs[i], &c->in[i]));
	gro_flush(&g);
	while ((n = next_out()) >= 0) {
		if (k < c->nout)
			check_out(c->what, k, &c->out[k], n);
		k++;
	}
	CHECK_EQ(k, c->nout, "%s: writes", c->what);
	CHECK_EQ(g.st.csum_bad, c->csum_bad, "%s: bad checksums counted", c->what);
	CHECK_EQ(g.st.packets, c->nin, "%s: every packet counted as written", c->what);
	CHECK_EQ(g.st.write_errors, 0, "%s: no write error", c->what);
}

/* 46 segments of 1448: 45 fit in 65535 bytes, the 46th starts the next. */
static void
run_max(void)
{
	static uint8_t bufs[46][SEGBUF];
	struct gro g;
	struct want w1 = { 'A', 45, 1448, 0, 0 }, w2 = { 'A', 1, 0, 45 * 1448, 0 };
	ssize_t n;

	gro_init(&g, sv[0]);
	for (unsigned i = 0; i < 46; i++) {
		struct seg s = { 'A', i * 1448, (uint16_t)(1 + i), A, 1448, 0 };
		gro_add(&g, bufs[i], mkseg(bufs[i], &s));
	}
	gro_flush(&g);
	n = next_out();
	check_out("65535 bytes at most", 0, &w1, n);
	n = next_out();
	check_out("65535 bytes at most", 1, &w2, n);
	CHECK(next_out() < 0, "65535 bytes at most: two writes");
	CHECK_EQ(g.st.frames, 1, "65535 bytes at most: one super-frame");
	CHECK_EQ(g.st.segments, 45, "65535 bytes at most: of 45 segments");
}

/* Refused whole, then one by one (the reader is gone): each segment counted once. */
static void
run_refused(void)
{
	static uint8_t bufs[3][SEGBUF];
	struct gro g;
	int p[2];

	if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) == 0, "refused: a socket pair"))
		return;
	gro_init(&g, p[0]);
	for (unsigned i = 0; i < 3; i++) {
		struct seg s = { 'A', i * 1000, (uint16_t)(1 + i), A, 1000, 0 };
		gro_add(&g, bufs[i], mkseg(bufs[i], &s));
	}
	close(p[1]);
	gro_flush(&g);
	CHECK_EQ(g.st.frames, 0, "refused: no super-frame counted");
	CHECK_EQ(g.st.packets, 0, "refused: nothing counted as written");
	CHECK_EQ(g.st.write_errors, 3, "refused: each segment counted once as refused");
	close(p[0]);
}

int
main(void)
{
	int big = 1 << 20;

	signal(SIGPIPE, SIG_IGN);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	run_max();
	run_refused();
	return unit_done();
}
