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
 * (draft-ietf-intarea-gue, as IPVS sends it: version 0, no option, or
 * with remote checksum offload the private flags and the remote checksum
 * option of draft-ietf-intarea-gue-extensions). The bytes it puts before
 * the inner packet: the outer IP header, and GRE's (4 more with a key,
 * KEYED) or UDP's 8 and GUE's 4 (12 with the option).
 */
#define TUNNEL_UDP_HLEN  8
#define TUNNEL_GUE_HLEN  4      /* GUE version 0 without options */
#define TUNNEL_GUE_REMCSUM_LEN 8 /* the private flags' 4 and the remote checksum option's 4 */

/* Where one packet goes and what its tunnel header says. */
struct tunnel_peer {
	union vsr_addr addr;    /* the real server */
	union vsr_addr src;     /* GUE over IPv4 with a checksum: our address toward it */
	uint32_t       key;     /* GRE, when keyed: network order (RFC 2890) */
	uint16_t       port;    /* GUE: the real server's UDP port, network order */
	bool           keyed;   /* GRE carries key */
	uint8_t        csum;    /* GUE: enum tunnel_csum; over IPv6 a UDP checksum always */
};

#define TUNNEL_GUE_PROTO_IPV4 4     /* GUE's proto/ctype: the inner packet's IP protocol number */
#define TUNNEL_GUE_PROTO_IPV6 41
#define TUNNEL_GUE_FLAG_PRIV  0x0001     /* GUE's flags: the private flags follow (the kernel's GUE_FLAG_PRIV) */
#define TUNNEL_GUE_PFLAG_REMCSUM 0x80u   /* first byte of the private flags: remote checksum offload */

/*
 * GUE's header for an inner packet of family AF at AT: version 0, C 0,
 * protocol 4 or 41; with CSTART non-zero, the private flags with remote
 * checksum offload and its option (the gue-extensions draft's 4.3):
 * checksum start CSTART and the checksum field at COFF, both from the
 * start of the inner packet, as the kernel's IPVS and fou write them.
 * Returns its length: TUNNEL_GUE_HLEN, or that and TUNNEL_GUE_REMCSUM_LEN.
 */
static inline unsigned
tunnel_gue_hdr(uint8_t *at, int af, unsigned cstart, unsigned coff)
{
	at[0] = 0;              /* version 0, C 0, hlen 0: no option */
	at[1] = af == AF_INET6 ? TUNNEL_GUE_PROTO_IPV6 : TUNNEL_GUE_PROTO_IPV4;
	at[2] = 0;              /* flags */
	at[3] = 0;
	if (cstart == 0)
		return TUNNEL_GUE_HLEN;
	at[0] = TUNNEL_GUE_REMCSUM_LEN / 4;     /* hlen: the options' length in 32-bit words */
	at[3] = TUNNEL_GUE_FLAG_PRIV;
	at[4] = TUNNEL_GUE_PFLAG_REMCSUM;
	at[5] = at[6] = at[7] = 0;
	at[8] = (uint8_t)(cstart >> 8);
	at[9] = (uint8_t)cstart;
	at[10] = (uint8_t)(coff >> 8);
	at[11] = (uint8_t)coff;
	return TUNNEL_GUE_HLEN + TUNNEL_GUE_REMCSUM_LEN;
}

/* A GUE header as vsrtun takes it (tunnel_gue_parse). */
struct tunnel_gue {
	int      af;            /* the inner packet's family */
	unsigned hlen;          /* GUE's bytes before the inner packet */
	unsigned cstart, coff;  /* remote checksum offload: the option's; 0 and 0 without */
};

/*
 * The GUE header at IN of LEN bytes as vsrtun takes it: version 0, a
 * data message, an inner IPv4 or IPv6 packet, and either no option or
 * flag, or exactly the private flags with remote checksum offload and
 * its option (what IPVS's --tun-remcsum sends). Returns 1 and fills G;
 * 0 for another version, a control message, other options or flags,
 * another payload (unsupported); -1 when LEN is shorter than the header
 * says (malformed). Where the option points is checked against the inner
 * packet by the caller.
 */
static inline int
tunnel_gue_parse(const uint8_t *in, uint32_t len, struct tunnel_gue *g)
{
	if (len < TUNNEL_GUE_HLEN)
		return -1;
	*g = (struct tunnel_gue){ .hlen = TUNNEL_GUE_HLEN };
	if (in[1] == TUNNEL_GUE_PROTO_IPV4)
		g->af = AF_INET;
	else if (in[1] == TUNNEL_GUE_PROTO_IPV6)
		g->af = AF_INET6;
	else
		return 0;
	/* Version and C (the top three bits), the options' length, the flags: all 0 ... */
	if (in[0] == 0 && in[2] == 0 && in[3] == 0)
		return 1;
	/* ... or the private flags and the remote checksum option, nothing else. */
	if (in[0] != TUNNEL_GUE_REMCSUM_LEN / 4 || in[2] != 0 || in[3] != TUNNEL_GUE_FLAG_PRIV)
		return 0;
	if (len < TUNNEL_GUE_HLEN + TUNNEL_GUE_REMCSUM_LEN)
		return -1;
	if (in[4] != TUNNEL_GUE_PFLAG_REMCSUM || in[5] != 0 || in[6] != 0 || in[7] != 0)
		return 0;
	g->hlen = TUNNEL_GUE_HLEN + TUNNEL_GUE_REMCSUM_LEN;
	g->cstart = (unsigned)in[8] << 8 | in[9];
	g->coff = (unsigned)in[10] << 8 | in[11];
	return 1;
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
