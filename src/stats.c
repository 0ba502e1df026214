/* stats.c - global counters and their names; the rate estimator */
#include <string.h>

#include "common.h"
#include "stats.h"

struct stats_slot stats_slots[STATS_SLOTS];
__thread uint64_t *stats_mine = stats_slots[0].v;

static const char *const stat_names[STAT_MAX] = {
	[STAT_NONE]              = "none",
	[STAT_RX_PACKETS]        = "rx_packets",
	[STAT_RX_BYTES]          = "rx_bytes",
	[STAT_TX_PACKETS]        = "tx_packets",
	[STAT_TX_BYTES]          = "tx_bytes",
	[STAT_CONN_CREATED]      = "conn_created",
	[STAT_CONN_EXPIRED]      = "conn_expired",
	[STAT_CONN_RESCHEDULED]  = "conn_rescheduled",
	[STAT_CONN_RESCHED_DOWN] = "conn_rescheduled_down",
	[STAT_ARP_REPLIES]       = "arp_replies",
	[STAT_GARP_SENT]         = "garp_sent",
	[STAT_ICMP_ECHO_REPLIES] = "icmp_echo_replies",
	[STAT_DEFENCE_EVICTED]   = "defence_evicted",
	[STAT_SYNPROXY_COOKIES_SENT] = "synproxy_syn_cookies_sent",
	[STAT_SYNPROXY_ACK_VALID]    = "synproxy_ack_valid",
	[STAT_SYNPROXY_ACK_INVALID]  = "synproxy_ack_invalid",
	[STAT_SYNPROXY_SPLICED]      = "synproxy_spliced",
	[STAT_SYNPROXY_SYN_RESENT]   = "synproxy_syn_resent",
	[STAT_SYNPROXY_DATA_DROPPED] = "synproxy_data_dropped",
	[STAT_ICMP_RATE_LIMITED] = "icmp_rate_limited",
	[STAT_ICMP_RELAYED]      = "icmp_relayed",
	[STAT_NEIGH_CHANGED]     = "neigh_changed",
	[STAT_TUN_FRAG_NEEDED]   = "tun_frag_needed",
	[STAT_ICMP_PASSED]       = "icmp_passed",
	[STAT_LPORT_EXHAUSTED]   = "lport_exhausted",
	[STAT_CHECK_DOWN]        = "check_down",
	[STAT_CHECK_UP]          = "check_up",
	[STAT_WORKER_CROSSED]    = "worker_crossed",
	[STAT_LOCK_SHARED]       = "lock_shared",
	[STAT_LOCK_OTHER_TABLE]  = "lock_other_table",
	[STAT_SORRY_ON]          = "sorry_on",
	[STAT_SORRY_OFF]         = "sorry_off",
	[STAT_RX_GSO]            = "rx_gso",
	[STAT_TUN_SEGMENTS]      = "tun_segments",
	[STAT_SYNC_TX_CONNS]     = "sync_tx_conns",
	[STAT_SYNC_TX_MESSAGES]  = "sync_tx_messages",
	[STAT_SYNC_TX_QUEUE_FULL] = "sync_tx_queue_full",
	[STAT_SYNC_TX_ERRORS]    = "sync_tx_errors",
	[STAT_SYNC_RX_MESSAGES]  = "sync_rx_messages",
	[STAT_SYNC_RX_CONNS]     = "sync_rx_conns",
	[STAT_SYNC_RX_REFUSED]   = "sync_rx_refused",
	[STAT_SYNC_RX_ENTRIES_REFUSED] = "sync_rx_entries_refused",
	[STAT_SYNC_RX_FOREIGN]   = "sync_rx_foreign",
	[STAT_SYNC_RX_SYNCID]    = "sync_rx_syncid",
	[STAT_SYNC_RX_NO_DEST]   = "sync_rx_no_dest",
	[STAT_SYNC_RX_TABLE_FULL] = "sync_rx_table_full",
	[STAT_NA_REPLIES]        = "na_replies",
	[STAT_NA_SENT]           = "na_sent",
	[STAT_ND_IGNORED]        = "nd_ignored",
	[STAT_CA_PROXY_SENT]     = "client_address_proxy_sent",
	[STAT_CA_PROXY_RESENT]   = "client_address_proxy_resent",
	[STAT_CA_PROXY_DGRAM]    = "client_address_proxy_dgram",
	[STAT_CA_OVERSIZE]       = "client_address_oversize",
	[STAT_CA_SYN_DATA]       = "client_address_syn_data",
	[STAT_CA_TOA]            = "client_address_toa",
	[STAT_CA_TOA_NOROOM]     = "client_address_toa_noroom",
	[STAT_SEQADJ_SACK]       = "seqadj_sack",
	[STAT_NAT_DIRECT]        = "nat_direct",
	[STAT_NAT_VIA_TAP]       = "nat_via_tap",
	[STAT_FRAG_FORWARDED]    = "fragments_forwarded",
	[STAT_FRAG_QUEUED]       = "fragments_queued",
	[STAT_FORWARDED]         = "forwarded",
	[STAT_FORWARDED_VIA_TAP] = "forwarded_via_tap",
	[STAT_DROP_MALFORMED]    = "drop_malformed",
	[STAT_DROP_UNEXPECTED]   = "drop_unexpected",
	[STAT_DROP_FRAGMENT]     = "drop_fragment",
	[STAT_DROP_FRAG_TIMEOUT] = "drop_fragment_timeout",
	[STAT_DROP_FRAG_MEMORY]  = "drop_fragment_memory",
	[STAT_DROP_FRAG_MALFORMED] = "drop_fragment_malformed",
	[STAT_DROP_FRAG_OVERLAP] = "drop_fragment_overlap",
	[STAT_DROP_IPV6_EXT]     = "drop_ipv6_ext",
	[STAT_DROP_NO_SERVICE]   = "drop_no_service",
	[STAT_DROP_NO_CONN]      = "drop_no_conn",
	[STAT_DROP_NO_CONN_OUT]  = "drop_no_conn_out",
	[STAT_DROP_FORWARD_LOOP] = "drop_forward_loop",
	[STAT_DROP_NO_DEST]      = "drop_no_dest",
	[STAT_DROP_TABLE_FULL]   = "drop_table_full",
	[STAT_DROP_RESERVE]      = "drop_reserve",
	[STAT_DROP_CONN_LIMIT]   = "drop_conn_limit",
	[STAT_DEFENCE_DROP_PACKET] = "drop_defence_packet",
	[STAT_DROP_RST_WINDOW]   = "drop_rst_window",
	[STAT_DROP_NO_NEIGH]     = "drop_no_neigh",
	[STAT_DROP_ICMP]         = "drop_icmp",
	[STAT_DROP_TX_ERROR]     = "drop_tx_error",
	[STAT_DROP_TUN_TX_ERROR] = "drop_tun_tx_error",
};

const char *
stat_name(enum stat_id id)
{
	return (unsigned)id < STAT_MAX && stat_names[id] ? stat_names[id] : "?";
}

uint64_t
stat_slot_get(unsigned slot, enum stat_id id)
{
	return __atomic_load_n(&stats_slots[slot].v[id], __ATOMIC_RELAXED);
}

uint64_t
stat_total(enum stat_id id)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < STATS_SLOTS; i++)
		sum += stat_slot_get(i, id);
	return sum;
}

/* AVG += (RATE - AVG) / 4, in signed arithmetic: the average falls too. */
static void
est_move(uint64_t *avg, uint64_t delta, unsigned shift)
{
	int64_t rate = (int64_t)((delta << shift) / STATS_EST_SECS);

	*avg = (uint64_t)((int64_t)*avg + ((rate - (int64_t)*avg) >> 2));
}

void
stats_est_tick(struct stats_est *e, const struct stats *s)
{
	est_move(&e->cps, s->conns - e->last.conns, 10);
	est_move(&e->inpps, s->inpkts - e->last.inpkts, 10);
	est_move(&e->outpps, s->outpkts - e->last.outpkts, 10);
	est_move(&e->inbps, s->inbytes - e->last.inbytes, 5);
	est_move(&e->outbps, s->outbytes - e->last.outbytes, 5);
	e->last = *s;
}

void
stats_est_read(const struct stats_est *e, struct stats_rate *r)
{
	r->cps = (e->cps + 0x1ff) >> 10;
	r->inpps = (e->inpps + 0x1ff) >> 10;
	r->outpps = (e->outpps + 0x1ff) >> 10;
	r->inbps = (e->inbps + 0xf) >> 5;
	r->outbps = (e->outbps + 0xf) >> 5;
}

void
stats_est_reset(struct stats_est *e, const struct stats *s)
{
	memset(e, 0, sizeof(*e));
	e->last = *s;
}
