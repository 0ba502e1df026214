#!/usr/bin/env bash
# tun6-rr.sh - LVS-TUN over IPv6, ip6ip6, round robin: 300 connections, 100
# per real server, the client's address as they see it, 20 MB up through
# the tunnel intact; over GRE with VSR_TEST_TUNNEL=gre (tests/run.sh's
# [gre] variants), over GUE (UDP port 6080, vsrtun -g) with
# VSR_TEST_TUNNEL=gue ([gue]), the upload with GUE's remote checksum
# offload with VSR_TEST_TUNNEL=gue-remcsum ([gue-remcsum]); a clean stop
#
#                  LAN lan0 (bridge), 2001:db8:10::/64
#   +--------------+---------------+
#   | ::1          | ::2           | ::fe
# client       director          router --- 2001:db8:30:1::/64 --- rs1 (vsrtun, nginx, up 8000)
#  curl     vsrouted (rr, tun)          --- 2001:db8:30:2::/64 --- rs2 (vsrtun, nginx)
#          VIP6/128 -> vsr0             --- 2001:db8:30:3::/64 --- rs3 (vsrtun, nginx)
#
#   client -> [VIP6]:80 -> director -ip6ip6/GRE 2001:db8:10::2 -> 2001:db8:30:N::11
#   -> router -> rsN; vsrtun unwraps into vsrtun0 (VIP6/128); rsN ->
#   router -> client from VIP6
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun
need_cmd python3 sha256sum
TUNNEL=${VSR_TEST_TUNNEL:-ipip}
GUE_PORT=6080
PORTLINE=
CSUMLINE=       # the upload's service's
case $TUNNEL in ipip) RX=rx_ip6ip6 ;; gre) RX=rx_gre6 ;; gue) RX=rx_gue6 ;;
gue-remcsum) RX=rx_gue6 TUNNEL=gue CSUMLINE="tunnel_csum = remcsum" ;;
*) fatal "VSR_TEST_TUNNEL must be ipip, gre, gue or gue-remcsum, not '$TUNNEL'" ;; esac

if [ "$TUNNEL" = gue ]; then
	lvs_tun_seed6 3 novsrtun
	for i in 1 2 3; do
		vsrtun_start "rs$i" -a 10.10.0.2 -a 2001:db8:10::2 -v "$VIP" -v "$VIP6" -g "$GUE_PORT"
	done
	PORTLINE="tunnel_port = $GUE_PORT"
else
	lvs_tun_seed6 3
fi
sum=$(blob_make 20)
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
upload_start rs1 rs1 8000

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web6 {
    address = $VIP6
    port = 80
    scheduler = rr
    forward = tun
    tunnel = $TUNNEL
    $PORTLINE
    real_server rs1 { address = 2001:db8:30:1::11 }
    real_server rs2 { address = 2001:db8:30:2::11 }
    real_server rs3 { address = 2001:db8:30:3::11 }
}
virtual_server up6 {
    address = $VIP6
    port = 8000
    forward = tun
    tunnel = $TUNNEL
    $PORTLINE
    $CSUMLINE
    real_server rs1 { address = 2001:db8:30:1::11 }
}
EOF2
ns_snapshot director "$T_DIR/before"
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
assert_true "the tunnel's MTU is the route's less the outer header" \
	grep -Eq "real server rs1: (ip6ip6|gre over IPv6|gue over IPv6) tunnel from 2001:db8:10::2, MTU 14(60|56|48)" \
	"$(vsrouted_log director)"

http_get_n client "$(url "$VIP6")" 300 >"$T_DIR/answers"
assert_eq 300 "$(grep -c . "$T_DIR/answers")" "300 requests got an answer line"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
for i in 1 2 3; do
	assert_eq 100 "$(count_of "rs$i" "$T_DIR/answers")" "client saw rs$i answer 100 times"
	assert_eq 100 "$(count_wait 100 http_count "rs$i")" "rs$i served 100 requests"
done
assert_eq 0 "$(uniq -d "$T_DIR/answers" | grep -c . || true)" "no real server answered twice in a row"
assert_true "rs2 saw the client's own IPv6 address" \
	grep -q '^2001:db8:10::1 ' "$T_DIR/nginx-rs2/access.log"
assert_eq "$sum" "$(up_post client "$(url "$VIP6" 8000)" "$T_DIR/www/blob")" \
	"20 MB up through the tunnel intact (sha256)"

for i in 1 2 3; do
	vsrtun_stats "rs$i" >/dev/null
	assert_gt 0 "$(stat_get "$RX")" "vsrtun on rs$i received $TUNNEL over IPv6 ($RX)"
	assert_gt 0 "$(stat_get delivered)" "vsrtun on rs$i delivered them"
	assert_eq 0 "$(stat_get drop_untrusted)" "vsrtun on rs$i dropped nothing as untrusted"
	assert_eq 0 "$(stat_get drop_malformed)" "vsrtun on rs$i found nothing malformed"
done
if [ -n "$CSUMLINE" ]; then
	vsrtun_stats rs1 >/dev/null
	# remcsum only for checksums the director's kernel left partial (csum_partial).
	if csum_partial; then
		assert_gt 1000 "$(stat_get remcsum)" "vsrtun on rs1 completed the upload's inner checksums (remcsum)"
	else
		assert_eq 0 "$(stat_get remcsum)" "offloads off: vsrtun on rs1 had no checksum to complete"
	fi
	assert_eq 0 "$(stat_get drop_remcsum)" "every option right"
	assert_eq 0 "$(stat_get gro_csum_bad)" "each completed TCP checksum verifies"
	assert_eq 0 "$(nsx rs1 nstat -az Udp6InCsumErrors | awk '$1 == "Udp6InCsumErrors" { print $2 }')" \
		"rs1's kernel found no bad UDP checksum"
fi
vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get drop_tun_tx_error)" "no tunnel send error"
gso_check

vsrouted_stop director
for i in 1 2 3; do vsrtun_stop "rs$i"; done
ns_snapshot director "$T_DIR/after"
if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
	pass "routes, proxy entries and sysctls all gone after SIGTERM"
else
	cat "$T_DIR/diff"
	fail "director state differs from before start"
fi
