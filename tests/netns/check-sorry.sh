#!/usr/bin/env bash
# check-sorry.sh - sorry_server: with all three real servers down by their
# http checks, every request is answered by the sorry server within
# fall x interval + timeout, and vsradm -Ln lists it (weight 1); a reload
# keeps it in use; once one real server is back it takes the new requests
# and the sorry server gets none (and is no longer listed).  A client port
# whose SYN a stopped real server refused (before its check saw it: the
# connection stays in SYN_RECV for a minute) is used again for a new
# connection once the sorry server is in use: that SYN is scheduled anew, to
# the sorry server, not sent after the old connection to the down server.
#
#                         LAN lan0 (bridge)
#   +------------+------------+------------+------------+------------+
#   | 10.10.0.1  | 10.10.0.2  | 10.10.0.11 | 10.10.0.12 | 10.10.0.13 | 10.10.0.14
# client     director        rs1          rs2          rs3          rs4
#  curl loop vsrouted (rr)   nginx "rs1"  nginx "rs2"  nginx "rs3"  nginx "sorry"
#  (50 ms)   dr, checks ->                                          (the sorry server)
#
#   check { type = http  interval = 1  timeout = 1  rise = 2  fall = 2 }
#   sorry_server { address = 10.10.0.14 }
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

INTERVAL=1 TIMEOUT=1 RISE=2 FALL=2
lvs_dr_seed 4
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
http_start rs4 sorry
check_conf "$T_DIR/vsrouted.conf" 3 \
	"type = http  interval = $INTERVAL  timeout = $TIMEOUT  rise = $RISE  fall = $FALL" \
	"metrics = 127.0.0.1:9410"
sed -i 's|^    check {.*|&\n    sorry_server { address = 10.10.0.14 }|' "$T_DIR/vsrouted.conf"
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)
pidf="$T_DIR/vsrouted-director.pid"

# A client port outside the client's ephemeral range, so the loop never takes it.
REUSE_PORT=31000
reuse_get() {
	nsx client curl -s --connect-timeout 1 -m 2 --local-port "$REUSE_PORT" "http://$VIP/" || echo ERR
}
# reuse_conn: "STATE DEST" of the director's connection from that port
reuse_conn() {
	vsradm -Lnc | awk -v s="10.10.0.1:$REUSE_PORT" '$4 == s { print $3, $6 }'
}
listed() { vsradm -Ln | awk '$1 == "->" && $2 ~ /^10\.10\.0\.1[0-9]:/ { printf "%s/%s ", $2, $4 }'; }
# req_other MS ANSWER: requests started at or after MS answered otherwise
# (one pass over the file, which the loop keeps appending to), each shown
req_other() {
	awk -v t="$1" -v a="$2" '$1 >= t && $2 != a { n++; print "  " $0 >"/dev/stderr" }
		END { print n + 0 }' "$T_DIR/requests"
}
sorry_active() {
	nsx director curl -s -m 2 http://127.0.0.1:9410/metrics |
		awk '/^vsrouted_service_sorry_active\{vs="web"/ { print $NF }'
}

assert_eq "10.10.0.11:80/1 10.10.0.12:80/1 10.10.0.13:80/1 " "$(listed)" \
	"the sorry server is not listed while the real servers are up"
req_loop_start client "http://$VIP/"
wait_for "requests to all three" 10 sh -c '[ "$(awk "\$2 == \"rs3\"" "$1" | wc -l)" -ge 2 ]' \
	sh "$T_DIR/requests"
assert_eq 0 "$(req_after 0 sorry)" "the sorry server gets nothing while the real servers are up"
assert_eq 0 "$(sorry_active)" "metrics: sorry server not active"

t_stop=$(now_ms)
for i in 1 2 3; do http_stop "rs$i"; done
deadline=$(($(now_ms) + (FALL * INTERVAL + TIMEOUT) * 1000))
# Right away, before the checks see it (fall x interval): refused.
assert_eq ERR "$(reuse_get)" "a request from port $REUSE_PORT just after the stop is refused"
conn=$(reuse_conn)
assert_true "its connection stays, in SYN_RECV, to a real server ($conn)" \
	sh -c 'case $1 in "SYN_RECV 10.10.0.1"[123]":80") exit 0 ;; esac; exit 1' sh "$conn"
wait_for "the switch to the sorry server" 10 grep -q "every real server is down" "$log"
echo "switch: $(($(now_ms) - t_stop)) ms after the first stop (bound: $((deadline - t_stop)) ms)"
assert_eq 1 "$(grep -c 'virtual server web: every real server is down: new flows go to the sorry server 10.10.0.14:80' "$log")" \
	"the switch is logged once"
assert_eq "10.10.0.11:80/0 10.10.0.12:80/0 10.10.0.13:80/0 10.10.0.14:80/1 " "$(listed)" \
	"vsradm -Ln lists the sorry server with weight 1"
assert_eq 1 "$(sorry_active)" "metrics: sorry server active"
wait_for "3 s of requests past the deadline" 10 sh -c \
	'[ "$(awk -v t="$2" "\$1 >= t + 3000" "$1" | wc -l)" -ge 5 ]' sh "$T_DIR/requests" "$deadline"
assert_gt 0 "$(req_after "$deadline")" "requests were made past the deadline"
assert_eq 0 "$(req_other "$deadline" sorry)" \
	"every request past fall x interval + timeout is answered by the sorry server"

# A reload while the sorry server is in use keeps it in use.
kill -HUP "$(cat "$pidf")"
wait_for "the reload" 10 grep -q "reloaded:" "$log"
t_hup=$(now_ms)
assert_eq "10.10.0.11:80/0 10.10.0.12:80/0 10.10.0.13:80/0 10.10.0.14:80/1 " "$(listed)" \
	"after a reload the sorry server is still listed"
wait_for "2 s of requests after the reload" 10 sh -c \
	'[ "$(awk -v t="$2" "\$1 >= t + 2000" "$1" | wc -l)" -ge 3 ]' sh "$T_DIR/requests" "$t_hup"
assert_eq 0 "$(req_other "$t_hup" sorry)" \
	"after the reload every request is still answered by the sorry server"
# The port of the refused SYN again: its old connection is to a server down.
assert_eq sorry "$(reuse_get)" \
	"a new connection from port $REUSE_PORT goes to the sorry server, not to the down server"
assert_eq 10.10.0.14:80 "$(reuse_conn | cut -d' ' -f2)" "its connection is now to the sorry server"

# rs1 comes back: it takes the new requests, the sorry server none.
http_resume rs1 rs1
wait_for "rs1 to be marked up" 10 grep -q "rs1 (10.10.0.11:80) is up" "$log"
t_up=$(now_ms)
assert_eq 1 "$(grep -c 'virtual server web: a real server is up: new flows go to the real servers again, not to the sorry server 10.10.0.14:80' "$log")" \
	"the switch back is logged once"
assert_eq "10.10.0.11:80/1 10.10.0.12:80/0 10.10.0.13:80/0 " "$(listed)" \
	"the sorry server is no longer listed"
wait_for "2 s of requests after the recovery" 10 sh -c \
	'[ "$(awk -v t="$2" "\$1 >= t + 2000" "$1" | wc -l)" -ge 3 ]' sh "$T_DIR/requests" "$t_up"
req_loop_stop
assert_eq 0 "$(req_after "$t_up" sorry)" "the sorry server gets no new request once rs1 is up"
assert_eq 0 "$(req_other "$t_up" rs1)" "rs1 answers every new request"
assert_eq 0 "$(sorry_active)" "metrics: sorry server not active again"

vsrouted_stats director >/dev/null
assert_eq 1 "$(stat_get sorry_on)" "one switch to the sorry server counted"
assert_eq 1 "$(stat_get sorry_off)" "one switch back counted"
assert_eq 1 "$(stat_get vs web sorry_ons)" "counted for service web"
assert_eq 0 "$(stat_get vs web sorry_active)" "service web: sorry server not active"
assert_eq 3 "$(stat_get check_down)" "three up -> down transitions counted"
assert_ge 1 "$(stat_get conn_rescheduled_down)" "SYNs on connections to a down server counted"
assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
