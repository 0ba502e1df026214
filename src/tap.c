/* tap.c - the TAP device that holds the VIPs' routes, and the output queue into it */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "pkt.h"
#include "stats.h"
#include "tap.h"
#include "worker.h"

/*
 * What the kernel may hand us, and take back, with offloads on: partial
 * checksums and TCPv4/v6 super-frames, ECN ones included (CWR is handled
 * where we segment ourselves, xmit_tun).
 */
#define TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

/* One queue of TAP NAME; MULTI for IFF_MULTI_QUEUE (every queue has it, the first too). */
static int
tap_queue_open(const char *name, bool multi, bool offload)
{
	struct ifreq ifr;
	int fd, hdrsz = (int)sizeof(struct virtio_net_hdr);

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		log_err("/dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* Every frame carries a virtio-net header, offloads on or off. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (multi)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		if (errno == EPERM)
			log_errx("TAP %s: permission denied (needs CAP_NET_ADMIN)", name);
		else
			log_err("TAP %s", name);
		goto fail;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
		log_err("TAP %s: virtio-net header size", name);
		goto fail;
	}
	if (ioctl(fd, TUNSETOFFLOAD, offload ? (unsigned long)TAP_OFFLOADS : 0ul) < 0) {
		log_err("TAP %s: offloads", name);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int
tap_open(const char *name, unsigned nqueues, bool offload, int *fds, int *ifindex)
{
	unsigned i;

	/* Attaching to a persistent device of someone else's is not ours to undo. */
	if (if_nametoindex(name) != 0) {
		log_errx("interface %s already exists: is another vsrouted running?", name);
		return -1;
	}
	/*
	 * The first TUNSETIFF creates the device, the others attach queues
	 * to it (same name, same flags), numbered in that order: FDS[i] is
	 * queue i (tun_attach), worker i's. The kernel spreads the frames it
	 * sends into the TAP over the queues by its flow hash, or by the
	 * steering program when one is attached (steer.h).
	 */
	for (i = 0; i < nqueues; i++) {
		fds[i] = tap_queue_open(name, nqueues > 1, offload);
		if (fds[i] < 0)
			goto fail;
	}
	*ifindex = (int)if_nametoindex(name);
	if (*ifindex == 0) {
		log_err("TAP %s", name);
		goto fail;
	}
	return 0;
fail:
	while (i-- > 0) {
		close(fds[i]);
		fds[i] = -1;
	}
	return -1;
}

static int
tap_write(int fd, uint8_t *buf, uint32_t len)
{
	ssize_t n = write(fd, buf, PKT_VNET_LEN + len);

	if (n < 0 || (uint32_t)n != PKT_VNET_LEN + len) {
		STAT_INC(STAT_DROP_TX_ERROR);
		return -1;
	}
	STAT_INC(STAT_TX_PACKETS);
	STAT_ADD(STAT_TX_BYTES, len);
	return 0;
}

int
tap_tx(struct worker *w, uint8_t *buf, uint32_t len)
{
	/* In place in a receive buffer: it stays valid until the batch is sent. */
	if (w->rxbuf != NULL && buf >= w->rxbuf &&
	    buf < w->rxbuf + (size_t)RX_BATCH * PKT_BUF_STRIDE && w->ntapq < RX_BATCH) {
		w->tapq[w->ntapq].iov_base = buf;
		w->tapq[w->ntapq].iov_len = PKT_VNET_LEN + len;
		w->ntapq++;
		return 0;
	}
	return tap_write(w->tap_fd, buf, len);
}

void
tap_flush(struct worker *w)
{
	for (unsigned i = 0; i < w->ntapq; i++)
		(void)tap_write(w->tap_fd, w->tapq[i].iov_base,
		    (uint32_t)(w->tapq[i].iov_len - PKT_VNET_LEN));
	w->ntapq = 0;
}
