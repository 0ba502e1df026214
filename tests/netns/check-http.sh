#!/usr/bin/env bash
# check-http.sh - http health checks under a steady request loop: a real
# server whose HTTP server stops is taken out (weight 0) within
# fall x interval + timeout, no request fails after that, and it is put
# back within rise x interval once its server answers again
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl loop  vsrouted (rr)    nginx          nginx          nginx
#  (50 ms)    checks GET / ->  <- checked directly at 10.10.0.1x:80
#
#   check { type = http  interval = 1  timeout = 1  rise = 2  fall = 2 }
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

INTERVAL=1 TIMEOUT=1 RISE=2 FALL=2
lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
check_conf "$T_DIR/vsrouted.conf" 3 \
	"type = http  interval = $INTERVAL  timeout = $TIMEOUT  rise = $RISE  fall = $FALL" \
	"metrics = 127.0.0.1:9410"
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)

rs2_weight() { vsradm -Ln | awk '$2 == "10.10.0.12:80" { print $4 }'; }
healthy_rs2() {
	nsx director curl -s -m 2 http://127.0.0.1:9410/metrics |
		awk '/^vsrouted_real_server_healthy\{.*10\.10\.0\.12/ { print $NF }'
}

req_loop_start client "http://$VIP/"
wait_for "requests to all three" 10 sh -c '[ "$(awk "\$2 == \"rs2\"" "$1" | wc -l)" -ge 2 ]' \
	sh "$T_DIR/requests"
assert_eq 0 "$(req_after 0 ERR)" "no request failed while all three are up"

t_stop=$(now_ms)
http_stop rs2
deadline=$((t_stop + (FALL * INTERVAL + TIMEOUT) * 1000))
wait_for "rs2 to be marked down" 10 grep -q "rs2 (10.10.0.12:80) is down" "$log"
t_down=$(now_ms)
echo "detection: $((t_down - t_stop)) ms (configured bound $((deadline - t_stop)) ms)"
assert_true "rs2 is down within fall x interval + timeout (+0.2 s of polling)" \
	test "$t_down" -le "$((deadline + 200))"
assert_eq 1 "$(grep -c 'rs2 (10.10.0.12:80) is down: http check: connect: Connection refused (2 of 2 failures)' "$log")" \
	"the transition is logged once, with its cause"
assert_eq 0 "$(rs2_weight)" "vsradm -Ln shows rs2 at weight 0"
assert_eq 0 "$(healthy_rs2)" "metrics: rs2 healthy 0"

# Let the loop run a while with rs2 out.
wait_for "3 s of requests past the deadline" 10 sh -c \
	'[ "$(awk -v t="$2" "\$1 >= t + 3000" "$1" | wc -l)" -ge 5 ]' sh "$T_DIR/requests" "$deadline"
assert_eq 0 "$(req_after "$deadline" ERR)" "no request made after the detection deadline failed"
assert_eq 0 "$(req_after "$deadline" rs2)" "rs2 received no new request after the deadline"

# From the moment rs2 answers (http_resume returns once it does): nginx's
# own start, slow on a loaded machine, is not the checker's delay.
http_resume rs2 rs2
t_start=$(now_ms)
wait_for "rs2 to be marked up" 10 grep -q "rs2 (10.10.0.12:80) is up" "$log"
t_up=$(now_ms)
echo "recovery: $((t_up - t_start)) ms (configured bound $((RISE * INTERVAL * 1000)) ms)"
assert_true "rs2 is back within rise x interval (+0.3 s of polling)" \
	test "$((t_up - t_start))" -le "$((RISE * INTERVAL * 1000 + 300))"
assert_eq 1 "$(rs2_weight)" "vsradm -Ln shows rs2 at its weight again"
wait_for "rs2 to receive requests again" 10 sh -c \
	'[ "$(awk -v t="$2" "\$1 >= t && \$2 == \"rs2\"" "$1" | wc -l)" -ge 2 ]' sh "$T_DIR/requests" "$t_up"
req_loop_stop
assert_eq 0 "$(req_after "$deadline" ERR)" "no request failed after the deadline, recovery included"
assert_eq 1 "$(healthy_rs2)" "metrics: rs2 healthy 1"

vsrouted_stats director >/dev/null
assert_eq 1 "$(stat_get check_down)" "one up -> down transition counted"
assert_eq 1 "$(stat_get check_up)" "one down -> up transition counted"
assert_eq 1 "$(stat_get rs web/rs2 check_downs)" "counted for rs2"
assert_eq 0 "$(stat_get rs web/rs1 check_downs)" "rs1 never went down"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
