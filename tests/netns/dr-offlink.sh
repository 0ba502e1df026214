#!/usr/bin/env bash
# dr-offlink.sh - a dr real server that is not on a LAN of the director is a
# configuration error: the daemon names the file and line, exits non-zero,
# and leaves the host as it found it
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    |     10.20.0.11 (behind 10.10.0.254,
# client       director                 a router that is not there)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 1
route_add director 10.20.0.0/24 via 10.10.0.254

cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
virtual_server web {
    address = $VIP
    port = 80
    real_server near { address = 10.10.0.11 }
    real_server far {
        address = 10.20.0.11
    }
}
EOF
ns_snapshot director "$T_DIR/before"
set +e
nsx director "$(vsrouted_bin)" -n -f "$T_DIR/vsrouted.conf" >"$T_DIR/out" 2>&1
rc=$?
set -e
cat "$T_DIR/out"
assert_ne 0 "$rc" "vsrouted refuses to start"
assert_true "the error names FILE:LINE of the real server and the gateway" \
	grep -q "^$T_DIR/vsrouted.conf:7: real server far (10.20.0.11): not on a directly connected LAN (reached via 10.10.0.254)" "$T_DIR/out"
ns_snapshot director "$T_DIR/after"
assert_true "the director is left as it was" diff "$T_DIR/before" "$T_DIR/after"
