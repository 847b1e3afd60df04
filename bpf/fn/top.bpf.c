// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * TOP's kernel state: a table from a field's value to its packets and
 * bytes (user/flow/fn_top.c says what the key holds and reads the table).
 *
 * A routine spliced into a flow's program as a subprogram (docs/
 * architecture.md, "Functions in BPF C"): the table comes as an argument,
 * not as a map the object names, so the code carries no relocations.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "user/flow/fn_top.h"

static __always_inline int add(struct top_count *c, __u64 len)
{
	c->packets++;
	c->bytes += len;
	return 0;
}

/*
 * Counts a packet of wire length len under the key (on the caller's
 * stack) in the per-CPU table: 0 when counted, 1 when the table is full
 * and the value not in it (the caller counts it as "other").
 */
__attribute__((noinline)) int mapi_top_count(void *table, const struct top_key *key, __u64 len)
{
	struct top_count *c = bpf_map_lookup_elem(table, key);
	struct top_count first = { 1, len };

	if (c)
		return add(c, len);
	if (!bpf_map_update_elem(table, key, &first, BPF_NOEXIST))
		return 0;
	/* another CPU put it in meanwhile, or the table is full */
	c = bpf_map_lookup_elem(table, key);
	if (c)
		return add(c, len);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
