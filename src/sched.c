/* sched.c - the scheduler registry, and what every scheduler shares */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "sched.h"

/* One line per scheduler file. */
static const struct sched_ops *const sched_registry[] = {
	&sched_rr,
	&sched_wrr,
	&sched_lc,
	&sched_wlc,
	&sched_sed,
	&sched_nq,
	&sched_dh,
	&sched_sh,
	&sched_lblc,
	&sched_lblcr,
	&sched_mh,
	&sched_fo,
	&sched_ovf,
	&sched_twos,
};

/* IPVS's scheduler names: the seeds' ten and today's kernel's four more. */
static const char *const sched_ipvs_names[] = {
	"rr", "wrr", "lc", "wlc", "sed", "nq", "dh", "sh", "lblc", "lblcr",
	"mh", "fo", "ovf", "twos",
};

const struct sched_ops *
sched_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(sched_registry); i++)
		if (strcmp(sched_registry[i]->name, name) == 0)
			return sched_registry[i];
	return NULL;
}

int
sched_is_ipvs_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(sched_ipvs_names); i++)
		if (strcmp(sched_ipvs_names[i], name) == 0)
			return 1;
	return 0;
}

void *
sched_data_new(struct service *svc, size_t size)
{
	svc->sched_data = calloc(1, size);
	return svc->sched_data;
}

void
sched_data_free(struct service *svc)
{
	free(svc->sched_data);
	svc->sched_data = NULL;
}
