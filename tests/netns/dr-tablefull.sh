#!/usr/bin/env bash
# dr-tablefull.sh - a full connection table drops new flows, counts them, and
# keeps the existing ones flowing; expiry makes room again
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   |
# client       director         rs1
# holdconns  vsrouted          nginx
#            conn_max = 5      VIP on lo
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 1
http_start rs1 rs1

# FIN_WAIT lasts 1 s so that closed flows leave the table quickly.
seed_conf "$T_DIR/vsrouted.conf" 1 rr "conn_max = 5" "timeout { tcp_fin = 1 }"
vsrouted_start director "$T_DIR/vsrouted.conf"

nsx client python3 "$VSR_TOP/tests/netns/holdconns.py" "$VIP" 80 5 >"$T_DIR/hold.out"
cat "$T_DIR/hold.out"
assert_eq "held 5" "$(sed -n 1p "$T_DIR/hold.out")" "5 connections fill the table and are served"
assert_eq "extra fail" "$(sed -n 2p "$T_DIR/hold.out")" "a 6th connection gets no service"
assert_eq "again 5" "$(sed -n 3p "$T_DIR/hold.out")" "the 5 held connections keep flowing"

vsrouted_stats director >/dev/null
assert_gt 0 "$(stat_get drop_table_full)" "drop_table_full counts the refused flow"
assert_eq 5 "$(stat_get conn_created)" "exactly 5 connections were created"

# The client closed them: FIN_WAIT (1 s) expires and the table has room.
assert_true "a new connection is served once the old ones expired" \
	wait_for "room in the table" 10 http_get client "http://$VIP/"
vsrouted_stats director >/dev/null
assert_ge 5 "$(stat_get conn_expired)" "the closed connections expired"

vsrouted_stop director
