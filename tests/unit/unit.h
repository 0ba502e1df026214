/* unit.h - the unit tests' only helper: checks that print ok / not ok lines and count failures */
#ifndef VSR_UNIT_H
#define VSR_UNIT_H

#include <stdio.h>

/*
 * CHECK(cond, fmt, ...) prints "ok - what" or "not ok - what (file:line)"
 * and counts; it evaluates to cond, so that a test can skip what would
 * only repeat a failure. CHECK_EQ(got, want, fmt, ...) compares two
 * integers and shows both on failure. unit_done() prints the totals and
 * returns main()'s exit status: 0 when every check passed, 1 otherwise.
 * No framework: two counters per test program.
 */
static unsigned unit_checks __attribute__((unused));
static unsigned unit_failures __attribute__((unused));

static inline void
unit_begin(int ok)
{
	unit_checks++;
	if (!ok)
		unit_failures++;
	printf("%s - ", ok ? "ok" : "not ok");
}

static inline void
unit_end(int ok, const char *file, int line)
{
	if (!ok)
		printf(" (%s:%d)", file, line);
	putchar('\n');
	fflush(stdout);
}

#define CHECK(cond, ...) __extension__ ({                                   \
	int unit_ok_ = !!(cond);                                            \
	unit_begin(unit_ok_);                                               \
	printf(__VA_ARGS__);                                                \
	unit_end(unit_ok_, __FILE__, __LINE__);                             \
	unit_ok_;                                                           \
})

#define CHECK_EQ(got, want, ...) __extension__ ({                           \
	unsigned long long unit_g_ = (unsigned long long)(got);             \
	unsigned long long unit_w_ = (unsigned long long)(want);            \
	int unit_ok_ = unit_g_ == unit_w_;                                  \
	unit_begin(unit_ok_);                                               \
	printf(__VA_ARGS__);                                                \
	if (!unit_ok_)                                                      \
		printf(": got %llu, want %llu", unit_g_, unit_w_);          \
	unit_end(unit_ok_, __FILE__, __LINE__);                             \
	unit_ok_;                                                           \
})

/* A "# ..." line between groups of checks. */
#define UNIT_SECTION(...) do {                                              \
	printf("# ");                                                       \
	printf(__VA_ARGS__);                                                \
	putchar('\n');                                                      \
} while (0)

static inline int
unit_done(void)
{
	printf("# %u checks, %u failed\n", unit_checks, unit_failures);
	fflush(stdout);
	return unit_failures ? 1 : 0;
}

/* tests/unit/stubs.c, for the tests that link it: dest_put() calls so far. */
extern unsigned stub_dest_put_calls;

/*
 * stubs.c's output layer: what tap_tx, link_tx and tunnel_tx were given,
 * in order (the frame after the virtio-net header for the TAP and the
 * links, the IP packet for a tunnel, with its destination). The links'
 * one interface and the real servers' MACs (02:00:00:00:01:<last byte
 * of the address>) are the stubs' own too. Tests reset stub_nout.
 */
#include <linux/virtio_net.h>
#include <stdint.h>

#include "addr.h"

enum stub_output { STUB_TAP, STUB_LINK, STUB_TUNNEL };

#define STUB_OUT_MAX       16
#define STUB_LINK_IFINDEX  2
#define STUB_LINK_MAC      { 0x02, 0, 0, 0, 0, 0x01 }
#define STUB_NEIGH_MAC(b)  { 0x02, 0, 0, 0, 0x01, (b) }

struct stub_frame {
	enum stub_output      out;
	unsigned              q;
	union vsr_addr        daddr;        /* tunnel: the real server */
	struct virtio_net_hdr vnet;
	uint32_t              len;
	uint8_t               data[2048];
};
extern struct stub_frame stub_out[STUB_OUT_MAX];
extern unsigned stub_nout;

#endif
