/* vsrtun.c - real-server tunnel endpoint: IPIP, ip6ip6, GRE and GUE from trusted directors into a TUN holding the VIPs */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "common.h"
#include "gro.h"
#include "log.h"
#include "netlink.h"
#include "pkt.h"
#include "tunnel.h"

#define VSRTUN_IFNAME   "vsrtun0"
#define VSRTUN_ADDRS    64          /* -a and -v, each */
#define VSRTUN_BATCH    GRO_SEGS    /* packets per recvmmsg(): GRO's window */
#define VSRTUN_BUDGET   8           /* batches per wake-up */
#define VSRTUN_BUF      65536
#define VSRTUN_RCVBUF   (4 * 1024 * 1024)
#define GRE_HLEN        4
#define GRE_F_KEY       0x20        /* first byte of the GRE header: K, a key follows (RFC 2890) */

/* Counters, dumped on SIGUSR1 as vsrouted's: "stat NAME VALUE", then "stat end". */
enum vt_stat {
	VT_RX_IPIP,
	VT_RX_GRE,
	VT_RX_IP6IP6,
	VT_RX_GRE6,            /* GRE over IPv6 */
	VT_RX_GUE,             /* GUE (UDP, -g) over IPv4 */
	VT_RX_GUE6,            /* and over IPv6 */
	VT_DELIVERED,          /* inner packets written to the TUN */
	VT_DELIVERED_BYTES,
	VT_DROP_UNTRUSTED,     /* outer source is not a -a director */
	VT_DROP_MALFORMED,     /* outer or inner header wrong */
	VT_DROP_GRE_UNSUPPORTED, /* GRE with checksum, sequence, version, another payload than IP, or a key unasked */
	VT_DROP_GUE_UNSUPPORTED, /* GUE of another version, a control message, options or flags but remote checksum offload, another payload than IP */
	VT_DROP_REMCSUM,       /* GUE's remote checksum option pointing outside the inner packet's transport part */
	VT_DROP_BAD_KEY,       /* with -k: IPIP, ip6ip6, GUE, or GRE without the key or with another one */
	VT_DROP_NOT_VIP,       /* inner destination is not a -v VIP */
	VT_DROP_TUN_WRITE,     /* the TUN refused the packet */
	VT_TUN_DISCARDED,      /* sent into the TUN by the kernel: read and dropped */
	VT_GRO_FRAMES,         /* TCP super-frames written (gro.h) */
	VT_GRO_SEGMENTS,       /* the segments they held */
	VT_GRO_CSUM_BAD,       /* TCP segments with a wrong checksum, written alone */
	VT_REMCSUM,            /* inner checksums completed for GUE's remote checksum offload */
	VT_MAX
};

static const char *const vt_names[VT_MAX] = {
	[VT_RX_IPIP]              = "rx_ipip",
	[VT_RX_GRE]               = "rx_gre",
	[VT_RX_IP6IP6]            = "rx_ip6ip6",
	[VT_RX_GRE6]              = "rx_gre6",
	[VT_RX_GUE]               = "rx_gue",
	[VT_RX_GUE6]              = "rx_gue6",
	[VT_DELIVERED]            = "delivered",
	[VT_DELIVERED_BYTES]      = "delivered_bytes",
	[VT_DROP_UNTRUSTED]       = "drop_untrusted",
	[VT_DROP_MALFORMED]       = "drop_malformed",
	[VT_DROP_GRE_UNSUPPORTED] = "drop_gre_unsupported",
	[VT_DROP_GUE_UNSUPPORTED] = "drop_gue_unsupported",
	[VT_DROP_REMCSUM]         = "drop_remcsum",
	[VT_DROP_BAD_KEY]         = "drop_bad_key",
	[VT_DROP_NOT_VIP]         = "drop_not_vip",
	[VT_DROP_TUN_WRITE]       = "drop_tun_write",
	[VT_TUN_DISCARDED]        = "tun_discarded",
	[VT_GRO_FRAMES]           = "gro_frames",
	[VT_GRO_SEGMENTS]         = "gro_segments",
	[VT_GRO_CSUM_BAD]         = "gro_csum_bad",
	[VT_REMCSUM]              = "remcsum",
};

static uint64_t vt_stats[VT_MAX];

/*
 * The sockets: per family of the outer header, IPIP (ip6ip6) and GRE raw
 * sockets, and with -g a UDP socket for GUE (the kernel checks the UDP
 * header and its checksum, and hands over what follows it).
 */
enum { RAW_IPIP, RAW_GRE, RAW_IP6IP6, RAW_GRE6, RAW_GUE, RAW_GUE6, RAW_MAX };

static const struct {
	int af;
	int proto;
	enum vt_stat rx;
} raw_kinds[RAW_MAX] = {
	[RAW_IPIP]   = { AF_INET,  IPPROTO_IPIP, VT_RX_IPIP },
	[RAW_GRE]    = { AF_INET,  IPPROTO_GRE,  VT_RX_GRE },
	[RAW_IP6IP6] = { AF_INET6, IPPROTO_IPV6, VT_RX_IP6IP6 },
	[RAW_GRE6]   = { AF_INET6, IPPROTO_GRE,  VT_RX_GRE6 },
	[RAW_GUE]    = { AF_INET,  IPPROTO_UDP,  VT_RX_GUE },
	[RAW_GUE6]   = { AF_INET6, IPPROTO_UDP,  VT_RX_GUE6 },
};

struct vsrtun;
/* What on_raw() hands one socket's event: the daemon and which socket it is. */
struct raw_sock {
	struct vsrtun *t;
	int            kind;        /* RAW_* */
};

struct vsrtun {
	struct vsr_ip      trusted[VSRTUN_ADDRS];   /* -a: directors, either family */
	unsigned           ntrusted;
	struct vsr_ip      vips[VSRTUN_ADDRS];
	unsigned           nvips;
	unsigned           nfam[2];                 /* -a addresses per family: IPv4, IPv6 */
	const char        *ifname;
	const char        *pidfile;
	const char        *user;
	int                keyed;                   /* -k: GRE with this key only */
	uint32_t           key;                     /* network order */
	uint16_t           gue_port;                /* -g: GUE's UDP port, host order; 0: none */
	int                tun_fd;
	int                ifindex;
	int                raw_fd[RAW_MAX];
	struct raw_sock    raw[RAW_MAX];
	int                dropped;                 /* privileges dropped: undo is the TUN's removal */
	struct event_base *base;
	struct event      *ev[RAW_MAX + 4];      /* the sockets, the TUN, three signals */
	unsigned           nev;
	uint8_t           *bufs;                    /* VSRTUN_BATCH * VSRTUN_BUF */
	struct mmsghdr     msgs[VSRTUN_BATCH];
	struct iovec       iov[VSRTUN_BATCH];
	struct gro         gro;                     /* what goes into the TUN, batch by batch */
	struct sockaddr_in6 from[VSRTUN_BATCH];     /* the outer source (IPv6 sockets) */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vsrtun -a ADDR [-a ADDR...] -v VIP [-v VIP...] [-k KEY] [-g PORT] [-i IFNAME] [-n]\n"
	    "              [-p PIDFILE] [-u USER] [-l LEVEL] [-V] [-h]\n"
	    "  -a ADDR     accept tunnelled packets from this director address, IPv4 or IPv6\n"
	    "              (repeatable)\n"
	    "  -v VIP      virtual address to hold on the TUN device, IPv4 or IPv6 (repeatable)\n"
	    "  -k KEY      accept only GRE carrying this key (0..4294967295), no IPIP or GUE\n"
	    "  -g PORT     accept GUE on this UDP port (1..65535) as well\n"
	    "  -i IFNAME   TUN device to create (default " VSRTUN_IFNAME ")\n"
	    "  -n          stay in the foreground, log to stderr\n"
	    "  -p PIDFILE  write the process id to PIDFILE\n"
	    "  -u USER     after set-up, run as USER keeping only CAP_NET_RAW\n"
	    "  -l LEVEL    debug, info, notice, warning or error (default info)\n"
	    "  -V          print the version and exit\n"
	    "  -h          this help\n");
}

static int
in_list(const struct vsr_ip *list, unsigned n, int af, const union vsr_addr *a)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i].af == af && addr_eq(&list[i].addr, a))
			return 1;
	return 0;
}

static int
add_addr(struct vsr_ip *list, unsigned *n, const char *s, const char *opt)
{
	struct vsr_ip a;

	if (addr_pton(s, &a.af, &a.addr) < 0 || addr_unusable(a.af, &a.addr) != NULL) {
		fprintf(stderr, "vsrtun: %s: invalid address '%s'\n", opt, s);
		return -1;
	}
	if (*n == VSRTUN_ADDRS) {
		fprintf(stderr, "vsrtun: %s: at most %d addresses\n", opt, VSRTUN_ADDRS);
		return -1;
	}
	if (!in_list(list, *n, a.af, &a.addr))
		list[(*n)++] = a;
	return 0;
}

static void
stats_dump(const struct vsrtun *t)
{
	/* What was written into the TUN is counted where it is written. */
	vt_stats[VT_DELIVERED] = t->gro.st.packets;
	vt_stats[VT_DELIVERED_BYTES] = t->gro.st.bytes;
	vt_stats[VT_DROP_TUN_WRITE] = t->gro.st.write_errors;
	vt_stats[VT_GRO_FRAMES] = t->gro.st.frames;
	vt_stats[VT_GRO_SEGMENTS] = t->gro.st.segments;
	vt_stats[VT_GRO_CSUM_BAD] = t->gro.st.csum_bad;
	for (int i = 0; i < VT_MAX; i++)
		log_notice("stat %s %llu", vt_names[i], (unsigned long long)vt_stats[i]);
	log_notice("stat end");
}

/*
 * GUE's remote checksum offload (the gue-extensions draft's 4.3) on the
 * inner packet IN of ITOT bytes whose IP header (IPv6: fixed header) is
 * IHL long: the checksum from CSTART to the end, the pseudo-header sum in
 * the field at COFF included, written into that field, as the kernel's
 * fou does. Both from the start of the inner packet; the sum must start
 * in the transport part, at an even offset, and the field lie within it.
 * Returns VT_MAX, or the counter of the drop.
 */
static enum vt_stat
remcsum(uint8_t *in, uint32_t ihl, uint32_t itot, unsigned cstart, unsigned coff)
{
	uint16_t v;

	if (cstart < ihl || (cstart & 1) || (coff & 1) || coff < cstart || coff + 2 > itot)
		return VT_DROP_REMCSUM;
	v = csum_fold(csum_partial(in + cstart, itot - cstart, 0));
	if (v == 0 && coff - cstart == 6)
		v = 0xffff;     /* UDP's field: 0 would say "no checksum" (RFC 768) */
	memcpy(in + coff, &v, 2);
	vt_stats[VT_REMCSUM]++;
	return VT_MAX;
}

/*
 * The inner packet IN of ILEN bytes, of family AF (as the tunnel or GRE's
 * protocol type says): a whole IPv4 or IPv6 packet to one of the VIPs,
 * written to the TUN, its checksum completed first when GUE (G, or NULL)
 * carried the remote checksum option. The kernel checks the rest, as for
 * any packet it receives.
 */
static enum vt_stat
deliver(struct vsrtun *t, int af, uint8_t *in, uint32_t ilen, const struct tunnel_gue *g)
{
	union vsr_addr daddr = { .w = { 0 } };
	uint32_t ihl, itot;
	bool summed = false;

	if (af == AF_INET) {
		if (ilen < 20 || (in[0] >> 4) != 4)
			return VT_DROP_MALFORMED;
		ihl = (uint32_t)(in[0] & 0x0f) * 4;
		itot = (uint32_t)in[2] << 8 | in[3];
		if (ihl < 20 || ihl > ilen || itot < ihl || itot > ilen || csum_ip(in, ihl) != 0)
			return VT_DROP_MALFORMED;
		memcpy(&daddr.ip, in + 16, 4);
	} else {
		if (ilen < IP6_HLEN || (in[0] >> 4) != 6)
			return VT_DROP_MALFORMED;
		itot = IP6_HLEN + ((uint32_t)in[IP6_PLEN] << 8 | in[IP6_PLEN + 1]);
		if (itot > ilen)
			return VT_DROP_MALFORMED;
		ihl = IP6_HLEN;
		memcpy(&daddr, in + IP6_DADDR, 16);
	}
	if (!in_list(t->vips, t->nvips, af, &daddr))
		return VT_DROP_NOT_VIP;
	if (g != NULL && g->cstart) {
		enum vt_stat r = remcsum(in, ihl, itot, g->cstart, g->coff);
		if (r != VT_MAX)
			return r;
		/* An IPv4 TCP checksum just summed over the segment: GRO need not sum it again. */
		summed = af == AF_INET && in[9] == IPPROTO_TCP && g->cstart == ihl &&
		    g->coff == ihl + 16;
	}
	/* Written now, or coalesced with its flow's next segments (gro.h). */
	gro_add_summed(&t->gro, in, itot, summed);
	return VT_MAX;
}

/*
 * GRE's header at IN: RFC 2784 (no C, R, S bit, no recursion, flags or
 * version) with RFC 2890's K bit when KEYED asks for one (and only then),
 * and an IP payload: its family, or 0.
 */
static int
gre_family(const uint8_t *in, int keyed)
{
	if ((in[0] & ~GRE_F_KEY) != 0 || in[1] != 0 || ((in[0] & GRE_F_KEY) && !keyed))
		return 0;
	if (in[2] == (ETHTYPE_IPV4 >> 8) && in[3] == (ETHTYPE_IPV4 & 0xff))
		return AF_INET;
	if (in[2] == (ETHTYPE_IPV6 >> 8) && in[3] == (ETHTYPE_IPV6 & 0xff))
		return AF_INET6;
	return 0;
}

/*
 * One packet from a raw socket of KIND, from the director FROM. An IPv4
 * socket hands over the outer IPv4 header (the kernel has checked it and
 * reassembled fragments), an IPv6 one only what follows it, the source in
 * FROM; then IPIP's (ip6ip6's) inner packet, or GRE's 4-byte header (8
 * with a key) and the inner packet; a UDP socket hands over GUE's
 * header and the inner packet, the source in FROM. Returns the counter to
 * bump when it is dropped, VT_MAX when the inner packet went to the TUN.
 */
static enum vt_stat
decap(struct vsrtun *t, int kind, uint8_t *b, uint32_t n, const struct sockaddr_in6 *from)
{
	int af = raw_kinds[kind].af, iaf = af, r;
	struct tunnel_gue gue;
	union vsr_addr saddr = { .w = { 0 } };
	uint32_t ohl = 0, ilen = n;
	uint8_t *in = b;

	if (raw_kinds[kind].proto == IPPROTO_UDP) {
		if (af == AF_INET)
			memcpy(&saddr.ip, &((const struct sockaddr_in *)(const void *)from)->sin_addr, 4);
		else
			memcpy(&saddr, &from->sin6_addr, 16);
	} else if (af == AF_INET) {
		uint32_t otot;
		if (n < 20 || (b[0] >> 4) != 4)
			return VT_DROP_MALFORMED;
		ohl = (uint32_t)(b[0] & 0x0f) * 4;
		otot = (uint32_t)b[2] << 8 | b[3];
		if (ohl < 20 || otot < ohl || otot > n)
			return VT_DROP_MALFORMED;
		memcpy(&saddr.ip, b + 12, 4);
		in = b + ohl;
		ilen = otot - ohl;
	} else {
		memcpy(&saddr, &from->sin6_addr, 16);
	}
	if (!in_list(t->trusted, t->ntrusted, af, &saddr))
		return VT_DROP_UNTRUSTED;
	if (raw_kinds[kind].proto == IPPROTO_UDP) {
		if (t->keyed)
			return VT_DROP_BAD_KEY;         /* GUE carries no key */
		if ((r = tunnel_gue_parse(in, ilen, &gue)) < 0)
			return VT_DROP_MALFORMED;
		if (r == 0)
			return VT_DROP_GUE_UNSUPPORTED;
		iaf = gue.af;
		in += gue.hlen;
		ilen -= gue.hlen;
		return deliver(t, iaf, in, ilen, &gue);
	} else if (raw_kinds[kind].proto == IPPROTO_GRE) {
		unsigned hlen = GRE_HLEN;

		if (ilen < GRE_HLEN)
			return VT_DROP_MALFORMED;
		if ((iaf = gre_family(in, t->keyed)) == 0)
			return VT_DROP_GRE_UNSUPPORTED;
		if (t->keyed) {
			uint32_t key;

			if (!(in[0] & GRE_F_KEY))
				return VT_DROP_BAD_KEY;
			if (ilen < GRE_HLEN + 4)
				return VT_DROP_MALFORMED;
			memcpy(&key, in + GRE_HLEN, 4);
			if (key != t->key)
				return VT_DROP_BAD_KEY;
			hlen += 4;
		}
		in += hlen;
		ilen -= hlen;
	} else if (t->keyed) {
		return VT_DROP_BAD_KEY;         /* IPIP and ip6ip6 carry no key */
	}
	return deliver(t, iaf, in, ilen, NULL);
}

static void
on_raw(evutil_socket_t fd, short what, void *arg)
{
	struct raw_sock *rs = arg;
	struct vsrtun *t = rs->t;

	(void)what;
	for (int b = 0; b < VSRTUN_BUDGET; b++) {
		int n;

		for (unsigned i = 0; i < VSRTUN_BATCH; i++)
			t->msgs[i].msg_hdr.msg_namelen = sizeof(t->from[i]);
		n = recvmmsg(fd, t->msgs, VSRTUN_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;     /* EAGAIN: drained */
		for (int i = 0; i < n; i++) {
			enum vt_stat r;

			vt_stats[raw_kinds[rs->kind].rx]++;
			r = decap(t, rs->kind, t->iov[i].iov_base, t->msgs[i].msg_len, &t->from[i]);
			if (r != VT_MAX)
				vt_stats[r]++;
		}
		/* The batch's buffers are reused by the next recvmmsg(). */
		gro_flush(&t->gro);
		if (n < VSRTUN_BATCH)
			return;
	}
}

/* What the kernel routes into the TUN (nothing should be): read and dropped. */
static void
on_tun(evutil_socket_t fd, short what, void *arg)
{
	struct vsrtun *t = arg;

	(void)what;
	for (int i = 0; i < VSRTUN_BATCH; i++) {
		if (read(fd, t->bufs, VSRTUN_BUF) < 0)
			return;
		vt_stats[VT_TUN_DISCARDED]++;
	}
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct vsrtun *t = arg;

	(void)what;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_notice("signal %d: stopping", (int)sig);
		event_base_loopbreak(t->base);
		break;
	case SIGUSR1:
		stats_dump(t);
		break;
	default:
		break;
	}
}

static int
tun_create(struct vsrtun *t)
{
	struct ifreq ifr;
	int hdrsz = (int)sizeof(struct virtio_net_hdr);

	if (if_nametoindex(t->ifname) != 0) {
		log_errx("interface %s already exists: is another vsrtun running?", t->ifname);
		return -1;
	}
	t->tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->tun_fd < 0) {
		log_err("/dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	/*
	 * With a virtio-net header on each write, so that GRO's super-frames
	 * go in whole. What the kernel routes into it (nothing should be)
	 * comes segmented: no TUNSETOFFLOAD.
	 */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->ifname);
	if (ioctl(t->tun_fd, TUNSETIFF, &ifr) < 0) {
		log_err("TUN %s", t->ifname);
		return -1;
	}
	if (ioctl(t->tun_fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
		log_err("TUN %s: virtio-net header size", t->ifname);
		return -1;
	}
	gro_init(&t->gro, t->tun_fd);
	t->ifindex = (int)if_nametoindex(t->ifname);
	if (t->ifindex == 0) {
		log_err("TUN %s", t->ifname);
		return -1;
	}
	return 0;
}

static int
raw_open(int af, int proto)
{
	int fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	int sz = VSRTUN_RCVBUF;

	if (fd < 0) {
		log_err("%s raw socket for protocol %d (needs CAP_NET_RAW)", addr_family_name(af),
		    proto);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

/* GUE's UDP socket of family AF on PORT, any address (IPv6: IPv6 only). */
static int
udp_open(int af, uint16_t port)
{
	int fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int sz = VSRTUN_RCVBUF;
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (fd < 0 ||
	    (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 1 },
	    sizeof(int)) < 0) ||
	    (af == AF_INET6 ? bind(fd, (struct sockaddr *)&s6, sizeof(s6)) :
	    bind(fd, (struct sockaddr *)&s4, sizeof(s4))) < 0) {
		log_err("-g %u: %s UDP socket", (unsigned)port, addr_family_name(af));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

/* Become USER, keeping CAP_NET_RAW only (the sockets and the TUN are open). */
static int
drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	cap_t caps;
	int rc;

	if (pw == NULL) {
		log_errx("-u %s: no such user", user);
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0 ||
	    setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		log_err("-u %s: cannot become the user", user);
		return -1;
	}
	caps = cap_from_text("cap_net_raw=ep");
	rc = caps ? cap_set_proc(caps) : -1;
	if (caps)
		cap_free(caps);
	if (rc < 0) {
		log_err("-u %s: capabilities", user);
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	log_info("running as %s (uid %ld) with CAP_NET_RAW", user, (long)pw->pw_uid);
	return 0;
}

static int
add_event(struct vsrtun *t, struct event *ev)
{
	if (ev == NULL || event_add(ev, NULL) < 0) {
		if (ev)
			event_free(ev);
		log_errx("event set-up failed");
		return -1;
	}
	t->ev[t->nev++] = ev;
	return 0;
}

static int
setup(struct vsrtun *t)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1 };
	char path[128], val[16];

	t->bufs = malloc((size_t)VSRTUN_BATCH * VSRTUN_BUF);
	t->base = event_base_new();
	if (t->bufs == NULL || t->base == NULL) {
		log_errx("out of memory");
		return -1;
	}
	for (unsigned i = 0; i < VSRTUN_BATCH; i++) {
		t->iov[i].iov_base = t->bufs + (size_t)i * VSRTUN_BUF;
		t->iov[i].iov_len = VSRTUN_BUF;
		t->msgs[i].msg_hdr.msg_iov = &t->iov[i];
		t->msgs[i].msg_hdr.msg_iovlen = 1;
		t->msgs[i].msg_hdr.msg_name = &t->from[i];
	}
	if (nl_init() < 0 || tun_create(t) < 0)
		return -1;
	/*
	 * The inner packet comes from the client, whose route is not through
	 * the TUN: strict reverse-path filtering would drop it. Everything
	 * set here belongs to the TUN and goes away with it.
	 */
	snprintf(path, sizeof(path), "net/ipv4/conf/%s/rp_filter", t->ifname);
	if (sysctl_set(path, "0") < 0)
		return -1;
	/* IPv6 on the TUN only for IPv6 VIPs, then without duplicate address detection. */
	unsigned nvip6 = 0;
	for (unsigned i = 0; i < t->nvips; i++)
		nvip6 += t->vips[i].af == AF_INET6;
	snprintf(path, sizeof(path), "net/ipv6/conf/%s/disable_ipv6", t->ifname);
	if (sysctl_get(path, val, sizeof(val)) == 0 && sysctl_set(path, nvip6 ? "0" : "1") < 0 &&
	    nvip6)
		return -1;
	if (nvip6) {
		snprintf(path, sizeof(path), "net/ipv6/conf/%s/accept_dad", t->ifname);
		if (sysctl_set(path, "0") < 0)
			return -1;
	}
	if (sysctl_get("net/ipv4/conf/all/rp_filter", val, sizeof(val)) == 0 &&
	    strcmp(val, "1") == 0)
		log_warnx("net.ipv4.conf.all.rp_filter is 1 (strict): it overrides %s's 0, "
		    "and tunnelled packets will be dropped; set it to 0 or 2", t->ifname);
	for (unsigned i = 0; i < t->nvips; i++)
		if (nl_addr_add(t->vips[i].af, &t->vips[i].addr, (int)addr_len(t->vips[i].af) * 8,
		    t->ifindex) < 0)
			return -1;
	if (nl_link_up(t->ifindex) < 0)
		return -1;
	/* The sockets of each family a trusted director has. */
	for (int k = 0; k < RAW_MAX; k++) {
		if (t->nfam[raw_kinds[k].af == AF_INET6] == 0)
			continue;
		if (raw_kinds[k].proto == IPPROTO_UDP) {
			if (t->gue_port == 0)
				continue;
			if ((t->raw_fd[k] = udp_open(raw_kinds[k].af, t->gue_port)) < 0)
				return -1;
		} else if ((t->raw_fd[k] = raw_open(raw_kinds[k].af, raw_kinds[k].proto)) < 0) {
			return -1;
		}
		t->raw[k] = (struct raw_sock){ t, k };
		if (add_event(t, event_new(t->base, t->raw_fd[k], EV_READ | EV_PERSIST, on_raw,
		    &t->raw[k])) < 0)
			return -1;
	}
	if (add_event(t, event_new(t->base, t->tun_fd, EV_READ | EV_PERSIST, on_tun, t)) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (add_event(t, evsignal_new(t->base, sigs[i], on_signal, t)) < 0)
			return -1;
	if (t->user) {
		if (drop_privileges(t->user) < 0)
			return -1;
		t->dropped = 1;
	}
	return 0;
}

static void
teardown(struct vsrtun *t)
{
	for (unsigned i = 0; i < t->nev; i++)
		event_free(t->ev[i]);
	t->nev = 0;
	/*
	 * Everything journaled belongs to the TUN. Undone one by one while we
	 * may; after -u, closing the TUN removes it all with the device.
	 */
	if (t->dropped)
		nl_journal_forget();
	else
		nl_undo_all();
	for (int i = 0; i < RAW_MAX; i++)
		if (t->raw_fd[i] >= 0)
			close(t->raw_fd[i]);
	if (t->tun_fd >= 0)
		close(t->tun_fd);
	nl_fini();
	if (t->base)
		event_base_free(t->base);
	free(t->bufs);
	if (t->pidfile && unlink(t->pidfile) < 0 && errno != ENOENT)
		log_warn("pid file %s", t->pidfile);
}

static int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
		log_err("pid file %s", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct vsrtun t = { .ifname = VSRTUN_IFNAME, .tun_fd = -1 };
	int foreground = 0, ch, lvl = LOG_LVL_INFO, rc = 1;
	char a[ADDR_STRLEN];

	for (int k = 0; k < RAW_MAX; k++)
		t.raw_fd[k] = -1;
	while ((ch = getopt(argc, argv, "a:v:k:g:i:np:u:l:Vh")) != -1) {
		switch (ch) {
		case 'a':
			if (add_addr(t.trusted, &t.ntrusted, optarg, "-a") < 0)
				return 1;
			break;
		case 'v':
			if (add_addr(t.vips, &t.nvips, optarg, "-v") < 0)
				return 1;
			break;
		case 'k': {
			char *end;
			unsigned long long k;

			errno = 0;
			k = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno ||
			    k > 0xffffffffULL) {
				fprintf(stderr, "vsrtun: -k: invalid key '%s' (0..4294967295)\n", optarg);
				return 1;
			}
			t.keyed = 1;
			t.key = htonl((uint32_t)k);
			break;
		}
		case 'g': {
			char *end;
			unsigned long port;

			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno ||
			    port == 0 || port > 65535) {
				fprintf(stderr, "vsrtun: -g: invalid port '%s' (1..65535)\n", optarg);
				return 1;
			}
			t.gue_port = (uint16_t)port;
			break;
		}
		case 'i':
			if (optarg[0] == '\0' || strlen(optarg) >= IFNAMSIZ || strchr(optarg, '/') ||
			    strcmp(optarg, ".") == 0 || strcmp(optarg, "..") == 0) {
				fprintf(stderr, "vsrtun: -i: invalid interface name '%s'\n", optarg);
				return 1;
			}
			t.ifname = optarg;
			break;
		case 'n': foreground = 1; break;
		case 'p': t.pidfile = optarg; break;
		case 'u': t.user = optarg; break;
		case 'l':
			lvl = log_level_parse(optarg);
			if (lvl < 0) {
				fprintf(stderr, "vsrtun: -l: unknown level '%s'\n", optarg);
				return 1;
			}
			break;
		case 'V':
			printf("vsrtun %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	for (unsigned i = 0; i < t.ntrusted; i++)
		t.nfam[t.trusted[i].af == AF_INET6]++;
	if (optind != argc || t.ntrusted == 0 || t.nvips == 0) {
		if (optind == argc)
			fprintf(stderr, "vsrtun: at least one -a ADDR and one -v VIP are required\n");
		usage(stderr);
		return 1;
	}

	log_init("vsrtun", foreground, (enum log_level)lvl);
	if (!foreground && daemon(0, 0) < 0) {
		log_err("daemon");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (t.pidfile && write_pidfile(t.pidfile) < 0)
		t.pidfile = NULL;
	else if (setup(&t) == 0) {
		char gue[32] = "";

		if (t.gue_port)
			snprintf(gue, sizeof(gue), ", GUE on UDP port %u", (unsigned)t.gue_port);
		log_notice("ready: %s holds %u VIP(s) (first %s), %u trusted director(s)%s%s",
		    t.ifname, t.nvips, addr_ntop(t.vips[0].af, &t.vips[0].addr, a, sizeof(a)),
		    t.ntrusted, t.keyed ? ", GRE with the key only" : "", gue);
		if (event_base_dispatch(t.base) < 0)
			log_errx("event loop failed");
		else
			rc = 0;
	}
	teardown(&t);
	if (rc == 0)
		log_notice("stopped");
	return rc;
}
