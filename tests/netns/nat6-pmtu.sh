#!/usr/bin/env bash
# nat6-pmtu.sh - packet too big through nat and fullnat over IPv6: the
# director's link toward the client carries 1280 bytes (IPv6's least), the
# real servers' LAN 1500
#
#     LAN lan0 2001:db8:10::/64           LAN lan1 2001:db8:20::/64
#   ==+=================+=====         =====+=================
#     |    MTU 1280 --> |                   |                |
#   eth0 ::1         eth0 ::2            eth1 ::1         eth0 ::11
#  +--------+     +-------------+                       +------------+
#  | client |     |  director   |-----------------------|    rs1     |
#  |  curl  |     |  vsrouted   |                       | nginx 8080 |
#  +--------+     +-------------+                       +------------+
#
#   rs1 sends 1500-byte packets (the client's MSS is 1440); the director's
#   kernel answers "packet too big" (MTU 1280) to the VIP, vsrouted
#   translates it for rs1 (outer and quoted headers, the ICMPv6 checksum
#   with its pseudo-header), rs1 lowers its path MTU, and the 20 MB arrive
#   intact: once by nat ([VIP6]:80), once by fullnat ([VIP6]:81).
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd sha256sum

lvs_nat_seed6 1
ip -n "$(nsname director)" link set eth0 mtu 1280
ip -n "$(nsname sw-lan0)" link set p2 mtu 1280
sum=$(blob_make 20)
http_start rs1 rs1 8080

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
local_address = { 2001:db8:20::250 }
virtual_server nat {
    address = $VIP6
    port = 80
    forward = nat
    real_server rs1 { address = 2001:db8:20::11  port = 8080 }
}
virtual_server fullnat {
    address = $VIP6
    port = 81
    forward = fullnat
    real_server rs1 { address = 2001:db8:20::11  port = 8080 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

assert_eq "$sum" "$(http_sha client "$(url "$VIP6" 80 blob)" 2>"$T_DIR/speed")" \
	"nat: 20 MB through a 1280-byte link intact"
echo "# nat download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(http_sha client "$(url "$VIP6" 81 blob)" 2>"$T_DIR/speed")" \
	"fullnat: 20 MB through a 1280-byte link intact"
echo "# fullnat download: $(cat "$T_DIR/speed") bytes/s"
vsrouted_stats director >/dev/null
assert_gt 0 "$(stat_get icmp_relayed)" "packet-too-big errors were translated"
assert_eq 0 "$(stat_get drop_icmp)" "no ICMPv6 error was dropped"
R=$(nsname rs1)
assert_true "rs1 learnt the path MTU 1280 toward the client (nat)" \
	sh -c "ip -n '$R' -6 route get 2001:db8:10::1 | grep -q 'mtu 1280'"
assert_true "rs1 learnt the path MTU 1280 toward the local address (fullnat)" \
	sh -c "ip -n '$R' -6 route get 2001:db8:20::250 | grep -q 'mtu 1280'"
vsrouted_stop director
