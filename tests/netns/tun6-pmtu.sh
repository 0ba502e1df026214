#!/usr/bin/env bash
# tun6-pmtu.sh - packet too big through an ip6ip6 tunnel, with a 1280-byte
# link in the middle: the client's TCP adapts to the tunnel, the director
# fragments what the last link cannot carry whole
#
#                  LAN lan0 2001:db8:10::/64, MTU 1500
#   +--------------+---------------+
#   | ::1          | ::2           | ::fe
# client       director          router ==== 2001:db8:30:1::/64 ==== rs1
#              vsrouted (tun)          MTU 1280 -->        <-- 1500  vsrtun,
#                                                                    upsrv.py :80
#
# The tunnel's inner MTU is the route's less 40: 1460. rs1's MSS is 1440,
# so the client sends 1500-byte packets: the director answers "packet too
# big" (MTU 1460) from VIP6 and the client's TCP lowers its segments. The
# router cannot pass the 1500-byte outer packets on to rs1 and tells the
# director so; the director's kernel learns it (the tunnel socket has
# IPV6_RECVERR) and cuts them into fragments itself (the tunnel entry
# point is their source: RFC 2473); rs1 reassembles them. 20 MB up intact.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun
need_cmd python3 curl sha256sum

lvs_tun_seed6 1 novsrtun
ip -n "$(nsname router)" link set eth1 mtu 1280
vsrtun_start rs1 -a 2001:db8:10::2 -v "$VIP6"
upload_start rs1 rs1 80
cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web6 {
    address = $VIP6
    port = 80
    forward = tun
    real_server rs1 { address = 2001:db8:30:1::11 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
assert_true "the tunnel's MTU is 1500 less the outer IPv6 header" \
	grep -q "real server rs1: ip6ip6 tunnel from 2001:db8:10::2, MTU 1460" "$(vsrouted_log director)"

sum=$(blob_make 20)
assert_eq "$sum" "$(up_post client "$(url "$VIP6")" "$T_DIR/www/blob")" \
	"20 MB up through the tunnel and a 1280-byte link intact (sha256)"
vsrouted_stats director >/dev/null
assert_gt 0 "$(stat_get tun_frag_needed)" "the client was told the tunnel's MTU (packet too big)"
assert_eq 0 "$(stat_get drop_tun_tx_error)" "no tunnel send error"
assert_true "the client learnt the tunnel's MTU 1460 for the VIP" \
	sh -c "ip -n '$(nsname client)' -6 route get '$VIP6' | grep -q 'mtu 1460'"
assert_true "the director learnt the path MTU 1280 toward rs1" \
	sh -c "ip -n '$(nsname director)' -6 route get 2001:db8:30:1::11 | grep -q 'mtu 1280'"
vsrtun_stats rs1 >/dev/null
assert_gt 0 "$(stat_get rx_ip6ip6)" "vsrtun received the reassembled ip6ip6 packets"
assert_eq 0 "$(stat_get drop_malformed)" "vsrtun found nothing malformed"
vsrouted_stop director
vsrtun_stop rs1
