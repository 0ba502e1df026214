#!/usr/bin/env bash
# scaleout-fullnat.sh - scale-out behind an ECMP router in fullnat, the
# directors' connections shared by sync { state = both } (issue 17).
# Not written yet, so it skips, never passes. Sync now carries what a
# fullnat flow needs (its local address and port, and the PROXY header's
# sequence shift), but two things stand between that and a flow that the
# router moves to another director:
#  * the real server answers the flow's local address, so its replies go
#    to the director that owns that address: with one pool shared by all
#    directors (each proxy-ARPs it) the replies of a handshake reach
#    whichever director the real server's ARP names, which has no entry
#    yet (sync sends a connection at its third packet); with a pool per
#    director, a flow outlives its director only if another takes its
#    local addresses over, which nothing does yet;
#  * a director takes a synced fullnat entry only when its local address
#    is in its own pool (sync_conn_apply), so a peer's flows are refused.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
skip "fullnat scale-out is not written: a peer's local addresses are neither taken over nor accepted from sync (see this file's header)"
