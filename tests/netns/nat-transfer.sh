#!/usr/bin/env bash
# nat-transfer.sh - 20 MB down and 20 MB up through the VIP by nat, sha256 intact
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#   ==+=================+=====         =====+==================
#     |                 |                   |                |
#   eth0 .1          eth0 .2             eth1 .1          eth0 .11
#  +--------+     +-------------+                       +---------------+
#  | client |     |  director   |-----------------------|      rs1      |
#  |  curl  |     |  vsrouted   |                       | nginx 8080    |
#  +--------+     +-------------+                       | upsrv.py 8000 |
#                                                       +---------------+
#
#   GET VIP:80/blob -> rs1:8080 (port mapping); POST VIP:8000 -> rs1:8000,
#   which answers the sha256 of what it received.
#   The director's kernel completes checksums and segments (csum_verify),
#   client and rs1 verify them: a wrong pseudo-header sum stalls the transfer.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 sha256sum

lvs_nat_seed 1
csum_verify director
sum=$(blob_make 20)
http_start rs1 rs1 8080
upload_start rs1 rs1 8000

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $VIP
    port = 80
    forward = nat
    real_server rs1 { address = 10.20.0.11  port = 8080 }
}
virtual_server up {
    address = $VIP
    port = 8000
    forward = nat
    real_server rs1 { address = 10.20.0.11 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

assert_eq "$sum" "$(http_sha client "http://$VIP/blob" 2>"$T_DIR/speed")" "20 MB download intact (sha256)"
echo "# download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(up_post client "http://$VIP:8000/" "$T_DIR/www/blob")" "20 MB upload intact (sha256)"

vsrouted_stats director >/dev/null
assert_gt 20000000 "$(stat_get rs web/rs1 out_bytes)" "download counted out (bytes)"
assert_gt 20000000 "$(stat_get rs up/rs1 in_bytes)" "upload counted in (bytes)"
assert_eq 0 "$(stat_get drop_no_conn_out)" "no reply without a connection"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed (virtio-net headers included)"
gso_check
vsrouted_stop director
