// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * DIST's kernel state: a per-CPU array map of bins (user/flow/fn_dist.c
 * sums the CPUs').  A routine spliced into a flow's program: its map comes
 * as an argument.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "user/flow/fn_dist.h"

/* Counts v in this CPU's bin of bins (a per-CPU array map of bins + 2
 * u64). */
__attribute__((noinline)) int mapi_dist_add(void *binmap, __u64 v, __u64 min, __u64 step,
					    __u32 bins)
{
	__u32 i = dist_bin(v, min, step, bins);
	__u64 *n = bpf_map_lookup_elem(binmap, &i);

	if (n)
		(*n)++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
