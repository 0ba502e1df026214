#!/usr/bin/env bash
# dr-newlink.sh - a dr real server added at run time on an interface that had
# none: the daemon opens the link, probes the real server and learns its MAC
# from the reply (the link gets an ARP reader of its own)
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12 (answers the client)
# client       director         rs1            rs2
#                   | 10.30.0.2                  | 10.30.0.12 (the real server's address)
#   ================+============================+========= LAN lan1 (bridge)
#
# The configuration has rs1 only: the director has no link on lan1 until
# vsradm adds rs2 (10.30.0.12, reached through eth1), and its kernel has no
# neighbour entry for it, so the MAC can come only from the daemon's probe.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 2
lan_add lan1
lan_attach lan1 director eth1 10.30.0.2/24
lan_attach lan1 rs2 eth1 10.30.0.12/24
# rs2 (set up for dr by lvs_dr_seed) takes the client's packets on eth1 and
# answers on eth0.
ns_sysctl rs2 net.ipv4.conf.eth1.arp_ignore=1 net.ipv4.conf.eth1.arp_announce=2 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
http_start rs1 rs1
http_start rs2 rs2

seed_conf "$T_DIR/vsrouted.conf" 1
vsrouted_start director "$T_DIR/vsrouted.conf"
assert_eq rs1 "$(http_get client "http://$VIP/")" "rs1 answers through the VIP"

nsx director ip neigh flush dev eth1
assert_eq "" "$(nsx director ip neigh show 10.30.0.12)" \
	"the director's kernel has no neighbour entry for 10.30.0.12"
vsradm -a -t "$VIP:80" -r 10.30.0.12 -g -w 1
vsradm -e -t "$VIP:80" -r 10.10.0.11 -g -w 0
assert_true "the daemon learns rs2's MAC on eth1 from its probe" \
	wait_for "rs2's MAC in the log" 10 grep -q "real server 10.30.0.12 is at" "$(vsrouted_log director)"
assert_true "rs2 answers through the VIP" \
	wait_for "rs2 through the VIP" 10 sh -c "[ \"\$(ip netns exec $(nsname client) curl -s --connect-timeout 1 -m 2 http://$VIP/)\" = rs2 ]"
ans=$(http_get_n client "http://$VIP/" 10 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
assert_eq "rs2=10 " "$ans" "the next 10 requests all go to rs2 (rs1 has weight 0)"
vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get drop_no_neigh)" "no frame was dropped for want of a MAC"
assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
