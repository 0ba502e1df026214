/* proto.h - connection states of TCP and UDP, their transitions, timeouts and names */
#ifndef VSR_PROTO_H
#define VSR_PROTO_H

#include <stdint.h>

/* IPVS's TCP states, then UDP's one. ActiveConn = ESTABLISHED. */
enum conn_state {
	CS_NONE,
	CS_ESTABLISHED,
	CS_SYN_SENT,
	CS_SYN_RECV,
	CS_FIN_WAIT,
	CS_TIME_WAIT,
	CS_CLOSE,
	CS_CLOSE_WAIT,
	CS_LAST_ACK,
	CS_LISTEN,
	CS_SYNACK,
	CS_UDP,
	CS_MAX
};

/*
 * Which side a segment came from. A connection whose replies bypass the
 * director (dr, tun) sees only the client's half: INPUT_ONLY.
 */
enum conn_dir {
	DIR_INPUT,
	DIR_OUTPUT,
	DIR_INPUT_ONLY,
	DIR_MAX
};

/* The state after a TCP segment with TCPFLAGS (TCPF_*) in STATE. */
enum conn_state proto_tcp_next(enum conn_state state, enum conn_dir dir, uint8_t tcpflags);

/* IPVS's default timeouts, in seconds. */
extern const unsigned proto_default_timeout[CS_MAX];

/* "ESTABLISHED", "FIN_WAIT", "UDP", ... as ipvsadm -lc prints them. */
const char *conn_state_name(enum conn_state s);

#endif
