/* SPDX-License-Identifier: BSD-2-Clause */
#include "ebpf_asm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pb_init(struct prog_buf *pb)
{
	memset(pb, 0, sizeof(*pb));
}

void pb_free(struct prog_buf *pb)
{
	free(pb->insns);
	free(pb->label_pos);
	free(pb->fixups);
	free(pb->subprogs);
	memset(pb, 0, sizeof(*pb));
}

/* Grows *arr (of n elements of size sz, capacity *cap) to hold one more. */
static int grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, ncap * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

void pb_emit(struct prog_buf *pb, struct bpf_insn i)
{
	if (pb->err)
		return;
	if (grow((void **)&pb->insns, pb->len, &pb->cap, sizeof(i))) {
		pb->err = -ENOMEM;
		return;
	}
	pb->insns[pb->len++] = i;
}

void pb_ld_imm64(struct prog_buf *pb, int dst, int src, uint64_t imm)
{
	pb_emit(pb, insn(BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, (int32_t)(uint32_t)imm));
	pb_emit(pb, insn(0, 0, 0, 0, (int32_t)(uint32_t)(imm >> 32)));
}

void pb_ld_map_value(struct prog_buf *pb, int dst, int map_fd, uint32_t off)
{
	pb_ld_imm64(pb, dst, BPF_PSEUDO_MAP_VALUE, (uint64_t)off << 32 | (uint32_t)map_fd);
}

static void jump_to(struct prog_buf *pb, struct bpf_insn i, int label);

void pb_map_lookup(struct prog_buf *pb, int map_fd, int16_t key_off, int miss)
{
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)map_fd);
	pb_emit(pb, MOV64_REG(R2, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, key_off));
	pb_emit(pb, CALL_HELPER(BPF_FUNC_map_lookup_elem));
	pb_jmp_imm(pb, BPF_JEQ, R0, 0, miss);
}

void pb_ld_func(struct prog_buf *pb, int dst, int label)
{
	/* the fixup makes imm the distance to the label, as for a jump */
	jump_to(pb, insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_FUNC, 0, 0), label);
	pb_emit(pb, insn(0, 0, 0, 0, 0));
}

void pb_call(struct prog_buf *pb, int label)
{
	jump_to(pb, insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0), label);
}

void pb_subprog(struct prog_buf *pb)
{
	if (pb->err)
		return;
	if (grow((void **)&pb->subprogs, pb->nsubprogs, &pb->subprog_cap, sizeof(size_t))) {
		pb->err = -ENOMEM;
		return;
	}
	pb->subprogs[pb->nsubprogs++] = pb->len;
}

int pb_new_label(struct prog_buf *pb)
{
	if (pb->err)
		return 0;
	if (grow((void **)&pb->label_pos, pb->nlabels, &pb->label_cap, sizeof(int))) {
		pb->err = -ENOMEM;
		return 0;
	}
	pb->label_pos[pb->nlabels] = -1;
	return (int)pb->nlabels++;
}

void pb_bind(struct prog_buf *pb, int label)
{
	if (pb->err)
		return;
	pb->label_pos[label] = (int)pb->len;
}

int pb_label_used(const struct prog_buf *pb, int label)
{
	size_t i;

	for (i = 0; i < pb->nfixups; i++)
		if (pb->fixups[i].label == label)
			return 1;
	return 0;
}

static void jump_to(struct prog_buf *pb, struct bpf_insn i, int label)
{
	if (pb->err)
		return;
	if (grow((void **)&pb->fixups, pb->nfixups, &pb->fixup_cap, sizeof(*pb->fixups))) {
		pb->err = -ENOMEM;
		return;
	}
	pb->fixups[pb->nfixups].at = pb->len;
	pb->fixups[pb->nfixups].label = label;
	pb->nfixups++;
	pb_emit(pb, i);
}

void pb_jmp_reg(struct prog_buf *pb, int op, int dst, int src, int label)
{
	jump_to(pb, insn(BPF_JMP | BPF_OP(op) | BPF_X, dst, src, 0, 0), label);
}

void pb_jmp_imm(struct prog_buf *pb, int op, int dst, int32_t imm, int label)
{
	jump_to(pb, insn(BPF_JMP | BPF_OP(op) | BPF_K, dst, 0, 0, imm), label);
}

void pb_jmp32_reg(struct prog_buf *pb, int op, int dst, int src, int label)
{
	jump_to(pb, insn(BPF_JMP32 | BPF_OP(op) | BPF_X, dst, src, 0, 0), label);
}

void pb_jmp32_imm(struct prog_buf *pb, int op, int dst, int32_t imm, int label)
{
	jump_to(pb, insn(BPF_JMP32 | BPF_OP(op) | BPF_K, dst, 0, 0, imm), label);
}

void pb_goto(struct prog_buf *pb, int label)
{
	jump_to(pb, insn(BPF_JMP | BPF_JA, 0, 0, 0, 0), label);
}

void pb_may_goto(struct prog_buf *pb, int label)
{
	jump_to(pb, insn(BPF_JMP | EBPF_JCOND, 0, EBPF_MAY_GOTO, 0, 0), label);
}

int pb_finish(struct prog_buf *pb)
{
	size_t i;

	if (pb->err)
		return pb->err;
	for (i = 0; i < pb->nfixups; i++) {
		struct pb_fixup *f = &pb->fixups[i];
		long off;

		if (pb->label_pos[f->label] < 0)
			return pb->err = -EINVAL;
		off = (long)pb->label_pos[f->label] - (long)f->at - 1;
		if (pb->insns[f->at].code == (BPF_LD | BPF_DW | BPF_IMM) ||
		    pb->insns[f->at].code == (BPF_JMP | BPF_CALL)) {
			pb->insns[f->at].imm = (int32_t)off;	/* a function's address */
			continue;
		}
		if (off < INT16_MIN || off > INT16_MAX)
			return pb->err = -E2BIG;
		pb->insns[f->at].off = (int16_t)off;
	}
	pb->nfixups = 0;
	return 0;
}
