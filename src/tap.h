/* tap.h - the TAP device that holds the VIPs' routes, and the output queue into it */
#ifndef VSR_TAP_H
#define VSR_TAP_H

#include <stdbool.h>
#include <stdint.h>

struct worker;

/*
 * Create TAP NAME (it must not exist yet) with IFF_VNET_HDR, non-blocking,
 * with NQUEUES queues (IFF_MULTI_QUEUE when more than one): their fds go
 * into FDS[0..NQUEUES-1], FDS[i] the kernel's queue i (the index that a
 * steering program's choice names, steer.h). With OFFLOAD, TUNSETOFFLOAD(CSUM, TSO4, TSO6,
 * TSO_ECN) on each: frames may come with partial checksums and as GSO
 * super-frames up to 64 KB, and may be written back so. Without, frames
 * arrive complete, checksums done. Returns 0 and sets *IFINDEX, or -1
 * after logging why (no fd left open). The device goes away when the last
 * fd is closed.
 */
int tap_open(const char *name, unsigned nqueues, bool offload, int *fds, int *ifindex);

/*
 * Write a frame into W's queue of the TAP: BUF holds the virtio-net
 * header and LEN bytes of frame after it. A frame in the worker's receive
 * buffers (rewritten in place) is queued, written by tap_flush() after
 * the batch, outside the data-path lock, and counted as sent there; any
 * other buffer is written now. 0, or -1 when a write failed (counted as a
 * drop). The peer of link_tx() (link.h) and tunnel_tx() (tunnel.h).
 */
int  tap_tx(struct worker *w, uint8_t *buf, uint32_t len);
void tap_flush(struct worker *w);

#endif
