#!/usr/bin/env bash
# nat-runtime.sh - nat real servers at run time: an existing one can be
# quiesced and given back its weight by vsradm and by a reload; a new one,
# whose policy rule is made at start only, is refused with a clear error by
# vsradm, and a reload that would add one changes nothing
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

# A new one: refused, and nothing changes.
set +e
out=$(vsradm -a -t "$VIP:80" -r 10.20.0.13:8080 -m 2>&1)
rc=$?
set -e
assert_ne 0 "$rc" "vsradm -a of a new nat real server fails"
assert_true "and says a restart is needed" sh -c "echo '$out' | grep -q 'needs a restart'"
assert_eq 0 "$(vsradm -Ln | grep -c 10.20.0.13)" "it is not listed"

conf 3
kill -HUP "$(_t_vsr_pid director)"
assert_true "the reload is refused, naming the real server" wait_for "the refusal" 10 \
	grep -q "real server rs3 (10.20.0.13): a new nat real server needs a restart" "$(vsrouted_log director)"
assert_eq 0 "$(vsradm -Ln | grep -c 10.20.0.13)" "the reload changed nothing"
http_get_n client "http://$VIP/" 4 >"$T_DIR/c"
assert_eq 0 "$(count_of ERR "$T_DIR/c")" "the service still answers"
assert_eq 0 "$(count_of rs3 "$T_DIR/c")" "and rs3 gets nothing"
vsrouted_stop director
