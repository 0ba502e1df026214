/* sync_msg.h - IPVS's connection synchronisation messages, version 1: encode, decode, check */
#ifndef VSR_SYNC_MSG_H
#define VSR_SYNC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The wire format of the kernel's sync daemon (net/netfilter/ipvs/
 * ip_vs_sync.c, protocol version 1), byte for byte, so that a kernel IPVS
 * director and vsrouted read each other. All fields are in network order.
 *
 * A message (one UDP datagram, at most sync-maxlen bytes):
 *
 *   0        1        2        3
 *   +--------+--------+--------+--------+
 *   |   0    | syncid |      size       |   size: the whole datagram
 *   +--------+--------+--------+--------+
 *   | count  | version|   0    |   0    |   version 1, count 0..255
 *   +--------+--------+--------+--------+
 *   | entry 1, padded to 4 bytes from the message's start ... entry count |
 *
 * An entry (36 bytes for IPv4, 72 for IPv6, then its options):
 *
 *   | type | protocol | ver(4 bits) size(12 bits) |   type 0: IPv4, 2: IPv6
 *   | flags (IP_VS_CONN_F_*, 32 bits)           |
 *   | state (16)        | cport (16)            |
 *   | vport (16)        | dport (16)            |
 *   | fwmark (32)                               |
 *   | timeout, seconds (32)                     |
 *   | caddr, vaddr, daddr (4 or 16 bytes each)  |
 *   | option type | option length | data ...    |   (repeated; size covers them)
 *
 * Options: 1 the sequence adjustments (24 bytes: in and out, each initial
 * sequence, delta, previous delta), 2 and 3 a persistence engine's data and
 * name. A type with bit 0x40 (IPVS_OPT_F_PARAM) set is optional: a receiver
 * that does not know it skips it; one without is mandatory, and the entry
 * is dropped by a receiver that does not know it. vsrouted's fullnat local
 * address and port travel in an optional type of its own,
 * SYNC_OPT_FULLNAT, which the kernel skips.
 *
 * Nothing here does I/O or allocates: the encoder writes into a buffer the
 * caller owns, the decoder reads one and points into it.
 */

#define SYNC_DEFAULT_GROUP  0xe0000051u    /* 224.0.0.81, host order */
#define SYNC_DEFAULT_PORT   8848
#define SYNC_PROTO_VER      1

#define SYNC_HDR_LEN        8
#define SYNC_V4_LEN         36              /* an IPv4 entry without options */
#define SYNC_V6_LEN         72
#define SYNC_SEQ_LEN        24              /* IPVS_OPT_SEQ_DATA's data */
#define SYNC_FULLNAT4_LEN   6               /* SYNC_OPT_FULLNAT: lport, laddr */
#define SYNC_FULLNAT6_LEN   18
#define SYNC_PE_DATA_MAX    255             /* IP_VS_PEDATA_MAXLEN */
#define SYNC_PE_NAME_MAX    16              /* IP_VS_PENAME_MAXLEN */
#define SYNC_ENTRY_SIZE_MAX 0x0fff          /* 12 bits of ver_size */
#define SYNC_CONNS_MAX      255             /* the count is one byte */
#define SYNC_MSG_MAX        65535           /* the size is two bytes */

/* Entry types. */
#define SYNC_TYPE_INET6     0x02            /* STYPE_F_INET6 */

/* Option types. */
#define SYNC_OPT_SEQ        1               /* IPVS_OPT_SEQ_DATA */
#define SYNC_OPT_PE_DATA    2
#define SYNC_OPT_PE_NAME    3
#define SYNC_OPT_F_PARAM    0x40            /* optional: skipped when unknown */
#define SYNC_OPT_FULLNAT    (SYNC_OPT_F_PARAM | 0x10)  /* vsrouted's: LPORT LADDR */

/* IPVS's connection flags (include/uapi/linux/ip_vs.h), as they travel. */
#define SYNC_F_FWD_MASK     0x0007
#define SYNC_F_MASQ         0x0000          /* nat (and vsrouted's fullnat) */
#define SYNC_F_LOCALNODE    0x0001
#define SYNC_F_TUNNEL       0x0002
#define SYNC_F_DROUTE       0x0003
#define SYNC_F_BYPASS       0x0004
#define SYNC_F_SYNC         0x0020          /* made by sync (never sent) */
#define SYNC_F_HASHED       0x0040          /* never sent */
#define SYNC_F_NOOUTPUT     0x0080          /* replies bypass the director */
#define SYNC_F_INACTIVE     0x0100          /* not ESTABLISHED */
#define SYNC_F_OUT_SEQ      0x0200
#define SYNC_F_IN_SEQ       0x0400
#define SYNC_F_SEQ_MASK     0x0600
#define SYNC_F_NO_CPORT     0x0800
#define SYNC_F_TEMPLATE     0x1000          /* a persistence template */
#define SYNC_F_ONE_PACKET   0x2000
/* What a backup takes from a message (IP_VS_CONN_F_BACKUP_MASK). */
#define SYNC_F_BACKUP_MASK  (SYNC_F_FWD_MASK | SYNC_F_NOOUTPUT | SYNC_F_INACTIVE | \
	SYNC_F_SEQ_MASK | SYNC_F_NO_CPORT | SYNC_F_TEMPLATE)

/* IPVS's state numbers: TCP's 11 (IP_VS_TCP_S_*), UDP's one, templates' two. */
#define SYNC_TCP_STATES     11
#define SYNC_UDP_STATES     1
#define SYNC_SCTP_STATES    10
#define SYNC_TPL_STATES     2

/* One direction's sequence adjustment (struct ip_vs_seq), host order. */
struct sync_seq {
	uint32_t init_seq;          /* the first sequence number adjusted */
	uint32_t delta;             /* the adjustment from there on */
	uint32_t previous_delta;    /* the one before init_seq */
};

/*
 * One connection or persistence template as it travels. Addresses are 16
 * bytes whatever the family, IPv4 in the first four (network order) and
 * zeroes after them, as the kernel's union nf_inet_addr keeps them.
 */
struct sync_entry {
	int      af;                /* AF_INET or AF_INET6 */
	uint8_t  proto;             /* IPPROTO_TCP, IPPROTO_UDP, ... */
	uint16_t state;             /* IPVS's number (SYNC_*_STATES) */
	uint32_t flags;             /* SYNC_F_* */
	uint16_t cport, vport, dport;   /* network order */
	uint32_t fwmark;
	uint32_t timeout;           /* seconds; 0: the receiver's own for the state */
	uint8_t  caddr[16], vaddr[16], daddr[16];
	bool     has_seq;           /* SYNC_OPT_SEQ: in_seq, out_seq */
	struct sync_seq in_seq, out_seq;
	bool     has_fullnat;       /* SYNC_OPT_FULLNAT: laddr, lport */
	uint8_t  laddr[16];
	uint16_t lport;             /* network order */
	/* Decoded only (a persistence engine's, which vsrouted does not run). */
	const uint8_t *pe_data, *pe_name;
	uint8_t  pe_data_len, pe_name_len;
};

/*
 * The sequence adjustments of a connection whose payload the director
 * shifts (fullnat's PROXY protocol header): IN for the client's packets,
 * OUT for the real server's; NULL for a direction that is not adjusted.
 * Sets the option and the IP_VS_CONN_F_IN_SEQ / OUT_SEQ flags as the
 * kernel does. The one way to put them into an entry.
 */
void sync_entry_set_seq(struct sync_entry *e, const struct sync_seq *in,
    const struct sync_seq *out);

/* ---- encoding ---- */

struct sync_writer {
	uint8_t *buf;
	size_t   cap;               /* bytes of BUF */
	size_t   maxlen;            /* the message's limit (sync-maxlen) */
	size_t   len;
	unsigned count;
};

/* The bytes E takes, its options included, without padding. */
size_t sync_entry_len(const struct sync_entry *e);

/* Start a message for SYNCID in BUF (CAP bytes) of at most MAXLEN bytes. */
void sync_msg_begin(struct sync_writer *w, uint8_t *buf, size_t cap, size_t maxlen,
    uint8_t syncid);
/*
 * Add E (padded to 4 bytes first). 0; or -1 when it does not fit: the
 * message is full (MAXLEN, or SYNC_CONNS_MAX entries), or E is malformed
 * (a family other than IPv4 or IPv6). An entry larger than MAXLEN still
 * goes into an empty message, as the kernel's does, if CAP holds it.
 */
int  sync_msg_add(struct sync_writer *w, const struct sync_entry *e);
/* The message's length; its header is up to date after every add. */
static inline size_t sync_msg_len(const struct sync_writer *w) { return w->len; }

/* ---- decoding ---- */

/*
 * Why a message or an entry is refused. The first ones refuse the whole
 * message: nothing of it may be used. The entry ones refuse one entry,
 * the kernel's "single message dropped": the others are still read.
 */
#define SYNC_ERRORS(X)                                                                  \
	X(OK,            "ok")                                                          \
	X(SHORT,         "short")          /* shorter than the header */                \
	X(SIZE,          "size")           /* header size is not the datagram's */     \
	X(VERSION,       "version")        /* not version 1 (version 0, reserved bits) */\
	X(SYNCID,        "syncid")         /* another sync id */                        \
	X(COUNT,         "count")          /* entries missing or bytes left over */     \
	X(ENTRY_VERSION, "entry_version")  /* an entry's version is not 0 */            \
	X(ENTRY_SIZE,    "entry_size")     /* an entry's size is too small or too big */\
	X(TYPE,          "type")           /* an entry's type is not IPv4 or IPv6 */    \
	X(OPTION,        "option")         /* option length 0, past the entry, wrong, twice */ \
	X(PROTO,         "proto")          /* entry: a protocol vsrouted does not sync */ \
	X(STATE,         "state")          /* entry: a state out of its protocol's range */ \
	X(MANDATORY,     "mandatory")      /* entry: an unknown mandatory option */     \
	X(PE,            "pe")             /* entry: a persistence engine's data */

enum sync_err {
#define X(id, name) SYNC_E_##id,
	SYNC_ERRORS(X)
#undef X
	SYNC_E_MAX
};

/* "size", "proto", ... for counters and logs. */
const char *sync_err_name(enum sync_err e);
/* E refuses one entry only (PROTO, STATE, MANDATORY, PE). */
bool sync_err_entry(enum sync_err e);

struct sync_reader {
	const uint8_t *buf;
	size_t   len;
	size_t   off;               /* the next entry */
	unsigned left;              /* entries still to read */
	uint8_t  syncid;
};

/*
 * Check the header of the datagram BUF (LEN bytes): size, version and
 * reserved bytes, and the sync id when WANT_SYNCID is not 0 (as the
 * kernel's backup, 0 takes every id). SYNC_E_OK with R ready for
 * sync_msg_next(), else why the message is refused.
 */
enum sync_err sync_msg_open(struct sync_reader *r, const uint8_t *buf, size_t len,
    uint8_t want_syncid);
/*
 * The next entry into E: SYNC_E_OK; an entry error (E skipped, go on); or
 * a message error, after which R reads nothing more. After the last entry
 * it checks that the message ends there (up to 3 bytes of padding) and
 * returns SYNC_E_COUNT if not; *DONE is set once nothing is left to read.
 */
enum sync_err sync_msg_next(struct sync_reader *r, struct sync_entry *e, bool *done);

/*
 * The whole message, entry by entry, before anything of it is used: each
 * entry's verdict into ERRS (at most SYNC_CONNS_MAX) and the entries into
 * ENTRIES; *N is the count. SYNC_E_OK, or the message error that refuses
 * it all (the entries are then not to be used).
 */
enum sync_err sync_msg_decode(const uint8_t *buf, size_t len, uint8_t want_syncid,
    struct sync_entry *entries, enum sync_err *errs, unsigned *n);

#endif
