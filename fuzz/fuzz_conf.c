/* fuzz_conf.c - libFuzzer harness: vsrouted.conf parsed from a file of the input, then set up */
#include <netinet/in.h>

#include "conf.h"
#include "fuzz.h"
#include "sched.h"
#include "svc.h"

/*
 * The input is a configuration file, read by conf_load() as the daemon
 * reads one (libconfuse, then every check of conf.c). A file it refuses
 * must leave nothing allocated (LeakSanitizer). A file it accepts must
 * hold what conf.h promises, and must set up: "vsrouted -t" refuses what
 * a start would refuse (issue 15 item 7), so svc_setup() of an accepted
 * file may not fail, with a transmit layer that binds every real server.
 */

static char conf_path[256];

/* The transmit layer's part (xmit_bind): any real server binds. */
static int
fuzz_bind(struct dest *d, char *err, size_t errlen)
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
	fuzz_path("vsrouted.conf", conf_path, sizeof(conf_path));
	svc_set_binder(fuzz_bind);
	return 0;
}

static void
check_rs(const struct vs_conf *v, const struct rs_conf *r)
{
	FUZZ_ASSERT(r->weight >= 0 && r->weight <= 65535, "%s/%s: weight %d", v->name, r->name,
	    r->weight);
	FUZZ_ASSERT(r->port != 0, "%s/%s: port 0", v->name, r->name);
	FUZZ_ASSERT(r->fwd == FWD_DR || r->fwd == FWD_TUN || r->fwd == FWD_NAT ||
	    r->fwd == FWD_FULLNAT, "%s/%s: forwarding %d", v->name, r->name, (int)r->fwd);
	FUZZ_ASSERT(r->tunnel_mtu == 0 || (r->tunnel_mtu >= CONF_TUN_MTU_MIN &&
	    r->tunnel_mtu <= CONF_TUN_MTU_MAX), "%s/%s: tunnel_mtu %u", v->name, r->name,
	    r->tunnel_mtu);
	FUZZ_ASSERT(memchr(r->name, '\0', sizeof(r->name)) != NULL, "%s: a name unterminated",
	    v->name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;

	fuzz_write_file(conf_path, data, size);
	if ((c = conf_load(conf_path)) == NULL)
		return 0;
	FUZZ_ASSERT(c->conn_max >= 1 && c->conn_max <= (1u << 26), "conn_max %u", c->conn_max);
	FUZZ_ASSERT(c->workers >= 1 && c->workers <= CONF_WORKERS_MAX, "workers %u", c->workers);
	FUZZ_ASSERT(c->nannounce >= 1, "no announce interface");
	for (unsigned i = 0; i < c->nvs; i++) {
		const struct vs_conf *v = &c->vs[i];

		FUZZ_ASSERT(v->port != 0, "%s: port 0", v->name);
		FUZZ_ASSERT(v->proto == IPPROTO_TCP || v->proto == IPPROTO_UDP, "%s: protocol %d",
		    v->name, v->proto);
		FUZZ_ASSERT(memchr(v->sched, '\0', sizeof(v->sched)) != NULL &&
		    sched_lookup(v->sched) != NULL, "%s: scheduler unknown", v->name);
		for (unsigned j = 0; j < v->nrs; j++)
			check_rs(v, &v->rs[j]);
		if (v->has_sorry)
			check_rs(v, &v->sorry);
	}
	FUZZ_ASSERT(svc_setup(c) == 0, "%s accepted by conf_load, refused by svc_setup "
	    "(VSR_FUZZ_LOG=1 says why)", conf_path);
	svc_teardown();
	conf_free(c);
	return 0;
}
