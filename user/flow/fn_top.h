/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TOP's kernel state, as its routines (bpf/fn/top.bpf.c) and
 * user/flow/fn_top.c both see it; the hash (field_key.h) is the same code
 * in both, so a trace and its packets sent live fill the same cells.
 */
#ifndef MAPI_FN_TOP_H
#define MAPI_FN_TOP_H

#include "keyslot.h"

struct top_count {
	__u64 packets;
	__u64 bytes;
};

/* The table: a slot table (keyslot.h) of twice the MAPI_TOP_TABLE values
 * it holds (mapi.h says how many: 65536). */
#define TOP_TABLE_VALUES 65536
#define TOP_TABLE_SLOTS (2 * TOP_TABLE_VALUES)
#define TOP_ORDER_RUN 8		/* the order list's entries a slot's room */

struct top_slot {
	struct keyslot head;
	struct top_count count;
};				/* 40 bytes */

/*
 * Values that find the table full: a Count-Min sketch of TOP_SKETCH_ROWS
 * rows of TOP_SKETCH_WIDTH cells counts all of them, and the last
 * TOP_SPILL_VALUES seen are kept (an LRU table) with the sketch's estimate
 * of what they had before (base, at least their true count then) and an
 * exact count since.
 */
#define TOP_SKETCH_ROWS 4
#define TOP_SKETCH_WIDTH 4096	/* 2^TOP_SKETCH_BITS */
#define TOP_SPILL_VALUES 4096

struct top_sketch {
	struct top_count cell[TOP_SKETCH_ROWS][TOP_SKETCH_WIDTH];
};

struct top_spilled {
	struct top_count base;	/* estimated: at most this before it was kept */
	struct top_count since;	/* exact, since */
};

/* A row's cell for a key of hash h (field_key_hash): its own 12 bits of
 * h, so that the rows are as independent as the hash's bits. */
#define TOP_SKETCH_BITS 12
static inline __u32 top_cell(__u64 h, int row)
{
	return (__u32)(h >> (TOP_SKETCH_BITS * row)) & (TOP_SKETCH_WIDTH - 1);
}

#ifndef __bpf__
struct bpf_routine;
extern const struct bpf_routine routine_mapi_top_count;
extern const struct bpf_routine routine_mapi_top_spill;
#endif

#endif
