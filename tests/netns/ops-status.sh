#!/usr/bin/env bash
# ops-status.sh - the status page (/) in headless Chromium and /status.json:
# every service and real server with its state, coloured as HAProxy's page,
# one real server down by its check with its error, one quiesced, one
# draining, a sorry server in use, and every string escaped
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13   | 10.10.0.14
# client       director         rs1            rs2            rs3            rs4
#  holds a     vsrouted         nginx          nginx          nginx          nginx
#  connection  metrics :9410    up             quiesced (w 0) DOWN (stopped) draining
#              chromium there
#
#   web  10.10.0.100:80   http check; rs1 up, rs2 weight 0, rs3 down,
#                         rs4 weight 0 with a connection held open
#   alt  10.10.0.100:81   tcp check on a port nobody listens on: its only
#                         real server down, the sorry server (rs1) in use
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 chromium

lvs_dr_seed 4
for i in 1 2 3 4; do http_start "rs$i" "rs$i"; done
cat >"$T_DIR/vsrouted.conf" <<EOF
tap = vsr0
announce = { eth0 }
metrics = 9410
virtual_server web {
    address = $VIP
    port = 80
    scheduler = rr
    check { type = http  interval = 1  timeout = 5  rise = 2  fall = 1 }
    real_server rs1 { address = 10.10.0.11 }
    real_server rs2 { address = 10.10.0.12  weight = 0 }
    real_server "rs3<b>&" { address = 10.10.0.13 }
    real_server rs4 { address = 10.10.0.14 }
}
virtual_server alt {
    address = $VIP
    port = 81
    check { type = tcp  interval = 1  timeout = 5  fall = 1 }
    real_server lone { address = 10.10.0.12 }
    sorry_server { address = 10.10.0.11 }
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"
log=$(vsrouted_log director)
URL=http://127.0.0.1:9410
assert_eq 0 "$(grep -c 'reachable from other hosts' "$log" || true)" "metrics = 9410: loopback, no warning"
assert_false "nothing listens on the director's LAN address" nsx client curl -s -m 2 http://10.10.0.2:9410/

# rs4 gets one connection (rr: rs1, rs4 in turn, rs2 has weight 0), held
# open, then weight 0: draining.
http_stop rs3
wait_for "rs3 down" 10 grep -q 'is down: http check' "$log"
wait_for "the sorry server of alt in use" 10 grep -q 'lone (10.10.0.12:81) is down' "$log"
bg_start hold client python3 "$VSR_NETNS_DIR/holdopen.py" "$VIP" 80 2 30
wait_for "two connections held" 10 sh -c "[ \"\$(ip netns exec $(nsname director) \
	curl -s $URL/status.json | python3 -c 'import json,sys; d=json.load(sys.stdin); \
	print(sum(r[\"active\"] for r in d[\"services\"][0][\"real_servers\"]))')\" = 2 ]"
vsradm -e -t "$VIP:80" -r 10.10.0.14 -w 0

# ---- JSON
nsx director curl -s -m 5 -o "$T_DIR/status.json" -w '%{content_type}\n' "$URL/status.json" \
	>"$T_DIR/ctype"
assert_eq application/json "$(cat "$T_DIR/ctype")" "status.json's content type"
cat >"$T_DIR/check.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
svc = {s["name"]: s for s in d["services"]}
web, alt = svc["web"], svc["alt"]
rs = {r["name"]: r for r in web["real_servers"]}
for name, state in [("rs1", "up"), ("rs2", "quiesced"), ("rs3<b>&", "down"), ("rs4", "draining")]:
    print("state %s %s" % (name, rs[name]["state"]))
print("err %s" % rs["rs3<b>&"]["check"]["last_error"])
print("since %s" % (isinstance(rs["rs3<b>&"]["since"], int) and rs["rs3<b>&"]["since_seconds"] >= 0))
print("addr %s:%d %s" % (web["address"], web["port"], web["protocol"]))
print("rs4 active %d weight %d conf %d" % (rs["rs4"]["active"], rs["rs4"]["weight"], rs["rs4"]["configured_weight"]))
print("sorry %s %s" % (alt["sorry_server"]["address"], alt["sorry_server"]["active"]))
print("alt rows %s" % " ".join("%s=%s" % (r["name"], r["state"]) for r in alt["real_servers"]))
print("keys %s" % ",".join(sorted(rs["rs1"]["rates"])))
EOF
python3 "$T_DIR/check.py" "$T_DIR/status.json" >"$T_DIR/json.out" || fail "status.json does not parse"
cat "$T_DIR/json.out"
j() { sed -n "s/^$1 //p" "$T_DIR/json.out"; }
assert_eq up "$(j 'state rs1')" "json: rs1 up"
assert_eq quiesced "$(j 'state rs2')" "json: rs2 (weight 0, no connection) quiesced"
assert_eq down "$(j 'state rs3<b>&')" "json: rs3 down, its name as written"
assert_eq draining "$(j 'state rs4')" "json: rs4 (weight 0, a connection left) draining"
assert_eq "connect: Connection refused" "$(j err)" "json: rs3's last check error"
assert_eq True "$(j since)" "json: rs3's time of last change"
assert_eq "10.10.0.100:80 TCP" "$(j addr)" "json: the service's address"
assert_eq "1 0 0" "$(j 'rs4 active' | awk '{print $1, $3, $5}')" \
	"json: rs4 active 1, weight 0 (as vsradm set it)"
assert_eq "10.10.0.11 True" "$(j sorry)" "json: alt's sorry server in use"
assert_eq "lone=down sorry=sorry" "$(j 'alt rows')" "json: alt lists its real server down and the sorry server"
assert_eq "cps,inbps,inpps,outbps,outpps" "$(j keys)" "json: rates in and out"

# ---- HTML, rendered by Chromium
nsx director curl -s -m 5 -D "$T_DIR/html.hdr" -o "$T_DIR/status.html" "$URL/"
assert_true "the page has no external asset" sh -c \
	"! grep -Eio '(src|href)=\"(https?:)?//[^\"]*' '$T_DIR/status.html'"
assert_true "the page's names are escaped in the source" grep -q 'rs3&lt;b&gt;&amp;' "$T_DIR/status.html"
assert_true "a content security policy forbids anything from elsewhere" \
	grep -qi "^Content-Security-Policy: default-src 'none'" "$T_DIR/html.hdr"

chrome() {  # chrome ARGS...: headless Chromium in the director, its own profile
	nsx director timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$T_DIR/chromium" "$@" 2>>"$T_DIR/chromium.log"
}
chrome --dump-dom "$URL/#stop" >"$T_DIR/dom.html" || true
assert_true "Chromium rendered the page" grep -q '</html>' "$T_DIR/dom.html"
cat >"$T_DIR/rows.py" <<'EOF'
import html.parser, sys
# One line per table row of the rendered DOM: its class, then its cells' text.
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cell = None; self.bold = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr": self.rows.append([a.get("class", "")])
        elif tag in ("td", "th"): self.cell = ""
        elif tag == "b": self.bold += 1
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip()); self.cell = None
    def handle_data(self, data):
        if self.cell is not None: self.cell += data
p = P(); p.feed(open(sys.argv[1]).read())
for r in p.rows: print("|".join(r))
print("bold-elements|%d" % p.bold)
EOF
python3 "$T_DIR/rows.py" "$T_DIR/dom.html" >"$T_DIR/rows"
row() { grep -F "|$1|$2|" "$T_DIR/rows" | head -n 1; }
assert_eq up "$(row rs1 10.10.0.11:80 | cut -d'|' -f1)" "page: rs1's row is coloured up"
assert_eq quiesced "$(row rs2 10.10.0.12:80 | cut -d'|' -f1)" "page: rs2's row quiesced"
assert_eq down "$(row 'rs3<b>&' 10.10.0.13:80 | cut -d'|' -f1)" "page: rs3's row down, its name shown as text"
assert_eq draining "$(row rs4 10.10.0.14:80 | cut -d'|' -f1)" "page: rs4's row draining"
assert_eq sorry "$(row sorry 10.10.0.11:81 | cut -d'|' -f1)" "page: the sorry server's row"
assert_true "page: rs3's last check error and its age" sh -c \
	"grep -F '|rs3<b>&|' '$T_DIR/rows' | grep -Eq 'connect: Connection refused \\([0-9]+s ago\\)'"
assert_true "page: rs3's time of last change" sh -c \
	"grep -F '|rs3<b>&|' '$T_DIR/rows' | cut -d'|' -f6 | grep -Eq '^[0-9]+[smhd]'"
assert_eq "bold-elements|0" "$(tail -n 1 "$T_DIR/rows")" "page: the name's markup was not interpreted"
assert_true "page: alt's header says the sorry server is in use" grep -q 'sorry server 10.10.0.11:81 IN USE' "$T_DIR/rows"

chrome --screenshot="$T_DIR/shot.png" --window-size=1280,800 --hide-scrollbars "$URL/#stop" \
	>/dev/null || true
cat >"$T_DIR/png.py" <<'EOF'
import struct, sys, zlib
# Width, height and how many pixels have each state's colour (8-bit RGB/RGBA PNG).
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR": hdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT": idat += body
    pos += 12 + n
w, h, depth, ctype = hdr[:4]
assert depth == 8 and ctype in (2, 6), hdr
bpp = 3 if ctype == 2 else 4
raw, stride, prev, out = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    out.append(line); prev = line
colours = {"up": (0xc0, 0xff, 0xc0), "down": (0xff, 0x90, 0x90), "quiesced": (0xc0, 0x78, 0x20),
           "draining": (0x20, 0xa0, 0xff), "sorry": (0xc0, 0xc0, 0xff)}
count = dict.fromkeys(colours, 0)
for line in out:
    for x in range(0, stride, bpp):
        px = tuple(line[x:x + 3])
        for k, v in colours.items():
            if px == v: count[k] += 1
print("size %d %d" % (w, h))
for k in sorted(count): print("pixels %s %d" % (k, count[k]))
EOF
if [ -s "$T_DIR/shot.png" ]; then
	python3 "$T_DIR/png.py" "$T_DIR/shot.png" >"$T_DIR/png.out" || true
	cat "$T_DIR/png.out"
	assert_eq "1280 800" "$(sed -n 's/^size //p' "$T_DIR/png.out")" "the screenshot is 1280x800"
	assert_gt 20000 "$(stat -c %s "$T_DIR/shot.png")" "the screenshot is more than a blank page (bytes)"
	for st in up down quiesced draining sorry; do
		assert_gt 500 "$(sed -n "s/^pixels $st //p" "$T_DIR/png.out")" \
			"the screenshot shows the $st colour"
	done
else
	fail "Chromium made no screenshot"
	tail -n 20 "$T_DIR/chromium.log"
fi

bg_stop "$(awk '$2 == "hold" { print $1 }' "$T_DIR/pids")" TERM 5 || true
vsrouted_stop director
