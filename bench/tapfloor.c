/* tapfloor.c - the TAP design's floor: read a frame, rewrite its addresses, write it back */
/*
 *   tapfloor -i TAP -v VIP -r RIP [-r RIP...] [-l LIP] [-O] [-p PORT]
 *
 * The least a TAP-based NAT balancer can do per frame, for bench/run.sh
 * to measure beside vsrouted: it creates TAP (IFF_VNET_HDR, and the
 * offloads vsrouted asks for: partial checksums and TCP super-frames;
 * none with -O), answers the kernel's ARP requests for VIP on it, and for
 * every other frame does one read(), an address rewrite and one write()
 * back into the TAP, with no connection table, no batching, no event
 * loop (a blocking read):
 *
 *   client -> VIP   becomes client -> RIP[h], h a hash of the client's
 *                   address (and port, except for PORT, default 5201,
 *                   whose control and data connections must meet)
 *   RIP -> client   becomes VIP -> client
 *
 * With -l LIP, fullnat's way: the client's side becomes LIP (its port
 * kept, the client's address remembered by port in a flat array: one
 * client address at a time, as bench/run.sh loads it), so that replies
 * come back by a route to LIP rather than by a policy rule:
 *
 *   client:p -> VIP  becomes LIP:p -> RIP[h]
 *   RIP -> LIP:p     becomes VIP -> client(p):p
 *
 * The IPv4 header checksum and the TCP/UDP one are updated incrementally
 * (a partial one's pseudo-header sum only), the virtio-net header goes
 * back as it came, so a super-frame stays one. Anything else is counted
 * and dropped. The routes, the proxy ARP entry and the policy rule that
 * steer replies into the TAP are the caller's (bench/run.sh, with ip).
 * Runs in the foreground until SIGTERM or SIGINT; prints its counters on
 * stderr then. Not a load balancer: a measuring stick.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_RS   16
#define VNET_LEN ((unsigned)sizeof(struct virtio_net_hdr))
#define BUF_SIZE (VNET_LEN + 65535u + 14u + 4u)

static volatile sig_atomic_t stop;
static uint8_t our_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static uint8_t tap_mac[6];
static uint32_t vip, lip, rs[MAX_RS];
static uint32_t client_by_port[65536];   /* -l: network order, by the client's port */
static unsigned nrs;
static uint16_t pin_port = 5201;      /* host order */
static unsigned long n_in, n_out, n_arp, n_drop, n_werr;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* RFC 1624 eqn. 3 over one 32-bit field; PARTIAL: a pseudo-header sum, not complemented. */
static void
csum_fix32(uint8_t *check, uint32_t from, uint32_t to, int partial)
{
	uint16_t c;
	uint32_t f = ntohl(from), t = ntohl(to), s;

	memcpy(&c, check, 2);
	s = partial ? ntohs(c) : (uint16_t)~ntohs(c);
	s += (uint16_t)~(f >> 16) + (uint16_t)~(f & 0xffff) + (t >> 16) + (t & 0xffff);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	c = htons(partial ? (uint16_t)s : (uint16_t)~s);
	memcpy(check, &c, 2);
}

/* The IPv4 address at IP + AT becomes TO; both checksums follow. */
static void
rewrite(uint8_t *vnet, uint8_t *ip, unsigned ihl, unsigned at, uint32_t to)
{
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)vnet;
	int partial = (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
	uint8_t *l4 = ip + ihl, *check = NULL;
	uint32_t from;

	memcpy(&from, ip + at, 4);
	csum_fix32(ip + 10, from, to, 0);
	if (ip[9] == IPPROTO_TCP)
		check = l4 + 16;
	else if (ip[9] == IPPROTO_UDP && (partial || l4[6] | l4[7]))
		check = l4 + 6;
	if (check != NULL) {
		csum_fix32(check, from, to, partial);
		if (!partial && ip[9] == IPPROTO_UDP && !(check[0] | check[1]))
			check[0] = check[1] = 0xff;
	}
	memcpy(ip + at, &to, 4);
}

static int
arp_reply(uint8_t *f, ssize_t len)
{
	uint8_t tmp[10];

	uint32_t tpa;

	/* htype 1, ptype IPv4, hlen 6, plen 4, op request, for the VIP or the LIP */
	if (len < 42 || f[14] != 0 || f[15] != 1 || f[16] != 8 || f[17] != 0 ||
	    f[18] != 6 || f[19] != 4 || f[20] != 0 || f[21] != 1)
		return -1;
	memcpy(&tpa, f + 38, 4);
	if (tpa != vip && (lip == 0 || tpa != lip))
		return -1;
	memcpy(f, f + 6, 6);
	memcpy(f + 6, our_mac, 6);
	f[21] = 2;
	memcpy(tmp, f + 22, 10);            /* sender -> target */
	memcpy(f + 22, our_mac, 6);
	memcpy(f + 28, &tpa, 4);
	memcpy(f + 32, tmp, 10);
	return 0;
}

/* 0 when F (LEN bytes of frame after the virtio-net header at B) is to be written back. */
static int
handle(uint8_t *b, ssize_t len)
{
	uint8_t *f = b + VNET_LEN, *ip = f + 14, *l4;
	uint32_t s, d, h;
	uint16_t sport, dport;
	unsigned ihl;

	if (len < 14)
		return -1;
	if (f[12] == 0x08 && f[13] == 0x06) {
		if (arp_reply(f, len) < 0)
			return -1;
		memset(b, 0, VNET_LEN);
		n_arp++;
		return 0;
	}
	if (f[12] != 0x08 || f[13] != 0x00 || len < 14 + 20 || (ip[0] >> 4) != 4)
		return -1;
	ihl = (ip[0] & 0x0f) * 4u;
	if (ihl < 20 || len < 14 + ihl + 8 || (ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP))
		return -1;
	l4 = ip + ihl;
	memcpy(&s, ip + 12, 4);
	memcpy(&d, ip + 16, 4);
	memcpy(&sport, l4, 2);
	memcpy(&dport, l4 + 2, 2);
	if (d == vip) {
		h = ntohl(s) * 2654435761u;
		if (ntohs(dport) != pin_port)
			h ^= ntohs(sport) * 40503u;
		rewrite(b, ip, ihl, 16, rs[(h >> 16) % nrs]);
		if (lip != 0) {
			client_by_port[ntohs(sport)] = s;
			rewrite(b, ip, ihl, 12, lip);
		}
		n_in++;
	} else if (lip != 0) {
		if (d != lip || client_by_port[ntohs(dport)] == 0)
			return -1;
		rewrite(b, ip, ihl, 12, vip);
		rewrite(b, ip, ihl, 16, client_by_port[ntohs(dport)]);
		n_out++;
	} else {
		unsigned i;
		for (i = 0; i < nrs && rs[i] != s; i++)
			;
		if (i == nrs)
			return -1;
		rewrite(b, ip, ihl, 12, vip);
		n_out++;
	}
	memcpy(f, tap_mac, 6);
	memcpy(f + 6, our_mac, 6);
	return 0;
}

static int
tap_create(const char *name, int offload)
{
	struct ifreq ifr;
	int fd, hdrsz = (int)VNET_LEN, s;
	unsigned long off = offload ? (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) : 0;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("tapfloor: /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, off) < 0) {
		fprintf(stderr, "tapfloor: TAP %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	/* The kernel's side of the TAP: where frames written back are addressed. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "tapfloor: %s: its MAC: %s\n", name, strerror(errno));
		if (s >= 0)
			close(s);
		close(fd);
		return -1;
	}
	memcpy(tap_mac, ifr.ifr_hwaddr.sa_data, 6);
	ifr.ifr_flags = IFF_UP;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		(void)ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return fd;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tapfloor -i TAP -v VIP -r RIP [-r RIP...] [-l LIP] [-O] [-p PORT]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static uint8_t buf[BUF_SIZE];
	const char *ifname = NULL;
	struct sigaction sa;
	int ch, fd, offload = 1;
	struct in_addr a;

	while ((ch = getopt(argc, argv, "i:v:r:l:Op:")) != -1) {
		switch (ch) {
		case 'i': ifname = optarg; break;
		case 'v':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				usage();
			vip = a.s_addr;
			break;
		case 'r':
			if (nrs == MAX_RS || inet_pton(AF_INET, optarg, &a) != 1)
				usage();
			rs[nrs++] = a.s_addr;
			break;
		case 'l':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				usage();
			lip = a.s_addr;
			break;
		case 'O': offload = 0; break;
		case 'p': pin_port = (uint16_t)atoi(optarg); break;
		default: usage();
		}
	}
	if (ifname == NULL || vip == 0 || nrs == 0 || optind != argc)
		usage();
	fd = tap_create(ifname, offload);
	if (fd < 0)
		return 1;
	/* No SA_RESTART: a signal ends the blocking read. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "tapfloor: %s up, VIP %s, %u real servers, offloads %s\n", ifname,
	    inet_ntoa((struct in_addr){ vip }), nrs, offload ? "on" : "off");
	while (!stop) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("tapfloor: read");
			break;
		}
		if (n < (ssize_t)VNET_LEN || handle(buf, n - (ssize_t)VNET_LEN) < 0) {
			n_drop++;
			continue;
		}
		if (write(fd, buf, (size_t)n) != n)
			n_werr++;
	}
	fprintf(stderr, "tapfloor: in %lu out %lu arp %lu dropped %lu write errors %lu\n",
	    n_in, n_out, n_arp, n_drop, n_werr);
	close(fd);
	return 0;
}
