#!/usr/bin/env bash
# ops-conngrow.sh - conn_max grows by reload (issue 18 item 4): a table
# started at conn_max = 5 is full with 5 keep-alive connections; a reload
# to 100,000 grows it (said in the log, no restart) and 200 more
# connections are made, past the old size, while the 5 keep flowing; a
# reload down to 100, below the 205 live, makes no new flow but drops none
# of them (they are all served again).
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   |
# client          director        rs1
# keep-alive      vsrouted        nginx
# connections     <- SIGHUP       VIP on lo
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd curl python3

MORE=200
lvs_dr_seed 1
http_start rs1 rs1
conf=$T_DIR/vsrouted.conf
seed_conf "$conf" 1 rr "conn_max = 5"
vsrouted_start director "$conf"
log=$(vsrouted_log)
pid=$(cat "$T_DIR/vsrouted-director.pid")

# reload PATTERN: SIGHUP, then wait for PATTERN in the log after this point
reload() {
	local off
	off=$(stat -c %s "$log")
	kill -HUP "$pid"
	wait_for "the reload: $1" 15 sh -c "tail -c +$((off + 1)) '$log' | grep -q -- '$1'"
}
live() { vsradm -Lnc | grep -c ESTABLISHED || true; }
new_flow() { nsx client curl -s --connect-timeout 2 -m 3 "http://$VIP/" >/dev/null; }

go=$T_DIR/go
bg_start hold client python3 -u "$VSR_NETNS_DIR/ops-conngrow.py" "$VIP" 80 5 "$MORE" "$go"
hold=$BG_PID
wait_for "5 connections held" 30 grep -q '^held' "$T_DIR/hold.log"
assert_eq "held 5" "$(grep '^held' "$T_DIR/hold.log")" "5 keep-alive connections fill conn_max = 5"
assert_false "a 6th finds no room" new_flow

seed_conf "$conf" 1 rr "conn_max = 100000"
reload 'the connection table grew to 100000 entries (5 live)'
vsrouted_stats >/dev/null
assert_eq 100000 "$(stat_get conn_max)" "conn_max 100000 after the reload, no restart"
assert_eq "$pid" "$(cat "$T_DIR/vsrouted-director.pid")" "the same daemon"

touch "$go"
wait_for "the second round" 90 grep -q '^again2' "$T_DIR/hold.log"
assert_eq "more $MORE" "$(grep '^more' "$T_DIR/hold.log")" "$MORE more connections past the old size"
assert_eq "again 5" "$(grep '^again ' "$T_DIR/hold.log")" "the 5 held across the growth are served again"
assert_eq "again2 $MORE" "$(grep '^again2' "$T_DIR/hold.log")" "and the $MORE new ones, again"
assert_eq $((5 + MORE)) "$(live)" "$((5 + MORE)) established flows in the table"

# Lowered below what is live: nothing dropped, nothing new.
seed_conf "$conf" 1 rr "conn_max = 100"
reload "conn_max 100000 -> 100 ($((5 + MORE)) entries live)"
assert_false "below the live count, a new flow finds no room" new_flow
assert_eq $((5 + MORE)) "$(live)" "no live flow was dropped"
rm -f "$go"
wait_for "the third round" 30 grep -q '^third' "$T_DIR/hold.log"
assert_eq "third 5" "$(grep '^third' "$T_DIR/hold.log")" "the held ones are served under the lowered conn_max"
wait_for "the client to end" 30 _t_not_running "$hold"
vsrouted_alive director || fail "vsrouted died"
vsrouted_stop director
