/* test_nexthop.c - next hops from the kernel's routes and neighbours, kept fresh by the monitor */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sched.h>    /* CLONE_NEWNET; <sched.h> is shadowed by src/sched.h under -Isrc */
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conn.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "nexthop.h"
#include "unit.h"

/*
 * In a private network namespace, as root (skipped otherwise):
 *
 *   veth0 10.99.0.1/24 ===== veth1 (up, no address)
 *     10.99.0.2 02:00:00:00:00:02  a real server on the link (permanent entry)
 *     10.99.0.3 02:00:00:00:00:03  a router: 10.98.0.0/24 via 10.99.0.3
 *   vtap (a dummy standing in for the TAP): 10.97.0.0/24 dev vtap
 *
 * The kernel's tables are changed with ip(8), as an operator or a
 * routing daemon would, and the module must follow through its monitor.
 */

/* conn.c (for conn_clock) drops dest references, which this test never takes. */
struct dest;
void dest_put(struct dest *d);
void
dest_put(struct dest *d)
{
	(void)d;
}

static int
sh(const char *cmd)
{
	return system(cmd);
}

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* Read the monitor until COND holds or three seconds have passed. */
#define SETTLE(cond) __extension__ ({                                        \
	int ok_ = 0;                                                        \
	for (int i_ = 0; i_ < 300 && !(ok_ = !!(cond)); i_++) {             \
		usleep(10000);                                              \
		nh_monitor_run();                                           \
	}                                                                   \
	ok_;                                                                \
})

/* An address argument, of either family. */
#define P4(s)  (&(union vsr_addr){ .ip = ip4(s) })
#define P6(s)  __extension__ ({ static union vsr_addr a_; inet_pton(AF_INET6, s, &a_); &a_; })

static uint32_t now = 1000;

static int
mac_is(struct nexthop *nh, uint8_t last)
{
	struct nh_view v;

	return nh_read(nh, &v, now) == 0 && v.mac[0] == 0x02 && v.mac[5] == last;
}

/* An ARP request for TARGET seen leaving veth0 within a second. */
static int
arp_seen(int fd, uint32_t target)
{
	uint8_t b[128];

	for (int i = 0; i < 100; i++) {
		ssize_t n;
		while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) >= 42)
			if (b[12] == 0x08 && b[13] == 0x06 && b[21] == 1 && memcmp(b + 38, &target, 4) == 0)
				return 1;
		usleep(10000);
	}
	return 0;
}

/* The ICMPv6 sum of the IPv6 frame B (an Ethernet header first) holds. */
static int
icmp6_sum_ok(const uint8_t *b, size_t n)
{
	uint32_t sum = 58, plen = (uint32_t)b[18] << 8 | b[19];

	if (14 + 40 + plen > n)
		return 0;
	sum += plen;
	for (size_t i = 22; i < 54; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	for (size_t i = 0; i < plen; i += 2)
		sum += (uint32_t)b[54 + i] << 8 | (i + 1 < plen ? b[54 + i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * A neighbour solicitation for TARGET seen leaving veth0 within a second;
 * with MAC, one sent to that MAC and to TARGET itself (unicast), its sum
 * right.
 */
static int
ns_seen(int fd, const union vsr_addr *target, const uint8_t *mac)
{
	uint8_t b[256];

	for (int i = 0; i < 100; i++) {
		ssize_t n;
		while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) >= 14 + 40 + 24) {
			if (b[12] != 0x86 || b[13] != 0xdd || b[20] != 58 || b[54] != 135 ||
			    memcmp(b + 62, target, 16) != 0)
				continue;
			if (mac == NULL)
				return 1;
			if (memcmp(b, mac, 6) == 0 && memcmp(b + 38, target, 16) == 0 &&
			    icmp6_sum_ok(b, (size_t)n))
				return 1;
		}
		usleep(10000);
	}
	return 0;
}

int
main(void)
{
	struct nexthop *rs, *far, *tap, *none, *c, *c2;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct nh_view v;
	union vsr_addr vip = { .ip = ip4("10.96.0.1") };
	int veth0, vtap, watch;

	if (geteuid() != 0) {
		printf("skip: needs root\n");
		return 77;
	}
	if (syscall(SYS_unshare, CLONE_NEWNET) < 0) {
		printf("skip: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	log_init("test_nexthop", 1, getenv("NH_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARNING);
	if (sh("sysctl -qw net.ipv6.conf.default.accept_dad=0 && "
	    "ip link add veth0 type veth peer name veth1 && ip link set veth1 up && "
	    "ip link set veth0 up && ip addr add 10.99.0.1/24 dev veth0 && "
	    "ip neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 nud permanent dev veth0 && "
	    "ip neigh add 10.99.0.3 lladdr 02:00:00:00:00:03 nud permanent dev veth0 && "
	    "ip route add 10.98.0.0/24 via 10.99.0.3 && "
	    "ip link add vtap type veth peer name vtap1 && ip link set vtap1 up && ip link set vtap up && "
	    "ip route add 10.97.0.0/24 dev vtap && ip route add 10.96.0.0/24 dev vtap && "
	    "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 "
	    "net.ipv4.conf.vtap.rp_filter=0 net.ipv4.neigh.veth0.delay_first_probe_time=1 "
	    "net.ipv4.neigh.veth0.retrans_time_ms=100 net.ipv4.neigh.veth0.ucast_solicit=1 "
	    "net.ipv4.neigh.veth0.mcast_solicit=1") != 0) {
		printf("not ok - set up the namespace\n");
		return 1;
	}
	veth0 = (int)if_nametoindex("veth0");
	vtap = (int)if_nametoindex("vtap");
	watch = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sll.sll_ifindex = veth0;
	if (!CHECK(nl_init() == 0, "nl_init") ||
	    !CHECK(watch >= 0 && bind(watch, (struct sockaddr *)&sll, sizeof(sll)) == 0,
	    "a packet socket watches ARP on veth0") ||
	    !CHECK(nh_init(NULL, vtap) == 0, "nh_init: the monitor is open"))
		return unit_done();

	UNIT_SECTION("real servers: resolved when bound");
	rs = nh_get(AF_INET, P4("10.99.0.2"));
	far = nh_get(AF_INET, P4("10.98.0.5"));
	tap = nh_get(AF_INET, P4("10.97.0.1"));
	none = nh_get(AF_INET, P4("10.99.0.7"));
	CHECK(rs != NULL && far != NULL && tap != NULL && none != NULL, "nh_get hands out entries");
	if (rs == NULL || far == NULL || tap == NULL || none == NULL)
		return unit_done();
	CHECK(nh_read(rs, &v, now) == 0 && v.link != NULL && v.link->ifindex == veth0 &&
	    v.mtu == 1500 && mac_is(rs, 0x02),
	    "on the link: out of veth0, MTU 1500, the neighbour's own MAC");
	CHECK(mac_is(far, 0x03) && far->via.ip == ip4("10.99.0.3"),
	    "behind a router: the router's MAC");
	CHECK(nh_read(tap, &v, now) < 0, "routed into the TAP: no next hop of ours");
	CHECK(nh_read(none, &v, now) < 0, "no neighbour entry yet: not usable");
	CHECK(arp_seen(watch, ip4("10.99.0.7")),
	    "... and the kernel was made to resolve it (an ARP request left veth0)");
	CHECK(nh_get(AF_INET, P4("10.99.0.2")) == rs && rs->refs == 2, "the same real server: the same entry");
	nh_put(rs);

	UNIT_SECTION("neighbours change: the monitor follows");
	sh("ip neigh replace 10.99.0.2 lladdr 02:00:00:00:00:22 nud permanent dev veth0");
	CHECK(SETTLE(mac_is(rs, 0x22)), "a new MAC for the real server is used at once");
	sh("ip neigh replace 10.99.0.7 lladdr 02:00:00:00:00:07 nud reachable dev veth0");
	CHECK(SETTLE(mac_is(none, 0x07)), "the neighbour that was missing is usable once known");
	sh("ip neigh del 10.99.0.3 dev veth0");
	CHECK(SETTLE(nh_read(far, &v, now) < 0), "the router's entry deleted: not usable");

	if (getenv("NH_DEBUG"))
		sh("ip neigh show");
	UNIT_SECTION("routes change: real servers resolved again");
	sh("ip neigh add 10.99.0.4 lladdr 02:00:00:00:00:04 nud permanent dev veth0 && "
	    "ip route replace 10.98.0.0/24 via 10.99.0.4");
	nh_monitor_run();
	if (getenv("NH_DEBUG"))
		sh("ip neigh show");
	CHECK(SETTLE((nh_tick(now), mac_is(far, 0x04))) && far->via.ip == ip4("10.99.0.4"),
	    "another router for the real server's network: its MAC");
	sh("ip route replace 10.98.0.0/24 dev vtap");
	CHECK(SETTLE((nh_tick(now), nh_read(far, &v, now) < 0)),
	    "the real server's network moved into the TAP: no next hop");
	sh("ip route replace 10.98.0.0/24 via 10.99.0.4");
	CHECK(SETTLE((nh_tick(now), mac_is(far, 0x04))), "and back");

	UNIT_SECTION("clients: asked for by workers, answered by the main thread");
	const struct nh_stats *st = nh_stats();
	uint64_t q0 = st->client_queued;
	CHECK(nh_client(AF_INET, P4("10.98.0.9"), &vip, 0) == NULL, "a new client: a miss");
	CHECK(nh_client(AF_INET, P4("10.98.0.9"), &vip, 1) == NULL, "still pending: a miss");
	CHECK_EQ(st->client_queued - q0, 1, "asked once, whatever the packets");
	nh_tick(now);
	c = nh_client(AF_INET, P4("10.98.0.9"), &vip, 0);
	CHECK(c != NULL && mac_is(c, 0x04), "resolved: the router toward the client");
	c2 = (nh_client(AF_INET, P4("10.98.0.10"), &vip, 0), nh_tick(now), nh_client(AF_INET, P4("10.98.0.10"), &vip, 0));
	CHECK(c2 == c, "another client behind the same router: the same entry");
	CHECK(c != far, "not the real server's entry, though the same router");
	CHECK(nh_client(AF_INET, P4("10.99.0.2"), &vip, 0) == NULL && (nh_tick(now), 1) &&
	    nh_client(AF_INET, P4("10.99.0.2"), &vip, 0) != NULL && mac_is(nh_client(AF_INET, P4("10.99.0.2"), &vip, 0),
	    0x22), "a client on the link: its own MAC");
	(void)nh_client(AF_INET, P4("10.97.0.5"), &vip, 0);
	nh_tick(now);
	q0 = st->client_queued;
	CHECK(nh_client(AF_INET, P4("10.97.0.5"), &vip, 0) == NULL && st->client_queued == q0,
	    "a client routed into the TAP: the TAP, and not asked again");
	struct nexthop *wn;
	CHECK(nh_client_way(AF_INET, P4("10.97.0.5"), &vip, 0, &wn) == NH_WAY_TAP && wn == NULL,
	    "routed into the TAP: told apart (a frame written there would come back)");
	CHECK(nh_client_way(AF_INET, P4("10.98.0.9"), &vip, 0, &wn) == NH_WAY_DIRECT && wn == c,
	    "resolved: its entry");
	CHECK(nh_client_way(AF_INET, P4("198.51.100.7"), &vip, 0, &wn) == NH_WAY_UNKNOWN,
	    "not answered yet: unknown");
	nh_tick(now);
	CHECK(nh_client_way(AF_INET, P4("198.51.100.7"), &vip, 0, &wn) == NH_WAY_KERNEL && wn == NULL,
	    "no route at all: the kernel's to answer");
	sh("ip route add 10.95.0.0/24 via 10.99.0.2");
	CHECK(SETTLE(nh_client(AF_INET, P4("10.98.0.9"), &vip, 0) == NULL),
	    "a route changed: clients are resolved again");
	nh_tick(now);
	CHECK(nh_client(AF_INET, P4("10.98.0.9"), &vip, 0) == c, "... to the same entry");
	for (unsigned i = 0; i < 100; i++)
		(void)nh_client(AF_INET, &(union vsr_addr){ .ip = htonl(0x0a5e0000u + i) }, &vip, 2);
	CHECK(st->client_dropped > 0, "a worker's full queue drops requests (counted)");
	nh_tick(now);

	UNIT_SECTION("in use: checked against the kernel's table, stale ones confirmed");
	uint64_t t0 = st->touched;
	sh("ip neigh replace 10.99.0.7 lladdr 02:00:00:00:00:77 nud stale dev veth0");
	CHECK(SETTLE(mac_is(none, 0x77)), "a neighbour's MAC changed (stale): followed");
	now += NH_TOUCH_S * CONN_HZ;
	CHECK(nh_read(none, &v, now) == 0 && none->used == now, "a read marks the entry used");
	nh_tick(now);
	CHECK(st->touched > t0, "the next check after NH_TOUCH_S looks at the entries in use");
	CHECK(arp_seen(watch, ip4("10.99.0.7")) , "a stale neighbour in use: an ARP request to it");
	for (unsigned k = 0; k < NH_UNANSWERED; k++) {
		now += NH_TOUCH_S * CONN_HZ;
		(void)nh_read(none, &v, now);
		nh_tick(now);
	}
	/* The kernel confirms it (DELAY, PROBE: shortened above), in vain: FAILED. */
	CHECK(SETTLE(nh_read(none, &v, now) < 0),
	    "unanswered: the kernel confirms it, in vain, and then it is not used");
	if (getenv("NH_DEBUG"))
		sh("ip neigh show");
	CHECK(mac_is(rs, 0x22), "a permanent entry is left as it is");

	UNIT_SECTION("IPv6: the same, by neighbour discovery");
	struct nexthop *rs6, *far6, *none6, *c6;
	union vsr_addr vip6 = *P6("2001:db8:96::1");
	static const uint8_t mac77[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	if (!CHECK(sh("ip -6 addr add 2001:db8:99::1/64 dev veth0 nodad && "
	    "ip -6 neigh add 2001:db8:99::2 lladdr 02:00:00:00:00:62 nud permanent dev veth0 && "
	    "ip -6 neigh add fe80::3 lladdr 02:00:00:00:00:63 nud permanent dev veth0 && "
	    "ip -6 route add 2001:db8:98::/64 via fe80::3 dev veth0 && "
	    "ip -6 route add 2001:db8:97::/64 dev vtap && ip -6 route add 2001:db8:96::/64 dev vtap && "
	    "sysctl -qw net.ipv6.conf.all.forwarding=1 "
	    "net.ipv6.neigh.veth0.delay_first_probe_time=1 net.ipv6.neigh.veth0.retrans_time_ms=100 "
	    "net.ipv6.neigh.veth0.ucast_solicit=1 net.ipv6.neigh.veth0.mcast_solicit=1") == 0,
	    "IPv6 on veth0: a real server, a router at a link-local address"))
		return unit_done();
	nh_monitor_run();
	rs6 = nh_get(AF_INET6, P6("2001:db8:99::2"));
	far6 = nh_get(AF_INET6, P6("2001:db8:98::5"));
	none6 = nh_get(AF_INET6, P6("2001:db8:99::7"));
	if (!CHECK(rs6 != NULL && far6 != NULL && none6 != NULL, "nh_get hands out IPv6 entries"))
		return unit_done();
	CHECK(nh_read(rs6, &v, now) == 0 && v.link != NULL && v.link->ifindex == veth0 &&
	    mac_is(rs6, 0x62) && rs6 != rs, "on the link: out of veth0, its own MAC");
	CHECK(mac_is(far6, 0x63) && addr_eq(&far6->via, P6("fe80::3")),
	    "behind a router at a link-local address: the router's MAC");
	CHECK(nh_read(none6, &v, now) < 0, "no neighbour entry yet: not usable");
	CHECK(ns_seen(watch, P6("2001:db8:99::7"), NULL),
	    "... and the kernel was made to resolve it (a solicitation left veth0)");
	sh("ip -6 neigh replace 2001:db8:99::2 lladdr 02:00:00:00:00:72 nud permanent dev veth0");
	CHECK(SETTLE(mac_is(rs6, 0x72)), "a new MAC for the IPv6 real server is used at once");
	CHECK(mac_is(rs, 0x22), "... and not for the IPv4 one");
	CHECK(nh_client(AF_INET6, P6("2001:db8:98::9"), &vip6, 0) == NULL, "a new IPv6 client: a miss");
	nh_tick(now);
	c6 = nh_client(AF_INET6, P6("2001:db8:98::9"), &vip6, 0);
	CHECK(c6 != NULL && mac_is(c6, 0x63) && c6 != far6 && c6 != c,
	    "resolved: the router toward the client, an entry of its own");
	CHECK((nh_client(AF_INET6, P6("2001:db8:98::a"), &vip6, 1), nh_tick(now),
	    nh_client(AF_INET6, P6("2001:db8:98::a"), &vip6, 1)) == c6,
	    "another client behind the same router: the same entry");
	CHECK(nh_client(AF_INET6, P6("2001:db8:98::b"), &vip6, 0) == NULL &&
	    nh_client(AF_INET6, P6("2001:db8:98::9"), &vip6, 0) == c6,
	    "a client's entry is its own address's: another one asks for itself");
	CHECK(nh_client(AF_INET6, P6("2001:db8:99::2"), &vip6, 0) == NULL && (nh_tick(now), 1) &&
	    mac_is(nh_client(AF_INET6, P6("2001:db8:99::2"), &vip6, 0), 0x72),
	    "a client on the link: its own MAC");
	(void)nh_client(AF_INET6, P6("2001:db8:97::5"), &vip6, 0);
	nh_tick(now);
	q0 = st->client_queued;
	CHECK(nh_client(AF_INET6, P6("2001:db8:97::5"), &vip6, 0) == NULL && st->client_queued == q0,
	    "a client routed into the TAP: the TAP, and not asked again");
	sh("ip -6 neigh replace 2001:db8:99::7 lladdr 02:00:00:00:00:77 nud stale dev veth0");
	CHECK(SETTLE(mac_is(none6, 0x77)), "a neighbour's MAC learnt (stale): followed");
	now += NH_TOUCH_S * CONN_HZ;
	(void)nh_read(none6, &v, now);
	nh_tick(now);
	CHECK(ns_seen(watch, P6("2001:db8:99::7"), mac77),
	    "a stale neighbour in use: a unicast solicitation to it, its sum right");

	UNIT_SECTION("put back");
	nh_put(tap);
	CHECK(tap->kind == NH_FREE && tap->refs == 0, "the last nh_put frees the entry");
	CHECK(nh_get(AF_INET, P4("10.99.0.2")) == rs, "a live entry is found again");

	nh_fini();
	links_close();
	nl_fini();
	close(watch);
	return unit_done();
}
