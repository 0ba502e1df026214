/* gro.c - user-space GRO: a receive batch's TCP segments of one flow written as one super-frame */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "gro.h"
#include "pkt.h"

#define TCP_HLEN   20u
#define TCP_SEQ    4
#define TCP_ACK    8
#define TCP_DOFF   12
#define TCP_FLAGS  13
#define TCP_CSUM   16
#define IP_MAXLEN  65535u

/* Flags that end coalescing at this segment, or before it (kernel: tcp_gro_receive). */
#define GRO_TCPF_NEVER (TCPF_SYN | TCPF_FIN | TCPF_RST | TCPF_URG_ | TCPF_CWR_)



void
gro_init(struct gro *g, int fd)
{
	memset(g, 0, sizeof(*g));
	g->fd = fd;
}

/* The TCP checksum of IP (a TCP segment of LEN bytes, IPv4 header of 20) is right. */
static int
gro_csum_ok(const uint8_t *ip, uint32_t len)
{
	uint32_t s = csum_partial(ip + IP4_SADDR, 8, 0);

	s += IPPROTO_TCP + (len - IP4_HLEN);
	s = csum_partial(ip + IP4_HLEN, len - IP4_HLEN, s);
	return csum_fold(s) == 0;
}

/* One packet as it came: an empty virtio-net header, then the packet. */
static void
gro_write_one(struct gro *g, const uint8_t *pkt, uint32_t len)
{
	struct iovec iov[2] = {
		{ &g->none, sizeof(g->none) },
		{ (void *)(uintptr_t)pkt, len },
	};

	if (writev(g->fd, iov, 2) != (ssize_t)(sizeof(g->none) + len)) {
		g->st.write_errors++;
		return;
	}
	g->st.packets++;
	g->st.bytes += len;
}

/* Same addresses and ports (the flow), in both packets' headers. */
static inline int
gro_same_flow(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a + IP4_SADDR, b + IP4_SADDR, 8) == 0 &&
	    memcmp(a + IP4_HLEN, b + IP4_HLEN, 4) == 0;
}

static void
gro_flush_run(struct gro *g, struct gro_run *r)
{
	uint8_t *ip = r->hdr, *th = r->hdr + IP4_HLEN;
	uint16_t v;
	uint32_t s;
	ssize_t want;

	if (r->nseg == 1) {
		gro_write_one(g, r->first, r->total);
		return;
	}
	/* The first segment's headers, made the super-frame's. */
	memcpy(r->hdr, r->first, r->hlen);
	v = htons((uint16_t)r->total);
	memcpy(ip + IP4_TOTLEN, &v, 2);
	memset(ip + IP4_CSUM, 0, 2);
	v = csum_ip(ip, IP4_HLEN);
	memcpy(ip + IP4_CSUM, &v, 2);
	/* PSH is the last segment's. */
	th[TCP_FLAGS] |= ((const uint8_t *)r->iov[1 + r->nseg].iov_base - r->hlen)[IP4_HLEN + TCP_FLAGS] & TCPF_PSH;
	/* The pseudo-header's sum, folded, not complemented (CHECKSUM_PARTIAL). */
	s = csum_partial(ip + IP4_SADDR, 8, 0) + IPPROTO_TCP + (r->total - IP4_HLEN);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	v = htons((uint16_t)s);
	memcpy(th + TCP_CSUM, &v, 2);

	r->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	r->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	r->vnet.hdr_len = (uint16_t)r->hlen;
	r->vnet.gso_size = r->seg_size;
	r->vnet.csum_start = IP4_HLEN;
	r->vnet.csum_offset = TCP_CSUM;
	r->iov[0].iov_base = &r->vnet;
	r->iov[0].iov_len = sizeof(r->vnet);
	r->iov[1].iov_base = r->hdr;
	r->iov[1].iov_len = r->hlen;
	want = (ssize_t)(sizeof(r->vnet) + r->total);
	if (writev(g->fd, r->iov, (int)(2 + r->nseg)) == want) {
		g->st.frames++;
		g->st.segments += r->nseg;
		g->st.packets += r->nseg;
		g->st.bytes += r->total + (uint64_t)(r->nseg - 1) * r->hlen;
		return;
	}
	/* Refused whole: each segment as it came, untouched in the caller's buffer. */
	for (unsigned i = 0; i < r->nseg; i++) {
		const uint8_t *pay = r->iov[2 + i].iov_base;
		gro_write_one(g, pay - r->hlen, r->hlen + (uint32_t)r->iov[2 + i].iov_len);
	}
}

/* Write run I and take it out of the list (the others keep their order). */
static void
gro_close(struct gro *g, unsigned i)
{
	gro_flush_run(g, &g->runs[i]);
	g->nruns--;
	if (i < g->nruns)
		memmove(&g->runs[i], &g->runs[i + 1], (g->nruns - i) * sizeof(g->runs[0]));
}

/* Segment IP (LEN bytes, header HLEN, payload PAY) may follow run R. */
static int
gro_follows(const struct gro_run *r, const uint8_t *ip, uint32_t hlen, uint32_t pay)
{
	const uint8_t *f = r->first, *th = ip + IP4_HLEN, *fth = f + IP4_HLEN;

	if (r->closed || r->nseg == GRO_SEGS || hlen != r->hlen || pay > r->seg_size ||
	    r->total + pay > IP_MAXLEN)
		return 0;
	/* TOS, TTL, DF; the ID one more than the last's. */
	if (ip[IP4_TOS] != f[IP4_TOS] || ip[IP4_TTL] != f[IP4_TTL] ||
	    ip[IP4_FRAG] != f[IP4_FRAG] || rd16(ip + IP4_ID) != r->next_id)
		return 0;
	if (rd32(th + TCP_SEQ) != r->next_seq)
		return 0;
	/* Acknowledgement, data offset, flags but PSH, window, urgent pointer, options. */
	if (memcmp(th + TCP_ACK, fth + TCP_ACK, 5) != 0 ||
	    ((th[TCP_FLAGS] ^ fth[TCP_FLAGS]) & (uint8_t)~TCPF_PSH) != 0 ||
	    memcmp(th + 14, fth + 14, 2) != 0 || memcmp(th + 18, fth + 18, hlen - IP4_HLEN - 18) != 0)
		return 0;
	return 1;
}

static void
gro_append(struct gro_run *r, const uint8_t *ip, uint32_t pay)
{
	const uint8_t *th = ip + IP4_HLEN;

	r->iov[2 + r->nseg].iov_base = (void *)(uintptr_t)(ip + r->hlen);
	r->iov[2 + r->nseg].iov_len = pay;
	r->nseg++;
	r->total += pay;
	r->next_seq = rd32(th + TCP_SEQ) + pay;
	r->next_id = (uint16_t)(rd16(ip + IP4_ID) + 1);
	if (pay < r->seg_size || (th[TCP_FLAGS] & TCPF_PSH))
		r->closed = 1;
}

void
gro_add(struct gro *g, const uint8_t *ip, uint32_t len)
{
	gro_add_summed(g, ip, len, false);
}

void
gro_add_summed(struct gro *g, const uint8_t *ip, uint32_t len, bool summed)
{
	uint32_t hlen, pay;
	uint8_t flags;
	unsigned i;
	struct gro_run *r;

	if (len < IP4_HLEN + TCP_HLEN || ip[IP4_VHL] != 0x45 || ip[IP4_PROTO] != IPPROTO_TCP) {
		/*
		 * Not something to coalesce: another protocol, IP options,
		 * too short. Whatever its ports, after the runs between the
		 * same addresses.
		 */
		if (len >= IP4_HLEN) {
			for (i = 0; i < g->nruns; ) {
				if (memcmp(g->runs[i].first + IP4_SADDR, ip + IP4_SADDR, 8) == 0)
					gro_close(g, i);
				else
					i++;
			}
		}
		gro_write_one(g, ip, len);
		return;
	}
	hlen = IP4_HLEN + (ip[IP4_HLEN + TCP_DOFF] >> 4) * 4u;
	flags = ip[IP4_HLEN + TCP_FLAGS];
	for (i = 0; i < g->nruns && !gro_same_flow(g->runs[i].first, ip); i++)
		;
	r = i < g->nruns ? &g->runs[i] : NULL;
	if (hlen < IP4_HLEN + TCP_HLEN || hlen > len || hlen > GRO_HDR_MAX ||
	    (rd16(ip + IP4_FRAG) & 0x3fff) != 0 || (flags & GRO_TCPF_NEVER) || !(flags & TCPF_ACK) ||
	    len == hlen) {
		if (r != NULL)
			gro_close(g, i);
		gro_write_one(g, ip, len);
		return;
	}
	if (!summed && !gro_csum_ok(ip, len)) {
		g->st.csum_bad++;
		if (r != NULL)
			gro_close(g, i);
		gro_write_one(g, ip, len);      /* the kernel drops it, and counts it */
		return;
	}
	pay = len - hlen;
	if (r != NULL && gro_follows(r, ip, hlen, pay)) {
		gro_append(r, ip, pay);
		return;
	}
	if (r != NULL)
		gro_close(g, i);
	if (g->nruns == GRO_FLOWS)
		gro_close(g, 0);        /* the oldest */
	r = &g->runs[g->nruns++];
	r->first = ip;
	r->hlen = hlen;
	r->total = hlen;
	r->seg_size = (uint16_t)pay;
	r->nseg = 0;
	r->closed = 0;
	gro_append(r, ip, pay);
}

void
gro_flush(struct gro *g)
{
	for (unsigned i = 0; i < g->nruns; i++)
		gro_flush_run(g, &g->runs[i]);
	g->nruns = 0;
}
