// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * DISTINCT's kernel state: HyperLogLog registers for the count over all
 * packets, and a slot table from a value of the per field to registers of
 * its own (user/flow/fn_distinct.c reads them and estimates).
 *
 * A routine spliced into a flow's program (docs/architecture.md,
 * "Functions in BPF C"): its maps come as arguments.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "user/flow/fn_distinct.h"
#include "keyslot.bpf.h"

/*
 * Raises register idx of regs (of 2^bits) to rank: a compare-and-swap on
 * the 32-bit word holding it, so that two CPUs raising registers of one
 * word at once both count.  A try fails only when another CPU raised one
 * of the word's four registers meanwhile, and each can be raised at most
 * 65 - bits times: that many tries for the four, and one more, always end.
 */
static __always_inline void raise(__u8 *regs, __u32 idx, __u32 rank, int bits)
{
	__u32 *word = (__u32 *)(regs + (idx & ~3u)), shift = (idx & 3) * 8;
	int i;

	for (i = 0; i < 4 * (65 - bits) + 1; i++) {
		__u32 old = *word, now;

		if (((old >> shift) & 0xff) >= rank)
			return;
		now = (old & ~(0xffu << shift)) | rank << shift;
		if (__sync_val_compare_and_swap(word, old, now) == old)
			return;
	}
}

/*
 * Adds a packet with the field's value key: to the registers of all (an
 * array map of one struct distinct_all) and, when per (an array map of
 * struct distinct_slot, a slot table) is not NULL, to those of the per
 * value per_key (on the caller's stack).  Returns 1 when the per value is
 * not in the table and could not be put in (full, or its slots taken).
 */
__attribute__((noinline)) int mapi_distinct_add(void *all, const struct field_key *key,
						void *per, const struct field_key *per_key)
{
	__u64 h = field_key_hash(key);
	struct distinct_all *a;
	struct distinct_slot *p;
	__u32 z = 0;

	a = bpf_map_lookup_elem(all, &z);
	if (a)
		raise(a->reg, (__u32)(h >> (64 - DISTINCT_ALL_BITS)),
		      distinct_rank(h, DISTINCT_ALL_BITS), DISTINCT_ALL_BITS);
	if (!per)
		return 0;
	p = (struct distinct_slot *)keyslot_get(per, per_key, DISTINCT_TABLE_SLOTS - 1,
						DISTINCT_TABLE, DISTINCT_ORDER_RUN);
	if (!p)
		return 1;
	__sync_fetch_and_add(&p->per.packets, 1);
	raise(p->per.reg, (__u32)(h >> (64 - DISTINCT_PER_BITS)),
	      distinct_rank(h, DISTINCT_PER_BITS), DISTINCT_PER_BITS);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
