#!/usr/bin/env bash
# nat-pmtu.sh - path MTU discovery through nat and fullnat: the director's
# link toward the client carries 1400 bytes, the real servers' LAN 1500
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#   ==+=================+=====         =====+=================
#     |    MTU 1400 --> |                   |                |
#   eth0 .1          eth0 .2             eth1 .1          eth0 .11
#  +--------+     +-------------+                       +------------+
#  | client |     |  director   |-----------------------|    rs1     |
#  |  curl  |     |  vsrouted   |                       | nginx 8080 |
#  +--------+     +-------------+                       +------------+
#
#   rs1 sends 1500-byte segments (the client's MSS is 1460); the director's
#   kernel answers "fragmentation needed" to the VIP, vsrouted translates
#   it for rs1 (outer and quoted headers), rs1 lowers its path MTU, and
#   the 20 MB arrive intact: once by nat (VIP:80), once by fullnat (VIP:81).
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd sha256sum

lvs_nat_seed 1
ip -n "$(nsname director)" link set eth0 mtu 1400
ip -n "$(nsname sw-lan0)" link set p2 mtu 1400
sum=$(blob_make 20)
http_start rs1 rs1 8080

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
local_address = { 10.20.0.250 }
virtual_server nat {
    address = $VIP
    port = 80
    forward = nat
    real_server rs1 { address = 10.20.0.11  port = 8080 }
}
virtual_server fullnat {
    address = $VIP
    port = 81
    forward = fullnat
    real_server rs1 { address = 10.20.0.11  port = 8080 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

assert_eq "$sum" "$(http_sha client "http://$VIP/blob" 2>"$T_DIR/speed")" "nat: 20 MB through a 1400-byte link intact"
echo "# nat download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(http_sha client "http://$VIP:81/blob" 2>"$T_DIR/speed")" "fullnat: 20 MB through a 1400-byte link intact"
echo "# fullnat download: $(cat "$T_DIR/speed") bytes/s"
vsrouted_stats director >/dev/null
assert_gt 0 "$(stat_get icmp_relayed)" "fragmentation-needed errors were translated"
assert_true "rs1 learnt the smaller path MTU" \
	sh -c "ip -n '$(nsname rs1)' route get 10.10.0.1 | grep -q 'mtu 1400' || ip -n '$(nsname rs1)' route get 10.20.0.250 | grep -q 'mtu 1400'"
vsrouted_stop director
