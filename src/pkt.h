/* pkt.h - a frame from the TAP: parsing with every field checked, and checksums */
#ifndef VSR_PKT_H
#define VSR_PKT_H

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdint.h>

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

#define TCPF_FIN  0x01
#define TCPF_SYN  0x02
#define TCPF_RST  0x04
#define TCPF_PSH  0x08
#define TCPF_ACK  0x10
#define TCPF_URG_ 0x20
#define TCPF_ECE_ 0x40
#define TCPF_CWR_ 0x80

/* PKT_GSO_SEG_HDR: room for one segment's IPv4 + TCP headers (pkt_gso_segment). */
#define PKT_GSO_SEG_HDR 120u

struct pkt {
	uint8_t  *buf;        /* virtio-net header, then the frame */
	uint8_t  *data;       /* the Ethernet frame (buf + PKT_VNET_LEN) */
	uint32_t  len;        /* frame length, trimmed to the IP total length */
	uint16_t  ethtype;    /* host order */
	uint16_t  l3off;      /* IP header offset in the frame */
	uint16_t  l4off;      /* transport header offset in the frame */
	uint16_t  l4len;      /* IP payload length */
	uint8_t   proto;
	uint8_t   tcpflags;   /* TCPF_* for TCP, 0 otherwise */
	uint32_t  saddr;      /* network order */
	uint32_t  daddr;
	uint16_t  sport;      /* network order; ICMP: 0 */
	uint16_t  dport;
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

#define PKT_CSUM_FULL    0    /* complete (or none, for UDP 0) */
#define PKT_CSUM_PARTIAL 1

static inline struct virtio_net_hdr *
pkt_vnet(const struct pkt *p)
{
	return (struct virtio_net_hdr *)p->buf;
}

/*
 * Parse the frame at BUF (virtio-net header + LEN bytes of frame). Fills P
 * and returns STAT_NONE, or the drop reason (STAT_DROP_*) when the frame
 * is malformed or not something the director handles. ARP frames return
 * STAT_NONE with ethtype ETHTYPE_ARP and only the Ethernet part parsed.
 * The virtio-net header is part of the frame's validity: unknown flags, a
 * GSO type other than TCPv4 (with or without ECN), GSO without
 * NEEDS_CSUM or with a zero segment size, NEEDS_CSUM on anything but TCP
 * or UDP or with a checksum start/offset other than the transport
 * header's checksum field, a header length beyond the frame: malformed.
 */
enum stat_id pkt_parse(struct pkt *p, uint8_t *buf, uint32_t len);

/*
 * Parse the IPv4 header + 8 bytes quoted inside an ICMP error at OFF (in
 * the frame of P): on success fill proto, addresses and ports of the
 * quoted packet and return 0; -1 when it is too short or malformed.
 */
struct pkt_quoted {
	uint8_t  proto;
	uint16_t off;         /* quoted IP header offset in the frame */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
};
int pkt_parse_quoted(const struct pkt *p, struct pkt_quoted *q);

/* ---- ARP ---- */

/* Ethernet + ARP for IPv4 over Ethernet, as on the wire (RFC 826). */
struct pkt_arp {
	uint8_t  dst[6];
	uint8_t  src[6];
	uint16_t ethtype;
	uint16_t htype;
	uint16_t ptype;
	uint8_t  hlen;
	uint8_t  plen;
	uint16_t op;
	uint8_t  sha[6];
	uint8_t  spa[4];
	uint8_t  tha[6];
	uint8_t  tpa[4];
} __attribute__((packed));

/*
 * F becomes ARP operation OP (ARPOP_*) from SHA/SPA about THA/TPA, in an
 * Ethernet frame from SHA to DST. Addresses in network order.
 */
void pkt_arp_fill(struct pkt_arp *f, uint16_t op, const uint8_t *dst, const uint8_t *sha,
    uint32_t spa, const uint8_t *tha, uint32_t tpa);
/* F, LEN bytes of frame, is ARP for IPv4 over Ethernet. */
int  pkt_arp_valid(const struct pkt_arp *f, uint32_t len);

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
 * checksum (its pseudo-header covers the addresses) are updated
 * incrementally. A UDP checksum of 0 (none sent) stays 0; an updated one
 * that comes out as 0 is sent as 0xffff (RFC 768). ADDR and PORT are in
 * network order.
 */
void pkt_set_saddr(struct pkt *p, uint32_t addr);
void pkt_set_daddr(struct pkt *p, uint32_t addr);
void pkt_set_sport(struct pkt *p, uint16_t port);
void pkt_set_dport(struct pkt *p, uint16_t port);

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
 * segments; pkt_gso_segment() writes segment I's IPv4 and TCP headers into
 * HDR (PKT_GSO_SEG_HDR bytes), returns their length and points *PAYLOAD
 * and *PLEN at its slice of P's payload (left in place). Each segment has
 * its IP total length, IP ID (the super-frame's + I) and header checksum,
 * its sequence number, FIN and PSH only if last, CWR only if first, and a
 * complete TCP checksum. P is not modified.
 */
unsigned pkt_gso_count(const struct pkt *p);
uint32_t pkt_gso_segment(const struct pkt *p, unsigned i, uint8_t *hdr,
    const uint8_t **payload, uint32_t *plen);

#endif
