/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TOP's kernel state, as its routines (bpf/fn/top.bpf.c) and
 * user/flow/fn_top.c both see it; the hash is the same code in both, so a
 * trace and its packets sent live fill the same sketch cells.
 */
#ifndef MAPI_FN_TOP_H
#define MAPI_FN_TOP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The value of a field (fields.h): the words a field's program stores in
 * M[0..4], as classic BPF loads them (host order). */
struct top_key {
	__u32 kind;		/* FIELD_KIND_*: a number, or an address of a family */
	__u32 value[4];
};

struct top_count {
	__u64 packets;
	__u64 bytes;
};

/*
 * Values that find the table full: a Count-Min sketch of TOP_SKETCH_ROWS
 * rows of TOP_SKETCH_WIDTH cells counts all of them, and the last
 * TOP_SPILL_VALUES seen are kept (an LRU table) with the sketch's estimate
 * of what they had before (base, at least their true count then) and an
 * exact count since.
 */
#define TOP_SKETCH_ROWS 4
#define TOP_SKETCH_WIDTH 4096	/* a power of 2 */
#define TOP_SPILL_VALUES 4096

struct top_sketch {
	struct top_count cell[TOP_SKETCH_ROWS][TOP_SKETCH_WIDTH];
};

struct top_spilled {
	struct top_count base;	/* estimated: at most this before it was kept */
	struct top_count since;	/* exact, since */
};

/* A 64-bit hash of the key (a multiply-xorshift mix of its words): its
 * halves give the rows' cells, h1 + row * h2 (double hashing). */
static inline __u64 top_hash(const struct top_key *k)
{
	__u64 h = 0x9e3779b97f4a7c15ull ^ k->kind;
	int i;

	for (i = 0; i < 4; i++) {
		h ^= k->value[i];
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 29);
}

static inline __u32 top_cell(__u64 h, int row)
{
	return ((__u32)h + (__u32)row * ((__u32)(h >> 32) | 1)) & (TOP_SKETCH_WIDTH - 1);
}

#ifndef __bpf__
struct bpf_routine;
extern const struct bpf_routine routine_mapi_top_count;
extern const struct bpf_routine routine_mapi_top_spill;
#endif

#endif
