#!/usr/bin/env bash
# tun-gre-key.sh - GRE with a key (RFC 2890) from the director to vsrtun -k:
# requests and a 5 MB upload (TCP super-frames cut into keyed segments)
# arrive whole, with the director's MTU 4 bytes smaller for the key; a
# reload to another key makes vsrtun drop them (drop_bad_key) until the
# keys agree again; an IPIP service to the same vsrtun -k is refused.
#
#                  LAN lan0 (bridge)
#   +--------------+---------------+
#   | 10.10.0.1    | 10.10.0.2     | 10.10.0.254
# client       director          router --- 10.30.1.0/24 --- rs1
#  curl     vsrouted (tun, gre,                              vsrtun -k 4242,
#           tunnel_key = 4242)                               nginx :80, upsrv.py :8080
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun
need_cmd curl sha256sum

lvs_tun_seed 1 novsrtun
vsrtun_start rs1 -a 10.10.0.2 -v "$VIP" -k 4242
http_start rs1 rs1
upload_start rs1 rs1 8080
blob_make 5 >"$T_DIR/sum"
conf() {  # conf KEY: web (:80) and up (:8080), GRE with KEY, and an IPIP service on :81
	cat <<EOF
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $VIP
    port = 80
    scheduler = rr
    forward = tun
    tunnel = gre
    tunnel_key = $1
    real_server rs1 { address = 10.30.1.11 }
}
virtual_server up {
    address = $VIP
    port = 8080
    scheduler = rr
    forward = tun
    tunnel = gre
    real_server rs1 { address = 10.30.1.11  tunnel_key = $1 }
}
virtual_server plain {
    address = $VIP
    port = 81
    scheduler = rr
    forward = tun
    tunnel = ipip
    real_server rs1 { address = 10.30.1.11 }
}
EOF
}
conf 4242 >"$T_DIR/vsrouted.conf"
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)
pid=$(cat "$T_DIR/vsrouted-director.pid")

assert_true "the director binds rs1 keyed, with an MTU of 1500 - 20 - 4 - 4" \
	grep -q 'real server rs1: gre tunnel from 10.10.0.2, MTU 1472, keyed' "$log"
http_get_n client "http://$VIP/" 3 >"$T_DIR/answers"
assert_eq 3 "$(count_of rs1 "$T_DIR/answers")" "three requests over keyed GRE answered"
ans=$(nsx client curl -s --connect-timeout 2 -m 60 -T "$T_DIR/www/blob" "http://$VIP:8080/up") ||
	fail "upload failed"
set -- $ans
assert_eq "$(cat "$T_DIR/sum") $((5 * 1048576))" "${1:-} ${2:-}" \
	"5 MB upload over keyed GRE: sha256 and length equal"
assert_eq "" "$(http_get client "http://$VIP:81/" || true)" "the IPIP service gets nothing through vsrtun -k"
vsrouted_stats director >/dev/null
echo "# segments cut from super-frames: $(stat_get tun_segments)"
assert_eq 0 "$(stat_get drop_tun_tx_error)" "no tunnel send error"
vsrtun_stats rs1 >/dev/null
assert_gt 0 "$(stat_get rx_gre)" "vsrtun received GRE"
assert_eq 0 "$(stat_get drop_malformed)" "none of it malformed (the segments' headers too)"
bad0=$(stat_get drop_bad_key)
assert_gt 0 "$bad0" "the IPIP packets were dropped for want of a key"

# ---- another key: vsrtun refuses it; the same again: served
conf 4243 >"$T_DIR/vsrouted.conf"
vsrouted_conf_variant "$T_DIR/vsrouted.conf"   # the run's workers, kept by a reload
kill -HUP "$pid"
wait_for "the reload" 10 grep -q '^reloaded' "$log"
assert_eq "" "$(http_get client "http://$VIP/" || true)" "with key 4243 nothing is answered"
vsrtun_stats rs1 >/dev/null
assert_gt "$bad0" "$(stat_get drop_bad_key)" "vsrtun counted the wrong key"
conf 4242 >"$T_DIR/vsrouted.conf"
vsrouted_conf_variant "$T_DIR/vsrouted.conf"   # the run's workers, kept by a reload
kill -HUP "$pid"
wait_for "the second reload" 10 sh -c "[ \$(grep -c '^reloaded' '$log') -ge 2 ]"
assert_true "with 4242 again it is answered" wait_for "an answer" 10 sh -c "$(declare -f http_get nsx nsname); T_PREFIX=$T_PREFIX; [ \"\$(http_get client http://$VIP/)\" = rs1 ]"

vsrouted_stop director
vsrtun_stop rs1
