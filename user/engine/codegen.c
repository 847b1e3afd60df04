/* SPDX-License-Identifier: BSD-2-Clause */
#include "codegen.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "functions.h"
#include "hashpath.h"
#include "mapi.h"
#include "routines.h"

_Static_assert(STK_LOOPS + 16 <= STK_LINES, "the loops' two words run into the lines");

void cg_xlate_env(const struct codegen *cg, struct xlate_env *env)
{
	memset(env, 0, sizeof(*env));
	env->hook = cg->hook;
	env->wirelen_off = STK_WIRELEN;
	env->scratch_off = STK_SCRATCH;
	env->buf_off = STK_BUF;
	env->spill_off = STK_SPILL;
	env->loop_off = STK_LOOPS;
	env->linear_only = cg->hook == XLATE_XDP && !cg->target.frags;
	env->shift_mod32 = cbpf_shift_mod32();
	env->reject_label = cg->flow_end;
}

/* Where the line of result map `line` (> 0) of the flow is kept. */
static int16_t line_slot(uint32_t line)
{
	return (int16_t)(STK_LINES + 8 * (int)line);
}

int cg_defer(struct codegen *cg, const struct fn_instance *fi, cg_sub_emit emit)
{
	struct cg_sub *s = realloc(cg->subs, (cg->nsubs + 1) * sizeof(*s));
	int label = pb_new_label(&cg->pb);

	if (!s) {
		cg->pb.err = -ENOMEM;
		return label;
	}
	cg->subs = s;
	s[cg->nsubs++] = (struct cg_sub){ label, fi, emit };
	return label;
}

void cg_call_routine(struct codegen *cg, const struct bpf_routine *r)
{
	struct cg_routine_use *u;
	size_t i;

	for (i = 0; i < cg->nroutines; i++)
		if (cg->routines[i].routine == r) {
			pb_call(&cg->pb, cg->routines[i].label);
			return;
		}
	u = realloc(cg->routines, (cg->nroutines + 1) * sizeof(*u));
	if (!u) {
		cg->pb.err = -ENOMEM;
		return;
	}
	cg->routines = u;
	u[cg->nroutines] = (struct cg_routine_use){ r, pb_new_label(&cg->pb) };
	pb_call(&cg->pb, u[cg->nroutines++].label);
}

/* Copies the routines called into the program, after it. */
static void emit_routines(struct codegen *cg)
{
	size_t i, k;

	for (i = 0; i < cg->nroutines; i++) {
		const struct bpf_routine *r = cg->routines[i].routine;

		pb_subprog(&cg->pb);
		pb_bind(&cg->pb, cg->routines[i].label);
		for (k = 0; k < r->len; k++)
			pb_emit(&cg->pb, r->insns[k]);
	}
	free(cg->routines);
	cg->routines = NULL;
	cg->nroutines = 0;
}

void cg_cpu(struct codegen *cg, int fail)
{
	pb_emit(&cg->pb, CALL_HELPER(BPF_FUNC_get_smp_processor_id));
	pb_jmp_imm(&cg->pb, BPF_JGE, R0, store_ncpus(), fail);
}

/*
 * Points R_LINE0 at this CPU's line of the flow's first result map and
 * stores those of its other maps in STK_LINES.
 */
static void emit_flow_lines(struct codegen *cg, const struct flow *f)
{
	const struct result_store *st = &f->host;
	struct prog_buf *pb = &cg->pb;
	uint32_t i;

	cg_cpu(cg, cg->flow_end);
	pb_emit(pb, ALU64_IMM(BPF_LSH, R0, 6));
	for (i = 0; i < st->nlines; i++) {
		int r = i ? R1 : R_LINE0;

		pb_ld_map_value(pb, r, st->lines[i].map_fd, 0);
		pb_emit(pb, ALU64_REG(BPF_ADD, r, R0));
		if (i)
			pb_emit(pb, STX_MEM(BPF_DW, RFP, R1, line_slot(i)));
	}
}

uint32_t codegen_maps_of(const struct flow *f, int offload)
{
	uint32_t maps = offload ? 1 : f->host.nlines;
	int i;

	for (i = 0; i < f->nfns; i++)
		maps += (uint32_t)f->fns[i]->maps;
	return maps;
}

static void add_host(struct codegen *cg, int slot, enum cg_addend what)
{
	struct prog_buf *pb = &cg->pb;
	int16_t off = (int16_t)(slot % STORE_LINE_SLOTS * 8);

	int line = R_LINE0;

	if (slot >= STORE_LINE_SLOTS) {
		pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, line_slot((uint32_t)slot / STORE_LINE_SLOTS)));
		line = R1;
	}
	pb_emit(pb, LDX_MEM(BPF_DW, R2, line, off));
	if (what == ADD_ONE) {
		pb_emit(pb, ALU64_IMM(BPF_ADD, R2, 1));
	} else {
		pb_emit(pb, LDX_MEM(BPF_DW, R3, RFP, STK_WIRELEN));
		pb_emit(pb, ALU64_REG(BPF_ADD, R2, R3));
	}
	pb_emit(pb, STX_MEM(BPF_DW, line, R2, off));
}

/* On a NIC: look the store up and add atomically (no per-CPU lines there). */
static void add_device(struct codegen *cg, int slot, enum cg_addend what)
{
	struct prog_buf *pb = &cg->pb;
	int skip = pb_new_label(pb);

	pb_emit(pb, ST_MEM(BPF_W, RFP, STK_KEY, 0));
	pb_map_lookup(pb, cg->flow->nic.lines[0].map_fd, STK_KEY, skip);
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
		add_device(cg, slot, what);
	else
		add_host(cg, slot, what);
}

/*
 * Fresh packet pointers.  Emitted at the start of every flow too: what the
 * verifier learned of the packet's length differs between the paths out of
 * the previous flow, and fresh pointers make those paths' states equal, so
 * that it verifies each flow once instead of once per path into it.
 */
static void load_packet_pointers(struct codegen *cg)
{
	struct prog_buf *pb = &cg->pb;

	if (cg->hook == XLATE_XDP) {
		pb_emit(pb, LDX_MEM(BPF_W, R_DATA, R_CTX, offsetof(struct xdp_md, data)));
		pb_emit(pb, LDX_MEM(BPF_W, R_DATA_END, R_CTX, offsetof(struct xdp_md, data_end)));
	} else {
		pb_emit(pb, LDX_MEM(BPF_W, R_DATA, R_CTX, offsetof(struct __sk_buff, data)));
		pb_emit(pb, LDX_MEM(BPF_W, R_DATA_END, R_CTX, offsetof(struct __sk_buff, data_end)));
	}
}

static void emit_prologue(struct codegen *cg)
{
	struct prog_buf *pb = &cg->pb;

	pb_emit(pb, MOV64_REG(R_CTX, R1));
	load_packet_pointers(cg);
	if (cg->hook == XLATE_XDP) {
		if (cg->target.frags) {
			/* With fragments the frame is longer than data_end - data. */
			pb_emit(pb, MOV64_REG(R1, R_CTX));
			pb_emit(pb, CALL_HELPER(BPF_FUNC_xdp_get_buff_len));
		} else {
			pb_emit(pb, MOV64_REG(R0, R_DATA_END));
			pb_emit(pb, ALU64_REG(BPF_SUB, R0, R_DATA));
		}
	} else {
		pb_emit(pb, LDX_MEM(BPF_W, R0, R_CTX, offsetof(struct __sk_buff, len)));
	}
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, STK_WIRELEN));
}

static int pass_verdict(enum xlate_hook hook)
{
	/* Monitoring never changes traffic: pass it on (TCX_NEXT is -1). */
	return hook == XLATE_XDP ? XDP_PASS : -1;
}

/* Jumps to slot `next` of the chain; when the slot is empty, passes. */
static void emit_exit(struct prog_buf *pb, enum xlate_hook hook, int chain_fd, uint32_t next)
{
	if (chain_fd >= 0) {
		pb_emit(pb, MOV64_REG(R1, R_CTX));
		pb_ld_imm64(pb, R2, BPF_PSEUDO_MAP_FD, (uint32_t)chain_fd);
		pb_emit(pb, MOV64_IMM(R3, (int32_t)next));
		pb_emit(pb, CALL_HELPER(BPF_FUNC_tail_call));
	}
	pb_emit(pb, MOV64_IMM(R0, pass_verdict(hook)));
	pb_emit(pb, EXIT_INSN());
}

int codegen_build(struct codegen *cg, const struct prog_target *t,
		  const struct cg_chain *chain, struct flow *const *flows, size_t nflows)
{
	int offload = t->offload_ifindex > 0;
	uint32_t maps = 0;
	int ret = 0;
	size_t i;
	int j;

	memset(cg, 0, sizeof(*cg));
	pb_init(&cg->pb);
	cg->target = *t;
	cg->hook = t->hook;
	cg->offload = offload;
	emit_prologue(cg);
	for (i = 0; i < nflows && !ret; i++) {
		const struct flow *f = flows[i];

		maps += codegen_maps_of(f, offload);
		if (maps > CG_MAX_MAPS) {
			ret = err_set(-E2BIG, MAPI_ERR_LIMIT,
				      "one program holds flows with at most %d result maps",
				      CG_MAX_MAPS);
			break;
		}
		cg->flow = f;
		cg->flow_end = pb_new_label(&cg->pb);
		if (i > 0)
			load_packet_pointers(cg);
		if (!offload)
			emit_flow_lines(cg, f);
		cg_add_to_slot(cg, FLOW_SLOT_SEEN, ADD_ONE);
		for (j = 0; j < f->nfns && !ret; j++)
			ret = f->fns[j]->desc->emit(cg, f->fns[j]);
		pb_bind(&cg->pb, cg->flow_end);
	}
	cg->flow = NULL;
	emit_exit(&cg->pb, cg->hook, chain ? chain->chain_fd : -1, chain ? chain->next : 0);
	for (i = 0; i < cg->nsubs && !ret; i++)
		cg->subs[i].emit(cg, cg->subs[i].fi, cg->subs[i].label);
	free(cg->subs);
	cg->subs = NULL;
	cg->nsubs = 0;
	emit_routines(cg);
	if (!ret)
		ret = pb_finish(&cg->pb);
	if (ret == -E2BIG && !err_pending())
		ret = err_set(ret, MAPI_ERR_LIMIT,
			      "flow program too large: a jump spans more than 32767 instructions");
	if (ret)
		pb_free(&cg->pb);
	return ret;
}

int codegen_filter(struct codegen *cg, const struct prog_target *t,
		   const struct cbpf_prog *prog)
{
	struct xlate_env env;
	int ret;

	memset(cg, 0, sizeof(*cg));
	pb_init(&cg->pb);
	cg->target = *t;
	cg->hook = t->hook;
	cg->offload = t->offload_ifindex > 0;
	emit_prologue(cg);
	cg->flow_end = pb_new_label(&cg->pb);
	cg_xlate_env(cg, &env);
	ret = cbpf_translate(&cg->pb, prog, &env);
	pb_emit(&cg->pb, MOV64_IMM(R0, 1));
	pb_emit(&cg->pb, EXIT_INSN());
	/* A filter that never rejects leaves no path to the rejecting end,
	 * and the verifier refuses unreachable code. */
	if (pb_label_used(&cg->pb, cg->flow_end)) {
		pb_bind(&cg->pb, cg->flow_end);
		pb_emit(&cg->pb, MOV64_IMM(R0, 0));
		pb_emit(&cg->pb, EXIT_INSN());
	}
	if (!ret)
		ret = pb_finish(&cg->pb);
	if (ret)
		pb_free(&cg->pb);
	return ret;
}

/* The root's frame for the hash lookup. */
#define H_CPU (-8)
#define H_ID (-16)
#define H_LEN (-24)
#define H_KEY (-48)		/* struct hf_key */
#define H_ELEM (-56)		/* u32 key of a store lookup */
#define H_PORTS (-64)		/* the packet's ports, while wild keys are tried */
#define H_WILD_SPORT (-72)	/* keys of this hook with the source port wild */
#define H_WILD_DPORT (-80)	/* ... the destination port */
#define H_EXACT (-168)		/* ... neither */
#define H_BUF (-160)		/* the frame's first 78 bytes, from H_BUF + 2 */
#define H_FRAME(off) ((int16_t)(H_BUF + 2 + (off)))	/* so that fields are aligned */
#define H_COPY 78		/* Ethernet, IPv4 with the longest options, ports */

/* The flows of the hp_value at R7 count the packet, each once. */
static void emit_hash_count(struct prog_buf *pb, int store_fd)
{
	int done = pb_new_label(pb), i;

	for (i = 0; i < HP_VALUE_FLOWS; i++) {
		int next = pb_new_label(pb);

		pb_emit(pb, LDX_MEM(BPF_W, R1, R7, 0));
		pb_jmp_imm(pb, BPF_JLE, R1, i, done);
		pb_emit(pb, LDX_MEM(BPF_W, R1, R7, (int16_t)(4 + 4 * i)));
		pb_jmp_imm(pb, BPF_JGT, R1, HP_MAX_FLOWS, next);
		pb_emit(pb, ALU64_IMM(BPF_MUL, R1, store_ncpus()));
		pb_emit(pb, LDX_MEM(BPF_DW, R2, RFP, H_CPU));
		pb_emit(pb, ALU64_REG(BPF_ADD, R1, R2));
		pb_emit(pb, STX_MEM(BPF_W, RFP, R1, H_ELEM));
		pb_map_lookup(pb, store_fd, H_ELEM, next);
		/* counted already for this packet (through another key)? */
		pb_emit(pb, LDX_MEM(BPF_DW, R1, R0, HP_SLOT_STAMP * 8));
		pb_emit(pb, LDX_MEM(BPF_DW, R2, RFP, H_ID));
		pb_jmp_reg(pb, BPF_JEQ, R1, R2, next);
		pb_emit(pb, STX_MEM(BPF_DW, R0, R2, HP_SLOT_STAMP * 8));
		pb_emit(pb, LDX_MEM(BPF_DW, R1, R0, HP_SLOT_PKTS * 8));
		pb_emit(pb, ALU64_IMM(BPF_ADD, R1, 1));
		pb_emit(pb, STX_MEM(BPF_DW, R0, R1, HP_SLOT_PKTS * 8));
		pb_emit(pb, LDX_MEM(BPF_DW, R1, R0, HP_SLOT_BYTES * 8));
		pb_emit(pb, LDX_MEM(BPF_DW, R2, RFP, H_LEN));
		pb_emit(pb, ALU64_REG(BPF_ADD, R1, R2));
		pb_emit(pb, STX_MEM(BPF_DW, R0, R1, HP_SLOT_BYTES * 8));
		pb_bind(pb, next);
	}
	pb_bind(pb, done);
}

/* R7 = the value for the key at H_KEY in keys_fd, then its flows count. */
static void emit_hash_lookup(struct prog_buf *pb, int keys_fd, int store_fd)
{
	int miss = pb_new_label(pb);

	pb_map_lookup(pb, keys_fd, H_KEY, miss);
	pb_emit(pb, MOV64_REG(R7, R0));
	emit_hash_count(pb, store_fd);
	pb_bind(pb, miss);
}

/*
 * The frame's first H_COPY bytes to H_FRAME(0) straight from the packet
 * when its linear part holds them, then on to `copied`; else on, to the
 * helper that copies from anywhere (shorter frames, headers in fragments).
 * A helper call and its copy cost more than the lookups' key building.
 * Stack stores must be aligned: H_FRAME(0) is 2 past an 8-byte boundary,
 * so 2 and 4 bytes first, then 8 at a time.  Uses R1-R3 and R5.
 */
static void emit_hash_copy(struct prog_buf *pb, const struct prog_target *t, int copied)
{
	int slow = pb_new_label(pb), k;

	if (t->hook == XLATE_XDP) {
		pb_emit(pb, LDX_MEM(BPF_W, R1, R_CTX, offsetof(struct xdp_md, data)));
		pb_emit(pb, LDX_MEM(BPF_W, R2, R_CTX, offsetof(struct xdp_md, data_end)));
	} else {
		pb_emit(pb, LDX_MEM(BPF_W, R1, R_CTX, offsetof(struct __sk_buff, data)));
		pb_emit(pb, LDX_MEM(BPF_W, R2, R_CTX, offsetof(struct __sk_buff, data_end)));
	}
	pb_emit(pb, MOV64_REG(R3, R1));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, H_COPY));
	pb_jmp_reg(pb, BPF_JGT, R3, R2, slow);
	pb_emit(pb, LDX_MEM(BPF_H, R5, R1, 0));
	pb_emit(pb, STX_MEM(BPF_H, RFP, R5, H_FRAME(0)));
	pb_emit(pb, LDX_MEM(BPF_W, R5, R1, 2));
	pb_emit(pb, STX_MEM(BPF_W, RFP, R5, H_FRAME(2)));
	for (k = 8; k < H_COPY + 2; k += 8) {
		pb_emit(pb, LDX_MEM(BPF_DW, R5, R1, (int16_t)(k - 2)));
		pb_emit(pb, STX_MEM(BPF_DW, RFP, R5, (int16_t)(H_BUF + k)));
	}
	pb_goto(pb, copied);
	pb_bind(pb, slow);
}

/*
 * The hash flows of the hook: the packet's protocol, addresses and ports
 * looked up in the hook's key map, as libpcap's filter for them reads the
 * frame (an IPv4 frame without a VLAN tag, not a later fragment, the ports
 * where the header length says); a frame too short for what is read has no
 * key.  Then on to `out`.
 */
static void emit_hash_path(struct prog_buf *pb, const struct prog_target *t,
			   const struct hashpath *hp, int out)
{
	int h = t->ingress ? 0 : 1, capped = pb_new_label(pb);
	int sport_only = pb_new_label(pb), no_exact = pb_new_label(pb);
	int copied = pb_new_label(pb);

	pb_ld_map_value(pb, R1, hp->cfg_fd, 0);
	pb_emit(pb, LDX_MEM(BPF_W, R2, R1, (int16_t)offsetof(struct hp_cfg, keys[h])));
	pb_jmp_imm(pb, BPF_JEQ, R2, 0, out);
	pb_emit(pb, LDX_MEM(BPF_W, R3, R1, (int16_t)offsetof(struct hp_cfg, wild_sport[h])));
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R3, H_WILD_SPORT));
	pb_emit(pb, LDX_MEM(BPF_W, R4, R1, (int16_t)offsetof(struct hp_cfg, wild_dport[h])));
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R4, H_WILD_DPORT));
	pb_emit(pb, ALU64_REG(BPF_SUB, R2, R3));
	pb_emit(pb, ALU64_REG(BPF_SUB, R2, R4));
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R2, H_EXACT));

	/* this CPU's packet number, and the hook's count of packets */
	pb_emit(pb, CALL_HELPER(BPF_FUNC_get_smp_processor_id));
	pb_jmp_imm(pb, BPF_JGE, R0, store_ncpus(), out);
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, H_CPU));
	pb_emit(pb, STX_MEM(BPF_W, RFP, R0, H_ELEM));
	pb_map_lookup(pb, hp->store_fd, H_ELEM, out);
	pb_emit(pb, LDX_MEM(BPF_DW, R1, R0, HP_SLOT_ID * 8));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R1, 1));
	pb_emit(pb, STX_MEM(BPF_DW, R0, R1, HP_SLOT_ID * 8));
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R1, H_ID));
	pb_emit(pb, LDX_MEM(BPF_DW, R1, R0, (int16_t)((HP_SLOT_SEEN + h) * 8)));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R1, 1));
	pb_emit(pb, STX_MEM(BPF_DW, R0, R1, (int16_t)((HP_SLOT_SEEN + h) * 8)));

	/* the frame's length and first bytes */
	if (t->hook == XLATE_XDP && t->frags) {
		pb_emit(pb, MOV64_REG(R1, R_CTX));
		pb_emit(pb, CALL_HELPER(BPF_FUNC_xdp_get_buff_len));
	} else if (t->hook == XLATE_XDP) {
		pb_emit(pb, LDX_MEM(BPF_W, R0, R_CTX, offsetof(struct xdp_md, data_end)));
		pb_emit(pb, LDX_MEM(BPF_W, R1, R_CTX, offsetof(struct xdp_md, data)));
		pb_emit(pb, ALU64_REG(BPF_SUB, R0, R1));
	} else {
		pb_emit(pb, LDX_MEM(BPF_W, R0, R_CTX, offsetof(struct __sk_buff, len)));
	}
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, H_LEN));
	pb_jmp_imm(pb, BPF_JLT, R0, 34, out);		/* Ethernet + IPv4 to the addresses */
	pb_emit(pb, MOV64_REG(R4, R0));
	pb_jmp_imm(pb, BPF_JLE, R4, H_COPY, capped);
	pb_emit(pb, MOV64_IMM(R4, H_COPY));
	pb_bind(pb, capped);
	emit_hash_copy(pb, t, copied);
	pb_emit(pb, MOV64_REG(R1, R_CTX));
	pb_emit(pb, MOV64_IMM(R2, 0));
	pb_emit(pb, MOV64_REG(R3, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, H_FRAME(0)));
	pb_emit(pb, CALL_HELPER(t->hook == XLATE_XDP ? BPF_FUNC_xdp_load_bytes :
			       BPF_FUNC_skb_load_bytes));
	pb_jmp_imm(pb, BPF_JNE, R0, 0, out);
	pb_bind(pb, copied);

	/* IPv4 (bytes 08 00 at 12, read little-endian), not a later fragment */
	pb_emit(pb, LDX_MEM(BPF_H, R1, RFP, H_FRAME(12)));
	pb_jmp_imm(pb, BPF_JNE, R1, 0x0008, out);
	pb_emit(pb, LDX_MEM(BPF_H, R1, RFP, H_FRAME(20)));
	pb_emit(pb, ALU64_IMM(BPF_AND, R1, 0xff1f));
	pb_jmp_imm(pb, BPF_JNE, R1, 0, out);
	/* the key: protocol, addresses, ports */
	pb_emit(pb, ST_MEM(BPF_DW, RFP, H_KEY, 0));
	pb_emit(pb, ST_MEM(BPF_DW, RFP, H_KEY + 8, 0));
	pb_emit(pb, LDX_MEM(BPF_B, R1, RFP, H_FRAME(23)));
	pb_emit(pb, STX_MEM(BPF_B, RFP, R1, H_KEY + (int16_t)offsetof(struct hf_key, proto)));
	pb_emit(pb, LDX_MEM(BPF_W, R1, RFP, H_FRAME(26)));
	pb_emit(pb, STX_MEM(BPF_W, RFP, R1, H_KEY + (int16_t)offsetof(struct hf_key, saddr)));
	pb_emit(pb, LDX_MEM(BPF_W, R1, RFP, H_FRAME(30)));
	pb_emit(pb, STX_MEM(BPF_W, RFP, R1, H_KEY + (int16_t)offsetof(struct hf_key, daddr)));
	/* the ports where the header's length puts them (4 * its low nibble,
	 * unchecked, as libpcap reads it); a frame cut after the source port
	 * still matches a filter that the source port satisfies, as libpcap,
	 * which reads the destination port only when it must */
	pb_emit(pb, LDX_MEM(BPF_B, R3, RFP, H_FRAME(14)));
	pb_emit(pb, ALU64_IMM(BPF_AND, R3, 0xf));
	pb_emit(pb, ALU64_IMM(BPF_LSH, R3, 2));
	pb_emit(pb, MOV64_REG(R2, R3));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, 14 + 2));
	pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, H_LEN));
	pb_jmp_reg(pb, BPF_JGT, R2, R1, out);
	pb_emit(pb, MOV64_REG(R2, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, H_FRAME(14)));
	pb_emit(pb, ALU64_REG(BPF_ADD, R2, R3));
	pb_emit(pb, LDX_MEM(BPF_H, R4, R2, 0));
	pb_emit(pb, STX_MEM(BPF_H, RFP, R4, H_KEY + (int16_t)offsetof(struct hf_key, sport)));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, 14 + 4));
	pb_jmp_reg(pb, BPF_JGT, R3, R1, sport_only);
	pb_emit(pb, LDX_MEM(BPF_H, R4, R2, 2));
	pb_emit(pb, STX_MEM(BPF_H, RFP, R4, H_KEY + (int16_t)offsetof(struct hf_key, dport)));

	/* the kinds of key the hook has: exact, the source port any, the
	 * destination port any (a key map changed meanwhile only makes a
	 * lookup useless, never wrong) */
	pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, H_EXACT));
	pb_jmp_imm(pb, BPF_JEQ, R1, 0, no_exact);
	emit_hash_lookup(pb, hp->keys_fd[h], hp->store_fd);
	pb_bind(pb, no_exact);
	pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, H_WILD_SPORT));
	pb_jmp_imm(pb, BPF_JEQ, R1, 0, sport_only);
	pb_emit(pb, LDX_MEM(BPF_W, R1, RFP, H_KEY + (int16_t)offsetof(struct hf_key, sport)));
	pb_emit(pb, STX_MEM(BPF_W, RFP, R1, H_PORTS));
	pb_emit(pb, ST_MEM(BPF_B, RFP, H_KEY + (int16_t)offsetof(struct hf_key, wild), HF_WILD_SPORT));
	pb_emit(pb, ST_MEM(BPF_H, RFP, H_KEY + (int16_t)offsetof(struct hf_key, sport), 0));
	emit_hash_lookup(pb, hp->keys_fd[h], hp->store_fd);
	pb_emit(pb, LDX_MEM(BPF_W, R1, RFP, H_PORTS));
	pb_emit(pb, STX_MEM(BPF_W, RFP, R1, H_KEY + (int16_t)offsetof(struct hf_key, sport)));
	pb_bind(pb, sport_only);
	pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, H_WILD_DPORT));
	pb_jmp_imm(pb, BPF_JEQ, R1, 0, out);
	pb_emit(pb, ST_MEM(BPF_B, RFP, H_KEY + (int16_t)offsetof(struct hf_key, wild), HF_WILD_DPORT));
	pb_emit(pb, ST_MEM(BPF_H, RFP, H_KEY + (int16_t)offsetof(struct hf_key, dport), 0));
	emit_hash_lookup(pb, hp->keys_fd[h], hp->store_fd);
}

int codegen_root(struct prog_buf *pb, const struct prog_target *t, int prog_array_fd)
{
	pb_init(pb);
	pb_emit(pb, MOV64_REG(R_CTX, R1));
	pb_emit(pb, MOV64_REG(R1, R_CTX));
	pb_ld_imm64(pb, R2, BPF_PSEUDO_MAP_FD, (uint32_t)prog_array_fd);
	pb_emit(pb, MOV64_IMM(R3, CHAIN_HASH_SLOT));
	pb_emit(pb, CALL_HELPER(BPF_FUNC_tail_call));
	emit_exit(pb, t->hook, prog_array_fd, 0);
	return pb_finish(pb);
}

int codegen_hash(struct prog_buf *pb, const struct prog_target *t, int prog_array_fd,
		 const struct hashpath *hp)
{
	int chain;

	pb_init(pb);
	chain = pb_new_label(pb);
	pb_emit(pb, MOV64_REG(R_CTX, R1));
	emit_hash_path(pb, t, hp, chain);
	pb_bind(pb, chain);
	emit_exit(pb, t->hook, prog_array_fd, 0);
	return pb_finish(pb);
}
