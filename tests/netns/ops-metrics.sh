#!/usr/bin/env bash
# ops-metrics.sh - the Prometheus endpoint (metrics = ADDR:PORT): it answers
# in the text format, and its counters and gauges move with traffic
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1            rs2
#              vsrouted, metrics on 127.0.0.1:9410 (its namespace only)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done
seed_conf "$T_DIR/vsrouted.conf" 2 rr "metrics = 127.0.0.1:9410"
vsrouted_start director "$T_DIR/vsrouted.conf"

scrape() {  # scrape FILE: the parsed samples
	nsx director curl -s -m 5 http://127.0.0.1:9410/metrics >"$1.raw" &&
		python3 "$VSR_NETNS_DIR/promparse.py" <"$1.raw" >"$1"
}
sample() {  # sample FILE NAME [LABEL-SUBSTRING]: the value
	grep -F "${3:-}" "$1" | awk -v n="$2" '{ split($1, a, "{") } a[1] == n { print $2; exit }'
}
assert_true "the endpoint answers in the text format" scrape "$T_DIR/m0"
assert_eq 0 "$(sample "$T_DIR/m0" vsrouted_rx_packets_total)" "no packet yet"
assert_eq 2 "$(grep -c '^vsrouted_real_server_weight{' "$T_DIR/m0")" "a weight gauge per real server"

http_get_n client "http://$VIP/" 20 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "20 requests answered"
assert_true "scraped again" scrape "$T_DIR/m1"
assert_gt 0 "$(sample "$T_DIR/m1" vsrouted_rx_packets_total)" "rx_packets moved"
assert_eq 20 "$(sample "$T_DIR/m1" vsrouted_service_connections_total 'vs="web"')" \
	"the service counted 20 connections"
assert_eq 10 "$(sample "$T_DIR/m1" vsrouted_real_server_connections_total 'rs="rs1"')" \
	"rs1 counted its 10"
assert_gt 0 "$(sample "$T_DIR/m1" vsrouted_real_server_in_bytes_total 'rs="rs2"')" "rs2 in bytes moved"
assert_gt 0 "$(sample "$T_DIR/m1" vsrouted_table_connections)" "the table holds connections"
assert_true "rates appear within a few estimator ticks" wait_for "a connection rate" 10 sh -c \
	"ip netns exec $(nsname director) curl -s -m 5 http://127.0.0.1:9410/metrics | grep -q '^vsrouted_service_connections_per_second{.*} [1-9]'"
assert_eq 404 "$(nsx director curl -s -o /dev/null -w '%{http_code}' -m 5 http://127.0.0.1:9410/nothing)" \
	"another path is 404"
assert_false "nothing listens outside the director's namespace" \
	nsx client curl -s -m 2 http://10.10.0.2:9410/metrics
vsrouted_stop director
