#!/usr/bin/env bash
# ha-proxy.sh - two directors, fullnat with client_address = proxy-v2 (issue
# 19), keepalived's VRRP and connection sync: the sequence shift that the
# PROXY v2 header puts into each client's stream travels with the
# connection (IPVS's sequence option), so a backup that takes over keeps
# shifting, and never sends a second header.
#
# Topology: lib.sh's lvs_ha_seed fullnat (dir1, dir2, rs1..rs3). Services:
#   web  VIP:80 -> rsN:8080  nginx "listen 8080 proxy_protocol" (http_start's
#                            T_HTTP_PP_PORT): request loop, 8 paced downloads
#   chat VIP:25 -> rsN:2525  ppsrv.py: each connection's header checked and
#                            logged; then rounds of "SIZE N" + N bytes, each
#                            answered with their sha256
# Story, twice (dir1 killed with kill -9; then dir2's client-side link set
# down): 4 long-lived chat connections and the 8 downloads are synced to
# the backup before the master fails; after the failover every download
# is intact (the client's ACKs must be shifted, or the server ignores
# them), every chat connection goes on exchanging data in both directions
# with correct bytes, each real server saw exactly one header per
# connection, naming the client, and as many rounds as the client counted.
# tshark reads the sync messages' first entries; their sequence option
# (which tshark 4.0 does not dissect in version 1) is read from the
# decoded datagram's bytes: in_seq's initial sequence number is a client
# SYN's (captured on the client), the delta the header's 28 bytes.
set -eu
. "$(dirname "$0")/lib.sh"
need_cmd keepalived tshark python3
T_KA_ADVERT=${T_KA_ADVERT:-}
CHATS=4

# hp_conf FILE MODE [LINE...]: ha_conf's director, its web service's real
# servers on 8080 with client_address = proxy-v2, and the chat service.
hp_conf() {
	local file=$1 mode=$2 i
	shift 2
	ha_conf "$file" "$mode" "$@"
	sed -i -e 's/^\(    forward = '"$mode"'\)$/\1\n    client_address = proxy-v2/' \
		-e 's/^\(    real_server rs[0-9] { address = [0-9.]*\) }$/\1  port = 8080 }/' "$file"
	{
		echo "virtual_server chat {"
		echo "    address = $VIP"
		echo "    port = 25"
		echo "    protocol = tcp"
		echo "    scheduler = rr"
		echo "    forward = $mode"
		echo "    client_address = proxy-v2"
		for i in 1 2 3; do
			echo "    real_server rs$i { address = 10.20.0.$((10 + i))  port = 2525 }"
		done
		echo "}"
	} >>"$file"
}

# The chat client: connects to ADDR PORT, then a round every 200 ms ("SIZE
# 3000" and 3000 random bytes, the answer's sha256 checked) until the file
# STOP exists; then QUIT. One line per round: "round K MS ok", or "BAD"
# and exit 1; a round that takes more than 15 s fails it too.
cat >"$T_DIR/chat.py" <<'EOF'
import hashlib, os, socket, sys, time
addr, port, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((addr, port), timeout=15)
print("local %s:%d" % s.getsockname()[:2], flush=True)
r = s.makefile("rb")
k = 0
while True:
    last = os.path.exists(stop)
    data = os.urandom(3000)
    s.sendall(b"SIZE %d\r\n" % len(data) + data)
    line = r.readline().decode(errors="replace").rstrip()
    want = "250 %s %d" % (hashlib.sha256(data).hexdigest(), len(data))
    ms = int(time.time() * 1000)
    if line != want:
        print("round %d %d BAD %r" % (k, ms, line), flush=True)
        sys.exit(1)
    print("round %d %d ok" % (k, ms), flush=True)
    k += 1
    if last:
        break
    time.sleep(0.2)
s.sendall(b"QUIT\r\n")
line = r.readline().decode(errors="replace").rstrip()
print("quit %s" % line, flush=True)
sys.exit(0 if line.startswith("221 ") else 1)
EOF

# chat_synced NS: ESTABLISHED connections of the client to VIP:25 that NS lists
chat_synced() {
	vsradm_in "$1" -Lnc 2>/dev/null |
		awk -v v="$VIP:25" '$3 == "ESTABLISHED" && index($4, "10.10.0.1:") == 1 && $5 == v { n++ }
			END { print n + 0 }'
}
_t_chat_synced_ge() { [ "$(chat_synced "$1")" -ge "$2" ]; }

# chats_start TAG: CHATS chat clients (logs $T_DIR/chat-TAG-K.log)
chats_start() {
	local tag=$1 k
	rm -f "$T_DIR/chat.stop"
	for k in $(seq "$CHATS"); do
		bg_start "chat-$tag-$k" client python3 -u "$T_DIR/chat.py" "$VIP" 25 "$T_DIR/chat.stop"
		echo "$BG_PID" >"$T_DIR/chat-$tag-$k.pid"
	done
}

# _t_srv_rounds ADDR:PORT [N]: the rounds the real servers logged from that
# client (with N: true when they are N). Not by line: ppsrv.py's threads
# print the text and its newline apart, so two chats' lines can merge.
_t_srv_rounds() {
	local n
	n=$(cat "$T_DIR"/pp-chat*.log | grep -oE "size 3000 [0-9a-f]{64} from $1([^0-9]|\$)" | wc -l)
	if [ $# -gt 1 ]; then [ "$n" = "$2" ]; else echo "$n"; fi
}

# chats_check TAG SINCE_MS: stop the chat clients; each must end well, with
# rounds answered after SINCE_MS (after the failover), and the real
# servers must have seen one header per connection, naming the client's
# address and port, and exactly the rounds the client counted.
chats_check() {
	local tag=$1 since=$2 k pid rc log la n after srv conns good=0
	touch "$T_DIR/chat.stop"
	for k in $(seq "$CHATS"); do
		pid=$(cat "$T_DIR/chat-$tag-$k.pid")
		wait_for "chat $tag-$k to end" 30 _t_not_running "$pid" || true
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		log="$T_DIR/chat-$tag-$k.log"
		la=$(sed -n 's/^local //p' "$log")
		n=$(grep -c ' ok$' "$log" || true)
		after=$(awk -v t="$since" '$1 == "round" && $3 > t && $4 == "ok" { n++ } END { print n + 0 }' "$log")
		conns=$(cat "$T_DIR"/pp-chat*.log | grep -oE "conn $la $VIP:25 peer " | wc -l)
		# ppsrv.py logs a round before it answers it (so this returns at once).
		wait_for "the real server to log chat $tag-$k's $n rounds" 20 _t_srv_rounds "$la" "$n" || true
		srv=$(_t_srv_rounds "$la")
		if [ "$rc" = 0 ] && [ "$after" -gt 0 ] && [ "$conns" = 1 ] && [ "$srv" = "$n" ] &&
		    grep -q '^quit 221 ' "$log"; then
			good=$((good + 1))
		else
			echo "# chat $tag-$k ($la): exit $rc, $n rounds, $after after the failover," \
				"$conns headers and $srv rounds on the real server; last: $(tail -n 1 "$log")"
		fi
	done
	assert_eq "$CHATS" "$good" "every chat connection exchanges correct bytes after the failover ($tag), one header each, naming its client"
}

# chats_failover TAG HOW FAILED TAKER: CHATS chat clients, synced to TAKER
# before FAILED fails (ha_failover HOW), all well after it (chats_check).
chats_failover() {
	local tag=$1 how=$2 failed=$3 taker=$4 t1
	chats_start "$tag"
	wait_for "$taker to list the $CHATS chats, synced" 15 _t_chat_synced_ge "$taker" "$CHATS" || true
	assert_ge "$CHATS" "$(chat_synced "$taker")" \
		"$taker's vsradm -Lnc lists the chat connections before $failed fails"
	ha_failover "$how" "$failed" "$taker" "$sha"
	t1=$(now_ms)
	sleep 1
	chats_check "$tag" "$t1"
}

# seq_check: the sync messages dir1 sent (captured on dir2's eth1) carry,
# in their first entry when it is a chat or web connection, IPVS's
# sequence option: IN_SEQ set, type 1, 24 bytes, in_seq's initial number
# one of the client's SYNs' (captured on the client), delta 28, previous
# delta 0, out_seq all zero.
seq_check() {
	local dec=(tshark -n -r "$T_DIR/sync.pcap" -d udp.port==8848,ipvs) isns n
	isns=$(tshark -n -r "$T_DIR/syn.pcap" -T fields -e tcp.seq_raw \
		-Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null | sort -u | tr '\n' ' ')
	assert_gt 0 "$(echo "$isns" | wc -w)" "the client's SYNs were captured ($(echo "$isns" | wc -w))"
	n=$("${dec[@]}" -T fields -e ipvs.flags.v1 -e udp.payload -Y "ipvs && ip.src == 10.20.0.2" \
		2>/dev/null | python3 -c '
import struct, sys
isns = set(int(x) for x in sys.argv[1].split())
ok = bad = 0
for line in sys.stdin:
    f = line.split()
    if len(f) < 2:
        continue
    b = bytes.fromhex(f[1].replace(":", ""))
    if len(b) < 8 + 36 or b[9] != 6 or (b[10] << 8 | b[11]) & 0x0fff < 36:
        continue
    size = (b[10] << 8 | b[11]) & 0x0fff
    flags, = struct.unpack("!I", b[12:16])
    vport, = struct.unpack("!H", b[20:22])
    if vport not in (25, 80):
        continue
    opts, seq = b[8 + 36:8 + size], None
    while len(opts) >= 2:
        t, l = opts[0], opts[1]
        if t == 1 and l == 24:
            seq = struct.unpack("!6I", opts[2:26])
        opts = opts[2 + l:]
    if (flags & 0x600) == 0x400 and seq and seq[0] in isns and seq[1:] == (28, 0, 0, 0, 0):
        ok += 1
    else:
        bad += 1
        print("bad entry: flags %#x seq %s" % (flags, seq), file=sys.stderr)
print(ok if bad == 0 else -bad)
' "$isns")
	assert_gt 0 "$n" "every first entry of dir1's messages carries the sequence option: a client ISN, delta 28 ($n)"
	n=$("${dec[@]}" -T fields -e ipvs.flags.v1 -e ipvs.vport -Y "ipvs && ip.src == 10.20.0.2" 2>/dev/null |
		awk '{ split($1, f, ","); split($2, p, ",")
			if ((p[1] == 25 || p[1] == 80) && f[1] ~ /^0x00000[4-7c-f]/) n++ } END { print n + 0 }')
	assert_gt 0 "$n" "tshark decodes IN_SEQ (0x400, Adjust Input Sequence) in their flags ($n)"
}

T_HTTP_PP_PORT=8080 HA_CONF=hp_conf ha_start fullnat
for i in 1 2 3; do
	ppsrv_start "rs$i" "chat$i" tcp 2525
done
sha=$(blob_make "$HA_BLOB_MB")
assert_eq "master backup" "$(ha_role dir1) $(ha_role dir2)" "keepalived made dir1 master, dir2 backup"
ha_requests_ok 6
assert_gt 0 "$(grep -c '"GET / HTTP' "$T_DIR/nginx-rs1/access.log" "$T_DIR/nginx-rs2/access.log" \
	"$T_DIR/nginx-rs3/access.log" | awk -F: '{ n += $2 } END { print n + 0 }')" \
	"nginx's proxy_protocol listener answered them (it closes a connection without a header)"

echo "# dir1 killed (kill -9 of keepalived and vsrouted) under load"
bg_start syncap-syn client tshark -q -n -i eth0 -f "tcp[tcpflags] & tcp-syn != 0 and dst host $VIP" \
	-w "$T_DIR/syn.pcap"
SYN_PID=$BG_PID
wait_for "tshark to capture on the client" 60 grep -q "^Capturing on" "$T_DIR/syncap-syn.log" || true
ha_capture_start dir2 eth1
chats_failover kill kill dir1 dir2
ha_capture_stop
bg_stop "$SYN_PID" INT 10 || true
seq_check
ha_comeback_killed dir1 dir2
ha_requests_ok 6

echo "# dir2's client-side link down under load"
chats_failover link linkdown dir2 dir1
ha_comeback_link dir2 dir1
ha_requests_ok 6
ha_end
