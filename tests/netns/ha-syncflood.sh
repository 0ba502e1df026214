#!/usr/bin/env bash
# ha-syncflood.sh - a flood of valid-looking sync messages at a director:
# it creates connections up to conn_max and no further (the rest counted
# as sync_rx_table_full), and its packet path is not starved: a download
# that runs through it meanwhile completes intact and in time.
# lib.sh's two-director topology without keepalived: dir2 (conn_max 3000)
# is made master by vsradm and is the real servers' gateway; from dir1's
# address on the real servers' LAN, syncflood.py sends 40-entry messages
# to 224.0.0.81:8848 for 8 s, each entry a new client of the nat service.
set -eu
. "$(dirname "$0")/lib.sh"
need_cmd python3

lvs_ha_seed nat
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
ip -n "$(nsname dir2)" addr add 10.20.0.1/24 dev eth1
ha_conf "$T_DIR/vsrouted-dir2.conf" nat "conn_max = 3000"
vsrouted_start dir2 "$T_DIR/vsrouted-dir2.conf"
vsradm_in dir2 --role master >/dev/null
assert_eq master "$(ha_role dir2)" "dir2 is master"
T_HTTP_PACE=128k
sha=$(blob_make 2)
ha_downloads_start 1 "http://$VIP/paced/blob"
t0=$(now_ms)
nsx dir1 python3 "$VSR_NETNS_DIR/syncflood.py" 10.20.0.2 "$VIP" 80 10.20.0.11 80 8 \
	>"$T_DIR/flood.sent"
ha_downloads_wait 1 "$sha"
took=$(( $(now_ms) - t0 ))
assert_eq 1 "$DL_OK" "a 2 MB download paced at 128 kB/s through dir2 completes intact during the flood"
assert_true "in less than 30 s ($took ms; 16 s unhindered)" test "$took" -lt 30000
vsrouted_stats dir2 >/dev/null
sent=$(cat "$T_DIR/flood.sent")
conns=$(vsradm_in dir2 -Lnc | awk -v v="$VIP:80" '$5 == v' | wc -l)
assert_gt 3000 "$sent" "the flood sent more entries than conn_max ($sent)"
assert_true "dir2 holds at most conn_max connections ($conns)" test "$conns" -le 3000
assert_gt 2000 "$(stat_get sync_rx_conns)" "dir2 took entries up to about conn_max"
assert_gt 0 "$(stat_get sync_rx_table_full)" "and counted the rest as sync_rx_table_full"
assert_eq 0 "$(stat_get sync_rx_refused)" "no message was refused: they are valid"
vsrouted_stop dir2
