/* sync.c - the connection sync daemons: IPVS's master and backup, over UDP */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "stats.h"
#include "sync.h"

#define SYNC_NETS_MAX   16      /* the interface's networks, for the source check */
#define SYNC_BUF_SPARE  256     /* past maxlen: one entry with every option, and the header */
#define SYNC_RCVBUF     (4 << 20)

enum { DM_MASTER, DM_BACKUP, DM_MAX };

struct sync_net {
	int      af;
	uint8_t  addr[16];
	unsigned plen;
};

struct sync_daemon {
	bool             on;
	struct sync_conf conf;          /* as it runs: maxlen, port, TTL filled in */
	int              fd;
	int              ifindex;
	struct event    *ev;
	struct sync_net  nets[SYNC_NETS_MAX];   /* backup: where messages may come from */
	unsigned         nnets;
};

struct sync_ring {
	uint32_t           head;        /* the main thread's: entries taken */
	uint32_t           tail;        /* the worker's: entries put */
	struct sync_entry *slots;
} __attribute__((aligned(64)));

bool sync_master_on;

static struct {
	struct event_base  *base;
	unsigned            nworkers;
	uint32_t            conn_max;
	sync_apply_fn       apply;
	struct sync_daemon  dm[DM_MAX];
	/* master */
	struct sync_ring    rings[CONF_WORKERS_MAX];
	struct sync_cstate *cstate;
	struct event       *ev_send;
	uint8_t            *out[SYNC_OUTQ];     /* messages: out[0] is being filled */
	size_t              outlen[SYNC_OUTQ];
	unsigned            nout;               /* full messages waiting, after out[0] */
	size_t              bufcap;
	struct sync_writer  w;                  /* over out[0] */
	struct timespec     first;              /* when out[0] got its first entry */
	/* backup */
	uint8_t             rxbuf[SYNC_MSG_MAX + 1];
	struct sync_entry   ents[SYNC_CONNS_MAX];
	enum sync_err       errs[SYNC_CONNS_MAX];
	uint64_t            refused[SYNC_E_MAX];
} sy = { .dm = { { .fd = -1 }, { .fd = -1 } } };

static unsigned
dm_index(unsigned state)
{
	return state == SYNC_STATE_MASTER ? DM_MASTER : DM_BACKUP;
}

uint64_t
sync_refused(enum sync_err why)
{
	return (unsigned)why < SYNC_E_MAX ? sy.refused[why] : 0;
}

unsigned
sync_running(void)
{
	return (sy.dm[DM_MASTER].on ? SYNC_STATE_MASTER : 0) |
	    (sy.dm[DM_BACKUP].on ? SYNC_STATE_BACKUP : 0);
}

const struct sync_conf *
sync_daemon(unsigned state)
{
	const struct sync_daemon *d = &sy.dm[dm_index(state)];

	return d->on ? &d->conf : NULL;
}

/* ---- the packet path's queues ---- */

struct sync_entry *
sync_queue_slot(unsigned id)
{
	struct sync_ring *r = &sy.rings[id];
	uint32_t t = r->tail, h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (r->slots == NULL)
		return NULL;
	if (t - h >= SYNC_QUEUE_SLOTS) {
		STAT_INC(STAT_SYNC_TX_QUEUE_FULL);
		return NULL;
	}
	return &r->slots[t & (SYNC_QUEUE_SLOTS - 1)];
}

void
sync_queue_commit(unsigned id)
{
	struct sync_ring *r = &sy.rings[id];

	__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELEASE);
}

struct sync_cstate *
sync_cstate(uint32_t conn_index)
{
	return sy.cstate && conn_index < sy.conn_max ? &sy.cstate[conn_index] : NULL;
}

/* ---- addresses ---- */

static unsigned
alen(int af)
{
	return af == AF_INET6 ? 16u : 4u;
}

static const char *
ntop(int af, const uint8_t *a, char *buf, size_t len)
{
	return inet_ntop(af, a, buf, (socklen_t)len) ? buf : "?";
}

static socklen_t
sockaddr_of(int af, const uint8_t *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	memcpy(&s4->sin_addr, addr, 4);
	return sizeof(*s4);
}

/* A bits prefix match of A and B, PLEN bits. */
static bool
prefix_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

static unsigned
mask_plen(const uint8_t *m, unsigned n)
{
	unsigned p = 0;

	for (unsigned i = 0; i < n; i++)
		for (int b = 7; b >= 0 && (m[i] >> b) & 1; b--)
			p++;
	return p;
}

/* The networks of IFNAME, of family AF, for the backup's source check. */
static void
read_nets(struct sync_daemon *d, int af)
{
	struct ifaddrs *ifa, *i;

	d->nnets = 0;
	if (getifaddrs(&ifa) < 0) {
		log_warn("sync: the addresses of %s", d->conf.ifname);
		return;
	}
	for (i = ifa; i && d->nnets < SYNC_NETS_MAX; i = i->ifa_next) {
		struct sync_net *n = &d->nets[d->nnets];

		if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
		    i->ifa_addr->sa_family != af || strcmp(i->ifa_name, d->conf.ifname) != 0)
			continue;
		n->af = af;
		if (af == AF_INET6) {
			memcpy(n->addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			n->plen = mask_plen((uint8_t *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr,
			    16);
		} else {
			memcpy(n->addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			n->plen = mask_plen((uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr,
			    4);
		}
		d->nnets++;
	}
	freeifaddrs(ifa);
}

/*
 * A datagram's source, by the daemon's rules: the peer itself; or, for a
 * group, an address on one of the interface's networks (an IPv6
 * link-local one too), but none of the interface's own.
 */
static bool
source_ok(const struct sync_daemon *d, const uint8_t *src)
{
	unsigned n = alen(d->conf.af);

	if (d->conf.unicast)
		return memcmp(src, d->conf.group, n) == 0;
	for (unsigned i = 0; i < d->nnets; i++)
		if (memcmp(src, d->nets[i].addr, n) == 0)
			return false;
	if (d->conf.af == AF_INET6 && src[0] == 0xfe && (src[1] & 0xc0) == 0x80)
		return true;
	for (unsigned i = 0; i < d->nnets; i++)
		if (prefix_match(src, d->nets[i].addr, d->nets[i].plen))
			return true;
	return false;
}

/* ---- sockets ---- */

static int
sopt(int fd, int level, int name, const void *v, socklen_t len, const char *what)
{
	if (setsockopt(fd, level, name, v, len) == 0)
		return 0;
	log_warn("sync: %s", what);
	return -1;
}

/*
 * The master's socket: through the interface, to the group (or the peer),
 * TTL, no loop back, fragments allowed (IP_PMTUDISC_DONT), bound to the
 * interface's address for IPv4 -- as the kernel's make_send_sock().
 */
static int
open_send(struct sync_daemon *d)
{
	const struct sync_conf *c = &d->conf;
	struct sockaddr_storage ss;
	int fd, zero = 0, ttl = (int)c->ttl, pmtu;
	socklen_t sl;

	fd = socket(c->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		log_warn("sync: socket");
		return -1;
	}
	if (sopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->ifname, (socklen_t)strlen(c->ifname),
	    "SO_BINDTODEVICE") < 0)
		goto fail;
	if (c->af == AF_INET6) {
		pmtu = IPV6_PMTUDISC_DONT;
		if (sopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &d->ifindex, sizeof(d->ifindex),
		    "IPV6_MULTICAST_IF") < 0 ||
		    sopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero),
		    "IPV6_MULTICAST_LOOP") < 0 ||
		    sopt(fd, IPPROTO_IPV6, c->unicast ? IPV6_UNICAST_HOPS : IPV6_MULTICAST_HOPS, &ttl,
		    sizeof(ttl), "hop limit") < 0 ||
		    sopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu),
		    "IPV6_MTU_DISCOVER") < 0)
			goto fail;
	} else {
		struct ip_mreqn mr = { .imr_ifindex = d->ifindex };
		uint8_t a[16] = { 0 };
		union vsr_addr ifaddr;

		pmtu = IP_PMTUDISC_DONT;
		if (sopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr), "IP_MULTICAST_IF") < 0 ||
		    sopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero),
		    "IP_MULTICAST_LOOP") < 0 ||
		    sopt(fd, IPPROTO_IP, c->unicast ? IP_TTL : IP_MULTICAST_TTL, &ttl, sizeof(ttl),
		    "TTL") < 0 ||
		    sopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu), "IP_MTU_DISCOVER") < 0)
			goto fail;
		/* From the interface's own address, as the kernel binds it. */
		if (nl_addr_get(AF_INET, d->ifindex, &ifaddr) == 0)
			memcpy(a, &ifaddr.ip, 4);
		else
			log_warnx("sync: %s has no IPv4 address; messages leave from 0.0.0.0",
			    c->ifname);
		sl = sockaddr_of(AF_INET, a, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			log_warn("sync: bind to %s's address", c->ifname);
			goto fail;
		}
	}
	sl = sockaddr_of(c->af, c->group, c->port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		log_warn("sync: connect");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * The backup's socket: bound to the interface and the group's port, the
 * group joined on the interface -- as make_receive_sock() -- and each
 * datagram's arrival interface reported (IP_PKTINFO).
 */
static int
open_recv(struct sync_daemon *d)
{
	const struct sync_conf *c = &d->conf;
	struct sockaddr_storage ss;
	uint8_t any[16] = { 0 };
	int fd, one = 1, rcvbuf = SYNC_RCVBUF;
	socklen_t sl;

	fd = socket(c->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		log_warn("sync: socket");
		return -1;
	}
	if (sopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one), "SO_REUSEADDR") < 0 ||
	    sopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->ifname, (socklen_t)strlen(c->ifname),
	    "SO_BINDTODEVICE") < 0)
		goto fail;
	/* A larger buffer is welcome, not needed (rmem_max may cap it). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (c->af == AF_INET6) {
		if (sopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one), "IPV6_V6ONLY") < 0 ||
		    sopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one),
		    "IPV6_RECVPKTINFO") < 0)
			goto fail;
	} else if (sopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one), "IP_PKTINFO") < 0) {
		goto fail;
	}
	sl = sockaddr_of(c->af, c->unicast ? any : c->group, c->port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		log_warn("sync: bind to port %u", c->port);
		goto fail;
	}
	if (!c->unicast && c->af == AF_INET6) {
		struct ipv6_mreq mr = { .ipv6mr_interface = (unsigned)d->ifindex };

		memcpy(&mr.ipv6mr_multiaddr, c->group, 16);
		if (sopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr), "IPV6_JOIN_GROUP") < 0)
			goto fail;
	} else if (!c->unicast) {
		struct ip_mreqn mr = { .imr_ifindex = d->ifindex };

		memcpy(&mr.imr_multiaddr, c->group, 4);
		if (sopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr),
		    "IP_ADD_MEMBERSHIP") < 0)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* ---- the master: queues into messages, messages onto the wire ---- */

static long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void
msg_begin(void)
{
	sync_msg_begin(&sy.w, sy.out[0], sy.bufcap, sy.dm[DM_MASTER].conf.maxlen,
	    (uint8_t)sy.dm[DM_MASTER].conf.syncid);
}

/* out[0] goes to the queue of full messages; a new one starts. */
static void
msg_close(void)
{
	uint8_t *b;

	if (sy.w.count == 0)
		return;
	if (sy.nout + 1 >= SYNC_OUTQ) {
		/* The socket has not taken the older ones: this one is lost. */
		STAT_INC(STAT_SYNC_TX_ERRORS);
		msg_begin();
		return;
	}
	b = sy.out[sy.nout + 1];
	sy.out[sy.nout + 1] = sy.out[0];
	sy.outlen[sy.nout + 1] = sync_msg_len(&sy.w);
	sy.out[0] = b;
	sy.nout++;
	msg_begin();
}

static void on_writable(evutil_socket_t fd, short what, void *arg);

/* Send the full messages, oldest first, until the socket would block. */
static void
msg_flush(void)
{
	struct sync_daemon *d = &sy.dm[DM_MASTER];
	unsigned sent = 0;

	while (sent < sy.nout) {
		ssize_t n = send(d->fd, sy.out[1 + sent], sy.outlen[1 + sent], MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			if (d->ev)
				event_add(d->ev, NULL);   /* on_writable sends the rest */
			break;
		}
		if (n < 0) {
			/* No route, no interface for now...: this one is lost, the rest go. */
			STAT_INC(STAT_SYNC_TX_ERRORS);
			log_debug("sync: send: %s", strerror(errno));
		} else {
			STAT_INC(STAT_SYNC_TX_MESSAGES);
			STAT_ADD(STAT_SYNC_TX_CONNS, sy.out[1 + sent][4]);
		}
		sent++;
	}
	if (sent == 0)
		return;
	/* The waiting ones move up behind out[0]; the sent buffers go to the back. */
	uint8_t *done[SYNC_OUTQ];

	memcpy(done, &sy.out[1], sent * sizeof(done[0]));
	memmove(&sy.out[1], &sy.out[1 + sent], (sy.nout - sent) * sizeof(sy.out[0]));
	memmove(&sy.outlen[1], &sy.outlen[1 + sent], (sy.nout - sent) * sizeof(sy.outlen[0]));
	memcpy(&sy.out[1 + sy.nout - sent], done, sent * sizeof(done[0]));
	sy.nout -= sent;
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	msg_flush();
}

/* Empty the workers' queues into messages. */
static void
drain(void)
{
	for (unsigned id = 0; id < sy.nworkers; id++) {
		struct sync_ring *r = &sy.rings[id];
		uint32_t h = r->head, t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

		for (; h != t; h++) {
			const struct sync_entry *e = &r->slots[h & (SYNC_QUEUE_SLOTS - 1)];

			if (sy.w.count == 0)
				clock_gettime(CLOCK_MONOTONIC_COARSE, &sy.first);
			if (sync_msg_add(&sy.w, e) == 0)
				continue;
			msg_close();
			clock_gettime(CLOCK_MONOTONIC_COARSE, &sy.first);
			if (sync_msg_add(&sy.w, e) < 0)
				STAT_INC(STAT_SYNC_TX_ERRORS);  /* not an entry we make */
		}
		__atomic_store_n(&r->head, h, __ATOMIC_RELEASE);
	}
}

static void
on_send(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	drain();
	if (sy.w.count && ms_since(&sy.first) >= SYNC_FLUSH_MS)
		msg_close();
	msg_flush();
}

/* ---- the backup: datagrams in, checked, applied ---- */

static void
count_entry(enum sync_verdict v)
{
	switch (v) {
	case SYNC_V_CREATED:
	case SYNC_V_UPDATED:
		STAT_INC(STAT_SYNC_RX_CONNS);
		break;
	case SYNC_V_STALE:
		break;
	case SYNC_V_NO_DEST:
		STAT_INC(STAT_SYNC_RX_NO_DEST);
		break;
	case SYNC_V_TABLE_FULL:
		STAT_INC(STAT_SYNC_RX_TABLE_FULL);
		break;
	}
}

/* One datagram of LEN bytes from SRC on IFINDEX. */
static void
receive_one(struct sync_daemon *d, size_t len, const uint8_t *src, int ifindex)
{
	enum sync_err err;
	unsigned n;
	uint32_t now;

	if (ifindex != d->ifindex || !source_ok(d, src)) {
		STAT_INC(STAT_SYNC_RX_FOREIGN);
		return;
	}
	err = sync_msg_decode(sy.rxbuf, len, (uint8_t)d->conf.syncid, sy.ents, sy.errs, &n);
	if (err == SYNC_E_SYNCID) {
		STAT_INC(STAT_SYNC_RX_SYNCID);
		return;
	}
	if (err != SYNC_E_OK) {
		STAT_INC(STAT_SYNC_RX_REFUSED);
		sy.refused[err]++;
		return;
	}
	STAT_INC(STAT_SYNC_RX_MESSAGES);
	/* One message (255 entries at most) under the lock at a time. */
	lock_all();
	now = conn_clock();
	for (unsigned i = 0; i < n; i++) {
		if (sy.errs[i] != SYNC_E_OK) {
			STAT_INC(STAT_SYNC_RX_ENTRIES_REFUSED);
			sy.refused[sy.errs[i]]++;
			continue;
		}
		count_entry(sy.apply(&sy.ents[i], now));
	}
	unlock_all();
}

static void
on_recv(evutil_socket_t fd, short what, void *arg)
{
	struct sync_daemon *d = arg;

	(void)what;
	for (int k = 0; k < SYNC_RX_BUDGET; k++) {
		struct sockaddr_storage from;
		union {
			char            buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
			struct cmsghdr  align;
		} cm;
		struct iovec iov = { sy.rxbuf, sizeof(sy.rxbuf) };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
		};
		uint8_t src[16] = { 0 };
		int ifindex = 0;
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (n < 0)
			return;         /* EAGAIN: drained; anything else: the next wake-up */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				ifindex = pi.ipi_ifindex;
			} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				ifindex = (int)pi.ipi6_ifindex;
			}
		}
		if (from.ss_family == AF_INET6)
			memcpy(src, &((struct sockaddr_in6 *)&from)->sin6_addr, 16);
		else if (from.ss_family == AF_INET)
			memcpy(src, &((struct sockaddr_in *)&from)->sin_addr, 4);
		if (from.ss_family != d->conf.af) {
			STAT_INC(STAT_SYNC_RX_FOREIGN);
			continue;
		}
		if ((size_t)n > SYNC_MSG_MAX || (mh.msg_flags & MSG_TRUNC)) {
			STAT_INC(STAT_SYNC_RX_REFUSED);
			sy.refused[SYNC_E_SIZE]++;
			continue;
		}
		receive_one(d, (size_t)n, src, ifindex);
	}
}

/* ---- start, stop ---- */

/*
 * The kernel's message size (start_sync_thread): a master's 1500 less the
 * IP and UDP headers, a backup's from the interface's MTU (1500 at
 * least); a given maxlen clamped between 1 (1024 for a backup) and 65535
 * less the headers.
 */
static unsigned
maxlen_of(unsigned state, const struct sync_conf *c, unsigned mtu)
{
	unsigned hlen = c->af == AF_INET6 ? 40 + 8 : 20 + 8, lo, hi = 65535 - hlen;

	if (c->maxlen) {
		lo = state == SYNC_STATE_BACKUP ? 1024 : 1;
		return c->maxlen < lo ? lo : c->maxlen > hi ? hi : c->maxlen;
	}
	if (state == SYNC_STATE_BACKUP)
		return (mtu < 1500 ? 1500 : mtu > 65535 ? 65535 : mtu) - hlen;
	return 1500 - hlen;
}

static void
master_free(void)
{
	for (unsigned i = 0; i < CONF_WORKERS_MAX; i++) {
		free(sy.rings[i].slots);
		sy.rings[i].slots = NULL;
		sy.rings[i].head = sy.rings[i].tail = 0;
	}
	if (sy.cstate != NULL)
		munmap(sy.cstate, (size_t)sy.conn_max * sizeof(*sy.cstate));
	sy.cstate = NULL;
	for (unsigned i = 0; i < SYNC_OUTQ; i++) {
		free(sy.out[i]);
		sy.out[i] = NULL;
	}
	sy.nout = 0;
	if (sy.ev_send)
		event_free(sy.ev_send);
	sy.ev_send = NULL;
}

static int
master_alloc(void)
{
	struct timeval tv = { 0, SYNC_SEND_MS * 1000 };

	sy.bufcap = sy.dm[DM_MASTER].conf.maxlen + SYNC_BUF_SPARE;
	for (unsigned i = 0; i < sy.nworkers; i++)
		if ((sy.rings[i].slots = calloc(SYNC_QUEUE_SLOTS, sizeof(struct sync_entry))) == NULL)
			return -1;
	/* A mapping, so that a growing connection table takes it along (sync_conn_grow). */
	sy.cstate = mmap(NULL, (size_t)sy.conn_max * sizeof(*sy.cstate), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sy.cstate == MAP_FAILED) {
		sy.cstate = NULL;
		return -1;
	}
	for (unsigned i = 0; i < SYNC_OUTQ; i++)
		if ((sy.out[i] = malloc(sy.bufcap)) == NULL)
			return -1;
	sy.ev_send = event_new(sy.base, -1, EV_PERSIST, on_send, NULL);
	if (sy.ev_send == NULL || event_add(sy.ev_send, &tv) < 0)
		return -1;
	msg_begin();
	return 0;
}

int
sync_start(unsigned state, const struct sync_conf *sc)
{
	struct sync_daemon *d = &sy.dm[dm_index(state)];
	char a[INET6_ADDRSTRLEN];
	unsigned mtu = 1500;
	int err;

	if (d->on) {
		errno = EEXIST;
		return -1;
	}
	d->conf = *sc;
	d->conf.state = state;
	if (d->conf.port == 0)
		d->conf.port = SYNC_DEFAULT_PORT;
	if (d->conf.ttl == 0)
		d->conf.ttl = 1;
	if (d->conf.af == 0) {
		uint32_t g = htonl(SYNC_DEFAULT_GROUP);

		d->conf.af = AF_INET;
		memset(d->conf.group, 0, sizeof(d->conf.group));
		memcpy(d->conf.group, &g, 4);
	}
	d->ifindex = (int)if_nametoindex(d->conf.ifname);
	if (d->ifindex == 0) {
		log_warnx("sync: %s daemon: no interface %s", sync_state_name(state),
		    d->conf.ifname);
		errno = ENODEV;
		return -1;
	}
	(void)nl_link_mtu(d->ifindex, &mtu);
	d->conf.maxlen = maxlen_of(state, &d->conf, mtu);
	if (state == SYNC_STATE_BACKUP)
		read_nets(d, d->conf.af);
	d->fd = state == SYNC_STATE_MASTER ? open_send(d) : open_recv(d);
	if (d->fd < 0) {
		err = errno;
		goto fail;
	}
	d->ev = event_new(sy.base, d->fd, state == SYNC_STATE_MASTER ? EV_WRITE :
	    EV_READ | EV_PERSIST, state == SYNC_STATE_MASTER ? on_writable : on_recv, d);
	if (d->ev == NULL) {
		err = ENOMEM;
		goto fail;
	}
	if (state == SYNC_STATE_BACKUP && event_add(d->ev, NULL) < 0) {
		err = ENOMEM;
		goto fail;
	}
	if (state == SYNC_STATE_MASTER) {
		if (master_alloc() < 0) {
			log_warnx("sync: out of memory for the master's queues");
			err = ENOMEM;
			goto fail;
		}
		/* From now on the workers queue what is due (under the lock: none is mid-batch). */
		lock_all();
		__atomic_store_n(&sync_master_on, true, __ATOMIC_RELAXED);
		unlock_all();
	}
	d->on = true;
	log_notice("sync: %s daemon started: interface %s, syncid %u, %s %s port %u, ttl %u, "
	    "maxlen %u", sync_state_name(state), d->conf.ifname, d->conf.syncid,
	    d->conf.unicast ? "peer" : "group", ntop(d->conf.af, d->conf.group, a, sizeof(a)),
	    d->conf.port, d->conf.ttl, d->conf.maxlen);
	return 0;
fail:
	if (state == SYNC_STATE_MASTER)
		master_free();
	if (d->ev)
		event_free(d->ev);
	d->ev = NULL;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	errno = err;
	return -1;
}

int
sync_stop(unsigned state)
{
	struct sync_daemon *d = &sy.dm[dm_index(state)];

	if (!d->on) {
		errno = ESRCH;
		return -1;
	}
	if (state == SYNC_STATE_MASTER) {
		/* No worker is in a batch while the lock is held: none writes a queue after it. */
		lock_all();
		__atomic_store_n(&sync_master_on, false, __ATOMIC_RELAXED);
		unlock_all();
		/* What is queued still goes, as far as the socket takes it now. */
		drain();
		msg_close();
		msg_flush();
		master_free();
	}
	if (d->ev)
		event_free(d->ev);
	d->ev = NULL;
	close(d->fd);
	d->fd = -1;
	d->on = false;
	log_notice("sync: %s daemon stopped", sync_state_name(state));
	return 0;
}

void
sync_reconfig(const struct sync_conf *old, const struct sync_conf *new)
{
	if (memcmp(old, new, sizeof(*old)) == 0)
		return;
	if (sy.dm[DM_MASTER].on)
		sync_stop(SYNC_STATE_MASTER);
	if (sy.dm[DM_BACKUP].on)
		sync_stop(SYNC_STATE_BACKUP);
	for (unsigned s = SYNC_STATE_MASTER; s <= SYNC_STATE_BACKUP; s <<= 1)
		if ((new->state & s) && sync_start(s, new) < 0)
			log_warn("reload: sync %s daemon on %s", sync_state_name(s), new->ifname);
}

int
sync_init(struct event_base *base, unsigned nworkers, uint32_t conn_max, sync_apply_fn apply)
{
	sy.base = base;
	sy.nworkers = nworkers;
	sy.conn_max = conn_max;
	sy.apply = apply;
	return 0;
}

int
sync_conn_grow(uint32_t conn_max)
{
	void *p;

	if (conn_max <= sy.conn_max)
		return 0;
	if (sy.cstate != NULL) {
		p = mremap(sy.cstate, (size_t)sy.conn_max * sizeof(*sy.cstate),
		    (size_t)conn_max * sizeof(*sy.cstate), MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			return -1;
		sy.cstate = p;
	}
	sy.conn_max = conn_max;
	return 0;
}

void
sync_fini(void)
{
	if (sy.dm[DM_MASTER].on)
		sync_stop(SYNC_STATE_MASTER);
	if (sy.dm[DM_BACKUP].on)
		sync_stop(SYNC_STATE_BACKUP);
	master_free();
}
