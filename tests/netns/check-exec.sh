#!/usr/bin/env bash
# check-exec.sh - an exec check (keepalived's MISC_CHECK): a script run with
# the real server's address and port, exit 0 = healthy; one that hangs is
# killed at the timeout and counts as a failure
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1            rs2
#  curl       vsrouted (rr)    nginx          nginx
#             runs chk.sh RIP PORT every second: exit 1 while $T_DIR/down-RIP
#             exists, hangs while $T_DIR/hang-RIP exists
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done
cat >"$T_DIR/chk.sh" <<EOS
#!/bin/sh
echo "\$1 \$2" >>"$T_DIR/chk.calls"
[ -e "$T_DIR/hang-\$1" ] && exec sleep 30
[ -e "$T_DIR/down-\$1" ] && exit 1
exit 0
EOS
chmod +x "$T_DIR/chk.sh"
check_conf "$T_DIR/vsrouted.conf" 2 "type = exec  command = \"$T_DIR/chk.sh\"  interval = 1  timeout = 1  rise = 1  fall = 2"
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)
rs_weight() { vsradm -Ln | awk -v a="$1:80" '$2 == a { print $4 }'; }

wait_for "the script to run for both" 10 sh -c 'grep -q "^10.10.0.11 80$" "$1" && grep -q "^10.10.0.12 80$" "$1"' \
	sh "$T_DIR/chk.calls"
pass "the script is run with the real server's address and port"

touch "$T_DIR/down-10.10.0.12"
wait_for "rs2 to be marked down" 10 grep -q "rs2 (10.10.0.12:80) is down: exec check: exit status 1 (2 of 2 failures)" "$log"
assert_eq 0 "$(rs_weight 10.10.0.12)" "exit 1: rs2 at weight 0"
http_get_n client "http://$VIP/" 6 >"$T_DIR/answers"
assert_eq 6 "$(count_of rs1 "$T_DIR/answers")" "rs1 takes every request"

rm "$T_DIR/down-10.10.0.12"
wait_for "rs2 to be marked up" 10 grep -q "rs2 (10.10.0.12:80) is up" "$log"
assert_eq 1 "$(rs_weight 10.10.0.12)" "exit 0: rs2 back at weight 1"

touch "$T_DIR/hang-10.10.0.11"
wait_for "rs1 to be marked down" 10 grep -q "rs1 (10.10.0.11:80) is down: exec check: no answer within 1 s (2 of 2 failures)" "$log"
pass "a script that hangs is a failure at the timeout"
rm "$T_DIR/hang-10.10.0.11"
wait_for "rs1 to be marked up" 10 grep -q "rs1 (10.10.0.11:80) is up" "$log"
sleep 1
vpid=$(cat "$T_DIR/vsrouted-director.pid")
assert_eq 0 "$(ps -eo ppid=,args= | awk -v p="$vpid" '$1 == p && /sleep 30/' | grep -c . || true)" \
	"the hung script was killed"
assert_eq 0 "$(ps -eo ppid=,stat= | awk -v p="$vpid" '$1 == p && $2 ~ /Z/' | grep -c . || true)" \
	"no zombie left"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
