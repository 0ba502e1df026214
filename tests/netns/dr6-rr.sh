#!/usr/bin/env bash
# dr6-rr.sh - LVS-DR over IPv6, round robin: 300 new connections, exactly
# 100 per real server; the real servers' MACs learnt by neighbour
# solicitations; the client's address as they see it; a health check over
# IPv6 taking a real server out and back; a clean stop
#
#                          LAN lan0 (bridge), 2001:db8:10::/64
#   +---------------+---------------+---------------+---------------+
#   | ::1           | ::2           | ::11          | ::12          | ::13
# client        director          rs1             rs2             rs3
#  curl      vsrouted (rr)       nginx           nginx           nginx
#          VIP6/128 -> vsr0   VIP6 on lo      VIP6 on lo      VIP6 on lo
#
#   client -> [VIP6]:80 -> director (proxy NDP) -> rsN (destination MAC
#   rewritten, found by our own solicitations); rsN -> client directly.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed6 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
virtual_server web6 {
    address = [$VIP6]
    port = 80
    scheduler = rr
    forward = dr
    check { type = http  interval = 1  timeout = 5  rise = 1  fall = 1 }
    real_server rs1 { address = 2001:db8:10::11 }
    real_server rs2 { address = 2001:db8:10::12 }
    real_server rs3 { address = 2001:db8:10::13 }
}
EOF2
ns_snapshot director "$T_DIR/before"
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"
# No real server's MAC was in the director's neighbour table: our own solicitations find them.
for i in 1 2 3; do
	wait_for "rs$i's MAC" 10 grep -q "real server 2001:db8:10::1$i is at" \
		"$(vsrouted_log director)" || fail "rs$i's MAC was not learnt"
done

# requests rs$1 logged from the client (not its health checks)
from_client() { grep -c '^2001:db8:10::1 .*"GET / HTTP' "$T_DIR/nginx-rs$1/access.log" || true; }
http_get_n client "$(url "$VIP6")" 300 >"$T_DIR/answers"
assert_eq 300 "$(grep -c . "$T_DIR/answers")" "300 requests got an answer line"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
for i in 1 2 3; do
	assert_eq 100 "$(count_of "rs$i" "$T_DIR/answers")" "client saw rs$i answer 100 times"
	assert_eq 100 "$(count_wait 100 from_client "$i")" \
		"rs$i served the client 100 requests (its checks apart)"
done
assert_eq 0 "$(uniq -d "$T_DIR/answers" | grep -c . || true)" "no real server answered twice in a row"
assert_true "rs1 saw the client's own IPv6 address" \
	grep -q '^2001:db8:10::1 ' "$T_DIR/nginx-rs1/access.log"

# The health check, over IPv6: rs2 stops answering, is taken out, comes back.
http_stop rs2
wait_for "rs2 down by its check" 10 grep -q 'rs2 (\[2001:db8:10::12\]:80) is down' \
	"$(vsrouted_log director)" || fail "rs2 was not taken down"
http_get_n client "$(url "$VIP6")" 10 >"$T_DIR/answers2"
assert_eq 0 "$(count_of rs2 "$T_DIR/answers2")" "rs2 down: no request goes to it"
assert_eq 0 "$(count_of ERR "$T_DIR/answers2")" "and none fails"
http_resume rs2 rs2
wait_for "rs2 up by its check" 10 grep -q 'rs2 (\[2001:db8:10::12\]:80) is up' \
	"$(vsrouted_log director)" || fail "rs2 did not come back"
http_get_n client "$(url "$VIP6")" 9 >"$T_DIR/answers3"
assert_eq 3 "$(count_of rs2 "$T_DIR/answers3")" "rs2 up: it takes its third again"

vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get drop_no_neigh)" "no packet waited for a MAC"
assert_gt 0 "$(stat_get na_replies)" "the kernel's solicitations for the VIP answered on the TAP"
assert_gt 0 "$(stat_get na_sent)" "an unsolicited advertisement of the VIP was sent at start"
vsrouted_stop director
ns_snapshot director "$T_DIR/after"
if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
	pass "routes, proxy entries and sysctls all gone after SIGTERM"
else
	cat "$T_DIR/diff"
	fail "director state differs from before start"
fi
