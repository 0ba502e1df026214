/* addr.h - an IP address of either family: the type, its parser, formatter, mask and hash */
#ifndef VSR_ADDR_H
#define VSR_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * An address of either family in 16 bytes, the family (AF_INET or
 * AF_INET6) kept beside it by whoever holds one: a service, a real server,
 * a packet, a connection. The family is never guessed from the bytes.
 *
 * IPv4 is kept as IPVS keeps it (union nf_inet_addr): the address in the
 * first word, network order, the other twelve bytes zero. Not v4-mapped
 * (::ffff:a.b.c.d): every IPv4 path -- the header's four bytes, the IPv4
 * checksum updates, the IPv4 hash and the connection table's 32-bit keys
 * -- takes a->ip as it is, with no conversion, and an IPv6 address that
 * happens to be v4-mapped is never mistaken for an IPv4 one. The zeroes
 * keep 16-byte comparisons and masks right for both families.
 */
union vsr_addr {
	uint32_t        ip;         /* AF_INET, network order */
	uint32_t        w[4];       /* AF_INET6 as four network-order words */
	uint8_t         b[16];
	struct in_addr  in;
	struct in6_addr in6;
};

_Static_assert(sizeof(union vsr_addr) == 16, "an address is 16 bytes");

/* An address with its family, where one list holds both (a pool, the VIPs). */
struct vsr_ip {
	int            af;
	union vsr_addr addr;
};

/* The longest address text, with brackets and ":65535" (addr_port_ntop). */
#define ADDR_STRLEN      INET6_ADDRSTRLEN
#define ADDRPORT_STRLEN  (INET6_ADDRSTRLEN + 8)

static inline bool
addr_eq(const union vsr_addr *a, const union vsr_addr *b)
{
	return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
	    (a->w[3] ^ b->w[3])) == 0;
}

static inline bool
vsr_ip_eq(const struct vsr_ip *a, const struct vsr_ip *b)
{
	return a->af == b->af && addr_eq(&a->addr, &b->addr);
}

static inline bool
addr_is_zero(const union vsr_addr *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

/* An IPv4 address (network order) in our form. */
static inline union vsr_addr
addr_from_ip(uint32_t ip)
{
	union vsr_addr a = { .w = { ip, 0, 0, 0 } };

	return a;
}

/* OUT = A & MASK, word by word (both families: the zeroes stay zero). */
static inline void
addr_and(union vsr_addr *out, const union vsr_addr *a, const union vsr_addr *mask)
{
	for (int i = 0; i < 4; i++)
		out->w[i] = a->w[i] & mask->w[i];
}

/* The address family's length in bytes (4 or 16) and its bits (32 or 128). */
static inline unsigned
addr_len(int af)
{
	return af == AF_INET6 ? 16u : 4u;
}

/* "AF_INET" -> "IPv4" for messages. */
const char *addr_family_name(int af);

/*
 * A mask of PLEN leading one bits for family AF (PLEN at most 32 or 128).
 * 0, or -1 when PLEN is out of range.
 */
int  addr_plen_mask(int af, unsigned plen, union vsr_addr *mask);
/* The prefix length of a contiguous MASK, or -1 when it is not contiguous. */
int  addr_mask_plen(int af, const union vsr_addr *mask);

/*
 * "10.0.0.1", "2001:db8::1", or "[2001:db8::1]": *AF and *A set, 0; -1
 * when S is not an address of either family.
 */
int  addr_pton(const char *s, int *af, union vsr_addr *a);
/* The address as inet_ntop writes it, into BUF (ADDR_STRLEN); returns BUF. */
const char *addr_ntop(int af, const union vsr_addr *a, char *buf, size_t len);

/*
 * ADDR:PORT as ipvsadm writes it: "10.0.0.1:80", "[2001:db8::1]:80" (PORT
 * in host order), into BUF (ADDRPORT_STRLEN); returns BUF. The one
 * formatter of the daemon's logs, the control socket, the metrics and
 * vsradm.
 */
const char *addr_port_ntop(int af, const union vsr_addr *a, uint16_t port, char *buf,
    size_t len);
/*
 * The reverse: "10.0.0.1:80", "[2001:db8::1]:80" (PORT 1..65535, host
 * order). With NEEDPORT 0 the port may be left out ("10.0.0.1",
 * "2001:db8::1", "[2001:db8::1]"), *PORT then untouched. 0, or -1 when
 * malformed.
 */
int  addr_port_pton(const char *s, int *af, union vsr_addr *a, uint16_t *port, int needport);

/* A as a socket address with PORT (host order); returns its length. */
socklen_t addr_sockaddr(int af, const union vsr_addr *a, uint16_t port,
    struct sockaddr_storage *ss);

/*
 * Why A cannot be a service's, real server's or local address, or NULL
 * when it can: unspecified, broadcast, multicast; for IPv6 loopback (::1),
 * link-local (it would need an interface) and v4-mapped (::ffff:0:0/96).
 */
const char *addr_unusable(int af, const union vsr_addr *a);

/*
 * A 32-bit summary of an address for the schedulers' and the registry's
 * hashes: an IPv4 address itself (host order, as before IPv6 came, so
 * that IPv4 keeps its spreading), all 128 bits of an IPv6 one mixed.
 * Not keyed: what the wire chooses is hashed with a secret in conn.c.
 */
uint32_t addr_fold32(int af, const union vsr_addr *a);

#endif
