/* kaimport.c - vsradm --import-keepalived: a keepalived.conf turned into a vsrouted.conf */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "common.h"
#include "conf.h"
#include "kaimport.h"

#define KA_LINE_MAX    4096    /* a logical line, continuations and substitutions included */
#define KA_INCLUDE_MAX 16      /* include nesting */
#define KA_DEPTH_MAX   32      /* block nesting */
#define KA_STR_MAX     CONF_CHECK_STR

/*
 * What keepalived.conf can say that vsrouted has no equivalent for yet:
 * one entry each, reported as not mapped. The change that brings one of
 * these features gives its entry a handler (and drops the reason); the
 * keyword tables below only name the entry.
 */
struct ka;
struct ka_node;
struct ka_report;
typedef void (*ka_fn)(struct ka *k, const struct ka_node *n, void *ctx);

enum ka_later {
	KA_LATER_VRRP,          /* vrrp_instance, vrrp_sync_group, vrrp_script, static_* ... */
	KA_LATER_SYNC,          /* lvs_sync_daemon */
	KA_LATER_MAX
};

static void ka_vrrp(struct ka *k, const struct ka_node *n, void *ctx);
static void ka_sync(struct ka *k, const struct ka_node *n, void *ctx);

static const struct {
	ka_fn       fn;         /* NULL: not mapped yet */
	const char *why;
} ka_later[KA_LATER_MAX] = {
	[KA_LATER_VRRP]   = { ka_vrrp, NULL },
	[KA_LATER_SYNC]   = { ka_sync, NULL },
};

/* ---------------------------------------------------------------- reading */

struct ka_line {
	char       *text;
	const char *file;
	int         line;
};

struct ka_def {
	struct ka_def *next;
	char          *name;
	char          *value;
};

struct ka_node {
	char          **w;          /* the words, quotes removed */
	int             nw;
	const char     *file;
	int             line;
	int             block;      /* followed by { ... } */
	struct ka_node *kids, *last, *next;
};

struct ka {
	struct ka_line *lines;
	size_t          nlines, cap;
	char          **files;      /* every file name read, for the lines' file */
	size_t          nfiles;
	struct ka_def  *defs;
	int             errors;     /* nothing is written */
	int             reports;    /* not mapped or approximated */
	struct ka_node  root;
	char            announce[IFNAMSIZ];
	const struct ka_node *announce_from;
	unsigned        to_tcp, to_tcpfin, to_udp;      /* lvs_timeouts, 0: unset */
	/* lvs_sync_daemon: the sync { } section */
	const struct ka_node *sync_from;
	char            sync_if[IFNAMSIZ];
	unsigned long   sync_id, sync_maxlen, sync_port, sync_ttl;
	char            sync_group[INET6_ADDRSTRLEN];
	/* VRRP: written with --vrrp FILE in keepalived-vsrouted.conf's form */
	const char     *vrrp_out;
	const struct ka_node **vrrp;    /* the top-level VRRP blocks, in order */
	size_t          nvrrp;
	const struct ka_node *globals;  /* global_defs, its VRRP settings copied */
	int             instances;      /* vrrp_instance blocks */
	struct vsr_ip  *vips;           /* the virtual servers' addresses written */
	size_t          nvips;
	struct ka_report *rep;
	size_t          nrep;
	FILE           *out;
};

/* A report, printed with the others in file and line order at the end. */
struct ka_report {
	const char *file;
	int         line;
	size_t      seq;
	char       *text;
};

static void __attribute__((format(printf, 5, 6)))
ka_say(struct ka *k, const char *file, int line, const char *kind, const char *fmt, ...)
{
	struct ka_report *r;
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Once: an included file read again says the same. */
	for (size_t i = 0; i < k->nrep; i++)
		if (k->rep[i].file == file && k->rep[i].line == line &&
		    strncmp(k->rep[i].text, kind, strlen(kind)) == 0 &&
		    strcmp(k->rep[i].text + strlen(kind), buf) == 0)
			return;
	if (k->nrep % 64 == 0 && (k->rep = realloc(k->rep, (k->nrep + 64) * sizeof(*k->rep))) == NULL) {
		fprintf(stderr, "vsradm: out of memory\n");
		exit(1);
	}
	r = &k->rep[k->nrep];
	r->file = file;
	r->line = line;
	r->seq = k->nrep++;
	if ((r->text = malloc(strlen(kind) + strlen(buf) + 1)) == NULL) {
		fprintf(stderr, "vsradm: out of memory\n");
		exit(1);
	}
	strcpy(r->text, kind);
	strcat(r->text, buf);
	if (strncmp(kind, "error", 5) == 0)
		k->errors++;
	else
		k->reports++;
}

static const struct ka *ka_sorting;

/* Files in the order they were read, lines in order, then as reported. */
static int
ka_report_cmp(const void *a, const void *b)
{
	const struct ka_report *x = a, *y = b;
	size_t fx = 0, fy = 0;

	for (size_t i = 0; i < ka_sorting->nfiles; i++) {
		if (ka_sorting->files[i] == x->file)
			fx = i;
		if (ka_sorting->files[i] == y->file)
			fy = i;
	}
	if (fx != fy)
		return fx < fy ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
ka_report_flush(struct ka *k)
{
	ka_sorting = k;
	qsort(k->rep, k->nrep, sizeof(*k->rep), ka_report_cmp);
	for (size_t i = 0; i < k->nrep; i++) {
		fprintf(stderr, "%s:%d: %s\n", k->rep[i].file, k->rep[i].line, k->rep[i].text);
		free(k->rep[i].text);
	}
	free(k->rep);
	k->rep = NULL;
	k->nrep = 0;
}

/* "FILE:LINE: KEYWORD: not mapped: WHY" */
static void
ka_unmapped(struct ka *k, const struct ka_node *n, const char *why)
{
	ka_say(k, n->file, n->line, "", "%s: not mapped: %s", n->w[0], why);
}

static void __attribute__((format(printf, 3, 4)))
ka_approx(struct ka *k, const struct ka_node *n, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ka_say(k, n->file, n->line, "", "%s: approximated: %s", n->w[0], buf);
}

static void
ka_later_report(struct ka *k, const struct ka_node *n, enum ka_later what, void *ctx)
{
	if (ka_later[what].fn)
		ka_later[what].fn(k, n, ctx);
	else
		ka_unmapped(k, n, ka_later[what].why);
}

static void *
xalloc(size_t n)
{
	void *p = calloc(1, n);

	if (p == NULL) {
		fprintf(stderr, "vsradm: out of memory\n");
		exit(1);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		fprintf(stderr, "vsradm: out of memory\n");
		exit(1);
	}
	return p;
}

/*
 * As keepalived's parser: leading white space goes, '!' and '#' outside
 * double quotes start a comment ("\!" and "\#" are the characters), a
 * '\' at the end continues the line (returns 1), trailing blanks go.
 */
static int
ka_decomment(char *s)
{
	int quote = 0, cont = 0;
	char *p = s + strspn(s, " \t"), *e;

	memmove(s, p, strlen(p) + 1);
	s[strcspn(s, "\r\n")] = '\0';
	for (p = s; (p = strpbrk(p, "!#\"\\")) != NULL;) {
		if (*p == '"') {
			quote = !quote;
			p++;
		} else if (*p == '\\') {
			if (p[1] == '\0') {
				*p = '\0';
				cont = 1;
				break;
			}
			if (!quote && (p[1] == '#' || p[1] == '!'))
				memmove(p, p + 1, strlen(p));
			p += 2;
		} else if (!quote) {
			*p = '\0';
			break;
		} else {
			p++;
		}
	}
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return cont;
}

static const struct ka_def *
ka_def_find(const struct ka *k, const char *name, size_t len)
{
	for (const struct ka_def *d = k->defs; d; d = d->next)
		if (strlen(d->name) == len && strncmp(d->name, name, len) == 0)
			return d;
	return NULL;
}

/* $NAME=VALUE: a definition (keepalived's parameter substitution). */
static int
ka_definition(struct ka *k, const char *s)
{
	const char *p = s + 1, *v;
	struct ka_def *d;

	if (s[0] != '$' || !(isalpha((unsigned char)p[0]) || p[0] == '_'))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	v = p + strspn(p, " \t");
	if (*v != '=')
		return 0;
	v++;
	v += strspn(v, " \t");
	for (d = k->defs; d; d = d->next)
		if (strlen(d->name) == (size_t)(p - s - 1) && strncmp(d->name, s + 1, (size_t)(p - s - 1)) == 0)
			break;
	if (d == NULL) {
		d = xalloc(sizeof(*d));
		d->name = xalloc((size_t)(p - s));
		memcpy(d->name, s + 1, (size_t)(p - s - 1));
		d->next = k->defs;
		k->defs = d;
	} else {
		free(d->value);
	}
	d->value = xstrdup(v);
	return 1;
}

/* $NAME and ${NAME} replaced by their definitions; -1 when the line outgrows BUF. */
static int
ka_substitute(const struct ka *k, char *buf, size_t size)
{
	char out[KA_LINE_MAX];
	size_t o = 0;

	if (k->defs == NULL || strchr(buf, '$') == NULL)
		return 0;
	for (const char *p = buf; *p;) {
		const struct ka_def *d = NULL;
		size_t len = 0, skip = 0;

		if (*p == '$' && p[1] == '{') {
			const char *e = strchr(p + 2, '}');
			if (e && (d = ka_def_find(k, p + 2, (size_t)(e - p - 2))) != NULL)
				skip = (size_t)(e - p) + 1;
		} else if (*p == '$') {
			while (isalnum((unsigned char)p[1 + len]) || p[1 + len] == '_')
				len++;
			if (len && (d = ka_def_find(k, p + 1, len)) != NULL)
				skip = len + 1;
		}
		if (d != NULL) {
			size_t vl = strlen(d->value);
			if (o + vl >= sizeof(out))
				return -1;
			memcpy(out + o, d->value, vl);
			o += vl;
			p += skip;
		} else {
			if (o + 1 >= sizeof(out))
				return -1;
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	if (o >= size)
		return -1;
	memcpy(buf, out, o + 1);
	return 0;
}

static void ka_read_glob(struct ka *k, const char *pattern, const char *from, int line, int depth);

static void
ka_add_line(struct ka *k, const char *text, const char *file, int line)
{
	if (k->nlines == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 256;
		k->lines = realloc(k->lines, k->cap * sizeof(*k->lines));
		if (k->lines == NULL) {
			fprintf(stderr, "vsradm: out of memory\n");
			exit(1);
		}
	}
	k->lines[k->nlines++] = (struct ka_line){ xstrdup(text), file, line };
}

/* One logical line (comments gone, continuations joined) of FILE at LINE. */
static void
ka_logical(struct ka *k, char *buf, const char *file, int line, int depth)
{
	char *p = buf;

	if (*p == '\0')
		return;
	if (*p == '@') {
		/* @ID: only for keepalived -i ID; @^ID: unless it is ID. There is no ID here. */
		int rev = p[1] == '^';
		char *rest = strpbrk(p, " \t");
		if (rest == NULL)
			return;
		if (!rev) {
			*rest = '\0';
			ka_say(k, file, line, "", "%s: not mapped: a line for keepalived -i %s only, "
			    "left out as keepalived without -i does", p, p + 1);
			return;
		}
		memmove(p, rest + strspn(rest, " \t"), strlen(rest + strspn(rest, " \t")) + 1);
	}
	if (ka_definition(k, p))
		return;
	if (strncmp(p, "~SEQ", 4) == 0 || strncmp(p, "~LST", 4) == 0) {
		ka_say(k, file, line, "", "%.4s: not mapped: keepalived's sequences are not expanded",
		    p);
		return;
	}
	if (ka_substitute(k, buf, KA_LINE_MAX) < 0) {
		ka_say(k, file, line, "error: ", "the line is too long after substitution");
		return;
	}
	/* include, includer, includea, includew, includem, includeb: GLOB */
	if (strncmp(p, "include", 7) == 0 && (isblank((unsigned char)p[7]) ||
	    (p[7] && strchr("ramwb", p[7]) && isblank((unsigned char)p[8])))) {
		char *g = p + 7 + (isblank((unsigned char)p[7]) ? 0 : 1);
		g += strspn(g, " \t");
		if (*g == '"') {
			g++;
			g[strcspn(g, "\"")] = '\0';
		}
		ka_read_glob(k, g, file, line, depth + 1);
		return;
	}
	ka_add_line(k, p, file, line);
}

/* FILE, whole: its logical lines appended. */
static int
ka_read_file(struct ka *k, const char *path, int depth)
{
	char buf[KA_LINE_MAX], *raw = NULL, *name = NULL;
	size_t rawcap = 0, used = 0;
	ssize_t n;
	int lineno = 0, first = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	/* One name per path: a file read twice reports once (ka_say). */
	for (size_t i = 0; i < k->nfiles; i++)
		if (strcmp(k->files[i], path) == 0)
			name = k->files[i];
	if (name == NULL) {
		k->files = realloc(k->files, (k->nfiles + 1) * sizeof(*k->files));
		if (k->files == NULL) {
			fprintf(stderr, "vsradm: out of memory\n");
			exit(1);
		}
		name = k->files[k->nfiles++] = xstrdup(path);
	}
	buf[0] = '\0';
	while ((n = getline(&raw, &rawcap, f)) >= 0) {
		lineno++;
		int cont = ka_decomment(raw);
		size_t len = strlen(raw);
		if (used == 0)
			first = lineno;
		if (used + len + 2 >= sizeof(buf)) {
			ka_say(k, name, lineno, "error: ", "line longer than %d bytes", KA_LINE_MAX);
			used = 0;
			buf[0] = '\0';
			continue;
		}
		if (used && len)
			buf[used++] = ' ';
		memcpy(buf + used, raw, len + 1);
		used += len;
		if (cont)
			continue;
		ka_logical(k, buf, name, first, depth);
		used = 0;
		buf[0] = '\0';
	}
	if (used)
		ka_logical(k, buf, name, first, depth);
	free(raw);
	fclose(f);
	return 0;
}

/*
 * include GLOB: relative to the including file's directory (keepalived
 * changes into it), braces expanded, every regular file matched in order.
 */
static void
ka_read_glob(struct ka *k, const char *pattern, const char *from, int line, int depth)
{
	char path[4096];
	glob_t g;
	int rc;

	if (depth > KA_INCLUDE_MAX) {
		ka_say(k, from, line, "error: ", "include nested more than %d deep", KA_INCLUDE_MAX);
		return;
	}
	if (pattern[0] != '/' && strchr(from, '/') != NULL) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", from);
		snprintf(path, sizeof(path), "%s/%s", dirname(dir), pattern);
	} else {
		snprintf(path, sizeof(path), "%s", pattern);
	}
	rc = glob(path, GLOB_MARK | GLOB_BRACE, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		ka_say(k, from, line, "", "include: not mapped: no file matches %s", path);
		return;
	}
	if (rc != 0) {
		ka_say(k, from, line, "error: ", "include %s: cannot read", path);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		const char *p = g.gl_pathv[i];
		if (p[strlen(p) - 1] == '/' || stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			ka_say(k, from, line, "", "include: not mapped: %s is not a regular file", p);
			continue;
		}
		if (ka_read_file(k, p, depth) < 0)
			ka_say(k, from, line, "error: ", "include %s: %s", p, strerror(errno));
	}
	globfree(&g);
}

/* ---------------------------------------------------------------- the tree */

static void
ka_word(struct ka_node *n, const char *s, size_t len)
{
	n->w = realloc(n->w, (size_t)(n->nw + 2) * sizeof(*n->w));
	if (n->w == NULL) {
		fprintf(stderr, "vsradm: out of memory\n");
		exit(1);
	}
	n->w[n->nw] = xalloc(len + 1);
	memcpy(n->w[n->nw], s, len);
	n->w[++n->nw] = NULL;
}

static struct ka_node *
ka_child(struct ka_node *parent, const struct ka_line *l)
{
	struct ka_node *n = xalloc(sizeof(*n));

	n->file = l->file;
	n->line = l->line;
	if (parent->last)
		parent->last->next = n;
	else
		parent->kids = n;
	parent->last = n;
	return n;
}

/*
 * Statements and blocks, as keepalived's read_line splits them: words up
 * to the end of the line or an unquoted brace; "{" opens the block of the
 * statement before it (on its line or the one before); "}" closes it.
 */
static int
ka_tree(struct ka *k)
{
	struct ka_node *stack[KA_DEPTH_MAX + 1];
	int depth = 0;

	stack[0] = &k->root;
	for (size_t i = 0; i < k->nlines; i++) {
		const struct ka_line *l = &k->lines[i];
		struct ka_node *cur = NULL;
		const char *p = l->text;

		for (;;) {
			p += strspn(p, " \t");
			if (*p == '\0')
				break;
			if (*p == '{') {
				struct ka_node *owner = cur ? cur : stack[depth]->last;
				if (owner == NULL || owner->block) {
					ka_say(k, l->file, l->line, "error: ", "'{' without a keyword before it");
					owner = ka_child(stack[depth], l);
					ka_word(owner, "{", 1);
				}
				if (depth == KA_DEPTH_MAX) {
					ka_say(k, l->file, l->line, "error: ", "blocks nested too deep");
					return -1;
				}
				owner->block = 1;
				stack[++depth] = owner;
				cur = NULL;
				p++;
			} else if (*p == '}') {
				if (depth == 0)
					ka_say(k, l->file, l->line, "error: ", "extra '}'");
				else
					depth--;
				cur = NULL;
				p++;
			} else {
				const char *s = p;
				size_t len;
				if (*p == '"') {
					const char *e = strchr(++s, '"');
					if (e == NULL) {
						ka_say(k, l->file, l->line, "error: ", "unmatched quote");
						e = s + strlen(s);
					}
					len = (size_t)(e - s);
					p = *e ? e + 1 : e;
				} else {
					len = strcspn(s, " \t\"{}");
					p = s + len;
				}
				if (cur == NULL)
					cur = ka_child(stack[depth], l);
				ka_word(cur, s, len);
			}
		}
	}
	if (depth > 0) {
		ka_say(k, stack[depth]->file, stack[depth]->line, "error: ",
		    "the block of %s is not closed", stack[depth]->w[0]);
		return -1;
	}
	return 0;
}

static void
ka_free_node(struct ka_node *n)
{
	struct ka_node *c, *next;

	for (c = n->kids; c; c = next) {
		next = c->next;
		ka_free_node(c);
		free(c);
	}
	for (int i = 0; i < n->nw; i++)
		free(n->w[i]);
	free(n->w);
}

/* ---------------------------------------------------------------- the model */

/* Checker settings, inherited checker <- real server <- virtual server. */
struct ka_chk {
	double  delay_loop;            /* seconds, < 0: unset */
	double  timeout;               /* connect_timeout */
	long    retry;                 /* -1: unset */
	int     inhibit;               /* inhibit_on_failure, -1: unset */
	char    host[KA_STR_MAX];      /* virtualhost, "": unset */
};

/* lvs_method TUN's tunnel: its type, GUE's port and UDP checksum. */
struct ka_tun {
	int      type;         /* enum tunnel_type */
	unsigned port;         /* gue: the receivers' UDP port */
	int      csum;         /* gue: enum tunnel_csum */
};

struct ka_rs {
	struct ka_rs         *next;
	const struct ka_node *n;
	int                   af;
	union vsr_addr        addr;
	unsigned              port;    /* 0: the service's */
	long                  weight;  /* -1: unset */
	int                   fwd;     /* -1: the service's */
	struct ka_tun         tun;
	long                  upper, lower;     /* -1: unset */
	struct ka_chk         dflt;
	/* the (first) checker */
	const struct ka_node *cn;
	enum check_type       type;
	struct ka_chk         chk;
	unsigned              cport;
	char                  path[KA_STR_MAX];
	long                  expect;          /* -1: keepalived's default, any 2xx */
	char                  command[KA_STR_MAX];
	double                misc_timeout;    /* < 0: unset */
	uint8_t               payload[KA_STR_MAX], reply[KA_STR_MAX];
	size_t                plen, rlen;
};

struct ka_vs {
	const struct ka_node *n;
	int                   af;      /* of the service, its real servers and sorry server */
	union vsr_addr        addr;
	unsigned              port;
	int                   proto;
	char                  sched[CONF_SCHED_MAX];
	int                   fwd;     /* -1: unset, NAT then */
	struct ka_tun         tun;
	long                  persistent;      /* -1: unset */
	char                  netmask[INET_ADDRSTRLEN];   /* dotted, or IPv6's prefix length */
	char                  flags[64];
	int                   has_sorry;
	union vsr_addr        sorry_addr;
	unsigned              sorry_port;
	int                   sorry_fwd;       /* -1: the service's */
	struct ka_chk         dflt;
	struct ka_rs         *rs, *rs_last;
	int                   skip;            /* not convertible: reported, not written */
	unsigned long         fwmark;          /* virtual_server fwmark N; 0: address and port */
	const struct ka_node *ops;             /* its "ops" line, or NULL */
};

static void
ka_chk_init(struct ka_chk *c)
{
	memset(c, 0, sizeof(*c));
	c->delay_loop = -1;
	c->timeout = -1;
	c->retry = -1;
	c->inhibit = -1;
}

/* The value words of N: exactly ONE wanted; reports and returns NULL otherwise. */
static const char *
ka_arg(struct ka *k, const struct ka_node *n)
{
	if (n->nw < 2) {
		ka_say(k, n->file, n->line, "error: ", "%s needs a value", n->w[0]);
		return NULL;
	}
	return n->w[1];
}

static int
ka_number(struct ka *k, const struct ka_node *n, long min, long max, long *v)
{
	const char *s = ka_arg(k, n);
	char *end;

	if (s == NULL)
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno || *end || end == s || *v < min || *v > max) {
		ka_say(k, n->file, n->line, "error: ", "%s: '%s' is not a number from %ld to %ld",
		    n->w[0], s, min, max);
		return -1;
	}
	return 0;
}

/* keepalived's timers: seconds, with up to 6 decimals. */
static int
ka_seconds(struct ka *k, const struct ka_node *n, double *v)
{
	const char *s = ka_arg(k, n);
	char *end;

	if (s == NULL)
		return -1;
	*v = strtod(s, &end);
	if (*end || end == s || !(*v >= 0) || *v > 1e7) {
		ka_say(k, n->file, n->line, "error: ", "%s: '%s' is not a time in seconds", n->w[0], s);
		return -1;
	}
	return 0;
}

/* An IPv4 or IPv6 address as keepalived writes it (no brackets): *AF and *A. */
static int
ka_addr(struct ka *k, const struct ka_node *n, const char *s, int *af, union vsr_addr *a)
{
	if (s[0] != '[' && addr_pton(s, af, a) == 0)
		return 0;
	ka_say(k, n->file, n->line, "error: ", "%s: '%s' is not an address", n->w[0], s);
	return -1;
}

static int
ka_port(struct ka *k, const struct ka_node *n, const char *s, unsigned *port)
{
	char *end;
	unsigned long p = strtoul(s, &end, 10);

	if (*end || end == s || p > 65535) {
		ka_say(k, n->file, n->line, "error: ", "%s: '%s' is not a port", n->w[0], s);
		return -1;
	}
	*port = (unsigned)p;
	return 0;
}

/* NAT | DR | TUN [type ipip|gre|gue] [port N] [nocsum|csum|remcsum]: FWD and T. */
static int
ka_method(struct ka *k, const struct ka_node *n, int *fwd, struct ka_tun *t)
{
	const char *s = ka_arg(k, n);
	long port;

	if (s == NULL)
		return -1;
	if (strcmp(s, "NAT") == 0)
		*fwd = FWD_NAT;
	else if (strcmp(s, "DR") == 0)
		*fwd = FWD_DR;
	else if (strcmp(s, "TUN") == 0)
		*fwd = FWD_TUN;
	else {
		ka_say(k, n->file, n->line, "error: ", "%s: '%s' is not NAT, DR or TUN", n->w[0], s);
		return -1;
	}
	*t = (struct ka_tun){ .type = TUNNEL_IPIP };
	for (int i = 2; i < n->nw; i++) {
		const char *w = n->w[i];

		if (strcmp(w, "type") == 0 && i + 1 < n->nw) {
			w = n->w[++i];
			if (strcmp(w, "gre") == 0)
				t->type = TUNNEL_GRE;
			else if (strcmp(w, "gue") == 0)
				t->type = TUNNEL_GUE;
			else if (strcmp(w, "ipip") != 0)
				ka_unmapped(k, n, "a tunnel of type other than ipip, gre and gue: ipip is "
				    "written");
		} else if (strcmp(w, "port") == 0 && i + 1 < n->nw) {
			char *end;

			w = n->w[++i];
			port = strtol(w, &end, 10);
			if (*end != '\0' || port < 1 || port > 65535) {
				ka_say(k, n->file, n->line, "error: ", "%s: '%s' is not a port", n->w[0], w);
				return -1;
			}
			t->port = (unsigned)port;
		} else if (strcmp(w, "csum") == 0) {
			t->csum = TUNNEL_CSUM_CSUM;
		} else if (strcmp(w, "nocsum") == 0) {
			t->csum = TUNNEL_CSUM_NONE;
		} else if (strcmp(w, "remcsum") == 0) {
			t->csum = TUNNEL_CSUM_REMCSUM;
		} else {
			ka_unmapped(k, n, "an unknown tunnel option; left out");
			break;
		}
	}
	/* What vsrouted's tunnel_port and tunnel_csum take: GUE's alone. */
	if (t->type != TUNNEL_GUE && (t->port || t->csum)) {
		ka_unmapped(k, n, "a port or a checksum on a tunnel other than gue; left out");
		t->port = 0;
		t->csum = 0;
	}
	if (t->type == TUNNEL_GUE && t->port == 0) {
		ka_say(k, n->file, n->line, "error: ", "%s: a gue tunnel needs its port", n->w[0]);
		return -1;
	}
	return 0;
}

/* The tunnel lines of T, at INDENT, the keys aligned to WIDTH. */
static void
ka_put_tun(FILE *f, const char *indent, int width, const struct ka_tun *t)
{
	fprintf(f, "%s%-*s = %s\n", indent, width, "tunnel", tunnel_name(t->type));
	if (t->type != TUNNEL_GUE)
		return;
	fprintf(f, "%s%-*s = %u\n", indent, width, "tunnel_port", t->port);
	if (t->csum != TUNNEL_CSUM_NONE)
		fprintf(f, "%s%-*s = %s\n", indent, width, "tunnel_csum",
		    tunnel_csum_name((enum tunnel_csum)t->csum));
}

static bool
ka_tun_eq(const struct ka_tun *a, const struct ka_tun *b)
{
	return a->type == b->type && a->port == b->port && a->csum == b->csum;
}

/* A hex string ("0a0b 0c") into bytes; -1 if malformed or with wildcards. */
static int
ka_hex(const struct ka_node *n, uint8_t *out, size_t *len)
{
	int hi = -1;

	*len = 0;
	for (int i = 1; i < n->nw; i++) {
		for (const char *p = n->w[i]; *p; p++) {
			int v;
			if (*p == ' ')
				continue;
			if (!isxdigit((unsigned char)*p))
				return -1;
			v = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
			if (hi < 0) {
				hi = v;
			} else {
				if (*len == KA_STR_MAX)
					return -1;
				out[(*len)++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		}
	}
	return hi >= 0 || *len == 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- keyword tables */

enum ka_ctx { CTX_VS, CTX_RS, CTX_CHK, CTX_URL };

struct ka_kw {
	const char *name;
	void      (*fn)(struct ka *k, const struct ka_node *n, void *ctx);
	const char *why;        /* fn NULL: reported as not mapped, with this reason */
};

/* A keyword of no effect in vsrouted: said so. */
#define KA_NOTHING(why) NULL, why

static void
ka_dispatch(struct ka *k, const struct ka_node *n, const struct ka_kw *tab, void *ctx,
    const char *where)
{
	for (const struct ka_kw *kw = tab; kw->name; kw++) {
		if (strcmp(kw->name, n->w[0]) != 0)
			continue;
		if (kw->fn)
			kw->fn(k, n, ctx);
		else
			ka_unmapped(k, n, kw->why);
		return;
	}
	ka_say(k, n->file, n->line, "", "%s: not mapped: not a keyword vsradm knows in %s",
	    n->w[0], where);
}

/* ---- checkers */

struct ka_chk_ctx {
	struct ka_rs *rs;
};

static void
kw_connect_port(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ((struct ka_chk_ctx *)ctx)->rs;
	const char *s = ka_arg(k, n);

	if (s)
		(void)ka_port(k, n, s, &rs->cport);
}

static void
kw_chk_timeout(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_seconds(k, n, &((struct ka_chk_ctx *)ctx)->rs->chk.timeout);
}

static void
kw_chk_retry(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_number(k, n, 0, 1000000, &((struct ka_chk_ctx *)ctx)->rs->chk.retry);
}

static void
kw_chk_delay(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_seconds(k, n, &((struct ka_chk_ctx *)ctx)->rs->chk.delay_loop);
}

static void
kw_chk_dbr(struct ka *k, const struct ka_node *n, void *ctx)
{
	double v;

	(void)ctx;
	if (ka_seconds(k, n, &v) == 0)
		ka_approx(k, n, "vsrouted checks every interval, failures included: "
		    "retries come at delay_loop, not %g s", v);
}

static void
kw_chk_host(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ((struct ka_chk_ctx *)ctx)->rs;
	const char *s = ka_arg(k, n);

	if (s)
		snprintf(rs->chk.host, sizeof(rs->chk.host), "%s", s);
}

static void
kw_url_path(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ((struct ka_chk_ctx *)ctx)->rs;
	const char *s = ka_arg(k, n);

	if (s == NULL)
		return;
	if (s[0] != '/' || strpbrk(s, " \t\"\\") != NULL || strlen(s) >= sizeof(rs->path)) {
		ka_unmapped(k, n, "vsrouted's path starts with '/' and has no space, quote or "
		    "backslash; '/' is checked");
		return;
	}
	snprintf(rs->path, sizeof(rs->path), "%s", s);
}

/* status_code 200 | 200-299 | 200 301-302 ...: vsrouted expects one code. */
static void
kw_url_status(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ((struct ka_chk_ctx *)ctx)->rs;
	long lo, hi;
	char *end;

	if (ka_arg(k, n) == NULL)
		return;
	lo = strtol(n->w[1], &end, 10);
	hi = *end == '-' ? strtol(end + 1, &end, 10) : lo;
	if (*end || lo < 100 || hi > 599 || lo > hi) {
		ka_say(k, n->file, n->line, "error: ", "status_code: '%s' is not a status code",
		    n->w[1]);
		return;
	}
	rs->expect = lo <= 200 && 200 <= hi ? 200 : lo;
	if (n->nw > 2 || lo != hi)
		ka_approx(k, n, "vsrouted's http check expects one status code: %ld", rs->expect);
}

static const struct ka_kw kw_url_tab[] = {
	{ "path",             kw_url_path,   NULL },
	{ "status_code",      kw_url_status, NULL },
	{ "virtualhost",      kw_chk_host,   NULL },
	{ "digest",           KA_NOTHING("vsrouted's http check compares the status code only") },
	{ "regex",            KA_NOTHING("vsrouted's http check compares the status code only") },
	{ "regex_no_match",   KA_NOTHING("vsrouted's http check compares the status code only") },
	{ "regex_options",    KA_NOTHING("vsrouted's http check compares the status code only") },
	{ "regex_min_offset", KA_NOTHING("vsrouted's http check compares the status code only") },
	{ "regex_max_offset", KA_NOTHING("vsrouted's http check compares the status code only") },
	{ "regex_stack",      KA_NOTHING("vsrouted's http check compares the status code only") },
	{ "tls_compliant",    KA_NOTHING("vsrouted's http check speaks plain HTTP/1.0") },
	{ NULL, NULL, NULL }
};

static void
kw_url(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ((struct ka_chk_ctx *)ctx)->rs;

	if (rs->path[0]) {
		ka_unmapped(k, n, "vsrouted's http check requests one url: the first is checked");
		return;
	}
	for (const struct ka_node *c = n->kids; c; c = c->next)
		ka_dispatch(k, c, kw_url_tab, ctx, "url");
	if (rs->path[0] == '\0')
		snprintf(rs->path, sizeof(rs->path), "/");
}

static void
kw_misc_path(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ((struct ka_chk_ctx *)ctx)->rs;
	const char *s = ka_arg(k, n);

	if (s == NULL)
		return;
	if (s[0] != '/' || strlen(s) >= sizeof(rs->command) || strpbrk(s, "\"\\'$")) {
		ka_unmapped(k, n, "vsrouted runs an absolute path with its arguments split at "
		    "spaces, without a shell: write a script");
		rs->type = CHECK_NONE;
		return;
	}
	snprintf(rs->command, sizeof(rs->command), "%s", s);
	ka_approx(k, n, "vsrouted adds the real server's address and port as the last two "
	    "arguments");
}

static void
kw_misc_timeout(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_seconds(k, n, &((struct ka_chk_ctx *)ctx)->rs->misc_timeout);
}

static void
kw_udp_payload(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ((struct ka_chk_ctx *)ctx)->rs;

	if (ka_hex(n, rs->payload, &rs->plen) < 0)
		ka_say(k, n->file, n->line, "error: ", "payload: not a hex string of 1 to %d bytes",
		    KA_STR_MAX);
}

static void
kw_udp_reply(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ((struct ka_chk_ctx *)ctx)->rs;

	if (n->nw < 2)
		return;         /* any answer: vsrouted's default without reply */
	if (ka_hex(n, rs->reply, &rs->rlen) < 0)
		ka_unmapped(k, n, "vsrouted compares the start of the answer byte for byte, "
		    "without wildcards: any answer is accepted");
}

#define KA_CHK_COMMON \
	{ "connect_port",       kw_connect_port, NULL }, \
	{ "connect_timeout",    kw_chk_timeout,  NULL }, \
	{ "retry",              kw_chk_retry,    NULL }, \
	{ "nb_get_retry",       kw_chk_retry,    NULL }, \
	{ "delay_before_retry", kw_chk_dbr,      NULL }, \
	{ "delay_loop",         kw_chk_delay,    NULL }, \
	{ "connect_ip",  KA_NOTHING("vsrouted checks the real server's own address") }, \
	{ "bindto",      KA_NOTHING("vsrouted's checks leave from the address the route gives") }, \
	{ "bind_port",   KA_NOTHING("vsrouted's checks leave from the port the kernel gives") }, \
	{ "bind_if",     KA_NOTHING("vsrouted's checks leave by the interface the route gives") }, \
	{ "warmup",      KA_NOTHING("vsrouted starts checking at once") }, \
	{ "alpha",       KA_NOTHING("vsrouted's real servers start up, as without alpha") }, \
	{ "log_all_failures", KA_NOTHING("vsrouted logs each transition once (debug: each failure)") }

static const struct ka_kw kw_tcp_check[] = {
	KA_CHK_COMMON,
	{ "fwmark",           KA_NOTHING("checks with a firewall mark are not in vsrouted") },
	{ NULL, NULL, NULL }
};

static const struct ka_kw kw_http_check[] = {
	KA_CHK_COMMON,
	{ "fwmark",           KA_NOTHING("checks with a firewall mark are not in vsrouted") },
	{ "url",              kw_url,        NULL },
	{ "virtualhost",      kw_chk_host,   NULL },
	{ "http_protocol",    KA_NOTHING("vsrouted's http check speaks HTTP/1.0") },
	{ "fast_recovery",    KA_NOTHING("vsrouted puts a real server back after rise successes") },
	{ "enable_sni",       KA_NOTHING("vsrouted's http check speaks plain HTTP") },
	{ "sni_name",         KA_NOTHING("vsrouted's http check speaks plain HTTP") },
	{ "tls_compliant",    KA_NOTHING("vsrouted's http check speaks plain HTTP") },
	{ NULL, NULL, NULL }
};

static const struct ka_kw kw_misc_check[] = {
	KA_CHK_COMMON,
	{ "misc_path",        kw_misc_path,    NULL },
	{ "misc_timeout",     kw_misc_timeout, NULL },
	{ "misc_dynamic",     KA_NOTHING("vsrouted's exec check is up or down, it sets no weight") },
	{ "user",             KA_NOTHING("vsrouted runs exec checks as its own user") },
	{ NULL, NULL, NULL }
};

static const struct ka_kw kw_udp_check[] = {
	KA_CHK_COMMON,
	{ "payload",          kw_udp_payload, NULL },
	{ "require_reply",    kw_udp_reply,   NULL },
	{ "min_reply_length", KA_NOTHING("vsrouted compares the start of the answer only") },
	{ "max_reply_length", KA_NOTHING("vsrouted compares the start of the answer only") },
	{ NULL, NULL, NULL }
};

/* vsrouted.conf's check types (conf.c's names: vsradm does not link conf.c). */
static const char *const ka_check_names[] = {
	[CHECK_NONE] = "none", [CHECK_TCP] = "tcp", [CHECK_HTTP] = "http",
	[CHECK_EXEC] = "exec", [CHECK_UDP] = "udp",
};

static const struct {
	const char        *name;
	enum check_type    type;
	const struct ka_kw *kw;
} ka_checkers[] = {
	{ "TCP_CHECK",  CHECK_TCP,  kw_tcp_check },
	{ "HTTP_GET",   CHECK_HTTP, kw_http_check },
	{ "MISC_CHECK", CHECK_EXEC, kw_misc_check },
	{ "UDP_CHECK",  CHECK_UDP,  kw_udp_check },
};

static void
kw_checker(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ctx;
	struct ka_chk_ctx cc = { rs };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ka_checkers); i++)
		if (strcmp(n->w[0], ka_checkers[i].name) == 0)
			break;
	if (rs->cn != NULL) {
		ka_unmapped(k, n, "vsrouted runs one check per real server: the first is kept");
		return;
	}
	rs->cn = n;
	rs->type = ka_checkers[i].type;
	for (const struct ka_node *c = n->kids; c; c = c->next)
		ka_dispatch(k, c, ka_checkers[i].kw, &cc, n->w[0]);
	if (rs->type == CHECK_HTTP && rs->path[0] == '\0') {
		snprintf(rs->path, sizeof(rs->path), "/");
		ka_approx(k, n, "no url: '/' is checked");
	}
	if (rs->type == CHECK_HTTP && rs->expect < 0)
		ka_approx(k, n, "keepalived takes any 2xx status without status_code; vsrouted "
		    "expects 200");
	if (rs->type == CHECK_EXEC && rs->command[0] == '\0') {
		ka_unmapped(k, n, "no misc_path: no check is written");
		rs->type = CHECK_NONE;
	}
	if (rs->type == CHECK_UDP && rs->plen == 0) {
		rs->payload[0] = 0;
		rs->plen = 1;
		ka_approx(k, n, "keepalived sends an empty datagram without payload; vsrouted "
		    "sends one zero byte");
	}
}

/* ---- real servers */

static void
kw_rs_weight(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_number(k, n, 0, 65535, &((struct ka_rs *)ctx)->weight);
}

static void
kw_rs_method(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ctx;

	(void)ka_method(k, n, &rs->fwd, &rs->tun);
}

static void
kw_rs_upper(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_number(k, n, 0, 2147483647, &((struct ka_rs *)ctx)->upper);
}

static void
kw_rs_lower(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_number(k, n, 0, 2147483647, &((struct ka_rs *)ctx)->lower);
}

static void
kw_inhibit(struct ka *k, const struct ka_node *n, struct ka_chk *c)
{
	c->inhibit = 1;
	if (n->nw > 1 && (strcmp(n->w[1], "false") == 0 || strcmp(n->w[1], "off") == 0 ||
	    strcmp(n->w[1], "no") == 0))
		c->inhibit = 0;
	(void)k;
}

static void
kw_rs_inhibit(struct ka *k, const struct ka_node *n, void *ctx)
{
	kw_inhibit(k, n, &((struct ka_rs *)ctx)->dflt);
}

static void
kw_rs_retry(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_number(k, n, 0, 1000000, &((struct ka_rs *)ctx)->dflt.retry);
}

static void
kw_rs_timeout(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_seconds(k, n, &((struct ka_rs *)ctx)->dflt.timeout);
}

static void
kw_rs_delay(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_seconds(k, n, &((struct ka_rs *)ctx)->dflt.delay_loop);
}

static void
kw_rs_host(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_rs *rs = ctx;
	const char *s = ka_arg(k, n);

	if (s)
		snprintf(rs->dflt.host, sizeof(rs->dflt.host), "%s", s);
}

static void
kw_dbr(struct ka *k, const struct ka_node *n, void *ctx)
{
	kw_chk_dbr(k, n, ctx);
}

static const struct ka_kw kw_rs[] = {
	{ "weight",             kw_rs_weight,  NULL },
	{ "lvs_method",         kw_rs_method,  NULL },
	{ "uthreshold",         kw_rs_upper,   NULL },
	{ "lthreshold",         kw_rs_lower,   NULL },
	{ "inhibit_on_failure", kw_rs_inhibit, NULL },
	{ "retry",              kw_rs_retry,   NULL },
	{ "delay_before_retry", kw_dbr,        NULL },
	{ "connect_timeout",    kw_rs_timeout, NULL },
	{ "delay_loop",         kw_rs_delay,   NULL },
	{ "virtualhost",        kw_rs_host,    NULL },
	{ "TCP_CHECK",          kw_checker,    NULL },
	{ "HTTP_GET",           kw_checker,    NULL },
	{ "MISC_CHECK",         kw_checker,    NULL },
	{ "UDP_CHECK",          kw_checker,    NULL },
	{ "SSL_GET",     KA_NOTHING("vsrouted's checks speak no TLS") },
	{ "SMTP_CHECK",  KA_NOTHING("vsrouted has no SMTP check (an exec check can run one)") },
	{ "DNS_CHECK",   KA_NOTHING("vsrouted has no DNS check (a udp check with a query can)") },
	{ "PING_CHECK",  KA_NOTHING("vsrouted has no ICMP check") },
	{ "FILE_CHECK",  KA_NOTHING("vsrouted has no file check") },
	{ "BFD_CHECK",   KA_NOTHING("vsrouted has no BFD") },
	{ "notify_up",   KA_NOTHING("vsrouted logs and counts transitions; it runs no script") },
	{ "notify_down", KA_NOTHING("vsrouted logs and counts transitions; it runs no script") },
	{ "alpha",       KA_NOTHING("vsrouted's real servers start up, as without alpha") },
	{ "warmup",      KA_NOTHING("vsrouted starts checking at once") },
	{ "smtp_alert",  KA_NOTHING("vsrouted sends no mail") },
	{ "snmp_name",   KA_NOTHING("vsrouted has no SNMP") },
	{ NULL, NULL, NULL }
};

static void
kw_real_server(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;
	struct ka_rs *rs;

	if (n->nw < 2 || n->nw > 3) {
		ka_say(k, n->file, n->line, "error: ", "real_server needs an address and a port");
		return;
	}
	rs = xalloc(sizeof(*rs));
	rs->n = n;
	rs->weight = rs->upper = rs->lower = -1;
	rs->fwd = -1;
	rs->expect = -1;
	rs->misc_timeout = -1;
	ka_chk_init(&rs->dflt);
	ka_chk_init(&rs->chk);
	if (ka_addr(k, n, n->w[1], &rs->af, &rs->addr) < 0 ||
	    (n->nw == 3 && ka_port(k, n, n->w[2], &rs->port) < 0)) {
		free(rs);
		return;
	}
	/* keepalived lets IPVS tunnel to the other family; a vsrouted service is of one. */
	if (rs->af != vs->af) {
		ka_unmapped(k, n, "a real server of the other family than its service's: left out");
		free(rs);
		return;
	}
	for (const struct ka_node *c = n->kids; c; c = c->next)
		ka_dispatch(k, c, kw_rs, rs, "real_server");
	if (vs->rs_last)
		vs->rs_last->next = rs;
	else
		vs->rs = rs;
	vs->rs_last = rs;
}

/* ---- virtual servers */

static void
kw_vs_delay(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_seconds(k, n, &((struct ka_vs *)ctx)->dflt.delay_loop);
}

static void
kw_vs_sched(struct ka *k, const struct ka_node *n, void *ctx)
{
	static const char *const known[] = { "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh",
	    "fo", "ovf", "lblcr", "sed", "nq", "twos" };
	struct ka_vs *vs = ctx;
	const char *s = ka_arg(k, n);

	if (s == NULL)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(s, known[i]) == 0) {
			snprintf(vs->sched, sizeof(vs->sched), "%s", s);
			return;
		}
	ka_say(k, n->file, n->line, "error: ", "%s: '%s' is not a scheduler", n->w[0], s);
}

static void
kw_vs_method(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;

	(void)ka_method(k, n, &vs->fwd, &vs->tun);
}

static void
kw_vs_persist(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;

	if (n->nw < 2)
		vs->persistent = 360;   /* keepalived's (and ipvsadm's) default */
	else
		(void)ka_number(k, n, 1, 31536000, &vs->persistent);
}

static void
kw_vs_granularity(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;
	const char *s = ka_arg(k, n);
	struct in_addr m;

	if (s == NULL)
		return;
	if (vs->af == AF_INET6) {
		/* keepalived's IPv6 granularity is a prefix length, as vsrouted's netmask */
		char *end;
		unsigned long plen = strtoul(s, &end, 10);
		if (*s < '0' || *s > '9' || *end || plen < 1 || plen > 128) {
			ka_say(k, n->file, n->line, "error: ", "persistence_granularity: '%s' is not "
			    "an IPv6 prefix length (1 to 128)", s);
			return;
		}
		snprintf(vs->netmask, sizeof(vs->netmask), "%lu", plen);
		return;
	}
	if (inet_pton(AF_INET, s, &m) != 1) {
		ka_say(k, n->file, n->line, "error: ", "persistence_granularity: '%s' is not an "
		    "IPv4 netmask", s);
		return;
	}
	uint32_t h = ntohl(m.s_addr);
	if (h & (~h >> 1)) {
		ka_unmapped(k, n, "vsrouted's netmask is contiguous: 255.255.255.255 is written");
		return;
	}
	snprintf(vs->netmask, sizeof(vs->netmask), "%s", s);
}

static void
kw_vs_proto(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;
	const char *s = ka_arg(k, n);

	if (s == NULL)
		return;
	if (strcasecmp(s, "TCP") == 0)
		vs->proto = IPPROTO_TCP;
	else if (strcasecmp(s, "UDP") == 0)
		vs->proto = IPPROTO_UDP;
	else {
		ka_unmapped(k, n, "vsrouted balances TCP and UDP: the service is left out");
		vs->skip = 1;
	}
}

static void
kw_vs_sorry(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;

	if (n->nw < 2 || n->nw > 3) {
		ka_say(k, n->file, n->line, "error: ", "sorry_server needs an address and a port");
		return;
	}
	int af;

	if (ka_addr(k, n, n->w[1], &af, &vs->sorry_addr) < 0 ||
	    (n->nw == 3 && ka_port(k, n, n->w[2], &vs->sorry_port) < 0))
		return;
	if (af != vs->af) {
		ka_unmapped(k, n, "a sorry server of the other family than its service's: left out");
		return;
	}
	vs->has_sorry = 1;
}

static void
kw_vs_sorry_method(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;
	struct ka_tun tun;

	(void)ka_method(k, n, &vs->sorry_fwd, &tun);
}

static void
kw_vs_sorry_inhibit(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ctx;
	ka_approx(k, n, "vsrouted's sorry server takes no new flow while a real server is up, "
	    "whichever way keepalived would take it out");
}

static void
kw_vs_host(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;
	const char *s = ka_arg(k, n);

	if (s)
		snprintf(vs->dflt.host, sizeof(vs->dflt.host), "%s", s);
}

static void
kw_vs_retry(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_number(k, n, 0, 1000000, &((struct ka_vs *)ctx)->dflt.retry);
}

static void
kw_vs_timeout(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ka_seconds(k, n, &((struct ka_vs *)ctx)->dflt.timeout);
}

static void
kw_vs_inhibit(struct ka *k, const struct ka_node *n, void *ctx)
{
	kw_inhibit(k, n, &((struct ka_vs *)ctx)->dflt);
}

/* sh-port, sh-fallback, mh-port, mh-fallback, flag-1, flag-2: scheduler flags. */
static void
kw_vs_flag(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;
	const char *f = n->w[0];

	if (strcmp(f, "flag-1") == 0)
		f = strcmp(vs->sched, "mh") == 0 ? "mh-fallback" : "sh-fallback";
	else if (strcmp(f, "flag-2") == 0)
		f = strcmp(vs->sched, "mh") == 0 ? "mh-port" : "sh-port";
	if (strncmp(f, vs->sched, 2) != 0 || (strcmp(vs->sched, "sh") != 0 &&
	    strcmp(vs->sched, "mh") != 0)) {
		ka_unmapped(k, n, "the flag applies to another scheduler than this service's "
		    "(keepalived ignores it too)");
		return;
	}
	if (strstr(vs->flags, f) == NULL)
		snprintf(vs->flags + strlen(vs->flags), sizeof(vs->flags) - strlen(vs->flags),
		    "%s%s", vs->flags[0] ? ", " : "", f);
}

static void
kw_vs_ops(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)k;
	((struct ka_vs *)ctx)->ops = n;
}

/*
 * ip_family: a mark service's family was read before its other lines
 * (ka_fwmark_family); a service with an address has that address's.
 */
static void
kw_vs_family(struct ka *k, const struct ka_node *n, void *ctx)
{
	struct ka_vs *vs = ctx;
	const char *v = ka_arg(k, n);
	int af;

	if (v == NULL)
		return;
	if (strcmp(v, "inet") != 0 && strcmp(v, "inet6") != 0) {
		ka_say(k, n->file, n->line, "error: ", "ip_family: '%s' is not inet or inet6", v);
		return;
	}
	af = strcmp(v, "inet6") == 0 ? AF_INET6 : AF_INET;
	if (!vs->fwmark && af != vs->af)
		ka_unmapped(k, n, "the virtual server's address says its family");
}

static const struct ka_kw kw_vs[] = {
	{ "delay_loop",              kw_vs_delay,         NULL },
	{ "lb_algo",                 kw_vs_sched,         NULL },
	{ "lvs_sched",               kw_vs_sched,         NULL },
	{ "lb_kind",                 kw_vs_method,        NULL },
	{ "lvs_method",              kw_vs_method,        NULL },
	{ "persistence_timeout",     kw_vs_persist,       NULL },
	{ "persistence_granularity", kw_vs_granularity,   NULL },
	{ "protocol",                kw_vs_proto,         NULL },
	{ "sorry_server",            kw_vs_sorry,         NULL },
	{ "sorry_server_lvs_method", kw_vs_sorry_method,  NULL },
	{ "sorry_server_inhibit",    kw_vs_sorry_inhibit, NULL },
	{ "virtualhost",             kw_vs_host,          NULL },
	{ "retry",                   kw_vs_retry,         NULL },
	{ "delay_before_retry",      kw_dbr,              NULL },
	{ "connect_timeout",         kw_vs_timeout,       NULL },
	{ "inhibit_on_failure",      kw_vs_inhibit,       NULL },
	{ "sh-port",                 kw_vs_flag,          NULL },
	{ "sh-fallback",             kw_vs_flag,          NULL },
	{ "mh-port",                 kw_vs_flag,          NULL },
	{ "mh-fallback",             kw_vs_flag,          NULL },
	{ "flag-1",                  kw_vs_flag,          NULL },
	{ "flag-2",                  kw_vs_flag,          NULL },
	{ "ops",                     kw_vs_ops,           NULL },
	{ "ip_family",               kw_vs_family,        NULL },
	{ "real_server",             kw_real_server,      NULL },
	{ "flag-3",              KA_NOTHING("no scheduler of vsrouted has a third flag") },
	{ "hashed",              KA_NOTHING("ipvsadm's hashed flag has no effect") },
	{ "persistence_engine",  KA_NOTHING("vsrouted has no persistence engine (sip)") },
	{ "ha_suspend",          KA_NOTHING("vsrouted keeps its services in any VRRP state") },
	{ "alpha",               KA_NOTHING("vsrouted's real servers start up, as without alpha") },
	{ "omega",               KA_NOTHING("vsrouted runs no script when a service goes") },
	{ "quorum",              KA_NOTHING("vsrouted has no quorum (the sorry server covers all down)") },
	{ "quorum_up",           KA_NOTHING("vsrouted has no quorum") },
	{ "quorum_down",         KA_NOTHING("vsrouted has no quorum") },
	{ "hysteresis",          KA_NOTHING("vsrouted has no quorum") },
	{ "warmup",              KA_NOTHING("vsrouted starts checking at once") },
	{ "smtp_alert",          KA_NOTHING("vsrouted sends no mail") },
	{ "snmp_name",           KA_NOTHING("vsrouted has no SNMP") },
	{ "weight",              KA_NOTHING("a service has no weight in vsrouted") },
	{ NULL, NULL, NULL }
};

/* ---------------------------------------------------------------- writing */

static void
ka_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void
ka_bytes(FILE *f, const uint8_t *b, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++)
		fprintf(f, "\\x%02x", b[i]);
	fputc('"', f);
}

/* Seconds for interval/timeout: 1 to 3600, whole (rounded up). */
static unsigned
ka_whole(struct ka *k, const struct ka_node *n, const char *what, double v)
{
	unsigned r = v > 3600 ? 3600 : (unsigned)v;

	if (r < v && r < 3600)
		r++;
	if (r < 1)
		r = 1;
	if ((double)r != v)
		ka_approx(k, n, "%s %g s: vsrouted takes 1 to 3600 whole seconds: %u", what, v, r);
	return r;
}

/* The check of RS, as one "check { ... }" line into BUF; "" without one. */
static void
ka_check_text(struct ka *k, const struct ka_vs *vs, const struct ka_rs *rs, char *buf, size_t len)
{
	const struct ka_chk *c = &rs->chk, *r = &rs->dflt, *v = &vs->dflt;
	double delay = c->delay_loop >= 0 ? c->delay_loop : r->delay_loop >= 0 ? r->delay_loop :
	    v->delay_loop >= 0 ? v->delay_loop : 60;
	double tmo = c->timeout >= 0 ? c->timeout : r->timeout >= 0 ? r->timeout :
	    v->timeout >= 0 ? v->timeout : 5;
	long retry = c->retry >= 0 ? c->retry : r->retry >= 0 ? r->retry : v->retry >= 0 ?
	    v->retry : rs->type == CHECK_EXEC ? 0 : 1;
	int inhibit = r->inhibit >= 0 ? r->inhibit : v->inhibit >= 0 ? v->inhibit : 0;
	const char *host = c->host[0] ? c->host : r->host[0] ? r->host : v->host;
	char *p = buf;
	size_t left = len;
	FILE *f;

	buf[0] = '\0';
	if (rs->type == CHECK_NONE)
		return;
	if (rs->type == CHECK_EXEC)
		tmo = rs->misc_timeout > 0 ? rs->misc_timeout : delay;
	if (retry + 1 > 100) {
		ka_approx(k, rs->cn, "retry %ld: vsrouted's fall is at most 100", retry);
		retry = 99;
	}
	if ((f = fmemopen(p, left, "w")) == NULL)
		return;
	fprintf(f, "check { type = %s", ka_check_names[rs->type]);
	if (rs->cport)
		fprintf(f, "  port = %u", rs->cport);
	if (rs->type == CHECK_HTTP) {
		fprintf(f, "  path = ");
		ka_quoted(f, rs->path);
		fprintf(f, "  expect = %ld", rs->expect > 0 ? rs->expect : 200);
		if (host[0]) {
			fprintf(f, "  host = ");
			ka_quoted(f, host);
		}
	}
	if (rs->type == CHECK_EXEC) {
		fprintf(f, "  command = ");
		ka_quoted(f, rs->command);
	}
	if (rs->type == CHECK_UDP) {
		fprintf(f, "  payload = ");
		ka_bytes(f, rs->payload, rs->plen);
		if (rs->rlen) {
			fprintf(f, "  reply = ");
			ka_bytes(f, rs->reply, rs->rlen);
		}
	}
	fprintf(f, "  interval = %u  timeout = %u  rise = 1  fall = %ld  on_failure = %s }",
	    ka_whole(k, rs->cn, "delay_loop", delay), ka_whole(k, rs->cn, "timeout", tmo),
	    retry + 1, inhibit ? "inhibit" : "remove");
	fclose(f);
}

static const char *
ka_where(const struct ka_node *n)
{
	static char buf[4200];
	const char *slash = strrchr(n->file, '/');

	snprintf(buf, sizeof(buf), "%s:%d", slash ? slash + 1 : n->file, n->line);
	return buf;
}

static void
ka_write_vs(struct ka *k, struct ka_vs *vs)
{
	FILE *f = k->out;
	char a[ADDR_STRLEN], (*chk)[2 * KA_STR_MAX + 512] = NULL;
	const struct ka_rs *rs;
	unsigned nrs = 0, i, same = 1;
	int fwd = vs->fwd >= 0 ? vs->fwd : FWD_NAT;

	for (rs = vs->rs; rs; rs = rs->next)
		nrs++;
	if (nrs && (chk = calloc(nrs, sizeof(*chk))) == NULL) {
		fprintf(stderr, "vsradm: out of memory\n");
		exit(1);
	}
	for (rs = vs->rs, i = 0; rs; rs = rs->next, i++) {
		ka_check_text(k, vs, rs, chk[i], sizeof(chk[i]));
		if (strcmp(chk[i], chk[0]) != 0)
			same = 0;
	}
	addr_ntop(vs->af, &vs->addr, a, sizeof(a));
	if (vs->fwmark) {
		fprintf(f, "\n# %s: virtual_server fwmark %lu\n", ka_where(vs->n), vs->fwmark);
		fprintf(f, "virtual_server fwmark%s_%lu {\n    fwmark    = %lu\n",
		    vs->af == AF_INET6 ? "6" : "", vs->fwmark, vs->fwmark);
		if (vs->af == AF_INET6)
			fprintf(f, "    family    = inet6\n");
		ka_approx(k, vs->n, "fwmark %lu: list the addresses your firewall marks in "
		    "announce_address (keepalived announces none)", vs->fwmark);
	} else {
		/* Its address is taken out of the VRRP blocks' virtual_ipaddress (ka_vrrp). */
		if (k->nvips % 16 == 0 &&
		    (k->vips = realloc(k->vips, (k->nvips + 16) * sizeof(*k->vips))) == NULL) {
			fprintf(stderr, "vsradm: out of memory\n");
			exit(1);
		}
		k->vips[k->nvips].af = vs->af;
		k->vips[k->nvips++].addr = vs->addr;
		fprintf(f, "\n# %s: virtual_server %s %u\n", ka_where(vs->n), a, vs->port);
		fprintf(f, "virtual_server %s_%u_%s {\n", a, vs->port,
		    vs->proto == IPPROTO_UDP ? "udp" : "tcp");
		fprintf(f, "    address   = %s\n    port      = %u\n    protocol  = %s\n", a,
		    vs->port, vs->proto == IPPROTO_UDP ? "udp" : "tcp");
	}
	if (vs->ops) {
		int nat = fwd == FWD_NAT || fwd == FWD_FULLNAT;
		for (rs = vs->rs; rs; rs = rs->next)
			if (rs->fwd == FWD_NAT || rs->fwd == FWD_FULLNAT)
				nat = 1;
		if (!vs->fwmark && vs->proto != IPPROTO_UDP)
			ka_unmapped(k, vs->ops, "one-packet scheduling is for UDP and "
			    "firewall-mark services");
		else if (nat)
			ka_unmapped(k, vs->ops, "one-packet scheduling keeps no entry for nat "
			    "replies: use dr or tun");
		else
			fprintf(f, "    ops       = yes\n");
	}
	fprintf(f, "    scheduler = %s\n    forward   = %s\n", vs->sched[0] ? vs->sched : "wlc",
	    fwd_name(fwd));
	if (fwd == FWD_TUN)
		ka_put_tun(f, "    ", 9, &vs->tun);
	if (vs->persistent > 0)
		fprintf(f, "    persistent = %ld\n", vs->persistent);
	if (vs->netmask[0])
		fprintf(f, "    netmask   = %s\n", vs->netmask);
	if (vs->flags[0])
		fprintf(f, "    flags     = { %s }\n", vs->flags);
	if (nrs > 1 && same && chk[0][0])
		fprintf(f, "    %s\n", chk[0]);
	if (vs->has_sorry) {
		int sfwd = vs->sorry_fwd >= 0 ? vs->sorry_fwd : fwd;
		addr_ntop(vs->af, &vs->sorry_addr, a, sizeof(a));
		fprintf(f, "    sorry_server { address = %s", a);
		if (vs->sorry_port && ((sfwd != FWD_DR && sfwd != FWD_TUN) || vs->sorry_port == vs->port))
			fprintf(f, "  port = %u", vs->sorry_port);
		else if (vs->sorry_port && vs->sorry_port != vs->port)
			ka_approx(k, vs->n, "the sorry server's port %u is the service's for %s",
			    vs->sorry_port, fwd_name(sfwd));
		if (sfwd != fwd)
			fprintf(f, "  forward = %s", fwd_name(sfwd));
		fprintf(f, " }\n");
	}
	for (rs = vs->rs, i = 0; rs; rs = rs->next, i++) {
		int rfwd = rs->fwd >= 0 ? rs->fwd : fwd;
		unsigned port = rs->port ? rs->port : vs->port;
		addr_ntop(rs->af, &rs->addr, a, sizeof(a));
		fprintf(f, "    # %s\n    real_server %s_%u {\n        address = %s\n", ka_where(rs->n),
		    a, port, a);
		if ((rfwd == FWD_DR || rfwd == FWD_TUN) && port != vs->port)
			ka_approx(k, rs->n, "port %u: %s forwards to the service's port %u", port,
			    fwd_name(rfwd), vs->port);
		else if (port != vs->port)
			fprintf(f, "        port    = %u\n", port);
		if (rs->weight >= 0)
			fprintf(f, "        weight  = %ld\n", rs->weight);
		if (rfwd != fwd)
			fprintf(f, "        forward = %s\n", fwd_name(rfwd));
		if (rfwd == FWD_TUN && (rfwd != fwd || !ka_tun_eq(&rs->tun, &vs->tun)))
			ka_put_tun(f, "        ", 7, &rs->tun);
		if (rs->upper >= 0)
			fprintf(f, "        upper   = %ld\n", rs->upper);
		if (rs->lower >= 0)
			fprintf(f, "        lower   = %ld\n", rs->lower);
		if (chk[i][0] && !(nrs > 1 && same))
			fprintf(f, "        %s\n", chk[i]);
		fprintf(f, "    }\n");
	}
	fprintf(f, "}\n");
	free(chk);
}

static void
ka_free_vs(struct ka_vs *vs)
{
	struct ka_rs *rs, *next;

	for (rs = vs->rs; rs; rs = next) {
		next = rs->next;
		free(rs);
	}
}

/* ---------------------------------------------------------------- top level */

/*
 * A mark service's family, as keepalived infers it: ip_family, else the
 * family of its first real (or sorry) server, else IPv4. Real servers of
 * the other family are then left out, and reported, as for any service.
 */
static int
ka_fwmark_family(const struct ka_node *kids)
{
	union vsr_addr a;
	int af;

	for (const struct ka_node *c = kids; c; c = c->next)
		if (strcmp(c->w[0], "ip_family") == 0 && c->nw == 2)
			return strcmp(c->w[1], "inet6") == 0 ? AF_INET6 : AF_INET;
	for (const struct ka_node *c = kids; c; c = c->next)
		if ((strcmp(c->w[0], "real_server") == 0 || strcmp(c->w[0], "sorry_server") == 0) &&
		    c->nw >= 2 && addr_pton(c->w[1], &af, &a) == 0)
			return af;
	return AF_INET;
}

/*
 * One virtual server: N's line (a virtual_server, or a member of a group)
 * for where it is said, KIDS its settings and real servers; FWMARK, or
 * AF, ADDR and PORT.
 */
static void
ka_vs_one(struct ka *k, const struct ka_node *n, const struct ka_node *kids, unsigned long fwmark,
    int af, const union vsr_addr *addr, unsigned port)
{
	struct ka_vs vs;

	memset(&vs, 0, sizeof(vs));
	vs.n = n;
	vs.proto = IPPROTO_TCP;
	vs.fwd = vs.sorry_fwd = -1;
	vs.persistent = -1;
	ka_chk_init(&vs.dflt);
	vs.fwmark = fwmark;
	vs.af = fwmark ? ka_fwmark_family(kids) : af;
	if (!fwmark) {
		vs.addr = *addr;
		vs.port = port;
	}
	for (const struct ka_node *c = kids; c; c = c->next)
		ka_dispatch(k, c, kw_vs, &vs, "virtual_server");
	if (!vs.skip && k->errors == 0)
		ka_write_vs(k, &vs);
	ka_free_vs(&vs);
}

/* "fwmark N": the mark into *MARK; 0, or -1 (reported). */
static int
ka_fwmark(struct ka *k, const struct ka_node *n, const char *s, unsigned long *mark)
{
	char *end;

	errno = 0;
	*mark = strtoul(s, &end, 10);
	if (errno || *end || end == s || *mark == 0 || *mark > 0xffffffffUL) {
		ka_say(k, n->file, n->line, "error: ", "%s fwmark: '%s' is not a mark (1 to "
		    "4294967295)", n->w[0], s);
		return -1;
	}
	return 0;
}

#define KA_VSG_RANGE_MAX 256    /* addresses of one member's range (its report says 256) */

/*
 * virtual_server group NAME: each member of virtual_server_group NAME
 * ("ADDR PORT", "ADDR-END PORT" with END the last byte of an IPv4
 * address or the last 16-bit group, in hex, of an IPv6 one, as keepalived
 * reads ranges, or "fwmark N") becomes a virtual server of its own with
 * the settings and real servers of N.
 */
static void
ka_vs_group(struct ka *k, const struct ka_node *n)
{
	const struct ka_node *g = NULL, *m;
	unsigned made = 0;

	if (n->nw != 3) {
		ka_say(k, n->file, n->line, "error: ", "virtual_server group needs a name");
		return;
	}
	for (const struct ka_node *t = k->root.kids; t; t = t->next)
		if (strcmp(t->w[0], "virtual_server_group") == 0 && t->nw == 2 &&
		    strcmp(t->w[1], n->w[2]) == 0) {
			g = t;
			break;
		}
	if (g == NULL) {
		ka_say(k, n->file, n->line, "error: ", "virtual_server group %s: no "
		    "virtual_server_group of that name", n->w[2]);
		return;
	}
	for (m = g->kids; m; m = m->next) {
		unsigned long mark, end;
		union vsr_addr a;
		unsigned port, last, first;
		char buf[INET6_ADDRSTRLEN + 8], *dash, *e;
		int af;

		if (m->nw == 2 && strcmp(m->w[0], "fwmark") == 0) {
			if (ka_fwmark(k, m, m->w[1], &mark) == 0) {
				ka_vs_one(k, m, n->kids, mark, AF_INET, NULL, 0);
				made++;
			}
			continue;
		}
		if (m->nw != 2 || m->block) {
			ka_unmapped(k, m, "a group member is ADDR PORT, ADDR-END PORT or fwmark N");
			continue;
		}
		snprintf(buf, sizeof(buf), "%s", m->w[0]);
		dash = strchr(buf, '-');
		if (dash)
			*dash = '\0';
		if (ka_addr(k, m, buf, &af, &a) < 0 || ka_port(k, m, m->w[1], &port) < 0)
			continue;
		if (port == 0) {
			ka_say(k, m->file, m->line, "error: ", "virtual_server_group: port 0");
			continue;
		}
		first = af == AF_INET ? ntohl(a.ip) & 0xff : (unsigned)a.b[14] << 8 | a.b[15];
		last = first;
		if (dash) {
			errno = 0;
			end = strtoul(dash + 1, &e, af == AF_INET ? 10 : 16);
			if (errno || *e || e == dash + 1 || end > (af == AF_INET ? 255UL : 0xffffUL) ||
			    end < first) {
				ka_say(k, m->file, m->line, "error: ", "virtual_server_group: '%s' is "
				    "not a range", m->w[0]);
				continue;
			}
			last = (unsigned)end;
			if (last - first >= KA_VSG_RANGE_MAX) {
				ka_unmapped(k, m, "a range of more than 256 addresses");
				continue;
			}
		}
		for (unsigned v = first; v <= last; v++) {
			if (af == AF_INET) {
				a.ip = htonl((ntohl(a.ip) & ~0xffu) | v);
			} else {
				a.b[14] = (uint8_t)(v >> 8);
				a.b[15] = (uint8_t)v;
			}
			ka_vs_one(k, m, n->kids, 0, af, &a, port);
			made++;
		}
	}
	ka_approx(k, n, "virtual_server group %s: a virtual_server for each of its %u "
	    "addresses and marks, each with these settings and real servers", n->w[2], made);
}

static void
kw_virtual_server(struct ka *k, const struct ka_node *n, void *ctx)
{
	unsigned long mark = 0;
	union vsr_addr a;
	unsigned port = 0;
	int af = AF_INET;

	(void)ctx;
	if (n->nw >= 2 && strcmp(n->w[1], "group") == 0) {
		ka_vs_group(k, n);
		return;
	}
	if (n->nw == 3 && strcmp(n->w[1], "fwmark") == 0) {
		if (ka_fwmark(k, n, n->w[2], &mark) < 0)
			return;
	} else if (n->nw != 3) {
		ka_say(k, n->file, n->line, "error: ", "virtual_server needs an address and a port");
		return;
	}
	if (!mark && (ka_addr(k, n, n->w[1], &af, &a) < 0 || ka_port(k, n, n->w[2], &port) < 0))
		return;
	if (!mark && port == 0) {
		ka_say(k, n->file, n->line, "error: ", "virtual_server: port 0");
		return;
	}
	ka_vs_one(k, n, n->kids, mark, af, &a, port);
}

static void
kw_lvs_timeouts(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ctx;
	for (int i = 1; i + 1 < n->nw; i += 2) {
		char *end;
		unsigned long v = strtoul(n->w[i + 1], &end, 10);
		if (*end || v < 1 || v > 31536000) {
			ka_say(k, n->file, n->line, "error: ", "lvs_timeouts: '%s' is not a number "
			    "of seconds", n->w[i + 1]);
			return;
		}
		if (strcmp(n->w[i], "tcp") == 0)
			k->to_tcp = (unsigned)v;
		else if (strcmp(n->w[i], "tcpfin") == 0)
			k->to_tcpfin = (unsigned)v;
		else if (strcmp(n->w[i], "udp") == 0)
			k->to_udp = (unsigned)v;
		else
			ka_say(k, n->file, n->line, "error: ", "lvs_timeouts: '%s' is not tcp, tcpfin "
			    "or udp", n->w[i]);
	}
}

static void
kw_sync(struct ka *k, const struct ka_node *n, void *ctx)
{
	ka_later_report(k, n, KA_LATER_SYNC, ctx);
}

static const struct ka_kw kw_global[] = {
	{ "lvs_timeouts",    kw_lvs_timeouts, NULL },
	{ "lvs_sync_daemon", kw_sync,         NULL },
	{ NULL, NULL, NULL }
};

/* global_defs: the LVS timeouts map; the rest is keepalived's own (mail, SNMP, ...). */
static void
kw_global_defs(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ctx;
	if (k->globals == NULL)
		k->globals = n;
	for (const struct ka_node *c = n->kids; c; c = c->next) {
		const struct ka_kw *kw;
		for (kw = kw_global; kw->name; kw++)
			if (strcmp(kw->name, c->w[0]) == 0)
				break;
		if (kw->name)
			kw->fn(k, c, NULL);
		else if (k->vrrp_out == NULL || strncmp(c->w[0], "lvs_", 4) == 0)
			ka_unmapped(k, c, "a setting of keepalived's own");
		/* else: copied into the VRRP file (ka_vrrp_write) */
	}
}

/* Its members are read where a virtual_server names the group (ka_vs_group); unused, said. */
static void
kw_vsg(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ctx;
	if (n->nw != 2) {
		ka_say(k, n->file, n->line, "error: ", "virtual_server_group needs a name");
		return;
	}
	for (const struct ka_node *t = k->root.kids; t; t = t->next)
		if (strcmp(t->w[0], "virtual_server") == 0 && t->nw == 3 &&
		    strcmp(t->w[1], "group") == 0 && strcmp(t->w[2], n->w[1]) == 0)
			return;
	ka_unmapped(k, n, "no virtual_server names this group, so keepalived uses none of it");
}

/* VRRP: kept for --vrrp; its interface (and virtual addresses) name announce. */
static void
kw_vrrp(struct ka *k, const struct ka_node *n, void *ctx)
{
	if (strcmp(n->w[0], "vrrp_instance") == 0) {
		k->instances++;
		for (const struct ka_node *c = n->kids; c; c = c->next) {
			if (k->announce_from == NULL && strcmp(c->w[0], "interface") == 0 &&
			    c->nw == 2 && strlen(c->w[1]) < IFNAMSIZ) {
				snprintf(k->announce, sizeof(k->announce), "%s", c->w[1]);
				k->announce_from = c;
			}
			/* keepalived's older form of lvs_sync_daemon. */
			if (strcmp(c->w[0], "lvs_sync_daemon_interface") == 0 && c->nw == 2 &&
			    strlen(c->w[1]) < IFNAMSIZ && k->sync_from == NULL) {
				snprintf(k->sync_if, sizeof(k->sync_if), "%s", c->w[1]);
				k->sync_from = c;
				ka_approx(k, c, "sync { state = both }: each director runs both daemons "
				    "(keepalived started the one of its VRRP state)");
			}
		}
	}
	ka_later_report(k, n, KA_LATER_VRRP, ctx);
}

/*
 * VRRP stays keepalived's, run for it alone (keepalived --vrrp): with
 * --vrrp FILE the blocks are kept for that file, written at the end in
 * the form of etc/keepalived-vsrouted.conf; without, each is reported.
 */
static void
ka_vrrp(struct ka *k, const struct ka_node *n, void *ctx)
{
	(void)ctx;
	if (k->vrrp_out == NULL) {
		ka_unmapped(k, n, "VRRP is keepalived's own: --vrrp FILE writes it for keepalived "
		    "--vrrp, its notify scripts calling vsradm --role");
		return;
	}
	if (k->nvrrp % 16 == 0 &&
	    (k->vrrp = realloc(k->vrrp, (k->nvrrp + 16) * sizeof(*k->vrrp))) == NULL) {
		fprintf(stderr, "vsradm: out of memory\n");
		exit(1);
	}
	k->vrrp[k->nvrrp++] = n;
}

/* A number of lvs_sync_daemon's options, 0..MAX: -1 after an error. */
static int
ka_sync_num(struct ka *k, const struct ka_node *n, const char *s, unsigned long min,
    unsigned long max, unsigned long *v)
{
	char *end;

	*v = strtoul(s, &end, 10);
	if (*end == '\0' && end != s && *v >= min && *v <= max)
		return 0;
	ka_say(k, n->file, n->line, "error: ", "lvs_sync_daemon: '%s' is not a number from %lu "
	    "to %lu", s, min, max);
	return -1;
}

/*
 * lvs_sync_daemon IFNAME [INSTANCE] [id N] [maxlen N] [port N] [ttl N]
 * [group ADDRESS]: the sync { } section.
 */
static void
ka_sync(struct ka *k, const struct ka_node *n, void *ctx)
{
	int i = 2;

	(void)ctx;
	if (n->nw < 2 || strlen(n->w[1]) >= IFNAMSIZ) {
		ka_say(k, n->file, n->line, "error: ", "lvs_sync_daemon needs an interface");
		return;
	}
	snprintf(k->sync_if, sizeof(k->sync_if), "%s", n->w[1]);
	/* The VRRP instance it follows, if named: every word that is not an option. */
	if (i < n->nw && strcmp(n->w[i], "id") && strcmp(n->w[i], "maxlen") &&
	    strcmp(n->w[i], "port") && strcmp(n->w[i], "ttl") && strcmp(n->w[i], "group"))
		i++;
	for (; i + 1 < n->nw; i += 2) {
		const char *o = n->w[i], *v = n->w[i + 1];
		uint8_t a[16];

		if (strcmp(o, "id") == 0 && ka_sync_num(k, n, v, 0, 255, &k->sync_id) < 0)
			return;
		else if (strcmp(o, "maxlen") == 0 &&
		    ka_sync_num(k, n, v, 1, 65535 - 20 - 8, &k->sync_maxlen) < 0)
			return;
		else if (strcmp(o, "port") == 0 && ka_sync_num(k, n, v, 1, 65535, &k->sync_port) < 0)
			return;
		else if (strcmp(o, "ttl") == 0 && ka_sync_num(k, n, v, 1, 255, &k->sync_ttl) < 0)
			return;
		else if (strcmp(o, "group") == 0) {
			if (inet_pton(strchr(v, ':') ? AF_INET6 : AF_INET, v, a) != 1 ||
			    strlen(v) >= sizeof(k->sync_group)) {
				ka_say(k, n->file, n->line, "error: ", "lvs_sync_daemon: group '%s' is "
				    "not an address", v);
				return;
			}
			snprintf(k->sync_group, sizeof(k->sync_group), "%s", v);
		} else if (strcmp(o, "id") && strcmp(o, "maxlen") && strcmp(o, "port") &&
		    strcmp(o, "ttl")) {
			ka_say(k, n->file, n->line, "error: ", "lvs_sync_daemon: unknown option '%s'",
			    o);
			return;
		}
	}
	if (i < n->nw) {
		ka_say(k, n->file, n->line, "error: ", "lvs_sync_daemon: '%s' without a value",
		    n->w[i]);
		return;
	}
	k->sync_from = n;
	ka_approx(k, n, "sync { state = both }: each director runs both daemons (keepalived "
	    "started the one of its VRRP state)");
}

static void
ka_sync_write(const struct ka *k, FILE *f)
{
	fprintf(f, "sync {                     # %s at %s\n", k->sync_from->w[0],
	    ka_where(k->sync_from));
	fprintf(f, "    state     = both\n    interface = %s\n", k->sync_if);
	if (k->sync_id)
		fprintf(f, "    syncid    = %lu\n", k->sync_id);
	if (k->sync_group[0])
		fprintf(f, "    group     = %s\n", k->sync_group);
	if (k->sync_port)
		fprintf(f, "    port      = %lu\n", k->sync_port);
	if (k->sync_ttl)
		fprintf(f, "    ttl       = %lu\n", k->sync_ttl);
	if (k->sync_maxlen)
		fprintf(f, "    maxlen    = %lu\n", k->sync_maxlen);
	fprintf(f, "}\n");
}

/* ---- the VRRP file */

#define KA_VSRADM "/usr/sbin/vsradm"

static const char *const ka_notify[] = {
	"notify_master", "notify_backup", "notify_fault", "notify_stop", "notify",
	"notify_master_rx_lower_pri", "notify_deleted", NULL,
};

static int
ka_is_notify(const char *w)
{
	for (int i = 0; ka_notify[i]; i++)
		if (strcmp(w, ka_notify[i]) == 0)
			return 1;
	return 0;
}

/* A word as keepalived reads it back: quoted when it holds a space or is empty. */
static void
ka_put_word(FILE *f, const char *w)
{
	if (*w && strpbrk(w, " \t\"{}#!") == NULL)
		fputs(w, f);
	else
		fprintf(f, "\"%s\"", w);
}

static void
ka_words(FILE *f, const struct ka_node *n, int depth)
{
	fprintf(f, "%*s", 4 * depth, "");
	for (int i = 0; i < n->nw; i++) {
		if (i)
			fputc(' ', f);
		ka_put_word(f, n->w[i]);
	}
}

/* An address of virtual_ipaddress (ADDR[/PLEN] ...) that is a virtual server's. */
static int
ka_is_vip(const struct ka *k, const char *w)
{
	char a[INET6_ADDRSTRLEN];
	struct vsr_ip ip;
	size_t n = strcspn(w, "/");

	if (n >= sizeof(a))
		return 0;
	memcpy(a, w, n);
	a[n] = '\0';
	if (addr_pton(a, &ip.af, &ip.addr) < 0)
		return 0;
	for (size_t i = 0; i < k->nvips; i++)
		if (vsr_ip_eq(&k->vips[i], &ip))
			return 1;
	return 0;
}

/*
 * N written at DEPTH: verbatim, but the notify scripts, which vsradm
 * --role replaces (an instance gets ours), and the virtual servers'
 * addresses among its virtual addresses, which vsrouted announces.
 */
static void
ka_vrrp_node(struct ka *k, FILE *f, const struct ka_node *n, int depth)
{
	int instance = depth == 0 && strcmp(n->w[0], "vrrp_instance") == 0;

	ka_words(f, n, depth);
	if (!n->block) {
		fputc('\n', f);
		return;
	}
	fprintf(f, " {\n");
	for (const struct ka_node *c = n->kids; c; c = c->next) {
		if (depth == 0 && ka_is_notify(c->w[0])) {
			if (instance)
				ka_approx(k, c, "replaced by %s --role (a script of yours must call "
				    "it too)", KA_VSRADM);
			else
				ka_approx(k, c, "left out: each instance's notify scripts call %s "
				    "--role", KA_VSRADM);
			continue;
		}
		if (depth == 0 && strcmp(c->w[0], "lvs_sync_daemon_interface") == 0)
			continue;       /* vsrouted's sync { } (kw_vrrp) */
		if (depth == 1 && strncmp(n->w[0], "virtual_ipaddress", 17) == 0 &&
		    ka_is_vip(k, c->w[0])) {
			ka_approx(k, c, "a virtual server's address: vsrouted announces it while master, "
			    "keepalived must not hold it");
			continue;
		}
		ka_vrrp_node(k, f, c, depth + 1);
	}
	if (instance) {
		fprintf(f, "    notify_master \"%s --role master\"\n", KA_VSRADM);
		fprintf(f, "    notify_backup \"%s --role backup\"\n", KA_VSRADM);
		fprintf(f, "    notify_fault  \"%s --role backup\"\n", KA_VSRADM);
		fprintf(f, "    notify_stop   \"%s --role backup\"\n", KA_VSRADM);
	}
	fprintf(f, "%*s}\n", 4 * depth, "");
}

static int
ka_vrrp_write(struct ka *k, const char *src)
{
	FILE *f = fopen(k->vrrp_out, "w");

	if (f == NULL) {
		fprintf(stderr, "vsradm: %s: %s\n", k->vrrp_out, strerror(errno));
		return -1;
	}
	fprintf(f, "# keepalived-vsrouted.conf from %s (vsradm --import-keepalived --vrrp): "
	    "keepalived\n# for VRRP alone (keepalived --vrrp -f THIS FILE), telling vsrouted its "
	    "role by\n# vsradm --role; see vsrouted(8), HIGH AVAILABILITY.\n\n", src);
	fprintf(f, "global_defs {\n    script_user root\n    enable_script_security\n");
	/* keepalived's own settings but the LVS ones (vsrouted.conf has those). */
	for (const struct ka_node *c = k->globals ? k->globals->kids : NULL; c; c = c->next) {
		if (strcmp(c->w[0], "script_user") == 0)
			ka_approx(k, c, "root: the notify scripts reach vsrouted's control socket");
		else if (strncmp(c->w[0], "lvs_", 4) != 0 &&
		    strcmp(c->w[0], "enable_script_security") != 0)
			ka_vrrp_node(k, f, c, 1);
	}
	fprintf(f, "}\n");
	for (size_t i = 0; i < k->nvrrp; i++) {
		fputc('\n', f);
		ka_vrrp_node(k, f, k->vrrp[i], 0);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "vsradm: %s: %s\n", k->vrrp_out, strerror(errno));
		return -1;
	}
	return 0;
}

static const struct ka_kw kw_top[] = {
	{ "virtual_server",       kw_virtual_server, NULL },
	{ "global_defs",          kw_global_defs,    NULL },
	{ "virtual_server_group", kw_vsg,            NULL },
	{ "vrrp_instance",        kw_vrrp,           NULL },
	{ "vrrp_sync_group",      kw_vrrp,           NULL },
	{ "vrrp_script",          kw_vrrp,           NULL },
	{ "vrrp_track_file",      kw_vrrp,           NULL },
	{ "track_file",           kw_vrrp,           NULL },
	{ "static_ipaddress",     kw_vrrp,           NULL },
	{ "static_routes",        kw_vrrp,           NULL },
	{ "static_rules",         kw_vrrp,           NULL },
	{ "garp_group",           kw_vrrp,           NULL },
	{ "linkbeat_interfaces",  kw_vrrp,           NULL },
	{ "net_namespace",        KA_NOTHING("vsrouted runs in the namespace it is started in") },
	{ "SSL",                  KA_NOTHING("vsrouted's checks speak no TLS") },
	{ "bfd_instance",         KA_NOTHING("vsrouted has no BFD") },
	{ NULL, NULL, NULL }
};

static int
ka_usage(void)
{
	fprintf(stderr, "usage: vsradm --import-keepalived FILE [--vrrp VRRPFILE]\n"
	    "  prints FILE (a keepalived.conf) as a vsrouted.conf; what does not map is "
	    "listed on stderr;\n  --vrrp writes its VRRP blocks into VRRPFILE for keepalived "
	    "--vrrp, telling vsrouted\n  its role by vsradm --role\n");
	return 1;
}

int
kaimport_main(int argc, char **argv)
{
	struct ka k;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--import-keepalived") != 0)
		return -1;
	if ((argc != 3 && argc != 5) || argv[2][0] == '-' ||
	    (argc == 5 && (strcmp(argv[3], "--vrrp") != 0 || argv[4][0] == '\0')))
		return ka_usage();
	memset(&k, 0, sizeof(k));
	if (argc == 5)
		k.vrrp_out = argv[4];
	struct stat st;
	if (stat(argv[2], &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "vsradm: %s: not a regular file\n", argv[2]);
		return 1;
	}
	if (ka_read_file(&k, argv[2], 0) < 0) {
		fprintf(stderr, "vsradm: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (ka_tree(&k) == 0) {
		/* The services into a buffer: announce is known once VRRP was read. */
		if ((k.out = open_memstream(&buf, &len)) == NULL) {
			fprintf(stderr, "vsradm: out of memory\n");
			return 1;
		}
		for (const struct ka_node *n = k.root.kids; n; n = n->next)
			ka_dispatch(&k, n, kw_top, NULL, "keepalived.conf");
		fclose(k.out);
		/* VRRP last: the virtual servers' addresses are known then. */
		if (k.vrrp_out && k.errors == 0 && ka_vrrp_write(&k, argv[2]) < 0)
			k.errors++;
	}
	ka_report_flush(&k);
	if (k.errors) {
		fprintf(stderr, "vsradm: %s: %d error%s: nothing written\n", argv[2], k.errors,
		    k.errors == 1 ? "" : "s");
		rc = 1;
	} else {
		printf("# vsrouted.conf from %s (vsradm --import-keepalived)\n", argv[2]);
		printf("tap      = vsr0\n");
		if (k.announce_from)
			printf("announce = { %s }    # the interface of %s's vrrp_instance\n",
			    k.announce, ka_where(k.announce_from));
		else
			printf("announce = { eth0 }    # keepalived.conf does not say: the "
			    "interfaces toward the clients\n");
		if (k.vrrp_out && k.instances)
			printf("role     = backup    # keepalived --vrrp -f %s says who is master\n",
			    k.vrrp_out);
		if (k.to_tcp || k.to_tcpfin || k.to_udp) {
			printf("timeout {\n");
			if (k.to_tcp)
				printf("    tcp     = %u\n", k.to_tcp);
			if (k.to_tcpfin)
				printf("    tcp_fin = %u\n", k.to_tcpfin);
			if (k.to_udp)
				printf("    udp     = %u\n", k.to_udp);
			printf("}\n");
		}
		if (k.sync_from)
			ka_sync_write(&k, stdout);
		fwrite(buf, 1, len, stdout);
		rc = fflush(stdout) == 0 && !ferror(stdout) ? (k.reports ? 2 : 0) : 1;
	}
	free(buf);
	free(k.vrrp);
	free(k.vips);
	ka_free_node(&k.root);
	for (size_t i = 0; i < k.nlines; i++)
		free(k.lines[i].text);
	free(k.lines);
	for (size_t i = 0; i < k.nfiles; i++)
		free(k.files[i]);
	free(k.files);
	while (k.defs) {
		struct ka_def *d = k.defs;
		k.defs = d->next;
		free(d->name);
		free(d->value);
		free(d);
	}
	return rc;
}
