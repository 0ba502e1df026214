#!/usr/bin/env bash
# frag.sh - IP fragments (issue 18 item 3): 4,000- and 30,000-byte UDP
# datagrams through the director and back, intact, also with their
# fragments sent last first (scapy); a flood of later fragments whose
# first never comes stays within fragment_memory and the service answers.
#
# VSR_TEST_FORWARD picks the seed: nat (default: a nat and a fullnat
# service side by side, lvs_nat_seed), dr (lvs_dr_seed) or tun (IPIP to
# vsrtun, lvs_tun_seed). VSR_TEST_FAMILY=6 runs it over IPv6.
#
#   client (udpsrv.py ask --size, fragsend.py) -- director (vsrouted) -- rs1 (udpsrv.py --echo)
#
# The real server echoes each datagram whole (port 5353), and fragments
# its answers as the client did: with nat and fullnat those fragments come
# back through the director, steered there by the policy rules (nat: the
# rules for a real server's fragments, which carry no ports) and rewritten
# one by one. The nat service's rules are checked while it runs.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3
need_scapy

FWD=${VSR_TEST_FORWARD:-nat}
FAM=${VSR_TEST_FAMILY:-4}
PORT=5353
OWN=7000
MEM=1048576
FLOOD=3000

case $FWD in
nat)
	[ "$FAM" = 6 ] && lvs_nat_seed6 1 || lvs_nat_seed 1
	if [ "$FAM" = 6 ]; then V=$VIP6 C=2001:db8:10::1 R=2001:db8:20::11 L=2001:db8:20::250
	else V=$VIP C=10.10.0.1 R=10.20.0.11 L=10.20.0.250; fi
	services="nat:$PORT:$PORT fullnat:$((PORT + 1)):$PORT"
	;;
dr)
	[ "$FAM" = 6 ] && lvs_dr_seed6 1 || lvs_dr_seed 1
	if [ "$FAM" = 6 ]; then V=$VIP6 C=2001:db8:10::1 R=2001:db8:10::11
	else V=$VIP C=10.10.0.1 R=10.10.0.11; fi
	services="dr:$PORT:$PORT"
	;;
tun)
	need_vsrtun
	[ "$FAM" = 6 ] && lvs_tun_seed6 1 || lvs_tun_seed 1
	if [ "$FAM" = 6 ]; then V=$VIP6 C=2001:db8:10::1 R=2001:db8:30:1::11
	else V=$VIP C=10.10.0.1 R=10.30.1.11; fi
	services="tun:$PORT:$PORT"
	;;
*) fatal "VSR_TEST_FORWARD=$FWD: nat, dr or tun" ;;
esac
bg_start udp-rs1 rs1 python3 -u "$VSR_NETNS_DIR/udpsrv.py" serve rs1 "$PORT" --echo
wait_for "udp echo server on rs1" 10 grep -q '^ready' "$T_DIR/udp-rs1.log"

{
	echo "tap = vsr0"
	echo "announce = { eth0 }"
	echo "fragment_memory = $MEM"
	echo "fragment_timeout = 30"
	[ "$FWD" = nat ] && echo "local_address = { $L }"
	for s in $services; do
		echo "virtual_server ${s%%:*} {"
		echo "    address = $V"
		p=${s#*:}
		echo "    port = ${p%%:*}"
		echo "    protocol = udp"
		echo "    scheduler = rr"
		echo "    forward = ${s%%:*}"
		[ "$FWD" = tun ] && echo "    tunnel = ipip"
		echo "    real_server rs1 { address = $R  port = ${s##*:} }"
		echo "}"
	done
} >"$T_DIR/vsrouted.conf"
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
if [ "$FWD" = nat ]; then
	# The real server's fragments: its ported traffic jumps over the
	# rule that takes the rest (fragments, no ports) into the TAP.
	rules=$(nsx director ip -$FAM rule show)
	for want in "7601:	from $R iif eth1 ipproto udp sport 1-65534 goto 7603" \
		"7602:	from $R iif eth1 ipproto udp lookup 7600" "7603:	from all nop"; do
		if grep -qF "$want" <<<"$rules"; then pass "rule: $want"
		else fail "no rule \"$want\" in: $rules"; fi
	done

	# The real server's own traffic that those rules bring into the TAP
	# (not a reply to any flow): a datagram it fragments, and one from
	# source port 65535, which no rule's port range holds. The director
	# forwards them as the kernel would have (vsrouted.8), the first ones
	# while their next hop is being looked up through the TAP, the later
	# ones straight out of eth0.
	bg_start udp-own client python3 -u "$VSR_NETNS_DIR/udpsrv.py" serve client "$OWN" --echo
	wait_for "udp echo server on the client" 10 grep -q '^ready' "$T_DIR/udp-own.log"
	# Their TTL (hop limit) as they reach the client, before any
	# reassembly: 63 straight out of the director (one hop, as the kernel
	# routes), 62 through the TAP and the kernel again.
	if [ "$FAM" = 6 ]; then m="ip6 saddr $R ip6 hoplimit"; else m="ip saddr $R ip ttl"; fi
	nsx client nft -f - <<EOF2
table inet own {
	chain pre {
		type filter hook prerouting priority -500;
		$m 63 counter name one
		$m 62 counter name two
		$m != { 62, 63 } counter name other
	}
	counter one {}
	counter two {}
	counter other {}
}
EOF2
	for k in 1 2 3; do
		got=$(nsx rs1 python3 "$VSR_NETNS_DIR/udpsrv.py" ask "$C" "$OWN" --sport $((40100 + k)) \
			--size 4000 --timeout 3 2>>"$T_DIR/ask.err" || echo ERR)
		assert_eq "intact 4000" "$got" "IPv$FAM: rs1's own 4,000-byte datagram to the client ($k)"
		got=$(nsx rs1 python3 "$VSR_NETNS_DIR/udpsrv.py" ask "$C" "$OWN" --sport 65535 \
			--size 200 --timeout 3 2>>"$T_DIR/ask.err" || echo ERR)
		assert_eq "intact 200" "$got" "IPv$FAM: rs1's own datagram from port 65535 ($k)"
	done
	# Its own fragments sent last first (scapy, TTL 64): the later ones
	# wait for their first, then follow it.
	q0=$(vsrouted_stats director >/dev/null; stat_get fragments_queued)
	got=$(nsx rs1 "$SPY" "$VSR_NETNS_DIR/fragsend.py" reverse "$R" "$C" "$OWN" 40200 4000 \
		2>>"$T_DIR/ask.err" || echo ERR)
	assert_eq "intact 4000" "$got" "IPv$FAM: rs1's own 4,000 bytes, fragments sent last first"
	vsrouted_stats director >/dev/null
	assert_ge $((q0 + 3)) "$(stat_get fragments_queued)" "its later fragments waited for the first"
	# 3 x (3 fragments + 1 datagram) + 4 fragments; the answers come back routed by the kernel.
	own=$(stat_get forwarded) tap=$(stat_get forwarded_via_tap)
	assert_eq 16 "$own" "rs1's own frames through the TAP are counted as forwarded"
	assert_gt "$tap" "$own" "some of them went straight out, not all through the TAP"
	assert_eq 0 "$(stat_get drop_no_conn_out)" "none of them dropped as a reply of no flow"
	ttl() { nsx client nft list counter inet own "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
	assert_eq $((own - tap)) "$(ttl one)" "those sent straight out came one hop (TTL 63)"
	assert_eq "$tap" "$(ttl two)" "those through the TAP two (TTL 62)"
	assert_eq 0 "$(ttl other)" "none with another TTL"

	# What rs1 sends from its service's port that is no reply of a flow
	# (a DNS server's own query from port 53, say): the rule for that port
	# brings it into the TAP, and it is passed on unchanged, rs1's address
	# showing, as IPVS lets it through (vsrouted.8). scapy, so that no
	# socket of rs1's server need give the port up.
	if [ "$FAM" = 6 ]; then ipk=ip6 sp="IPv6(src='$R', dst='$C')"; else ipk=ip sp="IP(src='$R', dst='$C')"; fi
	nsx client nft add counter inet own stray
	nsx client nft add rule inet own pre "$ipk" saddr "$R" udp sport "$PORT" udp dport 9 counter name stray
	f0=$(stat_get forwarded)
	nsx rs1 "$SPY" -c "from scapy.all import *
for i in range(3): send($sp/UDP(sport=$PORT, dport=9)/Raw(b'own query %d' % i), verbose=0)" \
		2>>"$T_DIR/ask.err" || fail "scapy could not send rs1's datagrams"
	stray() { nsx client nft list counter inet own stray | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
	wait_for "rs1's 3 datagrams from port $PORT at the client" 10 test "$(stray)" = 3
	assert_eq 3 "$(stray)" "IPv$FAM: rs1's own datagrams from its service's port reach the client, un-NATed"
	vsrouted_stats director >/dev/null
	assert_eq $((f0 + 3)) "$(stat_get forwarded)" "they are counted as forwarded"
	assert_eq 0 "$(stat_get drop_no_conn_out)" "none of them dropped as a reply of no flow"
fi

# IPv6 over tun: the client's 1500-byte fragments do not fit the tunnel
# and no router may cut an IPv6 packet, so the first datagram earns the
# client a packet too big (tun_frag_needed) and is lost, as on any such
# path; the client's kernel then sends smaller fragments.
if [ "$FWD$FAM" = tun6 ]; then
	nsx client python3 "$VSR_NETNS_DIR/udpsrv.py" ask "$V" "$PORT" --size 4000 --timeout 1 \
		>/dev/null 2>&1 || true
fi
n=0
for s in $services; do
	mode=${s%%:*} port=${s#*:} port=${port%%:*}
	for size in 4000 30000; do
		n=$((n + 1))
		got=$(nsx client python3 "$VSR_NETNS_DIR/udpsrv.py" ask "$V" "$port" --sport $((41000 + n)) \
			--size "$size" --timeout 3 2>>"$T_DIR/ask.err" || echo ERR)
		assert_eq "intact $size" "$got" "$mode, IPv$FAM: a $size-byte datagram there and back"
		n=$((n + 1))
		got=$(nsx client "$SPY" "$VSR_NETNS_DIR/fragsend.py" reverse "$C" "$V" "$port" \
			$((41000 + n)) "$size" 2>>"$T_DIR/ask.err" || echo ERR)
		assert_eq "intact $size" "$got" "$mode, IPv$FAM: $size bytes, fragments sent last first"
	done
done
vsrouted_stats director >/dev/null
fwd=$(stat_get fragments_forwarded)
assert_gt 50 "$fwd" "fragments forwarded are counted"
q0=$(stat_get fragments_queued)
assert_gt 0 "$q0" "fragments sent before their first waited"
assert_eq 0 "$(stat_get drop_fragment_memory)" "none dropped for memory before the flood"

# The flood: later fragments of $FLOOD datagrams, about 4 MiB, into 1 MiB.
# From another address of the client's: the IPv4 ones number their
# datagrams 1..$FLOOD, and those that wait (fragment_timeout, 30 s) would
# take the fragments of a datagram of the client's own with the same ID
# (its kernel's IDs start anywhere in 16 bits: about 1 % a datagram) into
# a reassembly that the real server refuses (overlapping fragments), and
# the service's answer after the flood would be lost by chance.
if [ "$FAM" = 6 ]; then FL=2001:db8:10::9; ns_addr6 client eth0 "$FL/64"
else FL=10.10.0.9; nsx client ip addr add "$FL/24" dev eth0; fi
first=${services%% *}
fport=${first#*:}
sent=$(nsx client "$SPY" "$VSR_NETNS_DIR/fragsend.py" flood "$FL" "$V" "${fport%%:*}" "$FLOOD")
assert_eq "sent $FLOOD" "$sent" "the flood was sent"
# Read once the daemon has taken the flood in (each fragment queued or
# dropped for memory), not after a fixed time.
flood_in() {
	vsrouted_stats director >/dev/null &&
		echo $(($(stat_get fragments_queued) - q0 + $(stat_get drop_fragment_memory)))
}
count_wait "$FLOOD" flood_in >/dev/null
vsrouted_stats director >/dev/null
q=$(stat_get fragments_queued) m=$(stat_get drop_fragment_memory)
# Each waits as its frame (14 + IP + 1400 bytes) and a virtio-net header, rounded to 16.
if [ $((q - q0)) -le $((MEM / 1440)) ]; then pass "what waited fits fragment_memory ($((q - q0)) queued)"
else fail "more waited than fragment_memory holds: $((q - q0)) queued"; fi
assert_gt $((FLOOD / 2)) "$m" "the rest dropped for memory, counted"
if [ $((q - q0 + m)) -le "$FLOOD" ]; then pass "no more counted than were sent ($((q - q0)) + $m)"
else fail "more counted than were sent: $((q - q0)) + $m"; fi
vsrouted_alive director || fail "vsrouted died in the flood"
for s in $services; do
	port=${s#*:} port=${port%%:*}
	got=$(nsx client python3 "$VSR_NETNS_DIR/udpsrv.py" ask "$V" "$port" --sport 42999 \
		--size 4000 --timeout 3 2>>"$T_DIR/ask.err" || echo ERR)
	assert_eq "intact 4000" "$got" "${s%%:*}, IPv$FAM: the service answers after the flood"
done
vsrouted_stop director
