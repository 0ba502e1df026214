/* test_sched.c - the fourteen schedulers and their registry, on services built by hand */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "conn.h"
#include "pkt.h"
#include "sched.h"
#include "svc.h"
#include "unit.h"

#define MAXD  8
#define OVL   DEST_F_OVERLOAD

/*
 * A service with up to MAXD dests named A, B, C ... in list order, set up
 * the way svc.c does it: init_service first, then each dest linked at the
 * tail and announced with add_dest.
 */
struct fixture {
	struct service svc;
	struct dest    d[MAXD];
	unsigned       n;
};

static void
fx_link(struct fixture *f, unsigned i)
{
	struct service *s = &f->svc;
	struct dest *d = &f->d[i];

	d->svc = s;
	d->refcnt = 1;
	TAILQ_INSERT_TAIL(&s->dests, d, entry);
	s->ndests++;
	if (s->sched->add_dest)
		s->sched->add_dest(s, d);
}

/* As fx_init, with the service's scheduler flags and Maglev table size. */
static int
fx_init_svc(struct fixture *f, const char *sched, const int *weights, const unsigned *flags,
    unsigned n, unsigned svc_flags, unsigned mh_size)
{
	memset(f, 0, sizeof(*f));
	TAILQ_INIT(&f->svc.dests);
	strcpy(f->svc.name, "svc");
	f->svc.flags = svc_flags;
	f->svc.mh_size = mh_size;
	f->svc.sched = sched_lookup(sched);
	if (f->svc.sched == NULL)
		return -1;
	if (f->svc.sched->init_service && f->svc.sched->init_service(&f->svc) < 0)
		return -1;
	f->n = n;
	for (unsigned i = 0; i < n; i++) {
		f->d[i].name[0] = (char)('A' + i);
		f->d[i].weight = weights[i];
		f->d[i].flags = flags ? flags[i] : 0;
		f->d[i].addr = addr_from_ip(0x0a000001u + i);
		fx_link(f, i);
	}
	return 0;
}

static int
fx_init(struct fixture *f, const char *sched, const int *weights, const unsigned *flags,
    unsigned n)
{
	return fx_init_svc(f, sched, weights, flags, n, 0, 0);
}

static void
fx_done(struct fixture *f)
{
	if (f->svc.sched && f->svc.sched->done_service)
		f->svc.sched->done_service(&f->svc);
}

/* Unlink dest I as svc.c would: del_dest first, then out of the list. */
static void
fx_del(struct fixture *f, unsigned i)
{
	struct service *s = &f->svc;
	struct dest *d = &f->d[i];

	if (s->sched->del_dest)
		s->sched->del_dest(s, d);
	TAILQ_REMOVE(&s->dests, d, entry);
	s->ndests--;
	d->svc = NULL;
}

static void
fx_set_weight(struct fixture *f, unsigned i, int w)
{
	f->d[i].weight = w;
	if (f->svc.sched->upd_dest)
		f->svc.sched->upd_dest(&f->svc, &f->d[i]);
}

/* One pick as a letter; '-' for NULL, '!' for a dest not available. */
static char
pick(struct fixture *f)
{
	struct dest *d = f->svc.sched->schedule(&f->svc, NULL, 0);

	if (d == NULL)
		return '-';
	if (!dest_available(d) || d->svc != &f->svc)
		return '!';
	return d->name[0];
}

/* N picks into BUF (N + 1 bytes). */
static const char *
picks(struct fixture *f, char *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		buf[i] = pick(f);
	buf[n] = '\0';
	return buf;
}

/* ---- exact sequences ---- */

static const struct seq_case {
	const char *what;
	const char *sched;
	unsigned    n;
	int         w[MAXD];
	unsigned    fl[MAXD];
	const char *want;
} seq_cases[] = {
	{ "rr: cyclic over three dests", "rr", 3, { 1, 1, 1 }, { 0 },
	  "ABCABCABCABC" },
	{ "rr: weights other than 0 do not matter", "rr", 3, { 5, 1, 2 }, { 0 },
	  "ABCABCABC" },
	{ "rr: a weight-0 dest is skipped", "rr", 3, { 1, 0, 1 }, { 0 },
	  "ACACACAC" },
	{ "rr: weight 0 first in the list", "rr", 3, { 0, 1, 1 }, { 0 },
	  "BCBCBC" },
	{ "rr: an overloaded dest is skipped", "rr", 3, { 1, 1, 1 }, { 0, OVL, 0 },
	  "ACACAC" },
	{ "rr: only the last one available", "rr", 3, { 0, 1, 1 }, { 0, OVL, 0 },
	  "CCCC" },
	{ "rr: all unavailable -> NULL", "rr", 3, { 0, 1, 0 }, { 0, OVL, 0 },
	  "----" },
	{ "rr: no dest -> NULL", "rr", 0, { 0 }, { 0 }, "--" },

	/* IPVS wrr: passes with cw = max, max - gcd, ..., gcd; weight >= cw, in list order. */
	{ "wrr: 3:1 is A A A B", "wrr", 2, { 3, 1 }, { 0 },
	  "AAAB" "AAAB" "AAAB" },
	/*
	 * Dests join one by one (add_dest), as with ipvsadm -a: adding A (1)
	 * sets cw = 1, adding B (3) keeps it, so the first pass runs at cw 1
	 * (A B) before the cycle B B A B settles. The kernel does the same.
	 */
	{ "wrr: 1:3 is (A B) then B B A B", "wrr", 2, { 1, 3 }, { 0 },
	  "AB" "BBAB" "BBAB" "BBAB" },
	{ "wrr: 4:3:2 (cw 4: A, 3: AB, 2: ABC, 1: ABC)", "wrr", 3, { 4, 3, 2 }, { 0 },
	  "AABABCABC" "AABABCABC" },
	{ "wrr: 4:2 (gcd 2) behaves as 2:1", "wrr", 2, { 4, 2 }, { 0 },
	  "AAB" "AAB" "AAB" "AAB" },
	{ "wrr: 2:1 for comparison", "wrr", 2, { 2, 1 }, { 0 },
	  "AAB" "AAB" "AAB" "AAB" },
	{ "wrr: 6:4:2 (gcd 2) behaves as 3:2:1", "wrr", 3, { 6, 4, 2 }, { 0 },
	  "AABABC" "AABABC" },
	{ "wrr: 9:6:3 (gcd 3) behaves as 3:2:1", "wrr", 3, { 9, 6, 3 }, { 0 },
	  "AABABC" "AABABC" },
	{ "wrr: equal weights are round robin", "wrr", 3, { 2, 2, 2 }, { 0 },
	  "ABCABCABC" },
	{ "wrr: a weight-0 dest is never chosen", "wrr", 3, { 2, 0, 1 }, { 0 },
	  "AAC" "AAC" "AAC" },
	{ "wrr: weight 0 first in the list: (B C) then C B C", "wrr", 3, { 0, 1, 2 }, { 0 },
	  "BC" "CBC" "CBC" "CBC" },
	{ "wrr: 4:3:2 with B overloaded", "wrr", 3, { 4, 3, 2 }, { 0, OVL, 0 },
	  "AAACAC" "AAACAC" },
	{ "wrr: all weights 0 -> NULL", "wrr", 2, { 0, 0 }, { 0 }, "---" },
	{ "wrr: all overloaded -> NULL", "wrr", 2, { 2, 1 }, { OVL, OVL }, "---" },
	{ "wrr: no dest -> NULL", "wrr", 0, { 0 }, { 0 }, "--" },
};

static void
test_sequences(void)
{
	char got[64];

	UNIT_SECTION("exact sequences");
	for (size_t i = 0; i < ARRAY_SIZE(seq_cases); i++) {
		const struct seq_case *c = &seq_cases[i];
		struct fixture f;

		if (!CHECK(fx_init(&f, c->sched, c->w, c->fl, c->n) == 0, "%s: set up", c->what))
			continue;
		picks(&f, got, (unsigned)strlen(c->want));
		CHECK(strcmp(got, c->want) == 0, "%s: got %s, want %s", c->what, got, c->want);
		fx_done(&f);
	}
}

/* ---- rr: dests leaving and joining ---- */

static void
test_rr_changes(void)
{
	static const int w3[] = { 1, 1, 1 };
	struct fixture f;
	char got[16];

	UNIT_SECTION("rr: dests removed and added while running");

	fx_init(&f, "rr", w3, NULL, 3);
	picks(&f, got, 2);                      /* A B */
	fx_del(&f, 1);                          /* B, the last chosen */
	picks(&f, got, 4);
	CHECK(strcmp(got, "CACA") == 0, "del of the last-chosen middle dest: next is C (got %s)", got);
	fx_done(&f);

	fx_init(&f, "rr", w3, NULL, 3);
	picks(&f, got, 1);                      /* A */
	fx_del(&f, 0);                          /* A, the last chosen, first in the list */
	picks(&f, got, 4);
	CHECK(strcmp(got, "BCBC") == 0, "del of the last-chosen head dest: next is B (got %s)", got);
	fx_done(&f);

	fx_init(&f, "rr", w3, NULL, 3);
	picks(&f, got, 3);                      /* A B C */
	fx_del(&f, 2);                          /* C, the last chosen, tail of the list */
	picks(&f, got, 4);
	CHECK(strcmp(got, "ABAB") == 0, "del of the last-chosen tail dest: wraps to A (got %s)", got);
	fx_done(&f);

	fx_init(&f, "rr", w3, NULL, 3);
	picks(&f, got, 1);                      /* A */
	fx_del(&f, 2);                          /* C, not the last chosen */
	picks(&f, got, 4);
	CHECK(strcmp(got, "BABA") == 0, "del of another dest: order kept (got %s)", got);
	fx_done(&f);

	fx_init(&f, "rr", w3, NULL, 3);
	picks(&f, got, 2);                      /* A B */
	f.d[3].name[0] = 'D';
	f.d[3].weight = 1;
	fx_link(&f, 3);
	picks(&f, got, 5);
	CHECK(strcmp(got, "CDABC") == 0, "a dest added at the tail joins the turn (got %s)", got);
	fx_done(&f);

	fx_init(&f, "rr", w3, NULL, 1);
	picks(&f, got, 1);
	fx_del(&f, 0);
	picks(&f, got, 2);
	CHECK(strcmp(got, "--") == 0, "the only dest removed: NULL (got %s)", got);
	fx_done(&f);

	fx_init(&f, "rr", w3, NULL, 3);
	picks(&f, got, 1);                      /* A */
	f.d[1].flags = OVL;                     /* B overloaded, then back */
	picks(&f, got, 2);
	CHECK(strcmp(got, "CA") == 0, "overload set at run time is honoured (got %s)", got);
	f.d[1].flags = 0;
	picks(&f, got, 3);
	CHECK(strcmp(got, "BCA") == 0, "overload cleared: back in the turn (got %s)", got);
	fx_done(&f);
}

/* ---- wrr: weight changes and removals ---- */

static void
test_wrr_changes(void)
{
	static const int w31[] = { 3, 1 };
	static const int w432[] = { 4, 3, 2 };
	struct fixture f;
	char got[1024];

	UNIT_SECTION("wrr: upd_dest and del_dest");

	/* 3:1 -> 1:3 after a full cycle: every 4 picks, one A and three B. */
	fx_init(&f, "wrr", w31, NULL, 2);
	picks(&f, got, 4);
	fx_set_weight(&f, 0, 1);
	fx_set_weight(&f, 1, 3);
	picks(&f, got, 400);
	int bad = 0, na = 0;
	for (unsigned i = 0; i < 400; i += 4) {
		int a = 0;
		for (unsigned j = i; j < i + 4; j++)
			a += got[j] == 'A';
		bad += a != 1;
		na += a;
	}
	CHECK(bad == 0 && na == 100 && strspn(got, "AB") == 400,
	    "3:1 changed to 1:3: one A in every 4 picks (first 8: %.8s)", got);
	fx_done(&f);

	/* 3:1, B's weight to 0: B never again; back to 1: A A A B again. */
	fx_init(&f, "wrr", w31, NULL, 2);
	picks(&f, got, 2);
	fx_set_weight(&f, 1, 0);
	picks(&f, got, 12);
	CHECK(strcmp(got, "AAAAAAAAAAAA") == 0, "weight changed to 0: never chosen (got %s)", got);
	fx_set_weight(&f, 1, 1);
	picks(&f, got, 400);
	na = 0;
	for (unsigned i = 0; i < 400; i++)
		na += got[i] == 'A';
	CHECK(na == 300 && strspn(got, "AB") == 400, "weight back to 1: 3:1 again (%d A of 400)", na);
	fx_done(&f);

	/* All weights to 0 at run time. */
	fx_init(&f, "wrr", w31, NULL, 2);
	picks(&f, got, 1);
	fx_set_weight(&f, 0, 0);
	fx_set_weight(&f, 1, 0);
	picks(&f, got, 3);
	CHECK(strcmp(got, "---") == 0, "every weight changed to 0: NULL (got %s)", got);
	fx_done(&f);

	/* 4:3:2 -> 4:2 by weight change to the gcd-2 set: A A B. */
	fx_init(&f, "wrr", w432, NULL, 3);
	picks(&f, got, 9);
	fx_set_weight(&f, 1, 0);
	fx_set_weight(&f, 2, 2);
	picks(&f, got, 300);
	na = 0;
	for (unsigned i = 0; i < 300; i++)
		na += got[i] == 'A';
	CHECK(na == 200 && strspn(got, "AC") == 300,
	    "4:3:2 changed to 4:0:2: A twice as often as C (%d A of 300)", na);
	fx_done(&f);

	/* del_dest of the heaviest: the others go on by their weights. */
	fx_init(&f, "wrr", w432, NULL, 3);
	picks(&f, got, 3);
	fx_del(&f, 0);
	picks(&f, got, 500);
	int nb = 0;
	for (unsigned i = 0; i < 500; i++)
		nb += got[i] == 'B';
	CHECK(nb == 300 && strspn(got, "BC") == 500, "A removed from 4:3:2: B:C = 3:2 (%d B of 500)", nb);
	fx_done(&f);

	/* A dest added at run time (add_dest) is scheduled by its weight. */
	fx_init(&f, "wrr", w31, NULL, 2);
	picks(&f, got, 4);
	f.d[2].name[0] = 'C';
	f.d[2].weight = 4;
	fx_link(&f, 2);
	picks(&f, got, 800);
	int nc = 0;
	na = 0;
	for (unsigned i = 0; i < 800; i++) {
		nc += got[i] == 'C';
		na += got[i] == 'A';
	}
	CHECK(nc == 400 && na == 300 && strspn(got, "ABC") == 800,
	    "C of weight 4 added to 3:1: 3:1:4 (%d A, %d C of 800)", na, nc);
	fx_done(&f);
}

/* ---- wlc ---- */

static const struct wlc_case {
	const char *what;
	unsigned    n;
	int         w[MAXD];
	uint32_t    act[MAXD];
	uint32_t    inact[MAXD];
	unsigned    fl[MAXD];
	char        want;
} wlc_cases[] = {
	{ "no connections anywhere: the first", 3, { 1, 1, 1 }, { 0 }, { 0 }, { 0 }, 'A' },
	{ "no connections, different weights: still the first", 3, { 1, 5, 3 }, { 0 }, { 0 }, { 0 },
	  'A' },
	{ "fewest inactive at equal weights", 3, { 1, 1, 1 }, { 0 }, { 5, 3, 4 }, { 0 }, 'B' },
	{ "tie: the first in list order", 3, { 1, 1, 1 }, { 0 }, { 4, 3, 3 }, { 0 }, 'B' },
	{ "tie across weights (4/2 = 2/1): the first", 2, { 2, 1 }, { 0 }, { 4, 2 }, { 0 }, 'A' },
	/* 10/3 > 3/1 exactly, but 10/3 == 3/1 in integer division. */
	{ "cross multiplication, not integer division (10/3 vs 3/1)", 2, { 3, 1 }, { 0 },
	  { 10, 3 }, { 0 }, 'B' },
	/* 7/2 < 4/1 (the lighter dest later in the list). */
	{ "7/2 beats 4/1", 2, { 1, 2 }, { 0 }, { 4, 7 }, { 0 }, 'B' },
	/* One active = 256: more than 100 inactive. */
	{ "ActiveConn weighs 256: 1 active loses to 100 inactive", 2, { 1, 1 }, { 1, 0 },
	  { 0, 100 }, { 0 }, 'B' },
	{ "ActiveConn weighs 256: 1 active beats 257 inactive", 2, { 1, 1 }, { 1, 0 },
	  { 0, 257 }, { 0 }, 'A' },
	{ "ActiveConn weighs 256: 1 active ties 256 inactive (first)", 2, { 1, 1 }, { 0, 1 },
	  { 256, 0 }, { 0 }, 'A' },
	/* 1 active on weight 2 is 128 per weight: without the 256 it would be 0.5. */
	{ "weighted overhead: 256/2 beats 129/1", 2, { 2, 1 }, { 1, 0 }, { 0, 129 }, { 0 }, 'A' },
	{ "weighted overhead: 256/2 loses to 127/1", 2, { 2, 1 }, { 1, 0 }, { 0, 127 }, { 0 },
	  'B' },
	{ "a weight-0 dest is skipped even when idle", 3, { 0, 1, 1 }, { 0 }, { 0, 5, 6 }, { 0 },
	  'B' },
	{ "an overloaded dest is skipped even when idle", 3, { 1, 1, 1 }, { 0 }, { 0, 5, 4 },
	  { OVL, 0, 0 }, 'C' },
	{ "all unavailable: NULL", 2, { 0, 1 }, { 0 }, { 0 }, { 0, OVL }, '-' },
	{ "no dest: NULL", 0, { 0 }, { 0 }, { 0 }, { 0 }, '-' },
	/* Products above 2^32: 4,300,000 * 1000 vs 4,290,000 * 1000. */
	{ "products above 32 bits", 2, { 1000, 1000 }, { 0 }, { 4300000, 4290000 }, { 0 }, 'B' },
};

static void
test_wlc(void)
{
	UNIT_SECTION("wlc");
	for (size_t i = 0; i < ARRAY_SIZE(wlc_cases); i++) {
		const struct wlc_case *c = &wlc_cases[i];
		struct fixture f;

		if (!CHECK(fx_init(&f, "wlc", c->w, c->fl, c->n) == 0, "wlc: %s: set up", c->what))
			continue;
		for (unsigned j = 0; j < c->n; j++) {
			f.d[j].activeconns = c->act[j];
			f.d[j].inactconns = c->inact[j];
		}
		char got = pick(&f);
		CHECK(got == c->want, "wlc: %s: got %c, want %c", c->what, got, c->want);
		fx_done(&f);
	}
}

/* ---- randomised, against reference models written from the definitions ---- */

static unsigned
gcd_u(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * One cycle of the IPVS wrr sequence: passes at cw = mw, mw - g, ..., g,
 * each taking the dests of weight >= cw in list order. Fills CYC (its
 * length returned), and PASS[] with the index where each pass starts.
 */
static unsigned
wrr_cycle(const int *w, unsigned n, char *cyc, unsigned *pass, unsigned *npass)
{
	unsigned mw = 0, g = 0, k = 0;

	*npass = 0;
	for (unsigned i = 0; i < n; i++) {
		if (w[i] <= 0)
			continue;
		mw = (unsigned)w[i] > mw ? (unsigned)w[i] : mw;
		g = gcd_u(g, (unsigned)w[i]);
	}
	for (unsigned cw = mw; cw > 0 && g > 0; cw -= g) {
		pass[(*npass)++] = k;
		for (unsigned i = 0; i < n; i++)
			if (w[i] > 0 && (unsigned)w[i] >= cw)
				cyc[k++] = (char)('A' + i);
	}
	cyc[k] = '\0';
	return k;
}

/*
 * GOT follows the cycle: after a change of the dest set the sequence may
 * resume in the middle of a cycle, at the start of any pass (the cw the
 * change left), run to its end, and then repeat whole cycles.
 */
static int
wrr_follows(const char *got, unsigned len, const char *cyc, unsigned clen, const unsigned *pass,
    unsigned npass)
{
	if (clen == 0)
		return strspn(got, "-") == len;
	for (unsigned p = 0; p < npass; p++) {
		unsigned k = pass[p], i;
		for (i = 0; i < len; i++) {
			if (got[i] != cyc[k])
				break;
			k = (k + 1) % clen;
		}
		if (i == len)
			return 1;
	}
	return 0;
}

static void
test_random(void)
{
	struct fixture f;
	char got[256], cyc[MAXD * 12 + 1];
	unsigned pass[16], npass;
	int fails;

	UNIT_SECTION("randomised against reference models");
	srand(12345);

	fails = 0;
	for (int round = 0; round < 2000; round++) {
		int w[MAXD];
		unsigned n = 1 + (unsigned)rand() % MAXD;
		for (unsigned i = 0; i < n; i++)
			w[i] = rand() % 4 == 0 ? 0 : 1 + rand() % 12;
		fx_init(&f, "wrr", w, NULL, n);
		unsigned clen = wrr_cycle(w, n, cyc, pass, &npass);
		picks(&f, got, 200);
		int ok = wrr_follows(got, 200, cyc, clen, pass, npass);
		/* After a weight change (upd_dest), the same. */
		unsigned j = (unsigned)rand() % n;
		w[j] = rand() % 3 == 0 ? 0 : 1 + rand() % 12;
		fx_set_weight(&f, j, w[j]);
		clen = wrr_cycle(w, n, cyc, pass, &npass);
		picks(&f, got + 200, 50);
		ok = ok && wrr_follows(got + 200, 50, cyc, clen, pass, npass);
		if (!ok && fails++ < 3)
			CHECK(0, "wrr: n=%u w[0..2]=%d,%d,%d: got %.30s, cycle %s", n, w[0],
			    n > 1 ? w[1] : -1, n > 2 ? w[2] : -1, got, cyc);
		fx_done(&f);
	}
	CHECK(fails == 0, "wrr: 2000 random weight sets follow the IPVS cycle, "
	    "also after upd_dest (%d differ)", fails);

	fails = 0;
	for (int round = 0; round < 2000; round++) {
		int w[MAXD];
		unsigned fl[MAXD];
		unsigned n = 1 + (unsigned)rand() % MAXD;
		for (unsigned i = 0; i < n; i++) {
			w[i] = rand() % 5 == 0 ? 0 : 1 + rand() % 100;
			fl[i] = rand() % 6 == 0 ? OVL : 0;
		}
		fx_init(&f, "wlc", w, fl, n);
		for (unsigned i = 0; i < n; i++) {
			f.d[i].activeconns = (uint32_t)(rand() % 3000);
			f.d[i].inactconns = (uint32_t)(rand() % 100000);
		}
		/* Reference: the first available dest of least overhead/weight, exactly. */
		int best = -1;
		for (unsigned i = 0; i < n; i++) {
			if (w[i] <= 0 || fl[i])
				continue;
			int64_t oh = (int64_t)f.d[i].activeconns * 256 + f.d[i].inactconns;
			if (best < 0) {
				best = (int)i;
				continue;
			}
			int64_t boh = (int64_t)f.d[best].activeconns * 256 + f.d[best].inactconns;
			if (oh * w[best] < boh * w[i])
				best = (int)i;
		}
		char g = pick(&f), e = best < 0 ? '-' : (char)('A' + best);
		if (g != e && fails++ < 3)
			CHECK(0, "wlc: random set of %u: got %c, want %c", n, g, e);
		fx_done(&f);
	}
	CHECK(fails == 0, "wlc: 2000 random sets pick the least weighted overhead (%d differ)", fails);

	/* rr and wrr under random weights and overloads: only available dests, NULL only if none. */
	static const char *const names[] = { "rr", "wrr", "wlc" };
	for (size_t s = 0; s < ARRAY_SIZE(names); s++) {
		fails = 0;
		for (int round = 0; round < 500; round++) {
			int w[MAXD];
			unsigned fl[MAXD], n = (unsigned)rand() % (MAXD + 1), avail = 0;
			for (unsigned i = 0; i < n; i++) {
				w[i] = rand() % 3 == 0 ? 0 : 1 + rand() % 5;
				fl[i] = rand() % 3 == 0 ? OVL : 0;
				avail += w[i] > 0 && !fl[i];
			}
			fx_init(&f, names[s], w, fl, n);
			picks(&f, got, 50);
			if (strchr(got, '!') || (avail == 0) != (strspn(got, "-") == 50) ||
			    (avail > 0 && strchr(got, '-')))
				fails++;
			fx_done(&f);
		}
		CHECK(fails == 0, "%s: 500 random sets: only available dests, NULL only when none (%d bad)",
		    names[s], fails);
	}
}

/* ---- lc, sed, nq, fo, ovf: one decision from set-up counts ---- */

/*
 * Each case is chosen so that a plausible wrong formula picks differently;
 * the comment after the expectation says which.
 */
static const struct load_case {
	const char *sched;
	const char *what;
	unsigned    n;
	int         w[MAXD];
	uint32_t    act[MAXD];
	uint32_t    inact[MAXD];
	unsigned    fl[MAXD];
	char        want;
} load_cases[] = {
	{ "lc", "ActiveConn weighs 256: 1 active loses to 200 inactive", 2, { 1, 1 }, { 1, 0 },
	  { 0, 200 }, { 0 }, 'B' },                     /* without * 256: A */
	{ "lc", "ActiveConn weighs 256: 1 active beats 300 inactive", 2, { 1, 1 }, { 1, 0 },
	  { 0, 300 }, { 0 }, 'A' },
	{ "lc", "weights do not count: 10 on weight 1 beats 15 on weight 10", 2, { 1, 10 },
	  { 0 }, { 10, 15 }, { 0 }, 'A' },               /* wlc: B */
	{ "lc", "tie: the first in list order", 3, { 1, 1, 1 }, { 0 }, { 7, 5, 5 }, { 0 }, 'B' },
	{ "lc", "a weight-0 dest is skipped even when idle", 2, { 0, 1 }, { 0 }, { 0, 9 }, { 0 },
	  'B' },
	{ "lc", "an overloaded dest is skipped even when idle", 2, { 1, 1 }, { 0 }, { 0, 9 },
	  { OVL, 0 }, 'B' },
	{ "lc", "all unavailable: NULL", 2, { 0, 1 }, { 0 }, { 0 }, { 0, OVL }, '-' },

	{ "sed", "ActiveConn + 1, inactive ignored", 2, { 1, 1 }, { 0, 1 }, { 1000, 0 }, { 0 },
	  'A' },                                         /* overhead: B */
	{ "sed", "(0 + 1)/1 loses to (1 + 1)/3", 2, { 1, 3 }, { 0, 1 }, { 0 }, { 0 }, 'B' },
	/* without + 1 (0/1 vs 1/3): A */
	{ "sed", "(2 + 1)/1 loses to (4 + 1)/2", 2, { 1, 2 }, { 2, 4 }, { 0 }, { 0 }, 'B' },
	/* without + 1 (2/1 vs 4/2): tie, A */
	{ "sed", "tie (1 + 1)/2 = (0 + 1)/1: the first", 2, { 2, 1 }, { 1, 0 }, { 0 }, { 0 }, 'A' },
	{ "sed", "an idle dest is not preferred as such (nq's rule)", 2, { 1, 10 }, { 0, 1 },
	  { 0 }, { 0 }, 'B' },                           /* nq: A */
	{ "sed", "weight 0 and overloaded skipped", 3, { 0, 5, 1 }, { 0 }, { 0 }, { 0, OVL, 0 },
	  'C' },

	{ "nq", "an idle dest first, whatever the weights", 2, { 1, 10 }, { 0, 1 }, { 0 }, { 0 },
	  'A' },                                         /* sed: B */
	{ "nq", "the first idle one, inactive and weight aside", 3, { 1, 1, 5 }, { 2, 0, 0 },
	  { 0, 50, 0 }, { 0 }, 'B' },                    /* sed or lc over idle: C */
	{ "nq", "nobody idle: (ActiveConn + 1) / weight", 2, { 1, 3 }, { 1, 2 }, { 0 }, { 0 },
	  'B' },                                         /* 2/1 vs 3/3 */
	{ "nq", "nobody idle: inactive ignored", 2, { 1, 1 }, { 1, 2 }, { 0, 0 }, { 0 }, 'A' },
	{ "nq", "idle but weight 0 or overloaded: not taken", 4, { 0, 1, 1, 2 }, { 0, 0, 3, 3 },
	  { 0 }, { 0, OVL, 0, 0 }, 'D' },                /* 4/1 vs 4/2 */
	{ "nq", "all unavailable: NULL", 2, { 0, 1 }, { 0 }, { 0 }, { 0, OVL }, '-' },

	{ "fo", "the highest weight, not the first", 3, { 1, 5, 3 }, { 0 }, { 0 }, { 0 }, 'B' },
	{ "fo", "the highest weight, however loaded", 3, { 1, 5, 3 }, { 0, 1000, 0 },
	  { 0, 1000, 0 }, { 0 }, 'B' },
	{ "fo", "tie: the first of the highest", 3, { 2, 5, 5 }, { 0 }, { 0 }, { 0 }, 'B' },
	{ "fo", "the highest overloaded: the next highest", 3, { 1, 5, 3 }, { 0 }, { 0 },
	  { 0, OVL, 0 }, 'C' },
	{ "fo", "all weight 0: NULL", 2, { 0, 0 }, { 0 }, { 0 }, { 0 }, '-' },

	{ "ovf", "the highest weight while ActiveConn <= weight (5 of 5)", 2, { 2, 5 }, { 0, 5 },
	  { 0 }, { 0 }, 'B' },                           /* with < instead of <=: A */
	{ "ovf", "overflow: ActiveConn above the weight (6 of 5)", 2, { 2, 5 }, { 0, 6 }, { 0 },
	  { 0 }, 'A' },                                  /* rule ignored: B */
	{ "ovf", "overflow down the weights", 3, { 2, 5, 1 }, { 3, 6, 0 }, { 0 }, { 0 }, 'C' },
	{ "ovf", "inactive connections do not count", 2, { 2, 5 }, { 0 }, { 0, 1000 }, { 0 },
	  'B' },
	{ "ovf", "not the least loaded: the heaviest with room", 3, { 1, 4, 2 }, { 0, 3, 0 },
	  { 0 }, { 0 }, 'B' },                           /* lc/wlc: A */
	{ "ovf", "tie: the first of the highest", 2, { 3, 3 }, { 1, 0 }, { 0 }, { 0 }, 'A' },
	{ "ovf", "everyone full: NULL", 2, { 1, 1 }, { 2, 2 }, { 0 }, { 0 }, '-' },
	{ "ovf", "the highest overloaded: the next", 2, { 5, 2 }, { 0 }, { 0 }, { OVL, 0 }, 'B' },
};

static void
test_load(void)
{
	UNIT_SECTION("lc, sed, nq, fo, ovf");
	for (size_t i = 0; i < ARRAY_SIZE(load_cases); i++) {
		const struct load_case *c = &load_cases[i];
		struct fixture f;

		if (!CHECK(fx_init(&f, c->sched, c->w, c->fl, c->n) == 0, "%s: %s: set up", c->sched,
		    c->what))
			continue;
		for (unsigned j = 0; j < c->n; j++) {
			f.d[j].activeconns = c->act[j];
			f.d[j].inactconns = c->inact[j];
		}
		char got = pick(&f);
		CHECK(got == c->want, "%s: %s: got %c, want %c", c->sched, c->what, got, c->want);
		fx_done(&f);
	}
}

/* ---- with a packet: hashing and locality ---- */

static char
letter(const struct fixture *f, const struct dest *d)
{
	if (d == NULL)
		return '-';
	if (!dest_available(d) || d->svc != &f->svc)
		return '!';
	return d->name[0];
}

/* One pick for a packet from SADDR:SPORT to DADDR (host order) at NOW. */
static char
pickp(struct fixture *f, uint32_t saddr, uint16_t sport, uint32_t daddr, uint32_t now)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.saddr = addr_from_ip(htonl(saddr));
	p.af = AF_INET;
	p.sport = htons(sport);
	p.daddr = addr_from_ip(htonl(daddr));
	p.dport = htons(80);
	p.proto = IPPROTO_TCP;
	return letter(f, f->svc.sched->schedule(&f->svc, &p, now));
}

#define NKEYS 100000u

/* The Ith of a fixed sequence of pseudo-random 32-bit keys. */
static uint32_t
key(uint32_t i)
{
	uint32_t x = i * 0x9e3779b9u + 0x7f4a7c15u;
	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	x *= 0x297a2d39u;
	x ^= x >> 15;
	return x;
}

/* Map NKEYS keys into MAP: by source address (sh, mh) or destination (dh). */
static void
map_keys(struct fixture *f, int by_daddr, char *map)
{
	for (uint32_t i = 0; i < NKEYS; i++)
		map[i] = by_daddr ? pickp(f, 0x0a0000feu, 1000, key(i), 0)
		    : pickp(f, key(i), 1000, 0xc0a80001u, 0);
}

/* Every share within 10% of WANT[i] / sum; prints the shares on failure. */
static int
spread_ok(const char *map, unsigned n, const int *want, char *why, size_t len)
{
	unsigned cnt[MAXD] = { 0 }, other = 0;
	int sum = 0, ok = 1;

	for (unsigned i = 0; i < n; i++)
		sum += want[i];
	for (uint32_t i = 0; i < NKEYS; i++) {
		if (map[i] >= 'A' && map[i] < 'A' + (int)n)
			cnt[map[i] - 'A']++;
		else
			other++;
	}
	size_t o = (size_t)snprintf(why, len, "%u not on a dest;", other);
	ok = other == 0;
	for (unsigned i = 0; i < n && o < len; i++) {
		double exp = (double)NKEYS * want[i] / sum;
		if (cnt[i] < exp * 0.9 || cnt[i] > exp * 1.1)
			ok = 0;
		o += (size_t)snprintf(why + o, len - o, " %c %u/%.0f", 'A' + i, cnt[i], exp);
	}
	return ok;
}

static unsigned
map_diff(const char *a, const char *b)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < NKEYS; i++)
		n += a[i] != b[i];
	return n;
}

static void
test_hash_spread(void)
{
	static const struct {
		const char *sched;
		const char *what;
		unsigned    n;
		int         w[MAXD];
		int         share[MAXD];
		unsigned    mh_size;
	} cases[] = {
		{ "dh", "weights ignored (1:5:2 spread evenly, as the kernel's table)", 3, { 1, 5, 2 },
		  { 1, 1, 1 }, 0 },
		{ "dh", "five equal dests", 5, { 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 1 }, 0 },
		{ "sh", "weights 1:2:5 honoured", 3, { 1, 2, 5 }, { 1, 2, 5 }, 0 },
		{ "sh", "weights 3:1", 2, { 3, 1 }, { 3, 1 }, 0 },
		{ "sh", "weights 100:200 (reduced by their gcd)", 2, { 100, 200 }, { 1, 2 }, 0 },
		{ "mh", "weights 1:2:5 honoured", 3, { 1, 2, 5 }, { 1, 2, 5 }, 0 },
		{ "mh", "weights 3:1", 2, { 3, 1 }, { 3, 1 }, 0 },
		{ "mh", "weights 100:300:600", 3, { 100, 300, 600 }, { 1, 3, 6 }, 0 },
		{ "mh", "seven equal dests", 7, { 2, 2, 2, 2, 2, 2, 2 }, { 1, 1, 1, 1, 1, 1, 1 }, 0 },
		{ "mh", "table of 4093 (the kernel's), 1:2:5", 3, { 1, 2, 5 }, { 1, 2, 5 }, 4093 },
		{ "mh", "table of 251, 1:1", 2, { 1, 1 }, { 1, 1 }, 251 },
	};
	char *map = malloc(NKEYS), *again = malloc(NKEYS), why[256];
	struct fixture f;

	UNIT_SECTION("dh, sh, mh: stable keys spread by weight");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int by_daddr = strcmp(cases[i].sched, "dh") == 0;
		if (!CHECK(fx_init_svc(&f, cases[i].sched, cases[i].w, NULL, cases[i].n, 0,
		    cases[i].mh_size) == 0, "%s: %s: set up", cases[i].sched, cases[i].what))
			continue;
		map_keys(&f, by_daddr, map);
		map_keys(&f, by_daddr, again);
		CHECK(map_diff(map, again) == 0, "%s: %s: the same key, the same dest", cases[i].sched,
		    cases[i].what);
		CHECK(spread_ok(map, cases[i].n, cases[i].share, why, sizeof(why)),
		    "%s: %s: %u keys within 10%% of the shares (%s)", cases[i].sched, cases[i].what,
		    NKEYS, why);
		fx_done(&f);
	}
	free(map);
	free(again);
}

/*
 * IPv6 keys: 2001:db8::/32 with key(i) in word W of the address (W 4:
 * spread over every word), as a source (sh, mh) or a destination (dh,
 * lblc) address.
 */
static char
pick6(struct fixture *f, int by_daddr, uint32_t i, int w)
{
	struct pkt p;
	union vsr_addr k = { .w = { htonl(0x20010db8), 0, 0, htonl(1) } };

	if (w < 4)
		k.w[w] ^= htonl(key(i));
	else
		for (int j = 0; j < 4; j++)
			k.w[j] ^= htonl(key(i * 4 + (uint32_t)j));
	memset(&p, 0, sizeof(p));
	p.af = AF_INET6;
	p.proto = IPPROTO_TCP;
	p.sport = htons(1000);
	p.dport = htons(80);
	p.saddr = by_daddr ? (union vsr_addr){ .w = { htonl(0x20010db8), 0, 0, htonl(0xfe) } } : k;
	p.daddr = by_daddr ? k : (union vsr_addr){ .w = { htonl(0x20010db8), 0, 0, htonl(0x100) } };
	return letter(f, f->svc.sched->schedule(&f->svc, &p, 0));
}

static void
test_hash_ipv6(void)
{
	static const int w3[] = { 1, 2, 5 }, e3[] = { 1, 1, 1 };
	static const char *const scheds[] = { "dh", "sh", "mh" };
	static const char *const where[] = { "the prefix's first word", "the prefix's second word",
	    "the interface identifier's first word", "the last word", "every word" };
	char *map = malloc(NKEYS), *again = malloc(NKEYS), why[256];
	struct fixture f;

	UNIT_SECTION("dh, sh, mh: IPv6 keys, every bit of them");
	for (size_t s_ = 0; s_ < ARRAY_SIZE(scheds); s_++) {
		int by_daddr = strcmp(scheds[s_], "dh") == 0;
		const int *share = by_daddr ? e3 : w3;
		for (int w = 0; w <= 4; w++) {
			if (!CHECK(fx_init_svc(&f, scheds[s_], w3, NULL, 3, 0, 0) == 0, "%s: set up",
			    scheds[s_]))
				continue;
			for (int pass = 0; pass < 2; pass++)
				for (uint32_t i = 0; i < NKEYS; i++)
					(pass ? again : map)[i] = pick6(&f, by_daddr, i, w);
			CHECK(map_diff(map, again) == 0 && spread_ok(map, 3, share, why, sizeof(why)),
			    "%s: IPv6 keys differing in %s: stable, within 10%% of the shares (%s)",
			    scheds[s_], where[w], why);
			fx_done(&f);
		}
	}
	free(map);
	free(again);
}

/* The port flags: without, the source port does not matter; with, it does. */
static void
test_hash_port(void)
{
	static const int w3[] = { 1, 1, 1 };
	static const struct {
		const char *sched;
		unsigned    flag;
	} cases[] = {
		{ "sh", SVC_F_SH_PORT },
		{ "mh", SVC_F_MH_PORT },
	};
	struct fixture f;

	UNIT_SECTION("sh-port, mh-port");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (int with = 0; with <= 1; with++) {
			unsigned same = 0, differ = 0, stable = 1;
			fx_init_svc(&f, cases[i].sched, w3, NULL, 3, with ? cases[i].flag : 0, 0);
			for (uint32_t k = 0; k < 200; k++) {
				char first = pickp(&f, key(k), 1024, 0xc0a80001u, 0);
				for (uint16_t port = 1025; port < 1045; port++) {
					char c = pickp(&f, key(k), port, 0xc0a80001u, 0);
					same += c == first;
					differ += c != first;
					stable &= c == pickp(&f, key(k), port, 0xc0a80001u, 0);
				}
			}
			if (with)
				CHECK(differ > same && stable, "%s with %s-port: the port moves keys "
				    "(%u of %u differ), each address:port stays put", cases[i].sched,
				    cases[i].sched, differ, differ + same);
			else
				CHECK(differ == 0, "%s without %s-port: the port does not matter (%u differ)",
				    cases[i].sched, cases[i].sched, differ);
			fx_done(&f);
		}
	}
}

/*
 * A dest made unavailable (overloaded, or weight 0 where the table keeps
 * it): without fallback its keys get NULL, with fallback they spread over
 * the others; every other key stays put.
 */
static void
test_hash_fallback(void)
{
	static const int w4[] = { 2, 2, 2, 2 };
	static const struct {
		const char *sched;
		unsigned    flag;
		int         by_weight;  /* quiesce by weight 0 (upd_dest) rather than overload */
	} cases[] = {
		{ "sh", SVC_F_SH_FALLBACK, 0 },
		{ "mh", SVC_F_MH_FALLBACK, 0 },
		{ "mh", SVC_F_MH_FALLBACK, 1 },
		{ "dh", 0, 0 },
	};
	char *before = malloc(NKEYS), *after = malloc(NKEYS);
	struct fixture f;

	UNIT_SECTION("sh-fallback, mh-fallback; dh has none");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int by_daddr = strcmp(cases[i].sched, "dh") == 0;
		const char *how = cases[i].by_weight ? "weight 0" : "overloaded";
		for (int with = 0; with <= 1; with++) {
			if (with && cases[i].flag == 0)
				continue;
			fx_init_svc(&f, cases[i].sched, w4, NULL, 4, with ? cases[i].flag : 0, 0);
			map_keys(&f, by_daddr, before);
			if (cases[i].by_weight)
				fx_set_weight(&f, 1, 0);
			else
				f.d[1].flags = OVL;
			map_keys(&f, by_daddr, after);
			unsigned moved_ok = 0, moved_bad = 0, stayed = 0, others_moved = 0;
			unsigned to[MAXD] = { 0 };
			for (uint32_t k = 0; k < NKEYS; k++) {
				if (before[k] == 'B') {
					if (with && after[k] >= 'A' && after[k] <= 'D' && after[k] != 'B') {
						moved_ok++;
						to[after[k] - 'A']++;
					} else if (!with && after[k] == '-')
						moved_ok++;
					else
						moved_bad++;
				} else {
					stayed += after[k] == before[k];
					others_moved += after[k] != before[k];
				}
			}
			CHECK(moved_ok > NKEYS / 5 && moved_bad == 0 && others_moved == 0,
			    "%s %s fallback, B %s: B's %u keys %s (%u wrong), the other %u keys stay "
			    "(%u moved)", cases[i].sched, with ? "with" : "without", how,
			    moved_ok + moved_bad, with ? "go elsewhere" : "get NULL", moved_bad, stayed,
			    others_moved);
			if (with) {
				unsigned lo = moved_ok / 4;
				CHECK(to[0] > lo && to[2] > lo && to[3] > lo,
				    "%s fallback spreads B's keys over A C D (%u %u %u)", cases[i].sched,
				    to[0], to[2], to[3]);
			}
			/* Back: the original mapping. */
			if (cases[i].by_weight)
				fx_set_weight(&f, 1, 2);
			else
				f.d[1].flags = 0;
			map_keys(&f, by_daddr, after);
			CHECK(map_diff(before, after) == 0, "%s %s fallback, B available again: every "
			    "key back where it was", cases[i].sched, with ? "with" : "without");
			fx_done(&f);
		}
	}
	free(before);
	free(after);
}

/* Maglev: removing one of N dests moves few keys; adding it back restores the table. */
static void
test_mh_disruption(void)
{
	static const unsigned ns[] = { 5, 10 };
	char *before = malloc(NKEYS), *after = malloc(NKEYS);
	struct fixture f;

	UNIT_SECTION("mh: minimal disruption");
	for (size_t t = 0; t < ARRAY_SIZE(ns); t++) {
		unsigned n = ns[t];
		int w[16];
		struct {
			struct service svc;
			struct dest    d[16];
		} big;
		/* Up to 10 dests: a fixture of its own size. */
		memset(&big, 0, sizeof(big));
		TAILQ_INIT(&big.svc.dests);
		big.svc.sched = &sched_mh;
		CHECK(sched_mh.init_service(&big.svc) == 0, "mh: N=%u: init", n);
		for (unsigned i = 0; i < n; i++) {
			w[i] = 1;
			big.d[i].name[0] = (char)('A' + i);
			big.d[i].weight = w[i];
			big.d[i].addr = addr_from_ip(htonl(0x0a000001u + i));
			big.d[i].port = htons(80);
			big.d[i].svc = &big.svc;
			TAILQ_INSERT_TAIL(&big.svc.dests, &big.d[i], entry);
			big.svc.ndests++;
			sched_mh.add_dest(&big.svc, &big.d[i]);
		}
		for (unsigned victim = 0; victim < n; victim += n / 2 + 1) {
			struct pkt p;
			memset(&p, 0, sizeof(p));
			for (uint32_t k = 0; k < NKEYS; k++) {
				p.saddr = addr_from_ip(key(k));
				struct dest *d = sched_mh.schedule(&big.svc, &p, 0);
				before[k] = d ? d->name[0] : '-';
			}
			sched_mh.del_dest(&big.svc, &big.d[victim]);
			TAILQ_REMOVE(&big.svc.dests, &big.d[victim], entry);
			big.svc.ndests--;
			unsigned own = 0, moved = 0, lost = 0;
			for (uint32_t k = 0; k < NKEYS; k++) {
				p.saddr = addr_from_ip(key(k));
				struct dest *d = sched_mh.schedule(&big.svc, &p, 0);
				after[k] = d ? d->name[0] : '-';
				own += before[k] == 'A' + (int)victim;
				moved += after[k] != before[k];
				lost += after[k] == '-' || after[k] == 'A' + (int)victim;
			}
			CHECK(lost == 0 && moved >= own && moved * 10 * n <= NKEYS * 12,
			    "mh: N=%u, %c removed: %u keys moved (its own %u; at most 1.2/N = %u)", n,
			    'A' + victim, moved, own, NKEYS * 12 / (10 * n));
			/* Back, at the tail of the list this time. */
			TAILQ_INSERT_TAIL(&big.svc.dests, &big.d[victim], entry);
			big.svc.ndests++;
			sched_mh.add_dest(&big.svc, &big.d[victim]);
			for (uint32_t k = 0; k < NKEYS; k++) {
				p.saddr = addr_from_ip(key(k));
				struct dest *d = sched_mh.schedule(&big.svc, &p, 0);
				after[k] = d ? d->name[0] : '-';
			}
			CHECK(map_diff(before, after) == 0, "mh: N=%u, %c added back (at the tail): "
			    "the mapping is restored exactly (%u differ)", n, 'A' + victim,
			    map_diff(before, after));
		}
		sched_mh.done_service(&big.svc);
	}

	/* A weight change moves keys towards the heavier dest only. */
	static const int w3[] = { 1, 1, 1 };
	fx_init(&f, "mh", w3, NULL, 3);
	map_keys(&f, 0, before);
	fx_set_weight(&f, 0, 2);
	map_keys(&f, 0, after);
	unsigned to_a = 0, elsewhere = 0;
	for (uint32_t k = 0; k < NKEYS; k++) {
		if (after[k] == before[k])
			continue;
		if (after[k] == 'A')
			to_a++;
		else
			elsewhere++;
	}
	CHECK(to_a > NKEYS / 8 && elsewhere < NKEYS / 50,
	    "mh: A's weight 1 -> 2 of 1:1:1: %u keys move to A, %u elsewhere", to_a, elsewhere);
	fx_done(&f);

	/* A dest added with weight 0 holds no slot: no key gets NULL. */
	static const int w031[] = { 0, 3, 1 };
	fx_init(&f, "mh", w031, NULL, 3);
	map_keys(&f, 0, after);
	CHECK(memchr(after, '-', NKEYS) == NULL && memchr(after, 'A', NKEYS) == NULL,
	    "mh: a dest added with weight 0 has no slot, no key gets NULL");
	fx_done(&f);

	free(before);
	free(after);
}

/* ---- lblc, lblcr ---- */

#define DAY   (24u * 60 * 60 * CONN_HZ)
#define X_ADDR 0xc6336401u   /* 198.51.100.1 */
#define Y_ADDR 0xc6336402u

static char
pickd(struct fixture *f, uint32_t daddr, uint32_t now)
{
	return pickp(f, 0x0a0a0a0au, 40000, daddr, now);
}

static void
set_act(struct fixture *f, uint32_t a, uint32_t b, uint32_t c)
{
	f->d[0].activeconns = a;
	f->d[1].activeconns = b;
	f->d[2].activeconns = c;
}

static void
test_lblc(void)
{
	static const int w10[] = { 10, 10, 10 };
	static const char *const names[] = { "lblc", "lblcr" };
	struct fixture f;
	char g;

	UNIT_SECTION("lblc, lblcr");
	for (size_t s = 0; s < ARRAY_SIZE(names); s++) {
		const char *nm = names[s];
		uint32_t t = 1000;

		fx_init(&f, nm, w10, NULL, 3);
		CHECK(pickd(&f, X_ADDR, t) == 'A', "%s: X first: the least loaded (A, first of equals)",
		    nm);
		set_act(&f, 5, 0, 0);
		CHECK(pickd(&f, X_ADDR, t + 1) == 'A', "%s: X sticks to A though B and C are idle", nm);
		CHECK(pickd(&f, Y_ADDR, t + 1) == 'B', "%s: Y, new: the least loaded (B)", nm);
		set_act(&f, 5, 8, 0);
		CHECK(pickd(&f, Y_ADDR, t + 2) == 'B', "%s: Y sticks to B", nm);
		/* A above its weight, but nobody under half (C at 5 of 10 is not < half). */
		set_act(&f, 11, 8, 5);
		g = pickd(&f, X_ADDR, t + 3);
		CHECK(g == 'A', "%s: A at 11 > 10 but nobody under half: X stays (got %c)", nm, g);
		/* C at 4: 4 * 2 < 10: A is overloaded in lblc's sense. */
		set_act(&f, 11, 8, 4);
		g = pickd(&f, X_ADDR, t + 4);
		CHECK(g == 'C', "%s: A at 11 > 10 and C at 4 < half: X moves to the least (got %c)",
		    nm, g);
		/* C now carries X. lblc: C alone. lblcr: {A, C}, the least loaded of them. */
		set_act(&f, 9, 0, 6);
		g = pickd(&f, X_ADDR, t + 5);
		CHECK(g == 'C', "%s: X now on C (got %c)", nm, g);
		set_act(&f, 1, 0, 6);
		g = pickd(&f, X_ADDR, t + 6);
		if (s == 0)
			CHECK(g == 'C', "lblc: X stays on C when A gets light again (got %c)", g);
		else
			CHECK(g == 'A', "lblcr: X's set is {A, C}: A, the lighter, again (got %c)", g);
		/* An overloaded (threshold) cached dest is not used. */
		f.d[s == 0 ? 2 : 0].flags = OVL;
		set_act(&f, 1, 3, 2);
		g = pickd(&f, X_ADDR, t + 7);
		CHECK(g == (s == 0 ? 'A' : 'C'), "%s: the cached dest overloaded: another (got %c)", nm,
		    g);
		f.d[0].flags = f.d[2].flags = 0;
		fx_done(&f);

		/* Expiry: an entry unused for 24 h is forgotten; used, it lives on. */
		fx_init(&f, nm, w10, NULL, 3);
		t = 0xfffff000u;                        /* across the tick counter's wrap */
		pickd(&f, X_ADDR, t);                   /* A */
		set_act(&f, 3, 0, 0);
		g = pickd(&f, X_ADDR, t + DAY - 1);
		CHECK(g == 'A', "%s: used again after 24 h - 0.1 s: still A (got %c)", nm, g);
		g = pickd(&f, X_ADDR, t + 2 * DAY - 2);
		CHECK(g == 'A', "%s: and again 24 h - 0.1 s later: still A (got %c)", nm, g);
		g = pickd(&f, X_ADDR, t + 3 * DAY - 2);
		CHECK(g == 'B', "%s: unused for 24 h: expired, the least loaded (B) (got %c)", nm, g);
		fx_done(&f);

		/* A dest removed: its addresses go elsewhere; no dangling pointer. */
		fx_init(&f, nm, w10, NULL, 3);
		pickd(&f, X_ADDR, 5);
		set_act(&f, 0, 2, 1);
		fx_del(&f, 0);
		g = pickd(&f, X_ADDR, 6);
		CHECK(g == 'C', "%s: X's dest removed: the least of the others (got %c)", nm, g);
		fx_del(&f, 1);
		fx_del(&f, 2);
		g = pickd(&f, X_ADDR, 7);
		CHECK(g == '-', "%s: no dest left: NULL (got %c)", nm, g);
		fx_done(&f);

		/* The table is bounded: a flood of addresses, then the last ones still stick. */
		fx_init(&f, nm, w10, NULL, 3);
		unsigned bad = 0;
		for (uint32_t k = 0; k < NKEYS; k++)
			bad += pickd(&f, key(k), 10) == '-';
		set_act(&f, 0, 0, 0);
		char last[8];
		for (uint32_t k = 0; k < 8; k++)
			last[k] = pickd(&f, key(NKEYS - 1 - k), 11);
		set_act(&f, 7, 7, 7);
		f.d[0].activeconns = 0;                 /* wlc would now pick A */
		unsigned kept = 0;
		for (uint32_t k = 0; k < 8; k++)
			kept += pickd(&f, key(NKEYS - 1 - k), 12) == last[k];
		CHECK(bad == 0 && kept == 8, "%s: %u addresses through a bounded table, the recent "
		    "ones still stick (%u of 8)", nm, NKEYS, kept);
		fx_done(&f);
	}

	/* lblcr: a set unchanged for 24 h sheds its most loaded member. */
	fx_init(&f, "lblcr", w10, NULL, 3);
	uint32_t t = 100;
	pickd(&f, X_ADDR, t);                           /* {A} */
	set_act(&f, 11, 8, 4);
	g = pickd(&f, X_ADDR, t + 1);                   /* {A, C}, lastmod t + 1 */
	CHECK(g == 'C', "lblcr: overload adds C to X's set (got %c)", g);
	set_act(&f, 0, 8, 4);
	g = pickd(&f, X_ADDR, t + 1 + DAY / 2);         /* keeps the entry alive */
	CHECK(g == 'A', "lblcr: 12 h later the set is still {A, C}: A (got %c)", g);
	g = pickd(&f, X_ADDR, t + 1 + DAY);
	CHECK(g == 'A', "lblcr: 24 h after the change, not yet more than 24 h: A (got %c)", g);
	set_act(&f, 3, 8, 0);
	g = pickd(&f, X_ADDR, t + 2 + DAY);             /* > 24 h: drop the most loaded: A (3/10) */
	CHECK(g == 'C', "lblcr: the set's least (C) is used while A is shed (got %c)", g);
	set_act(&f, 3, 8, 9);
	g = pickd(&f, X_ADDR, t + 3 + DAY);
	CHECK(g == 'C', "lblcr: A was shed: X's set is {C} alone (got %c)", g);
	fx_done(&f);
}

/* ---- twos ---- */

static void
test_twos(void)
{
	static const int w[] = { 1, 2, 0, 5 };
	static const int share[] = { 1, 2, 0, 5 };
	static const int w11[] = { 1, 1 };
	static const unsigned ovl[] = { OVL, 0, 0, 0 };
	char *map = malloc(NKEYS), why[256];
	struct fixture f;

	UNIT_SECTION("twos");
	fx_init(&f, "twos", w, NULL, 4);
	for (uint32_t i = 0; i < NKEYS; i++)
		map[i] = pick(&f);
	CHECK(memchr(map, 'C', NKEYS) == NULL, "twos: weight 0 never picked");
	CHECK(spread_ok(map, 4, share, why, sizeof(why)),
	    "twos: equal overheads: picks follow the weights 1:2:0:5 (%s)", why);
	fx_done(&f);

	/* B idle, A loaded: B wins whenever either draw is B: 3/4 of the time. */
	fx_init(&f, "twos", w11, NULL, 2);
	f.d[0].activeconns = 10;
	unsigned nb = 0;
	for (uint32_t i = 0; i < NKEYS; i++)
		nb += pick(&f) == 'B';
	CHECK(nb > NKEYS * 72 / 100 && nb < NKEYS * 78 / 100,
	    "twos: the less loaded of two draws: B in %u of %u (3/4 expected)", nb, NKEYS);
	/* Weighted overhead: A 10 active on weight 1 vs B 15 on weight 2 -> B lighter. */
	fx_set_weight(&f, 1, 2);
	f.d[1].activeconns = 15;
	nb = 0;
	for (uint32_t i = 0; i < NKEYS; i++)
		nb += pick(&f) == 'B';
	/* B drawn with 2/3 each time: B unless both draws are A: 1 - 1/9. */
	CHECK(nb > NKEYS * 86 / 100 && nb < NKEYS * 91 / 100,
	    "twos: overhead / weight decides (15/2 < 10/1): B in %u of %u (8/9 expected)", nb,
	    NKEYS);
	fx_done(&f);

	fx_init(&f, "twos", w, ovl, 4);
	unsigned bad = 0;
	for (uint32_t i = 0; i < 10000; i++) {
		char c = pick(&f);
		bad += c != 'B' && c != 'D';
	}
	CHECK(bad == 0, "twos: overloaded and weight-0 dests never picked (%u bad)", bad);
	fx_done(&f);
	static const int w00[] = { 0, 0 };
	fx_init(&f, "twos", w00, NULL, 2);
	CHECK(pick(&f) == '-', "twos: nothing available: NULL");
	fx_done(&f);
	free(map);
}

/* ---- every scheduler: only available dests, NULL only when allowed ---- */

static void
test_all_random(void)
{
	static const struct {
		const char *name;
		unsigned    flags;
		int         may_null;   /* a key's own dest unavailable: NULL (no fallback) */
	} all[] = {
		{ "rr", 0, 0 }, { "wrr", 0, 0 }, { "lc", 0, 0 }, { "wlc", 0, 0 }, { "sed", 0, 0 },
		{ "nq", 0, 0 }, { "dh", 0, 1 }, { "sh", 0, 1 },
		{ "sh", SVC_F_SH_FALLBACK | SVC_F_SH_PORT, 0 }, { "lblc", 0, 0 }, { "lblcr", 0, 0 },
		{ "mh", 0, 1 }, { "mh", SVC_F_MH_FALLBACK | SVC_F_MH_PORT, 0 }, { "fo", 0, 0 },
		{ "ovf", 0, 0 }, { "twos", 0, 0 },
	};
	struct fixture f;

	UNIT_SECTION("every scheduler under random weights, overloads and changes");
	srand(4242);
	for (size_t s = 0; s < ARRAY_SIZE(all); s++) {
		unsigned fails = 0;
		for (int round = 0; round < 300; round++) {
			int w[MAXD];
			unsigned fl[MAXD], n = (unsigned)rand() % (MAXD + 1), avail = 0;
			for (unsigned i = 0; i < n; i++) {
				w[i] = rand() % 3 == 0 ? 0 : 1 + rand() % 20;
				fl[i] = rand() % 4 == 0 ? OVL : 0;
			}
			if (fx_init_svc(&f, all[s].name, w, fl, n, all[s].flags, 251) < 0) {
				fails++;
				continue;
			}
			for (int step = 0; step < 40; step++) {
				unsigned j = n ? (unsigned)rand() % n : 0;
				if (n && rand() % 8 == 0)
					fx_set_weight(&f, j, rand() % 3 == 0 ? 0 : 1 + rand() % 20);
				if (n && rand() % 8 == 0)
					f.d[j].flags ^= OVL;
				if (n && rand() % 4 == 0)
					f.d[j].activeconns = (uint32_t)rand() % 30;
				avail = 0;
				for (unsigned i = 0; i < n; i++)
					avail += dest_available(&f.d[i]);
				char c = pickp(&f, (uint32_t)rand(), (uint16_t)rand(), (uint32_t)rand(),
				    (uint32_t)step * 100);
				if (c == '!' || (avail == 0 && c != '-') ||
				    (avail && c == '-' && !all[s].may_null &&
				    strcmp(all[s].name, "ovf") != 0))
					fails++;
			}
			/* Take the dests away one by one, as a reload would. */
			while (n > 0) {
				fx_del(&f, --n);
				if (pickp(&f, (uint32_t)rand(), 1, (uint32_t)rand(), 0) == '!')
					fails++;
			}
			fx_done(&f);
		}
		CHECK(fails == 0, "%s%s: 300 random sets: only available dests, NULL only when "
		    "allowed (%u bad)", all[s].name, all[s].flags ? " with flags" : "", fails);
	}
}

/* ---- registry ---- */

static void
test_registry(void)
{
	static const char *const ipvs[] = {
		"rr", "wrr", "lc", "wlc", "sed", "nq", "dh", "sh", "lblc", "lblcr", "mh", "fo",
		"ovf", "twos",
	};
	static const struct {
		const char *what;
		const char *name;
		const struct sched_ops *want;
	} lookups[] = {
		{ "rr is registered",      "rr",  &sched_rr },
		{ "wrr is registered",     "wrr", &sched_wrr },
		{ "wlc is registered",     "wlc", &sched_wlc },
		{ "lc is registered",      "lc",  &sched_lc },
		{ "sed is registered",     "sed", &sched_sed },
		{ "nq is registered",      "nq",  &sched_nq },
		{ "dh is registered",      "dh",  &sched_dh },
		{ "sh is registered",      "sh",  &sched_sh },
		{ "lblc is registered",    "lblc", &sched_lblc },
		{ "lblcr is registered",   "lblcr", &sched_lblcr },
		{ "mh is registered",      "mh",  &sched_mh },
		{ "fo is registered",      "fo",  &sched_fo },
		{ "ovf is registered",     "ovf", &sched_ovf },
		{ "twos is registered",    "twos", &sched_twos },
		{ "no prefix match (lblcr vs lblc)", "lbl", NULL },
		{ "unknown name",          "foo", NULL },
		{ "empty name",            "",    NULL },
		{ "names are exact (RR)",  "RR",  NULL },
		{ "no prefix match (w)",   "w",   NULL },
	};

	UNIT_SECTION("registry");
	for (size_t i = 0; i < ARRAY_SIZE(lookups); i++)
		CHECK(sched_lookup(lookups[i].name) == lookups[i].want, "sched_lookup: %s",
		    lookups[i].what);
	CHECK(strcmp(sched_rr.name, "rr") == 0 && strcmp(sched_wrr.name, "wrr") == 0 &&
	    strcmp(sched_wlc.name, "wlc") == 0, "ops carry their names");
	CHECK(sched_rr.schedule && sched_wrr.schedule && sched_wlc.schedule,
	    "every registered scheduler has .schedule");
	for (size_t i = 0; i < ARRAY_SIZE(ipvs); i++) {
		const struct sched_ops *o = sched_lookup(ipvs[i]);
		CHECK(o && strcmp(o->name, ipvs[i]) == 0 && o->schedule,
		    "sched_lookup(\"%s\") finds it, by its name, with .schedule", ipvs[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ipvs); i++)
		CHECK(sched_is_ipvs_name(ipvs[i]), "sched_is_ipvs_name(\"%s\")", ipvs[i]);
	CHECK(!sched_is_ipvs_name("foo"), "sched_is_ipvs_name(\"foo\") is false");
	CHECK(!sched_is_ipvs_name(""), "sched_is_ipvs_name(\"\") is false");
	CHECK(!sched_is_ipvs_name("WLC"), "sched_is_ipvs_name(\"WLC\") is false (exact)");
	CHECK(!sched_is_ipvs_name("lblcrx"), "sched_is_ipvs_name(\"lblcrx\") is false");
}

int
main(void)
{
	test_registry();
	test_sequences();
	test_rr_changes();
	test_wrr_changes();
	test_wlc();
	test_random();
	test_load();
	test_hash_spread();
	test_hash_ipv6();
	test_hash_port();
	test_hash_fallback();
	test_mh_disruption();
	test_lblc();
	test_twos();
	test_all_random();
	return unit_done();
}
