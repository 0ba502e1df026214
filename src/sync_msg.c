/* sync_msg.c - IPVS's connection synchronisation messages, version 1: encode, decode, check */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "sync_msg.h"
#include "wire.h"

#define SVER_SHIFT 12
#define SVER_MASK  0x0fff

static const char *const sync_err_names[SYNC_E_MAX] = {
#define X(id, name) [SYNC_E_##id] = name,
	SYNC_ERRORS(X)
#undef X
};

const char *
sync_err_name(enum sync_err e)
{
	return (unsigned)e < SYNC_E_MAX ? sync_err_names[e] : "?";
}

bool
sync_err_entry(enum sync_err e)
{
	return e == SYNC_E_PROTO || e == SYNC_E_STATE || e == SYNC_E_MANDATORY || e == SYNC_E_PE;
}

/* ---- byte order, unaligned ---- */

/* A port, kept in network order in the entry: its two bytes as they are. */
static inline void
putport(uint8_t *p, uint16_t nport)
{
	memcpy(p, &nport, 2);
}

static inline uint16_t
getport(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* ---- encoding ---- */

void
sync_entry_set_seq(struct sync_entry *e, const struct sync_seq *in, const struct sync_seq *out)
{
	static const struct sync_seq none;

	e->flags &= ~(uint32_t)SYNC_F_SEQ_MASK;
	if (in)
		e->flags |= SYNC_F_IN_SEQ;
	if (out)
		e->flags |= SYNC_F_OUT_SEQ;
	e->has_seq = in != NULL || out != NULL;
	e->in_seq = in ? *in : none;
	e->out_seq = out ? *out : none;
}

static unsigned
addr_bytes(int af)
{
	return af == AF_INET6 ? 16u : 4u;
}

size_t
sync_entry_len(const struct sync_entry *e)
{
	size_t n = e->af == AF_INET6 ? SYNC_V6_LEN : SYNC_V4_LEN;

	if (e->has_seq)
		n += 2 + SYNC_SEQ_LEN;
	if (e->has_fullnat)
		n += 2 + (e->af == AF_INET6 ? SYNC_FULLNAT6_LEN : SYNC_FULLNAT4_LEN);
	return n;
}

void
sync_msg_begin(struct sync_writer *w, uint8_t *buf, size_t cap, size_t maxlen, uint8_t syncid)
{
	w->buf = buf;
	w->cap = cap < SYNC_MSG_MAX ? cap : SYNC_MSG_MAX;
	w->maxlen = maxlen < w->cap ? maxlen : w->cap;
	w->len = SYNC_HDR_LEN;
	w->count = 0;
	buf[0] = 0;                     /* reserved: a version 0 receiver drops the message */
	buf[1] = syncid;
	wr16(buf + 2, SYNC_HDR_LEN);
	buf[4] = 0;
	buf[5] = SYNC_PROTO_VER;
	buf[6] = buf[7] = 0;
}

static void
put_seq(uint8_t *p, const struct sync_seq *s)
{
	wr32(p, s->init_seq);
	wr32(p + 4, s->delta);
	wr32(p + 8, s->previous_delta);
}

int
sync_msg_add(struct sync_writer *w, const struct sync_entry *e)
{
	size_t elen, pad, limit;
	unsigned alen;
	uint8_t *p;

	if (e->af != AF_INET && e->af != AF_INET6)
		return -1;
	elen = sync_entry_len(e);
	pad = (4 - (w->len & 3)) & 3;
	/* The first entry goes whatever MAXLEN says, as long as the buffer holds it. */
	limit = w->count == 0 ? w->cap : w->maxlen;
	if (w->count >= SYNC_CONNS_MAX || w->len + pad + elen > limit)
		return -1;
	p = w->buf + w->len;
	memset(p, 0, pad);
	p += pad;
	alen = addr_bytes(e->af);

	p[0] = e->af == AF_INET6 ? SYNC_TYPE_INET6 : 0;
	p[1] = e->proto;
	wr16(p + 2, (uint16_t)(elen & SVER_MASK));     /* version 0 in the top 4 bits */
	wr32(p + 4, e->flags & ~(uint32_t)SYNC_F_HASHED);
	wr16(p + 8, e->state);
	putport(p + 10, e->cport);
	putport(p + 12, e->vport);
	putport(p + 14, e->dport);
	wr32(p + 16, e->fwmark);
	wr32(p + 20, e->timeout);
	memcpy(p + 24, e->caddr, alen);
	memcpy(p + 24 + alen, e->vaddr, alen);
	memcpy(p + 24 + 2 * alen, e->daddr, alen);
	p += 24 + 3 * alen;
	if (e->has_seq) {
		p[0] = SYNC_OPT_SEQ;
		p[1] = SYNC_SEQ_LEN;
		put_seq(p + 2, &e->in_seq);
		put_seq(p + 14, &e->out_seq);
		p += 2 + SYNC_SEQ_LEN;
	}
	if (e->has_fullnat) {
		p[0] = SYNC_OPT_FULLNAT;
		p[1] = (uint8_t)(2 + alen);
		putport(p + 2, e->lport);
		memcpy(p + 4, e->laddr, alen);
		p += 4 + alen;
	}
	w->len += pad + elen;
	w->count++;
	wr16(w->buf + 2, (uint16_t)w->len);
	w->buf[4] = (uint8_t)w->count;
	return 0;
}

/* ---- decoding ---- */

enum sync_err
sync_msg_open(struct sync_reader *r, const uint8_t *buf, size_t len, uint8_t want_syncid)
{
	memset(r, 0, sizeof(*r));
	if (len < SYNC_HDR_LEN)
		return SYNC_E_SHORT;
	if (rd16(buf + 2) != len)
		return SYNC_E_SIZE;
	if (want_syncid != 0 && buf[1] != want_syncid)
		return SYNC_E_SYNCID;
	/* Version 1 has a zero first byte (version 0's count) and zero spare bytes. */
	if (buf[0] != 0 || buf[5] != SYNC_PROTO_VER || buf[6] != 0 || buf[7] != 0)
		return SYNC_E_VERSION;
	r->buf = buf;
	r->len = len;
	r->off = SYNC_HDR_LEN;
	r->left = buf[4];
	r->syncid = buf[1];
	return SYNC_E_OK;
}

static void
get_seq(const uint8_t *p, struct sync_seq *s)
{
	s->init_seq = rd32(p);
	s->delta = rd32(p + 4);
	s->previous_delta = rd32(p + 8);
}

/*
 * The options of the entry in [P, END) into E. A message error, or
 * SYNC_E_MANDATORY (an unknown mandatory option: the entry is dropped,
 * the message read on), or OK.
 */
static enum sync_err
sync_options(const uint8_t *p, const uint8_t *end, struct sync_entry *e)
{
	enum sync_err verdict = SYNC_E_OK;
	bool seen_pe_data = false, seen_pe_name = false;
	unsigned alen = addr_bytes(e->af);

	while (p < end) {
		unsigned type, len;

		if (end - p < 2)
			return SYNC_E_OPTION;
		type = p[0];
		len = p[1];
		p += 2;
		if (len == 0 || (size_t)(end - p) < len)
			return SYNC_E_OPTION;
		if (type == SYNC_OPT_FULLNAT) {
			/* Ours: its length says the entry's family; once. */
			if (len != 2 + alen || e->has_fullnat)
				return SYNC_E_OPTION;
			e->has_fullnat = true;
			e->lport = getport(p);
			memcpy(e->laddr, p + 2, alen);
		} else {
			switch (type & ~(unsigned)SYNC_OPT_F_PARAM) {
			case SYNC_OPT_SEQ:
				if (len != SYNC_SEQ_LEN || e->has_seq)
					return SYNC_E_OPTION;
				e->has_seq = true;
				get_seq(p, &e->in_seq);
				get_seq(p + 12, &e->out_seq);
				break;
			case SYNC_OPT_PE_DATA:
				if (len > SYNC_PE_DATA_MAX || seen_pe_data)
					return SYNC_E_OPTION;
				seen_pe_data = true;
				e->pe_data = p;
				e->pe_data_len = (uint8_t)len;
				break;
			case SYNC_OPT_PE_NAME:
				if (len > SYNC_PE_NAME_MAX || seen_pe_name)
					return SYNC_E_OPTION;
				seen_pe_name = true;
				e->pe_name = p;
				e->pe_name_len = (uint8_t)len;
				break;
			default:
				/* Unknown: skipped when optional; the entry dropped when not. */
				if (!(type & SYNC_OPT_F_PARAM) && verdict == SYNC_E_OK)
					verdict = SYNC_E_MANDATORY;
				break;
			}
		}
		p += len;
	}
	return verdict;
}

/* The state's range for the entry's protocol (a template has its own). */
static enum sync_err
sync_check_state(const struct sync_entry *e)
{
	unsigned n;

	switch (e->proto) {
	case IPPROTO_TCP:
		n = SYNC_TCP_STATES;
		break;
	case IPPROTO_UDP:
		n = SYNC_UDP_STATES;
		break;
	default:
		/* SCTP and the others: IPVS syncs them, vsrouted has no such service. */
		return SYNC_E_PROTO;
	}
	if (e->flags & SYNC_F_TEMPLATE)
		n = SYNC_TPL_STATES;
	return e->state < n ? SYNC_E_OK : SYNC_E_STATE;
}

enum sync_err
sync_msg_next(struct sync_reader *r, struct sync_entry *e, bool *done)
{
	const uint8_t *p, *end;
	unsigned alen, base;
	uint16_t ver_size;
	size_t size;
	enum sync_err opt, st;

	*done = false;
	if (r->buf == NULL) {
		*done = true;
		return SYNC_E_COUNT;
	}
	if (r->left == 0) {
		/* The last entry ended at r->off, padded to 4 bytes at most. */
		*done = true;
		if (r->len < r->off || r->len - r->off > ((4 - (r->off & 3)) & 3)) {
			r->buf = NULL;
			return SYNC_E_COUNT;
		}
		return SYNC_E_OK;
	}
	memset(e, 0, sizeof(*e));
	if (r->len - r->off < SYNC_V4_LEN)
		goto bad_count;
	p = r->buf + r->off;
	ver_size = rd16(p + 2);
	size = ver_size & SVER_MASK;
	if (ver_size >> SVER_SHIFT) {
		r->buf = NULL;
		*done = true;
		return SYNC_E_ENTRY_VERSION;
	}
	if (p[0] == SYNC_TYPE_INET6) {
		e->af = AF_INET6;
		base = SYNC_V6_LEN;
	} else if (p[0] == 0) {
		e->af = AF_INET;
		base = SYNC_V4_LEN;
	} else {
		r->buf = NULL;
		*done = true;
		return SYNC_E_TYPE;
	}
	if (size < base || size > r->len - r->off) {
		r->buf = NULL;
		*done = true;
		return SYNC_E_ENTRY_SIZE;
	}
	alen = addr_bytes(e->af);
	e->proto = p[1];
	e->flags = rd32(p + 4);
	e->state = rd16(p + 8);
	e->cport = getport(p + 10);
	e->vport = getport(p + 12);
	e->dport = getport(p + 14);
	e->fwmark = rd32(p + 16);
	e->timeout = rd32(p + 20);
	memcpy(e->caddr, p + 24, alen);
	memcpy(e->vaddr, p + 24 + alen, alen);
	memcpy(e->daddr, p + 24 + 2 * alen, alen);
	end = p + size;
	opt = sync_options(p + base, end, e);
	if (opt != SYNC_E_OK && !sync_err_entry(opt)) {
		r->buf = NULL;
		*done = true;
		return opt;
	}
	/* The next entry starts on a 4-byte boundary; the last needs no padding. */
	r->left--;
	r->off += size;
	if (r->left > 0) {
		size_t pad = (4 - (r->off & 3)) & 3;

		if (r->len - r->off < pad)
			goto bad_count;
		r->off += pad;
	}
	if (opt != SYNC_E_OK)
		return opt;
	if ((st = sync_check_state(e)) != SYNC_E_OK)
		return st;
	if (e->pe_data_len)
		return SYNC_E_PE;
	return SYNC_E_OK;

bad_count:
	r->buf = NULL;
	*done = true;
	return SYNC_E_COUNT;
}

enum sync_err
sync_msg_decode(const uint8_t *buf, size_t len, uint8_t want_syncid,
    struct sync_entry *entries, enum sync_err *errs, unsigned *n)
{
	struct sync_reader r;
	enum sync_err err;
	bool done = false;

	*n = 0;
	if ((err = sync_msg_open(&r, buf, len, want_syncid)) != SYNC_E_OK)
		return err;
	while (!done) {
		/* At most 255 entries (the count is a byte); the last call reads none. */
		err = sync_msg_next(&r, &entries[*n < SYNC_CONNS_MAX ? *n : SYNC_CONNS_MAX - 1],
		    &done);
		if (done)
			return err;             /* OK at the end, or why the message is refused */
		if (err != SYNC_E_OK && !sync_err_entry(err))
			return err;
		errs[*n] = err;
		(*n)++;
	}
	return SYNC_E_OK;
}
