/* pkt.c - IPv4's part of the packet layer: the header and its options, ICMP, ARP */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if_arp.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "pkt.h"


/* Walk IPv4 options: each one must fit (RFC 791); EOL ends the list. */
static int
ip_options_ok(const uint8_t *opt, unsigned len)
{
	unsigned i = 0;

	while (i < len) {
		uint8_t type = opt[i];
		if (type == 0)          /* end of option list */
			return 1;
		if (type == 1) {        /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= len)
			return 0;
		uint8_t olen = opt[i + 1];
		if (olen < 2 || i + olen > len)
			return 0;
		i += olen;
	}
	return 1;
}

/*
 * Check an IPv4 header at IP with AVAIL bytes after it. On success returns
 * the header length and sets *TOT to the total length.
 */
static int
ip_header_ok(const uint8_t *ip, uint32_t avail, uint16_t *tot)
{
	if (avail < IP4_HLEN)
		return -1;
	if ((ip[IP4_VHL] >> 4) != 4)
		return -1;
	unsigned ihl = (ip[IP4_VHL] & 0x0f) * 4u;
	if (ihl < IP4_HLEN || ihl > avail)
		return -1;
	uint16_t t = rd16(ip + IP4_TOTLEN);
	if (t < ihl || t > avail)
		return -1;
	if (ihl > IP4_HLEN && !ip_options_ok(ip + IP4_HLEN, ihl - IP4_HLEN))
		return -1;
	*tot = t;
	return (int)ihl;
}

/* ICMP (RFC 792) types: what they are to the director. */
static uint8_t
icmp4_class(uint8_t type)
{
	switch (type) {
	case ICMP_ECHO:
		return PKT_ICMP_ECHO;
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return PKT_ICMP_ERROR;
	default:
		return PKT_ICMP_OTHER;
	}
}

enum stat_id
pkt_parse4(struct pkt *p, uint32_t len)
{
	const uint8_t *ip = p->data + ETH_HLEN_;
	uint16_t tot;
	int ihl = ip_header_ok(ip, len - ETH_HLEN_, &tot);
	enum stat_id r;

	if (ihl < 0)
		return STAT_DROP_MALFORMED;
	/* A header that the kernel would have refused is not forwarded. */
	if (csum_ip(ip, (unsigned)ihl) != 0)
		return STAT_DROP_MALFORMED;
	/* Ethernet padding and trailing garbage after the datagram go. */
	p->len = ETH_HLEN_ + tot;

	uint16_t frag = rd16(ip + IP4_FRAG);
	if (frag & 0x8000)                 /* reserved bit */
		return STAT_DROP_MALFORMED;
	if (frag & 0x1fff) {               /* a later fragment: no transport header */
		/* TCP's header is 20 bytes: one at 8 or 16 would rewrite its ports (RFC 1858). */
		if ((frag & 0x1fff) < 3 && ip[IP4_PROTO] == IPPROTO_TCP)
			return STAT_DROP_FRAG_OVERLAP;
		if ((uint32_t)(frag & 0x1fff) * 8u + tot - (unsigned)ihl > 65535u)
			return STAT_DROP_FRAG_MALFORMED;
		p->frag = PKT_FRAG_LATER;
	} else if (frag & 0x2000) {        /* MF at offset 0: the first one */
		p->frag = PKT_FRAG_FIRST;
	}
	p->frag_id = rd16(ip + IP4_ID);

	p->af = AF_INET;
	p->ops = &pkt_ops4;
	p->df = (ip[IP4_FRAG] & IP4_DF) != 0;
	p->l3off = ETH_HLEN_;
	p->l4off = (uint16_t)(ETH_HLEN_ + ihl);
	p->l4len = (uint16_t)(tot - ihl);
	p->proto = ip[IP4_PROTO];
	p->saddr = addr_from_ip(0);
	p->daddr = addr_from_ip(0);
	memcpy(&p->saddr.ip, ip + IP4_SADDR, 4);
	memcpy(&p->daddr.ip, ip + IP4_DADDR, 4);
	if ((r = pkt_parse_l4(p)) != STAT_NONE)
		return r;
	if (p->proto == IPPROTO_ICMP)
		p->icmp = icmp4_class(p->data[p->l4off]);
	return STAT_NONE;
}

static int
parse_quoted4(const struct pkt *p, struct pkt_quoted *q)
{
	/* The quoted datagram follows the ICMP header. */
	uint32_t off = p->l4off + ICMP_HLEN_;
	uint32_t avail = p->len > off ? p->len - off : 0;
	const uint8_t *ip = p->data + off;

	if (avail < IP4_HLEN || (ip[IP4_VHL] >> 4) != 4)
		return -1;
	unsigned ihl = (ip[IP4_VHL] & 0x0f) * 4u;
	/* The quoted total length may exceed what was quoted: not checked. */
	if (ihl < IP4_HLEN || ihl + 8 > avail)
		return -1;
	if (rd16(ip + IP4_FRAG) & 0x1fff)       /* not the first fragment: no ports */
		return -1;
	q->proto = ip[IP4_PROTO];
	q->off = (uint16_t)off;
	q->l4off = (uint16_t)(off + ihl);
	q->saddr = addr_from_ip(0);
	q->daddr = addr_from_ip(0);
	memcpy(&q->saddr.ip, ip + IP4_SADDR, 4);
	memcpy(&q->daddr.ip, ip + IP4_DADDR, 4);
	memcpy(&q->sport, ip + ihl, 2);
	memcpy(&q->dport, ip + ihl + 2, 2);
	return 0;
}

/* IPv4: the header checksum and the pseudo-header's. */
static void
set_addr4(struct pkt *p, int dst, const union vsr_addr *a)
{
	uint8_t *ip = p->data + p->l3off;
	uint32_t *field = dst ? &p->daddr.ip : &p->saddr.ip, addr = a->ip;
	uint16_t *c = pkt_l4_check(p);

	csum_replace4((uint16_t *)(ip + IP4_CSUM), *field, addr);
	if (c != NULL && p->csum == PKT_CSUM_PARTIAL) {
		csum_replace4_pseudo(c, *field, addr);
	} else if (c != NULL) {
		csum_replace4(c, *field, addr);
		pkt_l4_done(p, c);
	}
	memcpy(ip + (dst ? IP4_DADDR : IP4_SADDR), &addr, 4);
	*field = addr;
}

/* 32-bit field at AT: replaced, the checksum at CHECK (if any) updated. */
static void
put32(uint8_t *at, uint16_t *check, uint32_t v)
{
	uint32_t old;

	memcpy(&old, at, 4);
	if (check != NULL)
		csum_replace4(check, old, v);
	memcpy(at, &v, 4);
}

static void
put16(uint8_t *at, uint16_t *check, uint16_t v)
{
	uint16_t old;

	memcpy(&old, at, 2);
	if (check != NULL)
		csum_replace2(check, old, v);
	memcpy(at, &v, 2);
}

/* pkt_icmp_nat for IPv4 (pkt.h). */
static void
icmp_nat4(struct pkt *p, const union vsr_addr *osrc, const union vsr_addr *odst,
    const union vsr_addr *qsrc, uint16_t qsport, const union vsr_addr *qdst, uint16_t qdport)
{
	uint8_t *ip = p->data + p->l3off, *icmp = p->data + p->l4off;
	uint8_t *qip = icmp + ICMP_HLEN_;
	unsigned qihl = (qip[IP4_VHL] & 0x0f) * 4u;
	uint32_t have = p->len - p->l4off - ICMP_HLEN_;
	uint8_t *ql4 = qip + qihl;
	uint16_t *qcheck = NULL, zero = 0, c;

	put32(ip + IP4_SADDR, (uint16_t *)(ip + IP4_CSUM), osrc->ip);
	put32(ip + IP4_DADDR, (uint16_t *)(ip + IP4_CSUM), odst->ip);
	p->saddr = *osrc;
	p->daddr = *odst;

	if (qip[IP4_PROTO] == IPPROTO_TCP && have >= qihl + 18)
		qcheck = (uint16_t *)(ql4 + 16);
	else if (qip[IP4_PROTO] == IPPROTO_UDP && have >= qihl + 8 && memcmp(ql4 + 6, &zero, 2) != 0)
		qcheck = (uint16_t *)(ql4 + 6);
	put32(qip + IP4_SADDR, qcheck, qsrc->ip);
	put32(qip + IP4_DADDR, qcheck, qdst->ip);
	put16(ql4, qcheck, qsport);
	put16(ql4 + 2, qcheck, qdport);
	if (qcheck != NULL && qip[IP4_PROTO] == IPPROTO_UDP && *qcheck == 0)
		*qcheck = 0xffff;
	memset(qip + IP4_CSUM, 0, 2);
	c = csum_ip(qip, qihl);
	memcpy(qip + IP4_CSUM, &c, 2);
	memset(icmp + 2, 0, 2);
	c = csum_fold(csum_partial(icmp, p->l4len, 0));
	memcpy(icmp + 2, &c, 2);
}

/* An echo request turned around in place: addresses swapped, TTL 64, type echo reply. */
static void
echo_reply4(struct pkt *p)
{
	uint8_t *ip = p->data + p->l3off, *icmp = p->data + p->l4off;
	uint16_t *ipsum = (uint16_t *)(ip + IP4_CSUM), *icsum = (uint16_t *)(icmp + 2);
	union vsr_addr a = p->saddr;
	uint16_t old, new;

	memcpy(ip + IP4_SADDR, &p->daddr.ip, 4);
	memcpy(ip + IP4_DADDR, &p->saddr.ip, 4);
	p->saddr = p->daddr;
	p->daddr = a;
	/* TTL 64 (shares a 16-bit word with the protocol). */
	memcpy(&old, ip + IP4_TTL, 2);
	ip[IP4_TTL] = 64;
	memcpy(&new, ip + IP4_TTL, 2);
	csum_replace2(ipsum, old, new);
	/* Type 8 -> 0 (shares a word with the code). */
	memcpy(&old, icmp, 2);
	icmp[0] = ICMP_ECHOREPLY;
	memcpy(&new, icmp, 2);
	csum_replace2(icsum, old, new);
	/*
	 * An all-zero reply (identifier, sequence and data 0) sums to +0,
	 * which only a checksum of 0xffff makes right; 0xffff is right
	 * wherever 0 is (ICMP has no pseudo-header to make the sum non-zero).
	 */
	if (*icsum == 0)
		*icsum = 0xffff;
}

/* ICMP destination unreachable, fragmentation needed, quoting P's header and 8 bytes. */
static uint32_t
too_big4(const struct pkt *p, unsigned mtu, uint8_t *ip)
{
	const uint8_t *in = p->data + p->l3off;
	unsigned qlen = (unsigned)(in[IP4_VHL] & 0x0f) * 4 + 8;
	uint8_t *icmp = ip + IP4_HLEN;
	uint16_t v;

	if (qlen > p->len - p->l3off)
		qlen = p->len - p->l3off;
	memset(ip, 0, IP4_HLEN + ICMP_HLEN_);
	ip[IP4_VHL] = 0x45;
	ip[IP4_TOS] = 0xc0;             /* internetwork control, as the kernel's ICMP errors */
	v = htons((uint16_t)(IP4_HLEN + ICMP_HLEN_ + qlen));
	memcpy(ip + IP4_TOTLEN, &v, 2);
	ip[IP4_TTL] = 64;
	ip[IP4_PROTO] = IPPROTO_ICMP;
	memcpy(ip + IP4_SADDR, &p->daddr.ip, 4);   /* the VIP */
	memcpy(ip + IP4_DADDR, &p->saddr.ip, 4);   /* the client */
	v = csum_ip(ip, IP4_HLEN);
	memcpy(ip + IP4_CSUM, &v, 2);
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	v = htons((uint16_t)mtu);       /* next-hop MTU, RFC 1191 */
	memcpy(icmp + 6, &v, 2);
	memcpy(icmp + ICMP_HLEN_, in, qlen);
	v = csum_fold(csum_partial(icmp, ICMP_HLEN_ + qlen, 0));
	memcpy(icmp + 2, &v, 2);
	return IP4_HLEN + ICMP_HLEN_ + qlen;
}

static uint32_t
gso_segment4(const struct pkt *p, unsigned i, uint8_t *hdr, const uint8_t **payload,
    uint32_t *plen, bool partial)
{
	const uint8_t *ip = p->data + p->l3off, *th = p->data + p->l4off;
	unsigned ihl = p->l4off - p->l3off, doff;
	uint32_t pay, off = (uint32_t)i * p->gso_size, n, sum;
	uint8_t *tcp = hdr + ihl;
	uint16_t v;

	pkt_gso_lens(p, &doff, &pay);
	n = pay - off < p->gso_size ? pay - off : p->gso_size;
	*payload = th + doff + off;
	*plen = n;

	memcpy(hdr, ip, ihl);
	v = htons((uint16_t)(ihl + doff + n));
	memcpy(hdr + IP4_TOTLEN, &v, 2);
	v = htons((uint16_t)(rd16(ip + IP4_ID) + i));
	memcpy(hdr + IP4_ID, &v, 2);
	memset(hdr + IP4_CSUM, 0, 2);
	v = csum_ip(hdr, ihl);
	memcpy(hdr + IP4_CSUM, &v, 2);

	memcpy(tcp, th, doff);
	pkt_gso_tcp_fix(p, i, tcp, off);
	/* Pseudo-header (RFC 793): addresses, protocol, TCP length. */
	sum = csum_partial(ip + IP4_SADDR, 8, IPPROTO_TCP + doff + n);
	if (partial) {
		v = (uint16_t)~csum_fold(sum);  /* the pseudo-header's alone */
		memcpy(tcp + 16, &v, 2);
		return ihl + doff;
	}
	sum = csum_partial(tcp, doff, sum);
	sum = csum_partial(*payload, n, sum);
	v = csum_fold(sum);
	memcpy(tcp + 16, &v, 2);
	return ihl + doff;
}

const struct pkt_ops pkt_ops4 = {
	.af           = AF_INET,
	.icmp_proto   = IPPROTO_ICMP,
	.set_addr     = set_addr4,
	.parse_quoted = parse_quoted4,
	.icmp_nat     = icmp_nat4,
	.echo_reply   = echo_reply4,
	.too_big      = too_big4,
	.gso_segment  = gso_segment4,
};

void
pkt_arp_fill(struct pkt_arp *f, uint16_t op, const uint8_t *dst, const uint8_t *sha,
    uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	memcpy(f->dst, dst, 6);
	memcpy(f->src, sha, 6);
	f->ethtype = htons(ETH_P_ARP);
	f->htype = htons(ARPHRD_ETHER);
	f->ptype = htons(ETH_P_IP);
	f->hlen = 6;
	f->plen = 4;
	f->op = htons(op);
	memcpy(f->sha, sha, 6);
	memcpy(f->spa, &spa, 4);
	memcpy(f->tha, tha, 6);
	memcpy(f->tpa, &tpa, 4);
}

int
pkt_arp_valid(const struct pkt_arp *f, uint32_t len)
{
	return len >= sizeof(*f) && f->htype == htons(ARPHRD_ETHER) &&
	    f->ptype == htons(ETH_P_IP) && f->hlen == 6 && f->plen == 4;
}
