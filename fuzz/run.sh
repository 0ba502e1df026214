#!/usr/bin/env bash
# run.sh - run the libFuzzer harnesses of fuzz/ for a while each; fail on any finding
#
#   fuzz/run.sh [-k DIR] SECONDS [NAME...]
#
# From the top build directory, after "make fuzz": runs each harness
# fuzz/fuzz-NAME (every one, or the NAMEs given: ctl conf vsradm pkt core sync)
# for SECONDS, from its seed corpus fuzz/corpus/NAME of the source tree
# (never written to: what the run finds goes to a work corpus of its own),
# with fuzz/NAME.dict when there is one. For each it prints one line:
#
#   PASS fuzz-NAME: 123456 executions in 60 s, cov 1234 ft 5678, corpus 345
#   FAIL fuzz-NAME: ... and the finding's report and its input's path
#
# cov is libFuzzer's count of covered code edges, ft its count of
# features (edges with hit counts, comparisons). A finding is a crash, a
# sanitizer (ASan, UBSan, LeakSanitizer) report, a broken oracle (the
# harness aborts), a timeout (-timeout, 10 s by default) or an input over
# the memory limit; its input is kept under the work directory and named
# in the report (replay: fuzz/fuzz-NAME FILE; VSR_FUZZ_LOG=1 for the
# daemon's log). The exit status is 1 if any harness failed.
#
# -k DIR keeps the work corpora in DIR/NAME (and reuses them next time),
# for longer campaigns; fold what they found into the seeds with
#   fuzz/fuzz-NAME -merge=1 fuzz/corpus/NAME DIR/NAME
# when it is worth keeping (README.md, Fuzzing). VSR_FUZZ_FLAGS adds libFuzzer
# flags (e.g. -max_len=65600).

set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
keep=
while [ $# -gt 0 ]; do
	case $1 in
	-k) keep=$2; shift 2 ;;
	-h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "fuzz/run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
secs=${1:-}
case $secs in
''|*[!0-9]*) echo "usage: fuzz/run.sh [-k DIR] SECONDS [NAME...]" >&2; exit 2 ;;
esac
shift
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for d in "$top_srcdir"/fuzz/corpus/*/; do
		names+=("$(basename "$d")")
	done
fi

# Per harness: the largest input (a frame, a page of requests, a file).
max_len() {
	case $1 in
	ctl) echo 1500 ;;
	conf) echo 8192 ;;
	vsradm) echo 8192 ;;
	pkt) echo 4096 ;;
	core) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/vsrfuzz-run.XXXXXX")
nfail=0
for n in "${names[@]}"; do
	bin=./fuzz/fuzz-$n
	seeds=$top_srcdir/fuzz/corpus/$n
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz-$n: no $bin (make fuzz builds it)"
		nfail=$((nfail + 1))
		continue
	fi
	if [ -n "$keep" ]; then corpus=$keep/$n; else corpus=$work/corpus-$n; fi
	mkdir -p "$corpus" "$work/artifacts-$n"
	dict=()
	[ -f "$top_srcdir/fuzz/$n.dict" ] && dict=(-dict="$top_srcdir/fuzz/$n.dict")
	log=$work/$n.log
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -print_final_stats=1 -max_len="$(max_len "$n")" \
		-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts-$n/" "${dict[@]}" \
		${VSR_FUZZ_FLAGS:-} "$corpus" "$seeds" >"$log" 2>&1 </dev/null
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -a -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	ncorp=$(find "$corpus" -type f | wc -l)
	summary="${execs:-?} executions in $secs s, cov ${cov:-?} ft ${ft:-?}, corpus $ncorp"
	found=$(find "$work/artifacts-$n" -type f | head -n 5)
	if [ "$rc" = 0 ] && [ -z "$found" ] && [ -n "$execs" ]; then
		echo "PASS fuzz-$n: $summary"
	else
		echo "FAIL fuzz-$n: $summary (exit status $rc)"
		grep -a -n -E 'ERROR|SUMMARY|oracle broken|==[0-9]+==|runtime error|#[0-9]+ +0x' "$log" |
			head -n 40 | sed 's/^/  /'
		for f in $found; do
			echo "  input: $f ($(stat -c %s "$f") bytes; replay: $bin $f)"
		done
		nfail=$((nfail + 1))
		keep_work=1
	fi
done
if [ "${keep_work:-0}" = 1 ]; then
	echo "logs and inputs: $work"
else
	rm -rf "$work"
fi
[ "$nfail" = 0 ]
