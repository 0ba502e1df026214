/* priv.c - least privilege: become an unprivileged user, keeping CAP_NET_ADMIN and CAP_NET_RAW */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "priv.h"

static const cap_value_t priv_keep[] = { CAP_NET_ADMIN, CAP_NET_RAW };

int
priv_lookup(const char *user, struct priv_user *pu)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		if (errno)
			log_err("user %s: cannot look it up", user);
		else
			log_errx("user %s does not exist", user);
		return -1;
	}
	snprintf(pu->name, sizeof(pu->name), "%s", user);
	pu->uid = pw->pw_uid;
	pu->gid = pw->pw_gid;
	return 0;
}

int
priv_drop(const struct priv_user *pu)
{
	cap_t caps;
	int rc = -1;

	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0) {
		log_err("user %s: PR_SET_KEEPCAPS", pu->name);
		return -1;
	}
	if (setgroups(1, &pu->gid) < 0 || setgid(pu->gid) < 0 || setuid(pu->uid) < 0) {
		log_err("user %s: cannot become uid %ld gid %ld", pu->name, (long)pu->uid,
		    (long)pu->gid);
		return -1;
	}
	caps = cap_init();      /* all clear */
	if (caps != NULL &&
	    cap_set_flag(caps, CAP_PERMITTED, ARRAY_SIZE(priv_keep), priv_keep, CAP_SET) == 0 &&
	    cap_set_flag(caps, CAP_EFFECTIVE, ARRAY_SIZE(priv_keep), priv_keep, CAP_SET) == 0 &&
	    cap_set_proc(caps) == 0)
		rc = 0;
	else
		log_err("user %s: cannot keep CAP_NET_ADMIN and CAP_NET_RAW", pu->name);
	if (caps)
		cap_free(caps);
	prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	if (rc == 0)
		log_info("running as %s (uid %ld, gid %ld) with CAP_NET_ADMIN and CAP_NET_RAW only",
		    pu->name, (long)pu->uid, (long)pu->gid);
	return rc;
}

int
priv_trim(void)
{
	cap_t caps = cap_get_proc();
	int rc = -1, dropped = 0;

	if (caps == NULL) {
		log_err("cannot read the capabilities");
		return -1;
	}
	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
		cap_flag_value_t on = CAP_CLEAR;
		bool keep = false;
		for (size_t k = 0; k < ARRAY_SIZE(priv_keep); k++)
			keep = keep || priv_keep[k] == v;
		if (keep || cap_get_flag(caps, v, CAP_PERMITTED, &on) < 0 || on == CAP_CLEAR)
			continue;
		if (cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_CLEAR) < 0 ||
		    cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) < 0 ||
		    cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_CLEAR) < 0)
			goto out;
		dropped++;
	}
	if (dropped == 0 || cap_set_proc(caps) == 0)
		rc = 0;
out:
	if (rc < 0)
		log_err("cannot give up the capabilities other than CAP_NET_ADMIN and CAP_NET_RAW");
	else if (dropped > 0)
		log_info("set up: %d capabilities given up, CAP_NET_ADMIN and CAP_NET_RAW kept", dropped);
	cap_free(caps);
	return rc;
}
