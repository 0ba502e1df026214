/* batch.c - sending a batch of messages with sendmmsg(), each one sent or dropped */
#include <errno.h>

#include "batch.h"

void
batch_send(int fd, struct mmsghdr *msgs, unsigned n, uint32_t hdrlen, enum stat_id drop)
{
	unsigned done = 0;

	while (done < n) {
		int k = sendmmsg(fd, msgs + done, n - done, MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			/* The first one was refused (full queue, too big, no route): drop it, go on. */
			STAT_INC(drop);
			done++;
			continue;
		}
		for (unsigned i = done; i < done + (unsigned)k; i++) {
			const struct msghdr *h = &msgs[i].msg_hdr;
			uint64_t bytes = 0;
			for (size_t v = 0; v < h->msg_iovlen; v++)
				bytes += h->msg_iov[v].iov_len;
			STAT_INC(STAT_TX_PACKETS);
			STAT_ADD(STAT_TX_BYTES, bytes - hdrlen);
		}
		done += (unsigned)k;
	}
}
