/* steer.c - both directions of a flow on one worker: the TAP's queue-steering program */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "steer.h"

static uint32_t steer_k;        /* the program's key, once attached */
static unsigned steer_nq;       /* queues steered: 0 until attached */

unsigned
steer_queues(void)
{
	return steer_nq;
}

uint32_t
steer_key(void)
{
	return steer_k;
}

/*
 * The program is written here with its own small assembler: an array of
 * instructions and forward jumps to labels, resolved at the end. The
 * frame starts at its Ethernet header when the kernel runs it (at queue
 * selection, before the TAP puts the virtio-net header in front), so the
 * offsets below are from the destination MAC. Loads are the socket
 * filters' absolute and indirect ones (BPF_LD_ABS, BPF_LD_IND): big-endian
 * words as numbers, R6 the context, R1-R5 lost at each; a load beyond the
 * frame ends the program with 0 (queue 0).
 *
 *   R7 the hash, R8 1 for a reply (hash its destination) else 0, R9 the
 *   offset of the TCP or UDP header, R0 and R1 scratch.
 */
enum {
	L_CLASS, L_V4, L_V4DST, L_V4MIX, L_V6, L_V6DST, L_V6NH, L_NOPORT, L_PORTS, L_DPORT,
	L_PORT, L_COUNT
};

#define STEER_INSNS 128
#define STEER_FIXES 32

struct steer_asm {
	struct bpf_insn ins[STEER_INSNS];
	unsigned        n;
	int             at[L_COUNT];
	struct { unsigned insn; int label; } fix[STEER_FIXES];
	unsigned        nfix;
	bool            overflow;
};

static void
emit(struct steer_asm *a, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (a->n == STEER_INSNS) {
		a->overflow = true;
		return;
	}
	a->ins[a->n++] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
	    .off = off, .imm = imm };
}

/* A jump (BPF_JEQ, BPF_JNE, BPF_JA) to LABEL, against an immediate or (X) a register. */
static void
jump(struct steer_asm *a, uint8_t op, uint8_t dst, int x, uint8_t src, int32_t imm, int label)
{
	if (a->nfix == STEER_FIXES) {
		a->overflow = true;
		return;
	}
	a->fix[a->nfix].insn = a->n;
	a->fix[a->nfix++].label = label;
	emit(a, (uint8_t)(BPF_JMP | op | (x ? BPF_X : BPF_K)), dst, src, 0, imm);
}

static void
label(struct steer_asm *a, int l)
{
	a->at[l] = (int)a->n;
}

static void
ld_abs(struct steer_asm *a, uint8_t size, int32_t off)
{
	emit(a, (uint8_t)(BPF_LD | BPF_ABS | size), 0, 0, 0, off);
}

static void
alu32(struct steer_asm *a, uint8_t op, uint8_t dst, int32_t imm)
{
	emit(a, (uint8_t)(BPF_ALU | op | BPF_K), dst, 0, 0, imm);
}

static void
alu32x(struct steer_asm *a, uint8_t op, uint8_t dst, uint8_t src)
{
	emit(a, (uint8_t)(BPF_ALU | op | BPF_X), dst, src, 0, 0);
}

static void
mov64(struct steer_asm *a, uint8_t dst, int32_t imm)
{
	emit(a, BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}

/* R7 = steer_mix(R7, R0) (steer.h), in 32-bit arithmetic. */
static void
mix(struct steer_asm *a)
{
	alu32x(a, BPF_XOR, BPF_REG_7, BPF_REG_0);
	alu32(a, BPF_MUL, BPF_REG_7, (int32_t)STEER_MUL);
	alu32x(a, BPF_MOV, BPF_REG_1, BPF_REG_7);
	alu32(a, BPF_RSH, BPF_REG_1, 16);
	alu32x(a, BPF_XOR, BPF_REG_7, BPF_REG_1);
}

/* The words of the address at OFF (one, or four for IPv6) into the hash. */
static void
mix_addr(struct steer_asm *a, int32_t off, unsigned words)
{
	for (unsigned i = 0; i < words; i++) {
		ld_abs(a, BPF_W, off + 4 * (int32_t)i);
		mix(a);
	}
}


/*
 * The client's address into the hash: the source address at SRC (WORDS
 * words), or for a reply (R8 set) the destination at DST; through labels
 * AT_DST and DONE of the caller's family.
 */
static void
mix_side(struct steer_asm *a, int32_t src, int32_t dst, unsigned words, int at_dst, int done)
{
	jump(a, BPF_JNE, BPF_REG_8, 0, 0, 0, at_dst);
	mix_addr(a, src, words);
	jump(a, BPF_JA, 0, 0, 0, 0, done);
	label(a, at_dst);
	mix_addr(a, dst, words);
	label(a, done);
}

#define ETH_L3     14
#define ETH_TYPE   12

/* Write the program for KEY and the reply MAC into A; false if it did not fit. */
static bool
steer_build(struct steer_asm *a, uint32_t key, const uint8_t mac[6])
{
	uint32_t hi = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 | mac[3];
	uint32_t lo = (uint32_t)mac[4] << 8 | mac[5];

	memset(a, 0, sizeof(*a));
	for (int l = 0; l < L_COUNT; l++)
		a->at[l] = -1;
	emit(a, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	alu32(a, BPF_MOV, BPF_REG_7, (int32_t)key);
	/* A reply: to the reply MAC. */
	ld_abs(a, BPF_W, 0);
	mov64(a, BPF_REG_8, 0);
	alu32(a, BPF_MOV, BPF_REG_1, (int32_t)hi);     /* zero-extended, as the load is */
	jump(a, BPF_JNE, BPF_REG_0, 1, BPF_REG_1, 0, L_CLASS);
	ld_abs(a, BPF_H, 4);
	jump(a, BPF_JNE, BPF_REG_0, 0, 0, (int32_t)lo, L_CLASS);
	mov64(a, BPF_REG_8, 1);
	label(a, L_CLASS);
	ld_abs(a, BPF_H, ETH_TYPE);
	jump(a, BPF_JEQ, BPF_REG_0, 0, 0, 0x0800, L_V4);
	jump(a, BPF_JEQ, BPF_REG_0, 0, 0, 0x86dd, L_V6);
	mov64(a, BPF_REG_0, 0);                         /* ARP and the rest: queue 0 */
	emit(a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	/* IPv4: the source address (a reply: the destination), at 12 (16) in the header. */
	label(a, L_V4);
	mix_side(a, ETH_L3 + 12, ETH_L3 + 16, 1, L_V4DST, L_V4MIX);
	ld_abs(a, BPF_B, ETH_L3);                       /* R9 = 14 + IHL * 4 */
	alu32(a, BPF_AND, BPF_REG_0, 0x0f);
	alu32(a, BPF_LSH, BPF_REG_0, 2);
	alu32(a, BPF_ADD, BPF_REG_0, ETH_L3);
	emit(a, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, BPF_REG_0, 0, 0);
	ld_abs(a, BPF_H, ETH_L3 + 6);                   /* MF, fragment offset: no ports */
	alu32(a, BPF_AND, BPF_REG_0, 0x3fff);
	jump(a, BPF_JNE, BPF_REG_0, 0, 0, 0, L_NOPORT);
	ld_abs(a, BPF_B, ETH_L3 + 9);
	jump(a, BPF_JEQ, BPF_REG_0, 0, 0, 6, L_PORTS);     /* TCP */
	jump(a, BPF_JEQ, BPF_REG_0, 0, 0, 17, L_PORTS);    /* UDP */
	jump(a, BPF_JA, 0, 0, 0, 0, L_NOPORT);

	/* IPv6: the source address (a reply: the destination), at 8 (24) in the header. */
	label(a, L_V6);
	mix_side(a, ETH_L3 + 8, ETH_L3 + 24, 4, L_V6DST, L_V6NH);
	mov64(a, BPF_REG_9, ETH_L3 + 40);
	ld_abs(a, BPF_B, ETH_L3 + 6);                   /* the fixed header's next header */
	jump(a, BPF_JEQ, BPF_REG_0, 0, 0, 6, L_PORTS);
	jump(a, BPF_JEQ, BPF_REG_0, 0, 0, 17, L_PORTS);

	label(a, L_NOPORT);
	mov64(a, BPF_REG_0, 0);
	jump(a, BPF_JA, 0, 0, 0, 0, L_PORT);
	/* TCP, UDP: the source port (a reply: the destination), first in the header. */
	label(a, L_PORTS);
	jump(a, BPF_JNE, BPF_REG_8, 0, 0, 0, L_DPORT);
	emit(a, BPF_LD | BPF_IND | BPF_H, 0, BPF_REG_9, 0, 0);
	jump(a, BPF_JA, 0, 0, 0, 0, L_PORT);
	label(a, L_DPORT);
	emit(a, BPF_LD | BPF_IND | BPF_H, 0, BPF_REG_9, 0, 2);
	label(a, L_PORT);
	mix(a);
	/* h *= STEER_FIN; h ^= h >> 16; its low 16 bits. */
	alu32(a, BPF_MUL, BPF_REG_7, (int32_t)STEER_FIN);
	alu32x(a, BPF_MOV, BPF_REG_0, BPF_REG_7);
	alu32(a, BPF_RSH, BPF_REG_0, 16);
	alu32x(a, BPF_XOR, BPF_REG_0, BPF_REG_7);
	alu32(a, BPF_AND, BPF_REG_0, 0xffff);
	emit(a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	if (a->overflow)
		return false;
	for (unsigned i = 0; i < a->nfix; i++) {
		int to = a->at[a->fix[i].label];
		if (to < 0)
			return false;
		a->ins[a->fix[i].insn].off = (int16_t)(to - (int)a->fix[i].insn - 1);
	}
	return true;
}

int
steer_prog_load(uint32_t key, const uint8_t reply_mac[6], char *vlog, size_t loglen)
{
	static const char license[] = "GPL";
	struct steer_asm *a = malloc(sizeof(*a));
	union bpf_attr attr;
	int fd, err;

	if (a == NULL)
		return -1;
	if (!steer_build(a, key, reply_mac)) {
		free(a);
		errno = E2BIG;
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insn_cnt = a->n;
	attr.insns = (uint64_t)(uintptr_t)a->ins;
	attr.license = (uint64_t)(uintptr_t)license;
	snprintf(attr.prog_name, sizeof(attr.prog_name), "vsr_steer");
	if (vlog != NULL && loglen > 1) {
		vlog[0] = '\0';
		attr.log_level = 1;
		attr.log_buf = (uint64_t)(uintptr_t)vlog;
		attr.log_size = (uint32_t)(loglen > UINT32_MAX ? UINT32_MAX : loglen);
	}
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	err = errno;
	free(a);
	errno = err;
	return fd;
}

/* The last line of the verifier's log VLOG, for a warning. */
static const char *
steer_log_tail(char *vlog)
{
	size_t n = strlen(vlog);
	char *p;

	while (n > 0 && vlog[n - 1] == '\n')
		vlog[--n] = '\0';
	p = strrchr(vlog, '\n');
	return p != NULL ? p + 1 : vlog;
}

void
steer_set(uint32_t key, unsigned nqueues)
{
	steer_k = key;
	steer_nq = nqueues;
}

uint32_t
steer_new_key(void)
{
	uint32_t key;

	if (getrandom(&key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key))
		key = STEER_MUL ^ (uint32_t)getpid();
	return key;
}

int
steer_attach(int tap_fd, unsigned nqueues, const uint8_t our_mac[6], uint32_t key)
{
	uint8_t mac[6];
	int fd;

	steer_reply_mac(our_mac, mac);
	fd = steer_prog_load(key, mac, NULL, 0);
	if (fd < 0 && errno != EPERM) {
		/* Refused: loaded again for the verifier's reason. */
		int err = errno;
		size_t len = 1u << 16;
		char *vlog = malloc(len);
		if (vlog != NULL)
			fd = steer_prog_load(key, mac, vlog, len);
		if (fd < 0)
			log_warnx("workers: the TAP's steering program is refused: %s (%s); the "
			    "directions of a flow may reach different workers (worker_crossed), "
			    "which the daemon keeps correct", strerror(err),
			    vlog != NULL ? steer_log_tail(vlog) : "");
		free(vlog);
		if (fd < 0)
			return -1;
	} else if (fd < 0) {
		log_warn("workers: cannot load the TAP's steering program (it needs CAP_BPF or "
		    "CAP_SYS_ADMIN); the directions of a flow may reach different workers "
		    "(worker_crossed), which the daemon keeps correct");
		return -1;
	}
	if (ioctl(tap_fd, TUNSETSTEERINGEBPF, &fd) < 0) {
		log_warn("workers: cannot attach the steering program to the TAP; the directions "
		    "of a flow may reach different workers (worker_crossed), which the "
		    "daemon keeps correct");
		close(fd);
		return -1;
	}
	close(fd);      /* the device holds it */
	steer_set(key, nqueues);
	log_info("workers: both directions of each flow steered to the same one of %u queues",
	    nqueues);
	return 0;
}
