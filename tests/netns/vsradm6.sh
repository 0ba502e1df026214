#!/usr/bin/env bash
# vsradm6.sh - vsradm over IPv6, end to end: the first IPv6 service made at
# run time on a director started with an IPv4 one (its VIP routed and
# answered for by proxy NDP at once), its real servers added by -a, rr
# exact, listings (-Ln, -c, --stats, --rate) and -S in ipvsadm's IPv6
# form, -C then -R from the save carrying traffic again, -E with an IPv6
# netmask, an IPv6 firewall-mark service (-f 5 -6) listed, saved and
# restored, ipvsadm's refusals for the other family, and a clean stop
# after all of it
#
#                 LAN lan0 10.10.0.0/24, 2001:db8:10::/64
#   +--------------+--------------+--------------+--------------+
#   | ::1          | ::2          | ::11         | ::12         | ::13
# client       director         rs1            rs2            rs3
#  curl        vsrouted (dr)    nginx          nginx          nginx
#              vsradm -A ...    VIP and VIP6 on lo
#
# dr: the real servers vsradm adds at run time need nothing made at start
# (nat real servers come and go with their policy rules).
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
[ -x "${VSRADM:-$VSR_TOP/src/vsradm}" ] || skip "vsradm is not built"

lvs_dr_seed6 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

# IPv4 only at start: the TAP keeps IPv6 off until the first IPv6 VIP.
cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
conn_max = 4096
virtual_server web {
    address = $VIP
    port = 80
    scheduler = rr
    forward = dr
    real_server rs1 { address = 10.10.0.11 }
}
EOF2
ns_snapshot director "$T_DIR/before"
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
D=$(nsname director)
S="[$VIP6]:80"
rs6() { echo "[2001:db8:10::1$1]:80"; }

# ---- the service and its real servers, made by vsradm
vsradm -A -t "$S" -s rr
for i in 1 2 3; do vsradm -a -t "$S" -r "$(rs6 "$i")" -g; done
assert_true "the new VIP6 is answered for by proxy NDP on eth0" \
	sh -c "ip -n '$D' -6 neigh show proxy | grep -q '^$VIP6 dev eth0'"
assert_true "and routed into the TAP" \
	sh -c "ip -n '$D' -6 route show | grep -q '^$VIP6 dev vsr0'"
assert_eq "TCP  $S rr" "$(vsradm -Ln | grep -F "$S" | sed 's/ *$//')" "-Ln lists the IPv6 service"
for i in 1 2 3; do
	assert_eq "Route 1" "$(vsradm -Ln | awk -v r="$(rs6 "$i")" '$2 == r { print $3, $4 }')" \
		"-Ln lists rs$i as [2001:db8:10::1$i]:80, Route, weight 1"
done

http_get_n client "$(url "$VIP6")" 30 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "30 requests to [VIP6]:80 answered"
for i in 1 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/answers")" "rs$i served 10 (rr exact)"
done
assert_true "the real servers saw the client's IPv6 address" \
	grep -q '^2001:db8:10::1 ' "$T_DIR/nginx-rs1/access.log"

# ---- listings
vsradm -Lnc >"$T_DIR/conns"
assert_eq 30 "$(awk -v s="$S" '$4 ~ /^\[2001:db8:10::1\]:[0-9]+$/ && $5 == s &&
	$6 ~ /^\[2001:db8:10::1[123]\]:80$/' "$T_DIR/conns" | grep -c . || true)" \
	"-c lists the 30 connections with bracketed client, VIP6 and real server"
vsradm -Ln --stats --exact >"$T_DIR/stats"
for i in 1 2 3; do
	assert_eq 10 "$(awk -v r="$(rs6 "$i")" '$2 == r { print $3 }' "$T_DIR/stats")" \
		"--stats --exact: rs$i's Conns is 10"
done
assert_eq 30 "$(awk -v s="$S" '$2 == s { print $3 }' "$T_DIR/stats")" "--stats: the service's Conns is 30"
assert_eq 3 "$(vsradm -Ln --rate | grep -c '^  -> \[2001:db8:10::1[123]\]:80 ' || true)" \
	"--rate lists the three IPv6 real servers"
# An IPv6 firewall-mark service beside it (ipvsadm -f 5 -6), in the save too.
vsradm -A -f 5 -6 -s rr -p 30
vsradm -a -f 5 -6 -r 2001:db8:10::11 -g
assert_eq "FWM  5 IPv6 rr persistent 30" "$(vsradm -Ln | grep '^FWM' | sed 's/ *$//')" \
	"-Ln lists the IPv6 mark service as ipvsadm does"
assert_true "with its IPv6 rule" sh -c "ip -n '$D' -6 rule show | grep -q 'fwmark 0x5 lookup 77'"
vsradm -S -n >"$T_DIR/save"
assert_eq "-A -f 5 -6 -s rr -p 30|-a -f 5 -6 -r [2001:db8:10::11]:0 -g -w 1" \
	"$(grep -F -- "-f 5 -6" "$T_DIR/save" | paste -sd '|')" "-S saves it as ipvsadm does"
assert_eq "-A -t $S -s rr" "$(grep -F -- "-A -t $S" "$T_DIR/save")" "-S saves the IPv6 service"
assert_eq "-a -t $S -r $(rs6 2) -g -w 1" "$(grep -F -- "-r $(rs6 2)" "$T_DIR/save")" \
	"-S saves an IPv6 real server as ipvsadm does"

# ---- -C, then -R from the save: the same table, serving again
vsradm -C
assert_eq 0 "$(vsradm -Ln | grep -c 'TCP\|FWM' || true)" "-C removes every service"
assert_false "the mark service's rule with it" sh -c "ip -n '$D' -6 rule show | grep -q fwmark"
assert_false "the VIP6's proxy entry goes with its last service" \
	sh -c "ip -n '$D' -6 neigh show proxy | grep -q '^$VIP6 '"
vsradm -R <"$T_DIR/save"
assert_true "-R puts the table back as it was saved" cmp "$T_DIR/save" <(vsradm -S -n)
http_get_n client "$(url "$VIP6")" 30 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "30 requests answered after -R"
for i in 1 2 3; do
	assert_eq 10 "$(count_of "rs$i" "$T_DIR/answers")" "rs$i served 10 after -R"
done
assert_eq rs1 "$(http_get client "http://$VIP/")" "the IPv4 service (restored by -R too) answers"

# ---- persistence with an IPv6 netmask (a prefix length, as ipvsadm -M)
vsradm -E -t "$S" -s rr -p 60 -M 64
assert_eq "-A -t $S -s rr -p 60 -M 64" "$(vsradm -S -n | grep -F -- "-A -t $S")" \
	"-E -p 60 -M 64 saved as ipvsadm saves it"
http_get_n client "$(url "$VIP6")" 9 >"$T_DIR/answers"
assert_eq 1 "$(sort -u "$T_DIR/answers" | grep -c . || true)" \
	"persistent: the client's 9 requests all go to one real server"

# ---- ipvsadm's refusals for the other family
err_is() {  # err_is STATUS MESSAGE ARGS...
	local st=$1 msg=$2 rc=0
	shift 2
	vsradm "$@" 2>"$T_DIR/err" >/dev/null || rc=$?
	assert_eq "$st $msg" "$rc $(head -n 1 "$T_DIR/err")" "vsradm $*"
}
err_is 2 "Different address family is allowed only for tunneling servers" \
	-a -t "$S" -r 10.10.0.12:80 -g
err_is 255 "Operation not supported with specified address family" \
	-a -t "$S" -r 10.10.0.12:80 -i
err_is 255 "Destination already exists" -a -t "$S" -r "$(rs6 1)" -g
err_is 255 "No such destination" -d -t "$S" -r "[2001:db8:10::99]:80"
err_is 1 "No such service" -L -n -t "[$VIP6]:81"
err_is 2 "Different address family is allowed only for tunneling servers" \
	-a -f 5 -6 -r 10.10.0.12 -g
err_is 255 "Service not defined" -a -f 5 -r 10.10.0.12 -g

vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed"
vsrouted_stop director
ns_snapshot director "$T_DIR/after"
if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
	pass "routes, rules, proxy entries and sysctls of both families gone after SIGTERM"
else
	cat "$T_DIR/diff"
	fail "director state differs from before start"
fi
