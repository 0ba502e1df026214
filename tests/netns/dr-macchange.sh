#!/usr/bin/env bash
# dr-macchange.sh - a real server that changes its MAC address (a NIC swap,
# a VM moved) is found again by the daemon's periodic ARP refresh
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   |
# client       director         rs1 (MAC changes, no gratuitous ARP)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 1
http_start rs1 rs1

seed_conf "$T_DIR/vsrouted.conf" 1
vsrouted_start director "$T_DIR/vsrouted.conf"
assert_eq rs1 "$(http_get client "http://$VIP/")" "rs1 answers through the VIP"

# New MAC, and no gratuitous ARP about it (arp_notify is 0).
nsx rs1 ip link set eth0 address 02:00:00:aa:bb:01
assert_true "rs1 answers again after the daemon's ARP refresh (every 10 s)" \
	wait_for "rs1 at its new MAC" 25 sh -c "[ \"\$(ip netns exec $(nsname client) curl -s --connect-timeout 1 -m 2 http://$VIP/)\" = rs1 ]"
vsrouted_stats director >/dev/null
assert_eq 1 "$(stat_get neigh_changed)" "the change was noticed once"
assert_true "the change is logged" grep -q "real server 10.10.0.11 moved to 02:00:00:aa:bb:01" "$(vsrouted_log director)"
vsrouted_stop director
