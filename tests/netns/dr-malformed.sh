#!/usr/bin/env bash
# dr-malformed.sh - 2,000 malformed IPv4 frames at the VIP and 2,000
# malformed IPv6 frames at VIP6 do no harm
#
#                         LAN lan0 (bridge), dual stack
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
#   | 2001:db8:10::1 ::2          | ::11         | ::12         | ::13
# client       director         rs1            rs2            rs3
# badframes.py vsrouted (rr)    nginx          nginx          nginx
#  AF_PACKET -> director's MAC, dst IP = VIP (VIP6): forwarded by the
#  director's kernel into vsr0, where the daemon must count and drop them.
#  The IPv6 ones break the extension-header chain every way (loops,
#  truncation, order, count), come as fragments of every shape, or lie
#  about their lengths.
#
# Afterwards the daemon still runs, both VIPs still answer, and the drops
# are counted by reason.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3

lvs_dr_seed6 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

seed_conf "$T_DIR/vsrouted.conf" 3
cat >>"$T_DIR/vsrouted.conf" <<EOF2
virtual_server web6 {
    address = $VIP6
    port = 80
    scheduler = rr
    forward = dr
    real_server rs1 { address = 2001:db8:10::11 }
    real_server rs2 { address = 2001:db8:10::12 }
    real_server rs3 { address = 2001:db8:10::13 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf"
assert_eq rs1 "$(http_get client "http://$VIP/")" "the VIP answers before"
assert_eq rs1 "$(http_get client "$(url "$VIP6")")" "VIP6 answers before"

dmac=$(ns_mac director eth0)
nsx client timeout 60 python3 "$VSR_NETNS_DIR/badframes.py" --iface eth0 \
	--dst-mac "$dmac" --src 10.10.0.1 --dst "$VIP" --dport 80 \
	--count 2000 --seed 7 >"$T_DIR/badframes.out"
assert_true "sent 2000 malformed IPv4 frames" grep -qx 'total 2000' "$T_DIR/badframes.out"
cat "$T_DIR/badframes.out"
vsrouted_stats director >"$T_DIR/stats4" || fail "no counters from SIGUSR1"
rx4=$(stat_get rx_packets || echo 0)
nsx client timeout 60 python3 "$VSR_NETNS_DIR/badframes.py" --iface eth0 \
	--dst-mac "$dmac" --src 2001:db8:10::1 --dst "$VIP6" --dport 80 \
	--count 2000 --seed 7 >"$T_DIR/badframes6.out"
assert_true "sent 2000 malformed IPv6 frames" grep -qx 'total 2000' "$T_DIR/badframes6.out"
cat "$T_DIR/badframes6.out"

assert_true "vsrouted survived" vsrouted_alive director
http_get_n client "http://$VIP/" 6 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "the VIP still answers"
assert_eq 6 "$(grep -c '^rs[123]$' "$T_DIR/answers" || true)" "six answers from the real servers"
http_get_n client "$(url "$VIP6")" 6 >"$T_DIR/answers6"
assert_eq 0 "$(count_of ERR "$T_DIR/answers6")" "VIP6 still answers"
assert_eq 6 "$(grep -c '^rs[123]$' "$T_DIR/answers6" || true)" "six answers over IPv6"

vsrouted_stats director >"$T_DIR/stats" || fail "no counters from SIGUSR1"
cat "$T_DIR/stats"
assert_gt 0 "$(stat_get drop_malformed || echo missing)" "drop_malformed counted"
assert_gt 0 "$(stat_get drop_ipv6_ext || echo missing)" "drop_ipv6_ext counted (chains refused)"
assert_gt 0 "$(stat_get drop_fragment || echo missing)" "drop_fragment counted"
# About 1/12 of the IPv4 frames (bad IP options) die in the kernel; the rest
# and the 7 requests' packets reach the TAP. Of the IPv6 ones the kernel
# drops those whose payload length runs past the frame.
assert_ge 1500 "$rx4" "rx_packets counted the IPv4 frames"
assert_ge $((rx4 + 1500)) "$(stat_get rx_packets || echo missing)" "rx_packets counted the IPv6 frames"
assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
