/* test_sched.c - the schedulers (rr, wrr, wlc) and their registry, on services built by hand */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

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

static int
fx_init(struct fixture *f, const char *sched, const int *weights, const unsigned *flags,
    unsigned n)
{
	memset(f, 0, sizeof(*f));
	TAILQ_INIT(&f->svc.dests);
	strcpy(f->svc.name, "svc");
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
		f->d[i].addr = 0x0a000001u + i;
		fx_link(f, i);
	}
	return 0;
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
		{ "lc is not (yet)",       "lc",  NULL },
		{ "sh is not (yet)",       "sh",  NULL },
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
	return unit_done();
}
