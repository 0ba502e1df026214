/* packet.h - a frame from the TAP parsed, whichever its family: the dispatch above pkt.c and pkt6.c */
#ifndef VSR_PACKET_H
#define VSR_PACKET_H

#include "pkt.h"
#include "pkt6.h"

/*
 * Parse the frame at BUF (virtio-net header + LEN bytes of frame). Fills P
 * and returns STAT_NONE, or the drop reason (STAT_DROP_*) when the frame
 * is malformed or not something the director handles. ARP frames return
 * STAT_NONE with ethtype ETHTYPE_ARP and only the Ethernet part parsed.
 * A fragment of TCP or UDP is parsed as wire.h's PKT_FRAG_* says; one of
 * anything else is STAT_DROP_FRAGMENT; a later TCP fragment over the
 * first one's header STAT_DROP_FRAG_OVERLAP.
 *
 * IPv6: the extension-header chain is walked with bounds -- hop-by-hop
 * options (first only), destination options (twice at most), routing
 * (with no segment left), fragment (an atomic one, RFC 6946, is a whole
 * packet; a real one sets p->frag) -- each within the packet, IP6_EXT_MAX
 * at most; another, or one out of place, is STAT_DROP_IPV6_EXT. A zero
 * payload length (a jumbogram) and a UDP checksum of 0 are malformed.
 *
 * The virtio-net header is part of the frame's validity: unknown flags, a
 * GSO type other than the family's TCP (TCPv4, TCPv6, with or without
 * ECN), GSO without NEEDS_CSUM, with a zero segment size or with headers
 * longer than PKT_GSO_SEG_HDR, NEEDS_CSUM on anything but TCP or UDP or
 * with a checksum start/offset other than the transport header's checksum
 * field, a header length beyond the frame: malformed.
 */
enum stat_id pkt_parse(struct pkt *p, uint8_t *buf, uint32_t len);

#endif
