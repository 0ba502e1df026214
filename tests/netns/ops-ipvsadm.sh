#!/usr/bin/env bash
# ops-ipvsadm.sh - the name ipvsadm: "make install" with IPVSADM_NAME=yes (as
# ./configure --enable-ipvsadm-name sets it) into a DESTDIR puts ipvsadm,
# ipvsadm-save and ipvsadm-restore there as links to vsradm, and a script
# written for ipvsadm, run unchanged with that directory first in PATH,
# builds, saves, clears and restores a service of a live daemon that then
# serves; the installed bash completion offers the daemon's services and
# real servers.  The script's /run is its own (a mount namespace) and holds
# the daemon's socket at ipvsadm's place, /run/vsrouted.sock.
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1            rs2
#  curl        vsrouted,        nginx          nginx
#              no service until the script adds one
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd make unshare

root=$T_DIR/root
make -s -C "$VSR_TOP" install DESTDIR="$root" IPVSADM_NAME=yes >"$T_DIR/install.log" 2>&1 ||
	{ cat "$T_DIR/install.log"; fatal "make install IPVSADM_NAME=yes failed"; }
sbin=$(dirname "$(find "$root" -path '*/sbin/vsradm' | head -n 1)")
comp=$(dirname "$(find "$root" -path '*/completions/vsradm' | head -n 1)")
for n in ipvsadm ipvsadm-save ipvsadm-restore; do
	assert_eq vsradm "$(readlink "$sbin/$n" || true)" "$n is installed as a link to vsradm"
	assert_eq vsradm "$(readlink "$comp/$n" || true)" "its completion too"
done
make -s -C "$VSR_TOP" uninstall DESTDIR="$root" IPVSADM_NAME=yes >>"$T_DIR/install.log" 2>&1
assert_eq 0 "$(find "$root" -type l -o -type f | wc -l)" "make uninstall removes them all"
make -s -C "$VSR_TOP" install DESTDIR="$root" IPVSADM_NAME=yes >>"$T_DIR/install.log" 2>&1
rm -rf "$T_DIR/plain"
make -s -C "$VSR_TOP" install DESTDIR="$T_DIR/plain" >>"$T_DIR/install.log" 2>&1
assert_eq 0 "$(find "$T_DIR/plain" -name 'ipvsadm*' | wc -l)" "without it, no ipvsadm is installed"
rm -rf "$T_DIR/plain"

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done
# One service in the file on another VIP: a daemon started without any dr
# real server on a LAN does not resolve the MACs of those added later (a
# link.c limit, reported; not this test's subject).
cat >"$T_DIR/vsrouted.conf" <<CONF
tap = vsr0
announce = { eth0 }
virtual_server other {
    address = 10.10.0.101
    port = 8080
    real_server rs1 { address = 10.10.0.11 }
}
CONF
vsrouted_start director "$T_DIR/vsrouted.conf"

# The operator's script, as it was written for ipvsadm.
cat >"$T_DIR/lvs.sh" <<SCRIPT
set -e
ipvsadm -A -t $VIP:80 -s rr
ipvsadm -a -t $VIP:80 -r 10.10.0.11:80 -g -w 1
ipvsadm -a -t $VIP:80 -r 10.10.0.12:80 -g -w 1
ipvsadm -Ln >"$T_DIR/list1"
SCRIPT
cat >"$T_DIR/save.sh" <<SCRIPT
set -e
ipvsadm-save -n >"$T_DIR/rules"
ipvsadm -C
ipvsadm -Ln >"$T_DIR/list2"
ipvsadm-restore <"$T_DIR/rules"
ipvsadm -Ln >"$T_DIR/list3"
SCRIPT
cat >"$T_DIR/complete.sh" <<SCRIPT
. "$comp/vsradm"
tab() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _vsradm; echo "\${COMPREPLY[*]}"; }
tab ipvsadm -e -t ""
tab ipvsadm -d -t $VIP:80 -r ""
SCRIPT
# as_ipvsadm SCRIPT: run it with the installed links first in PATH and the
# daemon's socket at /run/vsrouted.sock, in a mount namespace of its own.
as_ipvsadm() {
	unshare --mount --propagation private sh -c \
		'mount -t tmpfs tmpfs /run && ln -s "$1" /run/vsrouted.sock && PATH="$2:$PATH" bash "$3"' \
		sh "$(vsrouted_sock director)" "$sbin" "$1"
}
assert_true "the ipvsadm script runs unchanged" as_ipvsadm "$T_DIR/lvs.sh"
assert_eq 2 "$(grep -c ':80 .*Route' "$T_DIR/list1")" "ipvsadm -Ln lists the two real servers"
http_get_n client "http://$VIP/" 4 >"$T_DIR/answers"
assert_eq "rs1 rs1 rs2 rs2" "$(sort "$T_DIR/answers" | tr '\n' ' ' | sed 's/ $//')" \
	"the service the script made serves, round robin"
as_ipvsadm "$T_DIR/complete.sh" >"$T_DIR/complete.out" 2>&1 || true
assert_eq "$VIP:80 10.10.0.101:8080" "$(sed -n 1p "$T_DIR/complete.out")" \
	"completion offers the daemon's services"
assert_eq "10.10.0.11:80 10.10.0.12:80" "$(sed -n 2p "$T_DIR/complete.out")" \
	"completion offers the service's real servers"

# ipvsadm-save and ipvsadm-restore: vsradm acts by the name it is called by.
if ! as_ipvsadm "$T_DIR/save.sh" >"$T_DIR/save.log" 2>&1; then
	cat "$T_DIR/save.log"
	fail "ipvsadm-save, -C, ipvsadm-restore"
fi
assert_eq 3 "$(grep -c '^-a ' "$T_DIR/rules")" "ipvsadm-save printed the three real servers"
assert_eq 0 "$(grep -c Route "$T_DIR/list2" || true)" "ipvsadm -C cleared them"
assert_true "ipvsadm-restore put back what was saved" diff "$T_DIR/list1" "$T_DIR/list3"
http_get_n client "http://$VIP/" 2 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "the restored service serves"
vsrouted_stop director
