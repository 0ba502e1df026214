#!/usr/bin/env bash
# dr-cleanup.sh - vsrouted undoes every host change on SIGTERM and SIGINT
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11
# client       director         rs1
#  curl     vsrouted          nginx, VIP on lo
#
# Twice (SIGTERM, then SIGINT), with different values of ip_forward and
# neigh/eth0/proxy_delay set beforehand: while running, the daemon's changes
# are there (vsr0, VIP route, proxy entry, forwarding on, proxy_delay 0) and
# the VIP answers; after the signal it exits 0 and the director is exactly
# as before (interfaces, addresses, routes, rules, proxy entries, sysctls),
# with the old values back, not the kernel's defaults.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 1
http_start rs1 rs1

seed_conf "$T_DIR/vsrouted.conf" 1

D=$(nsname director)
getsys() { nsx director sysctl -n "$1"; }
has_vsr0() { ip -n "$D" link show dev vsr0 >/dev/null 2>&1; }

one_round() {
	local sig=$1 fwd=$2 delay=$3
	echo "# round SIG$sig: ip_forward=$fwd proxy_delay=$delay before start"
	ns_sysctl director "net.ipv4.ip_forward=$fwd" "net.ipv4.neigh.eth0.proxy_delay=$delay"
	# proxy_delay is kept in jiffies: read back what the kernel made of it
	delay=$(getsys net.ipv4.neigh.eth0.proxy_delay)
	ns_snapshot director "$T_DIR/before-$sig"

	vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
	assert_true "SIG$sig round: vsr0 exists while running" has_vsr0
	assert_true "SIG$sig round: route to the VIP into vsr0 while running" \
		sh -c "ip -n '$D' route show table all '$VIP/32' | grep -q 'dev vsr0'"
	assert_true "SIG$sig round: proxy entry for the VIP on eth0 while running" \
		sh -c "ip -n '$D' neigh show proxy | grep -q '^$VIP dev eth0'"
	assert_eq 1 "$(getsys net.ipv4.ip_forward)" "SIG$sig round: forwarding on while running"
	assert_eq 0 "$(getsys net.ipv4.neigh.eth0.proxy_delay)" "SIG$sig round: proxy_delay 0 while running"
	assert_eq rs1 "$(http_get client "http://$VIP/")" "SIG$sig round: the VIP answers"

	vsrouted_stop director "$sig"
	assert_eq "" "$(ip -n "$D" route show table all | grep -F "$VIP" || true)" \
		"SIG$sig round: no route to the VIP left"
	assert_eq "" "$(ip -n "$D" neigh show proxy)" "SIG$sig round: no proxy entry left"
	assert_false "SIG$sig round: vsr0 is gone" has_vsr0
	assert_eq "$fwd" "$(getsys net.ipv4.ip_forward)" "SIG$sig round: ip_forward back to its old value"
	assert_eq "$delay" "$(getsys net.ipv4.neigh.eth0.proxy_delay)" \
		"SIG$sig round: proxy_delay on eth0 back to its old value"
	ns_snapshot director "$T_DIR/after-$sig"
	if diff -u "$T_DIR/before-$sig" "$T_DIR/after-$sig" >"$T_DIR/diff-$sig"; then
		pass "SIG$sig round: director state identical to before start"
	else
		cat "$T_DIR/diff-$sig"
		fail "SIG$sig round: director state differs from before start"
	fi
}

one_round TERM 0 40
one_round INT 1 8
