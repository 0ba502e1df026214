/* pkt6.h - IPv6's part of the packet layer: extension headers, pseudo-header, ICMPv6, ND */
#ifndef VSR_PKT6_H
#define VSR_PKT6_H

#include "wire.h"

extern const struct pkt_ops pkt_ops6;

/* pkt_parse's IPv6 part (pkt6.c): the frame of LEN bytes after the Ethernet type. */
enum stat_id pkt_parse6(struct pkt *p, uint32_t len);

/*
 * csum_replace4() and csum_replace4_pseudo() (wire.h) for a 128-bit
 * field, an IPv6 address: FROM and TO 16 bytes, network order.
 */
void csum_replace16(uint16_t *check, const void *from, const void *to);
void csum_replace16_pseudo(uint16_t *check, const void *from, const void *to);

/* ---- IPv6 neighbour discovery (RFC 4861), pkt6.c ---- */

/*
 * The target of the neighbour solicitation P (p->icmp PKT_ICMP_NS), once
 * checked: hop limit 255, code 0, a target that is not multicast, options
 * each of non-zero length within the message, no source link-layer
 * address option from the unspecified address. 0, or -1.
 */
int pkt_nd_ns_target(const struct pkt *p, union vsr_addr *target);

#define ND_NA_ROUTER    0x80    /* the flags of a neighbour advertisement */
#define ND_NA_SOLICITED 0x40
#define ND_NA_OVERRIDE  0x20
#define PKT_ND_LEN      (ETH_HLEN_ + IP6_HLEN + 32u)    /* NS or NA with one option */

/*
 * A neighbour advertisement for TARGET at MAC, flags FLAGS, from SRC to
 * DST (the all-nodes group ff02::1 for an unsolicited one), in an Ethernet
 * frame from MAC to DMAC, written at ETH: PKT_ND_LEN bytes.
 */
uint32_t pkt_nd_na_fill(uint8_t *eth, const uint8_t *dmac, const uint8_t *mac,
    const union vsr_addr *src, const union vsr_addr *dst, const union vsr_addr *target,
    uint8_t flags);
/*
 * A neighbour solicitation for TARGET from SRC (with MAC as its source
 * link-layer address; SRC may be the unspecified address, then without
 * it), to TARGET's solicited-node group, written at ETH: PKT_ND_LEN bytes
 * at most; returns the length.
 */
uint32_t pkt_nd_ns_fill(uint8_t *eth, const uint8_t *mac, const union vsr_addr *src,
    const union vsr_addr *target);
/*
 * A neighbour advertisement of LEN bytes at ETH (an Ethernet frame from a
 * link): 0 with its target and the MAC it advertises (its target
 * link-layer address option, else the frame's source), or -1 when it is
 * not a valid one (RFC 4861 7.1.2).
 */
int pkt_nd_na_parse(const uint8_t *eth, uint32_t len, union vsr_addr *target, uint8_t *mac);

/* The sum of the IPv6 pseudo-header (RFC 8200 8.1), not folded. */
uint32_t csum_pseudo6(const union vsr_addr *src, const union vsr_addr *dst, uint32_t len,
    uint8_t nxt);

#endif
