#!/usr/bin/env bash
# check-expect.sh - an http check whose expected status does not come back
# marks the real server down; a real server's own check section overrides
# the service's (path, expect)
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl       vsrouted (rr)    nginx          nginx          nginx
#             GET / expect 200 (service), rs2: expect 500, rs3: /missing expect 404
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
check_conf "$T_DIR/vsrouted.conf" 3 "type = http  interval = 1  timeout = 5  rise = 1  fall = 1  host = \"www.example\""
sed -i -e 's|\(real_server rs2 { address = [0-9.]*\) }|\1  check { expect = 500 } }|' \
	-e 's|\(real_server rs3 { address = [0-9.]*\) }|\1  check { path = "/missing"  expect = 404 } }|' \
	"$T_DIR/vsrouted.conf"
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)

wait_for "rs2 to be marked down" 10 grep -q "rs2 (10.10.0.12:80) is down" "$log"
assert_eq 1 "$(grep -c 'rs2 (10.10.0.12:80) is down: http check: status 200, expected 500 (1 of 1 failures)' "$log")" \
	"rs2 is down: status 200, expected 500"
assert_eq 0 "$(vsradm -Ln | awk '$2 == "10.10.0.12:80" { print $4 }')" "vsradm -Ln shows rs2 at weight 0"
sleep 2   # two more rounds of checks: nobody else goes down
assert_eq 0 "$(grep -c 'rs[13] .* is down' "$log" || true)" "rs1 (200) and rs3 (/missing: 404) stay up"
assert_eq 1 "$(grep -c 'is down' "$log")" "the transition of rs2 is logged once"
assert_gt 0 "$(grep -c 'GET /missing HTTP/1.0' "$T_DIR/nginx-rs3/access.log" || true)" "rs3 was checked at its own path"

http_get_n client "http://$VIP/" 20 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
assert_eq 0 "$(count_of rs2 "$T_DIR/answers")" "rs2 receives no request"
assert_eq 10 "$(count_of rs1 "$T_DIR/answers")" "rs1 and rs3 share them"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
