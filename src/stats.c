/* stats.c - global counters and their names */
#include "common.h"
#include "stats.h"

uint64_t stats_global[STAT_MAX];

static const char *const stat_names[STAT_MAX] = {
	[STAT_NONE]              = "none",
	[STAT_RX_PACKETS]        = "rx_packets",
	[STAT_RX_BYTES]          = "rx_bytes",
	[STAT_TX_PACKETS]        = "tx_packets",
	[STAT_TX_BYTES]          = "tx_bytes",
	[STAT_CONN_CREATED]      = "conn_created",
	[STAT_CONN_EXPIRED]      = "conn_expired",
	[STAT_CONN_RESCHEDULED]  = "conn_rescheduled",
	[STAT_ARP_REPLIES]       = "arp_replies",
	[STAT_GARP_SENT]         = "garp_sent",
	[STAT_ICMP_ECHO_REPLIES] = "icmp_echo_replies",
	[STAT_ICMP_RELAYED]      = "icmp_relayed",
	[STAT_NEIGH_CHANGED]     = "neigh_changed",
	[STAT_TUN_FRAG_NEEDED]   = "tun_frag_needed",
	[STAT_ICMP_PASSED]       = "icmp_passed",
	[STAT_LPORT_EXHAUSTED]   = "lport_exhausted",
	[STAT_DROP_MALFORMED]    = "drop_malformed",
	[STAT_DROP_UNEXPECTED]   = "drop_unexpected",
	[STAT_DROP_FRAGMENT]     = "drop_fragment",
	[STAT_DROP_NO_SERVICE]   = "drop_no_service",
	[STAT_DROP_NO_CONN]      = "drop_no_conn",
	[STAT_DROP_NO_CONN_OUT]  = "drop_no_conn_out",
	[STAT_DROP_NO_DEST]      = "drop_no_dest",
	[STAT_DROP_TABLE_FULL]   = "drop_table_full",
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
