#!/usr/bin/env bash
# dr-udp.sh - LVS-DR for UDP: 30 datagrams from 30 source ports, rr 10 each
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
# udpsrv.py   vsrouted (rr)   udpsrv.py      udpsrv.py      udpsrv.py
#   ask       VIP:5353/udp    VIP on lo      VIP on lo      VIP on lo
#
# The client's socket is connected to VIP:5353, so an answer counts only if
# it comes from the VIP (as DR requires), straight from the real server.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3

PORT=5353
lvs_dr_seed 3
udp_seed_servers 3 "$PORT"
udp_seed_conf "$T_DIR/vsrouted.conf" 3 "$PORT"
vsrouted_start director "$T_DIR/vsrouted.conf"

: >"$T_DIR/answers"
for i in $(seq 30); do
	udp_ask client "$VIP" "$PORT" $((40000 + i)) >>"$T_DIR/answers" 2>>"$T_DIR/ask.err" ||
		echo ERR >>"$T_DIR/answers"
done
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "every datagram got an answer from the VIP"
for i in 1 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/answers")" "client got 10 answers from rs$i"
	assert_eq 10 "$(udp_count "rs$i")" "rs$i received 10 datagrams"
done
assert_eq 30 "$(cat "$T_DIR"/udp-rs*.log | grep -c "^from 10.10.0.1:.* to $VIP " || true)" \
	"real servers saw client source and VIP destination unchanged"

# Same source port again: the flow sticks to its real server.
first=$(sed -n 1p "$T_DIR/answers")
assert_eq "$first" "$(udp_ask client "$VIP" "$PORT" 40001)" "a known flow stays on its real server"

vsrouted_stop director
