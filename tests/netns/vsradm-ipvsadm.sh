#!/usr/bin/env bash
# vsradm-ipvsadm.sh - vsradm is ipvsadm 1.31: about 200 command lines from
# vsradm-ipvsadm.cases, each with the stdout, stderr and exit status that
# ipvsadm's manual and source give, run in order against one live daemon;
# vsradm with no argument (the -O2 build here, the ASan one in [asan]); the
# names ipvsadm, ipvsadm-save and ipvsadm-restore; names resolved without -n
# from the namespace's own hosts file; -S | -R round trips in ipvsadm's save
# format, byte for byte.
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#              vsrouted (rr)    VIP on lo      VIP on lo      VIP on lo
#              vsradm runs here, /etc/hosts: vip.test rs1.test rs2.test ...
#
# The cases file: "$ WORDS" a command line (shell words: $'..' quoting),
# "< LINE" its standard input, "> LINE" and "! LINE" the standard output and
# error expected (">" or "!" alone: an empty line), "@ NAME" the standard
# output is golden/NAME, "? N" the exit status, which ends the case; "#"
# comments. VSR_GOLDEN_UPDATE=1 (make golden) writes what ran back into the
# file instead; review the diff.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
VSRADM_BIN=${VSRADM:-$VSR_TOP/src/vsradm}
[ -x "$VSRADM_BIN" ] || skip "$VSRADM_BIN is not built"
CASES=$VSR_NETNS_DIR/vsradm-ipvsadm.cases

lvs_dr_seed 3
# An IPv6 LAN too, for the IPv6 mark service's real servers (-f 1 -6).
ns_addr6 director eth0 2001:db8:10::2/64
seed_conf "$T_DIR/vsrouted.conf" 2 rr "conn_max = 4096"
vsrouted_start director "$T_DIR/vsrouted.conf"

# The director's own view of names (ip netns exec binds these over /etc):
# hosts from a file, no DNS, so that a name that is not there fails at once.
etc=/etc/netns/$(nsname director)
mkdir -p "$etc"
cleanup_add "rm -rf '$etc'"
cat >"$etc/hosts" <<'EOF'
127.0.0.1	localhost
10.10.0.100	vip.test
10.10.0.11	rs1.test
10.10.0.12	rs2.test
10.10.0.13	rs3.test
10.10.0.101	vip2.test
EOF
printf 'hosts: files\nservices: files\n' >"$etc/nsswitch.conf"

# The four names of the program, first in PATH.
bin=$T_DIR/bin
mkdir -p "$bin"
for n in vsradm ipvsadm ipvsadm-save ipvsadm-restore; do
	ln -s "$VSRADM_BIN" "$bin/$n"
done
sock=$(vsrouted_sock)

# run_words WORDS STDIN OUT ERR: one command line in the director, status in RC.
run_words() {
	local words=$1 stdin=$2 out=$3 err=$4
	eval "set -- $words"
	RC=0
	nsx director env PATH="$bin:$PATH" VSRADM_SOCKET="$sock" "$@" <"$stdin" >"$out" 2>"$err" ||
		RC=$?
}

# The file's cases, one after the other; in update mode the file is written anew.
new=$T_DIR/cases.new
: >"$new"
n=0 words= status=
in=$T_DIR/in exp_out=$T_DIR/exp.out exp_err=$T_DIR/exp.err golden=
: >"$in"; : >"$exp_out"; : >"$exp_err"
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'$ '*)
		words=${line#\$ }
		echo "$line" >>"$new"
		;;
	'< '*|'<')
		printf '%s\n' "${line#<}" | sed 's/^ //' >>"$in"
		echo "$line" >>"$new"
		;;
	'> '*|'>') printf '%s\n' "${line#>}" | sed 's/^ //' >>"$exp_out" ;;
	'! '*|'!') printf '%s\n' "${line#!}" | sed 's/^ //' >>"$exp_err" ;;
	'@ '*) golden=${line#@ } ;;
	'? '*)
		status=${line#? }
		n=$((n + 1))
		run_words "$words" "$in" "$T_DIR/out" "$T_DIR/err"
		if [ "${VSR_GOLDEN_UPDATE:-0}" = 1 ]; then
			if [ -n "$golden" ]; then
				echo "@ $golden" >>"$new"
				cp "$T_DIR/out" "$VSR_NETNS_DIR/golden/$golden"
			else
				sed 's/^/> /; s/^> $/>/' "$T_DIR/out" >>"$new"
			fi
			sed 's/^/! /; s/^! $/!/' "$T_DIR/err" >>"$new"
			echo "? $RC" >>"$new"
		else
			[ -n "$golden" ] && cp "$VSR_NETNS_DIR/golden/$golden" "$exp_out"
			what="case $n: $words"
			if cmp -s "$exp_out" "$T_DIR/out" && cmp -s "$exp_err" "$T_DIR/err" &&
			    [ "$RC" = "$status" ]; then
				pass "$what"
			else
				fail "$what"
				diff -u "$exp_out" "$T_DIR/out" | sed 's/^/    stdout /' || true
				diff -u "$exp_err" "$T_DIR/err" | sed 's/^/    stderr /' || true
				[ "$RC" = "$status" ] || echo "    status $RC, expected $status"
			fi
		fi
		: >"$in"; : >"$exp_out"; : >"$exp_err"; golden= words=
		;;
	*) echo "$line" >>"$new" ;;
	esac
done <"$CASES"
if [ "${VSR_GOLDEN_UPDATE:-0}" = 1 ]; then
	cp "$new" "$CASES"
	pass "$n cases written into $(basename "$CASES")"
fi
assert_ge 150 "$n" "the table has its cases"

# ---- -S | -R round trips: ipvsadm's save format in, the same bytes out
vs() { nsx director env PATH="$bin:$PATH" VSRADM_SOCKET="$sock" "$@"; }
vs vsradm -C
vs vsradm -R <"$VSR_NETNS_DIR/golden/vsradm-ipvsadm-save"
vs vsradm -S -n >"$T_DIR/save1"
golden_check vsradm-ipvsadm-save "$T_DIR/save1"
vs ipvsadm-restore <"$T_DIR/save1"
vs ipvsadm-save -n >"$T_DIR/save2"
assert_true "ipvsadm-restore | ipvsadm-save round-trips byte for byte" cmp "$T_DIR/save1" "$T_DIR/save2"
vs vsradm -S >"$T_DIR/save-names"
golden_check vsradm-ipvsadm-save-names "$T_DIR/save-names"
vs vsradm -C
vs vsradm -R <"$T_DIR/save-names"
assert_true "-S with names, read back by -R, is the same table" cmp "$T_DIR/save1" <(vs vsradm -S -n)

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director

# ---- what the daemon will send once IPv6, firewall marks, SCTP, ops, GUE
# and the sync daemon are in it, read and printed as ipvsadm prints them
# (golden/vsradm-fixture-*, written from ipvsadm's print code), from a
# fixture that answers with ctlproto.h's lines; and an answer that lacks a
# field refused.
fixture() {  # fixture MODE: the fixture on $T_DIR/fixture.sock
	bg_start "fixture-$1" - python3 "$VSR_NETNS_DIR/vsradm-fixture.py" "$T_DIR/fixture.sock" "$1"
	FIXTURE=$BG_PID
	wait_for "the fixture" 20 grep -q ready "$T_DIR/fixture-$1.log"
}
fx() { nsx director env PATH="$bin:$PATH" VSRADM_SOCKET="$T_DIR/fixture.sock" "$@"; }
fixture good
for f in "Ln:-Ln" "S:-S -n" "tun-info:-Ln --tun-info" "persistent-conn:-Ln --persistent-conn" \
    "c:-Lnc" "daemon:-L --daemon"; do
	# shellcheck disable=SC2086 # the options are words
	fx vsradm ${f#*:} >"$T_DIR/fx.out"
	golden_check "vsradm-fixture-${f%%:*}" "$T_DIR/fx.out"
done
bg_stop "$FIXTURE"
fixture short
rc=0
fx vsradm -Ln >"$T_DIR/fx.out" 2>"$T_DIR/fx.err" || rc=$?
assert_eq 1 "$rc" "an svc line short of a field: a failed listing, status 1"
assert_eq "vsradm: cannot read vsrouted's answer: svc tcp 10.10.0.100:80 rr 0 0 255.255.255.255 - 0" \
	"$(cat "$T_DIR/fx.err")" "and it says which line"
assert_eq 0 "$(wc -c <"$T_DIR/fx.out")" "nothing of the table is printed"
bg_stop "$FIXTURE"
