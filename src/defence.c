/* defence.c - flood defences for new flows: drop_entry, drop_packet, secure_tcp, reserve, conn_limit */
#include "conn.h"
#include "defence.h"
#include "icmplimit.h"
#include "stats.h"
#include "svc.h"

/*
 * A spoofed SYN or UDP flood makes entries that no client will ever use,
 * each kept for its state's timeout (SYN_RECV: a minute; UDP: five): at a
 * rate of conn_max / 60 a second, the table is full and every new flow of
 * every service is refused, long after the flood. Against that, IPVS's
 * three strategies with IPVS's values (defence.h), judged on the table's
 * fill instead of the host's free memory:
 *
 *   the watermark: amemthresh percent of conn_max in use. "Automatic"
 *   strategies are in force while the table is at or above it.
 *
 *   drop_entry: in force, each new flow at or above the watermark first
 *   evicts one flow that is not past its handshake (or UDP), drawn at
 *   random (conn_evict_unconfirmed): a flood then replaces its own
 *   entries and the table stops growing, while a real client's entry,
 *   made a round trip before its ACK, is rarely drawn in that time, and
 *   once ESTABLISHED is never drawn.
 *
 *   drop_packet: in force, one new flow in N is dropped: N = am_droprate
 *   when always; automatically, N falls from large to 1 as the table
 *   fills from the watermark to full (IPVS's amemthresh / (amemthresh -
 *   availmem), with entries for pages). Clients retransmit their SYN.
 *
 *   secure_tcp: in force, flows before ESTABLISHED are kept 3 s at most
 *   (conn_set_secure) instead of their state's timeout.
 *
 * And, always: conn_reserve percent of the table is for flows past the
 * handshake: new flows (all of them start unconfirmed) may not make the
 * unconfirmed ones more than the rest, so a flood cannot take the room
 * that established connections grow into. conn_limit caps a service's
 * live flows (its real servers' ActiveConn + InActConn).
 *
 * All of it runs under the shared lock (lock.h), for new flows only: a few
 * comparisons, and at most one eviction (a bounded number of probes).
 */

static struct defence_conf conf = DEFENCE_CONF_DEFAULT;

static int level_entry, level_packet, level_secure;
static uint32_t drop_counter;

void
defence_configure(const struct defence_conf *c)
{
	conf = *c;
	/* A configured 2 is automatic; the level says whether it is in force. */
	level_entry = conf.drop_entry;
	level_packet = conf.drop_packet;
	level_secure = conf.secure_tcp;
	drop_counter = 0;
	icmp_limit_set(conf.icmp_rate);
}

void
defence_levels(int *drop_entry, int *drop_packet, int *secure_tcp)
{
	*drop_entry = level_entry;
	*drop_packet = level_packet;
	*secure_tcp = level_secure;
}

/* MODE's level with the table at or above the watermark (NOMEM) or not. */
static int
level(int mode, int nomem)
{
	if (mode == DEF_OFF || mode == DEF_ALWAYS)
		return mode;
	return nomem ? DEF_AUTO_ON : DEF_AUTO;
}

static inline int
in_force(int lvl)
{
	return lvl >= DEF_AUTO_ON;
}

static uint64_t
svc_live(const struct service *svc)
{
	const struct dest *d;
	uint64_t n = 0;

	TAILQ_FOREACH(d, &svc->dests, entry)
		n += (uint64_t)d->activeconns + d->inactconns;
	TAILQ_FOREACH(d, &svc->removed, entry)
		n += (uint64_t)d->activeconns + d->inactconns;
	return n;
}

int
defence_admit(struct conn_table *ct, const struct service *svc)
{
	/* The limits are every worker's table's together (conn_max): so are the counts. */
	const struct conn_table *all = conn_whole(ct);
	uint32_t cap = conn_capacity(all), count = conn_count(all);
	uint32_t mark = (uint32_t)((uint64_t)cap * conf.amemthresh / 100);
	uint32_t unconf_max = cap - (uint32_t)((uint64_t)cap * conf.conn_reserve / 100);
	int nomem = count >= mark;

	if (svc->conn_limit && svc_live(svc) >= svc->conn_limit) {
		STAT_INC(STAT_DROP_CONN_LIMIT);
		return 0;
	}

	level_entry = level(conf.drop_entry, nomem);
	level_packet = level(conf.drop_packet, nomem);
	level_secure = level(conf.secure_tcp, nomem);
	if (in_force(level_secure) != conn_secure(ct))
		conn_set_secure(ct, in_force(level_secure));

	if (in_force(level_packet)) {
		uint32_t rate;
		if (level_packet == DEF_ALWAYS) {
			rate = conf.am_droprate;
		} else {
			/* More than cap after a reload lowered conn_max: no room. */
			uint32_t thresh = cap - mark, avail = count < cap ? cap - count : 0;
			rate = thresh - avail ? thresh / (thresh - avail) : thresh;
			if (rate == 0)
				rate = 1;
		}
		if (drop_counter == 0 || drop_counter > rate)
			drop_counter = rate;
		if (--drop_counter == 0) {
			drop_counter = rate;
			STAT_INC(STAT_DEFENCE_DROP_PACKET);
			return 0;
		}
	}

	int need_room = count >= cap || conn_unconfirmed(all) >= unconf_max;
	if (in_force(level_entry) && (nomem || need_room) && conn_evict_unconfirmed(ct)) {
		STAT_INC(STAT_DEFENCE_EVICTED);
		need_room = conn_count(all) >= cap || conn_unconfirmed(all) >= unconf_max;
	}
	if (need_room) {
		STAT_INC(conn_count(all) >= cap ? STAT_DROP_TABLE_FULL : STAT_DROP_RESERVE);
		return 0;
	}
	return 1;
}
