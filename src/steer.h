/* steer.h - both directions of a flow on one worker: the TAP's queue-steering program */
#ifndef VSR_STEER_H
#define VSR_STEER_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

/*
 * With workers > 1, the kernel chooses the TAP queue (hence the worker,
 * queue i being worker i: tap.h) of every frame it sends into the TAP by
 * running a program of ours (TUNSETSTEERINGEBPF; its return value modulo
 * the number of queues is the queue). The program hashes the client's
 * side of the flow:
 *
 *   - a frame toward our inbound side (a VIP, a mark service's gateway):
 *     its source address and port, the client's;
 *   - a reply (nat: real server -> client; fullnat: real server ->
 *     LIP:lport): its destination address and port, the client's, or
 *     the local address and port that stand for it.
 *
 * It tells a reply by its destination MAC: the kernel sends replies to a
 * next hop that the daemon answers for with the reply MAC
 * (steer_reply_mac), the nat reply tables' gateway (steer_reply_gw) and
 * the fullnat local addresses (routed "LIP dev TAP", so each is its own
 * next hop); VIPs are answered with the daemon's own MAC, mark gateways
 * with their marks' (svc.h). Its port is hashed for TCP and UDP (IPv4 not
 * a fragment; IPv6 when the fixed header's next header is TCP or UDP),
 * else the addresses alone (fragments, ICMP, extension headers: those may
 * reach another worker, which the data-path lock keeps correct).
 *
 * A nat reply so hashes as its request did. A fullnat one hashes by the
 * local port, which laddr_alloc() picks for the hash to land on the worker
 * that makes the flow (steer_queue(), the same hash in C). The program
 * knows no address, only the reply MAC and the key: a reload that changes
 * the services or the pool needs nothing from it.
 */

/* The nat reply tables' gateway: 169.254.118.254, fe80::76:fe (mark gateways end at .250). */
#define STEER_REPLY_GW4 0xa9fe76feu

static inline union vsr_addr
steer_reply_gw(int af)
{
	union vsr_addr a;

	memset(&a, 0, sizeof(a));
	if (af != AF_INET6) {
		a.ip = htonl(STEER_REPLY_GW4);
		return a;
	}
	a.b[0] = 0xfe;
	a.b[1] = 0x80;
	a.b[13] = 0x76;
	a.b[15] = 0xfe;
	return a;
}

/* ADDR (of family AF) is the nat reply tables' gateway. */
static inline bool
steer_is_reply_gw(int af, const union vsr_addr *addr)
{
	union vsr_addr gw = steer_reply_gw(af);

	return addr_eq(addr, &gw);
}

/*
 * The reply MAC: the daemon's own on the TAP link (OUR, unicast, locally
 * administered, never 06:76:..., the mark MACs' prefix) with the lowest
 * bit of its last byte flipped.
 */
static inline void
steer_reply_mac(const uint8_t our[6], uint8_t mac[6])
{
	memcpy(mac, our, 6);
	mac[5] ^= 0x01;
}

/*
 * The hash, the program's and the daemon's: a 32-bit KEY (random per
 * start, an immediate of the program), then per 32-bit word x of the
 * address (one for IPv4, four for IPv6, each as read big-endian) and
 * finally of the port (0 when there is none): h = (h ^ x) * STEER_MUL,
 * h ^= h >> 16; then h *= STEER_FIN, h ^= h >> 16, and the low 16 bits.
 * The kernel takes the program's value as a u16 before the modulo
 * (drivers/net/tun.c tun_ebpf_select_queue): 16 bits are all it uses.
 * A spread, not a defence: the key makes a client's choice of ports no
 * easier a way to load one worker than the kernel's own flow hash is.
 */
#define STEER_MUL 0x9e3779b1u
#define STEER_FIN 0x85ebca6bu

static inline uint32_t
steer_mix(uint32_t h, uint32_t x)
{
	h = (h ^ x) * STEER_MUL;
	return h ^ (h >> 16);
}

/* The hash of address AF/ADDR and port PORT (network order; 0 for none). */
static inline uint16_t
steer_hash(uint32_t key, int af, const union vsr_addr *addr, uint16_t port)
{
	unsigned n = af == AF_INET6 ? 4 : 1;
	uint32_t h = key;

	for (unsigned i = 0; i < n; i++)
		h = steer_mix(h, ntohl(addr->w[i]));
	h = steer_mix(h, ntohs(port));
	h *= STEER_FIN;
	h ^= h >> 16;
	return (uint16_t)h;
}

/*
 * Load the program for KEY and REPLY_MAC (BPF_PROG_TYPE_SOCKET_FILTER, by
 * the bpf(2) syscall, from an instruction array of ours). Returns its fd,
 * or -1 with errno set; with VLOG (LOGLEN bytes) the verifier's words on a
 * failure go there.
 */
int steer_prog_load(uint32_t key, const uint8_t reply_mac[6], char *vlog, size_t loglen);

/*
 * Steer the TAP whose first queue is TAP_FD, of NQUEUES queues (> 1),
 * with OUR_MAC the daemon's on its link: the program with KEY loaded
 * and attached (TUNSETSTEERINGEBPF; the device keeps it until it goes, so
 * its fd is closed here). Before the privileges are dropped (CAP_BPF or
 * CAP_SYS_ADMIN, unless unprivileged BPF is allowed). 0; or -1 after one
 * warning, and nothing changes: the kernel spreads the frames by its own
 * flow hash, the directions of a flow may reach different workers, and the
 * data-path lock keeps that correct.
 */
int steer_attach(int tap_fd, unsigned nqueues, const uint8_t our_mac[6], uint32_t key);
/* A random key for the hash (the program's, and conn_table_sharded's placement). */
uint32_t steer_new_key(void);

/* The number of queues steered (0 when no program is attached), and the key. */
unsigned steer_queues(void);
uint32_t steer_key(void);
/* Record KEY and NQUEUES as steer_attach() does (the unit tests' way in). */
void steer_set(uint32_t key, unsigned nqueues);

/* The queue (of NQUEUES) that a frame to or from AF/ADDR:PORT, hashed by it, reaches. */
static inline unsigned
steer_queue(int af, const union vsr_addr *addr, uint16_t port, unsigned nqueues)
{
	return steer_hash(steer_key(), af, addr, port) % nqueues;
}

#endif
