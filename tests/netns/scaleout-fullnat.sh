#!/usr/bin/env bash
# scaleout-fullnat.sh - scale-out behind an ECMP router in fullnat, the
# directors' connections shared by sync { state = both } (issue 17, after
# the HA issue).  Not written yet: fullnat flows that move director need
# the entry (the local address and port) of the director that made them,
# which only connection synchronisation brings.  Skips, never passes.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
printf 'sync {\n    state = both\n    interface = lo\n}\nannounce = { lo }\n' >"$T_DIR/probe.conf"
if "$(vsrouted_bin)" -t -f "$T_DIR/probe.conf" >/dev/null 2>&1; then
	skip "the daemon takes sync { }, but the fullnat + sync scale-out scenario is not written yet"
fi
skip "fullnat + sync { state = both } needs connection synchronisation (the HA issue), not in this build"
