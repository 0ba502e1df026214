#!/usr/bin/env bash
# ops-vsradm.sh - vsradm over the control socket: listings against golden
# files, runtime -a/-d/-A/-D changes carrying traffic, -S | -R round trip,
# --set/--timeout, -Z, and ipvsadm's errors
#
#                         LAN lan0 (bridge)
#   +--------------+--------------+--------------+--------------+
#   | 10.10.0.1    | 10.10.0.2    | 10.10.0.11   | 10.10.0.12   | 10.10.0.13
# client       director         rs1            rs2            rs3
#  curl     vsrouted (rr)     nginx          nginx          nginx
#           ctl socket in     VIP on lo      VIP on lo      VIP on lo
#           $T_DIR <- vsradm                                (added by vsradm -a)
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
[ -x "$VSR_TOP/src/vsradm" ] || skip "src/vsradm is not built"

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
seed_conf "$T_DIR/vsrouted.conf" 2 rr "conn_max = 4096"
vsrouted_start director "$T_DIR/vsrouted.conf"

# ---- listings in ipvsadm's layout
vsradm -Ln >"$T_DIR/Ln"
golden_check vsradm-Ln "$T_DIR/Ln"
vsradm -L -n --stats >"$T_DIR/stats0"
golden_check vsradm-stats-zero "$T_DIR/stats0"

http_get_n client "http://$VIP/" 10 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "10 requests answered"
# Packets and bytes depend on the TCP exchange: the layout and the
# connection counts are compared, the other numbers masked.
vsradm -Ln --stats --exact | sed -E 's/( +[0-9]+){4}$/  (packets and bytes)/' >"$T_DIR/stats"
golden_check vsradm-stats "$T_DIR/stats"
vsradm -Lnc | sed -E 's/^([A-Z]+ +)[0-9]{2}:[0-9]{2}/\1MM:SS/; s/10\.10\.0\.1:[0-9]+ /10.10.0.1:CPORT /' \
	| awk 'NR <= 2 { print; next } { print | "sort" }' >"$T_DIR/conns"
golden_check vsradm-c "$T_DIR/conns"
assert_eq 12 "$(grep -c . "$T_DIR/conns")" "-c lists the 10 connections under its 2 header lines"
vsradm -S -n >"$T_DIR/save"
golden_check vsradm-S "$T_DIR/save"

# ---- runtime -a: rs3 takes its share; -d: it takes no more
vsradm -a -t "$VIP:80" -r 10.10.0.13 -g -w 1
assert_eq "  -> 10.10.0.13:80                Route   1      0          0" \
	"$(vsradm -Ln | grep 10.10.0.13 | sed 's/ *$//')" "-a adds rs3, listed as Route"
http_get_n client "http://$VIP/" 30 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "30 requests answered after -a"
assert_eq 10 "$(count_of rs3 "$T_DIR/answers")" "rs3 served its third after -a"
vsradm -e -t "$VIP:80" -r 10.10.0.13 -w 3 -x 100 -y 50
assert_eq "-a -t $VIP:80 -r 10.10.0.13:80 -g -w 3 -x 100 -y 50" \
	"$(vsradm -S -n | grep 10.10.0.13)" "-e changes weight and thresholds"
vsradm -d -t "$VIP:80" -r 10.10.0.13:80
http_get_n client "http://$VIP/" 20 >"$T_DIR/answers"
assert_eq 0 "$(count_of rs3 "$T_DIR/answers")" "rs3 gets nothing after -d"
assert_eq 20 "$(($(count_of rs1 "$T_DIR/answers") + $(count_of rs2 "$T_DIR/answers")))" \
	"rs1 and rs2 serve all 20 after -d"

# ---- ipvsadm's errors, non-zero exit
err_is() {  # err_is MESSAGE ARGS...
	local msg=$1 rc=0
	shift
	vsradm "$@" 2>"$T_DIR/err" >/dev/null || rc=$?
	assert_ne 0 "$rc" "vsradm $* fails"
	assert_eq "$msg" "$(head -n 1 "$T_DIR/err")" "vsradm $* says so"
}
err_is "Service already exists" -A -t "$VIP:80" -s rr
err_is "No such destination" -d -t "$VIP:80" -r 10.10.0.99:80
err_is "Destination already exists" -a -t "$VIP:80" -r 10.10.0.11:80
err_is "No such service" -D -t "$VIP:81"
err_is "Service not defined" -a -t "$VIP:81" -r 10.10.0.11:81
err_is "Scheduler not found: nosuch" -E -t "$VIP:80" -s nosuch

# ---- a new VIP at run time: routed and proxied, then gone with -D
VIP2=10.10.0.101
rs_dr_setup rs1 "$VIP2"
vsradm -A -t "$VIP2:80" -s wlc -p 60 -M 255.255.255.0
vsradm -a -t "$VIP2:80" -r 10.10.0.11
assert_true "$VIP2 routed into the TAP" \
	sh -c "ip -n $(nsname director) route show $VIP2/32 | grep -q vsr0"
assert_eq rs1 "$(http_get client "http://$VIP2/")" "the new VIP answers"
assert_eq "TCP  $VIP2:80 wlc persistent 60 mask 255.255.255.0" \
	"$(vsradm -Ln | grep "$VIP2")" "persistent service listed as ipvsadm does"
vsradm -D -t "$VIP2:80"
assert_false "$VIP2 route gone after -D" \
	sh -c "ip -n $(nsname director) route show $VIP2/32 | grep -q ."
assert_false "$VIP2 proxy entry gone after -D" \
	sh -c "ip -n $(nsname director) neigh show proxy | grep -q '^$VIP2 '"

# ---- -S | -C | -R round trip
vsradm -S -n >"$T_DIR/save1"
vsradm -C
assert_eq 3 "$(vsradm -Ln | grep -c .)" "-C leaves only the header"
vsradm -R <"$T_DIR/save1"
vsradm -S -n >"$T_DIR/save2"
assert_true "-S | -R round-trips exactly" cmp "$T_DIR/save1" "$T_DIR/save2"
http_get_n client "http://$VIP/" 4 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "the restored service answers"

# ---- timeouts and zeroing
assert_eq "Timeout (tcp tcpfin udp): 900 120 300" "$(vsradm -L --timeout)" "--timeout"
vsradm --set 600 0 30
assert_eq "Timeout (tcp tcpfin udp): 600 120 30" "$(vsradm -L --timeout)" "--set (0 keeps a value)"
vsradm -Z
assert_eq 0 "$(vsradm -Ln --stats --exact | awk 'NR > 3 { s += $3 + $4 + $5 + $6 + $7 } END { print s + 0 }')" \
	"-Z zeroes every counter"

# ---- every IPVS scheduler is accepted by -E -s, and shown by -Ln
for sc in rr wrr lc wlc sed nq dh sh lblc lblcr mh fo ovf twos; do
	vsradm -E -t "$VIP:80" -s "$sc"
	assert_eq "TCP  $VIP:80 $sc" "$(vsradm -Ln | grep "^TCP  $VIP:80 ")" "vsradm -s $sc"
done
assert_false "an unknown scheduler is refused" vsradm -E -t "$VIP:80" -s fastest
vsradm -E -t "$VIP:80" -s rr

# ---- a tunnel real server with its encapsulation, saved and read back
vsradm -a -t "$VIP:80" -r 10.10.0.13 -i --tun-type gre -w 0
assert_eq "-a -t $VIP:80 -r 10.10.0.13:80 -i -w 0 --tun-type gre" \
	"$(vsradm -S -n | grep 10.10.0.13)" "--tun-type gre is kept and saved"
vsradm -S -n >"$T_DIR/save3"
vsradm -C
vsradm -R <"$T_DIR/save3"
assert_true "-S | -R round-trips --tun-type" cmp "$T_DIR/save3" <(vsradm -S -n)
assert_eq 1 "$(vsradm -Ln | grep -c '10.10.0.13:80 *Tunnel')" "-Ln shows it as Tunnel"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
assert_false "the control socket is removed at exit" test -e "$(vsrouted_sock director)"
