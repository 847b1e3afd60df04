// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * STATS's kernel state: a per-CPU cell of count, sum, sum of squares,
 * minimum and maximum (user/flow/fn_stats.c merges the CPUs' cells).  A
 * routine spliced into a flow's program: its map comes as an argument.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "user/flow/fn_stats.h"

/* Adds v to this CPU's cell of cells (a per-CPU array map of one). */
__attribute__((noinline)) int mapi_stats_add(void *cells, __u64 v)
{
	struct stats_cell *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(cells, &zero);
	if (c)
		stats_cell_add(c, v);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
