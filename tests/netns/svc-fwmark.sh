#!/usr/bin/env bash
# svc-fwmark.sh - a firewall-mark service (fwmark = 7, ipvsadm -f 7): an
# nftables rule on the director marks tcp 80 and 443 of two VIPs with 7;
# the persistent mark service sends one client's requests to all four
# (VIP, port) pairs to one real server; without persistence it spreads them
# rr; vsradm -A/-a/-D -f make and remove a second mark service, its policy
# rule and listing ("FWM  8 rr") with it
#
#                         LAN lan0 (bridge)
#   client 10.10.0.1 -- director 10.10.0.2 -- rs1 .11, rs2 .12, rs3 .13
#                       nft: mark 7              nginx 80 and 443
#                       vsrouted (fwmark 7)      VIP, VIP2 on lo
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd nft

VIP2=10.10.0.101
lvs_dr_seed 3
for i in 1 2 3; do
	nsx "rs$i" ip addr add "$VIP2/32" dev lo
	http_start "rs$i" "rs$i" 80
	http_start "rs$i" "rs$i-443" 443
done
nsx director nft -f - <<EOF
table ip vsrtest {
	chain pre {
		type filter hook prerouting priority mangle;
		ip daddr { $VIP, $VIP2 } tcp dport { 80, 443 } meta mark set 7
	}
}
EOF

cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
virtual_server marked {
    fwmark = 7
    announce_address = { $VIP, $VIP2 }
    scheduler = rr
    persistent = 60
    forward = dr
    real_server rs1 { address = 10.10.0.11 }
    real_server rs2 { address = 10.10.0.12 }
    real_server rs3 { address = 10.10.0.13 }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"
vsradm -Ln >"$T_DIR/list"
assert_true "listed as ipvsadm lists it" grep -q "^FWM  7 rr persistent 60" "$T_DIR/list"
assert_eq 1 "$(nsx director ip rule show | grep -c 'fwmark 0x7 lookup 7700')" \
	"the rule for mark 7 is there"

round() {  # round: one request to each of the four (VIP, port) pairs
	for v in "$VIP" "$VIP2"; do
		http_get client "http://$v:80/" || echo ERR
		http_get client "http://$v:443/" || echo ERR
	done
}
for r in 1 2 3; do round; done >"$T_DIR/a"
assert_eq 0 "$(count_of ERR "$T_DIR/a")" "every request was answered"
assert_eq 12 "$(wc -l <"$T_DIR/a")" "12 answers"
assert_eq 1 "$(sed 's/-443$//' "$T_DIR/a" | sort -u | wc -l)" \
	"persistence spans both ports of both VIPs: one real server"
assert_eq 6 "$(grep -c -- '-443$' "$T_DIR/a")" "port 443 answered by the 443 server"

# Without persistence the mark service schedules each connection: rr.
vsradm -E -f 7 -s rr
for r in 1 2 3; do round; done >"$T_DIR/b"
assert_eq 0 "$(count_of ERR "$T_DIR/b")" "every request was answered"
for i in 1 2 3; do
	assert_eq 4 "$(sed 's/-443$//' "$T_DIR/b" | grep -c "^rs$i$" || true)" \
		"rr without persistence: rs$i took 4 of the 12"
done

# vsradm: a second mark service, made and removed with its rule.
vsradm -A -f 8 -s rr
vsradm -a -f 8 -r 10.10.0.11 -g
vsradm -Ln >"$T_DIR/list2"
assert_true "vsradm -A -f 8 is listed FWM  8 rr" grep -q "^FWM  8 rr" "$T_DIR/list2"
assert_true "with its real server" grep -q -- "-> 10.10.0.11:0" "$T_DIR/list2"
assert_eq 1 "$(nsx director ip rule show | grep -c 'fwmark 0x8 lookup')" "mark 8's rule made"
vsradm -D -f 8
assert_eq 0 "$(nsx director ip rule show | grep -c 'fwmark 0x8 lookup')" "and removed with it"
vsrouted_stop director
assert_eq 0 "$(nsx director ip rule show | grep -c 'fwmark')" "the stop removes every mark rule"
