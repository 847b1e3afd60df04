/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A classic BPF interpreter that also hands back the scratch memory: the
 * in-process half of a function whose key a classic program computes
 * (fields.h).  Its verdicts are libpcap's: tests/bpf/test_filter_diff.c runs
 * both over the filter corpus, tests/fuzz/fuzz_cbpf.c over random programs.
 * The eBPF translation keeps M[] on the stack, where a routine reads it.
 */
#include <string.h>

#include "cbpf.h"
#include "cbpf_xlate.h"

/* off is k + X without wrapping: past 2^32 is past the end, as libpcap. */
static int load(const uint8_t *pkt, uint32_t caplen, uint64_t off, int size, uint32_t *v)
{
	if (off + (uint64_t)size > caplen)
		return 0;
	if (size == 4)
		*v = (uint32_t)pkt[off] << 24 | (uint32_t)pkt[off + 1] << 16 |
		     (uint32_t)pkt[off + 2] << 8 | pkt[off + 3];
	else if (size == 2)
		*v = (uint32_t)pkt[off] << 8 | pkt[off + 1];
	else
		*v = pkt[off];
	return 1;
}

static uint32_t shift(uint32_t a, uint32_t n, int left)
{
	if (n >= 32 && !cbpf_shift_mod32())
		return 0;
	n &= 31;
	return left ? a << n : a >> n;
}

/* A op b; 0 on division by zero (the packet is then rejected). */
static int alu(uint16_t op, uint32_t *a, uint32_t b)
{
	switch (op) {
	case CBPF_ADD: *a += b; break;
	case CBPF_SUB: *a -= b; break;
	case CBPF_MUL: *a *= b; break;
	case CBPF_DIV: if (!b) return 0; *a /= b; break;
	case CBPF_MOD: if (!b) return 0; *a %= b; break;
	case CBPF_OR: *a |= b; break;
	case CBPF_AND: *a &= b; break;
	case CBPF_XOR: *a ^= b; break;
	case CBPF_LSH: *a = shift(*a, b, 1); break;
	case CBPF_RSH: *a = shift(*a, b, 0); break;
	case CBPF_NEG: *a = -*a; break;
	}
	return 1;
}

unsigned int cbpf_exec(const struct cbpf_prog *prog, const uint8_t *pkt, uint32_t caplen,
		       uint32_t wlen, uint32_t mem[CBPF_MEMWORDS])
{
	uint32_t a = 0, x = 0, v;
	int back = 0;
	size_t pc = 0;

	memset(mem, 0, CBPF_MEMWORDS * sizeof(*mem));
	while (pc < prog->len) {
		const struct cbpf_insn *i = &prog->insns[pc++];
		uint16_t c = i->code;
		uint32_t src = CBPF_SRC(c) == CBPF_X ? x : i->k;

		switch (CBPF_CLASS(c)) {
		case CBPF_RET:
			return CBPF_RVAL(c) == CBPF_A ? a : i->k;
		case CBPF_LD:
		case CBPF_LDX: {
			int size = CBPF_SIZE(c) == CBPF_W ? 4 : CBPF_SIZE(c) == CBPF_H ? 2 : 1;
			uint32_t *r = CBPF_CLASS(c) == CBPF_LD ? &a : &x;

			switch (CBPF_MODE(c)) {
			case CBPF_ABS:
			case CBPF_IND:
				if (!load(pkt, caplen,
					  (uint64_t)i->k + (CBPF_MODE(c) == CBPF_IND ? x : 0), size,
					  &v))
					return 0;
				*r = v;
				break;
			case CBPF_MSH:
				if (!load(pkt, caplen, i->k, 1, &v))
					return 0;
				*r = (v & 0xf) << 2;
				break;
			case CBPF_LEN: *r = wlen; break;
			case CBPF_IMM: *r = i->k; break;
			default: *r = mem[i->k % CBPF_MEMWORDS]; break;
			}
			break;
		}
		case CBPF_ST: mem[i->k % CBPF_MEMWORDS] = a; break;
		case CBPF_STX: mem[i->k % CBPF_MEMWORDS] = x; break;
		case CBPF_ALU:
			if (!alu(CBPF_OP(c), &a, src))
				return 0;
			break;
		case CBPF_JMP:
			switch (CBPF_OP(c)) {
			case CBPF_JA:
				if ((int32_t)i->k < 0 && ++back > CBPF_MAX_BACKWARD_JUMPS)
					return 0;
				pc = (size_t)((int64_t)pc + (int32_t)i->k);
				continue;
			case CBPF_JEQ: v = a == src; break;
			case CBPF_JGT: v = a > src; break;
			case CBPF_JGE: v = a >= src; break;
			default: v = (a & src) != 0; break;
			}
			pc += v ? i->jt : i->jf;
			break;
		default:
			if (CBPF_MISCOP(c) == CBPF_TAX)
				x = a;
			else
				a = x;
		}
	}
	return 0;
}
