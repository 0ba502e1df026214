#!/usr/bin/env bash
# ops-ctlgroup.sh - control_group: the control socket belongs to that group,
# mode 0660, so its members run vsradm without root; anyone else is refused
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   |
# client       director         rs1
#              vsrouted, control_group = nogroup
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd setpriv
getent group nogroup >/dev/null || skip "no group 'nogroup' on this system"

lvs_dr_seed 1
http_start rs1 rs1
seed_conf "$T_DIR/vsrouted.conf" 1 rr "control_group = nogroup"
# Others may reach the socket's directory (the state directory is 0700).
chmod 0711 "$T_DIR"
vsrouted_start director "$T_DIR/vsrouted.conf"
sock=$(vsrouted_sock director)
assert_eq "660 nogroup" "$(stat -c '%a %G' "$sock")" "the socket is 0660, group nogroup"

as() {  # as UID GID CMD...: run CMD with only those ids
	local u=$1 g=$2
	shift 2
	setpriv --reuid="$u" --regid="$g" --clear-groups --inh-caps=-all "$@"
}
gid=$(getent group nogroup | cut -d: -f3)
assert_true "a member of nogroup lists the services" \
	sh -c "$(declare -f as); as 65534 $gid '$VSR_TOP/src/vsradm' --socket '$sock' -Ln | grep -q 'TCP  $VIP:80 rr'"
assert_false "another user is refused" \
	sh -c "$(declare -f as); as 65533 65533 '$VSR_TOP/src/vsradm' --socket '$sock' -Ln"
vsrouted_stop director
