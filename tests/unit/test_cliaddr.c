/* test_cliaddr.c - the client's address behind fullnat: PROXY v2 headers and TOA options, byte for byte */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "cliaddr.h"
#include "common.h"
#include "frame.h"
#include "packet.h"
#include "stats.h"
#include "unit.h"

/* The expected bytes, written from proxy-protocol.txt 2.2 and LVS's TOA layout. */
struct build_case {
	const char *what;
	int         af, proto;
	const char *src, *dst;
	uint16_t    sport, dport;     /* host order */
	size_t      want_len;
	uint8_t     want[64];
};

static const struct build_case ppv2_cases[] = {
	{ "TCP over IPv4", AF_INET, IPPROTO_TCP, "192.0.2.1", "10.10.0.100", 40000, 80, 28,
	    { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	      0x21, 0x11, 0x00, 0x0c,
	      192, 0, 2, 1, 10, 10, 0, 100, 0x9c, 0x40, 0x00, 0x50 } },
	{ "UDP over IPv4", AF_INET, IPPROTO_UDP, "10.10.0.1", "10.10.0.100", 1, 65535, 28,
	    { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	      0x21, 0x12, 0x00, 0x0c,
	      10, 10, 0, 1, 10, 10, 0, 100, 0x00, 0x01, 0xff, 0xff } },
	{ "TCP over IPv6", AF_INET6, IPPROTO_TCP, "2001:db8::1", "2001:db8:0:1::100", 443, 8443,
	    52,
	    { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	      0x21, 0x21, 0x00, 0x24,
	      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	      0x01, 0xbb, 0x20, 0xfb } },
	{ "UDP over IPv6", AF_INET6, IPPROTO_UDP, "fd00::a", "fd00::b", 5353, 53, 52,
	    { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	      0x21, 0x22, 0x00, 0x24,
	      0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
	      0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
	      0x14, 0xe9, 0x00, 0x35 } },
	{ "no header for another family", AF_UNIX, IPPROTO_TCP, "192.0.2.1", "10.10.0.100", 1, 2,
	    0, { 0 } },
	{ "no header for another protocol", AF_INET, IPPROTO_ICMP, "192.0.2.1", "10.10.0.100", 1,
	    2, 0, { 0 } },
};

static const struct build_case toa_cases[] = {
	{ "IPv4: kind 254, length 8, port, address", AF_INET, IPPROTO_TCP, "192.0.2.1", NULL,
	    40000, 0, 8, { 254, 8, 0x9c, 0x40, 192, 0, 2, 1 } },
	{ "IPv6: kind 254, length 20", AF_INET6, IPPROTO_TCP, "2001:db8::1", NULL, 1234, 0, 20,
	    { 254, 20, 0x04, 0xd2, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	      1 } },
	{ "nothing for another family", AF_UNIX, IPPROTO_TCP, "192.0.2.1", NULL, 1, 0, 0, { 0 } },
};

static uint32_t
rd32_(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}


static void
addr_of(int af, const char *s, uint8_t *a)
{
	memset(a, 0, 16);
	if (inet_pton(af == AF_INET6 ? AF_INET6 : AF_INET, s, a) != 1)
		memset(a, 0xee, 16);
}

/* ---- the packet path, on hand-made IPv4 frames ---- */

#define CLIENT  "192.0.2.1"
#define VIP     "10.10.0.100"
#define LIP     "10.20.0.250"
#define RIP     "10.20.0.11"
#define CPORT   40000
#define LPORT   5000
#define ISN     1000u           /* the client's */
#define SISN    70000u          /* the real server's */

static uint8_t fbuf[PKT_VNET_LEN + 65600] __attribute__((aligned(16)));
static uint8_t pre[CLIADDR_PRE_MAX] __attribute__((aligned(16)));
static struct pkt P;

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* How a test frame is made. */
struct seg {
	int      out;               /* from the real server (RIP:80 -> LIP:LPORT) */
	uint8_t  proto;
	uint32_t seq, ack;
	uint8_t  flags;
	unsigned plen;              /* payload bytes: 'a', 'b', ... */
	unsigned optlen;            /* TCP options: timestamps (12), or more: SACK blocks */
	const uint32_t *sack;       /* 2 * nsack edges */
	unsigned nsack;
	int      partial;           /* NEEDS_CSUM: the checksum field holds the pseudo-header sum */
	int      df;
	int      udp_nocsum;
};

/* Build S into fbuf and parse it into P; returns pkt_parse's verdict. */
static enum stat_id
mk(const struct seg *s)
{
	uint8_t *eth = fbuf + PKT_VNET_LEN, *ip = eth + 14, *l4 = ip + 20;
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)fbuf;
	unsigned hl, l4len, i;
	uint32_t src = ip4(s->out ? RIP : LIP), dst = ip4(s->out ? LIP : RIP);

	memset(fbuf, 0, PKT_VNET_LEN + 14 + 20 + 60);
	memcpy(eth, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
	ip[0] = 0x45;
	ip[6] = s->df ? 0x40 : 0;
	ip[8] = 64;
	ip[9] = s->proto;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	if (s->proto == IPPROTO_TCP) {
		unsigned o = 20;
		hl = 20 + s->optlen;
		frame_wr16(l4, s->out ? 80 : LPORT);
		frame_wr16(l4 + 2, s->out ? LPORT : 80);
		wr32(l4 + 4, s->seq);
		wr32(l4 + 8, s->ack);
		l4[12] = (uint8_t)(hl / 4 << 4);
		l4[13] = s->flags;
		frame_wr16(l4 + 14, 4096);
		if (s->optlen >= 12) {
			memcpy(l4 + 20, "\x01\x01\x08\x0a\0\0\0\x07\0\0\0\x09", 12);
			o = 32;
		}
		if (s->nsack) {
			l4[o++] = 1;
			l4[o++] = 1;
			l4[o++] = 5;
			l4[o++] = (uint8_t)(2 + 8 * s->nsack);
			for (i = 0; i < 2 * s->nsack; i++, o += 4)
				wr32(l4 + o, s->sack[i]);
		}
		while (o < hl)
			l4[o++] = 1;
	} else {
		hl = 8;
		frame_wr16(l4, s->out ? 53 : LPORT);
		frame_wr16(l4 + 2, s->out ? LPORT : 53);
		frame_wr16(l4 + 4, (uint16_t)(8 + s->plen));
	}
	l4len = hl + s->plen;
	for (i = 0; i < s->plen; i++)
		l4[hl + i] = (uint8_t)('a' + i % 26);
	frame_wr16(ip + 2, (uint16_t)(20 + l4len));
	frame_wr16(ip + 10, (uint16_t)~frame_sum(ip, 20, 0));
	{
		unsigned at = s->proto == IPPROTO_TCP ? 16 : 6;
		if (s->partial) {
			h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h->csum_start = 14 + 20;
			h->csum_offset = (uint16_t)at;
			frame_wr16(l4 + at, frame_pseudo(ip, s->proto, l4len));
		} else if (!s->udp_nocsum) {
			uint16_t c = (uint16_t)~frame_sum(l4, l4len, frame_pseudo(ip, s->proto, l4len));
			frame_wr16(l4 + at, c == 0 && s->proto == IPPROTO_UDP ? 0xffff : c);
		}
	}
	return pkt_parse(&P, fbuf, 14 + 20 + l4len);
}

static const uint8_t *IP_ = fbuf + PKT_VNET_LEN + 14;
#define L4_ (fbuf + PKT_VNET_LEN + 14 + 20)

static uint32_t seq_of(const uint8_t *l4) { return rd32_(l4 + 4); }
static uint32_t ack_of(const uint8_t *l4) { return rd32_(l4 + 8); }

/* The packet in fbuf is sound: IP length = what P says, checksums right (or the right pseudo sum). */
static int
sound(const uint8_t *ip, int partial)
{
	unsigned ihl = (ip[0] & 15) * 4u, tot = frame_rd16(ip + 2), l4len = tot - ihl;
	const uint8_t *l4 = ip + ihl;
	unsigned at = ip[9] == IPPROTO_TCP ? 16 : 6;

	if (!frame_ip_ok(ip))
		return 0;
	if (partial)
		return frame_rd16(l4 + at) == frame_pseudo(ip, ip[9], l4len);
	return frame_l4_ok(ip);
}

static struct cliaddr_ends ends;
static unsigned ends_asked;

static void
ends_of(const void *arg, struct cliaddr_ends *e)
{
	(void)arg;
	ends_asked++;
	*e = ends;
}

static const struct cliaddr_flow flow = { ends_of, NULL };

static void
ends_init(void)
{
	uint32_t c = ip4(CLIENT), v = ip4(VIP);

	memset(&ends, 0, sizeof(ends));
	ends.af = AF_INET;
	memcpy(ends.caddr, &c, 4);
	memcpy(ends.vaddr, &v, 4);
	ends.cport = htons(CPORT);
	ends.vport = htons(80);
}

/* The header the real server must get for this flow. */
static size_t
want_header(uint8_t *h, int proto)
{
	return ppv2_build(h, AF_INET, proto, ends.caddr, ends.cport, ends.vaddr, ends.vport);
}

static uint32_t
run_in(struct cliaddr_state *st, const struct seg *s, unsigned mtu)
{
	if (mk(s) != STAT_NONE) {
		CHECK(0, "test frame parses");
		return 0;
	}
	return cliaddr_in(st, &flow, mtu, &P, pre);
}

static void
run_out(struct cliaddr_state *st, const struct seg *s)
{
	if (mk(s) != STAT_NONE) {
		CHECK(0, "test frame parses");
		return;
	}
	cliaddr_out(st, &P);
}

static uint64_t
stat(enum stat_id id)
{
	return stat_total(id);
}

/* A proxy-v2 flow through its handshake: SYN, SYN-ACK, and the ACK that carries the header. */
static void
handshake(struct cliaddr_state *st, int partial)
{
	uint8_t h[PPV2_MAX];
	size_t hn = want_header(h, IPPROTO_TCP);
	uint64_t sent = stat(STAT_CA_PROXY_SENT);

	cliaddr_init(st, CA_PROXY_V2, AF_INET);
	run_in(st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN, .flags = TCPF_SYN,
	    .optlen = 12, .partial = partial }, 0);
	CHECK(seq_of(L4_) == ISN && (st->flags & CA_F_ISN) && P.len == 14 + 20 + 32,
	    "%s: the SYN passes as it is, its ISN kept", partial ? "partial" : "full");
	run_out(st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN, .ack = ISN + 1,
	    .flags = TCPF_SYN | TCPF_ACK, .optlen = 12, .partial = partial });
	CHECK(ack_of(L4_) == ISN + 1, "%s: the SYN-ACK's ack is the client's ISN + 1",
	    partial ? "partial" : "full");
	CHECK_EQ(run_in(st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
	    .flags = TCPF_ACK, .optlen = 12, .partial = partial }, 0), 0,
	    "%s: the handshake's ACK needs no frame before it", partial ? "partial" : "full");
	CHECK(P.len == 14 + 20 + 32 + hn && frame_rd16(IP_ + 2) == 20 + 32 + hn &&
	    memcmp(L4_ + 32, h, hn) == 0 && seq_of(L4_) == ISN + 1,
	    "%s: the ACK carries the header (%zu bytes) at ISN + 1", partial ? "partial" : "full",
	    hn);
	CHECK(sound(IP_, partial), "%s: its lengths and checksums", partial ? "partial" : "full");
	CHECK(stat(STAT_CA_PROXY_SENT) == sent + 1 && (st->flags & CA_F_SENT),
	    "%s: counted as sent", partial ? "partial" : "full");
}

static void
test_proxy_tcp(void)
{
	struct cliaddr_state st;
	uint8_t h[PPV2_MAX];
	size_t hn;
	uint32_t n;

	UNIT_SECTION("proxy-v2 over TCP");
	ends_init();
	hn = want_header(h, IPPROTO_TCP);
	for (int partial = 0; partial < 2; partial++) {
		unsigned asked;
		handshake(&st, partial);
		asked = ends_asked;
		n = run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK | TCPF_PSH, .plen = 100, .optlen = 12, .partial = partial }, 0);
		CHECK(n == 0 && seq_of(L4_) == ISN + 1 + hn && P.len == 14 + 20 + 32 + 100 &&
		    sound(IP_, partial) && L4_[32] == 'a',
		    "%s: the first data follows the header, shifted, untouched", partial ? "partial" :
		    "full");
		run_out(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN + 1,
		    .ack = ISN + 1 + hn + 100, .flags = TCPF_ACK, .optlen = 12, .partial = partial });
		CHECK(ack_of(L4_) == ISN + 101 && (st.flags & CA_F_ACKED) && sound(IP_, partial),
		    "%s: the server's ack of it comes back in the client's numbers",
		    partial ? "partial" : "full");
		{
			const uint32_t e[4] = { ISN + 1 + hn + 1100, ISN + 1 + hn + 2100,
				ISN + 1 + hn + 3100, ISN + 1 + hn + 4100 };
			uint64_t sk = stat(STAT_SEQADJ_SACK);
			run_out(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN + 1,
			    .ack = ISN + 1 + hn + 100, .flags = TCPF_ACK, .optlen = 32, .sack = e,
			    .nsack = 2, .partial = partial });
			CHECK(rd32_(L4_ + 36) == ISN + 1101 && rd32_(L4_ + 40) == ISN + 2101 &&
			    rd32_(L4_ + 44) == ISN + 3101 && rd32_(L4_ + 48) == ISN + 4101 &&
			    sound(IP_, partial) && stat(STAT_SEQADJ_SACK) == sk + 1,
			    "%s: SACK blocks shifted back, counted", partial ? "partial" : "full");
		}
		n = run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK, .plen = 100, .optlen = 12, .partial = partial }, 0);
		CHECK(n == 0 && seq_of(L4_) == ISN + 1 + hn,
		    "%s: a retransmission of the first data, header acknowledged: shifted only",
		    partial ? "partial" : "full");
		n = run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK, .optlen = 12, .partial = partial }, 0);
		CHECK(n == 0 && seq_of(L4_) == ISN + 1 + hn && P.len == 14 + 20 + 32,
		    "%s: a pure ACK at the start once the header is acknowledged: shifted only",
		    partial ? "partial" : "full");
		CHECK_EQ(ends_asked, asked, "%s: the flow's ends were not asked for after the header",
		    partial ? "partial" : "full");
	}

	/* The header lost between the director and the real server. */
	handshake(&st, 0);
	run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
	    .flags = TCPF_ACK, .plen = 100, .optlen = 12 }, 0);
	{
		const uint32_t e[2] = { ISN + 1 + hn, ISN + 1 + hn + 100 };
		run_out(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN + 1,
		    .ack = ISN + 1, .flags = TCPF_ACK, .optlen = 24, .sack = e, .nsack = 1 });
	}
	CHECK((st.flags & CA_F_RESEND) && ack_of(L4_) == ISN + 1 && rd32_(L4_ + 36) == ISN + 1 &&
	    rd32_(L4_ + 40) == ISN + 101,
	    "the server's dupack shows the header missing; its SACK of the data shifted back");
	{
		uint64_t rs = stat(STAT_CA_PROXY_RESENT);
		struct pkt q;
		n = run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 101,
		    .ack = SISN + 1, .flags = TCPF_ACK, .plen = 50, .optlen = 12 }, 0);
		CHECK(n == PKT_VNET_LEN + 14 + 20 + 32 + hn && seq_of(L4_) == ISN + 101 + hn &&
		    !(st.flags & CA_F_RESEND) && stat(STAT_CA_PROXY_RESENT) == rs + 1,
		    "the client's next packet goes behind a segment carrying the header (%u bytes)", n);
		CHECK(pkt_parse(&q, pre, n - PKT_VNET_LEN) == STAT_NONE && q.l4len == 32 + hn &&
		    rd32_(q.data + q.l4off + 4) == ISN + 1 &&
		    q.data[q.l4off + 13] == (TCPF_ACK | TCPF_PSH) &&
		    memcmp(q.data + q.l4off + 32, h, hn) == 0 && sound(q.data + q.l3off, 0) &&
		    pkt_vnet(&q)->flags == 0 && pkt_vnet(&q)->gso_type == 0 &&
		    memcmp(q.data + q.l3off + 12, IP_ + 12, 8) == 0,
		    "that segment: at ISN + 1, ACK PSH, the header, checksums complete, no offload");
	}

	/* The handshake's ACK lost before the director: data first. */
	cliaddr_init(&st, CA_PROXY_V2, AF_INET);
	run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN, .flags = TCPF_SYN }, 0);
	run_out(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN, .ack = ISN + 1,
	    .flags = TCPF_SYN | TCPF_ACK });
	n = run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
	    .flags = TCPF_ACK | TCPF_PSH, .plen = 300, .partial = 1 }, 0);
	CHECK(n == PKT_VNET_LEN + 14 + 20 + 20 + hn && seq_of(L4_) == ISN + 1 + hn &&
	    sound(IP_, 1) && (st.flags & (CA_F_SENT | CA_F_DATA)) == (CA_F_SENT | CA_F_DATA),
	    "data before any ACK: the header goes first in a segment of its own");
	n = run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
	    .flags = TCPF_ACK | TCPF_PSH, .plen = 300 }, 0);
	CHECK(n > 0 && seq_of(L4_) == ISN + 1 + hn,
	    "its retransmission before the server acknowledged anything: the header again");
	n = run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 301, .ack = SISN + 1,
	    .flags = TCPF_ACK | TCPF_FIN }, 0);
	CHECK(n == 0 && seq_of(L4_) == ISN + 301 + hn && sound(IP_, 0),
	    "later packets (a FIN) shifted only");

	/* TCP Fast Open: data in the SYN would come before the header. */
	{
		uint64_t sd = stat(STAT_CA_SYN_DATA);
		for (int partial = 0; partial < 2; partial++) {
			cliaddr_init(&st, CA_PROXY_V2, AF_INET);
			run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN, .flags = TCPF_SYN,
			    .optlen = 12, .plen = 40, .partial = partial }, 0);
			CHECK(P.len == 14 + 20 + 32 && frame_rd16(IP_ + 2) == 52 && sound(IP_, partial),
			    "%s: a SYN's data is dropped, the SYN kept", partial ? "partial" : "full");
		}
		CHECK(stat(STAT_CA_SYN_DATA) == sd + 2, "counted");
	}

	/* A different flow's ends give a different header. */
	{
		uint8_t h2[PPV2_MAX];
		cliaddr_init(&st, CA_PROXY_V2, AF_INET);
		ends.cport = htons(CPORT + 1);
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = 7, .flags = TCPF_SYN }, 0);
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = 8, .ack = 1,
		    .flags = TCPF_ACK }, 0);
		want_header(h2, IPPROTO_TCP);
		CHECK(memcmp(L4_ + 20, h2, hn) == 0 && memcmp(h, h2, hn) != 0,
		    "the header names the flow's own client port");
		ends_init();
	}
}

static void
test_proxy_udp(void)
{
	struct cliaddr_state st;
	uint8_t h[PPV2_MAX];
	size_t hn;
	uint64_t over = stat(STAT_CA_OVERSIZE), dg = stat(STAT_CA_PROXY_DGRAM);

	UNIT_SECTION("proxy-v2 over UDP");
	ends_init();
	ends.vport = htons(53);
	hn = want_header(h, IPPROTO_UDP);
	cliaddr_init(&st, CA_PROXY_V2, AF_INET);
	for (int partial = 0; partial < 2; partial++) {
		run_in(&st, &(struct seg){ .proto = IPPROTO_UDP, .plen = 31, .partial = partial }, 0);
		CHECK(P.len == 14 + 20 + 8 + hn + 31 && frame_rd16(L4_ + 4) == 8 + hn + 31 &&
		    memcmp(L4_ + 8, h, hn) == 0 && L4_[8 + hn] == 'a' && L4_[8 + hn + 30] == 'e' &&
		    sound(IP_, partial),
		    "%s: the header before the payload (odd length), lengths and checksum",
		    partial ? "partial" : "full");
	}
	run_in(&st, &(struct seg){ .proto = IPPROTO_UDP, .plen = 10, .udp_nocsum = 1 }, 0);
	CHECK(frame_rd16(L4_ + 6) == 0 && frame_rd16(L4_ + 4) == 8 + hn + 10 && frame_ip_ok(IP_),
	    "a datagram sent without a checksum stays without");
	run_in(&st, &(struct seg){ .proto = IPPROTO_UDP, .plen = 1472, .df = 1 }, 1500);
	CHECK(P.len == 14 + 1500 && frame_rd16(L4_ + 4) == 1480,
	    "a full-MTU datagram with DF goes without it");
	run_in(&st, &(struct seg){ .proto = IPPROTO_UDP, .plen = 1472 }, 1500);
	CHECK(P.len == 14 + 1500 + hn && sound(IP_, 0),
	    "without DF it gets one (the kernel fragments it)");
	run_in(&st, &(struct seg){ .proto = IPPROTO_UDP, .plen = 65507 }, 0);
	CHECK(P.len == 14 + 65535, "a datagram of 64 KB goes without it");
	CHECK(stat(STAT_CA_OVERSIZE) == over + 2 && stat(STAT_CA_PROXY_DGRAM) == dg + 4,
	    "oversize and headed datagrams counted");
	ends_init();
}

static void
test_toa(void)
{
	struct cliaddr_state st;
	uint8_t o[TOA_MAX];
	uint64_t added, noroom;

	UNIT_SECTION("toa");
	ends_init();
	toa_build(o, AF_INET, ends.caddr, ends.cport);
	for (int partial = 0; partial < 2; partial++) {
		added = stat(STAT_CA_TOA);
		cliaddr_init(&st, CA_TOA, AF_INET);
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN, .flags = TCPF_SYN,
		    .optlen = 12, .partial = partial }, 0);
		CHECK(P.len == 14 + 20 + 32, "%s: nothing on the SYN", partial ? "partial" : "full");
		run_out(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN,
		    .ack = ISN + 1, .flags = TCPF_SYN | TCPF_ACK, .partial = partial });
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK, .optlen = 12, .partial = partial }, 1500);
		CHECK(P.len == 14 + 20 + 40 && L4_[12] >> 4 == 10 && memcmp(L4_ + 20, o, 8) == 0 &&
		    memcmp(L4_ + 28, "\x01\x01\x08\x0a", 4) == 0 && seq_of(L4_) == ISN + 1 &&
		    sound(IP_, partial),
		    "%s: the handshake's ACK: kind 254, length 8, port, address; options kept",
		    partial ? "partial" : "full");
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK | TCPF_PSH, .optlen = 12, .plen = 200, .partial = partial },
		    1500);
		CHECK(P.len == 14 + 20 + 40 + 200 && memcmp(L4_ + 20, o, 8) == 0 &&
		    L4_[40] == 'a' && sound(IP_, partial), "%s: the first data too",
		    partial ? "partial" : "full");
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 201, .ack = SISN + 1,
		    .flags = TCPF_ACK | TCPF_PSH, .optlen = 12, .plen = 100, .partial = partial },
		    1500);
		CHECK(P.len == 14 + 20 + 32 + 100 && stat(STAT_CA_TOA) == added + 2,
		    "%s: not the data after it", partial ? "partial" : "full");
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 301, .ack = SISN + 1,
		    .flags = TCPF_ACK, .optlen = 12, .partial = partial }, 1500);
		CHECK(P.len == 14 + 20 + 40 && stat(STAT_CA_TOA) == added + 3,
		    "%s: a pure ACK before the server's data is acknowledged: again",
		    partial ? "partial" : "full");

		/* The first data has no room: the next that has carries it. */
		cliaddr_init(&st, CA_TOA, AF_INET);
		run_out(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN,
		    .ack = ISN + 1, .flags = TCPF_SYN | TCPF_ACK, .partial = partial });
		noroom = stat(STAT_CA_TOA_NOROOM);
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK, .optlen = 12, .plen = 1448, .partial = partial }, 1500);
		CHECK(P.len == 14 + 1500 && stat(STAT_CA_TOA_NOROOM) == noroom + 1,
		    "%s: a full-MTU packet has no room: as it is, counted",
		    partial ? "partial" : "full");
		{
			const uint32_t e[6] = { 1, 2, 3, 4, 5, 6 };
			run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1449,
			    .ack = SISN + 1, .flags = TCPF_ACK, .optlen = 40, .sack = e, .nsack = 3,
			    .plen = 10, .partial = partial }, 1500);
			CHECK(P.len == 14 + 20 + 60 + 10 && stat(STAT_CA_TOA_NOROOM) == noroom + 2,
			    "%s: nor one whose options are full", partial ? "partial" : "full");
		}
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1459, .ack = SISN + 1,
		    .flags = TCPF_ACK, .optlen = 12, .plen = 10, .partial = partial }, 1500);
		CHECK(P.len == 14 + 20 + 40 + 10 && memcmp(L4_ + 20, o, 8) == 0 &&
		    sound(IP_, partial), "%s: the next data with room carries it",
		    partial ? "partial" : "full");
		run_in(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1469, .ack = SISN + 11,
		    .flags = TCPF_ACK, .optlen = 12, .partial = partial }, 1500);
		CHECK(P.len == 14 + 20 + 32 && stat(STAT_CA_TOA) == added + 4,
		    "%s: once the client acknowledged the server's data, no more",
		    partial ? "partial" : "full");
	}
}

/* An ICMP error about a shifted segment: the quote's seq back as the client sent it. */
static void
test_icmp(void)
{
	struct cliaddr_state st;
	uint8_t *eth = fbuf + PKT_VNET_LEN, *ip = eth + 14, *icmp = ip + 20, *q = icmp + 8;
	uint32_t lip = ip4(LIP), rip = ip4(RIP), dir = ip4("10.20.0.1");
	struct pkt p;

	UNIT_SECTION("ICMP errors");
	ends_init();
	handshake(&st, 0);
	/* fragmentation needed from the director's kernel to the LIP, quoting LIP -> RIP */
	memset(fbuf, 0, sizeof(fbuf));
	memcpy(eth, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
	ip[0] = 0x45;
	frame_wr16(ip + 2, 20 + 8 + 20 + 20);
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	memcpy(ip + 12, &dir, 4);
	memcpy(ip + 16, &lip, 4);
	frame_wr16(ip + 10, (uint16_t)~frame_sum(ip, 20, 0));
	icmp[0] = 3;
	icmp[1] = 4;
	frame_wr16(icmp + 6, 1400);
	q[0] = 0x45;
	frame_wr16(q + 2, 1500);
	q[6] = 0x40;
	q[8] = 64;
	q[9] = IPPROTO_TCP;
	memcpy(q + 12, &lip, 4);
	memcpy(q + 16, &rip, 4);
	frame_wr16(q + 10, (uint16_t)~frame_sum(q, 20, 0));
	frame_wr16(q + 20, LPORT);
	frame_wr16(q + 22, 80);
	wr32(q + 24, ISN + 1 + 28 + 4000);
	q[32] = 5 << 4;
	q[33] = TCPF_ACK;
	frame_wr16(q + 36, 0x1234);             /* a checksum, whatever it was */
	frame_wr16(icmp + 2, (uint16_t)~frame_sum(icmp, 48, 0));
	if (pkt_parse(&p, fbuf, 14 + 68) != STAT_NONE) {
		CHECK(0, "the ICMP frame parses");
		return;
	}
	cliaddr_icmp(&st, SEQADJ_IN, &p);
	CHECK(rd32_(q + 24) == ISN + 4001 && frame_rd16(q + 36) != 0x1234,
	    "the quoted seq back in the client's numbers, the quoted checksum following");
	cliaddr_icmp(&st, SEQADJ_OUT, &p);
	CHECK(rd32_(q + 24) == ISN + 4001, "the other way has no correction: nothing more");
}

/* ---- IPv6 frames ---- */

#define CLIENT6 "2001:db8:10::1"
#define VIP6    "2001:db8:10::100"
#define LIP6    "2001:db8:20::250"
#define RIP6    "2001:db8:20::11"

/* S as an IPv6 frame (no extension header) into fbuf, parsed into P. */
static enum stat_id
mk6(const struct seg *s)
{
	uint8_t *eth = fbuf + PKT_VNET_LEN, *ip = eth + 14, *l4 = ip + 40;
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)fbuf;
	unsigned hl, l4len, i, at;

	memset(fbuf, 0, PKT_VNET_LEN + 14 + 40 + 60);
	memcpy(eth, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd", 14);
	ip[0] = 0x60;
	ip[6] = s->proto;
	ip[7] = 64;
	addr_of(AF_INET6, s->out ? RIP6 : LIP6, ip + 8);
	addr_of(AF_INET6, s->out ? LIP6 : RIP6, ip + 24);
	if (s->proto == IPPROTO_TCP) {
		hl = 20 + s->optlen;
		frame_wr16(l4, s->out ? 80 : LPORT);
		frame_wr16(l4 + 2, s->out ? LPORT : 80);
		wr32(l4 + 4, s->seq);
		wr32(l4 + 8, s->ack);
		l4[12] = (uint8_t)(hl / 4 << 4);
		l4[13] = s->flags;
		frame_wr16(l4 + 14, 4096);
		if (s->optlen >= 12)
			memcpy(l4 + 20, "\x01\x01\x08\x0a\0\0\0\x07\0\0\0\x09", 12);
		for (i = 32; i < hl; i++)
			l4[i] = 1;
		at = 16;
	} else {
		hl = 8;
		frame_wr16(l4, s->out ? 53 : LPORT);
		frame_wr16(l4 + 2, s->out ? LPORT : 53);
		frame_wr16(l4 + 4, (uint16_t)(8 + s->plen));
		at = 6;
	}
	l4len = hl + s->plen;
	for (i = 0; i < s->plen; i++)
		l4[hl + i] = (uint8_t)('a' + i % 26);
	frame_wr16(ip + 4, (uint16_t)l4len);
	if (s->partial) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = 14 + 40;
		h->csum_offset = (uint16_t)at;
		frame_wr16(l4 + at, frame_pseudo6(ip, s->proto, l4len));
	} else {
		frame_wr16(l4 + at, (uint16_t)~frame_sum(l4, l4len, frame_pseudo6(ip, s->proto, l4len)));
	}
	return pkt_parse(&P, fbuf, 14 + 40 + l4len);
}

#define IP6_  (fbuf + PKT_VNET_LEN + 14)
#define L46_  (fbuf + PKT_VNET_LEN + 14 + 40)

/* The IPv6 packet at IP is sound: its checksum right, or the right pseudo sum. */
static int
sound6(const uint8_t *ip, int partial)
{
	unsigned l4len = frame_rd16(ip + 4), at = ip[6] == IPPROTO_TCP ? 16 : 6;

	if (partial)
		return frame_rd16(ip + 40 + at) == frame_pseudo6(ip, ip[6], l4len);
	return frame_l4_ok6(ip);
}

static uint32_t
run6(struct cliaddr_state *st, const struct seg *s, unsigned mtu, int out)
{
	if (mk6(s) != STAT_NONE) {
		CHECK(0, "test frame parses (IPv6)");
		return 0;
	}
	if (out) {
		cliaddr_out(st, &P);
		return 0;
	}
	return cliaddr_in(st, &flow, mtu, &P, pre);
}

static void
test_ipv6(void)
{
	struct cliaddr_state st;
	uint8_t h[PPV2_MAX], o[TOA_MAX];
	size_t hn;
	uint32_t n;

	UNIT_SECTION("IPv6 frames");
	memset(&ends, 0, sizeof(ends));
	ends.af = AF_INET6;
	addr_of(AF_INET6, CLIENT6, ends.caddr);
	addr_of(AF_INET6, VIP6, ends.vaddr);
	ends.cport = htons(CPORT);
	ends.vport = htons(80);
	hn = ppv2_build(h, AF_INET6, IPPROTO_TCP, ends.caddr, ends.cport, ends.vaddr, ends.vport);
	for (int partial = 0; partial < 2; partial++) {
		const char *k = partial ? "partial" : "full";

		cliaddr_init(&st, CA_PROXY_V2, AF_INET6);
		CHECK_EQ(st.len, PPV2_LEN6, "%s: the header's IPv6 form, 52 bytes", k);
		run6(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN, .flags = TCPF_SYN,
		    .optlen = 12, .partial = partial }, 0, 0);
		run6(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN, .ack = ISN + 1,
		    .flags = TCPF_SYN | TCPF_ACK, .optlen = 12, .partial = partial }, 0, 1);
		n = run6(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK, .optlen = 12, .partial = partial }, 0, 0);
		CHECK(n == 0 && frame_rd16(IP6_ + 4) == 32 + hn && P.len == 14 + 40 + 32 + hn &&
		    memcmp(L46_ + 32, h, hn) == 0 && sound6(IP6_, partial),
		    "%s: the handshake's ACK carries it; payload length and checksum follow", k);
		n = run6(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK | TCPF_PSH, .optlen = 12, .plen = 100, .partial = partial },
		    0, 0);
		CHECK(n == 0 && seq_of(L46_) == ISN + 1 + hn && sound6(IP6_, partial),
		    "%s: the first data shifted by 52", k);
		run6(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN + 1,
		    .ack = ISN + 1 + hn + 100, .flags = TCPF_ACK, .optlen = 12, .partial = partial },
		    0, 1);
		CHECK(ack_of(L46_) == ISN + 101 && sound6(IP6_, partial),
		    "%s: the real server's ack back in the client's numbers", k);

		/* The header lost: it goes again in a segment of its own. */
		cliaddr_init(&st, CA_PROXY_V2, AF_INET6);
		run6(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN, .flags = TCPF_SYN,
		    .optlen = 12, .partial = partial }, 0, 0);
		n = run6(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK | TCPF_PSH, .optlen = 12, .plen = 100, .partial = partial },
		    0, 0);
		{
			const uint8_t *ip = pre + PKT_VNET_LEN + 14, *l4 = ip + 40;
			CHECK(n == PKT_VNET_LEN + 14 + 40 + 32 + hn && frame_rd16(ip + 4) == 32 + hn &&
			    memcmp(l4 + 32, h, hn) == 0 && rd32_(l4 + 4) == ISN + 1 &&
			    frame_l4_ok6(ip) && seq_of(L46_) == ISN + 1 + hn,
			    "%s: data before the handshake's ACK: the header first, on its own", k);
		}

		/* UDP: the DGRAM form before the payload. */
		cliaddr_init(&st, CA_PROXY_V2, AF_INET6);
		hn = ppv2_build(h, AF_INET6, IPPROTO_UDP, ends.caddr, ends.cport, ends.vaddr,
		    ends.vport);
		run6(&st, &(struct seg){ .proto = IPPROTO_UDP, .plen = 40, .partial = partial }, 1500,
		    0);
		CHECK(frame_rd16(IP6_ + 4) == 8 + hn + 40 && frame_rd16(L46_ + 4) == 8 + hn + 40 &&
		    memcmp(L46_ + 8, h, hn) == 0 && L46_[8 + hn] == 'a' && sound6(IP6_, partial),
		    "%s: a datagram gets its header; both lengths and the checksum follow", k);
		run6(&st, &(struct seg){ .proto = IPPROTO_UDP, .plen = 1500 - 40 - 8 - 20,
		    .partial = partial }, 1500, 0);
		CHECK(frame_rd16(IP6_ + 4) == 1500 - 40 - 20,
		    "%s: one the header would take past the MTU goes without", k);
		hn = ppv2_build(h, AF_INET6, IPPROTO_TCP, ends.caddr, ends.cport, ends.vaddr,
		    ends.vport);

		/* toa: kind 254, length 20. */
		cliaddr_init(&st, CA_TOA, AF_INET6);
		toa_build(o, AF_INET6, ends.caddr, ends.cport);
		run6(&st, &(struct seg){ .out = 1, .proto = IPPROTO_TCP, .seq = SISN, .ack = ISN + 1,
		    .flags = TCPF_SYN | TCPF_ACK, .optlen = 12, .partial = partial }, 0, 1);
		run6(&st, &(struct seg){ .proto = IPPROTO_TCP, .seq = ISN + 1, .ack = SISN + 1,
		    .flags = TCPF_ACK, .optlen = 12, .partial = partial }, 1500, 0);
		CHECK(frame_rd16(IP6_ + 4) == 32 + 20 && L46_[12] >> 4 == 13 &&
		    memcmp(L46_ + 20, o, 20) == 0 && o[0] == 254 && o[1] == 20 &&
		    sound6(IP6_, partial), "%s: toa's IPv6 form in the handshake's ACK", k);
	}
	ends_init();
}

int
main(void)
{
	test_icmp();
	test_proxy_tcp();
	test_proxy_udp();
	test_toa();
	test_ipv6();

	UNIT_SECTION("ppv2_build");
	for (size_t i = 0; i < ARRAY_SIZE(ppv2_cases); i++) {
		const struct build_case *c = &ppv2_cases[i];
		uint8_t out[PPV2_MAX + 8], s[16], d[16];
		size_t n;

		memset(out, 0xaa, sizeof(out));
		addr_of(c->af, c->src, s);
		addr_of(c->af, c->dst, d);
		n = ppv2_build(out, c->af, c->proto, s, htons(c->sport), d, htons(c->dport));
		CHECK(n == c->want_len && memcmp(out, c->want, n) == 0, "%s (%zu bytes)", c->what,
		    n);
		CHECK(out[n ? n : 0] == 0xaa && out[PPV2_MAX] == 0xaa,
		    "%s: nothing written past its length", c->what);
		if (n)
			CHECK_EQ(n, PPV2_FIXED_LEN + (size_t)(out[14] << 8 | out[15]),
			    "%s: the length field counts what follows the fixed part", c->what);
	}

	UNIT_SECTION("toa_build");
	for (size_t i = 0; i < ARRAY_SIZE(toa_cases); i++) {
		const struct build_case *c = &toa_cases[i];
		uint8_t out[TOA_MAX + 8], a[16];
		size_t n;

		memset(out, 0xaa, sizeof(out));
		addr_of(c->af, c->src, a);
		n = toa_build(out, c->af, a, htons(c->sport));
		CHECK(n == c->want_len && memcmp(out, c->want, n) == 0 && out[n] == 0xaa,
		    "%s (%zu bytes)", c->what, n);
		if (n)
			CHECK(n % 4 == 0 && out[1] == n, "%s: its length byte, a multiple of 4",
			    c->what);
	}
	return unit_done();
}
