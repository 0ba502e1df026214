# lib.sh - shared library of the netns scenario scripts of vsrouted
#
# Every scenario script (tests/netns/*.sh) does
#
#     #!/usr/bin/env bash
#     set -eu
#     . "$(dirname "$0")/lib.sh"
#
# and then builds its hosts with the helpers below.  Everything a run makes is
# named after one prefix unique to the run (VSR_NS_PREFIX, default "vt",
# followed by the shell's PID and a dash: "vt4242-client"), all its state lives
# under one temporary directory ($T_DIR), and one trap on EXIT INT TERM stops
# every process started through the library, deletes every namespace it made
# and removes $T_DIR, also when a test fails or is interrupted.  Scripts call
# namespaces by short names ("client", "rs1"); nsname turns one into the real
# name.  Interfaces live only inside the run's namespaces, never in the root
# namespace, so nothing collides with another run or with the host.
#
# The seed topology, LVS-DR on one LAN (lvs_dr_seed builds it):
#
#                   LAN lan0: bridge br0 in namespace sw-lan0
#   ===+===============+===============+===============+===============+===
#      |               |               |               |               |
#   eth0 10.10.0.1  eth0 10.10.0.2  eth0 10.10.0.11 eth0 10.10.0.12 eth0 10.10.0.13
#   +--------+      +-----------+   +-----------+   +-----------+   +-----------+
#   | client |      | director  |   |    rs1    |   |    rs2    |   |    rs3    |
#   |  curl  |      | vsrouted  |   |   nginx   |   |   nginx   |   |   nginx   |
#   +--------+      | vsr0 (TAP)|   | lo: VIP/32|   | lo: VIP/32|   | lo: VIP/32|
#                   | VIP/32 -> |   +-----------+   +-----------+   +-----------+
#                   |   vsr0    |
#                   +-----------+
#
#   VIP 10.10.0.100.  client -> VIP goes to the director (proxy ARP), which
#   rewrites the destination MAC and hands the frame to one real server; the
#   real server answers the client directly (arp_ignore=1, arp_announce=2).
#
# API (each function documents its arguments above its definition):
#   topology:  ns_add lan_add lan_attach link_add route_add nsx nsname
#              ns_sysctl ns_mac offload_apply offload_set csum_verify lvs_dr_seed seed_conf
#   servers:   rs_dr_setup http_start http_count blob_make udp_start udp_ask
#              udp_count http_get http_get_n bg_start bg_stop
#   daemon:    vsrouted_start vsrouted_stop vsrouted_alive vsrouted_stats
#              stat_get stat_now vsrouted_log vsrouted_bin gso_check
#   vsradm:    vsrouted_sock vsradm golden_check
#   control:   wait_for cleanup_add need_cmd need_vsrouted ns_snapshot
#   nat:       lvs_nat_seed up_post http_sha
#   tun:       lvs_tun_seed tun_conf upload_start vsrtun_start vsrtun_stop vsrtun_alive csum_partial
#              vsrtun_stats vsrtun_log vsrtun_bin need_vsrtun
#   IPv6:      ns_addr6 rs_dr_setup6 lvs_dr_seed6 lvs_nat_seed6 lvs_tun_seed6 url
#              (the seeds' IPv6 halves: see "IPv6" below)
#   checks:    check_conf http_stop http_resume req_loop_start req_loop_stop
#              req_after now_ms
#   client's address behind fullnat (PROXY v2, TOA):
#              pp_nginx_start pp_log haproxy_start haproxy_log ppsrv_start toa_read_start
#   ecmp:      ecmp_seed ecmp_daddr ecmp_conf ecmp_director_up ecmp_paths
#              ecmp_paths_are ecmp_bird_router_conf ecmp_bird_director_conf
#              bird_start bird_pid bird_stop birdc_in
#   results:   pass fail fatal skip assert_eq assert_ne assert_gt assert_ge
#              assert_within assert_true assert_false count_of count_wait is_int
#
# Environment:
#   VSROUTED           daemon binary (default: $VSR_TOP/src/vsrouted)
#   VSRTUN             vsrtun binary (default: $VSR_TOP/src/vsrtun)
#   VSRADM             vsradm binary (default: $VSR_TOP/src/vsradm)
#   VSR_WRAP           command put before the daemon, e.g.
#                      "valgrind --error-exitcode=99 --leak-check=full"
#   VSR_TEST_OFFLOAD   on|off: veth offloads (tx rx tso gso gro), default on
#   VSR_TEST_WORKERS   N: configs get "workers = N" (seed_conf writes it,
#                      vsrouted_start adds it to a config without one)
#   VSR_TEST_TAP_OFFLOAD on|off: the daemon's own TAP offloads; "off" makes
#                      vsrouted_start add "offload = false" to the config
#   VSR_NS_PREFIX      namespace name prefix, default "vt" (tests/run.sh sets
#                      its own so it can remove leftovers of a killed script)
#   VSR_TEST_KEEP=1    keep $T_DIR (logs, configs) after the run
#   VSR_TEST_VERBOSE=1 trace the script (set -x)
#   VSR_DEBUG=1        start the daemon with -l debug
#
# Scripts must not install their own trap: use cleanup_add.  A script's exit
# status is 0 only if at least one assertion passed and none failed; 77 means
# skipped (never counted as passed).

# ---------------------------------------------------------------- state

VSR_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VSR_NETNS_DIR="$VSR_TOP/tests/netns"
T_NAME=$(basename "$0" .sh)
T_PREFIX="${VSR_NS_PREFIX:-vt}$$"
T_PASSED=0
T_FAILED=0
T_SKIPPED=0
T_CLEANED=0
T_ERR_SEEN=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vsrtest.${T_PREFIX}.XXXXXX")
chmod 755 "$T_DIR"
: >"$T_DIR/netns"      # full namespace names made by this run, in order
: >"$T_DIR/pids"       # "PID NAME" of every background process started
: >"$T_DIR/ifaces"     # "FULLNS IFNAME" of every interface made
: >"$T_DIR/cleanup"    # extra commands registered with cleanup_add
VSR_TEST_OFFLOAD=${VSR_TEST_OFFLOAD:-on}
VSR_TEST_WORKERS=${VSR_TEST_WORKERS:-}
VSR_TEST_TAP_OFFLOAD=${VSR_TEST_TAP_OFFLOAD:-on}
# The namespace of the daemon started last (vsrouted_stop's default).
T_VSR_LAST=
# Set by bg_start: the PID of the process it started; by bg_stop: its status.
BG_PID=
BG_RC=

[ "${VSR_TEST_VERBOSE:-0}" = 1 ] && set -x

# ---------------------------------------------------------------- results

_t_say() { printf '%s\n' "$*"; }

# pass MSG: record a passed check.
pass() {
	T_PASSED=$((T_PASSED + 1))
	_t_say "ok - $*"
}

# fail MSG: record a failed check; the script goes on (see fatal).
fail() {
	T_FAILED=$((T_FAILED + 1))
	_t_say "not ok - $*"
}

# fatal MSG: record a failed check and end the script now.
fatal() {
	fail "$*"
	exit 1
}

# skip MSG: end the script with status 77 (skipped, never counted as passed).
skip() {
	T_SKIPPED=1
	_t_say "SKIP: $*"
	exit 77
}

# assert_eq EXPECTED ACTUAL MSG
assert_eq() {
	if [ "$1" = "$2" ]; then pass "$3 ($2)"
	else fail "$3: expected '$1', got '$2'"; fi
}

# assert_ne UNEXPECTED ACTUAL MSG
assert_ne() {
	if [ "$1" != "$2" ]; then pass "$3 ($2)"
	else fail "$3: got '$2'"; fi
}

# is_int VALUE: VALUE is a decimal integer
is_int() { case $1 in ''|-|*[!0-9-]*|?*-*) return 1 ;; esac; }

# assert_gt LIMIT ACTUAL MSG: ACTUAL > LIMIT (integers)
assert_gt() {
	if is_int "$2" && [ "$2" -gt "$1" ]; then pass "$3 ($2 > $1)"
	else fail "$3: expected > $1, got '$2'"; fi
}

# assert_ge LIMIT ACTUAL MSG: ACTUAL >= LIMIT (integers)
assert_ge() {
	if is_int "$2" && [ "$2" -ge "$1" ]; then pass "$3 ($2 >= $1)"
	else fail "$3: expected >= $1, got '$2'"; fi
}

# assert_within PCT EXPECTED ACTUAL [MSG]: |ACTUAL - EXPECTED| <= PCT% of EXPECTED
assert_within() {
	local pct=$1 exp=$2 act=$3 msg=${4:-value}
	if ! is_int "$act"; then
		fail "$msg: expected $exp +-$pct%, got '$act'"
		return 0
	fi
	local d=$((act - exp))
	[ "$d" -lt 0 ] && d=$((-d))
	if [ $((d * 100)) -le $((pct * exp)) ]; then pass "$msg ($act, expected $exp +-$pct%)"
	else fail "$msg: expected $exp +-$pct%, got $act"; fi
}

# assert_true MSG CMD...: CMD succeeds
assert_true() {
	local msg=$1; shift
	if "$@"; then pass "$msg"; else fail "$msg (failed: $*)"; fi
}

# assert_false MSG CMD...: CMD fails
assert_false() {
	local msg=$1; shift
	if "$@"; then fail "$msg (succeeded: $*)"; else pass "$msg"; fi
}

# count_of WORD FILE: number of lines of FILE that are exactly WORD
count_of() {
	grep -cx -- "$1" "$2" || true
}

# count_wait N CMD...: the number CMD prints, once it is N or more (at most
# 10 s). For what a server logs AFTER it answered (nginx's and HAProxy's
# access logs): a client holds the answer to its last request a moment
# before the line is written, so a count read at once may be one short by
# chance. A count above N still shows; one that stays below shows too.
count_wait() {
	local n=$1
	shift
	wait_for "$* to count $n" 10 _t_count_ge "$n" "$@" || true
	"$@"
}

_t_count_ge() {
	local n=$1 c
	shift
	c=$("$@") && [ "$c" -ge "$n" ]
}

# need_cmd CMD...: skip the script unless every CMD is installed
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

# ---------------------------------------------------------------- teardown

# cleanup_add CMD: run the shell command CMD at teardown, before the
# processes are stopped (last added, first run).
cleanup_add() {
	printf '%s\n' "$*" >>"$T_DIR/cleanup"
}

_t_kill_tracked() {
	local pid name left i
	[ -s "$T_DIR/pids" ] || return 0
	while read -r pid name; do
		kill -TERM "$pid" 2>/dev/null || true
	done <"$T_DIR/pids"
	for i in $(seq 50); do
		left=0
		while read -r pid name; do
			_t_running "$pid" && left=1
		done <"$T_DIR/pids"
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	while read -r pid name; do
		if _t_running "$pid"; then
			echo "teardown: $name (pid $pid) ignored SIGTERM, killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$T_DIR/pids"
}

# _t_running PID: PID exists and is not a zombie
_t_running() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

_t_teardown() {
	local ns pid cmd
	[ "$T_CLEANED" = 1 ] && return 0
	T_CLEANED=1
	if [ -s "$T_DIR/cleanup" ]; then
		tac "$T_DIR/cleanup" | while IFS= read -r cmd; do
			eval "$cmd" >/dev/null 2>&1 || true
		done
	fi
	_t_kill_tracked
	# Whatever still runs inside our namespaces (nginx workers, strays).
	if [ -s "$T_DIR/netns" ]; then
		while read -r ns; do
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null || true
			done
		done <"$T_DIR/netns"
		tac "$T_DIR/netns" | while read -r ns; do
			ip netns del "$ns" 2>/dev/null || true
		done
	fi
}

_t_dump_logs() {
	local f
	for f in "$T_DIR"/vsrouted-*.log; do
		[ -s "$f" ] || continue
		echo "---- last lines of $(basename "$f") ----"
		tail -n 40 "$f"
	done
}

_t_on_exit() {
	local rc=$?
	set +eux
	trap - EXIT INT TERM ERR
	if [ "$T_SKIPPED" = 1 ] && [ "$T_FAILED" = 0 ]; then
		rc=77
	elif [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		if [ "$T_FAILED" = 0 ]; then
			_t_say "not ok - script aborted with status $rc"
			T_FAILED=1
		fi
	elif [ "$T_FAILED" = 0 ] && [ "$T_PASSED" = 0 ]; then
		_t_say "not ok - no check ran"
		T_FAILED=1
	fi
	[ "$T_FAILED" != 0 ] && _t_dump_logs
	_t_teardown
	if [ "${VSR_TEST_KEEP:-0}" = 1 ]; then
		echo "state kept in $T_DIR" >&2
	else
		rm -rf "$T_DIR"
	fi
	if [ "$rc" = 77 ] && [ "$T_FAILED" = 0 ]; then
		_t_say "$T_NAME: skipped"
		exit 77
	fi
	if [ "$T_FAILED" != 0 ]; then
		_t_say "$T_NAME: FAIL ($T_FAILED of $((T_PASSED + T_FAILED)) checks failed)"
		[ "$rc" != 0 ] && [ "$rc" != 77 ] && exit "$rc"
		exit 1
	fi
	_t_say "$T_NAME: PASS ($T_PASSED checks)"
	exit 0
}

_t_on_signal() {
	echo "$T_NAME: interrupted by SIG$1" >&2
	fail "interrupted by SIG$1"
	case $1 in INT) exit 130 ;; *) exit 143 ;; esac
}

# First failing command (set -e ends the script there): say where it was.
_t_on_err() {
	[ "$T_ERR_SEEN" = 1 ] && return 0
	T_ERR_SEEN=1
	local i where=
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		where="$where <- ${FUNCNAME[i]}() at $(basename "${BASH_SOURCE[i + 1]}"):${BASH_LINENO[i]}"
	done
	echo "$T_NAME: line $1: status $2 from: $3$where" >&2
}

trap _t_on_exit EXIT
trap '_t_on_signal INT' INT
trap '_t_on_signal TERM' TERM
set -o errtrace
trap '_t_on_err "$LINENO" "$?" "$BASH_COMMAND"' ERR

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"

# ---------------------------------------------------------------- control

# wait_for DESC TIMEOUT CMD...: run CMD (quietly) every 0.1 s until it
# succeeds; returns 1 with a message if TIMEOUT seconds pass first.
wait_for() {
	local desc=$1 timeout=$2 end
	shift 2
	end=$(($(date +%s%N) / 1000000 + timeout * 1000))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if [ $(($(date +%s%N) / 1000000)) -ge "$end" ]; then
			echo "$T_NAME: timed out after ${timeout}s waiting for $desc" >&2
			return 1
		fi
		sleep 0.1
	done
}

# bg_start NAME NS CMD...: run CMD in namespace NS (short name, or "-" for
# the current one) in the background, stdout and stderr to $T_DIR/NAME.log,
# with SIGINT and SIGQUIT back to their defaults; tracked for teardown.
# Sets BG_PID.
bg_start() {
	local name=$1 ns=$2
	shift 2
	if [ "$ns" = - ]; then
		env --default-signal=INT,QUIT "$@" >"$T_DIR/$name.log" 2>&1 &
	else
		ip netns exec "$(nsname "$ns")" env --default-signal=INT,QUIT \
			"$@" >"$T_DIR/$name.log" 2>&1 &
	fi
	BG_PID=$!
	echo "$BG_PID $name" >>"$T_DIR/pids"
}

# bg_stop PID [SIGNAL] [TIMEOUT]: signal a tracked process, wait at most
# TIMEOUT seconds (default 10) for it to end and set BG_RC to its exit
# status.  Returns 1 if it did not end in time (it is then killed).
bg_stop() {
	local pid=$1 sig=${2:-TERM} timeout=${3:-10}
	BG_RC=0
	kill -s "$sig" "$pid" 2>/dev/null || true
	if ! wait_for "pid $pid to exit" "$timeout" _t_not_running "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		BG_RC=137
		return 1
	fi
	wait "$pid" 2>/dev/null || BG_RC=$?
}

_t_not_running() { ! _t_running "$1"; }

# ---------------------------------------------------------------- topology

# nsname NS: the real name of the run's namespace NS
nsname() {
	printf '%s-%s\n' "$T_PREFIX" "$1"
}

# nsx NS CMD...: run CMD in namespace NS
nsx() {
	local ns=$1
	shift
	ip netns exec "$(nsname "$ns")" "$@"
}

# ns_sysctl NS KEY=VALUE...: set sysctls in namespace NS
ns_sysctl() {
	local ns=$1
	shift
	nsx "$ns" sysctl -qw "$@" >/dev/null
}

# ns_add NAME: create namespace NAME with lo up, bridge netfilter off and
# IPv6 duplicate address detection off (no tentative-address delays).
ns_add() {
	local ns
	ns=$(nsname "$1")
	ip netns add "$ns"
	echo "$ns" >>"$T_DIR/netns"
	ip -n "$ns" link set lo up
	local k
	for k in iptables ip6tables arptables; do
		if nsx "$1" test -e "/proc/sys/net/bridge/bridge-nf-call-$k"; then
			ns_sysctl "$1" "net.bridge.bridge-nf-call-$k=0"
		fi
	done
	if nsx "$1" test -d /proc/sys/net/ipv6; then
		ns_sysctl "$1" net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.default.dad_transmits=0
	fi
}

# offload_apply NS IFNAME [on|off]: set the veth offloads tx rx tso gso gro
# of one interface (default: $VSR_TEST_OFFLOAD).  Fails if "off" is asked
# and a feature stays on.
offload_apply() {
	local ns=$1 ifn=$2 v=${3:-$VSR_TEST_OFFLOAD} f
	case $v in on|off) ;; *) echo "VSR_TEST_OFFLOAD must be on or off, not '$v'" >&2; return 1 ;; esac
	if ! command -v ethtool >/dev/null 2>&1; then
		[ "$v" = on ] && return 0
		skip "ethtool is not installed (needed for VSR_TEST_OFFLOAD=off)"
	fi
	if [ "$v" = on ]; then
		for f in rx tx tso gso gro; do
			nsx "$ns" ethtool -K "$ifn" "$f" on >/dev/null 2>&1 || true
		done
	else
		for f in gro gso tso tx rx; do
			nsx "$ns" ethtool -K "$ifn" "$f" off >/dev/null 2>&1 || true
		done
		if nsx "$ns" ethtool -k "$ifn" | grep -Eq '^(rx-checksumming|tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload): on$'; then
			echo "offloads of $ns/$ifn stay on" >&2
			return 1
		fi
	fi
}

# offload_set on|off: switch the offloads of every interface the lib made
offload_set() {
	local ns ifn
	VSR_TEST_OFFLOAD=$1
	while read -r ns ifn; do
		offload_apply "${ns#"$T_PREFIX"-}" "$ifn" "$1"
	done <"$T_DIR/ifaces"
}

# csum_verify NS: let the end hosts check every checksum NS (the director)
# sends: rx checksumming off on every interface but NS's, and tx
# checksumming (hence TSO) off on NS's, so NS's kernel completes partial
# checksums and cuts super-frames in software, and what arrives elsewhere
# is CHECKSUM_NONE, verified. NS still receives super-frames (its rx and
# GRO stay on). Nothing to do with VSR_TEST_OFFLOAD=off (all off already).
csum_verify() {
	local ns ifn dir
	[ "$VSR_TEST_OFFLOAD" = on ] || return 0
	need_cmd ethtool
	dir=$(nsname "$1")
	while read -r ns ifn; do
		if [ "$ns" = "$dir" ]; then
			ip netns exec "$ns" ethtool -K "$ifn" tx off >/dev/null 2>&1
		else
			ip netns exec "$ns" ethtool -K "$ifn" rx off >/dev/null 2>&1
		fi
	done <"$T_DIR/ifaces"
}

_t_iface_made() {
	echo "$(nsname "$1") $2" >>"$T_DIR/ifaces"
	offload_apply "$1" "$2"
}

# lan_add LAN: a LAN, i.e. bridge br0 in its own namespace sw-LAN
lan_add() {
	local sw="sw-$1"
	ns_add "$sw"
	ip -n "$(nsname "$sw")" link add name br0 type bridge stp_state 0 \
		forward_delay 0 mcast_snooping 0
	ip -n "$(nsname "$sw")" link set br0 up
	echo 0 >"$T_DIR/lan-$1.ports"
}

# lan_attach LAN NS IFNAME [ADDR/PLEN]: plug namespace NS into LAN by a veth
# pair whose end in NS is IFNAME (with the address, if given, and up); the
# other end is a port of the LAN's bridge.
lan_attach() {
	local lan=$1 ns=$2 ifn=$3 addr=${4:-} sw="sw-$1" n port
	[ -f "$T_DIR/lan-$lan.ports" ] || { echo "lan_attach: no LAN $lan" >&2; return 1; }
	n=$(($(cat "$T_DIR/lan-$lan.ports") + 1))
	echo "$n" >"$T_DIR/lan-$lan.ports"
	port="p$n"
	ip -n "$(nsname "$ns")" link add name "$ifn" type veth peer name "$port" \
		netns "$(nsname "$sw")"
	ip -n "$(nsname "$sw")" link set "$port" master br0
	_t_iface_made "$ns" "$ifn"
	_t_iface_made "$sw" "$port"
	ip -n "$(nsname "$sw")" link set "$port" up
	[ -n "$addr" ] && [ "$addr" != - ] && ip -n "$(nsname "$ns")" addr add "$addr" dev "$ifn"
	ip -n "$(nsname "$ns")" link set "$ifn" up
}

# link_add NS1 IF1 ADDR1 NS2 IF2 ADDR2: point-to-point veth pair between two
# namespaces ("-" for no address)
link_add() {
	local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6
	ip -n "$(nsname "$ns1")" link add name "$if1" type veth peer name "$if2" \
		netns "$(nsname "$ns2")"
	_t_iface_made "$ns1" "$if1"
	_t_iface_made "$ns2" "$if2"
	[ "$a1" != - ] && ip -n "$(nsname "$ns1")" addr add "$a1" dev "$if1"
	[ "$a2" != - ] && ip -n "$(nsname "$ns2")" addr add "$a2" dev "$if2"
	ip -n "$(nsname "$ns1")" link set "$if1" up
	ip -n "$(nsname "$ns2")" link set "$if2" up
}

# route_add NS ROUTE...: ip route add ROUTE in NS, e.g.
#   route_add client 10.20.0.0/24 via 10.10.0.2
route_add() {
	local ns=$1
	shift
	ip -n "$(nsname "$ns")" route add "$@"
}

# ns_mac NS IFNAME: the MAC address of an interface
ns_mac() {
	ip -n "$(nsname "$1")" -o link show dev "$2" |
		sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# ns_snapshot NS FILE: write to FILE what a daemon may change in NS and must
# put back: interfaces, addresses, routes of every table, rules, proxy
# neighbour entries and the net.* sysctls.  Compare two with diff.
ns_snapshot() {
	local full
	full=$(nsname "$1")
	{
		echo "## links"
		ip -n "$full" -o link show | awk -F': ' '{print $2}'
		echo "## addresses"
		ip -n "$full" -o addr show | sed 's/ *valid_lft.*//'
		echo "## routes"
		ip -n "$full" route show table all
		ip -n "$full" -6 route show table all
		echo "## rules"
		ip -n "$full" rule show
		ip -n "$full" -6 rule show
		echo "## proxy neighbours"
		ip -n "$full" neigh show proxy
		echo "## sysctls"
		nsx "$1" sysctl -a 2>/dev/null | grep '^net\.' |
			grep -Ev '^net\.(netfilter\.nf_conntrack_count|ipv4\.tcp_fastopen_key) '
	} >"$2"
}

# ---------------------------------------------------------------- servers

# rs_dr_setup NS VIP: make NS a real server for LVS-DR: VIP/32 on lo, and
# arp_ignore=1, arp_announce=2 on all, default and every interface, so that
# it never answers or announces ARP for the VIP.
rs_dr_setup() {
	local ns=$1 vip=$2 ifn
	ns_sysctl "$ns" net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
		net.ipv4.conf.default.arp_ignore=1 net.ipv4.conf.default.arp_announce=2
	for ifn in $(ip -n "$(nsname "$ns")" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'); do
		[ "$ifn" = lo ] && continue
		ns_sysctl "$ns" "net.ipv4.conf.$ifn.arp_ignore=1" "net.ipv4.conf.$ifn.arp_announce=2"
	done
	ip -n "$(nsname "$ns")" addr add "$vip/32" dev lo
}

# blob_make SIZE_MB: write $T_DIR/www/blob (SIZE_MB MiB of random bytes),
# served as /blob by every http_start server; prints its sha256.
blob_make() {
	mkdir -p "$T_DIR/www"
	head -c "$(($1 * 1048576))" /dev/urandom >"$T_DIR/www/blob"
	sha256sum "$T_DIR/www/blob" | awk '{print $1}'
}

# http_start NS NAME [PORT]: nginx in NS on PORT (default 80), all addresses
# of both families;
# GET / answers "NAME\n", GET /blob the file of blob_make, GET /paced/blob
# the same at T_HTTP_PACE bytes/s (nginx's limit_rate, default 128k: a
# download paced by the server, that lasts).  Its files are
# under $T_DIR/nginx-NAME (access.log counts requests: http_count).  With
# T_HTTP_ACCESS_LOG=off it keeps no access log (a benchmark's millions of
# requests; http_count then counts nothing).  With T_HTTP_PP_PORT=P the
# same server listens on P too, reading a PROXY protocol header first
# (listen P proxy_protocol: the benchmark's fullnat-pp).
# With T_HTTP_LIMIT_RATE=N
# (nginx's limit_rate, e.g. 100k) each connection gets its files at N
# bytes/s, so that a download lasts a known time.
http_start() {
	local ns=$1 name=$2 port=${3:-80} d alog pace=${T_HTTP_PACE:-128k} pp=
	need_cmd nginx curl
	[ -n "${T_HTTP_PP_PORT:-}" ] && pp="listen $T_HTTP_PP_PORT proxy_protocol;"
	d="$T_DIR/nginx-$name"
	alog="$d/access.log"
	[ "${T_HTTP_ACCESS_LOG:-on}" = off ] && alog=off
	mkdir -p "$d/tmp" "$T_DIR/www"
	cat >"$d/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log $alog;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 60s;
    server {
        listen $port;
        listen [::]:$port ipv6only=on;
        $pp
        location = / {
            default_type text/plain;
            return 200 "$name\n";
        }
        location / {
            root $T_DIR/www;
            limit_rate ${T_HTTP_LIMIT_RATE:-0};
        }
        location /paced/ {
            alias $T_DIR/www/;
            limit_rate $pace;
        }
    }
}
EOF
	: >"$d/access.log"
	bg_start "nginx-$name" "$ns" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	wait_for "nginx $name on $ns:$port" 10 _t_http_is "$ns" "http://127.0.0.1:$port/" "$name" ||
		{ cat "$d/error.log" "$T_DIR/nginx-$name.log" >&2; return 1; }
	: >"$d/access.log"
}

_t_http_is() {
	[ "$(nsx "$1" curl -s -m 2 "$2")" = "$3" ]
}

# http_count NAME: number of "GET /" requests server NAME has answered
# (from elsewhere than its own loopback: http_start's readiness probe may
# be logged only after it emptied the log). nginx logs a request after it
# sent the answer: right after a client's last request, count with
# count_wait (count_wait 100 http_count rs1).
http_count() {
	grep -v -e '^127\.0\.0\.1 ' -e '^::1 ' "$T_DIR/nginx-$1/access.log" | grep -c '"GET / HTTP' || true
}

# http_get NS URL: one curl from NS, body on stdout (bounded: 2 s to
# connect, 5 s in all)
http_get() {
	nsx "$1" curl -g -s --connect-timeout 2 -m 5 "$2"
}

# http_get_n NS URL N: N sequential curls from NS, each a new connection; one
# line per answer, "ERR" for a failed request; gives up after 5 failures.
http_get_n() {
	nsx "$1" sh -c '
		i=0; bad=0
		while [ "$i" -lt "$2" ] && [ "$bad" -lt 5 ]; do
			if ! curl -g -s --connect-timeout 2 -m 5 "$1"; then
				echo ERR; bad=$((bad + 1))
			fi
			i=$((i + 1))
		done' sh "$2" "$3"
}

# udp_start NS NAME PORT: tests/netns/udpsrv.py in NS on PORT, all addresses;
# answers every datagram with NAME, from the address it was sent to.
udp_start() {
	local ns=$1 name=$2 port=$3
	need_cmd python3
	bg_start "udp-$name" "$ns" python3 -u "$VSR_NETNS_DIR/udpsrv.py" serve "$name" "$port"
	wait_for "udp server $name on $ns:$port" 10 grep -q '^ready' "$T_DIR/udp-$name.log"
}

# udp_count NAME: number of datagrams server NAME has answered
udp_count() {
	grep -c '^from ' "$T_DIR/udp-$1.log" || true
}

# udp_ask NS ADDR PORT [SPORT] [TIMEOUT]: send one datagram from NS to
# ADDR:PORT (from source port SPORT if given) and print the answer; fails
# if no answer comes from ADDR:PORT within TIMEOUT seconds (default 5: the
# wait ends at the answer, and every caller expects one; a late answer on
# a busy machine must not count as none).
udp_ask() {
	local ns=$1 addr=$2 port=$3 sport=${4:-0} tmo=${5:-5}
	nsx "$ns" python3 "$VSR_NETNS_DIR/udpsrv.py" ask "$addr" "$port" \
		--sport "$sport" --timeout "$tmo"
}

# ---------------------------------------------------------------- daemon

# vsrouted_bin: path of the daemon under test
vsrouted_bin() {
	printf '%s\n' "${VSROUTED:-$VSR_TOP/src/vsrouted}"
}

# need_vsrouted: skip the script unless the daemon is built
need_vsrouted() {
	[ -x "$(vsrouted_bin)" ] || skip "$(vsrouted_bin) is not built"
}

# vsrouted_log [NS]: path of the log (stderr) of the daemon in NS
vsrouted_log() {
	printf '%s\n' "$T_DIR/vsrouted-${1:-$T_VSR_LAST}.log"
}

_t_vsr_pid() {
	cat "$T_DIR/vsrouted-${1:-$T_VSR_LAST}.pid" 2>/dev/null
}

# vsrouted_alive [NS]: the daemon in NS is running
vsrouted_alive() {
	local pid
	pid=$(_t_vsr_pid "${1:-}") || return 1
	_t_running "$pid"
}

# _t_conf_vips CONF: the addresses of the virtual_server blocks of CONF
# (IPv6 ones without their brackets)
_t_conf_vips() {
	awk '
		{ sub(/#.*/, "") }
		/virtual_server/ { vs = depth + 1 }
		{
			line = $0
			while (match(line, /[{}]|address[ \t]*=[ \t]*"?\[?[0-9a-fA-F.:]+/)) {
				tok = substr(line, RSTART, RLENGTH)
				if (tok == "{") depth++
				else if (tok == "}") { depth--; if (depth < vs) vs = 0 }
				else if (vs && depth == vs) { sub(/.*=[ \t]*"?\[?/, "", tok); print tok }
				line = substr(line, RSTART + RLENGTH)
			}
		}' "$1"
}

_t_conf_tap() {
	local t
	t=$(sed -n 's/#.*//; s/^[ \t]*tap[ \t]*=[ \t]*"\{0,1\}\([^" \t]*\).*/\1/p' "$1" | head -n 1)
	printf '%s\n' "${t:-vsr0}"
}

# _t_conf_backup CONF: CONF says "role = backup" (nothing is announced then)
_t_conf_backup() {
	grep -Eq '^[[:space:]]*role[[:space:]]*=[[:space:]]*"?backup' "$1"
}

_t_vsr_ready() {
	local ns=$1 conf=$2 vip full backup=0
	full=$(nsname "$ns")
	_t_conf_backup "$conf" && backup=1
	ip -n "$full" link show dev "$(_t_conf_tap "$conf")" 2>/dev/null | grep -Eq '[<,]UP[,>]' || return 1
	for vip in $(_t_conf_vips "$conf"); do
		case $vip in
		*:*)
			ip -n "$full" -6 route show table all "$vip/128" 2>/dev/null | grep -q . || return 1
			[ "$backup" = 1 ] ||
				ip -n "$full" -6 neigh show proxy 2>/dev/null | grep -qi "^$vip " || return 1 ;;
		*)
			ip -n "$full" route show table all "$vip/32" 2>/dev/null | grep -q . || return 1
			[ "$backup" = 1 ] ||
				ip -n "$full" neigh show proxy 2>/dev/null | grep -q "^$vip " || return 1 ;;
		esac
	done
	# A backup announces nothing: ready when its control socket is there.
	[ "$backup" = 0 ] || [ -S "$(vsrouted_sock "$ns")" ]
}

_t_vsr_ready_or_dead() {
	_t_vsr_ready "$1" "$2" || ! vsrouted_alive "$1"
}

# vsrouted_start NS CONF [ARGS...]: run "vsrouted -n -f CONF ARGS" in NS,
# behind $VSR_WRAP if set, stderr to $(vsrouted_log NS); waits until it is
# ready (its TAP up, a route and a proxy entry for every VIP of CONF; with
# "role = backup" no proxy entry, its control socket instead).
# Returns 1 if it exits or is not ready within 10 s (60 s under VSR_WRAP).
vsrouted_start() {
	local ns=$1 conf=$2 bin tmo=10
	shift 2
	need_vsrouted
	vsrouted_conf_variant "$conf"
	bin=$(vsrouted_bin)
	[ -n "${VSR_WRAP:-}" ] && tmo=60
	[ "${VSR_DEBUG:-0}" = 1 ] && set -- -l debug "$@"
	# shellcheck disable=SC2086 # VSR_WRAP is a command with its arguments
	# Its control socket in $T_DIR, so that runs never share one (ARGS may
	# name another: the last -s wins).
	bg_start "vsrouted-$ns" "$ns" ${VSR_WRAP:-} "$bin" -n -f "$conf" \
		-s "$(vsrouted_sock "$ns")" "$@"
	echo "$BG_PID" >"$T_DIR/vsrouted-$ns.pid"
	T_VSR_LAST=$ns
	if ! wait_for "vsrouted in $ns to be ready" "$tmo" _t_vsr_ready_or_dead "$ns" "$conf"; then
		echo "---- $(vsrouted_log "$ns") ----" >&2
		tail -n 40 "$(vsrouted_log "$ns")" >&2
		return 1
	fi
	if ! vsrouted_alive "$ns"; then
		echo "vsrouted in $ns exited at start-up:" >&2
		tail -n 40 "$(vsrouted_log "$ns")" >&2
		return 1
	fi
}

# csum_partial: whether the director's kernel leaves the clients' TCP and
# UDP checksums partial in what it writes into the TAP (every TCP super-frame
# and its segments), which a GUE remcsum real server then completes
# (vsrouted.conf(5), tunnel_csum): with the hosts' offloads and the TAP's on.
# With either off (VSR_TEST_OFFLOAD, VSR_TEST_TAP_OFFLOAD) every checksum
# arrives complete, and goes without the option.
csum_partial() {
	[ "${VSR_TEST_OFFLOAD:-on}" != off ] && [ "${VSR_TEST_TAP_OFFLOAD:-on}" != off ]
}

# vsrouted_conf_variant CONF: what vsrouted_start puts into CONF for the
# run's variant (VSR_TEST_TAP_OFFLOAD, VSR_TEST_WORKERS), for a file that a
# test writes anew before a reload (which would otherwise change, and
# refuse, what needs a restart).
vsrouted_conf_variant() {
	_t_conf_offload "$1"
	_t_conf_workers "$1"
}

# _t_conf_workers CONF: "workers = $VSR_TEST_WORKERS" put into CONF (in
# place, so that a reload reads it again) unless it sets workers itself.
_t_conf_workers() {
	[ -n "$VSR_TEST_WORKERS" ] || return 0
	grep -Eq '^[[:space:]]*workers[[:space:]]*=' "$1" && return 0
	sed -i "1i workers = $VSR_TEST_WORKERS" "$1"
}

# With VSR_TEST_TAP_OFFLOAD=off, CONF gets "offload = false" (once, first).
_t_conf_offload() {
	case $VSR_TEST_TAP_OFFLOAD in
	on) ;;
	off) grep -Eq '^[[:space:]]*offload[[:space:]]*=' "$1" || sed -i '1i offload = false' "$1" ;;
	*) echo "VSR_TEST_TAP_OFFLOAD must be on or off, not '$VSR_TEST_TAP_OFFLOAD'" >&2; return 1 ;;
	esac
}

# gso_check: after bulk TCP, from the last vsrouted_stats dump: GSO
# super-frames came through the TAP (rx_gso) when both the TAP's and the
# veths' offloads are on, none when the TAP's are off.
gso_check() {
	local n
	n=$(stat_get rx_gso) || n=
	if [ "$VSR_TEST_TAP_OFFLOAD" = off ]; then
		assert_eq 0 "$n" "no GSO super-frame with the TAP's offloads off"
	elif [ "$VSR_TEST_OFFLOAD" = on ]; then
		assert_gt 0 "$n" "GSO super-frames came through the TAP"
	else
		echo "# GSO super-frames through the TAP: $n"
	fi
}

# vsrouted_stop [NS] [SIGNAL]: stop the daemon (SIGTERM by default), wait
# for it (10 s, 60 s under VSR_WRAP) and assert exit status 0.
vsrouted_stop() {
	local ns=${1:-$T_VSR_LAST} sig=${2:-TERM} pid rc tmo=10
	pid=$(_t_vsr_pid "$ns") || { fail "vsrouted in $ns was not started"; return 0; }
	[ -n "${VSR_WRAP:-}" ] && tmo=60
	bg_stop "$pid" "$sig" "$tmo" || fail "vsrouted in $ns did not exit within ${tmo}s of SIG$sig"
	rm -f "$T_DIR/vsrouted-$ns.pid"
	assert_eq 0 "$BG_RC" "vsrouted in $ns exits with status 0 on SIG$sig"
}

# vsrouted_stats [NS]: make the daemon dump its counters (SIGUSR1), wait
# until the dump is in its log and print it, one "stat NAME VALUE" a line.
# The dump is kept for stat_get.
vsrouted_stats() {
	local ns=${1:-$T_VSR_LAST} pid log off
	pid=$(_t_vsr_pid "$ns") || return 1
	log=$(vsrouted_log "$ns")
	off=$(stat -c %s "$log")
	kill -USR1 "$pid"
	if ! wait_for "counters of vsrouted in $ns" 10 _t_stats_settled "$log" "$off"; then
		return 1
	fi
	tail -c +"$((off + 1))" "$log" |
		awk '{ for (i = 1; i < NF - 1; i++) if ($i == "stat") {
			s = $i; for (j = i + 1; j <= NF; j++) s = s " " $j
			print s; next } }' >"$T_DIR/stats.last"
	cat "$T_DIR/stats.last"
}

# The dump is complete when its closing "stat end" line is there.
_t_stats_settled() {
	tail -c +"$(($2 + 1))" "$1" | grep -q 'stat end$'
}

# stat_get NAME...: a counter from the last vsrouted_stats dump, e.g.
#   stat_get drop_malformed;  stat_get rs web/rs1 in_packets
stat_get() {
	local key="stat $*"
	awk -v k="$key" '
		{ v = $NF; $NF = ""; sub(/ $/, "") }
		$0 == k { print v; found = 1; exit }
		END { if (!found) exit 1 }' "$T_DIR/stats.last"
}

# stat_now NS NAME...: counter NAME of the daemon in NS, dumped afresh
# (vsrouted_stats, then stat_get): for count_wait, which asks until it is
# as high as a test needs.
stat_now() {
	local ns=$1
	shift
	vsrouted_stats "$ns" >/dev/null && stat_get "$@"
}

# ---------------------------------------------------------------- seed

VIP=10.10.0.100

# seed_conf FILE NRS [SCHED [LINE...]]: the seed's vsrouted.conf: TCP service
# "web" on $VIP:80, forwarded by dr to rs1..rsNRS, scheduler SCHED (default
# rr); each LINE (e.g. "conn_max = 5") is put among the global options.
seed_conf() {
	local file=$1 n=$2 sched=${3:-rr} i line
	shift 2
	[ $# -gt 0 ] && shift
	{
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		# The run's workers, unless a LINE says how many (ops-systemd's 2).
		case " $* " in
		*" workers = "*) ;;
		*) [ -n "$VSR_TEST_WORKERS" ] && echo "workers = $VSR_TEST_WORKERS" ;;
		esac
		for line in "$@"; do echo "$line"; done
		echo "virtual_server web {"
		echo "    address = $VIP"
		echo "    port = 80"
		echo "    protocol = tcp"
		echo "    scheduler = $sched"
		echo "    forward = dr"
		for i in $(seq "$n"); do
			echo "    real_server rs$i { address = 10.10.0.$((10 + i)) }"
		done
		echo "}"
	} >"$file"
}

# udp_seed_conf FILE NRS PORT [LINE...]: a DNS-like service for the dr
# seed: "dns", UDP on $VIP:PORT, rr, forwarded by dr to rs1..rsNRS; each
# LINE (e.g. "ops = yes", "forward = nat") is put inside the virtual_server.
udp_seed_conf() {
	local file=$1 n=$2 port=$3 fwd="forward = dr" i line
	shift 3
	for line in "$@"; do case $line in forward*) fwd= ;; esac; done
	{
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		echo "virtual_server dns {"
		echo "    address = $VIP"
		echo "    port = $port"
		echo "    protocol = udp"
		echo "    scheduler = rr"
		[ -n "$fwd" ] && echo "    $fwd"
		for line in "$@"; do echo "    $line"; done
		for i in $(seq "$n"); do
			echo "    real_server rs$i { address = 10.10.0.$((10 + i)) }"
		done
		echo "}"
	} >"$file"
}

# udp_seed_servers NRS PORT [--echo]: udpsrv.py on rs1..rsNRS:PORT,
# answering with their names (udp_count counts them), or with --echo
# each datagram itself (logs udp-rsN-echo).
udp_seed_servers() {
	local n=$1 port=$2 i
	for i in $(seq "$n"); do
		if [ "${3:-}" = --echo ]; then
			bg_start "udp-rs$i-echo" "rs$i" python3 -u "$VSR_NETNS_DIR/udpsrv.py" serve \
				"rs$i" "$port" --echo
			wait_for "udp echo server on rs$i:$port" 10 grep -q '^ready' "$T_DIR/udp-rs$i-echo.log"
		else
			udp_start "rs$i" "rs$i" "$port"
		fi
	done
}

# need_scapy: sets SPY to a python3 that has scapy (Debian's
# python3-scapy: the system's, whatever python3 is first in PATH), or skips.
need_scapy() {
	local py
	SPY=
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import scapy.all' 2>/dev/null; then SPY=$py; return 0; fi
	done
	skip "python3-scapy is not installed"
}

# lvs_dr_seed [NRS]: the seed topology drawn at the top: LAN lan0, client
# 10.10.0.1, director 10.10.0.2 (eth0), real servers rs1..rsNRS (default 3)
# at 10.10.0.11.. with the VIP on lo.  Starts no server.
lvs_dr_seed() {
	local n=${1:-3} i
	lan_add lan0
	ns_add client
	ns_add director
	lan_attach lan0 client eth0 10.10.0.1/24
	lan_attach lan0 director eth0 10.10.0.2/24
	for i in $(seq "$n"); do
		ns_add "rs$i"
		lan_attach lan0 "rs$i" eth0 "10.10.0.$((10 + i))/24"
		rs_dr_setup "rs$i" "$VIP"
	done
}

# ---------------------------------------------------------------- nat

# lvs_nat_seed NRS [gw|nogw]: two LANs for nat and fullnat.
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#   ==+=================+=====         =====+================+======== ...
#     |                 |                   |                |
#   eth0 .1          eth0 .2             eth1 .1          eth0 .11  (.12, .13)
#  +--------+     +-------------+                       +--------+
#  | client |     |  director   |-----------------------|  rsN   |
#  +--------+     | vsr0 (TAP)  |                       +--------+
#                 +-------------+
#
# The client reaches 10.20.0.0/24 through the director.  With "gw" (the
# default) each real server's default route is the director (10.20.0.1),
# as nat needs; with "nogw" the real servers have no route beyond their LAN,
# so only fullnat can serve them.  Starts no server.
lvs_nat_seed() {
	local n=${1:-3} gw=${2:-gw} i
	lan_add lan0
	lan_add lan1
	ns_add client
	ns_add director
	lan_attach lan0 client eth0 10.10.0.1/24
	lan_attach lan0 director eth0 10.10.0.2/24
	lan_attach lan1 director eth1 10.20.0.1/24
	route_add client 10.20.0.0/24 via 10.10.0.2
	ns_sysctl director net.ipv4.ip_forward=1
	for i in $(seq "$n"); do
		ns_add "rs$i"
		lan_attach lan1 "rs$i" eth0 "10.20.0.$((10 + i))/24"
		[ "$gw" = gw ] && route_add "rs$i" default via 10.20.0.1
	done
	# The director settled (its IPv6 link-local addresses there), for ns_snapshot.
	if nsx director test -d /proc/sys/net/ipv6; then
		wait_for "link-local addresses of the director" 10 _t_ll_both
	fi
	return 0
}

_t_ll_both() {
	[ "$(ip -n "$(nsname director)" -6 addr show scope link | grep -c 'inet6 fe80')" -ge 2 ]
}

# nat_workers_conf FILE "NAME PORT PROTO FORWARD N RPORT"...: lvs_nat_seed's
# vsrouted.conf with workers = 2 and the local address 10.20.0.250, and for
# each quoted word list a service NAME on $VIP:PORT/PROTO (tcp, udp)
# forwarded by FORWARD (nat, fullnat) to rsN (10.20.0.1N) on RPORT
# (nat-workers.sh, bench/crossed.sh).
nat_workers_conf() {
	local file=$1 spec name port proto fwd n rport
	shift
	{
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		echo "workers = 2"
		echo "local_address = { 10.20.0.250 }"
		for spec in "$@"; do
			read -r name port proto fwd n rport <<<"$spec"
			echo "virtual_server $name {"
			echo "    address = $VIP"
			echo "    port = $port"
			echo "    protocol = $proto"
			echo "    forward = $fwd"
			echo "    real_server rs$n { address = 10.20.0.$((10 + n))  port = $rport }"
			echo "}"
		done
	} >"$file"
}

# ---------------------------------------------------------------- vsradm

# vsrouted_sock [NS]: the control socket vsrouted_start gives the daemon in NS
vsrouted_sock() {
	printf '%s\n' "$T_DIR/vsrouted-${1:-$T_VSR_LAST}.sock"
}

# vsradm ARGS...: src/vsradm (or $VSRADM) against the daemon started last (its socket)
vsradm() {
	"${VSRADM:-$VSR_TOP/src/vsradm}" --socket "$(vsrouted_sock)" "$@"
}

# golden_check NAME FILE: FILE equals tests/netns/golden/NAME (the diff is
# shown when not); with VSR_GOLDEN_UPDATE=1 (make golden) FILE becomes the
# golden file instead.
golden_check() {
	local g="$VSR_NETNS_DIR/golden/$1"
	if [ "${VSR_GOLDEN_UPDATE:-0}" = 1 ]; then
		mkdir -p "$VSR_NETNS_DIR/golden"
		cp "$2" "$g"
		pass "golden $1 written"
	elif diff -u "$g" "$2"; then
		pass "output matches golden/$1"
	else
		fail "output differs from golden/$1"
	fi
}

# ---------------------------------------------------------------- tun
#
# The routed topology of LVS-TUN (lvs_tun_seed builds it): the real servers
# are on networks of their own behind a router, so only a tunnel reaches
# them with the VIP as destination.
#
#                       LAN lan0: bridge br0 in namespace sw-lan0
#   ===+===============+====================+===
#      |               |                    |
#   eth0 10.10.0.1  eth0 10.10.0.2       eth0 10.10.0.254
#   +--------+      +-------------+      +--------+  ethN 10.30.N.1   eth0 10.30.N.11
#   | client |      |  director   |      | router |-------------------+-----------+
#   |  curl  |      |  vsrouted   |      +--------+                   |    rsN    |
#   +--------+      | VIP -> vsr0 |                                   |  vsrtun   |
#                   | 10.30/16 via 10.10.0.254                        | vsrtun0:  |
#                   +-------------+                                   |   VIP/32  |
#                                                                     +-----------+
#   client -> VIP: director wraps the packet in IPIP/GRE from 10.10.0.2 to
#   10.30.N.11, routed through the router; vsrtun on rsN unwraps it into its
#   TUN; rsN answers from the VIP straight to the client through the router.

# vsrtun_bin: path of the vsrtun under test
vsrtun_bin() {
	printf '%s\n' "${VSRTUN:-$VSR_TOP/src/vsrtun}"
}

# need_vsrtun: skip the script unless vsrtun is built
need_vsrtun() {
	[ -x "$(vsrtun_bin)" ] || skip "$(vsrtun_bin) is not built"
}

# vsrtun_log NS: path of the log (stderr) of vsrtun in NS
vsrtun_log() {
	printf '%s\n' "$T_DIR/vsrtun-$1.log"
}

_t_vt_pid() {
	cat "$T_DIR/vsrtun-$1.pid" 2>/dev/null
}

# vsrtun_alive NS: vsrtun in NS is running
vsrtun_alive() {
	local pid
	pid=$(_t_vt_pid "$1") || return 1
	_t_running "$pid"
}

# _t_vt_ready NS IFNAME: the TUN is up with an address
_t_vt_ready() {
	ip -n "$(nsname "$1")" -o addr show dev "$2" 2>/dev/null | grep -Eq 'inet6? [0-9a-f]' &&
		ip -n "$(nsname "$1")" link show dev "$2" | grep -Eq '[<,]UP[,>]'
}

_t_vt_ready_or_dead() {
	_t_vt_ready "$1" "$2" || ! vsrtun_alive "$1"
}

# vsrtun_start NS ARGS...: run "vsrtun -n ARGS" in NS (behind $VSR_WRAP if
# set), stderr to $(vsrtun_log NS); waits until its TUN (-i, default
# vsrtun0) is up with its addresses.  Returns 1 if it exits or is not ready
# within 10 s (60 s under VSR_WRAP).
vsrtun_start() {
	local ns=$1 ifn=vsrtun0 a prev= tmo=10
	shift
	need_vsrtun
	for a in "$@"; do
		[ "$prev" = -i ] && ifn=$a
		prev=$a
	done
	[ -n "${VSR_WRAP:-}" ] && tmo=60
	# shellcheck disable=SC2086 # VSR_WRAP is a command with its arguments
	bg_start "vsrtun-$ns" "$ns" ${VSR_WRAP:-} "$(vsrtun_bin)" -n "$@"
	echo "$BG_PID" >"$T_DIR/vsrtun-$ns.pid"
	if ! wait_for "vsrtun in $ns to be ready" "$tmo" _t_vt_ready_or_dead "$ns" "$ifn" ||
		! vsrtun_alive "$ns"; then
		echo "---- $(vsrtun_log "$ns") ----" >&2
		tail -n 40 "$(vsrtun_log "$ns")" >&2
		return 1
	fi
}

# vsrtun_stop NS [SIGNAL]: stop vsrtun in NS (SIGTERM by default), wait for
# it and assert exit status 0.
vsrtun_stop() {
	local ns=$1 sig=${2:-TERM} pid tmo=10
	pid=$(_t_vt_pid "$ns") || { fail "vsrtun in $ns was not started"; return 0; }
	[ -n "${VSR_WRAP:-}" ] && tmo=60
	bg_stop "$pid" "$sig" "$tmo" || fail "vsrtun in $ns did not exit within ${tmo}s of SIG$sig"
	rm -f "$T_DIR/vsrtun-$ns.pid"
	assert_eq 0 "$BG_RC" "vsrtun in $ns exits with status 0 on SIG$sig"
}

# vsrtun_stats NS: make vsrtun in NS dump its counters (SIGUSR1) and print
# them as vsrouted_stats does; stat_get reads them afterwards.
vsrtun_stats() {
	local ns=$1 pid log off
	pid=$(_t_vt_pid "$ns") || return 1
	log=$(vsrtun_log "$ns")
	off=$(stat -c %s "$log")
	kill -USR1 "$pid"
	wait_for "counters of vsrtun in $ns" 10 _t_stats_settled "$log" "$off" || return 1
	tail -c +"$((off + 1))" "$log" |
		awk '{ for (i = 1; i < NF - 1; i++) if ($i == "stat") {
			s = $i; for (j = i + 1; j <= NF; j++) s = s " " $j
			print s; next } }' >"$T_DIR/stats.last"
	cat "$T_DIR/stats.last"
}

# tun_conf FILE NRS TUNNEL [PROTO PORT [LINE...]]: vsrouted.conf for the tun
# topology: service "web" on $VIP:PORT (default tcp 80), rr, forward = tun
# with TUNNEL (ipip|gre), real servers rs1..rsNRS at 10.30.N.11; each LINE
# goes into the virtual_server block.
tun_conf() {
	local file=$1 n=$2 tunnel=$3 proto=${4:-tcp} port=${5:-80} i line
	shift 3
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] && shift
	{
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		echo "virtual_server web {"
		echo "    address = $VIP"
		echo "    port = $port"
		echo "    protocol = $proto"
		echo "    scheduler = rr"
		echo "    forward = tun"
		echo "    tunnel = $tunnel"
		for line in "$@"; do echo "    $line"; done
		for i in $(seq "$n"); do
			echo "    real_server rs$i { address = 10.30.$i.11 }"
		done
		echo "}"
	} >"$file"
}

# lvs_tun_seed [NRS] [novsrtun]: the routed topology drawn above, real
# servers rs1..rsNRS (default 3), each running vsrtun -a 10.10.0.2 -v $VIP
# (unless "novsrtun" is given).  Every link keeps MTU 1500.  Starts no server.
lvs_tun_seed() {
	local n=${1:-3} start=${2:-} i
	lan_add lan0
	ns_add client
	ns_add director
	ns_add router
	lan_attach lan0 client eth0 10.10.0.1/24
	lan_attach lan0 director eth0 10.10.0.2/24
	lan_attach lan0 router eth0 10.10.0.254/24
	# The replies come from the VIP, which the router sees on lan0.
	ns_sysctl router net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
	route_add director 10.30.0.0/16 via 10.10.0.254
	for i in $(seq "$n"); do
		ns_add "rs$i"
		link_add router "eth$i" "10.30.$i.1/24" "rs$i" eth0 "10.30.$i.11/24"
		ns_sysctl router "net.ipv4.conf.eth$i.rp_filter=0"
		route_add "rs$i" default via "10.30.$i.1"
		[ "$start" = novsrtun ] || vsrtun_start "rs$i" -a 10.10.0.2 -v "$VIP"
	done
}

# upload_start NS NAME PORT: tests/netns/upsrv.py in NS on PORT: a PUT or
# POST is answered with "SHA256 LENGTH" of its body.
upload_start() {
	local ns=$1 name=$2 port=$3
	need_cmd python3
	bg_start "up-$name" "$ns" python3 -u "$VSR_NETNS_DIR/upsrv.py" "$port"
	wait_for "upload server $name on $ns:$port" 10 grep -q '^ready' "$T_DIR/up-$name.log"
}

# up_post NS URL FILE: POST FILE from NS to URL (60 s at most); prints the
# answer (the sha256 the server computed).
up_post() {
	nsx "$1" curl -g -s --connect-timeout 2 -m 60 -H 'Expect:' --data-binary "@$3" "$2" |
		awk '{ print $1 }'    # upsrv.py answers "SHA256 LENGTH"
}

# http_sha NS URL: GET URL from NS (60 s at most); prints the sha256 of the
# body and, on stderr, curl's average download speed in bytes/s.
http_sha() {
	nsx "$1" curl -g -s --connect-timeout 2 -m 60 -o "$T_DIR/get.out" -w '%{speed_download}\n' "$2" >&2 || true
	sha256sum "$T_DIR/get.out" | awk '{print $1}'
	rm -f "$T_DIR/get.out"
}

# ---------------------------------------------------------------- checks

# check_conf FILE NRS CHECK [LINE...]: seed_conf's service "web" (rr, dr to
# rs1..rsNRS) with a section "check { CHECK }" for every real server; each
# LINE is put among the global options.
check_conf() {
	local file=$1 n=$2 chk=$3
	shift 3
	seed_conf "$file" "$n" rr "$@"
	sed -i "s|^    forward = dr\$|    forward = dr\n    check { $chk }|" "$file"
}

# http_stop NAME: stop the nginx of http_start NAME (it answers nothing
# more: connections to its port are refused).
http_stop() {
	local pid
	pid=$(awk -v n="nginx-$1" '$2 == n { p = $1 } END { print p }' "$T_DIR/pids")
	[ -n "$pid" ] || { echo "http_stop: no nginx $1" >&2; return 1; }
	bg_stop "$pid" TERM 10
}

# http_resume NS NAME [PORT]: start the nginx of http_start NAME again, its
# access log kept (http_count goes on counting).
http_resume() {
	local ns=$1 name=$2 port=${3:-80} d="$T_DIR/nginx-$2"
	bg_start "nginx-$name" "$ns" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	wait_for "nginx $name on $ns:$port" 10 _t_http_is "$ns" "http://127.0.0.1:$port/" "$name"
}

# now_ms: the wall clock in milliseconds (the request loop's and log_ms's clock)
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# req_loop_start NS URL [MAX]: in the background, one curl from NS every
# 50 ms (at most MAX, default 1200, or until req_loop_stop), each a new
# connection, 2 s at most; lines "START_MS ANSWER" ("ERR" for a failed one)
# in $T_DIR/requests.
req_loop_start() {
	local ns=$1 url=$2 max=${3:-1200}
	rm -f "$T_DIR/requests.stop"
	: >"$T_DIR/requests"
	bg_start reqloop "$ns" sh -c '
		i=0
		while [ "$i" -lt "$2" ] && [ ! -e "$3.stop" ]; do
			t=$(($(date +%s%N) / 1000000))
			a=$(curl -g -s --connect-timeout 1 -m 2 "$1") || a=ERR
			echo "$t $a" >>"$3"
			i=$((i + 1))
			sleep 0.05
		done' sh "$url" "$max" "$T_DIR/requests"
	REQ_PID=$BG_PID
}

# req_loop_stop: end the request loop and wait for it.
req_loop_stop() {
	touch "$T_DIR/requests.stop"
	bg_stop "$REQ_PID" TERM 10 || true
}

# req_after MS [ANSWER]: the requests started at or after MS (all of them, or
# those answered ANSWER, e.g. ERR or rs2), counted.
req_after() {
	awk -v t="$1" -v a="${2:-}" '$1 >= t && (a == "" || $2 == a) { n++ } END { print n + 0 }' \
		"$T_DIR/requests"
}

# ---------------------------------------------------------------- IPv6
#
# The seeds' IPv6 halves: the same hosts and LANs, dual stack, each IPv6
# LAN a /64 whose host parts are written as the IPv4 ones' last bytes:
#
#   lan0  10.10.0.0/24  2001:db8:10::/64   client ::1, director ::2, the dr
#                                           real servers ::11.., router ::fe
#   lan1  10.20.0.0/24  2001:db8:20::/64   director ::1, nat real servers ::11..
#   tun   10.30.N.0/24  2001:db8:30:N::/64 router ::1, rsN ::11
#
# VIP6 is 2001:db8:10::100. Duplicate address detection is off in every
# namespace (ns_add) and addresses are added "nodad": they are usable at
# once.

VIP6=2001:db8:10::100

# url ADDR [PORT] [PATH]: http://ADDR:PORT/PATH, an IPv6 address in brackets
url() {
	local a=$1 port=${2:-80} path=${3:-}
	case $a in *:*) a="[$a]" ;; esac
	printf 'http://%s:%s/%s\n' "$a" "$port" "$path"
}

# ns_addr6 NS IFNAME ADDR/PLEN: an IPv6 address on IFNAME, usable at once
ns_addr6() {
	ip -n "$(nsname "$1")" -6 addr add "$3" dev "$2" nodad
}

# route6_add NS ROUTE...: ip -6 route add ROUTE in NS
route6_add() {
	local ns=$1
	shift
	ip -n "$(nsname "$ns")" -6 route add "$@"
}

# rs_dr_setup6 NS VIP6: VIP6/128 on lo. IPv6 needs nothing like
# arp_ignore: a node answers solicitations only for the addresses of the
# interface they arrive on (RFC 4861 7.2.3), and lo's are not eth0's.
rs_dr_setup6() {
	ns_addr6 "$1" lo "$2/128"
}

# lvs_dr_seed6 [NRS]: lvs_dr_seed, dual stack (2001:db8:10::/64 on lan0,
# VIP6 on the real servers' lo).
lvs_dr_seed6() {
	local n=${1:-3} i
	lvs_dr_seed "$n"
	ns_addr6 client eth0 2001:db8:10::1/64
	ns_addr6 director eth0 2001:db8:10::2/64
	for i in $(seq "$n"); do
		ns_addr6 "rs$i" eth0 "2001:db8:10::$((10 + i))/64"
		rs_dr_setup6 "rs$i" "$VIP6"
	done
}

# lvs_nat_seed6 NRS [gw|nogw]: lvs_nat_seed, dual stack (2001:db8:10::/64
# on lan0, 2001:db8:20::/64 on lan1; with "gw" the real servers' IPv6
# default route is the director, 2001:db8:20::1).
lvs_nat_seed6() {
	local n=${1:-3} gw=${2:-gw} i
	lvs_nat_seed "$n" "$gw"
	ns_addr6 client eth0 2001:db8:10::1/64
	ns_addr6 director eth0 2001:db8:10::2/64
	ns_addr6 director eth1 2001:db8:20::1/64
	route6_add client 2001:db8:20::/64 via 2001:db8:10::2
	for i in $(seq "$n"); do
		ns_addr6 "rs$i" eth0 "2001:db8:20::$((10 + i))/64"
		[ "$gw" = gw ] && route6_add "rs$i" default via 2001:db8:20::1
	done
	return 0
}

# lvs_tun_seed6 [NRS] [novsrtun]: lvs_tun_seed, dual stack (2001:db8:10::/64
# on lan0, 2001:db8:30:N::/64 toward rsN, the router forwarding both
# families); each real server runs vsrtun for both families (unless
# "novsrtun"): -a 10.10.0.2 -a 2001:db8:10::2 -v $VIP -v $VIP6.
lvs_tun_seed6() {
	local n=${1:-3} start=${2:-} i
	lvs_tun_seed "$n" novsrtun
	ns_sysctl router net.ipv6.conf.all.forwarding=1
	ns_addr6 client eth0 2001:db8:10::1/64
	ns_addr6 director eth0 2001:db8:10::2/64
	ns_addr6 router eth0 2001:db8:10::fe/64
	route6_add director 2001:db8:30::/48 via 2001:db8:10::fe
	for i in $(seq "$n"); do
		ns_addr6 router "eth$i" "2001:db8:30:$i::1/64"
		ns_addr6 "rs$i" eth0 "2001:db8:30:$i::11/64"
		route6_add "rs$i" default via "2001:db8:30:$i::1"
		[ "$start" = novsrtun ] || vsrtun_start "rs$i" -a 10.10.0.2 -a 2001:db8:10::2 \
			-v "$VIP" -v "$VIP6"
	done
}

# ---------------------------------------------------------------- high availability
#
# Two directors and keepalived (lvs_ha_seed builds it):
#
#                        LAN lan0 10.10.0.0/24, the clients'
#   ===+=====================+======================+====
#      |                     |                      |
#   eth0 .1               eth0 .2                eth0 .3      VIP 10.10.0.100: proxy
#  +--------+          +-------------+  VRRP  +-------------+     ARP by the master
#  | client |          |    dir1     |<------>|    dir2     |
#  |  curl  |          |  vsrouted   |  sync  |  vsrouted   |
#  +--------+          |  keepalived |<------>|  keepalived |
#                      +-------------+        +-------------+
#                        eth1 .2                 eth1 .3      10.20.0.1: the master's
#   ===+===========+===========+=====================+====   (keepalived's address)
#      |           |           |      LAN lan1 10.20.0.0/24, the real servers'
#   eth0 .11    eth0 .12    eth0 .13
#    rs1         rs2         rs3     default via 10.20.0.1; nginx
#
# Both vsrouted run "role = backup" with "sync { interface = eth1 }" (both
# sync daemons); keepalived (--vrrp, etc/keepalived-vsrouted.conf with its
# priority: dir1 150, dir2 100) elects the master on eth0 and tells
# vsrouted by vsradm --role. dr: the real servers hold the VIP on lo; tun:
# they run vsrtun, trusting both directors; fullnat: local_address
# 10.20.0.250, proxy-ARPed by the master on eth1.
#
# With HA_V6=1 both LANs are dual stack too (2001:db8:10::/64 with client
# ::1, dir1 ::2, dir2 ::3; 2001:db8:20::/64 with dir1 ::2, dir2 ::3, rsN
# ::1N) and a second service, web6 on [$VIP6]:80, has the same real
# servers' IPv6 addresses (fullnat: local_address 2001:db8:20::250 too,
# proxy-NDPed by the master on eth1).

HA_DIRS="dir1 dir2"
# The failovers' paced downloads: HA_BLOB_MB MiB each at 128 kB/s (8 s for
# 1), long enough to be in flight from before the failure (asserted) to
# well after the takeover (about 1 s), short enough not to idle the suite.
HA_BLOB_MB=${HA_BLOB_MB:-1}
HA_LIP=10.20.0.250
HA_LIP6=2001:db8:20::250
HA_V6=${HA_V6:-}

# ha_addr DIR: DIR's address on the clients' LAN (10.10.0.2 or .3); on the
# real servers' it ends the same (10.20.0.2 or .3).
ha_addr() {
	case $1 in dir1) echo 10.10.0.2 ;; dir2) echo 10.10.0.3 ;; *) return 1 ;; esac
}

# lvs_ha_seed MODE [NRS]: the topology drawn above, real servers rs1..rsNRS
# (default 3) set up for MODE (dr, tun, nat or fullnat).  Starts no server.
lvs_ha_seed() {
	local mode=$1 n=${2:-3} i d
	lan_add lan0
	lan_add lan1
	ns_add client
	lan_attach lan0 client eth0 10.10.0.1/24
	for d in $HA_DIRS; do
		ns_add "$d"
		lan_attach lan0 "$d" eth0 "$(ha_addr "$d")/24"
		lan_attach lan1 "$d" eth1 "$(ha_addr "$d" | sed 's/^10\.10\./10.20./')/24"
		ns_sysctl "$d" net.ipv4.ip_forward=1
		if [ -n "$HA_V6" ]; then
			ns_addr6 "$d" eth0 "2001:db8:10::$(ha_addr "$d" | sed 's/.*\.//')/64"
			ns_addr6 "$d" eth1 "2001:db8:20::$(ha_addr "$d" | sed 's/.*\.//')/64"
		fi
	done
	[ -n "$HA_V6" ] && ns_addr6 client eth0 2001:db8:10::1/64
	for i in $(seq "$n"); do
		ns_add "rs$i"
		lan_attach lan1 "rs$i" eth0 "10.20.0.$((10 + i))/24"
		[ -n "$HA_V6" ] && ns_addr6 "rs$i" eth0 "2001:db8:20::$((10 + i))/64"
		route_add "rs$i" default via 10.20.0.1
		case $mode in
		dr) rs_dr_setup "rs$i" "$VIP" ;;
		tun) vsrtun_start "rs$i" -a 10.20.0.2 -a 10.20.0.3 -v "$VIP" ;;
		esac
	done
}

# ha_conf FILE MODE [LINE...]: a director's vsrouted.conf: role backup,
# both sync daemons on eth1, service "web" on $VIP:80 (rr, MODE) over
# rs1..rs3 (port 80); each LINE goes among the global options.
ha_conf() {
	local file=$1 mode=$2 i line
	shift 2
	{
		echo "tap = vsr0"
		echo "announce = { eth0 }"
		echo "role = backup"
		[ -n "$VSR_TEST_WORKERS" ] && echo "workers = $VSR_TEST_WORKERS"
		[ "$mode" = fullnat ] && echo "local_address = { $HA_LIP${HA_V6:+, $HA_LIP6} }"
		for line in "$@"; do echo "$line"; done
		echo "sync {"
		echo "    interface = eth1"
		[ -n "${HA_SYNC_GROUP:-}" ] && echo "    group = $HA_SYNC_GROUP"
		echo "}"
		echo "virtual_server web {"
		echo "    address = $VIP"
		echo "    port = 80"
		echo "    protocol = tcp"
		echo "    scheduler = rr"
		echo "    forward = $mode"
		for i in 1 2 3; do
			echo "    real_server rs$i { address = 10.20.0.$((10 + i)) }"
		done
		echo "}"
		[ -n "$HA_V6" ] || return 0
		echo "virtual_server web6 {"
		echo "    address = $VIP6"
		echo "    port = 80"
		echo "    protocol = tcp"
		echo "    scheduler = rr"
		echo "    forward = $mode"
		for i in 1 2 3; do
			echo "    real_server rs$i { address = 2001:db8:20::$((10 + i)) }"
		done
		echo "}"
	} >"$file"
}

# vsradm_in NS ARGS...: vsradm against the daemon of namespace NS
vsradm_in() {
	local ns=$1
	shift
	"${VSRADM:-$VSR_TOP/src/vsradm}" --socket "$(vsrouted_sock "$ns")" "$@"
}

# ha_role NS: the role vsrouted in NS says it has ("" if it does not answer)
ha_role() {
	vsradm_in "$1" --role 2>/dev/null || true
}

_t_role_is() { [ "$(ha_role "$1")" = "$2" ]; }

# ka_conf NS FILE PRIO: etc/keepalived-vsrouted.conf for director NS, as
# shipped but for its priority, its vsradm (this tree's, NS's control
# socket) and, with T_KA_ADVERT set, the advert interval.
ka_conf() {
	local ns=$1 file=$2 prio=$3 adm
	adm="${VSRADM:-$VSR_TOP/src/vsradm} --socket $(vsrouted_sock "$ns")"
	sed -e "s|^\(    priority\) [0-9]*|\1 $prio|" \
		-e "s|/usr/sbin/vsradm|$adm|" \
		${T_KA_ADVERT:+-e "s|^\(    advert_int\) .*|\1 $T_KA_ADVERT|"} \
		"$VSR_TOP/etc/keepalived-vsrouted.conf" >"$file"
}

# ka_start NS CONF: keepalived for VRRP alone in NS (-n -l -D), pid files
# and log in $T_DIR (ka-NS.log); waits until its VRRP process runs.
ka_start() {
	local ns=$1 conf=$2
	need_cmd keepalived
	rm -f "$T_DIR/ka-$ns.pid" "$T_DIR/ka-$ns-vrrp.pid"
	bg_start "ka-$ns" "$ns" keepalived --vrrp -n -l -D -f "$conf" \
		-p "$T_DIR/ka-$ns.pid" -r "$T_DIR/ka-$ns-vrrp.pid"
	echo "$BG_PID" >"$T_DIR/ka-$ns.parent"
	wait_for "keepalived's VRRP process in $ns" 10 test -s "$T_DIR/ka-$ns-vrrp.pid"
	# The VRRP child too, for the teardown.
	echo "$(cat "$T_DIR/ka-$ns-vrrp.pid") ka-$ns-vrrp" >>"$T_DIR/pids"
}

# ka_kill NS: kill -9 keepalived in NS, its VRRP process too (no priority 0
# advert: the other director notices the silence).
ka_kill() {
	local ns=$1 p
	for p in "$(cat "$T_DIR/ka-$ns-vrrp.pid" 2>/dev/null)" "$(cat "$T_DIR/ka-$ns.parent")"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	wait "$(cat "$T_DIR/ka-$ns.parent")" 2>/dev/null || true
}

# ka_stop NS: stop keepalived in NS (SIGTERM: it says priority 0 and leaves).
ka_stop() {
	bg_stop "$(cat "$T_DIR/ka-$1.parent")" TERM 10 || true
}

# ka_state NS: keepalived's last state in NS (MASTER, BACKUP, FAULT) from its log
ka_state() {
	sed -n 's/.*(vsrouted) Entering \([A-Z]*\) STATE.*/\1/p' "$T_DIR/ka-$1.log" | tail -n 1
}

_t_ka_state_is() { [ "$(ka_state "$1")" = "$2" ]; }

# ha_start MODE [LINE...]: lvs_ha_seed MODE, nginx on the real servers,
# vsrouted on both directors (ha_conf with the LINEs), keepalived on dir1
# until it is master, then on dir2 until it is backup. With HA_CONF=FN,
# FN writes the directors' configs instead of ha_conf (same arguments).
ha_start() {
	local mode=$1 d prio
	shift
	lvs_ha_seed "$mode"
	for i in 1 2 3; do http_start "rs$i" "rs$i"; done
	for d in $HA_DIRS; do
		"${HA_CONF:-ha_conf}" "$T_DIR/vsrouted-$d.conf" "$mode" "$@"
		vsrouted_start "$d" "$T_DIR/vsrouted-$d.conf"
	done
	for d in $HA_DIRS; do
		prio=150
		[ "$d" = dir2 ] && prio=100
		ka_conf "$d" "$T_DIR/ka-$d.conf" "$prio"
		ka_start "$d" "$T_DIR/ka-$d.conf"
		if [ "$d" = dir1 ]; then
			wait_for "dir1 to be master" 20 _t_role_is dir1 master
		else
			wait_for "dir2 to be backup" 20 _t_ka_state_is dir2 BACKUP
		fi
	done
}

# ha_gap_ms: the longest time between two answered requests of the request
# loop ($T_DIR/requests), in ms.
ha_gap_ms() {
	awk '$2 != "ERR" { if (last != "" && $1 - last > g) g = $1 - last; last = $1 }
		END { print g + 0 }' "$T_DIR/requests"
}

# ha_downloads_start N URL: N downloads of URL from the client at once, in
# the background, each into $T_DIR/dl.K (curl, 120 s at most).
ha_downloads_start() {
	local n=$1 url=$2 k
	for k in $(seq "$n"); do
		rm -f "$T_DIR/dl.$k"
		bg_start "dl$k" client curl -g -sS --connect-timeout 2 -m 120 -o "$T_DIR/dl.$k" "$url"
		echo "$BG_PID" >"$T_DIR/dl.$k.pid"
	done
}

# ha_downloads_wait N SHA: wait for the N downloads (120 s at most each);
# sets DL_OK to how many brought SHA.  Not in a $(...): it waits for its
# own shell's children.
ha_downloads_wait() {
	local n=$1 sha=$2 k pid
	DL_OK=0
	for k in $(seq "$n"); do
		pid=$(cat "$T_DIR/dl.$k.pid")
		wait_for "download $k" 120 _t_not_running "$pid" || true
		wait "$pid" 2>/dev/null || true
		[ -f "$T_DIR/dl.$k" ] && [ "$(sha256sum "$T_DIR/dl.$k" | awk '{print $1}')" = "$sha" ] &&
			DL_OK=$((DL_OK + 1))
	done
	return 0
}

# ha_synced NS: how many ESTABLISHED connections from the client to the VIP
# vsrouted in NS lists (vsradm -Lnc)
ha_synced() {
	vsradm_in "$1" -Lnc 2>/dev/null |
		awk -v v="$(ha_vip_port)" -v c="$(ha_client_pat)" \
			'$3 == "ESTABLISHED" && index($4, c) == 1 && $5 == v { n++ } END { print n + 0 }'
}

# The address the failovers use (HA_FAMILY=6: VIP6 and the client's IPv6
# address), as vsradm -Lnc writes it, and as a URL.
ha_vip_port() { if [ "${HA_FAMILY:-4}" = 6 ]; then echo "[$VIP6]:80"; else echo "$VIP:80"; fi; }
ha_client_pat() { if [ "${HA_FAMILY:-4}" = 6 ]; then echo "[2001:db8:10::1]:"; else echo "10.10.0.1:"; fi; }
ha_url() { if [ "${HA_FAMILY:-4}" = 6 ]; then url "$VIP6" 80 "${1:-}"; else echo "http://$VIP/${1:-}"; fi; }

_t_synced_ge() { [ "$(ha_synced "$1")" -ge "$2" ]; }
_t_req_answered() { [ "$(req_after 0)" -gt "$(req_after 0 ERR)" ]; }

# ha_failover HOW FROM TO SHA: one failover under load, FROM master, TO
# backup: a request loop and 8 paced downloads of /paced/blob (SHA) from
# the client; once TO lists the 8 synced, FROM fails (HOW: "kill", kill -9
# of its keepalived and vsrouted; "linkdown", its eth0 set down); then
# asserts that TO lists them before, that the 8 are still running when
# FROM fails, that TO says master, that every download completes intact
# and that the request loop's longest gap is under 3 s.
ha_failover() {
	local how=$1 from=$2 to=$3 sha=$4 t0 gap answered k inflight=0
	req_loop_start client "$(ha_url)" 2000
	wait_for "the request loop's first answer" 10 _t_req_answered || true
	ha_downloads_start 8 "$(ha_url paced/blob)"
	if wait_for "$to to list the 8 downloads, synced" 15 _t_synced_ge "$to" 8; then
		pass "$to's vsradm -Lnc lists the 8 downloads before $from fails ($(ha_synced "$to"))"
	else
		fail "$to's vsradm -Lnc lists the 8 downloads before $from fails ($(ha_synced "$to"))"
	fi
	for k in $(seq 8); do
		_t_running "$(cat "$T_DIR/dl.$k.pid")" && inflight=$((inflight + 1))
	done
	t0=$(now_ms)
	case $how in
	kill)
		ka_kill "$from"
		bg_stop "$(_t_vsr_pid "$from")" KILL 5 || true
		rm -f "$T_DIR/vsrouted-$from.pid"
		;;
	linkdown)
		ip -n "$(nsname "$from")" link set eth0 down
		;;
	esac
	if wait_for "$to to become master" 20 _t_role_is "$to" master; then
		pass "$to says master $(( $(now_ms) - t0 )) ms after $from's $how"
	else
		fail "$to says master after $from's $how (it says '$(ha_role "$to")')"
	fi
	assert_eq 8 "$inflight" "the 8 downloads were still running when $from failed"
	ha_downloads_wait 8 "$sha"
	assert_eq 8 "$DL_OK" "every download completes intact across the failover ($how)"
	req_loop_stop
	gap=$(ha_gap_ms)
	answered=$(( $(req_after "$t0") - $(req_after "$t0" ERR) ))
	if [ "$answered" -eq 0 ]; then
		fail "the request loop is answered after $from's $how (none of $(req_after "$t0") was)"
	elif is_int "$gap" && [ "$gap" -lt 3000 ]; then
		pass "the request loop's longest gap is under 3 s ($gap ms, $(req_after 0 ERR) of $(req_after 0) failed, $answered answered after the $how)"
	else
		fail "the request loop's longest gap is under 3 s: $gap ms"
	fi
}

# ha_comeback_killed NS: the director killed by ha_failover kill comes back:
# vsrouted, then keepalived; it must be backup, and the master still master.
ha_comeback_killed() {
	local ns=$1 other=$2 prio=150
	[ "$ns" = dir2 ] && prio=100
	vsrouted_start "$ns" "$T_DIR/vsrouted-$ns.conf"
	ka_start "$ns" "$T_DIR/ka-$ns.conf"
	wait_for "$ns's keepalived to be backup" 20 _t_ka_state_is "$ns" BACKUP || true
	assert_eq backup "$(ha_role "$ns")" "$ns comes back as backup"
	assert_eq master "$(ha_role "$other")" "$other stays master"
}

# ha_comeback_link NS OTHER: the director whose eth0 went down gets it back.
ha_comeback_link() {
	local ns=$1 other=$2
	ip -n "$(nsname "$ns")" link set eth0 up
	wait_for "$ns's keepalived to leave FAULT" 20 _t_ka_state_is "$ns" BACKUP || true
	assert_eq BACKUP "$(ka_state "$ns")" "$ns's keepalived is backup again"
	assert_eq backup "$(ha_role "$ns")" "$ns comes back as backup"
	assert_eq master "$(ha_role "$other")" "$other stays master"
}

# ha_requests_ok N: N requests from the client to the VIP are all answered.
ha_requests_ok() {
	local n=$1 out
	out=$(http_get_n client "$(ha_url)" "$n")
	assert_eq 0 "$(printf '%s\n' "$out" | grep -c ERR || true)" "$n requests answered ($(printf '%s\n' "$out" | sort | uniq -c | tr '\n' ' '))"
}

# ha_capture_start NS IF: capture with tshark what reaches IF of NS on UDP
# port 8848 (the sync daemons'), into $T_DIR/sync.pcap, until ha_capture_stop.
ha_capture_start() {
	need_cmd tshark
	rm -f "$T_DIR/sync.pcap"
	bg_start capture "$1" tshark -q -n -i "$2" -f "udp port 8848" -w "$T_DIR/sync.pcap"
	HA_CAP_PID=$BG_PID
	wait_for "tshark to capture on $1's $2" 60 grep -q "^Capturing on" "$T_DIR/capture.log" ||
		true
}

ha_capture_stop() {
	bg_stop "$HA_CAP_PID" INT 10 || true
}

# ha_capture_check FROM SYNCID MODE: the capture, decoded by tshark's IPVS
# dissector as sync messages: some from FROM's address on the real
# servers' LAN (the other director's too once it is master, none from
# anyone else), every one to 224.0.0.81:8848 with TTL 1, version 1,
# SYNCID; among the entries, connections of the client to the VIP's port
# 80 on one of the real servers. tshark's dissector (4.0) reads version 1
# entries as 36 bytes each and knows no option: past an entry with one
# (fullnat's local address, MODE fullnat) it reads garbage, so there only
# each message's first entry is checked, and nowhere else may a message
# be malformed to it.
ha_capture_check() {
	local from=$1 syncid=$2 mode=$3 src n bad entries first=0
	local dec=(tshark -n -r "$T_DIR/sync.pcap" -d udp.port==8848,ipvs)
	src=$(ha_addr "$from" | sed 's/^10\.10\./10.20./')
	n=$("${dec[@]}" -Y "ipvs && ip.src == $src" 2>/dev/null | wc -l)
	assert_gt 0 "$n" "tshark decodes the capture as IPVS sync messages from $src ($n)"
	bad=$("${dec[@]}" -T fields -e ip.src -e ip.dst -e ip.ttl -e udp.dstport -e ipvs.version \
		-e ipvs.syncid -Y ipvs 2>/dev/null |
		awk -v id="$syncid" '$1 !~ /^10\.20\.0\.[23]$/ || $2 != "224.0.0.81" || $3 != 1 ||
			$4 != 8848 || $5 != 1 || $6 != id { n++ } END { print n + 0 }')
	assert_eq 0 "$bad" "every message from a director to 224.0.0.81:8848, TTL 1, version 1, sync id $syncid"
	if [ "$mode" = fullnat ]; then
		first=1
	else
		bad=$("${dec[@]}" -Y '_ws.malformed || _ws.expert.severity >= "Error"' 2>/dev/null | wc -l)
		assert_eq 0 "$bad" "no message is malformed to tshark"
	fi
	# One line per message; the entries' fields are lists (comma-separated).
	entries=$("${dec[@]}" -T fields -E separator=' ' -e ipvs.proto -e ipvs.caddr -e ipvs.vaddr \
		-e ipvs.vport -e ipvs.daddr -e ipvs.type -Y "ipvs && ip.src == $src" 2>/dev/null |
		awk -v vip="$VIP" -v first="$first" '{ np = split($1, p, ","); split($2, c, ",")
			split($3, v, ","); split($4, vp, ","); split($5, d, ","); split($6, ty, ",")
			if (first) np = 1
			for (i = 1; i <= np; i++)
				if (ty[i] == 0 && p[i] == 6 && c[i] == "10.10.0.1" && v[i] == vip &&
				    vp[i] == 80 && d[i] ~ /^10\.20\.0\.1[123]$/)
					n++ }
			END { print n + 0 }')
	if [ "$first" = 1 ]; then
		assert_eq "$n" "$entries" "each message's first entry is one of the client's to $VIP:80 on a real server"
	else
		assert_ge 8 "$entries" "the decoded entries are the client's to $VIP:80 on the real servers ($entries)"
	fi
}

# ha_scenario MODE: the whole story for MODE, both failures: dir1 master;
# dir1 killed (kill -9 of keepalived and vsrouted) under load, dir2 takes
# over; dir1 comes back as backup; dir2's client-side link goes down under
# load, dir1 takes over; dir2 comes back as backup. Nothing breaks.
ha_scenario() {
	local mode=$1 sha
	need_cmd keepalived
	[ "$mode" = tun ] && need_vsrtun
	T_KA_ADVERT=${T_KA_ADVERT:-}
	ha_start "$mode"
	sha=$(blob_make "$HA_BLOB_MB")
	assert_eq "master backup" "$(ha_role dir1) $(ha_role dir2)" "keepalived made dir1 master, dir2 backup"
	assert_true "the master announces the VIP (proxy ARP on eth0)" \
		sh -c "ip -n $(nsname dir1) neigh show proxy | grep -q '^$VIP dev eth0'"
	assert_false "the backup does not" \
		sh -c "ip -n $(nsname dir2) neigh show proxy | grep -q '^$VIP '"
	ha_requests_ok 6

	echo "# dir1 killed (kill -9 of keepalived and vsrouted) under load"
	ha_capture_start dir2 eth1
	ha_failover kill dir1 dir2 "$sha"
	ha_capture_stop
	ha_capture_check dir1 0 "$mode"
	ha_comeback_killed dir1 dir2
	wait_for "dir1 to resolve the real servers" 10 true
	ha_requests_ok 6

	echo "# dir2's client-side link down under load"
	ha_failover linkdown dir2 dir1 "$sha"
	ha_comeback_link dir2 dir1
	ha_requests_ok 6
	ha_end
}

# ha_end: dir1, master again after the story's two failovers, applied
# synced connections and refused no sync message; both directors stop.
ha_end() {
	vsrouted_stats dir1 >/dev/null
	assert_gt 0 "$(stat_get sync_rx_conns)" "dir1 applied synced connections"
	assert_eq 0 "$(stat_get sync_rx_refused)" "dir1 refused no sync message"
	vsrouted_stop dir1
	vsrouted_stop dir2
}

# ---------------------------------------------------------------- the client's address

# _t_has_v6 NS: NS has IPv6 (the servers below then listen on both families)
_t_has_v6() {
	nsx "$1" test -d /proc/sys/net/ipv6
}

# _t_refuses_plain NS PORT: a plain HTTP request to 127.0.0.1:PORT in NS is
# answered by a closed connection (curl's 52): a server that expects a
# PROXY header is up.
_t_refuses_plain() {
	local rc=0
	nsx "$1" curl -s -m 2 -o /dev/null "http://127.0.0.1:$2/" || rc=$?
	[ "$rc" = 52 ] || [ "$rc" = 56 ]
}

# pp_nginx_start NS NAME [PORT] [UPPORT]: nginx in NS on PORT (default 80),
# both families, that expects a PROXY protocol header first on every
# connection (listen ... proxy_protocol) and logs each request in
# $T_DIR/nginx-NAME/pp.log (pp_log NAME) as
#   PP_ADDR:PP_PORT PEER_ADDR:PEER_PORT "REQUEST" STATUS BYTES
# the first pair from the header, the second the connection's own peer.
# GET / answers "NAME PP_ADDR:PP_PORT"; GET /blob the file of blob_make;
# POST /up is passed on to upsrv.py on 127.0.0.1:UPPORT (started here,
# default PORT + 8000), which answers the body's sha256 (up_post).
pp_nginx_start() {
	local ns=$1 name=$2 port=${3:-80} upport=${4:-$((${3:-80} + 8000))} d l6=
	need_cmd nginx curl python3
	d="$T_DIR/nginx-$name"
	mkdir -p "$d/tmp" "$T_DIR/www"
	_t_has_v6 "$ns" && l6="listen [::]:$port ipv6only=on proxy_protocol;"
	upload_start "$ns" "pp-$name" "$upport"
	cat >"$d/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    log_format pp '\$proxy_protocol_addr:\$proxy_protocol_port \$remote_addr:\$remote_port '
                  '"\$request" \$status \$body_bytes_sent';
    access_log $d/pp.log pp;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 60s;
    server {
        listen $port proxy_protocol;
        $l6
        location = / {
            default_type text/plain;
            return 200 "$name \$proxy_protocol_addr:\$proxy_protocol_port\n";
        }
        location = /up {
            client_max_body_size 0;
            proxy_request_buffering off;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:$upport/;
        }
        location / {
            root $T_DIR/www;
        }
    }
}
EOF
	: >"$d/pp.log"
	bg_start "nginx-$name" "$ns" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	wait_for "nginx $name (proxy_protocol) on $ns:$port" 10 _t_refuses_plain "$ns" "$port" ||
		{ cat "$d/error.log" "$T_DIR/nginx-$name.log" >&2; return 1; }
	: >"$d/pp.log"
}

# pp_log NAME: the request lines pp_nginx_start's server NAME logged
pp_log() {
	cat "$T_DIR/nginx-$1/pp.log"
}

# haproxy_start NS NAME PORT: HAProxy in NS, "bind :PORT accept-proxy" (both
# families), mode http, answering every request "NAME SRC SRCPORT" with the
# address and port the PROXY header gave, and logging it to
# $T_DIR/haproxy-NAME.log (haproxy_log NAME) as
#   req SRC:SRCPORT DST:DSTPORT "REQUEST"
# A connection without a header is refused.
haproxy_start() {
	local ns=$1 name=$2 port=$3 cfg b6=
	cfg="$T_DIR/haproxy-$name.cfg"
	need_cmd haproxy curl
	_t_has_v6 "$ns" && b6="bind [::]:$port v6only accept-proxy"
	cat >"$cfg" <<EOF
global
    log stdout format raw local0
    maxconn 256
defaults
    mode http
    log global
    timeout connect 2s
    timeout client 20s
    timeout server 20s
frontend fe
    bind :$port accept-proxy
    $b6
    log-format "req %ci:%cp %fi:%fp %{+Q}r"
    http-request return status 200 content-type text/plain lf-string "$name %[src] %[src_port]\n"
EOF
	bg_start "haproxy-$name" "$ns" haproxy -db -f "$cfg"
	wait_for "haproxy $name (accept-proxy) on $ns:$port" 10 _t_refuses_plain "$ns" "$port" ||
		{ cat "$T_DIR/haproxy-$name.log" >&2; return 1; }
}

# haproxy_log NAME: the request lines haproxy_start's server NAME logged
haproxy_log() {
	grep '^req ' "$T_DIR/haproxy-$1.log" || true
}

# ppsrv_start NS NAME tcp|udp PORT [--banner]: tests/netns/ppsrv.py in NS, a
# server that checks the PROXY v2 header of each connection or datagram
# (its header says what it answers); its log is $T_DIR/pp-NAME.log.
ppsrv_start() {
	local ns=$1 name=$2 kind=$3 port=$4
	shift 4
	need_cmd python3
	bg_start "pp-$name" "$ns" python3 -u "$VSR_NETNS_DIR/ppsrv.py" "$kind" "$name" "$port" "$@"
	wait_for "ppsrv $name ($kind) on $ns:$port" 10 grep -q '^ready' "$T_DIR/pp-$name.log"
}

# toa_read_start NS NAME IFACE PORT: tests/netns/toaread.py in NS, one line
# per TCP segment to PORT arriving on IFACE with the TOA option it carries
# ("-" for none), in $T_DIR/toa-NAME.log.
toa_read_start() {
	local ns=$1 name=$2 ifc=$3 port=$4
	need_cmd python3
	bg_start "toa-$name" "$ns" python3 -u "$VSR_NETNS_DIR/toaread.py" "$ifc" "$port"
	wait_for "toa reader $name on $ns:$ifc" 10 grep -q '^ready' "$T_DIR/toa-$name.log"
}

# ---------------------------------------------------------------- ecmp
#
# Scale-out (ecmp_seed builds it): directors d1..dN, all active, behind a
# router that runs BIRD 2 and spreads the flows to the VIP over them by ECMP
# (fib_multipath_hash_policy = 1); each director runs vsrouted and BIRD with
# etc/bird-vsrouted.conf, announcing the VIP over BGP with BFD.
#
#   client 192.168.1.2 ---- .1 router .254 ===+=== LAN lan1 10.10.0.0/24 ===
#   (eth0)                   (bird)           |         |          |
#                                       d1 .2, d2 .3 ...   rs1 .11, rs2 .12, rs3 .13
#                                       vsrouted + bird    nginx; VIP on lo (dr)
#                                                          or vsrtun0 (tun)
#
#   ECMP_VIP 10.200.0.100/32: in each director's table 100 (announce_table)
#   while it wants traffic; the real servers answer through the router.

ECMP_VIP=10.200.0.100
ECMP_ROUTER=10.10.0.254

# ecmp_daddr dN: the address of director dN (10.10.0.N+1)
ecmp_daddr() { echo "10.10.0.$((1 + ${1#d}))"; }

# ecmp_seed NDIRS FWD: the topology above with NDIRS directors (namespaces
# d1..), three real servers for FWD (dr: the VIP on lo; tun: vsrtun trusting
# every director; fullnat: nothing) and the router's BIRD running
# (ecmp_bird_router_conf).
# Starts neither nginx nor any director.
ecmp_seed() {
	local n=$1 fwd=$2 d i trust=
	need_cmd bird birdc
	lan_add lan1
	ns_add client
	ns_add router
	link_add client eth0 192.168.1.2/24 router eth0 192.168.1.1/24
	route_add client default via 192.168.1.1
	# A veth carries the sender's skb hash (its socket's random txhash)
	# into the router, whose L4 multipath hash then takes it as it is;
	# TCP draws a new one at each retransmission timeout, which would move
	# a flow to another director with nothing changed. A router with a
	# NIC hashes the headers: keep the client's hash fixed per flow.
	ns_sysctl client net.core.txrehash=0
	lan_attach lan1 router eth1 "$ECMP_ROUTER/24"
	ns_sysctl router net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
	for i in $(seq "$n"); do
		d=d$i
		ns_add "$d"
		lan_attach lan1 "$d" eth0 "$(ecmp_daddr "$d")/24"
		# The way back to the client for its ICMP; no default route, so
		# that a VIP without vsrouted is unreachable here, not looping.
		route_add "$d" 192.168.1.0/24 via "$ECMP_ROUTER"
		trust="$trust -a $(ecmp_daddr "$d")"
	done
	for i in 1 2 3; do
		ns_add "rs$i"
		lan_attach lan1 "rs$i" eth0 "10.10.0.$((10 + i))/24"
		route_add "rs$i" default via "$ECMP_ROUTER"
		if [ "$fwd" = dr ]; then
			rs_dr_setup "rs$i" "$ECMP_VIP"
		elif [ "$fwd" = tun ]; then
			# shellcheck disable=SC2086 # one -a ADDR per director
			vsrtun_start "rs$i" $trust -v "$ECMP_VIP"
		fi
	done
	ecmp_bird_router_conf "$n" >"$T_DIR/bird-router.conf"
	nsx router bird -p -c "$T_DIR/bird-router.conf" || { echo "the router's BIRD config does not parse" >&2; return 1; }
	bird_start router "$T_DIR/bird-router.conf"
}

# ecmp_bird_router_conf NDIRS: the router's BIRD: a BGP and a BFD session with
# each director, their paths merged into one ECMP route in the kernel.
ecmp_bird_router_conf() {
	local i
	cat <<EOF
router id $ECMP_ROUTER;
log "$T_DIR/bird-router.log" all;
debug protocols { states };
protocol device { scan time 10; }
protocol kernel {
	ipv4 { import none; export all; };
	merge paths on;
}
protocol bfd {
	interface "*" { min rx interval 200 ms; min tx interval 200 ms; multiplier 5; };
}
template bgp director {
	local as 65000;
	# The directors connect: no connection collision (RFC 4271 6.8), whose
	# Cease would flap a session, and the ECMP route with it, at start.
	passive on;
	bfd on;
	graceful restart off;
	hold time 9;
	keepalive time 3;
	connect retry time 2;
	error wait time 1, 5;
	ipv4 { import where net ~ [ 10.200.0.0/16{32,32} ]; export none; };
}
EOF
	for i in $(seq "$1"); do
		echo "protocol bgp d$i from director { neighbor $(ecmp_daddr "d$i") as 65001; }"
	done
}

# ecmp_bird_director_conf dN: etc/bird-vsrouted.conf, its router address,
# router id and log set for director dN.
ecmp_bird_director_conf() {
	sed -e "s|^define ROUTER_ADDR = .*|define ROUTER_ADDR = $ECMP_ROUTER;|" \
	    -e "s|^router id .*|router id $(ecmp_daddr "$1");|" \
	    -e "s|^log syslog all;|log \"$T_DIR/bird-$1.log\" all;|" \
	    "$VSR_TOP/etc/bird-vsrouted.conf"
}

# ecmp_conf FWD [LINE...]: a director's vsrouted.conf: service "web" on
# ECMP_VIP:80, mh with mh-port, forward FWD to rs1..rs3, sloppy_tcp,
# announce_table 100, drain_timeout ECMP_DRAIN (2 unless set); each LINE
# among the global options.
ecmp_conf() {
	local fwd=$1 i line
	shift
	echo "tap = vsr0"
	echo "announce = { eth0 }"
	echo "sloppy_tcp = yes"
	echo "drain_timeout = ${ECMP_DRAIN:-2}"
	echo "announce_table = 100"
	for line in "$@"; do echo "$line"; done
	echo "virtual_server web {"
	echo "    address = $ECMP_VIP"
	echo "    port = 80"
	echo "    protocol = tcp"
	echo "    scheduler = mh"
	echo "    flags = { mh-port }"
	echo "    forward = $fwd"
	for i in 1 2 3; do
		echo "    real_server rs$i { address = 10.10.0.$((10 + i)) }"
	done
	echo "}"
}

# ecmp_director_up dN FWD [LINE...]: start vsrouted (ecmp_conf FWD LINE...)
# and BIRD in dN.
ecmp_director_up() {
	local d=$1
	shift
	ecmp_conf "$@" >"$T_DIR/vsrouted-$d.conf"
	vsrouted_start "$d" "$T_DIR/vsrouted-$d.conf" || return 1
	ecmp_bird_director_conf "$d" >"$T_DIR/bird-$d.conf"
	bird_start "$d" "$T_DIR/bird-$d.conf"
}

# ecmp_paths: the next hops of the router's route to ECMP_VIP, sorted, on one line.
ecmp_paths() {
	nsx router ip -4 route show "$ECMP_VIP/32" |
		grep -o 'via 10\.10\.0\.[0-9]*' | awk '{print $2}' | sort | tr '\n' ' ' | sed 's/ $//'
}
# ecmp_paths_are "ADDR ADDR...": the router's next hops are those (sorted).
ecmp_paths_are() { [ "$(ecmp_paths)" = "$1" ]; }

# ecmp_route_settles "ADDR ADDR..." WHAT: the router's route to ECMP_VIP
# comes to go over those directors (WHAT names them) within 30 s, fatal
# otherwise (the router's BGP sessions on stderr), and still does 2 s later.
ecmp_route_settles() {
	local want=$1 what=$2
	wait_for "the router's ECMP route over $what" 30 ecmp_paths_are "$want" ||
		{ birdc_in router show protocols all >&2 || true; fatal "no ECMP route over $what: '$(ecmp_paths)'"; }
	pass "the router has one route to $ECMP_VIP over $what ($(ecmp_paths))"
	sleep 2
	assert_true "the ECMP route is stable ($(ecmp_paths))" ecmp_paths_are "$want"
}

# ecmp_downloads_start N: N downloads of http://ECMP_VIP/blob from the
# client in the background, download I from client port 20000+I (below
# the ephemeral range, so its 5-tuple is known and nothing else takes
# it), its body in $T_DIR/dlI.body and curl's exit status in $T_DIR/dlI.rc.
ecmp_downloads_start() {
	local i
	for i in $(seq "$1"); do
		nsx client sh -c 'curl -s --local-port "$1" --connect-timeout 3 -m 120 \
			-o "$2.body" "$3"; echo "$?" >"$2.rc"' sh "$((20000 + i))" \
			"$T_DIR/dl$i" "http://$ECMP_VIP/blob" &
		echo "$! download$i" >>"$T_DIR/pids"
	done
}

# ecmp_downloads_end N SECS SHA: wait SECS at most for ecmp_downloads_start's
# N downloads to end (fail otherwise); ECMP_DL_END is when (now_ms),
# ECMP_DL_OK how many exited 0 with a body of sha256 SHA, ECMP_DL_BROKEN
# the others (" I(rc=RC)" each).
ecmp_downloads_end() {
	local n=$1 i rc sha
	wait_for "the downloads to end" "$2" sh -c "[ \$(ls '$T_DIR'/dl*.rc 2>/dev/null | wc -l) -ge $n ]" ||
		fail "not every download ended"
	ECMP_DL_END=$(now_ms)
	ECMP_DL_OK=0
	ECMP_DL_BROKEN=
	for i in $(seq "$n"); do
		rc=$(cat "$T_DIR/dl$i.rc" 2>/dev/null || echo none)
		sha=$(sha256sum "$T_DIR/dl$i.body" 2>/dev/null | awk '{print $1}')
		if [ "$rc" = 0 ] && [ "$sha" = "$3" ]; then ECMP_DL_OK=$((ECMP_DL_OK + 1))
		else ECMP_DL_BROKEN="$ECMP_DL_BROKEN $i(rc=$rc)"; fi
	done
}

# bird_start NS CONF: BIRD in the foreground in NS, its control socket
# $T_DIR/bird-NS.ctl; tracked for teardown.
bird_start() {
	bg_start "bird-$1" "$1" bird -f -c "$2" -s "$T_DIR/bird-$1.ctl" -P "$T_DIR/bird-$1.pid"
	echo "$BG_PID" >"$T_DIR/bird-$1.bgpid"
}
# bird_pid NS: the process of bird_start NS
bird_pid() { cat "$T_DIR/bird-$1.bgpid"; }
# bird_stop NS [SIGNAL]: stop BIRD in NS (SIGTERM by default) and wait for it.
bird_stop() {
	bg_stop "$(bird_pid "$1")" "${2:-TERM}" 10 || true
}
# birdc_in NS ARGS...: birdc against BIRD in NS
birdc_in() {
	local ns=$1
	shift
	nsx "$ns" birdc -s "$T_DIR/bird-$ns.ctl" "$@"
}
