/* cliaddr.h - the client's address behind fullnat: PROXY protocol v2 headers and the TOA option */
#ifndef VSR_CLIADDR_H
#define VSR_CLIADDR_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "seqadj.h"

struct pkt;

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

/* ---- the packet path ---- */

/*
 * The state of one flow whose real server learns the client's address, in
 * the connection table's side pool (conn_cliaddr), for those flows only:
 * 32 bytes. SA is the sequence adjustment that connection sync carries
 * (seqadj.h: IPVS's sequence option); the rest is this module's.
 */
struct cliaddr_state {
	struct seqadj sa;         /* proxy-v2 over TCP: sa.in.init_seq is the client's ISN */
	uint32_t      srv_next;   /* TCP: the real server's ISN + 1, once CA_F_SRV */
	uint8_t       how;        /* enum client_addr, the flow's for its life */
	uint8_t       flags;      /* CA_F_* */
	uint16_t      len;        /* the header's (proxy-v2) or the option's (toa) length */
	uint32_t      cseq_next;  /* the RST window's (core.c): its word in the entry is ca */
	/* synproxy.c's, for a flow its service proxies (how is then CA_NONE): */
	uint32_t      sp_cisn;    /* the client's ISN */
	uint32_t      sp_pisn;    /* the director's ISN toward the client: the cookie */
	uint16_t      sp_win;     /* the client's window in its ACK, unscaled */
	uint16_t      sp_mss;     /* the MSS the SYN to the real server carries */
	uint8_t       sp_flags;   /* SP_F_* (synproxy.c) */
};

_Static_assert(sizeof(struct cliaddr_state) == 52, "a flow's side state is 52 bytes");

#define CA_F_ISN     0x01     /* the client's SYN seen: sa.in shifts after its ISN */
#define CA_F_SENT    0x02     /* the header went to the real server at least once */
#define CA_F_ACKED   0x04     /* the real server acknowledged all of it */
#define CA_F_DATA    0x08     /* proxy-v2: the client's first payload went on behind it;
                                 toa: a segment with payload carried the option */
#define CA_F_RESEND  0x10     /* the real server's ack says it lacks the header */
#define CA_F_SRV     0x20     /* the real server's SYN-ACK seen: srv_next set */

/* A flow's ends as the client sees them: what a header or an option says. */
struct cliaddr_ends {
	int      af;
	uint8_t  caddr[16];       /* the client, network order (4 bytes for IPv4) */
	uint8_t  vaddr[16];       /* the virtual address it reached */
	uint16_t cport, vport;    /* network order */
};

/*
 * Where the packet path finds a flow's ends, asked only when a header or
 * an option is written (a few packets of a TCP flow, each datagram): ENDS
 * fills E from ARG, the caller's connection.
 */
struct cliaddr_flow {
	void       (*ends)(const void *arg, struct cliaddr_ends *e);
	const void  *arg;
};

/* ST for a new flow of family AF that hands its client's address over HOW. */
void cliaddr_init(struct cliaddr_state *st, enum client_addr how, int af);

/*
 * ST for a flow that connection sync brought (sync_conn.c), which another
 * director began: HOW and AF as cliaddr_init(); SA, when not NULL, the
 * sequence adjustment the message carried (IPVS's sequence option): a TCP
 * flow whose stream the director shifts. The header went before the
 * client's first byte on the other director; this one never sends a
 * second. It only shifts, and learns from the real server's next
 * acknowledgement whether the header arrived (and sends it again, at the
 * same sequence number, if that says it did not), as the other director
 * would have. A TCP flow without SA is given nothing: its option or
 * header went with its first packets.
 */
void cliaddr_synced(struct cliaddr_state *st, enum client_addr how, int af,
    const struct seqadj *sa);

/*
 * Room for a frame that cliaddr_in() asks to send first: virtio-net
 * header, Ethernet, IP and TCP headers with their options, a header.
 */
#define CLIADDR_PRE_MAX 512u

/*
 * A client's packet P of a flow with state ST on its way to the real
 * server, its addresses and ports already rewritten; F where its ends
 * are, MTU the path MTU toward the real server (0: not known, not checked).
 *
 * proxy-v2, TCP: the SYN gives the client's ISN (data in it, TCP Fast
 * Open, is dropped: it would come before the header). The header goes
 * into the handshake's last packet, the client's first ACK, in place, so
 * that it reaches the real server before anything either side says; a
 * pure ACK at the stream's start is given it again while the real server
 * has not acknowledged it. Every later sequence number of the client is
 * shifted by its length (seqadj.h). The client's first data (or a
 * retransmission of it) before the real server acknowledged the header,
 * or any packet after the real server's ack showed the header missing,
 * is preceded by the header in a segment of its own, written into PRE.
 * UDP: the header goes before the datagram's payload; a datagram too big
 * for it (the 64 KB of an IP packet, or the MTU when it may not be
 * fragmented) or fragmented goes without, counted.
 *
 * toa, TCP: the option goes into the handshake's ACK (LVS's TOA module
 * reads it when that ACK makes the server's socket) and its repeats, and
 * into the client's data until one segment of it carried it, as long as
 * the client has not acknowledged data of the real server, and where it
 * has room (40 bytes of TCP options, the MTU, not a GSO super-frame).
 *
 * Returns 0, or the length of the frame written at PRE (virtio-net header
 * and Ethernet frame, CLIADDR_PRE_MAX bytes of room) to send before P.
 */
uint32_t cliaddr_in(struct cliaddr_state *st, const struct cliaddr_flow *f, unsigned mtu,
    struct pkt *p, uint8_t *pre);

/*
 * The real server's packet P of a flow with state ST on its way to the
 * client: its acknowledgement and SACK blocks shifted back; what it
 * acknowledges of the header noted; its SYN-ACK's number kept (toa).
 */
void cliaddr_out(struct cliaddr_state *st, struct pkt *p);

/*
 * An ICMP error P about a segment of the flow that went WAY (SEQADJ_IN: a
 * client's packet toward the real server), before its quote is rewritten:
 * the quoted sequence number back as its sender counts it (seqadj_quoted).
 */
void cliaddr_icmp(const struct cliaddr_state *st, enum seqadj_way way, struct pkt *p);

#endif
