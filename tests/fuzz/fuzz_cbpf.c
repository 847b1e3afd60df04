/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target over raw classic BPF programs.  The first byte chooses
 * how the rest becomes a program: as raw 8-byte instructions, or repaired
 * towards validity (a valid opcode, jumps that stay inside, a final return)
 * so that the fuzzer reaches deep into the translator.  A program that
 * cbpf_check() accepts must translate into programs the verifier accepts,
 * and, without loops or scratch memory reads, the library's own
 * interpreter (cbpf_exec) must give libpcap's verdict on a few frames cut
 * from the input.  Runs as root.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "pcap_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every opcode libpcap's interpreter knows. */
static const uint16_t opcodes[] = {
	CBPF_RET | CBPF_K, CBPF_RET | CBPF_A,
	CBPF_LD | CBPF_W | CBPF_ABS, CBPF_LD | CBPF_H | CBPF_ABS, CBPF_LD | CBPF_B | CBPF_ABS,
	CBPF_LD | CBPF_W | CBPF_LEN, CBPF_LDX | CBPF_W | CBPF_LEN,
	CBPF_LD | CBPF_W | CBPF_IND, CBPF_LD | CBPF_H | CBPF_IND, CBPF_LD | CBPF_B | CBPF_IND,
	CBPF_LDX | CBPF_MSH | CBPF_B, CBPF_LD | CBPF_IMM, CBPF_LDX | CBPF_IMM,
	CBPF_LD | CBPF_MEM, CBPF_LDX | CBPF_MEM, CBPF_ST, CBPF_STX,
	CBPF_JMP | CBPF_JA, CBPF_JMP | CBPF_JGT | CBPF_K, CBPF_JMP | CBPF_JGE | CBPF_K,
	CBPF_JMP | CBPF_JEQ | CBPF_K, CBPF_JMP | CBPF_JSET | CBPF_K,
	CBPF_JMP | CBPF_JGT | CBPF_X, CBPF_JMP | CBPF_JGE | CBPF_X,
	CBPF_JMP | CBPF_JEQ | CBPF_X, CBPF_JMP | CBPF_JSET | CBPF_X,
	CBPF_ALU | CBPF_ADD | CBPF_X, CBPF_ALU | CBPF_SUB | CBPF_X, CBPF_ALU | CBPF_MUL | CBPF_X,
	CBPF_ALU | CBPF_DIV | CBPF_X, CBPF_ALU | CBPF_MOD | CBPF_X, CBPF_ALU | CBPF_AND | CBPF_X,
	CBPF_ALU | CBPF_OR | CBPF_X, CBPF_ALU | CBPF_XOR | CBPF_X, CBPF_ALU | CBPF_LSH | CBPF_X,
	CBPF_ALU | CBPF_RSH | CBPF_X, CBPF_ALU | CBPF_ADD | CBPF_K, CBPF_ALU | CBPF_SUB | CBPF_K,
	CBPF_ALU | CBPF_MUL | CBPF_K, CBPF_ALU | CBPF_DIV | CBPF_K, CBPF_ALU | CBPF_MOD | CBPF_K,
	CBPF_ALU | CBPF_AND | CBPF_K, CBPF_ALU | CBPF_OR | CBPF_K, CBPF_ALU | CBPF_XOR | CBPF_K,
	CBPF_ALU | CBPF_LSH | CBPF_K, CBPF_ALU | CBPF_RSH | CBPF_K, CBPF_ALU | CBPF_NEG,
	CBPF_MISC | CBPF_TAX, CBPF_MISC | CBPF_TXA,
};

#define NOPCODES (sizeof(opcodes) / sizeof(opcodes[0]))
#define MAX_INSNS 512

static void repair(struct cbpf_insn *in, size_t pc, size_t n)
{
	uint16_t c = opcodes[in->code % NOPCODES];
	size_t left = n - pc - 1;

	in->code = c;
	switch (CBPF_CLASS(c)) {
	case CBPF_JMP:
		if (CBPF_OP(c) == CBPF_JA) {
			/* mostly forward; now and then a loop back */
			if ((in->jt & 7) == 0 && pc > 0)	/* to pc' < pc */
				in->k = (uint32_t)((int64_t)(in->k % pc) - (int64_t)pc - 1);
			else
				in->k = left ? in->k % left : 0;
		}
		in->jt = left ? (uint8_t)(in->jt % left) : 0;
		in->jf = left ? (uint8_t)(in->jf % left) : 0;
		break;
	case CBPF_LD:
	case CBPF_LDX:
		if (CBPF_MODE(c) == CBPF_MEM)
			in->k %= CBPF_MEMWORDS;
		else if (CBPF_MODE(c) == CBPF_ABS || CBPF_MODE(c) == CBPF_IND)
			in->k %= (in->jt & 1) ? 70000 : 128;	/* mostly inside a frame */
		break;
	case CBPF_ST:
	case CBPF_STX:
		in->k %= CBPF_MEMWORDS;
		break;
	}
	if (pc + 1 == n)
		in->code = in->k & 1 ? (CBPF_RET | CBPF_A) : (CBPF_RET | CBPF_K);
}

/* Whether the program reads scratch memory: libpcap's interpreter leaves
 * M[] as the stack had it (a word read before written is garbage there,
 * 0 in the translation and in cbpf_exec), so such programs are compared
 * by test_filter_diff, over libpcap's own programs, instead. */
static int reads_memory(const struct cbpf_prog *prog)
{
	size_t i;

	for (i = 0; i < prog->len; i++) {
		uint16_t c = prog->insns[i].code;

		if ((CBPF_CLASS(c) == CBPF_LD || CBPF_CLASS(c) == CBPF_LDX) &&
		    CBPF_MODE(c) == CBPF_MEM)
			return 1;
	}
	return 0;
}

/* cbpf_exec against libpcap's interpreter, on frames of every length up
 * to 128 taken from the input (its bytes are as good as any). */
static void same_verdicts(const struct cbpf_prog *prog, const uint8_t *data, size_t size)
{
	uint32_t mem[CBPF_MEMWORDS];
	size_t len;

	for (len = 0; len <= 128 && len <= size; len += 17) {
		unsigned int ours = cbpf_exec(prog, data, (uint32_t)len, (uint32_t)len + 4, mem);
		unsigned int pcap = oracle_run(prog, data, (uint32_t)len, (uint32_t)len + 4);

		if (ours != pcap) {
			char *text = NULL;

			fprintf(stderr, "cbpf_exec gives %u, libpcap %u, on %zu bytes, of\n", ours, pcap,
				len);
			if (!cbpf_dump(prog, &text))
				fputs(text, stderr);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbpf_insn insns[MAX_INSNS];
	struct cbpf_prog prog = { insns, 0 };
	size_t i;

	if (size < 1 + sizeof(*insns))
		return 0;
	prog.len = (size - 1) / sizeof(*insns);
	if (prog.len > MAX_INSNS)
		prog.len = MAX_INSNS;
	memcpy(insns, data + 1, prog.len * sizeof(*insns));
	if (data[0] & 1)
		for (i = 0; i < prog.len; i++)
			repair(&insns[i], i, prog.len);
	err_begin();
	if (!cbpf_check(&prog)) {
		translate_and_verify(&prog, "program");
		if (!cbpf_loops(&prog) && !reads_memory(&prog))
			same_verdicts(&prog, data, size);
	}
	return 0;
}
