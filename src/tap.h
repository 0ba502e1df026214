/* tap.h - the TAP device that holds the VIPs' routes */
#ifndef VSR_TAP_H
#define VSR_TAP_H

#include <stdbool.h>

/*
 * Create TAP NAME (it must not exist yet) with IFF_VNET_HDR, non-blocking.
 * With OFFLOAD, TUNSETOFFLOAD(CSUM, TSO4, TSO6, TSO_ECN): frames may come
 * with partial checksums and as GSO super-frames up to 64 KB, and may be
 * written back so. Without, frames arrive complete, checksums done.
 * Returns the fd and sets *IFINDEX, or -1 after logging why. The device
 * goes away when the fd is closed.
 */
int tap_open(const char *name, bool offload, int *ifindex);

#endif
