#!/usr/bin/env bash
# sched-sh.sh - source hashing: one client stays on one real server across
# 20 connections, and so does a second client (on its own server or not)
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.3    | 10.10.0.2    | 10.10.0.11.. | ..10.10.0.13
# client        client2        director       rs1 rs2 rs3 (nginx, VIP on lo)
#                              vsrouted (sh)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 3
ns_add client2
lan_attach lan0 client2 eth0 10.10.0.3/24
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
seed_conf "$T_DIR/vsrouted.conf" 3 sh
vsrouted_start director "$T_DIR/vsrouted.conf"

for c in client client2; do
	http_get_n "$c" "http://$VIP/" 20 >"$T_DIR/$c.answers"
	assert_eq 20 "$(grep -c '^rs' "$T_DIR/$c.answers")" "$c: 20 answers"
	assert_eq 1 "$(sort -u "$T_DIR/$c.answers" | grep -c .)" "$c: one real server for all 20 connections"
done
vsrouted_stop director
