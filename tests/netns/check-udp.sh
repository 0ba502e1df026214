#!/usr/bin/env bash
# check-udp.sh - udp health checks (keepalived's UDP_CHECK): a real server
# whose UDP server stops answers ICMP port unreachable and is taken out
# (no new datagram reaches it), and is put back once its server runs
# again; a real server whose reply is not the expected one is down.
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
# udpsrv.py   vsrouted (rr)   udpsrv.py      udpsrv.py      udpsrv.py
#   ask       VIP:5353/udp    answers "rs1"  answers "rs2"  answers "rs3"
#             checks: "ping\n" to 10.10.0.1x:5353
#
#   check { type = udp  payload = "ping\n"  interval = 1  timeout = 1  rise = 2  fall = 2 }
#   rs3:  check { reply = "rs3-ok" }   (it answers "rs3\n": wrong reply)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3

PORT=5353 INTERVAL=1 TIMEOUT=1 RISE=2 FALL=2
lvs_dr_seed 3
for i in 1 2 3; do udp_start "rs$i" "rs$i" "$PORT"; done

cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
metrics = 127.0.0.1:9410
virtual_server dns {
    address = $VIP
    port = $PORT
    protocol = udp
    scheduler = rr
    forward = dr
    check {
        type = udp  payload = "ping\n"
        interval = $INTERVAL  timeout = $TIMEOUT  rise = $RISE  fall = $FALL
    }
    real_server rs1 { address = 10.10.0.11 }
    real_server rs2 { address = 10.10.0.12 }
    real_server rs3 {
        address = 10.10.0.13
        check { reply = "rs3-ok" }
    }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)

weight_of() { vsradm -Ln | awk -v a="$1:$PORT" '$2 == a { print $4 }'; }
# to_vip NAME: datagrams server NAME received for the VIP (client traffic,
# not the checks, which are sent to its own address)
to_vip() { grep -c "^from 10.10.0.1:.* to $VIP " "$T_DIR/udp-$1.log" || true; }
# ask N FIRST_SPORT: N datagrams from N source ports (N new flows)
ask() {
	local i
	for i in $(seq "$1"); do
		udp_ask client "$VIP" "$PORT" $(($2 + i)) 2>>"$T_DIR/ask.err" || echo ERR
	done
}

# rs3 answers, but not what its check expects.
wait_for "rs3 to be marked down" 10 grep -q "rs3 (10.10.0.13:$PORT) is down" "$log"
assert_eq 1 "$(grep -c "rs3 (10.10.0.13:$PORT) is down: udp check: unexpected reply (4 bytes) (2 of 2 failures)" "$log")" \
	"rs3: down once, for its unexpected reply"
assert_eq 0 "$(weight_of 10.10.0.13)" "vsradm -Ln shows rs3 at weight 0"
assert_eq 1 "$(weight_of 10.10.0.11)" "rs1 (any reply accepted) stays at weight 1"
assert_gt 0 "$(grep -c "^from 10.10.0.2:.* to 10.10.0.11 len 5" "$T_DIR/udp-rs1.log" || true)" \
	"the check's 5-byte payload reached rs1 at its own address"

ask 10 41000 >"$T_DIR/answers1"
assert_eq 0 "$(count_of ERR "$T_DIR/answers1")" "every datagram answered with rs3 down"
assert_eq 0 "$(to_vip rs3)" "rs3 got no client datagram"
assert_eq 5 "$(count_of rs1 "$T_DIR/answers1")" "rs1 got half of them"

# rs2's server stops: the kernel answers ICMP port unreachable.
pid=$(awk '$2 == "udp-rs2" { p = $1 } END { print p }' "$T_DIR/pids")
t_stop=$(now_ms)
bg_stop "$pid" TERM 10
wait_for "rs2 to be marked down" 10 grep -q "rs2 (10.10.0.12:$PORT) is down" "$log"
t_down=$(now_ms)
echo "detection: $((t_down - t_stop)) ms (configured bound $(((FALL * INTERVAL + TIMEOUT) * 1000)) ms)"
assert_eq 1 "$(grep -c "rs2 (10.10.0.12:$PORT) is down: udp check: port unreachable (2 of 2 failures)" "$log")" \
	"rs2: down once, for the ICMP port unreachable"
assert_eq 0 "$(weight_of 10.10.0.12)" "vsradm -Ln shows rs2 at weight 0"
ask 10 42000 >"$T_DIR/answers2"
assert_eq 0 "$(count_of ERR "$T_DIR/answers2")" "every datagram answered with rs2 and rs3 down"
assert_eq 10 "$(count_of rs1 "$T_DIR/answers2")" "all went to rs1"

# rs2's server runs again.
udp_start rs2 rs2 "$PORT"
t_start=$(now_ms)
wait_for "rs2 to be marked up" 10 grep -q "rs2 (10.10.0.12:$PORT) is up" "$log"
echo "recovery: $(($(now_ms) - t_start)) ms (configured bound $((RISE * INTERVAL * 1000)) ms)"
assert_eq 1 "$(weight_of 10.10.0.12)" "vsradm -Ln shows rs2 at weight 1 again"
ask 10 43000 >"$T_DIR/answers3"
assert_eq 0 "$(count_of ERR "$T_DIR/answers3")" "every datagram answered after the recovery"
assert_eq 5 "$(count_of rs2 "$T_DIR/answers3")" "rs2 takes new datagrams again"
assert_eq 0 "$(to_vip rs3)" "rs3 still got no client datagram"

metrics=$(nsx director curl -s -m 2 http://127.0.0.1:9410/metrics)
assert_eq 0 "$(echo "$metrics" | awk '/^vsrouted_real_server_healthy\{.*rip="10\.10\.0\.13"/ { print $NF }')" \
	"metrics: rs3 healthy 0"
vsrouted_stats director >/dev/null
assert_eq 2 "$(stat_get check_down)" "two up -> down transitions counted (rs2, rs3)"
assert_eq 1 "$(stat_get check_up)" "one down -> up transition counted (rs2)"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
