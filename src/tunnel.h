/* tunnel.h - tunnel output: raw IPIP, ip6ip6 and GRE sockets, packets queued per worker, sent in batches */
#ifndef VSR_TUNNEL_H
#define VSR_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "common.h"

#define TUNNEL_QUEUES 16   /* output queues per tunnel type: one per worker (CONF_WORKERS_MAX) */

struct pkt;

/*
 * A tunnel of type T toward a real server of family AF wraps the packet,
 * of that family too, in an outer header of it: IPIP or ip6ip6 (RFC
 * 2473), GRE over IPv4 or IPv6 (RFC 2784, RFC 7676), or GUE over UDP
 * (draft-ietf-intarea-gue, as IPVS sends it: version 0, no option). The
 * bytes it puts before the inner packet: the outer IP header, and GRE's
 * (4 more with a key, KEYED) or UDP's 8 and GUE's 4.
 */
#define TUNNEL_UDP_HLEN  8
#define TUNNEL_GUE_HLEN  4      /* GUE version 0 without options */

/* Where one packet goes and what its tunnel header says. */
struct tunnel_peer {
	union vsr_addr addr;    /* the real server */
	union vsr_addr src;     /* GUE over IPv4 with a checksum: our address toward it */
	uint32_t       key;     /* GRE, when keyed: network order (RFC 2890) */
	uint16_t       port;    /* GUE: the real server's UDP port, network order */
	bool           keyed;   /* GRE carries key */
	bool           csum;    /* GUE over IPv4: a UDP checksum (IPv6: always one) */
};

#define TUNNEL_GUE_PROTO_IPV4 4     /* GUE's proto/ctype: the inner packet's IP protocol number */
#define TUNNEL_GUE_PROTO_IPV6 41

/*
 * GUE's 4-byte header for an inner packet of family AF (the draft's 3.1:
 * version 0, C 0, no option, protocol 4 or 41, flags 0) at AT.
 */
static inline void
tunnel_gue_hdr(uint8_t *at, int af)
{
	at[0] = 0;              /* version 0, C 0, hlen 0: no option */
	at[1] = af == AF_INET6 ? TUNNEL_GUE_PROTO_IPV6 : TUNNEL_GUE_PROTO_IPV4;
	at[2] = 0;              /* flags */
	at[3] = 0;
}

/*
 * The GUE header at IN of LEN bytes as vsrtun takes it: version 0, a
 * data message, no option or flag (so no remote checksum offload), an
 * inner IPv4 or IPv6 packet: the inner family, 0 when it is short or not
 * that. What follows is the inner packet, TUNNEL_GUE_HLEN bytes on.
 */
static inline int
tunnel_gue_parse(const uint8_t *in, uint32_t len)
{
	if (len < TUNNEL_GUE_HLEN)
		return 0;
	/* Version and C (the top three bits), the options' length, the flags: all 0. */
	if (in[0] != 0 || in[2] != 0 || in[3] != 0)
		return 0;
	if (in[1] == TUNNEL_GUE_PROTO_IPV4)
		return AF_INET;
	if (in[1] == TUNNEL_GUE_PROTO_IPV6)
		return AF_INET6;
	return 0;
}

/* The UDP source port of a GUE packet: from the inner flow (RFC 8086's entropy), host order. */
uint16_t tunnel_gue_sport(const struct pkt *p);
unsigned tunnel_overhead(int af, enum tunnel_type t, bool keyed);

/* The raw socket of T for family AF, opened on first use: 0, or -1 with errno set. */
int  tunnel_open(int af, enum tunnel_type t);

/*
 * Queue the packet P (of family P->af) for the real server PEER->addr
 * through a tunnel of type T, on output queue Q (the worker's id): P is
 * copied, its buffer must stay untouched until tunnel_flush_all(Q). GRE
 * and GUE take what they need from PEER. Up to RX_BATCH packets a
 * queue, one batch's worth; beyond, -1 (counted). The peer of link_tx()
 * (link.h) and tap_tx() (tap.h).
 */
int  tunnel_tx(enum tunnel_type t, unsigned q, const struct tunnel_peer *peer,
    const struct pkt *p);

/*
 * Send what queue Q holds, outside the data-path lock: a GSO super-frame
 * is cut into TCP segments here, a partial checksum completed, the GRE
 * header written; then sendmmsg() in batches.
 */
void tunnel_flush_all(unsigned q);

/*
 * Read off the errors the kernel queued on the IPv6 tunnel sockets (it
 * learnt the path MTU from them already, see tunnel.c): from the main
 * loop, now and then. Returns how many.
 */
unsigned tunnel_errors(void);

/* Close the raw sockets (at exit). */
void tunnel_close(void);

#endif
