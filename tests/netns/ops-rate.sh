#!/usr/bin/env bash
# ops-rate.sh - vsradm -Ln --rate: ipvsadm's layout, all zero while idle, the
# estimator's CPS/InPPS/InBPS above zero under traffic, falling once it stops
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1            rs2
#  curl     vsrouted (rr)     nginx          nginx
#  (loop)   estimator 2 s     VIP on lo      VIP on lo
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
[ -x "$VSR_TOP/src/vsradm" ] || skip "src/vsradm is not built"

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done
seed_conf "$T_DIR/vsrouted.conf" 2 rr "conn_max = 4096"
vsrouted_start director "$T_DIR/vsrouted.conf"

vsradm -Ln --rate >"$T_DIR/rate0"
golden_check vsradm-rate-zero "$T_DIR/rate0"

# Traffic for a few estimator ticks: new connections one after another.
bg_start load client sh -c "i=0; while [ \$i -lt 400 ]; do
	curl -s --connect-timeout 2 -m 5 http://$VIP/ >/dev/null || echo ERR; i=\$((i + 1)); done"
load=$BG_PID

# Column N of the --rate line for ADDR (the service, or a real server).
rate_of() {
	vsradm -Ln --rate --exact | awk -v a="$1" -v n="$2" '
		$0 ~ "^TCP  " a " " || $0 ~ "^  -> " a " " {
			print $(n + 2); exit }'
}
rate_up() { [ "$(rate_of "$VIP:80" 1)" -gt 0 ] && [ "$(rate_of 10.10.0.11:80 1)" -gt 0 ] &&
	[ "$(rate_of 10.10.0.12:80 1)" -gt 0 ]; }
assert_true "CPS of the service and of both real servers rises under traffic" \
	wait_for "non-zero rates" 15 rate_up
vsradm -Ln --rate --exact >"$T_DIR/rate-load"
pps=$(rate_of "$VIP:80" 2) bps=$(rate_of "$VIP:80" 4)
assert_gt 0 "$pps" "InPPS of the service is above zero"
assert_gt "$((pps * 40))" "$bps" "InBPS is above 40 bytes a packet (IP + TCP headers)"
assert_eq 0 "$(rate_of "$VIP:80" 3)" "OutPPS stays 0 in dr (replies bypass the director)"

# The layout with the varying rates masked.
vsradm -Ln --rate --exact | sed -E 's/^(TCP  [0-9.:]+|  -> [0-9.:]+) .*$/\1  (rates)/' >"$T_DIR/rate"
golden_check vsradm-rate "$T_DIR/rate"

bg_stop "$load" TERM 30 || true
wait_for "the load to end" 30 _t_not_running "$load" || true
cps=$(rate_of "$VIP:80" 1)
fall() { [ "$(rate_of "$VIP:80" 1)" -lt "$cps" ] || [ "$(rate_of "$VIP:80" 1)" -eq 0 ]; }
assert_true "CPS falls once traffic stops" wait_for "a lower CPS" 15 fall
vsradm -Z
assert_eq 0 "$(vsradm -Ln --rate --exact | awk 'NR > 3 { s += $3 + $4 + $5 + $6 + $7 } END { print s + 0 }')" \
	"-Z zeroes the rates too"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
