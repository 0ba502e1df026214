/* fuzz_ctl.c - libFuzzer harness: the control socket's requests, over a socket, against the live configuration */
#include <sys/socket.h>

/*
 * ctl.c itself, so that a client can be handed a socket as the listener
 * hands it one (ctl_client_new) without a listener on the file system.
 */
#include "../src/ctl.c"

#include "fuzz.h"

/*
 * The role and the sync daemons (role.c, sync.c) make proxy entries and
 * sockets on the host; here they are a record of what was asked, so that
 * --role, --start-daemon, --stop-daemon and -L --daemon reach ctl.c's
 * parsing and answers with the state a daemon would keep.
 */
static enum vsr_role fz_role = ROLE_MASTER;
static struct sync_conf fz_sync[2];
static unsigned fz_sync_on;

void role_set(enum vsr_role role, const char *why) { (void)why; fz_role = role; }
enum vsr_role role_get(void) { return fz_role; }

int
sync_start(unsigned state, const struct sync_conf *sc)
{
	unsigned i = state == SYNC_STATE_BACKUP;

	if (fz_sync_on & state) {
		errno = EEXIST;
		return -1;
	}
	fz_sync[i] = *sc;
	fz_sync_on |= state;
	return 0;
}

int
sync_stop(unsigned state)
{
	if (!(fz_sync_on & state)) {
		errno = ESRCH;
		return -1;
	}
	fz_sync_on &= ~state;
	return 0;
}

const struct sync_conf *
sync_daemon(unsigned state)
{
	return (fz_sync_on & state) ? &fz_sync[state == SYNC_STATE_BACKUP] : NULL;
}

/*
 * The input's first byte chooses the client's role (root or control_group,
 * control_group_read, or nobody allowed); the rest is what the client
 * writes on its connection, then it closes its side. The daemon's code is
 * ctl.c's from the socket up: the bufferevent, ctl_read's line splitting
 * and its bounds, the dispatch table, every request's parsing and its
 * effect on the services of the live configuration (fuzz.h), which is
 * merged back after each input (svc_merge, as a reload) so that one input
 * does not change the next.
 *
 * Oracles, on what the client reads:
 *   - every line is an answer of the protocol (ctlproto.h): "ok", "err
 *     MESSAGE", or a data line with its tag and exactly its fields;
 *   - an operator (or a reader) gets exactly one final line ("ok" or
 *     "err") per request line, when no line of the input is too long;
 *     a client in no group gets one refusal, and nothing else;
 *   - the connection ends: the daemon frees the client once its side
 *     is closed and it has read everything.
 */

#define FZ_OUT_KEEP (1u << 20)          /* answers kept for the oracles; the rest is read and dropped */
#define FZ_ROUNDS   100000              /* event loop turns before the client counts as stuck */

static struct event_base *fz_base;
static struct config *fz_conf;
static char *fz_out;
static unsigned fz_timeouts[CS_MAX];     /* the table's, put back after each input */

static int
fz_bind(struct dest *d, char *err, size_t errlen)
{
	(void)d;
	(void)err;
	(void)errlen;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	fz_conf = fuzz_live_load();
	svc_set_binder(fz_bind);
	if ((fz_base = event_base_new()) == NULL || svc_setup(fz_conf) < 0 ||
	    (ctl.ct = conn_table_new(fz_conf->conn_max, 0)) == NULL ||
	    (fz_out = malloc(FZ_OUT_KEEP + 1)) == NULL) {
		fprintf(stderr, "fuzz: set-up failed\n");
		abort();
	}
	ctl.base = fz_base;
	for (int s = 0; s < CS_MAX; s++)
		fz_timeouts[s] = conn_get_timeout(ctl.ct, (enum conn_state)s);
	return 0;
}

/* The number of words of LINE (single spaces, as the daemon writes them). */
static int
fz_words(const char *line)
{
	int n = 0;

	for (const char *p = line; *p; p++)
		if (*p != ' ' && (p == line || p[-1] == ' '))
			n++;
	return n;
}

/* Check one answer line; returns 1 if it is final (ok, err). */
static int
fz_check_line(const char *line)
{
	static const struct {
		const char *tag;
		int         words;
	} data[] = {
		{ CTL_TAG_SIZE,      2 },
		{ CTL_TAG_SVC,       1 + CTL_SVC_NFIELDS },
		{ CTL_TAG_DEST,      1 + CTL_DEST_NFIELDS },
		{ CTL_TAG_CONN,      1 + CTL_CONN_NFIELDS },
		{ CTL_TAG_TRUNCATED, 2 },
		{ CTL_TAG_TIMEOUT,   1 + CTL_TIMEOUT_NFIELDS },
		{ CTL_TAG_DAEMON,    1 + CTL_DAEMON_NFIELDS },
		{ CTL_TAG_ROLE,      2 },
	};
	size_t tl = strcspn(line, " ");

	for (const char *p = line; *p; p++)
		FUZZ_ASSERT((unsigned char)*p >= ' ' && *p != 0x7f,
		    "a control character in the answer line '%s'", line);
	if (strcmp(line, "ok") == 0)
		return 1;
	if (strncmp(line, "err ", 4) == 0) {
		FUZZ_ASSERT(line[4] != '\0', "an err line without its message");
		return 1;
	}
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		if (tl == strlen(data[i].tag) && strncmp(line, data[i].tag, tl) == 0) {
			FUZZ_ASSERT(fz_words(line) == data[i].words && strstr(line, "  ") == NULL,
			    "'%s': %d words, not %d", line, fz_words(line), data[i].words);
			return 0;
		}
	FUZZ_ASSERT(0, "not an answer of the protocol: '%s'", line);
	return 0;
}

/* Drain what the daemon wrote to FD into fz_out (kept up to FZ_OUT_KEEP). */
static void
fz_drain(int fd, size_t *len)
{
	char tmp[65536];
	ssize_t n;

	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		size_t k = (size_t)n;

		if (*len + k > FZ_OUT_KEEP)
			k = FZ_OUT_KEEP - *len;
		memcpy(fz_out + *len, tmp, k);
		*len += k;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ctl_role roles[3] = { CTL_ROLE_ADMIN, CTL_ROLE_READ, CTL_ROLE_NONE };
	enum ctl_role role;
	size_t off = 1, outlen = 0, requests = 0, finals = 0, cur = 0;
	int sv[2], rounds;
	bool toolong = false;

	if (size < 1)
		return 0;
	role = roles[data[0] % 3];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("fuzz: socketpair");
		abort();
	}
	FUZZ_ASSERT(ctl_client_new(sv[0], false) == 0 && ctl.nclients == 1, "no client");
	/* The role from the credentials is root's: the one asked for instead. */
	if (ctl.clients->role == CTL_ROLE_NONE)
		ctl.nrefused--;
	ctl.clients->role = role;
	if (role == CTL_ROLE_NONE)
		ctl.nrefused++;

	/* Requests: the complete lines, when none is too long for exact counting. */
	for (size_t i = 1; i < size; i++) {
		if (data[i] == '\n') {
			requests++;
			cur = 0;
		} else if (++cur >= CTL_LINE_MAX - 1) {
			toolong = true;
		}
	}

	for (rounds = 0; ctl.nclients > 0 && rounds < FZ_ROUNDS; rounds++) {
		if (off < size) {
			ssize_t n = write(sv[1], data + off, size - off);

			if (n > 0)
				off += (size_t)n;
			if (off == size)
				shutdown(sv[1], SHUT_WR);
		} else if (off == size && size == 1) {
			shutdown(sv[1], SHUT_WR);
			off++;
		}
		event_base_loop(fz_base, EVLOOP_NONBLOCK);
		fz_drain(sv[1], &outlen);
	}
	fz_drain(sv[1], &outlen);
	FUZZ_ASSERT(ctl.nclients == 0, "the client is neither served nor closed after %d turns "
	    "(%zu of %zu bytes written)", rounds, off - 1, size - 1);
	close(sv[1]);

	fz_out[outlen] = '\0';
	if (getenv("VSR_FUZZ_LOG"))
		fprintf(stderr, "fuzz: the daemon answered:\n%s", fz_out);
	if (outlen < FZ_OUT_KEEP) {
		char *line = fz_out, *nl;

		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			finals += (size_t)fz_check_line(line);
			line = nl + 1;
		}
		FUZZ_ASSERT(*line == '\0', "an answer without its newline: '%s'", line);
		if (role == CTL_ROLE_NONE)
			FUZZ_ASSERT(finals == (requests > 0 || toolong ? 1u : 0u) ||
			    (toolong && finals == 0), "a refused client got %zu answers", finals);
		else if (!toolong)
			FUZZ_ASSERT(finals == requests, "%zu requests, %zu answers", requests, finals);
	}

	/* What the requests changed goes, as a reload puts the file back. */
	FUZZ_ASSERT(svc_merge(fz_conf) == 0, "the live configuration does not merge back");
	conn_set_timeouts(ctl.ct, fz_timeouts);
	fz_sync_on = 0;
	fz_role = ROLE_MASTER;
	return 0;
}
