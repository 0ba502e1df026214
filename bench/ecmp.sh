#!/usr/bin/env bash
# bench/ecmp.sh - vsrouted scaled out: 1, 2 and 3 directors behind a BIRD 2
# ECMP router, and the failover gap
#
#   bench/ecmp.sh [--duration S] [--fwd dr|tun] [--out DIR] [-h]
#
# As root, from a built tree.  Needs bird2, wrk, nginx, curl.
#
#   --duration S   seconds per figure (default 10)
#   --fwd MODE     dr (default) or tun
#   --out DIR      where ecmp.md goes (default: a temporary directory, printed)
#
# Topology: tests/netns/lib.sh's ecmp_seed (the scaleout scenario's): a
# client, a router running BIRD (BGP + BFD with each director, one ECMP route
# to the VIP, fib_multipath_hash_policy = 1), directors d1..d3 each running
# vsrouted (mh, mh-port, sloppy_tcp, announce_table) and BIRD with
# etc/bird-vsrouted.conf, three nginx real servers.  For N = 1, 2, 3 the
# first N directors announce the VIP; then:
#
#   req_s       keep-alive requests/s: wrk -t2 -c48, GET / (a 4-byte body);
#               48 connections, so that the router's L4 hash spreads them
#   mbyte_s     bulk download: wrk -t2 -c12, GET /blob (8 MiB), MB/s
#   conns       the connections each director saw in the req_s run
#
# and with three directors, the failover gap: a request loop (a new
# connection every 50 ms) runs while one director is stopped with SIGTERM
# (withdraw, 2 s of drain), and again while one is killed (vsrouted kill -9,
# its BIRD frozen, so that only BFD tells the router): the longest time
# between two answered requests, and how many failed.
#
# Everything runs on this one machine: the client, the router, the
# directors and the real servers share its cores (2 here), so a second and
# a third director add no CPU: what the rows measure is that the router
# spreads the load and that nothing is lost in the spreading, not the
# capacity that more machines would add.  Figures taken while other work
# runs on the machine are noisy; compare within one run.
set -eu
bench_dir=$(cd "$(dirname "$0")" && pwd)
duration=10
fwd=dr
out=
while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift ;;
	--fwd) fwd=$2; shift ;;
	--out) out=$2; shift ;;
	-h|--help) sed -n '2,/^set -eu/{/^set -eu/d; s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "ecmp.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case $fwd in dr|tun) ;; *) echo "ecmp.sh: --fwd dr or tun" >&2; exit 2 ;; esac

. "$bench_dir/../tests/netns/lib.sh"
need_vsrouted
need_cmd wrk nginx curl bird birdc
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/vsr-ecmp.XXXXXX")
mkdir -p "$out"

ecmp_seed 3 "$fwd" || fatal "topology"
T_HTTP_ACCESS_LOG=off
blob_make 8 >/dev/null
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
URL="http://$ECMP_VIP"

# wrk_run CONNS PATH: wrk from the client; prints "REQ_S BYTES_S".
wrk_run() {
	nsx client wrk -t2 -c"$1" -d"${duration}s" "$URL$2" 2>&1 | awk '
		/^Requests\/sec:/ { r = $2 }
		/^Transfer\/sec:/ { v = $2; u = substr(v, length(v) - 1); v += 0
			if (u == "KB") v *= 1024; else if (u == "MB") v *= 1048576; else if (u == "GB") v *= 1073741824
			b = v }
		END { printf "%.0f %.0f\n", r, b }'
}
# conns_of dN: the connections vsrouted in dN has scheduled so far
conns_of() {
	vsrouted_stats "$1" >/dev/null && stat_get vs web conns 2>/dev/null || echo 0
}

{
	echo "# vsrouted behind an ECMP router ($fwd, mh, ${duration} s per figure)"
	echo
	echo "All on one machine ($(nproc) cores): client, router, directors and real"
	echo "servers share it, so more directors add no CPU; see bench/ecmp.sh."
	echo
	echo "| directors | req/s | MB/s | connections per director (req/s run) |"
	echo "|---|---|---|---|"
} >"$out/ecmp.md"

up="" all=""
for n in 1 2 3; do
	ecmp_director_up "d$n" "$fwd" || fatal "vsrouted in d$n"
	up="$up $(ecmp_daddr "d$n")"
	all=$(echo "$up" | tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//')
	wait_for "the router's route over $n directors" 30 ecmp_paths_are "$all" ||
		fatal "no route over $n directors: '$(ecmp_paths)'"
	before=""
	for d in $(seq "$n"); do before="$before $(conns_of "d$d")"; done
	read -r rps _ < <(wrk_run 48 /)
	per=""
	set -- $before
	for d in $(seq "$n"); do
		c=$(conns_of "d$d")
		per="$per d$d:$((c - ${1:-0}))"
		shift || true
	done
	read -r _ bps < <(wrk_run 12 /blob)
	mbs=$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1048576 }')
	echo "# $n director(s): $rps req/s, $mbs MB/s, connections:$per"
	echo "| $n | $rps | $mbs | ${per# } |" >>"$out/ecmp.md"
done

# The failover gap, with three directors.
gap_of() {
	awk '$2 != "ERR" { if (last && $1 - last > g) g = $1 - last; last = $1 } END { print g + 0 }' \
		"$T_DIR/requests"
}
req_loop_start client "$URL/" 400
sleep 3
kill -TERM "$(cat "$T_DIR/vsrouted-d1.pid")"
wait_for "d1 to drain and stop" 15 sh -c "! kill -0 $(cat "$T_DIR/vsrouted-d1.pid") 2>/dev/null" || true
sleep 3
req_loop_stop
stop_gap=$(gap_of)
stop_err=$(req_after 0 ERR)
bird_stop d1
rm -f "$T_DIR/vsrouted-d1.pid"

req_loop_start client "$URL/" 400
sleep 3
t0=$(now_ms)
kill -STOP "$(bird_pid d2)"
kill -KILL "$(cat "$T_DIR/vsrouted-d2.pid")"
wait_for "the router to drop d2" 10 ecmp_paths_are "$(ecmp_daddr d3)" || true
t1=$(now_ms)
sleep 3
req_loop_stop
kill_gap=$(gap_of)
kill_err=$(req_after 0 ERR)
kill -KILL "$(bird_pid d2)" 2>/dev/null || true
rm -f "$T_DIR/vsrouted-d2.pid"
{
	echo
	echo "Failover, three directors, a new connection every 50 ms:"
	echo
	echo "| event | longest gap between answers | failed requests |"
	echo "|---|---|---|"
	echo "| one director stopped (SIGTERM, drain_timeout 2) | $stop_gap ms | $stop_err |"
	echo "| one director killed (vsrouted kill -9, BIRD frozen; BFD 5 x 200 ms; router dropped it after $((t1 - t0)) ms) | $kill_gap ms | $kill_err |"
} >>"$out/ecmp.md"
echo "# stop: longest gap $stop_gap ms, $stop_err failed; kill: longest gap $kill_gap ms, $kill_err failed (router dropped d2 after $((t1 - t0)) ms)"
cat "$out/ecmp.md"
pass "figures in $out/ecmp.md"
vsrouted_stop d3
bird_stop d3
bird_stop router
