/* laddr.c - the fullnat local address pool and its port allocator */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conn.h"
#include "laddr.h"
#include "log.h"
#include "stats.h"

static uint32_t *pool;
static uint32_t *cursor;        /* per address: the next port offset to try */
static unsigned  npool;
static unsigned  next;          /* round-robin over the pool */
static uint64_t  rng;
static bool      exhausted;     /* the last allocation failed: log on the edges */

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
laddr_setup(const uint32_t *addrs, unsigned n)
{
	laddr_teardown();
	if (n == 0)
		return 0;
	pool = calloc(n, sizeof(*pool));
	cursor = calloc(n, sizeof(*cursor));
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
	for (unsigned i = 0; i < n; i++)
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
	next = 0;
	exhausted = false;
}

unsigned
laddr_count(void)
{
	return npool;
}

uint32_t
laddr_get(unsigned i)
{
	return i < npool ? pool[i] : 0;
}

bool
laddr_is_local(uint32_t addr)
{
	for (unsigned i = 0; i < npool; i++)
		if (pool[i] == addr)
			return true;
	return false;
}

int
laddr_alloc(struct conn_table *t, uint8_t proto, uint32_t daddr, uint16_t dport,
    uint32_t *laddr, uint16_t *lport)
{
	const uint32_t span = LADDR_PORT_MAX - LADDR_PORT_MIN + 1;
	char a[INET_ADDRSTRLEN];

	for (unsigned k = 0; k < npool; k++) {
		unsigned a_i = next;
		uint32_t la = pool[a_i];

		next = next + 1 < npool ? next + 1 : 0;
		for (unsigned i = 0; i < LADDR_TRIES; i++) {
			uint32_t off = cursor[a_i];
			uint16_t lp = htons((uint16_t)(LADDR_PORT_MIN + off));

			cursor[a_i] = off + 1 < span ? off + 1 : 0;
			if (conn_lookup_out(t, proto, daddr, dport, la, lp) != NULL)
				continue;
			*laddr = la;
			*lport = lp;
			if (exhausted) {
				exhausted = false;
				log_notice("local_address pool: ports available again");
			}
			return 0;
		}
	}
	STAT_INC(STAT_LPORT_EXHAUSTED);
	if (!exhausted) {
		exhausted = true;
		log_warnx("local_address pool: no free port toward %s:%u; new flows are dropped "
		    "(counted as lport_exhausted) until ports come free",
		    inet_ntop(AF_INET, &daddr, a, sizeof(a)) ? a : "?", ntohs(dport));
	}
	return -1;
}
