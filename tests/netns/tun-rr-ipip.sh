#!/usr/bin/env bash
# tun-rr-ipip.sh - LVS-TUN over IPIP, round robin: 300 connections, 100 per RS;
# over GRE with VSR_TEST_TUNNEL=gre (tests/run.sh's [gre] variants), over GUE
# with VSR_TEST_TUNNEL=gue ([gue]: vsrtun -g on UDP port 6080, and three
# 20 MB uploads through the tunnel, one per RS, intact, with a UDP checksum),
# over GUE with remote checksum offload with VSR_TEST_TUNNEL=gue-remcsum
# ([gue-remcsum]: the uploads' service is tunnel_csum = remcsum: the option
# on the wire (tshark) and completed by vsrtun (its counter), the inner
# checksums verifying; malformed options from the director dropped and
# counted, a right one delivered, its UDP checksum completed)
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
CSUM=csum       # the uploads' service's tunnel_csum (GUE)
case $TUNNEL in
ipip|gre|gue) ;;
gue-remcsum) TUNNEL=gue CSUM=remcsum ;;
*) fatal "VSR_TEST_TUNNEL must be ipip, gre, gue or gue-remcsum, not '$TUNNEL'" ;;
esac
GUE_PORT=6080
[ "$CSUM" = csum ] || need_cmd tshark

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
	# Port 80 without a UDP checksum (ipvsadm's default), 8080 with one
	# (and with remcsum, remote checksum offload).
	tun_conf "$T_DIR/vsrouted.conf" 3 gue tcp 80 "tunnel_port = $GUE_PORT"
	cat >>"$T_DIR/vsrouted.conf" <<EOF2
virtual_server up {
    address = $VIP
    port = 8080
    scheduler = rr
    forward = tun
    tunnel = gue
    tunnel_port = $GUE_PORT
    tunnel_csum = $CSUM
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
	assert_eq 100 "$(count_wait 100 http_count "rs$i")" "rs$i served 100 requests"
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
	vsradm -a -t "$VIP:8080" -r 10.30.3.11:8080 -i --tun-type gue --tun-port "$GUE_PORT" "--tun-$CSUM" ||
		fail "vsradm -a ... --tun-type gue refused"
	assert_false "vsradm refuses gue without --tun-port" \
		vsradm -a -t "$VIP:8080" -r 10.30.9.11:8080 -i --tun-type gue
	# The uploads' data goes through the tunnel (the downloads' comes
	# straight from the real server): three, one per RS (rr). With
	# remcsum, the GUE packets reaching rs1 are captured meanwhile.
	if [ "$CSUM" = remcsum ]; then
		rm -f "$T_DIR/gue.pcap"
		bg_start capture rs1 tshark -q -n -i any -c 2000 -f "udp dst port $GUE_PORT" -w "$T_DIR/gue.pcap"
		cap=$BG_PID
		wait_for "tshark to capture on rs1" 60 grep -q "^Capturing on" "$T_DIR/capture.log" || true
	fi
	for n in 1 2 3; do
		ans=$(nsx client curl -s --connect-timeout 2 -m 90 -H 'Expect:' -T "$T_DIR/www/blob" \
			"http://$VIP:8080/up") || fail "upload $n failed"
		assert_eq "$sum $((20 * 1048576))" "$ans" "20 MB upload $n through GUE: sha256 and length equal"
	done
	# remcsum only for checksums the director's kernel left partial (csum_partial).
	partial=0
	csum_partial && partial=1
	if [ "$CSUM" = remcsum ]; then
		bg_stop "$cap" INT 10 || true
		# GUE's first 12 bytes: hlen 2, IPv4 inside, the private flag,
		# remcsum, the sum from the inner TCP header (20) into its field (36).
		tshark -n -r "$T_DIR/gue.pcap" -T fields -e udp.length -e udp.checksum -e data.data \
			-d "udp.port==$GUE_PORT,data" 2>/dev/null >"$T_DIR/gue.fields" || true
		n=$(grep -c . "$T_DIR/gue.fields" || true)
		assert_gt 1000 "$n" "tshark captured the uploads' GUE packets to rs1 ($n)"
		opt=$(awk '$3 ~ /^020400018000000000140024/ && $1 > 1000 && $2 != "0x0000"' "$T_DIR/gue.fields" | wc -l)
		if [ "$partial" = 1 ]; then
			assert_gt $((n / 2)) "$opt" "most carry the remote checksum option and a UDP checksum ($opt of $n)"
		else
			assert_eq 0 "$opt" "offloads off: no packet carries the remote checksum option"
		fi
	fi
	for i in 1 2 3; do
		vsrtun_stats "rs$i" >/dev/null
		assert_gt 1000 "$(stat_get rx_gue)" "rs$i received an upload's packets over GUE"
		assert_eq 0 "$(stat_get drop_gue_unsupported)" "vsrtun on rs$i took every GUE header"
		if [ "$CSUM" = remcsum ]; then
			if [ "$partial" = 1 ]; then
				assert_gt 1000 "$(stat_get remcsum)" "vsrtun on rs$i completed the inner checksums of an upload (remcsum)"
			else
				assert_eq 0 "$(stat_get remcsum)" "offloads off: vsrtun on rs$i had no checksum to complete"
			fi
			assert_eq 0 "$(stat_get drop_remcsum)" "vsrtun on rs$i found every option right"
			assert_eq 0 "$(stat_get gro_csum_bad)" "rs$i: each completed TCP checksum verifies"
			assert_gt 1000 "$(stat_get gro_segments)" "rs$i: the completed segments joined into super-frames (GRO)"
		fi
		# The kernel checks the UDP checksum before vsrtun sees the datagram.
		assert_eq 0 "$(nsx "rs$i" nstat -az UdpInCsumErrors | awk '$1 == "UdpInCsumErrors" { print $2 }')" \
			"rs$i's kernel found no bad UDP checksum"
	done
	# As ipvsadm lists and saves them; rs3 of 8080 was put back by vsradm.
	vsradm -Ln --tun-info >"$T_DIR/tuninfo"
	assert_eq 3 "$(grep -cF -- "gue:$GUE_PORT:-c " "$T_DIR/tuninfo" || true)" "-Ln --tun-info: port 80's three RS, GUE without checksum"
	word=+c
	[ "$CSUM" = csum ] || word=r+c
	assert_eq 3 "$(grep -cF -- "gue:$GUE_PORT:$word " "$T_DIR/tuninfo" || true)" "-Ln --tun-info: port 8080's three RS, GUE with $CSUM"
	vsradm -Sn >"$T_DIR/saved"
	assert_eq 3 "$(grep -cF -- "--tun-type gue --tun-port $GUE_PORT --tun-$CSUM" "$T_DIR/saved" || true)" "-S saves GUE's type, port and $CSUM"
fi
if [ "$CSUM" = remcsum ]; then
	# Options made by hand, from the director (trusted), to the VIP's UDP
	# port 9 where nothing listens: the sum starting past the end, inside
	# the IP header, at an odd offset: dropped and counted; a right one
	# delivered, its UDP checksum completed by vsrtun: the kernel answers
	# "port unreachable" (a bad checksum would be counted and dropped
	# before that).
	gsend() { nsx director python3 "$VSR_NETNS_DIR/tunsend.py" gue 10.30.1.11 10.10.0.1 "$VIP" 9 "$@"; }
	vsrtun_stats rs1 >/dev/null
	d0=$(stat_get drop_remcsum)
	r0=$(stat_get remcsum)
	udp_stat() { nsx rs1 nstat -az "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
	np0=$(udp_stat UdpNoPorts)
	gsend --remcsum 20,4096 --payload r-beyond
	gsend --remcsum 4,10 --payload r-in-ip-header
	gsend --remcsum 21,27 --payload r-odd
	gsend --remcsum 20,26 --payload r-right
	noports_past() { [ "$(udp_stat UdpNoPorts)" -gt "$1" ]; }
	assert_true "the right option's datagram reaches rs1's UDP" \
		wait_for "UdpNoPorts on rs1" 20 noports_past "$np0"
	vsrtun_stats rs1 >/dev/null
	assert_eq $((d0 + 3)) "$(stat_get drop_remcsum)" "three malformed options: drop_remcsum"
	assert_eq $((r0 + 1)) "$(stat_get remcsum)" "the right one completed"
	assert_eq 0 "$(udp_stat UdpInCsumErrors)" "its UDP checksum verifies in rs1's kernel"
fi

vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get drop_tun_tx_error)" "no tunnel send error"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
for i in 1 2 3; do vsrtun_stop "rs$i"; done
