#!/usr/bin/env bash
# ops-reload-whole.sh - a configuration that cannot be applied whole is
# refused whole, the same way by vsrouted -t, by a start and by a reload:
# here an mh service whose table (mh_table_size = 3) cannot hold its four
# real servers (three and a sorry server), in a file that also changes a
# weight and adds a virtual address. The reload changes nothing at all:
# not the services, not the routes, not the proxy entries.
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl       vsrouted          nginx          nginx          nginx
#             web (rr), hash (mh, table 3)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
VIP2=10.10.0.101
VIP3=10.10.0.102
for i in 1 2 3; do ip -n "$(nsname "rs$i")" addr add "$VIP2/32" dev lo; done
hash_vs() {  # hash_vs VIP N [SORRY]: an mh service, table 3, N real servers
	echo "virtual_server hash_${3:-}${1##*.} {"
	echo "    address = $1"
	echo "    port = 80"
	echo "    scheduler = mh"
	echo "    mh_table_size = 3"
	for i in $(seq "$2"); do echo "    real_server rs$i { address = 10.10.0.$((10 + i)) }"; done
	[ -n "${3:-}" ] && echo "    sorry_server { address = 10.10.0.99 }"
	echo "}"
}
seed_conf "$T_DIR/a.conf" 3 rr
hash_vs "$VIP2" 2 >>"$T_DIR/a.conf"
# b: rs2's weight changed, a third VIP, and the mh service with three
# real servers and a sorry server: four for a table of three.
seed_conf "$T_DIR/b.conf" 3 rr
sed -i 's/address = 10.10.0.12 }/address = 10.10.0.12  weight = 5 }/' "$T_DIR/b.conf"
hash_vs "$VIP2" 3 x >>"$T_DIR/b.conf"
hash_vs "$VIP3" 1 >>"$T_DIR/b.conf"
mhline=$(grep -n 'mh_table_size' "$T_DIR/b.conf" | head -n 1 | cut -d: -f1)
expect="$T_DIR/vsrouted.conf:$mhline: virtual_server 'hash_x101': scheduler mh can hold 3 real servers (sorry server included) with mh_table_size 3, not 4"

# ---- -t and a start refuse it
conf=$T_DIR/vsrouted.conf
cp "$T_DIR/b.conf" "$conf"
rc=0
nsx director "$(vsrouted_bin)" -t -f "$conf" >"$T_DIR/t.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "vsrouted -t refuses it"
assert_true "with the file and the line of mh_table_size" grep -qF "$expect" "$T_DIR/t.out"
ns_snapshot director "$T_DIR/before-start"
rc=0
# (bounded: a daemon that does start would not come back by itself)
timeout -k 5 10 ip netns exec "$(nsname director)" "$(vsrouted_bin)" -n -f "$conf" \
	-s "$T_DIR/refused.sock" >"$T_DIR/start.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "a start refuses it"
assert_true "saying the same" grep -qF "$expect" "$T_DIR/start.out"
ns_snapshot director "$T_DIR/after-start"
assert_true "touching nothing" diff -u "$T_DIR/before-start" "$T_DIR/after-start"

# ---- a reload refuses it whole, and tells systemd (STATUS=)
cp "$T_DIR/a.conf" "$conf"
bg_start notify director python3 -u "$VSR_NETNS_DIR/notifyrecv.py" "@vsrtest-notify-$T_PREFIX"
wait_for "the notification receiver" 10 grep -q '^ready' "$T_DIR/notify.log"
NOTIFY_SOCKET="@vsrtest-notify-$T_PREFIX" vsrouted_start director "$conf"
pid=$(cat "$T_DIR/vsrouted-director.pid")
log=$(vsrouted_log director)
assert_eq rs1 "$(http_get client "http://$VIP2/")" "the mh service answers"
vsradm -Ln >"$T_DIR/list-before"
ns_snapshot director "$T_DIR/before"
cp "$T_DIR/b.conf" "$conf"
kill -HUP "$pid"
wait_for "the reload to be refused" 10 grep -q 'the running configuration stays' "$log"
assert_true "the reload says why, with the file and line" grep -qF "$expect" "$log"
assert_false "and does not say it reloaded" grep -q '^reloaded' "$log"
wait_for "READY=1 after the reload" 10 sh -c "[ \$(grep -c 'READY=1\$' '$T_DIR/notify.log') -ge 2 ]"
assert_true "systemd is told: STATUS=reload of FILE refused ... serving the previous configuration" \
	grep -qF "STATUS=reload of $conf refused: the file is not valid (see the log); serving the previous configuration" "$T_DIR/notify.log"
vsradm -Ln >"$T_DIR/list-after"
assert_true "the services are exactly as before (rs2's weight, the mh service's two real servers)" \
	diff -u "$T_DIR/list-before" "$T_DIR/list-after"
ns_snapshot director "$T_DIR/after"
assert_true "no route or proxy entry for the third VIP, nothing else changed on the host" \
	diff -u "$T_DIR/before" "$T_DIR/after"
http_get_n client "http://$VIP/" 3 >"$T_DIR/answers"
assert_eq "rs1 rs2 rs3" "$(sort "$T_DIR/answers" | tr '\n' ' ' | sed 's/ $//')" "the running services still serve"

# ---- the file fixed: now it goes in whole
sed -i '/sorry_server { address = 10.10.0.99 }/d' "$conf"
kill -HUP "$pid"
wait_for "the reload" 10 grep -q '^reloaded' "$log"
wait_for "its STATUS=" 10 grep -qF "STATUS=reloaded $conf: 3 virtual services" "$T_DIR/notify.log"
pass "systemd is told it reloaded (STATUS=reloaded FILE: 3 virtual services)"
assert_eq 5 "$(vsradm -Ln | awk '$2 == "10.10.0.12:80" && !seen++ { print $4 }')" "rs2's new weight"
assert_eq 3 "$(vsradm -Ln | awk -v v="$VIP2:80" '$2 == v { s = 1; next } /^[TU]/ { s = 0 } s && /->/' | grep -c .)" \
	"the mh service with its three real servers"
assert_true "the third VIP is routed" sh -c "ip -n '$(nsname director)' route show table all '$VIP3/32' | grep -q vsr0"
vsrouted_stop director
