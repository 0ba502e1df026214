#!/usr/bin/env bash
# ops-user.sh - user = nobody: after set-up the daemon runs as nobody with
# exactly CAP_NET_ADMIN and CAP_NET_RAW, serves, reloads (a real server and
# a VIP added), and still undoes every host change at exit
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl     vsrouted (rr)     nginx          nginx          nginx
#           user = nobody     VIP, VIP2 on lo VIP on lo     VIP on lo (added by reload)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
getent passwd nobody >/dev/null || skip "no user nobody"
uid=$(id -u nobody)
gid=$(id -g nobody)

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
VIP2=10.10.0.101
rs_dr_setup rs1 "$VIP2"
conf=$T_DIR/vsrouted.conf
seed_conf "$T_DIR/a.conf" 2 rr "user = nobody" "conn_max = 4096"
seed_conf "$T_DIR/b.conf" 3 rr "user = nobody" "conn_max = 4096"
cat >>"$T_DIR/b.conf" <<EOC
virtual_server web2 {
    address = $VIP2
    port = 80
    scheduler = rr
    real_server rs1 { address = 10.10.0.11 }
}
EOC
cp "$T_DIR/a.conf" "$conf"

# ---- a user that does not exist: the start refuses it, and so does -t
sed 's/user = nobody/user = vsr-no-such-user/' "$T_DIR/a.conf" >"$T_DIR/nouser.conf"
assert_false "-t refuses it as the start does" "$(vsrouted_bin)" -t -f "$T_DIR/nouser.conf"
rc=0
nsx director "$(vsrouted_bin)" -n -f "$T_DIR/nouser.conf" -s "$T_DIR/nouser.sock" \
	2>"$T_DIR/nouser.err" || rc=$?
assert_eq 1 "$rc" "start with an unknown user fails"
assert_true "and says why" grep -q "user vsr-no-such-user does not exist" "$T_DIR/nouser.err"
assert_false "before touching the host (no vsr0)" ip -n "$(nsname director)" link show vsr0

# Values the daemon changes (to 1 and 0) and must put back as nobody.
ns_sysctl director net.ipv4.ip_forward=0 net.ipv4.neigh.eth0.proxy_delay=40
delay=$(nsx director sysctl -n net.ipv4.neigh.eth0.proxy_delay)
ns_snapshot director "$T_DIR/before"
vsrouted_start director "$conf"
pid=$(cat "$T_DIR/vsrouted-director.pid")
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^[ \t]+/, ""); print; exit }' "/proc/$pid/status"; }
wait_for "the drop" 20 sh -c "grep -q '^Uid:[[:space:]]*$uid[[:space:]]' /proc/$pid/status"
assert_eq "$uid $uid $uid $uid" "$(field Uid)" "real, effective, saved and fs uid are nobody's"
assert_eq "$gid $gid $gid $gid" "$(field Gid)" "and the gids its group"
assert_eq "$gid" "$(field Groups | tr -d ' ')" "its group is the only supplementary one"
assert_eq 0000000000003000 "$(field CapEff)" "CapEff is CAP_NET_ADMIN|CAP_NET_RAW"
assert_eq 0000000000003000 "$(field CapPrm)" "CapPrm is CAP_NET_ADMIN|CAP_NET_RAW"
assert_eq 0000000000000000 "$(field CapInh)" "CapInh is empty"
assert_eq 0000000000000000 "$(field CapAmb)" "CapAmb is empty"
assert_true "the log says so" grep -q "running as nobody .* with CAP_NET_ADMIN and CAP_NET_RAW only" \
	"$(vsrouted_log)"

http_get_n client "http://$VIP/" 4 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "4 requests answered as nobody"
assert_eq 2 "$(count_of rs1 "$T_DIR/answers")" "rs1 serves half"
assert_eq 2 "$(count_of rs2 "$T_DIR/answers")" "rs2 serves half"
assert_eq 3 "$(vsradm -Ln | grep -c -- '->')" "vsradm reaches it (2 real servers)"

# ---- reload: a third real server and a new VIP need netlink only
cp "$T_DIR/b.conf" "$conf"
kill -HUP "$pid"
wait_for "the reload" 20 grep -q 'reloaded:' "$(vsrouted_log)"
http_get_n client "http://$VIP/" 6 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "6 requests answered after the reload"
assert_eq 2 "$(count_of rs3 "$T_DIR/answers")" "rs3, added by the reload, serves its third"
assert_true "$VIP2 routed into the TAP" \
	sh -c "ip -n $(nsname director) route show $VIP2/32 | grep -q vsr0"
assert_eq rs1 "$(http_get client "http://$VIP2/")" "the VIP added by the reload answers"
assert_false "no error in the log" grep -qiE "permission|not permitted|denied" "$(vsrouted_log)"

# ---- exit: routes, proxy entries and sysctls undone with CAP_NET_ADMIN alone
vsrouted_stop director
assert_eq 0 "$(nsx director sysctl -n net.ipv4.ip_forward)" "ip_forward back to 0 (written as nobody)"
assert_eq "$delay" "$(nsx director sysctl -n net.ipv4.neigh.eth0.proxy_delay)" \
	"proxy_delay back to its old value (written as nobody)"
ns_snapshot director "$T_DIR/after"
if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
	pass "director state identical to before start"
else
	cat "$T_DIR/diff"
	fail "director state differs from before start"
fi
assert_true "the socket left in a root-owned directory is said" \
	grep -q "control socket .* is left behind" "$(vsrouted_log)"
