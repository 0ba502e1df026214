/* log.c - one logging API: stderr in the foreground, syslog otherwise */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "log.h"

static int log_fg = 1;
static enum log_level log_lvl = LOG_LVL_INFO;

static const struct {
	const char *name;
	int         prio;
} log_levels[] = {
	[LOG_LVL_DEBUG]   = { "debug",   LOG_DEBUG },
	[LOG_LVL_INFO]    = { "info",    LOG_INFO },
	[LOG_LVL_NOTICE]  = { "notice",  LOG_NOTICE },
	[LOG_LVL_WARNING] = { "warning", LOG_WARNING },
	[LOG_LVL_ERROR]   = { "error",   LOG_ERR },
};

void
log_init(const char *ident, int foreground, enum log_level level)
{
	log_fg = foreground;
	log_lvl = level;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_lvl = level;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return (int)i;
	return -1;
}

static void
log_vemit(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	char msg[1024];
	int  saved = errno;

	if (lvl < log_lvl)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_fg) {
		fprintf(stderr, "%s\n", msg);
		fflush(stderr);
	} else {
		syslog(log_levels[lvl].prio, "%s", msg);
	}
	errno = saved;
}

#define LOG_FN(fn, lvl, with_errno)                   \
	void fn(const char *fmt, ...)                 \
	{                                             \
		va_list ap;                           \
		va_start(ap, fmt);                    \
		log_vemit(lvl, with_errno, fmt, ap);  \
		va_end(ap);                           \
	}

LOG_FN(log_debug,  LOG_LVL_DEBUG,   0)
LOG_FN(log_info,   LOG_LVL_INFO,    0)
LOG_FN(log_notice, LOG_LVL_NOTICE,  0)
LOG_FN(log_warn,   LOG_LVL_WARNING, 1)
LOG_FN(log_warnx,  LOG_LVL_WARNING, 0)
LOG_FN(log_err,    LOG_LVL_ERROR,   1)
LOG_FN(log_errx,   LOG_LVL_ERROR,   0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
