#!/usr/bin/env bash
# dr-badconf.sh - config checking: "vsrouted -t" and a refused start
#
#   chk  eth0 10.10.0.2 ---- veth ---- eth0 10.10.0.1  peer
#        eth1 10.10.1.2 ---- veth ---- eth1 10.10.1.1
#
# 1. For every tests/unit/conf/bad-*.conf (first line "# expect: LINE: TEXT"):
#    "vsrouted -t -f FILE" exits 1 and prints "FILE:LINE: ...TEXT...".
# 2. For every tests/unit/conf/good-*.conf: "vsrouted -t -f FILE" exits 0.
# 3. "-t" touches nothing, even with a good config.
# 4. "-t" also refuses what this host cannot run (an announce interface or
#    a control group that is not there), with the line.
# 5. "vsrouted -n -f BAD" refuses to start: non-zero exit, within 10 s, and
#    the namespace is untouched (no vsr0, no route, no proxy entry, no
#    sysctl changed), for a bad config of this script and every bad-*.conf.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

CONF_DIR="$VSR_TOP/tests/unit/conf"
BIN=$(vsrouted_bin)
ns_add chk
ns_add peer
link_add chk eth0 10.10.0.2/24 peer eth0 10.10.0.1/24
link_add chk eth1 10.10.1.2/24 peer eth1 10.10.1.1/24
ns_snapshot chk "$T_DIR/before"

untouched() {
	ns_snapshot chk "$T_DIR/after"
	if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
		pass "$1: namespace untouched"
	else
		cat "$T_DIR/diff"
		fail "$1: namespace changed"
		ns_snapshot chk "$T_DIR/before"
	fi
}

# run_bin OUT ARGS...: run the daemon in chk (10 s at most); sets RC
run_bin() {
	local out=$1
	shift
	RC=0
	# In the background so that a signal to this script is handled at once.
	# shellcheck disable=SC2086 # VSR_WRAP is a command with its arguments
	timeout -k 5 10 ip netns exec "$(nsname chk)" ${VSR_WRAP:-} "$BIN" "$@" >"$out" 2>&1 &
	wait $! || RC=$?
}

shopt -s nullglob
bad=("$CONF_DIR"/bad-*.conf)
good=("$CONF_DIR"/good-*.conf)
[ ${#bad[@]} -gt 0 ] || fail "no $CONF_DIR/bad-*.conf to check"
[ ${#good[@]} -gt 0 ] || fail "no $CONF_DIR/good-*.conf to check"

for f in "${bad[@]}"; do
	n=$(basename "$f")
	exp=$(sed -n '1s/^#[ \t]*expect:[ \t]*//p' "$f")
	line=${exp%%:*}
	text=${exp#*:}
	text=${text# }
	if [ -z "$exp" ] || ! is_int "$line"; then
		fail "$n: first line is not '# expect: LINE: text'"
		continue
	fi
	run_bin "$T_DIR/out" -t -f "$f"
	assert_eq 1 "$RC" "$n: vsrouted -t exits 1"
	if grep -F -- "$f:$line:" "$T_DIR/out" | grep -qF -- "$text"; then
		pass "$n: prints '$f:$line: ...$text...'"
	else
		sed 's/^/    | /' "$T_DIR/out"
		fail "$n: expected a line with '$f:$line:' and '$text'"
	fi
done
untouched "vsrouted -t on bad configs"

for f in "${good[@]}"; do
	n=$(basename "$f")
	run_bin "$T_DIR/out" -t -f "$f"
	[ "$RC" = 0 ] || sed 's/^/    | /' "$T_DIR/out"
	assert_eq 0 "$RC" "$n: vsrouted -t exits 0"
done
untouched "vsrouted -t on good configs"

# A config that is good but for one unknown option.
cat >"$T_DIR/bad-unknown.conf" <<EOF
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = 10.10.0.100
    port = 80
    protocol = tcp
    scheduler = rr
    forward = dr
    no_such_option = 1
    real_server rs1 { address = 10.10.0.11 }
}
EOF
run_bin "$T_DIR/out" -t -f "$T_DIR/bad-unknown.conf"
assert_eq 1 "$RC" "unknown option: vsrouted -t exits 1"
assert_true "unknown option: error names line 9" grep -qF "$T_DIR/bad-unknown.conf:9:" "$T_DIR/out"

# Good configs that this host cannot run: what the start would refuse
# before touching anything, -t refuses too, with the line.
sed 's/^announce = { eth0 }$/announce = { eth0, eth9 }/' "$T_DIR/bad-unknown.conf" |
	grep -v no_such_option >"$T_DIR/bad-noiface.conf"
run_bin "$T_DIR/out" -t -f "$T_DIR/bad-noiface.conf"
assert_eq 1 "$RC" "an announce interface that is not there: vsrouted -t exits 1"
assert_true "naming it at line 2" grep -qF "$T_DIR/bad-noiface.conf:2: announce interface eth9 does not exist" "$T_DIR/out"
{ echo "control_group_read = vsr-no-such-group"; grep -v no_such_option "$T_DIR/bad-unknown.conf"; } \
	>"$T_DIR/bad-nogroup.conf"
run_bin "$T_DIR/out" -t -f "$T_DIR/bad-nogroup.conf"
assert_eq 1 "$RC" "a control group that is not there: vsrouted -t exits 1"
assert_true "naming it at line 1" grep -qF "$T_DIR/bad-nogroup.conf:1: control_group_read vsr-no-such-group: no such group" "$T_DIR/out"

for f in "$T_DIR/bad-unknown.conf" "$T_DIR/bad-noiface.conf" "$T_DIR/bad-nogroup.conf" "${bad[@]}"; do
	n=$(basename "$f")
	run_bin "$T_DIR/out" -n -f "$f"
	if [ "$RC" = 0 ] || [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		sed 's/^/    | /' "$T_DIR/out"
		fail "$n: vsrouted -n did not refuse to start (status $RC)"
	else
		pass "$n: vsrouted -n refuses to start (status $RC)"
	fi
	assert_true "$n: the reason is on stderr" grep -q . "$T_DIR/out"
	untouched "$n: refused start"
done
