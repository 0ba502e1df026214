#!/usr/bin/env bash
# check6.sh - health checks over IPv6, one of each kind: tcp (a port of its
# own), udp (the kernel's ICMPv6 port unreachable taking a real server out),
# and exec (the script given the real server's IPv6 address); each real
# server taken out by its check, no new flow reaching it, and put back
#
#                         LAN lan0 2001:db8:10::/64 (and 10.10.0.0/24)
#   +--------------+--------------+--------------+--------------+
#   | ::1          | ::2          | ::11         | ::12         | ::13
# client       director         rs1            rs2            rs3
#  curl       vsrouted (dr)    nginx :80      nginx :80      nginx :80
#  ask        VIP6:80 tcp      udpsrv :5353   udpsrv :5353   udpsrv :5353
#             VIP6:5353 udp    nginx :9000
#
#   web6: tcp check on port 9000 for all; rs3 an exec check instead
#   dns6: udp check, payload "ping\n"
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3
getent passwd nobody >/dev/null || skip "no user nobody"

lvs_dr_seed6 3
for i in 1 2 3; do
	http_start "rs$i" "rs$i"
	http_start "rs$i" "chk$i" 9000
	udp_start "rs$i" "rs$i" 5353
done
out=$T_DIR/out
mkdir -m 1777 "$out"
cat >"$T_DIR/chk.sh" <<EOS
#!/bin/sh
echo "\$1 \$2" >>"$out/chk.calls"
[ -e "$out/down" ] && exit 1
exit 0
EOS
chmod 0755 "$T_DIR/chk.sh"

cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
check_user = nobody
virtual_server web6 {
    address = $VIP6
    port = 80
    scheduler = rr
    forward = dr
    check { type = tcp  port = 9000  interval = 1  timeout = 5  rise = 1  fall = 1 }
    real_server rs1 { address = 2001:db8:10::11 }
    real_server rs2 { address = 2001:db8:10::12 }
    real_server rs3 {
        address = 2001:db8:10::13
        check { type = exec  command = "$T_DIR/chk.sh" }
    }
}
virtual_server dns6 {
    address = $VIP6
    port = 5353
    protocol = udp
    scheduler = rr
    forward = dr
    check { type = udp  payload = "ping\n"  interval = 1  timeout = 1  rise = 1  fall = 1 }
    real_server rs1 { address = 2001:db8:10::11 }
    real_server rs2 { address = 2001:db8:10::12 }
    real_server rs3 { address = 2001:db8:10::13 }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
log=$(vsrouted_log director)
weight_of() { vsradm -Ln | awk -v a="$1" '$2 == a { print $4 }'; }
pid_of() { awk -v n="$1" '$2 == n { p = $1 } END { print p }' "$T_DIR/pids"; }

# ---- exec: the script gets the IPv6 address (no brackets) and the port
wait_for "the exec check to run" 10 grep -q '^2001:db8:10::13 9000$' "$out/chk.calls"
pass "the exec check is run with rs3's IPv6 address, unbracketed, and the check's port"
touch "$out/down"
wait_for "rs3 down by its exec check" 10 grep -q 'rs3 (\[2001:db8:10::13\]:80) is down' "$log"
assert_eq 0 "$(weight_of "[2001:db8:10::13]:80")" "rs3 at weight 0"
http_get_n client "$(url "$VIP6")" 12 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "12 requests answered with rs3 down"
assert_eq 0 "$(count_of rs3 "$T_DIR/answers")" "none went to rs3"
rm -f "$out/down"
wait_for "rs3 up by its exec check" 10 grep -q 'rs3 (\[2001:db8:10::13\]:80) is up' "$log"

# ---- tcp: rs1's port 9000 closes (the kernel resets), and opens again
bg_stop "$(pid_of nginx-chk1)" TERM 10
wait_for "rs1 down by its tcp check" 10 grep -q 'rs1 (\[2001:db8:10::11\]:80) is down: tcp check' "$log"
assert_eq 0 "$(weight_of "[2001:db8:10::11]:80")" "rs1 at weight 0"
http_get_n client "$(url "$VIP6")" 12 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "12 requests answered with rs1 down"
assert_eq 0 "$(count_of rs1 "$T_DIR/answers")" "none went to rs1"
http_start rs1 chk1 9000
wait_for "rs1 up by its tcp check" 10 grep -q 'rs1 (\[2001:db8:10::11\]:80) is up' "$log"
assert_eq 1 "$(weight_of "[2001:db8:10::11]:80")" "rs1 at weight 1 again"

# ---- udp: rs2's server stops, the kernel answers ICMPv6 port unreachable
bg_stop "$(pid_of udp-rs2)" TERM 10
wait_for "rs2 down by its udp check" 10 grep -q 'rs2 (\[2001:db8:10::12\]:5353) is down' "$log"
assert_eq 1 "$(grep -c 'rs2 (\[2001:db8:10::12\]:5353) is down: udp check: port unreachable' "$log")" \
	"rs2: down for the ICMPv6 port unreachable"
: >"$T_DIR/udp"
for i in $(seq 10); do
	udp_ask client "$VIP6" 5353 $((41000 + i)) >>"$T_DIR/udp" 2>>"$T_DIR/ask.err" || echo ERR >>"$T_DIR/udp"
done
assert_eq 0 "$(count_of ERR "$T_DIR/udp")" "10 datagrams answered with rs2 down"
assert_eq 0 "$(count_of rs2 "$T_DIR/udp")" "none went to rs2"
udp_start rs2 rs2 5353
wait_for "rs2 up by its udp check" 10 grep -q 'rs2 (\[2001:db8:10::12\]:5353) is up' "$log"

http_get_n client "$(url "$VIP6")" 30 >"$T_DIR/answers"
for i in 1 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/answers")" "rs$i takes its third again"
done
vsrouted_stats director >/dev/null
assert_eq 3 "$(stat_get check_down)" "three up -> down transitions counted"
assert_eq 3 "$(stat_get check_up)" "three down -> up transitions counted"
vsrouted_stop director
