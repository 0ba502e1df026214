#!/usr/bin/env bash
# check-remove.sh - on_failure = remove: a real server that fails its http
# check leaves the service (vsradm -Ln no longer lists it, as after
# ipvsadm -d), no request fails after the detection deadline, its check
# goes on; a reload and a vsradm edit while it is out keep it out; once
# its server answers again it is listed again, with the edited weight
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl loop  vsrouted (rr)    nginx          nginx          nginx
#  (50 ms)    checks GET / ->  <- checked directly at 10.10.0.1x:80
#
#   check { type = http  interval = 1  timeout = 1  rise = 2  fall = 2  on_failure = remove }
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

INTERVAL=1 TIMEOUT=1 RISE=2 FALL=2
lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
check_conf "$T_DIR/vsrouted.conf" 3 \
	"type = http  interval = $INTERVAL  timeout = $TIMEOUT  rise = $RISE  fall = $FALL  on_failure = remove" \
	"metrics = 127.0.0.1:9410"
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)
pidf="$T_DIR/vsrouted-director.pid"

# In the daemon's order (vsradm sorts as ipvsadm does unless --nosort): a
# real server back from its check comes last.
listed() { vsradm -Ln --nosort | awk '$1 == "->" && $2 ~ /^10\.10\.0\.1[0-9]:/ { printf "%s/%s ", $2, $4 }'; }
metric() {
	nsx director curl -s -m 2 http://127.0.0.1:9410/metrics |
		awk -v f="vsrouted_real_server_$1" 'index($0, f "{") == 1 && /10\.10\.0\.12/ { print $NF }'
}

assert_eq "10.10.0.11:80/1 10.10.0.12:80/1 10.10.0.13:80/1 " "$(listed)" "three real servers listed"
req_loop_start client "http://$VIP/"
wait_for "requests to all three" 10 sh -c '[ "$(awk "\$2 == \"rs2\"" "$1" | wc -l)" -ge 2 ]' \
	sh "$T_DIR/requests"

t_stop=$(now_ms)
http_stop rs2
deadline=$((t_stop + (FALL * INTERVAL + TIMEOUT) * 1000))
wait_for "rs2 to be marked down" 10 grep -q "rs2 (10.10.0.12:80) is down" "$log"
echo "detection: $(($(now_ms) - t_stop)) ms (configured bound $((deadline - t_stop)) ms)"
assert_eq 1 "$(grep -c 'rs2 (10.10.0.12:80) is down: http check: connect: Connection refused (2 of 2 failures)' "$log")" \
	"the transition is logged once, with its cause"
assert_eq "10.10.0.11:80/1 10.10.0.13:80/1 " "$(listed)" "vsradm -Ln no longer lists rs2"
assert_eq 1 "$(metric removed)" "metrics: rs2 removed 1"
assert_eq 0 "$(metric healthy)" "metrics: rs2 healthy 0"

# A reload and a vsradm edit while rs2 is out: it stays out.
kill -HUP "$(cat "$pidf")"
wait_for "the reload" 10 grep -q "reloaded:" "$log"
assert_eq "10.10.0.11:80/1 10.10.0.13:80/1 " "$(listed)" "after a reload rs2 is still out"
assert_eq 0 "$(vsradm -e -t "$VIP:80" -r 10.10.0.12:80 -g -w 3 >/dev/null 2>&1; echo $?)" \
	"vsradm -e reaches the removed rs2"
assert_eq "10.10.0.11:80/1 10.10.0.13:80/1 " "$(listed)" "after the edit rs2 is still out"
assert_ne 0 "$(vsradm -a -t "$VIP:80" -r 10.10.0.12:80 -g >/dev/null 2>&1; echo $?)" \
	"vsradm -a refuses a second rs2"

wait_for "3 s of requests past the deadline" 10 sh -c \
	'[ "$(awk -v t="$2" "\$1 >= t + 3000" "$1" | wc -l)" -ge 5 ]' sh "$T_DIR/requests" "$deadline"
assert_eq 0 "$(req_after "$deadline" ERR)" "no request made after the detection deadline failed"
assert_eq 0 "$(req_after "$deadline" rs2)" "rs2 received no new request after the deadline"

http_resume rs2 rs2
wait_for "rs2 to be marked up" 10 grep -q "rs2 (10.10.0.12:80) is up" "$log"
t_up=$(now_ms)
assert_eq "10.10.0.11:80/1 10.10.0.13:80/1 10.10.0.12:80/3 " "$(listed)" \
	"rs2 is listed again, with the weight vsradm gave it"
wait_for "rs2 to receive requests again" 10 sh -c \
	'[ "$(awk -v t="$2" "\$1 >= t && \$2 == \"rs2\"" "$1" | wc -l)" -ge 2 ]' sh "$T_DIR/requests" "$t_up"
req_loop_stop
assert_eq 0 "$(req_after "$deadline" ERR)" "no request failed after the deadline, recovery included"
assert_eq 0 "$(metric removed)" "metrics: rs2 removed 0"

# Down again, then a reload drops rs2 from the config while it is out.
http_stop rs2
wait_for "rs2 to be marked down again" 10 sh -c '[ "$(grep -c "rs2 (10.10.0.12:80) is down" "$1")" -ge 2 ]' \
	sh "$log"
sed -i '/real_server rs2 /d' "$T_DIR/vsrouted.conf"
kill -HUP "$(cat "$pidf")"
wait_for "the second reload" 10 sh -c '[ "$(grep -c "reloaded:" "$1")" -ge 2 ]' sh "$log"
http_resume rs2 rs2
sleep $((RISE * INTERVAL + 1))   # time for a check that must no longer run
assert_eq "10.10.0.11:80/1 10.10.0.13:80/1 " "$(listed)" "rs2, dropped by the reload, stays away"
assert_eq 1 "$(grep -c "rs2 (10.10.0.12:80) is up" "$log")" "rs2's check ended with it"
assert_eq "" "$(metric removed)" "metrics: rs2 gone"

vsrouted_stats director >/dev/null
assert_eq 2 "$(stat_get check_down)" "two up -> down transitions counted"
assert_eq 1 "$(stat_get check_up)" "one down -> up transition counted"
assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
