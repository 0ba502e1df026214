#!/usr/bin/env bash
# ops-reload-keys.sh - the global keys a reload changes in place (issue 18
# item 4): conn_max lowered under live downloads (they finish whole, new
# flows wait, counted as drop_table_full) and raised again, above the table
# of the start (it grows: ops-conngrow.sh); metrics moved to another port, and kept when the
# new one is taken; control_socket moved, and kept when the new path cannot
# be bound; control_group and control_group_read change the socket's group
# and mode; announce_table moves the announce routes; user cannot change
# and the reload says so. The daemon is started without -s, so that the
# file's control_socket is the one in force.
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1            rs2
#  downloads   vsrouted (rr)    nginx          nginx
#              <- SIGHUP        VIP on lo      VIP on lo
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd curl python3

lvs_dr_seed 2
sum=$(blob_make 1)
for i in 1 2; do T_HTTP_LIMIT_RATE=128k http_start "rs$i" "rs$i"; done
conf=$T_DIR/vsrouted.conf
sock=$(vsrouted_sock director)
# write_conf CONN_MAX METRICS_PORT SOCKET TABLE [LINE...]
write_conf() {
	local cm=$1 mp=$2 so=$3 tb=$4
	shift 4
	seed_conf "$conf" 2 rr "conn_max = $cm" "metrics = 127.0.0.1:$mp" \
		"control_socket = \"$so\"" "announce_table = $tb" "$@"
}
write_conf 64 9410 "$sock" 100

# vsrouted_start passes -s, which wins over the file: started by hand here.
# shellcheck disable=SC2086 # VSR_WRAP is a command with its arguments
bg_start vsrouted-director director ${VSR_WRAP:-} "$(vsrouted_bin)" -n -f "$conf"
echo "$BG_PID" >"$T_DIR/vsrouted-director.pid"
pid=$BG_PID
T_VSR_LAST=director     # lib.sh's: the daemon vsrouted_log and vsradm mean
export T_VSR_LAST
wait_for "vsrouted to be ready" 60 _t_vsr_ready_or_dead director "$conf"
assert_true "vsrouted runs" vsrouted_alive director
wait_for "its control socket" 10 test -S "$sock"
log=$(vsrouted_log)

# reload PATTERN: SIGHUP, then wait for PATTERN in the log after this point
reload() {
	local off
	off=$(stat -c %s "$log")
	kill -HUP "$pid"
	wait_for "the reload: $1" 15 sh -c "tail -c +$((off + 1)) '$log' | grep -q -- '$1'"
}
metrics_up() { nsx director curl -s -m 3 "http://127.0.0.1:$1/metrics" | grep -q '^vsrouted_table_capacity'; }
capacity() { nsx director curl -s -m 3 "http://127.0.0.1:$1/metrics" | sed -n 's/^vsrouted_table_capacity //p'; }

assert_eq 64 "$(capacity 9410)" "conn_max 64 at start"

# ---- conn_max lowered under four live downloads (1 MB at 128 kB/s each)
for i in 1 2 3 4; do
	bg_start "dl$i" client sh -c "curl -s -m 60 http://$VIP/blob | sha256sum"
	eval "dl$i=\$BG_PID"
done
wait_for "four flows in the table" 10 sh -c "[ \$('${VSRADM:-$VSR_TOP/src/vsradm}' --socket '$sock' -Lnc | grep -c ESTABLISHED) -ge 4 ]"
write_conf 2 9410 "$sock" 100
reload 'conn_max 64 -> 2 (4 entries live)'
assert_eq 2 "$(capacity 9410)" "conn_max 2 after the reload"
vsrouted_stats >/dev/null
full0=$(stat_get drop_table_full)
rc=0
nsx client curl -s --connect-timeout 2 -m 3 "http://$VIP/" >/dev/null || rc=$?
assert_ne 0 "$rc" "a new flow finds no room while 4 of at most 2 live"
vsrouted_stats >/dev/null
assert_gt "$full0" "$(stat_get drop_table_full)" "and is counted as drop_table_full"
for i in 1 2 3 4; do
	p=
	eval "p=\$dl$i"
	wait_for "download $i" 60 _t_not_running "$p"
	assert_eq "$sum  -" "$(cat "$T_DIR/dl$i.log")" "download $i, live across the lowered conn_max, is whole"
done
write_conf 100000 9410 "$sock" 100
reload 'the connection table grew to 100000 entries'
assert_eq 100000 "$(capacity 9410)" "a conn_max above the start's grows the table"
http_get_n client "http://$VIP/" 4 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "new flows are served again"

# ---- metrics: another port; then one that is taken
write_conf 64 9411 "$sock" 100
reload 'metrics now on http://127.0.0.1:9411'
assert_true "metrics answer on the new port" metrics_up 9411
assert_false "and no longer on the old one" metrics_up 9410
bg_start taken director python3 -u -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 9412)); s.listen(); print('ready', flush=True)
time.sleep(120)"
taken=$BG_PID
wait_for "the port taken" 20 grep -q ready "$T_DIR/taken.log"
write_conf 64 9412 "$sock" 100
reload 'metrics: keeping the old endpoint'
assert_true "a port in use keeps the old endpoint" metrics_up 9411
bg_stop "$taken"

# ---- control_socket: another path; then one that cannot be bound
sock2=$T_DIR/other.sock
write_conf 64 9411 "$sock2" 100
reload "control socket $sock -> $sock2"
lists() { "${VSRADM:-$VSR_TOP/src/vsradm}" --socket "$1" -Ln >/dev/null; }
assert_true "vsradm on the new socket" lists "$sock2"
assert_false "the old socket is gone" test -e "$sock"
write_conf 64 9411 "$T_DIR/no/such/dir.sock" 100
reload "keeping the control socket $sock2"
assert_true "a path that cannot be bound keeps the old socket" lists "$sock2"

# ---- control_group, control_group_read: the socket's group and mode
grp=$(getent group daemon | cut -d: -f1)
rgrp=$(getent group users | cut -d: -f1)
assert_eq "600" "$(stat -c %a "$sock2")" "no group: mode 600"
write_conf 64 9411 "$sock2" 100 "control_group = $grp"
reload 'reloaded:'
assert_eq "660 $grp" "$(stat -c '%a %G' "$sock2")" "control_group: the socket's group, mode 660"
write_conf 64 9411 "$sock2" 100 "control_group = $grp" "control_group_read = $rgrp"
reload 'reloaded:'
assert_eq "666 $grp" "$(stat -c '%a %G' "$sock2")" "and control_group_read: mode 666"
write_conf 64 9411 "$sock2" 100 "control_group = nosuchgroup$$"
reload "keeping the control socket $sock2 and its groups"
assert_eq "666 $grp" "$(stat -c '%a %G' "$sock2")" "a group that does not exist changes nothing"
write_conf 64 9411 "$sock2" 100
reload 'reloaded:'
assert_eq "600" "$(stat -c %a "$sock2")" "no group again: mode 600"

# ---- announce_table: the routes move
assert_true "VIP in table 100" sh -c "ip -n $(nsname director) route show table 100 | grep -q '^$VIP '"
write_conf 64 9411 "$sock2" 101
reload 'announcing the virtual addresses in table 101'
assert_true "VIP in table 101" sh -c "ip -n $(nsname director) route show table 101 | grep -q '^$VIP '"
assert_false "and no longer in table 100" sh -c "ip -n $(nsname director) route show table 100 | grep -q ."

# ---- user: not at run time, and said so
write_conf 64 9411 "$sock2" 101 "user = nobody"
reload 'user root -> nobody: the privileges are dropped only at start'
http_get_n client "http://$VIP/" 4 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "traffic flows after all the reloads"
assert_true "vsrouted still runs" vsrouted_alive director
assert_eq 0 "$(grep -c 'is not valid' "$log" || true)" "every reload was read"
kill -TERM "$pid"
wait_for "vsrouted to stop" 30 _t_not_running "$pid"
assert_false "the control socket is removed at stop" test -e "$sock2"
