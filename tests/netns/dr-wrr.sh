#!/usr/bin/env bash
# dr-wrr.sh - LVS-DR, weighted round robin 3:1 over 400 new connections
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1            rs2
#  curl     vsrouted (wrr)    nginx w=3      nginx w=1
#           VIP/32 -> vsr0   VIP on lo      VIP on lo
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done

cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $VIP
    port = 80
    protocol = tcp
    scheduler = wrr
    forward = dr
    real_server rs1 { address = 10.10.0.11  weight = 3 }
    real_server rs2 { address = 10.10.0.12  weight = 1 }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 400 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
assert_eq 400 "$(($(count_of rs1 "$T_DIR/answers") + $(count_of rs2 "$T_DIR/answers")))" \
	"400 answers from rs1 and rs2"
assert_within 5 300 "$(count_of rs1 "$T_DIR/answers")" "rs1 (weight 3) answers"
assert_within 5 100 "$(count_of rs2 "$T_DIR/answers")" "rs2 (weight 1) answers"
assert_within 5 300 "$(http_count rs1)" "rs1 access log"
assert_within 5 100 "$(http_count rs2)" "rs2 access log"
# Smooth, not bursty: within any 8 consecutive answers rs2 appears 1 to 3
# times (wrr interleaves 3:1; a scheduler that sends 300 then 100 fails).
assert_true "rs2 interleaved among rs1 answers (1 to 3 in every 8)" \
	awk 'NR > 8 { if (c < 1 || c > 3) bad++ }
	     { w[NR % 8] = ($0 == "rs2"); c = 0; for (k in w) c += w[k] }
	     END { exit bad ? 1 : 0 }' "$T_DIR/answers"

vsrouted_stop director
