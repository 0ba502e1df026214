#!/usr/bin/env bash
# svc-ops.sh - one-packet scheduling (ops = yes, ipvsadm -o) for a DNS-like
# UDP service over dr: 300 datagrams from ONE client socket are spread rr
# exactly (100 each), no connection entry is kept, the counters still count;
# vsradm -E sets and clears -o; nat real servers are refused with ops.
# Fragments: 4,000- and 30,000-byte datagrams from one client port, also
# sent last fragment first (scapy), each arrive whole at exactly one real
# server (their later fragments follow the first one's, frag.h), and rr
# over datagrams still holds.
#
#                         LAN lan0 (bridge)
#   client 10.10.0.1 -- director 10.10.0.2 -- rs1 .11, rs2 .12, rs3 .13
#   one socket         vsrouted (rr, ops)      udpsrv.py, VIP on lo
#                                              (5353: names, 5354: --echo)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3
need_scapy

PORT=5353
BIG=5354
lvs_dr_seed 3
udp_seed_servers 3 "$PORT"
udp_seed_servers 3 "$BIG" --echo

conf() {  # conf OPS [FORWARD]: dns on PORT (FORWARD), big on BIG (dr), both ops = OPS
	udp_seed_conf "$T_DIR/vsrouted.conf" 3 "$PORT" "ops = $1" "forward = ${2:-dr}"
	cat >>"$T_DIR/vsrouted.conf" <<EOF
virtual_server big {
    address = $VIP
    port = $BIG
    protocol = udp
    scheduler = rr
    ops = $1
    forward = dr
    real_server rs1 { address = 10.10.0.11 }
    real_server rs2 { address = 10.10.0.12 }
    real_server rs3 { address = 10.10.0.13 }
}
EOF
}

# burst N: N datagrams from one connected socket (one source port), each
# answered before the next is sent; the answers, one a line (ERR: none).
burst() {
	nsx client python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], int(sys.argv[2])))
for i in range(int(sys.argv[3])):
    s.send(b"q%d" % i)
    try:
        print(s.recv(512).decode().strip())
    except socket.timeout:
        print("ERR")
' "$VIP" "$PORT" "$1"
}

conf yes
vsrouted_start director "$T_DIR/vsrouted.conf"
vsradm -Ln >"$T_DIR/list"
assert_true "the listing shows ops" grep -q "UDP  $VIP:$PORT rr ops" "$T_DIR/list"

burst 300 >"$T_DIR/a"
assert_eq 0 "$(count_of ERR "$T_DIR/a")" "every datagram was answered"
for i in 1 2 3; do
	assert_eq 100 "$(count_of "rs$i" "$T_DIR/a")" "rs$i answered exactly 100 of one socket's 300"
done
assert_eq 0 "$(vsradm -Lnc | grep -c "$VIP" || true)" "no connection entry is kept"
conns=$(vsradm -Ln --stats | awk -v v="$VIP:$PORT" '$2 == v { print $3 }')
assert_eq 300 "$conns" "the service counted 300 connections"

# Fragmented datagrams, all from one client port: 12, alternately 4,000
# and 30,000 bytes, every other pair sent last fragment first. Each comes
# back whole from the echo server that got it whole, rr: 4 each.
vsrouted_stats director >/dev/null
nc0=$(stat_get drop_no_conn)
for i in $(seq 12); do
	size=$(( i % 2 ? 4000 : 30000 ))
	if [ $(( (i - 1) / 2 % 2 )) = 0 ]; then
		got=$(nsx client python3 "$VSR_NETNS_DIR/udpsrv.py" ask "$VIP" "$BIG" --sport 43000 \
			--size "$size" --timeout 3 2>>"$T_DIR/ask.err" || echo ERR)
		how="in order"
	else
		got=$(nsx client "$SPY" "$VSR_NETNS_DIR/fragsend.py" reverse 10.10.0.1 "$VIP" "$BIG" \
			43000 "$size" 2>>"$T_DIR/ask.err" || echo ERR)
		how="last fragment first"
	fi
	assert_eq "intact $size" "$got" "ops, datagram $i: $size bytes ($how) there and back"
done
total=0
for i in 1 2 3; do
	n=$(grep -c '^from 10.10.0.1:43000 ' "$T_DIR/udp-rs$i-echo.log" || true)
	assert_eq 4 "$n" "rs$i got exactly 4 of the 12 datagrams whole (rr over datagrams)"
	total=$((total + n))
	assert_eq 2 "$(grep -c ' len 30000$' "$T_DIR/udp-rs$i-echo.log" || true)" \
		"rs$i: two of them of 30,000 bytes"
done
assert_eq 12 "$total" "each datagram reached exactly one real server"
vsrouted_stats director >/dev/null
assert_eq "$nc0" "$(stat_get drop_no_conn)" "no later fragment was dropped for want of a flow"
assert_gt 100 "$(stat_get fragments_forwarded)" "the fragments were forwarded, counted"
assert_eq 0 "$(vsradm -Lnc | grep -c "$VIP" || true)" "no connection entry is kept for fragments either"
conns=$(vsradm -Ln --stats | awk -v v="$VIP:$BIG" '$2 == v { print $3 }')
assert_eq 12 "$conns" "the service counted 12 connections, one a datagram"

# Without ops the same socket sticks to one real server.
vsradm -E -u "$VIP:$PORT" -s rr
burst 30 >"$T_DIR/b"
assert_eq 1 "$(sort -u "$T_DIR/b" | wc -l)" "ops cleared by vsradm -E: one flow, one real server"
vsradm -E -u "$VIP:$PORT" -s rr -o
burst 30 >"$T_DIR/c"
assert_eq 3 "$(sort -u "$T_DIR/c" | grep -c rs)" "ops set again by vsradm -E -o: spread again"

# nat keeps no entry for its replies with ops: refused, clearly.
set +e
out=$(vsradm -a -u "$VIP:$PORT" -r 10.10.0.14:$PORT -m 2>&1)
rc=$?
set -e
assert_ne 0 "$rc" "vsradm -a -m on an ops service is refused"
assert_true "saying why" sh -c "echo '$out' | grep -q 'one-packet scheduling'"
vsrouted_stop director

conf yes nat
set +e
"$(vsrouted_bin)" -t -f "$T_DIR/vsrouted.conf" >"$T_DIR/t.out" 2>&1
rc=$?
set -e
assert_ne 0 "$rc" "vsrouted -t refuses nat real servers with ops"
assert_true "naming FILE:LINE" grep -q "vsrouted.conf:[0-9]*: real server rs1: nat with ops" "$T_DIR/t.out"
