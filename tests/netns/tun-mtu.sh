#!/usr/bin/env bash
# tun-mtu.sh - LVS-TUN with MTU 1500 on every link: fragmentation-needed
#
#                  LAN lan0 (bridge), MTU 1500 everywhere
#   +--------------+---------------+
#   | 10.10.0.1    | 10.10.0.2     | 10.10.0.254
# client       director          router --- 10.30.1.0/24 --- rs1
#              vsrouted (tun ipip)                           vsrtun, upsrv.py :80,
#                                                            udpsrv.py :5353
#
# A full-sized client packet does not fit the tunnel (1500 + 20 > 1500):
#   * DF clear (a 1490-byte UDP datagram): the outer packet is fragmented
#     and the datagram is delivered whole;
#   * DF set (a 1490-byte UDP datagram, then a 10 MB TCP upload): the
#     director answers ICMP fragmentation-needed with MTU 1480, from the
#     VIP; the client learns it and the upload goes through.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun
need_cmd python3 curl sha256sum

lvs_tun_seed 1
upload_start rs1 rs1 80
udp_start rs1 udp1 5353
cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $VIP
    port = 80
    forward = tun
    real_server rs1 { address = 10.30.1.11 }
}
virtual_server dns {
    address = $VIP
    port = 5353
    protocol = udp
    forward = tun
    real_server rs1 { address = 10.30.1.11 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf"
for ns in client director router rs1; do
	assert_eq "" "$(ip -n "$(nsname "$ns")" -o link show | grep -v ' lo:' | grep -v 'mtu 1500 ' || true)" \
		"every link of $ns has MTU 1500"
done

# big_udp DF SPORT: one 1462-byte payload (1490-byte IP packet) to VIP:5353
# with DF (do) or without (dont); prints the answer.
big_udp() {
	nsx client python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2 if sys.argv[1] == "do" else 0)  # IP_MTU_DISCOVER
s.bind(("0.0.0.0", int(sys.argv[2])))
s.settimeout(5 if sys.argv[1] == "dont" else 2)  # one expected: 5 s on a busy machine
s.connect((sys.argv[3], 5353))
s.send(b"x" * 1462)
print(s.recv(100).decode().strip())' "$1" "$2" "$VIP"
}

assert_eq udp1 "$(big_udp dont 41001 2>/dev/null || echo none)" "a DF-clear 1490-byte datagram goes through the tunnel"
assert_eq 1 "$(grep -c 'len 1462$' "$T_DIR/udp-udp1.log" || true)" "rs1 received it whole"
vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get tun_frag_needed)" "no fragmentation-needed for a DF-clear packet"

big_udp do 41002 >/dev/null 2>&1 || true
vsrouted_stats director >/dev/null
assert_eq 1 "$(stat_get tun_frag_needed)" "a DF 1490-byte datagram is answered with fragmentation-needed"
assert_true "the client learnt the tunnel's MTU 1480 for the VIP" \
	wait_for "PMTU 1480" 20 sh -c "ip -n '$(nsname client)' route get '$VIP' | grep -q 'mtu 1480'"
assert_eq 1 "$(grep -c 'len 1462$' "$T_DIR/udp-udp1.log" || true)" "the DF datagram was not delivered"

# A new TCP flow starts at MSS 1460 only if the route cache is gone: flush it.
ip -n "$(nsname client)" route flush cache
sum=$(blob_make 10)
ans=$(nsx client curl -s --connect-timeout 2 -m 60 -T "$T_DIR/www/blob" "http://$VIP/up") ||
	fail "upload failed"
assert_eq "$sum $((10 * 1048576))" "$ans" "10 MB upload through the tunnel: sha256 and length equal"
vsrouted_stats director >/dev/null
assert_gt 1 "$(stat_get tun_frag_needed)" "the upload was answered with fragmentation-needed"
assert_eq 0 "$(stat_get drop_tun_tx_error)" "no tunnel send error"

vsrouted_stop director
vsrtun_stop rs1
