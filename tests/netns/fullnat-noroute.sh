#!/usr/bin/env bash
# fullnat-noroute.sh - FULLNAT where the real servers have no route to the
# client: nat cannot serve them, fullnat can (rr, 20 MB both ways, UDP,
# mixed with nat in one service), and everything is undone on SIGTERM
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#   ==+=================+=====         =====+================+======== ...
#     |                 |                   |                |
#   eth0 .1          eth0 .2             eth1 .1          eth0 .11  (.12, .13)
#  +--------+     +-------------+                       +----------------+
#  | client |     |  director   |-----------------------|      rsN       |
#  |  curl  |     |  vsrouted   |                       | nginx 8080     |
#  +--------+     | LIPs .250   |                       | udp 5353, up 8000
#                 |   .251      |                       | NO default route
#                 +-------------+                       +----------------+
#
#   client -> VIP:80 -> (CIP:cport -> LIP:lport, VIP:80 -> RIP:8080) rsN;
#   rsN answers the LIP, on its own LAN (proxy ARP by the director).
#
# VSR_TEST_FAMILY=6 runs it all over IPv6 (lvs_nat_seed6: 2001:db8:10::/64
# and 2001:db8:20::/64, the same host numbers; proxy NDP for the LIPs).
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 sha256sum

FAM=${VSR_TEST_FAMILY:-4}
if [ "$FAM" = 6 ]; then
	lvs_nat_seed6 3 nogw
	V=$VIP6 C=2001:db8:10::1 R=2001:db8:20:: IP="ip -6" HOST=128
else
	lvs_nat_seed 3 nogw
	V=$VIP C=10.10.0.1 R=10.20.0. IP=ip HOST=32
fi
sum=$(blob_make 20)
for i in 1 2 3; do
	http_start "rs$i" "rs$i" 8080
	udp_start "rs$i" "rs$i" 5353
done
upload_start rs1 rs1 8000

# nat first: the replies have no way back.
cat >"$T_DIR/nat.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $V
    port = 80
    forward = nat
    real_server rs1 { address = ${R}11  port = 8080 }
}
EOF2
vsrouted_start director "$T_DIR/nat.conf" || fatal "vsrouted did not start"
assert_eq "" "$(http_get client "$(url "$V")" || true)" "nat cannot serve real servers without a route to the client"
vsrouted_stop director

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
local_address = { ${R}250, ${R}251 }
virtual_server web {
    address = $V
    port = 80
    scheduler = rr
    forward = fullnat
    real_server rs1 { address = ${R}11  port = 8080 }
    real_server rs2 { address = ${R}12  port = 8080 }
    real_server rs3 { address = ${R}13  port = 8080 }
}
virtual_server dns {
    address = $V
    port = 53
    protocol = udp
    scheduler = rr
    forward = fullnat
    real_server rs1 { address = ${R}11  port = 5353 }
    real_server rs2 { address = ${R}12  port = 5353 }
    real_server rs3 { address = ${R}13  port = 5353 }
}
virtual_server up {
    address = $V
    port = 8000
    forward = fullnat
    real_server rs1 { address = ${R}11 }
}
EOF2
ns_snapshot director "$T_DIR/before"
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
D=$(nsname director)
assert_true "the pool is routed into vsr0" sh -c "$IP -n '$D' route show ${R}250/$HOST | grep -q 'dev vsr0'"
assert_true "the pool is proxy-answered on eth1" sh -c "$IP -n '$D' neigh show proxy | grep -q '^${R}251 dev eth1'"
[ "$FAM" = 6 ] && assert_eq 1 "$(nsx director sysctl -n net.ipv6.conf.eth1.proxy_ndp)" "proxy NDP on eth1"

http_get_n client "$(url "$V")" 90 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
for i in 1 2 3; do
	assert_eq 30 "$(count_of "rs$i" "$T_DIR/answers")" "client saw rs$i answer 30 times"
done
assert_true "real servers saw local addresses, not the client" \
	sh -c "grep -q '^${R}25[01] ' '$T_DIR/nginx-rs1/access.log' && ! grep -q '^$C ' '$T_DIR/nginx-rs1/access.log'"

: >"$T_DIR/udp"
for i in $(seq 30); do
	udp_ask client "$V" 53 $((42000 + i)) >>"$T_DIR/udp" 2>>"$T_DIR/ask.err" || echo ERR >>"$T_DIR/udp"
done
assert_eq 0 "$(count_of ERR "$T_DIR/udp")" "every datagram got an answer from VIP:53"
for i in 1 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/udp")" "rs$i answered 10 datagrams"
done

assert_eq "$sum" "$(http_sha client "$(url "$V" 80 blob)" 2>"$T_DIR/speed")" "20 MB download intact (sha256)"
echo "# download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(up_post client "$(url "$V" 8000)" "$T_DIR/www/blob")" "20 MB upload intact (sha256)"

vsrouted_stats director >/dev/null
assert_gt 0 "$(stat_get rs web/rs2 out_packets)" "rs2: replies counted"
assert_eq 0 "$(stat_get lport_exhausted)" "no port exhaustion"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed (virtio-net headers included)"
gso_check
vsrouted_stop director
ns_snapshot director "$T_DIR/after"
if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
	pass "routes, proxy entries and sysctls all gone after SIGTERM"
else
	cat "$T_DIR/diff"
	fail "director state differs from before start"
fi
