/* segcost.c - the director's TCP segmentation (tun) in instructions: pkt_gso_segment over super-frames */
/*
 *   bench/segcost [-n FRAMES] [-m MSS]
 *
 * Builds a TCPv4 GSO super-frame as the TAP hands one over with offloads
 * on (64,000 bytes of payload, NEEDS_CSUM, segment size MSS, default
 * 1448), parses it with pkt_parse() and cuts it FRAMES times (default
 * 200) with pkt_gso_segment(), as tunnel.c does for tun: each segment's
 * headers and its full TCP checksum. Meant to run under
 *
 *   valgrind --tool=callgrind bench/segcost
 *
 * whose instruction count, divided by the segments it prints, is the
 * cost per segment: a count, repeatable on a shared machine where times
 * are not. Without valgrind it also prints ns per segment.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "packet.h"

static uint8_t buf[PKT_BUF_SIZE];

static void
build(unsigned pay, unsigned mss)
{
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	uint8_t *eth = buf + PKT_VNET_LEN, *ip = eth + 14, *th = ip + 20;
	uint16_t v;
	uint32_t s;

	memset(buf, 0, PKT_VNET_LEN + 14 + 20 + 32);
	eth[12] = 0x08;
	ip[0] = 0x45;
	v = htons((uint16_t)(20 + 32 + pay));
	memcpy(ip + 2, &v, 2);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	s = htonl(0xc0000201u);
	memcpy(ip + 12, &s, 4);
	s = htonl(0x0a0a0064u);
	memcpy(ip + 16, &s, 4);
	v = csum_ip(ip, 20);
	memcpy(ip + 10, &v, 2);
	th[0] = 0x9c;
	th[2] = 0x14;
	th[3] = 0x51;
	th[12] = 8 << 4;
	th[13] = TCPF_ACK | TCPF_PSH;
	for (unsigned i = 0; i < pay; i++)
		th[32 + i] = (uint8_t)(i * 31 + 7);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->hdr_len = 14 + 20 + 32;
	h->gso_size = (uint16_t)mss;
	h->csum_start = 14 + 20;
	h->csum_offset = 16;
}

int
main(int argc, char *argv[])
{
	unsigned frames = 200, mss = 1448, pay = 64000, nseg, total = 0;
	uint8_t hdr[PKT_GSO_SEG_HDR];
	struct timespec t0, t1;
	struct pkt p;
	uint32_t guard = 0;
	int ch;

	while ((ch = getopt(argc, argv, "n:m:")) != -1) {
		switch (ch) {
		case 'n': frames = (unsigned)atoi(optarg); break;
		case 'm': mss = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: segcost [-n FRAMES] [-m MSS]\n");
			return 2;
		}
	}
	build(pay, mss);
	if (pkt_parse(&p, buf, 14 + 20 + 32 + pay) != STAT_NONE || p.gso_size == 0) {
		fprintf(stderr, "segcost: the super-frame does not parse\n");
		return 1;
	}
	nseg = pkt_gso_count(&p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned f = 0; f < frames; f++) {
		for (unsigned i = 0; i < nseg; i++) {
			const uint8_t *pl;
			uint32_t plen;
			uint32_t hl = pkt_gso_segment(&p, i, hdr, &pl, &plen);
			guard += hl + plen + hdr[20 + 16];
		}
		total += nseg;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("segments %u (of %u payload bytes each at most), %.1f ns per segment (check %u)\n",
	    total, mss, ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / total, guard);
	return 0;
}
