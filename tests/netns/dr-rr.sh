#!/usr/bin/env bash
# dr-rr.sh - LVS-DR, round robin: 300 new connections, exactly 100 per RS
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl     vsrouted (rr)     nginx          nginx          nginx
#           VIP/32 -> vsr0   VIP on lo      VIP on lo      VIP on lo
#
#   client -> VIP:80 -> director -> rsN (dst MAC rewritten); rsN -> client
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

seed_conf "$T_DIR/vsrouted.conf" 3
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 300 >"$T_DIR/answers"
assert_eq 300 "$(grep -c . "$T_DIR/answers")" "300 requests got an answer line"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
for i in 1 2 3; do
	assert_eq 100 "$(count_of "rs$i" "$T_DIR/answers")" "client saw rs$i answer 100 times"
	assert_eq 100 "$(count_wait 100 http_count "rs$i")" "rs$i served 100 requests"
done
# Round robin proper: no real server twice in a row.
assert_eq 0 "$(uniq -d "$T_DIR/answers" | grep -c . || true)" "no real server answered twice in a row"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
