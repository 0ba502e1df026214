/* qdiscbypass.c - what PACKET_QDISC_BYPASS saves on an AF_PACKET output socket, per frame */
/*
 *   bench/qdiscbypass -i IFACE [-n BATCHES] [-r ROUNDS] [-s SIZE]
 *
 * Sends frames of SIZE bytes (default 1514) out of IFACE as link.c does
 * for nat and fullnat (SOCK_RAW, protocol 0, PACKET_VNET_HDR, batches of
 * 32 by sendmmsg), from two sockets alike but for PACKET_QDISC_BYPASS on
 * one of them, in ROUNDS (default 7) interleaved rounds of BATCHES
 * batches (default 2000) each: the same load, the same moment, one after
 * the other. Prints the median CPU time of the sending thread per frame
 * (sys + user, CLOCK_THREAD_CPUTIME_ID: on a veth the peer's receive runs
 * in the sender's softirq and is charged to it too, alike for both), and
 * their ratio. The frames go to a MAC nobody has (the peer drops them as
 * another host's). As root; bench/qdiscbypass.sh makes the veth and the
 * qdiscs to compare.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH   32
#define ROUNDS_MAX 31

static int
psock(int ifindex, int bypass)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    (bypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("AF_PACKET socket");
		exit(1);
	}
	return fd;
}

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* N batches on FD; CPU ns per frame, or -1 when frames were refused. */
static double
run(int fd, struct mmsghdr *m, unsigned n)
{
	double t0 = cpu_ns();

	for (unsigned b = 0; b < n; b++) {
		unsigned sent = 0;
		while (sent < BATCH) {
			int r = sendmmsg(fd, m + sent, BATCH - sent, 0);
			if (r < 0) {
				if (errno == ENOBUFS || errno == EAGAIN)
					continue;
				perror("sendmmsg");
				return -1;
			}
			sent += (unsigned)r;
		}
	}
	return (cpu_ns() - t0) / ((double)n * BATCH);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static uint8_t frame[9216];
	const char *ifn = NULL;
	unsigned n = 2000, rounds = 7, size = 1514;
	double t[2][ROUNDS_MAX];
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
	    .sll_halen = 6 };
	struct mmsghdr m[BATCH];
	struct iovec iov;
	int c, fd[2];

	while ((c = getopt(argc, argv, "i:n:r:s:")) != -1) {
		switch (c) {
		case 'i': ifn = optarg; break;
		case 'n': n = (unsigned)atoi(optarg); break;
		case 'r': rounds = (unsigned)atoi(optarg); break;
		case 's': size = (unsigned)atoi(optarg); break;
		default: goto usage;
		}
	}
	if (ifn == NULL || n == 0 || rounds == 0 || rounds > ROUNDS_MAX || size < 60 ||
	    size > sizeof(frame) - sizeof(struct virtio_net_hdr))
		goto usage;
	to.sll_ifindex = (int)if_nametoindex(ifn);
	if (to.sll_ifindex == 0) {
		perror(ifn);
		return 1;
	}
	/* virtio-net header (nothing asked of the kernel), then an IPv4 frame to 02:..:fe. */
	uint8_t *eth = frame + sizeof(struct virtio_net_hdr), *ip = eth + 14;
	memcpy(eth, "\x02\x00\x00\x00\x00\xfe\x02\x00\x00\x00\x00\xfd\x08\x00", 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((size - 14) >> 8);
	ip[3] = (uint8_t)(size - 14);
	ip[8] = 64;
	ip[9] = 17;
	iov.iov_base = frame;
	iov.iov_len = sizeof(struct virtio_net_hdr) + size;
	memset(m, 0, sizeof(m));
	for (unsigned i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_name = &to;
		m[i].msg_hdr.msg_namelen = sizeof(to);
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	fd[0] = psock(to.sll_ifindex, 0);
	fd[1] = psock(to.sll_ifindex, 1);
	(void)run(fd[0], m, n / 4 + 1);     /* warm up */
	for (unsigned r = 0; r < rounds; r++)
		for (int k = 0; k < 2; k++) {
			/* Alternate which goes first, so neither always follows the other. */
			int b = (int)(r & 1) ^ k;
			if ((t[b][r] = run(fd[b], m, n)) < 0)
				return 1;
		}
	qsort(t[0], rounds, sizeof(double), cmp);
	qsort(t[1], rounds, sizeof(double), cmp);
	printf("%s size %u: qdisc %.0f ns/frame, bypass %.0f ns/frame, bypass/qdisc %.2f "
	    "(medians of %u rounds of %u frames)\n", ifn, size, t[0][rounds / 2], t[1][rounds / 2],
	    t[1][rounds / 2] / t[0][rounds / 2], rounds, n * BATCH);
	return 0;
usage:
	fprintf(stderr, "usage: qdiscbypass -i IFACE [-n BATCHES] [-r ROUNDS] [-s SIZE]\n");
	return 2;
}
