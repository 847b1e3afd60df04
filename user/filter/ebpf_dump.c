/* SPDX-License-Identifier: BSD-2-Clause */
/* eBPF instructions as text, in the notation of the kernel's verifier log. */
#include "ebpf_dump.h"
#include "ebpf_asm.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char *helper_name(int32_t id)
{
	switch (id) {
	case BPF_FUNC_map_lookup_elem: return "bpf_map_lookup_elem";
	case BPF_FUNC_get_smp_processor_id: return "bpf_get_smp_processor_id";
	case BPF_FUNC_tail_call: return "bpf_tail_call";
	case BPF_FUNC_skb_load_bytes: return "bpf_skb_load_bytes";
	case BPF_FUNC_xdp_get_buff_len: return "bpf_xdp_get_buff_len";
	case BPF_FUNC_xdp_load_bytes: return "bpf_xdp_load_bytes";
	case BPF_FUNC_ringbuf_reserve: return "bpf_ringbuf_reserve";
	case BPF_FUNC_ringbuf_submit: return "bpf_ringbuf_submit";
	case BPF_FUNC_ringbuf_discard: return "bpf_ringbuf_discard";
	case BPF_FUNC_ktime_get_ns: return "bpf_ktime_get_ns";
	case BPF_FUNC_loop: return "bpf_loop";
	default: return "helper";
	}
}

static const char *alu_op(uint8_t op)
{
	switch (op) {
	case BPF_ADD: return "+=";
	case BPF_SUB: return "-=";
	case BPF_MUL: return "*=";
	case BPF_DIV: return "/=";
	case BPF_OR: return "|=";
	case BPF_AND: return "&=";
	case BPF_LSH: return "<<=";
	case BPF_RSH: return ">>=";
	case BPF_MOD: return "%=";
	case BPF_XOR: return "^=";
	case BPF_MOV: return "=";
	case BPF_ARSH: return "s>>=";
	default: return "?=";
	}
}

static const char *jmp_op(uint8_t op)
{
	switch (op) {
	case BPF_JEQ: return "==";
	case BPF_JGT: return ">";
	case BPF_JGE: return ">=";
	case BPF_JSET: return "&";
	case BPF_JNE: return "!=";
	case BPF_JSGT: return "s>";
	case BPF_JSGE: return "s>=";
	case BPF_JLT: return "<";
	case BPF_JLE: return "<=";
	case BPF_JSLT: return "s<";
	case BPF_JSLE: return "s<=";
	default: return "?";
	}
}

static const char *size_name(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return "u8";
	case BPF_H: return "u16";
	case BPF_W: return "u32";
	default: return "u64";
	}
}

/* One instruction (two for ld_imm64: *used says how many). */
static void dump_one(FILE *f, const struct bpf_insn *in, size_t pc, size_t n, int *used)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	char r = cls == BPF_ALU || cls == BPF_JMP32 ? 'w' : 'r';

	*used = 1;
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		if (op == BPF_END)
			fprintf(f, "r%d = be%d r%d", in->dst_reg, in->imm, in->dst_reg);
		else if (op == BPF_NEG)
			fprintf(f, "%c%d = -%c%d", r, in->dst_reg, r, in->dst_reg);
		else if (BPF_SRC(in->code) == BPF_X)
			fprintf(f, "%c%d %s %c%d", r, in->dst_reg, alu_op(op), r, in->src_reg);
		else
			fprintf(f, "%c%d %s %d", r, in->dst_reg, alu_op(op), in->imm);
		break;
	case BPF_LDX:
		fprintf(f, "r%d = *(%s *)(r%d %+d)", in->dst_reg, size_name(in->code), in->src_reg,
			in->off);
		break;
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_ATOMIC)
			fprintf(f, "lock *(%s *)(r%d %+d) += r%d", size_name(in->code), in->dst_reg,
				in->off, in->src_reg);
		else
			fprintf(f, "*(%s *)(r%d %+d) = r%d", size_name(in->code), in->dst_reg,
				in->off, in->src_reg);
		break;
	case BPF_ST:
		fprintf(f, "*(%s *)(r%d %+d) = %d", size_name(in->code), in->dst_reg, in->off,
			in->imm);
		break;
	case BPF_LD:
		if (pc + 1 < n && in->code == (BPF_LD | BPF_DW | BPF_IMM)) {
			uint64_t v = (uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm << 32;

			*used = 2;
			if (in->src_reg == BPF_PSEUDO_MAP_FD)
				fprintf(f, "r%d = map[fd %d]", in->dst_reg, in->imm);
			else if (in->src_reg == BPF_PSEUDO_MAP_VALUE)
				fprintf(f, "r%d = map[fd %d][0]+%d", in->dst_reg, in->imm, in[1].imm);
			else
				fprintf(f, "r%d = %#llx ll", in->dst_reg, (unsigned long long)v);
		} else {
			fprintf(f, "(code %#x)", in->code);
		}
		break;
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_CALL && in->src_reg == BPF_PSEUDO_CALL)
			fprintf(f, "call pc%+d (%zu)", in->imm, pc + 1 + (size_t)(long)in->imm);
		else if (op == BPF_CALL)
			fprintf(f, "call %s#%d", helper_name(in->imm), in->imm);
		else if (op == BPF_EXIT)
			fprintf(f, "exit");
		else if (cls == BPF_JMP && op == EBPF_JCOND && in->src_reg == EBPF_MAY_GOTO)
			fprintf(f, "may_goto pc%+d (%zu)", in->off, pc + 1 + (size_t)(long)in->off);
		else if (op == BPF_JA)
			fprintf(f, "goto pc%+d (%zu)", in->off, pc + 1 + (size_t)(long)in->off);
		else if (BPF_SRC(in->code) == BPF_X)
			fprintf(f, "if %c%d %s %c%d goto pc%+d (%zu)", r, in->dst_reg, jmp_op(op), r,
				in->src_reg, in->off, pc + 1 + (size_t)(long)in->off);
		else
			fprintf(f, "if %c%d %s %#x goto pc%+d (%zu)", r, in->dst_reg, jmp_op(op),
				(uint32_t)in->imm, in->off, pc + 1 + (size_t)(long)in->off);
		break;
	default:
		fprintf(f, "(code %#x)", in->code);
	}
	fputc('\n', f);
}

int ebpf_dump(const struct bpf_insn *insns, size_t n, char **text)
{
	size_t size = 0, pc;
	FILE *f;

	*text = NULL;
	f = open_memstream(text, &size);
	if (!f)
		return -ENOMEM;
	for (pc = 0; pc < n;) {
		int used;

		fprintf(f, "%4zu: ", pc);
		dump_one(f, &insns[pc], pc, n, &used);
		pc += (size_t)used;
	}
	if (fclose(f)) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}
