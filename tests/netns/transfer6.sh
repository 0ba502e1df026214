#!/usr/bin/env bash
# transfer6.sh - 20 MB down and 20 MB up through an IPv6 VIP by nat, and
# the same by dr, sha256 intact; the director's kernel completes the
# checksums and cuts the super-frames (csum_verify), the client and the
# real servers check them: a wrong IPv6 pseudo-header sum stalls a transfer
#
#     LAN lan0 2001:db8:10::/64           LAN lan1 2001:db8:20::/64
#   ==+=================+=====         =====+================+===========
#     |                 |                   |                |
#   eth0 ::1         eth0 ::2            eth1 ::1         eth0 ::11         eth0 ::12
#  +--------+     +-------------+                       +---------------+ +---------------+
#  | client |     |  director   |-----------------------| rs1 (nat)     | | rs2 (dr)      |
#  |  curl  |     |  vsrouted   |                       | nginx 8080    | | VIP6 on lo    |
#  +--------+     +-------------+                       | upsrv.py 8000 | | nginx 81      |
#                                                       +---------------+ | upsrv.py 8001 |
#                                                                         +---------------+
#   GET [VIP6]:80/blob -> rs1:8080 (port mapping); POST [VIP6]:8000 -> rs1:8000;
#   GET [VIP6]:81/blob and POST [VIP6]:8001 -> rs2 by dr, which answers the
#   client through its gateway, the director, bypassing the daemon.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 sha256sum

lvs_nat_seed6 2
rs_dr_setup6 rs2 "$VIP6"
csum_verify director
sum=$(blob_make 20)
http_start rs1 rs1 8080
upload_start rs1 rs1 8000
http_start rs2 rs2 81
upload_start rs2 rs2 8001

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web6 {
    address = $VIP6
    port = 80
    forward = nat
    real_server rs1 { address = 2001:db8:20::11  port = 8080 }
}
virtual_server up6 {
    address = $VIP6
    port = 8000
    forward = nat
    real_server rs1 { address = 2001:db8:20::11 }
}
virtual_server webdr6 {
    address = $VIP6
    port = 81
    forward = dr
    real_server rs2 { address = 2001:db8:20::12 }
}
virtual_server updr6 {
    address = $VIP6
    port = 8001
    forward = dr
    real_server rs2 { address = 2001:db8:20::12 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

assert_eq "$sum" "$(http_sha client "$(url "$VIP6" 80 blob)" 2>"$T_DIR/speed")" \
	"nat: 20 MB download intact (sha256)"
echo "# nat download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(up_post client "$(url "$VIP6" 8000)" "$T_DIR/www/blob")" \
	"nat: 20 MB upload intact (sha256)"
assert_eq "$sum" "$(http_sha client "$(url "$VIP6" 81 blob)" 2>"$T_DIR/speed")" \
	"dr: 20 MB download intact (sha256)"
echo "# dr download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(up_post client "$(url "$VIP6" 8001)" "$T_DIR/www/blob")" \
	"dr: 20 MB upload intact (sha256)"

vsrouted_stats director >/dev/null
assert_gt 20000000 "$(stat_get rs web6/rs1 out_bytes)" "nat download counted out (bytes)"
assert_gt 20000000 "$(stat_get rs up6/rs1 in_bytes)" "nat upload counted in (bytes)"
assert_gt 20000000 "$(stat_get rs updr6/rs2 in_bytes)" "dr upload counted in (bytes)"
assert_eq 0 "$(stat_get drop_no_conn_out)" "no reply without a connection"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed (virtio-net headers included)"
gso_check
vsrouted_stop director
