/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Routines: functions written in BPF C (bpf/fn/), compiled by clang at
 * build time and turned into instruction arrays (scripts/bpf-routines.py),
 * which the code generator copies into a flow's program as subprograms and
 * calls (cg_call_routine).  Kernel state that is more than a counter (hash
 * tables, sketches) is kept by them: easier to get right in C than
 * hand-assembled, and no compiler runs when a flow connects.
 *
 * A routine stands alone: it names no map and no global data (maps come
 * as arguments) and calls no helper but the map calls, which every program
 * type has (scripts/bpf-routines.py refuses anything else).
 */
#ifndef MAPI_ROUTINES_H
#define MAPI_ROUTINES_H

#include <linux/bpf.h>
#include <stddef.h>

struct bpf_routine {
	const char *name;
	const struct bpf_insn *insns;
	size_t len;
};

#endif
