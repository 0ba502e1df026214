/* laddr.c - the fullnat local address pool and its port allocator */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conn.h"
#include "laddr.h"
#include "log.h"
#include "stats.h"
#include "steer.h"

static struct vsr_ip *pool;
static uint32_t *cursor;        /* per address and share: the next port offset to try */
static unsigned  npool;
static unsigned  next[2];       /* per family (IPv4, IPv6): round robin over the pool */
static uint64_t  rng;
static bool      exhausted[2];  /* per family: the last allocation failed, log on the edges */

/* 0 for IPv4, 1 for IPv6: the index of the per-family state. */
static inline unsigned
laddr_fam(int af)
{
	return af == AF_INET6;
}

/* xorshift64*: cheap, and unpredictable enough for a start port. */
static uint32_t
laddr_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

int
laddr_setup(const struct vsr_ip *addrs, unsigned n)
{
	laddr_teardown();
	if (n == 0)
		return 0;
	pool = calloc(n, sizeof(*pool));
	cursor = calloc((size_t)n * LADDR_SHARES, sizeof(*cursor));
	if (pool == NULL || cursor == NULL) {
		laddr_teardown();
		log_warn("local_address pool");
		return -1;
	}
	memcpy(pool, addrs, n * sizeof(*pool));
	npool = n;
	if (getrandom(&rng, sizeof(rng), 0) != sizeof(rng))
		rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)pool;
	rng |= 1;
	for (unsigned i = 0; i < n * LADDR_SHARES; i++)
		cursor[i] = laddr_rand() % (LADDR_PORT_MAX - LADDR_PORT_MIN + 1);
	return 0;
}

void
laddr_teardown(void)
{
	free(pool);
	free(cursor);
	pool = NULL;
	cursor = NULL;
	npool = 0;
	next[0] = next[1] = 0;
	exhausted[0] = exhausted[1] = false;
}

unsigned
laddr_count(void)
{
	return npool;
}

unsigned
laddr_count_af(int af)
{
	unsigned n = 0;

	for (unsigned i = 0; i < npool; i++)
		n += pool[i].af == af;
	return n;
}

const struct vsr_ip *
laddr_get(unsigned i)
{
	return i < npool ? &pool[i] : NULL;
}

bool
laddr_is_local(int af, const union vsr_addr *addr)
{
	for (unsigned i = 0; i < npool; i++)
		if (pool[i].af == af && addr_eq(&pool[i].addr, addr))
			return true;
	return false;
}

int
laddr_alloc(struct conn_table *t, int af, uint8_t proto, const union vsr_addr *daddr,
    uint16_t dport, unsigned share, unsigned nshares, union vsr_addr *laddr, uint16_t *lport)
{
	const uint32_t span = LADDR_PORT_MAX - LADDR_PORT_MIN + 1;
	unsigned f = laddr_fam(af);
	char a[ADDRPORT_STRLEN];

	if (nshares <= 1 || nshares > LADDR_SHARES || share >= nshares) {
		share = 0;
		nshares = 1;
	}
	for (unsigned k = 0; k < npool; k++) {
		unsigned a_i = next[f];
		const struct vsr_ip *la = &pool[a_i];
		uint32_t *cur = &cursor[a_i * LADDR_SHARES + share];
		unsigned probes = 0;

		next[f] = next[f] + 1 < npool ? next[f] + 1 : 0;
		if (la->af != af)
			continue;
		/*
		 * Ports of another share are stepped over (a hash each, no
		 * lookup); the candidates, some 2 * LADDR_TRIES * NSHARES, are
		 * bounded as well as the lookups.
		 */
		for (unsigned i = 0; i < 2 * LADDR_TRIES * nshares && probes < LADDR_TRIES; i++) {
			uint32_t off = *cur;
			uint16_t lp = htons((uint16_t)(LADDR_PORT_MIN + off));

			*cur = off + 1 < span ? off + 1 : 0;
			if (nshares > 1 && steer_queue(af, &la->addr, lp, nshares) != share)
				continue;
			probes++;
			if (conn_lookup_out(t, af, proto, daddr, dport, &la->addr, lp) != NULL)
				continue;
			*laddr = la->addr;
			*lport = lp;
			if (exhausted[f]) {
				exhausted[f] = false;
				log_notice("local_address pool: %s ports available again",
				    addr_family_name(af));
			}
			return 0;
		}
	}
	STAT_INC(STAT_LPORT_EXHAUSTED);
	if (!exhausted[f]) {
		exhausted[f] = true;
		char whose[80] = "";
		if (nshares > 1)
			snprintf(whose, sizeof(whose), " for worker %u (of the 1/%u of the ports "
			    "whose replies reach it)", share, nshares);
		log_warnx("local_address pool: no free port toward %s%s; new flows are dropped "
		    "(counted as lport_exhausted) until ports come free",
		    addr_port_ntop(af, daddr, ntohs(dport), a, sizeof(a)), whose);
	}
	return -1;
}
