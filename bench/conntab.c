/* conntab.c - connection table micro-benchmark: bytes and RSS per flow, lookups, threads */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "svc.h"
#include "wire.h"

/*
 *   bench/conntab [-6] [-n FLOWS] [-c CAPACITY] [-l LOOKUPS] [-p PASSES]
 *   bench/conntab -t THREADS[,THREADS...] [-6] [-n FLOWS] [-c CAPACITY] [-o OPS] [-p PASSES]
 *
 * Fills a connection table (conn.c, as the daemon allocates it) with
 * FLOWS flows through conn_new(), the way the packet path creates them,
 * and prints as Markdown:
 *   * the table's allocation per capacity slot and per flow, and the
 *     process's VmRSS / VmHWM before and after the fill;
 *   * at 10%, 50% and 90% of CAPACITY: ns per lookup for hits by the
 *     client's tuple (in), by the real server's reply tuple (out) and for
 *     misses (a new flow's first packet), each the median of PASSES passes
 *     of LOOKUPS random lookups; and the hash chains (refs per bucket, mean
 *     length of the non-empty chains a hit walks, the longest).
 *
 * CAPACITY defaults to conn_max's default, 1,048,576, the table vsrouted
 * allocates unless told otherwise, when FLOWS lies between 90% and 100%
 * of it (the default 1,000,000 does); otherwise to FLOWS / 0.9, so that
 * every load point is reached.  A CAPACITY below FLOWS is honoured: the
 * fill then fails, as it must.
 *
 * The mix: 85% TCP, 15% UDP over four services (two TCP ports of one VIP
 * and a UDP one by nat, a TCP VIP by fullnat) with 4 to 8 real servers
 * each; every flow is hashed both ways, as nat and fullnat need.  Clients
 * are spread over 100.64.0.0/10 with ports 32768..65535 by a bijection of
 * the flow number, so that no two flows share a tuple and flow I's tuples
 * can be computed again for lookups without being stored (which would
 * count in the RSS measured).  Misses are the tuples of flows never
 * inserted (numbers from CAPACITY up).
 *
 * With -6 every flow is IPv6 (the same mix, services and real servers of
 * 2001:db8::/32, clients of 2001:db8:c000::/40): the entries are the same,
 * their addresses in the table's IPv6 pool, whose bytes per flow are
 * printed beside the table's.
 *
 * Nothing is read from the network and no privilege is needed.  Exit
 * status 0; 1 when the table cannot be filled or a lookup finds the wrong
 * thing (so that the suite's quick run checks the table too); 2 on usage.
 * Time (without -t) is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID)
 * over whole passes, so that other work on a shared machine, which
 * preempts us, is not counted (page faults are, as the daemon pays them
 * too).  The
 * lookups of a pass are independent, so the figure is a throughput, with
 * what the CPU overlaps of their cache misses.
 *
 * With -t, the table's throughput with threads, in the two layouts the
 * daemon has had with workers = N: "shared", one table under one pthread
 * mutex (the adaptive kind lock.c uses) that every thread takes once per
 * batch of 64 operations (RX_BATCH), as every worker did before issue 21;
 * and "per-thread", the daemon's set of tables (conn_table_sharded: one
 * per thread, each used through conn_shard) and a mutex for each thread,
 * taken the same way, uncontended, as each worker now owns its own. For
 * each count in THREADS (1 always) and each layout, the same work per
 * thread: it keeps FLOWS flows open (default 100,000), clients of its own
 * (flow numbers thread << 32 | n, through the same bijection), and visits
 * them in a fixed scattered order, one packet per visit: a new flow's
 * first packet is a lookup that misses and conn_new, every other one a
 * lookup by the client's tuple or the reply's that must find the flow's
 * own entry, then conn_tcp_update (a TCP flow's handshake, data, FIN both
 * ways, the last ACK: TIME_WAIT) or conn_touch (UDP). The clock moves
 * with the operations done on a table, 100 ticks (10 s) while each thread
 * visits all its flows once; the shared table has one clock, moved by
 * every thread under its lock, as time is common to the daemon's
 * workers. So an open flow is touched within 10 s (its shortest timeout,
 * SYN_RECV's or CLOSE_WAIT's, is 60 s) unless the shared lock keeps its
 * thread waiting while the others move the clock; it then expires, as a
 * starved worker's would, which is counted and checked (it must be past
 * its last packet's time plus its state's timeout). Closed flows go
 * through conn_expire_run, under the lock, as the clock moves: the free
 * list and the wheel work as in the daemon. Each batch's tuples
 * are computed outside the lock (the daemon parses its frames outside it
 * too), the lookups and updates under it. An untimed warm-up of 32 visits
 * of every flow brings the table to its steady state (UDP's 300 s) first;
 * then PASSES passes of OPS operations per thread (default 1,000,000),
 * all threads started together on a barrier, timed on the wall clock
 * (CLOCK_MONOTONIC) to the last one's end. The Markdown table gives per
 * layout and thread count the median total and per-thread Mops/s, the
 * speed-up over 1 thread of the same layout, the passes' range, the CPUs
 * the threads kept busy (their CPU time over the wall time: another
 * load on the machine shows there), how often and how long they waited
 * for the lock, and the table's entries per thread (at the end, and the
 * most after any batch), and the open flows that expired before their
 * next packet. CAPACITY is then per thread (the shared table has THREADS
 * times it), by default 3 x FLOWS (the steady state is about 2 x FLOWS).
 *
 * Thread i is pinned to CPU i mod the CPUs online: on this machine (a
 * VM) CPU 1 ran this work 1.45 x as fast as CPU 0, so unpinned figures
 * depended on where the scheduler put each thread. Before the table, one
 * thread runs on each other CPU, and the header says how they compare.
 *
 * Real servers: each thread has services and dests of its own, in both
 * layouts. conn_new and the expiry count connections in the dest (and
 * take and drop its reference); in the daemon those counters stay under
 * the shared lock, and two threads sharing a dest here without it would
 * race. Giving each thread its own keeps them apart, so the figures are
 * the connection table's and its lock's, not the dests'. Each thread also
 * counts into a global counters' slot of its own, as a worker does.
 *
 * Exit status 1 in this mode too when a lookup finds the wrong thing (a
 * miss finds an entry, a hit another entry or none), the table is full,
 * or the real servers' counts of connections disagree with the tables'.
 */

#define CONN_MAX_DEFAULT 1048576u   /* conf.c's conn_max default */
#define FLOWS_DEFAULT    1000000u
#define LOOKUPS_DEFAULT  200000u
#define PASSES_DEFAULT   5u
#define PASSES_MAX       31u

#define CLIENT_NET   0x64400000u    /* 100.64.0.0/10: 22 bits of client */
#define CLIENT_BITS  37             /* 22 address bits + 15 port bits */
#define LADDR_BASE   0xc6336400u    /* 198.51.100.0: the fullnat pool */
#define LPORTS       64512u         /* local ports 1024..65535 per pool address */

struct bench_svc {
	struct service   svc;
	uint32_t         rs_net;    /* real servers rs_net + 1 .. + nrs */
	unsigned         nrs;
	enum fwd_method  fwd;
	unsigned         share;     /* percent of the flows */
	struct dest     *dests[8];
};

static struct bench_svc services[] = {
	{ .svc = { .proto = IPPROTO_TCP }, .rs_net = 0x0a010000, .nrs = 8, .fwd = FWD_NAT,     .share = 40 },
	{ .svc = { .proto = IPPROTO_TCP }, .rs_net = 0x0a010100, .nrs = 8, .fwd = FWD_NAT,     .share = 25 },
	{ .svc = { .proto = IPPROTO_TCP }, .rs_net = 0x0a010200, .nrs = 4, .fwd = FWD_FULLNAT, .share = 20 },
	{ .svc = { .proto = IPPROTO_UDP }, .rs_net = 0x0a010300, .nrs = 4, .fwd = FWD_NAT,     .share = 15 },
};
static const struct {
	uint32_t vip;
	uint16_t port;
} vips[] = {
	{ 0xc000020a, 80 },     /* 192.0.2.10 */
	{ 0xc000020a, 443 },
	{ 0xc000020b, 80 },     /* 192.0.2.11 */
	{ 0xc000020c, 53 },     /* 192.0.2.12 */
};

static int family = AF_INET;        /* -6: AF_INET6 */

/* One lookup's tuple, either direction. */
struct key {
	union vsr_addr a1, a2;
	uint16_t p1, p2;
	uint8_t  proto;
};

/* The benchmark's family's form of the IPv4 address A (host order): 2001:db8::A for IPv6. */
static union vsr_addr
bench_addr(uint32_t a)
{
	union vsr_addr r = addr_from_ip(htonl(a));

	if (family == AF_INET6) {
		r.w[0] = htonl(0x20010db8);
		r.w[1] = 0;
		r.w[2] = 0;
		r.w[3] = htonl(a);
	}
	return r;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* A bijection of [0, 2^CLIENT_BITS): odd multipliers and right xor-shifts within the width. */
static uint64_t
perm_client(uint64_t x)
{
	const uint64_t m = (1ull << CLIENT_BITS) - 1;

	x = (x + 0x5bd1e995ull) & m;
	x ^= x >> 19;
	x = (x * 0x9e3779b97f4a7c15ull) & m;
	x ^= x >> 17;
	x = (x * 0xbf58476d1ce4e5b9ull) & m;
	x ^= x >> 19;
	return x;
}

/*
 * Flow I of the mix over the services SVCS: its parameters and the dest
 * it goes to. I below 2^CLIENT_BITS: its client tuple is I's alone.
 */
static void
flow_param(struct bench_svc *svcs, uint64_t i, struct conn_param *cp, struct dest **dp)
{
	uint64_t x = perm_client(i);
	uint64_t h = mix64(i * 0x2545f4914f6cdd1dull + 1);
	unsigned pct = (unsigned)(h % 100), k = 0;
	struct bench_svc *bs;
	struct dest *d;

	while (pct >= svcs[k].share) {
		pct -= svcs[k].share;
		k++;
	}
	bs = &svcs[k];
	d = bs->dests[(h >> 32) % bs->nrs];
	memset(cp, 0, sizeof(*cp));
	cp->af = (uint8_t)family;
	cp->proto = bs->svc.proto;
	cp->caddr = bench_addr(CLIENT_NET | (uint32_t)(x >> 15));
	if (family == AF_INET6) {
		/* A prefix per client and an interface identifier, as addresses come. */
		cp->caddr.w[1] = htonl(0xc0000000u | (uint32_t)(mix64(x) >> 40));
		cp->caddr.w[2] = htonl((uint32_t)mix64(x ^ 0x6a09e667f3bcc908ull));
	}
	cp->cport = htons((uint16_t)(0x8000 | (x & 0x7fff)));
	cp->vaddr = bs->svc.addr;
	cp->vport = bs->svc.port;
	cp->daddr = d->addr;
	cp->dport = d->port;
	if (bs->fwd == FWD_FULLNAT) {
		cp->laddr = bench_addr(LADDR_BASE + (uint32_t)(i / LPORTS));
		cp->lport = htons((uint16_t)(1024 + i % LPORTS));
	} else {
		cp->laddr = cp->caddr;
		cp->lport = cp->cport;
	}
	cp->flags = CONN_F_HASH_OUT;
	*dp = d;
}

/* SVCS (a copy of services[] as initialised) gets its addresses and real servers. */
static void
services_init(struct bench_svc *svcs)
{
	for (size_t k = 0; k < ARRAY_SIZE(services); k++) {
		struct bench_svc *bs = &svcs[k];
		struct service *s = &bs->svc;

		TAILQ_INIT(&s->dests);
		s->af = family;
		s->addr = bench_addr(vips[k].vip);
		s->port = htons(vips[k].port);
		s->fwd = bs->fwd;
		addr_plen_mask(family, family == AF_INET6 ? 128 : 32, &s->netmask);
		snprintf(s->name, sizeof(s->name), "vs%zu", k);
		for (unsigned j = 0; j < bs->nrs; j++) {
			/* Cache lines of its own: threads' dests never share one (threads mode). */
			size_t size = (sizeof(struct dest) + 63) & ~(size_t)63;
			struct dest *d = aligned_alloc(64, size);
			if (d == NULL) {
				perror("conntab: aligned_alloc");
				exit(1);
			}
			memset(d, 0, size);
			snprintf(d->name, sizeof(d->name), "rs%zu.%u", k, j);
			d->svc = s;
			d->af = family;
			d->addr = bench_addr(bs->rs_net + 1 + j);
			d->port = s->port;
			d->fwd = bs->fwd;
			d->weight = d->conf_weight = 1;
			d->refcnt = 1;      /* linked */
			d->xmit_id = bs->fwd == FWD_FULLNAT ? XMIT_FULLNAT : XMIT_NAT;
			TAILQ_INSERT_TAIL(&s->dests, d, entry);
			s->ndests++;
			bs->dests[j] = d;
		}
	}
}

/* Every dest back to its one linked reference and no connection; then freed. */
static int
services_done(struct bench_svc *svcs)
{
	int bad = 0;

	for (size_t k = 0; k < ARRAY_SIZE(services); k++) {
		struct service *s = &svcs[k].svc;
		struct dest *d;

		while ((d = TAILQ_FIRST(&s->dests)) != NULL) {
			if (d->refcnt != 1 || d->activeconns || d->inactconns) {
				fprintf(stderr, "conntab: %s: refcnt %u, %u + %u connections after flush\n",
				    d->name, d->refcnt, d->activeconns, d->inactconns);
				bad = 1;
			}
			TAILQ_REMOVE(&s->dests, d, entry);
			d->svc = NULL;
			dest_put(d);
		}
	}
	return bad;
}

/* VmRSS and VmHWM in kB, from /proc/self/status; 0 when not found. */
static void
mem_read(unsigned long *rss, unsigned long *hwm)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	*rss = *hwm = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = strtoul(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = strtoul(line + 6, NULL, 10);
	}
	fclose(f);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

enum kind { K_HIT_IN, K_HIT_OUT, K_MISS, K_MAX };

/* LOOKUPS keys of KIND: flows below FILLED for hits, never inserted ones (from CAP up) for misses. */
static void
keys_make(struct key *keys, uint32_t n, enum kind kind, uint32_t filled, uint32_t cap)
{
	struct conn_param cp;
	struct dest *d;

	for (uint32_t j = 0; j < n; j++) {
		uint32_t i = kind == K_MISS ? cap + (uint32_t)(rng() % cap) : (uint32_t)(rng() % filled);
		flow_param(services, i, &cp, &d);
		keys[j].proto = cp.proto;
		if (kind == K_HIT_OUT) {
			keys[j].a1 = cp.daddr;
			keys[j].p1 = cp.dport;
			keys[j].a2 = cp.laddr;
			keys[j].p2 = cp.lport;
		} else {
			keys[j].a1 = cp.caddr;
			keys[j].p1 = cp.cport;
			keys[j].a2 = cp.vaddr;
			keys[j].p2 = cp.vport;
		}
	}
}

/*
 * Runs the lookups; returns how many found a connection with the tuple
 * asked for. The check reads the ports only: conn_addrs() would put the
 * IPv6 pool's reads in the figure, beside the lookup's own (the conn_new
 * and flush passes check the addresses).
 */
static uint32_t
keys_lookup(struct conn_table *t, const struct key *keys, uint32_t n, enum kind kind)
{
	uint32_t found = 0;

	for (uint32_t j = 0; j < n; j++) {
		const struct key *k = &keys[j];
		struct conn *c;

		if (kind == K_HIT_OUT) {
			c = conn_lookup_out(t, family, k->proto, &k->a1, k->p1, &k->a2, k->p2);
			found += c != NULL && c->dport == k->p1 && c->lport == k->p2;
		} else {
			c = conn_lookup_in(t, family, k->proto, &k->a1, k->p1, &k->a2, k->p2);
			found += c != NULL && c->cport == k->p1 && c->vport == k->p2;
		}
	}
	return found;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct load_result {
	unsigned pct;
	uint32_t flows;
	struct conn_chain_stats cs;
	double ns[K_MAX];
};

/* Median ns per lookup of each kind at the table's present fill; 0 or -1 on a wrong answer. */
static int
measure(struct conn_table *t, struct key *keys, uint32_t nkeys, unsigned passes,
    struct load_result *r)
{
	static const char *const kind_name[K_MAX] = { "hit in", "hit out", "miss" };
	uint32_t filled = conn_count(t), cap = conn_capacity(t);
	double samples[K_MAX][PASSES_MAX];

	r->flows = filled;
	conn_chain_stats(t, &r->cs);
	for (unsigned p = 0; p < passes; p++) {
		for (int kind = 0; kind < K_MAX; kind++) {
			uint32_t want = kind == K_MISS ? 0 : nkeys, found;
			double t0;

			keys_make(keys, nkeys, (enum kind)kind, filled, cap);
			t0 = now_ns();
			found = keys_lookup(t, keys, nkeys, (enum kind)kind);
			samples[kind][p] = (now_ns() - t0) / nkeys;
			if (found != want) {
				fprintf(stderr, "conntab: %u%% load, %s lookups: %" PRIu32 " of %" PRIu32
				    " found, want %" PRIu32 "\n", r->pct, kind_name[kind], found, nkeys,
				    want);
				return -1;
			}
		}
	}
	for (int kind = 0; kind < K_MAX; kind++) {
		qsort(samples[kind], passes, sizeof(double), cmp_double);
		r->ns[kind] = samples[kind][passes / 2];
	}
	return 0;
}

/* Adds flows FROM .. TO-1; -1 (after a message) when the table refuses one. */
static int
fill(struct conn_table *t, uint32_t from, uint32_t to)
{
	struct conn_param cp;
	struct dest *d;

	for (uint32_t i = from; i < to; i++) {
		struct conn_addrs a;
		struct conn *c;

		flow_param(services, i, &cp, &d);
		if ((c = conn_new(t, &cp, d, 0)) == NULL) {
			fprintf(stderr, "conntab: conn_new failed at flow %" PRIu32 " of %" PRIu32
			    " (capacity %" PRIu32 "): the table cannot hold the flows asked for\n",
			    i, to, conn_capacity(t));
			return -1;
		}
		conn_addrs(t, c, &a);
		if (conn_af(c) != family || !addr_eq(&a.caddr, &cp.caddr) ||
		    !addr_eq(&a.vaddr, &cp.vaddr) || !addr_eq(&a.daddr, &cp.daddr) ||
		    !addr_eq(&a.laddr, &cp.laddr)) {
			fprintf(stderr, "conntab: flow %" PRIu32 ": its addresses do not read back\n", i);
			return -1;
		}
	}
	return 0;
}

/* ---- threads mode (-t) ---- */

#define THREADS_MAX      (STATS_SLOTS - 1)  /* a counters' slot each, as the daemon's workers */
#define T_BATCH          64u        /* operations per lock hold: the daemon's RX_BATCH */
#define T_FLOWS_DEFAULT  100000u    /* open flows per thread */
#define T_OPS_DEFAULT    1000000u   /* operations per thread and pass */
#define T_CAP_FACTOR     3u         /* capacity per thread: 3 x its open flows */
#define T_ROUND_TICKS    100u       /* ticks of a thread's clock per visit of all its flows */
#define T_WARM_ROUNDS    32u        /* untimed rounds first: UDP's 300 s are 30 rounds */
#define T_DATA           10         /* data packets per flow, after the handshake */

enum { LAYOUT_SHARED, LAYOUT_PER_THREAD, LAYOUT_MAX };

static const char *const layout_name[LAYOUT_MAX] = { "shared", "per-thread" };

enum top_kind { TOP_NEW, TOP_IN, TOP_OUT };

/* One open flow of a thread's: its entry, its number, where it is in its life. */
struct tflow {
	struct conn *c;
	uint32_t     seq;
	uint32_t     last;      /* the tick of its last packet */
	int16_t      step;      /* 0: none (the next visit opens one); < 0: waits (staggered start) */
	uint8_t      state;     /* its state after that packet */
};

/*
 * A clock, moved by the operations done on a table: each thread's own
 * with its own table; one for the shared table, under its lock, moved by
 * every thread's (time is common to all, as in the daemon).
 */
struct tclock {
	uint64_t ops;
	uint64_t per_tick;      /* operations per tick */
	uint32_t swept;         /* the tick conn_expire_run last ran to */
};

/* One packet's worth of table work, prepared outside the lock. */
struct top {
	struct tflow     *f;
	struct dest      *d;
	struct conn_param cp;
	uint8_t           kind;     /* enum top_kind */
	uint8_t           tcpflags;
};

struct tlock {
	pthread_mutex_t m;
} __attribute__((aligned(64)));

struct tctx {
	unsigned           id;
	struct bench_svc   svcs[ARRAY_SIZE(services)];  /* its own services and real servers */
	struct conn_table *t;               /* the shared table or its own */
	struct tlock      *lock;            /* the one lock or its own */
	struct tclock     *clk;             /* the shared table's clock or its own */
	struct tclock      own;
	struct tflow      *ring;            /* its open flows, visited in a fixed scattered order */
	uint32_t           nring, cur, stride;
	uint32_t           seq;             /* the next new flow's number */
	uint64_t           rng;
	uint64_t           todo;            /* this pass's, set by the main thread */
	uint64_t           wrong, full, expired, created, batches, waited, lost;
	uint32_t           peak;            /* the most entries its table had after a batch */
	double             wait_ns;         /* wall time in pthread_mutex_lock after a failed try */
	double             cpu_ns;          /* its CPU time in the timed passes */
	pthread_t          thread;
	struct top         batch[T_BATCH];
} __attribute__((aligned(64)));

static struct {
	unsigned          n;
	int               layout;
	unsigned          cpu0;             /* thread i runs on CPU (cpu0 + i) % ncpu */
	unsigned          ncpu;
	struct tclock     clk;              /* the shared table's */
	int               stop;
	pthread_barrier_t start, end;
	struct tctx      *ctx[THREADS_MAX];
} trun;

static double
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}


/*
 * The next packet of the next open flow in the ring's order. A TCP flow:
 * SYN in (a miss, then conn_new), SYN-ACK out, ACK in, T_DATA data
 * segments alternately in and out, FIN in, FIN out, the last ACK in (it
 * is then in TIME_WAIT and left to expire; the next visit opens a new
 * flow). A UDP flow: the first datagram (a miss, conn_new), then T_DATA
 * alternately out and in, then left to expire.
 */
static void
tprep(struct tctx *x, struct top *op)
{
	struct tflow *f;
	int32_t step, last;

	for (;;) {
		f = &x->ring[x->cur];
		x->cur += x->stride;
		if (x->cur >= x->nring)
			x->cur -= x->nring;
		if (f->step >= 0)
			break;
		f->step++;
	}
	if (f->step == 0)
		f->seq = x->seq++;
	flow_param(x->svcs, (uint64_t)x->id << 32 | f->seq, &op->cp, &op->d);
	op->cp.flags |= CONN_F_WORKER(x->id);
	op->f = f;
	step = f->step;
	if (op->cp.proto == IPPROTO_TCP) {
		last = T_DATA + 5;
		if (step == 0) {
			op->kind = TOP_NEW;
			op->tcpflags = TCPF_SYN;
		} else if (step == 1) {
			op->kind = TOP_OUT;
			op->tcpflags = TCPF_SYN | TCPF_ACK;
		} else if (step == 2 || step == last) {
			op->kind = TOP_IN;
			op->tcpflags = TCPF_ACK;
		} else if (step < T_DATA + 3) {
			op->kind = (step & 1) ? TOP_IN : TOP_OUT;
			op->tcpflags = TCPF_ACK;
		} else {
			op->kind = step == T_DATA + 3 ? TOP_IN : TOP_OUT;
			op->tcpflags = TCPF_FIN | TCPF_ACK;
		}
	} else {
		last = T_DATA;
		op->kind = step == 0 ? TOP_NEW : (step & 1) ? TOP_OUT : TOP_IN;
		op->tcpflags = 0;
	}
	f->step = step == last ? 0 : step + 1;
}

/* Under the lock: OP's lookup, checked, and what the packet path does after it. */
static void
texec(struct tctx *x, struct top *op, uint32_t now)
{
	const struct conn_param *cp = &op->cp;
	struct conn_table *t = x->t;
	struct conn *c;

	switch (op->kind) {
	case TOP_NEW:
		if (conn_lookup_in(t, family, cp->proto, &cp->caddr, cp->cport, &cp->vaddr,
		    cp->vport) != NULL) {
			x->wrong++;
			op->f->c = NULL;
			return;
		}
		if ((c = conn_new(t, cp, op->d, now)) == NULL) {
			x->full++;
			op->f->c = NULL;
			op->f->step = 0;
			return;
		}
		if (cp->proto == IPPROTO_TCP)
			conn_tcp_update(t, c, DIR_INPUT, op->tcpflags, now);
		op->f->c = c;
		op->f->last = now;
		op->f->state = c->state;
		x->created++;
		return;
	case TOP_IN:
		c = conn_lookup_in(t, family, cp->proto, &cp->caddr, cp->cport, &cp->vaddr,
		    cp->vport);
		if (c == NULL)
			goto gone;
		if (c != op->f->c || c->cport != cp->cport || c->vport != cp->vport) {
			x->wrong++;
			return;
		}
		break;
	default:
		c = conn_lookup_out(t, family, cp->proto, &cp->daddr, cp->dport, &cp->laddr,
		    cp->lport);
		if (c == NULL)
			goto gone;
		if (c != op->f->c || c->dport != cp->dport || c->lport != cp->lport) {
			x->wrong++;
			return;
		}
		break;
	}
	if (cp->proto == IPPROTO_TCP)
		conn_tcp_update(t, c, op->kind == TOP_IN ? DIR_INPUT : DIR_OUTPUT, op->tcpflags, now);
	else
		conn_touch(t, c, now);
	op->f->last = now;
	op->f->state = c->state;
	return;
gone:
	/*
	 * Not found: right only if the expiry has run past its timeout since
	 * its last packet (a thread the shared lock kept waiting while the
	 * others moved the common clock); the flow ends, the next visit opens
	 * another. Otherwise the table lost it.
	 */
	if ((int32_t)(x->clk->swept - (op->f->last +
	    conn_get_timeout(t, (enum conn_state)op->f->state) * CONN_HZ)) >= 0) {
		x->lost++;
		op->f->c = NULL;
		op->f->step = 0;
		return;
	}
	x->wrong++;
}

/* N operations, in batches of T_BATCH: prepared outside the lock, done under it. */
static void
trun_ops(struct tctx *x, uint64_t n)
{
	uint64_t done = 0;

	while (done < n) {
		unsigned m = n - done < T_BATCH ? (unsigned)(n - done) : T_BATCH;
		uint32_t now;

		for (unsigned j = 0; j < m; j++)
			tprep(x, &x->batch[j]);
		if (pthread_mutex_trylock(&x->lock->m) != 0) {
			double t0 = clock_ns(CLOCK_MONOTONIC);
			pthread_mutex_lock(&x->lock->m);
			x->wait_ns += clock_ns(CLOCK_MONOTONIC) - t0;
			x->waited++;
		}
		now = (uint32_t)(x->clk->ops / x->clk->per_tick);
		if (now != x->clk->swept) {
			x->expired += conn_expire_run(x->t, now);
			x->clk->swept = now;
		}
		x->clk->ops += m;
		for (unsigned j = 0; j < m; j++)
			texec(x, &x->batch[j], now);
		if (conn_count(x->t) > x->peak)
			x->peak = conn_count(x->t);
		pthread_mutex_unlock(&x->lock->m);
		x->batches++;
		done += m;
	}
}

static void *
tthread(void *arg)
{
	struct tctx *x = arg;

	cpu_set_t cpus;

	stats_mine = stats_slots[1 + x->id].v;     /* as a worker: its own counters */
	/* Pinned: this machine's CPUs do not all go at one speed (see threads_main). */
	CPU_ZERO(&cpus);
	CPU_SET((trun.cpu0 + x->id) % trun.ncpu, &cpus);
	pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	for (;;) {
		pthread_barrier_wait(&trun.start);
		if (trun.stop)
			break;
		double t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		trun_ops(x, x->todo);
		x->cpu_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
		pthread_barrier_wait(&trun.end);
	}
	return NULL;
}

static uint32_t
gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t r = a % b;
		a = b;
		b = r;
	}
	return a;
}

struct tresult {
	unsigned n;
	int      layout;
	double   mops, lo, hi;      /* total: median, lowest and highest pass */
	double   waited;            /* share of the batches that found the lock taken */
	double   wait;              /* share of the threads' wall time spent waiting for it */
	double   busy;              /* the threads' CPU time over the passes' wall time: CPUs used */
	uint32_t in_table;          /* entries at the end, per thread */
	uint32_t peak;              /* the most, per thread */
	double   created, expired;  /* per pass and thread */
	uint64_t lost;              /* open flows expired before their next packet, all passes */
};

/* N threads in LAYOUT: warm up, then PASSES timed passes; 0, or -1 after a message. */
static int
tconfig_run(unsigned n, int layout, uint32_t flows, uint32_t cap, uint64_t ops, unsigned passes,
    struct tresult *r)
{
	struct conn_table *ct;
	struct tlock *locks;
	pthread_mutexattr_t ma;
	double samples[PASSES_MAX], wall_ns = 0, wait_ns = 0, cpu_ns = 0;
	unsigned nlock = layout == LAYOUT_SHARED ? 1 : n, started = 0;
	uint64_t wrong = 0, full = 0, waited = 0, batches = 0, created = 0, expired = 0, lost = 0;
	uint32_t in_table = 0, peak = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->layout = layout;
	trun.n = n;
	trun.layout = layout;
	trun.stop = 0;
	memset(&trun.clk, 0, sizeof(trun.clk));
	/* T_ROUND_TICKS while each thread visits all its flows, if all go at one pace. */
	trun.clk.per_tick = (flows / T_ROUND_TICKS ? flows / T_ROUND_TICKS : 1) *
	    (layout == LAYOUT_SHARED ? n : 1);
	pthread_mutexattr_init(&ma);
	/* The daemon's lock (lock.c): spins a little before sleeping. */
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	/*
	 * One table of N x CAPACITY, or the daemon's set of N (conn.h): a
	 * table of CAPACITY per thread, and the templates' one, unused here.
	 */
	ct = layout == LAYOUT_SHARED ? conn_table_new(n * cap, 0) :
	    conn_table_sharded(n, n * cap, 0, 0x5eed);
	if (ct == NULL) {
		fprintf(stderr, "conntab: a table of %" PRIu32 ": %s\n", n * cap, strerror(errno));
		pthread_mutexattr_destroy(&ma);
		return -1;
	}
	locks = aligned_alloc(64, nlock * sizeof(*locks));
	if (locks == NULL) {
		perror("conntab: aligned_alloc");
		conn_table_free(ct);
		pthread_mutexattr_destroy(&ma);
		return -1;
	}
	for (unsigned i = 0; i < nlock; i++)
		pthread_mutex_init(&locks[i].m, &ma);
	for (unsigned i = 0; i < n; i++) {
		struct tctx *x = aligned_alloc(64, sizeof(*x));

		if (x == NULL) {
			perror("conntab: aligned_alloc");
			goto out;
		}
		memset(x, 0, sizeof(*x));
		trun.ctx[i] = x;
		x->id = i;
		memcpy(x->svcs, services, sizeof(services));
		services_init(x->svcs);
		x->t = layout == LAYOUT_SHARED ? ct : conn_shard(ct, i);
		x->lock = &locks[layout == LAYOUT_SHARED ? 0 : i];
		x->own.per_tick = trun.clk.per_tick;
		x->clk = layout == LAYOUT_SHARED ? &trun.clk : &x->own;
		x->nring = flows;
		x->ring = calloc(flows, sizeof(*x->ring));
		if (x->ring == NULL) {
			perror("conntab: calloc");
			goto out;
		}
		x->rng = 0x9e3779b97f4a7c15ull * (i + 1);
		/* Staggered starts, so that the flows' lives do not move in step. */
		for (uint32_t j = 0; j < flows; j++) {
			x->rng ^= x->rng >> 12;
			x->rng ^= x->rng << 25;
			x->rng ^= x->rng >> 27;
			x->ring[j].step = -(int32_t)((x->rng * 0x2545f4914f6cdd1dull >> 32) %
			    (T_DATA + 6));
		}
		/* An order that visits every flow once a round, scattered: a stride prime to FLOWS. */
		x->stride = (uint32_t)((uint64_t)flows * 618 / 1000) | 1;
		while (gcd32(x->stride, flows) != 1)
			x->stride += 2;
	}
	if (pthread_barrier_init(&trun.start, NULL, n + 1) != 0 ||
	    pthread_barrier_init(&trun.end, NULL, n + 1) != 0) {
		fprintf(stderr, "conntab: pthread_barrier_init failed\n");
		goto out;
	}
	for (; started < n; started++) {
		int e = pthread_create(&trun.ctx[started]->thread, NULL, tthread, trun.ctx[started]);
		if (e != 0) {
			fprintf(stderr, "conntab: pthread_create: %s\n", strerror(e));
			break;
		}
	}
	if (started == n) {
		/*
		 * Untimed: the table reaches its steady state (open flows,
		 * TIME_WAIT, UDP's), in steps of OPS at most, so that no thread
		 * gets further ahead of the others than in a pass (the capacity).
		 */
		for (uint64_t warm = (uint64_t)T_WARM_ROUNDS * flows; warm > 0; ) {
			uint64_t step = warm < ops ? warm : ops;
			for (unsigned i = 0; i < n; i++)
				trun.ctx[i]->todo = step;
			pthread_barrier_wait(&trun.start);
			pthread_barrier_wait(&trun.end);
			warm -= step;
		}
		for (unsigned i = 0; i < n; i++) {
			struct tctx *x = trun.ctx[i];
			x->todo = ops;
			x->batches = x->waited = x->created = x->expired = x->lost = 0;
			x->peak = 0;
			x->wait_ns = x->cpu_ns = 0;
		}
		for (unsigned p = 0; p < passes; p++) {
			struct timespec a, b;

			pthread_barrier_wait(&trun.start);
			clock_gettime(CLOCK_MONOTONIC, &a);
			pthread_barrier_wait(&trun.end);
			clock_gettime(CLOCK_MONOTONIC, &b);
			double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
			samples[p] = (double)ops * n / ns * 1e3;
			wall_ns += ns;
		}
		qsort(samples, passes, sizeof(double), cmp_double);
		r->mops = samples[passes / 2];
		r->lo = samples[0];
		r->hi = samples[passes - 1];
	}
	trun.stop = 1;
	pthread_barrier_wait(&trun.start);
	for (unsigned i = 0; i < started; i++)
		pthread_join(trun.ctx[i]->thread, NULL);
	pthread_barrier_destroy(&trun.start);
	pthread_barrier_destroy(&trun.end);
	if (started != n)
		goto out;

	/* Every entry is some dest's connection: the counts agree with the tables'. */
	uint64_t bound = 0, count = 0;
	for (unsigned i = 0; i < n; i++) {
		struct tctx *x = trun.ctx[i];
		for (size_t k = 0; k < ARRAY_SIZE(services); k++) {
			struct dest *d;
			TAILQ_FOREACH(d, &x->svcs[k].svc.dests, entry)
				bound += (uint64_t)d->activeconns + d->inactconns;
		}
		wrong += x->wrong;
		full += x->full;
		waited += x->waited;
		batches += x->batches;
		created += x->created;
		expired += x->expired;
		lost += x->lost;
		wait_ns += x->wait_ns;
		cpu_ns += x->cpu_ns;
		if (x->peak > peak)
			peak = x->peak;
	}
	count = conn_count(ct);
	in_table = (uint32_t)(count / n);
	if (wrong || full || bound != count || expired == 0) {
		fprintf(stderr, "conntab: %s, threads: %u: %" PRIu64 " lookups found the wrong thing, "
		    "%" PRIu64 " new flows found the table full (capacity %" PRIu32 " per thread), "
		    "%" PRIu64 " connections counted by the real servers for %" PRIu64 " entries, "
		    "%" PRIu64 " expired\n", layout_name[layout], n, wrong, full, cap, bound, count,
		    expired);
		goto out;
	}
	r->waited = batches ? (double)waited / batches : 0;
	r->wait = wall_ns > 0 ? wait_ns / (wall_ns * n) : 0;
	r->busy = wall_ns > 0 ? cpu_ns / wall_ns : 0;
	r->in_table = in_table;
	r->lost = lost;
	r->peak = layout == LAYOUT_SHARED ? peak / n : peak;
	r->created = (double)created / passes / n;
	r->expired = (double)expired / passes / n;
	rc = 0;
out:
	conn_flush(ct);
	if (conn_count(ct) != 0) {
		fprintf(stderr, "conntab: %" PRIu32 " connections left after flush\n",
		    conn_count(ct));
		rc = -1;
	}
	conn_table_free(ct);
	for (unsigned i = 0; i < nlock; i++)
		pthread_mutex_destroy(&locks[i].m);
	for (unsigned i = 0; i < n; i++) {
		struct tctx *x = trun.ctx[i];
		if (x == NULL)
			continue;
		if (services_done(x->svcs))
			rc = -1;
		free(x->ring);
		free(x);
		trun.ctx[i] = NULL;
	}
	free(locks);
	pthread_mutexattr_destroy(&ma);
	return rc;
}

static void
loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;

	if (f == NULL || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
		snprintf(buf, len, "unknown");
	else
		snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
	if (f != NULL)
		fclose(f);
}

/* The threads mode: each count of NT in both layouts; 0, or 1 on a failure. */
static int
threads_main(const unsigned *nt, unsigned nnt, uint32_t flows, uint32_t cap, uint64_t ops,
    unsigned passes)
{
	struct tresult res[2 * THREADS_MAX], cal[CPU_SETSIZE];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char la0[64], la1[64];
	unsigned nres = 0;
	double base[LAYOUT_MAX] = { 0, 0 };

	trun.ncpu = cpus > 0 && cpus <= CPU_SETSIZE ? (unsigned)cpus : 1;
	loadavg(la0, sizeof(la0));
	/* One thread on each of the other CPUs: how far they differ. */
	for (unsigned c = 1; c < trun.ncpu; c++) {
		trun.cpu0 = c;
		if (tconfig_run(1, LAYOUT_PER_THREAD, flows, cap, ops, passes, &cal[c]) < 0)
			return 1;
	}
	trun.cpu0 = 0;
	for (unsigned k = 0; k < nnt; k++) {
		for (int layout = 0; layout < LAYOUT_MAX; layout++) {
			if (tconfig_run(nt[k], layout, flows, cap, ops, passes, &res[nres]) < 0)
				return 1;
			nres++;
		}
	}
	loadavg(la1, sizeof(la1));

	printf("### Connection table with threads: one shared table and lock, or one each (%s)\n\n",
	    addr_family_name(family));
	printf("%ld CPUs online; load average %s before the run, %s after. Rows with more "
	    "threads than CPUs time-share them: they show oversubscription, not scaling. "
	    "Thread i runs on CPU i mod %u: the 1-thread rows on CPU 0", cpus, la0, la1,
	    trun.ncpu);
	for (unsigned c = 1; c < trun.ncpu; c++)
		printf("%s one thread on CPU %u (per-thread): %.2f Mops/s, %.2f x CPU 0's",
		    c == 1 ? ";" : ",", c, cal[c].mops, cal[c].mops / res[1].mops);
	printf(".\n\n");
	printf("| layout | threads | total Mops/s | per thread Mops/s | speed-up over 1 thread "
	    "| shared ÷ per-thread | total Mops/s, passes' range | CPUs busy | batches that "
	    "waited for the lock | time waiting for it | entries per thread, end / most "
	    "| open flows expired |\n"
	    "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < nres; i++) {
		const struct tresult *r = &res[i];
		char vs[32] = "";

		if (r->n == 1)
			base[r->layout] = r->mops;
		if (r->layout == LAYOUT_SHARED && i + 1 < nres)
			snprintf(vs, sizeof(vs), "%.2f", r->mops / res[i + 1].mops);
		printf("| %s | %u | %.2f | %.2f | %.2f | %s | %.2f – %.2f | %.2f | %.1f %% | %.0f %% "
		    "| %" PRIu32 " / %" PRIu32 " | %" PRIu64 " |\n", layout_name[r->layout], r->n,
		    r->mops, r->mops / r->n, r->mops / base[r->layout], vs, r->lo, r->hi, r->busy,
		    100.0 * r->waited, 100.0 * r->wait, r->in_table, r->peak, r->lost);
	}
	printf("\nOne operation is one packet's table work: the first packet of a flow a "
	    "lookup that misses and conn_new, every other one a lookup (by the client's tuple "
	    "or the reply's) that must find the flow's own entry, then conn_tcp_update "
	    "(TCP) or conn_touch (UDP); 2 + %d + 3 packets a TCP flow, 1 + %d a UDP one. "
	    "Each thread keeps %" PRIu32 " flows open (its own clients); the clock (one per "
	    "table: the shared one's moved by every thread) moves %u ticks while a thread "
	    "visits each once, so that closed flows expire (conn_expire_run, under the lock) "
	    "after TIME_WAIT or UDP's timeout; about %.0f flows made and %.0f "
	    "expired per thread and pass. Locks taken once per batch of %u operations, "
	    "prepared outside it. Figures: median (and range) of %u passes of %" PRIu64
	    " operations per thread, wall-clock from the barrier that starts the threads "
	    "to the last one's end; 85%% TCP / 15%% UDP, every flow hashed both ways.\n",
	    T_DATA, T_DATA, flows, T_ROUND_TICKS, res[0].created, res[0].expired, T_BATCH, passes,
	    ops);
	return 0;
}

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: conntab [-6] [-n FLOWS] [-c CAPACITY] [-l LOOKUPS] [-p PASSES]\n"
	    "       conntab -t THREADS[,THREADS...] [-6] [-n FLOWS] [-c CAPACITY] [-o OPS] "
	    "[-p PASSES]\n"
	    "  -6: IPv6 flows\n"
	    "  FLOWS 10 .. 2^26 (default %u), CAPACITY 10 .. 2^26 (default %u, or FLOWS/0.9),\n"
	    "  LOOKUPS per pass and kind (default %u), PASSES 1 .. %u (default %u)\n"
	    "  -t: THREADS 1 .. %u each (1 is added if absent); FLOWS open per thread, 64 .. 2^24\n"
	    "  (default %u), CAPACITY per thread (default %u x FLOWS), OPS per thread and pass\n"
	    "  (default %u)\n",
	    FLOWS_DEFAULT, CONN_MAX_DEFAULT, LOOKUPS_DEFAULT, PASSES_MAX, PASSES_DEFAULT,
	    THREADS_MAX, T_FLOWS_DEFAULT, T_CAP_FACTOR, T_OPS_DEFAULT);
	exit(2);
}

/* "1,2,4": thread counts in 1 .. THREADS_MAX, sorted, 1 first; -1 if malformed. */
static int
parse_threads(const char *arg, unsigned *nt, unsigned *nnt)
{
	unsigned seen[THREADS_MAX + 1] = { 0 };
	char buf[128], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	seen[1] = 1;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		uint32_t v;
		if (parse_u32(tok, 1, THREADS_MAX, &v) < 0)
			return -1;
		seen[v] = 1;
	}
	*nnt = 0;
	for (unsigned v = 1; v <= THREADS_MAX; v++)
		if (seen[v])
			nt[(*nnt)++] = v;
	return 0;
}

static double
mib(double bytes)
{
	return bytes / (1024.0 * 1024.0);
}

int
main(int argc, char **argv)
{
	uint32_t flows = 0, cap = 0, nkeys = 0, passes = PASSES_DEFAULT, ops = 0;
	unsigned nt[THREADS_MAX], nnt = 0;
	unsigned long rss0, hwm0, rss1, hwm1;
	struct load_result loads[3] = { { .pct = 10 }, { .pct = 50 }, { .pct = 90 } };
	struct conn_table *t;
	struct key *keys;
	uint32_t done = 0;
	double t_fill = 0, t0;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "6n:c:l:o:p:t:h")) != -1) {
		switch (opt) {
		case '6':
			family = AF_INET6;
			break;
		case 'n':
			if (parse_u32(optarg, 10, 1u << 26, &flows) < 0)
				usage();
			break;
		case 'c':
			if (parse_u32(optarg, 10, 1u << 26, &cap) < 0)
				usage();
			break;
		case 'l':
			if (parse_u32(optarg, 1, 1u << 26, &nkeys) < 0)
				usage();
			break;
		case 'o':
			if (parse_u32(optarg, 1, 1u << 30, &ops) < 0)
				usage();
			break;
		case 'p':
			if (parse_u32(optarg, 1, PASSES_MAX, &passes) < 0)
				usage();
			break;
		case 't':
			if (parse_threads(optarg, nt, &nnt) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (nnt > 0) {
		/* -l is the lookups mode's; -o this one's. */
		if (nkeys != 0 || (flows != 0 && (flows < 64 || flows > (1u << 24))))
			usage();
		if (flows == 0)
			flows = T_FLOWS_DEFAULT;
		if (ops == 0)
			ops = T_OPS_DEFAULT;
		/* About 2 x FLOWS in the steady state (open, TIME_WAIT, UDP's 300 s). */
		if (cap == 0)
			cap = flows * T_CAP_FACTOR;
		/* The shared table holds every thread's flows. */
		if (cap == 0 || (uint64_t)cap * nt[nnt - 1] > CONN_MAX_ENTRIES)
			usage();
		return threads_main(nt, nnt, flows, cap, ops, passes);
	}
	if (ops != 0)
		usage();
	if (flows == 0)
		flows = FLOWS_DEFAULT;
	if (nkeys == 0)
		nkeys = LOOKUPS_DEFAULT;
	if (cap == 0) {
		if (flows <= CONN_MAX_DEFAULT && (uint64_t)flows * 10 >= (uint64_t)CONN_MAX_DEFAULT * 9)
			cap = CONN_MAX_DEFAULT;
		else
			cap = (uint32_t)(((uint64_t)flows * 10 + 8) / 9);
		if (cap > (1u << 26))
			cap = 1u << 26;
	}

	services_init(services);
	/* The key buffer is there, touched, before the first RSS reading: only the table grows. */
	keys = calloc(nkeys, sizeof(*keys));
	if (keys == NULL) {
		perror("conntab: calloc");
		return 1;
	}
	memset(keys, 0xff, (size_t)nkeys * sizeof(*keys));
	t = conn_table_new(cap, 0);
	if (t == NULL) {
		fprintf(stderr, "conntab: conn_table_new(%" PRIu32 "): %s\n", cap, strerror(errno));
		free(keys);
		services_done(services);
		return 1;
	}
	mem_read(&rss0, &hwm0);

	for (size_t l = 0; l < ARRAY_SIZE(loads); l++) {
		uint32_t at = (uint32_t)((uint64_t)cap * loads[l].pct / 100);
		if (at > flows)
			break;      /* only with -c above FLOWS/0.9 */
		t0 = now_ns();
		if (fill(t, done, at) < 0)
			goto out;
		t_fill += now_ns() - t0;
		done = at;
		if (measure(t, keys, nkeys, passes, &loads[l]) < 0)
			goto out;
	}
	t0 = now_ns();
	if (fill(t, done, flows) < 0)
		goto out;
	t_fill += now_ns() - t0;
	done = flows;
	mem_read(&rss1, &hwm1);

	uint64_t bytes = conn_table_bytes(t), bytes6 = conn_table_bytes6(t);
	struct conn_chain_stats cs;
	conn_chain_stats(t, &cs);

	printf("### Connection table: %" PRIu32 " %s flows, capacity %" PRIu32 "\n\n", flows,
	    addr_family_name(family), cap);
	printf("| figure | value |\n|---|---|\n");
	printf("| struct conn | %zu B |\n", sizeof(struct conn));
	printf("| IPv6 pool entry (struct conn6) | %zu B |\n", sizeof(struct conn6));
	printf("| IPv6 pool in use (high-water mark) | %.1f MiB, %.1f B per flow |\n",
	    mib((double)bytes6), (double)bytes6 / flows);
	printf("| table allocation (entries, %" PRIu32 " buckets, wheel) | %.1f MiB |\n",
	    cs.buckets, mib((double)bytes));
	printf("| table bytes per capacity slot | %.1f B |\n", (double)bytes / cap);
	printf("| table bytes per flow | %.1f B |\n", (double)bytes / flows);
	printf("| VmRSS / VmHWM before filling | %.1f / %.1f MiB |\n", rss0 / 1024.0, hwm0 / 1024.0);
	printf("| VmRSS / VmHWM after filling | %.1f / %.1f MiB |\n", rss1 / 1024.0, hwm1 / 1024.0);
	printf("| RSS growth per flow | %.1f B |\n", (double)(rss1 - rss0) * 1024.0 / flows);
	printf("| fill time per flow (conn_new, one pass) | %.0f ns |\n", t_fill / flows);
	printf("| hash refs per bucket / longest chain, full | %.2f / %" PRIu32 " |\n",
	    (double)cs.refs / cs.buckets, cs.max);
	printf("\n| load | flows | refs per bucket | mean chain (non-empty) | longest chain "
	    "| hit in ns | hit out ns | miss ns |\n|---|---|---|---|---|---|---|---|\n");
	for (size_t l = 0; l < ARRAY_SIZE(loads); l++) {
		const struct load_result *r = &loads[l];
		if (r->flows == 0) {
			printf("| %u%% | not reached with %" PRIu32 " flows | | | | | | |\n", r->pct,
			    flows);
			continue;
		}
		printf("| %u%% | %" PRIu32 " | %.2f | %.2f | %" PRIu32 " | %.1f | %.1f | %.1f |\n",
		    r->pct, r->flows, (double)r->cs.refs / r->cs.buckets,
		    r->cs.used ? (double)r->cs.refs / r->cs.used : 0.0, r->cs.max,
		    r->ns[K_HIT_IN], r->ns[K_HIT_OUT], r->ns[K_MISS]);
	}
	printf("\nns per lookup: median of %" PRIu32 " passes of %" PRIu32 " random lookups each; "
	    "every flow hashed both ways (nat, fullnat), 85%% TCP / 15%% UDP, %s.\n", passes, nkeys,
	    addr_family_name(family));
	rc = 0;
out:
	conn_flush(t);
	if (conn_count(t) != 0) {
		fprintf(stderr, "conntab: %" PRIu32 " connections left after flush\n", conn_count(t));
		rc = 1;
	}
	conn_table_free(t);
	free(keys);
	if (services_done(services))
		rc = 1;
	return rc;
}
