// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The floor under a slot table's cost a packet (user/flow/keyslot.h), for
 * the benchmarks of TOP and DISTINCT over many sources: each packet hashes
 * its IPv4 source as the functions do and adds 1 at the first slot of
 * that hash, in an array laid out as TOP's table (xdp_touch_top) or as
 * DISTINCT's per table (xdp_touch_distinct), and does nothing else: no
 * probing, no key to compare or write, no order list, no registers.  Fed
 * the same stream by bpf/keyfeed.bpf.c, its cost over the same program
 * adding at a slot that stays in the cache (the _hot ones) is what
 * reaching one line of a table that size costs a packet over those keys:
 * what memory takes whatever the table's code does.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "user/flow/fn_distinct.h"
#include "user/flow/fn_top.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TOP_TABLE_SLOTS);
	__type(key, __u32);
	__type(value, struct top_slot);
} top_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DISTINCT_TABLE_SLOTS);
	__type(key, __u32);
	__type(value, struct distinct_slot);
} distinct_table SEC(".maps");

/* The first slot of the frame's IPv4 source in a table of mask + 1 slots,
 * or -1 for a frame too short. */
static __always_inline long first_slot(struct xdp_md *ctx, __u32 mask)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct field_key key = { FIELD_KIND_IPV4 };

	if (data + 30 > data_end)
		return -1;
	key.value[0] = bpf_ntohl(*(__u32 *)(data + 26));
	return keyslot_index(field_key_hash(&key), 0, mask);
}

/* Adds 1 at the start of the frame's first slot in table (mask + 1
 * slots), or with hot at slot 0, which stays in the cache: the same work
 * with the memory left out. */
static __always_inline int touch(struct xdp_md *ctx, void *table, __u32 mask, int hot)
{
	long at = first_slot(ctx, mask);
	__u32 idx = hot ? 0 : (__u32)at;
	__u64 *count;

	if (at < 0)
		return XDP_ABORTED;
	count = bpf_map_lookup_elem(table, &idx);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

SEC("xdp.frags")
int xdp_touch_top(struct xdp_md *ctx)
{
	return touch(ctx, &top_table, TOP_TABLE_SLOTS - 1, 0);
}

SEC("xdp.frags")
int xdp_touch_top_hot(struct xdp_md *ctx)
{
	return touch(ctx, &top_table, TOP_TABLE_SLOTS - 1, 1);
}

SEC("xdp.frags")
int xdp_touch_distinct(struct xdp_md *ctx)
{
	return touch(ctx, &distinct_table, DISTINCT_TABLE_SLOTS - 1, 0);
}

SEC("xdp.frags")
int xdp_touch_distinct_hot(struct xdp_md *ctx)
{
	return touch(ctx, &distinct_table, DISTINCT_TABLE_SLOTS - 1, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
