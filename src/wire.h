/* wire.h - the frame layer both families sit on: virtio-net header, Ethernet, shared fields, checksums */
#ifndef VSR_WIRE_H
#define VSR_WIRE_H

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "stats.h"

/*
 * Receive buffers hold the virtio-net header the TAP hands us with
 * IFF_VNET_HDR, immediately followed by the Ethernet frame; the same
 * layout goes out on an AF_PACKET socket with PACKET_VNET_HDR, so a frame
 * is forwarded without a copy. 10 + 14 bytes put the IP header on a
 * 4-byte boundary. Sized for 64 KB GSO super-frames.
 */
#define PKT_VNET_LEN   ((uint32_t)sizeof(struct virtio_net_hdr))
#define PKT_FRAME_MAX  (65535u + 14u + 4u)
#define PKT_BUF_SIZE   (PKT_VNET_LEN + PKT_FRAME_MAX)
/* Buffers side by side start 16-byte aligned, so each IP header is 8-byte aligned. */
#define PKT_BUF_STRIDE ((PKT_BUF_SIZE + 15u) & ~15u)

#define ETH_HLEN_      14u
#define ETHTYPE_IPV4   0x0800
#define ETHTYPE_ARP    0x0806
#define ETHTYPE_IPV6   0x86dd

/* IPv4 header fields (RFC 791), as offsets from the header's first byte. */
#define IP4_VHL        0       /* version and header length */
#define IP4_TOS        1
#define IP4_TOTLEN     2
#define IP4_ID         4
#define IP4_FRAG       6       /* flags and fragment offset */
#define IP4_TTL        8
#define IP4_PROTO      9
#define IP4_CSUM       10
#define IP4_SADDR      12
#define IP4_DADDR      16
#define IP4_HLEN       20u     /* without options */
#define IP4_DF         0x40    /* don't fragment, in the byte at IP4_FRAG */

/* The ICMP header before an error's quote (RFC 792); types: <netinet/ip_icmp.h>. */
#define ICMP_HLEN_     8u

/* IPv6 header fields (RFC 8200), as offsets from the header's first byte. */
#define IP6_VTCFL      0       /* version, traffic class, flow label */
#define IP6_PLEN       4       /* payload length */
#define IP6_NXT        6       /* next header */
#define IP6_HLIM       7
#define IP6_SADDR      8
#define IP6_DADDR      24
#define IP6_HLEN       40u
#define IP6_MIN_MTU    1280u   /* every link carries this much (RFC 8200 5) */
/*
 * Extension headers followed at most before the transport header; more
 * is not a packet anyone sends (RFC 8200 4.1's order has six kinds).
 */
#define IP6_EXT_MAX    8

/* ICMPv6 (RFC 4443) message header before an error's quote; types: <netinet/icmp6.h>. */
#define ICMP6_HLEN_    8u

#define TCPF_FIN  0x01
#define TCPF_SYN  0x02
#define TCPF_RST  0x04
#define TCPF_PSH  0x08
#define TCPF_ACK  0x10
#define TCPF_URG_ 0x20
#define TCPF_ECE_ 0x40
#define TCPF_CWR_ 0x80

/*
 * PKT_GSO_SEG_HDR: room for one segment's IP and TCP headers
 * (pkt_gso_segment): IPv4's 60 + 60, or IPv6's 40 and extension headers
 * + 60; a super-frame whose headers are longer is refused by the parser.
 */
#define PKT_GSO_SEG_HDR 160u

/* The largest ICMP error built here (pkt_too_big): IPv6's minimum MTU. */
#define PKT_TOO_BIG_MAX IP6_MIN_MTU

/* What an ICMP or ICMPv6 message is to the director (pkt_parse: p->icmp). */
enum pkt_icmp {
	PKT_ICMP_OTHER,         /* informational, or chatter of the TAP link */
	PKT_ICMP_ECHO,          /* an echo request */
	PKT_ICMP_ERROR,         /* an error quoting a packet: unreachable, too big, ... */
	PKT_ICMP_NS,            /* an IPv6 neighbour solicitation */
	PKT_ICMP_LINK,          /* IPv6 link chatter: router and listener messages, to a group */
};

struct pkt_ops;

struct pkt {
	uint8_t  *buf;        /* virtio-net header, then the frame */
	uint8_t  *data;       /* the Ethernet frame (buf + PKT_VNET_LEN) */
	uint32_t  len;        /* frame length, trimmed to the IP total length */
	uint16_t  ethtype;    /* host order */
	uint16_t  l3off;      /* IP header offset in the frame */
	uint16_t  l4off;      /* transport header offset in the frame */
	uint16_t  l4len;      /* IP payload length */
	uint8_t   proto;      /* TCP, UDP, ICMP or ICMPv6 */
	uint8_t   tcpflags;   /* TCPF_* for TCP, 0 otherwise */
	uint8_t   af;         /* AF_INET, AF_INET6; 0 for ARP */
	uint8_t   icmp;       /* enum pkt_icmp of an ICMP or ICMPv6 message */
	uint8_t   df;         /* no router may fragment it: IPv4's DF, any IPv6 packet */
	uint8_t   frag;       /* PKT_FRAG_*: a fragment (frag.h) */
	uint32_t  frag_id;    /* a fragment's datagram: IPv4's 16-bit or IPv6's 32-bit id */
	uint16_t  sport;      /* network order; ICMP: 0 */
	uint16_t  dport;
	union vsr_addr saddr;
	union vsr_addr daddr;
	const struct pkt_ops *ops;  /* the family's functions, set by pkt_parse */
	/*
	 * From the virtio-net header (checked by pkt_parse): PKT_CSUM_PARTIAL
	 * when the TCP/UDP checksum field holds only the pseudo-header sum
	 * (VIRTIO_NET_HDR_F_NEEDS_CSUM: folded, not complemented, payload
	 * and ports not in it); gso_size non-zero for a TCP super-frame that
	 * is to be cut into segments of gso_size payload bytes.
	 */
	uint8_t   csum;       /* PKT_CSUM_* */
	uint16_t  gso_size;
};

/*
 * A fragment of TCP or UDP (RFC 791, RFC 8200 4.5): the first one holds
 * the transport header whole (ports parsed, lengths those of the whole
 * datagram); a later one has none (sport and dport 0 until frag_in gives
 * it its first one's, l4off at its slice of the payload, nothing there
 * rewritten). Fragments carry no offload: a virtio-net header with
 * NEEDS_CSUM or GSO on one is malformed.
 */
#define PKT_FRAG_NONE    0
#define PKT_FRAG_FIRST   1
#define PKT_FRAG_LATER   2

#define PKT_CSUM_FULL    0    /* complete (or none, for UDP 0) */
#define PKT_CSUM_PARTIAL 1

static inline struct virtio_net_hdr *
pkt_vnet(const struct pkt *p)
{
	return (struct virtio_net_hdr *)p->buf;
}

/*
 * The family's parts, chosen once per packet by pkt_parse (p->ops): the
 * rest of the packet path is one code for both families and calls these
 * through the wrappers below.
 */
struct pkt_quoted;
struct pkt_ops {
	int      af;
	uint8_t  icmp_proto;  /* IPPROTO_ICMP, IPPROTO_ICMPV6 */
	void     (*set_addr)(struct pkt *p, int dst, const union vsr_addr *a);
	int      (*parse_quoted)(const struct pkt *p, struct pkt_quoted *q);
	void     (*icmp_nat)(struct pkt *p, const union vsr_addr *osrc, const union vsr_addr *odst,
	    const union vsr_addr *qsrc, uint16_t qsport, const union vsr_addr *qdst,
	    uint16_t qdport);
	void     (*echo_reply)(struct pkt *p);
	uint32_t (*too_big)(const struct pkt *p, unsigned mtu, uint8_t *ip);
	uint32_t (*gso_segment)(const struct pkt *p, unsigned i, uint8_t *hdr,
	    const uint8_t **payload, uint32_t *plen, bool partial);
};

/*
 * Parse the IP header (and, for IPv6, its extension headers) + 8 bytes
 * quoted inside an ICMP or ICMPv6 error of P: on success fill proto,
 * addresses and ports of the quoted packet and return 0; -1 when it is too
 * short, malformed, or a fragment that does not start the datagram.
 */
struct pkt_quoted {
	uint8_t  proto;
	uint16_t off;         /* quoted IP header offset in the frame */
	uint16_t l4off;       /* quoted transport header offset in the frame */
	union vsr_addr saddr, daddr;
	uint16_t sport, dport;
};
static inline int
pkt_parse_quoted(const struct pkt *p, struct pkt_quoted *q)
{
	return p->ops->parse_quoted(p, q);
}

/* ---- Internet checksum (RFC 1071) and incremental update (RFC 1624) ---- */

/* One's-complement sum of LEN bytes at DATA added to SUM (not folded). */
uint32_t csum_partial(const void *data, uint32_t len, uint32_t sum);
/* Fold a 32-bit sum to 16 bits and complement it. */
uint16_t csum_fold(uint32_t sum);
/* IPv4 header checksum over IHL*4 bytes (the field itself included as is). */
uint16_t csum_ip(const void *iph, unsigned ihl);

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). CHECK points at a checksum
 * field (network order); FROM and TO are the old and new values of a
 * 16-bit or 32-bit field covered by it (network order).
 */
void csum_replace2(uint16_t *check, uint16_t from, uint16_t to);
void csum_replace4(uint16_t *check, uint32_t from, uint32_t to);

/*
 * NAT rewrites of a parsed TCP or UDP packet P: the field is changed and
 * P's copy of it too; the IPv4 header checksum (addresses) and the TCP/UDP
 * checksum (its pseudo-header covers the addresses, 128-bit ones for
 * IPv6) are updated incrementally. A UDP checksum of 0 (none sent, IPv4
 * only) stays 0; an updated one that comes out as 0 is sent as 0xffff
 * (RFC 768). ADDR is of P's family; PORT is in network order.
 */
static inline void
pkt_set_saddr(struct pkt *p, const union vsr_addr *addr)
{
	p->ops->set_addr(p, 0, addr);
}

static inline void
pkt_set_daddr(struct pkt *p, const union vsr_addr *addr)
{
	p->ops->set_addr(p, 1, addr);
}

void pkt_set_sport(struct pkt *p, uint16_t port);
void pkt_set_dport(struct pkt *p, uint16_t port);

/*
 * nat and fullnat of an ICMP or ICMPv6 error P about a connection: the
 * outer source and destination become OSRC and ODST, the quoted packet
 * QSRC:QSPORT -> QDST:QDPORT. The quoted TCP/UDP checksum is updated when
 * it was quoted (a UDP 0 stays 0), the quoted IPv4 header checksum and the
 * ICMP checksum (over the quote; for ICMPv6 the pseudo-header too)
 * computed again; the rest, the MTU of "fragmentation needed" or "packet
 * too big" among it, is left as it is.
 */
static inline void
pkt_icmp_nat(struct pkt *p, const union vsr_addr *osrc, const union vsr_addr *odst,
    const union vsr_addr *qsrc, uint16_t qsport, const union vsr_addr *qdst, uint16_t qdport)
{
	p->ops->icmp_nat(p, osrc, odst, qsrc, qsport, qdst, qdport);
}

/* An echo request P turned, in place, into its reply (addresses swapped, TTL 64). */
static inline void
pkt_echo_reply(struct pkt *p)
{
	p->ops->echo_reply(p);
}

/*
 * The error that tells P's sender that P (or, for a super-frame, its
 * segments) does not fit a link of MTU: ICMP fragmentation needed (RFC
 * 792, RFC 1191) or ICMPv6 packet too big (RFC 4443), from P's destination
 * to its source, quoting as much of P as the family allows. The IP packet
 * is written at IP (PKT_TOO_BIG_MAX bytes of room); returns its length.
 */
static inline uint32_t
pkt_too_big(const struct pkt *p, unsigned mtu, uint8_t *ip)
{
	return p->ops->too_big(p, mtu, ip);
}

/*
 * The pseudo-header sum of a NEEDS_CSUM packet after an address in it
 * changed from FROM to TO (network order): folded, not complemented, as
 * the kernel's inet_proto_csum_replace4() does for CHECKSUM_PARTIAL. The
 * payload and the ports are summed later by whoever completes it.
 */
void csum_replace4_pseudo(uint16_t *check, uint32_t from, uint32_t to);

/*
 * Complete the TCP/UDP checksum of a PKT_CSUM_PARTIAL packet that is not
 * a GSO super-frame (for an output that takes no virtio-net header): the
 * sum from the transport header to the end, the field's pseudo-header sum
 * included. P becomes PKT_CSUM_FULL.
 */
void pkt_csum_finish(struct pkt *p);

/*
 * TCP segmentation of a GSO super-frame P (gso_size != 0), segment by
 * segment, as the kernel's tcp_gso_segment() would cut it: pkt_gso_count()
 * segments; pkt_gso_segment() writes segment I's IP and TCP headers into
 * HDR (PKT_GSO_SEG_HDR bytes), returns their length and points *PAYLOAD
 * and *PLEN at its slice of P's payload (left in place). Each segment has
 * its IP length (IPv4: total length, ID the super-frame's + I, header
 * checksum; IPv6: payload length, extension headers copied), its sequence
 * number, FIN and PSH only if last, CWR only if first, and a complete TCP
 * checksum. P is not modified.
 */
unsigned pkt_gso_count(const struct pkt *p);
static inline uint32_t
pkt_gso_segment(const struct pkt *p, unsigned i, uint8_t *hdr, const uint8_t **payload,
    uint32_t *plen)
{
	return p->ops->gso_segment(p, i, hdr, payload, plen, false);
}

/*
 * The same segment with its TCP checksum left partial: the field holds
 * the pseudo-header sum only (folded, not complemented), for a receiver
 * that completes it (GUE's remote checksum offload, tunnel.c); the
 * payload is not read.
 */
static inline uint32_t
pkt_gso_segment_partial(const struct pkt *p, unsigned i, uint8_t *hdr,
    const uint8_t **payload, uint32_t *plen)
{
	return p->ops->gso_segment(p, i, hdr, payload, plen, true);
}

/* ---- helpers shared by the families' parts (pkt.c, pkt6.c), in wire.c ---- */

/* The TCP/UDP checksum field of P, or NULL (UDP without one, ICMP). */
uint16_t *pkt_l4_check(struct pkt *p);
/* A TCP/UDP checksum field just updated: UDP's 0 is sent as 0xffff. */
void pkt_l4_done(const struct pkt *p, uint16_t *c);
/* The TCP header length and payload length of a super-frame. */
void pkt_gso_lens(const struct pkt *p, unsigned *doff, uint32_t *payload);
/* A segment's TCP header: sequence number, FIN, PSH, CWR (pkt_gso_segment). */
void pkt_gso_tcp_fix(const struct pkt *p, unsigned i, uint8_t *tcp, uint32_t off);
/*
 * The checks of the transport header shared by the families: TCP's data
 * offset, UDP's length, ICMP's size, the virtio-net header (pkt.c).
 */
enum stat_id pkt_parse_l4(struct pkt *p);

/* ---- TCP options (RFC 9293 3.1) ---- */

#define TCPOPT_EOL_      0
#define TCPOPT_NOP_      1
#define TCPOPT_MSS_      2       /* 4 bytes: kind, length, the MSS */
#define TCPOPT_SACK_     5       /* RFC 2018: 2 + 8 bytes per block */

/*
 * Walk the options OPT (LEN bytes: what follows a TCP header's fixed 20)
 * from *AT on, NOPs passed over: the offset in OPT of the next option
 * with a length (its kind at OPT[i], its whole length, kind and length
 * bytes included, at OPT[i + 1]: at least 2 and within LEN), *AT moved
 * past it. -1, *AT at LEN, at the end of the list: EOL, LEN reached, or
 * an option that does not fit (no length byte left, a length below 2,
 * one past LEN), after which no option can be found. Start with *AT 0.
 */
int tcp_opt_next(const uint8_t *opt, unsigned len, unsigned *at);

/* Big-endian fields of a frame, at any alignment. */
static inline uint16_t
rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t
rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void
wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

#endif
