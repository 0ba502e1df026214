#!/usr/bin/env bash
# scaleout.sh - three active directors behind a BIRD 2 ECMP router (BGP +
# BFD), mh with mh-port and sloppy_tcp, dr (or tun with VSR_TEST_FORWARD=tun):
# 30 long-lived downloads and a request loop survive a clean stop of one
# director (drain), a kill -9 of another, and both coming back.
#
#                         LAN lan1 10.10.0.0/24 (bridge)
#   client            ==+==========+==========+==========+=====+=====+=====
#   192.168.1.2         |          |          |          |     |     |
#      |             eth1 .254  eth0 .2    eth0 .3    eth0 .4  .11   .12   .13
#   eth0 .1 +--------+  +-------------+  +-------------+ ...  rs1   rs2   rs3
#   --------| router |  | d1 vsrouted |  | d2 vsrouted |      nginx, VIP on lo
#           |  bird  |  |    bird     |  |    bird     |      (tun: vsrtun0)
#           +--------+  +-------------+  +-------------+
#
#   VIP 10.200.0.100/32: each director's vsrouted puts it in table 100
#   (announce_table), its BIRD (etc/bird-vsrouted.conf) exports it by BGP,
#   the router's BIRD merges the three paths into one ECMP route
#   (fib_multipath_hash_policy = 1). Replies go from the real servers
#   through the router to the client.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd curl nginx
FWD=${VSR_TEST_FORWARD:-dr}
case $FWD in dr) ;; tun) need_vsrtun ;; *) fatal "VSR_TEST_FORWARD must be dr or tun, not '$FWD'" ;; esac

SVIP=$ECMP_VIP
NDL=30              # downloads
# Each download BLOB_MB MiB at RATE bytes/s: 41 s. The three changes below
# take about 15 s from the downloads' start here (2026-12-06: 10 s from
# d1's stop to both back, 3 s of settling each); check_rs asserts after
# each that every download is still running, so a machine too slow for
# this fails, it does not pass with a change that no download crossed.
BLOB_MB=4
RATE=100k
DIRS="d1 d2 d3"

ecmp_seed 3 "$FWD" || fatal "the topology could not be built"
blob_sha=$(blob_make "$BLOB_MB")
# The real servers send at RATE (nginx's limit_rate), so that each download
# is on the wire for as long as the scenario needs it.
for i in 1 2 3; do T_HTTP_LIMIT_RATE=$RATE http_start "rs$i" "rs$i"; done

director_up() { ecmp_director_up "$1" "$FWD" || fatal "vsrouted in $1 does not start"; }
vip_paths() { ecmp_paths; }
paths_are() { ecmp_paths_are "$1"; }
for d in $DIRS; do director_up "$d"; done
all3="10.10.0.2 10.10.0.3 10.10.0.4"
ecmp_route_settles "$all3" "the three directors"
assert_eq "$SVIP dev vsr0 scope link" \
	"$(nsx d1 ip -4 route show table 100 | grep "^$SVIP" | sed 's/ proto static//; s/ *$//')" \
	"d1's announce route is in table 100"
birdc_in d1 show route export upstream >"$T_DIR/d1-export" 2>&1 || true
assert_true "d1's BIRD exports $SVIP/32 to the router" grep -q "^$SVIP/32" "$T_DIR/d1-export"
bfd_up() { [ "$(birdc_in router show bfd sessions 2>/dev/null | grep -c ' Up ')" = 3 ]; }
wait_for "the router's three BFD sessions" 20 bfd_up || true
birdc_in router show bfd sessions >"$T_DIR/bfd" 2>&1 || true
assert_eq 3 "$(grep -c ' Up ' "$T_DIR/bfd" || true)" "the router has three BFD sessions up"

# ---------------------------------------------------------------- traffic
# Download I uses client port 20000+I, so that its 5-tuple is known: below
# the ephemeral range, so the request loop's connections never take one.
ecmp_downloads_start "$NDL"
req_loop_start client "http://$SVIP/" 2000

# The real server that holds each download's connection: "PORT rsN" a line.
rs_holding() {
	local i
	for i in 1 2 3; do
		nsx "rs$i" ss -Htn state established '( sport = :80 )' 2>/dev/null |
			awk -v rs="rs$i" -v nd="$NDL" '{ n = split($NF, a, ":"); p = a[n]; if (p > 20000 && p <= 20000 + nd) print p, rs }'
	done | sort -n
}
# Every download that is still running is held by the real server it started on.
check_rs() {
	local label=$1
	rs_holding >"$T_DIR/rs.$label"
	local changed
	changed=$(join "$T_DIR/rs.start" "$T_DIR/rs.$label" | awk '$2 != $3' | wc -l)
	assert_eq 0 "$changed" "$label: no download changed real server"
	# Each change must happen while every download is still running.
	assert_eq "$NDL" "$(wc -l <"$T_DIR/rs.$label")" "$label: every download is still running"
}
# The running directors' entries for the downloads, "PORT RIP DIRECTOR
# EXPIRE" a line (EXPIRE in seconds: 900 less the time since its last packet).
dir_entries() {
	local d
	for d in $DIRS; do
		vsrouted_alive "$d" || continue
		"${VSRADM:-$VSR_TOP/src/vsradm}" --socket "$(vsrouted_sock "$d")" -Lcn 2>/dev/null |
			awk -v d="$d" '$1 == "TCP" { n = split($4, c, ":"); split($6, r, ":")
				split($2, t, ":"); print c[n], r[1], d, t[1] * 60 + t[2], $3 }'
	done | awk -v nd="$NDL" '$1 > 20000 && $1 <= 20000 + nd' | sort
}
# The director each download goes through now: the one whose entry for it
# saw a packet last (a download sends ACKs all the time; an entry left
# behind by a flow that moved ages). "PORT DIRECTOR" a line; a download
# whose freshest entry is more than 3 s old is "none".
flow_dirs() {
	dir_entries | awk '{ if (!($1 in e) || $4 > e[$1]) { e[$1] = $4; d[$1] = $3 } }
		END { for (p in e) print p, (e[p] >= 897 ? d[p] : "none") }' | sort
}
# Share of downloads whose director changed between two flow_dirs files;
# every download must be going through a director now.
moved() {
	local label=$1
	flow_dirs >"$T_DIR/dir.$2"
	echo "# $label, downloads that moved director: $(join "$T_DIR/dir.$3" "$T_DIR/dir.$2" |
		awk '{ n++; if ($2 != $3) m++ } END { printf "%d of %d (%d%%)", m, n, n ? 100 * m / n : 0 }')"
	echo "# $label, downloads per director: $(awk '{print $2}' "$T_DIR/dir.$2" | sort | uniq -c | tr '\n' ' ')"
	assert_eq "$NDL" "$(awk '$2 != "none"' "$T_DIR/dir.$2" | wc -l)" \
		"$label: every download is being forwarded by a running director"
}
downloads_settled() { [ "$(rs_holding | wc -l)" -ge "$NDL" ]; }

wait_for "the $NDL downloads to be established" 20 downloads_settled ||
	fail "only $(rs_holding | wc -l) of $NDL downloads established"
rs_holding >"$T_DIR/rs.start"
echo "# downloads per real server: $(awk '{print $2}' "$T_DIR/rs.start" | sort | uniq -c | tr '\n' ' ')"
sleep 2
dir_entries >"$T_DIR/entries.start"
assert_eq "$NDL" "$(wc -l <"$T_DIR/entries.start")" "each download has one entry, on the director its SYN reached"
awk '{ n[$1]++; l[$1] = l[$1] " " $3 ":" $5 ":" $4 } END { for (p in n) if (n[p] > 1) print "# two entries at the start:", p, l[p] }' \
	"$T_DIR/entries.start"
moved "at the start" start start >/dev/null
echo "# downloads per director at the start: $(awk '{print $2}' "$T_DIR/dir.start" | sort | uniq -c | tr '\n' ' ')"

# 1. d1 stops cleanly: withdraw, 2 s of drain, stop; its BIRD goes after.
t_stop=$(now_ms)
d1pid=$(cat "$T_DIR/vsrouted-d1.pid")
kill -TERM "$d1pid"
wait_for "the router to drop d1" 5 paths_are "10.10.0.3 10.10.0.4" ||
	fail "the router still routes through d1 after its stop: '$(vip_paths)'"
t_withdrawn=$(now_ms)
echo "# d1 withdrawn from the router $((t_withdrawn - t_stop)) ms after its SIGTERM"
assert_true "vsrouted in d1 still forwards during its drain" vsrouted_alive d1
assert_eq "" "$(nsx d1 ip -4 route show table 100)" "d1's announce route is gone while it drains"
wait_for "d1 to end its drain and stop" 10 _t_not_running "$d1pid" || fail "d1 did not stop after its drain"
t_gone=$(now_ms)
rc=0; wait "$d1pid" 2>/dev/null || rc=$?
rm -f "$T_DIR/vsrouted-d1.pid"
assert_eq 0 "$rc" "vsrouted in d1 exits with status 0 after its drain"
assert_true "d1 forwarded for drain_timeout (2 s) before it stopped ($((t_gone - t_stop)) ms)" \
	test $((t_gone - t_stop)) -ge 1900
bird_stop d1
sleep 3
moved "after d1's clean stop" stop start
check_rs "after d1's stop"

# 2. d2 dies: its BIRD frozen (no withdraw, no BFD), vsrouted killed -9.
t_kill=$(now_ms)
kill -STOP "$(bird_pid d2)"
kill -KILL "$(cat "$T_DIR/vsrouted-d2.pid")"
wait_for "the router to drop d2 (BFD)" 5 paths_are "10.10.0.4" ||
	fail "the router still routes through d2 after its death: '$(vip_paths)'"
t_dropped=$(now_ms)
echo "# d2 dropped by the router $((t_dropped - t_kill)) ms after its death"
# BFD told it (BGP alone would wait for its hold time, 9 s); the time above
# includes this script's polling on a shared machine, so it is printed, and
# the request loop's gap below is what is bounded.
birdc_in router show protocols all d2 >"$T_DIR/router-d2" 2>&1 || true
assert_true "the router dropped d2 on BFD's word ($(grep -o 'Last error:.*' "$T_DIR/router-d2" || true))" \
	grep -q 'Last error:.*BFD session down' "$T_DIR/router-d2"
sleep 3
moved "after d2's death" kill stop
check_rs "after d2's death"

# 3. Both come back: d2's BIRD ends for good first, then a fresh start of each.
t_back=$(now_ms)
kill -KILL "$(bird_pid d2)"
wait "$(bird_pid d2)" 2>/dev/null || true
rm -f "$T_DIR/vsrouted-d2.pid"
director_up d1
director_up d2
wait_for "the router's ECMP route over three directors again" 30 paths_are "$all3" ||
	fail "the directors did not all come back: '$(vip_paths)'"
sleep 3
moved "after both came back" back kill
check_rs "after both came back"

# Flows that came to d1 and d2 mid-way made their entries there by sloppy_tcp.
for d in d1 d2; do
	vsrouted_stats "$d" >/dev/null
	echo "# $d after its restart: $(stat_get rx_packets) packets, $(stat_get drop_no_conn) refused without an entry"
	assert_eq 0 "$(stat_get drop_no_conn)" "$d refused no segment for want of an entry"
done
# Every director holding an entry for a download sends it to the same real server.
dir_entries >"$T_DIR/entries"
bad=$(awk '{ rs = ($2 == "10.10.0.11") ? "rs1" : ($2 == "10.10.0.12") ? "rs2" : "rs3"; print $1, rs }' \
	"$T_DIR/entries" | sort -u | join - "$T_DIR/rs.start" | awk '$2 != $3' | wc -l)
echo "# entries of downloads on the directors: $(awk '{print $3}' "$T_DIR/entries" | sort | uniq -c | tr '\n' ' ')"
# d1 and d2 started after every download: their entries were made mid-flow.
for d in d1 d2; do
	assert_gt 0 "$(awk -v d="$d" '$3 == d' "$T_DIR/entries" | wc -l)" \
		"$d, restarted, took downloads in mid-flow (sloppy_tcp)"
done
assert_eq 0 "$bad" "every director's entry for a download names the real server that holds it"

# ---------------------------------------------------------------- results
ecmp_downloads_end "$NDL" 90 "$blob_sha"
req_loop_stop
assert_eq "$NDL" "$ECMP_DL_OK" "every download completed with the right sha256${ECMP_DL_BROKEN:+; broken:$ECMP_DL_BROKEN}"

n=$(grep -c . "$T_DIR/requests")
nerr=$(count_of ERR <(awk '{print $2}' "$T_DIR/requests"))
read -r gap gap_end < <(awk '$2 != "ERR" { if (last && $1 - last > g) { g = $1 - last; e = $1 }; last = $1 }
	END { printf "%.0f %.0f\n", g, e }' "$T_DIR/requests")
echo "# request loop: $n requests, $nerr failed, longest gap between answers ${gap} ms," \
	"ending $((gap_end - t_stop)) ms after d1's stop ($((t_kill - t_stop)) ms: d2's death," \
	"$((t_back - t_stop)) ms: both come back)"
assert_gt 100 "$n" "the request loop ran"
assert_true "the request loop's longest gap is under 3 s ($gap ms)" test "$gap" -lt 3000

for d in $DIRS; do assert_true "vsrouted in $d runs" vsrouted_alive "$d"; done
for d in $DIRS; do vsrouted_stop "$d"; done
for d in $DIRS; do bird_stop "$d"; done
bird_stop router
if [ "$FWD" = tun ]; then for i in 1 2 3; do vsrtun_stop "rs$i"; done; fi
