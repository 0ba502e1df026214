/* test_frag.c - the fragment table and queue (frag.c): who follows whom, what waits, what is dropped */
#include <arpa/inet.h>
#include <string.h>

#include "conn.h"
#include "frag.h"
#include "frame.h"
#include "packet.h"
#include "stats.h"
#include "svc.h"
#include "unit.h"

static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 1 }, MAC_B[6] = { 2, 0, 0, 0, 0, 2 };
static uint8_t bufs[8][PKT_BUF_STRIDE] __attribute__((aligned(16)));

/*
 * A UDP fragment from 192.0.2.SRC to 10.10.0.100 with IP id ID: the first
 * one (ports 5353 -> 53) when FIRST, else a later one at offset 1480 of
 * PLEN bytes, parsed into P from buffer B.
 */
static int
mk(struct pkt *p, unsigned b, int first, uint8_t src, uint16_t id, uint32_t plen)
{
	struct frame_spec f = {
		.dst = MAC_A, .src = MAC_B, .saddr = htonl(0xc0000200u | src),
		.daddr = htonl(0x0a0a0064u), .proto = IPPROTO_UDP, .sport = 5353, .dport = 53,
		.plen = plen, .ip_id = id,
	};
	uint32_t n = frame_build(bufs[b], &f);
	uint8_t *ip = bufs[b] + FRAME_VNET + 14;

	frame_wr16(ip + 6, first ? 0x2000 : 185);
	if (first)
		frame_wr16(ip + 20 + 4, 4008);  /* the whole datagram's UDP length */
	frame_wr16(ip + 10, 0);
	frame_wr16(ip + 10, (uint16_t)~frame_sum(ip, 20, 0));
	return pkt_parse(p, bufs[b], n) == STAT_NONE ? 0 : -1;
}

static uint64_t base[STAT_MAX];

static void
stats_mark(void)
{
	for (unsigned i = 0; i < STAT_MAX; i++)
		base[i] = stat_total((enum stat_id)i);
}

static uint64_t
stat_since(enum stat_id id)
{
	return stat_total(id) - base[id];
}

/*
 * A sequence of fragments, one case: each step a first (F) or later (L)
 * fragment of the datagram (SRC, ID) at tick T, or a sweep (S) at T; what
 * frag_in returns, and the queue after it.
 */
struct step {
	char     kind;
	uint8_t  src;
	uint16_t id;
	uint32_t t;
	int      ret;
	unsigned queued, ready;
};

struct frag_case {
	const char  *what;
	struct step  steps[6];
	unsigned     n;
	uint64_t     fwd, queue, timeout, memory;
};

#define T30 (30u * CONN_HZ)

static const struct frag_case cases[] = {
	{ "first, then later: the later one follows at once",
	  { { 'F', 1, 7, 100, 0, 0, 0 }, { 'L', 1, 7, 101, 0, 0, 0 } }, 2, 2, 0, 0, 0 },
	{ "later, then first: the later one waits, then is ready",
	  { { 'L', 1, 7, 100, 1, 1, 0 }, { 'F', 1, 7, 101, 0, 0, 1 } }, 2, 1, 1, 0, 0 },
	{ "another id is another datagram",
	  { { 'F', 1, 7, 100, 0, 0, 0 }, { 'L', 1, 8, 101, 1, 1, 0 } }, 2, 1, 1, 0, 0 },
	{ "another source is another datagram",
	  { { 'F', 1, 7, 100, 0, 0, 0 }, { 'L', 2, 7, 101, 1, 1, 0 } }, 2, 1, 1, 0, 0 },
	{ "the first one's entry lasts fragment_timeout",
	  { { 'F', 1, 7, 100, 0, 0, 0 }, { 'L', 1, 7, 100 + T30, 1, 1, 0 } }, 2, 1, 1, 0, 0 },
	{ "a later one waits fragment_timeout, then is dropped",
	  { { 'L', 1, 7, 100, 1, 1, 0 }, { 'S', 0, 0, 99 + T30, 0, 1, 0 },
	    { 'S', 0, 0, 100 + T30, 0, 0, 0 }, { 'F', 1, 7, 101 + T30, 0, 0, 0 } }, 4, 1, 1, 1, 0 },
	{ "two waiting, one datagram's first: only its own are ready",
	  { { 'L', 1, 7, 100, 1, 1, 0 }, { 'L', 1, 8, 100, 1, 2, 0 }, { 'L', 1, 7, 100, 1, 3, 0 },
	    { 'F', 1, 7, 101, 0, 1, 2 } }, 4, 1, 3, 0, 0 },
	/* R: a first one of no flow, routed on (frag_routed, fwd.h): its later ones follow. */
	{ "first routed on: the later ones are to be routed too",
	  { { 'R', 1, 7, 100, 0, 0, 0 }, { 'L', 1, 7, 101, FRAG_ROUTED, 0, 0 },
	    { 'L', 1, 7, 102, FRAG_ROUTED, 0, 0 } }, 3, 3, 0, 0, 0 },
	{ "another datagram's first routed on: not this one's later ones",
	  { { 'R', 1, 8, 100, 0, 0, 0 }, { 'F', 1, 7, 100, 0, 0, 0 }, { 'L', 1, 7, 101, 0, 0, 0 } },
	  3, 3, 0, 0, 0 },
	{ "a later one waiting for a first routed on: ready as the others",
	  { { 'L', 1, 7, 100, 1, 1, 0 }, { 'R', 1, 7, 101, 0, 0, 1 } }, 2, 1, 1, 0, 0 },
};

static void
run_case(const struct frag_case *c)
{
	unsigned idx[8];
	struct pkt p;

	frag_fini();
	CHECK(frag_configure(30, FRAG_MEMORY_DEF) == 0, "%s: configured", c->what);
	stats_mark();
	for (unsigned i = 0; i < c->n; i++) {
		const struct step *s = &c->steps[i];
		if (s->kind == 'S') {
			frag_sweep(s->t);
		} else {
			int first = s->kind != 'L';
			if (mk(&p, i, first, s->src, s->id, first ? 100 : 200) < 0) {
				CHECK(0, "%s: step %u parses", c->what, i);
				return;
			}
			int r = frag_in(&p, s->t);
			if (s->kind == 'R')
				frag_routed(&p, s->t);
			CHECK_EQ(r, s->ret, "%s: step %u (%c) returns", c->what, i, s->kind);
			if (s->kind == 'L' && (r == 0 || r == FRAG_ROUTED))
				CHECK(p.sport == htons(5353) && p.dport == htons(53),
				    "%s: step %u has its first one's ports", c->what, i);
		}
		CHECK_EQ(frag_queued(), s->queued, "%s: step %u: waiting", c->what, i);
		CHECK_EQ(frag_ready(), s->ready, "%s: step %u: ready", c->what, i);
	}
	CHECK_EQ(stat_since(STAT_FRAG_FORWARDED), c->fwd, "%s: forwarded", c->what);
	CHECK_EQ(stat_since(STAT_FRAG_QUEUED), c->queue, "%s: queued", c->what);
	CHECK_EQ(stat_since(STAT_DROP_FRAG_TIMEOUT), c->timeout, "%s: dropped by timeout", c->what);
	CHECK_EQ(stat_since(STAT_DROP_FRAG_MEMORY), c->memory, "%s: dropped by memory", c->what);
	/* What is ready comes out whole, as it came in. */
	unsigned n = frag_take(idx, 8);
	CHECK_EQ(n, c->n ? c->steps[c->n - 1].ready : 0, "%s: taken", c->what);
	for (unsigned k = 0; k < n; k++) {
		uint32_t len;
		uint8_t *b = frag_buf(idx[k], &len);
		struct pkt q;
		CHECK(((uintptr_t)b & 15) == 0 && pkt_parse(&q, b, len) == STAT_NONE &&
		    q.frag == PKT_FRAG_LATER && q.frag_id == 7 && len == 14 + 20 + 8 + 200,
		    "%s: taken %u parses as the later fragment it was", c->what, k);
	}
	/* Each taken goes through the packet path again: routed on if its first one was. */
	for (unsigned k = 0; k < n; k++) {
		uint32_t len;
		struct pkt q;
		bool routed = c->steps[c->n - 1].kind == 'R';
		if (pkt_parse(&q, frag_buf(idx[k], &len), len) == STAT_NONE)
			CHECK_EQ(frag_in(&q, 200), routed ? FRAG_ROUTED : 0,
			    "%s: taken %u, again through frag_in", c->what, k);
	}
	frag_put(idx, n, 200);
	CHECK_EQ(frag_ready(), 0, "%s: none ready after", c->what);
}

/*
 * svc.c's dest_put(), for the references the table holds: the tests own
 * their dests, so only the count drops.
 */
void
dest_put(struct dest *d)
{
	d->refcnt--;
}

/*
 * One-packet services: the first fragment's real server, one case: each
 * step a first (F, its dest set to dests[D]) or later (L) fragment of
 * datagram (1, ID) at tick T, or a sweep (S) or a new table (R); the dest
 * a later one gets (-1: none), and the references held after the step.
 */
struct ostep {
	char     kind;
	uint16_t id;
	int      d;
	uint32_t t;
	int      want;
	uint32_t refs;
};

struct ops_case {
	const char   *what;
	struct ostep  steps[6];
	unsigned      n;
};

static const struct ops_case ops_cases[] = {
	{ "a later one follows its first one's real server",
	  { { 'F', 7, 1, 100, 0, 1 }, { 'L', 7, 0, 101, 1, 1 }, { 'L', 7, 0, 102, 1, 1 } }, 3 },
	{ "each datagram its own real server",
	  { { 'F', 7, 0, 100, 0, 1 }, { 'F', 8, 2, 100, 0, 2 }, { 'L', 8, 0, 101, 2, 2 },
	    { 'L', 7, 0, 101, 0, 2 } }, 4 },
	{ "another id has none",
	  { { 'F', 7, 1, 100, 0, 1 }, { 'L', 9, 0, 101, -1, 1 } }, 2 },
	{ "the first one sent again moves the reference, not doubles it",
	  { { 'F', 7, 1, 100, 0, 1 }, { 'F', 7, 2, 101, 0, 1 }, { 'L', 7, 0, 102, 2, 1 } }, 3 },
	{ "out of time: none, and a sweep gives the reference back",
	  { { 'F', 7, 1, 100, 0, 1 }, { 'L', 7, 0, 100 + T30, -1, 1 },
	    { 'S', 0, 0, 99 + T30, 0, 1 }, { 'S', 0, 0, 100 + T30, 0, 0 } }, 4 },
	{ "a new table gives every reference back",
	  { { 'F', 7, 1, 100, 0, 1 }, { 'F', 8, 2, 100, 0, 2 }, { 'R', 0, 0, 101, 0, 0 },
	    { 'L', 7, 0, 101, -1, 0 } }, 4 },
};

static void
run_ops_case(const struct ops_case *c)
{
	struct dest dests[3];
	struct pkt p;

	memset(dests, 0, sizeof(dests));
	for (unsigned i = 0; i < 3; i++)
		dests[i].refcnt = 1;
	frag_fini();
	CHECK(frag_configure(30, FRAG_MEMORY_DEF) == 0, "%s: configured", c->what);
	for (unsigned i = 0; i < c->n; i++) {
		const struct ostep *s = &c->steps[i];
		if (s->kind == 'S') {
			/* Each sweep looks at a stretch of the table: enough of them to go round. */
			for (unsigned k = 0; k < 64; k++)
				frag_sweep(s->t);
		} else if (s->kind == 'R') {
			CHECK(frag_configure(30, FRAG_MEMORY_MIN) == 0, "%s: step %u resized", c->what, i);
		} else {
			if (mk(&p, i, s->kind == 'F', 1, s->id, s->kind == 'F' ? 100 : 200) < 0) {
				CHECK(0, "%s: step %u parses", c->what, i);
				return;
			}
			int r = frag_in(&p, s->t);
			if (s->kind == 'F') {
				CHECK_EQ(r, 0, "%s: step %u: the first one goes on", c->what, i);
				frag_set_dest(&p, &dests[s->d], s->t);
			} else {
				struct dest *d = r == 0 ? frag_dest(&p, s->t) : NULL;
				CHECK(d == (s->want < 0 ? NULL : &dests[s->want]),
				    "%s: step %u: later one's real server %d", c->what, i, s->want);
			}
		}
		CHECK_EQ(frag_dest_refs(), s->refs, "%s: step %u: references held", c->what, i);
	}
	uint32_t held = 0;
	for (unsigned i = 0; i < 3; i++)
		held += dests[i].refcnt - 1;
	CHECK_EQ(held, frag_dest_refs(), "%s: the dests count what the table holds", c->what);
	frag_fini();
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(dests[i].refcnt, 1, "%s: dest %u: all given back at the end", c->what, i);
}

/* A flood of later fragments without a first: the queue stays within its memory. */
static void
test_memory(void)
{
	struct pkt p;
	unsigned held = 0;

	UNIT_SECTION("fragment_memory bounds the queue");
	frag_fini();
	CHECK(frag_configure(30, FRAG_MEMORY_MIN) == 0, "64 KiB");
	stats_mark();
	for (unsigned i = 0; i < 200; i++) {
		mk(&p, 0, 0, 9, (uint16_t)(1000 + i), 1472);
		(void)frag_in(&p, 100);
		if (frag_queued_bytes() > FRAG_MEMORY_MIN)
			held++;
	}
	CHECK_EQ(held, 0, "never more than fragment_memory waiting");
	CHECK(stat_since(STAT_FRAG_QUEUED) >= 30 && stat_since(STAT_FRAG_QUEUED) < 64,
	    "about 64 KiB / 1.5 KB queued (%llu)", (unsigned long long)stat_since(STAT_FRAG_QUEUED));
	CHECK_EQ(stat_since(STAT_FRAG_QUEUED) + stat_since(STAT_DROP_FRAG_MEMORY), 200,
	    "the rest dropped by memory, counted");
	/* Once they time out, there is room again: the ring goes round. */
	frag_sweep(100 + T30);
	CHECK_EQ(frag_queued(), 0, "all timed out");
	stats_mark();
	for (unsigned i = 0; i < 20; i++) {
		mk(&p, 0, 0, 9, (uint16_t)(5000 + i), 1472);
		(void)frag_in(&p, 101 + T30);
	}
	CHECK_EQ(stat_since(STAT_FRAG_QUEUED), 20, "room again after the timeout");
	/* A reload to another size starts empty; the dropped count as timed out. */
	stats_mark();
	CHECK(frag_configure(10, FRAG_MEMORY_DEF) == 0, "resized");
	CHECK_EQ(frag_queued(), 0, "resized: empty");
	CHECK_EQ(stat_since(STAT_DROP_FRAG_TIMEOUT), 20, "resized: what waited counted");
	frag_fini();
}

int
main(void)
{
	stats_mine = stats_slots[0].v;
	UNIT_SECTION("frag_in: cases");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	UNIT_SECTION("one-packet services: later fragments follow the first one's real server");
	for (size_t i = 0; i < ARRAY_SIZE(ops_cases); i++)
		run_ops_case(&ops_cases[i]);
	test_memory();
	return unit_done();
}
