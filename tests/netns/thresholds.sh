#!/usr/bin/env bash
# thresholds.sh - a real server at its upper connection threshold (ipvsadm
# -x) gets no new flows until its connections fall below the lower one
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1 upper 2    rs2
#              vsrouted (rr)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done
cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
timeout { tcp_fin = 1 }
virtual_server web {
    address   = $VIP
    port      = 80
    scheduler = rr
    real_server rs1 { address = 10.10.0.11  upper = 2  lower = 1 }
    real_server rs2 { address = 10.10.0.12 }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"

# rr: rs1, rs2, rs1 (now at 2: overloaded), rs2.
bg_start hold client python3 "$VSR_TOP/tests/netns/holdopen.py" "$VIP" 80 4 60
hold=$BG_PID
wait_for "4 held connections" 15 grep -q '^ready' "$T_DIR/hold.log"
assert_eq 2 "$(count_of rs1 "$T_DIR/hold.log")" "rs1 holds 2 connections"
vsrouted_stats director >/dev/null
assert_eq 1 "$(stat_get rs web/rs1 overloaded)" "rs1 is overloaded at its upper threshold"

http_get_n client "http://$VIP/" 10 >"$T_DIR/during"
assert_eq 10 "$(count_of rs2 "$T_DIR/during")" "all 10 new connections go to rs2"

# Close the held ones: FIN_WAIT lasts 1 s, then rs1 is below its lower threshold.
bg_stop "$hold" TERM 10
rs1_available() {
	vsrouted_stats director >/dev/null && [ "$(stat_get rs web/rs1 overloaded)" = 0 ]
}
assert_true "rs1 falls below its lower threshold" wait_for "rs1 available" 10 rs1_available
# rr again: rs1, rs2, rs1 (2 connections, closing ones count too), rs2.
http_get_n client "http://$VIP/" 4 >"$T_DIR/after"
assert_eq 2 "$(count_of rs1 "$T_DIR/after")" "rs1 takes new flows again"
vsrouted_stop director
