#!/usr/bin/env bash
# nat-workers.sh - workers = 2: both TAP queues carry traffic, and nat and
# fullnat flows whose directions reach different workers stay whole; a
# reload whose file is slow to come (a FIFO) holds up no worker
#
#        LAN lan0 10.10.0.0/24                LAN lan1 10.20.0.0/24
#   ==+=================+=====         =====+================+========
#     |                 |                   |                |
#   eth0 .1          eth0 .2             eth1 .1          eth0 .11, .12
#  +--------+     +---------------+                   +----------------+
#  | client |     |   director    |-------------------| rs1 (nat)      |
#  |  curl  |     | vsrouted      |                   | rs2 (fullnat)  |
#  +--------+     | vsr0: 2 queues|                   | nginx :80,     |
#                 | 2 workers     |                   | pushsrv :9000  |
#                 +---------------+                   +----------------+
#
#   VIP:80 nat -> rs1:80, VIP:81 fullnat -> rs2:80 (16 parallel downloads
#   each); VIP:9000 nat -> rs1:9000, VIP:9001 fullnat -> rs2:9000: the
#   server speaks first, after 7 s of silence, when the kernel has forgotten
#   which queue the flow was on: its data may come in on the other queue.
set -eu
. "$(dirname "$0")/lib.sh"
need_vsrouted
need_cmd python3 sha256sum

PAR=16
lvs_nat_seed 2
sum=$(blob_make 4)
for i in 1 2; do
	http_start "rs$i" "rs$i"
	bg_start "push-rs$i" "rs$i" python3 -u "$VSR_NETNS_DIR/pushsrv.py" serve 9000 7 "$T_DIR/www/blob"
	wait_for "pushsrv on rs$i" 10 grep -q '^ready' "$T_DIR/push-rs$i.log"
done

nat_workers_conf "$T_DIR/vsrouted.conf" "web-nat 80 tcp nat 1 80" "web-fn 81 tcp fullnat 2 80" \
	"push-nat 9000 tcp nat 1 9000" "push-fn 9001 tcp fullnat 2 9000"
vsrouted_start director "$T_DIR/vsrouted.conf"
assert_true "the TAP has two queues" \
	test "$(nsx director ls /sys/class/net/vsr0/queues | grep -c '^rx-')" -eq 2

# ---- many parallel flows, both modes at once
nsx client sh -c "for i in \$(seq $PAR); do
	curl -s -m 60 http://$VIP/blob | sha256sum &
	curl -s -m 60 http://$VIP:81/blob | sha256sum &
done; wait" >"$T_DIR/parallel"
assert_eq $((2 * PAR)) "$(count_of "$sum  -" "$T_DIR/parallel")" \
	"$((2 * PAR)) parallel 4 MB downloads (nat and fullnat) intact"

# ---- the server speaks first, after a silence
bg_start fetch-nat client python3 "$VSR_NETNS_DIR/pushsrv.py" fetch "$VIP" 9000 "$PAR"
fnat=$BG_PID
bg_start fetch-fn client python3 "$VSR_NETNS_DIR/pushsrv.py" fetch "$VIP" 9001 "$PAR"
ffn=$BG_PID
wait_for "the pushed transfers" 60 _t_not_running "$fnat" || true
wait_for "the pushed transfers" 60 _t_not_running "$ffn" || true
assert_eq "$PAR" "$(count_of "$sum" "$T_DIR/fetch-nat.log")" "$PAR nat transfers pushed after 7 s intact"
assert_eq "$PAR" "$(count_of "$sum" "$T_DIR/fetch-fn.log")" "$PAR fullnat transfers pushed after 7 s intact"

# ---- a reload reads its file outside the data-path lock: while the main
# thread waits for the file (a FIFO nobody writes yet), the workers forward
conf=$T_DIR/vsrouted.conf
log=$(vsrouted_log director)
cp "$conf" "$T_DIR/next.conf"
rm "$conf"
mkfifo "$conf"
kill -HUP "$(cat "$T_DIR/vsrouted-director.pid")"
wait_for "the reload to start" 10 grep -q "SIGHUP: reloading" "$log" || true
http_get_n client "http://$VIP/" 5 >"$T_DIR/during-reload"
# Whatever happened, give the reload its file.
cat "$T_DIR/next.conf" >"$conf"
assert_eq 5 "$(count_of rs1 "$T_DIR/during-reload")" \
	"5 new connections answered while the reload waits for its file"
assert_true "the reload ends once the file comes" \
	wait_for "the reload to end" 10 grep -q "reloaded:" "$log"
rm "$conf"
cp "$T_DIR/next.conf" "$conf"
assert_eq rs1 "$(http_get client "http://$VIP/")" "rs1 answers after the reload"

vsrouted_stats director >"$T_DIR/stats"
for w in 0 1; do
	assert_gt 100 "$(stat_get worker $w rx_packets)" "worker $w read frames from its queue"
	assert_gt 0 "$(stat_get worker $w conn_created)" "worker $w made connections"
done
assert_gt 0 "$(stat_get worker_crossed)" \
	"packets of flows made by the other worker were handled (and the transfers stayed whole)"
assert_eq "$((PAR + 6))" "$(stat_get vs web-nat conns)" "web-nat counted every connection"
assert_eq "$PAR" "$(stat_get vs push-fn conns)" "push-fn counted every connection"
assert_eq 0 "$(stat_get drop_no_conn_out)" "no reply without its connection"
assert_eq 0 "$(stat_get drop_no_conn)" "no client segment without its connection"
vsrouted_stop director
