/* netlink.c - the director's host set-up over rtnetlink (libmnl), journaled for undo */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "common.h"
#include "log.h"
#include "netlink.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NL_RXBUF      32768     /* the kernel sizes dump skbs up to 32 KiB */
#define NL_TIMEOUT_S  5         /* a request the kernel never answers */
#define NL_JOURNAL_0  16        /* first journal capacity */
#define SYSCTL_ROOT   "/proc/sys/"

/* What a journal entry undoes. */
enum nl_jkind {
	NLJ_ROUTE,      /* RTM_NEWROUTE -> RTM_DELROUTE */
	NLJ_PROXY,      /* RTM_NEWNEIGH NTF_PROXY -> RTM_DELNEIGH */
	NLJ_RULE,       /* RTM_NEWRULE -> RTM_DELRULE */
	NLJ_SYSCTL,     /* write VALUE -> write old value back */
	NLJ_ADDR,       /* RTM_NEWADDR -> RTM_DELADDR */
	NLJ_LINK,       /* the TAP (path: its name) -> RTM_DELLINK if it is still there */
};

/*
 * One host change. Fixed-size strings so that an entry needs no allocation
 * of its own; entries are zeroed before they are filled, so that unused
 * fields compare equal in nl_jsame().
 */
struct nl_jent {
	enum nl_jkind kind;
	int           af;          /* of addr and gateway */
	union vsr_addr addr;       /* route dst, proxy dst, rule src, address */
	int           plen;
	int           ifindex;     /* route oif, proxy dev, rule iif */
	uint32_t      table;       /* route and rule */
	uint32_t      prio;        /* rule */
	union vsr_addr gateway;    /* route: next hop (onlink), zero for none */
	uint16_t      sport;       /* rule: source port (network order), 0 for any */
	uint8_t       ipproto;     /* rule: IP protocol, 0 for any */
	uint32_t      fwmark;      /* rule: firewall mark, 0 for any */
	uint16_t      sport_end;   /* rule: end of the source port range (network order), 0: sport */
	uint32_t      goto_prio;   /* rule: goto that priority, 0: none */
	bool          nop;         /* rule: nop */
	char          path[128];   /* sysctl path below /proc/sys; rule iif name */
	char          old[64];     /* sysctl value to restore */
};

static struct mnl_socket *nl_sock;
static unsigned           nl_portid;
static unsigned           nl_seq;
static char               nl_rxbuf[NL_RXBUF];
static char               nl_txbuf[8192];

static struct nl_jent    *nl_journal;   /* oldest first */
static size_t             nl_jlen, nl_jcap;
static int                nl_jfd = -1;  /* the journal file, locked; -1: memory only */
static char               nl_jpath[PATH_MAX];
static size_t             nl_jlines;    /* records in the file */
static int                nl_jcompact_failed;   /* said once */

/* Formatting helpers for log lines. */

static const char *
nl_ip(int af, const union vsr_addr *addr, char buf[ADDR_STRLEN])
{
	return addr_ntop(af, addr, buf, ADDR_STRLEN);
}

/* The largest prefix length of AF. */
static int
nl_maxplen(int af)
{
	return (int)addr_len(af) * 8;
}

static const char *
nl_ifname(int ifindex, char buf[IF_NAMESIZE])
{
	int saved = errno;

	if (ifindex <= 0 || if_indextoname((unsigned)ifindex, buf) == NULL)
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	errno = saved;
	return buf;
}

/* " table N" unless it is the main table. */
static const char *
nl_tabname(uint32_t table, char *buf, size_t len)
{
	if (table == RT_TABLE_MAIN)
		buf[0] = '\0';
	else
		snprintf(buf, len, " table %u", table);
	return buf;
}

/* The socket */

int
nl_init(void)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	int            one = 1;
	int            fd;

	if (nl_sock != NULL)
		return 0;
	nl_sock = mnl_socket_open(NETLINK_ROUTE);
	if (nl_sock == NULL) {
		log_warn("netlink: socket");
		return -1;
	}
	if (mnl_socket_bind(nl_sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("netlink: bind");
		mnl_socket_close(nl_sock);
		nl_sock = NULL;
		return -1;
	}
	nl_portid = mnl_socket_get_portid(nl_sock);
	nl_seq = (unsigned)time(NULL);
	fd = mnl_socket_get_fd(nl_sock);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		log_debug("netlink: SO_RCVTIMEO: %s", strerror(errno));
	/* let the kernel filter dumps by the request's header (4.20 and later) */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0)
		log_debug("netlink: NETLINK_GET_STRICT_CHK: %s", strerror(errno));
	return 0;
}

void
nl_fini(void)
{
	if (nl_jlen > 0)
		log_warnx("netlink: %zu host changes left in place", nl_jlen);
	if (nl_jfd >= 0) {
		/* Nothing left to undo: no file (or, where we may not remove it, an empty one). */
		if (nl_jlen == 0 && unlink(nl_jpath) < 0 && ftruncate(nl_jfd, 0) < 0)
			log_warn("journal %s", nl_jpath);
		close(nl_jfd);
		nl_jfd = -1;
	}
	if (nl_sock != NULL)
		mnl_socket_close(nl_sock);
	nl_sock = NULL;
	free(nl_journal);
	nl_journal = NULL;
	nl_jlen = nl_jcap = 0;
}

static struct nlmsghdr *
nl_msg(uint16_t type, uint16_t flags, void *hdr, size_t hdrlen)
{
	struct nlmsghdr *nlh;

	memset(nl_txbuf, 0, sizeof(nl_txbuf));
	nlh = mnl_nlmsg_put_header(nl_txbuf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	memcpy(mnl_nlmsg_put_extra_header(nlh, hdrlen), hdr, hdrlen);
	return nlh;
}

/*
 * Send NLH and read replies until the ACK, the error or the end of the dump
 * for its sequence number; CB sees each data message. Leftovers of an
 * earlier request that was cut short (other sequence numbers) are skipped.
 * -1 with errno set on failure.
 */
static int
nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	const struct nlmsghdr *m;
	unsigned               seq;
	ssize_t                n;
	int                    len, ret;

	if (nl_sock == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	nlh->nlmsg_seq = seq = ++nl_seq;
	if (mnl_socket_sendto(nl_sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(nl_sock, nl_rxbuf, sizeof(nl_rxbuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		len = (int)n;
		for (m = (const struct nlmsghdr *)nl_rxbuf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != seq)
				continue;
			ret = mnl_cb_run(m, m->nlmsg_len, seq, nl_portid, cb, data);
			if (ret == MNL_CB_ERROR)
				return -1;
			if (ret == MNL_CB_STOP)
				return 0;
		}
	}
}

/* Attribute tables */

struct nl_attrs {
	const struct nlattr *tb[32];
	int                  max;
};

static int
nl_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_attrs *a = data;
	int              type = mnl_attr_get_type(attr);

	if (type <= a->max && type < 32)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

static int
nl_attr_u32(const struct nlattr *attr, uint32_t *v)
{
	if (attr == NULL || mnl_attr_get_payload_len(attr) < sizeof(uint32_t))
		return -1;
	memcpy(v, mnl_attr_get_payload(attr), sizeof(*v));
	return 0;
}

/* The journal */

/* Room for one more entry; called before the change it will record. */
static int
nl_jreserve(void)
{
	struct nl_jent *j;
	size_t          cap;

	if (nl_jlen < nl_jcap)
		return 0;
	cap = nl_jcap ? nl_jcap * 2 : NL_JOURNAL_0;
	j = realloc(nl_journal, cap * sizeof(*j));
	if (j == NULL) {
		log_warn("netlink: journal");
		return -1;
	}
	nl_journal = j;
	nl_jcap = cap;
	return 0;
}

static int
nl_jsame(const struct nl_jent *a, const struct nl_jent *b)
{
	return a->kind == b->kind && a->af == b->af && addr_eq(&a->addr, &b->addr) &&
	    a->plen == b->plen && a->ifindex == b->ifindex && a->table == b->table &&
	    a->prio == b->prio && addr_eq(&a->gateway, &b->gateway) && a->ipproto == b->ipproto &&
	    a->sport == b->sport && a->sport_end == b->sport_end && a->goto_prio == b->goto_prio &&
	    a->nop == b->nop && a->fwmark == b->fwmark && strcmp(a->path, b->path) == 0;
}

/* Index of the newest entry that undoes the same object as E, or -1. */
static long
nl_jfind(const struct nl_jent *e)
{
	for (size_t i = nl_jlen; i-- > 0;)
		if (nl_jsame(&nl_journal[i], e))
			return (long)i;
	return -1;
}

/*
 * The journal file: one line per record, appended with one write() each,
 * so that a kill -9 at any moment leaves whole lines and at most one torn
 * last line (which its checksum gives away). No fsync: what it records
 * lives in the kernel and does not outlive a reboot any more than /run
 * does; the header's boot id tells a journal of an earlier boot.
 *
 *   vsrouted-journal 1 boot=BOOT_ID netns=INODE pid=PID
 *   + KIND ADDR/PLEN if=N table=N prio=N via=GW sport=N proto=N path=S old=S #CRC
 *   - KIND ... (the same fields)
 *
 * "+" is written before the change is made, "-" once it is undone (or was
 * not made after all). Replayed in order, they leave what is to be undone:
 * the in-memory journal of the instance that wrote them. S is "-" when
 * empty, else the string with every byte outside [A-Za-z0-9/._:,] as %XX.
 * CRC is FNV-1a (32 bits) of the line up to the space before '#'.
 */
#define NL_JMAGIC     "vsrouted-journal 1"
#define NL_JLINE_MAX  1024
#define NL_JCOMPACT   256       /* dead records tolerated before a rewrite */

static const char *const nl_jkind_name[] = {
	[NLJ_ROUTE]  = "route",
	[NLJ_PROXY]  = "proxy",
	[NLJ_RULE]   = "rule",
	[NLJ_SYSCTL] = "sysctl",
	[NLJ_ADDR]   = "addr",
	[NLJ_LINK]   = "link",
};


static uint32_t
nl_fnv1a(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

static int
nl_jsafe(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '/' || c == '.' || c == '_' || c == ':' || c == ',';
}

static void
nl_jesc(const char *s, char *out, size_t len)
{
	size_t o = 0;

	if (*s == '\0') {
		snprintf(out, len, "-");
		return;
	}
	for (; *s && o + 4 < len; s++) {
		if (nl_jsafe((unsigned char)*s))
			out[o++] = *s;
		else
			o += (size_t)snprintf(out + o, len - o, "%%%02X", (unsigned char)*s);
	}
	out[o] = '\0';
}

/* -1 on a malformed escape or an OUT too small. */
static int
nl_junesc(const char *s, char *out, size_t len)
{
	size_t o = 0;
	unsigned v;

	if (strcmp(s, "-") == 0) {
		out[0] = '\0';
		return 0;
	}
	for (; *s; s++) {
		if (o + 1 >= len)
			return -1;
		if (*s == '%') {
			if (sscanf(s + 1, "%2x", &v) != 1 || !isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]) || v == 0)
				return -1;
			out[o++] = (char)v;
			s += 2;
		} else if (nl_jsafe((unsigned char)*s)) {
			out[o++] = *s;
		} else {
			return -1;
		}
	}
	out[o] = '\0';
	return 0;
}

/* OP E as one line with its newline; its length. */
static size_t
nl_jformat(char op, const struct nl_jent *e, char *line, size_t len)
{
	char a[ADDR_STRLEN], gw[ADDR_STRLEN], path[3 * sizeof(e->path) + 1],
	    old[3 * sizeof(e->old) + 1];
	/* sysctls and links have no address: 0.0.0.0 stands there */
	int af = e->af == AF_INET6 ? AF_INET6 : AF_INET;
	int n;

	nl_jesc(e->path, path, sizeof(path));
	nl_jesc(e->old, old, sizeof(old));
	n = snprintf(line, len, "%c %s %s/%d if=%d table=%u prio=%u via=%s sport=%u proto=%u "
	    "path=%s old=%s", op, nl_jkind_name[e->kind], nl_ip(af, &e->addr, a), e->plen,
	    e->ifindex, e->table, e->prio, nl_ip(af, &e->gateway, gw), ntohs(e->sport),
	    e->ipproto, path, old);
	if (e->fwmark != 0)
		n += snprintf(line + n, len - (size_t)n, " mark=%u", e->fwmark);
	if (e->sport_end != 0)
		n += snprintf(line + n, len - (size_t)n, " sport_end=%u", ntohs(e->sport_end));
	if (e->goto_prio != 0)
		n += snprintf(line + n, len - (size_t)n, " goto=%u", e->goto_prio);
	if (e->nop)
		n += snprintf(line + n, len - (size_t)n, " nop=1");
	n += snprintf(line + n, len - (size_t)n, " #%08x\n", nl_fnv1a(line, (size_t)n));
	return (size_t)n;
}

/*
 * One record line (newline stripped) into OP and E; -1 when it is torn,
 * fails its checksum or holds what no instance would have written (a
 * sysctl outside net/, say): such a line is never acted upon.
 */
static int
nl_jparse(const char *line, char *op, struct nl_jent *e)
{
	char kind[16], a[ADDR_STRLEN], gw[ADDR_STRLEN], path[3 * sizeof(e->path) + 1],
	    old[3 * sizeof(e->old) + 1];
	const char *hash = strrchr(line, '#');
	unsigned table, prio, sport, proto, crc;
	int plen, ifx, end = 0, af, gwaf;
	size_t k;

	if (hash == NULL || hash == line || hash[-1] != ' ' ||
	    sscanf(hash, "#%8x%n", &crc, &end) != 1 || hash[end] != '\0' ||
	    crc != nl_fnv1a(line, (size_t)(hash - 1 - line)))
		return -1;
	if (sscanf(line, "%c %15s %45[0-9a-fA-F.:]/%d if=%d table=%u prio=%u via=%45s sport=%u "
	    "proto=%u path=%384s old=%192s", op, kind, a, &plen, &ifx, &table, &prio, gw,
	    &sport, &proto, path, old) != 12 || (*op != '+' && *op != '-'))
		return -1;
	memset(e, 0, sizeof(*e));
	for (k = 0; k < ARRAY_SIZE(nl_jkind_name); k++)
		if (nl_jkind_name[k] && strcmp(kind, nl_jkind_name[k]) == 0)
			break;
	if (k == ARRAY_SIZE(nl_jkind_name) || addr_pton(a, &af, &e->addr) < 0 ||
	    addr_pton(gw, &gwaf, &e->gateway) < 0 || gwaf != af || a[0] == '[' || gw[0] == '[' ||
	    plen < 0 || plen > nl_maxplen(af) || ifx < 0 || sport > 65535 || proto > 255 ||
	    nl_junesc(path, e->path, sizeof(e->path)) < 0 ||
	    nl_junesc(old, e->old, sizeof(e->old)) < 0)
		return -1;
	e->kind = (enum nl_jkind)k;
	/* as the instance made them: a sysctl or a link has no family */
	e->af = e->kind == NLJ_SYSCTL || e->kind == NLJ_LINK ? 0 : af;
	e->plen = plen;
	e->ifindex = ifx;
	e->table = table;
	e->prio = prio;
	e->sport = htons((uint16_t)sport);
	e->ipproto = (uint8_t)proto;
	/* A rule's firewall mark, written only when there is one. */
	const char *mk = strstr(line, " mark=");
	if (mk != NULL && (sscanf(mk, " mark=%u", &e->fwmark) != 1 || e->kind != NLJ_RULE))
		return -1;
	/* A rule's port range end, goto target and nop, likewise. */
	unsigned v;
	if ((mk = strstr(line, " sport_end=")) != NULL) {
		if (sscanf(mk, " sport_end=%u", &v) != 1 || v == 0 || v > 65535 || e->kind != NLJ_RULE)
			return -1;
		e->sport_end = htons((uint16_t)v);
	}
	if ((mk = strstr(line, " goto=")) != NULL &&
	    (sscanf(mk, " goto=%u", &e->goto_prio) != 1 || e->kind != NLJ_RULE))
		return -1;
	if ((mk = strstr(line, " nop=")) != NULL) {
		if (sscanf(mk, " nop=%u", &v) != 1 || v != 1 || e->kind != NLJ_RULE)
			return -1;
		e->nop = true;
	}
	if (e->kind == NLJ_SYSCTL && (strncmp(e->path, "net/", 4) != 0 ||
	    strstr(e->path, "..") != NULL || e->old[0] == '\0'))
		return -1;
	if ((e->kind == NLJ_LINK && (e->path[0] == '\0' || strlen(e->path) >= IF_NAMESIZE ||
	    strchr(e->path, '/') != NULL)) || (e->kind == NLJ_RULE && strlen(e->path) >= IF_NAMESIZE))
		return -1;
	return 0;
}

/* Append LINE; a failed write is cut back off, so that no torn line stays in the middle. */
static int
nl_jappend(const char *line, size_t len)
{
	off_t   at = lseek(nl_jfd, 0, SEEK_END);
	size_t  off = 0;
	ssize_t n;

	while (off < len) {
		n = write(nl_jfd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = n < 0 ? errno : EIO;
			if (at >= 0 && ftruncate(nl_jfd, at) < 0)
				log_debug("journal %s: truncate: %s", nl_jpath, strerror(errno));
			errno = saved;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int
nl_jwrite(char op, const struct nl_jent *e)
{
	char line[NL_JLINE_MAX];
	size_t n;

	if (nl_jfd < 0)
		return 0;
	n = nl_jformat(op, e, line, sizeof(line));
	if (nl_jappend(line, n) < 0) {
		log_warn("journal %s: cannot record %s %s", nl_jpath, op == '+' ? "a" : "the undo of a",
		    nl_jkind_name[e->kind]);
		return -1;
	}
	nl_jlines++;
	return 0;
}

/* The header line for a journal of this boot, namespace and process. */
static size_t
nl_jheader(char *line, size_t len)
{
	char boot[64] = "-";
	struct stat st;
	unsigned long ns = 0;
	int fd;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, boot, sizeof(boot) - 1);
		boot[n > 0 ? n : 0] = '\0';
		boot[strcspn(boot, "\n")] = '\0';
		close(fd);
		if (boot[0] == '\0')
			snprintf(boot, sizeof(boot), "-");
	}
	if (stat("/proc/self/ns/net", &st) == 0)
		ns = (unsigned long)st.st_ino;
	return (size_t)snprintf(line, len, NL_JMAGIC " boot=%s netns=%lu pid=%ld\n", boot, ns,
	    (long)getpid());
}

/* Empty the file and write a fresh header. */
static int
nl_jreset(void)
{
	char line[256];
	size_t n = nl_jheader(line, sizeof(line));

	nl_jlines = 0;
	if (ftruncate(nl_jfd, 0) < 0 || nl_jappend(line, n) < 0) {
		log_warn("journal %s", nl_jpath);
		return -1;
	}
	return 0;
}

/*
 * Rewrite the file with the live entries only, once dead records pile up
 * (reloads that add and remove addresses): a new file, locked, renamed
 * over the old one, so that a kill -9 leaves one or the other whole.
 * Where the directory is not writable (after a drop to "user") the file
 * just grows; said once.
 */
static void
nl_jcompact(void)
{
	char tmp[PATH_MAX + 8], line[NL_JLINE_MAX];
	size_t n;
	int fd, ok;

	if (nl_jfd < 0 || nl_jlines < 2 * nl_jlen + NL_JCOMPACT || nl_jcompact_failed)
		return;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", nl_jpath) >= sizeof(tmp))
		return;
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (!nl_jcompact_failed)
			log_info("journal %s: cannot rewrite it (%s); it grows instead", nl_jpath,
			    strerror(errno));
		nl_jcompact_failed = 1;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return;
	}
	int old = nl_jfd;
	nl_jfd = fd;
	n = nl_jheader(line, sizeof(line));
	ok = nl_jappend(line, n) == 0;
	for (size_t i = 0; ok && i < nl_jlen; i++) {
		n = nl_jformat('+', &nl_journal[i], line, sizeof(line));
		ok = nl_jappend(line, n) == 0;
	}
	if (ok && rename(tmp, nl_jpath) == 0) {
		close(old);
		nl_jlines = nl_jlen;
		return;
	}
	if (!nl_jcompact_failed)
		log_info("journal %s: cannot rewrite it (%s); it grows instead", nl_jpath,
		    strerror(errno));
	nl_jcompact_failed = 1;
	unlink(tmp);
	close(fd);
	nl_jfd = old;
}

/*
 * Before the change E: room for it, and its "+" record. 1 when it is to
 * be recorded, 0 when the journal holds it already (a proxy entry taken
 * over again), -1 (logged) when it cannot be recorded: no change then.
 */
static int
nl_jbegin(const struct nl_jent *e)
{
	if (nl_jreserve() < 0)
		return -1;
	if (e->kind != NLJ_SYSCTL && nl_jfind(e) >= 0)
		return 0;
	return nl_jwrite('+', e) < 0 ? -1 : 1;
}

/* After the change E (REC from nl_jbegin): kept if it was made (OK), else unrecorded. */
static void
nl_jend(const struct nl_jent *e, int rec, int ok)
{
	if (rec <= 0)
		return;
	if (ok)
		nl_journal[nl_jlen++] = *e;
	else
		nl_jwrite('-', e);
	nl_jcompact();
}

/* E's object is gone: its entry goes, and a "-" record says so. */
static void
nl_jdrop(const struct nl_jent *e)
{
	long i = nl_jfind(e);

	if (i < 0)
		return;
	memmove(&nl_journal[i], &nl_journal[i + 1],
	    (nl_jlen - (size_t)i - 1) * sizeof(*nl_journal));
	nl_jlen--;
	nl_jwrite('-', e);
	nl_jcompact();
}

/* Links */

struct nl_link {
	int      ifindex;
	int      found;
	int      has_mac;
	int      has_mtu;
	uint8_t  mac[6];
	uint32_t mtu;
};

static int
nl_link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_link         *l = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct nl_attrs         a = { .max = IFLA_MTU };

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)) ||
	    ifm->ifi_index != l->ifindex)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), nl_attr_cb, &a);
	l->found = 1;
	if (a.tb[IFLA_ADDRESS] != NULL &&
	    mnl_attr_get_payload_len(a.tb[IFLA_ADDRESS]) == 6) {
		memcpy(l->mac, mnl_attr_get_payload(a.tb[IFLA_ADDRESS]), 6);
		l->has_mac = 1;
	}
	if (nl_attr_u32(a.tb[IFLA_MTU], &l->mtu) == 0)
		l->has_mtu = 1;
	return MNL_CB_OK;
}

static int
nl_link_get(int ifindex, struct nl_link *l, const char *what)
{
	struct ifinfomsg ifm = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nlmsghdr *nlh;
	char             ifn[IF_NAMESIZE];

	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	nlh = nl_msg(RTM_GETLINK, NLM_F_ACK, &ifm, sizeof(ifm));
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (nl_talk(nlh, nl_link_cb, l) < 0) {
		log_warn("link %s %s", nl_ifname(ifindex, ifn), what);
		return -1;
	}
	if (!l->found) {
		log_warnx("link %s %s: no answer", nl_ifname(ifindex, ifn), what);
		return -1;
	}
	return 0;
}

int
nl_link_up(int ifindex)
{
	struct ifinfomsg ifm = {
		.ifi_family = AF_UNSPEC,
		.ifi_index  = ifindex,
		.ifi_flags  = IFF_UP,
		.ifi_change = IFF_UP,
	};
	char ifn[IF_NAMESIZE];

	if (nl_talk(nl_msg(RTM_NEWLINK, NLM_F_ACK, &ifm, sizeof(ifm)), NULL, NULL) < 0) {
		log_warn("link %s up", nl_ifname(ifindex, ifn));
		return -1;
	}
	return 0;
}

int
nl_link_mac(int ifindex, uint8_t mac[6])
{
	struct nl_link l;
	char           ifn[IF_NAMESIZE];

	if (nl_link_get(ifindex, &l, "mac") < 0)
		return -1;
	if (!l.has_mac) {
		log_warnx("link %s mac: no Ethernet address", nl_ifname(ifindex, ifn));
		return -1;
	}
	memcpy(mac, l.mac, 6);
	return 0;
}

int
nl_link_mtu(int ifindex, unsigned *mtu)
{
	struct nl_link l;
	char           ifn[IF_NAMESIZE];

	if (nl_link_get(ifindex, &l, "mtu") < 0)
		return -1;
	if (!l.has_mtu) {
		log_warnx("link %s mtu: not reported", nl_ifname(ifindex, ifn));
		return -1;
	}
	*mtu = l.mtu;
	return 0;
}

/*
 * The TAP NAME, journaled once it exists: it goes with the daemon's
 * descriptors, and the undo removes it should it still be there (only a
 * tun/tap device of that name: never another interface that took it).
 */
struct nl_lfind {
	int  ifindex;
	int  is_tun;
};

static int
nl_lfind_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_lfind        *l = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct nl_attrs         a = { .max = IFLA_LINKINFO };
	struct nl_attrs         li = { .max = IFLA_INFO_KIND };

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), nl_attr_cb, &a);
	l->ifindex = ifm->ifi_index;
	if (a.tb[IFLA_LINKINFO] != NULL) {
		mnl_attr_parse_nested(a.tb[IFLA_LINKINFO], nl_attr_cb, &li);
		if (li.tb[IFLA_INFO_KIND] != NULL &&
		    strcmp(mnl_attr_get_str(li.tb[IFLA_INFO_KIND]), "tun") == 0)
			l->is_tun = 1;
	}
	return MNL_CB_OK;
}

static void
nl_link_delete(const struct nl_jent *e)
{
	struct ifinfomsg ifm = { .ifi_family = AF_UNSPEC };
	struct nl_lfind  l = { 0 };
	struct nlmsghdr *nlh;

	nlh = nl_msg(RTM_GETLINK, NLM_F_ACK, &ifm, sizeof(ifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, e->path);
	if (nl_talk(nlh, nl_lfind_cb, &l) < 0 || l.ifindex <= 0) {
		if (errno == ENODEV || l.ifindex <= 0)
			log_debug("undo link %s: already gone", e->path);
		else
			log_warn("undo link %s", e->path);
		return;
	}
	if (!l.is_tun) {
		log_warnx("undo link %s: not a tun/tap device now; left alone", e->path);
		return;
	}
	ifm.ifi_index = l.ifindex;
	if (nl_talk(nl_msg(RTM_DELLINK, NLM_F_ACK, &ifm, sizeof(ifm)), NULL, NULL) < 0 &&
	    errno != ENODEV)
		log_warn("undo link %s", e->path);
}

int
nl_link_journal(const char *name)
{
	struct nl_jent e = { .kind = NLJ_LINK };
	int            rec;

	if (strlen(name) >= IF_NAMESIZE) {
		errno = ENAMETOOLONG;
		log_warn("link %s", name);
		return -1;
	}
	snprintf(e.path, sizeof(e.path), "%s", name);
	if ((rec = nl_jbegin(&e)) < 0)
		return -1;
	nl_jend(&e, rec, 1);
	return 0;
}

/* Routes */

static struct nlmsghdr *
nl_route_msg(uint16_t type, uint16_t flags, const struct nl_jent *e)
{
	int gw = !addr_is_zero(&e->gateway);
	struct rtmsg rtm = {
		.rtm_family   = (unsigned char)e->af,
		.rtm_dst_len  = (unsigned char)e->plen,
		.rtm_table    = e->table < 256 ? (unsigned char)e->table : RT_TABLE_UNSPEC,
		.rtm_protocol = RTPROT_STATIC,
		/* IPv6 routes have no scope of their own: the kernel's universe. */
		.rtm_scope    = gw || e->af == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		.rtm_type     = RTN_UNICAST,
		.rtm_flags    = gw ? RTNH_F_ONLINK : 0,
	};
	struct nlmsghdr *nlh = nl_msg(type, flags, &rtm, sizeof(rtm));

	if (e->plen > 0)
		mnl_attr_put(nlh, RTA_DST, addr_len(e->af), &e->addr);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_len(e->af), &e->gateway);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)e->ifindex);
	if (e->table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, e->table);
	return nlh;
}

static const char *
nl_route_name(const struct nl_jent *e, char *buf, size_t len)
{
	char ip[ADDR_STRLEN], gw[ADDR_STRLEN + 16] = "", ifn[IF_NAMESIZE], tab[24];

	if (!addr_is_zero(&e->gateway)) {
		char a[ADDR_STRLEN];
		snprintf(gw, sizeof(gw), " via %s onlink", nl_ip(e->af, &e->gateway, a));
	}
	snprintf(buf, len, "route %s/%d%s dev %s%s", nl_ip(e->af, &e->addr, ip), e->plen, gw,
	    nl_ifname(e->ifindex, ifn), nl_tabname(e->table, tab, sizeof(tab)));
	return buf;
}

static void
nl_route_ent(struct nl_jent *e, int af, const union vsr_addr *addr, int plen, int ifindex,
    uint32_t table)
{
	memset(e, 0, sizeof(*e));
	e->kind = NLJ_ROUTE;
	e->af = af;
	e->addr = *addr;
	e->plen = plen;
	e->ifindex = ifindex;
	e->table = table;
}

int
nl_route_add_table(int af, const union vsr_addr *addr, int plen, int ifindex, uint32_t table)
{
	return nl_route_add_via(af, addr, plen, NULL, ifindex, table);
}

int
nl_route_add_via(int af, const union vsr_addr *addr, int plen, const union vsr_addr *gateway,
    int ifindex, uint32_t table)
{
	struct nl_jent e;
	char           name[200];
	int            rec;

	nl_route_ent(&e, af, addr, plen, ifindex, table);
	if (gateway != NULL)
		e.gateway = *gateway;
	if (plen < 0 || plen > nl_maxplen(af) || table == RT_TABLE_UNSPEC) {
		errno = EINVAL;
		log_warn("%s", nl_route_name(&e, name, sizeof(name)));
		return -1;
	}
	if ((rec = nl_jbegin(&e)) < 0)
		return -1;
	if (nl_talk(nl_route_msg(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &e),
	    NULL, NULL) < 0) {
		log_warn("%s", nl_route_name(&e, name, sizeof(name)));
		nl_jend(&e, rec, 0);
		return -1;
	}
	nl_jend(&e, rec, 1);
	return 0;
}

int
nl_route_add(int af, const union vsr_addr *addr, int plen, int ifindex)
{
	return nl_route_add_table(af, addr, plen, ifindex, RT_TABLE_MAIN);
}

/* Delete route E; one that is already gone (or whose device is) is no error. */
static int
nl_route_delete(const struct nl_jent *e, const char *verb)
{
	char name[200];

	if (nl_talk(nl_route_msg(RTM_DELROUTE, NLM_F_ACK, e), NULL, NULL) == 0)
		return 0;
	if (errno == ESRCH || errno == ENODEV) {
		log_debug("%s%s: already gone (%s)", verb,
		    nl_route_name(e, name, sizeof(name)), strerror(errno));
		return 0;
	}
	log_warn("%s%s", verb, nl_route_name(e, name, sizeof(name)));
	return -1;
}

int
nl_route_del(int af, const union vsr_addr *addr, int plen, int ifindex)
{
	return nl_route_del_table(af, addr, plen, ifindex, RT_TABLE_MAIN);
}

int
nl_route_del_table(int af, const union vsr_addr *addr, int plen, int ifindex, uint32_t table)
{
	struct nl_jent e;

	nl_route_ent(&e, af, addr, plen, ifindex, table);
	if (nl_route_delete(&e, "delete ") < 0)
		return -1;
	nl_jdrop(&e);
	return 0;
}

int
nl_route_del_via(int af, const union vsr_addr *addr, int plen, const union vsr_addr *gateway,
    int ifindex, uint32_t table)
{
	struct nl_jent e;

	nl_route_ent(&e, af, addr, plen, ifindex, table);
	if (gateway != NULL)
		e.gateway = *gateway;
	if (nl_route_delete(&e, "delete ") < 0)
		return -1;
	nl_jdrop(&e);
	return 0;
}

struct nl_rget {
	struct nl_route_info *out;
	int                   af;
	int                   found;
};

/* An address attribute of family AF into A; -1 when absent or of another size. */
static int
nl_attr_addr(const struct nlattr *attr, int af, union vsr_addr *a)
{
	if (attr == NULL || mnl_attr_get_payload_len(attr) != addr_len(af))
		return -1;
	memset(a, 0, sizeof(*a));
	memcpy(a, mnl_attr_get_payload(attr), addr_len(af));
	return 0;
}

static int
nl_route_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_rget     *g = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_attrs     a = { .max = RTA_METRICS };
	struct nl_attrs     m = { .max = RTAX_MTU };
	uint32_t            v;

	if (nlh->nlmsg_type != RTM_NEWROUTE || g->found ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
	    rtm->rtm_family != g->af)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), nl_attr_cb, &a);
	g->found = 1;
	g->out->local = rtm->rtm_type == RTN_LOCAL;
	if (nl_attr_u32(a.tb[RTA_OIF], &v) == 0)
		g->out->oif = (int)v;
	nl_attr_addr(a.tb[RTA_GATEWAY], g->af, &g->out->gateway);
	nl_attr_addr(a.tb[RTA_PREFSRC], g->af, &g->out->prefsrc);
	if (a.tb[RTA_METRICS]) {
		mnl_attr_parse_nested(a.tb[RTA_METRICS], nl_attr_cb, &m);
		nl_attr_u32(m.tb[RTAX_MTU], &g->out->mtu);
	}
	return MNL_CB_OK;
}

int
nl_route_get(int af, const union vsr_addr *addr, struct nl_route_info *out)
{
	struct rtmsg     rtm = { .rtm_family = (unsigned char)af,
	    .rtm_dst_len = (unsigned char)nl_maxplen(af) };
	struct nl_rget   g = { .out = out, .af = af };
	struct nlmsghdr *nlh;
	char             ip[ADDR_STRLEN];

	memset(out, 0, sizeof(*out));
	nlh = nl_msg(RTM_GETROUTE, NLM_F_ACK, &rtm, sizeof(rtm));
	mnl_attr_put(nlh, RTA_DST, addr_len(af), addr);
	if (nl_talk(nlh, nl_route_get_cb, &g) < 0) {
		log_warn("route get %s", nl_ip(af, addr, ip));
		return -1;
	}
	if (!g.found) {
		log_warnx("route get %s: no answer", nl_ip(af, addr, ip));
		return -1;
	}
	return 0;
}

/* Policy rules */

static struct nlmsghdr *
nl_rule_msg(uint16_t type, uint16_t flags, const struct nl_jent *e)
{
	struct fib_rule_hdr frh = {
		.family  = (unsigned char)e->af,
		.src_len = (unsigned char)e->plen,
		.table   = e->table < 256 ? (unsigned char)e->table : RT_TABLE_UNSPEC,
		.action  = e->nop ? FR_ACT_NOP : e->goto_prio ? FR_ACT_GOTO : FR_ACT_TO_TBL,
	};
	struct nlmsghdr *nlh = nl_msg(type, flags, &frh, sizeof(frh));

	if (e->plen > 0)
		mnl_attr_put(nlh, FRA_SRC, addr_len(e->af), &e->addr);
	if (e->path[0] != '\0')
		mnl_attr_put_strz(nlh, FRA_IIFNAME, e->path);
	if (e->ipproto != 0)
		mnl_attr_put_u8(nlh, FRA_IP_PROTO, e->ipproto);
	if (e->fwmark != 0) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, e->fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffffu);
	}
	if (e->sport != 0) {
		struct fib_rule_port_range r = { ntohs(e->sport),
		    ntohs(e->sport_end ? e->sport_end : e->sport) };
		mnl_attr_put(nlh, FRA_SPORT_RANGE, sizeof(r), &r);
	}
	if (e->goto_prio != 0)
		mnl_attr_put_u32(nlh, FRA_GOTO, e->goto_prio);
	else if (!e->nop)
		mnl_attr_put_u32(nlh, FRA_TABLE, e->table);
	if (e->prio != 0)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, e->prio);
	return nlh;
}

static const char *
nl_rule_name(const struct nl_jent *e, char *buf, size_t len)
{
	char ip[ADDR_STRLEN], pp[48] = "", act[32];

	if (e->fwmark != 0)
		snprintf(pp, sizeof(pp), " fwmark %u", e->fwmark);
	else if (e->ipproto != 0 && e->sport != 0 && e->sport_end != 0)
		snprintf(pp, sizeof(pp), " ipproto %u sport %u-%u", e->ipproto, ntohs(e->sport),
		    ntohs(e->sport_end));
	else if (e->ipproto != 0 && e->sport != 0)
		snprintf(pp, sizeof(pp), " ipproto %u sport %u", e->ipproto, ntohs(e->sport));
	else if (e->ipproto != 0)
		snprintf(pp, sizeof(pp), " ipproto %u", e->ipproto);
	if (e->nop)
		snprintf(act, sizeof(act), "nop");
	else if (e->goto_prio != 0)
		snprintf(act, sizeof(act), "goto %u", e->goto_prio);
	else
		snprintf(act, sizeof(act), "lookup %u", e->table);
	snprintf(buf, len, "rule%s from %s/%d%s iif %s %s pref %u",
	    e->af == AF_INET6 ? " -6" : "", nl_ip(e->af, &e->addr, ip), e->plen, pp,
	    e->path[0] ? e->path : "any", act, e->prio);
	return buf;
}

static int
nl_rule_ent(struct nl_jent *e, const struct nl_rule *r)
{
	uint32_t table = r->table, prio = r->prio;
	int      plen = r->plen, iif = r->iif;

	memset(e, 0, sizeof(*e));
	e->kind = NLJ_RULE;
	e->af = r->af;
	e->addr = r->src;
	e->plen = plen;
	e->ipproto = r->ipproto;
	e->fwmark = r->fwmark;
	e->sport = r->sport;
	e->sport_end = r->sport_end;
	e->goto_prio = r->goto_prio;
	e->nop = r->nop;
	e->ifindex = iif;
	e->table = table;
	e->prio = prio;
	if (iif > 0 && if_indextoname((unsigned)iif, e->path) == NULL) {
		snprintf(e->path, sizeof(e->path), "if%d", iif);
		return -1;
	}
	if ((r->af != AF_INET && r->af != AF_INET6) || plen < 0 || plen > nl_maxplen(r->af) ||
	    (table == RT_TABLE_UNSPEC) != (r->goto_prio != 0 || r->nop) ||
	    (r->goto_prio != 0 && r->goto_prio <= prio) || (r->sport_end != 0 && r->sport == 0)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
nl_rule_add(const struct nl_rule *r)
{
	struct nl_jent e;
	char           name[256];
	int            rec;

	if (nl_rule_ent(&e, r) < 0) {
		log_warn("%s", nl_rule_name(&e, name, sizeof(name)));
		return -1;
	}
	if ((rec = nl_jbegin(&e)) < 0)
		return -1;
	if (nl_talk(nl_rule_msg(RTM_NEWRULE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &e),
	    NULL, NULL) < 0) {
		log_warn("%s", nl_rule_name(&e, name, sizeof(name)));
		nl_jend(&e, rec, 0);
		return -1;
	}
	nl_jend(&e, rec, 1);
	return 0;
}

static int
nl_rule_delete(const struct nl_jent *e, const char *verb)
{
	char name[256];

	if (nl_talk(nl_rule_msg(RTM_DELRULE, NLM_F_ACK, e), NULL, NULL) == 0)
		return 0;
	if (errno == ENOENT) {
		log_debug("%s%s: already gone", verb, nl_rule_name(e, name, sizeof(name)));
		return 0;
	}
	log_warn("%s%s", verb, nl_rule_name(e, name, sizeof(name)));
	return -1;
}

int
nl_rule_del(const struct nl_rule *r)
{
	struct nl_jent e;
	long           i;
	char           name[256];

	/* the interface may be gone: take its name from the journal */
	if (nl_rule_ent(&e, r) < 0) {
		if (errno == EINVAL) {
			log_warn("delete %s", nl_rule_name(&e, name, sizeof(name)));
			return -1;
		}
		for (i = (long)nl_jlen - 1; i >= 0; i--) {
			const struct nl_jent *j = &nl_journal[i];

			if (j->kind == NLJ_RULE && j->af == r->af && addr_eq(&j->addr, &r->src) &&
			    j->plen == r->plen &&
			    j->ifindex == r->iif && j->table == r->table && j->prio == r->prio &&
			    j->ipproto == r->ipproto && j->sport == r->sport &&
			    j->sport_end == r->sport_end && j->goto_prio == r->goto_prio &&
			    j->nop == r->nop && j->fwmark == r->fwmark) {
				e = *j;
				break;
			}
		}
	}
	if (nl_rule_delete(&e, "delete ") < 0)
		return -1;
	nl_jdrop(&e);
	return 0;
}

/* Neighbours */

static struct nlmsghdr *
nl_proxy_msg(uint16_t type, uint16_t flags, const struct nl_jent *e)
{
	struct ndmsg ndm = {
		.ndm_family  = (unsigned char)e->af,
		.ndm_ifindex = e->ifindex,
		.ndm_state   = NUD_PERMANENT,
		.ndm_flags   = NTF_PROXY,
	};
	struct nlmsghdr *nlh = nl_msg(type, flags, &ndm, sizeof(ndm));

	mnl_attr_put(nlh, NDA_DST, addr_len(e->af), &e->addr);
	return nlh;
}

static const char *
nl_proxy_name(const struct nl_jent *e, char *buf, size_t len)
{
	char ip[ADDR_STRLEN], ifn[IF_NAMESIZE];

	snprintf(buf, len, "proxy neigh %s dev %s", nl_ip(e->af, &e->addr, ip),
	    nl_ifname(e->ifindex, ifn));
	return buf;
}

static void
nl_proxy_ent(struct nl_jent *e, int af, const union vsr_addr *addr, int ifindex)
{
	memset(e, 0, sizeof(*e));
	e->kind = NLJ_PROXY;
	e->af = af;
	e->addr = *addr;
	e->plen = nl_maxplen(af);
	e->ifindex = ifindex;
}

int
nl_proxy_neigh_add(int af, const union vsr_addr *addr, int ifindex)
{
	struct nl_jent e;
	char           name[128];
	int            rec;

	nl_proxy_ent(&e, af, addr, ifindex);
	if ((rec = nl_jbegin(&e)) < 0)
		return -1;
	/* REPLACE: an entry that is there already (ours, or left unjournaled) is taken over */
	if (nl_talk(nl_proxy_msg(RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, &e),
	    NULL, NULL) < 0) {
		log_warn("%s", nl_proxy_name(&e, name, sizeof(name)));
		nl_jend(&e, rec, 0);
		return -1;
	}
	nl_jend(&e, rec, 1);
	return 0;
}

static int
nl_proxy_delete(const struct nl_jent *e, const char *verb)
{
	char name[128];

	if (nl_talk(nl_proxy_msg(RTM_DELNEIGH, NLM_F_ACK, e), NULL, NULL) == 0)
		return 0;
	if (errno == ENOENT || errno == ENODEV) {
		log_debug("%s%s: already gone (%s)", verb,
		    nl_proxy_name(e, name, sizeof(name)), strerror(errno));
		return 0;
	}
	log_warn("%s%s", verb, nl_proxy_name(e, name, sizeof(name)));
	return -1;
}

int
nl_proxy_neigh_del(int af, const union vsr_addr *addr, int ifindex)
{
	struct nl_jent e;

	nl_proxy_ent(&e, af, addr, ifindex);
	if (nl_proxy_delete(&e, "delete ") < 0)
		return -1;
	nl_jdrop(&e);
	return 0;
}

/* States in which the kernel's link-layer address can be used as it is. */
#define NL_NUD_USABLE \
	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

struct nl_nget {
	int      af;
	union vsr_addr addr;
	int      ifindex;
	int      seen;         /* an entry exists */
	int      found;        /* ... and it is usable */
	uint16_t state;
	uint8_t  mac[6];
};

static int
nl_neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_nget     *g = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct nl_attrs     a = { .max = NDA_LLADDR };
	union vsr_addr      dst;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || g->found ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)) ||
	    ndm->ndm_family != g->af || ndm->ndm_ifindex != g->ifindex ||
	    (ndm->ndm_flags & NTF_PROXY))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ndm), nl_attr_cb, &a);
	if (nl_attr_addr(a.tb[NDA_DST], g->af, &dst) < 0 || !addr_eq(&dst, &g->addr))
		return MNL_CB_OK;
	g->seen = 1;
	g->state = ndm->ndm_state;
	if ((ndm->ndm_state & NL_NUD_USABLE) && a.tb[NDA_LLADDR] != NULL &&
	    mnl_attr_get_payload_len(a.tb[NDA_LLADDR]) == 6) {
		memcpy(g->mac, mnl_attr_get_payload(a.tb[NDA_LLADDR]), 6);
		g->found = 1;
	}
	return MNL_CB_OK;
}

int
nl_neigh_get(int af, const union vsr_addr *addr, int ifindex, uint8_t mac[6])
{
	struct ndmsg     ndm = { .ndm_family = (unsigned char)af, .ndm_ifindex = ifindex };
	struct nl_nget   g = { .af = af, .addr = *addr, .ifindex = ifindex };
	struct nlmsghdr *nlh;
	char             ip[ADDR_STRLEN], ifn[IF_NAMESIZE];
	int              ret;

	nlh = nl_msg(RTM_GETNEIGH, NLM_F_ACK, &ndm, sizeof(ndm));
	mnl_attr_put(nlh, NDA_DST, addr_len(af), addr);
	ret = nl_talk(nlh, nl_neigh_cb, &g);
	if (ret < 0 && errno == EOPNOTSUPP) {
		/* before Linux 5.0 there is no single-entry get: dump the table */
		ndm.ndm_ifindex = 0;
		nlh = nl_msg(RTM_GETNEIGH, NLM_F_DUMP, &ndm, sizeof(ndm));
		ret = nl_talk(nlh, nl_neigh_cb, &g);
	}
	if (ret < 0 && errno != ENOENT) {
		log_warn("neighbour %s dev %s", nl_ip(af, addr, ip), nl_ifname(ifindex, ifn));
		return -1;
	}
	if (!g.found) {
		if (g.seen)
			log_debug("neighbour %s dev %s: state 0x%x, not usable",
			    nl_ip(af, addr, ip), nl_ifname(ifindex, ifn), g.state);
		else
			log_debug("neighbour %s dev %s: none", nl_ip(af, addr, ip),
			    nl_ifname(ifindex, ifn));
		errno = ENOENT;
		return -1;
	}
	memcpy(mac, g.mac, 6);
	return 0;
}

/* Addresses */

struct nl_aget {
	int      af;
	int      ifindex;
	int      found;         /* 1: an address, 2: a link-local one (IPv6's choice) */
	union vsr_addr addr;
};

static int
nl_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_aget         *g = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct nl_attrs         a = { .max = IFA_LOCAL };
	union vsr_addr          got;
	int                     rank;

	if (nlh->nlmsg_type != RTM_NEWADDR || g->found == 2 ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    ifa->ifa_family != g->af || (int)ifa->ifa_index != g->ifindex)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), nl_attr_cb, &a);
	/* IFA_ADDRESS is the peer's on a point-to-point link: IFA_LOCAL first */
	if (nl_attr_addr(a.tb[IFA_LOCAL], g->af, &got) < 0 &&
	    nl_attr_addr(a.tb[IFA_ADDRESS], g->af, &got) < 0)
		return MNL_CB_OK;
	rank = g->af == AF_INET ? 2 : ifa->ifa_scope == RT_SCOPE_LINK ? 2 : 1;
	if (rank > g->found) {
		g->addr = got;
		g->found = rank;
	}
	return MNL_CB_OK;
}

int
nl_addr_get(int af, int ifindex, union vsr_addr *addr)
{
	struct ifaddrmsg ifa = { .ifa_family = (unsigned char)af, .ifa_index = (unsigned)ifindex };
	struct nl_aget   g = { .af = af, .ifindex = ifindex };
	char             ifn[IF_NAMESIZE];

	if (nl_talk(nl_msg(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa)),
	    nl_addr_cb, &g) < 0) {
		log_warn("address on %s", nl_ifname(ifindex, ifn));
		return -1;
	}
	if (!g.found) {
		log_debug("%s address on %s: none", addr_family_name(af), nl_ifname(ifindex, ifn));
		errno = EADDRNOTAVAIL;
		return -1;
	}
	*addr = g.addr;
	return 0;
}

static struct nlmsghdr *
nl_addr_msg(uint16_t type, uint16_t flags, const struct nl_jent *e)
{
	struct ifaddrmsg ifa = {
		.ifa_family    = (unsigned char)e->af,
		.ifa_prefixlen = (unsigned char)e->plen,
		/* An IPv6 address is usable at once: no duplicate address detection. */
		.ifa_flags     = e->af == AF_INET6 ? IFA_F_NODAD : 0,
		.ifa_scope     = RT_SCOPE_UNIVERSE,
		.ifa_index     = (unsigned)e->ifindex,
	};
	struct nlmsghdr *nlh = nl_msg(type, flags, &ifa, sizeof(ifa));

	mnl_attr_put(nlh, IFA_LOCAL, addr_len(e->af), &e->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(e->af), &e->addr);
	return nlh;
}

static const char *
nl_addr_name(const struct nl_jent *e, char *buf, size_t len)
{
	char ip[ADDR_STRLEN], ifn[IF_NAMESIZE];

	snprintf(buf, len, "address %s/%d dev %s", nl_ip(e->af, &e->addr, ip), e->plen,
	    nl_ifname(e->ifindex, ifn));
	return buf;
}

int
nl_addr_add(int af, const union vsr_addr *addr, int plen, int ifindex)
{
	struct nl_jent e = { .kind = NLJ_ADDR, .af = af, .addr = *addr, .plen = plen,
	    .ifindex = ifindex };
	char           name[128];
	int            rec;

	if (plen < 0 || plen > nl_maxplen(af)) {
		errno = EINVAL;
		log_warn("%s", nl_addr_name(&e, name, sizeof(name)));
		return -1;
	}
	if ((rec = nl_jbegin(&e)) < 0)
		return -1;
	if (nl_talk(nl_addr_msg(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &e),
	    NULL, NULL) < 0) {
		log_warn("%s", nl_addr_name(&e, name, sizeof(name)));
		nl_jend(&e, rec, 0);
		return -1;
	}
	nl_jend(&e, rec, 1);
	return 0;
}

/* An address that is already gone (or whose device is) is no error. */
static void
nl_addr_delete(const struct nl_jent *e)
{
	char name[128];

	if (nl_talk(nl_addr_msg(RTM_DELADDR, NLM_F_ACK, e), NULL, NULL) == 0 ||
	    errno == EADDRNOTAVAIL || errno == ENODEV)
		return;
	log_warn("undo %s", nl_addr_name(e, name, sizeof(name)));
}

/* Sysctls */

static int
sysctl_file(const char *path, char *buf, size_t len)
{
	if (strstr(path, "..") != NULL || path[0] == '/') {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)snprintf(buf, len, SYSCTL_ROOT "%s", path) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Read without logging; -1 and errno (EOVERFLOW when BUF is too small).
 * Integer sysctls answer only the first read(), truncated to its size, so
 * read into a buffer of our own that is larger than any value we restore.
 */
static int
sysctl_read(const char *path, char *buf, size_t len)
{
	char    file[256], val[1024];
	size_t  off = 0;
	ssize_t n;
	int     fd;

	if (len == 0 || sysctl_file(path, file, sizeof(file)) < 0)
		return -1;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (off < sizeof(val)) {
		n = read(fd, val + off, sizeof(val) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	while (off > 0 && val[off - 1] == '\n')
		off--;
	if (off >= len || off == sizeof(val)) {
		errno = EOVERFLOW;
		return -1;
	}
	memcpy(buf, val, off);
	buf[off] = '\0';
	return 0;
}

static int
sysctl_write(const char *path, const char *value)
{
	char    file[256];
	size_t  len = strlen(value);
	ssize_t n;
	int     fd;

	if (sysctl_file(path, file, sizeof(file)) < 0)
		return -1;
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != len) {
		errno = EIO;
		n = -1;
	}
	if (close(fd) < 0 && n >= 0)
		n = -1;
	return n < 0 ? -1 : 0;
}

int
sysctl_get(const char *path, char *buf, size_t len)
{
	if (sysctl_read(path, buf, len) < 0) {
		log_warn("sysctl %s", path);
		return -1;
	}
	return 0;
}

int
sysctl_set(const char *path, const char *value)
{
	struct nl_jent e = { .kind = NLJ_SYSCTL };
	int            rec;

	if (strlen(path) >= sizeof(e.path)) {
		errno = ENAMETOOLONG;
		log_warn("sysctl %s = %s", path, value);
		return -1;
	}
	strcpy(e.path, path);
	if (sysctl_read(path, e.old, sizeof(e.old)) < 0) {
		log_warn("sysctl %s", path);
		return -1;
	}
	if (strcmp(e.old, value) == 0)
		return 0;
	if ((rec = nl_jbegin(&e)) < 0)
		return -1;
	if (sysctl_write(path, value) < 0) {
		log_warn("sysctl %s = %s", path, value);
		nl_jend(&e, rec, 0);
		return -1;
	}
	log_debug("sysctl %s = %s (was %s)", path, value, e.old);
	nl_jend(&e, rec, 1);
	return 0;
}

/* Undo */

static void
nl_undo_one(const struct nl_jent *e)
{
	switch (e->kind) {
	case NLJ_ROUTE:
		nl_route_delete(e, "undo ");
		break;
	case NLJ_PROXY:
		nl_proxy_delete(e, "undo ");
		break;
	case NLJ_RULE:
		nl_rule_delete(e, "undo ");
		break;
	case NLJ_ADDR:
		nl_addr_delete(e);
		break;
	case NLJ_LINK:
		nl_link_delete(e);
		break;
	case NLJ_SYSCTL:
		if (sysctl_write(e->path, e->old) == 0)
			break;
		/* the interface the sysctl belonged to is gone (the TAP) */
		if (errno == ENOENT)
			log_debug("undo sysctl %s: already gone", e->path);
		else
			log_warn("undo sysctl %s = %s", e->path, e->old);
		break;
	}
}

void
nl_journal_forget(void)
{
	nl_jlen = 0;
	if (nl_jfd >= 0)
		nl_jreset();
}

void
nl_undo_all(void)
{
	while (nl_jlen > 0) {
		struct nl_jent e = nl_journal[--nl_jlen];

		nl_undo_one(&e);
		nl_jwrite('-', &e);
	}
}

/* The journal file at start */

/* The pid in the header of the journal open on FD, for a message; 0 if none. */
static long
nl_jholder(int fd)
{
	char line[256], *p;
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);

	if (n <= 0)
		return 0;
	line[n] = '\0';
	p = strstr(line, " pid=");
	return p && strncmp(line, NL_JMAGIC " ", sizeof(NL_JMAGIC)) == 0 ? atol(p + 5) : 0;
}

/*
 * Read the journal on nl_jfd into the in-memory journal, as the instance
 * that wrote it had it. One of another boot or network namespace is not
 * acted upon. *PID: the writer's.
 */
static void
nl_jreplay(long *pid)
{
	char now[256], *line = NULL, *sp;
	size_t cap = 0, lineno = 0, bad = 0;
	ssize_t n;
	FILE *f;
	int dfd;

	*pid = 0;
	nl_jheader(now, sizeof(now));
	sp = strstr(now, " pid=");
	if (sp)
		sp[1] = '\0';           /* "vsrouted-journal 1 boot=B netns=N " */
	dfd = dup(nl_jfd);
	if (dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0 || (f = fdopen(dfd, "r")) == NULL) {
		log_warn("journal %s: cannot read it", nl_jpath);
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct nl_jent e;
		char op;
		long i;

		lineno++;
		if (line[n - 1] != '\n') {
			log_warnx("journal %s:%zu: torn last record, ignored", nl_jpath, lineno);
			break;
		}
		line[n - 1] = '\0';
		if (lineno == 1) {
			if (strncmp(line, now, strlen(now)) != 0) {
				log_warnx("journal %s is not one of this boot and network namespace "
				    "(\"%.120s\"): nothing in it is undone", nl_jpath, line);
				break;
			}
			*pid = atol(line + strlen(now) + 4);
			continue;
		}
		if ((size_t)n > NL_JLINE_MAX || nl_jparse(line, &op, &e) < 0) {
			bad++;
			log_warnx("journal %s:%zu: unreadable record, ignored", nl_jpath, lineno);
			continue;
		}
		i = nl_jfind(&e);
		if (op == '-') {
			if (i >= 0) {
				memmove(&nl_journal[i], &nl_journal[i + 1],
				    (nl_jlen - (size_t)i - 1) * sizeof(*nl_journal));
				nl_jlen--;
			}
		} else if (e.kind == NLJ_SYSCTL || i < 0) {
			if (nl_jreserve() < 0)
				break;
			nl_journal[nl_jlen++] = e;
		}
	}
	free(line);
	fclose(f);
	(void)bad;
}

int
nl_journal_open(const char *path)
{
	struct stat st, pst;
	long pid;
	int fd = -1;

	if (nl_jfd >= 0)
		return 0;
	if (strlen(path) >= sizeof(nl_jpath)) {
		log_errx("journal %s: path too long", path);
		return -1;
	}
	/* Locked, and still the file at PATH (not one a compaction just replaced). */
	for (int tries = 0;; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			log_err("journal %s", path);
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno == EWOULDBLOCK)
				log_errx("journal %s is held by a running vsrouted (pid %ld): its host "
				    "changes are its own; not starting over them", path, nl_jholder(fd));
			else
				log_err("journal %s: lock", path);
			close(fd);
			return -1;
		}
		if (fstat(fd, &st) < 0 || stat(path, &pst) < 0) {
			log_err("journal %s", path);
			close(fd);
			return -1;
		}
		if (st.st_dev == pst.st_dev && st.st_ino == pst.st_ino)
			break;
		close(fd);
		if (tries == 5) {
			log_errx("journal %s keeps being replaced", path);
			return -1;
		}
	}
	/* What it holds is acted upon as root: only a file of our own, written by us. */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
		log_errx("journal %s: not a private file of uid %ld (owner %ld, mode %04o): "
		    "refusing to act on it", path, (long)geteuid(), (long)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	snprintf(nl_jpath, sizeof(nl_jpath), "%s", path);
	nl_jfd = fd;
	nl_jlen = 0;
	nl_jlines = 0;
	nl_jcompact_failed = 0;
	if (st.st_size > 0)
		nl_jreplay(&pid);
	if (nl_jlen > 0) {
		log_notice("journal %s: undoing %zu host changes left by an earlier instance "
		    "(pid %ld)", path, nl_jlen, pid);
		/* Not recorded: a kill -9 now leaves the file as it was, undone again next time. */
		nl_jfd = -1;
		nl_undo_all();
		nl_jfd = fd;
	}
	if (nl_jreset() < 0) {
		close(fd);
		nl_jfd = -1;
		return -1;
	}
	return 0;
}

/* The route and neighbour monitor (nexthop.c) */

int
nl_monitor_open(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE |
		    RTMGRP_IPV4_RULE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE |
		    /* no RTMGRP_ name of its own: the group's bit */
		    (1u << (RTNLGRP_IPV6_RULE - 1)),
	};
	int fd, sz = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		log_warn("netlink monitor: socket");
		return -1;
	}
	/* A burst of changes (a link going down takes its routes with it). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_warn("netlink monitor: bind");
		close(fd);
		return -1;
	}
	return fd;
}

static void
nl_monitor_one(const struct nlmsghdr *nlh, nl_event_fn cb, void *arg)
{
	struct nl_event ev = { .ifindex = 0 };

	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH: {
		const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
		struct nl_attrs a = { .max = NDA_LLADDR };

		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)) ||
		    (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) ||
		    (ndm->ndm_flags & NTF_PROXY))
			return;
		mnl_attr_parse(nlh, sizeof(*ndm), nl_attr_cb, &a);
		if (nl_attr_addr(a.tb[NDA_DST], ndm->ndm_family, &ev.addr) < 0)
			return;
		ev.af = ndm->ndm_family;
		ev.kind = NL_EV_NEIGH;
		ev.del = nlh->nlmsg_type == RTM_DELNEIGH;
		ev.ifindex = ndm->ndm_ifindex;
		ev.state = ndm->ndm_state;
		if (!ev.del && (ndm->ndm_state & NL_NUD_USABLE) && a.tb[NDA_LLADDR] != NULL &&
		    mnl_attr_get_payload_len(a.tb[NDA_LLADDR]) == 6) {
			memcpy(ev.mac, mnl_attr_get_payload(a.tb[NDA_LLADDR]), 6);
			ev.usable = 1;
		}
		break;
	}
	case RTM_NEWROUTE:
	case RTM_DELROUTE: {
		const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
		    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
			return;
		ev.kind = NL_EV_ROUTE;
		ev.af = rtm->rtm_family;
		ev.del = nlh->nlmsg_type == RTM_DELROUTE;
		break;
	}
	case RTM_NEWRULE:
	case RTM_DELRULE:
		ev.kind = NL_EV_RULE;
		ev.del = nlh->nlmsg_type == RTM_DELRULE;
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		ev.kind = NL_EV_ADDR;
		ev.del = nlh->nlmsg_type == RTM_DELADDR;
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
			return;
		ev.kind = NL_EV_LINK;
		ev.del = nlh->nlmsg_type == RTM_DELLINK;
		ev.ifindex = ifi->ifi_index;
		break;
	}
	default:
		return;
	}
	cb(&ev, arg);
}

int
nl_monitor_parse(const void *buf, size_t len, nl_event_fn cb, void *arg)
{
	const struct nlmsghdr *m;
	int left = (int)len, n = 0;

	for (m = buf; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		nl_monitor_one(m, cb, arg);
		n++;
	}
	return n;
}

int
nl_monitor_read(int fd, nl_event_fn cb, void *arg)
{
	static char buf[NL_RXBUF];
	int n = 0;

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Events were lost: whoever listens must look again. */
				struct nl_event ev = { .kind = NL_EV_OVERRUN };
				cb(&ev, arg);
				n++;
				continue;
			}
			if (errno == EAGAIN)
				return n;
			log_warn("netlink monitor");
			return -1;
		}
		n += nl_monitor_parse(buf, (size_t)r, cb, arg);
	}
}

int
nl_neigh_use(int af, const union vsr_addr *addr, int ifindex)
{
	struct ndmsg     ndm = { .ndm_family = (unsigned char)af, .ndm_ifindex = ifindex,
	    .ndm_flags = NTF_USE };
	struct nlmsghdr *nlh;
	char             ip[ADDR_STRLEN], ifn[IF_NAMESIZE];

	/* NTF_USE: the kernel treats the entry as used (creating it if need be), nothing more. */
	nlh = nl_msg(RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE, &ndm, sizeof(ndm));
	mnl_attr_put(nlh, NDA_DST, addr_len(af), addr);
	if (nl_talk(nlh, NULL, NULL) < 0) {
		log_debug("neighbour %s dev %s: use: %s", nl_ip(af, addr, ip), nl_ifname(ifindex, ifn),
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
nl_route_get_input(int af, const union vsr_addr *dst, const union vsr_addr *src, int iif,
    struct nl_route_info *out)
{
	unsigned char    plen = (unsigned char)nl_maxplen(af);
	struct rtmsg     rtm = { .rtm_family = (unsigned char)af, .rtm_dst_len = plen,
	    .rtm_src_len = plen };
	struct nl_rget   g = { .out = out, .af = af };
	struct nlmsghdr *nlh;
	uint32_t         ifx = (uint32_t)iif;
	char             ip[ADDR_STRLEN];

	memset(out, 0, sizeof(*out));
	nlh = nl_msg(RTM_GETROUTE, NLM_F_ACK, &rtm, sizeof(rtm));
	mnl_attr_put(nlh, RTA_DST, addr_len(af), dst);
	mnl_attr_put(nlh, RTA_SRC, addr_len(af), src);
	mnl_attr_put(nlh, RTA_IIF, sizeof(ifx), &ifx);
	if (nl_talk(nlh, nl_route_get_cb, &g) < 0) {
		log_debug("route get %s iif %d: %s", nl_ip(af, dst, ip), iif, strerror(errno));
		return -1;
	}
	if (!g.found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int
nl_neigh_state(int af, const union vsr_addr *addr, int ifindex, uint8_t mac[6], uint16_t *state)
{
	struct ndmsg     ndm = { .ndm_family = (unsigned char)af, .ndm_ifindex = ifindex };
	struct nl_nget   g = { .af = af, .addr = *addr, .ifindex = ifindex };
	struct nlmsghdr *nlh;

	nlh = nl_msg(RTM_GETNEIGH, NLM_F_ACK, &ndm, sizeof(ndm));
	mnl_attr_put(nlh, NDA_DST, addr_len(af), addr);
	if (nl_talk(nlh, nl_neigh_cb, &g) < 0 && errno != ENOENT)
		return -1;
	if (!g.seen) {
		errno = ENOENT;
		return -1;
	}
	*state = g.state;
	if (g.found)
		memcpy(mac, g.mac, 6);
	return 0;
}
