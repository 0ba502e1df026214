#!/usr/bin/env bash
# bench/rulecost.sh - what steering replies into a TAP costs the kernel, in profile samples
#
#   bench/rulecost.sh [--duration S] [VARIANT...]
#
# As root, from a built tree; needs wrk, nginx, nft, perf.  Issue 21 item
# 2: a nat director's kernel must send the real servers' replies into the
# TAP, and the policy rules that do it are looked up for every packet it
# forwards.  On bench/run.sh's topology (lvs_nat_seed), bench/tapfloor
# carries a keep-alive load (wrk -t2 -c50, S seconds, default 8) while
# perf samples the whole machine (cpu-clock, 2 kHz: this machine has no
# hardware counters); the share of the samples that fall in the rule
# path's functions is printed per variant (default: all four, in this
# order, floor-fnat first):
#
#   floor-fnat  no rule of ours: fullnat's way, the replies go to a local
#               address routed into the TAP
#   floor       one rule for the real servers' subnet (from 10.20.0.0/24
#               iif eth1 lookup 7601)
#   floor-rs    vsrouted nat's: a rule per real server and port, and one
#               for its ICMP (9 rules with ports: the kernel dissects each
#               packet's ports first)
#   floor-mark  nftables marks the real servers' packets in prerouting,
#               one rule looks the mark up
#
# A share of samples is a count, steadier on a shared machine than a
# rate; the req/s are printed too, for what they are worth here.
set -u
dur=8
while [ $# -gt 0 ]; do
	case $1 in
	--duration) dur=${2:?--duration S}; shift ;;
	-h|--help) sed -n '2,/^set -u/s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
	-*) echo "rulecost.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
# floor-fnat first: once a namespace has had a rule of its own, the
# kernel walks the rule list for every packet until it goes away.
variants=${*:-floor-fnat floor floor-rs floor-mark}
bench_dir=$(cd "$(dirname "$0")" && pwd)
. "$bench_dir/../tests/netns/lib.sh"
trap - ERR
_t_say() { printf '%s\n' "$*" >&2; }
need_cmd wrk nginx nft perf curl
TAPFLOOR=${VSR_TAPFLOOR:-$VSR_TOP/bench/tapfloor}
[ -x "$TAPFLOOR" ] || fatal "$TAPFLOOR is not built (make)"
T_HTTP_ACCESS_LOG=off
FVIP=10.10.0.103 T=7601 FLIP=10.20.0.249
# The rule path's functions, and what floor-mark adds (nftables).
RULE_SYMS='fib_rules_lookup|fib4_rule_|__skb_flow_dissect|nft_|nf_hook_slow'

lvs_nat_seed 3 gw
ns_sysctl director net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0 \
	net.ipv4.neigh.eth0.proxy_delay=0 net.ipv4.neigh.eth1.proxy_delay=0
for i in 1 2 3; do http_start "rs$i" "rs$i" || fatal "nginx on rs$i"; done
D=$(nsname director)

steer() {
	local i p
	case $1 in
	floor-fnat)
		ip -n "$D" route add "$FLIP/32" dev vsf0 &&
			ip -n "$D" neigh add proxy "$FLIP" dev eth1
		return ;;
	esac
	ip -n "$D" route add default via "$FVIP" dev vsf0 onlink table "$T" || return 1
	case $1 in
	floor) ip -n "$D" rule add from 10.20.0.0/24 iif eth1 lookup "$T" pref "$T" ;;
	floor-rs)
		for i in 1 2 3; do
			for p in 80 5201; do
				ip -n "$D" rule add from "10.20.0.1$i/32" iif eth1 ipproto tcp \
					sport "$p" lookup "$T" pref "$T" || return 1
			done
			ip -n "$D" rule add from "10.20.0.1$i/32" iif eth1 ipproto icmp \
				lookup "$T" pref "$T" || return 1
		done ;;
	floor-mark)
		printf 'table ip vsrfloor { chain pre { type filter hook prerouting priority mangle; policy accept; iif "eth1" ip saddr 10.20.0.0/24 meta mark set %s; }; }\n' \
			"$T" | nsx director nft -f - &&
			ip -n "$D" rule add fwmark "$T" lookup "$T" pref "$T" ;;
	*) echo "unknown variant $1" >&2; return 1 ;;
	esac
}

unsteer() {
	while ip -n "$D" rule del pref "$T" 2>/dev/null; do :; done
	ip -n "$D" route flush table "$T" 2>/dev/null
	nsx director nft delete table ip vsrfloor 2>/dev/null
	ip -n "$D" route del "$FLIP/32" dev vsf0 2>/dev/null
	ip -n "$D" neigh del proxy "$FLIP" dev eth1 2>/dev/null
	ip -n "$D" neigh del proxy "$FVIP" dev eth0 2>/dev/null
	return 0
}

_up() { ip -n "$D" link show vsf0 up 2>/dev/null | grep -q vsf0; }
_answers() { [ -n "$(nsx client curl -s -m 1 "http://$FVIP/")" ]; }

printf '| variant | req/s | rule path %% of samples | of which: rules, dissector, nftables | routing (fib_table_lookup) %% |\n|---|---:|---:|---|---:|\n'
for v in $variants; do
	fl=()
	[ "$v" = floor-fnat ] && fl=(-l "$FLIP")
	bg_start "tapfloor-$v" director "$TAPFLOOR" -i vsf0 -v "$FVIP" "${fl[@]}" \
		-r 10.20.0.11 -r 10.20.0.12 -r 10.20.0.13
	pid=$BG_PID
	if ! wait_for "the floor's TAP" 10 _up || ! ip -n "$D" route add "$FVIP/32" dev vsf0 ||
	    ! ip -n "$D" neigh add proxy "$FVIP" dev eth0 || ! steer "$v" ||
	    ! wait_for "$v to answer" 10 _answers; then
		fail "$v did not start"
		unsteer; bg_stop "$pid" TERM 5
		continue
	fi
	perf record -q -a -e cpu-clock -F 2000 -o "$T_DIR/perf.data" -- \
		timeout -k 5 $((dur + 20)) ip netns exec "$(nsname client)" \
		wrk -t2 -c50 -d"${dur}s" "http://$FVIP/" >"$T_DIR/wrk.out" 2>/dev/null
	rate=$(awk '$1 == "Requests/sec:" { print $2 }' "$T_DIR/wrk.out")
	perf report -i "$T_DIR/perf.data" --stdio --sort sym 2>/dev/null >"$T_DIR/rep.txt"
	awk -v v="$v" -v r="${rate:-0}" -v re="$RULE_SYMS" '
		$2 == "[k]" { p = $1; sub(/%/, "", p)
			if ($3 ~ /^(fib_rules_lookup|fib4_rule_)/) ru += p
			else if ($3 ~ /^__skb_flow_dissect/) fd += p
			else if ($3 ~ /^(nft_|nf_hook_slow)/) nf += p
			else if ($3 == "fib_table_lookup") ft += p }
		END { printf "| %s | %.0f | %.2f | %.2f, %.2f, %.2f | %.2f |\n", v, r, ru + fd + nf, ru, fd, nf, ft }' \
		"$T_DIR/rep.txt"
	pass "$v measured"
	unsteer
	bg_stop "$pid" TERM 5
done
