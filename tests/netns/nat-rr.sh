#!/usr/bin/env bash
# nat-rr.sh - LVS-NAT: rr over 3 real servers with port mapping, UDP, the
# client's address as the real servers see it, the real servers' own
# traffic, both directions counted, echo requests to the VIP, and the
# clean-up
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#   ==+=================+=====         =====+================+======== ...
#     |                 |                   |                |
#   eth0 .1          eth0 .2             eth1 .1          eth0 .11  (.12, .13)
#  +--------+     +-------------+                       +------------+
#  | client |     |  director   |-----------------------|    rsN     |
#  |  curl  |     | vsrouted rr |                       | nginx 8080 |
#  +--------+     | VIP -> vsr0 |                       | udp 5353   |
#                 +-------------+                       | gw .1      |
#                                                       +------------+
#
#   client -> VIP:80 -> (DNAT) rsN:8080; rsN's reply, steered into vsr0 by
#   a policy rule, -> (SNAT) VIP:80 -> client.  VIP:53/udp -> rsN:5353.
#
# VSR_TEST_FAMILY=6 runs it all over IPv6 (lvs_nat_seed6: 2001:db8:10::/64
# and 2001:db8:20::/64, the same host numbers), where the VIP is announced
# by proxy NDP instead of proxy ARP and rp_filter has no IPv6 twin.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3

FAM=${VSR_TEST_FAMILY:-4}
if [ "$FAM" = 6 ]; then
	lvs_nat_seed6 3
	V=$VIP6 C=2001:db8:10::1 R=2001:db8:20:: IP="ip -6"
else
	lvs_nat_seed 3
	V=$VIP C=10.10.0.1 R=10.20.0. IP=ip
fi
for i in 1 2 3; do
	http_start "rs$i" "rs$i" 8080
	udp_start "rs$i" "rs$i" 5353
done
http_start client client 80
udp_start client client 5353

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $V
    port = 80
    scheduler = rr
    forward = nat
    real_server rs1 { address = ${R}11  port = 8080 }
    real_server rs2 { address = ${R}12  port = 8080 }
    real_server rs3 { address = ${R}13  port = 8080 }
}
virtual_server dns {
    address = $V
    port = 53
    protocol = udp
    scheduler = rr
    forward = nat
    real_server rs1 { address = ${R}11  port = 5353 }
    real_server rs2 { address = ${R}12  port = 5353 }
    real_server rs3 { address = ${R}13  port = 5353 }
}
EOF2
[ "$FAM" = 4 ] && ns_sysctl director net.ipv4.conf.all.rp_filter=1
ns_snapshot director "$T_DIR/before"
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

D=$(nsname director)
assert_true "a narrow rule per real server (from RIP iif eth1 ipproto tcp sport 8080)" \
	sh -c "$IP -n '$D' rule show | grep -q 'from ${R}12 iif eth1 ipproto tcp sport 8080 lookup 7600'"
if [ "$FAM" = 6 ]; then
	assert_true "the VIP is answered for by proxy NDP on eth0" \
		sh -c "ip -n '$D' -6 neigh show proxy | grep -q '^$V dev eth0'"
	assert_eq 1 "$(nsx director sysctl -n net.ipv6.conf.all.forwarding)" "IPv6 forwarding on while running"
else
	assert_eq 0 "$(nsx director sysctl -n net.ipv4.conf.all.rp_filter)" "all.rp_filter 0 while running"
	assert_eq 1 "$(nsx director sysctl -n net.ipv4.conf.eth0.rp_filter)" "eth0 keeps filtering as before (1)"
fi

http_get_n client "$(url "$V")" 150 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
for i in 1 2 3; do
	assert_eq 50 "$(count_of "rs$i" "$T_DIR/answers")" "client saw rs$i answer 50 times"
	assert_eq 50 "$(count_wait 50 http_count "rs$i")" "rs$i served 50 requests on port 8080"
done
assert_eq 0 "$(uniq -d "$T_DIR/answers" | grep -c . || true)" "no real server answered twice in a row"
assert_true "real servers saw the client's address" \
	grep -q "^$C " "$T_DIR/nginx-rs1/access.log"

: >"$T_DIR/udp"
for i in $(seq 30); do
	udp_ask client "$V" 53 $((41000 + i)) >>"$T_DIR/udp" 2>>"$T_DIR/ask.err" || echo ERR >>"$T_DIR/udp"
done
assert_eq 0 "$(count_of ERR "$T_DIR/udp")" "every datagram got an answer from VIP:53"
for i in 1 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/udp")" "rs$i answered 10 datagrams"
done

# The real servers' own traffic is not steered: to the client LAN and their own.
assert_eq client "$(http_get rs1 "$(url "$C")")" "rs1 reaches a web server on the client LAN"
assert_eq client "$(udp_ask rs2 "$C" 5353)" "rs2 reaches a UDP server on the client LAN"
assert_eq rs1 "$(http_get rs3 "$(url "${R}11" 8080)")" "rs3 reaches rs1 on their LAN"

# Ping the VIP: answered by the daemon.
assert_eq 3 "$(nsx client python3 "$VSR_NETNS_DIR/icmpecho.py" "$V" 3)" \
	"the VIP answers 3 echo requests"

vsrouted_stats director >/dev/null
for i in 1 2 3; do
	assert_gt 0 "$(stat_get rs web/rs$i out_packets)" "rs$i: replies counted (out_packets)"
	assert_gt 0 "$(stat_get rs web/rs$i in_packets)" "rs$i: requests counted (in_packets)"
done
assert_gt 0 "$(stat_get vs web out_bytes)" "service web: out_bytes counted"
if [ "$FAM" = 6 ]; then
	assert_gt 0 "$(stat_get na_replies)" "the kernel's neighbour solicitations for the VIP answered"
else
	assert_gt 0 "$(stat_get arp_replies)" "the kernel's ARP requests for the VIP answered"
fi
assert_gt 0 "$(stat_get icmp_echo_replies)" "echo requests answered"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed"

vsrouted_stop director
ns_snapshot director "$T_DIR/after"
if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
	pass "rules, routes, proxy entries and sysctls all gone after SIGTERM"
else
	cat "$T_DIR/diff"
	fail "director state differs from before start"
fi
