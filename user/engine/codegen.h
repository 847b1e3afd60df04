/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Generates the program of one hook (XDP ingress or tc egress) of one
 * interface: every connected flow's function chain, one after the other,
 * each flow's packets counted into its own result map.
 */
#ifndef MAPI_CODEGEN_H
#define MAPI_CODEGEN_H

#include <stddef.h>

#include "cbpf_xlate.h"
#include "ebpf_asm.h"
#include "flow.h"
#include "loader.h"

/* Registers that live through the whole program. */
#define R_CTX R6
#define R_DATA R7
#define R_DATA_END R8
#define R_LINE0 R9	/* this CPU's line in the flow's first result map */

/* Frame of the generated program (offsets from R10). */
#define STK_WIRELEN (-8)	/* u64: the frame's length on the wire */
#define STK_BUF (-16)		/* 8 bytes for loads through a helper */
#define STK_SPILL (-32)		/* 16 bytes: classic A and X across calls */
#define STK_SCRATCH (-96)	/* classic scratch memory M[0..15] */
#define STK_KEY (-104)		/* u32 key of a map lookup */
#define STK_LINES (-168)	/* this CPU's line of the flow's result maps 1..7 */
#define STK_LOOPS (-240)	/* 2 u64: a classic filter's backward jumps, a hidden zero */
#define STK_SEARCH (-352)	/* STR_SEARCH's arguments to its callback: */
#define SEARCH_END 0		/*   end of the window */
#define SEARCH_STATE 8		/*   automaton state */
#define SEARCH_FOUND 16		/*   set on a match */
#define SEARCH_CTX 24		/*   the program's context */
#define SEARCH_N 32		/*   bytes read through the helper */
#define SEARCH_BUF 40		/*   64 bytes for them */
#define STK_CAPTURE (-360)	/* TO_BUFFER's record being built */
#define STK_WAKE (-368)		/* TO_BUFFER: the reader's state, then ringbuf flags */

/*
 * A program can name at most 64 maps (the kernel's MAX_USED_MAPS): a group
 * program names at most this many result maps.
 */
#define CG_MAX_MAPS 56

struct codegen;
struct fn_instance;

/* Emits a subprogram at label (pb_subprog first): see cg_defer. */
typedef void (*cg_sub_emit)(struct codegen *cg, const struct fn_instance *fi, int label);

struct codegen {
	struct prog_buf pb;
	struct prog_target target;
	enum xlate_hook hook;	/* target.hook */
	int offload;		/* for a NIC: device stores, no helpers */
	const struct flow *flow;	/* the flow being emitted */
	int flow_end;		/* label: the packet leaves the flow here */
	struct cg_sub {
		int label;
		const struct fn_instance *fi;
		cg_sub_emit emit;
	} *subs;		/* subprograms, emitted after the program */
	size_t nsubs;
	struct cg_routine_use {
		const struct bpf_routine *routine;
		int label;
	} *routines;		/* routines called, each copied in once */
	size_t nroutines;
};

/*
 * Where a program goes when its flows are done: to slot `next` of the prog
 * array chain_fd (the next group of flows), or, with chain_fd < 0 or an
 * empty slot, it passes the packet on.
 */
struct cg_chain {
	int chain_fd;
	uint32_t next;
};

/*
 * Builds the program of a group of flows for hook.  The result is in cg->pb
 * (pb_finish done); free it with pb_free().
 */
int codegen_build(struct codegen *cg, const struct prog_target *t,
		  const struct cg_chain *chain, struct flow *const *flows, size_t nflows);

/*
 * A program that runs only the classic filter prog and returns its verdict
 * (1 passes, 0 rejects): for showing the translation and for measuring it.
 * Never attached: as an XDP verdict, 0 and 1 would abort and drop.
 */
int codegen_filter(struct codegen *cg, const struct prog_target *t,
		   const struct cbpf_prog *prog);

/* The number of result maps a flow's code names. */
uint32_t codegen_maps_of(const struct flow *f, int offload);

/*
 * A hook's prog array: groups of general flows in slots 0 to CHAIN_MAX - 1
 * (slot CHAIN_MAX stays empty: the last group's jump ends there), and the
 * hash flows' program in CHAIN_HASH_SLOT.  The kernel allows 33 tail calls
 * a packet: the root's jump to the hash program, then 32 groups.
 */
#define CHAIN_MAX 32
#define CHAIN_HASH_SLOT (CHAIN_MAX + 1)
#define CHAIN_SLOTS (CHAIN_MAX + 2)

/*
 * The program attached to a hook: it jumps (tail call) to the hash flows'
 * program, or when there is none, to slot 0 of prog_array_fd, the first
 * group.  Groups and the hash program come and go with a map update, in
 * microseconds, instead of by swapping the attached program (which waits
 * for an RCU grace period: tens of milliseconds).
 */
int codegen_root(struct prog_buf *pb, const struct prog_target *t, int prog_array_fd);

/*
 * The hash flows' program (CHAIN_HASH_SLOT): counts the packet for the
 * interface's hash flows (hashpath.h), one lookup whatever their number,
 * then jumps to the first group.
 */
struct hashpath;
int codegen_hash(struct prog_buf *pb, const struct prog_target *t, int prog_array_fd,
		 const struct hashpath *hp);

enum cg_addend {
	ADD_ONE,	/* count the packet */
	ADD_WIRELEN,	/* add its length on the wire */
};

/* Adds to result slot `slot` of the flow being emitted; uses R0-R5. */
void cg_add_to_slot(struct codegen *cg, int slot, enum cg_addend what);

/*
 * A subprogram a function needs (a bpf_loop callback), emitted by emit()
 * after the main program; returns the label it will start at.
 */
int cg_defer(struct codegen *cg, const struct fn_instance *fi, cg_sub_emit emit);

/*
 * Calls routine r (routines.h) with the arguments already in R1-R5: R0 is
 * its result, R1-R5 are lost.  The routine is copied into the program once,
 * after it, however many flows call it.
 */
struct bpf_routine;
void cg_call_routine(struct codegen *cg, const struct bpf_routine *r);

/* R0 = this CPU's index, or goto fail (never taken: the verifier's bound). */
void cg_cpu(struct codegen *cg, int fail);

/* The environment a translated classic filter runs in. */
void cg_xlate_env(const struct codegen *cg, struct xlate_env *env);

#endif
