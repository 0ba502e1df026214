#!/usr/bin/env bash
# bench/crossed.sh - with workers = 2, how many packets reach the worker
# that did not make their flow (worker_crossed), per mode and protocol,
# with the TAP's steering program and without it
#
#   bench/crossed.sh [N]
#
# As root, from a built tree. lib.sh's lvs_nat_seed 1 (client, director,
# rs1), vsrouted with workers = 2 and four services on the VIP: nat and
# fullnat, each over TCP (:80, :81 -> nginx :80) and UDP (:53, :54 ->
# udpsrv :5353). Each phase runs N new flows (default 200): N HTTP
# requests of one connection each (curl), or N UDP exchanges of one
# datagram each way from a distinct source port, and reads the daemon's
# counters before and after: packets read by each worker (rx_packets)
# and packets of flows another worker made (worker_crossed).
#
# Twice: first as the daemon runs by default, the TAP's steering program
# attached (steer.h: the client's side of each flow hashed, the replies
# known by their destination MAC, fullnat's local port chosen for the
# worker); then started without CAP_BPF and CAP_SYS_ADMIN (setpriv), so
# that it cannot load the program, and the kernel spreads the client's
# frames by its hash of the flow as the client sent it and the real
# servers' replies by the hash of theirs, which are not the same tuple.
# Counts, not times: the machine's load does not change them much.
set -eu
. "$(dirname "$0")/../tests/netns/lib.sh"
need_vsrouted
need_cmd python3 curl setpriv
N=${1:-200}

lvs_nat_seed 1
http_start rs1 rs1 80
udp_start rs1 rs1 5353
nat_workers_conf "$T_DIR/vsrouted.conf" "nat-tcp 80 tcp nat 1 80" "fullnat-tcp 81 tcp fullnat 1 80" \
	"nat-udp 53 udp nat 1 5353" "fullnat-udp 54 udp fullnat 1 5353"

# counters: rx of worker 0, rx of worker 1, crossed
counters() {
	vsrouted_stats director >/dev/null
	echo "$(stat_get worker 0 rx_packets) $(stat_get worker 1 rx_packets) $(stat_get worker_crossed)"
}

phase() {
	local name=$1 before after r0 r1 x
	shift
	before=$(counters)
	"$@" >/dev/null 2>&1 || true
	after=$(counters)
	set -- $before $after
	r0=$(($4 - $1))
	r1=$(($5 - $2))
	x=$(($6 - $3))
	printf '%-12s %5d flows: worker 0 read %6d, worker 1 %6d; crossed %6d (%d%% of %d)\n' \
		"$name" "$N" "$r0" "$r1" "$x" "$((100 * x / (r0 + r1 > 0 ? r0 + r1 : 1)))" "$((r0 + r1))"
}

tcp_flows() {
	nsx client sh -c 'i=0; while [ $i -lt "$2" ]; do curl -s -m 5 -o /dev/null "$1"; i=$((i + 1)); done' \
		sh "$1" "$N"
}

udp_flows() {
	local i
	for i in $(seq "$N"); do
		udp_ask client "$VIP" "$1" $((20000 + i)) 1 || true
	done
}

phases() {
	phase nat-tcp tcp_flows "http://$VIP/"
	phase fullnat-tcp tcp_flows "http://$VIP:81/"
	phase nat-udp udp_flows 53
	phase fullnat-udp udp_flows 54
}

echo "# load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
if grep -q "steered to the same one of" "$(vsrouted_log director)"; then
	echo "# with the steering program"
else
	echo "# the steering program did not load: $(grep -m1 steering "$(vsrouted_log director)")"
fi
phases
vsrouted_stop director
echo "# without it (no CAP_BPF, no CAP_SYS_ADMIN)"
VSR_WRAP="setpriv --bounding-set -bpf,-sys_admin --inh-caps -bpf,-sys_admin" \
	vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
grep -q "steered to the same one of" "$(vsrouted_log director)" &&
	echo "# (unprivileged BPF is allowed here: it loaded all the same)"
phases
vsrouted_stop director
pass "measured"
