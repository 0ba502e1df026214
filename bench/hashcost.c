/* hashcost.c - the connection hash's cost in instructions: SipHash-1-3 beside a keyed jhash */
/*
 *   valgrind --tool=callgrind --callgrind-out-file=F bench/hashcost [-n N]
 *   callgrind_annotate --inclusive=yes F | grep hashcost_
 *
 * Hashes N (default 1,000,000) IPv4 tuples, as conn.c's hash_tuple does
 * (two 64-bit words: both addresses; protocol and both ports), with each
 * of two keyed functions, each in a function of its own so that
 * callgrind counts them apart; the inclusive count divided by N is the
 * cost of one hash, a count that a shared machine does not disturb.
 *
 *   siphash13   vsr_siphash13 (siphash.h), what conn.c uses: a PRF under
 *               a 128-bit secret.
 *   jhash_keyed Bob Jenkins' lookup3 mix and final, as the kernel's
 *               jhash_3words (IPVS's connection hash), but with the
 *               secret's words added into the state before every mix and
 *               before the final, not only into the initial value.
 *
 * It also counts, for both, the fullest of 4096 buckets over 256 tuples
 * chosen as issue 15's attack chose them (client ports differing in the
 * bits that XORing a seed before a fixed multiply cannot reach): a cheap
 * sanity check, not a proof; only the PRF has an argument that no set
 * collides for every key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphash.h"

#define ROL32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

/* lookup3's mix and final (public domain, Bob Jenkins 2006), as the kernel's jhash.h. */
#define JMIX(a, b, c) do { \
	a -= c; a ^= ROL32(c, 4);  c += b; \
	b -= a; b ^= ROL32(a, 6);  a += c; \
	c -= b; c ^= ROL32(b, 8);  b += a; \
	a -= c; a ^= ROL32(c, 16); c += b; \
	b -= a; b ^= ROL32(a, 19); a += c; \
	c -= b; c ^= ROL32(b, 4);  b += a; \
} while (0)
#define JFINAL(a, b, c) do { \
	c ^= b; c -= ROL32(b, 14); \
	a ^= c; a -= ROL32(c, 11); \
	b ^= a; b -= ROL32(a, 25); \
	c ^= b; c -= ROL32(b, 16); \
	a ^= c; a -= ROL32(c, 4);  \
	b ^= a; b -= ROL32(a, 14); \
	c ^= b; c -= ROL32(b, 24); \
} while (0)

struct jkey {
	uint32_t k[4];
};

static __attribute__((noinline)) uint32_t
hashcost_jhash_keyed(const struct jkey *key, uint32_t a1, uint32_t a2, uint32_t pp,
    uint32_t proto)
{
	uint32_t a = 0xdeadbeef + key->k[0], b = 0xdeadbeef + key->k[1], c = 0xdeadbeef + key->k[2];

	a += a1;
	b += a2;
	c += pp;
	JMIX(a, b, c);
	a += proto ^ key->k[3];
	b += key->k[0];
	c += key->k[1];
	JMIX(a, b, c);
	a += key->k[2];
	b += key->k[3];
	JFINAL(a, b, c);
	return c;
}

static __attribute__((noinline)) uint32_t
hashcost_siphash13(const struct vsr_sipkey *key, uint32_t a1, uint32_t a2, uint32_t pp,
    uint32_t proto)
{
	uint64_t w[2];

	w[0] = (uint64_t)a1 << 32 | a2;
	w[1] = (uint64_t)proto << 32 | pp;
	return (uint32_t)vsr_siphash13(key, w, 2);
}

/* Issue 15's chosen set: 256 client ports differing only in high bits of each byte. */
static void
chosen(unsigned i, uint32_t *caddr, uint32_t *pp)
{
	*caddr = 0x0a000001u ^ (i & 0xf0u) << 24;
	*pp = (uint32_t)((40000u ^ (i & 0x0fu) << 12)) << 16 | 80u;
}

int
main(int argc, char **argv)
{
	struct vsr_sipkey sk = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	struct jkey jk = { { 0x9e3779b9u, 0x7f4a7c15u, 0xf39cc060u, 0x5ced5a7bu } };
	unsigned long n = 1000000;
	static unsigned bj[4096], bs[4096];
	unsigned mj = 0, ms = 0;
	uint32_t x = 0, y = 0;

	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		n = strtoul(argv[2], NULL, 10);
	for (unsigned long i = 0; i < n; i++) {
		uint32_t a = 0x64400000u + (uint32_t)i * 2654435761u, p = (uint32_t)i << 16 | 80u;
		x ^= hashcost_siphash13(&sk, a, 0x0a0a0064u, p, 6);
		y ^= hashcost_jhash_keyed(&jk, a, 0x0a0a0064u, p, 6);
	}
	for (unsigned i = 0; i < 256; i++) {
		uint32_t a, p;
		chosen(i, &a, &p);
		unsigned hs = hashcost_siphash13(&sk, a, 0x0a0a0064u, p, 6) & 4095u;
		unsigned hj = hashcost_jhash_keyed(&jk, a, 0x0a0a0064u, p, 6) & 4095u;
		if (++bs[hs] > ms)
			ms = bs[hs];
		if (++bj[hj] > mj)
			mj = bj[hj];
	}
	printf("hashed %lu tuples with each (%08x %08x)\n", n, x, y);
	printf("chosen 256 tuples, fullest of 4096 buckets: siphash13 %u, jhash_keyed %u\n", ms, mj);
	return 0;
}
