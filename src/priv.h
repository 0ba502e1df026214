/* priv.h - least privilege: become an unprivileged user, keeping CAP_NET_ADMIN and CAP_NET_RAW */
#ifndef VSR_PRIV_H
#define VSR_PRIV_H

#include <sys/types.h>

#include "conf.h"

struct priv_user {
	char  name[CONF_USER_MAX];
	uid_t uid;
	gid_t gid;               /* the user's primary group, its only group after the drop */
};

/*
 * Look USER up (getpwnam) into PU, at start, before anything on the host is
 * touched. 0, or -1 logged ("user NAME does not exist").
 */
int priv_lookup(const char *user, struct priv_user *pu);

/*
 * After set-up (sockets, TAP and netlink open, sysctls written): keep
 * capabilities across the change of user (PR_SET_KEEPCAPS), take the
 * user's group as the only one (setgroups, setgid), become the user
 * (setuid), then set exactly CAP_NET_ADMIN and CAP_NET_RAW, permitted and
 * effective, nothing inheritable, no ambient set (cap_set_proc). Root cannot
 * be regained. What the daemon does later needs no more: netlink changes
 * (CAP_NET_ADMIN), /proc/sys/net writes (the kernel grants them to
 * CAP_NET_ADMIN in the network namespace), raw and packet sockets for new
 * real servers (CAP_NET_RAW). 0, or -1 logged: the caller stops.
 */
int priv_drop(const struct priv_user *pu);

/*
 * For a daemon started unprivileged with capabilities of its own (the
 * systemd unit's AmbientCapabilities; no "user" to drop to), after set-up:
 * every capability but CAP_NET_ADMIN and CAP_NET_RAW leaves the permitted,
 * effective and inheritable sets, and so the ambient one (a capability
 * stays ambient only while permitted and inheritable): what only the start
 * needed (CAP_BPF, for the workers' steering program) is gone. The two
 * stay as they were, ambient ones ambient. 0, or -1 logged: the caller
 * stops.
 */
int priv_trim(void);

#endif
