/* test_ctlproto.c - the control vocabulary: value syntax, addresses, -b flags, the names tables */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"
#include "unit.h"

static void
test_value_ok(void)
{
	static const struct {
		const char *what;
		const char *v;
		bool        ok;
	} cases[] = {
		{ "a word",                         "rr",              true },
		{ "an address",                     "10.0.0.1:80",     true },
		{ "8-bit bytes pass",               "r\xc3\xa9",       true },
		{ "empty",                          "",                false },
		{ "a space",                        "rr clear",        false },
		{ "a newline: a second request",    "1\nclear",        false },
		{ "a carriage return",              "1\r",             false },
		{ "a tab",                          "r\tr",            false },
		{ "another control character",      "r\x01r",          false },
		{ "DEL",                            "r\x7fr",          false },
	};

	UNIT_SECTION("ctl_value_ok");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(ctl_value_ok(cases[i].v) == cases[i].ok, "%s", cases[i].what);
	CHECK(!ctl_value_ok(NULL), "NULL");
}

static void
test_addr(void)
{
	static const struct {
		const char *what;
		const char *in;
		int         rc;
		int         af;
		unsigned    port;
		const char *out;            /* formatted back */
	} cases[] = {
		{ "IPv4",                   "10.0.0.1:80",          0, AF_INET,  80,    "10.0.0.1:80" },
		{ "port 0",                 "10.0.0.1:0",           0, AF_INET,  0,     "10.0.0.1:0" },
		{ "port 65535",             "10.0.0.1:65535",       0, AF_INET,  65535, "10.0.0.1:65535" },
		{ "IPv6 in brackets",       "[2001:db8::1]:443",    0, AF_INET6, 443,   "[2001:db8::1]:443" },
		{ "IPv6 written long",      "[2001:db8:0::1]:1",    0, AF_INET6, 1,     "[2001:db8::1]:1" },
		{ "v4-mapped stays IPv6",   "[::ffff:10.0.0.1]:80", 0, AF_INET6, 80,    "[::ffff:10.0.0.1]:80" },
		{ "no port",                "10.0.0.1",            -1, 0, 0, NULL },
		{ "port too big",           "10.0.0.1:65536",      -1, 0, 0, NULL },
		{ "port not a number",      "10.0.0.1:http",       -1, 0, 0, NULL },
		{ "port signed",            "10.0.0.1:+80",        -1, 0, 0, NULL },
		{ "empty port",             "10.0.0.1:",           -1, 0, 0, NULL },
		{ "inet_aton's short form", "10.1:80",             -1, 0, 0, NULL },
		{ "a name",                 "localhost:80",        -1, 0, 0, NULL },
		{ "IPv6 without brackets",  "2001:db8::1:80",      -1, 0, 0, NULL },
		{ "IPv6 bracket unclosed",  "[2001:db8::1:80",     -1, 0, 0, NULL },
		{ "IPv6 without port",      "[2001:db8::1]",       -1, 0, 0, NULL },
		{ "IPv4 in brackets",       "[10.0.0.1]:80",       -1, 0, 0, NULL },
		{ "too long",               "[1111:2222:3333:4444:5555:6666:7777:8888]:65535000000", -1, 0, 0, NULL },
	};

	UNIT_SECTION("ctl_addr_parse, ctl_addr_format");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_addr a;
		char buf[CTL_ADDR_STRLEN];
		int rc = ctl_addr_parse(cases[i].in, &a);

		if (!CHECK_EQ(rc, cases[i].rc, "%s: '%s' %s", cases[i].what, cases[i].in,
		    cases[i].rc ? "refused" : "read") || rc < 0)
			continue;
		CHECK(a.af == cases[i].af && a.port == cases[i].port, "%s: family and port",
		    cases[i].what);
		CHECK(strcmp(ctl_addr_format(&a, buf, sizeof(buf)), cases[i].out) == 0,
		    "%s: formatted back as '%s' (%s)", cases[i].what, cases[i].out, buf);
	}
}

static void
test_sched_flags(void)
{
	static const struct {
		const char *what;
		const char *sched;
		const char *list;
		int         rc;
		unsigned    bits;
		const char *bad;            /* the name refused */
		const char *listed;         /* formatted back for SCHED */
	} cases[] = {
		{ "sh's names",             "sh",  "sh-port,sh-fallback", 0, CTL_SF_1 | CTL_SF_2, NULL,
		    "sh-fallback,sh-port" },
		{ "mh's names",             "mh",  "mh-fallback",         0, CTL_SF_1, NULL, "mh-fallback" },
		{ "flag-N on any",          "wlc", "flag-2,flag-3",       0, CTL_SF_2 | CTL_SF_3, NULL,
		    "flag-2,flag-3" },
		{ "flag-1 is sh-fallback",  "sh",  "flag-1",              0, CTL_SF_1, NULL, "sh-fallback" },
		{ "flag-3 has no sh name",  "sh",  "flag-1,flag-3",       0, CTL_SF_1 | CTL_SF_3, NULL,
		    "sh-fallback" },
		{ "empty pieces skipped",   "rr",  "flag-1,,flag-1",      0, CTL_SF_1, NULL, "flag-1" },
		{ "sh's name on wlc",       "wlc", "sh-port",            -2, 0, "sh-port", NULL },
		{ "mh's name on sh",        "sh",  "mh-port",            -2, 0, "mh-port", NULL },
		{ "unknown",                "rr",  "flag-1,foo",         -1, 0, "foo", NULL },
		{ "flag-4",                 "rr",  "flag-4",             -1, 0, "flag-4", NULL },
		{ "only commas",            "rr",  ",,",                 -1, 0, ",,", NULL },
	};

	UNIT_SECTION("ctl_sched_flags_parse, ctl_sched_flags_format");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char list[64], out[64];
		const char *bad = NULL;
		unsigned bits;
		int rc;

		snprintf(list, sizeof(list), "%s", cases[i].list);
		rc = ctl_sched_flags_parse(cases[i].sched, list, &bits, &bad);
		if (!CHECK_EQ(rc, cases[i].rc, "%s: %s for %s", cases[i].what, cases[i].list,
		    cases[i].sched))
			continue;
		if (rc < 0) {
			CHECK(bad && strcmp(bad, cases[i].bad) == 0, "%s: names '%s'", cases[i].what,
			    cases[i].bad);
			continue;
		}
		CHECK_EQ(bits, cases[i].bits, "%s: bits", cases[i].what);
		ctl_sched_flags_format(cases[i].sched, bits, out, sizeof(out));
		CHECK(strcmp(out, cases[i].listed) == 0, "%s: listed as '%s' (%s)", cases[i].what,
		    cases[i].listed, out);
	}
}

static void
test_names(void)
{
	UNIT_SECTION("the names tables");
	for (int i = 0; i < CTL_REQ_MAX; i++)
		CHECK(ctl_req_names[i] && ctl_lookup(ctl_req_names, CTL_REQ_MAX, ctl_req_names[i]) == i,
		    "request %d has a name of its own (%s)", i, ctl_req_names[i]);
	for (int i = 0; i < CTL_OPT_MAX; i++)
		CHECK(ctl_opt_names[i] && ctl_value_ok(ctl_opt_names[i]) && !strchr(ctl_opt_names[i], '=') &&
		    ctl_lookup(ctl_opt_names, CTL_OPT_MAX, ctl_opt_names[i]) == i,
		    "option %d has a name of its own (%s)", i, ctl_opt_names[i]);
	CHECK(CTL_OPT_MAX <= 32, "the options fit the handlers' bit masks (%d)", CTL_OPT_MAX);
	CHECK_EQ(ctl_lookup(ctl_req_names, CTL_REQ_MAX, "nosuch"), -1, "an unknown request is -1");
	for (int i = 0; i < VSR_C_MAX; i++)
		CHECK(vsr_counter_names[i].dump && vsr_counter_names[i].metric &&
		    vsr_counter_names[i].help &&
		    (strcmp(vsr_counter_names[i].type, "counter") == 0 ||
		     strcmp(vsr_counter_names[i].type, "gauge") == 0) &&
		    vsr_counter_names[i].svc == (i < VSR_C_NSVC),
		    "counter %d (%s): named, typed, a service's exactly when among the first %d", i,
		    vsr_counter_names[i].dump, VSR_C_NSVC);
	CHECK_EQ(CTL_SVC_NFIELDS, CTL_SVC_COUNTERS + VSR_C_NSVC, "an svc line: its fields and the "
	    "service's counters");
	CHECK_EQ(CTL_DEST_NFIELDS, CTL_DEST_COUNTERS + VSR_C_MAX, "a dest line: its fields and every "
	    "counter");
}

int
main(void)
{
	test_value_ok();
	test_addr();
	test_sched_flags();
	test_names();
	return unit_done();
}
