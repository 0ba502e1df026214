#!/usr/bin/env bash
# synproxy.sh - synproxy = yes: the director answers the handshake with SYN
# cookies, makes the flow on the client's valid ACK only, and splices the
# real server's sequence numbers, by nat and fullnat, IPv4 and IPv6
#
#     LAN lan0 10.10.0.0/24               LAN lan1 10.20.0.0/24
#              2001:db8:10::/64                    2001:db8:20::/64
#   ==+=================+=====         =====+================+========
#     |                 |                   |                |
#   eth0 .1          eth0 .2             eth1 .1          eth0 .11, .12
#  +--------+     +--------------+                       +------------+
#  | client |     |   director   |-----------------------|  rs1, rs2  |
#  | curl   |     | vsrouted     |                       | nginx 8080 |
#  | raw    |     | VIP, VIP6    |                       | upsrv 8000 |
#  +--------+     +--------------+                       | gw .1      |
#                                                        +------------+
#
#   VIP:80 nat, VIP:8000 fullnat, [VIP6]:80 fullnat, all synproxy = yes;
#   VIP:81 nat without, for comparison. Checked: many short connections
#   (the handshake, the director's ACK, then HTTP), 20 MB each way intact
#   (every segment of both directions shifted), the cookie counters, a
#   forged ACK refused with no entry, a SYN making no entry, and what
#   vsrouted -t refuses.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 sha256sum

lvs_nat_seed6 2
csum_verify director
sum=$(blob_make 20)
for i in 1 2; do
	http_start "rs$i" "rs$i" 8080
done
upload_start rs1 rs1 8000

cat >"$T_DIR/vsrouted.conf" <<EOF2
tap = vsr0
announce = { eth0 }
local_address = { 10.20.0.250, 2001:db8:20::250 }
virtual_server web {
    address = $VIP
    port = 80
    scheduler = rr
    forward = nat
    synproxy = yes
    real_server rs1 { address = 10.20.0.11  port = 8080 }
    real_server rs2 { address = 10.20.0.12  port = 8080 }
}
virtual_server up {
    address = $VIP
    port = 8000
    forward = fullnat
    synproxy = yes
    real_server rs1 { address = 10.20.0.11 }
}
virtual_server web6 {
    address = $VIP6
    port = 80
    scheduler = rr
    forward = fullnat
    synproxy = yes
    real_server rs1 { address = 2001:db8:20::11  port = 8080 }
    real_server rs2 { address = 2001:db8:20::12  port = 8080 }
}
virtual_server plain {
    address = $VIP
    port = 81
    forward = nat
    real_server rs1 { address = 10.20.0.11  port = 8080 }
}
EOF2

# ---- what vsrouted -t refuses, with the file and line
sed -e '0,/^    forward = nat$/s//    forward = dr/' -e 's/^    real_server rs1 { address = 10.20.0.11  port = 8080 }$/    real_server rs1 { address = 10.20.0.11 }/' \
	"$T_DIR/vsrouted.conf" >"$T_DIR/bad-dr.conf"
rc=0
nsx director "$(vsrouted_bin)" -t -f "$T_DIR/bad-dr.conf" >"$T_DIR/t.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "vsrouted -t refuses synproxy with a dr real server"
assert_true "... naming the file and the synproxy line" \
	grep -q "^$T_DIR/bad-dr.conf:9: synproxy needs the replies to pass the director: real server 'rs1' (line 10) is forward = dr" "$T_DIR/t.out"
rc=0
nsx director "$(vsrouted_bin)" -t -f "$T_DIR/vsrouted.conf" >"$T_DIR/t.out" 2>&1 || rc=$?
assert_eq 0 "$rc" "vsrouted -t takes the scenario's file"

vsrouted_start director "$T_DIR/vsrouted.conf" || fatal "vsrouted did not start"

# ---- short connections, both families
http_get_n client "$(url "$VIP")" 40 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "nat: 40 new connections through the proxy, none failed"
assert_eq 20 "$(count_of rs1 "$T_DIR/answers")" "nat: rs1 answered 20 (rr on the valid ACKs)"
assert_eq 20 "$(count_of rs2 "$T_DIR/answers")" "nat: rs2 answered 20"
http_get_n client "$(url "$VIP6")" 40 >"$T_DIR/answers6"
assert_eq 0 "$(count_of ERR "$T_DIR/answers6")" "fullnat6: 40 new connections through the proxy, none failed"
assert_eq 20 "$(count_of rs1 "$T_DIR/answers6")" "fullnat6: rs1 answered 20"
vsrouted_stats director >/dev/null
assert_ge 80 "$(stat_get synproxy_syn_cookies_sent)" "80 SYNs answered with a cookie"
assert_ge 80 "$(stat_get synproxy_ack_valid)" "80 valid ACKs made the flows"
assert_ge 80 "$(stat_get synproxy_spliced)" "80 real servers' SYN-ACKs answered by the director"
assert_eq 0 "$(stat_get synproxy_ack_invalid)" "no ACK of ours was refused"

# ---- every segment spliced, both ways, 20 MB
assert_eq "$sum" "$(http_sha client "$(url "$VIP" 80 blob)" 2>"$T_DIR/speed")" \
	"nat: 20 MB download intact (sha256)"
echo "# nat synproxy download: $(cat "$T_DIR/speed") bytes/s"
assert_eq "$sum" "$(up_post client "$(url "$VIP" 8000)" "$T_DIR/www/blob")" \
	"fullnat: 20 MB upload intact (sha256)"
assert_eq "$sum" "$(http_sha client "$(url "$VIP6" 80 blob)" 2>"$T_DIR/speed")" \
	"fullnat6: 20 MB download intact (sha256)"
echo "# fullnat6 synproxy download: $(cat "$T_DIR/speed") bytes/s"

# ---- a forged ACK (a blind attacker's guess) and a lone SYN make no entry
vsrouted_stats director >/dev/null
bad=$(stat_get synproxy_ack_invalid)
assert_ge 21001 "$(nsx client cut -f1 /proc/sys/net/ipv4/ip_local_port_range)" \
	"the forged segments' ports lie below the client's ephemeral range"
nsx client python3 - "$VIP" <<'EOF3'
# TCP segments by a raw socket (the kernel adds the IP header): 50 ACKs with
# made-up acknowledgements, then one SYN that nobody completes. Their source
# ports lie below the client's ephemeral range (32768-60999), so none of them
# can be a port an earlier curl used, whose flow the director still lists.
import socket, struct, sys
vip = sys.argv[1]
src = "10.10.0.1"
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def seg(sport, seq, ack, flags):
    h = struct.pack("!HHIIBBHHH", sport, 80, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ph = socket.inet_aton(src) + socket.inet_aton(vip) + struct.pack("!BBH", 0, 6, len(h))
    return h[:16] + struct.pack("!H", csum(ph + h)) + h[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for i in range(50):
    s.sendto(seg(20000 + i, 1000 + i, 123456789 + i, 0x10), (vip, 0))
s.sendto(seg(21000, 1, 0, 0x02), (vip, 0))
EOF3
assert_eq $((bad + 50)) "$(count_wait $((bad + 50)) stat_now director synproxy_ack_invalid)" \
	"50 forged ACKs refused and counted"
vsradm -lnc >"$T_DIR/conns"
assert_ge 1 "$(grep -c ' 10\.10\.0\.1:[0-9]* *10\.10\.0\.100:80 ' "$T_DIR/conns" || true)" \
	"the listing shows the client's earlier (spliced) flows"
assert_eq 0 "$(grep -c -E ' 10\.10\.0\.1:(200[0-4][0-9]|21000) ' "$T_DIR/conns" || true)" \
	"neither the forged ACKs nor the lone SYN made an entry"

# ---- what the proxy costs a new connection (figures, not asserted: a shared machine)
t0=$(now_ms)
http_get_n client "$(url "$VIP" 81)" 20 >/dev/null
t1=$(now_ms)
http_get_n client "$(url "$VIP" 80)" 20 >/dev/null
t2=$(now_ms)
vsrouted_stats director >/dev/null
echo "# 20 sequential curls: without synproxy $((t1 - t0)) ms, with $((t2 - t1)) ms;" \
	"segments before the real server answered, sent as the SYN again:" \
	"$(stat_get synproxy_syn_resent) (with data: $(stat_get synproxy_data_dropped))"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
