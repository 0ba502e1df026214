#!/usr/bin/env bash
# dr-bypass.sh - LVS-DR: the replies do not pass through the director
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl     vsrouted (rr)     nginx          nginx          nginx
#           nft counters:
#             forward  ip daddr VIP  (client -> VIP, routed into vsr0) > 0
#             forward  ip saddr VIP  (a reply through the director)    = 0
#             prerouting on eth0, ip saddr VIP                         = 0
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd nft

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

nsx director nft -f - <<EOF
table inet vsrtest {
    counter fwd_to_vip { }
    counter fwd_from_vip { }
    counter in_from_vip { }
    chain c_forward {
        type filter hook forward priority 0; policy accept;
        ip daddr $VIP counter name fwd_to_vip
        ip saddr $VIP counter name fwd_from_vip
    }
    chain c_prerouting {
        type filter hook prerouting priority -300; policy accept;
        iifname "eth0" ip saddr $VIP counter name in_from_vip
    }
}
EOF

counter() {
	nsx director nft list counter inet vsrtest "$1" |
		sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

seed_conf "$T_DIR/vsrouted.conf" 3
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 50 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
assert_eq 50 "$(grep -c '^rs[123]$' "$T_DIR/answers" || true)" "50 answers from the real servers"
# Each request is at least SYN, ACK, request, FIN, ACK from the client.
assert_ge 250 "$(counter fwd_to_vip)" "director forwarded the client's packets to the VIP"
assert_eq 0 "$(counter fwd_from_vip)" "director forwarded no packet from the VIP"
assert_eq 0 "$(counter in_from_vip)" "director received no packet from the VIP on eth0"

vsrouted_stop director
