#!/usr/bin/env bash
# ha-tun.sh - two directors, tun, keepalived's VRRP (etc/keepalived-vsrouted.conf)
# and connection sync: the master killed under load, then the other's
# client-side link set down; every paced download completes intact, new
# connections wait less than 3 s, the old master comes back as backup.
# The topology is lib.sh's lvs_ha_seed (drawn there); the story is
# ha_scenario's.
set -eu
. "$(dirname "$0")/lib.sh"
ha_scenario tun
