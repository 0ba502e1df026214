#!/usr/bin/env bash
# dr-malformed.sh - 2,000 malformed frames at the VIP do no harm
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
# badframes.py vsrouted (rr)    nginx          nginx          nginx
#  AF_PACKET -> director's MAC, dst IP = VIP: forwarded by the director's
#  kernel into vsr0, where the daemon must count and drop them.
#
# Afterwards the daemon still runs, the VIP still answers, and the
# drop_malformed counter is positive.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

seed_conf "$T_DIR/vsrouted.conf" 3
vsrouted_start director "$T_DIR/vsrouted.conf"
assert_eq rs1 "$(http_get client "http://$VIP/")" "the VIP answers before"

dmac=$(ns_mac director eth0)
nsx client timeout 60 python3 "$VSR_NETNS_DIR/badframes.py" --iface eth0 \
	--dst-mac "$dmac" --src 10.10.0.1 --dst "$VIP" --dport 80 \
	--count 2000 --seed 7 >"$T_DIR/badframes.out"
assert_true "sent 2000 malformed frames" grep -qx 'total 2000' "$T_DIR/badframes.out"
cat "$T_DIR/badframes.out"

assert_true "vsrouted survived" vsrouted_alive director
http_get_n client "http://$VIP/" 6 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "the VIP still answers"
assert_eq 6 "$(grep -c '^rs[123]$' "$T_DIR/answers" || true)" "six answers from the real servers"

vsrouted_stats director >"$T_DIR/stats" || fail "no counters from SIGUSR1"
cat "$T_DIR/stats"
assert_gt 0 "$(stat_get drop_malformed || echo missing)" "drop_malformed counted"
# About 1/12 of the frames (bad IP options) die in the kernel; the rest and
# the 7 requests' packets reach the TAP.
assert_ge 1500 "$(stat_get rx_packets || echo missing)" "rx_packets counted the frames"
assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
