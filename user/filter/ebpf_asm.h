/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small eBPF assembler: instruction constructors and a growing program
 * buffer with forward and backward labels.  Everything libmapi-bpf loads
 * into the kernel is written with it, in process, at mapi_connect() time.
 */
#ifndef MAPI_EBPF_ASM_H
#define MAPI_EBPF_ASM_H

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };
#define RFP R10

static inline struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src,
				   int16_t off, int32_t imm)
{
	struct bpf_insn i = {
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm,
	};
	return i;
}

/* 64-bit and 32-bit ALU, register and immediate sources. */
#define ALU64_REG(op, d, s) insn(BPF_ALU64 | BPF_OP(op) | BPF_X, d, s, 0, 0)
#define ALU64_IMM(op, d, k) insn(BPF_ALU64 | BPF_OP(op) | BPF_K, d, 0, 0, k)
#define ALU32_REG(op, d, s) insn(BPF_ALU | BPF_OP(op) | BPF_X, d, s, 0, 0)
#define ALU32_IMM(op, d, k) insn(BPF_ALU | BPF_OP(op) | BPF_K, d, 0, 0, k)
#define MOV64_REG(d, s) ALU64_REG(BPF_MOV, d, s)
#define MOV64_IMM(d, k) ALU64_IMM(BPF_MOV, d, k)
#define MOV32_REG(d, s) ALU32_REG(BPF_MOV, d, s)
#define MOV32_IMM(d, k) ALU32_IMM(BPF_MOV, d, k)
/* Byte swap to big endian (network order) of the low 16/32 bits. */
#define BE(d, bits) insn(BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, bits)

/* Memory: size is BPF_B, BPF_H, BPF_W or BPF_DW. */
#define LDX_MEM(size, d, s, off) insn(BPF_LDX | BPF_SIZE(size) | BPF_MEM, d, s, off, 0)
#define STX_MEM(size, d, s, off) insn(BPF_STX | BPF_SIZE(size) | BPF_MEM, d, s, off, 0)
#define ST_MEM(size, d, off, k) insn(BPF_ST | BPF_SIZE(size) | BPF_MEM, d, 0, off, k)

/* may_goto's opcode and kind (uapi since Linux 6.9; older headers lack them) */
#define EBPF_JCOND 0xe0
#define EBPF_MAY_GOTO 0

#define CALL_HELPER(id) insn(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define EXIT_INSN() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct prog_buf {
	struct bpf_insn *insns;
	size_t len, cap;
	int *label_pos;		/* instruction index of each label, -1 unbound */
	size_t nlabels, label_cap;
	struct pb_fixup {
		size_t at;	/* jump instruction to patch */
		int label;
	} *fixups;
	size_t nfixups, fixup_cap;
	size_t *subprogs;	/* where each subprogram after the first starts */
	size_t nsubprogs, subprog_cap;
	int err;		/* first failure; later emits are ignored */
};

void pb_init(struct prog_buf *pb);
void pb_free(struct prog_buf *pb);

void pb_emit(struct prog_buf *pb, struct bpf_insn i);

/* ld_imm64: a 64-bit constant, or a map reference (src = BPF_PSEUDO_MAP_*). */
void pb_ld_imm64(struct prog_buf *pb, int dst, int src, uint64_t imm);
/* dst = pointer to byte `off` of the (single) value of array map map_fd. */
void pb_ld_map_value(struct prog_buf *pb, int dst, int map_fd, uint32_t off);
/* R0 = the value of map_fd at the key on the stack at fp + key_off, or goto
 * miss when there is none.  Uses R1-R5 (a helper call). */
void pb_map_lookup(struct prog_buf *pb, int map_fd, int16_t key_off, int miss);
/* dst = the subprogram that starts at label (a bpf_loop callback). */
void pb_ld_func(struct prog_buf *pb, int dst, int label);
/* Calls the subprogram that starts at label (R1-R5 its arguments, R0 its
 * result; R6-R9 and the stack survive). */
void pb_call(struct prog_buf *pb, int label);

/*
 * Starts a subprogram here (a function called by the kernel, such as a
 * bpf_loop callback): the loader describes each one to the verifier.
 */
void pb_subprog(struct prog_buf *pb);

int pb_new_label(struct prog_buf *pb);
void pb_bind(struct prog_buf *pb, int label);
/* Whether some jump emitted so far goes to label (before pb_finish). */
int pb_label_used(const struct prog_buf *pb, int label);

/* if (dst op src/imm) goto label; op is BPF_JEQ, BPF_JGT, ... */
void pb_jmp_reg(struct prog_buf *pb, int op, int dst, int src, int label);
void pb_jmp_imm(struct prog_buf *pb, int op, int dst, int32_t imm, int label);
/* 32-bit comparisons (BPF_JMP32) */
void pb_jmp32_reg(struct prog_buf *pb, int op, int dst, int src, int label);
void pb_jmp32_imm(struct prog_buf *pb, int op, int dst, int32_t imm, int label);
void pb_goto(struct prog_buf *pb, int label);
/* may_goto label (Linux 6.9): goes to label once the kernel's bound on the
 * program's loops is spent, else on; the verifier then checks a loop by
 * its states converging rather than once for every turn. */
void pb_may_goto(struct prog_buf *pb, int label);

/*
 * Resolves every jump; returns 0 or a negative errno (-ENOMEM, -E2BIG for a
 * jump further than 32767 instructions, -EINVAL for an unbound label).
 */
int pb_finish(struct prog_buf *pb);

#endif
