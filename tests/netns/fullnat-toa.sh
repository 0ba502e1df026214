#!/usr/bin/env bash
# fullnat-toa.sh - client_address = toa (issue 19): the TCP option of kind 254
# that LVS's TOA module reads, checked byte for byte on the real server
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#  +--------+     +-------------+                       +-------------------+
#  | client |-----|  director   |-----------------------|   rs1: nginx 8080 |
#  +--------+     | LIPs .250   |                       |   toaread.py eth0 |
#                 +-------------+                       +-------------------+
#
#   web VIP:80 -> rs1:8080 (toa); plain VIP:81 -> rs1:8080 (none): nothing added.
#   toaread.py captures what reaches rs1 and decodes each segment's options as
#   a TCP stack walks them: the handshake's ACK and the client's first data
#   must carry kind 254 with the client's address and port; later data, and
#   anything once the client acknowledged the server's data, none.
#
# VSR_TEST_FAMILY=6 runs it over IPv6 (the option's 20-byte form).
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 sha256sum curl nginx

FAM=${VSR_TEST_FAMILY:-4}
if [ "$FAM" = 6 ]; then
	lvs_nat_seed6 1 nogw
	V=$VIP6 C=2001:db8:10::1 R1=2001:db8:20::11 L1=2001:db8:20::250 U="[$VIP6]"
else
	lvs_nat_seed 1 nogw
	V=$VIP C=10.10.0.1 R1=10.20.0.11 L1=10.20.0.250 U=$VIP
fi
ap() { if [ "$FAM" = 6 ]; then echo "[$1]:$2"; else echo "$1:$2"; fi; }

sum=$(blob_make 20)
http_start rs1 rs1 8080
upload_start rs1 rs1 8000
toa_read_start rs1 rs1 eth0 8080

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
local_address = { $L1 }
virtual_server web {
    address = $V
    port = 80
    forward = fullnat
    client_address = toa
    real_server rs1 { address = $R1  port = 8080 }
}
virtual_server plain {
    address = $V
    port = 81
    forward = fullnat
    real_server rs1 { address = $R1  port = 8080 }
}
virtual_server up {
    address = $V
    port = 8000
    forward = fullnat
    client_address = toa
    real_server rs1 { address = $R1 }
}
EOF2
vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

: >"$T_DIR/asked"
for i in $(seq 10); do
	nsx client curl -s --connect-timeout 2 -m 5 -o /dev/null -w '%{http_code} %{local_port}\n' \
		"http://$U/" >>"$T_DIR/asked" || echo ERR >>"$T_DIR/asked"
done
assert_eq 10 "$(grep -c '^200 ' "$T_DIR/asked")" "10 requests answered through toa"
# FIN segments rs1's reader printed after its line N: read the capture once
# each connection's last segment (the client's FIN) is in it, not after a
# fixed time (the reader is a process of its own, late on a busy machine)
fins_after() { tail -n +"$(($1 + 1))" "$T_DIR/toa-rs1.log" | awk '$4 ~ /F/' | wc -l; }
count_wait 10 fins_after 0 >/dev/null
bad=0 acks=0 data=0
while read -r code port; do
	# the connection's segments, as rs1 saw them: LIP:lport -> RIP:8080
	lport=$(awk -v c="$(ap "$C" "$port")" '$8 == c { print $2; exit }' "$T_DIR/toa-rs1.log")
	if [ -z "$lport" ]; then bad=$((bad + 1)); continue; fi
	awk -v l="$lport" '$2 == l' "$T_DIR/toa-rs1.log" >"$T_DIR/conn"
	# handshake ACK: the first "." without payload; the request: the first with
	[ "$(awk '$4 == "." && $6 == 0 { print $8; exit }' "$T_DIR/conn")" = "$(ap "$C" "$port")" ] &&
		acks=$((acks + 1))
	[ "$(awk '$6 > 0 { print $8; exit }' "$T_DIR/conn")" = "$(ap "$C" "$port")" ] &&
		data=$((data + 1))
	# the SYN carries none (its reply's number is not known yet)
	[ "$(awk '$4 == "S" { print $8; exit }' "$T_DIR/conn")" = - ] || bad=$((bad + 1))
done <"$T_DIR/asked"
assert_eq 0 "$bad" "each connection found on rs1 by its option; no option in a SYN"
assert_eq 10 "$acks" "each handshake ACK carried kind 254 with the client's address and port"
assert_eq 10 "$data" "each request's first data packet carried it too"
assert_eq 0 "$(awk '$6 > 0 && $8 != "-"' "$T_DIR/toa-rs1.log" | awk '{ n[$2]++ } END { for (k in n) if (n[k] > 1) print k }' | wc -l)" \
	"no connection had it in more than one data segment"
assert_eq 0 "$(grep -c 'toa bad' "$T_DIR/toa-rs1.log" || true)" "no option of kind 254 with a wrong length"

# the client acknowledged the server's data: the option stops (the FIN's ACK and after)
assert_eq 0 "$(awk '$4 ~ /F/ && $8 != "-"' "$T_DIR/toa-rs1.log" | wc -l)" \
	"no option in a FIN: the client had acknowledged the server's answer"

# a service without it adds nothing
n0=$(wc -l <"$T_DIR/toa-rs1.log")
assert_eq 200 "$(nsx client curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$U:81/")" "plain service answers"
count_wait 1 fins_after "$n0" >/dev/null
assert_gt 0 "$(tail -n +"$((n0 + 1))" "$T_DIR/toa-rs1.log" | grep -c '^seg')" "the plain service's segments seen"
assert_eq 0 "$(tail -n +"$((n0 + 1))" "$T_DIR/toa-rs1.log" | grep -c -v 'toa -$' || true)" \
	"no option on a service without client_address"

# bulk both ways, the first segments carrying the option
assert_eq "$sum" "$(http_sha client "http://$U/blob" 2>/dev/null)" "20 MB download intact (sha256)"
assert_eq "$sum" "$(up_post client "http://$U:8000/" "$T_DIR/www/blob")" "20 MB upload intact (sha256)"

vsrouted_stats director >/dev/null
assert_gt 0 "$(stat_get client_address_toa)" "options counted"
assert_eq 0 "$(stat_get drop_malformed)" "nothing malformed"
gso_check
vsrouted_stop director
