/* cliaddr.h - the client's address behind fullnat: PROXY protocol v2 headers and the TOA option */
#ifndef VSR_CLIADDR_H
#define VSR_CLIADDR_H

#include <stddef.h>
#include <stdint.h>

/*
 * fullnat hides the client from the real server: its packets come from a
 * local address of the director. client_address (vsrouted.conf(5)) hands
 * the client's address and port over in one of two ways:
 *
 * proxy-v2  HAProxy's PROXY protocol, version 2 (doc/proxy-protocol.txt,
 *           section 2.2), read by nginx (listen ... proxy_protocol),
 *           HAProxy (accept-proxy) and many more: a binary header before
 *           the first byte of a TCP stream, before each UDP datagram;
 * toa       the TCP option that LVS's TOA kernel module reads: kind 254,
 *           length 8 (port, IPv4 address) or 20 (port, IPv6 address), as
 *           Alibaba's LVS and DPVS send it.
 */

/* The 12 bytes that start every version 2 header. */
#define PPV2_SIG         "\r\n\r\n\0\r\nQUIT\n"
#define PPV2_SIG_LEN     12u
#define PPV2_FIXED_LEN   16u        /* signature, version and command, family, length */
#define PPV2_VER_PROXY   0x21       /* version 2, command PROXY */
#define PPV2_AF_INET     0x10
#define PPV2_AF_INET6    0x20
#define PPV2_STREAM      0x01
#define PPV2_DGRAM       0x02
#define PPV2_LEN4        (PPV2_FIXED_LEN + 12u)  /* 28: two IPv4 addresses, two ports */
#define PPV2_LEN6        (PPV2_FIXED_LEN + 36u)  /* 52: two IPv6 addresses, two ports */
#define PPV2_MAX         PPV2_LEN6

#define TOA_KIND         254
#define TOA_LEN4         8u
#define TOA_LEN6         20u
#define TOA_MAX          TOA_LEN6

/*
 * A PROXY v2 header into OUT (PPV2_MAX bytes of room): command PROXY,
 * family AF (AF_INET, AF_INET6), transport STREAM for IPPROTO_TCP, DGRAM
 * for IPPROTO_UDP; source SRC:SPORT (the client), destination DST:DPORT
 * (the virtual service it reached). Addresses are 4 or 16 bytes, ports
 * network order. Returns its length, PPV2_LEN4 or PPV2_LEN6; 0 for
 * another family or protocol.
 */
size_t ppv2_build(uint8_t *out, int af, int proto, const void *src, uint16_t sport,
    const void *dst, uint16_t dport);

/*
 * The TOA option into OUT (TOA_MAX bytes of room): kind, length, PORT
 * (network order), then ADDR (4 or 16 bytes, by AF). Returns its length,
 * TOA_LEN4 or TOA_LEN6, a multiple of 4 so that the TCP header stays
 * aligned; 0 for another family.
 */
size_t toa_build(uint8_t *out, int af, const void *addr, uint16_t port);

#endif
