#!/usr/bin/env bash
# tun-rr-ipip.sh - LVS-TUN over IPIP, round robin: 300 connections, 100 per RS;
# over GRE with VSR_TEST_TUNNEL=gre (tests/run.sh's [gre] variants)
#
#                  LAN lan0 (bridge)
#   +--------------+---------------+
#   | 10.10.0.1    | 10.10.0.2     | 10.10.0.254
# client       director          router --- 10.30.1.0/24 --- rs1 (vsrtun, nginx)
#  curl     vsrouted (rr, tun)          --- 10.30.2.0/24 --- rs2 (vsrtun, nginx)
#           VIP/32 -> vsr0              --- 10.30.3.0/24 --- rs3 (vsrtun, nginx)
#
#   client -> VIP:80 -> director -IPIP/GRE 10.10.0.2 -> 10.30.N.11-> router -> rsN;
#   vsrtun unwraps into vsrtun0 (VIP/32); rsN -> router -> client from the VIP
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_vsrtun
TUNNEL=${VSR_TEST_TUNNEL:-ipip}
case $TUNNEL in ipip|gre) ;; *) fatal "VSR_TEST_TUNNEL must be ipip or gre, not '$TUNNEL'" ;; esac

lvs_tun_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done

tun_conf "$T_DIR/vsrouted.conf" 3 "$TUNNEL"
vsrouted_start director "$T_DIR/vsrouted.conf"

http_get_n client "http://$VIP/" 300 >"$T_DIR/answers"
assert_eq 300 "$(grep -c . "$T_DIR/answers")" "300 requests got an answer line"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "no request failed"
for i in 1 2 3; do
	assert_eq 100 "$(count_of "rs$i" "$T_DIR/answers")" "client saw rs$i answer 100 times"
	assert_eq 100 "$(http_count "rs$i")" "rs$i served 100 requests"
done
assert_eq 0 "$(uniq -d "$T_DIR/answers" | grep -c . || true)" "no real server answered twice in a row"

for i in 1 2 3; do
	vsrtun_stats "rs$i" >/dev/null
	assert_gt 0 "$(stat_get "rx_$TUNNEL")" "vsrtun on rs$i received $TUNNEL packets"
	assert_gt 0 "$(stat_get delivered)" "vsrtun on rs$i delivered them"
	assert_eq 0 "$(stat_get drop_untrusted)" "vsrtun on rs$i dropped nothing as untrusted"
	assert_eq 0 "$(stat_get drop_malformed)" "vsrtun on rs$i found nothing malformed"
done
vsrouted_stats director >/dev/null
assert_eq 0 "$(stat_get drop_tun_tx_error)" "no tunnel send error"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
for i in 1 2 3; do vsrtun_stop "rs$i"; done
