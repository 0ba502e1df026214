/* notify.c - service manager notifications (systemd's sd_notify datagram protocol) */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static struct {
	int                fd;
	struct sockaddr_un sun;
	socklen_t          len;
} nt = { .fd = -1 };

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || path[0] == '\0')
		return;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(nt.sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s: not a socket path or abstract name; not notifying", path);
		return;
	}
	nt.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (nt.fd < 0) {
		log_warn("NOTIFY_SOCKET: socket");
		return;
	}
	nt.sun.sun_family = AF_UNIX;
	memcpy(nt.sun.sun_path, path, n);
	if (path[0] == '@')
		nt.sun.sun_path[0] = '\0';      /* abstract: no terminating NUL counted */
	nt.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
}

static void
notify_send(const char *msg)
{
	static int warned;

	if (nt.fd < 0)
		return;
	if (sendto(nt.fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&nt.sun, nt.len) < 0 &&
	    !warned) {
		warned = 1;
		log_debug("NOTIFY_SOCKET: %s", strerror(errno));
	}
}

void
notify_ready(void)
{
	notify_send("READY=1");
}

void
notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	notify_send(msg);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n = snprintf(msg, sizeof(msg), "STATUS=");

	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One line: a newline would start another assignment. */
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	notify_send(msg);
}

void
notify_fini(void)
{
	if (nt.fd >= 0)
		close(nt.fd);
	nt.fd = -1;
}
