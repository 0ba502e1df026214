#!/usr/bin/env bash
# flood.sh - a spoofed SYN flood and a spoofed UDP flood, as fast as this
# machine sends them, while 3 keep-alive clients and a new-connection probe
# run: established flows lose nothing and >= 99 % of the probe's new
# connections succeed, during and after the flood (issue 15 item 2).
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+---- ...
#   | 10.10.0.1    | 10.10.0.3    | 10.10.0.2    | 10.10.0.11..13
# client        flooder        director        rs1..rs3
# floodload.py  floodsend      vsrouted        nginx, VIP on lo
#               from 198.18.0.0/15 (spoofed; the real servers blackhole it)
#
# Phases, each with a fresh daemon: 2 s of load, 10 s of flood, 11 s after
# (more than the probe's 10 s, so that an attempt stuck across the end
# leaves some after it).
#   1. SYN flood, the default table (conn_max 1048576) and defaults.
#   2. UDP flood on the UDP service, the default table and defaults.
#   3. SYN flood at FLOOD_PPS against "web" made fullnat with
#      synproxy = yes (local address 10.10.0.250 on the LAN): no SYN
#      makes an entry; >= 99 % asserted during and after, and the
#      keep-alive clients whole. syn-synproxy-max (FLOOD_PHASES=all or by
#      name) is the same at the top rate, its figures printed and only
#      the table's part asserted (no entry from a SYN, >= 99 % after).
#      Measured there on this 2-core machine, shared (2026-12-06, 5 runs,
#      32,000-81,000 packets/s): the probe 100 % during (5-11 attempts:
#      each waits out SYN retransmissions) and after, every run; a
#      keep-alive client timed out in 3 of the 5 (the TAP and the CPU
#      saturate, the SYN-ACKs add a write each, and proxied connections
#      have no SACK or timestamps to recover losses with). That is a
#      capacity figure of a saturated machine that also runs the flooder,
#      not a property of the defence: it stays out of the default phases.
#   4. SYN flood against a table of 20,000: the defaults, drop_entry
#      alone, all off (and with FLOOD_PHASES=all secure_tcp alone and
#      drop_packet alone): the figures are printed for each; the defaults'
#      and drop_entry's are asserted, the others are what they are (all
#      off refuses).
# The asserted phases flood at FLOOD_PPS (default 20,000 packets/s), a
# rate at which the director's CPU, not its table, is still not the limit
# on a 2-core machine that also runs the flooder and the clients; that is
# where the defences decide the outcome. syn-max floods as fast as this
# machine can send (about 460,000 packets/s when idle): there the TAP
# queue and the CPU overflow, new connections during the flood take SYN
# retransmissions or fail, and only what the table decides is asserted
# (established flows whole, >= 99 % after the flood); its figures are
# printed. The issue's ">= 99 % during a flood at the highest rate" is
# not met there (said in the issue's closing note). There the keep-alive
# clients' requests may wait out the flood (floodload.py's WAIT, 20 s):
# what is asserted is that no established flow is lost (the director's
# table keeps it, the client's TCP recovers it), not how fast a machine
# whose two cores the flooder shares serves it. CI's run of 2026-12-06
# (465,000 SYN/s) saw each client's request time out after 5 s there.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
FLOODSEND=$VSR_TOP/tests/floodsend
[ -x "$FLOODSEND" ] || skip "no $FLOODSEND: make check builds it"

T_HTTP_ACCESS_LOG=off
lvs_dr_seed 3
ns_add flooder
lan_attach lan0 flooder eth0 10.10.0.3/24
for i in 1 2 3; do
	http_start "rs$i" "rs$i"
	# Answers to spoofed sources go nowhere (as on the Internet, to no one).
	nsx "rs$i" ip route add blackhole 198.18.0.0/15
done

PRE=2 FLOOD=10 POST=11

FLOOD_PPS=${FLOOD_PPS:-20000}

# phase NAME KIND(syn|udp) MUST(yes|after|no|measured) CONFIG-LINE...: the
# flood at $RATE packets/s (0: as fast as it goes); MUST says which probe
# figures are asserted (during and after, after only, none; measured:
# after only, and the keep-alive clients' figure printed, not asserted).
phase() {
	local name=$1 kind=$2 must=$3 conf="$T_DIR/vsrouted-$1.conf" port=80 t0 t1 t2
	shift 3
	seed_conf "$conf" 3 rr "$@"
	# synproxy (SYNPROXY=yes): "web" by fullnat, the handshake answered with cookies.
	[ "${SYNPROXY:-no}" = yes ] &&
		sed -i '0,/^    forward = dr$/s//    forward = fullnat\n    synproxy = yes/' "$conf"
	cat >>"$conf" <<EOF
virtual_server dns {
    address = $VIP
    port = 53
    protocol = udp
    scheduler = rr
    forward = dr
    real_server rs1 { address = 10.10.0.11 }
    real_server rs2 { address = 10.10.0.12 }
    real_server rs3 { address = 10.10.0.13 }
}
EOF
	[ "$kind" = udp ] && port=53
	vsrouted_start director "$conf"
	# How long a keep-alive request may wait for its answer: 5 s at
	# FLOOD_PPS; at the top rate (RATE=0) the flood's own length and 10 s
	# more, so that a request starved by the saturated machine (TCP backs
	# off 0.2, 0.4 ... 6.4 s; the last try before the flood's end is
	# answered by one at most 12.6 s after its start) is answered after
	# it, while one whose flow the director lost is never answered.
	local wait=5
	[ "${RATE:-$FLOOD_PPS}" = 0 ] && wait=$((FLOOD + 10))
	bg_start "load-$name" client python3 -u "$VSR_NETNS_DIR/floodload.py" "$VIP" 80 \
		$((PRE + FLOOD + POST)) 3 "$T_DIR/probe-$name" "$wait"
	local load=$BG_PID
	wait_for "load $name" 30 grep -q '^ready' "$T_DIR/load-$name.log"
	sleep "$PRE"
	t0=$(now_ms)
	nsx flooder "$FLOODSEND" "$kind" "$VIP" "$port" 198.18.0.0/15 "$FLOOD" "${RATE:-$FLOOD_PPS}" >"$T_DIR/flood-$name.out" 2>&1 ||
		fail "$name: floodsend: $(cat "$T_DIR/flood-$name.out")"
	t1=$(now_ms)
	# floodload.py ends by itself POST seconds after the flood.
	while kill -0 "$load" 2>/dev/null; do sleep 0.5; done
	vsrouted_stats director >/dev/null
	sed "s/^/# $name: /" "$T_DIR/load-$name.log"
	local tot_d ok_d tot_a ok_a pct_d pct_a
	tot_d=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 < b' "$T_DIR/probe-$name" | wc -l)
	ok_d=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 < b && $2 == "ok"' "$T_DIR/probe-$name" | wc -l)
	tot_a=$(awk -v b="$t1" '$1 >= b' "$T_DIR/probe-$name" | wc -l)
	ok_a=$(awk -v b="$t1" '$1 >= b && $2 == "ok"' "$T_DIR/probe-$name" | wc -l)
	pct_d=$((tot_d ? ok_d * 1000 / tot_d : 0))
	pct_a=$((tot_a ? ok_a * 1000 / tot_a : 0))
	printf '# %-15s %s flood: %s; probe during %d/%d (%d.%d %%), after %d/%d (%d.%d %%); ' \
		"$name" "$kind" "$(sed -n 's/^sent //p' "$T_DIR/flood-$name.out")" \
		"$ok_d" "$tot_d" $((pct_d / 10)) $((pct_d % 10)) "$ok_a" "$tot_a" $((pct_a / 10)) $((pct_a % 10))
	printf 'slowest %s ms; ' "$(awk '$2 == "ok" && $3 > m { m = $3 } END { print m + 0 }' "$T_DIR/probe-$name")"
	printf 'conn_created %s defence_evicted %s drop_reserve %s drop_table_full %s drop_defence_packet %s' \
		"$(stat_get conn_created)" "$(stat_get defence_evicted)" "$(stat_get drop_reserve)" \
		"$(stat_get drop_table_full)" "$(stat_get drop_defence_packet)"
	[ "${SYNPROXY:-no}" = yes ] &&
		printf ' synproxy_syn_cookies_sent %s synproxy_ack_valid %s synproxy_ack_invalid %s synproxy_spliced %s' \
			"$(stat_get synproxy_syn_cookies_sent)" "$(stat_get synproxy_ack_valid)" \
			"$(stat_get synproxy_ack_invalid)" "$(stat_get synproxy_spliced)"
	printf '\n'
	if [ "${SYNPROXY:-no}" = yes ]; then
		# Every probe and keep-alive connection spliced; the flood's SYNs made none.
		assert_eq "$(stat_get synproxy_ack_valid)" "$(stat_get conn_created)" \
			"$name: every flow was made by a valid cookie (no SYN made one)"
		assert_ge "$(stat_get conn_created)" "$(stat_get synproxy_spliced)" \
			"$name: the real servers' SYN-ACKs answered, one a flow"
		assert_ge 10000 "$(stat_get synproxy_syn_cookies_sent)" \
			"$name: the flood's SYNs were answered with cookies"
	fi
	grep ' ERR ' "$T_DIR/probe-$name" | sort -k3 | uniq -c -f2 | head -5 | sed "s/^/# $name probe: /" || true
	[ "$must" = measured ] ||
		assert_eq 3 "$(grep -c '^client .* ok$' "$T_DIR/load-$name.log")" \
			"$name: the 3 keep-alive connections lose nothing"
	[ "$must" = yes ] &&
		assert_ge 990 "$pct_d" "$name: >= 99 % of new connections during the flood (per mille)"
	[ "$must" = yes ] || [ "$must" = after ] || [ "$must" = measured ] &&
		assert_ge 990 "$pct_a" "$name: >= 99 % of new connections after the flood (per mille)"
	assert_true "$name: vsrouted still runs" vsrouted_alive director
	vsrouted_stop director
}

# FLOOD_PHASES="name ..." runs only those; "all" runs every one. By
# default seven (secure_tcp alone, drop_packet alone and synproxy at the
# top rate are left out to stay within the suite's time on a shared
# machine; run them with "all" or by name). tests/run.sh runs each of the
# seven once: four here against the plain daemon, three in flood[asan].
FLOOD_PHASES=${FLOOD_PHASES:-syn-default udp-default syn-synproxy syn-drop-entry syn-small-dflt syn-none syn-max}
want() { [ "$FLOOD_PHASES" = all ] || case " $FLOOD_PHASES " in *" $1 "*) ;; *) return 1 ;; esac; }
want syn-default && phase syn-default syn yes
want udp-default && phase udp-default udp yes
want syn-synproxy && SYNPROXY=yes phase syn-synproxy syn yes "local_address = { 10.10.0.250 }"
want syn-synproxy-max && RATE=0 SYNPROXY=yes phase syn-synproxy-max syn measured "local_address = { 10.10.0.250 }"
want syn-drop-entry && phase syn-drop-entry syn yes "conn_max = 20000" "drop_entry = always" "secure_tcp = off"
want syn-small-dflt && phase syn-small-dflt syn yes "conn_max = 20000"
want syn-secure-tcp && phase syn-secure-tcp syn no "conn_max = 20000" "drop_entry = off" "secure_tcp = always"
want syn-drop-packet && phase syn-drop-packet syn no "conn_max = 20000" "drop_entry = off" "secure_tcp = off" \
	"drop_packet = always"
want syn-none && phase syn-none syn no "conn_max = 20000" "drop_entry = off" "secure_tcp = off"
want syn-max && RATE=0 phase syn-max syn after
true
