#!/usr/bin/env bash
# run.sh - the vsrouted test suite: unit tests, netns scenarios, repo checks
#
#   tests/run.sh [-k] [--no-unit] [--no-netns] [NAME...]
#
# Runs, from a configured and built tree (autoreconf -fi && ./configure &&
# make):
#   * "make check": every unit test (tests/unit/test_*), one PASS/FAIL/SKIP
#     line each, read from the automake .trs files;
#   * every tests/netns/*.sh scenario but lib.sh, each under `timeout`
#     (VSR_TEST_TIMEOUT seconds, default 300); status 77 is a skip; two
#     at a time (VSR_TEST_JOBS), but those that load the machine or bound
#     an elapsed time, which run alone at the end (EXCLUSIVE, below);
#   * the scenarios again against tests/vsrouted-asan (ASan + UBSan), some
#     under valgrind, and some with the veths' offloads off: NAME[asan],
#     NAME[valgrind], NAME[offload-off];
#   * a representative set again with "workers = 2" (two TAP queues, two
#     threads): NAME[workers2], and some of those under ASan or valgrind
#     too: NAME[workers2-asan], NAME[workers2-valgrind], and a few against
#     tests/vsrouted-tsan (ThreadSanitizer): NAME[workers2-tsan];
#     NAME[valgrind], NAME[offload-off]; and some with the daemon's TAP
#     offloads off (offload = false): NAME[tap-offload-off]; the
#     scenarios written for both families over IPv6 (VSR_TEST_FAMILY=6):
#     NAME[v6], NAME[v6-asan], NAME[v6-workers2];
#   * netns/demo: the README's demo (tests/demo.sh);
#   * readme-ci: README.md's two set-up commands install the same packages,
#     and .ci/run runs exactly README.md's test command;
#   * bench-quick: bench/run.sh --quick, every system measured (no speed
#     is asserted);
#   * fuzz-NAME: each libFuzzer harness of fuzz/ for VSR_FUZZ_SECONDS
#     (default 30), two at a time, after "make fuzz"; any finding fails it
#     (fuzz/run.sh).
# A failed test's log tail is printed under its FAIL line.  The last line is
# "N passed, N failed" (skips are listed but counted in neither); the exit
# status is 1 if anything failed.
#
# NAME... runs only the tests whose name contains one of the NAMEs.  -k keeps
# the logs directory (it is kept anyway when something failed).
#
# Every scenario's namespaces are named after this run (VSR_NS_PREFIX); after
# each scenario, and when the runner itself is interrupted, whatever is left
# with that prefix is killed and deleted.  A scenario that passes but leaves
# a namespace behind fails.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

keep=0 unit=1 netns=1
filters=()
while [ $# -gt 0 ]; do
	case $1 in
	-k|--keep) keep=1 ;;
	--no-unit) unit=0 ;;
	--no-netns) netns=0 ;;
	-h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) filters+=("$1") ;;
	esac
	shift
done

timeout_s=${VSR_TEST_TIMEOUT:-300}
# A python3 that is a pyenv shim is a bash script that runs "pyenv exec"
# at every start (0.1-0.2 s); the scenarios start python3 hundreds of
# times. The interpreter the shim resolves to, first in PATH: the same
# python3, started directly.
case $(command -v python3) in
*/shims/python3)
	py=$(pyenv which python3 2>/dev/null) && [ -x "$py" ] && PATH=${py%/*}:$PATH ;;
esac
prefix="vr$$x"
export VSR_NS_PREFIX="$prefix"
logs=$(mktemp -d "${TMPDIR:-/tmp}/vsrtest-run.XXXXXX")
# Scenarios keep their files under TMPDIR, and some run the daemon as
# nobody (ops-user, ops-ctlgroup, ops-systemd): say so up front when other
# users cannot reach it (a TMPDIR made by mktemp -d is 0700).
if command -v setpriv >/dev/null &&
	! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "${TMPDIR:-/tmp}" 2>/dev/null; then
	echo "note: ${TMPDIR:-/tmp} is not searchable by other users; the scenarios that" \
		"run the daemon as nobody will fail (chmod 755 it)" >&2
fi
npass=0 nfail=0 nskip=0
child=

selected() {
	local f
	[ ${#filters[@]} -eq 0 ] && return 0
	for f in "${filters[@]}"; do
		case $1 in *"$f"*) return 0 ;; esac
	done
	return 1
}

tail_of() {
	echo "---- last lines of $1 ----"
	tail -n "${2:-60}" "$1" | sed 's/^/  /'
	echo "----"
}

result() {  # result PASS|FAIL|SKIP NAME [LOG]
	echo "$1 $2"
	case $1 in
	PASS) npass=$((npass + 1)) ;;
	SKIP) nskip=$((nskip + 1)) ;;
	*)    nfail=$((nfail + 1)); [ -n "${3:-}" ] && [ -f "$3" ] && tail_of "$3" ;;
	esac
}

# sweep [PREFIX]: kill and delete whatever namespaces of this run (or of
# the one scenario whose prefix is PREFIX) are left; prints them.
sweep() {
	local ns pid left= p=${1:-$prefix}
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$p"); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		left="$left $ns"
	done
	rm -rf "${TMPDIR:-/tmp}"/vsrtest."$p"*
	printf '%s' "$left"
}

# The scenarios running now (pid -> index in the queue), see run_queue.
declare -A running=()

on_signal() {
	local pid
	echo "run.sh: interrupted" >&2
	for pid in $child "${!running[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $child "${!running[@]}"; do
		for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	sweep >/dev/null
	echo "run.sh: logs in $logs" >&2
	exit 130
}
trap on_signal INT TERM

# ---------------------------------------------------------------- unit tests
if [ "$unit" = 1 ] && selected unit; then
	if [ ! -f Makefile ]; then
		echo "no Makefile: run autoreconf -fi && ./configure && make first" >"$logs/build.log"
		result FAIL build "$logs/build.log"
	else
		touch "$logs/stamp"
		timeout -k 10 1800 make -j"$(nproc)" check >"$logs/make-check.log" 2>&1 &
		child=$!
		wait "$child"
		rc=$?
		child=
		nunit=0
		while IFS= read -r trs; do
			name=unit/$(basename "${trs%.trs}")
			nunit=$((nunit + 1))
			res=$(sed -n 's/^:test-result: *//p' "$trs" | sort -u | tr '\n' ' ')
			case " $res" in
			*" FAIL "*|*" ERROR "*|*" XPASS "*) result FAIL "$name" "${trs%.trs}.log" ;;
			" SKIP ") result SKIP "$name" ;;
			*PASS*|*XFAIL*) result PASS "$name" ;;
			*) result FAIL "$name" "${trs%.trs}.log" ;;
			esac
		done < <(find . -name '*.trs' -newer "$logs/stamp" | sort)
		if [ "$rc" != 0 ] && [ "$nfail" = 0 ]; then
			result FAIL make-check "$logs/make-check.log"
		elif [ "$nunit" = 0 ]; then
			echo "make check ran no test" >>"$logs/make-check.log"
			result FAIL make-check "$logs/make-check.log"
		fi
	fi
fi

# ---------------------------------------------------------------- repo checks
# The README's two commands and .ci/run must not drift apart.
readme_ci() {
	local ok=1 demo test ci
	demo=$(grep -E '^ *apt-get update && .*tests/demo\.sh *$' README.md | sed 's/^ *//')
	test=$(grep -E '^ *apt-get update && .*tests/run\.sh *$' README.md | sed 's/^ *//')
	ci=$(grep -E '^ *apt-get update && .*tests/run\.sh *$' .ci/run | sed 's/^ *//')
	pk() { sed -n 's/.*apt-get install -y \([^&]*\)&&.*/\1/p' | tr ' ' '\n' | grep . | sort; }
	[ "$(echo "$demo" | grep -c .)" = 1 ] || { echo "README.md: no single one-line demo command"; ok=0; }
	[ "$(echo "$test" | grep -c .)" = 1 ] || { echo "README.md: no single one-line test command"; ok=0; }
	[ "$(echo "$ci" | grep -c .)" = 1 ] || { echo ".ci/run: no single test command line"; ok=0; }
	if [ "$test" != "$ci" ]; then
		echo "README.md's test command and .ci/run's differ:"
		echo "  README: $test"
		echo "  .ci/run: $ci"
		ok=0
	fi
	if [ "$(echo "$demo" | pk)" != "$(echo "$test" | pk)" ]; then
		echo "README.md's demo and test commands install different packages:"
		diff <(echo "$demo" | pk) <(echo "$test" | pk)
		ok=0
	fi
	[ "$ok" = 1 ]
}
if selected readme-ci; then
	if readme_ci >"$logs/readme-ci.log" 2>&1; then result PASS readme-ci
	else result FAIL readme-ci "$logs/readme-ci.log"; fi
fi

# ---------------------------------------------------------------- fuzzing
# Each libFuzzer harness of fuzz/ (fuzz/run.sh; README.md, Fuzzing) for
# VSR_FUZZ_SECONDS (default 30) from its seed corpus, as one test each,
# fuzz-NAME, with its executions and coverage. "make fuzz" builds them
# first; without clang and libFuzzer they fail, they are not skipped.
fuzz_secs=${VSR_FUZZ_SECONDS:-30}
fuzz_want=()
for d in fuzz/corpus/*/; do
	[ -d "$d" ] && selected "fuzz-$(basename "$d")" && fuzz_want+=("$(basename "$d")")
done
# They run VSR_TEST_JOBS (default 2) at a time: each is one process on one
# core for its seconds, whatever runs beside it on the other.
fuzz_jobs=${VSR_TEST_JOBS:-2}
[ "$fuzz_jobs" -ge 1 ] 2>/dev/null || fuzz_jobs=1
if [ ${#fuzz_want[@]} -gt 0 ]; then
	if make fuzz >"$logs/make-fuzz.log" 2>&1; then
		for ((b = 0; b < ${#fuzz_want[@]}; b += fuzz_jobs)); do
			declare -A fuzz_rc=()
			child=
			for n in "${fuzz_want[@]:b:fuzz_jobs}"; do
				timeout -k 10 $((fuzz_secs + 300)) bash fuzz/run.sh "$fuzz_secs" "$n" \
					>"$logs/fuzz-$n.log" 2>&1 </dev/null &
				child="$child $!"
				fuzz_rc[$n]=$!
			done
			for n in "${fuzz_want[@]:b:fuzz_jobs}"; do
				wait "${fuzz_rc[$n]}"
				fuzz_rc[$n]=$?
			done
			child=
			for n in "${fuzz_want[@]:b:fuzz_jobs}"; do
				log="$logs/fuzz-$n.log"
				figures=$(sed -n "s/^\(PASS\|FAIL\) fuzz-$n: //p" "$log" | head -n 1)
				if [ "${fuzz_rc[$n]}" = 0 ]; then result PASS "fuzz-$n (${figures:-no figures})"
				else result FAIL "fuzz-$n (${figures:-no figures})" "$log"; fi
			done
		done
	else
		for n in "${fuzz_want[@]}"; do
			result FAIL "fuzz-$n (make fuzz failed)" "$logs/make-fuzz.log"
		done
	fi
fi

# ---------------------------------------------------------------- benchmark
# bench/run.sh --quick (1 round, 1 s per figure), so that the benchmark
# cannot rot: it passes if the script ends well and every system has a
# non-zero median in every column of results.csv.  No speed is asserted.
bench_figures() {  # bench_figures CSV: every system there, nothing zero
	awk -F, -v want="direct nft haproxy floor dr nat nat6 fullnat tun" '
		NR == 1 { next }
		$1 != "median" { next }
		{ seen[$2] = 1
		  for (i = 4; i <= NF; i++)
			if ($i + 0 <= 0) { print "zero " $2 " " i; bad = 1 } }
		END { n = split(want, w, " ")
		      for (i = 1; i <= n; i++)
			if (!(w[i] in seen)) { print "missing " w[i]; bad = 1 }
		      exit bad }' "$1"
}
if [ "$netns" = 1 ] && selected bench-quick; then
	log="$logs/bench-quick.log"
	out=$(mktemp -d "$logs/bench.XXXXXX")
	timeout -k 15 "$timeout_s" bash bench/run.sh --quick --out "$out" >"$log" 2>&1 </dev/null &
	child=$!
	wait "$child"
	rc=$?
	child=
	left=$(sweep)
	[ -n "$left" ] && { echo "run.sh: left behind and deleted:$left" >>"$log"; [ "$rc" = 0 ] && rc=1; }
	if [ ! -s "$out/results.csv" ]; then
		echo "no results.csv" >>"$log"; rc=1
	elif ! bench_figures "$out/results.csv" >>"$log" 2>&1; then
		echo "a system has a zero or missing figure (above)" >>"$log"; rc=1
	fi
	if [ "$rc" = 0 ]; then result PASS bench-quick
	else result FAIL bench-quick "$log"; fi
fi

# ---------------------------------------------------------------- scenarios
# The scenarios are queued first (run_scenario) and run at the end
# (run_queue), VSR_TEST_JOBS (default 2) at a time: most of them spend
# their time waiting on timers (checks, VRRP, BGP, sync, timeouts), and
# each builds its hosts in namespaces of its own, named after a prefix of
# its own (VSR_NS_PREFIX), so two of them do not meet. Those that load
# the machine (floods, bulk transfers, two workers' throughput) or assert
# a bound on elapsed time (checks' detection, restarts, the scale-out
# request gap) run afterwards, one at a time: EXCLUSIVE, by name, with
# every variant of them.
jobs_max=${VSR_TEST_JOBS:-2}
[ "$jobs_max" -ge 1 ] 2>/dev/null || jobs_max=1
EXCLUSIVE="flood scaleout scaleout-fullnat check-http check-sorry check-remove check-udp ops-crash
ops-systemd ops-metrics-slow ha-syncflood dr-bulk tun-bulk nat-transfer transfer6 nat-workers synproxy"
q_file=() q_label=() q_env=()

# run_scenario FILE LABEL [VAR=VALUE...]: queue one scenario, to run in
# the environment given.
run_scenario() {
	local f=$1 label=$2 b=${1##*/} IFS=$'\x1f'
	shift 2
	selected "netns/${b%.sh}$label" || return 0
	q_file+=("$f") q_label+=("$label") q_env+=("$*")
}

# start_job I: start the queued scenario I in the background.
start_job() {
	local i=$1 f=${q_file[$1]} b=${q_file[$1]##*/} envs=() log
	[ -n "${q_env[$i]}" ] && IFS=$'\x1f' read -r -a envs <<<"${q_env[$i]}"
	log="$logs/${b%.sh}${q_label[$i]}.log"
	job_t0[$i]=$SECONDS
	env VSR_NS_PREFIX="${prefix}${i}y" "${envs[@]}" timeout -k 15 "$timeout_s" bash "$f" \
		>"$log" 2>&1 </dev/null &
	running[$!]=$i
}

# end_job PID RC: the scenario that PID ran ended with status RC: sweep
# what it left, print its result.
end_job() {
	local i=${running[$1]} rc=$2 b name log left
	unset "running[$1]"
	b=${q_file[$i]##*/}
	name="netns/${b%.sh}${q_label[$i]}"
	log="$logs/${b%.sh}${q_label[$i]}.log"
	left=$(sweep "${prefix}${i}y")
	if [ -n "$left" ]; then
		echo "run.sh: left behind and deleted:$left" >>"$log"
		[ "$rc" = 0 ] && rc=1
	fi
	tsan_check "$log" || { [ "$rc" = 0 ] && rc=1; }
	name="$name ($((SECONDS - job_t0[i])) s)"
	case $rc in
	0)   result PASS "$name" ;;
	77)  result SKIP "$name ($(sed -n 's/^SKIP: //p' "$log" | head -n 1))" ;;
	124|137) echo "run.sh: killed after ${timeout_s}s" >>"$log"
	     result FAIL "$name (timeout)" "$log" ;;
	*)   result FAIL "$name" "$log" ;;
	esac
}

# tsan_check LOG: no ThreadSanitizer report in the files that run_tsan's
# daemons wrote beside LOG (LOG's name less .log, then .tsan.PID); the
# reports are appended to LOG. False if there was one.
tsan_check() {
	local t bad=0
	for t in "${1%.log}".tsan.*; do
		[ -f "$t" ] || continue
		grep -q 'ThreadSanitizer' "$t" || continue
		{ echo "run.sh: ThreadSanitizer in $t:"; cat "$t"; } >>"$1"
		bad=1
	done
	[ "$bad" = 0 ]
}

# wait_job: wait for any running scenario to end, and end it.
wait_job() {
	local pid rc
	wait -n -p pid "${!running[@]}"
	rc=$?
	end_job "$pid" "$rc"
}

EXCLUSIVE=" $(echo $EXCLUSIVE) "
exclusive() {
	local b=${1##*/}
	case $EXCLUSIVE in *" ${b%.sh} "*) return 0 ;; esac
	return 1
}

# run_queue: the queued scenarios, jobs_max at a time, then the exclusive
# ones alone.
declare -a job_t0=()
run_queue() {
	local i
	for i in "${!q_file[@]}"; do
		exclusive "${q_file[$i]}" && continue
		while [ ${#running[@]} -ge "$jobs_max" ]; do wait_job; done
		start_job "$i"
	done
	while [ ${#running[@]} -gt 0 ]; do wait_job; done
	for i in "${!q_file[@]}"; do
		exclusive "${q_file[$i]}" || continue
		start_job "$i"
		wait_job
	done
}

if [ "$netns" = 1 ]; then
	scenarios=()
	for f in tests/netns/*.sh; do
		[ "$(basename "$f")" = lib.sh ] || scenarios+=("$f")
	done
	# flood.sh's seven default phases (25 s each) once per run, not ten:
	# the plain daemon floods four of them, the ASan build (below) the
	# other three; the top rate (syn-max: no established flow lost when
	# the machine saturates) on the plain one, every run.
	flood_plain="syn-default syn-drop-entry syn-none syn-max"
	flood_asan="syn-small-dflt udp-default syn-synproxy"
	for f in "${scenarios[@]}"; do
		case ${f##*/} in
		flood.sh) run_scenario "$f" "" FLOOD_PHASES="$flood_plain" ;;
		*) run_scenario "$f" "" ;;
		esac
	done
	# The scenarios written for both families (VSR_TEST_FAMILY), over IPv6.
	v6_scenarios="nat-rr fullnat-noroute fullnat-proxy fullnat-toa svc-fwmark"
	for n in $v6_scenarios; do
		run_scenario "tests/netns/$n.sh" "[v6]" VSR_TEST_FAMILY=6
	done
	# The README's demo, so that it cannot rot.
	run_scenario tests/demo.sh ""

	# The same traffic against the daemon built with ASan and UBSan (any
	# report makes it exit non-zero, which the scenario's stop asserts), and
	# vsradm built so too (a report changes its exit status);
	# under valgrind for errors and leaks on start, traffic and stop; and
	# with the veths' checksum and segmentation offloads off.
	asan=$top/tests/vsrouted-asan
	vtasan=$top/tests/vsrtun-asan
	vaasan=$top/tests/vsradm-asan
	san_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=98
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=97)
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
	# run_asan FILE TAG [VAR=VALUE...]: FILE against the ASan/UBSan build.
	# run_valgrind FILE TAG [VAR=VALUE...]: FILE with the daemon under valgrind.
	# Either fails the test, rather than skipping it, when the tool is absent.
	run_asan() {
		local f=$1 tag=$2
		shift 2
		if [ -x "$asan" ]; then
			run_scenario "$f" "$tag" "$@" VSROUTED="$asan" VSRTUN="$vtasan" VSRADM="$vaasan" \
				"${san_env[@]}"
		elif selected "$(basename "$f" .sh)$tag"; then
			echo "no $asan: make check builds it" >"$logs/asan.log"
			result FAIL "netns/$(basename "$f" .sh)$tag" "$logs/asan.log"
		fi
	}
	# run_tsan FILE TAG [VAR=VALUE...]: FILE against the ThreadSanitizer
	# build. Its reports go to files of their own beside the scenario's
	# log (log_path), which end_job reads (tsan_check): any report fails
	# the test, whether or not the scenario stops the daemon itself; the
	# exit status says so too (exitcode), which vsrouted_stop asserts.
	# The daemon runs with its address space not randomised (setarch -R):
	# this TSan runtime (gcc 12's) maps its shadow at fixed addresses and
	# dies with "unexpected memory mapping" where vm.mmap_rnd_bits is
	# above 28 (kernels that raised the default); without randomisation
	# it runs whatever the host's setting, which it leaves alone.
	tsan=$top/tests/vsrouted-tsan
	run_tsan() {
		local f=$1 tag=$2 b=${1##*/} opts
		shift 2
		opts="halt_on_error=0 exitcode=96 second_deadlock_stack=1 history_size=4"
		opts="$opts log_path=$logs/${b%.sh}$tag.tsan"
		[ -f "$top/tests/tsan.supp" ] && opts="$opts suppressions=$top/tests/tsan.supp"
		if [ -x "$tsan" ] && setarch -R true 2>/dev/null; then
			run_scenario "$f" "$tag" "$@" VSROUTED="$tsan" VSR_WRAP="setarch -R" \
				TSAN_OPTIONS="$opts"
		elif selected "${b%.sh}$tag"; then
			{ [ -x "$tsan" ] || echo "no $tsan: make check builds it"
			  setarch -R true || echo "setarch -R cannot run here"; } >"$logs/tsan.log" 2>&1
			result FAIL "netns/${b%.sh}$tag" "$logs/tsan.log"
		fi
	}
	run_valgrind() {
		local f=$1 tag=$2
		shift 2
		if command -v valgrind >/dev/null; then
			run_scenario "$f" "$tag" "$@" VSR_WRAP="$vg"
		elif selected "$(basename "$f" .sh)$tag"; then
			echo "valgrind is not installed" >"$logs/valgrind.log"
			result FAIL "netns/$(basename "$f" .sh)$tag" "$logs/valgrind.log"
		fi
	}
	# ASan/UBSan over a sample that reaches every mode, both families, the
	# checkers and every control path once, leaving out the scenarios that
	# mostly wait (ctlslow, metrics-slow, the UDP and sorry checks): the
	# whole list doubled the suite's time, and the parsers' corners are
	# the fuzz harnesses' work.
	for f in "${scenarios[@]}"; do
		b=${f##*/}; case ${b%.sh} in
		dr-rr|dr-malformed|dr-newlink|dr-tablefull|dr-offlink|\
		nat-pmtu|nat-runtime|nat-workers|fullnat-proxy|\
		tun-rr-ipip|tun-mtu|tun-untrusted|mixed-modes|persist|sched-sh|\
		thresholds|check-http|check-exec|\
		ops-reload|ops-reload-whole|ops-crash|ops-vsradm|\
		ops-ctlgroup|ops-status|dr6-rr|\
		nat6-pmtu|vsradm6|ha-fullnat6|ha-syncflood|\
		fullnat-runtime|svc-ops|svc-fwmark|frag|synproxy|ops-conngrow)
			run_asan "$f" "[asan]" ;;
		# Eviction, the UDP flood and the SYN proxy under a flood, under
		# ASan: the three phases that the plain run leaves out.
		flood) run_asan "$f" "[asan]" FLOOD_PHASES="$flood_asan" ;;
		esac
	done
	# nat-rr and fullnat-noroute run under ASan in a sample of family x
	# workers, not in all four (each variant is 30 s): nat-rr with two
	# workers in each family (below; one worker under ASan is nat-pmtu's,
	# nat-runtime's, nat6-pmtu's), fullnat-noroute over IPv6 with one and
	# over IPv4 with two (fullnat-proxy[asan] and fullnat-runtime[asan]
	# are IPv4 with one).
	run_asan tests/netns/fullnat-noroute.sh "[v6-asan]" VSR_TEST_FAMILY=6
	for f in "${scenarios[@]}"; do
		b=${f##*/}; case ${b%.sh} in
		dr-rr|dr-udp|dr-cleanup|tun-udp|tun-cleanup|ops-metrics|check-exec|ops-ctlgroup|mixed6|\
		ops-conngrow)
			run_valgrind "$f" "[valgrind]" ;;
		esac
	done
	for f in "${scenarios[@]}"; do
		b=${f##*/}; case ${b%.sh} in
		dr-bulk|dr-bypass|dr-malformed|tun-bulk|tun-mtu|nat-transfer|nat-pmtu|nat-direct|fullnat-proxy|\
		transfer6|tun6-pmtu|nat6-pmtu)
			run_scenario "$f" "[offload-off]" VSR_TEST_OFFLOAD=off ;;
		esac
	done
	# ha-fullnat6 with the sync messages themselves over IPv6 multicast.
	run_scenario tests/netns/ha-fullnat6.sh "[sync6]" HA_SYNC_GROUP=ff02::81
	# Scale-out over tun (vsrtun on the real servers) as well as dr.
	run_scenario tests/netns/scaleout.sh "[tun]" VSR_TEST_FORWARD=tun
	# tun-rr-ipip over GRE (VSR_TEST_TUNNEL), plain and under ASan, and
	# tun6-rr over GRE over IPv6 (tun-gre-key runs GRE's key and the
	# offload variants).
	f=tests/netns/tun-rr-ipip.sh
	run_scenario "$f" "[gre]" VSR_TEST_TUNNEL=gre
	run_asan "$f" "[gre-asan]" VSR_TEST_TUNNEL=gre
	run_scenario tests/netns/tun6-rr.sh "[gre]" VSR_TEST_TUNNEL=gre
	# And over GUE (issue 18 item 5): UDP, its checksum, vsrtun -g, three
	# 20 MB uploads; under ASan once; with remote checksum offload; over IPv6.
	run_scenario "$f" "[gue]" VSR_TEST_TUNNEL=gue
	run_asan "$f" "[gue-asan]" VSR_TEST_TUNNEL=gue
	run_scenario "$f" "[gue-remcsum]" VSR_TEST_TUNNEL=gue-remcsum
	run_scenario tests/netns/tun6-rr.sh "[gue]" VSR_TEST_TUNNEL=gue
	run_scenario tests/netns/tun6-rr.sh "[gue-remcsum]" VSR_TEST_TUNNEL=gue-remcsum
	# Two workers (VSR_TEST_WORKERS: lib.sh puts "workers = 2" into the
	# configs): each mode and family once, udp, persistence, reload, the
	# control paths that read the workers' tables and counters, sync;
	# nat-workers.sh has two workers of its own. Some under ASan as well.
	for f in "${scenarios[@]}"; do
		b=${f##*/}; case ${b%.sh} in
		nat-rr|nat-direct|fullnat-noroute|fullnat-proxy|mixed-modes|dr-udp|dr-cleanup|\
		tun-udp|persist|ops-reload|ops-vsradm|ops-metrics|ha-nat|ha-fullnat|mixed6)
			run_scenario "$f" "[workers2]" VSR_TEST_WORKERS=2 ;;
		esac
	done
	run_scenario tests/netns/nat-rr.sh "[v6-workers2]" VSR_TEST_FAMILY=6 VSR_TEST_WORKERS=2
	for f in "${scenarios[@]}"; do
		b=${f##*/}; case ${b%.sh} in
		dr-cleanup|nat-rr)
			run_valgrind "$f" "[workers2-valgrind]" VSR_TEST_WORKERS=2 ;;
		esac
	done
	for f in "${scenarios[@]}"; do
		b=${f##*/}; case ${b%.sh} in
		nat-rr|fullnat-noroute|tun-udp|ops-vsradm)
			run_asan "$f" "[workers2-asan]" VSR_TEST_WORKERS=2 ;;
		esac
	done
	run_asan tests/netns/nat-rr.sh "[v6-workers2-asan]" VSR_TEST_FAMILY=6 VSR_TEST_WORKERS=2
	# Under ThreadSanitizer, where two worker threads run beside the main
	# thread: nat and fullnat flows of both families, steered and not (a
	# worker in another's table), a reload under traffic, the workers'
	# counters (nat-workers); many short flows, UDP, echo requests and the
	# real servers' own traffic, beside the next-hop monitor's writes
	# (nat-rr); runtime edits and listings of the workers' tables under
	# traffic (ops-vsradm).
	for f in "${scenarios[@]}"; do
		b=${f##*/}; case ${b%.sh} in
		nat-workers|nat-rr|ops-vsradm)
			run_tsan "$f" "[workers2-tsan]" VSR_TEST_WORKERS=2 ;;
		esac
	done
	# With the daemon's own TAP offloads off (no GSO super-frame, no
	# partial checksum): the integrity transfers and the UDP paths.
	for f in "${scenarios[@]}"; do
		b=${f##*/}; case ${b%.sh} in
		dr-bulk|tun-bulk|tun-udp|tun-mtu|nat-transfer|nat-pmtu|nat-direct|\
		transfer6|nat6-pmtu|fullnat-proxy)
			run_scenario "$f" "[tap-offload-off]" VSR_TEST_TAP_OFFLOAD=off ;;
		esac
	done
	# IP fragments (issue 18.3) through dr and tun as well as nat and
	# fullnat, and each over IPv6.
	f=tests/netns/frag.sh
	run_scenario "$f" "[dr]" VSR_TEST_FORWARD=dr
	run_scenario "$f" "[tun]" VSR_TEST_FORWARD=tun
	run_scenario "$f" "[v6]" VSR_TEST_FAMILY=6
	run_scenario "$f" "[dr-v6]" VSR_TEST_FORWARD=dr VSR_TEST_FAMILY=6
	run_scenario "$f" "[tun-v6]" VSR_TEST_FORWARD=tun VSR_TEST_FAMILY=6
	run_queue
fi

if [ "$keep" = 1 ] || [ "$nfail" != 0 ]; then
	echo "logs: $logs"
else
	rm -rf "$logs"
fi
[ "$nskip" != 0 ] && echo "skipped: $nskip (counted as neither passed nor failed)"
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
