/* SPDX-License-Identifier: BSD-2-Clause */
#include "codegen.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "error.h"
#include "functions.h"
#include "mapi.h"

/* Registers that live through the whole program. */
#define R_CTX R6
#define R_DATA R7
#define R_DATA_END R8
#define R_CPU_LINE R9	/* this CPU's line offset in a 64-byte-stride store */

void cg_xlate_env(const struct codegen *cg, struct xlate_env *env)
{
	memset(env, 0, sizeof(*env));
	env->hook = cg->hook;
	env->wirelen_off = STK_WIRELEN;
	env->scratch_off = STK_SCRATCH;
	env->buf_off = STK_BUF;
	env->spill_off = STK_SPILL;
	env->linear_only = cg->offload;
	env->shift_mod32 = cbpf_shift_mod32();
	env->reject_label = cg->flow_end;
}

static void add_host(struct codegen *cg, const struct result_store *st, int slot,
		     enum cg_addend what)
{
	struct prog_buf *pb = &cg->pb;
	uint32_t lines = st->stride / STORE_LINE;

	pb_ld_map_value(pb, R1, st->map_fd, (uint32_t)slot * 8);
	if (lines == 1) {
		pb_emit(pb, ALU64_REG(BPF_ADD, R1, R_CPU_LINE));
	} else {
		pb_emit(pb, MOV64_REG(R2, R_CPU_LINE));
		pb_emit(pb, ALU64_IMM(BPF_MUL, R2, (int32_t)lines));
		pb_emit(pb, ALU64_REG(BPF_ADD, R1, R2));
	}
	pb_emit(pb, LDX_MEM(BPF_DW, R2, R1, 0));
	if (what == ADD_ONE) {
		pb_emit(pb, ALU64_IMM(BPF_ADD, R2, 1));
	} else {
		pb_emit(pb, LDX_MEM(BPF_DW, R3, RFP, STK_WIRELEN));
		pb_emit(pb, ALU64_REG(BPF_ADD, R2, R3));
	}
	pb_emit(pb, STX_MEM(BPF_DW, R1, R2, 0));
}

/* On a NIC: look the line up and add atomically (no per-CPU lines there). */
static void add_device(struct codegen *cg, const struct result_store *st, int slot,
		       enum cg_addend what)
{
	struct prog_buf *pb = &cg->pb;
	int skip = pb_new_label(pb);

	pb_emit(pb, ST_MEM(BPF_W, RFP, STK_BUF, 0));
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)st->map_fd);
	pb_emit(pb, MOV64_REG(R2, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, STK_BUF));
	pb_emit(pb, CALL_HELPER(BPF_FUNC_map_lookup_elem));
	pb_jmp_imm(pb, BPF_JEQ, R0, 0, skip);
	if (what == ADD_ONE)
		pb_emit(pb, MOV64_IMM(R1, 1));
	else
		pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, STK_WIRELEN));
	pb_emit(pb, insn(BPF_STX | BPF_DW | BPF_ATOMIC, R0, R1, (int16_t)(slot * 8), BPF_ADD));
	pb_bind(pb, skip);
}

void cg_add_to_slot(struct codegen *cg, int slot, enum cg_addend what)
{
	if (cg->offload)
		add_device(cg, &cg->flow->nic, slot, what);
	else
		add_host(cg, &cg->flow->host, slot, what);
}

static void emit_prologue(struct codegen *cg, int out)
{
	struct prog_buf *pb = &cg->pb;

	pb_emit(pb, MOV64_REG(R_CTX, R1));
	if (cg->hook == XLATE_XDP) {
		pb_emit(pb, LDX_MEM(BPF_W, R_DATA, R_CTX, offsetof(struct xdp_md, data)));
		pb_emit(pb, LDX_MEM(BPF_W, R_DATA_END, R_CTX, offsetof(struct xdp_md, data_end)));
		if (cg->offload) {
			pb_emit(pb, MOV64_REG(R0, R_DATA_END));
			pb_emit(pb, ALU64_REG(BPF_SUB, R0, R_DATA));
		} else {
			/* With fragments the frame is longer than data_end - data. */
			pb_emit(pb, MOV64_REG(R1, R_CTX));
			pb_emit(pb, CALL_HELPER(BPF_FUNC_xdp_get_buff_len));
		}
	} else {
		pb_emit(pb, LDX_MEM(BPF_W, R_DATA, R_CTX, offsetof(struct __sk_buff, data)));
		pb_emit(pb, LDX_MEM(BPF_W, R_DATA_END, R_CTX, offsetof(struct __sk_buff, data_end)));
		pb_emit(pb, LDX_MEM(BPF_W, R0, R_CTX, offsetof(struct __sk_buff, len)));
	}
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, STK_WIRELEN));
	if (!cg->offload) {
		pb_emit(pb, CALL_HELPER(BPF_FUNC_get_smp_processor_id));
		pb_jmp_imm(pb, BPF_JGE, R0, store_ncpus(), out);
		pb_emit(pb, MOV64_REG(R_CPU_LINE, R0));
		pb_emit(pb, ALU64_IMM(BPF_LSH, R_CPU_LINE, 6));
	}
}

static void emit_epilogue(struct codegen *cg, int out)
{
	struct prog_buf *pb = &cg->pb;

	pb_bind(pb, out);
	/* Monitoring never changes traffic: pass it on (TCX_NEXT is -1). */
	pb_emit(pb, MOV64_IMM(R0, cg->hook == XLATE_XDP ? XDP_PASS : -1));
	pb_emit(pb, EXIT_INSN());
}

int codegen_build(struct codegen *cg, enum xlate_hook hook, int offload,
		  struct flow *const *flows, size_t nflows)
{
	int out, ret = 0;
	size_t i;
	int j;

	memset(cg, 0, sizeof(*cg));
	pb_init(&cg->pb);
	cg->hook = hook;
	cg->offload = offload;
	out = pb_new_label(&cg->pb);
	emit_prologue(cg, out);
	for (i = 0; i < nflows && !ret; i++) {
		const struct flow *f = flows[i];

		cg->flow = f;
		cg->flow_end = pb_new_label(&cg->pb);
		cg_add_to_slot(cg, FLOW_SLOT_SEEN, ADD_ONE);
		for (j = 0; j < f->nfns && !ret; j++)
			ret = f->fns[j]->desc->emit(cg, f->fns[j]);
		pb_bind(&cg->pb, cg->flow_end);
	}
	cg->flow = NULL;
	emit_epilogue(cg, out);
	if (!ret)
		ret = pb_finish(&cg->pb);
	if (ret == -E2BIG)
		ret = err_set(ret, MAPI_ERR_LIMIT,
			      "flow program too large: a jump spans more than 32767 instructions");
	if (ret)
		pb_free(&cg->pb);
	return ret;
}
