/* metrics.h - Prometheus text exposition of the counters over HTTP (evhttp) */
#ifndef VSR_METRICS_H
#define VSR_METRICS_H

#include <event2/event.h>
#include <stdint.h>

struct conn_table;

/*
 * Serve GET /metrics on ADDR:PORT (network-order address, host-order port)
 * from BASE: every global counter of stats.c, the connection table's size,
 * and per service and per real server their counters, rates and gauges.
 * Returns 0, or -1 after logging why (address in use, ...).
 */
int  metrics_start(struct event_base *base, uint32_t addr, uint16_t port,
    const struct conn_table *ct);
void metrics_stop(void);

#endif
