/* SPDX-License-Identifier: BSD-2-Clause */
#include "cbpf_xlate.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mapi.h"

/* Classic registers live in caller-saved eBPF registers; helper calls are
 * only made on the out-of-line slow path, which saves and restores them. */
#define RA R4
#define RX R5

/*
 * The verifier accepts a constant packet offset up to 0xffff; the load
 * instruction's own offset field is a signed 16-bit number.  Loads further
 * out (GSO skbs at tc, multi-buffer XDP frames) go through a helper.
 */
#define DIRECT_MAX_OFF 0x7fff

/* A load that missed the direct path, emitted after the main code. */
struct slow_load {
	int entry, resume;	/* labels */
	int size;		/* 1, 2 or 4 bytes */
	int dst;		/* RA or RX */
	int indirect;		/* offset in R1 instead of constant k */
	uint32_t k;
	int msh;		/* ldx 4*([k]&0xf) */
};

struct xlate {
	struct prog_buf *pb;
	const struct xlate_env *env;
	const struct cbpf_prog *prog;
	int *labels;		/* label of each classic instruction, or -1 */
	struct slow_load *slow;
	size_t nslow, slow_cap;
	int never_accepts;	/* no reachable return accepts */
	/*
	 * Linear frames only (env->linear_only), where a failed bounds check
	 * rejects the packet: the frame length every path into an instruction
	 * has proven (min over paths), so that later loads below it need no
	 * check.  known_in[pc] for each instruction, known for the current.
	 */
	uint32_t *known_in;
	uint32_t known;
	unsigned int mem_read;	/* scratch words the program reads: bit k, M[k] */
	/* In a program with loops, frames that may not be linear are read
	 * through the load helper only: one path per load instead of two, or
	 * the verifier's work would grow with the iterations times the
	 * paths through each. */
	int helper_only;
};

static int bad_insn(size_t pc, const struct cbpf_insn *i, const char *why)
{
	return err_set(-EINVAL, MAPI_BPF_FILTER_ERROR,
		       "classic BPF instruction %zu (code 0x%02x, k %u): %s",
		       pc, i->code, i->k, why);
}

static int valid_opcode(uint16_t code)
{
	switch (CBPF_CLASS(code)) {
	case CBPF_RET:
		return code == (CBPF_RET | CBPF_K) || code == (CBPF_RET | CBPF_A);
	case CBPF_LD:
		switch (code & ~0x07) {
		case CBPF_W | CBPF_ABS: case CBPF_H | CBPF_ABS: case CBPF_B | CBPF_ABS:
		case CBPF_W | CBPF_IND: case CBPF_H | CBPF_IND: case CBPF_B | CBPF_IND:
		case CBPF_W | CBPF_LEN: case CBPF_IMM: case CBPF_MEM:
			return 1;
		}
		return 0;
	case CBPF_LDX:
		switch (code & ~0x07) {
		case CBPF_W | CBPF_LEN: case CBPF_B | CBPF_MSH: case CBPF_IMM:
		case CBPF_MEM:
			return 1;
		}
		return 0;
	case CBPF_ST:
	case CBPF_STX:
		return (code & ~0x07) == 0;
	case CBPF_ALU:
		switch (CBPF_OP(code)) {
		case CBPF_NEG:
			return code == (CBPF_ALU | CBPF_NEG);
		case CBPF_ADD: case CBPF_SUB: case CBPF_MUL: case CBPF_DIV:
		case CBPF_OR: case CBPF_AND: case CBPF_LSH: case CBPF_RSH:
		case CBPF_MOD: case CBPF_XOR:
			return (code & ~(0xf0 | CBPF_X | 0x07)) == 0;
		}
		return 0;
	case CBPF_JMP:
		switch (CBPF_OP(code)) {
		case CBPF_JA:
			return code == (CBPF_JMP | CBPF_JA);
		case CBPF_JEQ: case CBPF_JGT: case CBPF_JGE: case CBPF_JSET:
			return (code & ~(0xf0 | CBPF_X | 0x07)) == 0;
		}
		return 0;
	case CBPF_MISC:
		return code == (CBPF_MISC | CBPF_TAX) || code == (CBPF_MISC | CBPF_TXA);
	}
	return 0;
}

/* The target of the jump at pc if it is a backward one, else SIZE_MAX. */
static size_t back_target(const struct cbpf_prog *prog, size_t pc)
{
	const struct cbpf_insn *i = &prog->insns[pc];
	size_t to = (size_t)((int64_t)pc + 1 + (int32_t)i->k);

	return i->code == (CBPF_JMP | CBPF_JA) && to <= pc ? to : SIZE_MAX;
}

/*
 * The loops of prog, each [its head, its last backward jump], the first
 * max of them into heads[] and ends[]; returns how many there are.
 */
static int loop_heads(const struct cbpf_prog *prog, size_t *heads, size_t *ends, int max)
{
	size_t pc, q, to;
	int n = 0, k;

	for (pc = 0; pc < prog->len; pc++) {
		if ((to = back_target(prog, pc)) == SIZE_MAX)
			continue;
		for (q = 0; q < pc && back_target(prog, q) != to; q++)
			;
		if (q == pc) {		/* a new loop */
			if (n < max)
				heads[n] = to;
			n++;
		}
		for (k = 0; k < n && k < max; k++)
			if (heads[k] == to)
				ends[k] = pc;
	}
	return n;
}

int cbpf_loops(const struct cbpf_prog *prog)
{
	size_t heads[CBPF_MAX_LOOPS], ends[CBPF_MAX_LOOPS];

	return loop_heads(prog, heads, ends, CBPF_MAX_LOOPS);
}

_Static_assert(CBPF_MAX_LOOPS == 64, "check_loops' refusal names the bound");

/*
 * Loops (backward jumps, protochain's) that mapi-bpf translates: at most
 * CBPF_MAX_LOOPS, one after the other.  Loops inside or across each other
 * cost the verifier the product of their rounds, which it does not finish:
 * libpcap never makes those.  A loop is [its head, its last backward jump].
 */
static int check_loops(const struct cbpf_prog *prog)
{
	size_t heads[CBPF_MAX_LOOPS], ends[CBPF_MAX_LOOPS], pc;
	int n = loop_heads(prog, heads, ends, CBPF_MAX_LOOPS), k, m;

	if (n > CBPF_MAX_LOOPS) {
		/* the first backward jump to a loop past the allowed ones */
		for (pc = 0; pc < prog->len; pc++) {
			size_t to = back_target(prog, pc);

			for (k = 0; to != SIZE_MAX && k < CBPF_MAX_LOOPS && heads[k] != to; k++)
				;
			if (to != SIZE_MAX && k == CBPF_MAX_LOOPS)
				return bad_insn(pc, &prog->insns[pc], "more than 64 loops");
		}
	}
	for (k = 0; k < n; k++)
		for (m = 0; m < n; m++)
			if (m != k && heads[m] > heads[k] && heads[m] <= ends[k])
				return bad_insn(ends[k], &prog->insns[ends[k]],
						"a loop inside or across another loop (libpcap "
						"does not make them)");
	return 0;
}

int cbpf_check(const struct cbpf_prog *prog)
{
	size_t pc;

	if (prog->len == 0)
		return err_set(-EINVAL, MAPI_BPF_FILTER_ERROR, "empty classic BPF program");
	for (pc = 0; pc < prog->len; pc++) {
		const struct cbpf_insn *i = &prog->insns[pc];
		uint16_t c = i->code;

		if (!valid_opcode(c))
			return bad_insn(pc, i, "unknown opcode");
		switch (CBPF_CLASS(c)) {
		case CBPF_LD:
		case CBPF_LDX:
			if (CBPF_MODE(c) == CBPF_MEM && i->k >= CBPF_MEMWORDS)
				return bad_insn(pc, i, "scratch memory index out of range");
			/* The first offsets from SKF_AD_OFF (-4096) name Linux
			 * socket filter metadata, which only a live capture socket
			 * has, and which libpcap's compiler loads absolutely.  Any
			 * other offset is one, past every frame: as libpcap's
			 * interpreter, the load fails and the packet is rejected
			 * ('ether[4294967295:4] = 1'). */
			if (CBPF_MODE(c) == CBPF_ABS && i->k >= CBPF_AD_OFF &&
			    i->k < CBPF_AD_OFF + CBPF_AD_MAX)
				return bad_insn(pc, i, "reads Linux capture metadata (the packet "
						"type, interface or VLAN tag of a live socket: "
						"'inbound', 'outbound' and 'ifindex' compile to "
						"this): a flow monitors one interface, and "
						"mapi_set_direction chooses a direction");
			break;
		case CBPF_ST:
		case CBPF_STX:
			if (i->k >= CBPF_MEMWORDS)
				return bad_insn(pc, i, "scratch memory index out of range");
			break;
		case CBPF_ALU:
			/* As libpcap's validator: the interpreter would trap. */
			if ((CBPF_OP(c) == CBPF_DIV || CBPF_OP(c) == CBPF_MOD) &&
			    CBPF_SRC(c) == CBPF_K && i->k == 0)
				return bad_insn(pc, i, "division by the constant zero");
			if ((CBPF_OP(c) == CBPF_LSH || CBPF_OP(c) == CBPF_RSH) &&
			    CBPF_SRC(c) == CBPF_K && i->k >= 32)
				return bad_insn(pc, i, "constant shift by more than 31 bits");
			break;
		case CBPF_JMP:
			if (CBPF_OP(c) == CBPF_JA) {
				/* libpcap loops with backward jumps ('protochain') */
				int64_t to = (int64_t)pc + 1 + (int32_t)i->k;

				if ((int32_t)i->k == -1)
					return bad_insn(pc, i, "jump to itself (an endless loop)");
				if (to < 0 || to >= (int64_t)prog->len)
					return bad_insn(pc, i, "jump past the end of the program");
			} else if (pc + 1 + i->jt >= prog->len || pc + 1 + i->jf >= prog->len) {
				return bad_insn(pc, i, "jump past the end of the program");
			}
			break;
		}
	}
	if (CBPF_CLASS(prog->insns[prog->len - 1].code) != CBPF_RET)
		return bad_insn(prog->len - 1, &prog->insns[prog->len - 1],
				"program does not end with a return");
	return check_loops(prog);
}

static int label_at(struct xlate *x, size_t pc)
{
	if (x->labels[pc] < 0)
		x->labels[pc] = pb_new_label(x->pb);
	return x->labels[pc];
}

static struct slow_load *add_slow(struct xlate *x)
{
	struct slow_load *s;

	if (x->nslow == x->slow_cap) {
		size_t ncap = x->slow_cap ? 2 * x->slow_cap : 16;

		s = realloc(x->slow, ncap * sizeof(*s));
		if (!s)
			return NULL;
		x->slow = s;
		x->slow_cap = ncap;
	}
	s = &x->slow[x->nslow++];
	s->entry = pb_new_label(x->pb);
	s->resume = pb_new_label(x->pb);
	return s;
}

static int bpf_size(int size)
{
	return size == 4 ? BPF_W : size == 2 ? BPF_H : BPF_B;
}

/* dst = packet bytes, network order, already in dst's low bits. */
static void to_host(struct prog_buf *pb, int dst, int size)
{
	if (size > 1)
		pb_emit(pb, BE(dst, size * 8));
}

/* X = 4 * (dst & 0xf): the IP header length idiom. */
static void msh_fixup(struct prog_buf *pb, int dst)
{
	pb_emit(pb, ALU32_IMM(BPF_AND, dst, 0xf));
	pb_emit(pb, ALU32_IMM(BPF_LSH, dst, 2));
}

/* Load of size bytes at constant offset k into dst. */
static int emit_load_abs(struct xlate *x, uint32_t k, int size, int dst, int msh)
{
	struct prog_buf *pb = x->pb;
	uint64_t end = (uint64_t)k + size;
	struct slow_load *s;

	if (x->env->linear_only && end > DIRECT_MAX_OFF) {
		/* No linear frame is that long: always rejected.  The jump is
		 * conditional (the context is never NULL) only so that what
		 * follows stays reachable for the verifier. */
		pb_jmp_imm(pb, BPF_JNE, R6, 0, x->env->reject_label);
		pb_emit(pb, MOV32_IMM(dst, 0));
		return 0;
	}
	/* A linear frame whose length an earlier check proved needs none. */
	if (x->env->linear_only && end <= x->known) {
		pb_emit(pb, LDX_MEM(bpf_size(size), dst, R7, (int16_t)k));
		to_host(pb, dst, size);
		if (msh)
			msh_fixup(pb, dst);
		return 0;
	}
	if (x->env->linear_only) {
		/* beyond data_end is beyond the end: reject at once */
		pb_emit(pb, MOV64_REG(R0, R7));
		pb_emit(pb, ALU64_IMM(BPF_ADD, R0, (int32_t)end));
		pb_jmp_reg(pb, BPF_JGT, R0, R8, x->env->reject_label);
		x->known = (uint32_t)end;	/* past here, the check held */
		pb_emit(pb, LDX_MEM(bpf_size(size), dst, R7, (int16_t)k));
		to_host(pb, dst, size);
		if (msh)
			msh_fixup(pb, dst);
		return 0;
	}
	s = add_slow(x);
	if (!s)
		return -ENOMEM;
	*s = (struct slow_load){ s->entry, s->resume, size, dst, 0, k, msh };
	if (end <= DIRECT_MAX_OFF && !x->helper_only) {
		pb_emit(pb, MOV64_REG(R0, R7));
		pb_emit(pb, ALU64_IMM(BPF_ADD, R0, (int32_t)end));
		pb_jmp_reg(pb, BPF_JGT, R0, R8, s->entry);
		pb_emit(pb, LDX_MEM(bpf_size(size), dst, R7, (int16_t)k));
		to_host(pb, dst, size);
		if (msh)
			msh_fixup(pb, dst);
	} else {
		pb_goto(pb, s->entry);
	}
	pb_bind(pb, s->resume);
	return 0;
}

/* Load of size bytes at X + k into A. */
static int emit_load_ind(struct xlate *x, uint32_t k, int size)
{
	struct prog_buf *pb = x->pb;
	struct slow_load *s;

	int miss;

	/* X + k never wraps in the interpreter: past 4 GiB is past the end.
	 * (A conditional jump, the context never being NULL, only so that what
	 * follows stays reachable for the verifier.) */
	if (k >= 0x80000000u) {
		pb_jmp_imm(pb, BPF_JNE, R6, 0, x->env->reject_label);
		pb_emit(pb, MOV32_IMM(RA, 0));
		return 0;
	}
	s = x->env->linear_only ? NULL : add_slow(x);
	if (!x->env->linear_only && !s)
		return -ENOMEM;
	if (s)
		*s = (struct slow_load){ s->entry, s->resume, size, RA, 1, k, 0 };
	pb_emit(pb, MOV32_REG(R1, RX));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R1, (int32_t)k));
	if (x->helper_only) {
		pb_goto(pb, s->entry);
		pb_bind(pb, s->resume);
		return 0;
	}
	/* on linear frames, beyond data_end is beyond the end */
	miss = s ? s->entry : x->env->reject_label;
	pb_jmp_imm(pb, BPF_JGT, R1, DIRECT_MAX_OFF - size, miss);
	pb_emit(pb, MOV64_REG(R2, R7));
	pb_emit(pb, ALU64_REG(BPF_ADD, R2, R1));
	pb_emit(pb, MOV64_REG(R0, R2));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R0, size));
	pb_jmp_reg(pb, BPF_JGT, R0, R8, miss);
	pb_emit(pb, LDX_MEM(bpf_size(size), RA, R2, 0));
	to_host(pb, RA, size);
	if (s)
		pb_bind(pb, s->resume);
	return 0;
}

/*
 * The slow path: the bytes are beyond the linear part of the packet (or
 * beyond its end).  The kernel's load helper copies them to the stack or
 * fails, and failure means the classic load was out of bounds: reject.
 */
static void emit_slow_load(struct xlate *x, const struct slow_load *s)
{
	const struct xlate_env *env = x->env;
	struct prog_buf *pb = x->pb;
	int helper = env->hook == XLATE_XDP ? BPF_FUNC_xdp_load_bytes
					    : BPF_FUNC_skb_load_bytes;

	pb_bind(pb, s->entry);
	if (env->linear_only) {
		pb_goto(pb, env->reject_label);
		return;
	}
	pb_emit(pb, STX_MEM(BPF_DW, RFP, RA, env->spill_off));
	pb_emit(pb, STX_MEM(BPF_DW, RFP, RX, env->spill_off + 8));
	if (s->indirect) {
		/* Past the frame's length is out of bounds, and so is X + k past
		 * 4 GiB (not an offset wrapped to 32 bits).  Compared with the
		 * length, which the verifier does not know, X gains no bounds
		 * here that would keep a loop's states from converging. */
		pb_emit(pb, MOV64_REG(R2, R1));
		pb_emit(pb, ALU64_IMM(BPF_ADD, R2, s->size));
		pb_emit(pb, LDX_MEM(BPF_DW, R3, RFP, env->wirelen_off));
		pb_jmp_reg(pb, BPF_JGT, R2, R3, env->reject_label);
		pb_emit(pb, MOV64_REG(R2, R1));
	} else {
		pb_emit(pb, MOV32_IMM(R2, (int32_t)s->k));
	}
	pb_emit(pb, MOV64_REG(R1, R6));
	pb_emit(pb, MOV64_REG(R3, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, env->buf_off));
	pb_emit(pb, MOV64_IMM(R4, s->size));
	pb_emit(pb, CALL_HELPER(helper));
	pb_emit(pb, LDX_MEM(BPF_DW, RA, RFP, env->spill_off));
	pb_emit(pb, LDX_MEM(BPF_DW, RX, RFP, env->spill_off + 8));
	pb_jmp_imm(pb, BPF_JNE, R0, 0, env->reject_label);
	pb_emit(pb, LDX_MEM(bpf_size(s->size), s->dst, RFP, env->buf_off));
	to_host(pb, s->dst, s->size);
	if (s->msh)
		msh_fixup(pb, s->dst);
	pb_goto(pb, s->resume);
}

static int16_t mem_off(const struct xlate *x, uint32_t k)
{
	return (int16_t)(x->env->scratch_off + 4 * (int)k);
}

static void emit_alu(struct xlate *x, const struct cbpf_insn *i)
{
	struct prog_buf *pb = x->pb;
	int op = CBPF_OP(i->code);
	int by_x = CBPF_SRC(i->code) == CBPF_X;

	switch (op) {
	case CBPF_NEG:
		pb_emit(pb, ALU32_IMM(BPF_NEG, RA, 0));
		return;
	case CBPF_DIV:
	case CBPF_MOD:
		if (by_x) {
			pb_jmp32_imm(pb, BPF_JEQ, RX, 0, x->env->reject_label);
		} else if (i->k == 0) {
			pb_goto(pb, x->env->reject_label);
			return;
		}
		break;
	case CBPF_LSH:
	case CBPF_RSH:
		/* Shifting by X >= 32: eBPF leaves it undefined, libpcap gives 0
		 * (or, in builds where C's undefined shift reached the machine,
		 * shifts by X mod 32): do what the linked one does. */
		if (!by_x) {	/* cbpf_check() refused constants >= 32 */
			pb_emit(pb, ALU32_IMM(op, RA, (int32_t)i->k));
		} else if (x->env->shift_mod32) {
			pb_emit(pb, MOV32_REG(R0, RX));
			pb_emit(pb, ALU32_IMM(BPF_AND, R0, 31));
			pb_emit(pb, ALU32_REG(op, RA, R0));
		} else {
			int ok = pb_new_label(pb), done = pb_new_label(pb);

			pb_jmp32_imm(pb, BPF_JLT, RX, 32, ok);
			pb_emit(pb, MOV32_IMM(RA, 0));
			pb_goto(pb, done);
			pb_bind(pb, ok);
			pb_emit(pb, ALU32_REG(op, RA, RX));
			pb_bind(pb, done);
		}
		return;
	}
	if (by_x)
		pb_emit(pb, ALU32_REG(op, RA, RX));
	else
		pb_emit(pb, ALU32_IMM(op, RA, (int32_t)i->k));
}

static void emit_jmp(struct xlate *x, size_t pc, const struct cbpf_insn *i)
{
	struct prog_buf *pb = x->pb;
	int op, jt, jf;

	if (CBPF_OP(i->code) == CBPF_JA) {
		size_t to = (size_t)((int64_t)pc + 1 + (int32_t)i->k);

		if (to <= pc) {
			/* A loop: as libpcap's interpreter, give up (reject) after
			 * CBPF_MAX_BACKWARD_JUMPS backward jumps, counted over the
			 * packet (all loops together).  The verifier does not know
			 * the count (it starts from a zero it cannot see: below),
			 * and the may_goto lets it check the loop by its states
			 * converging, in a few rounds: a count it knew would have
			 * it follow every round, each way the header chain may go,
			 * and pass its million instructions on a protochain.  The
			 * kernel's own bound on may_goto (millions of rounds) is
			 * never what ends the loop. */
			int16_t off = x->env->loop_off;
			int k;

			pb_emit(pb, LDX_MEM(BPF_DW, R0, RFP, off));
			pb_jmp_imm(pb, BPF_JGE, R0, CBPF_MAX_BACKWARD_JUMPS, x->env->reject_label);
			pb_emit(pb, ALU64_IMM(BPF_ADD, R0, 1));
			pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, off));
			pb_may_goto(pb, x->env->reject_label);
			/* The states converge only if what the loop computes is
			 * unknown to the verifier too: A, X and the scratch words
			 * go round XORed with the hidden zero, the same values to
			 * the packet, values the verifier no longer knows (a loop
			 * adding a constant to A would otherwise be a new state at
			 * every round, for ever: fuzz_cbpf found one). */
			pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, (int16_t)(off + 8)));
			pb_emit(pb, ALU32_REG(BPF_XOR, RA, R1));
			pb_emit(pb, ALU32_REG(BPF_XOR, RX, R1));
			for (k = 0; k < CBPF_MEMWORDS; k++) {
				if (!(x->mem_read & (1u << k)))
					continue;
				pb_emit(pb, LDX_MEM(BPF_W, R0, RFP, mem_off(x, (uint32_t)k)));
				pb_emit(pb, ALU32_REG(BPF_XOR, R0, R1));
				pb_emit(pb, STX_MEM(BPF_W, RFP, R0, mem_off(x, (uint32_t)k)));
			}
		}
		pb_goto(pb, label_at(x, to));
		return;
	}
	switch (CBPF_OP(i->code)) {
	case CBPF_JEQ: op = BPF_JEQ; break;
	case CBPF_JGT: op = BPF_JGT; break;
	case CBPF_JGE: op = BPF_JGE; break;
	default: op = BPF_JSET; break;
	}
	jt = label_at(x, pc + 1 + i->jt);
	jf = label_at(x, pc + 1 + i->jf);
	if (i->jt == i->jf) {
		pb_goto(pb, jt);
		return;
	}
	/* Falling through to the next instruction when the test holds: test
	 * the opposite instead (there is no opposite of jset). */
	if (i->jt == 0 && op != BPF_JSET) {
		op = op == BPF_JEQ ? BPF_JNE : op == BPF_JGT ? BPF_JLE : BPF_JLT;
		jt = jf;
		jf = -1;
	}
	if (CBPF_SRC(i->code) == CBPF_X)
		pb_jmp32_reg(pb, op, RA, RX, jt);
	else
		pb_jmp32_imm(pb, op, RA, (int32_t)i->k, jt);
	if (jf >= 0 && i->jf != 0)
		pb_goto(pb, jf);
}

static int emit_insn(struct xlate *x, size_t pc, const struct cbpf_insn *i)
{
	const struct xlate_env *env = x->env;
	struct prog_buf *pb = x->pb;
	uint16_t c = i->code;
	int size;

	switch (CBPF_CLASS(c)) {
	case CBPF_RET:
		if (CBPF_RVAL(c) == CBPF_A) {
			pb_jmp32_imm(pb, BPF_JEQ, RA, 0, env->reject_label);
		} else if (i->k == 0) {
			pb_goto(pb, env->reject_label);
			return 0;
		}
		pb_goto(pb, x->labels[x->prog->len]);
		return 0;
	case CBPF_LD:
		size = CBPF_SIZE(c) == CBPF_W ? 4 : CBPF_SIZE(c) == CBPF_H ? 2 : 1;
		switch (CBPF_MODE(c)) {
		case CBPF_ABS:
			return emit_load_abs(x, i->k, size, RA, 0);
		case CBPF_IND:
			return emit_load_ind(x, i->k, size);
		case CBPF_LEN:
			pb_emit(pb, LDX_MEM(BPF_DW, RA, RFP, env->wirelen_off));
			pb_emit(pb, MOV32_REG(RA, RA));
			return 0;
		case CBPF_IMM:
			pb_emit(pb, MOV32_IMM(RA, (int32_t)i->k));
			return 0;
		default: /* CBPF_MEM */
			pb_emit(pb, LDX_MEM(BPF_W, RA, RFP, mem_off(x, i->k)));
			return 0;
		}
	case CBPF_LDX:
		switch (CBPF_MODE(c)) {
		case CBPF_MSH:
			return emit_load_abs(x, i->k, 1, RX, 1);
		case CBPF_LEN:
			pb_emit(pb, LDX_MEM(BPF_DW, RX, RFP, env->wirelen_off));
			pb_emit(pb, MOV32_REG(RX, RX));
			return 0;
		case CBPF_IMM:
			pb_emit(pb, MOV32_IMM(RX, (int32_t)i->k));
			return 0;
		default: /* CBPF_MEM */
			pb_emit(pb, LDX_MEM(BPF_W, RX, RFP, mem_off(x, i->k)));
			return 0;
		}
	case CBPF_ST:
		pb_emit(pb, STX_MEM(BPF_W, RFP, RA, mem_off(x, i->k)));
		return 0;
	case CBPF_STX:
		pb_emit(pb, STX_MEM(BPF_W, RFP, RX, mem_off(x, i->k)));
		return 0;
	case CBPF_ALU:
		emit_alu(x, i);
		return 0;
	case CBPF_JMP:
		emit_jmp(x, pc, i);
		return 0;
	default: /* CBPF_MISC */
		if (CBPF_MISCOP(c) == CBPF_TAX)
			pb_emit(pb, MOV32_REG(RX, RA));
		else
			pb_emit(pb, MOV32_REG(RA, RX));
		return 0;
	}
}

/*
 * Marks the instructions some path from the first one reaches: the verifier
 * refuses unreachable code, and classic programs may hold some.  Returns
 * whether a reachable return can accept.
 */
static size_t ja_target(size_t pc, const struct cbpf_insn *i)
{
	return (size_t)((int64_t)pc + 1 + (int32_t)i->k);
}

static int mark_reachable(const struct cbpf_prog *prog, uint8_t *live, int *loops)
{
	int accepts = 0, changed = 1;
	size_t pc;

	memset(live, 0, prog->len);
	live[0] = 1;
	*loops = 0;
	/* forward jumps settle in one pass; a loop may need another */
	while (changed) {
		changed = 0;
		for (pc = 0; pc < prog->len; pc++) {
			const struct cbpf_insn *i = &prog->insns[pc];
			size_t succ[2];
			int n = 0, j;

			if (!live[pc])
				continue;
			switch (CBPF_CLASS(i->code)) {
			case CBPF_RET:
				accepts |= CBPF_RVAL(i->code) == CBPF_A || i->k != 0;
				break;
			case CBPF_JMP:
				if (CBPF_OP(i->code) == CBPF_JA) {
					succ[n++] = ja_target(pc, i);
					*loops |= succ[0] <= pc;
				} else {
					succ[n++] = pc + 1 + i->jt;
					succ[n++] = pc + 1 + i->jf;
				}
				break;
			default:
				succ[n++] = pc + 1;
			}
			for (j = 0; j < n; j++) {
				changed |= !live[succ[j]] && succ[j] < pc;
				live[succ[j]] = 1;
			}
		}
	}
	return accepts;
}

static void meet(struct xlate *x, size_t to)
{
	if (x->known < x->known_in[to])
		x->known_in[to] = x->known;
}

/* Passes what instruction pc proved on to the instructions it leads to. */
static void propagate_known(struct xlate *x, size_t pc)
{
	const struct cbpf_insn *i = &x->prog->insns[pc];

	switch (CBPF_CLASS(i->code)) {
	case CBPF_RET:
		break;
	case CBPF_JMP:
		if (CBPF_OP(i->code) == CBPF_JA) {
			meet(x, ja_target(pc, i));
		} else {
			meet(x, pc + 1 + i->jt);
			meet(x, pc + 1 + i->jf);
		}
		break;
	default:
		meet(x, pc + 1);
	}
}

int cbpf_translate(struct prog_buf *pb, const struct cbpf_prog *prog,
		   const struct xlate_env *env)
{
	struct xlate x = { .pb = pb, .env = env, .prog = prog };
	uint8_t *live;
	size_t pc;
	int ret, loops;

	ret = cbpf_check(prog);
	if (ret)
		return ret;
	/* labels[len] is where an accepting return goes: past the filter. */
	x.labels = malloc((prog->len + 1) * sizeof(*x.labels));
	live = malloc(prog->len);
	if (!x.labels || !live) {
		free(x.labels);
		free(live);
		return -ENOMEM;
	}
	for (pc = 0; pc <= prog->len; pc++)
		x.labels[pc] = -1;
	x.labels[prog->len] = pb_new_label(pb);
	x.never_accepts = !mark_reachable(prog, live, &loops);
	/* A loop's target is bound before the jump to it is emitted. */
	for (pc = 0; pc < prog->len && !ret; pc++) {
		const struct cbpf_insn *i = &prog->insns[pc];
		size_t to = ja_target(pc, i);

		if (!live[pc] || i->code != (CBPF_JMP | CBPF_JA) || to > pc)
			continue;
		label_at(&x, to);
	}
	x.helper_only = loops && !env->linear_only;
	x.known_in = malloc((prog->len + 1) * sizeof(*x.known_in));
	if (!x.known_in) {
		free(x.labels);
		free(live);
		return -ENOMEM;
	}
	/* With a loop, what a path proved may not hold when it comes round
	 * again: no checks are skipped then. */
	for (pc = 0; pc <= prog->len; pc++)
		x.known_in[pc] = loops ? 0 : UINT32_MAX;	/* no path seen yet */
	x.known_in[0] = 0;

	/* The interpreter starts with A = X = 0 and zeroed scratch memory. */
	for (pc = 0; pc < prog->len; pc++) {
		uint16_t c = prog->insns[pc].code;

		if (live[pc] && (CBPF_CLASS(c) == CBPF_LD || CBPF_CLASS(c) == CBPF_LDX) &&
		    CBPF_MODE(c) == CBPF_MEM)
			x.mem_read |= 1u << prog->insns[pc].k;
	}
	for (pc = 0; pc < CBPF_MEMWORDS; pc++)
		if (x.mem_read & (1u << pc))
			pb_emit(pb, ST_MEM(BPF_W, RFP, mem_off(&x, (uint32_t)pc), 0));
	pb_emit(pb, MOV64_IMM(RA, 0));
	pb_emit(pb, MOV64_IMM(RX, 0));
	/* If nothing accepts, what follows the filter would be unreachable,
	 * which the verifier refuses: give it an edge the verifier sees but
	 * no packet takes (the context is never NULL). */
	if (x.never_accepts)
		pb_jmp_imm(pb, BPF_JEQ, R6, 0, x.labels[prog->len]);
	if (loops) {
		/* The count of backward jumps starts at the frame's length
		 * minus itself: zero, by arithmetic the verifier does not
		 * follow (were it to learn it, the loops would be followed
		 * round by round again: tests/data/filters.txt's protochains
		 * would pass its million instructions, and make check says so). */
		pb_emit(pb, LDX_MEM(BPF_DW, R0, RFP, env->wirelen_off));
		pb_emit(pb, MOV64_REG(R1, R0));
		pb_emit(pb, ALU64_REG(BPF_SUB, R0, R1));
		pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, env->loop_off));
		pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, (int16_t)(env->loop_off + 8)));
	}

	for (pc = 0; pc < prog->len && !ret; pc++) {
		if (!live[pc])
			continue;
		if (x.labels[pc] >= 0)
			pb_bind(pb, x.labels[pc]);
		x.known = x.known_in[pc];
		ret = emit_insn(&x, pc, &prog->insns[pc]);
		propagate_known(&x, pc);
	}
	if (!ret) {
		for (pc = 0; pc < x.nslow; pc++)
			emit_slow_load(&x, &x.slow[pc]);
		pb_bind(pb, x.labels[prog->len]);
		ret = pb->err;
	}
	free(live);
	free(x.known_in);
	free(x.labels);
	free(x.slow);
	return ret;
}
