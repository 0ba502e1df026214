#!/bin/sh
# conntab.sh - a quick run of the connection table benchmark (bench/conntab), so it cannot rot
#
# 100,000 flows: the program fills the table, checks every lookup's answer
# (hits found, misses not), flushes it and checks the real servers' counts,
# exiting non-zero on any failure. No speed is asserted: only that it ran
# to the end and printed its three load rows. Run from the build directory
# (make check does); bench/conntab is one of check_PROGRAMS.

bin=${CONNTAB:-bench/conntab}

# check WHAT ROWS PATTERN ARGS...: bench/conntab ARGS exits 0 and prints
# ROWS lines matching PATTERN (grep's basic expressions).
check() {
	what=$1 want=$2 pattern=$3
	shift 3
	out=$("$bin" "$@" 2>&1)
	status=$?
	printf '%s\n' "$out"
	if [ "$status" -ne 0 ]; then
		echo "not ok - bench/conntab $what exited $status"
		exit 1
	fi
	rows=$(printf '%s\n' "$out" | grep -c "$pattern")
	if [ "$rows" -ne "$want" ]; then
		echo "not ok - bench/conntab $what printed $rows of the $want rows"
		exit 1
	fi
	echo "ok - bench/conntab $what"
}

check "-n 100000" 3 '^| \(10\|50\|90\)% | [0-9]' -n 100000

# The threads mode, small: both layouts with 1 and 2 threads, every lookup
# checked, the real servers' counts against the tables'. Speed again not
# asserted: only the exit status and its four rows.
check "-t 2" 4 '^| \(shared\|per-thread\) | [12] | [0-9]' -t 2 -n 2000 -o 50000 -p 1
