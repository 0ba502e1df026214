/* guecost.c - the director's GUE output in instructions: none, csum and remcsum over super-frames */
/*
 *   bench/guecost [-6] [-n FRAMES] [-c none|csum|remcsum]
 *
 * Builds a TCP GSO super-frame as the TAP hands one over with offloads
 * on (64,000 bytes of payload, NEEDS_CSUM, MSS 1448; IPv6 with -6),
 * parses it and sends it FRAMES times (default 200) through tunnel.c's
 * GUE output, as a tun real server with tunnel_csum = CSUM gets it:
 * tunnel_tx() then tunnel_flush_all(), which cuts it into segments,
 * writes UDP and GUE (and the remote checksum option), sums what the
 * mode asks and hands the batch to sendmmsg() toward 127.0.0.1 (::1)
 * port 6080, where nothing listens. Meant to run as root under
 *
 *   valgrind --tool=callgrind bench/guecost -c MODE
 *
 * whose instruction count divided by the payload bytes it prints is the
 * director's user-space cost per uploaded byte in that mode: a count,
 * repeatable on a shared machine where times are not (the kernel's copy,
 * and over IPv6 its UDP checksum, are not in it). Without valgrind it
 * also prints ns per byte.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "packet.h"
#include "stats.h"
#include "tunnel.h"

static uint8_t buf[PKT_BUF_SIZE];

/* A super-frame of PAY bytes in segments of MSS, from 192.0.2.1 (2001:db8::1) to the VIP. */
static uint32_t
build(int v6, unsigned pay, unsigned mss)
{
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	uint8_t *eth = buf + PKT_VNET_LEN, *ip = eth + 14;
	unsigned ihl = v6 ? 40 : 20;
	uint8_t *th = ip + ihl;
	uint32_t sum;
	uint16_t v;

	memset(buf, 0, PKT_VNET_LEN + 14 + ihl + 32);
	if (v6) {
		eth[12] = 0x86;
		eth[13] = 0xdd;
		ip[0] = 0x60;
		wr16(ip + 4, (uint16_t)(32 + pay));
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		inet_pton(AF_INET6, "2001:db8::1", ip + 8);
		inet_pton(AF_INET6, "2001:db8:10::100", ip + 24);
		sum = csum_partial(ip + 8, 32, IPPROTO_TCP + 32 + pay);
	} else {
		eth[12] = 0x08;
		ip[0] = 0x45;
		wr16(ip + 2, (uint16_t)(20 + 32 + pay));
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		inet_pton(AF_INET, "192.0.2.1", ip + 12);
		inet_pton(AF_INET, "10.10.0.100", ip + 16);
		v = csum_ip(ip, 20);
		memcpy(ip + 10, &v, 2);
		sum = csum_partial(ip + 12, 8, IPPROTO_TCP + 32 + pay);
	}
	th[0] = 0x9c;
	th[2] = 0x00;
	th[3] = 0x50;
	th[12] = 8 << 4;
	th[13] = TCPF_ACK | TCPF_PSH;
	v = (uint16_t)~csum_fold(sum);  /* the pseudo-header sum, as NEEDS_CSUM has it */
	memcpy(th + 16, &v, 2);
	for (unsigned i = 0; i < pay; i++)
		th[32 + i] = (uint8_t)(i * 31 + 7);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h->hdr_len = (uint16_t)(14 + ihl + 32);
	h->gso_size = (uint16_t)mss;
	h->csum_start = (uint16_t)(14 + ihl);
	h->csum_offset = 16;
	return 14 + ihl + 32 + pay;
}

int
main(int argc, char *argv[])
{
	unsigned frames = 200, pay = 64000, segs = 0;
	int v6 = 0, ch, c = TUNNEL_CSUM_REMCSUM;
	struct tunnel_peer peer = { .port = htons(6080) };
	struct timespec t0, t1;
	struct pkt p;
	uint32_t len;

	while ((ch = getopt(argc, argv, "6n:c:")) != -1) {
		switch (ch) {
		case '6': v6 = 1; break;
		case 'n': frames = (unsigned)atoi(optarg); break;
		case 'c': c = tunnel_csum_parse(optarg); break;
		default: c = -1; break;
		}
	}
	if (c < 0) {
		fprintf(stderr, "usage: guecost [-6] [-n FRAMES] [-c none|csum|remcsum]\n");
		return 2;
	}
	peer.csum = (uint8_t)c;
	if (v6) {
		inet_pton(AF_INET6, "::1", &peer.addr);
	} else {
		inet_pton(AF_INET, "127.0.0.1", &peer.addr);
		peer.src = peer.addr;
	}
	if (tunnel_open(v6 ? AF_INET6 : AF_INET, TUNNEL_GUE) < 0) {
		perror("guecost: the GUE socket (run as root)");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned f = 0; f < frames; f++) {
		/* Built again each time: a partial checksum is completed in place by the other modes. */
		len = build(v6, pay, 1448);
		if (pkt_parse(&p, buf, len) != STAT_NONE || p.gso_size == 0) {
			fprintf(stderr, "guecost: the super-frame does not parse\n");
			return 1;
		}
		segs += pkt_gso_count(&p);
		tunnel_tx(TUNNEL_GUE, 0, &peer, &p);
		tunnel_flush_all(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%s over IPv%d: %u segments, %llu payload bytes, %.3f ns per byte, %llu send errors\n",
	    tunnel_csum_name((enum tunnel_csum)c), v6 ? 6 : 4, segs,
	    (unsigned long long)frames * pay,
	    ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / ((double)frames * pay),
	    (unsigned long long)stat_total(STAT_DROP_TUN_TX_ERROR));
	tunnel_close();
	return 0;
}
