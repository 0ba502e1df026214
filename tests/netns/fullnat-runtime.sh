#!/usr/bin/env bash
# fullnat-runtime.sh - fullnat at run time: a reload changes local_address
# (the new address routed and answered for, the old one's proxy entry and
# route gone, the real servers see the new one) and a reload adds a fullnat
# service to a director that had none (its pool entries made then), and
# one that removes it removes them
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#  client .1 --- .2 director .1 ------------- rs1 .11, rs2 .12 (no gateway)
#                   vsrouted                   nginx 8080
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_nat_seed 2 nogw
for i in 1 2; do http_start "rs$i" "rs$i" 8080; done

conf() {  # conf LIP|- : a fullnat service with that pool, or no service
	{
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		if [ "$1" != - ]; then
			echo "local_address = { $1 }"
			echo "virtual_server web {"
			echo "    address = $VIP"
			echo "    port = 80"
			echo "    scheduler = rr"
			echo "    forward = fullnat"
			echo "    real_server rs1 { address = 10.20.0.11  port = 8080 }"
			echo "    real_server rs2 { address = 10.20.0.12  port = 8080 }"
			echo "}"
		fi
	} >"$T_DIR/vsrouted.conf"
	vsrouted_conf_variant "$T_DIR/vsrouted.conf"
}
proxied() { nsx director ip neigh show proxy | grep -c "^$1 dev eth1" || true; }
routed() { nsx director ip route show "$1" | grep -c "dev vsr0" || true; }
reload() {
	local n
	n=$(grep -c '^reloaded' "$(vsrouted_log director)" || true)
	kill -HUP "$(_t_vsr_pid director)"
	wait_for "reload $((n + 1))" 10 sh -c "[ \$(grep -c '^reloaded' '$(vsrouted_log director)') -gt $n ]"
}
seen_from() {  # seen_from LIP: requests rs1 and rs2 logged from LIP
	cat "$T_DIR"/nginx-rs*/access.log | grep -c "^$1 " || true
}

# No fullnat at start: nothing made for a pool.
conf -
vsrouted_start director "$T_DIR/vsrouted.conf"
assert_eq 0 "$(proxied 10.20.0.250)" "no pool, no proxy entry"

conf 10.20.0.250
reload
assert_eq 1 "$(proxied 10.20.0.250)" "reload: the new fullnat service's pool is answered for on eth1"
assert_eq 1 "$(routed 10.20.0.250)" "and routed into the TAP"
http_get_n client "http://$VIP/" 4 >"$T_DIR/a"
assert_eq 0 "$(count_of ERR "$T_DIR/a")" "fullnat added by reload serves"
assert_eq 2 "$(count_of rs2 "$T_DIR/a")" "rr over rs1 and rs2"
assert_eq 4 "$(count_wait 4 seen_from 10.20.0.250)" "the real servers saw the pool's address"

conf 10.20.0.251
reload
assert_eq 1 "$(proxied 10.20.0.251)" "reload: the new local address is answered for"
assert_eq 0 "$(proxied 10.20.0.250)" "the old one is not any more"
assert_eq 0 "$(routed 10.20.0.250)" "nor routed"
http_get_n client "http://$VIP/" 4 >"$T_DIR/b"
assert_eq 0 "$(count_of ERR "$T_DIR/b")" "the service still answers"
assert_eq 4 "$(count_wait 4 seen_from 10.20.0.251)" "from the new local address"
assert_false "no restart was asked for" grep -q "needs a restart" "$(vsrouted_log director)"

conf -
reload
assert_eq 0 "$(proxied 10.20.0.251)" "reload without fullnat: the pool's entries go"
vsrouted_stop director
