/* pkt.h - IPv4's part of the packet layer: the header, ICMP, ARP */
#ifndef VSR_PKT_H
#define VSR_PKT_H

#include "wire.h"

extern const struct pkt_ops pkt_ops4;

/* pkt_parse's IPv4 part: the frame of LEN bytes after the Ethernet type (packet.h). */
enum stat_id pkt_parse4(struct pkt *p, uint32_t len);

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

#endif
