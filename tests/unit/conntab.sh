#!/bin/sh
# conntab.sh - a quick run of the connection table benchmark (bench/conntab), so it cannot rot
#
# 100,000 flows: the program fills the table, checks every lookup's answer
# (hits found, misses not), flushes it and checks the real servers' counts,
# exiting non-zero on any failure. No speed is asserted: only that it ran
# to the end and printed its three load rows. Run from the build directory
# (make check does); bench/conntab is one of check_PROGRAMS.

bin=${CONNTAB:-bench/conntab}
out=$("$bin" -n 100000 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 0 ]; then
	echo "not ok - bench/conntab -n 100000 exited $status"
	exit 1
fi
rows=$(printf '%s\n' "$out" | grep -c '^| \(10\|50\|90\)% | [0-9]')
if [ "$rows" -ne 3 ]; then
	echo "not ok - bench/conntab printed $rows of the 3 load rows"
	exit 1
fi
echo "ok - bench/conntab -n 100000"

# The threads mode, small: both layouts with 1 and 2 threads, every lookup
# checked, the real servers' counts against the tables'. Speed again not
# asserted: only the exit status and its four rows.
out=$("$bin" -t 2 -n 2000 -o 50000 -p 1 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 0 ]; then
	echo "not ok - bench/conntab -t 2 exited $status"
	exit 1
fi
rows=$(printf '%s\n' "$out" | grep -c '^| \(shared\|per-thread\) | [12] | [0-9]')
if [ "$rows" -ne 4 ]; then
	echo "not ok - bench/conntab -t 2 printed $rows of the 4 rows"
	exit 1
fi
echo "ok - bench/conntab -t 2"
