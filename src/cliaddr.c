/* cliaddr.c - the client's address behind fullnat: PROXY protocol v2 headers and the TOA option */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cliaddr.h"

size_t
ppv2_build(uint8_t *out, int af, int proto, const void *src, uint16_t sport,
    const void *dst, uint16_t dport)
{
	unsigned alen = af == AF_INET ? 4u : af == AF_INET6 ? 16u : 0u;
	uint8_t *a = out + PPV2_FIXED_LEN;
	uint16_t blen;

	if (alen == 0 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 0;
	memcpy(out, PPV2_SIG, PPV2_SIG_LEN);
	out[12] = PPV2_VER_PROXY;
	out[13] = (uint8_t)((af == AF_INET ? PPV2_AF_INET : PPV2_AF_INET6) |
	    (proto == IPPROTO_TCP ? PPV2_STREAM : PPV2_DGRAM));
	/* What follows the fixed part: the addresses, then the ports. */
	blen = htons((uint16_t)(2 * alen + 4));
	memcpy(out + 14, &blen, 2);
	memcpy(a, src, alen);
	memcpy(a + alen, dst, alen);
	memcpy(a + 2 * alen, &sport, 2);
	memcpy(a + 2 * alen + 2, &dport, 2);
	return PPV2_FIXED_LEN + 2 * alen + 4;
}

size_t
toa_build(uint8_t *out, int af, const void *addr, uint16_t port)
{
	unsigned alen = af == AF_INET ? 4u : af == AF_INET6 ? 16u : 0u;

	if (alen == 0)
		return 0;
	out[0] = TOA_KIND;
	out[1] = (uint8_t)(4 + alen);
	memcpy(out + 2, &port, 2);
	memcpy(out + 4, addr, alen);
	return 4 + alen;
}
