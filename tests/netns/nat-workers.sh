#!/usr/bin/env bash
# nat-workers.sh - workers = 2: both TAP queues carry traffic, and the TAP's
# steering program brings both directions of every TCP and UDP flow, nat
# and fullnat, IPv4 and IPv6, to the worker that made it (worker_crossed
# stays 0) and each works in its own table, taking no other worker's
# lock and the shared one only for new flows and changes of state; a
# reload whose file is slow to come (a FIFO) holds up no worker. Then the
# same daemon started without CAP_BPF and CAP_SYS_ADMIN: it cannot load
# the program, says so once and goes on, the directions of flows cross
# workers (worker_crossed and lock_other_table above 0: the assertions of
# the first part fail without the program), and the flows stay whole.
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#        2001:db8:10::/64                     2001:db8:20::/64
#   ==+=================+=====         =====+================+========
#     |                 |                   |                |
#   eth0 .1 ::1      eth0 .2 ::2         eth1 .1 ::1      eth0 .11 .12 ::11 ::12
#  +--------+     +---------------+                   +----------------+
#  | client |     |   director    |-------------------| rs1 (nat)      |
#  |  curl  |     | vsrouted      |                   | rs2 (fullnat)  |
#  +--------+     | vsr0: 2 queues|                   | nginx :80,     |
#                 | 2 workers     |                   | udpsrv :5353,  |
#                 +---------------+                   | pushsrv :9000  |
#                                                     +----------------+
#
#   VIP:80 and [VIP6]:80 nat -> rs1:80, :81 fullnat -> rs2:80 (parallel
#   4 MB downloads); :53 nat -> rs1:5353, :54 fullnat -> rs2:5353 (UDP
#   exchanges, one flow each, from distinct ports); local addresses
#   10.20.0.250 and 2001:db8:20::250. Without the program: VIP:9000 nat ->
#   rs1:9000, VIP:9001 fullnat -> rs2:9000, where the server speaks first,
#   after 7 s of silence, when the kernel has forgotten which queue the
#   flow was on: its data may come in on the other queue.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 sha256sum setpriv

PAR=12          # downloads per service, with the program
PAR2=6          # and without
UDPN=32         # UDP flows per service
lvs_nat_seed6 2
sum=$(blob_make 4)
for i in 1 2; do
	http_start "rs$i" "rs$i"
	udp_start "rs$i" "rs$i" 5353
	bg_start "push-rs$i" "rs$i" python3 -u "$VSR_NETNS_DIR/pushsrv.py" serve 9000 7 "$T_DIR/www/blob"
	wait_for "pushsrv on rs$i" 10 grep -q '^ready' "$T_DIR/push-rs$i.log"
done

conf=$T_DIR/vsrouted.conf
nat_workers_conf "$conf" "web-nat 80 tcp nat 1 80" "web-fn 81 tcp fullnat 2 80" \
	"push-nat 9000 tcp nat 1 9000" "push-fn 9001 tcp fullnat 2 9000" \
	"dns-nat 53 udp nat 1 5353" "dns-fn 54 udp fullnat 2 5353"
sed -i 's/^local_address = .*/local_address = { 10.20.0.250, 2001:db8:20::250 }/' "$conf"
for spec in "web6-nat 80 tcp nat 1 80" "web6-fn 81 tcp fullnat 2 80" \
	"dns6-nat 53 udp nat 1 5353" "dns6-fn 54 udp fullnat 2 5353"; do
	read -r name port proto fwd n rport <<<"$spec"
	cat >>"$conf" <<EOF
virtual_server $name {
    address = $VIP6
    port = $port
    protocol = $proto
    forward = $fwd
    real_server rs$n { address = 2001:db8:20::1$n  port = $rport }
}
EOF
done

# downloads TAG N: N parallel downloads from each of the four web
# services at once, each checked
downloads() {
	local tag=$1 n=$2
	nsx client sh -c "for i in \$(seq $n); do
		curl -s -m 60 http://$VIP/blob | sha256sum &
		curl -s -m 60 http://$VIP:81/blob | sha256sum &
		curl -s -m 60 'http://[$VIP6]/blob' | sha256sum &
		curl -s -m 60 'http://[$VIP6]:81/blob' | sha256sum &
	done; wait" >"$T_DIR/parallel-$tag"
	assert_eq $((4 * n)) "$(count_of "$sum  -" "$T_DIR/parallel-$tag")" \
		"$tag: $((4 * n)) parallel 4 MB downloads (nat, fullnat; IPv4, IPv6) intact"
}

# exchanges TAG BASE: UDPN exchanges with each of the four UDP services,
# each from a source port of its own (a flow each), from BASE on; one
# client process for them all (a process per datagram takes a minute here)
exchanges() {
	local tag=$1 base=$2
	nsx client python3 - "$UDPN" "$base" "$VIP" "$VIP6" >"$T_DIR/udp-$tag" <<'EOF'
import socket, sys
n, base, v4, v6 = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
for i in range(1, n + 1):
    for addr, port, off in ((v4, 53, 0), (v4, 54, 100), (v6, 53, 200), (v6, 54, 300)):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.bind(("", base + off + i))
            s.connect((addr, port))
            s.settimeout(2)
            s.send(b"ping")
            try:
                print(s.recv(2048).decode().strip(), flush=True)
            except OSError as e:
                print("ERR", addr, port, e, flush=True)
EOF
	assert_eq $((2 * UDPN)) "$(count_of rs1 "$T_DIR/udp-$tag")" \
		"$tag: $((2 * UDPN)) nat UDP exchanges (IPv4, IPv6) answered"
	assert_eq $((2 * UDPN)) "$(count_of rs2 "$T_DIR/udp-$tag")" \
		"$tag: $((2 * UDPN)) fullnat UDP exchanges (IPv4, IPv6) answered"
}

# neigh_mac ADDR: the MAC the director's kernel holds for ADDR on the TAP
neigh_mac() {
	ip -n "$(nsname director)" neigh show dev vsr0 to "$1" | awk '$2 == "lladdr" { print $3; exit }'
}

# same_mac A B: the kernel holds one MAC for A and B on the TAP
same_mac() {
	local a
	a=$(neigh_mac "$1")
	[ -n "$a" ] && [ "$a" = "$(neigh_mac "$2")" ]
}

# other_mac A B: it holds MACs for both, not the same one
other_mac() {
	local a b
	a=$(neigh_mac "$1")
	b=$(neigh_mac "$2")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]
}

# ---- with the program
vsrouted_start director "$conf"
log=$(vsrouted_log director)
assert_true "the TAP has two queues" \
	test "$(nsx director ls /sys/class/net/vsr0/queues | grep -c '^rx-')" -eq 2
assert_true "the steering program is attached" grep -q "steered to the same one of 2 queues" "$log"
downloads steered "$PAR"
exchanges steered 20000
assert_true "the nat replies' gateway and the local address are at one MAC (the reply MAC)" \
	same_mac 169.254.118.254 10.20.0.250
assert_true "the VIP is at another (the daemon's own)" other_mac "$VIP" 10.20.0.250

# A reload reads its file outside the data-path lock: while the main
# thread waits for the file (a FIFO nobody writes yet), the workers forward.
cp "$conf" "$T_DIR/next.conf"
rm "$conf"
mkfifo "$conf"
kill -HUP "$(cat "$T_DIR/vsrouted-director.pid")"
wait_for "the reload to start" 10 grep -q "SIGHUP: reloading" "$log" || true
http_get_n client "http://$VIP/" 5 >"$T_DIR/during-reload"
# Whatever happened, give the reload its file.
cat "$T_DIR/next.conf" >"$conf"
assert_eq 5 "$(count_of rs1 "$T_DIR/during-reload")" \
	"5 new connections answered while the reload waits for its file"
assert_true "the reload ends once the file comes" \
	wait_for "the reload to end" 10 grep -q "reloaded:" "$log"
rm "$conf"
cp "$T_DIR/next.conf" "$conf"
assert_eq rs1 "$(http_get client "http://$VIP/")" "rs1 answers after the reload"
# The program is the TAP's: the reload left it alone.
exchanges after-reload 21000

vsrouted_stats director >"$T_DIR/stats-steered"
for w in 0 1; do
	assert_gt 100 "$(stat_get worker $w rx_packets)" "worker $w read frames from its queue"
	assert_gt 0 "$(stat_get worker $w conn_created)" "worker $w made connections"
done
assert_eq 0 "$(stat_get worker_crossed)" \
	"no packet of a TCP or UDP flow (nat, fullnat; IPv4, IPv6) reached the worker that did not make it"
# Each worker's table is its own: no worker took another's lock, and the
# shared one only for new flows and changes of state, not per packet.
assert_eq 0 "$(stat_get lock_other_table)" "no worker took another worker's table's lock"
rx=$(stat_get rx_packets)
shared=$(stat_get lock_shared)
assert_gt 0 "$shared" "the workers took the shared lock (new flows)"
assert_true "the shared lock for fewer than 1 packet in 10 ($shared of $rx)" \
	test "$((shared * 10))" -lt "$rx"
assert_eq "$((PAR + 6))" "$(stat_get vs web-nat conns)" "web-nat counted every connection"
assert_eq "$((2 * UDPN))" "$(stat_get vs dns6-fn conns)" "dns6-fn counted every flow"
assert_eq 0 "$(stat_get drop_no_conn_out)" "no reply without its connection"
assert_eq 0 "$(stat_get drop_no_conn)" "no client segment without its connection"
assert_eq 0 "$(stat_get lport_exhausted)" "no local port refused"
cp "$log" "$T_DIR/vsrouted-director-steered.log"
vsrouted_stop director

# ---- without it: no CAP_BPF, no CAP_SYS_ADMIN
if [ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null || echo 0)" = 0 ]; then
	# Any process may load a socket filter here: the program would load anyway.
	echo "# unprivileged BPF is allowed on this host: the fallback is not exercised"
	exit 0
fi
VSR_WRAP="setpriv --bounding-set -bpf,-sys_admin --inh-caps -bpf,-sys_admin ${VSR_WRAP:-}" \
	vsrouted_start director "$conf"
assert_true "without the capabilities: one warning, and it runs on" \
	test "$(grep -c "cannot load the TAP's steering program" "$log")" -eq 1
downloads unsteered "$PAR2"
exchanges unsteered 22000
bg_start fetch-nat client python3 "$VSR_NETNS_DIR/pushsrv.py" fetch "$VIP" 9000 "$PAR2"
fnat=$BG_PID
bg_start fetch-fn client python3 "$VSR_NETNS_DIR/pushsrv.py" fetch "$VIP" 9001 "$PAR2"
ffn=$BG_PID
wait_for "the pushed transfers" 60 _t_not_running "$fnat" || true
wait_for "the pushed transfers" 60 _t_not_running "$ffn" || true
assert_eq "$PAR2" "$(count_of "$sum" "$T_DIR/fetch-nat.log")" "$PAR2 nat transfers pushed after 7 s intact"
assert_eq "$PAR2" "$(count_of "$sum" "$T_DIR/fetch-fn.log")" "$PAR2 fullnat transfers pushed after 7 s intact"
vsrouted_stats director >"$T_DIR/stats-unsteered"
for w in 0 1; do
	assert_gt 100 "$(stat_get worker $w rx_packets)" "unsteered: worker $w read frames from its queue"
done
assert_gt 0 "$(stat_get worker_crossed)" \
	"unsteered: packets of flows made by the other worker were handled (and the flows stayed whole)"
assert_gt 0 "$(stat_get lock_other_table)" \
	"unsteered: a worker took the other's table's lock for those packets"
assert_eq 0 "$(stat_get drop_no_conn_out)" "unsteered: no reply without its connection"
assert_eq 0 "$(stat_get drop_no_conn)" "unsteered: no client segment without its connection"
vsrouted_stop director
