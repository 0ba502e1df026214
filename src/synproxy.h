/* synproxy.h - the TCP SYN proxy: the director answers the handshake with SYN cookies, then splices */
#ifndef VSR_SYNPROXY_H
#define VSR_SYNPROXY_H

#include <stdint.h>

#include "addr.h"
#include "seqadj.h"

struct cliaddr_state;
struct conn;
struct conn_table;
struct pkt;

/*
 * synproxy = yes (vsrouted.conf(5)), DPVS's idea: a client's SYN to such
 * a service makes no entry. The director answers it itself with a
 * SYN-ACK whose sequence number is a cookie; only the client's ACK that
 * returns a valid cookie makes the flow, schedules the real server and
 * opens the connection to it with a SYN of the client's numbers. The
 * real server's SYN-ACK is answered by the director with the handshake's
 * ACK, and from then on the real server's sequence numbers are shifted
 * by (cookie - its ISN) toward the client, and the client's
 * acknowledgements (SACK edges too) back (seqadj.h, with the
 * per-connection struct seqadj that sync carries).
 *
 * The cookie, 32 bits: the period's 2 low bits, an index in a table of 4
 * MSS values, and 26 bits of SipHash-1-3 under the period's 128-bit
 * secret over (family, client, VIP, ports, the client's ISN, period,
 * index). A period is SYNPROXY_PERIOD ticks; each has a fresh secret
 * (getrandom), the last two are kept, so a cookie is good for one to two
 * periods. The SYN-ACK offers the MSS of the table (the largest not
 * above the client's) and no other option: no window scaling, no SACK,
 * no timestamps, as Linux's cookies without timestamps do; the SYN to
 * the real server carries that MSS and likewise nothing else, so both
 * ends agree on what neither uses.
 *
 * A client's segment after its ACK but before the real server answered
 * is not held: data is dropped (counted) and the segment sent to the
 * real server as the SYN again; the client retransmits the data.
 */

#define SYNPROXY_PERIOD  (64u * 10u)      /* ticks (CONN_HZ = 10): 64 s */

/* A flow's ends as the client's packet names them; ports network order. */
struct synproxy_tuple {
	int            af;
	union vsr_addr caddr, vaddr;
	uint16_t       cport, vport;
};

/* The MSS values a cookie can name, per family (index 0..3). */
uint16_t synproxy_mss(int af, unsigned idx);
/* The index of the largest table MSS not above MSS (0: the smallest). */
unsigned synproxy_mss_idx(int af, unsigned mss);

/* The secrets: fresh ones from now on (start); a fixed one for tests. */
void synproxy_init(uint32_t now);
void synproxy_seed(uint64_t k0, uint64_t k1, uint32_t now);

/* The cookie for a SYN of T with ISN and MSS index IDX, at NOW. */
uint32_t synproxy_cookie(const struct synproxy_tuple *t, uint32_t isn, unsigned idx,
    uint32_t now);
/*
 * The MSS index if COOKIE (the ACK's acknowledgement - 1) is one made for
 * T and ISN (the ACK's sequence number - 1) in this period or the last;
 * -1 otherwise.
 */
int synproxy_cookie_check(const struct synproxy_tuple *t, uint32_t isn, uint32_t cookie,
    uint32_t now);

/* ---- the packet path (core.c's hooks, under the data-path lock) ---- */

struct worker;

enum synproxy_verdict {
	SYNPROXY_DONE,          /* answered or dropped, counted: nothing more to do */
	SYNPROXY_GO,            /* P is now a SYN toward the real server: go on with it */
};

/*
 * A TCP packet P to a synproxy service with no flow: a SYN is answered
 * with a cookie (sent into the TAP); an ACK with a valid cookie becomes,
 * in place, the client's SYN (its ISN, the cookie's MSS) and *ISN the
 * cookie, for the caller to make the flow with; anything else is dropped.
 */
enum synproxy_verdict synproxy_in_new(struct worker *w, struct pkt *p, uint32_t *cookie);

/* A flow made from P (the SYN synproxy_in_new made) records its state in ST. */
void synproxy_conn_init(struct cliaddr_state *st, const struct pkt *p, uint32_t cookie);

/*
 * ST (a flow's side state, or NULL) is a synproxy flow's: made so here,
 * or received by sync with a sequence adjustment and no client-address
 * kind (a backup splices what its master proxied).
 */
int synproxy_flow(const struct cliaddr_state *st);

/*
 * The client's packet P of a synproxy flow C: while the real server has
 * not answered, anything but a RST is turned into the SYN again (data
 * dropped, counted); after, its acknowledgements are shifted. Returns
 * SYNPROXY_GO to forward P.
 */
enum synproxy_verdict synproxy_in(struct cliaddr_state *st, struct pkt *p);

/*
 * The real server's packet P of a synproxy flow whose client's side is T:
 * its SYN-ACK becomes, in place, the client's ACK of the handshake,
 * already in the real server's numbers (SYNPROXY_TURNED: the caller
 * sends it the client's way, to the real server, without synproxy_in);
 * anything else is shifted toward the client (SYNPROXY_GO), or dropped
 * (SYNPROXY_DONE).
 */
#define SYNPROXY_TURNED 2
int synproxy_out(struct cliaddr_state *st, const struct synproxy_tuple *t, struct pkt *p);

/*
 * An ICMP error P about a segment of a synproxy flow that went WAY
 * (SEQADJ_OUT: the real server's, shifted toward the client), before its
 * quote is rewritten: the quoted sequence number back in its sender's
 * numbers, so that the real server finds it in its window (a packet too
 * big is otherwise ignored: a PMTU black hole).
 */
void synproxy_icmp(const struct cliaddr_state *st, enum seqadj_way way, struct pkt *p);

#endif
