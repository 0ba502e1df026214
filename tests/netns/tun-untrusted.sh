#!/usr/bin/env bash
# tun-untrusted.sh - vsrtun drops (and counts) tunnelled packets from an untrusted source
#
#                  LAN lan0 (bridge)
#   +--------------+---------------+
#   | 10.10.0.1    | 10.10.0.2     | 10.10.0.254
# client       director          router --- 10.30.1.0/24 --- rs1
#              (trusted: -a)     (not trusted)               vsrtun -a 10.10.0.2,
#                                                            udp server :5353
#
# The same IPIP/GRE-wrapped datagram to VIP:5353: sent by the director it is
# delivered; sent by the router (10.30.1.1) it is dropped and counted; GRE
# with a key from the director is refused and counted too. Then vsrtun -k
# 4242: only GRE with key 4242 from the director passes; IPIP, unkeyed GRE
# and another key are dropped as drop_bad_key, and so is the router's
# packet with the right key (untrusted first). Then vsrtun -g 6080: GUE from
# the director is delivered, from the router dropped as untrusted, and GUE
# headers other than version 0 without option or flag dropped and counted.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrtun
need_cmd python3

PORT=5353
lvs_tun_seed 1
udp_start rs1 rs1 "$PORT"
send() { nsx "$1" python3 "$VSR_NETNS_DIR/tunsend.py" "$2" 10.30.1.11 10.10.0.1 "$VIP" "$PORT" "${@:3}"; }
seen() { [ "$(udp_count rs1)" -ge "$1" ]; }

send router ipip --payload untrusted-ipip
send router gre --payload untrusted-gre
send director gre --gre-flags 2000 --payload keyed-gre
# Trusted ones after: when they are in, the ones before have been handled.
send director ipip --payload trusted-ipip
send director gre --payload trusted-gre
assert_true "the director's IPIP and GRE datagrams are delivered" wait_for "2 datagrams" 20 seen 2
assert_eq 2 "$(udp_count rs1)" "exactly those two reached the server"
assert_eq 2 "$(grep -c "^from 10.10.0.1:40000 to $VIP " "$T_DIR/udp-rs1.log" || true)" \
	"with the client's source and the VIP unchanged"

vsrtun_stats rs1 >/dev/null
assert_eq 2 "$(stat_get drop_untrusted)" "vsrtun counted the router's two packets as untrusted"
assert_eq 1 "$(stat_get drop_gre_unsupported)" "vsrtun counted GRE with a key as unsupported"
assert_eq 2 "$(stat_get delivered)" "vsrtun delivered two"
vsrtun_stop rs1

# ---- -k: the key is required
vsrtun_start rs1 -a 10.10.0.2 -v "$VIP" -k 4242
assert_true "vsrtun says it wants the key" grep -q 'GRE with the key only' "$(vsrtun_log rs1)"
before=$(udp_count rs1)
send director ipip --payload k-ipip
send director gre --payload k-unkeyed
send director gre --key 4243 --payload k-wrong-key
send router gre --key 4242 --payload k-untrusted
send director gre --key 4242 --payload k-right
assert_true "GRE with the key is delivered" wait_for "the keyed datagram" 20 seen $((before + 1))
assert_eq $((before + 1)) "$(udp_count rs1)" "it alone reached the server (sent last: the others were handled before)"
vsrtun_stats rs1 >/dev/null
assert_eq 3 "$(stat_get drop_bad_key)" "IPIP, unkeyed GRE and a wrong key: drop_bad_key"
assert_eq 1 "$(stat_get drop_untrusted)" "the right key from an untrusted source: still untrusted"
assert_eq 1 "$(stat_get delivered)" "one delivered"
vsrtun_stop rs1

# ---- -g: GUE on a UDP port, the same trust checks, other GUE headers refused
vsrtun_start rs1 -a 10.10.0.2 -v "$VIP" -g 6080
before=$(udp_count rs1)
send router gue --payload g-untrusted
send director gue --gue-hdr 40040000 --payload g-version1
send director gue --gue-hdr 01040000 --payload g-options
send director gue --gue-hdr 00040001 --payload g-flags
send director gue --gue-hdr 00110000 --payload g-udp-inside
send director gue --gue-hdr 0004 --bare
send director gue --payload g-right
assert_true "the director's GUE is delivered" wait_for "the GUE datagram" 20 seen $((before + 1))
assert_eq $((before + 1)) "$(udp_count rs1)" "it alone reached the server"
assert_eq 4 "$(grep -c "^from 10.10.0.1:40000 to $VIP " "$T_DIR/udp-rs1.log" || true)" \
	"with the client's source and the VIP unchanged (as the three before it)"
vsrtun_stats rs1 >/dev/null
assert_eq 7 "$(stat_get rx_gue)" "vsrtun received the seven GUE datagrams"
assert_eq 1 "$(stat_get drop_untrusted)" "the router's: untrusted"
assert_eq 4 "$(stat_get drop_gue_unsupported)" "version 1, options, a flag, UDP inside: unsupported"
assert_eq 1 "$(stat_get drop_malformed)" "a 2-byte GUE header: malformed"
assert_eq 1 "$(stat_get delivered)" "one delivered"
vsrtun_stop rs1
rc=0
nsx rs1 "$(vsrtun_bin)" -n -a 10.10.0.2 -v "$VIP" -g 0 2>"$T_DIR/badport.err" || rc=$?
assert_eq 1 "$rc" "GUE port 0 is refused"
assert_true "saying so" grep -q "vsrtun: -g: invalid port '0'" "$T_DIR/badport.err"

rc=0
nsx rs1 "$(vsrtun_bin)" -n -a 10.10.0.2 -v "$VIP" -k 4294967296 2>"$T_DIR/badkey.err" || rc=$?
assert_eq 1 "$rc" "a key over 32 bits is refused"
assert_true "saying so" grep -q "vsrtun: -k: invalid key '4294967296'" "$T_DIR/badkey.err"
