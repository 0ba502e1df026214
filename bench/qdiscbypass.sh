#!/usr/bin/env bash
# bench/qdiscbypass.sh - PACKET_QDISC_BYPASS on nat's AF_PACKET output: worth it?
#
#   bench/qdiscbypass.sh [ROUNDS]
#
# As root, from a built tree (make bench/qdiscbypass). In a namespace of its
# own: a veth pair (offloads as created), and bench/qdiscbypass's two
# sockets, with and without PACKET_QDISC_BYPASS, sending the same frames
# in interleaved rounds, for 1514-byte and 66-byte frames, first with the
# veth's own qdisc (noqueue, as every veth of the tests and the benchmark)
# and then with the machine's default qdisc (net.core.default_qdisc,
# pfifo_fast or fq_codel) at its root, as a real NIC's egress has under
# its mq. The ratios are per frame and of the same run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${VSR_QDISCBYPASS:-$top/bench/qdiscbypass}
rounds=${1:-7}
ns=qdb$$
[ -x "$bin" ] || { echo "$bin: not built (make bench/qdiscbypass)" >&2; exit 1; }
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT INT TERM
ip netns add "$ns"
ip -n "$ns" link add name qa type veth peer name qb
ip -n "$ns" link set qa up
ip -n "$ns" link set qb up
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
for q in noqueue "$(cat /proc/sys/net/core/default_qdisc)"; do
	[ "$q" = noqueue ] || tc -n "$ns" qdisc replace dev qa root "$q"
	for size in 1514 66; do
		printf '%-9s ' "$q"
		ip netns exec "$ns" "$bin" -i qa -r "$rounds" -s "$size"
	done
done
