#!/usr/bin/env bash
# ops-node-ipvs.sh - metrics_compat = node_ipvs: node_exporter's IPVS family
# (node_ipvs_*) beside vsrouted_*, with node_exporter's names, labels and
# values, checked three ways: the project's Prometheus parser, the names and
# labels node_exporter's collector exports (golden/node_ipvs-names, from its
# collector/ipvs_linux.go and fixtures), and node_exporter itself run over a
# /proc/net/ip_vs made from vsradm's listing of the same daemon
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl        vsrouted         nginx          nginx          nginx
#              metrics 10.10.0.2:9410 (warned: not loopback),
#              node_exporter :19100 (--path.procfs=fake)
#
#   web 10.10.0.100:80 tcp, rs1 weight 3, rs2 weight 1, rs3 weight 0;
#   dns 10.10.0.100:53 udp, rs1 and rs2
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
cat >"$T_DIR/vsrouted.conf" <<CONF
tap = vsr0
announce = { eth0 }
metrics = 10.10.0.2:9410
metrics_compat = node_ipvs
virtual_server web {
    address = $VIP
    port = 80
    scheduler = wrr
    real_server rs1 { address = 10.10.0.11  weight = 3 }
    real_server rs2 { address = 10.10.0.12  weight = 1 }
    real_server rs3 { address = 10.10.0.13  weight = 0 }
}
virtual_server dns {
    address = $VIP
    port = 53
    protocol = udp
    real_server ns1 { address = 10.10.0.11 }
    real_server ns2 { address = 10.10.0.12 }
}
CONF
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 8 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "8 requests answered"
assert_eq 1 "$(grep -c 'metrics on 10.10.0.2:9410: reachable from other hosts, without authentication' \
	"$(vsrouted_log director)")" "a metrics address other than loopback is warned about"
nsx client curl -s -m 5 http://10.10.0.2:9410/metrics >"$T_DIR/m.raw"
assert_true "the exposition parses (promparse.py)" \
	sh -c "python3 '$VSR_NETNS_DIR/promparse.py' <'$T_DIR/m.raw' >'$T_DIR/m'"
assert_gt 0 "$(grep -c '^vsrouted_' "$T_DIR/m")" "vsrouted_* families are still there"

# Names, types and label names of the node_ipvs_* families.
python3 - "$T_DIR/m.raw" >"$T_DIR/names" <<'PY'
import re, sys
types, labels = {}, {}
for line in open(sys.argv[1]):
    if line.startswith("# TYPE node_ipvs_"):
        _, _, name, typ = line.split()
        types[name] = typ
    elif line.startswith("node_ipvs_"):
        name = re.match(r"[a-z_]+", line).group(0)
        lab = re.findall(r'(\w+)="', line)
        labels.setdefault(name, set()).add(",".join(lab) or "-")
for name in sorted(types):
    print(name, types[name], " ".join(sorted(labels.get(name, {"(none)"}))))
PY
golden_check node_ipvs-names "$T_DIR/names"

sample() { awk -v n="$1" '$1 == n { print $2 }' "$T_DIR/m"; }
lab() {  # lab PROTO VPORT RIP: the label set of a backend
	printf '{local_address="%s",local_mark="",local_port="%s",proto="%s",remote_address="%s",remote_port="%s"}' \
		"$VIP" "$2" "$1" "$3" "$2"
}
assert_eq 8 "$(sample node_ipvs_connections_total)" "node_ipvs_connections_total counts the 8 connections"
assert_eq 3 "$(sample "node_ipvs_backend_weight$(lab TCP 80 10.10.0.11)")" "rs1's weight 3"
assert_eq 0 "$(sample "node_ipvs_backend_weight$(lab TCP 80 10.10.0.13)")" "rs3's weight 0"
assert_eq 1 "$(sample "node_ipvs_backend_weight$(lab UDP 53 10.10.0.12)")" "ns2's weight 1 (UDP)"
assert_eq 5 "$(grep -c '^node_ipvs_backend_weight{' "$T_DIR/m")" "one backend per real server"
assert_gt 0 "$(sample node_ipvs_incoming_packets_total)" "incoming packets counted"

# node_exporter itself over a /proc/net/ip_vs written from vsradm -Ln and
# ip_vs_stats from vsradm -Ln --stats --exact: its node_ipvs_* lines must be ours.
need_cmd prometheus-node-exporter
vsradm -Ln >"$T_DIR/list"
vsradm -Ln --stats --exact >"$T_DIR/stats"
nsx client curl -s -m 5 http://10.10.0.2:9410/metrics >"$T_DIR/m2.raw"
mkdir -p "$T_DIR/proc/net"
python3 - "$T_DIR/list" "$T_DIR/stats" "$T_DIR/proc/net" <<'PY'
import socket, struct, sys
def hexap(ap):
    a, p = ap.rsplit(":", 1)
    return "%08X:%04X" % (struct.unpack("!I", socket.inet_aton(a))[0], int(p))
out = []
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] in ("TCP", "UDP"):
        out.append("%s  %s %s  \n" % (f[0], hexap(f[1]), f[2]))
    elif f and f[0] == "->" and f[1][0].isdigit():
        out.append("  -> %s      %-7s %-6s %-10s %-10s\n" % (hexap(f[1]), f[2], f[3], f[4], f[5]))
with open(sys.argv[3] + "/ip_vs", "w") as o:
    o.write("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n" + "".join(out))
tot = [0] * 5
for line in open(sys.argv[2]):
    f = line.split()
    if f and f[0] in ("TCP", "UDP"):
        tot = [t + int(v) for t, v in zip(tot, f[2:7])]
with open(sys.argv[3] + "/ip_vs_stats", "w") as o:
    o.write("   Total Incoming Outgoing         Incoming         Outgoing\n"
            "   Conns  Packets  Packets            Bytes            Bytes\n"
            " %7X %8X %8X %16X %16X\n\n" % tuple(tot) +
            " Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n"
            "       0        0        0                0                0\n")
PY
bg_start node_exporter director prometheus-node-exporter --path.procfs="$T_DIR/proc" \
	--collector.disable-defaults --collector.ipvs --web.listen-address=127.0.0.1:19100
wait_for "node_exporter to answer" 10 sh -c \
	"ip netns exec $(nsname director) curl -sf -m 2 http://127.0.0.1:19100/metrics >/dev/null"
nsx director curl -s -m 5 http://127.0.0.1:19100/metrics >"$T_DIR/ne.raw"
assert_true "node_exporter's ipvs collector read our procfs" \
	grep -q 'node_scrape_collector_success{collector="ipvs"} 1' "$T_DIR/ne.raw"
# Numbers as integers (node_exporter prints 1.2e+06), lines sorted.
norm() { grep '^node_ipvs_' "$1" | awk '{ printf "%s %.0f\n", $1, $2 }' | sort; }
norm "$T_DIR/ne.raw" >"$T_DIR/ne.samples"
norm "$T_DIR/m2.raw" >"$T_DIR/ours.samples"
if diff -u "$T_DIR/ne.samples" "$T_DIR/ours.samples"; then
	pass "node_exporter over the same services prints exactly our node_ipvs_* samples ($(wc -l <"$T_DIR/ours.samples") lines)"
else
	fail "our node_ipvs_* samples differ from node_exporter's"
fi
diff <(grep '^# \(HELP\|TYPE\) node_ipvs_' "$T_DIR/ne.raw" | sort) \
	<(grep '^# \(HELP\|TYPE\) node_ipvs_' "$T_DIR/m2.raw" | sort) &&
	pass "and the same HELP and TYPE lines" || fail "HELP or TYPE lines differ from node_exporter's"
vsrouted_stop director
