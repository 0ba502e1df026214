/* tap.h - the TAP device that holds the VIPs' routes */
#ifndef VSR_TAP_H
#define VSR_TAP_H

#include <stdbool.h>

/*
 * Create TAP NAME (it must not exist yet) with IFF_VNET_HDR, non-blocking,
 * with NQUEUES queues (IFF_MULTI_QUEUE when more than one): their fds go
 * into FDS[0..NQUEUES-1]. With OFFLOAD, TUNSETOFFLOAD(CSUM, TSO4, TSO6,
 * TSO_ECN) on each: frames may come with partial checksums and as GSO
 * super-frames up to 64 KB, and may be written back so. Without, frames
 * arrive complete, checksums done. Returns 0 and sets *IFINDEX, or -1
 * after logging why (no fd left open). The device goes away when the last
 * fd is closed.
 */
int tap_open(const char *name, unsigned nqueues, bool offload, int *fds, int *ifindex);

#endif
