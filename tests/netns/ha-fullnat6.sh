#!/usr/bin/env bash
# ha-fullnat6.sh - two directors over IPv6: fullnat, keepalived's VRRP
# (etc/keepalived-vsrouted.conf) and connection sync carrying IPv6 entries
# (with fullnat's local address) in IPv4 datagrams, as the kernel does.
# The master keeps proxy NDP entries for VIP6 (clients' side) and the
# IPv6 local address (real servers' side); the backup none. The master is
# killed (kill -9 of keepalived and vsrouted) under a request loop and 8
# paced downloads over IPv6: every download completes intact, the loop's
# longest gap is under 3 s, the survivor announces VIP6 (proxy NDP,
# unsolicited advertisements); tshark reads IPv6 entries in the messages;
# the old master comes back as backup. Topology: lib.sh's lvs_ha_seed with
# HA_V6=1. With HA_SYNC_GROUP=ff02::81 (run.sh's [sync6] variant) the
# messages themselves go over IPv6 multicast.
set -eu
. "$(dirname "$0")/lib.sh"
need_cmd keepalived tshark
HA_V6=1
HA_FAMILY=6
T_KA_ADVERT=${T_KA_ADVERT:-}

_t_proxy6() { ip -n "$(nsname "$1")" -6 neigh show proxy | grep -qi "^$2 dev $3"; }

ha_start fullnat
sha=$(blob_make "$HA_BLOB_MB")
assert_eq "master backup" "$(ha_role dir1) $(ha_role dir2)" "keepalived made dir1 master, dir2 backup"
assert_true "the master answers for VIP6 on eth0 (proxy NDP)" _t_proxy6 dir1 "$VIP6" eth0
assert_true "and for the IPv6 local address on eth1" _t_proxy6 dir1 "$HA_LIP6" eth1
assert_false "the backup for neither" sh -c "ip -n $(nsname dir2) -6 neigh show proxy | grep -q ."
ha_requests_ok 6

vsrouted_stats dir2 >/dev/null
na0=$(stat_get na_sent)
echo "# dir1 killed (kill -9 of keepalived and vsrouted) under load over IPv6"
ha_capture_start dir2 eth1
ha_failover kill dir1 dir2 "$sha"
ha_capture_stop

# tshark 4.0 reads no option (see ha_capture_check): each message's first entry.
# From dir1's eth1: by its MAC, whichever family carries the messages.
dec=(tshark -n -r "$T_DIR/sync.pcap" -d udp.port==8848,ipvs -Y "ipvs && eth.src == $(ns_mac dir1 eth1)")
n=$("${dec[@]}" 2>/dev/null | wc -l)
assert_gt 0 "$n" "tshark decodes sync messages from dir1 ($n)"
if [ -n "${HA_SYNC_GROUP:-}" ]; then
	to="ipv6.dst == $HA_SYNC_GROUP && ipv6.hlim == 1"
else
	to="ip.dst == 224.0.0.81 && ip.ttl == 1"
fi
m=$(tshark -n -r "$T_DIR/sync.pcap" -d udp.port==8848,ipvs \
	-Y "ipvs && eth.src == $(ns_mac dir1 eth1) && $to" 2>/dev/null | wc -l)
assert_eq "$n" "$m" "every one to ${HA_SYNC_GROUP:-224.0.0.81}, hop limit 1"
ok=$("${dec[@]}" -T fields -E separator=' ' -e ipvs.type -e ipvs.proto -e ipvs.caddr6 \
	-e ipvs.vaddr6 -e ipvs.vport -e ipvs.daddr6 2>/dev/null |
	awk -v vip="$VIP6" '{ split($1, t, ","); split($2, p, ","); split($3, c, ",")
		split($4, v, ","); split($5, vp, ","); split($6, d, ",")
		if (t[1] == 2 && p[1] == 6 && c[1] == "2001:db8:10::1" && v[1] == vip && vp[1] == 80 &&
		    d[1] ~ /^2001:db8:20::1[123]$/) n++ }
		END { print n + 0 }')
assert_eq "$n" "$ok" "each message's first entry is IPv6 (type 2): the client's to [$VIP6]:80 on a real server"

vsrouted_stats dir2 >/dev/null
assert_gt "$na0" "$(stat_get na_sent)" "dir2, master, sent unsolicited neighbour advertisements"
assert_true "dir2 answers for VIP6 on eth0 now" _t_proxy6 dir2 "$VIP6" eth0
assert_true "and for the IPv6 local address on eth1" _t_proxy6 dir2 "$HA_LIP6" eth1
assert_gt 0 "$(stat_get sync_rx_conns)" "dir2 applied synced connections"
assert_eq 0 "$(stat_get sync_rx_refused)" "dir2 refused no sync message"
assert_eq 0 "$(stat_get sync_rx_no_dest)" "dir2 found every entry's real server"

ha_comeback_killed dir1 dir2
ha_requests_ok 6
assert_false "dir1, backup again, answers for nothing" \
	sh -c "ip -n $(nsname dir1) -6 neigh show proxy | grep -q ."
vsrouted_stop dir1
vsrouted_stop dir2
