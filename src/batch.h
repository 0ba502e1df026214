/* batch.h - sending a batch of messages with sendmmsg(), each one sent or dropped */
#ifndef VSR_BATCH_H
#define VSR_BATCH_H

#include <stdint.h>
#include <sys/socket.h>

#include "stats.h"

/*
 * Send the N messages of MSGS on FD (non-blocking), retrying after
 * EINTR and going on after a refused message, which is dropped and
 * counted under DROP. Each message sent counts STAT_TX_PACKETS, and its
 * bytes less HDRLEN (a virtio-net header) STAT_TX_BYTES.
 */
void batch_send(int fd, struct mmsghdr *msgs, unsigned n, uint32_t hdrlen, enum stat_id drop);

#endif
