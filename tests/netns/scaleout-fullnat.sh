#!/usr/bin/env bash
# scaleout-fullnat.sh - two active directors behind a BIRD 2 ECMP router
# (lib.sh's ecmp_seed, drawn there) in fullnat, mh with mh-port,
# sloppy_tcp, each director with a local address of its own (d1
# 10.10.0.201, d2 10.10.0.202) and sync { state = both } on the LAN:
# each sends its connections and takes the other's (issue 17).
#
# What it shows: a director that drains (SIGTERM, drain_timeout 40 s)
# leaves the router's ECMP route, and the downloads it made move to the
# other director, which forwards them with the entry sync brought: the
# drained director's local address and port, so the real server sees
# the same connection. Every download completes intact. Without that
# entry the other director would schedule the moved flow anew (sloppy_tcp)
# from a local address of its own, and the real server would reset it.
#
# What it does not show, because it does not hold: the real server
# answers the local address, which belongs to the director that made the
# flow, so the moved flows' replies still go through that director; they
# last as long as it forwards (its drain), not after it is gone. Nothing
# takes a stopped director's local addresses over yet.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd curl nginx

NDL=12              # downloads
BLOB_MB=2           # each, at RATE bytes/s: 20 s (d1 stops about 2 s in, 5 s watched)
RATE=100k
DRAIN=40
DIRS="d1 d2"
laddr_of() { echo "10.10.0.$((200 + ${1#d}))"; }

ecmp_seed 2 fullnat || fatal "the topology could not be built"
blob_sha=$(blob_make "$BLOB_MB")
for i in 1 2 3; do T_HTTP_LIMIT_RATE=$RATE http_start "rs$i" "rs$i"; done

for d in $DIRS; do
	ECMP_DRAIN=$DRAIN ecmp_director_up "$d" fullnat "local_address = { $(laddr_of "$d") }" \
		"sync {" "    state = both" "    interface = eth0" "}" || fatal "vsrouted in $d does not start"
done
ecmp_route_settles "10.10.0.2 10.10.0.3" "both directors"

# Download I uses client port 20000+I (below the ephemeral range).
ecmp_downloads_start "$NDL"

# The real servers' connections on port 80: "LADDR:LPORT" a line.
rs_peers() {
	local i
	for i in 1 2 3; do
		nsx "rs$i" ss -Htn state established '( sport = :80 )' 2>/dev/null | awk '{ print $NF }'
	done | sort
}
# dN's ESTABLISHED entries of the downloads (client ports 20001..)
dl_entries() {
	vsradm_in "$1" -Lnc 2>/dev/null |
		awk -v nd="$NDL" '$1 == "TCP" && $3 == "ESTABLISHED" { n = split($4, c, ":")
			if (c[n] > 20000 && c[n] <= 20000 + nd) print c[n] }' | sort -u
}
_t_rs_has() { [ "$(rs_peers | wc -l)" -ge "$NDL" ]; }
_t_synced() { [ "$(dl_entries d1 | wc -l)" -ge "$NDL" ] && [ "$(dl_entries d2 | wc -l)" -ge "$NDL" ]; }

wait_for "the $NDL downloads to be established" 20 _t_rs_has ||
	fail "only $(rs_peers | wc -l) of $NDL downloads reached a real server"
rs_peers >"$T_DIR/peers.start"
n1=$(grep -c "^$(laddr_of d1):" "$T_DIR/peers.start" || true)
n2=$(grep -c "^$(laddr_of d2):" "$T_DIR/peers.start" || true)
echo "# downloads by the director that made them (the real servers' peers): d1 $n1, d2 $n2"
assert_eq "$NDL" "$((n1 + n2))" "every download reaches a real server from a director's local address"
assert_gt 0 "$n1" "ECMP gave d1 some of the downloads"
wait_for "each director to list every download (its own and, synced, the other's)" 15 _t_synced || true
assert_eq "$NDL $NDL" "$(dl_entries d1 | wc -l) $(dl_entries d2 | wc -l)" \
	"both directors list every download (sync state = both)"

# d1 drains: it withdraws the VIP, the router sends everything to d2.
t_stop=$(now_ms)
d1pid=$(cat "$T_DIR/vsrouted-d1.pid")
kill -TERM "$d1pid"
wait_for "the router to drop d1" 10 ecmp_paths_are "10.10.0.3" ||
	fail "the router still routes through d1 after its SIGTERM: '$(ecmp_paths)'"
echo "# d1 withdrawn from the router $(( $(now_ms) - t_stop )) ms after its SIGTERM"
assert_true "vsrouted in d1 still forwards during its drain" vsrouted_alive d1
sleep 5
rs_peers >"$T_DIR/peers.moved"
assert_eq "$(cat "$T_DIR/peers.start" | tr '\n' ' ')" \
	"$(grep -F -x -f "$T_DIR/peers.start" "$T_DIR/peers.moved" | tr '\n' ' ')" \
	"5 s after d1 left the route: the real servers still hold every download, from the same local address and port"

# Every download ends, intact, while d1 drains.
ecmp_downloads_end "$NDL" 60 "$blob_sha"
t_end=$ECMP_DL_END
assert_eq "$NDL" "$ECMP_DL_OK" "every download completed with the right sha256, the $n1 of d1 through d2 after its drain began${ECMP_DL_BROKEN:+; broken:$ECMP_DL_BROKEN}"
assert_true "they ended before d1's drain did ($(( (t_end - t_stop) / 1000 )) s of $DRAIN)" \
	test $((t_end - t_stop)) -lt $((DRAIN * 1000))
vsrouted_stats d2 >/dev/null
echo "# d2: $(stat_get rx_packets) packets, $(stat_get drop_no_conn) refused without an entry, sync: $(stat_get sync_rx_conns) entries applied"
assert_eq 0 "$(stat_get sync_rx_no_dest)" "d2 dropped no synced entry (d1's local address taken as a peer's)"
assert_true "vsrouted in d1 still runs (draining)" vsrouted_alive d1
# A second signal during a drain stops at once.
kill -TERM "$d1pid" 2>/dev/null || true
wait_for "d1 to stop" 10 _t_not_running "$d1pid" || fail "d1 did not stop on a second SIGTERM"
rm -f "$T_DIR/vsrouted-d1.pid"
assert_true "vsrouted in d2 runs" vsrouted_alive d2
d2pid=$(cat "$T_DIR/vsrouted-d2.pid")
kill -TERM "$d2pid"
# The second once the first is taken (its drain begun), not after a fixed
# 0.5 s: two SIGTERMs still pending together are one, and d2 would drain
# its whole $DRAIN s.
wait_for "d2's drain to begin" 20 grep -q 'withdrawing, forwarding for' "$(vsrouted_log d2)" || true
kill -TERM "$d2pid" 2>/dev/null || true
wait_for "d2 to stop" 10 _t_not_running "$d2pid" || fail "d2 did not stop on a second SIGTERM"
rm -f "$T_DIR/vsrouted-d2.pid"
for d in $DIRS; do bird_stop "$d"; done
bird_stop router
