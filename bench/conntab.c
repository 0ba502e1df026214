/* conntab.c - connection table micro-benchmark: bytes and RSS per flow, lookup cost by load */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "svc.h"

/*
 *   bench/conntab [-6] [-n FLOWS] [-c CAPACITY] [-l LOOKUPS] [-p PASSES]
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
 * Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID) over whole
 * passes, so that other work on a shared machine, which preempts us, is
 * not counted (page faults are, as the daemon pays them too).  The
 * lookups of a pass are independent, so the figure is a throughput, with
 * what the CPU overlaps of their cache misses.
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

/* Flow I of the mix: its parameters and the dest it goes to. */
static void
flow_param(uint32_t i, struct conn_param *cp, struct dest **dp)
{
	uint64_t x = perm_client(i);
	uint64_t h = mix64((uint64_t)i * 0x2545f4914f6cdd1dull + 1);
	unsigned pct = (unsigned)(h % 100), k = 0;
	struct bench_svc *bs;
	struct dest *d;

	while (pct >= services[k].share) {
		pct -= services[k].share;
		k++;
	}
	bs = &services[k];
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
		cp->laddr = bench_addr(LADDR_BASE + i / LPORTS);
		cp->lport = htons((uint16_t)(1024 + i % LPORTS));
	} else {
		cp->laddr = cp->caddr;
		cp->lport = cp->cport;
	}
	cp->flags = CONN_F_HASH_OUT;
	*dp = d;
}

static void
services_init(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(services); k++) {
		struct bench_svc *bs = &services[k];
		struct service *s = &bs->svc;

		TAILQ_INIT(&s->dests);
		s->af = family;
		s->addr = bench_addr(vips[k].vip);
		s->port = htons(vips[k].port);
		s->fwd = bs->fwd;
		addr_plen_mask(family, family == AF_INET6 ? 128 : 32, &s->netmask);
		snprintf(s->name, sizeof(s->name), "vs%zu", k);
		for (unsigned j = 0; j < bs->nrs; j++) {
			struct dest *d = calloc(1, sizeof(*d));
			if (d == NULL) {
				perror("conntab: calloc");
				exit(1);
			}
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
services_done(void)
{
	int bad = 0;

	for (size_t k = 0; k < ARRAY_SIZE(services); k++) {
		struct service *s = &services[k].svc;
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
		flow_param(i, &cp, &d);
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

		flow_param(i, &cp, &d);
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
	    "  -6: IPv6 flows\n"
	    "  FLOWS 10 .. 2^26 (default %u), CAPACITY 10 .. 2^26 (default %u, or FLOWS/0.9),\n"
	    "  LOOKUPS per pass and kind (default %u), PASSES 1 .. %u (default %u)\n",
	    FLOWS_DEFAULT, CONN_MAX_DEFAULT, LOOKUPS_DEFAULT, PASSES_MAX, PASSES_DEFAULT);
	exit(2);
}

static double
mib(double bytes)
{
	return bytes / (1024.0 * 1024.0);
}

int
main(int argc, char **argv)
{
	uint32_t flows = FLOWS_DEFAULT, cap = 0, nkeys = LOOKUPS_DEFAULT, passes = PASSES_DEFAULT;
	unsigned long rss0, hwm0, rss1, hwm1;
	struct load_result loads[3] = { { .pct = 10 }, { .pct = 50 }, { .pct = 90 } };
	struct conn_table *t;
	struct key *keys;
	uint32_t done = 0;
	double t_fill = 0, t0;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "6n:c:l:p:h")) != -1) {
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
		case 'p':
			if (parse_u32(optarg, 1, PASSES_MAX, &passes) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (cap == 0) {
		if (flows <= CONN_MAX_DEFAULT && (uint64_t)flows * 10 >= (uint64_t)CONN_MAX_DEFAULT * 9)
			cap = CONN_MAX_DEFAULT;
		else
			cap = (uint32_t)(((uint64_t)flows * 10 + 8) / 9);
		if (cap > (1u << 26))
			cap = 1u << 26;
	}

	services_init();
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
		services_done();
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
	if (services_done())
		rc = 1;
	return rc;
}
