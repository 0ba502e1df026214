/* gro.h - user-space GRO: a receive batch's TCP segments of one flow written as one super-frame */
#ifndef VSR_GRO_H
#define VSR_GRO_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * vsrtun hands the kernel what it decapsulates through a TUN opened with
 * IFF_VNET_HDR. One write per inner packet made the upload's receiving
 * side cost a syscall and a trip through the stack per 1.4 KB segment;
 * the kernel's own GRO does not see these packets (they arrive in a raw
 * socket). So over each receive batch, consecutive TCP segments of one
 * flow are coalesced here as the kernel's GRO would (tcp_gro_receive):
 * IPv4 without options or fragmentation, the same addresses, ports, TOS,
 * TTL and DF, IP IDs counting up by one, sequence numbers that follow
 * on, the same acknowledgement, window, flags and TCP options (so the
 * same timestamps), every segment but the last of the first's size, PSH
 * only on the last, none of SYN, FIN, RST, URG or CWR, and a TCP checksum
 * that is right (each segment's is verified before it joins: the kernel
 * trusts what it is given as partial). Up to 65535 bytes per super-frame.
 *
 * A run of two or more segments is written as one TCPv4 GSO super-frame:
 * the first segment's headers with the total length and the IP checksum
 * made good, its TCP checksum field holding the pseudo-header sum
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM), then the segments' payloads, by one
 * writev() without a copy. Anything else -- one segment alone, another
 * protocol, a SYN, a bad checksum -- is written as it came, with an
 * empty virtio-net header, for the kernel to check as before; a packet
 * of a flow with a run open is written after that run, so a flow's order
 * is kept (flows may pass one another, as in the kernel's GRO).
 *
 * Packets are held by reference: the caller's buffers must stay as they
 * are until gro_flush(), which it calls at the end of each batch.
 */

#define GRO_FLOWS    8          /* runs open at once (flows in one batch) */
#define GRO_SEGS     64         /* segments per run: a receive batch's */
#define GRO_HDR_MAX  120        /* IPv4 (20) + TCP with options (60), room to spare */

struct gro_run {
	const uint8_t        *first;     /* the first segment (its IPv4 header) */
	uint32_t              hlen;      /* its IP + TCP header length */
	uint32_t              total;     /* the super-frame's length so far */
	uint32_t              next_seq;  /* host order */
	uint16_t              next_id;   /* host order */
	uint16_t              seg_size;  /* payload bytes of each segment but the last */
	unsigned              nseg;
	int                   closed;    /* a short or PSH segment ended it */
	struct virtio_net_hdr vnet;
	uint8_t               hdr[GRO_HDR_MAX];
	struct iovec          iov[2 + GRO_SEGS];  /* vnet, hdr, payloads */
};

struct gro_stats {
	uint64_t packets;        /* packets written (a super-frame's segments count one each) */
	uint64_t bytes;          /* their bytes, IP headers included, as they came */
	uint64_t frames;         /* super-frames written (two segments or more) */
	uint64_t segments;       /* the segments they held */
	uint64_t csum_bad;       /* TCP segments with a wrong checksum, written alone */
	uint64_t write_errors;   /* packets the TUN refused (a super-frame's: each segment) */
};

struct gro {
	int              fd;         /* the TUN, IFF_VNET_HDR */
	unsigned         nruns;
	struct gro_run   runs[GRO_FLOWS];
	struct gro_stats st;
	struct virtio_net_hdr none;  /* zero: a packet as it came */
};

void gro_init(struct gro *g, int fd);
/*
 * The IPv4 packet PKT of LEN bytes (its total length, already checked
 * against what was received) for the TUN: written now, or held in a run
 * until gro_flush().
 */
void gro_add(struct gro *g, const uint8_t *pkt, uint32_t len);
/*
 * The same, its TCP checksum known right when SUMMED: the caller has just
 * written it, summed over the whole segment (GUE's remote checksum
 * offload, vsrtun.c), and it is not summed again.
 */
void gro_add_summed(struct gro *g, const uint8_t *pkt, uint32_t len, bool summed);
/* Write every run held. */
void gro_flush(struct gro *g);

#endif
