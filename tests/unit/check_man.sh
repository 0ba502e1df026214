#!/bin/sh
# check_man.sh - every man page passes mandoc -Tlint -W warning without a word
#
# top_srcdir and MANDOC come from Makefile.am's AM_TESTS_ENVIRONMENT; run by
# hand, the tree is found from this script's place and mandoc in PATH.
# Exit 77 (skipped) when there is no mandoc.

top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
mandoc=${MANDOC:-}
if [ -z "$mandoc" ] || ! command -v "$mandoc" >/dev/null 2>&1; then
	mandoc=$(command -v mandoc 2>/dev/null) || mandoc=
fi
if [ -z "$mandoc" ]; then
	echo "mandoc not found: man page lint skipped"
	exit 77
fi

rc=0
n=0
for page in "$top_srcdir"/man/*.[0-9]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	out=$("$mandoc" -Tlint -W warning "$page" 2>&1)
	status=$?
	if [ -n "$out" ] || [ "$status" -ne 0 ]; then
		echo "not ok - $page"
		printf '%s\n' "$out" | sed 's/^/# /'
		rc=1
	else
		echo "ok - $page"
	fi
done
if [ "$n" -eq 0 ]; then
	echo "not ok - no man page under $top_srcdir/man"
	rc=1
fi
exit $rc
