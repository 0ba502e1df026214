#!/usr/bin/env bash
# nat-runtime.sh - nat real servers at run time: an existing one can be
# quiesced and given back its weight by vsradm; a new one is added and
# removed by vsradm and by a reload while a client requests without pause:
# no request fails, its policy rules are there while it is and gone after
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#  client .1 --- .2 director .1 ------------- rs1 .11, rs2 .12, rs3 .13
#                   vsrouted (rr, nat)                nginx 8080, gw .1
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_nat_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i" 8080; done
conf() {  # conf NRS: the service with rs1..rsNRS
	{
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		echo "virtual_server web {"
		echo "    address = $VIP"
		echo "    port = 80"
		echo "    scheduler = rr"
		echo "    forward = nat"
		for i in $(seq "$1"); do
			echo "    real_server rs$i { address = 10.20.0.$((10 + i))  port = 8080 }"
		done
		echo "}"
	} >"$T_DIR/vsrouted.conf"
}
conf 2
vsrouted_start director "$T_DIR/vsrouted.conf"
http_get_n client "http://$VIP/" 4 >"$T_DIR/a"
assert_eq 2 "$(count_of rs1 "$T_DIR/a")" "rr over rs1 and rs2"

# Existing nat real servers: weights change at run time.
vsradm -e -t "$VIP:80" -r 10.20.0.11:8080 -m -w 0
http_get_n client "http://$VIP/" 4 >"$T_DIR/b"
assert_eq 4 "$(count_of rs2 "$T_DIR/b")" "rs1 quiesced by vsradm -e: rs2 takes all"
vsradm -e -t "$VIP:80" -r 10.20.0.11:8080 -m -w 1

rules_of() {  # rules_of RIP: the director's policy rules from RIP
	nsx director ip rule show | grep -c "from $1 " || true
}
rs3_since() {  # rs3_since MS: at least 3 requests started after MS answered by rs3
	[ "$(req_after "$1" rs3)" -ge 3 ]
}
listed() { vsradm -Ln | grep -q "$1"; }
unlisted() { ! listed "$1"; }
assert_eq 0 "$(rules_of 10.20.0.13)" "no rule for rs3 before it comes"

req_loop_start client "http://$VIP/"
sleep 0.5

# By vsradm: added, served, removed.
vsradm -a -t "$VIP:80" -r 10.20.0.13:8080 -m
assert_eq 4 "$(rules_of 10.20.0.13)" "vsradm -a: rs3's rules (tcp 8080, icmp, fragments: two) are made"
t=$(now_ms)
assert_true "rs3 answers requests" wait_for "rs3 in the loop" 10 rs3_since "$t"
vsradm -d -t "$VIP:80" -r 10.20.0.13:8080
assert_eq 0 "$(rules_of 10.20.0.13)" "vsradm -d: rs3's rules are gone"
sleep 0.5

# By reload: added, served, removed.
conf 3
kill -HUP "$(_t_vsr_pid director)"
assert_true "the reload adds rs3" wait_for "rs3 listed" 10 listed 10.20.0.13
assert_eq 4 "$(rules_of 10.20.0.13)" "reload: rs3's rules are made"
t=$(now_ms)
assert_true "rs3 answers requests after the reload" wait_for "rs3 in the loop" 10 rs3_since "$t"
conf 2
kill -HUP "$(_t_vsr_pid director)"
assert_true "the reload removes rs3" wait_for "rs3 gone" 10 unlisted 10.20.0.13
assert_eq 0 "$(rules_of 10.20.0.13)" "reload: rs3's rules are gone"
sleep 0.5
req_loop_stop

n=$(req_after 0)
assert_gt 20 "$n" "the request loop ran"
assert_eq 0 "$(req_after 0 ERR)" "no request failed"
assert_eq 4 "$(rules_of 10.20.0.11)" "rs1's rules stay throughout"
http_get_n client "http://$VIP/" 4 >"$T_DIR/c"
assert_eq 0 "$(count_of rs3 "$T_DIR/c")" "rs3 gets nothing once removed"
vsrouted_stop director
assert_eq 0 "$(rules_of 10.20.0.11)" "the stop removes every rule"
