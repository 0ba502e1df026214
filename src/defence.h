/* defence.h - flood defences for new flows: drop_entry, drop_packet, secure_tcp, reserve, conn_limit */
#ifndef VSR_DEFENCE_H
#define VSR_DEFENCE_H

#include <stdint.h>

struct conn_table;
struct service;

/*
 * Each strategy has IPVS's four values (ip_vs_ctl.c, update_defense_level):
 * 0 never; 1 automatic, not in force now; 2 automatic, in force now (the
 * table above the watermark); 3 always. A configured 2 behaves as 1.
 */
enum defence_mode {
	DEF_OFF = 0,
	DEF_AUTO = 1,
	DEF_AUTO_ON = 2,
	DEF_ALWAYS = 3,
};

struct defence_conf {
	int      drop_entry;     /* enum defence_mode; default auto */
	int      drop_packet;    /* default off */
	int      secure_tcp;     /* default auto */
	unsigned amemthresh;     /* percent of conn_max: the watermark; default 75 */
	unsigned am_droprate;    /* drop_packet always: one new flow in this many; default 10 */
	unsigned conn_reserve;   /* percent of conn_max kept for flows past the handshake; default 10 */
	unsigned icmp_rate;      /* ICMP messages made per second and kind, 0 = no limit; default 1000 */
};

#define DEFENCE_CONF_DEFAULT { DEF_AUTO, DEF_OFF, DEF_AUTO, 75, 10, 10, 1000 }


/* Take CONF (at start and each reload, under the data-path lock). */
void defence_configure(const struct defence_conf *conf);

/*
 * A new flow for SVC is about to be made in CT (under the data-path lock):
 * 1 to go on, 0 to drop its packet (counted). May evict a flow not past
 * its handshake to make room.
 */
int defence_admit(struct conn_table *ct, const struct service *svc);

/* The values in force now (0..3 each), for listings and metrics. */
void defence_levels(int *drop_entry, int *drop_packet, int *secure_tcp);

#endif
