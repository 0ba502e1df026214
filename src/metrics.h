/* metrics.h - the metrics listener: Prometheus text, the status page, bounded against hostile clients */
#ifndef VSR_METRICS_H
#define VSR_METRICS_H

#include <event2/event.h>
#include <stdint.h>

#include "conf.h"

struct conn_table;

/*
 * The limits of the listener (vsrouted.conf(5), metrics): a request's
 * header must fit METRICS_HDR_MAX bytes and arrive whole, and the answer
 * be sent, within METRICS_DEADLINE seconds of the accept; no request body
 * is read (a request that announces one is answered 413); at most
 * METRICS_CONN_MAX connections at once, the others wait in the kernel's
 * backlog while the listener is paused; and a connection that would leave
 * fewer than METRICS_FD_RESERVE descriptors under RLIMIT_NOFILE free (for
 * the health checks, the control socket, a reload) is closed at once and
 * the listener paused for a second, as it is at EMFILE: it never spins.
 * After its answer a connection lingers: it reads and drops what the
 * client still sends (METRICS_LINGER_MAX bytes at most, within the
 * deadline) until the client closes, so that no reset loses the answer.
 */
#define METRICS_HDR_MAX     8192
#define METRICS_DEADLINE    10
#define METRICS_CONN_MAX    32
#define METRICS_FD_RESERVE  64
#define METRICS_LINGER_MAX  (1 << 20)  /* bytes read and dropped after the answer */

/*
 * Serve on ADDR:PORT (network-order address, host-order port) from BASE:
 * GET /metrics, every global counter of stats.c, the connection table's
 * size, and per service and per real server their counters, rates and
 * gauges (and with COMPAT node_exporter's node_ipvs_* families too);
 * GET / the status page and GET /status.json the same as JSON (status.h).
 * A non-loopback address is warned about (no authentication).
 * Returns 0, or -1 after logging why (address in use, ...).
 */
int  metrics_start(struct event_base *base, uint32_t addr, uint16_t port,
    enum metrics_compat compat, const struct conn_table *ct);
void metrics_stop(void);
/*
 * A reload's metrics: another endpoint is listened on before the old one
 * is closed (-1, logged: the old one stays), port 0 stops, the first one
 * starts; COMPAT changes at once.
 */
int  metrics_reconfig(struct event_base *base, uint32_t addr, uint16_t port,
    enum metrics_compat compat, const struct conn_table *ct);

#endif
