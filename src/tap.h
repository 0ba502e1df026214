/* tap.h - the TAP device that holds the VIPs' routes */
#ifndef VSR_TAP_H
#define VSR_TAP_H

/*
 * Create TAP NAME (it must not exist yet) with IFF_VNET_HDR, non-blocking.
 * No offloads are negotiated yet: frames arrive complete, checksums done.
 * Returns the fd and sets *IFINDEX, or -1 after logging why. The device
 * goes away when the fd is closed.
 */
int tap_open(const char *name, int *ifindex);

#endif
