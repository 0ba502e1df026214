#!/usr/bin/env bash
# tun-rr-ipip.sh - LVS-TUN over IPIP, round robin: 300 connections, 100 per RS;
# over GRE with VSR_TEST_TUNNEL=gre (tests/run.sh's [gre] variants), over GUE
# with VSR_TEST_TUNNEL=gue ([gue]: vsrtun -g on UDP port 6080, and three
# 20 MB uploads through the tunnel, one per RS, intact, with a UDP checksum)
#
#                  LAN lan0 (bridge)
#   +--------------+---------------+
#   | 10.10.0.1    | 10.10.0.2     | 10.10.0.254
# client       director          router --- 10.30.1.0/24 --- rs1 (vsrtun, nginx)
#  curl     vsrouted (rr, tun)          --- 10.30.2.0/24 --- rs2 (vsrtun, nginx)
#           VIP/32 -> vsr0              --- 10.30.3.0/24 --- rs3 (vsrtun, nginx)
#
#   client -> VIP:80 -> director -IPIP/GRE 10.10.0.2 -> 10.30.N.11-> router -> rsN;
#   vsrtun unwraps into vsrtun0 (VIP/32); rsN -> router -> client from the VIP
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun
TUNNEL=${VSR_TEST_TUNNEL:-ipip}
case $TUNNEL in ipip|gre|gue) ;; *) fatal "VSR_TEST_TUNNEL must be ipip, gre or gue, not '$TUNNEL'" ;; esac
GUE_PORT=6080

if [ "$TUNNEL" = gue ]; then
	need_cmd curl sha256sum
	lvs_tun_seed 3 novsrtun
	for i in 1 2 3; do
		vsrtun_start "rs$i" -a 10.10.0.2 -v "$VIP" -g "$GUE_PORT"
		upload_start "rs$i" "rs$i" 8080
	done
	sum=$(blob_make 20)
else
	lvs_tun_seed 3
fi
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

if [ "$TUNNEL" = gue ]; then
	# Port 80 without a UDP checksum (ipvsadm's default), 8080 with one.
	tun_conf "$T_DIR/vsrouted.conf" 3 gue tcp 80 "tunnel_port = $GUE_PORT"
	cat >>"$T_DIR/vsrouted.conf" <<EOF2
virtual_server up {
    address = $VIP
    port = 8080
    scheduler = rr
    forward = tun
    tunnel = gue
    tunnel_port = $GUE_PORT
    tunnel_csum = yes
    real_server rs1 { address = 10.30.1.11 }
    real_server rs2 { address = 10.30.2.11 }
    real_server rs3 { address = 10.30.3.11 }
}
EOF2
else
	tun_conf "$T_DIR/vsrouted.conf" 3 "$TUNNEL"
fi
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 300 >"$T_DIR/answers"
assert_eq 300 "$(grep -c . "$T_DIR/answers")" "300 requests got an answer line"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
for i in 1 2 3; do
	assert_eq 100 "$(count_of "rs$i" "$T_DIR/answers")" "client saw rs$i answer 100 times"
	assert_eq 100 "$(http_count "rs$i")" "rs$i served 100 requests"
done
assert_eq 0 "$(uniq -d "$T_DIR/answers" | grep -c . || true)" "no real server answered twice in a row"

for i in 1 2 3; do
	vsrtun_stats "rs$i" >/dev/null
	assert_gt 0 "$(stat_get "rx_$TUNNEL")" "vsrtun on rs$i received $TUNNEL packets"
	assert_gt 0 "$(stat_get delivered)" "vsrtun on rs$i delivered them"
	assert_eq 0 "$(stat_get drop_untrusted)" "vsrtun on rs$i dropped nothing as untrusted"
	assert_eq 0 "$(stat_get drop_malformed)" "vsrtun on rs$i found nothing malformed"
done
if [ "$TUNNEL" = gue ]; then
	# A real server given by vsradm as by ipvsadm, and one it refuses as IPVS does.
	vsradm -d -t "$VIP:8080" -r 10.30.3.11:8080
	vsradm -a -t "$VIP:8080" -r 10.30.3.11:8080 -i --tun-type gue --tun-port "$GUE_PORT" --tun-csum ||
		fail "vsradm -a ... --tun-type gue refused"
	assert_false "vsradm refuses gue without --tun-port" \
		vsradm -a -t "$VIP:8080" -r 10.30.9.11:8080 -i --tun-type gue
	# The uploads' data goes through the tunnel (the downloads' comes
	# straight from the real server): three, one per RS (rr).
	for n in 1 2 3; do
		ans=$(nsx client curl -s --connect-timeout 2 -m 90 -H 'Expect:' -T "$T_DIR/www/blob" \
			"http://$VIP:8080/up") || fail "upload $n failed"
		assert_eq "$sum $((20 * 1048576))" "$ans" "20 MB upload $n through GUE: sha256 and length equal"
	done
	for i in 1 2 3; do
		vsrtun_stats "rs$i" >/dev/null
		assert_gt 1000 "$(stat_get rx_gue)" "rs$i received an upload's packets over GUE"
		assert_eq 0 "$(stat_get drop_gue_unsupported)" "vsrtun on rs$i took every GUE header"
		# The kernel checks the UDP checksum before vsrtun sees the datagram.
		assert_eq 0 "$(nsx "rs$i" nstat -az UdpInCsumErrors | awk '$1 == "UdpInCsumErrors" { print $2 }')" \
			"rs$i's kernel found no bad UDP checksum"
	done
	# As ipvsadm lists and saves them; rs3 of 8080 was put back by vsradm.
	vsradm -Ln --tun-info >"$T_DIR/tuninfo"
	assert_eq 3 "$(grep -cF -- "gue:$GUE_PORT:-c " "$T_DIR/tuninfo" || true)" "-Ln --tun-info: port 80's three RS, GUE without checksum"
	assert_eq 3 "$(grep -cF -- "gue:$GUE_PORT:+c " "$T_DIR/tuninfo" || true)" "-Ln --tun-info: port 8080's three RS, GUE with checksum"
	vsradm -Sn >"$T_DIR/saved"
	assert_eq 3 "$(grep -cF -- "--tun-type gue --tun-port $GUE_PORT --tun-csum" "$T_DIR/saved" || true)" "-S saves GUE's type, port and checksum"
fi

vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get drop_tun_tx_error)" "no tunnel send error"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
for i in 1 2 3; do vsrtun_stop "rs$i"; done
