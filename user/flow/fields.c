/* SPDX-License-Identifier: BSD-2-Clause */
#include "fields.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"
#include "error.h"
#include "field_key.h"
#include "mapi.h"

enum { NONE = -1 };

/* Where a field lies: in IPv4, in IPv6 (NONE: not there), or in the
 * transport header; its size and how its value is cut out of the load. */
static const struct field_def {
	const char *name;
	int proto;
	int off4, off6;		/* from the IP header */
	int size;		/* 1, 2, 4 (an address: its first word) */
	uint32_t mask;		/* value = load & mask (0: all of it) */
	int add6;		/* IPv6 adds this (its LENGTH: the header's 40) */
} defs[] = {
	[MAPI_TOPX_IP_TOS] = { "TOPX_IP_TOS", MAPI_TOPX_IP, 1, 0, 1, 0, 0 },
	[MAPI_TOPX_IP_LENGTH] = { "TOPX_IP_LENGTH", MAPI_TOPX_IP, 2, 4, 2, 0, 40 },
	[MAPI_TOPX_IP_ID] = { "TOPX_IP_ID", MAPI_TOPX_IP, 4, NONE, 2, 0, 0 },
	[MAPI_TOPX_IP_OFFSET] = { "TOPX_IP_OFFSET", MAPI_TOPX_IP, 6, NONE, 2, 0x1fff, 0 },
	[MAPI_TOPX_IP_TTL] = { "TOPX_IP_TTL", MAPI_TOPX_IP, 8, 7, 1, 0, 0 },
	[MAPI_TOPX_IP_PROTOCOL] = { "TOPX_IP_PROTOCOL", MAPI_TOPX_IP, 9, 6, 1, 0, 0 },
	[MAPI_TOPX_IP_CHECKSUM] = { "TOPX_IP_CHECKSUM", MAPI_TOPX_IP, 10, NONE, 2, 0, 0 },
	[MAPI_TOPX_IP_SRCIP] = { "TOPX_IP_SRCIP", MAPI_TOPX_IP, 12, 8, 4, 0, 0 },
	[MAPI_TOPX_IP_DSTIP] = { "TOPX_IP_DSTIP", MAPI_TOPX_IP, 16, 24, 4, 0, 0 },
	[MAPI_TOPX_TCP_SRCPORT] = { "TOPX_TCP_SRCPORT", MAPI_TOPX_TCP, 0, 0, 2, 0, 0 },
	[MAPI_TOPX_TCP_DSTPORT] = { "TOPX_TCP_DSTPORT", MAPI_TOPX_TCP, 2, 2, 2, 0, 0 },
	[MAPI_TOPX_TCP_SEQ] = { "TOPX_TCP_SEQ", MAPI_TOPX_TCP, 4, 4, 4, 0, 0 },
	[MAPI_TOPX_TCP_ACK] = { "TOPX_TCP_ACK", MAPI_TOPX_TCP, 8, 8, 4, 0, 0 },
	[MAPI_TOPX_TCP_FLAGS] = { "TOPX_TCP_FLAGS", MAPI_TOPX_TCP, 13, 13, 1, 0, 0 },
	[MAPI_TOPX_TCP_WIN] = { "TOPX_TCP_WIN", MAPI_TOPX_TCP, 14, 14, 2, 0, 0 },
	[MAPI_TOPX_TCP_CRC] = { "TOPX_TCP_CRC", MAPI_TOPX_TCP, 16, 16, 2, 0, 0 },
	[MAPI_TOPX_TCP_URGENT] = { "TOPX_TCP_URGENT", MAPI_TOPX_TCP, 18, 18, 2, 0, 0 },
	[MAPI_TOPX_UDP_SRCPORT] = { "TOPX_UDP_SRCPORT", MAPI_TOPX_UDP, 0, 0, 2, 0, 0 },
	[MAPI_TOPX_UDP_DSTPORT] = { "TOPX_UDP_DSTPORT", MAPI_TOPX_UDP, 2, 2, 2, 0, 0 },
	[MAPI_TOPX_UDP_LENGTH] = { "TOPX_UDP_LENGTH", MAPI_TOPX_UDP, 4, 4, 2, 0, 0 },
	[MAPI_TOPX_UDP_CHECKSUM] = { "TOPX_UDP_CHECKSUM", MAPI_TOPX_UDP, 6, 6, 2, 0, 0 },
};

#define NDEFS ((int)(sizeof(defs) / sizeof(defs[0])))

static const char *const proto_names[] = {
	[MAPI_TOPX_IP] = "TOPX_IP", [MAPI_TOPX_TCP] = "TOPX_TCP",
	[MAPI_TOPX_UDP] = "TOPX_UDP", [MAPI_TOPX_ICMP] = "TOPX_ICMP",
};

const char *field_name(int field)
{
	return field > 0 && field < NDEFS ? defs[field].name : "?";
}

int field_is_address(int field)
{
	return field == MAPI_TOPX_IP_SRCIP || field == MAPI_TOPX_IP_DSTIP;
}

int field_check(int proto, int field, int argn_proto, int argn_field)
{
	if (proto < MAPI_TOPX_IP || proto > MAPI_TOPX_ICMP)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + argn_proto,
			       "protocol %d: TOPX_IP (%d), TOPX_TCP (%d), TOPX_UDP (%d) or "
			       "TOPX_ICMP (%d)", proto, MAPI_TOPX_IP, MAPI_TOPX_TCP,
			       MAPI_TOPX_UDP, MAPI_TOPX_ICMP);
	if (field < 1 || field >= NDEFS)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + argn_field,
			       "field %d: one of TOPX_IP_TOS (%d) to TOPX_UDP_CHECKSUM (%d)",
			       field, 1, NDEFS - 1);
	if (defs[field].proto != proto)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + argn_field,
			       "field %s is not a field of %s%s", defs[field].name,
			       proto_names[proto],
			       proto == MAPI_TOPX_ICMP ? " (ICMP has no fields here)" : "");
	return 0;
}

int field_emit(struct codegen *cg, const struct cbpf_prog *prog, int skip)
{
	struct xlate_env env;

	cg_xlate_env(cg, &env);
	env.reject_label = skip;
	return cbpf_translate(&cg->pb, prog, &env);
}

void field_value_of(const struct field_key *k, const struct field_spec *fs,
		    struct mapi_field_value *v)
{
	int w;

	memset(v, 0, sizeof(*v));
	v->family = k->kind == FIELD_KIND_NUMBER ? 0 : k->kind;
	if (!v->family)
		v->number = k->value[0];
	else
		v->prefix = (unsigned int)(v->family == 4 ? fs->prefix4 : fs->prefix6);
	for (w = 0; v->family && w < (v->family == 4 ? 1 : 4); w++) {
		v->addr[4 * w] = (uint8_t)(k->value[w] >> 24);
		v->addr[4 * w + 1] = (uint8_t)(k->value[w] >> 16);
		v->addr[4 * w + 2] = (uint8_t)(k->value[w] >> 8);
		v->addr[4 * w + 3] = (uint8_t)k->value[w];
	}
}

/* --- building the classic program ---------------------------------------- */

#define MAX_INSNS 192

enum { L_TAG1, L_TAG2, L_IP, L_V4, L_V6, L_HASH4, L_HASH6, L_NONE, L_COUNT };
#define MAX_LABELS L_COUNT

struct builder {
	uint32_t base;		/* the key goes to M[base..base + 4] */
	struct cbpf_insn insns[MAX_INSNS];
	size_t len;
	int label_pos[MAX_LABELS];
	struct { size_t at; int jt, jf; } jumps[MAX_INSNS];	/* labels, -1 none */
	int full;		/* a program longer than MAX_INSNS: a bug */
	size_t njumps;
};

static void emit(struct builder *b, uint16_t code, uint32_t k)
{
	if (b->len == MAX_INSNS) {
		b->full = 1;
		return;
	}
	b->insns[b->len++] = (struct cbpf_insn){ code, 0, 0, k };
}

/* A conditional jump to label jt when it holds, else to jf (-1: the next
 * instruction). */
static void jump(struct builder *b, uint16_t code, uint32_t k, int jt, int jf)
{
	if (b->len == MAX_INSNS) {
		b->full = 1;
		return;
	}
	b->jumps[b->njumps].at = b->len;
	b->jumps[b->njumps].jt = jt;
	b->jumps[b->njumps++].jf = jf;
	emit(b, (uint16_t)(CBPF_JMP | code | CBPF_K), k);
}

static void place(struct builder *b, int label)
{
	b->label_pos[label] = (int)b->len;
}

static uint32_t prefix_mask(int bits)
{
	return bits >= 32 ? 0xffffffffu : bits <= 0 ? 0 : ~0u << (32 - bits);
}

static uint16_t ld_ind(int size)
{
	return (uint16_t)(CBPF_LD | CBPF_IND | (size == 4 ? CBPF_W : size == 2 ? CBPF_H : CBPF_B));
}

/* Stores the key of A (a number) and accepts. */
static void store_number(struct builder *b)
{
	int w;

	emit(b, CBPF_ST, b->base + 1);
	emit(b, CBPF_LD | CBPF_IMM, FIELD_KIND_NUMBER);
	emit(b, CBPF_ST, b->base);
	for (w = 2; w < 5; w++)
		emit(b, CBPF_ST, b->base + (uint32_t)w);
	emit(b, CBPF_RET | CBPF_K, 1);
}

/* The field of an IP header at X + 14 (v6: IPv6). */
static void field_of(struct builder *b, const struct field_spec *fs, int v6)
{
	const struct field_def *d = &defs[fs->field];
	int off = v6 ? d->off6 : d->off4, w;

	if (off == NONE) {
		emit(b, CBPF_RET | CBPF_K, 0);
		return;
	}
	if (d->proto != MAPI_TOPX_IP) {
		/* the transport header: the right protocol, not a later fragment */
		jump(b, CBPF_JEQ, d->proto == MAPI_TOPX_TCP ? 6 : 17, -1, L_NONE);
		if (v6) {
			off += 40;
		} else {
			emit(b, ld_ind(2), 14 + 6);
			jump(b, CBPF_JSET, 0x1fff, L_NONE, -1);
			emit(b, ld_ind(1), 14);		/* X += the IPv4 header's length */
			emit(b, CBPF_ALU | CBPF_AND | CBPF_K, 0xf);
			emit(b, CBPF_ALU | CBPF_LSH | CBPF_K, 2);
			emit(b, CBPF_ALU | CBPF_ADD | CBPF_X, 0);
			emit(b, CBPF_MISC | CBPF_TAX, 0);
		}
	}
	if (field_is_address(fs->field)) {
		int words = v6 ? 4 : 1, bits = v6 ? fs->prefix6 : fs->prefix4;

		for (w = 0; w < 4; w++) {
			if (w < words) {
				emit(b, ld_ind(4), (uint32_t)(14 + off + 4 * w));
				emit(b, CBPF_ALU | CBPF_AND | CBPF_K, prefix_mask(bits - 32 * w));
			} else {
				emit(b, CBPF_LD | CBPF_IMM, 0);
			}
			emit(b, CBPF_ST, b->base + (uint32_t)(1 + w));
		}
		emit(b, CBPF_LD | CBPF_IMM, v6 ? FIELD_KIND_IPV6 : FIELD_KIND_IPV4);
		emit(b, CBPF_ST, b->base);
		emit(b, CBPF_RET | CBPF_K, 1);
		return;
	}
	if (v6 && fs->field == MAPI_TOPX_IP_TOS) {
		/* the traffic class: 4 bits into the first 16 */
		emit(b, ld_ind(2), 14);
		emit(b, CBPF_ALU | CBPF_RSH | CBPF_K, 4);
		emit(b, CBPF_ALU | CBPF_AND | CBPF_K, 0xff);
	} else {
		emit(b, ld_ind(d->size), (uint32_t)(14 + off));
	}
	if (d->mask)
		emit(b, CBPF_ALU | CBPF_AND | CBPF_K, d->mask);
	if (v6 && d->add6)
		emit(b, CBPF_ALU | CBPF_ADD | CBPF_K, (uint32_t)d->add6);
	store_number(b);
}

/* A = the EtherType past up to two VLAN tags, X = the tags' bytes; then
 * to L_V4 or L_V6, or L_NONE for any other. */
static void emit_l2(struct builder *b)
{
	static const uint32_t tags[] = { 0x8100, 0x88a8, 0x9100 };
	int t;

	emit(b, CBPF_LD | CBPF_ABS | CBPF_H, 12);
	emit(b, CBPF_LDX | CBPF_IMM, 0);
	for (t = 0; t < 3; t++)
		jump(b, CBPF_JEQ, tags[t], L_TAG1, -1);
	jump(b, CBPF_JA, 0, L_IP, L_IP);
	place(b, L_TAG1);
	emit(b, CBPF_LD | CBPF_ABS | CBPF_H, 16);
	emit(b, CBPF_LDX | CBPF_IMM, 4);
	for (t = 0; t < 3; t++)
		jump(b, CBPF_JEQ, tags[t], L_TAG2, -1);
	jump(b, CBPF_JA, 0, L_IP, L_IP);
	place(b, L_TAG2);
	emit(b, CBPF_LD | CBPF_ABS | CBPF_H, 20);
	emit(b, CBPF_LDX | CBPF_IMM, 8);
	place(b, L_IP);
	jump(b, CBPF_JEQ, 0x0800, L_V4, -1);
	jump(b, CBPF_JEQ, 0x86dd, L_V6, L_NONE);
}

/* Resolves the jumps (forward offsets: JA's k, a conditional's jt and jf)
 * and hands the program over; frees b. */
static int finish(struct builder *b, struct cbpf_prog *prog)
{
	size_t i;
	int ret = 0;

	if (b->full) {
		free(b);
		return -E2BIG;
	}
	for (i = 0; i < b->njumps; i++) {
		struct cbpf_insn *in = &b->insns[b->jumps[i].at];
		int next = (int)b->jumps[i].at + 1;
		int jt = b->jumps[i].jt < 0 ? next : b->label_pos[b->jumps[i].jt];
		int jf = b->jumps[i].jf < 0 ? next : b->label_pos[b->jumps[i].jf];

		if (CBPF_OP(in->code) == CBPF_JA) {
			in->code = CBPF_JMP | CBPF_JA;
			in->k = (uint32_t)(jt - next);
		} else {
			in->jt = (uint8_t)(jt - next);
			in->jf = (uint8_t)(jf - next);
		}
	}
	prog->insns = malloc(b->len * sizeof(*prog->insns));
	if (!prog->insns)
		ret = -ENOMEM;
	else
		memcpy(prog->insns, b->insns, b->len * sizeof(*prog->insns));
	prog->len = b->len;
	free(b);
	return ret;
}

int field_program(const struct field_spec *fs, uint32_t base, struct cbpf_prog *prog)
{
	struct builder *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->base = base;
	emit_l2(b);
	place(b, L_V4);
	if (defs[fs->field].proto != MAPI_TOPX_IP)
		emit(b, ld_ind(1), 14 + 9);	/* the protocol */
	field_of(b, fs, 0);
	place(b, L_V6);
	if (defs[fs->field].proto != MAPI_TOPX_IP)
		emit(b, ld_ind(1), 14 + 6);	/* the next header */
	field_of(b, fs, 1);
	place(b, L_NONE);
	emit(b, CBPF_RET | CBPF_K, 0);
	return finish(b, prog);
}

/* --- a conversation's hash ------------------------------------------------ */

/* Scratch words of the conversation program (fields.h's CONV_M_*). */
enum { C_PROTO = CONV_M_PROTO, C_SPORT = CONV_M_SPORT, C_DPORT = CONV_M_DPORT,
       C_SRC = CONV_M_SRC, C_DST = CONV_M_DST, C_E = CONV_M_HASH };

/* A = A * K1 ^ M[w]: X is free once every packet byte is loaded. */
static void fold(struct builder *b, uint32_t w)
{
	emit(b, CBPF_ALU | CBPF_MUL | CBPF_K, CONV_K1);
	emit(b, CBPF_LDX | CBPF_MEM, w);
	emit(b, CBPF_ALU | CBPF_XOR | CBPF_X, 0);
}

/* A = an endpoint's value: its address words folded, its port, mixed. */
static void endpoint(struct builder *b, uint32_t addr, int words, uint32_t port)
{
	int w;

	emit(b, CBPF_LD | CBPF_MEM, addr);
	for (w = 1; w < words; w++)
		fold(b, addr + (uint32_t)w);
	fold(b, port);
	emit(b, CBPF_ALU | CBPF_MUL | CBPF_K, CONV_K2);
}

int conv_sample_program(uint32_t range, int record, struct cbpf_prog *prog)
{
	struct builder *b = calloc(1, sizeof(*b));
	int v6, w;

	if (!b)
		return -ENOMEM;
	emit_l2(b);
	for (v6 = 0; v6 < 2; v6++) {
		int l3 = 14, words = v6 ? 4 : 1;

		place(b, v6 ? L_V6 : L_V4);
		emit(b, ld_ind(1), (uint32_t)(l3 + (v6 ? 6 : 9)));	/* TCP or UDP only */
		jump(b, CBPF_JEQ, 6, v6 ? L_HASH6 : L_HASH4, -1);
		jump(b, CBPF_JEQ, 17, v6 ? L_HASH6 : L_HASH4, L_NONE);
		place(b, v6 ? L_HASH6 : L_HASH4);
		emit(b, CBPF_ST, C_PROTO);
		if (!v6) {	/* not a later fragment: it has ports */
			emit(b, ld_ind(2), 14 + 6);
			jump(b, CBPF_JSET, 0x1fff, L_NONE, -1);
		}
		for (w = 0; w < words; w++) {
			emit(b, ld_ind(4), (uint32_t)(l3 + (v6 ? 8 : 12) + 4 * w));
			emit(b, CBPF_ST, (uint32_t)(C_SRC + w));
			emit(b, ld_ind(4), (uint32_t)(l3 + (v6 ? 24 : 16) + 4 * w));
			emit(b, CBPF_ST, (uint32_t)(C_DST + w));
		}
		if (v6) {
			l3 += 40;
		} else {	/* X += the IPv4 header's length */
			emit(b, ld_ind(1), 14);
			emit(b, CBPF_ALU | CBPF_AND | CBPF_K, 0xf);
			emit(b, CBPF_ALU | CBPF_LSH | CBPF_K, 2);
			emit(b, CBPF_ALU | CBPF_ADD | CBPF_X, 0);
			emit(b, CBPF_MISC | CBPF_TAX, 0);
		}
		emit(b, ld_ind(2), (uint32_t)l3);
		emit(b, CBPF_ST, C_SPORT);
		emit(b, ld_ind(2), (uint32_t)l3 + 2);
		emit(b, CBPF_ST, C_DPORT);
		if (record) {
			/* IPv4's other address words 0; the offset of the TCP or
			 * UDP header, and the family, for the record */
			for (w = words; w < 4; w++) {
				emit(b, CBPF_LD | CBPF_IMM, 0);
				emit(b, CBPF_ST, (uint32_t)(C_SRC + w));
				emit(b, CBPF_ST, (uint32_t)(C_DST + w));
			}
			emit(b, CBPF_MISC | CBPF_TXA, 0);
			emit(b, CBPF_ALU | CBPF_ADD | CBPF_K, (uint32_t)l3);
			emit(b, CBPF_ALU | CBPF_OR | CBPF_K, (v6 ? 6u : 4u) << 16);
			emit(b, CBPF_ST, CONV_M_L4);
		}
		/* the sum of the endpoints' values: the same both ways */
		endpoint(b, C_SRC, words, C_SPORT);
		emit(b, CBPF_ST, C_E);
		endpoint(b, C_DST, words, C_DPORT);
		emit(b, CBPF_LDX | CBPF_MEM, C_E);
		emit(b, CBPF_ALU | CBPF_ADD | CBPF_X, 0);
		emit(b, CBPF_LDX | CBPF_MEM, C_PROTO);
		emit(b, CBPF_ALU | CBPF_XOR | CBPF_X, 0);
		emit(b, CBPF_ALU | CBPF_MUL | CBPF_K, CONV_K3);
		emit(b, CBPF_ALU | CBPF_RSH | CBPF_K, 32 - CONV_HASH_BITS);
		jump(b, CBPF_JGE, range, L_NONE, -1);
		emit(b, CBPF_RET | CBPF_K, 1);
	}
	place(b, L_NONE);
	emit(b, CBPF_RET | CBPF_K, 0);
	return finish(b, prog);
}
