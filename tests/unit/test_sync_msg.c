/* test_sync_msg.c - IPVS sync v1 messages: the kernel's bytes, round trips, every refusal */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sync_msg.h"
#include "unit.h"

static uint8_t buf[SYNC_MSG_MAX];

static void
v4(uint8_t a[16], const char *s)
{
	memset(a, 0, 16);
	inet_pton(AF_INET, s, a);
}

static void
v6(uint8_t a[16], const char *s)
{
	inet_pton(AF_INET6, s, a);
}

/* A TCP flow 10.10.0.1:40000 -> 10.10.0.100:80 -> 10.20.0.11:8080, ESTABLISHED, dr. */
static struct sync_entry
flow4(void)
{
	struct sync_entry e = {
		.af = AF_INET, .proto = IPPROTO_TCP, .state = 1,
		.flags = SYNC_F_DROUTE | SYNC_F_NOOUTPUT,
		.cport = htons(40000), .vport = htons(80), .dport = htons(8080),
		.timeout = 900,
	};

	v4(e.caddr, "10.10.0.1");
	v4(e.vaddr, "10.10.0.100");
	v4(e.daddr, "10.20.0.11");
	return e;
}

static struct sync_entry
flow6(void)
{
	struct sync_entry e = {
		.af = AF_INET6, .proto = IPPROTO_UDP, .state = 0,
		.flags = SYNC_F_MASQ | SYNC_F_INACTIVE,
		.cport = htons(5353), .vport = htons(53), .dport = htons(53),
		.fwmark = 7, .timeout = 300,
	};

	v6(e.caddr, "2001:db8::1");
	v6(e.vaddr, "2001:db8::100");
	v6(e.daddr, "2001:db8:1::11");
	return e;
}

/*
 * The bytes the kernel's ip_vs_sync_conn() writes for flow4(), laid out by
 * hand from struct ip_vs_sync_mesg and struct ip_vs_sync_v4.
 */
static const uint8_t kernel_v4[] = {
	0x00, 0x07, 0x00, 0x2c,          /* reserved, syncid 7, size 44 */
	0x01, 0x01, 0x00, 0x00,          /* 1 entry, version 1, spare */
	0x00, 0x06, 0x00, 0x24,          /* type IPv4, TCP, version 0 size 36 */
	0x00, 0x00, 0x00, 0x83,          /* flags DROUTE | NOOUTPUT */
	0x00, 0x01, 0x9c, 0x40,          /* state ESTABLISHED, cport 40000 */
	0x00, 0x50, 0x1f, 0x90,          /* vport 80, dport 8080 */
	0x00, 0x00, 0x00, 0x00,          /* fwmark */
	0x00, 0x00, 0x03, 0x84,          /* timeout 900 */
	10, 10, 0, 1,                    /* caddr */
	10, 10, 0, 100,                  /* vaddr */
	10, 20, 0, 11,                   /* daddr */
};

static void
test_kernel_bytes(void)
{
	struct sync_writer w;
	struct sync_entry e = flow4(), e6 = flow6();
	static const uint8_t v6_head[] = {
		0x02, 0x11, 0x00, 0x48,      /* type IPv6, UDP, size 72 */
		0x00, 0x00, 0x01, 0x00,      /* flags MASQ | INACTIVE */
		0x00, 0x00, 0x14, 0xe9,      /* state 0, cport 5353 */
		0x00, 0x35, 0x00, 0x35,      /* vport, dport 53 */
		0x00, 0x00, 0x00, 0x07,      /* fwmark 7 */
		0x00, 0x00, 0x01, 0x2c,      /* timeout 300 */
		0x20, 0x01, 0x0d, 0xb8,      /* caddr 2001:db8::1 ... */
	};

	UNIT_SECTION("encoding: the kernel's bytes");
	sync_msg_begin(&w, buf, sizeof(buf), 1472, 7);
	CHECK_EQ(sync_msg_len(&w), 8, "an empty message is its 8-byte header");
	CHECK_EQ(sync_msg_add(&w, &e), 0, "an IPv4 entry fits");
	CHECK_EQ(sync_msg_len(&w), sizeof(kernel_v4), "header and a 36-byte entry");
	CHECK(memcmp(buf, kernel_v4, sizeof(kernel_v4)) == 0,
	    "byte for byte what ip_vs_sync_conn() writes (struct ip_vs_sync_v4)");

	e.flags |= SYNC_F_HASHED;
	sync_msg_begin(&w, buf, sizeof(buf), 1472, 7);
	sync_msg_add(&w, &e);
	CHECK(memcmp(buf, kernel_v4, sizeof(kernel_v4)) == 0, "IP_VS_CONN_F_HASHED is never sent");

	sync_msg_begin(&w, buf, sizeof(buf), 1472, 0);
	CHECK_EQ(sync_msg_add(&w, &e6), 0, "an IPv6 entry fits");
	CHECK_EQ(sync_msg_len(&w), 8 + 72, "header and a 72-byte entry (struct ip_vs_sync_v6)");
	CHECK(memcmp(buf + 8, v6_head, sizeof(v6_head)) == 0, "the IPv6 entry's fields");
	CHECK(memcmp(buf + 8 + 24 + 16, e6.vaddr, 16) == 0 &&
	    memcmp(buf + 8 + 24 + 32, e6.daddr, 16) == 0, "vaddr and daddr follow caddr, 16 bytes each");
}

static void
test_options(void)
{
	struct sync_writer w;
	struct sync_entry e = flow4(), f = flow4(), d;
	struct sync_seq in = { 1000, 40, 0 }, out = { 0x80000000u, 0xffffffd8u, 3 };
	struct sync_reader r;
	bool done;

	UNIT_SECTION("options: sequence, fullnat, padding");
	sync_entry_set_seq(&e, &in, NULL);
	CHECK(e.has_seq && (e.flags & SYNC_F_SEQ_MASK) == SYNC_F_IN_SEQ,
	    "sync_entry_set_seq: the option and IP_VS_CONN_F_IN_SEQ");
	sync_entry_set_seq(&e, &in, &out);
	CHECK_EQ(e.flags & SYNC_F_SEQ_MASK, SYNC_F_SEQ_MASK, "both directions: IN_SEQ | OUT_SEQ");
	CHECK_EQ(sync_entry_len(&e), 36 + 2 + 24, "the sequence option: type, length, 24 bytes");
	v4(f.laddr, "10.20.0.250");
	f.lport = htons(1025);
	f.has_fullnat = true;
	f.flags = SYNC_F_MASQ;
	CHECK_EQ(sync_entry_len(&f), 36 + 2 + 6, "fullnat's option: lport and laddr");

	sync_msg_begin(&w, buf, sizeof(buf), 1472, 1);
	sync_msg_add(&w, &e);
	sync_msg_add(&w, &f);
	CHECK_EQ(sync_msg_len(&w), 8 + 62 + 2 + 44, "the second entry is padded to 4 bytes");
	CHECK(buf[8 + 36] == SYNC_OPT_SEQ && buf[8 + 37] == 24, "the option follows daddr");
	CHECK(buf[8 + 38 + 3] == 0xe8 && buf[8 + 38 + 7] == 40, "in_seq: init_seq, delta, big-endian");
	CHECK(buf[8 + 62] == 0 && buf[8 + 63] == 0, "the padding is zeroes");
	CHECK(buf[8 + 64 + 36] == SYNC_OPT_FULLNAT && (buf[8 + 64 + 36] & SYNC_OPT_F_PARAM),
	    "fullnat's option type is an optional one (IPVS_OPT_F_PARAM)");
	CHECK((SYNC_OPT_FULLNAT & ~SYNC_OPT_F_PARAM) > SYNC_OPT_PE_NAME,
	    "and not one of the kernel's own types once the optional bit is off");

	CHECK_EQ(sync_msg_open(&r, buf, sync_msg_len(&w), 1), SYNC_E_OK, "the message opens");
	CHECK_EQ(sync_msg_next(&r, &d, &done), SYNC_E_OK, "entry 1 reads");
	CHECK(d.has_seq && d.in_seq.init_seq == 1000 && d.in_seq.delta == 40 &&
	    d.out_seq.init_seq == 0x80000000u && d.out_seq.delta == 0xffffffd8u &&
	    d.out_seq.previous_delta == 3, "the sequence adjustments come back");
	CHECK_EQ(sync_msg_next(&r, &d, &done), SYNC_E_OK, "entry 2 reads");
	CHECK(d.has_fullnat && d.lport == htons(1025) && memcmp(d.laddr, f.laddr, 16) == 0,
	    "the local address and port come back");
	CHECK(sync_msg_next(&r, &d, &done) == SYNC_E_OK && done, "and the message ends there");

	f = flow6();
	v6(f.laddr, "2001:db8:1::250");
	f.lport = htons(2000);
	f.has_fullnat = true;
	CHECK_EQ(sync_entry_len(&f), 72 + 2 + 18, "IPv6 fullnat's option: 18 bytes of data");
	sync_msg_begin(&w, buf, sizeof(buf), 1472, 1);
	sync_msg_add(&w, &f);
	sync_msg_open(&r, buf, sync_msg_len(&w), 0);
	CHECK(sync_msg_next(&r, &d, &done) == SYNC_E_OK && d.has_fullnat &&
	    memcmp(d.laddr, f.laddr, 16) == 0 && d.lport == f.lport, "IPv6 fullnat round trip");
}

static void
test_roundtrip(void)
{
	static struct sync_entry in[SYNC_CONNS_MAX], out[SYNC_CONNS_MAX];
	static enum sync_err errs[SYNC_CONNS_MAX];
	struct sync_writer w;
	unsigned n = 0, got, same = 0;

	UNIT_SECTION("round trips and limits");
	sync_msg_begin(&w, buf, sizeof(buf), SYNC_MSG_MAX, 9);
	for (unsigned i = 0; i < SYNC_CONNS_MAX + 10; i++) {
		struct sync_entry e = i % 3 ? flow4() : flow6();

		e.cport = htons((uint16_t)(1024 + i));
		e.state = e.proto == IPPROTO_TCP ? (uint16_t)(i % SYNC_TCP_STATES) : 0;
		e.timeout = i;
		if (i % 5 == 0)
			e.flags |= SYNC_F_TEMPLATE, e.state = (uint16_t)(i % 2);
		if (i % 7 == 0) {
			struct sync_seq s = { i, i * 2, i * 3 };
			sync_entry_set_seq(&e, &s, &s);
		}
		if (i % 4 == 0) {
			e.has_fullnat = true;
			e.lport = htons((uint16_t)i);
			e.laddr[0] = (uint8_t)i;
		}
		if (sync_msg_add(&w, &e) < 0)
			break;
		in[n++] = e;
	}
	CHECK_EQ(n, SYNC_CONNS_MAX, "at most 255 entries, whatever room is left");
	CHECK_EQ(sync_msg_decode(buf, sync_msg_len(&w), 9, out, errs, &got), SYNC_E_OK,
	    "a full message decodes");
	CHECK_EQ(got, n, "every entry");
	for (unsigned i = 0; i < got && i < n; i++) {
		const struct sync_entry *a = &in[i], *b = &out[i];
		unsigned al = a->af == AF_INET6 ? 16 : 4;

		if (errs[i] == SYNC_E_OK && a->af == b->af && a->proto == b->proto &&
		    a->state == b->state && (a->flags & ~SYNC_F_HASHED) == b->flags &&
		    a->cport == b->cport && a->vport == b->vport && a->dport == b->dport &&
		    a->fwmark == b->fwmark && a->timeout == b->timeout &&
		    !memcmp(a->caddr, b->caddr, al) && !memcmp(a->vaddr, b->vaddr, al) &&
		    !memcmp(a->daddr, b->daddr, al) && a->has_seq == b->has_seq &&
		    (!a->has_seq || !memcmp(&a->in_seq, &b->in_seq, sizeof(a->in_seq))) &&
		    a->has_fullnat == b->has_fullnat &&
		    (!a->has_fullnat || (a->lport == b->lport && !memcmp(a->laddr, b->laddr, al))))
			same++;
		else
			printf("# entry %u differs (%s)\n", i, sync_err_name(errs[i]));
	}
	CHECK_EQ(same, n, "each comes back field for field");

	/* sync-maxlen: the default master's 1472 bytes hold 40 IPv4 entries. */
	sync_msg_begin(&w, buf, sizeof(buf), 1472, 1);
	n = 0;
	for (;;) {
		struct sync_entry e = flow4();
		if (sync_msg_add(&w, &e) < 0)
			break;
		n++;
	}
	CHECK_EQ(n, 40, "1472 bytes: 8 + 40 * 36");
	CHECK(sync_msg_len(&w) <= 1472, "never past sync-maxlen (%zu)", sync_msg_len(&w));

	sync_msg_begin(&w, buf, sizeof(buf), 20, 1);
	struct sync_entry e = flow6();
	CHECK_EQ(sync_msg_add(&w, &e), 0, "an entry larger than sync-maxlen goes alone");
	CHECK_EQ(sync_msg_add(&w, &e), -1, "but no second one");
	e.af = AF_UNIX;
	sync_msg_begin(&w, buf, sizeof(buf), 1472, 1);
	CHECK_EQ(sync_msg_add(&w, &e), -1, "an entry of another family is refused");
	CHECK_EQ(sync_msg_len(&w), 8, "and nothing written");
}

/* A message of ENTRY (its LEN bytes) alone, header made here: returns its length. */
static size_t
msg_of(const uint8_t *entry, size_t len, unsigned count)
{
	memset(buf, 0, SYNC_HDR_LEN);
	buf[1] = 1;
	buf[4] = (uint8_t)count;
	buf[5] = 1;
	memcpy(buf + SYNC_HDR_LEN, entry, len);
	len += SYNC_HDR_LEN;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	return len;
}

static void
test_refusals(void)
{
	static struct sync_entry out[SYNC_CONNS_MAX];
	static enum sync_err errs[SYNC_CONNS_MAX];
	uint8_t ent[256];
	unsigned got;
	size_t len;
	const uint8_t *k = kernel_v4 + SYNC_HDR_LEN;
	const size_t kl = sizeof(kernel_v4) - SYNC_HDR_LEN;

	/* Each case edits a copy of the kernel's IPv4 entry (36 bytes), or the header. */
	static const struct {
		const char   *what;
		int           at;            /* offset in the entry, -1: none; -2: header */
		uint8_t       val;
		int           extra;         /* option bytes appended (size field adjusted) */
		uint8_t       opt[32];
		unsigned      count;         /* header count; 0 means 1 */
		int           trail;         /* bytes after the entry */
		enum sync_err want;          /* the message's verdict */
		enum sync_err entry;         /* the entry's, when the message is OK */
	} cases[] = {
		{ "the kernel's entry",              -1, 0, 0, {0}, 1, 0, SYNC_E_OK, SYNC_E_OK },
		{ "count larger than the entries",   -1, 0, 0, {0}, 2, 0, SYNC_E_COUNT, 0 },
		{ "bytes after the last entry",      -1, 0, 0, {0}, 1, 8, SYNC_E_COUNT, 0 },
		{ "entry version 1",                 2, 0x10, 0, {0}, 1, 0, SYNC_E_ENTRY_VERSION, 0 },
		{ "entry size 35",                   3, 35, 0, {0}, 1, 0, SYNC_E_ENTRY_SIZE, 0 },
		{ "entry size past the message",     3, 40, 0, {0}, 1, 0, SYNC_E_ENTRY_SIZE, 0 },
		{ "type 1",                          0, 1, 0, {0}, 1, 0, SYNC_E_TYPE, 0 },
		{ "type 2 (IPv6) in 36 bytes",       0, 2, 0, {0}, 1, 0, SYNC_E_ENTRY_SIZE, 0 },
		{ "type 3",                          0, 3, 0, {0}, 1, 0, SYNC_E_TYPE, 0 },
		{ "SCTP",                            1, IPPROTO_SCTP, 0, {0}, 1, 0, SYNC_E_OK, SYNC_E_PROTO },
		{ "ICMP",                            1, IPPROTO_ICMP, 0, {0}, 1, 0, SYNC_E_OK, SYNC_E_PROTO },
		{ "TCP state 10 (SYNACK)",           9, 10, 0, {0}, 1, 0, SYNC_E_OK, SYNC_E_OK },
		{ "TCP state 11",                    9, 11, 0, {0}, 1, 0, SYNC_E_OK, SYNC_E_STATE },
		{ "TCP state 257",                   8, 1, 0, {0}, 1, 0, SYNC_E_OK, SYNC_E_STATE },
		{ "template state 2",                9, 2, 0, {0}, 1, 0, SYNC_E_OK, SYNC_E_STATE },
		{ "option length 0",                 -1, 0, 2, { 1, 0 }, 1, 0, SYNC_E_OPTION, 0 },
		{ "option type alone",               -1, 0, 1, { 0x41 }, 1, 0, SYNC_E_OPTION, 0 },
		{ "option past the entry",           -1, 0, 4, { 0x45, 8, 0, 0 }, 1, 0, SYNC_E_OPTION, 0 },
		{ "sequence option of 12 bytes",     -1, 0, 14, { 1, 12 }, 1, 0, SYNC_E_OPTION, 0 },
		{ "sequence option twice",           -1, 0, 52, { 1, 24, [26] = 1, [27] = 24 }, 1, 0, SYNC_E_OPTION, 0 },
		{ "fullnat option of 5 bytes",       -1, 0, 7, { SYNC_OPT_FULLNAT, 5 }, 1, 0, SYNC_E_OPTION, 0 },
		{ "fullnat option twice",            -1, 0, 16, { SYNC_OPT_FULLNAT, 6, [8] = SYNC_OPT_FULLNAT, [9] = 6 }, 1, 0, SYNC_E_OPTION, 0 },
		{ "PE name of 17 bytes",             -1, 0, 19, { 3, 17 }, 1, 0, SYNC_E_OPTION, 0 },
		{ "unknown optional option",         -1, 0, 4, { 0x45, 2 }, 1, 0, SYNC_E_OK, SYNC_E_OK },
		{ "unknown mandatory option",        -1, 0, 4, { 0x05, 2 }, 1, 0, SYNC_E_OK, SYNC_E_MANDATORY },
		{ "PE data (sip)",                   -1, 0, 4, { 2, 2 }, 1, 0, SYNC_E_OK, SYNC_E_PE },
		{ "PE name without data",            -1, 0, 5, { 3, 3, 's', 'i', 'p' }, 1, 0, SYNC_E_OK, SYNC_E_OK },
		{ "header: reserved byte set",       -2, 0, 0, {0}, 1, 0, SYNC_E_VERSION, 0 },
	};

	UNIT_SECTION("decoding: each field checked");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t el = kl;

		memcpy(ent, k, kl);
		if (cases[i].at >= 0)
			ent[cases[i].at] = cases[i].val;
		if (cases[i].extra) {
			memcpy(ent + kl, cases[i].opt, (size_t)cases[i].extra);
			el += (size_t)cases[i].extra;
			if (cases[i].at != 3)
				ent[3] = (uint8_t)el;
		}
		if (cases[i].at == 9 && cases[i].val == 2)      /* a template */
			ent[6] |= SYNC_F_TEMPLATE >> 8;
		memset(ent + el, 0, 8);
		el += (size_t)cases[i].trail;
		len = msg_of(ent, el, cases[i].count);
		if (cases[i].at == -2)
			buf[0] = 1;
		enum sync_err e = sync_msg_decode(buf, len, 1, out, errs, &got);
		if (CHECK_EQ(e, cases[i].want, "%s: message %s", cases[i].what,
		    sync_err_name(cases[i].want)) && e == SYNC_E_OK)
			CHECK(got == 1 && errs[0] == cases[i].entry, "%s: entry %s (%s)", cases[i].what,
			    sync_err_name(cases[i].entry), got ? sync_err_name(errs[0]) : "none");
	}

	UNIT_SECTION("decoding: the header");
	len = msg_of(k, kl, 1);
	CHECK_EQ(sync_msg_decode(buf, 7, 1, out, errs, &got), SYNC_E_SHORT, "7 bytes: short");
	CHECK_EQ(sync_msg_decode(buf, len - 1, 1, out, errs, &got), SYNC_E_SIZE,
	    "size says one byte more than came");
	CHECK_EQ(sync_msg_decode(buf, len, 2, out, errs, &got), SYNC_E_SYNCID, "sync id 1, 2 wanted");
	CHECK_EQ(sync_msg_decode(buf, len, 0, out, errs, &got), SYNC_E_OK, "sync id 0 takes any");
	buf[5] = 0;
	CHECK_EQ(sync_msg_decode(buf, len, 1, out, errs, &got), SYNC_E_VERSION, "version 0 refused");
	buf[5] = 1;
	buf[7] = 1;
	CHECK_EQ(sync_msg_decode(buf, len, 1, out, errs, &got), SYNC_E_VERSION, "spare bytes set");
	len = msg_of(k, 0, 0);
	CHECK(sync_msg_decode(buf, len, 1, out, errs, &got) == SYNC_E_OK && got == 0,
	    "no entry: an empty message");

	/* An entry of 37 bytes (an optional option of one byte): the next needs 3 of padding. */
	memcpy(ent, k, kl);
	ent[3] = 39;
	ent[36] = 0x45;
	ent[37] = 1;
	ent[38] = 0;
	memset(ent + 39, 0, 1);
	memcpy(ent + 40, k, kl);
	len = msg_of(ent, 40 + kl, 2);
	CHECK(sync_msg_decode(buf, len, 1, out, errs, &got) == SYNC_E_OK && got == 2,
	    "the second entry after padding to 4 bytes");
	len = msg_of(ent, 39, 1);
	CHECK(sync_msg_decode(buf, len, 1, out, errs, &got) == SYNC_E_OK,
	    "a last entry of 39 bytes needs no padding");
	len = msg_of(ent, 40, 1);
	CHECK(sync_msg_decode(buf, len, 1, out, errs, &got) == SYNC_E_OK,
	    "nor is one byte of padding after it refused");
	len = msg_of(ent, 39 + 4, 1);
	CHECK_EQ(sync_msg_decode(buf, len, 1, out, errs, &got), SYNC_E_COUNT,
	    "but 4 bytes after it are");
	/* The entry's error does not stop the next one. */
	memcpy(ent, k, kl);
	ent[1] = IPPROTO_SCTP;
	memcpy(ent + kl, k, kl);
	len = msg_of(ent, 2 * kl, 2);
	CHECK(sync_msg_decode(buf, len, 1, out, errs, &got) == SYNC_E_OK && got == 2 &&
	    errs[0] == SYNC_E_PROTO && errs[1] == SYNC_E_OK,
	    "an entry refused, the next one read");
	CHECK(strcmp(sync_err_name(SYNC_E_ENTRY_SIZE), "entry_size") == 0 &&
	    strcmp(sync_err_name(SYNC_E_MAX), "?") == 0, "the verdicts' names");
}

int
main(void)
{
	test_kernel_bytes();
	test_options();
	test_roundtrip();
	test_refusals();
	return unit_done();
}
