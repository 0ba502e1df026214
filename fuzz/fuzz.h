/* fuzz.h - what the libFuzzer harnesses share: a quiet log, files of the input, the live configuration */
#ifndef VSR_FUZZ_H
#define VSR_FUZZ_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

/*
 * Each harness is one file, fuzz_NAME.c, built by fuzz/fuzz.mk into
 * fuzz/fuzz-NAME with libFuzzer, ASan and UBSan. A finding is a crash, a
 * sanitizer report, a leak, or a broken oracle: FUZZ_ASSERT aborts with
 * what did not hold, so that libFuzzer saves the input (crash-*).
 *
 * The log is silent (a bad config line or request is logged at every
 * execution otherwise); VSR_FUZZ_LOG=1 in the environment turns it on to
 * replay a finding by hand.
 */
#define FUZZ_ASSERT(cond, ...) do {                                         \
	if (!(cond)) {                                                      \
		fprintf(stderr, "fuzz: %s:%d: oracle broken: %s: ",         \
		    __FILE__, __LINE__, #cond);                             \
		fprintf(stderr, __VA_ARGS__);                               \
		fputc('\n', stderr);                                        \
		abort();                                                    \
	}                                                                   \
} while (0)

static inline void
fuzz_log_init(void)
{
	const char *v = getenv("VSR_FUZZ_LOG");

	/* One past the highest level: nothing is emitted. */
	log_init("vsrfuzz", 1, v && *v && strcmp(v, "0") ? LOG_LVL_DEBUG :
	    (enum log_level)(LOG_LVL_ERROR + 1));
}

/* A directory of this process's own for the files it writes, removed at exit. */
static char fuzz_dir[64];

static void
fuzz_dir_remove(void)
{
	DIR *dir = opendir(fuzz_dir);
	struct dirent *e;

	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(dir), e->d_name, 0);
	closedir(dir);
	rmdir(fuzz_dir);
}

/* DIR/NAME in BUF (of PATH_MAX), the directory made on the first call. */
static inline const char *
fuzz_path(const char *name, char *buf, size_t len)
{
	if (fuzz_dir[0] == '\0') {
		const char *t = getenv("TMPDIR");

		/* In memory where there is a tmpfs: a file is written at each execution. */
		if (t == NULL || *t == '\0' || strlen(t) >= 32)
			t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/vsrfuzz.XXXXXX", t);
		if (mkdtemp(fuzz_dir) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_dir_remove);
	}
	snprintf(buf, len, "%s/%s", fuzz_dir, name);
	return buf;
}

/* Write LEN bytes of D to PATH, replacing it; aborts if it cannot (not a finding of the code). */
static inline void
fuzz_write_file(const char *path, const uint8_t *d, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (len > 0) {
		ssize_t n = write(fd, d, len);

		if (n <= 0) {
			perror(path);
			abort();
		}
		d += n;
		len -= (size_t)n;
	}
	close(fd);
}

/*
 * The live configuration of the control and packet-path harnesses: a
 * service of each forwarding method, schedulers with and without state,
 * a persistent one, a sorry server, a fullnat local address pool.
 *
 *   10.10.0.100:80  tcp dr      rr   -> 10.20.0.11:80, 10.20.0.12:80
 *   10.10.0.101:80  tcp tun     wrr  -> 10.20.0.12:80 (ipip), 10.20.0.15:80 (gre, key 7)
 *   10.10.0.102:80  tcp nat     wlc  -> 10.20.0.13:8080, 10.20.0.16:8081; persistent 300
 *   10.10.0.102:53  udp nat     sh   -> 10.20.0.13:5353
 *   10.10.0.103:80  tcp fullnat mh   -> 10.20.0.14:8080, 10.20.0.17:8080; local 10.20.0.250-251
 *   10.10.0.104:443 tcp nat     lc   -> 10.20.0.18:443 (weight 0), sorry 10.20.0.19:443
 *   [2001:db8:10::100]:80 tcp dr      rr  -> 2001:db8:20::11
 *   [2001:db8:10::101]:80 tcp tun     wrr -> 2001:db8:20::12 (ipip), 2001:db8:20::15 (gre)
 *   [2001:db8:10::102]:80 tcp nat     sh  -> [2001:db8:20::13]:8080; persistent 60, /64
 *   [2001:db8:10::102]:53 udp nat     rr  -> [2001:db8:20::13]:5353
 *   [2001:db8:10::103]:80 tcp fullnat wlc -> [2001:db8:20::14]:8080; local 2001:db8:20::250
 *   10.10.0.105:80  tcp nat     rr   -> 10.20.0.13:8080; synproxy
 *   [2001:db8:10::105]:80 tcp fullnat rr -> [2001:db8:20::14]:8080; synproxy
 */
static const char fuzz_live_conf[] =
	"tap = vsr0\n"
	"announce = { eth0 }\n"
	"conn_max = 4096\n"
	"local_address = { 10.20.0.250, 10.20.0.251, 2001:db8:20::250 }\n"
	"timeout { tcp = 900 tcp_fin = 120 udp = 300 }\n"
	"virtual_server dr {\n"
	"  address = 10.10.0.100  port = 80  protocol = tcp  scheduler = rr  forward = dr\n"
	"  real_server a { address = 10.20.0.11 }\n"
	"  real_server b { address = 10.20.0.12 }\n"
	"}\n"
	"virtual_server tun {\n"
	"  address = 10.10.0.101  port = 80  protocol = tcp  scheduler = wrr  forward = tun\n"
	"  real_server a { address = 10.20.0.12  weight = 2 }\n"
	"  real_server b { address = 10.20.0.15  tunnel = gre  tunnel_key = 7 }\n"
	"}\n"
	"virtual_server nat {\n"
	"  address = 10.10.0.102  port = 80  protocol = tcp  scheduler = wlc  forward = nat\n"
	"  persistent = 300\n"
	"  real_server a { address = 10.20.0.13  port = 8080 }\n"
	"  real_server b { address = 10.20.0.16  port = 8081  upper = 10 }\n"
	"}\n"
	"virtual_server dns {\n"
	"  address = 10.10.0.102  port = 53  protocol = udp  scheduler = sh  forward = nat\n"
	"  real_server a { address = 10.20.0.13  port = 5353 }\n"
	"}\n"
	"virtual_server fnat {\n"
	"  address = 10.10.0.103  port = 80  protocol = tcp  scheduler = mh  forward = fullnat\n"
	"  mh_table_size = 251\n"
	"  real_server a { address = 10.20.0.14  port = 8080 }\n"
	"  real_server b { address = 10.20.0.17  port = 8080 }\n"
	"}\n"
	"virtual_server sorry {\n"
	"  address = 10.10.0.104  port = 443  protocol = tcp  scheduler = lc  forward = nat\n"
	"  real_server a { address = 10.20.0.18  port = 443  weight = 0 }\n"
	"  sorry_server { address = 10.20.0.19  port = 443 }\n"
	"}\n"
	"virtual_server dr6 {\n"
	"  address = 2001:db8:10::100  port = 80  protocol = tcp  scheduler = rr  forward = dr\n"
	"  real_server a { address = 2001:db8:20::11 }\n"
	"}\n"
	"virtual_server tun6 {\n"
	"  address = 2001:db8:10::101  port = 80  protocol = tcp  scheduler = wrr  forward = tun\n"
	"  real_server a { address = 2001:db8:20::12 }\n"
	"  real_server b { address = 2001:db8:20::15  tunnel = gre }\n"
	"}\n"
	"virtual_server nat6 {\n"
	"  address = 2001:db8:10::102  port = 80  protocol = tcp  scheduler = sh  forward = nat\n"
	"  persistent = 60  netmask = 64\n"
	"  real_server a { address = 2001:db8:20::13  port = 8080 }\n"
	"}\n"
	"virtual_server udp6 {\n"
	"  address = 2001:db8:10::102  port = 53  protocol = udp  scheduler = rr  forward = nat\n"
	"  real_server a { address = 2001:db8:20::13  port = 5353 }\n"
	"}\n"
	"virtual_server fnat6 {\n"
	"  address = 2001:db8:10::103  port = 80  protocol = tcp  scheduler = wlc  forward = fullnat\n"
	"  real_server a { address = 2001:db8:20::14  port = 8080 }\n"
	"}\n"
	"virtual_server sp {\n"
	"  address = 10.10.0.105  port = 80  protocol = tcp  scheduler = rr  forward = nat\n"
	"  synproxy = yes\n"
	"  real_server a { address = 10.20.0.13  port = 8080 }\n"
	"}\n"
	"virtual_server sp6 {\n"
	"  address = 2001:db8:10::105  port = 80  protocol = tcp  scheduler = rr  forward = fullnat\n"
	"  synproxy = yes\n"
	"  real_server a { address = 2001:db8:20::14  port = 8080 }\n"
	"}\n";

/* The live configuration, parsed from a file as the daemon reads it; aborts if it does not load. */
static inline struct config *
fuzz_live_load(void)
{
	char path[256];
	struct config *c;

	fuzz_path("live.conf", path, sizeof(path));
	fuzz_write_file(path, (const uint8_t *)fuzz_live_conf, sizeof(fuzz_live_conf) - 1);
	if ((c = conf_load(path)) == NULL) {
		fprintf(stderr, "fuzz: the live configuration does not load (VSR_FUZZ_LOG=1 says why)\n");
		abort();
	}
	return c;
}

#endif
