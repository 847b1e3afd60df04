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

/* Frame of the generated program (offsets from R10). */
#define STK_WIRELEN (-8)	/* u64: the frame's length on the wire */
#define STK_BUF (-16)		/* 8 bytes for loads through a helper */
#define STK_SPILL (-32)		/* 16 bytes: classic A and X across calls */
#define STK_SCRATCH (-96)	/* classic scratch memory M[0..15] */

struct codegen {
	struct prog_buf pb;
	enum xlate_hook hook;
	int offload;		/* program for the NIC: device stores, no helpers */
	const struct flow *flow;	/* the flow being emitted */
	int flow_end;		/* label: the packet leaves the flow here */
};

/*
 * Builds the whole program for hook from the given flows.  The result is in
 * cg->pb (pb_finish done); free it with pb_free().
 */
int codegen_build(struct codegen *cg, enum xlate_hook hook, int offload,
		  struct flow *const *flows, size_t nflows);

enum cg_addend {
	ADD_ONE,	/* count the packet */
	ADD_WIRELEN,	/* add its length on the wire */
};

/* Adds to result slot `slot` of the flow being emitted; uses R0-R5. */
void cg_add_to_slot(struct codegen *cg, int slot, enum cg_addend what);

/* The environment a translated classic filter runs in. */
void cg_xlate_env(const struct codegen *cg, struct xlate_env *env);

#endif
