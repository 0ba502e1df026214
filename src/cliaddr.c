/* cliaddr.c - the client's address behind fullnat: PROXY protocol v2 headers and the TOA option */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "cliaddr.h"
#include "pkt.h"
#include "stats.h"

size_t
ppv2_build(uint8_t *out, int af, int proto, const void *src, uint16_t sport,
    const void *dst, uint16_t dport)
{
	unsigned alen = af == AF_INET ? 4u : af == AF_INET6 ? 16u : 0u;
	uint8_t *a = out + PPV2_FIXED_LEN;
	uint16_t blen;

	if (alen == 0 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 0;
	memcpy(out, PPV2_SIG, PPV2_SIG_LEN);
	out[12] = PPV2_VER_PROXY;
	out[13] = (uint8_t)((af == AF_INET ? PPV2_AF_INET : PPV2_AF_INET6) |
	    (proto == IPPROTO_TCP ? PPV2_STREAM : PPV2_DGRAM));
	/* What follows the fixed part: the addresses, then the ports. */
	blen = htons((uint16_t)(2 * alen + 4));
	memcpy(out + 14, &blen, 2);
	memcpy(a, src, alen);
	memcpy(a + alen, dst, alen);
	memcpy(a + 2 * alen, &sport, 2);
	memcpy(a + 2 * alen + 2, &dport, 2);
	return PPV2_FIXED_LEN + 2 * alen + 4;
}

size_t
toa_build(uint8_t *out, int af, const void *addr, uint16_t port)
{
	unsigned alen = af == AF_INET ? 4u : af == AF_INET6 ? 16u : 0u;

	if (alen == 0)
		return 0;
	out[0] = TOA_KIND;
	out[1] = (uint8_t)(4 + alen);
	memcpy(out + 2, &port, 2);
	memcpy(out + 4, addr, alen);
	return 4 + alen;
}

/* ---- the packet path ---- */

void
cliaddr_init(struct cliaddr_state *st, enum client_addr how, int af)
{
	memset(st, 0, sizeof(*st));
	st->how = (uint8_t)how;
	if (how == CA_PROXY_V2)
		st->len = (uint16_t)(af == AF_INET6 ? PPV2_LEN6 : PPV2_LEN4);
	else if (how == CA_TOA)
		st->len = (uint16_t)(af == AF_INET6 ? TOA_LEN6 : TOA_LEN4);
}




/* The packet's family. */
static inline int
ca_af(const struct pkt *p)
{
	return p->af;
}

void
cliaddr_synced(struct cliaddr_state *st, enum client_addr how, int af, const struct seqadj *sa)
{
	cliaddr_init(st, how, af);
	if (sa == NULL)
		return;
	st->sa = *sa;
	/* As the other director left it after the handshake's ACK carried the header. */
	st->flags = CA_F_ISN | CA_F_SENT;
}

/* A fragment (wire.h): 1 the first (the transport header is in it), 2 a later one, 0 none. */
static int
ca_fragment(const struct pkt *p)
{
	return p->frag;
}

/* The IP packet's length as its header says it (IPv4 total length). */
static uint32_t
ca_ip_len(const struct pkt *p)
{
	return p->len - p->l3off;
}

/*
 * The IP header's length field grows by N bytes: IPv4's total length (its
 * header checksum follows), IPv6's payload length.
 */
static void
ca_ip_grow(struct pkt *p, int n)
{
	uint8_t *ip = p->data + p->l3off;
	uint16_t old, new;

	if (ca_af(p) == AF_INET6) {
		memcpy(&old, ip + IP6_PLEN, 2);
		new = htons((uint16_t)(ntohs(old) + n));
		memcpy(ip + IP6_PLEN, &new, 2);
	} else {
		memcpy(&old, ip + IP4_TOTLEN, 2);
		new = htons((uint16_t)(ntohs(old) + n));
		csum_replace2((uint16_t *)(ip + IP4_CSUM), old, new);
		memcpy(ip + IP4_TOTLEN, &new, 2);
	}
	p->len = (uint32_t)((int)p->len + n);
	p->l4len = (uint16_t)(p->l4len + n);
}

/*
 * The pseudo-header sum (RFC 793, RFC 768; RFC 8200 8.1) of the addresses
 * of the IP header at IP, of family AF, and PROTO, LEN bytes of L4.
 */
static uint32_t
ca_pseudo(int af, const uint8_t *ip, uint8_t proto, uint32_t len)
{
	if (af == AF_INET6)
		return csum_partial(ip + IP6_SADDR, 32, proto + len);
	return csum_partial(ip + IP4_SADDR, 8, proto + len);
}

/*
 * The transport checksum CHECK after N bytes BYTES were put into what it
 * covers, at an even offset, and LENS 16-bit length fields it covers grew
 * by N each (the pseudo-header's; UDP's own too). A partial checksum holds
 * only the pseudo-header sum (folded, not complemented): its length grows,
 * the kernel sums the rest.
 */
static void
ca_csum_grow(const struct pkt *p, uint16_t *check, const uint8_t *bytes, unsigned n,
    unsigned lens)
{
	uint32_t s;

	if (p->csum == PKT_CSUM_PARTIAL) {
		s = ntohs(*check) + n;
		s = (s & 0xffff) + (s >> 16);
		*check = htons((uint16_t)s);
		return;
	}
	s = (uint16_t)~ntohs(*check);
	s += csum_partial(bytes, n, 0);
	s += n * lens;
	*check = csum_fold(s);
	if (p->proto == IPPROTO_UDP && *check == 0)
		*check = 0xffff;
}

/*
 * Make room for N bytes at AT in P's frame (what follows moves on); 0, or
 * -1 when the frame or the IP packet would be too long.
 */
static int
ca_open(struct pkt *p, uint8_t *at, unsigned n)
{
	uint8_t *end = p->data + p->len;

	if (p->len + n > PKT_FRAME_MAX || ca_ip_len(p) + n > 65535)
		return -1;
	memmove(at + n, at, (size_t)(end - at));
	return 0;
}

/* The header for E into BUF; its length. */
static size_t
ca_header(const struct cliaddr_ends *e, int proto, uint8_t *buf)
{
	return ppv2_build(buf, e->af, proto, e->caddr, e->cport, e->vaddr, e->vport);
}

/* proxy-v2, UDP: the header before the payload. 0, or -1 when it did not fit. */
static int
ca_udp(struct cliaddr_state *st, const struct cliaddr_flow *f, unsigned mtu, struct pkt *p)
{
	struct cliaddr_ends e;
	uint8_t *ip = p->data + p->l3off, *udp = p->data + p->l4off;
	unsigned n = st->len;
	uint16_t *check = (uint16_t *)(udp + 6), ulen;
	bool df = p->df;
	int frag = ca_fragment(p);

	(void)ip;
	if (frag == 2)
		return 0;               /* no UDP header here; the first fragment was counted */
	if (frag == 1 || (mtu && df && ca_ip_len(p) + n > mtu) ||
	    ca_open(p, udp + 8, n) < 0) {
		STAT_INC(STAT_CA_OVERSIZE);
		return -1;
	}
	f->ends(f->arg, &e);
	ca_header(&e, IPPROTO_UDP, udp + 8);
	ulen = htons((uint16_t)(rd16(udp + 4) + n));
	memcpy(udp + 4, &ulen, 2);
	/* UDP sent without a checksum (IPv4's 0) stays without; else it covers both lengths. */
	if (*check != 0 || p->csum == PKT_CSUM_PARTIAL)
		ca_csum_grow(p, check, udp + 8, n, 2);
	ca_ip_grow(p, (int)n);
	STAT_INC(STAT_CA_PROXY_DGRAM);
	return 0;
}

/*
 * Data in a SYN (TCP Fast Open) would reach the real server before the
 * header: it goes, the SYN stays (the client sends the data again once
 * the handshake is done).
 */
static void
ca_syn_trim(struct pkt *p, unsigned doff)
{
	uint8_t *ip = p->data + p->l3off, *tcp = p->data + p->l4off;
	unsigned pay = p->l4len - doff;
	uint16_t *check = (uint16_t *)(tcp + 16);
	uint32_t s;

	ca_ip_grow(p, -(int)pay);
	if (p->csum == PKT_CSUM_PARTIAL) {
		s = ntohs(*check) + (uint16_t)~pay;
		s = (s & 0xffff) + (s >> 16);
		*check = htons((uint16_t)s);
	} else {
		*check = 0;
		*check = csum_fold(csum_partial(tcp, doff, ca_pseudo(ca_af(p), ip, IPPROTO_TCP, doff)));
	}
	STAT_INC(STAT_CA_SYN_DATA);
}

/* proxy-v2: the header at the start of P's payload, in place (P at the stream's start). */
static int
ca_insert(struct cliaddr_state *st, const struct cliaddr_flow *f, struct pkt *p, unsigned doff)
{
	uint8_t *tcp = p->data + p->l4off;
	unsigned n = st->len;
	struct cliaddr_ends e;

	if (ca_open(p, tcp + doff, n) < 0)
		return -1;
	f->ends(f->arg, &e);
	ca_header(&e, IPPROTO_TCP, tcp + doff);
	ca_csum_grow(p, (uint16_t *)(tcp + 16), tcp + doff, n, 1);
	ca_ip_grow(p, (int)n);
	return 0;
}

/*
 * proxy-v2: the header in a segment of its own, at the stream's start,
 * into PRE: P's headers (addresses rewritten, options as they are), ACK
 * and PSH, the header as payload, a complete checksum and no offload.
 * Returns the frame's length with its virtio-net header, 0 if P's headers
 * are too long to copy.
 */
static uint32_t
ca_pre(struct cliaddr_state *st, const struct cliaddr_flow *f, const struct pkt *p,
    unsigned doff, uint8_t *pre)
{
	struct cliaddr_ends e;
	uint8_t *frame = pre + PKT_VNET_LEN, *ip, *tcp;
	unsigned hl = p->l4off + doff, n = st->len, ihl = p->l4off - p->l3off;
	uint16_t v;

	if (PKT_VNET_LEN + hl + n > CLIADDR_PRE_MAX)
		return 0;
	memset(pre, 0, PKT_VNET_LEN);
	memcpy(frame, p->data, hl);
	ip = frame + p->l3off;
	tcp = frame + p->l4off;
	f->ends(f->arg, &e);
	ca_header(&e, IPPROTO_TCP, tcp + doff);
	if (ca_af(p) == AF_INET6) {
		/* the payload length covers the extension headers copied with it */
		v = htons((uint16_t)(ihl - IP6_HLEN + doff + n));
		memcpy(ip + IP6_PLEN, &v, 2);
	} else {
		v = htons((uint16_t)(ihl + doff + n));
		memcpy(ip + IP4_TOTLEN, &v, 2);
		ip[IP4_FRAG] &= IP4_DF;         /* a fragment's copy is no fragment */
		ip[IP4_FRAG + 1] = 0;
		memset(ip + IP4_CSUM, 0, 2);
		v = csum_ip(ip, ihl);
		memcpy(ip + IP4_CSUM, &v, 2);
	}
	wr32(tcp + 4, st->sa.in.init_seq + 1);
	tcp[13] = (uint8_t)((tcp[13] & (TCPF_ACK | TCPF_ECE_)) | TCPF_PSH);
	memset(tcp + 16, 0, 4);         /* checksum, urgent pointer */
	v = csum_fold(csum_partial(tcp, doff + n, ca_pseudo(ca_af(p), ip, IPPROTO_TCP, doff + n)));
	memcpy(tcp + 16, &v, 2);
	return PKT_VNET_LEN + hl + n;
}

/*
 * toa: the option right after the TCP header's fixed part (what follows
 * moves on), when P may still carry it and has room: a pure ACK before the
 * client acknowledged any of the server's data (the handshake's, and its
 * repeats), and the client's data until one segment of it carried it.
 */
static void
ca_toa(struct cliaddr_state *st, const struct cliaddr_flow *f, unsigned mtu, struct pkt *p)
{
	uint8_t *tcp = p->data + p->l4off, opt[TOA_MAX];
	struct virtio_net_hdr *h = pkt_vnet(p);
	unsigned n = st->len, doff, pay;
	uint16_t *check = (uint16_t *)(tcp + 16), old, new;
	struct cliaddr_ends e;

	if (!(st->flags & CA_F_SRV) || (tcp[13] & (TCPF_SYN | TCPF_RST)) ||
	    !(tcp[13] & TCPF_ACK) || rd32(tcp + 8) != st->srv_next)
		return;                 /* not a first packet: the server's data was acknowledged */
	doff = (tcp[12] >> 4) * 4u;
	pay = p->l4len - doff;
	if (pay > 0 && (st->flags & CA_F_DATA))
		return;                 /* the client's data went with one already */
	if (p->gso_size || ca_fragment(p) || doff + n > 60 ||
	    (mtu && ca_ip_len(p) + n > mtu) || ca_open(p, tcp + 20, n) < 0) {
		STAT_INC(STAT_CA_TOA_NOROOM);
		return;
	}
	f->ends(f->arg, &e);
	toa_build(opt, e.af, e.caddr, e.cport);
	memcpy(tcp + 20, opt, n);
	memcpy(&old, tcp + 12, 2);
	tcp[12] = (uint8_t)(((doff + n) / 4) << 4 | (tcp[12] & 0x0f));
	memcpy(&new, tcp + 12, 2);
	if (p->csum != PKT_CSUM_PARTIAL)
		csum_replace2(check, old, new);
	ca_csum_grow(p, check, opt, n, 1);
	ca_ip_grow(p, (int)n);
	if (h->hdr_len)
		h->hdr_len = (uint16_t)(h->hdr_len + n);
	if (pay > 0)
		st->flags |= CA_F_DATA;
	STAT_INC(STAT_CA_TOA);
}

/* The steady state of proxy-v2: the header acknowledged, only the client's sequence number moves. */
static void
ca_shift(const struct cliaddr_state *st, struct pkt *p, uint8_t *tcp)
{
	uint32_t old, new;

	memcpy(&old, tcp + 4, 4);
	new = htonl(seqadj_seq(&st->sa.in, ntohl(old)));
	if (p->csum != PKT_CSUM_PARTIAL)
		csum_replace4((uint16_t *)(tcp + 16), old, new);
	memcpy(tcp + 4, &new, 4);
}

uint32_t
cliaddr_in(struct cliaddr_state *st, const struct cliaddr_flow *f, unsigned mtu,
    struct pkt *p, uint8_t *pre)
{
	uint8_t *tcp = p->data + p->l4off;
	uint16_t *check;
	unsigned doff, pay;
	uint32_t seq, start, len = 0;
	uint8_t fl;

	if (p->proto != IPPROTO_TCP) {
		if (p->proto == IPPROTO_UDP && st->how == CA_PROXY_V2)
			(void)ca_udp(st, f, mtu, p);
		return 0;
	}
	if (ca_fragment(p) == 2)
		return 0;               /* no TCP header in it */
	if (st->how == CA_TOA) {
		ca_toa(st, f, mtu, p);
		return 0;
	}
	if (st->how != CA_PROXY_V2)
		return 0;
	if ((st->flags & CA_F_ACKED) && !seqadj_dir_active(&st->sa.out)) {
		ca_shift(st, p, tcp);
		return 0;
	}

	doff = (tcp[12] >> 4) * 4u;
	pay = p->l4len - doff;
	seq = rd32(tcp + 4);
	fl = tcp[13];
	if ((fl & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN) {
		if (!(st->flags & CA_F_SENT)) {
			memset(&st->sa.in, 0, sizeof(st->sa.in));
			seqadj_shift(&st->sa.in, seq, (int32_t)st->len);
			st->flags |= CA_F_ISN;
		}
		if (pay)
			ca_syn_trim(p, doff);
		return 0;
	}
	if (!(st->flags & CA_F_ISN) || (fl & TCPF_SYN))
		return 0;
	start = st->sa.in.init_seq + 1;
	if (!(fl & TCPF_RST)) {
		/* The handshake's ACK, or an ACK while the header is not acknowledged. */
		if (seq == start && pay == 0 && !(st->flags & CA_F_ACKED) && !ca_fragment(p) &&
		    ca_insert(st, f, p, doff) == 0) {
			st->flags = (uint8_t)((st->flags | CA_F_SENT) & ~CA_F_RESEND);
			STAT_INC(STAT_CA_PROXY_SENT);
			return 0;
		}
		if ((st->flags & CA_F_RESEND) || (seq == start && pay > 0 &&
		    (!(st->flags & CA_F_SENT) ||
		    ((st->flags & CA_F_DATA) && !(st->flags & CA_F_ACKED))))) {
			len = ca_pre(st, f, p, doff, pre);
			if (len) {
				st->flags = (uint8_t)((st->flags | CA_F_SENT) & ~CA_F_RESEND);
				STAT_INC(STAT_CA_PROXY_RESENT);
			}
		}
		if (seq == start && pay > 0)
			st->flags |= CA_F_DATA;
	}
	check = p->csum == PKT_CSUM_PARTIAL ? NULL : (uint16_t *)(tcp + 16);
	seqadj_tcp(&st->sa, SEQADJ_IN, tcp, doff, check, NULL);
	return len;
}

void
cliaddr_out(struct cliaddr_state *st, struct pkt *p)
{
	uint8_t *tcp = p->data + p->l4off;
	unsigned sack = 0;
	uint32_t ack, isn;
	uint8_t fl;

	if (p->proto != IPPROTO_TCP || ca_fragment(p) == 2)
		return;
	fl = tcp[13];
	if (st->how == CA_TOA) {
		if (!(st->flags & CA_F_SRV) && (fl & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK)) {
			st->srv_next = rd32(tcp + 4) + 1;
			st->flags |= CA_F_SRV;
		}
		return;
	}
	if (st->how != CA_PROXY_V2 || !(st->flags & CA_F_ISN) || !(fl & TCPF_ACK))
		return;
	if ((st->flags & (CA_F_SENT | CA_F_ACKED)) == CA_F_SENT && !(fl & (TCPF_SYN | TCPF_RST))) {
		ack = rd32(tcp + 8);
		isn = st->sa.in.init_seq;
		if (seq_after(ack, isn + st->len))
			st->flags = (uint8_t)((st->flags | CA_F_ACKED) & ~CA_F_RESEND);
		else if (seq_after(ack, isn))
			st->flags |= CA_F_RESEND;
	}
	seqadj_tcp(&st->sa, SEQADJ_OUT, tcp, (tcp[12] >> 4) * 4u,
	    p->csum == PKT_CSUM_PARTIAL ? NULL : (uint16_t *)(tcp + 16), &sack);
	if (sack)
		STAT_INC(STAT_SEQADJ_SACK);
}

void
cliaddr_icmp(const struct cliaddr_state *st, enum seqadj_way way, struct pkt *p)
{
	struct pkt_quoted q;
	uint8_t *tcp;
	uint32_t have;

	if (st->how != CA_PROXY_V2 || !seqadj_active(&st->sa) || pkt_parse_quoted(p, &q) < 0 ||
	    q.proto != IPPROTO_TCP)
		return;
	tcp = p->data + q.l4off;
	have = p->len - q.l4off;
	seqadj_quoted(&st->sa, way, tcp, have >= 18 ? (uint16_t *)(tcp + 16) : NULL);
}
