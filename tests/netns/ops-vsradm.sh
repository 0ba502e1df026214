#!/usr/bin/env bash
# ops-vsradm.sh - vsradm over the control socket, with traffic: listings
# against golden files, runtime -a/-d/-A/-D/-e/-E carrying traffic, -a
# defaulting to -g on a service whose file says tun, the persistence
# templates exported (--persistent-conn), -S | -R round trip, --set/--timeout,
# -Z, ipvsadm's errors, and values that would smuggle a second request (in
# vsradm, in -R, and straight at the daemon's socket) refused
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
[ -x "${VSRADM:-$VSR_TOP/src/vsradm}" ] || skip "vsradm is not built"
need_cmd python3

lvs_dr_seed 3
for i in 1 2 3; do http_start "rs$i" "rs$i"; done
seed_conf "$T_DIR/vsrouted.conf" 2 rr "conn_max = 4096"
# A second service whose real servers default to tun in the file: vsradm -a
# without -g/-i/-m still means -g there, as in ipvsadm.
cat >>"$T_DIR/vsrouted.conf" <<EOF
virtual_server tunnelled {
    address = $VIP
    port = 8080
    protocol = tcp
    scheduler = wlc
    forward = tun
}
EOF
vsrouted_start director "$T_DIR/vsrouted.conf"

# ---- listings in ipvsadm's layout
vsradm -Ln >"$T_DIR/Ln"
golden_check vsradm-Ln "$T_DIR/Ln"
vsradm -L -n --stats >"$T_DIR/stats0"
golden_check vsradm-stats-zero "$T_DIR/stats0"

http_get_n client "http://$VIP/" 10 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "10 requests answered"
# The listing below shows each connection in FIN_WAIT: the last one's FIN
# leaves the client as curl ends, and the daemon (a worker, with two) may
# take it a moment after the next command asks for the list.
fin_waits() { vsradm -Lnc | grep -c ' FIN_WAIT ' || true; }
count_wait 10 fin_waits >/dev/null
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

# ---- runtime -a: rs3 takes its share; -e replaces; -d: it takes no more
vsradm -a -t "$VIP:80" -r 10.10.0.13 -g -w 1
assert_eq "  -> 10.10.0.13:80                Route   1      0          0" \
	"$(vsradm -Ln | grep 10.10.0.13 | sed 's/ *$//')" "-a adds rs3, listed as Route"
http_get_n client "http://$VIP/" 30 >"$T_DIR/answers"
assert_eq 0 "$(count_of ERR "$T_DIR/answers")" "30 requests answered after -a"
assert_eq 10 "$(count_of rs3 "$T_DIR/answers")" "rs3 served its third after -a"
vsradm -e -t "$VIP:80" -r 10.10.0.13 -w 3 -x 100 -y 50
assert_eq "-a -t $VIP:80 -r 10.10.0.13:80 -g -w 3" \
	"$(vsradm -S -n | grep 10.10.0.13)" "-e changes the weight; -S saves no thresholds, as ipvsadm"
thresholds() { vsradm -Ln --thresholds | awk '$2 == "10.10.0.13:80" { print $3, $4 }'; }
assert_eq "100 50" "$(thresholds)" "--thresholds shows them"
vsradm -e -t "$VIP:80" -r 10.10.0.13
assert_eq "0 0" "$(thresholds)" \
	"-e without -x/-y puts the thresholds back to 0 (it replaces, as ipvsadm)"
assert_eq "-a -t $VIP:80 -r 10.10.0.13:80 -g -w 1" \
	"$(vsradm -S -n | grep 10.10.0.13)" "and the weight back to 1"
vsradm -d -t "$VIP:80" -r 10.10.0.13:80
http_get_n client "http://$VIP/" 20 >"$T_DIR/answers"
assert_eq 0 "$(count_of rs3 "$T_DIR/answers")" "rs3 gets nothing after -d"
assert_eq 20 "$(($(count_of rs1 "$T_DIR/answers") + $(count_of rs2 "$T_DIR/answers")))" \
	"rs1 and rs2 serve all 20 after -d"

# ---- -a without a method is -g, whatever the file's forward says
vsradm -a -t "$VIP:8080" -r 10.10.0.13
assert_eq "  -> 10.10.0.13:8080              Route   1      0          0" \
	"$(vsradm -Ln | grep 10.10.0.13 | sed 's/ *$//')" "-a defaults to -g on a tun service"
vsradm -e -t "$VIP:8080" -r 10.10.0.13 -i
assert_eq "  -> 10.10.0.13:8080              Tunnel  ipip          1      0          0" \
	"$(vsradm -Ln --tun-info | grep 10.10.0.13 | sed 's/ *$//')" "-e -i makes it a tunnel"
vsradm -D -t "$VIP:8080"

# ---- ipvsadm's errors and statuses
err_is() {  # err_is STATUS MESSAGE ARGS...
	local st=$1 msg=$2 rc=0 what
	shift 2
	what="vsradm $*"
	what=${what//$'\n'/\\n}
	vsradm "$@" 2>"$T_DIR/err" >/dev/null || rc=$?
	assert_eq "$st" "$rc" "$what exits $st"
	assert_eq "$msg" "$(head -n 1 "$T_DIR/err")" "$what says so"
}
err_is 255 "Service already exists" -A -t "$VIP:80" -s rr
err_is 255 "No such destination" -d -t "$VIP:80" -r 10.10.0.99:80
err_is 255 "Destination already exists" -a -t "$VIP:80" -r 10.10.0.11:80
err_is 255 "No such service" -D -t "$VIP:81"
err_is 255 "Service not defined" -a -t "$VIP:81" -r 10.10.0.11:81
err_is 255 "Scheduler or persistence engine not found" -E -t "$VIP:80" -s nosuch
err_is 1 "No such service" -L -n -t "$VIP:81"
err_is 2 "Illegal 'service-address' option with the 'flush' command" -C -t "$VIP:80"

# ---- values that would carry a second request: refused, nothing changes
vsradm -S -n >"$T_DIR/before"
err_is 2 "illegal weight specified" -e -t "$VIP:80" -r 10.10.0.11 -w $'1\nclear'
err_is 255 "Scheduler or persistence engine not found" -E -t "$VIP:80" -s $'rr\nclear'
assert_true "the table is as it was" cmp "$T_DIR/before" <(vsradm -S -n)
printf -- '-A -t %s:90 -s rr\n-A -t %s:91 -s rr -b %s\n-A -t %s:92 -s rr\n' \
	"$VIP" "$VIP" "$(head -c 1100 /dev/zero | tr '\0' x)" "$VIP" >"$T_DIR/long"
rc=0
vsradm -R <"$T_DIR/long" 2>"$T_DIR/err" || rc=$?
assert_eq 2 "$rc" "-R stops at an overlong line, status 2"
assert_eq "vsradm: line 2 is longer than 1023 bytes" \
	"$(sed 's|^.*/vsradm|vsradm|; s|^.*vsradm-asan|vsradm|' "$T_DIR/err")" "-R names the overlong line"
assert_eq "TCP  $VIP:90 rr" "$(vsradm -Ln | grep ":90 ")" "the line before it was restored"
assert_eq 0 "$(vsradm -Ln | grep -c ':9[12] ' || true)" "nothing of it or after it"
vsradm -D -t "$VIP:90"

# Straight at the socket: a control character refuses the whole line, a
# value must be there, and the connection goes on serving.
cat >"$T_DIR/raw.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for req in sys.argv[2:]:
    f.write(req.encode("latin-1").decode("unicode_escape").encode("latin-1") + b"\n")
    f.flush()
    while True:
        line = f.readline().decode().rstrip("\n")
        if line == "ok" or line.startswith("err ") or line == "":
            print(line)
            break
EOF
raw() { python3 "$T_DIR/raw.py" "$(vsrouted_sock)" "$@"; }
out=$(raw 'dest-edit tcp 10.10.0.100:80 10.10.0.11:80 weight=1\x01clear' \
	'svc-add tcp 10.10.0.100:93 sched=r\tr' 'svc-add tcp 10.10.0.100:93 sched=' \
	'svc-add tcp 10.10.0.100:93 sched=rr sched=wlc' 'svc-add tcp 10.10.0.100:93 bogus=1' \
	'dest-edit tcp 10.10.0.100:80 10.10.0.11:80 weight=65536' 'nosuch' 'timeout')
assert_eq "err request with a control character refused
err request with a control character refused
err option 'sched' without a value
err option 'sched' given twice
err unknown option 'bogus' for svc-add
err option 'weight': a number from 0 to 65535, not '65536'
err unknown request 'nosuch'
ok" "$out" "the daemon refuses each bad line and answers the next"
assert_true "the table is as it was after them" cmp "$T_DIR/before" <(vsradm -S -n)

# ---- a new VIP at run time: routed and proxied, persistent, then gone with -D
VIP2=10.10.0.101
rs_dr_setup rs1 "$VIP2"
vsradm -A -t "$VIP2:80" -s wlc -p 60 -M 255.255.255.0
vsradm -a -t "$VIP2:80" -r 10.10.0.11
assert_true "$VIP2 routed into the TAP" \
	sh -c "ip -n $(nsname director) route show $VIP2/32 | grep -q vsr0"
assert_eq rs1 "$(http_get client "http://$VIP2/")" "the new VIP answers"
assert_eq "TCP  $VIP2:80 wlc persistent 60 mask 255.255.255.0" \
	"$(vsradm -Ln | grep "$VIP2")" "persistent service listed as ipvsadm does"
pconn() { vsradm -Ln --persistent-conn -t "$VIP2:80" | grep 10.10.0.11 | sed 's/ *$//'; }
pc_want="  -> 10.10.0.11:80                1         1           0          1"
# inactive once the connection's FIN is seen (as above, a moment after curl)
pc_is_want() { [ "$(pconn)" = "$pc_want" ]; }
wait_for "the connection to be inactive" 20 pc_is_want || true
assert_eq "$pc_want" "$(pconn)" "--persistent-conn: the template the connection made (PersistConn 1)"
vsradm -E -t "$VIP2:80"
assert_eq "TCP  $VIP2:80 wlc" "$(vsradm -Ln | grep "$VIP2")" \
	"-E without -p turns persistence off (it replaces, as ipvsadm)"
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
assert_eq "-a -t $VIP:80 -r 10.10.0.13:80 -i -w 0 --tun-type gre --tun-nocsum" \
	"$(vsradm -S -n | grep 10.10.0.13)" "--tun-type gre is kept and saved as ipvsadm saves it"
vsradm -S -n >"$T_DIR/save3"
vsradm -C
vsradm -R <"$T_DIR/save3"
assert_true "-S | -R round-trips --tun-type" cmp "$T_DIR/save3" <(vsradm -S -n)
assert_eq 1 "$(vsradm -Ln | grep -c '10.10.0.13:80 *Tunnel')" "-Ln shows it as Tunnel"

assert_true "vsrouted still runs" vsrouted_alive director
vsrouted_stop director
assert_false "the control socket is removed at exit" test -e "$(vsrouted_sock director)"
