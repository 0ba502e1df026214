#!/usr/bin/env bash
# dr-wlc-default.sh - LVS-DR with no scheduler key: weighted least-connection
#
#                         LAN lan0 (bridge)
#   +-----------+-----------+-----------+-----------+-----------+
#   | .1        | .2        | .11       | .12       | .13       | .14
# client    director      rs1         rs2         rs3         rs4
#  curl     vsrouted     nginx w=1   nginx w=1   nginx w=1   nginx w=0
#  bash /dev/tcp holders (long-lived connections)
#
# 1. Sequential short requests spread over rs1..rs3; rs4 (weight 0) gets none.
# 2. Two long-lived connections are held open (active); afterwards every new
#    short connection goes to the one real server that holds none: a
#    least-connection scheduler, not round robin (which would spread them).
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 4
for i in 1 2 3 4; do http_start "rs$i" "rs$i"; done

cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $VIP
    port = 80
    protocol = tcp
    real_server rs1 { address = 10.10.0.11 }
    real_server rs2 { address = 10.10.0.12 }
    real_server rs3 { address = 10.10.0.13 }
    real_server rs4 { address = 10.10.0.14  weight = 0 }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 30 >"$T_DIR/answers1"
assert_eq 0 "$(count_of ERR "$T_DIR/answers1")" "no request failed"
for i in 1 2 3; do
	assert_gt 0 "$(count_of "rs$i" "$T_DIR/answers1")" "rs$i got some of 30 sequential requests"
done
assert_eq 0 "$(count_of rs4 "$T_DIR/answers1")" "rs4 (weight 0) got none"

# A holder: one HTTP request on a connection kept open (60 s at most).
hold() {
	bg_start "$1" client bash -c '
		exec 3<>"/dev/tcp/$0/80" || exit 1
		printf "GET / HTTP/1.1\r\nHost: vip\r\n\r\n" >&3
		while IFS= read -r -t 5 l <&3; do l=${l%$'"'\r'"'}; [ -z "$l" ] && break; done
		IFS= read -r -t 5 body <&3 && echo "$body"
		exec sleep 60' "$VIP"
	wait_for "$1 to get its answer" 10 grep -q '^rs' "$T_DIR/$1.log"
}
hold hold1
hold hold2
h1=$(cat "$T_DIR/hold1.log")
h2=$(cat "$T_DIR/hold2.log")
assert_ne "$h1" "$h2" "the two held connections are on different real servers"
free=
for i in 1 2 3; do
	[ "rs$i" != "$h1" ] && [ "rs$i" != "$h2" ] && free="rs$i"
done
[ -n "$free" ] || fatal "held connections on $h1 and $h2, none left free among rs1..rs3"

http_get_n client "http://$VIP/" 20 >"$T_DIR/answers2"
assert_eq 0 "$(count_of ERR "$T_DIR/answers2")" "no request failed while connections are held"
assert_eq 20 "$(count_of "$free" "$T_DIR/answers2")" \
	"all 20 new connections went to $free, the least connected"
assert_eq 0 "$(http_count rs4)" "rs4 (weight 0) served nothing"

vsrouted_stop director
