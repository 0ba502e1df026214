#!/usr/bin/env bash
# fullnat-proxy.sh - client_address = proxy-v2 (issue 19): real servers behind
# fullnat read the client's true address and port from a PROXY v2 header
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#   ==+=================+=====         =====+================+======== ...
#     |                 |                   |                |
#   eth0 .1          eth0 .2             eth1 .1          eth0 .11  (.12, .13)
#  +--------+     +-------------+                       +------------------+
#  | client |     |  director   |-----------------------|       rsN        |
#  +--------+     | LIPs .250   |                       | rs1, rs2: nginx  |
#                 |   .251      |                       |  proxy_protocol  |
#                 +-------------+                       | rs3: HAProxy,    |
#                                                       |  ppsrv.py        |
#                                                       +------------------+
#
#   web  VIP:80 -> rs1, rs2 :80     nginx listen ... proxy_protocol; every
#                                   request logged with the header's address
#   hap  VIP:81 -> rs3:81           HAProxy bind ... accept-proxy
#   smtp VIP:25 -> rs3:2525         ppsrv.py --banner: the server speaks first
#   echo VIP:26, VIP:27 -> rs3:2526 ppsrv.py: the client speaks first; an nft
#                                   rule on the client drops the handshake's
#                                   ACK (26) or the first data packet (27) once
#   dns  VIP:53/udp -> rs1, rs2     ppsrv.py udp: each datagram's header checked
#
# VSR_TEST_FAMILY=6 runs it all over IPv6 (lvs_nat_seed6).
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 sha256sum nft nginx haproxy curl

FAM=${VSR_TEST_FAMILY:-4}
if [ "$FAM" = 6 ]; then
	lvs_nat_seed6 3 nogw
	V=$VIP6 C=2001:db8:10::1 R1=2001:db8:20::11 R2=2001:db8:20::12 R3=2001:db8:20::13
	L1=2001:db8:20::250 L2=2001:db8:20::251
	U="[$V]" IPF=ip6 HL=72        # IPv6 + TCP + timestamps: a segment without payload
else
	lvs_nat_seed 3 nogw
	V=$VIP C=10.10.0.1 R1=10.20.0.11 R2=10.20.0.12 R3=10.20.0.13 L1=10.20.0.250 L2=10.20.0.251
	U=$V IPF=ip HL=52             # IPv4 + TCP + timestamps
fi
# addr:port as ppsrv.py writes it ([ADDR6]:PORT), and as a grep pattern;
# nginx and HAProxy write ADDR:PORT either way
ap() { if [ "$FAM" = 6 ]; then echo "[$1]:$2"; else echo "$1:$2"; fi; }
apre() { ap "$@" | sed 's/[].[]/\\&/g'; }

sum=$(blob_make 20)
pp_nginx_start rs1 rs1 80
pp_nginx_start rs2 rs2 80
haproxy_start rs3 rs3 81
ppsrv_start rs3 smtp tcp 2525 --banner
ppsrv_start rs3 echo tcp 2526
ppsrv_start rs1 dns1 udp 5353
ppsrv_start rs2 dns2 udp 5353

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
local_address = { $L1, $L2 }
virtual_server web {
    address = $V
    port = 80
    scheduler = rr
    forward = fullnat
    client_address = proxy-v2
    real_server rs1 { address = $R1 }
    real_server rs2 { address = $R2 }
}
virtual_server hap {
    address = $V
    port = 81
    forward = fullnat
    real_server rs3 { address = $R3  client_address = proxy-v2 }
}
virtual_server smtp {
    address = $V
    port = 25
    forward = fullnat
    client_address = proxy-v2
    real_server rs3 { address = $R3  port = 2525 }
}
virtual_server echo {
    address = $V
    port = 26
    forward = fullnat
    client_address = proxy-v2
    real_server rs3 { address = $R3  port = 2526 }
}
virtual_server echo2 {
    address = $V
    port = 27
    forward = fullnat
    client_address = proxy-v2
    real_server rs3 { address = $R3  port = 2526 }
}
virtual_server dns {
    address = $V
    port = 53
    protocol = udp
    scheduler = rr
    forward = fullnat
    client_address = proxy-v2
    real_server rs1 { address = $R1  port = 5353 }
    real_server rs2 { address = $R2  port = 5353 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

# ---- nginx: every request logged with the client's own address and port
: >"$T_DIR/asked"
for i in $(seq 20); do
	nsx client curl -s --connect-timeout 2 -m 5 -o "$T_DIR/body" \
		-w '%{local_port}\n' "http://$U/" >>"$T_DIR/asked" || echo ERR >>"$T_DIR/asked"
	cat "$T_DIR/body" >>"$T_DIR/bodies" 2>/dev/null || true
done
assert_eq 0 "$(count_of ERR "$T_DIR/asked")" "20 requests through nginx proxy_protocol answered"
# nginx logs a request after its answer: the last line may come a moment
# after curl is done (so below: wait for each line, then look at it)
pp_gets() { cat "$T_DIR/nginx-rs1/pp.log" "$T_DIR/nginx-rs2/pp.log" | grep -c '"GET / HTTP/1.1" 200 ' || true; }
count_wait 20 pp_gets >/dev/null
bad=0
while read -r port; do
	grep -q "^$C:$port .* \"GET / HTTP/1.1\" 200 " "$T_DIR/nginx-rs1/pp.log" \
		"$T_DIR/nginx-rs2/pp.log" || bad=$((bad + 1))
done <"$T_DIR/asked"
assert_eq 0 "$bad" "every request logged with the client's address and its own port"
assert_eq 10 "$(grep -c "^rs1 $C:[0-9]*\$" "$T_DIR/bodies")" "rs1 answered 10, naming the client"
assert_true "the real servers' peers are the pool's addresses, not the client" \
	sh -c "! cut -d' ' -f2 '$T_DIR/nginx-rs1/pp.log' '$T_DIR/nginx-rs2/pp.log' | grep -v -e '$L1' -e '$L2' | grep -q ."

# ---- bulk: 3 x 20 MB down and up, sha256 intact, each logged with its port
bulk() {    # bulk TAG: 3 downloads and 3 uploads
	local i out port sha
	for i in 1 2 3; do
		out=$(nsx client curl -s --connect-timeout 2 -m 60 -o "$T_DIR/get.out" \
			-w '%{local_port}\n' "http://$U/blob") || out=ERR
		sha=$(sha256sum "$T_DIR/get.out" | awk '{print $1}')
		assert_eq "$sum" "$sha" "$1: 20 MB download $i intact (sha256)"
		assert_true "$1: download $i logged with the client's port" \
			wait_for "download $i in the log" 10 grep -q \
			"^$C:$out .*\"GET /blob HTTP/1.1\" 200 20971520" \
			"$T_DIR/nginx-rs1/pp.log" "$T_DIR/nginx-rs2/pp.log"
		out=$(nsx client curl -s --connect-timeout 2 -m 60 -H 'Expect:' \
			--data-binary "@$T_DIR/www/blob" -w ' %{local_port}\n' "http://$U/up") || out="ERR 0 0"
		set -- "$1" $out
		assert_eq "$sum 20971520" "$2 $3" "$1: 20 MB upload $i intact (sha256)"
		assert_true "$1: upload $i logged with the client's port" \
			wait_for "upload $i in the log" 10 grep -q \
			"^$C:$4 .*\"POST /up HTTP/1.1\" 200 " \
			"$T_DIR/nginx-rs1/pp.log" "$T_DIR/nginx-rs2/pp.log"
		set -- "$1"
	done
}
bulk "offload $VSR_TEST_OFFLOAD"

# ---- SACK in play: 1 % of what reaches rs1 and rs2 lost (the real server
# SACKs the client's data: those edges go back through the shift), and 1 %
# of what they send
for r in rs1 rs2; do
	nsx "$r" nft -f - <<EOF2
table inet lossy {
    chain in { type filter hook input priority 0; tcp dport 80 numgen random mod 100 0 counter drop; }
    chain out { type filter hook output priority 0; tcp sport 80 numgen random mod 100 0 counter drop; }
}
EOF2
done
vsrouted_stats director >/dev/null
sack0=$(stat_get seqadj_sack)
bulk "1 % loss"
vsrouted_stats director >/dev/null
dropped=$(( $(nsx rs1 nft list table inet lossy | grep -o 'counter packets [0-9]*' | awk '{s += $3} END {print s}') + \
	$(nsx rs2 nft list table inet lossy | grep -o 'counter packets [0-9]*' | awk '{s += $3} END {print s}') ))
assert_gt 0 "$dropped" "the lossy rules dropped packets"
assert_gt "$sack0" "$(stat_get seqadj_sack)" "SACK blocks of the real servers shifted back"
for r in rs1 rs2; do nsx "$r" nft delete table inet lossy; done

# ---- HAProxy accept-proxy
out=$(nsx client curl -s --connect-timeout 2 -m 5 -w ' %{local_port}' "http://$U:81/") || out=ERR
set -- $out
assert_eq "rs3 $C $4" "$1 $2 $3" "HAProxy read the client's address and port from the header"
assert_true "HAProxy logged it (after its answer: waited for)" \
	wait_for "HAProxy's log line" 10 grep -q "^req $C:$4 " "$T_DIR/haproxy-rs3.log"

# ---- the server speaks first (SMTP-like): the header went with the handshake's ACK
out=$(nsx client python3 "$VSR_NETNS_DIR/ppsrv.py" ask-tcp "$V" 25 --banner --size 100000) ||
	{ echo "$out"; fail "ask-tcp --banner"; }
lp=$(echo "$out" | awk '/^local/ { sub(/.*:/, "", $2); print $2 }')
assert_true "the banner came first and named the client" sh -c "echo '$out' | grep -q '^220 smtp $(apre "$C" "$lp")\$'"
assert_true "the upload after the banner intact" sh -c "echo '$out' | grep -q '^sha ok'"
assert_true "the server logged the header" grep -q "^conn $(apre "$C" "$lp") $(apre "$V" 25) " "$T_DIR/pp-smtp.log"

# ---- the client speaks first; its handshake ACK (26) or its first data
# packet (27) dropped once on its way out: the header is in the retransmission
nsx client sysctl -qw net.netfilter.nf_conntrack_acct=1
nsx client nft -f - <<EOF2
table inet once {
    chain out {
        type filter hook output priority 0;
        $IPF daddr $V tcp dport 26 ct original packets 2 counter drop
        $IPF daddr $V tcp dport 27 $IPF length > $HL ct original packets 3 counter drop
    }
}
EOF2
vsrouted_stats director >/dev/null
resent0=$(stat_get client_address_proxy_resent)
for port in 26 27; do
	out=$(nsx client python3 "$VSR_NETNS_DIR/ppsrv.py" ask-tcp "$V" "$port" --size 300000) ||
		{ echo "$out"; fail "ask-tcp $port"; }
	lp=$(echo "$out" | awk '/^local/ { sub(/.*:/, "", $2); print $2 }')
	assert_true "VIP:$port: the data intact" sh -c "echo '$out' | grep -q '^sha ok'"
	assert_true "VIP:$port: the server read the client's header" \
		grep -q "^conn $(apre "$C" "$lp") $(apre "$V" "$port") " "$T_DIR/pp-echo.log"
done
assert_true "no header refused" sh -c "! grep -q '^bad' '$T_DIR/pp-echo.log' '$T_DIR/pp-smtp.log'"
drops=$(nsx client nft list table inet once | grep -o 'counter packets [0-9]*' | awk '{print $3}' | tr '\n' ' ')
assert_eq "1 1 " "$drops" "one handshake ACK and one first data packet dropped"
vsrouted_stats director >/dev/null
assert_gt "$resent0" "$(stat_get client_address_proxy_resent)" \
	"the header went in a segment of its own before the data (its ACK lost)"
nsx client nft delete table inet once

# ---- UDP: one header per datagram, stripped and checked by the echo server
: >"$T_DIR/udp"
for i in $(seq 10); do
	nsx client python3 "$VSR_NETNS_DIR/ppsrv.py" ask-udp "$V" 53 "hello$i" --sport $((43000 + i)) \
		>>"$T_DIR/udp" 2>>"$T_DIR/udp.err" || echo ERR >>"$T_DIR/udp"
done
assert_eq 0 "$(count_of ERR "$T_DIR/udp")" "10 datagrams answered"
bad=0
for i in $(seq 10); do
	grep -q "^dns[12] $(apre "$C" $((43000 + i))) $(apre "$V" 53) hello$i\$" "$T_DIR/udp" || bad=$((bad + 1))
done
assert_eq 0 "$bad" "each datagram's header gave the client's address, port and the VIP"
assert_eq 5 "$(grep -c '^dgram' "$T_DIR/pp-dns1.log")" "rs1 checked 5 headers"
vsrouted_stats director >/dev/null
assert_gt 0 "$(stat_get client_address_proxy_sent)" "headers put into handshakes counted"
assert_eq 10 "$(stat_get client_address_proxy_dgram)" "10 datagrams given a header"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed"
gso_check
vsrouted_stop director
