#!/usr/bin/env bash
# tun-bulk.sh - LVS-TUN bulk: 20 MB download and 20 MB upload, sha256 equal
#
#                  LAN lan0 (bridge)
#   +--------------+---------------+
#   | 10.10.0.1    | 10.10.0.2     | 10.10.0.254
# client       director          router --- 10.30.1.0/24 --- rs1
#  curl     vsrouted (tun)                                   vsrtun, nginx :80,
#           VIP:80   -> rs1 over IPIP                        upsrv.py :8080
#           VIP:8080 -> rs1 over GRE (per-service tunnel)
#
# The download's data comes straight from rs1; the upload's goes through the
# tunnel, whose MTU (1500 less 20 or 24) is below the client's: it flows
# because the director answers fragmentation-needed and the client's TCP
# lowers its segment size; vsrtun hands the upload's segments to its TUN
# coalesced into super-frames (GRO).  Every link has MTU 1500.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun
need_cmd curl sha256sum

lvs_tun_seed 1
sum=$(blob_make 20)
http_start rs1 rs1
upload_start rs1 rs1 8080

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $VIP
    port = 80
    scheduler = rr
    forward = tun
    tunnel = ipip
    real_server rs1 { address = 10.30.1.11 }
}
virtual_server up {
    address = $VIP
    port = 8080
    scheduler = rr
    forward = tun
    tunnel = gre
    real_server rs1 { address = 10.30.1.11 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf"

speed=$(nsx client curl -s --connect-timeout 2 -m 60 -o "$T_DIR/got" -w '%{speed_download}' \
	"http://$VIP/blob") || fail "download failed"
echo "# download: $((${speed%.*} * 8 / 1000000)) Mbit/s"
assert_eq "$sum" "$(sha256sum "$T_DIR/got" | awk '{print $1}')" "20 MB download: sha256 equal"

ans=$(nsx client curl -s --connect-timeout 2 -m 60 -T "$T_DIR/www/blob" \
	-w ' %{speed_upload}' "http://$VIP:8080/up") || fail "upload failed"
set -- $ans
echo "# upload: $((${3%.*} * 8 / 1000000)) Mbit/s"
assert_eq "$sum $((20 * 1048576))" "${1:-} ${2:-}" "20 MB upload through the tunnel: sha256 and length equal"

vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get drop_tun_tx_error)" "no tunnel send error"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed (virtio-net headers included)"
gso_check
echo "# segments cut from super-frames: $(stat_get tun_segments)"
echo "# fragmentation-needed answers: $(stat_get tun_frag_needed)"
vsrtun_stats rs1 >/dev/null
assert_gt 0 "$(stat_get rx_gre)" "the upload came over GRE"
assert_gt 0 "$(stat_get rx_ipip)" "the download's requests came over IPIP"
assert_eq 0 "$(stat_get drop_malformed)" "vsrtun found nothing malformed"
echo "# vsrtun: $(stat_get gro_frames) super-frames of $(stat_get gro_segments) segments, $(stat_get delivered) packets delivered"
# The upload's segments come in bursts (a super-frame of the client's cut
# by the director, or the client's own window): some arrive in one batch.
assert_gt 0 "$(stat_get gro_frames)" "vsrtun wrote the upload's segments as super-frames (GRO)"
assert_gt "$(stat_get gro_frames)" "$(stat_get gro_segments)" "each super-frame held two segments or more"
assert_eq 0 "$(stat_get gro_csum_bad)" "no segment with a bad checksum"

vsrouted_stop director
vsrtun_stop rs1
