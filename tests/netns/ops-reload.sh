#!/usr/bin/env bash
# ops-reload.sh - SIGHUP reloads without loss: a SIGHUP every 200 ms, 50
# times, alternating two configs (rs3 in and out, weights changed) while a
# curl loop and a slow download run against the VIP; a broken config
# changes nothing; vsradm's runtime changes give way to the file
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl loop  vsrouted (wrr)    nginx          nginx          nginx
#  slow GET   <- SIGHUP x 50    VIP on lo      VIP on lo      VIP on lo
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 3
sum=$(blob_make 2)
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
conf=$T_DIR/vsrouted.conf
seed_conf "$T_DIR/a.conf" 3 wrr
seed_conf "$T_DIR/b.conf" 2 wrr
sed -i 's/address = 10.10.0.12 }/address = 10.10.0.12  weight = 3 }/' "$T_DIR/b.conf"
cp "$T_DIR/a.conf" "$conf"
vsrouted_start director "$conf"
pid=$(cat "$T_DIR/vsrouted-director.pid")

# ---- the storm
bg_start load client sh -c "while [ ! -e '$T_DIR/stop' ]; do
	curl -s --connect-timeout 2 -m 5 http://$VIP/ || echo ERR; done"
load=$BG_PID
bg_start slow client sh -c "curl -s --limit-rate 150k -m 60 http://$VIP/blob | sha256sum"
slow=$BG_PID
reloads() { grep -c 'reloaded:' "$(vsrouted_log)" || true; }
# Each file put in place whole (a rename), each SIGHUP sent once the last
# one's reload is logged: a daemon kept off the CPU for 200 ms would
# otherwise read a file cp is still writing (refused), or find two
# SIGHUPs merged into one pending signal, and do 49 by chance.
for n in $(seq 50); do
	if [ $((n % 2)) = 1 ]; then cp "$T_DIR/b.conf" "$conf.new"; else cp "$T_DIR/a.conf" "$conf.new"; fi
	mv "$conf.new" "$conf"
	kill -HUP "$pid"
	sleep 0.2
	wait_for "reload $n" 20 _t_count_ge "$n" reloads || break
done
touch "$T_DIR/stop"
bg_stop "$load" TERM 20 || true
wait_for "the slow download" 60 _t_not_running "$slow" || true
answers=$T_DIR/load.log
assert_eq 50 "$(reloads)" "50 reloads done"
assert_gt 100 "$(grep -c . "$answers")" "requests during the storm"
assert_eq 0 "$(count_of ERR "$answers")" "no request lost during the storm"
assert_eq "$sum  -" "$(cat "$T_DIR/slow.log")" "the slow download across 50 reloads is whole"
echo "reload times: $(sed -n 's/.*reloaded: .* in \([0-9]*\) us/\1/p' "$(vsrouted_log)" | sort -n | awk '{ a[NR] = $1 } END { print "min " a[1] " us, median " a[int(NR / 2) + 1] " us, max " a[NR] " us" }')"

# ---- a broken config changes nothing
vsradm -Ln >"$T_DIR/before"
printf 'tap = vsr0\nannounce = { eth0 }\nvirtual_server web { address = nonsense }\n' >"$conf"
kill -HUP "$pid"
wait_for "the refusal in the log" 20 grep -q 'is not valid; the running configuration stays' "$(vsrouted_log)"
vsradm -Ln >"$T_DIR/after"
assert_true "a broken config changes nothing" cmp "$T_DIR/before" "$T_DIR/after"
http_get_n client "http://$VIP/" 6 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "traffic flows after the refused reload"

# ---- runtime changes last until the next reload
cp "$T_DIR/a.conf" "$conf"
vsradm -d -t "$VIP:80" -r 10.10.0.13
vsradm -A -u "$VIP:53" -s rr
n=$(grep -c 'reloaded:' "$(vsrouted_log)")
kill -HUP "$pid"
wait_for "the reload" 20 sh -c "[ \$(grep -c 'reloaded:' '$(vsrouted_log)') -gt $n ]"
vsradm -S -n >"$T_DIR/save"
assert_eq 3 "$(grep -c '^-a ' "$T_DIR/save")" "the reload puts rs3 back"
assert_eq 0 "$(grep -c ' -u ' "$T_DIR/save")" "the reload removes the runtime UDP service"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
