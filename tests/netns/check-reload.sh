#!/usr/bin/env bash
# check-reload.sh - a reload (SIGHUP) keeps the health state of the real
# servers that remain: one that is down stays down right after it (not
# flapped up), and the checks go on: it comes back after the reload
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl       vsrouted (rr)    nginx          nginx (stopped)  nginx
#             tcp checks; the reload adds rs3
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
check_conf "$T_DIR/vsrouted.conf" 2 "type = tcp  interval = 1  timeout = 5  rise = 3  fall = 1"
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)
rs_weight() { vsradm -Ln | awk -v a="$1:80" '$2 == a { print $4 }'; }

http_stop rs2
wait_for "rs2 to be marked down" 10 grep -q "rs2 (10.10.0.12:80) is down" "$log"

# The reload: rs3 added, rs1's weight changed, rs2 as it was.
check_conf "$T_DIR/vsrouted.conf" 3 "type = tcp  interval = 1  timeout = 5  rise = 3  fall = 1"
sed -i 's|\(real_server rs1 { address = [0-9.]*\) }|\1  weight = 2 }|' "$T_DIR/vsrouted.conf"
kill -HUP "$(cat "$T_DIR/vsrouted-director.pid")"
wait_for "the reload" 10 grep -q "reloaded:" "$log"
assert_eq 0 "$(rs_weight 10.10.0.12)" "rs2 is still at weight 0 right after the reload"
assert_eq 2 "$(rs_weight 10.10.0.11)" "rs1 has its new weight"
assert_eq 1 "$(rs_weight 10.10.0.13)" "rs3 was added, up"
http_get_n client "http://$VIP/" 9 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed after the reload"
assert_eq 0 "$(count_of rs2 "$T_DIR/answers")" "rs2 receives nothing"
assert_eq 0 "$(grep -c 'is up' "$log" || true)" "rs2 was not flapped up by the reload"

http_resume rs2 rs2
wait_for "rs2 to be marked up" 10 grep -q "rs2 (10.10.0.12:80) is up: tcp check passed (3 of 3 successes)" "$log"
pass "the checks go on after the reload: rs2 recovers"
assert_eq 1 "$(rs_weight 10.10.0.12)" "rs2 back at weight 1"

# A reload that drops rs2's check puts it back at once and stops checking it.
http_stop rs3
wait_for "rs3 to be marked down" 10 grep -q "rs3 (10.10.0.13:80) is down" "$log"
sed -i '/check {/d' "$T_DIR/vsrouted.conf"
kill -HUP "$(cat "$T_DIR/vsrouted-director.pid")"
wait_for "the second reload" 10 sh -c '[ "$(grep -c "reloaded:" "$1")" -ge 2 ]' sh "$log"
assert_eq 1 "$(rs_weight 10.10.0.13)" "without its check section rs3 has its weight again"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
