// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * TOP's kernel state: a slot table from a field's value to its packets
 * and bytes (user/flow/fn_top.c says what the key holds and reads it).
 *
 * A routine spliced into a flow's program as a subprogram (docs/
 * architecture.md, "Functions in BPF C"): the table comes as an argument,
 * not as a map the object names, so the code carries no relocations.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "user/flow/fn_top.h"
#include "keyslot.bpf.h"

static __always_inline int add(struct top_count *c, __u64 len)
{
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
	return 0;
}

/*
 * Counts a packet of wire length len under the key (on the caller's
 * stack) in the table (an array map of struct top_slot, a slot table
 * shared by the CPUs: keyslot.h): 0 when counted, 1 when the value
 * is not in it and could not be put in (the table is full, or the value's
 * slots hold others): the caller counts it as "other" and spills it.
 */
__attribute__((noinline)) int mapi_top_count(void *table, const struct field_key *key, __u64 len)
{
	struct top_slot *s = (struct top_slot *)keyslot_get(table, key, TOP_TABLE_SLOTS - 1,
							     TOP_TABLE_VALUES, TOP_ORDER_RUN);

	if (!s)
		return 1;
	return add(&s->count, len);
}

/*
 * Counts a packet of a value that found the table full: in every row of
 * the sketch (an array map of one struct top_sketch, shared by the CPUs:
 * atomic adds), and in the spill table (an LRU hash) where the value is
 * kept, with the sketch's estimate of what it had before as its base.
 */
__attribute__((noinline)) int mapi_top_spill(void *sketch, void *spill,
					     const struct field_key *key, __u64 len)
{
	__u64 h = field_key_hash(key), est_p = ~0ull, est_b = ~0ull;
	struct top_spilled *e, first;
	struct top_sketch *s;
	__u32 zero = 0;
	int row;

	s = bpf_map_lookup_elem(sketch, &zero);
	if (!s)
		return 0;
	for (row = 0; row < TOP_SKETCH_ROWS; row++) {
		struct top_count *c = &s->cell[row][top_cell(h, row)];
		__u64 p = __sync_fetch_and_add(&c->packets, 1);
		__u64 b = __sync_fetch_and_add(&c->bytes, len);

		est_p = p < est_p ? p : est_p;
		est_b = b < est_b ? b : est_b;
	}
	e = bpf_map_lookup_elem(spill, key);
	if (!e) {
		first.base.packets = est_p;
		first.base.bytes = est_b;
		first.since.packets = 1;
		first.since.bytes = len;
		if (!bpf_map_update_elem(spill, key, &first, BPF_NOEXIST))
			return 0;
		/* another CPU put it in meanwhile */
		e = bpf_map_lookup_elem(spill, key);
		if (!e)
			return 0;
	}
	__sync_fetch_and_add(&e->since.packets, 1);
	__sync_fetch_and_add(&e->since.bytes, len);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
