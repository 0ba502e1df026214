#!/usr/bin/env bash
# svc-fwmark.sh - a firewall-mark service (fwmark = 7, ipvsadm -f 7): an
# nftables rule on the director marks tcp 80 and 443 of two VIPs with 7;
# the persistent mark service sends one client's requests to all four
# (VIP, port) pairs to one real server; without persistence it spreads them
# rr; vsradm -A/-a/-D -f make and remove a second mark service, its policy
# rule and listing ("FWM  8 rr") with it; a reload adds an IPv6 mark
# service and the next takes it away, with its rule
#
#                         LAN lan0 (bridge)
#   client 10.10.0.1 -- director 10.10.0.2 -- rs1 .11, rs2 .12, rs3 .13
#                       nft: mark 7              nginx 80 and 443
#                       vsrouted (fwmark 7)      VIP, VIP2 on lo
#
# VSR_TEST_FAMILY=6 runs it over IPv6 (lvs_dr_seed6: 2001:db8:10::/64, the
# same host numbers; ipvsadm -f 7 -6, listed "FWM  7 IPv6"): the mark's
# gateway is a link-local address (fe80::76:N) that the daemon answers
# neighbour solicitations for with the MAC that names the mark. The
# director then holds an IPv4 mark 7 service too (a separate service, as in
# IPVS), which must take none of the IPv6 traffic.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd nft

FAM=${VSR_TEST_FAMILY:-4}
if [ "$FAM" = 6 ]; then
	lvs_dr_seed6 3
	V1=$VIP6 V2=2001:db8:10::101 R=2001:db8:10:: IP="ip -6" NFT=ip6 F6=" -6" FAMW=" IPv6"
	for i in 1 2 3; do rs_dr_setup6 "rs$i" "$V2"; done
else
	lvs_dr_seed 3
	V1=$VIP V2=10.10.0.101 R=10.10.0. IP=ip NFT=ip F6= FAMW=
	for i in 1 2 3; do nsx "rs$i" ip addr add "$V2/32" dev lo; done
fi
for i in 1 2 3; do
	http_start "rs$i" "rs$i" 80
	http_start "rs$i" "rs$i-443" 443
done
nsx director nft -f - <<EOF
table inet vsrtest {
	chain pre {
		type filter hook prerouting priority mangle;
		$NFT daddr { $V1, $V2 } tcp dport { 80, 443 } meta mark set 7
	}
}
EOF

# IPv6 run: the other family's mark 7 as well, with a real server that
# does not exist.
OTHER=
[ "$FAM" = 6 ] && OTHER="
virtual_server marked4 {
    fwmark = 7
    announce_address = { $VIP }
    scheduler = rr
    forward = dr
    real_server nobody { address = 10.10.0.99 }
}"
cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
virtual_server marked {
    fwmark = 7
    announce_address = { $V1, $V2 }
    scheduler = rr
    persistent = 60
    forward = dr
    real_server rs1 { address = ${R}11 }
    real_server rs2 { address = ${R}12 }
    real_server rs3 { address = ${R}13 }
}$OTHER
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"
vsradm -Ln >"$T_DIR/list"
assert_true "listed as ipvsadm lists it" grep -q "^FWM  7$FAMW rr persistent 60" "$T_DIR/list"
vsradm -Sn >"$T_DIR/save"
assert_true "saved as ipvsadm saves it" grep -q -- "^-A -f 7$F6 -s rr -p 60" "$T_DIR/save"
D=$(nsname director)
assert_eq 1 "$($IP -n "$D" rule show | grep -c 'fwmark 0x7 lookup 77')" \
	"the rule for mark 7 is there"
if [ "$FAM" = 6 ]; then
	assert_true "its table's route goes via the mark's link-local gateway" \
		sh -c "ip -n '$D' -6 route show table all | grep -q '^default via fe80::76:[0-9a-f]* dev vsr0'"
	assert_true "the second VIP is answered for by proxy NDP on eth0" \
		sh -c "ip -n '$D' -6 neigh show proxy | grep -q '^$V2 dev eth0'"
fi

round() {  # round: one request to each of the four (VIP, port) pairs
	for v in "$V1" "$V2"; do
		http_get client "$(url "$v" 80)" || echo ERR
		http_get client "$(url "$v" 443)" || echo ERR
	done
}
for r in 1 2 3; do round; done >"$T_DIR/a"
assert_eq 0 "$(count_of ERR "$T_DIR/a")" "every request was answered"
assert_eq 12 "$(wc -l <"$T_DIR/a")" "12 answers"
assert_eq 1 "$(sed 's/-443$//' "$T_DIR/a" | sort -u | wc -l)" \
	"persistence spans both ports of both VIPs: one real server"
assert_eq 6 "$(grep -c -- '-443$' "$T_DIR/a")" "port 443 answered by the 443 server"
if [ "$FAM" = 6 ]; then
	assert_true "the gateway was resolved to the MAC that names mark 7" \
		sh -c "ip -n '$D' -6 neigh show dev vsr0 | grep -q '^fe80::76:[0-9a-f]* lladdr 06:76:00:00:00:07'"
	vsradm -Ln --stats >"$T_DIR/stats"
	assert_eq 0 "$(awk '$2 ~ /^10\.10\.0\.99:/ { print $3 }' "$T_DIR/stats")" \
		"the IPv4 mark 7 service's real server took none of it"
fi

# Without persistence the mark service schedules each connection: rr.
vsradm -E -f 7$F6 -s rr
for r in 1 2 3; do round; done >"$T_DIR/b"
assert_eq 0 "$(count_of ERR "$T_DIR/b")" "every request was answered"
for i in 1 2 3; do
	assert_eq 4 "$(sed 's/-443$//' "$T_DIR/b" | grep -c "^rs$i$" || true)" \
		"rr without persistence: rs$i took 4 of the 12"
done

# vsradm: a second mark service, made and removed with its rule.
vsradm -A -f 8$F6 -s rr
if [ "$FAM" = 6 ]; then
	# As ipvsadm 1.31: a bracketed address needs its :port, a bare one not.
	vsradm -a -f 8 -6 -r "${R}11" -g
	RL="\[${R}11\]:0"
else
	vsradm -a -f 8 -r "${R}11" -g
	RL="${R}11:0"
fi
vsradm -Ln >"$T_DIR/list2"
assert_true "vsradm -A -f 8$F6 is listed FWM  8$FAMW rr" grep -q "^FWM  8$FAMW rr" "$T_DIR/list2"
assert_true "with its real server" grep -q -- "-> $RL" "$T_DIR/list2"
assert_eq 1 "$($IP -n "$D" rule show | grep -c 'fwmark 0x8 lookup')" "mark 8's rule made"
vsradm -D -f 8$F6
assert_eq 0 "$($IP -n "$D" rule show | grep -c 'fwmark 0x8 lookup' || true)" "and removed with it"
if [ "$FAM" = 4 ]; then
	# An IPv6 mark service on a director with nothing IPv6 yet (its TAP
	# without IPv6): vsradm -A -f 9 -6 readies the TAP for its route.
	vsradm -A -f 9 -6 -s rr
	assert_eq 1 "$(ip -n "$D" -6 rule show | grep -c 'fwmark 0x9 lookup 77')" \
		"vsradm -A -f 9 -6: its IPv6 rule made"
	assert_true "and its route via the mark's link-local gateway on the TAP" \
		sh -c "ip -n '$D' -6 route show table all | grep -q '^default via fe80::76:[0-9a-f]* dev vsr0'"
	assert_eq 1 "$(nsx director sysctl -n net.ipv6.conf.all.forwarding)" "IPv6 forwarding on"
	vsradm -D -f 9 -6
	assert_eq 0 "$(ip -n "$D" -6 rule show | grep -c 'fwmark 0x9' || true)" "-D -f 9 -6 removes it"
fi

# A reload adds an IPv6 mark service (IPv6 mark 9: no VIP, no real server
# yet) and the next one, back to the file of the start, takes it away.
log=$(vsrouted_log director)
pidf="$T_DIR/vsrouted-director.pid"
cp "$T_DIR/vsrouted.conf" "$T_DIR/vsrouted.conf.start"
printf 'virtual_server m9 {\n    fwmark = 9\n    family = inet6\n}\n' >>"$T_DIR/vsrouted.conf"
kill -HUP "$(cat "$pidf")"
wait_for "the reload" 10 grep -q "reloaded:" "$log"
assert_eq 1 "$(ip -n "$D" -6 rule show | grep -c 'fwmark 0x9 lookup 77')" \
	"a reload makes IPv6 mark 9's rule"
vsradm -Ln >"$T_DIR/list3"
assert_true "and lists it" grep -q '^FWM  9 IPv6 wlc' "$T_DIR/list3"
cp "$T_DIR/vsrouted.conf.start" "$T_DIR/vsrouted.conf"
kill -HUP "$(cat "$pidf")"
wait_for "the second reload" 10 sh -c '[ "$(grep -c "reloaded:" "$1")" -ge 2 ]' sh "$log"
assert_eq 0 "$(ip -n "$D" -6 rule show | grep -c 'fwmark 0x9' || true)" \
	"the next reload, without it, removes it"
vsrouted_stop director
assert_eq 0 "$(ip -n "$D" rule show | grep -c 'fwmark' || true)" "the stop removes every IPv4 mark rule"
assert_eq 0 "$(ip -n "$D" -6 rule show | grep -c 'fwmark' || true)" "and every IPv6 one"
