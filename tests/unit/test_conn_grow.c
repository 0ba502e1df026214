/* test_conn_grow.c - the connection table grows by reload (conn_table_reserve, conn_set_limit) */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "proto.h"
#include "stats.h"
#include "unit.h"

static struct dest dr, nat;

static void
dest_init(struct dest *d, uint32_t addr, uint8_t xmit)
{
	memset(d, 0, sizeof(*d));
	d->af = AF_INET;
	d->addr = addr_from_ip(addr);
	d->port = htons(80);
	d->weight = 1;
	d->refcnt = 1;            /* linked */
	d->xmit_id = xmit;
}

/*
 * Flow I: every third one IPv6, every other one nat (hashed both ways),
 * UDP from client I toward the VIP, port 80.
 */
static struct conn_param
flow(uint32_t i)
{
	int six = i % 3 == 0, out = i % 2 == 0;
	const struct dest *d = out ? &nat : &dr;
	struct conn_param cp = {
		.af = six ? AF_INET6 : AF_INET,
		.proto = IPPROTO_UDP,
		.cport = htons((uint16_t)(1024 + i % 60000)), .vport = htons(80),
		.dport = d->port, .lport = htons((uint16_t)(1024 + i % 60000)),
		.flags = out ? CONN_F_HASH_OUT : CONN_F_NOOUTPUT,
	};
	if (six) {
		cp.caddr.b[0] = 0x20;
		cp.caddr.b[1] = 0x01;
		memcpy(&cp.caddr.b[12], &i, 4);
		cp.vaddr.b[0] = 0x20;
		cp.vaddr.b[15] = 0x64;
		cp.daddr.b[0] = 0x20;
		cp.daddr.b[15] = out ? 0x0c : 0x0b;
	} else {
		cp.caddr = addr_from_ip(htonl(0x0b000000u + i));
		cp.vaddr = addr_from_ip(htonl(0x0a0a0064));
		cp.daddr = d->addr;
	}
	cp.laddr = cp.caddr;
	return cp;
}

static struct dest *
dest_of(uint32_t i)
{
	return i % 2 == 0 ? &nat : &dr;
}

/* Flows [from, to) made: how many were. */
static uint32_t
fill(struct conn_table *t, uint32_t from, uint32_t to)
{
	uint32_t n = 0;

	for (uint32_t i = from; i < to; i++) {
		struct conn_param cp = flow(i);
		if (conn_new(t, &cp, dest_of(i), 100) != NULL)
			n++;
	}
	return n;
}

/* Flows [from, to) found by their client's key, and the nat ones by their reply's: how many were not. */
static uint32_t
missing(struct conn_table *t, uint32_t from, uint32_t to)
{
	uint32_t n = 0;

	for (uint32_t i = from; i < to; i++) {
		struct conn_param cp = flow(i);
		struct conn *c = conn_lookup_in(t, cp.af, cp.proto, &cp.caddr, cp.cport, &cp.vaddr,
		    cp.vport);
		if (c == NULL || c->dest != dest_of(i))
			n++;
		else if ((cp.flags & CONN_F_HASH_OUT) && conn_lookup_out(t, cp.af, cp.proto,
		    &cp.daddr, cp.dport, &cp.laddr, cp.lport) != c)
			n++;
	}
	return n;
}

struct grow_case {
	const char *what;
	uint32_t    start, fill, reserve, limit;
	int         reserve_ret;
	uint32_t    applied, more, made;    /* after: MORE flows tried, MADE of them made */
};

static const struct grow_case cases[] = {
	{ "20,000 to 2,000,000: a reserved growth", 20000, 20000, 2000000, 2000000,
	  0, 2000000, 30000, 30000 },
	{ "within the buckets there are: the entries only", 20000, 20000, 30000, 30000,
	  0, 30000, 12000, 10000 },
	{ "a limit above what was reserved: the table keeps its size", 1000, 1000, 2000, 5000,
	  0, 1000, 10, 0 },
	{ "no reservation: the table keeps its size", 1000, 500, 0, 5000,
	  0, 1000, 600, 500 },
	{ "past conn_max's bound: refused, nothing changes", 1000, 1000, CONN_MAX_ENTRIES + 1, 2000,
	  -1, 1000, 10, 0 },
	{ "lowered below the count: every flow stays, none is made", 1000, 800, 0, 500,
	  0, 500, 10, 0 },
};

static void
run_case(const struct grow_case *c)
{
	struct conn_table *t = conn_table_new(c->start, 100);
	struct conn_chain_stats cs;
	unsigned steps;

	if (!CHECK(t != NULL, "%s: made", c->what))
		return;
	CHECK_EQ(fill(t, 0, c->fill), c->fill, "%s: filled", c->what);
	if (c->reserve) {
		int r = conn_table_reserve(t, c->reserve);
		CHECK_EQ(r, c->reserve_ret, "%s: reserve", c->what);
		if (r < 0)
			CHECK_EQ(errno, EINVAL, "%s: reserve says why", c->what);
	}
	CHECK_EQ(conn_set_limit(t, c->limit), c->applied, "%s: limit applied", c->what);
	CHECK_EQ(conn_count(t), c->fill, "%s: no flow lost", c->what);
	CHECK_EQ(missing(t, 0, c->fill), 0, "%s: every flow found both ways", c->what);
	/* Half the new flows while the keys move (one step), half after. */
	int moving = conn_grow_step(t);
	uint32_t half = c->fill + c->more / 2, made = fill(t, c->fill, half);
	CHECK_EQ(missing(t, 0, c->fill + made), 0, "%s: all found, one step into the move", c->what);
	steps = 0;
	while (conn_grow_step(t))
		steps++;
	if (moving)
		CHECK(steps > 0, "%s: the move takes steps (%u more)", c->what, steps);
	conn_table_reserve_drop(t);
	made += fill(t, half, c->fill + c->more);
	CHECK_EQ(made, c->made, "%s: flows made after", c->what);
	CHECK_EQ(missing(t, 0, c->fill), 0, "%s: the first ones found after the move", c->what);
	conn_chain_stats(t, &cs);
	CHECK(cs.buckets >= 2 * conn_allocated(t) && cs.max <= 12,
	    "%s: two buckets an entry, short chains (%u buckets, longest %u)", c->what,
	    cs.buckets, cs.max);
	conn_flush(t);
	CHECK_EQ(conn_count(t), 0, "%s: flushed", c->what);
	conn_table_free(t);
}

/*
 * 1,000,000 flows, then the table grows to 2,000,000: what the data path
 * would wait for, printed (a figure, not a check: the machine is shared).
 */
static void
test_time(void)
{
	struct conn_table *t = conn_table_new(1000000, 100);

	UNIT_SECTION("1,000,000 flows: the growth to 2,000,000 under the lock");
	if (!CHECK(t != NULL, "made"))
		return;
	CHECK_EQ(fill(t, 0, 1000000), 1000000, "filled");
	CHECK_EQ(conn_table_reserve(t, 2000000), 0, "reserved");
	CHECK_EQ(conn_set_limit(t, 2000000), 2000000, "grown");
	printf("# growth of 1,000,000 live flows (1/3 IPv6, 1/2 hashed both ways): the lock "
	    "held %.2f ms to grow the mappings\n", (double)conn_table_grow_ns(t) / 1e6);
	struct timespec a, b;
	unsigned steps = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	while (conn_grow_step(t))
		steps++;
	clock_gettime(CLOCK_MONOTONIC, &b);
	double all = (double)((b.tv_sec - a.tv_sec) * 1000000000ll + b.tv_nsec - a.tv_nsec) / 1e6;
	printf("# then %u steps of %u old buckets, one a sweep: %.2f ms each on average, the "
	    "longest %.2f ms (a shared machine: noisy)\n", steps + 1, CONN_GROW_STEP,
	    all / (steps + 1), (double)conn_table_grow_ns(t) / 1e6);
	conn_table_reserve_drop(t);
	CHECK_EQ(missing(t, 0, 1000000), 0, "every flow found both ways");
	CHECK_EQ(fill(t, 1000000, 2000000), 1000000, "a million more made");
	conn_flush(t);
	conn_table_free(t);
}

int
main(void)
{
	stats_mine = stats_slots[0].v;
	dest_init(&dr, htonl(0x0a0a000b), XMIT_DR);
	dest_init(&nat, htonl(0x0a14000c), XMIT_NAT);
	UNIT_SECTION("conn_max by reload: cases");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	test_time();
	return unit_done();
}
