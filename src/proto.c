/* proto.c - connection states of TCP and UDP as data: transitions, timeouts, names */
#include "pkt.h"
#include "proto.h"

/* The events a TCP segment can be, in IPVS's order of precedence. */
enum tcp_event { EV_SYN, EV_FIN, EV_ACK, EV_RST, EV_MAX };

#define sNO CS_NONE
#define sES CS_ESTABLISHED
#define sSS CS_SYN_SENT
#define sSR CS_SYN_RECV
#define sFW CS_FIN_WAIT
#define sTW CS_TIME_WAIT
#define sCL CS_CLOSE
#define sCW CS_CLOSE_WAIT
#define sLA CS_LAST_ACK
#define sLI CS_LISTEN
#define sSA CS_SYNACK

/*
 * next[direction][event][current state], the transitions of IPVS's
 * ip_vs_proto_tcp.c (the default table, not the secure_tcp one).
 */
static const uint8_t tcp_next[DIR_MAX][EV_MAX][CS_SYNACK + 1] = {
	[DIR_INPUT] = {
		/*           sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA */
		[EV_SYN] = { sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR },
		[EV_FIN] = { sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW },
		[EV_ACK] = { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES },
		[EV_RST] = { sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR },
	},
	[DIR_OUTPUT] = {
		[EV_SYN] = { sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR },
		[EV_FIN] = { sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW },
		[EV_ACK] = { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES },
		[EV_RST] = { sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL },
	},
	[DIR_INPUT_ONLY] = {
		[EV_SYN] = { sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR },
		[EV_FIN] = { sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW },
		[EV_ACK] = { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES },
		[EV_RST] = { sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL },
	},
};

const unsigned proto_default_timeout[CS_MAX] = {
	[CS_NONE]        = 2,
	[CS_ESTABLISHED] = 15 * 60,
	[CS_SYN_SENT]    = 2 * 60,
	[CS_SYN_RECV]    = 1 * 60,
	[CS_FIN_WAIT]    = 2 * 60,
	[CS_TIME_WAIT]   = 2 * 60,
	[CS_CLOSE]       = 10,
	[CS_CLOSE_WAIT]  = 60,
	[CS_LAST_ACK]    = 30,
	[CS_LISTEN]      = 2 * 60,
	[CS_SYNACK]      = 120,
	[CS_UDP]         = 5 * 60,
};

static const char *const conn_state_names[CS_MAX] = {
	[CS_NONE]        = "NONE",
	[CS_ESTABLISHED] = "ESTABLISHED",
	[CS_SYN_SENT]    = "SYN_SENT",
	[CS_SYN_RECV]    = "SYN_RECV",
	[CS_FIN_WAIT]    = "FIN_WAIT",
	[CS_TIME_WAIT]   = "TIME_WAIT",
	[CS_CLOSE]       = "CLOSE",
	[CS_CLOSE_WAIT]  = "CLOSE_WAIT",
	[CS_LAST_ACK]    = "LAST_ACK",
	[CS_LISTEN]      = "LISTEN",
	[CS_SYNACK]      = "SYNACK",
	[CS_UDP]         = "UDP",
};

enum conn_state
proto_tcp_next(enum conn_state state, enum conn_dir dir, uint8_t tcpflags)
{
	enum tcp_event ev;

	if (state > CS_SYNACK || dir >= DIR_MAX)
		return CS_CLOSE;
	/* RST before SYN before FIN before ACK; no flag at all: CLOSE, as IPVS. */
	if (tcpflags & TCPF_RST)
		ev = EV_RST;
	else if (tcpflags & TCPF_SYN)
		ev = EV_SYN;
	else if (tcpflags & TCPF_FIN)
		ev = EV_FIN;
	else if (tcpflags & TCPF_ACK)
		ev = EV_ACK;
	else
		return CS_CLOSE;
	return (enum conn_state)tcp_next[dir][ev][state];
}

const char *
conn_state_name(enum conn_state s)
{
	return (unsigned)s < CS_MAX ? conn_state_names[s] : "?";
}
