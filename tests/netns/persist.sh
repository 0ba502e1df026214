#!/usr/bin/env bash
# persist.sh - persistence (ipvsadm -p -M) with rr: one client stays on one
# real server across 20 connections; with netmask 255.255.255.0 a second
# client of the same /24 is the same client, one of another /24 is not
#
#                         LAN lan0 (bridge)
#   +-------------------------+--------------+--------------+--------------+
#   | 10.10.0.1 + 10.10.1.1   | 10.10.0.3    | 10.10.0.2    | 10.10.0.11..13
# client (two /24s)        client2        director       rs1 rs2 rs3
#                                         vsrouted (rr, persistent 60, /24)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 3
ns_add client2
lan_attach lan0 client2 eth0 10.10.0.3/24
# A second /24 on the client's LAN, reachable on-link by everyone.
nsx client ip addr add 10.10.1.1/24 dev eth0
for ns in director rs1 rs2 rs3; do route_add "$ns" 10.10.1.0/24 dev eth0; done
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
virtual_server web {
    address    = $VIP
    port       = 80
    scheduler  = rr
    persistent = 60
    netmask    = 255.255.255.0
    real_server rs1 { address = 10.10.0.11 }
    real_server rs2 { address = 10.10.0.12 }
    real_server rs3 { address = 10.10.0.13 }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"

get20() {  # get20 NS [SOURCE]
	nsx "$1" sh -c 'for i in $(seq 20); do curl -s --connect-timeout 2 -m 5 ${2:+--interface "$2"} "$1" || echo ERR; done' \
		sh "http://$VIP/" "${2:-}"
}
get20 client >"$T_DIR/a"
get20 client2 >"$T_DIR/b"
get20 client 10.10.1.1 >"$T_DIR/c"
for f in a b c; do
	assert_eq 0 "$(count_of ERR "$T_DIR/$f")" "$f: every request answered"
	assert_eq 1 "$(sort -u "$T_DIR/$f" | grep -c .)" "$f: 20 connections, one real server"
done
first=$(head -n 1 "$T_DIR/a")
assert_eq "$first" "$(head -n 1 "$T_DIR/b")" "10.10.0.3 shares 10.10.0.1's server (same /24)"
assert_ne "$first" "$(head -n 1 "$T_DIR/c")" "10.10.1.1 (another /24) is scheduled anew by rr"

vsrouted_stats director >/dev/null
persist=0
for i in 1 2 3; do persist=$((persist + $(stat_get rs "web/rs$i" persist_conns))); done
assert_eq 2 "$persist" "two templates: one per client /24"
vsrouted_stop director
