/* fuzz_vsradm.c - libFuzzer harness: vsradm's reading and printing of the daemon's answers */
#include <stdio.h>

/*
 * vsradm.c itself, its main() renamed (libFuzzer has one), its messages
 * on stderr sent to /dev/null with its listings (they are printed at
 * every execution; ASan and UBSan still see every byte formatted).
 */
static FILE *fz_err;
#undef stderr
#define stderr fz_err
#define main vsradm_main
#include "../src/vsradm.c"
#undef main
#undef stderr

#include "fuzz.h"

/*
 * The input is what a daemon answers: its first byte chooses the request
 * vsradm made (a listing of every service, of one, the connections, the
 * timeouts, the sync daemons), its second the listing's format (ipvsadm's
 * -n --stats --rate --thresholds --persistent-conn --nosort --exact
 * --tun-info and -S; always numeric, so that no name is looked up), and
 * the rest is the answer's bytes, as vsradm reads them from the socket
 * (transact). Each path is vsradm's own down to printf; only its exit(1)
 * after a listing that could not be read is left out (libFuzzer would
 * count an exit as a finding).
 *
 * Oracles: vsradm reads what it prints from the answer alone: a
 * service it kept has a scheduler, netmask and persistence engine that
 * are terminated strings, a kind of ctlproto.h, and real servers with a
 * forwarding method, tunnel type and checksum it knows.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	prog = "vsradm";
	sockpath = "/nonexistent/vsrouted.sock";
	if ((fz_err = fopen(getenv("VSR_FUZZ_LOG") ? "/dev/stderr" : "/dev/null", "w")) == NULL ||
	    (getenv("VSR_FUZZ_LOG") == NULL && freopen("/dev/null", "w", stdout) == NULL)) {
		perror("fuzz: /dev/null");
		abort();
	}
	return 0;
}

static void
fz_check_table(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct lsvc *s = &t->s[i];

		FUZZ_ASSERT((unsigned)s->kind < CTL_KIND_MAX, "kind %d", (int)s->kind);
		FUZZ_ASSERT(memchr(s->sched, '\0', sizeof(s->sched)) &&
		    memchr(s->netmask, '\0', sizeof(s->netmask)) && memchr(s->pe, '\0', sizeof(s->pe)),
		    "an unterminated field");
		FUZZ_ASSERT(s->nd <= s->capd, "%zu real servers in room for %zu", s->nd, s->capd);
		for (size_t j = 0; j < s->nd; j++)
			FUZZ_ASSERT(s->d[j].fwd >= 0 && s->d[j].fwd < FWD_MAX &&
			    s->d[j].tun_type >= 0 && s->d[j].tun_type < CTL_TUN_MAX &&
			    s->d[j].tun_csum >= 0 && s->d[j].tun_csum < CTL_CSUM_MAX,
			    "a real server's fwd %d tun %d csum %d", s->d[j].fwd, s->d[j].tun_type,
			    s->d[j].tun_csum);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svc_spec key;
	struct table t;
	unsigned format;
	int what;

	if (size < 3)
		return 0;
	what = data[0] % 5;
	format = (((unsigned)data[1] << 1) & (FMT_RULE | FMT_STATS | FMT_RATE | FMT_THRESHOLDS |
	    FMT_PERSISTENTCONN | FMT_NOSORT | FMT_EXACT | FMT_TUN_INFO)) | FMT_NUMERIC;
	/* The socket: the answer to read, and nowhere for the request to go. */
	if ((sock_in = fmemopen((void *)(data + 2), size - 2, "r")) == NULL ||
	    (sock_out = fopen("/dev/null", "w")) == NULL) {
		perror("fuzz: fmemopen");
		abort();
	}
	switch (what) {
	case 0:         /* vsradm -L, -S: list_all() without its exit */
	case 1:         /* vsradm -L -t VIP:PORT: list_service() */
		memset(&t, 0, sizeof(t));
		memset(&key, 0, sizeof(key));
		key.af = AF_INET;
		key.protocol = IPPROTO_TCP;
		key.addr.v4.s_addr = htonl(0x0a0a0064);
		key.port = 80;
		if (transact(what == 0 ? ctl_req_names[CTL_REQ_LIST] : "list tcp 10.10.0.100:80",
		    table_line, &t) == 0 && !t.bad) {
			fz_check_table(&t);
			if (what == 0 && !(format & FMT_RULE))
				printf("IP Virtual Server version " IPVS_VERSION_STR " (size=%u)\n",
				    t.size);
			if (what == 0 && !(format & FMT_NOSORT) && t.n > 1)
				qsort(t.s, t.n, sizeof(*t.s), svc_cmp);
			print_title(format);
			for (size_t i = 0; i < t.n; i++)
				print_service(&t.s[i], format);
		}
		table_free(&t);
		break;
	case 2:         /* vsradm -Lc */
		transact(ctl_req_names[CTL_REQ_CONNS], conn_line, &format);
		break;
	case 3:         /* vsradm -L --timeout */
		transact(ctl_req_names[CTL_REQ_TIMEOUT], timeout_line, NULL);
		break;
	case 4:         /* vsradm -L --daemon */
		transact(ctl_req_names[CTL_REQ_DAEMON], daemon_line, NULL);
		break;
	}
	fflush(stdout);
	fclose(sock_in);
	fclose(sock_out);
	sock_in = sock_out = NULL;
	return 0;
}
