/* status.h - the status page (one HTML page) and /status.json: every service and real server and its state */
#ifndef VSR_STATUS_H
#define VSR_STATUS_H

#include <event2/buffer.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct dest;
struct check_info;

/*
 * A real server's state on the page, coloured as HAProxy's statistics
 * page colours its servers (the names are the CSS classes and the JSON
 * "state" values):
 *   up          healthy, taking new connections
 *   going down  up, but its check failed the last time(s), not yet `fall`
 *   down        down by its check (weight 0, or removed from the service)
 *   going up    down, its check passed the last time(s), not yet `rise`
 *   draining    weight 0 by the configuration or vsradm, connections left
 *   quiesced    weight 0 by the configuration or vsradm, none left
 *   overloaded  over its upper connection threshold (upper, ipvsadm -x)
 *   sorry       the service's sorry server, in use
 */
enum status_state {
	STATUS_UP,
	STATUS_GOING_DOWN,
	STATUS_DOWN,
	STATUS_GOING_UP,
	STATUS_DRAINING,
	STATUS_QUIESCED,
	STATUS_OVERLOADED,
	STATUS_SORRY,
	STATUS_MAX
};

/* CI is the real server's check (check_info_get), or NULL when it has none. */
enum status_state status_state(const struct dest *d, const struct check_info *ci);
const char *status_state_name(enum status_state st);

/*
 * Addresses of family AF (AF_INET, AF_INET6) for people and labels:
 * "10.0.0.1", "2001:db8::1"; with a port (network order) "10.0.0.1:80",
 * "[2001:db8::1]:80". Return BUF.
 */
#define STATUS_ADDR_MAX 64
const char *status_addr(char *buf, size_t len, int af, const void *addr);
const char *status_addrport(char *buf, size_t len, int af, const void *addr, uint16_t port);

/*
 * Render into B, at wall-clock time NOW, every virtual service and real
 * server: one self-contained HTML page (inline style, a few lines of
 * script for the refresh, every string escaped), or the same as JSON.
 * The caller holds the data-path lock.
 */
void status_html(struct evbuffer *b, time_t now);
void status_json(struct evbuffer *b, time_t now);

#endif
