#!/usr/bin/env bash
# mixed-modes.sh - one virtual service with a dr, a nat and a fullnat real
# server side by side, rr over them; and ICMP echo to the VIP is answered
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#  client .1 --- .2 director .1 ------------- rs1 .11 dr (VIP on lo)
#                   vsrouted (rr)             rs2 .12 nat
#                   local_address .250        rs3 .13 fullnat
#                                             all: nginx :80, gw .1
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_nat_seed 3
rs_dr_setup rs1 "$VIP"
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
local_address = { 10.20.0.250 }
virtual_server web {
    address = $VIP
    port = 80
    scheduler = rr
    real_server rs1 { address = 10.20.0.11  forward = dr }
    real_server rs2 { address = 10.20.0.12  forward = nat }
    real_server rs3 { address = 10.20.0.13  forward = fullnat }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 30 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "every request is answered"
for i in 1 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/answers")" "rs$i gets its third"
done
assert_eq 3 "$(vsradm -Ln | grep -cE '10\.20\.0\.1[123]:80 +(Route|Masq|FullNat) ')" \
	"-Ln shows Route, Masq and FullNat side by side"
# Who the real servers saw: the client for dr and nat, the pool for fullnat.
assert_true "rs3 (fullnat) saw the local address" grep -q '^10.20.0.250 ' "$T_DIR/nginx-rs3/access.log"
assert_true "rs2 (nat) saw the client" grep -q '^10.10.0.1 ' "$T_DIR/nginx-rs2/access.log"

assert_eq 5 "$(nsx client python3 "$VSR_TOP/tests/netns/icmpecho.py" "$VIP" 5)" \
	"5 ICMP echo requests to the VIP, 5 replies from it"
vsrouted_stats director >/dev/null
assert_ge 5 "$(stat_get icmp_echo_replies)" "counted as icmp_echo_replies"
vsrouted_stop director
