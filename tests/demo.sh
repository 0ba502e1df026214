#!/usr/bin/env bash
# demo.sh - vsrouted balancing a web site over three nginx real servers
#
# Builds, in network namespaces of its own (nothing outside them is
# touched), the LVS-DR seed topology:
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl     vsrouted          nginx          nginx          nginx
#           VIP 10.10.0.100   VIP on lo      VIP on lo      VIP on lo
#
# starts src/vsrouted on etc/vsrouted.conf (rr over the three), asks the VIP
# nine times from the client, prints who answered, then tears it all down.
# Run as root from a built tree: tests/demo.sh
set -eu
. "$(dirname "$0")/netns/lib.sh"
need_vsrouted

echo "== building the topology: client, director, rs1..rs3 on one LAN"
lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

conf="$VSR_TOP/etc/vsrouted.conf"
echo "== starting vsrouted -n -f etc/vsrouted.conf in the director"
vsrouted_start director "$conf"
echo "   director: $(nsx director ip route show "$VIP/32")"
echo "   director: $(nsx director ip neigh show proxy | head -n 1)"

echo "== nine requests from the client: curl http://$VIP/"
: >"$T_DIR/answers"
for i in $(seq 9); do
	a=$(http_get client "http://$VIP/") || a="(no answer)"
	printf '   request %d answered by %s\n' "$i" "$a"
	echo "$a" >>"$T_DIR/answers"
done
if [ "$(count_of rs1 "$T_DIR/answers") $(count_of rs2 "$T_DIR/answers") $(count_of rs3 "$T_DIR/answers")" = "3 3 3" ]; then
	pass "round robin: each real server answered 3 of 9"
else
	fail "round robin: expected 3 answers from each of rs1, rs2, rs3"
fi

echo "== stopping vsrouted (SIGTERM): it removes its TAP, routes and proxy entries"
vsrouted_stop director
