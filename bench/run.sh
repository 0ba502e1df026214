#!/usr/bin/env bash
# bench/run.sh - vsrouted against the kernel's NAT and HAProxy, in one run
#
#   bench/run.sh [--quick] [--rounds N] [--duration S] [--warmup S]
#                [--only SYSTEMS] [--one-client] [--out DIR] [-h]
#
# As root, from a built tree (autoreconf -fi && ./configure && make), or
# `make bench`.  Needs wrk, iperf3, haproxy, nft, conntrack, nginx, curl,
# python3 and gnuplot (the chart only).
#
#   --quick        1 round of 1 s per figure (tests/run.sh runs it: bench-quick)
#   --rounds N     rounds (default 3); every figure is the median over them
#   --duration S   seconds per figure (default 10)
#   --warmup S     seconds of the same load, not measured, before each figure
#                  (default 0: none); iperf3 omits its first S seconds
#   --only LIST    comma-separated systems among
#                  direct,nft,haproxy,floor,dr,nat,nat6,fullnat,fullnat-pp,tun,nat-w2
#                  (default: all), and the floor's variants below
#                  (floor-rs,floor-mark,floor-fnat,nft-xdp: asked for by
#                  name only)
#   --one-client   every load from the client's own 10.10.0.1 (the first
#                  run's set-up, to see the stalls described below)
#   --out DIR      where results.md, results.csv and ratios.png go
#                  (default bench/results/ of the source tree)
#
# Topology: tests/netns/lib.sh's lvs_nat_seed6 (lvs_nat_seed, dual stack),
# the same for every system.
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#             2001:db8:10::/64                     2001:db8:20::/64
#   client .1 ---- .2 director .1 ---------- rs1 .11, rs2 .12, rs3 .13
#   wrk, iperf3       (the balancer)          nginx :80, iperf3 -s :5201
#                                             default routes via .1 (::1)
#
# Each LAN is a bridge in a namespace of its own (bridge-nf-call-* = 0 there,
# ns_add does it), veths with their offloads on.  The real servers hold the
# VIP 10.10.0.100 on lo with arp_ignore=1/arp_announce=2 (for dr) and run
# vsrtun -a 10.20.0.1 -v VIP (for tun: this kernel has no ipip module); both
# are idle for the other systems.  The systems:
#
#   direct   the ceiling: the client talks to the real servers themselves,
#            routed by the director's kernel (plain forwarding, no balancing,
#            no conntrack): wrk runs three at once, one per real server (-t1,
#            50 connections shared out, rates summed, the highest p99), and
#            iperf3 goes to rs1.
#   nft      the kernel's NAT (this kernel has no IPVS): VIP 10.10.0.102 on
#            the director's lo, nftables DNAT in prerouting, "numgen inc mod
#            3" (round robin) for :80.
#   haproxy  HAProxy mode tcp on VIP 10.10.0.101 (on the director's lo),
#            balance roundrobin for :80, its default threads (one per CPU);
#            it connects from 10.20.0.1.
#   floor    the TAP design's floor: bench/tapfloor on VIP 10.10.0.103, a
#            bare loop on a TAP (vsf0) with the virtio-net header and the
#            offloads vsrouted uses: one read, an address rewrite and one
#            write back per frame, no table, no batching, no event loop;
#            the real server is a hash of the client's address and port
#            (address only for :5201).  Its routes are vsrouted nat's:
#            VIP/32 dev vsf0, a proxy ARP entry on eth0, and the replies
#            steered into the TAP by one policy rule for the real servers'
#            subnet (from 10.20.0.0/24 iif eth1 lookup 7601, whose default
#            route is via the VIP on vsf0).  What a TAP-based nat can do at
#            all: vsrouted nat ÷ floor is the daemon's own cost, floor ÷ nft
#            the design's.
#   floor-rs, floor-mark, floor-fnat
#            the floor with another way of steering the replies into the
#            TAP (issue 21 item 2: what the policy-rule path costs):
#            floor-rs as vsrouted nat does it, one rule per real server
#            and port (from RIP/32 iif eth1 ipproto tcp sport PORT, and
#            one for its ICMP: 9 rules, which make the kernel dissect
#            every packet's ports before routing it); floor-mark a table
#            keyed by a firewall mark that nftables sets on the real
#            servers' packets (fwmark lookup 7601); floor-fnat no rule at
#            all, fullnat's way: the client's side becomes 10.20.0.249,
#            routed into the TAP and answered for by proxy ARP on eth1.
#   nft-xdp  nft with an XDP program that passes every frame on the
#            director's eth0 and eth1 (bench/xdp_pass.c, built with clang
#            -target bpf): what an AF_XDP path (issue 21 item 5) would
#            pay before doing anything, since on a veth an XDP program
#            turns the peer's TCP segmentation offload off.
#   dr, nat, fullnat, tun (ipip)
#            vsrouted on VIP 10.10.0.100, scheduler rr for :80; fullnat with
#            local_address 10.20.0.250-253.
#   fullnat-pp
#            fullnat with client_address = proxy-v2 (issue 19): the real
#            servers' nginx reads a PROXY v2 header on :81 (the same server
#            as :80, "listen 81 proxy_protocol"), and every packet of the
#            client's connection is shifted by it; beside fullnat, the cost
#            of the header and the shift (the keep-alive figure shifts every
#            request's packets). Its bulk figures have no header: iperf3
#            reads none, so its service stays plain fullnat.
#   nat6     vsrouted nat over IPv6: VIP6 2001:db8:10::100, the real servers'
#            IPv6 addresses, the same loads from an IPv6 client address;
#            the IPv6 row beside nat's (issue 13: within 10 %).
#   nat-w2   vsrouted nat with workers = 2 (two TAP queues, two threads), to
#            show what a second worker does on this machine.
# Each kind has its own VIP: HAProxy leaves TIME_WAIT sockets on the
# director, and the kernel's early demux drops a forwarded packet that
# matches a local socket, so a client port reused toward the same VIP:80
# would stall the next system's SYNs for a minute.
#
# A fresh client address for each system (and round): the client has one
# host but stands for many, so each system's loads come from an address of
# 10.10.0.128-254 that no earlier load of the run used (client_src), the same
# for every system.  Why: with "Connection: close" the real server closes
# first and keeps the connection in TIME_WAIT for 60 s, keyed by what it
# sees, (client address, port, its own address, 80).  At ~15k conn/s from
# one address the client's 64k ports come round every ~4 s.  A later
# connection from the same client port that reaches the same server under
# the same tuple but was opened toward another destination (direct's
# client -> rs1:80 then nft's client -> VIP:80, DNATed to rs1:80) carries
# TCP timestamps whose offset the client derives from (its address, the
# destination address): random with respect to the old connection's, so
# about one SYN in two is older than what the server's TIME_WAIT last saw,
# PAWS refuses it (TcpExtPAWSTimewait) with an ACK, the client resets and
# retransmits its SYN after a timeout (TcpExtTCPSynRetrans).  The first full run measured
# nft right after direct with one client address: 904 conn/s instead of
# 11,000 (1,517 SYN retransmits, 1,567 PAWS refusals in 5 s; over 10 s, a
# steady 600-990 conn/s with 240-330 SYN retransmits and as many PAWS
# refusals every second, and no conntrack drop; bench/run.sh --only
# direct,nft --one-client shows it).  Reuse within one system's run
# is harmless (the same destination: its timestamps only grow, TIME_WAIT
# takes the new SYN; nft's conntrack reopens its TIME_WAIT
# entry: conntrack -S counts no drop).  Each new-connection figure prints
# the client's SYN retransmits and the servers' PAWS refusals if there were
# any, and for nft the conntrack drops, so that such a stall shows.
#
# iperf3 opens a control and a data connection that must reach the same
# server, so :5201 is balanced on the client's address in every system
# alike: nft "jhash ip saddr mod 3", HAProxy "balance source", vsrouted
# scheduler sh.  Each bulk figure is one stream.
#
# The figures, per system, each a median over the rounds:
#   req_s        keep-alive requests/s: wrk -t2 -c50, GET / (a 4-byte body)
#   conn_s       new connections/s: the same with "Connection: close"
#                (one request per connection)
#   up_gbit      bulk upload, client -> server: iperf3, one stream, Gbit/s
#   down_gbit    bulk download (iperf3 -R)
#   p99_ka_ms    99th percentile latency of the keep-alive run (wrk --latency)
#   p99_conn_ms  the same for the Connection: close run
#   bal_us_req   the balancer's CPU microseconds per keep-alive request
#   bal_us_conn  ... per new connection
#   bal_s_gb     ... CPU seconds per GB moved by the two bulk runs
#   mach_us_req  the whole machine's CPU microseconds per keep-alive request
#                (every non-idle jiffy of /proc/stat: client, servers, all)
# The balancer's CPU: for haproxy and vsrouted, utime + stime of its process
# (all threads) from /proc/PID/stat across the load; the softirq work the
# kernel does for it outside its process is not in it (it is in mach_us_req).
# For the kernel paths (nft, and direct for reference) no process does the
# work, so it is the softirq time of /proc/stat: machine-wide, since /proc/stat
# is not per namespace, and so it also holds the client's and the real
# servers' softirq (an upper bound of the director's).  The machine-wide
# figures include whatever else runs on the machine.
#
# Interleaving: each round runs each system in turn (set up, the four loads,
# torn down: a fresh vsrouted, HAProxy or nft table each time), so a slow
# minute of a shared machine does not hit one system only; medians over the
# rounds.  Client and director have tcp_tw_reuse=1 and the port range 1024-
# 65535, as a load generator needs, for every system.  No warm-up by
# default: --warmup 1 (the same wrk load 1 s unmeasured before each figure,
# iperf3 omitting its first second) moved no figure beyond the round-to-round
# spread (2 rounds x 3 s of direct, nft, haproxy, dr, nat, with and without).  Every load runs under
# `timeout` (duration + 20 s); lib.sh's trap stops every process and deletes
# every namespace on exit, failure or Ctrl-C.  If bench/conntab (the
# connection-table memory micro-benchmark) is built, its output is a section
# of its own.  Nothing here asserts a speed: the exit status is 1 only when a
# system did not start or a figure came out zero.
set -u

rounds=3 dur=10 only= out= warm=0 one_client=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) rounds=1 dur=1 ;;
	--warmup) warm=${2:?--warmup S}; shift ;;
	--one-client) one_client=1 ;;
	--rounds) rounds=${2:?--rounds N}; shift ;;
	--duration) dur=${2:?--duration S}; shift ;;
	--only) only=${2:?--only LIST}; shift ;;
	--out) out=${2:?--out DIR}; shift ;;
	-h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $rounds in ''|*[!0-9]*|0) echo "run.sh: --rounds wants a positive integer" >&2; exit 2 ;; esac
case $dur in ''|*[!0-9]*|0) echo "run.sh: --duration wants a positive integer" >&2; exit 2 ;; esac
case $warm in ''|*[!0-9]*) echo "run.sh: --warmup wants an integer (0: none)" >&2; exit 2 ;; esac
all_systems="direct nft haproxy floor dr nat nat6 fullnat fullnat-pp tun nat-w2"
extra_systems="floor-rs floor-mark floor-fnat nft-xdp"
systems=$all_systems
if [ -n "$only" ]; then
	systems=
	for s in ${only//,/ }; do
		case " $all_systems $extra_systems " in
		*" $s "*) systems="$systems $s" ;;
		*) echo "run.sh: unknown system $s (one of: $all_systems)" >&2; exit 2 ;;
		esac
	done
fi

bench_dir=$(cd "$(dirname "$0")" && pwd)
. "$bench_dir/../tests/netns/lib.sh"
trap - ERR              # a benchmark goes on past a failed load
_t_say() { printf '%s\n' "$*" >&2; }   # check lines to stderr: stdout is the table
out=${out:-$VSR_TOP/bench/results}
mkdir -p "$out" || fatal "cannot make $out"
out=$(cd "$out" && pwd)

need_vsrouted
need_vsrtun
TAPFLOOR=${VSR_TAPFLOOR:-$VSR_TOP/bench/tapfloor}
case " $systems " in
*" floor"*) [ -x "$TAPFLOOR" ] || fatal "$TAPFLOOR is not built (make)" ;;
esac
case " $systems " in
*" nft-xdp "*)
	need_cmd clang
	clang -O2 -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -c "$bench_dir/xdp_pass.c" \
		-o "$T_DIR/xdp_pass.o" || fatal "bench/xdp_pass.c does not build" ;;
esac
need_cmd wrk iperf3 haproxy nft conntrack nginx curl python3
T_HTTP_ACCESS_LOG=off

VIP=10.10.0.100          # vsrouted's
HVIP=10.10.0.101         # HAProxy's
NVIP=10.10.0.102         # nftables'
FVIP=10.10.0.103         # the floor's
FLIP=10.20.0.249         # floor-fnat's local address
FLOOR_TABLE=7601
RS="10.20.0.11 10.20.0.12 10.20.0.13"
HZ=$(getconf CLK_TCK)
RUNS="$T_DIR/runs.tsv"
: >"$RUNS"

# ---------------------------------------------------------------- topology

lvs_nat_seed6 3 gw
for n in client director; do
	ns_sysctl "$n" net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
done
# dr and tun replies come from the VIP through the director, which routes the
# VIP elsewhere (its TAP): no reverse-path filter there.
ns_sysctl director net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
# Proxy ARP answers at once (vsrouted sets it itself, and puts it back).
ns_sysctl director net.ipv4.neigh.eth0.proxy_delay=0
for i in 1 2 3; do
	rs_dr_setup "rs$i" "$VIP"
	T_HTTP_PP_PORT=81 http_start "rs$i" "rs$i" || fatal "nginx on rs$i"
	bg_start "iperf3-rs$i" "rs$i" iperf3 -s -p 5201
	vsrtun_start "rs$i" -a 10.20.0.1 -v "$VIP" || fatal "vsrtun on rs$i"
done
for i in 1 2 3; do
	wait_for "iperf3 on rs$i" 10 nsx "rs$i" sh -c 'ss -Htln | grep -q ":5201 "' ||
		fatal "iperf3 on rs$i"
done
pass "topology: client, director, 3 real servers (nginx, iperf3, vsrtun)"

# ---------------------------------------------------------------- systems
# sys_up SYSTEM sets ADDR (what the client connects to) and BAL_PID (the
# balancer's process, empty for the kernel paths); sys_down undoes it.

D=$(nsname director)
C=$(nsname client)

# client_src: a client source address that no earlier load of this run used
# (10.10.0.128-254, in turn, and 2001:db8:10::c:128-254 beside it;
# 10.10.0.1 and 2001:db8:10::1 with --one-client), added to the client's
# eth0 and made the source of its routes to both LANs, so every tool (wrk,
# iperf3, curl) uses it without being told.  Sets SRC (and SRC6).
SRC_N=127 src_seq=0
client_src() {
	if [ "$one_client" = 1 ]; then
		SRC=10.10.0.1 SRC6=2001:db8:10::1
	else
		SRC=10.10.0.$((128 + src_seq % SRC_N))
		SRC6=2001:db8:10::c:$((128 + src_seq % SRC_N))
		src_seq=$((src_seq + 1))
		ip -n "$C" addr replace "$SRC/32" dev eth0 || return 1
		ip -n "$C" -6 addr replace "$SRC6/128" dev eth0 nodad || return 1
	fi
	ip -n "$C" route replace 10.10.0.0/24 dev eth0 scope link src "$SRC" &&
		ip -n "$C" route replace 10.20.0.0/24 via 10.10.0.2 src "$SRC" &&
		ip -n "$C" -6 route replace 2001:db8:10::/64 dev eth0 metric 256 src "$SRC6" &&
		ip -n "$C" -6 route replace 2001:db8:20::/64 via 2001:db8:10::2 src "$SRC6"
}

vsr_conf() {  # vsr_conf MODE FILE
	local mode=$1 file=$2 i extra= vip=$VIP rs=10.20.0.1 pp=
	[ "$mode" = tun ] && extra="    tunnel = ipip"
	{
		# nat-w2: nat with two workers (two TAP queues, two threads)
		[ "$mode" = nat-w2 ] && { echo "workers = 2"; mode=nat; }
		# fullnat-pp: fullnat, a PROXY v2 header to nginx's :81 for the web service
		[ "$mode" = fullnat-pp ] && { pp=1; mode=fullnat; }
		# nat6: nat over IPv6
		[ "$mode" = nat6 ] && { vip=$VIP6 rs=2001:db8:20::1; mode=nat; }
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		[ "$mode" = fullnat ] &&
			echo "local_address = { 10.20.0.250, 10.20.0.251, 10.20.0.252, 10.20.0.253 }"
		for svc in "web 80 rr" "iperf 5201 sh"; do
			set -- $svc
			echo "virtual_server $1 {"
			echo "    address = $vip"
			echo "    port = $2"
			echo "    protocol = tcp"
			echo "    scheduler = $3"
			echo "    forward = $mode"
			[ -n "$extra" ] && echo "$extra"
			if [ -n "$pp" ] && [ "$1" = web ]; then
				echo "    client_address = proxy-v2"
				for i in 1 2 3; do
					echo "    real_server rs$i { address = $rs$i  port = 81 }"
				done
			else
				for i in 1 2 3; do
					echo "    real_server rs$i { address = $rs$i }"
				done
			fi
			echo "}"
		done
	} >"$file"
}

haproxy_conf() {
	local i
	cat <<EOF
global
    maxconn 5000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend web
    bind $HVIP:80
    default_backend web
backend web
    balance roundrobin
EOF
	for i in 1 2 3; do echo "    server rs$i 10.20.0.1$i:80"; done
	cat <<EOF
frontend iperf
    bind $HVIP:5201
    default_backend iperf
backend iperf
    balance source
EOF
	for i in 1 2 3; do echo "    server rs$i 10.20.0.1$i:5201"; done
}

nft_conf() {
	cat <<EOF
table ip vsrbench {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr $NVIP tcp dport 80 dnat to numgen inc mod 3 map { 0 : 10.20.0.11, 1 : 10.20.0.12, 2 : 10.20.0.13 }
        ip daddr $NVIP tcp dport 5201 dnat to jhash ip saddr mod 3 map { 0 : 10.20.0.11, 1 : 10.20.0.12, 2 : 10.20.0.13 }
    }
}
EOF
}

sys_up() {
	BAL_PID= ADDR=$VIP URLS=("http://$VIP/")
	case $1 in
	direct) ADDR=10.20.0.11 URLS=(http://10.20.0.11/ http://10.20.0.12/ http://10.20.0.13/) ;;
	nft|nft-xdp)
		ADDR=$NVIP URLS=("http://$NVIP/")
		ip -n "$D" addr add "$NVIP/32" dev lo || return 1
		nft_conf >"$T_DIR/nft.conf"
		nsx director nft -f "$T_DIR/nft.conf" || return 1
		if [ "$1" = nft-xdp ]; then
			ip -n "$D" link set dev eth0 xdp obj "$T_DIR/xdp_pass.o" sec xdp &&
				ip -n "$D" link set dev eth1 xdp obj "$T_DIR/xdp_pass.o" sec xdp ||
				return 1
		fi ;;
	haproxy)
		ADDR=$HVIP URLS=("http://$HVIP/")
		ip -n "$D" addr add "$HVIP/32" dev lo || return 1
		haproxy_conf >"$T_DIR/haproxy.cfg"
		bg_start haproxy director haproxy -db -f "$T_DIR/haproxy.cfg"
		BAL_PID=$BG_PID ;;
	floor|floor-rs|floor-mark|floor-fnat)
		ADDR=$FVIP URLS=("http://$FVIP/")
		local fl=()
		[ "$1" = floor-fnat ] && fl=(-l "$FLIP")
		bg_start tapfloor director "$TAPFLOOR" -i vsf0 -v "$FVIP" "${fl[@]}" \
			-r 10.20.0.11 -r 10.20.0.12 -r 10.20.0.13
		BAL_PID=$BG_PID
		wait_for "the floor's TAP" 10 _b_link_up vsf0 || return 1
		ip -n "$D" route add "$FVIP/32" dev vsf0 &&
			ip -n "$D" neigh add proxy "$FVIP" dev eth0 || return 1
		floor_steer "$1" || return 1 ;;
	dr|nat|nat6|fullnat|fullnat-pp|tun|nat-w2)
		[ "$1" = nat6 ] && ADDR=$VIP6 URLS=("http://[$VIP6]/")
		vsr_conf "$1" "$T_DIR/vsrouted-$1.conf"
		vsrouted_start director "$T_DIR/vsrouted-$1.conf" || return 1
		BAL_PID=$(cat "$T_DIR/vsrouted-director.pid") ;;
	esac
	wait_for "$1 to answer on ${URLS[0]}" 10 _b_http "${URLS[0]}"
}

# floor_steer SYSTEM: the floor's replies into its TAP, SYSTEM's way
floor_steer() {
	local t=$FLOOR_TABLE i p
	case $1 in
	floor-fnat)
		ns_sysctl director net.ipv4.neigh.eth1.proxy_delay=0
		ip -n "$D" route add "$FLIP/32" dev vsf0 &&
			ip -n "$D" neigh add proxy "$FLIP" dev eth1
		return ;;
	esac
	ip -n "$D" route add default via "$FVIP" dev vsf0 onlink table "$t" || return 1
	case $1 in
	floor)
		ip -n "$D" rule add from 10.20.0.0/24 iif eth1 lookup "$t" pref "$t" ;;
	floor-rs)
		for i in 1 2 3; do
			for p in 80 5201; do
				ip -n "$D" rule add from "10.20.0.1$i/32" iif eth1 ipproto tcp \
					sport "$p" lookup "$t" pref "$t" || return 1
			done
			ip -n "$D" rule add from "10.20.0.1$i/32" iif eth1 ipproto icmp \
				lookup "$t" pref "$t" || return 1
		done ;;
	floor-mark)
		nsx director nft -f - <<EOF || return 1
table ip vsrfloor {
    chain pre {
        type filter hook prerouting priority mangle; policy accept;
        iif "eth1" ip saddr 10.20.0.0/24 meta mark set $t
    }
}
EOF
		ip -n "$D" rule add fwmark "$t" lookup "$t" pref "$t" ;;
	esac
}

_b_link_up() {  # _b_link_up IFNAME: the director's IFNAME exists and is up
	ip -n "$D" link show "$1" up 2>/dev/null | grep -q "$1"
}

_b_http() {
	[ -n "$(nsx client curl -s -g --connect-timeout 1 -m 2 "$1")" ]
}

sys_down() {
	case $1 in
	nft|nft-xdp)
		ip -n "$D" link set dev eth0 xdp off 2>/dev/null
		ip -n "$D" link set dev eth1 xdp off 2>/dev/null
		nsx director nft delete table ip vsrbench 2>/dev/null
		ip -n "$D" addr del "$NVIP/32" dev lo 2>/dev/null ;;
	haproxy)
		[ -n "$BAL_PID" ] && bg_stop "$BAL_PID" TERM 10
		ip -n "$D" addr del "$HVIP/32" dev lo 2>/dev/null ;;
	floor|floor-rs|floor-mark|floor-fnat)
		while ip -n "$D" rule del pref "$FLOOR_TABLE" 2>/dev/null; do :; done
		ip -n "$D" route flush table "$FLOOR_TABLE" 2>/dev/null
		nsx director nft delete table ip vsrfloor 2>/dev/null
		ip -n "$D" route del "$FLIP/32" dev vsf0 2>/dev/null
		ip -n "$D" neigh del proxy "$FLIP" dev eth1 2>/dev/null
		ip -n "$D" neigh del proxy "$FVIP" dev eth0 2>/dev/null
		[ -n "$BAL_PID" ] && bg_stop "$BAL_PID" TERM 10 ;;
	dr|nat|nat6|fullnat|fullnat-pp|tun|nat-w2)
		vsrouted_alive director && vsrouted_stop director ;;
	esac
	return 0
}

# ---------------------------------------------------------------- loads

# tcp_ext NS NAME...: the sum of TcpExt counters NAME... of namespace NS
tcp_ext() {
	local ns=$1
	shift
	nsx "$ns" awk -v k=" $* " '$1 == "TcpExt:" {
		if (!h) { for (i = 2; i <= NF; i++) if (index(k, " " $i " ")) c[i] = 1; h = 1; next }
		for (i in c) n += $i; print n + 0; exit }' /proc/net/netstat
}

# ct_drops: the director's conntrack drop + insert_failed + early_drop
# (all CPUs; 0 while conntrack is not loaded there)
ct_drops() {
	nsx director conntrack -S 2>/dev/null | awk '{
		for (i = 1; i <= NF; i++) if ($i ~ /^(drop|insert_failed|early_drop)=/) {
			split($i, kv, "="); n += kv[2] } } END { print n + 0 }'
}

# stall_snap: "CLIENT_SYN_RETRANSMITS SERVERS_TIMEWAIT_REJECTS"
stall_snap() {
	local i t=0
	for i in 1 2 3; do t=$((t + $(tcp_ext "rs$i" PAWSTimewait))); done
	echo "$(tcp_ext client TCPSynRetrans) $t"
}

# cpu_snap: "BALANCER_TICKS SOFTIRQ_TICKS NONIDLE_TICKS"
cpu_snap() {
	local bal=0
	if [ -n "$BAL_PID" ]; then
		bal=$(sed 's/.*) //' "/proc/$BAL_PID/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		bal=${bal:-0}
	fi
	awk -v b="$bal" '$1 == "cpu" {
		print b, $8, $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# cpu_delta BEFORE AFTER: sets BAL_S (the balancer's CPU seconds: its
# process, or machine softirq for the kernel paths) and MACH_S.
cpu_delta() {
	set -- $1 $2
	if [ -n "$BAL_PID" ]; then BAL_S=$(awk -v a="$1" -v b="$4" -v h="$HZ" 'BEGIN { print (b - a) / h }')
	else BAL_S=$(awk -v a="$2" -v b="$5" -v h="$HZ" 'BEGIN { print (b - a) / h }'); fi
	MACH_S=$(awk -v a="$3" -v b="$6" -v h="$HZ" 'BEGIN { print (b - a) / h }')
}

# wrk_run close|keep URL...: sets W_RATE (requests/s), W_P99 (ms) and W_N
# (requests).  With one URL: wrk -t2 -c50.  With several (direct): one wrk
# -t1 per URL at once, 50 connections shared out; the rates and counts add
# up, the p99 is the highest of them.
wrk_run() {
	local mode=$1 hdr=() n c i u pids=() f set_t d=${W_DUR:-$dur}
	shift
	[ "$mode" = close ] && hdr=(-H 'Connection: close')
	W_RATE=0 W_P99=0 W_N=0
	n=$#
	i=0
	for u in "$@"; do
		i=$((i + 1))
		if [ "$n" = 1 ]; then set_t=2 c=50; else set_t=1 c=$(((50 + n - i) / n)); fi
		timeout -k 5 $((d + 20)) ip netns exec "$C" \
			wrk -t"$set_t" -c"$c" -d"${d}s" --timeout 2s --latency "${hdr[@]}" "$u" \
			>"$T_DIR/wrk.$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat "$T_DIR/wrk.$((i + 1)).out" >&2; W_RATE=0 W_P99=0 W_N=0; return 0; }
	done
	for i in $(seq "$n"); do
		f="$T_DIR/wrk.$i.out"
		cat "$f" >>"$T_DIR/wrk.all"
		if grep -q 'Socket errors\|Non-2xx' "$f"; then
			echo "wrk $mode: $(grep 'Socket errors\|Non-2xx' "$f" | tr '\n' ' ')" >&2
		fi
	done
	set -- $(cat "$T_DIR"/wrk.[0-9]*.out | awk '
		$1 == "Requests/sec:" { rate += $2 }
		$2 == "requests" && $3 == "in" { n += $1 }
		$1 == "99%" { v = $2
			if (v ~ /us$/) f = 0.001; else if (v ~ /ms$/) f = 1; else if (v ~ /m$/) f = 60000; else f = 1000
			sub(/[a-z]+$/, "", v); if (v * f > p) p = v * f }
		END { print rate + 0, p + 0, n + 0 }')
	rm -f "$T_DIR"/wrk.[0-9]*.out
	W_RATE=$1 W_P99=$2 W_N=$3
}

# iperf_run ADDR [-R]: sets I_GBIT and I_BYTES (received)
iperf_run() {
	I_GBIT=0 I_BYTES=0
	timeout -k 5 $((dur + warm + 20)) ip netns exec "$C" \
		iperf3 -c "$1" -p 5201 -t "$dur" -O "$warm" -J --connect-timeout 3000 ${2:-} \
		>"$T_DIR/iperf.json" 2>&1
	set -- $(python3 -c '
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]["sum_received"]
    print(e["bits_per_second"] / 1e9, e["bytes"])
except Exception:
    print(0, 0)' "$T_DIR/iperf.json")
	I_GBIT=$1 I_BYTES=$2
	[ "$I_BYTES" = 0 ] && { echo "iperf3 failed:" >&2; head -c 600 "$T_DIR/iperf.json" >&2; echo >&2; }
	return 0
}

ratio() { awk -v a="$1" -v b="$2" -v f="${3:-1}" 'BEGIN { if (b > 0) printf "%.4g\n", a * f / b; else print 0 }'; }

# measure SYSTEM ROUND: one system's figures, one line in runs.tsv
measure() {
	local s=$1 r=$2 c0 c1 ka_rate ka_p99 ka_bal ka_mach cl_rate cl_p99 cl_bal
	local up down bytes bulk_bal st0 st1 ct0 ct1
	client_src || fatal "client source address"
	echo "== round $r/$rounds: $s (client $([ "$s" = nat6 ] && echo "$SRC6" || echo "$SRC"))" >&2
	if ! sys_up "$s"; then
		fail "$s (round $r) did not start"
		sys_down "$s"
		printf '%s\t%s\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n' "$s" "$r" >>"$RUNS"
		return 0
	fi
	[ "$warm" -gt 0 ] && W_DUR=$warm wrk_run keep "${URLS[@]}"
	c0=$(cpu_snap); wrk_run keep "${URLS[@]}"; c1=$(cpu_snap)
	cpu_delta "$c0" "$c1"
	ka_rate=$W_RATE ka_p99=$W_P99
	ka_bal=$(ratio "$BAL_S" "$W_N" 1000000) ka_mach=$(ratio "$MACH_S" "$W_N" 1000000)

	[ "$warm" -gt 0 ] && W_DUR=$warm wrk_run close "${URLS[@]}"
	st0=$(stall_snap) ct0=$(ct_drops)
	c0=$(cpu_snap); wrk_run close "${URLS[@]}"; c1=$(cpu_snap)
	st1=$(stall_snap) ct1=$(ct_drops)
	cpu_delta "$c0" "$c1"
	set -- $st0 $st1
	if [ "$3" != "$1" ] || [ "$4" != "$2" ]; then
		echo "   new connections: $(($3 - $1)) SYN retransmits on the client," \
			"$(($4 - $2)) SYNs refused by a real server's TIME_WAIT (PAWS)" >&2
	fi
	[ "$ct1" != "$ct0" ] &&
		echo "   new connections: $((ct1 - ct0)) packets dropped by the director's conntrack" >&2
	cl_rate=$W_RATE cl_p99=$W_P99 cl_bal=$(ratio "$BAL_S" "$W_N" 1000000)

	c0=$(cpu_snap)
	iperf_run "$ADDR"; up=$I_GBIT bytes=$I_BYTES
	iperf_run "$ADDR" -R; down=$I_GBIT bytes=$((bytes + I_BYTES))
	c1=$(cpu_snap)
	cpu_delta "$c0" "$c1"
	bulk_bal=$(ratio "$BAL_S" "$bytes" 1000000000)
	[ "$bytes" -gt 0 ] && [ "$up" = 0 -o "$down" = 0 ] && bulk_bal=0

	sys_down "$s"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" \
		"$ka_rate" "$cl_rate" "$up" "$down" "$ka_p99" "$cl_p99" \
		"$ka_bal" "$cl_bal" "$bulk_bal" "$ka_mach" >>"$RUNS"
	echo "   $(tail -n 1 "$RUNS" | cut -f3- | tr '\t' ' ')" >&2
	if tail -n 1 "$RUNS" | cut -f3- | tr '\t' '\n' | awk '$1 + 0 <= 0 { z = 1 } END { exit !z }'; then
		fail "$s (round $r): a figure is zero"
	else
		pass "$s (round $r): every figure measured"
	fi
}

# ---------------------------------------------------------------- run

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$rounds"); do
	for s in $systems; do
		measure "$s" "$r"
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

machine="$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
python3 "$bench_dir/report.py" "$RUNS" "$out" \
	"machine: $machine" \
	"date: $started; $rounds round(s) of ${dur} s per figure; load average ${load0} at start, ${load1} at the end" ||
	fail "report.py"
if command -v gnuplot >/dev/null 2>&1; then
	if [ -s "$out/ratios.gp" ]; then
		(cd "$out" && gnuplot ratios.gp) || fail "gnuplot"
	fi
else
	echo "gnuplot is not installed: no chart" >&2
fi

conntab=${VSR_CONNTAB:-$VSR_TOP/bench/conntab}
{
	echo
	echo "## Connection table memory (bench/conntab)"
	echo
	if [ -x "$conntab" ]; then
		echo '```'
		timeout -k 5 300 "$conntab" 2>&1 || echo "(bench/conntab exited with status $?)"
		echo
		timeout -k 5 300 "$conntab" -6 2>&1 || echo "(bench/conntab -6 exited with status $?)"
		echo '```'
	else
		echo "Skipped: $conntab is not built."
	fi
} | tee -a "$out/results.md"
echo
echo "written: $out/results.md $out/results.csv$([ -f "$out/ratios.png" ] && echo " $out/ratios.png")"
