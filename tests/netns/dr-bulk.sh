#!/usr/bin/env bash
# dr-bulk.sh - LVS-DR bulk: 20 MB up through the director, 20 MB down, sha256 equal
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11
# client       director         rs1
#  curl     vsrouted (dr)     nginx :80, upsrv.py :8000
#           VIP/32 -> vsr0    VIP on lo
#
#   The upload's data goes client -> director -> rs1: with offloads on, as
#   GSO super-frames read from the TAP and sent whole (virtio-net header)
#   on the AF_PACKET socket; rs1 answers the sha256 of what it received.
#   The download's data goes rs1 -> client directly; its ACKs through the
#   director. The director's kernel completes checksums and segments
#   (csum_verify), rs1 verifies them.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd curl sha256sum python3

lvs_dr_seed 1
csum_verify director
sum=$(blob_make 20)
http_start rs1 rs1
upload_start rs1 rs1 8000

seed_conf "$T_DIR/vsrouted.conf" 1
cat >>"$T_DIR/vsrouted.conf" <<EOF
virtual_server up {
    address = $VIP
    port = 8000
    forward = dr
    real_server rs1 { address = 10.10.0.11 }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"

assert_eq "$sum" "$(up_post client "http://$VIP:8000/" "$T_DIR/www/blob")" "20 MB upload intact (sha256)"
assert_eq "$sum" "$(http_sha client "http://$VIP/blob" 2>"$T_DIR/speed")" "20 MB download intact (sha256)"
echo "# download: $(cat "$T_DIR/speed") bytes/s"

vsrouted_stats director >/dev/null
assert_gt 20000000 "$(stat_get rs up/rs1 in_bytes)" "upload counted in (bytes)"
assert_eq 0 "$(stat_get drop_tx_error)" "the AF_PACKET socket refused nothing"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed (virtio-net headers included)"
gso_check
vsrouted_stop director
