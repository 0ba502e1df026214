#!/usr/bin/env bash
# ops-ctlgroup.sh - control_group: the control socket belongs to that group,
# mode 0660, so its members run vsradm without root; anyone else is refused.
# control_group_read: its members list (services, connections, stats,
# rates, timeouts) but every request that changes something is refused
# with a clear message; root and control_group keep everything.
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   |
# client       director         rs1
#              vsrouted, control_group = nogroup, then also
#              control_group_read = users
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd setpriv
getent group nogroup >/dev/null || skip "no group 'nogroup' on this system"
getent group users >/dev/null || skip "no group 'users' on this system"
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for an unprivileged client"

lvs_dr_seed 1
http_start rs1 rs1
seed_conf "$T_DIR/vsrouted.conf" 1 rr "control_group = nogroup"
# Others may reach the socket's directory (the state directory is 0700).
chmod 0711 "$T_DIR"
vsrouted_start director "$T_DIR/vsrouted.conf"
sock=$(vsrouted_sock director)
# Ready means the VIPs are up; the socket comes a moment later (valgrind: a while).
wait_for "the control socket" 30 test -S "$sock"
assert_eq "660 nogroup" "$(stat -c '%a %G' "$sock")" "the socket is 0660, group nogroup"

as() {  # as UID GID [GROUPS] CMD...: run CMD with only those ids
	local u=$1 g=$2 groups=--clear-groups
	shift 2
	case ${1:-} in --groups=*) groups=$1; shift ;; esac
	setpriv --reuid="$u" --regid="$g" "$groups" --inh-caps=-all "$@"
}
vsradm_as() {  # vsradm_as UID GID [GROUPS] ARGS...: vsradm as those ids, output in $T_DIR/as.out
	local u=$1 g=$2 groups=
	shift 2
	case ${1:-} in --groups=*) groups=$1; shift ;; esac
	as "$u" "$g" ${groups:+"$groups"} "$VSR_TOP/src/vsradm" --socket "$sock" "$@" >"$T_DIR/as.out" 2>&1
}
nogroup=$(getent group nogroup | cut -d: -f3)
users=$(getent group users | cut -d: -f3)
assert_true "a member of nogroup lists the services" \
	sh -c "$(declare -f as); as 65534 $nogroup '$VSR_TOP/src/vsradm' --socket '$sock' -Ln | grep -q 'TCP  $VIP:80 rr'"
assert_false "another user is refused" \
	sh -c "$(declare -f as); as 65533 65533 '$VSR_TOP/src/vsradm' --socket '$sock' -Ln"
vsrouted_stop director

# ---- a read-only group beside it
seed_conf "$T_DIR/vsrouted.conf" 1 rr "control_group = nogroup" "control_group_read = users"
vsrouted_start director "$T_DIR/vsrouted.conf"
wait_for "the control socket" 30 test -S "$sock"
assert_eq "666 nogroup" "$(stat -c '%a %G' "$sock")" \
	"with a read-only group too, the socket is 0666: the peer's credentials decide"
http_get client "http://$VIP/" >/dev/null

assert_true "a member of users (primary group) lists the services" vsradm_as 65533 "$users" -Ln
assert_true "the listing is there" grep -q "TCP  $VIP:80 rr" "$T_DIR/as.out"
assert_true "a member of users (supplementary group) lists them too" \
	vsradm_as 65533 65533 --groups="$users" -Ln
assert_true "it lists the connections" vsradm_as 65533 "$users" -Lnc
assert_true "it reads the stats" vsradm_as 65533 "$users" -Ln --stats
assert_true "it reads the rates" vsradm_as 65533 "$users" -Ln --rate
assert_true "it reads the timeouts" vsradm_as 65533 "$users" -L --timeout
for args in "-A -t 10.10.0.200:80 -s rr" "-a -t $VIP:80 -r 10.10.0.12 -g" \
	"-e -t $VIP:80 -r 10.10.0.11 -g -w 0" "-d -t $VIP:80 -r 10.10.0.11" "-D -t $VIP:80" \
	"-E -t $VIP:80 -s wlc" "-C" "-Z" "--set 1 2 3"; do
	# shellcheck disable=SC2086 # ARGS is a vsradm command line
	rc=0; vsradm_as 65533 "$users" $args || rc=$?
	assert_ne 0 "$rc" "read-only: vsradm $args is refused"
	assert_true "with a clear message" grep -q "permission denied: members of control_group_read may list, not change" "$T_DIR/as.out"
done
assert_eq "1 rr" "$(vsradm -Ln | awk -v v="$VIP:80" '$2 == v { s = $3 } /->/ && $2 ~ /^10\./ { n++ } END { print n, s }')" \
	"nothing changed: one real server, rr"
assert_eq "900 120 300" "$(vsradm -L --timeout | awk '{ print $(NF - 2), $(NF - 1), $NF }')" "nor the timeouts"

assert_true "a member of nogroup still changes things" vsradm_as 65534 "$nogroup" -e -t "$VIP:80" -r 10.10.0.11 -g -w 3
assert_eq 3 "$(vsradm -Ln | awk '$2 == "10.10.0.11:80" { print $4 }')" "its change is made"
rc=0; vsradm_as 65533 65533 -Ln || rc=$?
assert_ne 0 "$rc" "a user in neither group is refused"
assert_true "told why" grep -q "permission denied: only root and the members of control_group and control_group_read" "$T_DIR/as.out"
assert_true "and the refusal is logged" grep -q "control: uid 65533 gid 65533 is not allowed; refused" "$(vsrouted_log director)"
assert_true "root does everything" vsradm -e -t "$VIP:80" -r 10.10.0.11 -g -w 1

# Others may connect (0666) but not take the operators' places: 16 idle
# connections of a user in neither group leave room for root and members.
install -m 0644 "$VSR_NETNS_DIR/ctlclient.py" "$T_DIR/"     # where that user can read it
bg_start idle - setpriv --reuid=65533 --regid=65533 --clear-groups \
	/usr/bin/python3 "$T_DIR/ctlclient.py" idle "$sock" 16 30
idle=$BG_PID
wait_for "16 connections of an outsider" 10 grep -q '^open 16' "$T_DIR/idle.log"
assert_true "root still lists" vsradm_as 0 0 -Ln
assert_true "a member of users still lists" vsradm_as 65533 "$users" -Ln
bg_stop "$idle"
vsrouted_stop director
