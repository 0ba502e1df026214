#!/usr/bin/env bash
# ops-systemd.sh - the systemd unit: systemd-analyze verify on it, and the
# daemon run the way the unit runs it (an unprivileged user from the start,
# CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF ambient and bounding, CAP_BPF
# given up once the steering program of its two workers is loaded, no new
# privileges, its
# socket in a runtime directory of its own) with NOTIFY_SOCKET pointing at
# a test receiver: STATUS= and READY=1, RELOADING=1 + MONOTONIC_USEC then
# STATUS= (reloaded, or refused and why) and READY=1 on
# SIGHUP, STOPPING=1 on SIGTERM; it serves and undoes its host changes.
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12
# client       director           rs1            rs2 (added by reload)
#  curl     setpriv nobody ->    nginx          nginx
#           vsrouted -> NOTIFY_SOCKET -> notifyrecv.py
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3
need_cmd setpriv
getent passwd nobody >/dev/null || skip "no user nobody"

# ---- the unit as installed, with the binary under test
sed -e "s|@sbindir@/vsrouted|$(vsrouted_bin)|g" -e "s|@sbindir@|$VSR_TOP/src|g" \
	-e "s|@sysconfdir@|$T_DIR|g" "$VSR_TOP/etc/vsrouted.service.in" >"$T_DIR/vsrouted.service"
if command -v systemd-analyze >/dev/null; then
	assert_true "systemd-analyze verify accepts the unit" \
		systemd-analyze verify --man=no "$T_DIR/vsrouted.service"
else
	echo "# systemd-analyze is not installed: the unit is not verified (not counted)"
fi
unit() { sed -n "s/^$1=//p" "$T_DIR/vsrouted.service"; }
assert_eq notify "$(unit Type)" "Type=notify"
assert_eq '/bin/kill -HUP $MAINPID' "$(unit ExecReload)" "ExecReload sends SIGHUP"
assert_eq "CAP_NET_ADMIN CAP_NET_RAW CAP_BPF" "$(unit CapabilityBoundingSet)" \
	"bounding set: the two capabilities, and CAP_BPF for the steering program"
assert_eq "CAP_NET_ADMIN CAP_NET_RAW CAP_BPF" "$(unit AmbientCapabilities)" "ambient: the same three"
# IPv6 tunnels, checks and netlink replies open AF_INET6 sockets.
assert_eq "AF_UNIX AF_NETLINK AF_PACKET AF_INET AF_INET6" "$(unit RestrictAddressFamilies)" \
	"RestrictAddressFamilies: what the daemon opens, IPv6 included"
assert_eq vsrouted "$(unit User)" "a user of its own, vsrouted (the test runs as nobody)"
assert_true "etc/vsrouted.sysusers makes that user" \
	grep -Eq '^u[[:space:]]+vsrouted[[:space:]]' "$VSR_TOP/etc/vsrouted.sysusers"
assert_eq on-failure "$(unit Restart)" "Restart=on-failure: a crash is followed by a start"

lvs_dr_seed 2
for i in 1 2; do http_start "rs$i" "rs$i"; done
# An exec check that reports what capabilities a script gets under the
# unit (whose user is the daemon's; nobody here, as the unit's stand-in).
mkdir -m 0755 "$T_DIR/chk"
chown nobody "$T_DIR/chk"
cat >"$T_DIR/caps.sh" <<EOS
#!/bin/sh
grep -E '^Cap(Inh|Prm|Eff|Amb):' /proc/self/status >"$T_DIR/chk/caps.tmp" && mv "$T_DIR/chk/caps.tmp" "$T_DIR/chk/caps"
EOS
chmod 0755 "$T_DIR/caps.sh"
for c in a:1 b:2; do
	check_conf "$T_DIR/${c%:*}.conf" "${c#*:}" "type = exec  command = \"$T_DIR/caps.sh\"  interval = 1" \
		"conn_max = 4096" "check_user = nobody" "workers = 2"
done
conf=$T_DIR/vsrouted.conf
cp "$T_DIR/a.conf" "$conf"
# RuntimeDirectory=vsrouted: a directory of the daemon's own.
mkdir -m "$(unit RuntimeDirectoryMode)" "$T_DIR/run"
chown nobody "$T_DIR/run"
sock=$T_DIR/run/vsrouted.sock

notify="@vsrtest-notify-$T_PREFIX"
bg_start notify director python3 -u "$VSR_NETNS_DIR/notifyrecv.py" "$notify"
wait_for "the notification receiver" 10 grep -q '^ready' "$T_DIR/notify.log"
got() { grep -c -- "$1" "$T_DIR/notify.log" || true; }

ns_snapshot director "$T_DIR/before"
# What DynamicUser, AmbientCapabilities, CapabilityBoundingSet and
# NoNewPrivileges amount to, done by setpriv; in a mount namespace of its
# own whose /dev/net/tun has the mode udev gives it on Debian (0666: the
# unit's user opens it; DeviceAllow limits the devices to it), whatever
# this host's is.
cat >"$T_DIR/asunit" <<EOW
#!/bin/sh
exec unshare -m --propagation private sh -c '
	mount -t tmpfs -o mode=0755 vsrtest-dev /dev/net &&
	mknod -m 0666 /dev/net/tun c 10 200 &&
	exec setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups --no-new-privs \\
		--inh-caps=-all,+net_admin,+net_raw,+bpf --ambient-caps=-all,+net_admin,+net_raw,+bpf \\
		--bounding-set=-all,+net_admin,+net_raw,+bpf "\$@"' sh ${VSR_WRAP:-} "\$@"
EOW
chmod 755 "$T_DIR/asunit"
export NOTIFY_SOCKET=$notify
VSR_WRAP="$T_DIR/asunit" vsrouted_start director "$conf" -s "$sock"
unset NOTIFY_SOCKET
pid=$(cat "$T_DIR/vsrouted-director.pid")
wait_for "READY=1" 10 grep -q 'READY=1$' "$T_DIR/notify.log"
assert_eq 1 "$(got 'READY=1$')" "READY=1 once set-up is done"
assert_true "its two workers' steering program was loaded with CAP_BPF" \
	grep -q "both directions of each flow steered" "$(vsrouted_log director)"
assert_eq 0000000000003000 "$(awk '$1 == "CapEff:" { print $2 }' "/proc/$pid/status")" \
	"it runs with CAP_NET_ADMIN|CAP_NET_RAW, CAP_BPF given up"
assert_eq 0000000000003000 "$(awk '$1 == "CapPrm:" { print $2 }' "/proc/$pid/status")" \
	"CAP_BPF is not even permitted any more"
assert_eq "$(id -u nobody)" "$(awk '$1 == "Uid:" { print $3 }' "/proc/$pid/status")" "as nobody"
assert_eq 0000000000003000 "$(awk '$1 == "CapAmb:" { print $2 }' "/proc/$pid/status")" \
	"the two are ambient in the daemon"
wait_for "the exec check's report" 10 test -e "$T_DIR/chk/caps"
assert_eq "CapInh: 0 CapPrm: 0 CapEff: 0 CapAmb: 0" \
	"$(awk '{ printf "%s %d ", $1, $2 }' "$T_DIR/chk/caps" | sed 's/ $//')" \
	"an exec check's script gets none of them, ambient ones included"
assert_eq rs1 "$(http_get client "http://$VIP/")" "the VIP answers"
assert_eq 1 "$("$VSR_TOP/src/vsradm" --socket "$sock" -Ln | grep -c -- '-> 10\.')" \
	"vsradm reaches the socket in the runtime directory"

cp "$T_DIR/b.conf" "$conf"
kill -HUP "$pid"
wait_for "READY=1 after the reload" 10 sh -c "[ \$(grep -c 'READY=1\$' '$T_DIR/notify.log') -ge 2 ]"
line=$(grep 'RELOADING=1' "$T_DIR/notify.log" || true)
assert_true "RELOADING=1 with MONOTONIC_USEC in one datagram" \
	sh -c "printf '%s\n' '$line' | grep -Eq '	RELOADING=1\|MONOTONIC_USEC=[0-9]+$'"
recv_us=${line%%	*}
sent_us=${line##*=}
assert_true "MONOTONIC_USEC is CLOCK_MONOTONIC at the reload (within 1 s of its receipt)" \
	test "$((recv_us - sent_us))" -ge 0 -a "$((recv_us - sent_us))" -lt 1000000
assert_eq "STATUS=serving 1 virtual services on vsr0|READY=1|RELOADING=1|MONOTONIC_USEC=N|STATUS=reloaded $conf: 1 virtual services|READY=1" \
	"$(cut -f 2 "$T_DIR/notify.log" | grep -v '^ready' | sed 's/MONOTONIC_USEC=[0-9]*/MONOTONIC_USEC=N/' |
	   tr '\n' '|' | sed 's/|$//')" "the messages in order: STATUS, READY, RELOADING, STATUS, READY"
assert_eq "READY=1" "$(tail -n 1 "$T_DIR/notify.log" | cut -f 2)" "the reload ends with READY=1"
http_get_n client "http://$VIP/" 4 >"$T_DIR/answers"
assert_eq 2 "$(count_of rs2 "$T_DIR/answers")" "rs2, added by the reload, serves half"

# A file that is not valid: refused, and systemctl status says so.
sed 's/scheduler = rr/scheduler = nosuch/' "$T_DIR/b.conf" >"$conf"
kill -HUP "$pid"
wait_for "READY=1 after the refused reload" 10 sh -c "[ \$(grep -c 'READY=1\$' '$T_DIR/notify.log') -ge 3 ]"
assert_eq "STATUS=reload of $conf refused: the file is not valid (see the log); serving the previous configuration" \
	"$(tail -n 2 "$T_DIR/notify.log" | head -n 1 | cut -f 2)" "a refused reload is told to systemd (STATUS=)"
assert_eq 2 "$("$VSR_TOP/src/vsradm" --socket "$sock" -Ln | grep -c -- '-> 10\.')" \
	"and the running services stay"
cp "$T_DIR/b.conf" "$conf"

# ---- a crash, and the restart systemd makes
assert_eq "600 nobody" "$(stat -c '%a %U' "$T_DIR/run/vsrouted.journal")" \
	"the journal of host changes is in the runtime directory, the daemon's own"
kill -KILL "$pid"
wait_for "the daemon to die" 10 _t_not_running "$pid"
wait "$pid" 2>/dev/null || true
assert_true "its proxy entry is left after kill -9" \
	sh -c "ip -n '$(nsname director)' neigh show proxy | grep -q '^$VIP '"
# What systemd does to RuntimeDirectory= between the death and the
# automatic restart: removed unless RuntimeDirectoryPreserve is restart or
# yes; (re)made, owned by the unit's user, at the start.
case $(unit RuntimeDirectoryPreserve) in
restart|yes) ;;
*) rm -rf "$T_DIR/run" ;;
esac
mkdir -p -m "$(unit RuntimeDirectoryMode)" "$T_DIR/run"
chown -R nobody "$T_DIR/run"
cp "$(vsrouted_log director)" "$T_DIR/vsrouted-first.log"
# ready_ms PID: milliseconds from PID's start (its fork: /proc's starttime,
# CLOCK_BOOTTIME) to the last READY=1 it sent (notify.log: CLOCK_MONOTONIC),
# the daemon's own restart time, without the harness's polling.
ready_ms() {
	local ready_us start_ms off_ms
	ready_us=$(awk -F'\t' '$2 ~ /^READY=1/ { t = $1 } END { print t }' "$T_DIR/notify.log")
	start_ms=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%d", $20 * 1000 / hz }' "/proc/$1/stat")
	off_ms=$(python3 -c 'import time; print(int((time.clock_gettime(time.CLOCK_BOOTTIME) - time.clock_gettime(time.CLOCK_MONOTONIC)) * 1000))')
	echo $((ready_us / 1000 + off_ms - start_ms))
}
serves() { case $(http_get client "http://$VIP/") in rs*) return 0 ;; *) return 1 ;; esac; }
export NOTIFY_SOCKET=$notify
VSR_WRAP="$T_DIR/asunit" vsrouted_start director "$conf" -s "$sock"
unset NOTIFY_SOCKET
pid=$(cat "$T_DIR/vsrouted-director.pid")
wait_for "READY=1 from the restarted daemon" 10 sh -c "[ \$(grep -c 'READY=1\$' '$T_DIR/notify.log') -ge 4 ]"
ms=$(ready_ms "$pid")
echo "# restart: READY=1 $ms ms after the daemon's fork"
# 2 s for the daemon as built; an instrumented one (ASan) gets 10 s.
case "$(vsrouted_bin) ${VSR_WRAP:-}" in *asan*|*valgrind*) limit=10000 ;; *) limit=2000 ;; esac
assert_true "the restarted unit is ready within $((limit / 1000)) s of its start ($ms ms)" \
	test "$ms" -gt 0 -a "$ms" -le "$limit"
assert_true "and serves" wait_for "the VIP to answer after the restart" 20 serves
assert_true "it undid what the killed one left, from the journal kept in the runtime directory" \
	grep -q 'undoing [0-9]* host changes left by an earlier instance' "$(vsrouted_log director)"

vsrouted_stop director
wait_for "STOPPING=1" 20 grep -q 'STOPPING=1$' "$T_DIR/notify.log"
assert_eq "STOPPING=1" "$(tail -n 1 "$T_DIR/notify.log" | cut -f 2)" "STOPPING=1 at the stop, last"
assert_false "the socket is removed from its runtime directory" test -e "$sock"
ns_snapshot director "$T_DIR/after"
if diff -u "$T_DIR/before" "$T_DIR/after" >"$T_DIR/diff"; then
	pass "director state identical to before start (undone without root)"
else
	cat "$T_DIR/diff"
	fail "director state differs from before start"
fi
