/* conf.c - vsrouted.conf: parse and validate into a plain structure */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <confuse.h>

#include "addr.h"
#include "common.h"
#include "conf.h"
#include "frag.h"
#include "log.h"
#include "sched.h"

#define CONF_FILE_MAX     (16 * 1024 * 1024)  /* bytes read at most */
#define CONF_CONN_MAX     67108864L           /* 2^26 connections */
#define CONF_TIMEOUT_MAX  31536000L           /* one year, in seconds */
#define CONF_MH_SIZE_MAX  1048573L            /* a prime below 2^20 */
#define CONF_NOTE_OPTS    32                  /* options per section, at most */
#define CONF_NAMED        (CFGF_TITLE | CFGF_MULTI | CFGF_NO_TITLE_DUPES)

/*
 * libconfuse keeps values but no line numbers, so the parse keeps its own
 * notes beside the tree, one per section: where the section opened, where
 * each option was set, and which values were refused. Refused values are
 * reported and parsing goes on, so one run prints every error; checks that
 * relate several values skip the ones already refused.
 */
struct conf_note {
	cfg_t    *sec;
	int       open;                   /* line of the opening brace */
	int       line[CONF_NOTE_OPTS];   /* by index in sec->opts; 0 = unset */
	unsigned  bad;                    /* bit per index: value refused */
};

struct conf_err {
	int       line;                   /* 0: about the file as a whole */
	unsigned  seq;                    /* keeps equal lines in found order */
	char     *msg;
};

struct conf_parse {
	const char       *file;
	cfg_t            *root;
	struct conf_note *notes;
	size_t            nnotes;
	size_t            capnotes;
	size_t            hint;           /* note found last */
	struct conf_note  spare;          /* stands in when out of memory */
	struct conf_err  *errs;
	size_t            nerrs;
	size_t            caperrs;
	unsigned          nfail;          /* errors found, stored or not */
	int               nomem;
};

/* The parse in progress: libconfuse's callbacks carry no user pointer. */
static struct conf_parse *cp;

static const struct {
	const char *name;
	long        min;
	long        max;
} conf_ranges[] = {
	{ "conn_max",   1, CONF_CONN_MAX },
	{ "conn_limit", 0, CONF_CONN_MAX },
	{ "amemthresh", 1, 100 },
	{ "am_droprate", 1, 1000000 },
	{ "conn_reserve", 0, 90 },
	{ "icmp_rate",  0, 10000000 },
	{ "workers",    1, CONF_WORKERS_MAX },
	{ "tcp",        1, CONF_TIMEOUT_MAX },
	{ "tcp_fin",    1, CONF_TIMEOUT_MAX },
	{ "udp",        1, CONF_TIMEOUT_MAX },
	{ "port",       1, 65535 },
	{ "weight",     0, 65535 },
	{ "persistent", 0, CONF_TIMEOUT_MAX },
	{ "fwmark",     1, 4294967295L },
	{ "tunnel_mtu", CONF_TUN_MTU_MIN, CONF_TUN_MTU_MAX },
	{ "tunnel_key", 0, 4294967295L },
	{ "tunnel_port", 1, 65535 },
	{ "upper",      0, 2147483647 },
	{ "lower",      0, 2147483647 },
	{ "mh_table_size", 3, CONF_MH_SIZE_MAX },
	{ "interval",   1, 3600 },
	{ "timeout",    1, 3600 },
	{ "rise",       1, 100 },
	{ "fall",       1, 100 },
	{ "expect",     100, 599 },
	{ "syncid",     0, 255 },
	{ "ttl",        1, 255 },
	{ "maxlen",     1, 65535 - 20 - 8 },
	{ "threshold",  0, 2147483647 },
	{ "period",     0, 2147483647 },
	{ "refresh_period", 0, 2147483 },
	{ "retries",    0, 3 },
	{ "drain_timeout", 0, CONF_TIMEOUT_MAX },
	{ "fragment_timeout", 1, 3600 },
	{ "fragment_memory", FRAG_MEMORY_MIN, FRAG_MEMORY_MAX },
	{ "announce_table", 0, 4294967295L },
};


/* libconfuse's own messages, reworded for an operator. */
enum {
	CFGMSG_NO_OPTION,
	CFGMSG_DUP_TITLE,
	CFGMSG_EOF,
	CFGMSG_NO_TITLE,
	CFGMSG_NO_EQUAL,
};

static const char *const conf_cfgmsgs[] = {
	[CFGMSG_NO_OPTION] = "no such option '%s'",
	[CFGMSG_DUP_TITLE] = "found duplicate title '%s'",
	[CFGMSG_EOF]       = "premature end of file",
	[CFGMSG_NO_TITLE]  = "missing title for section '%s'",
	[CFGMSG_NO_EQUAL]  = "missing equal sign after option '%s'",
};

/* Errors */

static void
conf_verr(int line, const char *fmt, va_list ap)
{
	struct conf_err *e;
	char            *msg;
	va_list          aq;
	int              n;

	cp->nfail++;
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || (msg = malloc((size_t)n + 1)) == NULL) {
		cp->nomem = 1;
		return;
	}
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	if (cp->nerrs == cp->caperrs) {
		size_t cap = cp->caperrs ? 2 * cp->caperrs : 16;

		e = reallocarray(cp->errs, cap, sizeof(*e));
		if (e == NULL) {
			free(msg);
			cp->nomem = 1;
			return;
		}
		cp->errs = e;
		cp->caperrs = cap;
	}
	e = &cp->errs[cp->nerrs];
	e->line = line;
	e->seq = (unsigned)cp->nerrs++;
	e->msg = msg;
}

static void __attribute__((format(printf, 2, 3)))
conf_err(int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verr(line, fmt, ap);
	va_end(ap);
}

static int
conf_err_cmp(const void *a, const void *b)
{
	const struct conf_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print the errors in line order, as FILE:LINE: message, and drop them. */
static void
conf_err_flush(void)
{
	if (cp->nerrs > 1)
		qsort(cp->errs, cp->nerrs, sizeof(*cp->errs), conf_err_cmp);
	for (size_t i = 0; i < cp->nerrs; i++) {
		struct conf_err *e = &cp->errs[i];

		if (e->line > 0)
			log_errx("%s:%d: %s", cp->file, e->line, e->msg);
		else
			log_errx("%s: %s", cp->file, e->msg);
		free(e->msg);
	}
	if (cp->nomem)
		log_errx("%s: out of memory", cp->file);
	free(cp->errs);
	cp->errs = NULL;
	cp->nerrs = cp->caperrs = 0;
}

/* Notes */

static int
conf_is(cfg_t *sec, const char *name)
{
	return strcmp(cfg_name(sec), name) == 0;
}

/* The section of kind NAME in SEC that was opened last (the one being read). */
static cfg_t *
conf_last(cfg_t *sec, const char *name)
{
	unsigned n = cfg_size(sec, name);

	return n ? cfg_getnsec(sec, name, n - 1) : NULL;
}

static struct conf_note *conf_note(cfg_t *sec);

/*
 * The line SEC opened on. While a section is read, libconfuse advances only
 * that section's line and leaves its parent's on the opening brace, so the
 * first note taken inside a section finds it there. A section noted only
 * once it closed (an empty one) gets its closing line instead.
 */
static int
conf_open_line(cfg_t *sec)
{
	cfg_t *vs;

	if (sec == cp->root)
		return 1;
	if ((conf_is(sec, "real_server") || conf_is(sec, "sorry_server")) &&
	    (vs = conf_last(cp->root, "virtual_server")) != NULL) {
		conf_note(vs);  /* first, while the root still shows its line */
		return vs->line;
	}
	return cp->root->line;
}

static struct conf_note *
conf_note(cfg_t *sec)
{
	struct conf_note *nt;
	size_t            n = cp->nnotes;
	int               open;

	for (size_t k = 0; k < n; k++) {
		size_t i = (cp->hint + k) % n;

		if (cp->notes[i].sec == sec) {
			cp->hint = i;
			return &cp->notes[i];
		}
	}
	open = conf_open_line(sec);  /* may add the parent's note */
	if (cp->nnotes == cp->capnotes) {
		size_t m = cp->capnotes ? 2 * cp->capnotes : 32;

		nt = reallocarray(cp->notes, m, sizeof(*nt));
		if (nt == NULL) {
			cp->nomem = 1;
			memset(&cp->spare, 0, sizeof(cp->spare));
			return &cp->spare;
		}
		cp->notes = nt;
		cp->capnotes = m;
	}
	nt = &cp->notes[cp->nnotes];
	memset(nt, 0, sizeof(*nt));
	nt->sec = sec;
	nt->open = open;
	cp->hint = cp->nnotes++;
	return nt;
}

static int
conf_optidx(cfg_t *sec, cfg_opt_t *opt)
{
	long i = opt - sec->opts;

	return i >= 0 && i < CONF_NOTE_OPTS ? (int)i : -1;
}

/* Line option NAME of SEC was set on; 0 when it holds its default. */
static int
conf_line(cfg_t *sec, const char *name)
{
	int i = conf_optidx(sec, cfg_getopt(sec, name));

	return i < 0 ? 0 : conf_note(sec)->line[i];
}

/* Option NAME of SEC is set and its value was accepted. */
static int
conf_good(cfg_t *sec, const char *name)
{
	int i = conf_optidx(sec, cfg_getopt(sec, name));

	if (cfg_size(sec, name) == 0)
		return 0;
	return i < 0 || !(conf_note(sec)->bad & (1u << i));
}

/* "timeout tcp" for the timeout section's options, else the option's name. */
static const char *
conf_label(cfg_t *cfg, cfg_opt_t *opt, char *buf, size_t len)
{
	if (conf_is(cfg, "timeout") || conf_is(cfg, "sync")) {
		snprintf(buf, len, "%s %s", cfg_name(cfg), opt->name);
		return buf;
	}
	return opt->name;
}

/*
 * A value of OPT was read on the current line: note where, and refuse a
 * second setting of one option in one section (a list may grow by +=).
 */
static void
conf_seen(cfg_t *cfg, cfg_opt_t *opt)
{
	struct conf_note *nt = conf_note(cfg);
	int               i = conf_optidx(cfg, opt);
	char              lbl[64];

	if (i < 0)
		return;
	if (nt->line[i] == 0) {
		nt->line[i] = cfg->line;
		return;
	}
	if (!(opt->flags & CFGF_LIST))
		conf_err(cfg->line, "'%s' is set twice (first at line %d)",
		    conf_label(cfg, opt, lbl, sizeof(lbl)), nt->line[i]);
	else if (cfg_opt_size(opt) == 1)  /* '=' emptied the list */
		conf_err(cfg->line, "'%s' is set twice (first at line %d); "
		    "use += to add to a list",
		    conf_label(cfg, opt, lbl, sizeof(lbl)), nt->line[i]);
}

/* Report a refused value of OPT on the current line. */
static void __attribute__((format(printf, 3, 4)))
conf_refuse(cfg_t *cfg, cfg_opt_t *opt, const char *fmt, ...)
{
	int     i = conf_optidx(cfg, opt);
	va_list ap;

	if (i >= 0)
		conf_note(cfg)->bad |= 1u << i;
	va_start(ap, fmt);
	conf_verr(cfg->line, fmt, ap);
	va_end(ap);
}

/* libconfuse callbacks */

static void
conf_cfg_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	int         line = cfg ? cfg->line : 0;
	const char *arg;
	size_t      m;

	for (m = 0; m < ARRAY_SIZE(conf_cfgmsgs); m++)
		if (strcmp(fmt, conf_cfgmsgs[m]) == 0)
			break;

	switch (m) {
	case CFGMSG_NO_OPTION:
		arg = va_arg(ap, const char *);
		if (cfg == NULL || cfg == cp->root)
			conf_err(line, "unknown option '%s'", arg);
		else if (cfg_title(cfg))
			conf_err(line, "unknown option '%s' in %s '%s'", arg,
			    cfg_name(cfg), cfg_title(cfg));
		else
			conf_err(line, "unknown option '%s' in %s", arg,
			    cfg_name(cfg));
		break;
	case CFGMSG_DUP_TITLE: {
		const char *kind = cfg == cp->root ? "virtual_server" : "real_server";
		cfg_t      *first;

		arg = va_arg(ap, const char *);
		first = cfg_gettsec(cfg, kind, arg);
		if (first)
			conf_err(line, "duplicate %s name '%s' (first defined "
			    "at line %d)", kind, arg, conf_note(first)->open);
		else
			conf_err(line, "duplicate %s name '%s'", kind, arg);
		break;
	}
	case CFGMSG_EOF:
		conf_err(line, "unexpected end of the file");
		break;
	case CFGMSG_NO_TITLE:
		arg = va_arg(ap, const char *);
		conf_err(line, "%s needs a name: %s NAME { ... }", arg, arg);
		break;
	case CFGMSG_NO_EQUAL:
		arg = va_arg(ap, const char *);
		conf_err(line, "missing '=' after option '%s'", arg);
		break;
	default:
		conf_verr(line, fmt, ap);
		break;
	}
}

/* A section closed: make sure it has a note, for an empty one too. */
static int
conf_cb_closed(cfg_t *cfg, cfg_opt_t *opt)
{
	unsigned n = cfg_opt_size(opt);

	(void)cfg;
	if (n > 0)
		conf_note(cfg_opt_getnsec(opt, n - 1));
	return 0;
}

/* Decimal digits with an optional minus sign; 0 when S is one. */
static int
conf_strtol(const char *s, long *v)
{
	char *end;

	if (!isdigit((unsigned char)s[s[0] == '-']))
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE)
		*v = s[0] == '-' ? LONG_MIN : LONG_MAX;
	return 0;
}

/* Trial division: only run on a config value, at most ~1000 steps. */
static int
conf_prime(long v)
{
	if (v < 2)
		return 0;
	for (long d = 2; d * d <= v; d++)
		if (v % d == 0)
			return 0;
	return 1;
}

static int
conf_cb_number(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	long   v, min = 0, max = LONG_MAX;
	char   lbl[64];

	for (size_t i = 0; i < ARRAY_SIZE(conf_ranges); i++)
		if (strcmp(opt->name, conf_ranges[i].name) == 0) {
			min = conf_ranges[i].min;
			max = conf_ranges[i].max;
		}
	conf_seen(cfg, opt);
	*(long *)result = min;
	if (conf_strtol(value, &v) < 0) {
		conf_refuse(cfg, opt, "invalid number '%s' for '%s'", value,
		    conf_label(cfg, opt, lbl, sizeof(lbl)));
		return 0;
	}
	if (v < min || v > max) {
		conf_refuse(cfg, opt, "'%s' value %s out of range (%ld..%ld)",
		    conf_label(cfg, opt, lbl, sizeof(lbl)), value, min, max);
		return 0;
	}
	/* The kernel's own tables (default, main, local) are not ours to fill. */
	if (strcmp(opt->name, "announce_table") == 0 && v >= 253 && v <= 255) {
		conf_refuse(cfg, opt, "'announce_table' %s is a table of the kernel's own "
		    "(253 default, 254 main, 255 local)", value);
		return 0;
	}
	if (strcmp(opt->name, "mh_table_size") == 0 && !conf_prime(v)) {
		conf_refuse(cfg, opt, "'mh_table_size' %s is not a prime", value);
		return 0;
	}
	*(long *)result = v;
	return 0;
}

/*
 * An address of either family (addr_pton), as the text libconfuse read:
 * conf_build parses it again. Refused: what no service, real server or
 * local address can be (addr_unusable).
 */
static int
conf_cb_address(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	union vsr_addr a;
	const char    *why;
	int            af;

	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (addr_pton(value, &af, &a) < 0) {
		conf_refuse(cfg, opt, "invalid address '%s' for '%s'", value,
		    opt->name);
		return 0;
	}
	if ((why = addr_unusable(af, &a)) != NULL)
		conf_refuse(cfg, opt, "invalid address '%s' for '%s' (%s)",
		    value, opt->name, why);
	return 0;
}

/* local_address: addresses as 'address' takes them, none listed twice. */
static int
conf_cb_laddr(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	union vsr_addr a, o;
	int            af, oaf;

	conf_cb_address(cfg, opt, value, result);
	if (addr_pton(value, &af, &a) < 0)
		return 0;
	for (unsigned i = 0; i + 1 < cfg_opt_size(opt); i++) {
		const char *s = cfg_opt_getnstr(opt, i);

		if (s && addr_pton(s, &oaf, &o) == 0 && oaf == af && addr_eq(&a, &o)) {
			conf_refuse(cfg, opt, "address '%s' is listed twice in "
			    "'%s'", value, opt->name);
			break;
		}
	}
	return 0;
}

/*
 * netmask: persistence granularity (ipvsadm -M). A dotted IPv4 mask, for
 * an IPv4 service, or a prefix length 1..128, for an IPv6 one (ipvsadm's
 * forms); which one the service takes is checked once its address is
 * known (conf_build_vs).
 */
static int
conf_cb_netmask(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	union vsr_addr a;
	long           plen;
	int            af;

	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (conf_strtol(value, &plen) == 0) {
		if (plen < 1 || plen > 128)
			conf_refuse(cfg, opt, "invalid netmask '%s' for '%s' (an IPv6 prefix "
			    "length is 1..128)", value, opt->name);
		return 0;
	}
	if (addr_pton(value, &af, &a) < 0 || af != AF_INET) {
		conf_refuse(cfg, opt, "invalid netmask '%s' for '%s'", value,
		    opt->name);
		return 0;
	}
	if (addr_mask_plen(AF_INET, &a) < 0)
		conf_refuse(cfg, opt, "invalid netmask '%s' for '%s' "
		    "(not contiguous)", value, opt->name);
	return 0;
}

static int
conf_cb_protocol(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int p = proto_parse(value);

	conf_seen(cfg, opt);
	if (p < 0) {
		conf_refuse(cfg, opt, "unknown protocol '%s' (tcp or udp)",
		    value);
		p = IPPROTO_TCP;
	}
	*(long *)result = p;
	return 0;
}

/* A firewall-mark service's family, in keepalived's words (ip_family): inet or inet6. */
static int
conf_cb_family(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int af = strcmp(value, "inet") == 0 ? AF_INET : strcmp(value, "inet6") == 0 ? AF_INET6 : 0;

	conf_seen(cfg, opt);
	if (af == 0) {
		conf_refuse(cfg, opt, "unknown family '%s' (inet or inet6)", value);
		af = AF_INET;
	}
	*(long *)result = af;
	return 0;
}

static int
conf_cb_forward(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int f = fwd_parse(value);

	conf_seen(cfg, opt);
	if (f < 0) {
		conf_refuse(cfg, opt, "unknown forwarding method '%s' "
		    "(dr, tun, nat or fullnat)", value);
		f = FWD_DR;
	}
	*(long *)result = f;
	return 0;
}

/* A flood defence's mode: IPVS's 0..3, or off, auto, always (defence.h). */
static int
conf_cb_defence(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	static const char *const names[] = { "off", "auto", "auto", "always" };
	int m = -1;

	conf_seen(cfg, opt);
	for (int i = 0; i < 4; i++)
		if (strcmp(value, names[i]) == 0 || (value[0] == '0' + i && value[1] == '\0'))
			m = i;
	if (m < 0) {
		conf_refuse(cfg, opt, "'%s' is not a defence mode (off, auto, always, "
		    "or IPVS's 0, 1, 2, 3)", value);
		m = DEF_OFF;
	}
	*(long *)result = m == DEF_AUTO_ON ? DEF_AUTO : m;
	return 0;
}

static int
conf_cb_tunnel(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int t = tunnel_parse(value);

	conf_seen(cfg, opt);
	if (t < 0) {
		conf_refuse(cfg, opt, "unknown tunnel type '%s' (ipip, gre or gue)",
		    value);
		t = TUNNEL_IPIP;
	}
	*(long *)result = t;
	return 0;
}

/*
 * none | csum | remcsum; yes and no (and libconfuse's other booleans), the
 * older spelling, as csum and none.
 */
static int
conf_cb_tunnel_csum(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };
	int c = tunnel_csum_parse(value);

	conf_seen(cfg, opt);
	for (size_t i = 0; c < 0 && i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0)
			c = TUNNEL_CSUM_CSUM;
		else if (strcasecmp(value, no[i]) == 0)
			c = TUNNEL_CSUM_NONE;
	}
	if (c < 0) {
		conf_refuse(cfg, opt, "invalid value '%s' for '%s' (none, csum or remcsum)",
		    value, opt->name);
		c = TUNNEL_CSUM_NONE;
	}
	*(long *)result = c;
	return 0;
}

static int
conf_cb_client_addr(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int c = client_addr_parse(value);

	conf_seen(cfg, opt);
	if (c < 0) {
		conf_refuse(cfg, opt, "unknown client_address '%s' (none, proxy-v2 or toa)",
		    value);
		c = CA_NONE;
	}
	*(long *)result = c;
	return 0;
}

static int
conf_cb_scheduler(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (sched_lookup(value))
		return 0;
	conf_refuse(cfg, opt, "unknown scheduler '%s' (rr wrr lc wlc sed nq "
	    "dh sh lblc lblcr mh fo ovf twos)", value);
	return 0;
}

static int
conf_cb_svcflag(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	conf_seen(cfg, opt);
	*(const char **)result = value;
	unsigned f = 0;

	if (svc_flags_parse(value, &f) == 0)
		return 0;
	conf_refuse(cfg, opt, "unknown flag '%s' (sh-port, sh-fallback, "
	    "mh-port or mh-fallback)", value);
	return 0;
}

/* The kernel's rule (dev_valid_name): 1..15 bytes, no '/', ':' or space. */
bool
conf_ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) ||
		    !isprint((unsigned char)*s))
			return false;
	return true;
}

static int
conf_cb_ifname(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	unsigned n = cfg_opt_size(opt);

	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (!conf_ifname_ok(value)) {
		conf_refuse(cfg, opt, "invalid interface name '%s' for '%s' "
		    "(1..%d characters, no '/', ':' or space)", value,
		    opt->name, IFNAMSIZ - 1);
		return 0;
	}
	/* A list's new value is the last one, still empty. */
	for (unsigned i = 0; (opt->flags & CFGF_LIST) && i + 1 < n; i++) {
		const char *s = cfg_opt_getnstr(opt, i);

		if (s && strcmp(s, value) == 0) {
			conf_refuse(cfg, opt, "interface '%s' is listed twice "
			    "in '%s'", value, opt->name);
			break;
		}
	}
	return 0;
}


/*
 * A user name as useradd accepts it: 1..32 of [A-Za-z0-9._-], not starting
 * with '-'. Whether the user exists is checked after the parse, by -t and
 * the start alike (vsrouted.c).
 */
static int
conf_cb_user(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	size_t n = strlen(value);

	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (n == 0 || n >= CONF_USER_MAX || value[0] == '-' ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		conf_refuse(cfg, opt, "invalid name '%s' for '%s' (1..%d of A-Z a-z 0-9 . _ -, "
		    "not starting with '-')", value, opt->name, CONF_USER_MAX - 1);
	return 0;
}

/* An absolute path that fits a Unix socket address (sun_path). */
static int
conf_cb_path(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (value[0] != '/' || strlen(value) >= 108)
		conf_refuse(cfg, opt, "'%s' must be an absolute path of at most "
		    "107 characters", opt->name);
	return 0;
}

/*
 * metrics = [ADDR:]PORT: where the metrics listener (Prometheus, the status
 * page) listens; a port alone is 127.0.0.1's.
 */
static int
conf_metrics_parse(const char *value, uint32_t *addr, uint16_t *port)
{
	char buf[80];

	if (strchr(value, ':') != NULL)
		return addrport_parse(value, addr, port, 1);
	snprintf(buf, sizeof(buf), "127.0.0.1:%s", value);
	return addrport_parse(buf, addr, port, 1);
}

static int
conf_cb_metrics(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint32_t a;
	uint16_t p = 0;

	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (conf_metrics_parse(value, &a, &p) < 0 || p == 0)
		conf_refuse(cfg, opt, "invalid [address:]port '%s' for 'metrics' (e.g. "
		    "9410 or 127.0.0.1:9410)", value);
	return 0;
}

static const char *const metrics_compat_names[] = {
	[METRICS_COMPAT_NONE] = "none", [METRICS_COMPAT_NODE_IPVS] = "node_ipvs",
};

/* metrics_compat = none | node_ipvs */
static int
conf_cb_metrics_compat(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	conf_seen(cfg, opt);
	*(long *)result = METRICS_COMPAT_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(metrics_compat_names); i++)
		if (strcmp(value, metrics_compat_names[i]) == 0) {
			*(long *)result = (long)i;
			return 0;
		}
	conf_refuse(cfg, opt, "invalid value '%s' for 'metrics_compat' (none or node_ipvs)",
	    value);
	return 0;
}

/* role = master | backup */
static int
conf_cb_role(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int r = role_parse(value);

	conf_seen(cfg, opt);
	*(long *)result = r < 0 ? ROLE_MASTER : r;
	if (r < 0)
		conf_refuse(cfg, opt, "invalid value '%s' for 'role' (master or backup)", value);
	return 0;
}

/* sync state = master | backup | both */
static int
conf_cb_sync_state(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int st = sync_state_parse(value);

	conf_seen(cfg, opt);
	*(long *)result = st < 0 ? SYNC_STATE_BOTH : st;
	if (st < 0)
		conf_refuse(cfg, opt, "invalid value '%s' for 'sync state' (master, backup or both)",
		    value);
	return 0;
}

/*
 * sync group (a multicast address) and peer (a unicast one), IPv4 or
 * IPv6: kept as text, read again by conf_build_sync.
 */
static int
conf_cb_sync_addr(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	static const uint8_t zero[16];
	uint8_t a[16];
	bool    multicast, six = strchr(value, ':') != NULL;

	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (inet_pton(six ? AF_INET6 : AF_INET, value, a) != 1) {
		conf_refuse(cfg, opt, "invalid address '%s' for 'sync %s'", value, opt->name);
		return 0;
	}
	multicast = six ? a[0] == 0xff : (a[0] >> 4) == 0xe;
	if (strcmp(opt->name, "group") == 0 && !multicast)
		conf_refuse(cfg, opt, "'sync group' %s is not a multicast address (e.g. 224.0.0.81; "
		    "peer = ADDRESS sends to one director)", value);
	else if (strcmp(opt->name, "peer") == 0 && (multicast ||
	    (!six && (a[0] == 0 || (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255))) ||
	    (six && memcmp(a, zero, sizeof(a)) == 0)))
		conf_refuse(cfg, opt, "'sync peer' %s is not a unicast address", value);
	return 0;
}

/*
 * yes | no | true | false | on | off, as libconfuse reads a boolean, with
 * the line noted.
 */
static int
conf_cb_bool(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };

	conf_seen(cfg, opt);
	*(cfg_bool_t *)result = cfg_false;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*(cfg_bool_t *)result = cfg_true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0)
			return 0;
	}
	conf_refuse(cfg, opt, "invalid value '%s' for '%s' (yes or no)", value, opt->name);
	return 0;
}

static const char *const check_names[] = {
	[CHECK_NONE] = "none", [CHECK_TCP] = "tcp", [CHECK_HTTP] = "http",
	[CHECK_EXEC] = "exec", [CHECK_UDP] = "udp",
};

const char *
check_type_name(enum check_type t)
{
	return (unsigned)t < ARRAY_SIZE(check_names) ? check_names[t] : "?";
}

/* check type = tcp | http | udp | exec */
static int
conf_cb_checktype(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	conf_seen(cfg, opt);
	*(long *)result = CHECK_NONE;
	for (size_t i = CHECK_TCP; i < ARRAY_SIZE(check_names); i++)
		if (strcmp(value, check_names[i]) == 0) {
			*(long *)result = (long)i;
			return 0;
		}
	conf_refuse(cfg, opt, "unknown check type '%s' (tcp, http, udp or exec)", value);
	return 0;
}

/* check on_failure = inhibit | remove */
static int
conf_cb_onfailure(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	conf_seen(cfg, opt);
	*(long *)result = CHECK_FAIL_INHIBIT;
	if (strcmp(value, "remove") == 0)
		*(long *)result = CHECK_FAIL_REMOVE;
	else if (strcmp(value, "inhibit") != 0)
		conf_refuse(cfg, opt, "unknown on_failure '%s' (inhibit or remove)", value);
	return 0;
}

static int
conf_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Decode the C-style escapes of a udp check's payload or reply (conf_strip
 * hands them over undecoded): \\ \" \' \n \r \t \0, \xH or \xHH, \NNN
 * in octal. Returns the number of bytes, or -1 with the reason in WHY.
 */
static int
conf_unescape(const char *in, uint8_t *out, size_t cap, const char **why)
{
	size_t n = 0;

	for (const char *c = in; *c; c++) {
		int v = (unsigned char)*c;

		if (*c == '\\') {
			c++;
			switch (*c) {
			case '\\': case '"': case '\'': v = *c; break;
			case 'n': v = '\n'; break;
			case 'r': v = '\r'; break;
			case 't': v = '\t'; break;
			case 'x':
				if (conf_hexval(c[1]) < 0) {
					*why = "\\x needs a hexadecimal digit";
					return -1;
				}
				v = conf_hexval(*++c);
				if (conf_hexval(c[1]) >= 0)
					v = v * 16 + conf_hexval(*++c);
				break;
			default:
				if (*c < '0' || *c > '7') {
					*why = "unknown escape (\\n \\r \\t \\\\ \\\" \\xHH \\NNN)";
					return -1;
				}
				v = *c - '0';
				for (int k = 0; k < 2 && c[1] >= '0' && c[1] <= '7'; k++)
					v = v * 8 + (*++c - '0');
				if (v > 255) {
					*why = "octal escape above \\377";
					return -1;
				}
				break;
			}
		}
		if (n == cap) {
			*why = "too long";
			return -1;
		}
		out[n++] = (uint8_t)v;
	}
	if (n == 0) {
		*why = "empty";
		return -1;
	}
	return (int)n;
}

/* check payload, reply: 1..CONF_CHECK_STR bytes once decoded. */
static int
conf_cb_checkbytes(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint8_t     buf[CONF_CHECK_STR];
	const char *why = NULL;

	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (conf_unescape(value, buf, sizeof(buf), &why) < 0)
		conf_refuse(cfg, opt, "invalid %s for check: %s (1..%d bytes, C-style escapes)",
		    opt->name, why, CONF_CHECK_STR);
	return 0;
}

/*
 * check path, host, command: printable, no space in path and host (they go
 * into the request line and a header), shorter than CONF_CHECK_STR.
 */
static int
conf_cb_checkstr(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int cmd = strcmp(opt->name, "command") == 0;

	conf_seen(cfg, opt);
	*(const char **)result = value;
	if (strlen(value) >= CONF_CHECK_STR || value[0] == '\0')
		goto bad;
	for (const char *c = value; *c; c++)
		if (!isprint((unsigned char)*c) || (!cmd && *c == ' '))
			goto bad;
	if ((strcmp(opt->name, "path") == 0 || cmd) && value[0] != '/')
		goto bad;
	return 0;
bad:
	conf_refuse(cfg, opt, "invalid %s '%s' for check (%s, 1..%d printable "
	    "characters)", opt->name, value, cmd ? "an absolute program path and its "
	    "arguments" : strcmp(opt->name, "path") == 0 ? "starting with '/', no space" :
	    "no space", CONF_CHECK_STR - 1);
	return 0;
}

/* Comments */

/*
 * Copy the file without its comments (# or // to the end of the line,
 * slash-star to star-slash), each turned into one space, its newlines kept,
 * quoted strings and ${VAR} left as they are. libconfuse 3.3 counts the
 * lines of a file with comments wrongly, so it never sees any. Also catch
 * what libconfuse lets through or words poorly: a string, comment or brace
 * left open at the end of the file. The escapes in the value of a udp
 * check's payload or reply are protected from libconfuse (which would end
 * the string at a \x00) and decoded by conf_unescape instead.
 */
static char *
conf_strip(const char *in, size_t len, size_t *outlen)
{
	enum { CODE, DQUOTE, SQUOTE, LINE, BLOCK, ENVVAR } st = CODE;
	char  *out, *o;
	int    line = 1, open_line = 0;
	int    brace[8], depth = 0;  /* lines of the braces still open */
	char   key[16] = "";         /* the last word outside strings: the option */
	size_t klen = 0;
	int    raw = 0;              /* in a payload or reply string */

	/* Each escape of a raw string may take three bytes for two. */
	if ((out = malloc(2 * len + 1)) == NULL) {
		cp->nomem = 1;
		return NULL;
	}
	o = out;
	for (size_t i = 0; i < len; i++) {
		char c = in[i], next = i + 1 < len ? in[i + 1] : '\0';

		if (c == '\0') {
			conf_err(line, "NUL byte in the file");
			free(out);
			return NULL;
		}
		switch (st) {
		case CODE:
			if (c == '#' || (c == '/' && (next == '/' || next == '*'))) {
				st = c == '/' && next == '*' ? BLOCK : LINE;
				open_line = line;
				if (c == '/')
					i++;
				*o++ = ' ';
				continue;
			}
			if (isalnum((unsigned char)c) || c == '_') {
				if (klen < sizeof(key) - 1)
					key[klen++] = c;
				key[klen] = '\0';
				break;
			}
			klen = 0;
			if (c == '"' || c == '\'') {
				st = c == '"' ? DQUOTE : SQUOTE;
				open_line = line;
				raw = strcmp(key, "payload") == 0 || strcmp(key, "reply") == 0;
			} else if (c == '$' && next == '{') {
				st = ENVVAR;
				open_line = line;
			} else if (c == '{') {
				if (depth < (int)ARRAY_SIZE(brace))
					brace[depth] = line;
				depth++;
			} else if (c == '}' && depth > 0) {
				depth--;
			}
			break;
		case DQUOTE:
		case SQUOTE:
			if (c == '\\' && next != '\0' && raw &&
			    next != (st == DQUOTE ? '"' : '\'')) {
				/* Doubled: libconfuse keeps one, conf_unescape decodes the escape. */
				*o++ = c;
				*o++ = c;
				c = in[++i];
				if (c == '\\')
					*o++ = c;
			} else if (c == '\\' && next != '\0') {
				*o++ = c;
				c = in[++i];
			} else if (c == (st == DQUOTE ? '"' : '\'')) {
				st = CODE;
			}
			break;
		case ENVVAR:
			if (c == '}')
				st = CODE;
			break;
		case LINE:
			if (c != '\n')
				continue;
			st = CODE;
			break;
		case BLOCK:
			if (c == '*' && next == '/') {
				i++;
				st = CODE;
				continue;
			}
			if (c != '\n')
				continue;
			break;
		}
		if (c == '\n')
			line++;
		*o++ = c;
	}
	if (st == BLOCK || st == DQUOTE || st == SQUOTE || st == ENVVAR) {
		conf_err(open_line, st == BLOCK ?
		    "comment not closed: '/*' without '*/'" : st == ENVVAR ?
		    "'${' without its closing '}'" :
		    "string not closed: quote without its closing quote");
		free(out);
		return NULL;
	}
	/* libconfuse takes the end of the file for the missing braces. */
	if (depth > 0)
		conf_err(brace[depth > (int)ARRAY_SIZE(brace) ?
		    (int)ARRAY_SIZE(brace) - 1 : depth - 1],
		    "'{' not closed: a '}' is missing");
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

static char *
conf_read(const char *file, size_t *lenp)
{
	FILE   *fp;
	char   *buf = NULL, *nbuf;
	size_t  len = 0, cap = 0, n;

	if ((fp = fopen(file, "r")) == NULL) {
		conf_err(0, "%s", strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 8192;
			if (cap > CONF_FILE_MAX + 1)
				cap = CONF_FILE_MAX + 1;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				cp->nomem = 1;
				goto fail;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
		if (len > CONF_FILE_MAX) {
			conf_err(0, "larger than %d bytes", CONF_FILE_MAX);
			goto fail;
		}
	}
	if (ferror(fp)) {
		conf_err(0, "read error");
		goto fail;
	}
	fclose(fp);
	*lenp = len;
	return buf;
fail:
	fclose(fp);
	free(buf);
	return NULL;
}

/* From the libconfuse tree to struct config */

/* 1..63 printable characters, no space: names show up in logs and vsradm. */
static int
conf_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CONF_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return 0;
	return 1;
}

static void
conf_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Option NAME of SEC as an address; one not set or refused comes out as IPv4 0.0.0.0. */
static void
conf_get_addr(cfg_t *sec, const char *name, int *af, union vsr_addr *a)
{
	const char *s = cfg_size(sec, name) ? cfg_getstr(sec, name) : NULL;

	if (s == NULL || addr_pton(s, af, a) < 0) {
		*af = AF_INET;
		memset(a, 0, sizeof(*a));
	}
}

/* The options set in check section SEC of PARENT, over CC. */
static void
conf_build_check(cfg_t *parent, struct check_conf *cc)
{
	cfg_t *sec = cfg_size(parent, "check") ? cfg_getsec(parent, "check") : NULL;

	if (sec == NULL)
		return;
	if (cfg_size(sec, "type")) {
		cc->type = (enum check_type)cfg_getint(sec, "type");
		cc->line = conf_line(sec, "type");
	}
	if (cfg_size(sec, "interval"))
		cc->interval = (unsigned)cfg_getint(sec, "interval");
	if (cfg_size(sec, "timeout"))
		cc->timeout = (unsigned)cfg_getint(sec, "timeout");
	if (cfg_size(sec, "rise"))
		cc->rise = (unsigned)cfg_getint(sec, "rise");
	if (cfg_size(sec, "fall"))
		cc->fall = (unsigned)cfg_getint(sec, "fall");
	if (cfg_size(sec, "port"))
		cc->port = (uint16_t)cfg_getint(sec, "port");
	if (cfg_size(sec, "expect"))
		cc->expect = (int)cfg_getint(sec, "expect");
	if (cfg_size(sec, "path"))
		conf_copy(cc->path, sizeof(cc->path), cfg_getstr(sec, "path"));
	if (cfg_size(sec, "host"))
		conf_copy(cc->host, sizeof(cc->host), cfg_getstr(sec, "host"));
	if (cfg_size(sec, "command")) {
		conf_copy(cc->command, sizeof(cc->command), cfg_getstr(sec, "command"));
		cc->command_line = conf_line(sec, "command");
	}
	if (cfg_size(sec, "on_failure"))
		cc->on_failure = (enum check_fail)cfg_getint(sec, "on_failure");
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "reply" : "payload";
		uint8_t    *buf = k ? cc->reply : cc->payload;
		uint16_t   *len = k ? &cc->reply_len : &cc->payload_len;
		const char *why;
		int         n;

		if (cfg_size(sec, name) == 0)
			continue;
		if (cc->type != CHECK_UDP && cc->type != CHECK_NONE)
			conf_err(conf_line(sec, name), "'%s' is for check type udp, not %s",
			    name, check_type_name(cc->type));
		n = conf_good(sec, name) ?
		    conf_unescape(cfg_getstr(sec, name), buf, CONF_CHECK_STR, &why) : -1;
		*len = n > 0 ? (uint16_t)n : 0;
	}
	if (cc->type == CHECK_NONE && cfg_size(sec, "type") == 0)
		conf_err(conf_note(parent)->open, "%s '%s': check: 'type' is required "
		    "(tcp, http, udp or exec)", cfg_name(parent), cfg_title(parent));
	else if (cc->type == CHECK_EXEC && cc->command[0] == '\0')
		conf_err(cc->line, "check type exec: 'command' is required");
	else if (cc->type == CHECK_EXEC && cc->command[strspn(cc->command, " \t")] != '/')
		conf_err(cc->command_line ? cc->command_line : cc->line, "check type exec: "
		    "'command' must start with an absolute path (no shell, no PATH search)");
	else if (cc->type == CHECK_UDP && cc->payload_len == 0 && !cfg_size(sec, "payload"))
		conf_err(cc->line ? cc->line : conf_note(parent)->open,
		    "check type udp: 'payload' is required (the datagram to send)");
}

/*
 * A client_address of VALUE set in SEC, for FWD (FWD_FULLNAT when that is
 * not known) in service VS: fullnat only, and toa for TCP only.
 */
static void
conf_client_addr_check(cfg_t *sec, const struct vs_conf *vs, enum client_addr value,
    enum fwd_method fwd)
{
	int line = conf_line(sec, "client_address");

	if (value == CA_NONE || !conf_good(sec, "client_address"))
		return;
	if (fwd != FWD_FULLNAT)
		conf_err(line, "'client_address' is for forward = fullnat, not %s (the real "
		    "server sees the client's own address)", fwd_name(fwd));
	else if (value == CA_TOA && vs->proto != IPPROTO_TCP)
		conf_err(line, "client_address = toa is a TCP option: not for a %s service "
		    "(proxy-v2 puts a header before each datagram)",
		    proto_upper_name(vs->proto));
}

/*
 * synproxy = yes: TCP only, and only where the director sees both
 * directions (nat, fullnat; as DPVS), every real server included; not
 * with client_address, whose header or option the proxied handshake
 * would not carry (synproxy.h).
 */
static void
conf_build_synproxy(cfg_t *sec, struct vs_conf *vs)
{
	int line = conf_line(sec, "synproxy");

	vs->synproxy = cfg_getbool(sec, "synproxy") != cfg_false;
	if (!vs->synproxy || !conf_good(sec, "synproxy"))
		return;
	if (vs->proto != IPPROTO_TCP) {
		conf_err(line, "synproxy is for TCP services, not %s",
		    proto_upper_name(vs->proto));
		return;
	}
	for (unsigned i = 0; i <= vs->nrs; i++) {
		const struct rs_conf *rs = i < vs->nrs ? &vs->rs[i] : vs->has_sorry ? &vs->sorry : NULL;

		if (rs == NULL)
			break;
		if (rs->fwd == FWD_DR || rs->fwd == FWD_TUN)
			conf_err(line, "synproxy needs the replies to pass the director: real "
			    "server '%s' (line %d) is forward = %s (nat or fullnat only)", rs->name,
			    rs->line, fwd_name(rs->fwd));
		else if (rs->client_addr != CA_NONE)
			conf_err(line, "synproxy does not go with client_address = %s (real server "
			    "'%s', line %d)", client_addr_name(rs->client_addr), rs->name, rs->line);
	}
	if (vs->nrs == 0 && !vs->has_sorry && (vs->fwd == FWD_DR || vs->fwd == FWD_TUN))
		conf_err(line, "synproxy needs the replies to pass the director: forward = %s "
		    "(nat or fullnat only)", fwd_name(vs->fwd));
}

/*
 * What a real server and a sorry server share, from SEC into RS: address,
 * port, forward, tunnel, tunnel_mtu, and the dr/tun port rule. WHAT names
 * the section in errors. Returns whether the port was accepted.
 */
static int
conf_build_dest(cfg_t *sec, struct vs_conf *vs, struct rs_conf *rs, const char *what,
    int vs_addr_ok, int vs_port_ok, int vs_fwd_ok)
{
	int open = conf_note(sec)->open;
	int port_ok, fwd_ok;

	if (cfg_size(sec, "address") == 0)
		conf_err(open, "%s: 'address' is required", what);
	conf_get_addr(sec, "address", &rs->af, &rs->addr);
	/* One family per service: IPVS's tun may mix them, nothing here does. */
	if (conf_good(sec, "address") && (vs_addr_ok || vs->fwmark) && rs->af != vs->af) {
		char a[ADDR_STRLEN], v[ADDR_STRLEN + 16];

		if (vs->fwmark)
			snprintf(v, sizeof(v), "fwmark %u", vs->fwmark);
		else
			addr_ntop(vs->af, &vs->addr, v, sizeof(v));
		conf_err(conf_line(sec, "address"), "%s: %s is an %s address and the "
		    "service's %s an %s one: a service and its real servers are of one family",
		    what, addr_ntop(rs->af, &rs->addr, a, sizeof(a)), addr_family_name(rs->af),
		    v, addr_family_name(vs->af));
	}
	if (cfg_size(sec, "port")) {
		rs->port = (uint16_t)cfg_getint(sec, "port");
		port_ok = conf_good(sec, "port");
	} else {
		rs->port = vs->port;
		port_ok = vs_port_ok;
	}
	if (cfg_size(sec, "forward")) {
		rs->fwd = (enum fwd_method)cfg_getint(sec, "forward");
		fwd_ok = conf_good(sec, "forward");
	} else {
		rs->fwd = vs->fwd;
		fwd_ok = vs_fwd_ok;
	}

	/* tunnel and tunnel_mtu: the service's, unless the real server says. */
	rs->tunnel = cfg_size(sec, "tunnel") ?
	    (enum tunnel_type)cfg_getint(sec, "tunnel") : vs->tunnel;
	rs->tunnel_mtu = cfg_size(sec, "tunnel_mtu") ?
	    (unsigned)cfg_getint(sec, "tunnel_mtu") : vs->tunnel_mtu;
	rs->tunnel_keyed = cfg_size(sec, "tunnel_key") ? true : vs->tunnel_keyed;
	rs->tunnel_key = cfg_size(sec, "tunnel_key") ?
	    (uint32_t)cfg_getint(sec, "tunnel_key") : vs->tunnel_key;
	rs->tunnel_port = cfg_size(sec, "tunnel_port") ?
	    (uint16_t)cfg_getint(sec, "tunnel_port") : vs->tunnel_port;
	rs->tunnel_csum = cfg_size(sec, "tunnel_csum") ?
	    (enum tunnel_csum)cfg_getint(sec, "tunnel_csum") : vs->tunnel_csum;
	if (fwd_ok && rs->fwd != FWD_TUN) {
		if (cfg_size(sec, "tunnel"))
			conf_err(conf_line(sec, "tunnel"), "'tunnel' is for "
			    "forward = tun, not %s", fwd_name(rs->fwd));
		if (cfg_size(sec, "tunnel_mtu"))
			conf_err(conf_line(sec, "tunnel_mtu"), "'tunnel_mtu' "
			    "is for forward = tun, not %s", fwd_name(rs->fwd));
		if (cfg_size(sec, "tunnel_key"))
			conf_err(conf_line(sec, "tunnel_key"), "'tunnel_key' "
			    "is for forward = tun, not %s", fwd_name(rs->fwd));
		if (cfg_size(sec, "tunnel_port"))
			conf_err(conf_line(sec, "tunnel_port"), "'tunnel_port' "
			    "is for forward = tun, not %s", fwd_name(rs->fwd));
		if (cfg_size(sec, "tunnel_csum"))
			conf_err(conf_line(sec, "tunnel_csum"), "'tunnel_csum' "
			    "is for forward = tun, not %s", fwd_name(rs->fwd));
	}
	/* GUE is UDP to a port the real server listens on (IPVS: --tun-port, required). */
	if (fwd_ok && rs->fwd == FWD_TUN && rs->tunnel == TUNNEL_GUE && rs->tunnel_port == 0)
		conf_err(cfg_size(sec, "tunnel") ? conf_line(sec, "tunnel") : open,
		    "tunnel = gue needs tunnel_port");
	if (fwd_ok && rs->fwd == FWD_TUN && rs->tunnel != TUNNEL_GUE &&
	    (cfg_size(sec, "tunnel_port") || cfg_size(sec, "tunnel_csum")))
		conf_err(conf_line(sec, cfg_size(sec, "tunnel_port") ? "tunnel_port" : "tunnel_csum"),
		    "'%s' needs tunnel = gue, not %s",
		    cfg_size(sec, "tunnel_port") ? "tunnel_port" : "tunnel_csum",
		    tunnel_name(rs->tunnel));
	/* A service's GUE port is for its GUE real servers. */
	if (rs->tunnel != TUNNEL_GUE) {
		rs->tunnel_port = 0;
		rs->tunnel_csum = TUNNEL_CSUM_NONE;
	}
	/* A key is GRE's (RFC 2890): IPIP has no room for one. */
	if (fwd_ok && rs->fwd == FWD_TUN && rs->tunnel_keyed && rs->tunnel != TUNNEL_GRE)
		conf_err(cfg_size(sec, "tunnel_key") ? conf_line(sec, "tunnel_key") :
		    cfg_size(sec, "tunnel") ? conf_line(sec, "tunnel") : open,
		    "'tunnel_key' needs tunnel = gre, not %s", tunnel_name(rs->tunnel));

	/*
	 * client_address: the service's for a fullnat real server, unless
	 * the real server says; only fullnat hides the client's address.
	 */
	if (cfg_size(sec, "client_address")) {
		rs->client_addr = (enum client_addr)cfg_getint(sec, "client_address");
		conf_client_addr_check(sec, vs, rs->client_addr, fwd_ok ? rs->fwd : FWD_FULLNAT);
	} else {
		rs->client_addr = rs->fwd == FWD_FULLNAT ? vs->client_addr : CA_NONE;
	}

	/* dr leaves the packet as it is and tun only wraps it. */
	if (port_ok && fwd_ok && vs_port_ok && rs->port != vs->port &&
	    (rs->fwd == FWD_DR || rs->fwd == FWD_TUN))
		conf_err(conf_line(sec, "port"), "real server port must equal "
		    "the service port for %s (%u is not %u)", fwd_name(rs->fwd),
		    rs->port, vs->port);
	return conf_good(sec, "address") && port_ok;
}

/*
 * Real server I of VS from SEC. ok[j] tells whether real server j has an
 * accepted address and port, for the duplicate check.
 */
static void
conf_build_rs(cfg_t *sec, struct vs_conf *vs, int vs_addr_ok, int vs_port_ok, int vs_fwd_ok,
    unsigned char *ok)
{
	struct rs_conf *rs = &vs->rs[vs->nrs];
	const char     *title = cfg_title(sec);
	int             open = conf_note(sec)->open;
	char            a[ADDRPORT_STRLEN], what[CONF_NAME_MAX + 16];

	conf_copy(rs->name, sizeof(rs->name), title);
	rs->line = open;
	rs->check = vs->check;
	conf_build_check(sec, &rs->check);
	if (!conf_name_ok(title))
		conf_err(open, "invalid real_server name '%s' (1..%d "
		    "characters, no space)", title, CONF_NAME_MAX - 1);
	snprintf(what, sizeof(what), "real_server '%s'", title);
	ok[vs->nrs] = conf_build_dest(sec, vs, rs, what, vs_addr_ok, vs_port_ok, vs_fwd_ok);

	rs->weight = (int)cfg_getint(sec, "weight");
	rs->upper = (uint32_t)cfg_getint(sec, "upper");
	rs->lower = (uint32_t)cfg_getint(sec, "lower");
	/* As IPVS: the lower threshold may not be above the upper one. */
	if (rs->lower > rs->upper && conf_good(sec, "upper") &&
	    conf_good(sec, "lower"))
		conf_err(conf_line(sec, "lower"), "lower threshold %u is above "
		    "the upper threshold %u", rs->lower, rs->upper);

	for (unsigned j = 0; ok[vs->nrs] && j < vs->nrs; j++) {
		struct rs_conf *o = &vs->rs[j];

		if (ok[j] && o->af == rs->af && addr_eq(&o->addr, &rs->addr) &&
		    o->port == rs->port) {
			conf_err(open, "real_server '%s' duplicates %s of "
			    "real_server '%s' (line %d)", title,
			    addr_port_ntop(rs->af, &rs->addr, rs->port, a, sizeof(a)),
			    o->name, o->line);
			break;
		}
	}
	vs->nrs++;
}

/*
 * The sorry server of VS from SEC: a real server of weight 1 that is given
 * new flows only while every real server is down (svc.c). It may not be
 * one of the real servers.
 */
static void
conf_build_sorry(cfg_t *sec, struct vs_conf *vs, int vs_addr_ok, int vs_port_ok,
    int vs_fwd_ok, const unsigned char *ok)
{
	struct rs_conf *rs = &vs->sorry;
	char            a[ADDRPORT_STRLEN];

	vs->has_sorry = 1;
	conf_copy(rs->name, sizeof(rs->name), "sorry");
	rs->line = conf_note(sec)->open;
	rs->weight = 1;
	if (!conf_build_dest(sec, vs, rs, "sorry_server", vs_addr_ok, vs_port_ok, vs_fwd_ok))
		return;
	for (unsigned j = 0; j < vs->nrs; j++)
		if (ok[j] && vs->rs[j].af == rs->af && addr_eq(&vs->rs[j].addr, &rs->addr) &&
		    vs->rs[j].port == rs->port) {
			conf_err(rs->line, "sorry_server %s is real_server '%s' "
			    "(line %d): the sorry server stands in for the real servers",
			    addr_port_ntop(rs->af, &rs->addr, rs->port, a, sizeof(a)),
			    vs->rs[j].name, vs->rs[j].line);
			break;
		}
}

/*
 * VS's netmask (its address already read): all ones when not set, else
 * the dotted mask of an IPv4 service or the prefix length of an IPv6 one
 * (ipvsadm -M takes each family's form so).
 */
static void
conf_build_netmask(cfg_t *sec, struct vs_conf *vs)
{
	const char *s = cfg_size(sec, "netmask") ? cfg_getstr(sec, "netmask") : NULL;
	long        plen;
	int         af;

	(void)addr_plen_mask(vs->af, vs->af == AF_INET6 ? 128 : 32, &vs->netmask);
	if (s == NULL || !conf_good(sec, "netmask") || !conf_good(sec, "address"))
		return;
	if (conf_strtol(s, &plen) == 0) {
		if (vs->af == AF_INET6)
			(void)addr_plen_mask(AF_INET6, (unsigned)plen, &vs->netmask);
		else
			conf_err(conf_line(sec, "netmask"), "netmask %s is an IPv6 prefix "
			    "length; an IPv4 service takes a dotted mask (255.255.255.0)", s);
		return;
	}
	if (vs->af == AF_INET6)
		conf_err(conf_line(sec, "netmask"), "netmask %s is an IPv4 mask; an IPv6 "
		    "service takes a prefix length (1..128)", s);
	else
		(void)addr_pton(s, &af, &vs->netmask);
}

/*
 * A firewall-mark service's family: its 'family', else that of its first
 * announce_address, else that of its first real server, else IPv4 (as
 * keepalived infers ip_family). Whatever disagrees is refused where it is.
 */
static int
conf_fwmark_family(cfg_t *sec)
{
	union vsr_addr a;
	int af;

	if (cfg_size(sec, "family"))
		return (int)cfg_getint(sec, "family");
	if (cfg_size(sec, "announce_address") &&
	    addr_pton(cfg_getnstr(sec, "announce_address", 0), &af, &a) == 0)
		return af;
	for (unsigned i = 0; i < cfg_size(sec, "real_server"); i++) {
		cfg_t *rs = cfg_getnsec(sec, "real_server", i);
		if (cfg_size(rs, "address") && addr_pton(cfg_getstr(rs, "address"), &af, &a) == 0)
			return af;
	}
	return AF_INET;
}

/*
 * Virtual server conf->nvs from SEC. ok[j] tells whether virtual server j
 * has an accepted protocol, address and port, for the duplicate check.
 */
static int
conf_build_vs(cfg_t *sec, struct config *conf, unsigned char *ok)
{
	struct vs_conf *vs = &conf->vs[conf->nvs];
	const char     *title = cfg_title(sec);
	int             open = conf_note(sec)->open;
	unsigned        n = cfg_size(sec, "real_server");
	unsigned char  *rsok;
	char            a[ADDRPORT_STRLEN];

	conf_copy(vs->name, sizeof(vs->name), title);
	vs->line = open;
	if (!conf_name_ok(title))
		conf_err(open, "invalid virtual_server name '%s' (1..%d "
		    "characters, no space)", title, CONF_NAME_MAX - 1);
	vs->fwmark = cfg_size(sec, "fwmark") ? (uint32_t)cfg_getint(sec, "fwmark") : 0;
	if (vs->fwmark) {
		/* A firewall-mark service: its mark instead of address, port and protocol. */
		const char *no[] = { "address", "port", "protocol" };
		for (size_t i = 0; i < ARRAY_SIZE(no); i++)
			if (conf_line(sec, no[i]) > 0)
				conf_err(conf_line(sec, no[i]), "virtual_server '%s': '%s' and "
				    "'fwmark' exclude each other", title, no[i]);
		vs->af = conf_fwmark_family(sec);
		for (unsigned i = 0; i < cfg_size(sec, "announce_address"); i++) {
			int af;
			union vsr_addr a;
			char t[ADDR_STRLEN];
			if (addr_pton(cfg_getnstr(sec, "announce_address", i), &af, &a) < 0)
				continue;       /* refused when parsed */
			if (af != vs->af) {
				conf_err(conf_line(sec, "announce_address"), "virtual_server '%s': "
				    "announce_address %s is an %s address and the service is %s: "
				    "a service and its addresses are of one family", title,
				    addr_ntop(af, &a, t, sizeof(t)), addr_family_name(af),
				    vs->af == AF_INET6 ? "inet6" : "inet");
				break;
			}
			if (vs->nmaddr == CONF_MADDR_MAX) {
				conf_err(conf_line(sec, "announce_address"), "virtual_server '%s': at "
				    "most %d announce_address entries", title, CONF_MADDR_MAX);
				break;
			}
			vs->maddr[vs->nmaddr++] = (struct vsr_ip){ .af = af, .addr = a };
		}
		/* svc_mark_addr(): the mark where a service has its address. */
		memset(&vs->addr, 0, sizeof(vs->addr));
		if (vs->af == AF_INET6)
			memcpy(&vs->addr.b[12], &(uint32_t){ htonl(vs->fwmark) }, 4);
		else
			vs->addr.ip = htonl(vs->fwmark);
		vs->port = 0;
		vs->proto = 0;
	} else {
		if (cfg_size(sec, "address") == 0)
			conf_err(open, "virtual_server '%s': 'address' is required",
			    title);
		if (cfg_size(sec, "port") == 0)
			conf_err(open, "virtual_server '%s': 'port' is required",
			    title);
		if (cfg_size(sec, "announce_address"))
			conf_err(conf_line(sec, "announce_address"), "virtual_server '%s': "
			    "'announce_address' is for firewall-mark services", title);
		if (cfg_size(sec, "family"))
			conf_err(conf_line(sec, "family"), "virtual_server '%s': 'family' is for "
			    "firewall-mark services (an address says its own)", title);
		conf_get_addr(sec, "address", &vs->af, &vs->addr);
		vs->port = (uint16_t)cfg_getint(sec, "port");
		vs->proto = (int)cfg_getint(sec, "protocol");
	}
	conf_copy(vs->sched, sizeof(vs->sched), cfg_getstr(sec, "scheduler"));
	vs->persistent = (unsigned)cfg_getint(sec, "persistent");
	vs->conn_limit = (unsigned)cfg_getint(sec, "conn_limit");
	vs->mh_size = (unsigned)cfg_getint(sec, "mh_table_size");
	for (unsigned i = 0; i < cfg_size(sec, "flags"); i++) {
		const char *f = cfg_getnstr(sec, "flags", i);

		unsigned one = 0;

		/* A bad name was refused when parsed. */
		if (f && svc_flags_parse(f, &one) == 0)
			vs->flags |= one;
	}
	conf_build_netmask(sec, vs);
	vs->fwd = (enum fwd_method)cfg_getint(sec, "forward");
	vs->tunnel = (enum tunnel_type)cfg_getint(sec, "tunnel");
	vs->tunnel_mtu = (unsigned)cfg_getint(sec, "tunnel_mtu");
	vs->client_addr = (enum client_addr)cfg_getint(sec, "client_address");
	if (cfg_size(sec, "client_address") && conf_good(sec, "protocol"))
		conf_client_addr_check(sec, vs, vs->client_addr,
		    conf_good(sec, "forward") ? vs->fwd : FWD_FULLNAT);
	vs->tunnel_keyed = cfg_size(sec, "tunnel_key") > 0;
	vs->tunnel_key = vs->tunnel_keyed ? (uint32_t)cfg_getint(sec, "tunnel_key") : 0;
	vs->tunnel_port = cfg_size(sec, "tunnel_port") ? (uint16_t)cfg_getint(sec, "tunnel_port") : 0;
	vs->tunnel_csum = (enum tunnel_csum)cfg_getint(sec, "tunnel_csum");
	if (conf_good(sec, "tunnel") && vs->tunnel != TUNNEL_GUE &&
	    (cfg_size(sec, "tunnel_port") || conf_line(sec, "tunnel_csum") > 0))
		conf_err(conf_line(sec, cfg_size(sec, "tunnel_port") ? "tunnel_port" : "tunnel_csum"),
		    "'%s' needs tunnel = gue, not %s",
		    cfg_size(sec, "tunnel_port") ? "tunnel_port" : "tunnel_csum",
		    tunnel_name(vs->tunnel));
	vs->check = (struct check_conf){ .interval = 2, .timeout = 1, .rise = 2,
	    .fall = 3, .expect = 200, .path = "/" };
	conf_build_check(sec, &vs->check);

	ok[conf->nvs] = vs->fwmark ? conf_good(sec, "fwmark") : conf_good(sec, "address") &&
	    conf_good(sec, "port") && conf_good(sec, "protocol");
	for (unsigned j = 0; ok[conf->nvs] && j < conf->nvs; j++) {
		struct vs_conf *o = &conf->vs[j];

		if (ok[j] && vs->fwmark && o->fwmark == vs->fwmark && o->af == vs->af) {
			conf_err(open, "virtual_server '%s' duplicates the firewall-mark service "
			    "%u of virtual_server '%s' (line %d)", title, vs->fwmark, o->name,
			    o->line);
			break;
		}
		if (ok[j] && !vs->fwmark && !o->fwmark && o->proto == vs->proto &&
		    o->af == vs->af && addr_eq(&o->addr, &vs->addr) && o->port == vs->port) {
			conf_err(open, "virtual_server '%s' duplicates the "
			    "service %s %s of virtual_server '%s' (line %d)",
			    title, proto_upper_name(vs->proto),
			    addr_port_ntop(vs->af, &vs->addr, vs->port, a, sizeof(a)),
			    o->name, o->line);
			break;
		}
	}
	conf->nvs++;

	vs->rs = n ? calloc(n, sizeof(*vs->rs)) : NULL;
	rsok = calloc(n ? n : 1, 1);
	if ((n && vs->rs == NULL) || rsok == NULL) {
		free(rsok);
		cp->nomem = 1;
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		conf_build_rs(cfg_getnsec(sec, "real_server", i), vs,
		    conf_good(sec, "address"), conf_good(sec, "port"),
		    conf_good(sec, "forward"), rsok);
	if (cfg_size(sec, "sorry_server"))
		conf_build_sorry(cfg_getsec(sec, "sorry_server"), vs,
		    conf_good(sec, "address"), conf_good(sec, "port"),
		    conf_good(sec, "forward"), rsok);
	free(rsok);
	conf_build_synproxy(sec, vs);
	vs->ops = cfg_getbool(sec, "ops");
	/* As IPVS: a mark service may have it too, and it acts on its UDP packets. */
	if (vs->ops && vs->proto != IPPROTO_UDP && vs->fwmark == 0)
		conf_err(open, "virtual_server '%s': ops (one-packet scheduling) "
		    "is for UDP and firewall-mark services", title);
	for (unsigned i = 0; vs->ops && i < vs->nrs + (vs->has_sorry ? 1u : 0u); i++) {
		const struct rs_conf *rc = i < vs->nrs ? &vs->rs[i] : &vs->sorry;
		if (rc->fwd == FWD_NAT || rc->fwd == FWD_FULLNAT) {
			conf_err(rc->line, "real server %s: %s with ops: no entry is kept, so its "
			    "replies could not be translated; use dr or tun", rc->name,
			    fwd_name(rc->fwd));
			break;
		}
	}
	/* What the scheduler can hold: known now, not found out half-way through a reload. */
	const struct sched_ops *ops = sched_lookup(vs->sched);
	unsigned want = vs->nrs + (vs->has_sorry ? 1 : 0);
	if (ops && ops->max_dests && want > ops->max_dests(vs))
		conf_err(cfg_size(sec, "mh_table_size") ? conf_line(sec, "mh_table_size") : open,
		    "virtual_server '%s': scheduler %s can hold %u real servers (sorry server "
		    "included) with mh_table_size %u, not %u", title, vs->sched,
		    ops->max_dests(vs), vs->mh_size, want);
	return 0;
}

/* sync { }: the daemons' settings, defaults as ipvsadm --start-daemon's. */
static void
conf_build_sync(cfg_t *root, struct sync_conf *sc)
{
	cfg_t      *sec;
	const char *a;

	if (cfg_size(root, "sync") == 0)
		return;
	sec = cfg_getsec(root, "sync");
	sc->line = conf_note(sec)->open;
	sc->state = (unsigned)cfg_getint(sec, "state");
	if (cfg_size(sec, "interface") == 0)
		conf_err(sc->line, "sync: 'interface' is required (where the messages go and come)");
	else
		conf_copy(sc->ifname, sizeof(sc->ifname), cfg_getstr(sec, "interface"));
	if (sc->ifname[0] && strcmp(sc->ifname, cfg_getstr(root, "tap")) == 0)
		conf_err(conf_line(sec, "interface"), "sync: interface '%s' is the tap device",
		    sc->ifname);
	sc->syncid = (unsigned)cfg_getint(sec, "syncid");
	sc->port = (uint16_t)cfg_getint(sec, "port");
	sc->ttl = (unsigned)cfg_getint(sec, "ttl");
	sc->maxlen = cfg_size(sec, "maxlen") ? (unsigned)cfg_getint(sec, "maxlen") : 0;
	sc->threshold = (unsigned)cfg_getint(sec, "threshold");
	sc->period = (unsigned)cfg_getint(sec, "period");
	sc->refresh_period = (unsigned)cfg_getint(sec, "refresh_period");
	sc->retries = (unsigned)cfg_getint(sec, "retries");
	/* As the sync_threshold sysctl: below the period, unless that is 0. */
	if (sc->period && sc->threshold >= sc->period && conf_good(sec, "threshold") &&
	    conf_good(sec, "period"))
		conf_err(conf_line(sec, cfg_size(sec, "threshold") ? "threshold" : "period"),
		    "sync: 'threshold' %u must be below 'period' %u (or period 0)", sc->threshold,
		    sc->period);
	if (cfg_size(sec, "group") && cfg_size(sec, "peer"))
		conf_err(conf_line(sec, "peer"), "sync: 'peer' and 'group' exclude each other "
		    "(group at line %d)", conf_line(sec, "group"));
	sc->unicast = cfg_size(sec, "peer") != 0;
	a = sc->unicast ? cfg_getstr(sec, "peer") : cfg_size(sec, "group") ?
	    cfg_getstr(sec, "group") : "224.0.0.81";
	sc->af = strchr(a, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(sc->af, a, sc->group) != 1)
		memset(sc->group, 0, sizeof(sc->group));        /* refused already */
}

static int
conf_build(struct config *conf)
{
	cfg_t         *root = cp->root, *to = cfg_getsec(root, "timeout");
	unsigned       n = cfg_size(root, "announce");
	unsigned char *ok;
	int            rc = 0;

	conf_copy(conf->tap, sizeof(conf->tap), cfg_getstr(root, "tap"));
	if (n == 0)
		conf_err(1, "'announce' is required: the interfaces on which "
		    "the virtual addresses are announced, e.g. "
		    "announce = { eth0 }");
	if (n && (conf->announce = calloc(n, sizeof(*conf->announce))) == NULL)
		goto nomem;
	for (unsigned i = 0; i < n; i++) {
		const char *s = cfg_getnstr(root, "announce", i);

		conf_copy(conf->announce[i], IFNAMSIZ, s);
		conf->nannounce++;
		conf->announce_line = conf_line(root, "announce");
		if (strcmp(s, conf->tap) == 0 && conf_good(root, "tap"))
			conf_err(conf_line(root, "announce"), "interface '%s' "
			    "is the tap device; 'announce' names the "
			    "interfaces toward the clients", s);
	}
	n = cfg_size(root, "local_address");
	if (n && (conf->laddr = calloc(n, sizeof(*conf->laddr))) == NULL)
		goto nomem;
	for (unsigned i = 0; i < n; i++) {
		struct vsr_ip *l = &conf->laddr[conf->nladdr];

		if (addr_pton(cfg_getnstr(root, "local_address", i), &l->af, &l->addr) == 0 &&
		    addr_unusable(l->af, &l->addr) == NULL)
			conf->nladdr++;
	}
	conf->conn_max = (uint32_t)cfg_getint(root, "conn_max");
	conf->workers = (unsigned)cfg_getint(root, "workers");
	conf->defence.drop_entry = (int)cfg_getint(root, "drop_entry");
	conf->defence.drop_packet = (int)cfg_getint(root, "drop_packet");
	conf->defence.secure_tcp = (int)cfg_getint(root, "secure_tcp");
	conf->defence.amemthresh = (unsigned)cfg_getint(root, "amemthresh");
	conf->defence.am_droprate = (unsigned)cfg_getint(root, "am_droprate");
	conf->defence.conn_reserve = (unsigned)cfg_getint(root, "conn_reserve");
	conf->defence.icmp_rate = (unsigned)cfg_getint(root, "icmp_rate");
	conf->offload = cfg_getbool(root, "offload") != cfg_false;
	conf->sloppy_tcp = cfg_getbool(root, "sloppy_tcp") != cfg_false;
	conf->sloppy_udp = cfg_getbool(root, "sloppy_udp") != cfg_false;
	conf->drain_timeout = (unsigned)cfg_getint(root, "drain_timeout");
	conf->frag_timeout = (unsigned)cfg_getint(root, "fragment_timeout");
	conf->frag_memory = (uint32_t)cfg_getint(root, "fragment_memory");
	conf->announce_table = (uint32_t)cfg_getint(root, "announce_table");
	if (cfg_size(root, "control_socket"))
		conf_copy(conf->control_socket, sizeof(conf->control_socket),
		    cfg_getstr(root, "control_socket"));
	if (cfg_size(root, "metrics") && conf_good(root, "metrics"))
		(void)conf_metrics_parse(cfg_getstr(root, "metrics"), &conf->metrics_addr,
		    &conf->metrics_port);
	conf->metrics_compat = (enum metrics_compat)cfg_getint(root, "metrics_compat");
	if (cfg_size(root, "control_group")) {
		conf_copy(conf->control_group, sizeof(conf->control_group),
		    cfg_getstr(root, "control_group"));
		conf->control_group_line = conf_line(root, "control_group");
	}
	if (cfg_size(root, "control_group_read")) {
		conf_copy(conf->control_group_read, sizeof(conf->control_group_read),
		    cfg_getstr(root, "control_group_read"));
		conf->control_group_read_line = conf_line(root, "control_group_read");
	}
	if (cfg_size(root, "user"))
		conf_copy(conf->user, sizeof(conf->user), cfg_getstr(root, "user"));
	if (cfg_size(root, "check_user")) {
		conf_copy(conf->check_user, sizeof(conf->check_user), cfg_getstr(root, "check_user"));
		conf->check_user_line = conf_line(root, "check_user");
	}
	conf->timeout_tcp = (unsigned)cfg_getint(to, "tcp");
	conf->timeout_tcp_fin = (unsigned)cfg_getint(to, "tcp_fin");
	conf->timeout_udp = (unsigned)cfg_getint(to, "udp");
	conf->role = (enum vsr_role)cfg_getint(root, "role");
	conf_build_sync(root, &conf->sync);

	n = cfg_size(root, "virtual_server");
	if (n == 0)
		return 0;
	conf->vs = calloc(n, sizeof(*conf->vs));
	ok = calloc(n, 1);
	if (conf->vs == NULL || ok == NULL) {
		free(ok);
		goto nomem;
	}
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = conf_build_vs(cfg_getnsec(root, "virtual_server", i), conf,
		    ok);
	free(ok);
	/*
	 * fullnat takes its client-side addresses from the pool, of the real
	 * server's family: said once per family (not when the pool had
	 * refused entries, already reported).
	 */
	for (int k = 0; rc == 0 && k < 2 && (cfg_size(root, "local_address") == 0 ||
	    conf_good(root, "local_address")); k++) {
		int af = k ? AF_INET6 : AF_INET, have = 0;

		for (unsigned i = 0; i < conf->nladdr; i++)
			have |= conf->laddr[i].af == af;
		for (unsigned i = 0; !have && i < conf->nvs; i++) {
			struct vs_conf *vc = &conf->vs[i];

			for (unsigned j = 0; j <= vc->nrs; j++) {
				const struct rs_conf *r = j < vc->nrs ? &vc->rs[j] :
				    vc->has_sorry ? &vc->sorry : NULL;

				if (r == NULL || r->fwd != FWD_FULLNAT || r->af != af)
					continue;
				conf_err(r->line, "%s '%s' forwards by fullnat: "
				    "'local_address' is required with an %s address, e.g. "
				    "local_address = { %s }", j < vc->nrs ? "real_server" :
				    "sorry_server", r->name, addr_family_name(af),
				    af == AF_INET ? "10.20.0.250" : "2001:db8:20::250");
				i = conf->nvs;
				break;
			}
		}
	}
	return rc;
nomem:
	cp->nomem = 1;
	return -1;
}

/* Interface */

struct config *
conf_load(const char *file)
{
	struct conf_parse p = { .file = file };
	struct config    *conf = NULL;
	char             *raw = NULL, *buf = NULL;
	size_t            rawlen = 0, len = 0;
	FILE             *fp;
	int               rc;

	cfg_opt_t check_opts[] = {
		CFG_INT_CB(     "type",           CHECK_NONE,   CFGF_NODEFAULT, conf_cb_checktype),
		CFG_INT_CB(     "interval",       2,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "timeout",        1,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "rise",           2,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "fall",           3,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "port",           0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "expect",         200,          CFGF_NODEFAULT, conf_cb_number),
		CFG_STR_CB(     "path",           NULL,         CFGF_NODEFAULT, conf_cb_checkstr),
		CFG_STR_CB(     "host",           NULL,         CFGF_NODEFAULT, conf_cb_checkstr),
		CFG_STR_CB(     "command",        NULL,         CFGF_NODEFAULT, conf_cb_checkstr),
		CFG_INT_CB(     "on_failure",     CHECK_FAIL_INHIBIT, CFGF_NODEFAULT, conf_cb_onfailure),
		CFG_STR_CB(     "payload",        NULL,         CFGF_NODEFAULT, conf_cb_checkbytes),
		CFG_STR_CB(     "reply",          NULL,         CFGF_NODEFAULT, conf_cb_checkbytes),
		CFG_END()
	};
	cfg_opt_t rs_opts[] = {
		CFG_STR_CB(     "address",        NULL,         CFGF_NODEFAULT, conf_cb_address),
		CFG_INT_CB(     "port",           0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "weight",         1,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "upper",          0,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "lower",          0,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "forward",        FWD_DR,       CFGF_NODEFAULT, conf_cb_forward),
		CFG_INT_CB(     "tunnel",         TUNNEL_IPIP,  CFGF_NODEFAULT, conf_cb_tunnel),
		CFG_INT_CB(     "tunnel_mtu",     0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "client_address", CA_NONE,      CFGF_NODEFAULT, conf_cb_client_addr),
		CFG_INT_CB(     "tunnel_key",     0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "tunnel_port",    0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "tunnel_csum",    TUNNEL_CSUM_NONE, CFGF_NODEFAULT, conf_cb_tunnel_csum),
		CFG_SEC(        "check",          check_opts,   CFGF_NODEFAULT),
		CFG_END()
	};
	cfg_opt_t sorry_opts[] = {
		CFG_STR_CB(     "address",        NULL,         CFGF_NODEFAULT, conf_cb_address),
		CFG_INT_CB(     "port",           0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "forward",        FWD_DR,       CFGF_NODEFAULT, conf_cb_forward),
		CFG_INT_CB(     "tunnel",         TUNNEL_IPIP,  CFGF_NODEFAULT, conf_cb_tunnel),
		CFG_INT_CB(     "tunnel_mtu",     0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "client_address", CA_NONE,      CFGF_NODEFAULT, conf_cb_client_addr),
		CFG_INT_CB(     "tunnel_key",     0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "tunnel_port",    0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "tunnel_csum",    TUNNEL_CSUM_NONE, CFGF_NODEFAULT, conf_cb_tunnel_csum),
		CFG_END()
	};
	cfg_opt_t vs_opts[] = {
		CFG_STR_CB(     "address",        NULL,         CFGF_NODEFAULT, conf_cb_address),
		CFG_INT_CB(     "port",           0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "protocol",       IPPROTO_TCP,  CFGF_NONE,      conf_cb_protocol),
		CFG_INT_CB(     "fwmark",         0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_STR_LIST_CB("announce_address", NULL,       CFGF_NODEFAULT, conf_cb_address),
		CFG_INT_CB(     "family",         AF_INET,      CFGF_NODEFAULT, conf_cb_family),
		CFG_STR_CB(     "scheduler",      "wlc",        CFGF_NONE,      conf_cb_scheduler),
		CFG_INT_CB(     "persistent",     0,            CFGF_NONE,      conf_cb_number),
		CFG_BOOL(       "ops",            cfg_false,    CFGF_NONE),
		CFG_INT_CB(     "conn_limit",     0,            CFGF_NONE,      conf_cb_number),
		CFG_BOOL_CB(    "synproxy",       cfg_false,    CFGF_NONE,      conf_cb_bool),
		CFG_STR_CB(     "netmask",        NULL,         CFGF_NODEFAULT, conf_cb_netmask),
		CFG_STR_LIST_CB("flags",          NULL,         CFGF_NODEFAULT, conf_cb_svcflag),
		CFG_INT_CB(     "mh_table_size",  65537,        CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "forward",        FWD_DR,       CFGF_NONE,      conf_cb_forward),
		CFG_INT_CB(     "tunnel",         TUNNEL_IPIP,  CFGF_NONE,      conf_cb_tunnel),
		CFG_INT_CB(     "tunnel_mtu",     0,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "client_address", CA_NONE,      CFGF_NONE,      conf_cb_client_addr),
		CFG_INT_CB(     "tunnel_key",     0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "tunnel_port",    0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "tunnel_csum",    TUNNEL_CSUM_NONE, CFGF_NONE,  conf_cb_tunnel_csum),
		CFG_SEC(        "check",          check_opts,   CFGF_NODEFAULT),
		CFG_SEC(        "real_server",    rs_opts,      CONF_NAMED),
		CFG_SEC(        "sorry_server",   sorry_opts,   CFGF_NODEFAULT),
		CFG_END()
	};
	cfg_opt_t timeout_opts[] = {
		CFG_INT_CB(     "tcp",            900,          CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "tcp_fin",        120,          CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "udp",            300,          CFGF_NONE,      conf_cb_number),
		CFG_END()
	};
	cfg_opt_t sync_opts[] = {
		CFG_INT_CB(     "state",          SYNC_STATE_BOTH, CFGF_NONE,   conf_cb_sync_state),
		CFG_STR_CB(     "interface",      NULL,         CFGF_NODEFAULT, conf_cb_ifname),
		CFG_INT_CB(     "syncid",         0,            CFGF_NONE,      conf_cb_number),
		CFG_STR_CB(     "group",          NULL,         CFGF_NODEFAULT, conf_cb_sync_addr),
		CFG_STR_CB(     "peer",           NULL,         CFGF_NODEFAULT, conf_cb_sync_addr),
		CFG_INT_CB(     "port",           8848,         CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "ttl",            1,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "maxlen",         0,            CFGF_NODEFAULT, conf_cb_number),
		CFG_INT_CB(     "threshold",      3,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "period",         50,           CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "refresh_period", 0,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "retries",        0,            CFGF_NONE,      conf_cb_number),
		CFG_END()
	};
	cfg_opt_t opts[] = {
		CFG_STR_CB(     "tap",            "vsr0",       CFGF_NONE,      conf_cb_ifname),
		CFG_INT_CB(     "role",           ROLE_MASTER,  CFGF_NONE,      conf_cb_role),
		CFG_STR_LIST_CB("announce",       NULL,         CFGF_NODEFAULT, conf_cb_ifname),
		CFG_STR_CB(     "user",           NULL,         CFGF_NODEFAULT, conf_cb_user),
		CFG_STR_CB(     "check_user",     NULL,         CFGF_NODEFAULT, conf_cb_user),
		CFG_STR_CB(     "control_group",  NULL,         CFGF_NODEFAULT, conf_cb_user),
		CFG_STR_CB(     "control_group_read", NULL,     CFGF_NODEFAULT, conf_cb_user),
		CFG_STR_CB(     "control_socket", NULL,         CFGF_NODEFAULT, conf_cb_path),
		CFG_STR_CB(     "metrics",        NULL,         CFGF_NODEFAULT, conf_cb_metrics),
		CFG_INT_CB(     "metrics_compat", METRICS_COMPAT_NONE, CFGF_NONE, conf_cb_metrics_compat),
		CFG_INT_CB(     "conn_max",       1048576,      CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "workers",        1,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "drop_entry",     DEF_AUTO,     CFGF_NONE,      conf_cb_defence),
		CFG_INT_CB(     "drop_packet",    DEF_OFF,      CFGF_NONE,      conf_cb_defence),
		CFG_INT_CB(     "secure_tcp",     DEF_AUTO,     CFGF_NONE,      conf_cb_defence),
		CFG_INT_CB(     "amemthresh",     75,           CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "am_droprate",    10,           CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "conn_reserve",   10,           CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "icmp_rate",      1000,         CFGF_NONE,      conf_cb_number),
		CFG_BOOL(       "offload",        cfg_true,     CFGF_NONE),
		CFG_BOOL_CB(    "sloppy_tcp",     cfg_false,    CFGF_NONE,      conf_cb_bool),
		CFG_BOOL_CB(    "sloppy_udp",     cfg_true,     CFGF_NONE,      conf_cb_bool),
		CFG_INT_CB(     "drain_timeout",  0,            CFGF_NONE,      conf_cb_number),
		CFG_INT_CB(     "fragment_timeout", FRAG_TIMEOUT_DEF, CFGF_NONE, conf_cb_number),
		CFG_INT_CB(     "fragment_memory", FRAG_MEMORY_DEF, CFGF_NONE,  conf_cb_number),
		CFG_INT_CB(     "announce_table", 0,            CFGF_NONE,      conf_cb_number),
		CFG_STR_LIST_CB("local_address",  NULL,         CFGF_NODEFAULT, conf_cb_laddr),
		CFG_SEC(        "timeout",        timeout_opts, CFGF_NONE),
		CFG_SEC(        "sync",           sync_opts,    CFGF_NODEFAULT),
		CFG_SEC(        "virtual_server", vs_opts,      CONF_NAMED),
		CFG_END()
	};

	cp = &p;
	if ((raw = conf_read(file, &rawlen)) == NULL)
		goto out;
	if ((buf = conf_strip(raw, rawlen, &len)) == NULL)
		goto out;
	if ((p.root = cfg_init(opts, CFGF_NONE)) == NULL) {
		p.nomem = 1;
		goto out;
	}
	cfg_set_error_function(p.root, conf_cfg_error);
	cfg_set_validate_func(p.root, "virtual_server", conf_cb_closed);
	cfg_set_validate_func(p.root, "virtual_server|real_server",
	    conf_cb_closed);
	cfg_set_validate_func(p.root, "virtual_server|sorry_server",
	    conf_cb_closed);
	cfg_set_validate_func(p.root, "sync", conf_cb_closed);
	free(p.root->filename);
	p.root->filename = strdup(file);
	conf_note(p.root);

	if (len > 0) {
		if ((fp = fmemopen(buf, len, "r")) == NULL) {
			p.nomem = 1;
			goto out;
		}
		rc = cfg_parse_fp(p.root, fp);
		fclose(fp);
		if (rc != CFG_SUCCESS) {
			if (p.nfail == 0)
				conf_err(p.root->line, "syntax error");
			goto out;
		}
	}

	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (conf->file = strdup(file)) == NULL) {
		p.nomem = 1;
		goto out;
	}
	conf_build(conf);
out:
	if (p.nfail || p.nomem) {
		conf_free(conf);
		conf = NULL;
	}
	conf_err_flush();
	if (p.root)
		cfg_free(p.root);
	free(p.notes);
	free(buf);
	free(raw);
	cp = NULL;
	return conf;
}

bool
conf_has_af(const struct config *conf, int af)
{
	for (unsigned i = 0; i < conf->nladdr; i++)
		if (conf->laddr[i].af == af)
			return true;
	/* A service and its real servers are of one family. */
	for (unsigned i = 0; i < conf->nvs; i++)
		if (conf->vs[i].af == af)
			return true;
	return false;
}

void
conf_free(struct config *conf)
{
	if (conf == NULL)
		return;
	for (unsigned i = 0; i < conf->nvs; i++)
		free(conf->vs[i].rs);
	free(conf->vs);
	free(conf->announce);
	free(conf->laddr);
	free(conf->file);
	free(conf);
}
