#!/usr/bin/env bash
# nat-direct.sh - nat and fullnat frames leave straight out of the director's
# interface toward their next hop (AF_PACKET), both ways: to a real server on
# the director's LAN, to one behind a router, and the replies to the client;
# the director is one hop (TTL), super-frames stay whole, a neighbour that
# changes its MAC is followed
#
#     LAN lan0 10.10.0.0/24        LAN lan1 10.20.0.0/24         10.30.0.0/24
#   ==+=============+====     ====+===========+============+==
#     |             |             |           |            |
#   eth0 .1      eth0 .2       eth1 .1     eth0 .11     eth0 .254      eth0 .12
#  +--------+  +-----------+              +--------+   +--------+     +--------+
#  | client |  | director  |              |  rs1   |   |   gw   |-----|  rs2   |
#  +--------+  | vsrouted  |              | gw .1  |   | router | eth1| gw .1  |
#              +-----------+              +--------+   +--------+  .1 +--------+
#
#   10.30.0.0/24 via gw (10.20.0.254) on the director; gw's default route is
#   the director.  rs2 answers with TTL 100, the others with 64: the client
#   sees 63 from rs1 and 98 from rs2 when the director is one hop, 62 and 97
#   when a frame went through the TAP and the kernel's routing again.
#
#   IPv6 the same way, every host dual stack: lan0 2001:db8:10::/64 (client
#   ::1, director ::2), lan1 2001:db8:20::/64 (director ::1, rs1 ::11, gw
#   ::fe), 2001:db8:30::/64 (gw ::1, rs2 ::12); [VIP6]:80 nat, :81 fullnat
#   (local address 2001:db8:20::250); hop limits as the TTLs above.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd nft sha256sum

lvs_nat_seed6 1
ns_add gw
ns_add rs2
lan_attach lan1 gw eth0 10.20.0.254/24
link_add gw eth1 10.30.0.1/24 rs2 eth0 10.30.0.12/24
offload_apply gw eth1
offload_apply rs2 eth0
ns_sysctl gw net.ipv4.ip_forward=1
ns_sysctl gw net.ipv6.conf.all.forwarding=1
ns_sysctl rs2 net.ipv4.ip_default_ttl=100
ns_sysctl rs2 net.ipv6.conf.eth0.hop_limit=100
route_add gw default via 10.20.0.1
route_add rs2 default via 10.30.0.1
route_add director 10.30.0.0/24 via 10.20.0.254
ns_addr6 gw eth0 2001:db8:20::fe/64
ns_addr6 gw eth1 2001:db8:30::1/64
ns_addr6 rs2 eth0 2001:db8:30::12/64
route6_add gw default via 2001:db8:20::1
route6_add rs2 default via 2001:db8:30::1
route6_add director 2001:db8:30::/64 via 2001:db8:20::fe
sum=$(blob_make 20)
http_start rs1 rs1 8080
http_start rs2 rs2 8080

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
local_address = { 10.20.0.250, 2001:db8:20::250 }
virtual_server nat {
    address = $VIP
    port = 80
    scheduler = rr
    forward = nat
    real_server rs1 { address = 10.20.0.11  port = 8080 }
    real_server rs2 { address = 10.30.0.12  port = 8080 }
}
virtual_server fullnat {
    address = $VIP
    port = 81
    scheduler = rr
    forward = fullnat
    real_server rs1 { address = 10.20.0.11  port = 8080 }
    real_server rs2 { address = 10.30.0.12  port = 8080 }
}
virtual_server nat6 {
    address = $VIP6
    port = 80
    scheduler = rr
    forward = nat
    real_server rs1 { address = 2001:db8:20::11  port = 8080 }
    real_server rs2 { address = 2001:db8:30::12  port = 8080 }
}
virtual_server fullnat6 {
    address = $VIP6
    port = 81
    scheduler = rr
    forward = fullnat
    real_server rs1 { address = 2001:db8:20::11  port = 8080 }
    real_server rs2 { address = 2001:db8:30::12  port = 8080 }
}
EOF2

# TTLs (hop limits) as they arrive: the good one, and any other; table ip
# ttl for IPv4, ip6 ttl for IPv6.
# ttl_table NS PORTMATCH GOOD: the two tables in NS
ttl_table() {
	nsx "$1" nft -f - <<EOF2
table ip ttl {
	chain in {
		type filter hook input priority 0;
		$2 ip ttl $3 counter name good
		$2 ip ttl != $3 counter name bad
	}
	counter good {}
	counter bad {}
}
table ip6 ttl {
	chain in {
		type filter hook input priority 0;
		$2 ip6 hoplimit $3 counter name good
		$2 ip6 hoplimit != $3 counter name bad
	}
	counter good {}
	counter bad {}
}
EOF2
}
ttl_table rs1 "tcp dport 8080" 63
ttl_table rs2 "tcp dport 8080" 62
ttl_table client "tcp sport { 80, 81 }" "{ 63, 98 }"
# nft_count NS NAME [ip|ip6]: packets counted by counter NAME in NS
nft_count() {
	nsx "$1" nft list counter "${3:-ip}" ttl "$2" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
nft_reset() {
	local ns f
	for ns in client rs1 rs2; do
		for f in ip ip6; do
			nsx "$ns" nft reset counters table "$f" ttl >/dev/null
		done
	done
}

vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

# Warm up: the client's next hop is resolved on its first reply, the real
# servers' neighbours on their first frames (until then: the TAP).
http_get_n client "http://$VIP/" 4 >/dev/null
http_get_n client "http://$VIP:81/" 4 >/dev/null
sleep 0.5
vsrouted_stats director >/dev/null
tap0=$(stat_get nat_via_tap)
direct0=$(stat_get nat_direct)
nft_reset

http_get_n client "http://$VIP/" 10 >"$T_DIR/nat"
http_get_n client "http://$VIP:81/" 10 >"$T_DIR/fullnat"
assert_eq 5 "$(count_of rs1 "$T_DIR/nat")" "nat: rs1 (on the LAN) answered half"
assert_eq 5 "$(count_of rs2 "$T_DIR/nat")" "nat: rs2 (behind the router) answered half"
assert_eq 5 "$(count_of rs1 "$T_DIR/fullnat")" "fullnat: rs1 answered half"
assert_eq 5 "$(count_of rs2 "$T_DIR/fullnat")" "fullnat: rs2 answered half"
vsrouted_stats director >/dev/null
direct=$(( $(stat_get nat_direct) - direct0 ))
assert_gt 80 "$direct" "the flows' frames went straight out (both ways, 20 connections)"
assert_eq 0 "$(( $(stat_get nat_via_tap) - tap0 ))" "none went back into the TAP once next hops were known"
assert_gt 0 "$(nft_count rs1 good)" "rs1 saw the client's TTL less one"
assert_eq 0 "$(nft_count rs1 bad)" "rs1 saw no other TTL"
assert_gt 0 "$(nft_count rs2 good)" "rs2 saw it less two (director, router)"
assert_eq 0 "$(nft_count rs2 bad)" "rs2 saw no other TTL"
assert_gt 0 "$(nft_count client good)" "the client saw the replies' TTL less one (rs1), two (rs2)"
assert_eq 0 "$(nft_count client bad)" "the client saw no other TTL"
assert_eq 0 "$(stat_get drop_tx_error)" "no frame refused by an interface"

# Bulk, both modes, from the real server behind the router: super-frames
# (offloads on) go out whole and are cut by the kernel on the way.
assert_eq "$sum" "$(http_sha client "http://$VIP/blob" 2>"$T_DIR/speed")" "nat: 20 MB intact"
echo "# nat download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(http_sha client "http://$VIP:81/blob" 2>"$T_DIR/speed")" "fullnat: 20 MB intact"
echo "# fullnat download: $(cat "$T_DIR/speed") bytes/s"
vsrouted_stats director >/dev/null
echo "# nat_direct $(stat_get nat_direct), nat_via_tap $(stat_get nat_via_tap), rx_gso $(stat_get rx_gso)"
assert_eq 0 "$(stat_get drop_tx_error)" "no frame refused by an interface"

# IPv6: the same flows, the same ways (next hops by neighbour discovery;
# rs2 behind gw, whose address toward the director the kernel's route
# gives; the client's next hop resolved on its first reply).
http_get_n client "$(url "$VIP6")" 4 >/dev/null
http_get_n client "$(url "$VIP6" 81)" 4 >/dev/null
sleep 0.5
vsrouted_stats director >/dev/null
tap0=$(stat_get nat_via_tap)
direct0=$(stat_get nat_direct)
nft_reset
http_get_n client "$(url "$VIP6")" 10 >"$T_DIR/nat6"
http_get_n client "$(url "$VIP6" 81)" 10 >"$T_DIR/fullnat6"
assert_eq 5 "$(count_of rs1 "$T_DIR/nat6")" "nat6: rs1 (on the LAN) answered half"
assert_eq 5 "$(count_of rs2 "$T_DIR/nat6")" "nat6: rs2 (behind the router) answered half"
assert_eq 5 "$(count_of rs1 "$T_DIR/fullnat6")" "fullnat6: rs1 answered half"
assert_eq 5 "$(count_of rs2 "$T_DIR/fullnat6")" "fullnat6: rs2 answered half"
vsrouted_stats director >/dev/null
direct=$(( $(stat_get nat_direct) - direct0 ))
assert_gt 80 "$direct" "IPv6: the flows' frames went straight out (both ways, 20 connections)"
assert_eq 0 "$(( $(stat_get nat_via_tap) - tap0 ))" \
	"IPv6: none went back into the TAP once next hops were known"
assert_gt 0 "$(nft_count rs1 good ip6)" "rs1 saw the client's hop limit less one"
assert_eq 0 "$(nft_count rs1 bad ip6)" "rs1 saw no other hop limit"
assert_gt 0 "$(nft_count rs2 good ip6)" "rs2 saw it less two (director, router)"
assert_eq 0 "$(nft_count rs2 bad ip6)" "rs2 saw no other hop limit"
assert_gt 0 "$(nft_count client good ip6)" "the client saw the replies' hop limit less one, two"
assert_eq 0 "$(nft_count client bad ip6)" "the client saw no other hop limit"
assert_eq "$sum" "$(http_sha client "$(url "$VIP6" 80 blob)" 2>"$T_DIR/speed")" "nat6: 20 MB intact"
echo "# nat6 download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(http_sha client "$(url "$VIP6" 81 blob)" 2>"$T_DIR/speed")" \
	"fullnat6: 20 MB intact"
echo "# fullnat6 download: $(cat "$T_DIR/speed") bytes/s"
vsrouted_stats director >/dev/null
echo "# nat_direct $(stat_get nat_direct), nat_via_tap $(stat_get nat_via_tap), rx_gso $(stat_get rx_gso)"
assert_eq 0 "$(stat_get drop_tx_error)" "no frame refused by an interface"

# rs1 gets a new MAC and says so (gratuitous ARP, an unsolicited neighbour
# advertisement): the director's kernel updates its neighbour entries, the
# monitor the next hops, at once.
ns_sysctl rs1 net.ipv4.conf.eth0.arp_notify=1
ns_sysctl rs1 net.ipv6.conf.eth0.ndisc_notify=1
sleep 1.1       # past the kernel's locktime for this entry (1 s)
nsx rs1 ip link set eth0 address 02:00:00:aa:bb:11
assert_true "the director's kernel learnt rs1's new MAC" \
	wait_for "the new MAC in the director's neighbour table" 20 \
	sh -c "ip -n '$(nsname director)' neigh show 10.20.0.11 dev eth1 | grep -q 02:00:00:aa:bb:11"
sleep 0.3
nft_reset
http_get_n client "http://$VIP/" 4 >"$T_DIR/after"
assert_eq 2 "$(count_of rs1 "$T_DIR/after")" "rs1 answers at its new MAC"
assert_gt 0 "$(nft_count rs1 good)" "its frames still come straight out (TTL less one)"
assert_eq 0 "$(nft_count rs1 bad)" "none through the TAP"
assert_true "the director's kernel learnt rs1's new MAC for its IPv6 address" \
	wait_for "the new MAC in the director's IPv6 neighbour table" 20 \
	sh -c "ip -n '$(nsname director)' -6 neigh show 2001:db8:20::11 dev eth1 | grep -q 02:00:00:aa:bb:11"
sleep 0.3
http_get_n client "$(url "$VIP6")" 4 >"$T_DIR/after6"
assert_eq 2 "$(count_of rs1 "$T_DIR/after6")" "rs1 answers at its new MAC over IPv6"
assert_gt 0 "$(nft_count rs1 good ip6)" "its frames still come straight out (hop limit less one)"
assert_eq 0 "$(nft_count rs1 bad ip6)" "none through the TAP"

vsrouted_stop director
