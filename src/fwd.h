/* fwd.h - frames from the TAP of no flow, not for the director: routed on as the kernel would */
#ifndef VSR_FWD_H
#define VSR_FWD_H

struct pkt;
struct worker;

/*
 * The policy rules of nat real servers (xmit_nat.c) bring into the TAP
 * more than their replies: the fragments of everything a real server
 * sends with that protocol (the kernel's rule lookup sees no ports in a
 * fragment), its datagrams from source port 65535 (no port range of a
 * rule holds it), and whatever it sends from its service's port that is
 * no reply of a flow (a DNS server's own queries from port 53, the late
 * segments of a connection the director no longer knows). What belongs
 * to no flow is the real server's own traffic, which the director, its
 * router, must forward as the kernel would have without the rules (IPVS
 * lets such packets through its output hook unchanged, the real server's
 * address showing):
 *
 *   - straight out of the interface toward the next hop that the kernel
 *     names for it (the route from its source, arriving on the TAP: the
 *     rules, which name the real server's interface, do not apply), by
 *     the next-hop cache and the AF_PACKET output that nat uses
 *     (nexthop.h, link.h). The kernel decremented its TTL (hop limit)
 *     when it routed it into the TAP, and answered what had none left: the
 *     director is one hop, as a router is;
 *   - into the TAP, addressed to the kernel's side, when that next hop is
 *     not known yet, not usable (no route, no neighbour: the kernel
 *     answers as it does), or too small for the frame (the kernel
 *     fragments or answers "too big"), or for a GSO super-frame. The
 *     kernel routes it again from the TAP, where no rule of ours sends it
 *     back (they name the real server's interface): two hops then;
 *   - dropped (drop_forward_loop) when the kernel's route for it leads
 *     into the TAP itself: written there, it would come back.
 *
 * Not forwarded, and dropped (drop_no_conn_out): a frame to one of our
 * addresses (a local address of the pool: a fullnat reply whose flow is
 * gone), and one whose MAC names a firewall mark (svc.h: a mark service's
 * packet).
 *
 * The fragments of one datagram all go one way: a first fragment
 * forwarded marks its datagram in frag.c's table (frag_routed), and its
 * later fragments, also those that waited for it, are forwarded without
 * a look at the flows (fwd_route); a later fragment whose first one was
 * not forwarded is never forwarded. Counted: forwarded, forwarded_via_tap
 * (of them, those written into the TAP). Nothing is allocated.
 */

/*
 * P (read from the TAP, not toward a VIP, of no connection): forwarded,
 * or dropped and counted. Under the data-path lock.
 */
void fwd_no_flow(struct worker *w, struct pkt *p);

/* A later fragment of a datagram whose first one fwd_no_flow forwarded. */
void fwd_route(struct worker *w, struct pkt *p);

#endif
