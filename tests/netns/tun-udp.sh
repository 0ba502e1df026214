#!/usr/bin/env bash
# tun-udp.sh - LVS-TUN, a UDP service over IPIP: rr over 3 real servers,
# answers from the VIP straight from the real servers
#
#                  LAN lan0 (bridge)
#   +--------------+---------------+
#   | 10.10.0.1    | 10.10.0.2     | 10.10.0.254
# client       director          router --- 10.30.N.0/24 --- rsN (N = 1..3)
#  udpsrv.py ask  vsrouted (rr, tun)                          vsrtun, udpsrv.py :5353
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun
need_cmd python3

PORT=5353
lvs_tun_seed 3
for i in 1 2 3; do udp_start "rs$i" "rs$i" "$PORT"; done
tun_conf "$T_DIR/vsrouted.conf" 3 ipip udp "$PORT"
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
first=$(sed -n 1p "$T_DIR/answers")
assert_eq "$first" "$(udp_ask client "$VIP" "$PORT" 40001)" "a known flow stays on its real server"

vsrouted_stop director
for i in 1 2 3; do vsrtun_stop "rs$i"; done
