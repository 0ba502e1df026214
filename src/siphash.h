/* siphash.h - SipHash-1-3 over whole 64-bit words, keyed by a per-process secret */
#ifndef VSR_SIPHASH_H
#define VSR_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * SipHash (Aumasson and Bernstein, 2012) with one compression and three
 * finalisation rounds, as Linux's hsiphash on 64-bit machines and Python's
 * str hash use it for tables whose keys an attacker chooses. The input is
 * N words of 8 bytes; the length block carries 8 * N, so that the result
 * is SipHash-1-3 of those 8 * N bytes on a little-endian machine.
 *
 * Without the 128-bit key an attacker can neither predict a bucket nor
 * build inputs that collide for every key: the secret enters the state
 * before the first word and every round is a permutation of the whole
 * 256-bit state, unlike a seed XORed into the input of a fixed function
 * (whose collisions, found once, hold for every seed).
 */
struct vsr_sipkey {
	uint64_t k0, k1;
};

#define VSR_ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define VSR_SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = VSR_ROTL64(v1, 13); v1 ^= v0; v0 = VSR_ROTL64(v0, 32); \
	v2 += v3; v3 = VSR_ROTL64(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = VSR_ROTL64(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = VSR_ROTL64(v1, 17); v1 ^= v2; v2 = VSR_ROTL64(v2, 32); \
} while (0)

static inline uint64_t
vsr_siphash13(const struct vsr_sipkey *k, const uint64_t *w, size_t n)
{
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ull;
	uint64_t b = (uint64_t)(n * 8) << 56;

	for (size_t i = 0; i < n; i++) {
		v3 ^= w[i];
		VSR_SIPROUND(v0, v1, v2, v3);
		v0 ^= w[i];
	}
	v3 ^= b;
	VSR_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	VSR_SIPROUND(v0, v1, v2, v3);
	VSR_SIPROUND(v0, v1, v2, v3);
	VSR_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#endif
