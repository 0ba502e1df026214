/* icmplimit.h - rate limits on the ICMP messages the director makes itself */
#ifndef VSR_ICMPLIMIT_H
#define VSR_ICMPLIMIT_H

#include <stdint.h>

/* The kinds of ICMP the director makes itself, each with its own budget. */
enum icmp_kind {
	ICMP_KIND_ECHO,          /* echo replies (ICMP and ICMPv6) */
	ICMP_KIND_ERROR,         /* fragmentation needed, packet too big */
	ICMP_KINDS
};

/* RATE messages a second of each kind (icmp_rate), 0 for no limit; buckets full again. */
void icmp_limit_set(unsigned rate);

/*
 * May the director make one more ICMP message of KIND now (NOW: conn_clock
 * ticks; under the data-path lock)? 1 yes, 0 no (counted: icmp_rate_limited).
 */
int icmp_limit_allow(enum icmp_kind kind, uint32_t now);

#endif
