#!/usr/bin/env bash
# mixed6.sh - an IPv4 and an IPv6 service side by side on one director:
# the IPv6 one with a dr, a nat and a fullnat real server, rr over them;
# the IPv4 one by nat to the same hosts; each family's clients, local
# addresses and echo replies where they belong
#
#      LAN lan0 10.10.0.0/24, 2001:db8:10::/64     LAN lan1 10.20.0.0/24, 2001:db8:20::/64
#  client ::1 --- ::2 director ::1 ----------------- rs1 ::11 dr (VIP6 on lo)
#                     vsrouted (rr)                 rs2 ::12 nat
#                     local_address ::250, .250     rs3 ::13 fullnat
#                                                   all: nginx :80, gw the director
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3

lvs_nat_seed6 3
rs_dr_setup6 rs1 "$VIP6"
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
metrics = 127.0.0.1:9410
metrics_compat = node_ipvs
local_address = { 10.20.0.250, 2001:db8:20::250 }
virtual_server web6 {
    address = $VIP6
    port = 80
    scheduler = rr
    real_server rs1 { address = 2001:db8:20::11  forward = dr }
    real_server rs2 { address = 2001:db8:20::12  forward = nat }
    real_server rs3 { address = 2001:db8:20::13  forward = fullnat }
}
virtual_server web4 {
    address = $VIP
    port = 80
    scheduler = rr
    forward = nat
    real_server rs2 { address = 10.20.0.12 }
    real_server rs3 { address = 10.20.0.13 }
}
EOF2
ns_snapshot director "$T_DIR/before"
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

http_get_n client "$(url "$VIP6")" 30 >"$T_DIR/answers6"
assert_eq 0 "$(count_of ERR "$T_DIR/answers6")" "IPv6: every request is answered"
for i in 1 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/answers6")" "IPv6: rs$i gets its third"
done
http_get_n client "http://$VIP/" 20 >"$T_DIR/answers4"
assert_eq 0 "$(count_of ERR "$T_DIR/answers4")" "IPv4: every request is answered"
for i in 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/answers4")" "IPv4: rs$i gets its half"
done
# Who the real servers saw: the client for dr and nat, the pool for fullnat.
assert_true "rs3 (fullnat) saw the IPv6 local address" \
	grep -q '^2001:db8:20::250 ' "$T_DIR/nginx-rs3/access.log"
assert_true "rs2 (nat) saw the client's IPv6 address" \
	grep -q '^2001:db8:10::1 ' "$T_DIR/nginx-rs2/access.log"
assert_true "rs2 (nat) saw the client's IPv4 address too" \
	grep -q '^10.10.0.1 ' "$T_DIR/nginx-rs2/access.log"
assert_true "rs1 (dr) saw the client's IPv6 address" \
	grep -q '^2001:db8:10::1 ' "$T_DIR/nginx-rs1/access.log"

assert_eq 5 "$(nsx client python3 "$VSR_NETNS_DIR/icmpecho.py" "$VIP6" 5)" \
	"5 ICMPv6 echo requests to the IPv6 VIP, 5 replies"
assert_eq 5 "$(nsx client python3 "$VSR_NETNS_DIR/icmpecho.py" "$VIP" 5)" \
	"5 ICMP echo requests to the IPv4 VIP, 5 replies"

# The metrics, node_exporter's family and the status page: IPv6 addresses
# as inet_ntop writes them (the port a label of its own), "family" ipv6.
nsx director curl -s -m 5 http://127.0.0.1:9410/metrics >"$T_DIR/metrics"
assert_eq 1 "$(grep -c '^vsrouted_real_server_healthy{vs="web6",proto="TCP",vip="2001:db8:10::100",port="80",rs="rs3",rip="2001:db8:20::13",rport="80",forward="fullnat"} 1$' "$T_DIR/metrics" || true)" \
	"metrics: rs3 of web6 labelled with its IPv6 addresses"
assert_eq 1 "$(grep -c '^node_ipvs_backend_weight{local_address="2001:db8:10::100",local_mark="",local_port="80",proto="TCP",remote_address="2001:db8:20::12",remote_port="80"} 1$' "$T_DIR/metrics" || true)" \
	"node_ipvs: rs2 of web6 as node_exporter labels an IPv6 backend"
nsx director curl -s -m 5 http://127.0.0.1:9410/status.json >"$T_DIR/status.json"
assert_eq "ipv6 2001:db8:10::100 ipv6 2001:db8:20::11; ipv4 10.10.0.100 ipv4 10.20.0.12" \
	"$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
svcs = d["services"] if isinstance(d, dict) else d
print("; ".join(" ".join((s["family"], s["address"], s["real_servers"][0]["family"],
    s["real_servers"][0]["address"])) for s in svcs))' "$T_DIR/status.json" 2>&1)" \
	"status.json: each service and real server with its family and address"

# A reload announces each VIP again, once (one announce interface), and a
# master's fullnat local addresses on the links of fullnat real servers
# (role.c): unsolicited advertisements for VIP6 and 2001:db8:20::250 (the
# only fullnat real server is IPv6), a gratuitous ARP for VIP.
# The start's own burst first (role.h: three rounds, at once, 0.5 s and
# 1.5 s after the start, one gratuitous ARP for VIP in each): a run that
# gets here within 1.5 s of the start would count its last round too.
count_wait 3 stat_now director garp_sent >/dev/null
vsrouted_stats director >/dev/null
na0=$(stat_get na_sent) garp0=$(stat_get garp_sent)
echo "# at the start: $na0 advertisements, $garp0 gratuitous ARPs"
kill -HUP "$(cat "$T_DIR/vsrouted-director.pid")"
wait_for "the reload" 20 grep -q 'reloaded:' "$(vsrouted_log)"
vsrouted_stats director >/dev/null
assert_eq $((na0 + 2)) "$(stat_get na_sent)" "the reload sent one advertisement for VIP6 and one for the IPv6 local address"
assert_eq $((garp0 + 1)) "$(stat_get garp_sent)" "and one gratuitous ARP for VIP"
http_get_n client "$(url "$VIP6")" 3 >"$T_DIR/answers6"
assert_eq 0 "$(count_of ERR "$T_DIR/answers6")" "IPv6: answered after the reload"
assert_ge 10 "$(stat_get icmp_echo_replies)" "both counted as icmp_echo_replies"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed"
assert_eq 0 "$(stat_get drop_no_conn_out)" "every reply belonged to a connection"
vsrouted_stop director
ns_snapshot director "$T_DIR/after"
if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
	pass "every route, rule, proxy entry and sysctl of both families gone after SIGTERM"
else
	cat "$T_DIR/diff"
	fail "director state differs from before start"
fi
