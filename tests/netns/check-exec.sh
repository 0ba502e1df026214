#!/usr/bin/env bash
# check-exec.sh - an exec check (keepalived's MISC_CHECK): a script run with
# the real server's address and port, exit 0 = healthy; one that hangs is
# killed at the timeout with everything it started, and counts as a
# failure. The script runs as check_user in a session of its own, with no
# capability and a minimal environment; a script that others can change,
# or one that would run as root unasked, is refused by vsrouted -t with
# FILE:LINE.
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1            rs2
#  curl       vsrouted (rr)    nginx          nginx
#             runs chk.sh RIP PORT every second as nobody (the test's
#             unprivileged user): exit 1 while $T_DIR/down-RIP exists,
#             starts four sleepers and hangs while $T_DIR/hang-RIP exists
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd pgrep
getent passwd nobody >/dev/null || skip "no user nobody"

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done
out=$T_DIR/out
# Written by the script as nobody, and as root without CAP_DAC_OVERRIDE.
mkdir -m 1777 "$out"
# The sleepers' mark: an argument no other process has (counted by pgrep
# across the host: from this script's PID whole, so that two runs at once,
# two suites on one machine, never count each other's).
mark=$((3000 + $$))
cleanup_add "pkill -x -f 'sleep $mark' || true"
cat >"$T_DIR/chk.sh" <<EOS
#!/bin/sh
echo "\$1 \$2" >>"$out/chk.calls"
if [ ! -e "$out/status-\$1" ]; then
	{ id -u; grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status; } >"$out/status-\$1.tmp"
	tr '\0' '\n' </proc/\$\$/environ | sed 's/=.*//' | sort | tr '\n' ' ' >"$out/env-\$1"
	echo \$\$ \$(ps -o sid= -o pgid= -p \$\$) >"$out/sess-\$1"
	mv "$out/status-\$1.tmp" "$out/status-\$1"
fi
if [ -e "$T_DIR/hang-\$1" ]; then
	sleep $mark &
	sleep $mark &
	(sleep $mark &)
	exec sleep $mark
fi
[ -e "$T_DIR/down-\$1" ] && exit 1
exit 0
EOS
chmod 0755 "$T_DIR/chk.sh"
check_conf "$T_DIR/vsrouted.conf" 2 "type = exec  command = \"$T_DIR/chk.sh\"  interval = 1  timeout = 2  rise = 1  fall = 2"
sed -i '1i check_user = nobody' "$T_DIR/vsrouted.conf"
# Something of the daemon's environment that a script must not see.
VSR_SECRET_CANARY=leak vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)
rs_weight() { vsradm -Ln | awk -v a="$1:80" '$2 == a { print $4 }'; }
sleepers() { pgrep -c -x -f "sleep $mark" || true; }

wait_for "the script to run for both" 10 sh -c 'grep -q "^10.10.0.11 80$" "$1" && grep -q "^10.10.0.12 80$" "$1"' \
	sh "$out/chk.calls"
pass "the script is run with the real server's address and port"
wait_for "the script's report" 10 test -e "$out/status-10.10.0.11"
assert_eq "$(id -u nobody)" "$(head -n 1 "$out/status-10.10.0.11")" "it runs as check_user (nobody)"
for c in CapInh CapPrm CapEff CapAmb CapBnd; do
	assert_eq 0000000000000000 "$(awk -v c="$c:" '$1 == c { print $2 }' "$out/status-10.10.0.11")" \
		"the script holds no capability: $c"
done
vpid=$(cat "$T_DIR/vsrouted-director.pid")
assert_true "the daemon's environment has VSR_SECRET_CANARY" \
	sh -c "tr '\\0' '\\n' </proc/$vpid/environ | grep -q '^VSR_SECRET_CANARY=leak$'"
assert_eq "HOME LOGNAME PATH USER " "$(cat "$out/env-10.10.0.11")" \
	"the script's environment is PATH, HOME, USER and LOGNAME only"
read -r spid sid pgid <"$out/sess-10.10.0.11"
assert_eq "$spid $spid" "$sid $pgid" "it leads a session and a process group of its own"

touch "$T_DIR/down-10.10.0.12"
wait_for "rs2 to be marked down" 10 grep -q "rs2 (10.10.0.12:80) is down: exec check: exit status 1 (2 of 2 failures)" "$log"
assert_eq 0 "$(rs_weight 10.10.0.12)" "exit 1: rs2 at weight 0"
http_get_n client "http://$VIP/" 6 >"$T_DIR/answers"
assert_eq 6 "$(count_of rs1 "$T_DIR/answers")" "rs1 takes every request"

rm "$T_DIR/down-10.10.0.12"
wait_for "rs2 to be marked up" 10 grep -q "rs2 (10.10.0.12:80) is up" "$log"
assert_eq 1 "$(rs_weight 10.10.0.12)" "exit 0: rs2 back at weight 1"

touch "$T_DIR/hang-10.10.0.11"
wait_for "the hanging script's four sleepers" 20 sh -c "[ \$(pgrep -c -x -f 'sleep $mark') -ge 4 ]"
pass "a hanging script runs, with the four sleepers it started ($(sleepers))"
wait_for "rs1 to be marked down" 10 grep -q "rs1 (10.10.0.11:80) is down: exec check: no answer within 2 s (2 of 2 failures)" "$log"
pass "a script that hangs is a failure at the timeout"
wait_for "no sleeper to be left" 20 sh -c "[ \$(pgrep -c -x -f 'sleep $mark') = 0 ]" || true
assert_eq 0 "$(sleepers)" "at the timeout nothing the script started is left (its group is killed)"
rm "$T_DIR/hang-10.10.0.11"
wait_for "rs1 to be marked up" 10 grep -q "rs1 (10.10.0.11:80) is up" "$log"
assert_eq 0 "$(sleepers)" "no sleeper of any round"
assert_eq 0 "$(ps -eo ppid=,stat= | awk -v p="$vpid" '$1 == p && $2 ~ /Z/' | grep -c . || true)" \
	"no zombie left"

# check_user = root: said, so allowed; still without any capability.
sed -i 's/^check_user = nobody$/check_user = root/' "$T_DIR/vsrouted.conf"
rm -f "$out"/status-*
kill -HUP "$vpid"
wait_for "a report of a script run as root" 10 test -e "$out/status-10.10.0.12"
assert_eq 0 "$(head -n 1 "$out/status-10.10.0.12")" "check_user = root: the script runs as root"
assert_eq "0000000000000000 0000000000000000 0000000000000000" \
	"$(awk '$1 == "CapPrm:" || $1 == "CapEff:" || $1 == "CapBnd:" { printf "%s ", $2 }' "$out/status-10.10.0.12" | sed 's/ $//')" \
	"even as root: no permitted, effective or bounding capability"
assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director

# ---- what vsrouted -t refuses, with the file and line
vcheck() {  # vcheck CONF: vsrouted -t where it runs, its status in RC and its words in $T_DIR/t.out
	rc=0
	nsx director "$(vsrouted_bin)" -t -f "$1" >"$T_DIR/t.out" 2>&1 || rc=$?
}
tconf() {  # tconf FILE COMMAND [GLOBAL LINE]: a config whose check runs COMMAND
	check_conf "$1" 1 "type = exec  command = \"$2\""
	[ -n "${3:-}" ] && sed -i "1i $3" "$1"
	return 0
}
cmdline() { grep -n 'command = ' "$1" | head -n 1 | cut -d: -f1; }

mkdir -m 0755 "$T_DIR/w" "$T_DIR/wd" "$T_DIR/g"
chmod 0777 "$T_DIR/wd"
cp "$T_DIR/chk.sh" "$T_DIR/w/other-writable.sh"
chmod 0757 "$T_DIR/w/other-writable.sh"
cp "$T_DIR/chk.sh" "$T_DIR/wd/in-open-dir.sh"
cp "$T_DIR/chk.sh" "$T_DIR/g/group-writable.sh"
chgrp nogroup "$T_DIR/g/group-writable.sh" 2>/dev/null || chgrp "$(id -g nobody)" "$T_DIR/g/group-writable.sh"
chmod 0775 "$T_DIR/g/group-writable.sh"
ln -s "$T_DIR/wd/in-open-dir.sh" "$T_DIR/w/link.sh"

tconf "$T_DIR/t1.conf" "$T_DIR/w/other-writable.sh" "check_user = nobody"
vcheck "$T_DIR/t1.conf"
assert_eq 1 "$rc" "-t refuses a script writable by others"
assert_true "naming FILE:LINE, the script and its mode" \
	grep -q "^$T_DIR/t1.conf:$(cmdline "$T_DIR/t1.conf"): exec check: $T_DIR/w/other-writable.sh is writable by others (mode 0757)" "$T_DIR/t.out"

tconf "$T_DIR/t2.conf" "$T_DIR/wd/in-open-dir.sh" "check_user = nobody"
vcheck "$T_DIR/t2.conf"
assert_eq 1 "$rc" "-t refuses a script in a directory anyone may write"
assert_true "naming the directory" grep -q "exec check: $T_DIR/wd is writable by others (mode 0777)" "$T_DIR/t.out"

tconf "$T_DIR/t3.conf" "$T_DIR/g/group-writable.sh" "check_user = nobody"
vcheck "$T_DIR/t3.conf"
assert_eq 1 "$rc" "-t refuses a script writable by a group other than root's"
assert_true "saying so" grep -q "group-writable.sh is writable by its group" "$T_DIR/t.out"

tconf "$T_DIR/t4.conf" "$T_DIR/w/link.sh" "check_user = nobody"
vcheck "$T_DIR/t4.conf"
assert_eq 1 "$rc" "-t refuses a link to a script others can change"

tconf "$T_DIR/t5.conf" "$T_DIR/chk.sh" "check_user = nobody"
vcheck "$T_DIR/t5.conf"
assert_eq 0 "$rc" "-t accepts a script only root can change"

tconf "$T_DIR/t6.conf" "$T_DIR/chk.sh" "user = root"
vcheck "$T_DIR/t6.conf"
assert_eq 1 "$rc" "-t refuses exec checks that would run as root by default (user = root)"
assert_true "saying check_user = root would allow it" \
	grep -q "^$T_DIR/t6.conf:[0-9]*: exec checks would run as root (root): say check_user = root to allow it" "$T_DIR/t.out"

tconf "$T_DIR/t7.conf" "$T_DIR/chk.sh"
vcheck "$T_DIR/t7.conf"
if getent passwd vsrouted >/dev/null; then
	assert_eq 0 "$rc" "without check_user, the checks run as the user vsrouted, which exists here"
else
	assert_eq 1 "$rc" "without check_user the checks run as vsrouted, which does not exist here"
	assert_true "-t says so" grep -q "check_user vsrouted does not exist (the default for exec checks" "$T_DIR/t.out"
fi

tconf "$T_DIR/t8.conf" "$T_DIR/chk.sh" "user = nobody"
sed -i "1i check_user = $(id -un 1 2>/dev/null || echo daemon)" "$T_DIR/t8.conf"
vcheck "$T_DIR/t8.conf"
assert_eq 1 "$rc" "-t refuses a check_user the daemon, once it is user, cannot become"
assert_true "saying why" grep -q "cannot run programs as" "$T_DIR/t.out"

tconf "$T_DIR/t9.conf" "chk.sh --quick" "check_user = nobody"
vcheck "$T_DIR/t9.conf"
assert_eq 1 "$rc" "-t refuses a command that is not an absolute path"
assert_true "with its line" grep -q "^$T_DIR/t9.conf:$(cmdline "$T_DIR/t9.conf"): check type exec: 'command' must start with an absolute path" "$T_DIR/t.out"
