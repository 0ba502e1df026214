#!/usr/bin/env bash
# nat-runtime.sh - nat real servers at run time: an existing one can be
# quiesced and given back its weight by vsradm; a new one is added and
# removed by vsradm and by a reload while a client requests without pause:
# no request fails, its policy rules are there while it is. A removed one's
# flows go on (a download from it across vsradm -d is whole; a UDP flow is
# still answered), as IPVS's to a server in its trash: its rules stay while
# it has flows, and go when the last one ends (UDP, timeout 2 s).
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#  client .1 --- .2 director .1 ------------- rs1 .11, rs2 .12, rs3 .13
#                   vsrouted (rr, nat)                nginx 8080, gw .1
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted

lvs_nat_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i" 8080; done
udp_start rs2 rs2 5353
sha=$(blob_make 1)
conf() {  # conf NRS: the service with rs1..rsNRS, and a UDP one on rs2
	{
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		echo "timeout { udp = 2 }"
		echo "virtual_server dns {"
		echo "    address = $VIP"
		echo "    port = 53"
		echo "    protocol = udp"
		echo "    forward = nat"
		echo "    real_server rs2 { address = 10.20.0.12  port = 5353 }"
		echo "}"
		echo "virtual_server web {"
		echo "    address = $VIP"
		echo "    port = 80"
		echo "    scheduler = rr"
		echo "    forward = nat"
		for i in $(seq "$1"); do
			echo "    real_server rs$i { address = 10.20.0.$((10 + i))  port = 8080 }"
		done
		echo "}"
	} >"$T_DIR/vsrouted.conf"
	vsrouted_conf_variant "$T_DIR/vsrouted.conf"   # the run's workers, kept by a reload
}
conf 2
vsrouted_start director "$T_DIR/vsrouted.conf"
http_get_n client "http://$VIP/" 4 >"$T_DIR/a"
assert_eq 2 "$(count_of rs1 "$T_DIR/a")" "rr over rs1 and rs2"

# Existing nat real servers: weights change at run time.
vsradm -e -t "$VIP:80" -r 10.20.0.11:8080 -m -w 0
http_get_n client "http://$VIP/" 4 >"$T_DIR/b"
assert_eq 4 "$(count_of rs2 "$T_DIR/b")" "rs1 quiesced by vsradm -e: rs2 takes all"
vsradm -e -t "$VIP:80" -r 10.20.0.11:8080 -m -w 1

rules_of() {  # rules_of RIP [PROTO]: the director's policy rules from RIP (for PROTO; tcp and icmp)
	nsx director ip rule show | grep "from $1 " | grep -c -E "ipproto (${2:-tcp|icmp})( |$)" || true
}
flows_to() {  # flows_to RIP:PORT: the connections to it that the director lists
	vsradm -Lnc | grep -c " $1\$" || true
}
rs3_since() {  # rs3_since MS: at least 3 requests started after MS answered by rs3
	[ "$(req_after "$1" rs3)" -ge 3 ]
}
listed() { vsradm -Ln | grep -q "$1"; }
unlisted() { ! listed "$1"; }
assert_eq 0 "$(rules_of 10.20.0.13)" "no rule for rs3 before it comes"

req_loop_start client "http://$VIP/"
sleep 0.5

# By vsradm: added, served, removed.
vsradm -a -t "$VIP:80" -r 10.20.0.13:8080 -m
assert_eq 4 "$(rules_of 10.20.0.13)" "vsradm -a: rs3's rules (tcp 8080, icmp, fragments: two) are made"
t=$(now_ms)
assert_true "rs3 answers requests" wait_for "rs3 in the loop" 10 rs3_since "$t"
# A download from rs3 in flight when it is removed: rs1 and rs2 quiesced
# for its start, so that rs3 has it.
for i in 1 2; do vsradm -e -t "$VIP:80" -r "10.20.0.1$i:8080" -m -w 0; done
bg_start dl client curl -s -m 30 -o "$T_DIR/dl.bin" "http://$VIP/paced/blob"
dl=$BG_PID
dl_begun() { [ -s "$T_DIR/dl.bin" ]; }
wait_for "the download from rs3 to begin" 10 dl_begun || true
for i in 1 2; do vsradm -e -t "$VIP:80" -r "10.20.0.1$i:8080" -m -w 1; done
vsradm -d -t "$VIP:80" -r 10.20.0.13:8080
assert_true "vsradm -d: rs3 is no longer listed" unlisted 10.20.0.13
assert_ge 1 "$(flows_to 10.20.0.13:8080)" "vsradm -d: rs3's flows are still listed"
assert_eq 4 "$(rules_of 10.20.0.13)" "vsradm -d: rs3's rules stay while its flows last"
wait_for "the download from rs3" 40 _t_not_running "$dl" || true
assert_eq "$sha" "$(sha256sum <"$T_DIR/dl.bin" | awk '{print $1}')" \
	"a download from rs3, removed by vsradm -d while it ran, is whole (sha256)"
paced_on_rs3() { grep -c '"GET /paced/blob' "$T_DIR/nginx-rs3/access.log" || true; }
assert_eq 1 "$(count_wait 1 paced_on_rs3)" "rs3 served that download (nginx logs it once done)"

# By reload: added, served, removed.
conf 3
kill -HUP "$(_t_vsr_pid director)"
assert_true "the reload adds rs3" wait_for "rs3 listed" 10 listed 10.20.0.13
assert_eq 4 "$(rules_of 10.20.0.13)" "reload: rs3's rules are made"
t=$(now_ms)
assert_true "rs3 answers requests after the reload" wait_for "rs3 in the loop" 10 rs3_since "$t"
conf 2
kill -HUP "$(_t_vsr_pid director)"
assert_true "the reload removes rs3" wait_for "rs3 gone" 10 unlisted 10.20.0.13
assert_eq 4 "$(rules_of 10.20.0.13)" "reload: rs3's rules stay while its flows last"
sleep 0.5
req_loop_stop

n=$(req_after 0)
assert_gt 20 "$n" "the request loop ran"
assert_eq 0 "$(req_after 0 ERR)" "no request failed"
assert_eq 4 "$(rules_of 10.20.0.11)" "rs1's rules stay throughout"
http_get_n client "http://$VIP/" 4 >"$T_DIR/c"
assert_eq 0 "$(count_of rs3 "$T_DIR/c")" "rs3 gets nothing once removed"

# The rules of a removed server go with its last flow: UDP's (2 s idle).
assert_eq rs2 "$(udp_ask client "$VIP" 53 41000)" "UDP: rs2 answers VIP:53"
assert_eq 3 "$(rules_of 10.20.0.12 udp)" "UDP: rs2's rules (udp 5353, fragments: two)"
vsradm -d -u "$VIP:53" -r 10.20.0.12:5353
assert_eq 1 "$(flows_to 10.20.0.12:5353)" "UDP: vsradm -d leaves rs2's flow"
assert_eq 3 "$(rules_of 10.20.0.12 udp)" "UDP: and its rules"
assert_eq rs2 "$(udp_ask client "$VIP" 53 41000)" "UDP: the flow goes on to rs2, its answers back"
rules_gone() { [ "$(rules_of 10.20.0.12 udp)" = 0 ]; }
wait_for "rs2's UDP rules to go" 15 rules_gone || true
assert_eq 0 "$(flows_to 10.20.0.12:5353)" "UDP: the flow ended (2 s idle)"
assert_eq 0 "$(rules_of 10.20.0.12 udp)" "UDP: its end took rs2's UDP rules"
assert_eq 4 "$(rules_of 10.20.0.12)" "rs2's TCP rules stay (its other service)"

vsrouted_stop director
assert_eq 0 "$(rules_of 10.20.0.11)" "the stop removes every rule"
assert_eq 0 "$(rules_of 10.20.0.13)" "the stop removes a removed server's rules"
