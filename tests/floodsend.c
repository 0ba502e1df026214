/* floodsend.c - a spoofed SYN or UDP flood toward one address and port, for tests/netns/flood.sh */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 *   floodsend syn|udp DST PORT SRCNET/BITS SECONDS [PPS]
 *
 * Sends, for SECONDS, as fast as it can (or at most PPS a second), IPv4
 * TCP SYNs or 18-byte UDP datagrams to DST:PORT from source addresses and
 * ports drawn at random in SRCNET/BITS and 1024..65535, through one raw
 * socket (IP_HDRINCL) in batches of 64 (sendmmsg). Prints "sent N" and the
 * rate. Needs CAP_NET_RAW. A test tool: no flow is ever answered.
 */

#define BATCH 64

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint16_t
csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static uint8_t pkts[BATCH][64];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct in_addr net;
	unsigned bits, one = 1;
	int udp, fd;
	double secs, pps = 0, t0, end;
	uint64_t sent = 0;
	char *slash;

	if (argc < 6 || (strcmp(argv[1], "syn") && strcmp(argv[1], "udp")) ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1 || (slash = strchr(argv[4], '/')) == NULL) {
		fprintf(stderr, "usage: floodsend syn|udp DST PORT SRCNET/BITS SECONDS [PPS]\n");
		return 2;
	}
	*slash = '\0';
	bits = (unsigned)atoi(slash + 1);
	if (inet_pton(AF_INET, argv[4], &net) != 1 || bits < 8 || bits > 32) {
		fprintf(stderr, "floodsend: bad source network\n");
		return 2;
	}
	udp = strcmp(argv[1], "udp") == 0;
	uint16_t dport = htons((uint16_t)atoi(argv[3]));
	secs = atof(argv[5]);
	if (argc > 6)
		pps = atof(argv[6]);
	rng ^= (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		perror("floodsend: raw socket");
		return 1;
	}
	size_t len = udp ? 20 + 8 + 18 : 20 + 20;
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = pkts[i];
		iov[i].iov_len = len;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
	}
	uint32_t hostmask = bits == 32 ? 0 : 0xffffffffu >> bits;
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		for (int i = 0; i < BATCH; i++) {
			uint8_t *p = pkts[i];
			uint32_t src = htonl((ntohl(net.s_addr) & ~hostmask) | (rnd() & hostmask));
			uint16_t sport = htons((uint16_t)(1024 + rnd() % 64512));
			uint8_t ph[12];

			memset(p, 0, len);
			p[0] = 0x45;
			p[2] = (uint8_t)(len >> 8);
			p[3] = (uint8_t)len;
			p[8] = 64;
			p[9] = udp ? IPPROTO_UDP : IPPROTO_TCP;
			memcpy(p + 12, &src, 4);
			memcpy(p + 16, &dst.sin_addr, 4);
			uint16_t c = htons(csum(p, 20, 0));
			memcpy(p + 10, &c, 2);
			uint8_t *l4 = p + 20;
			memcpy(l4, &sport, 2);
			memcpy(l4 + 2, &dport, 2);
			if (udp) {
				l4[4] = 0;
				l4[5] = 8 + 18;
				memcpy(l4 + 8, "floodsend datagram", 18);
			} else {
				uint32_t seq = rnd();
				memcpy(l4 + 4, &seq, 4);
				l4[12] = 5 << 4;
				l4[13] = 0x02;            /* SYN */
				l4[14] = 0xfa;
				l4[15] = 0xf0;
			}
			memcpy(ph, p + 12, 8);
			ph[8] = 0;
			ph[9] = p[9];
			ph[10] = 0;
			ph[11] = (uint8_t)(len - 20);
			uint32_t s = 0;
			for (int k = 0; k < 12; k += 2)
				s += (uint32_t)ph[k] << 8 | ph[k + 1];
			c = htons(csum(l4, len - 20, s));
			memcpy(l4 + (udp ? 6 : 16), &c, 2);
		}
		int n = sendmmsg(fd, msgs, BATCH, 0);
		if (n > 0)
			sent += (uint64_t)n;
		else if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("floodsend: sendmmsg");
			return 1;
		}
		if (pps > 0) {
			double ahead = (double)sent / pps - (now() - t0);
			if (ahead > 0)
				usleep((useconds_t)(ahead * 1e6));
		}
	}
	double el = now() - t0;
	printf("sent %llu in %.1f s: %.0f packets/s\n", (unsigned long long)sent, el, (double)sent / el);
	return 0;
}
