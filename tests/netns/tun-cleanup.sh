#!/usr/bin/env bash
# tun-cleanup.sh - vsrouted (tun) and vsrtun leave nothing behind on exit
#
#                  LAN lan0 (bridge)
#   +--------------+---------------+
#   | 10.10.0.1    | 10.10.0.2     | 10.10.0.254
# client       director          router --- 10.30.1.0/24 --- rs1
#  curl     vsrouted (tun gre)                               vsrtun, nginx
#
# Twice (SIGTERM as root, then SIGINT after dropping to -u nobody): while
# running, vsrtun's TUN holds the VIP, its rp_filter is 0 and the VIP
# answers through the tunnel; after the signals both exit 0 and the director
# and rs1 are exactly as before (interfaces, addresses, routes, rules,
# proxy entries, sysctls).
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun

lvs_tun_seed 1 novsrtun
http_start rs1 rs1
tun_conf "$T_DIR/vsrouted.conf" 1 gre
R=$(nsname rs1)

one_round() {
	local sig=$1 user=$2
	echo "# round SIG$sig ${user:+-u $user}"
	ns_snapshot director "$T_DIR/before-d-$sig"
	ns_snapshot rs1 "$T_DIR/before-r-$sig"
	vsrtun_start rs1 -a 10.10.0.2 -v "$VIP" -v 10.10.0.101 -i tunx ${user:+-u "$user"} ||
		fatal "vsrtun did not start"
	vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
	assert_true "SIG$sig round: the TUN holds both VIPs" \
		sh -c "ip -n '$R' -o addr show dev tunx | grep -q ' $VIP/32' && ip -n '$R' -o addr show dev tunx | grep -q ' 10.10.0.101/32'"
	assert_eq 0 "$(nsx rs1 sysctl -n net.ipv4.conf.tunx.rp_filter)" "SIG$sig round: rp_filter 0 on the TUN"
	if [ -n "$user" ]; then
		assert_eq "$(id -u "$user")" "$(awk '/^Uid:/ {print $2}' "/proc/$(_t_vt_pid rs1)/status")" \
			"SIG$sig round: vsrtun runs as $user"
	fi
	assert_eq rs1 "$(http_get client "http://$VIP/")" "SIG$sig round: the VIP answers through the tunnel"
	vsrouted_stop director "$sig"
	vsrtun_stop rs1 "$sig"
	assert_false "SIG$sig round: the TUN is gone" ip -n "$R" link show dev tunx
	ns_snapshot director "$T_DIR/after-d-$sig"
	ns_snapshot rs1 "$T_DIR/after-r-$sig"
	for h in d r; do
		if diff -u "$T_DIR/before-$h-$sig" "$T_DIR/after-$h-$sig" >"$T_DIR/diff-$h-$sig"; then
			pass "SIG$sig round: $([ $h = d ] && echo director || echo rs1) identical to before start"
		else
			cat "$T_DIR/diff-$h-$sig"
			fail "SIG$sig round: $([ $h = d ] && echo director || echo rs1) differs from before start"
		fi
	done
}

one_round TERM ""
one_round INT nobody
