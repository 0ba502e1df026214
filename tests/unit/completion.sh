#!/bin/bash
# completion.sh - the bash completions of etc/bash-completion/ (sourced in
# plain bash, as bash-completion would load them): what a TAB offers after a
# few command lines of vsradm, ipvsadm (a link to it), vsrouted and vsrtun.
# The completion of services from a running daemon is in
# tests/netns/ops-ipvsadm.sh.

top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
npass=0 nfail=0
for f in vsradm vsrouted vsrtun; do
	# shellcheck disable=SC1090
	. "$top_srcdir/etc/bash-completion/$f" || { echo "not ok - cannot source $f"; exit 1; }
done

# tab EXPECTED WORD...: completing the last WORD offers EXPECTED (sorted, one line)
tab() {
	local want=$1 fn got
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	fn=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
	COMPREPLY=()
	[ -n "$fn" ] && "$fn"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		echo "ok - $* -> $got"
		npass=$((npass + 1))
	else
		echo "not ok - $*: expected '$want', got '$got'"
		nfail=$((nfail + 1))
	fi
}

tab "wlc wrr" vsradm -A -t 10.0.0.1:80 -s w
tab "sh-fallback sh-port" vsradm -E -t 10.0.0.1:80 -b sh-
tab "--import-keepalived" vsradm --imp
tab "--add-server --add-service" vsradm --add-s
tab "--tun-type" vsradm -a -t 10.0.0.1:80 -r 10.0.0.2 --tun-
tab "gre ipip" vsradm -a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type ""
tab "--client-address" vsradm -a -t 10.0.0.1:80 -r 10.0.0.2 --fullnat --cl
tab "proxy-v2" vsradm -a -t 10.0.0.1:80 -r 10.0.0.2 --fullnat --client-address p
tab "--stats" vsradm -L -n --sta
tab "--set" ipvsadm --se
tab "-n" ipvsadm-save -
tab "-h" vsradm -h
tab "warning" vsrouted -n -l w
tab "-f" vsrouted -f
tab "-V -a -g -h -i -k -l -n -p -u -v" vsrtun -
tab "debug" vsrtun -a 10.0.0.1 -l d
echo "# $npass passed, $nfail failed"
[ "$nfail" = 0 ]
