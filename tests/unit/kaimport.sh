#!/bin/bash
# kaimport.sh - vsradm --import-keepalived: keepalived.conf in, vsrouted.conf out
#
#   * tests/unit/kaimport/keepalived.conf (every keyword the import maps, in
#     keepalived's syntax with its quirks: comments, continuations, a brace
#     on the next line, $NAME definitions, @id lines, an include glob)
#     gives golden/keepalived.vsrouted.conf on stdout and
#     golden/keepalived.report on stderr, exit status 2, and the output
#     passes vsrouted -t;
#   * every sample Debian's keepalived ships (/usr/share/doc/keepalived/
#     samples/keepalived.conf.*) converts, its output passes vsrouted -t,
#     every report names a line of the file where its keyword is, and the
#     reports of all of them are golden/samples.report;
#   * broken files are refused with FILE:LINE and nothing on stdout.
# With VSR_GOLDEN_UPDATE=1 (make golden) the golden files are written instead.
# Run from the build directory (make check does): src/vsradm and src/vsrouted.

top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
top_srcdir=$(cd "$top_srcdir" && pwd)
dir=$top_srcdir/tests/unit/kaimport
vsradm=$PWD/src/vsradm
vsrouted=$PWD/src/vsrouted
samples=${KA_SAMPLES:-/usr/share/doc/keepalived/samples}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npass=0 nfail=0

ok() { echo "ok - $1"; npass=$((npass + 1)); }
notok() { echo "not ok - $1"; nfail=$((nfail + 1)); }
check() {  # check MSG CMD...
	local msg=$1
	shift
	if "$@"; then ok "$msg"; else notok "$msg"; fi
}
golden() {  # golden NAME FILE
	if [ "${VSR_GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$2" "$dir/golden/$1"
		ok "golden/$1 written"
	elif diff -u "$dir/golden/$1" "$2"; then
		ok "matches golden/$1"
	else
		notok "differs from golden/$1"
	fi
}
valid() {  # valid FILE: vsrouted -t accepts it, but for what belongs to the director it is for
	"$vsrouted" -t -f "$1" >"$tmp/t.out" 2>&1 && return 0
	# -t refuses what a start on this host would refuse, once the file
	# itself is valid: the interfaces, the exec checks' user and scripts of
	# the keepalived director are not on the build host. Anything else fails.
	if grep -vE '^[^:]+:[0-9]+: (announce interface [^ ]+ does not exist|check_user [^ ]+ does not exist.*|exec check: .*(No such file or directory|does not exist).*)$' \
	    "$tmp/t.out" | grep -q .; then
		cat "$tmp/t.out"
		return 1
	fi
	sed 's/^/# not on this host: /' "$tmp/t.out"
}
# Each report line: FILE:LINE: KEYWORD: not mapped|approximated: ... and
# KEYWORD is on that line of FILE (or, for @id lines, the line starts so).
reports_sane() {  # reports_sane REPORT DIR
	local f l kw rest bad=0
	while IFS=: read -r f l kw rest; do
		kw=${kw# }
		case $rest in " not mapped: "*|" approximated: "*) ;;
		*) echo "malformed report: $f:$l:$kw:$rest"; bad=1; continue ;; esac
		if ! sed -n "${l}p" "$2/$f" | grep -qF -- "$kw"; then
			echo "line $l of $f has no '$kw'"
			bad=1
		fi
	done <"$1"
	return $bad
}

# ---- the hand-written file
mkdir -p "$dir/golden"
(cd "$dir" && "$vsradm" --import-keepalived keepalived.conf >"$tmp/out" 2>"$tmp/report")
rc=$?
check "keepalived.conf converts with reports: exit status 2 ($rc)" test "$rc" = 2
golden keepalived.vsrouted.conf "$tmp/out"
golden keepalived.report "$tmp/report"
check "its output passes vsrouted -t" valid "$tmp/out"
check "its reports name the lines of their keywords" reports_sane "$tmp/report" "$dir"
for kw in delay_loop lb_algo lvs_sched lb_kind lvs_method persistence_timeout \
	persistence_granularity protocol sorry_server sorry_server_lvs_method virtualhost \
	connect_timeout retry inhibit_on_failure weight uthreshold lthreshold TCP_CHECK \
	HTTP_GET url path status_code connect_port MISC_CHECK misc_path misc_timeout \
	UDP_CHECK payload require_reply sh-port flag-1 lvs_timeouts include; do
	grep -qw -- "$kw" "$dir/keepalived.conf" "$dir"/conf.d/*.conf ||
		notok "keepalived.conf has no '$kw'"
done
ok "keepalived.conf uses every mapped keyword"

# ---- two directors: VRRP into keepalived-vsrouted.conf's form (--vrrp), the sync daemon
(cd "$dir" && "$vsradm" --import-keepalived keepalived-ha.conf --vrrp "$tmp/ha.vrrp" \
	>"$tmp/ha.out" 2>"$tmp/ha.report")
rc=$?
check "keepalived-ha.conf --vrrp converts with reports: exit status 2 ($rc)" test "$rc" = 2
sed -i "s|$tmp/|TMP/|" "$tmp/ha.out" "$tmp/ha.vrrp"
golden ha.vsrouted.conf "$tmp/ha.out"
golden ha.keepalived.conf "$tmp/ha.vrrp"
golden ha.report "$tmp/ha.report"
check "its output passes vsrouted -t" valid "$tmp/ha.out"
check "its reports name the lines of their keywords" reports_sane "$tmp/ha.report" "$dir"
check "role = backup: keepalived says who is master" grep -q '^role *= backup' "$tmp/ha.out"
check "the virtual server's address left to vsrouted" \
	test "$(grep -c '10\.10\.0\.100' "$tmp/ha.vrrp")" = 0
check "the notify scripts call vsradm --role" \
	test "$(grep -c 'notify_[a-z]* *"/usr/sbin/vsradm --role \(master\|backup\)"' "$tmp/ha.vrrp")" = 4
# keepalived's own parser finds nothing in it but the interfaces this host lacks.
ka_parses() {  # ka_parses FILE
	command -v keepalived >/dev/null || { echo "keepalived is not installed"; return 1; }
	! keepalived -t -f "$1" 2>&1 | grep -Ei 'unknown keyword|error|invalid|missing'
}
check "keepalived -t reads the VRRP file" ka_parses "$tmp/ha.vrrp"
(cd "$dir" && "$vsradm" --import-keepalived keepalived-ha.conf >/dev/null 2>"$tmp/ha.novrrp")
check "without --vrrp each VRRP block is reported" \
	test "$(grep -c ': not mapped: VRRP is keepalived' "$tmp/ha.novrrp")" = 3

# ---- Debian's samples
# ka_vrrp_ok SAMPLE FILE: keepalived's parser says of FILE only what it says of
# SAMPLE's own VRRP (a few samples are not keepalived 2's: a group without
# "group { }", addresses like 192.168.100./24) and of this host's interfaces.
ka_vrrp_ok() {
	local b=$1 f=$2
	command -v keepalived >/dev/null || { echo "keepalived is not installed"; return 1; }
	keepalived -t -f "$samples/$b" 2>&1 | grep -Ei 'unknown keyword|invalid' |
		sed 's/.*) //' | sort -u >"$tmp/ka.own"
	keepalived -t -f "$f" 2>&1 | grep -Ei 'unknown keyword|error|invalid|missing' |
		sed 's/.*) //' | sort -u >"$tmp/ka.ours"
	comm -13 "$tmp/ka.own" "$tmp/ka.ours" | grep . && return 1
	return 0
}
if [ ! -d "$samples" ]; then
	echo "not ok - no $samples: install the Debian package keepalived"
	exit 1
fi
: >"$tmp/samples.report"
n=0
for f in "$samples"/keepalived.conf.*; do
	b=$(basename "$f")
	n=$((n + 1))
	(cd "$samples" && "$vsradm" --import-keepalived "$b" >"$tmp/$b.out" 2>"$tmp/$b.report")
	rc=$?
	case $rc in 0|2) ;; *) notok "$b: exit status $rc"; cat "$tmp/$b.report"; continue ;; esac
	check "$b: the output passes vsrouted -t" valid "$tmp/$b.out"
	check "$b: every report names its keyword's line" reports_sane "$tmp/$b.report" "$samples"
	cat "$tmp/$b.report" >>"$tmp/samples.report"
	# Its VRRP blocks, if any, in keepalived-vsrouted.conf's form, read by keepalived.
	if grep -q '^ *vrrp_instance' "$f"; then
		(cd "$samples" && "$vsradm" --import-keepalived "$b" --vrrp "$tmp/$b.vrrp" \
			>/dev/null 2>&1)
		check "$b --vrrp: keepalived -t reads the VRRP file" ka_vrrp_ok "$b" "$tmp/$b.vrrp"
	fi
done
check "the samples are there ($n)" test "$n" -ge 20
golden samples.report "$tmp/samples.report"

# ---- refused
printf 'virtual_server 10.0.0.1 80 {\n    lb_algo rr\n' >"$tmp/open.conf"
"$vsradm" --import-keepalived "$tmp/open.conf" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "an unclosed block: exit status 1 ($rc)" test "$rc" = 1
check "  reported at its line" grep -q "open.conf:1: error: the block of virtual_server is not closed" "$tmp/err"
check "  nothing on stdout" test ! -s "$tmp/out"
printf 'virtual_server 10.0.0.1 80 {\n    lb_algo fastest\n}\n}\n' >"$tmp/bad.conf"
"$vsradm" --import-keepalived "$tmp/bad.conf" >"$tmp/out" 2>"$tmp/err"
check "an unknown scheduler and an extra brace: both reported" \
	test "$(grep -c -e 'bad.conf:2: error: lb_algo' -e "bad.conf:4: error: extra '}'" "$tmp/err")" = 2
printf 'include /nonexistent/*.conf\ninclude %s\n' "$tmp/loop.conf" >"$tmp/loop.conf"
"$vsradm" --import-keepalived "$tmp/loop.conf" >"$tmp/out" 2>"$tmp/err"
check "an include loop stops at the nesting limit" grep -q 'error: include nested more than' "$tmp/err"
check "a glob that matches nothing is reported" grep -q 'include: not mapped: no file matches /nonexistent' "$tmp/err"
"$vsradm" --import-keepalived "$tmp/none.conf" >"$tmp/out" 2>"$tmp/err"
check "a missing file: exit status 1" test $? = 1
"$vsradm" --import-keepalived "$tmp" >"$tmp/out" 2>"$tmp/err"
check "a directory: exit status 1" test $? = 1

echo "# $npass passed, $nfail failed"
[ "$nfail" = 0 ]
