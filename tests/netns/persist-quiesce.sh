#!/usr/bin/env bash
# persist-quiesce.sh - a persistence template stops pinning clients once its
# real server is quiesced (weight 0): the next connection is scheduled anew
# (the kernel's expire_quiescent_template); flows already there go on
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director         rs1            rs2
#              vsrouted (rr, persistent 60)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done
seed_conf "$T_DIR/vsrouted.conf" 2
sed -i 's/^    scheduler = rr$/    scheduler = rr\n    persistent = 60/' "$T_DIR/vsrouted.conf"
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 5 >"$T_DIR/before"
first=$(head -n 1 "$T_DIR/before")
assert_eq 5 "$(count_of "$first" "$T_DIR/before")" "persistence: 5 connections on $first"
case $first in rs1) addr=10.10.0.11 other=rs2 ;; *) addr=10.10.0.12 other=rs1 ;; esac

# A long flow on the pinned server, then the server is quiesced.
bg_start hold client python3 "$VSR_TOP/tests/netns/holdopen.py" "$VIP" 80 1 60
hold=$BG_PID
wait_for "a held connection" 10 grep -q '^ready' "$T_DIR/hold.log"
assert_eq "$first" "$(head -n 1 "$T_DIR/hold.log")" "the held connection is on $first too"
vsradm -e -t "$VIP:80" -r "$addr" -w 0

http_get_n client "http://$VIP/" 5 >"$T_DIR/after"
assert_eq 5 "$(count_of "$other" "$T_DIR/after")" "quiesced: new connections go to $other"
vsrouted_stats director >/dev/null
assert_eq 1 "$(stat_get rs "web/$other" persist_conns)" "a new template pins $other"
assert_eq 1 "$(stat_get rs "web/$first" active_conns)" "the held flow on $first goes on"
bg_stop "$hold" TERM 10
vsrouted_stop director
