/* SPDX-License-Identifier: BSD-2-Clause */
/* STATS's per-CPU cell, as its routine (bpf/fn/stats.bpf.c) and
 * user/flow/fn_stats.c both see it. */
#ifndef MAPI_FN_STATS_H
#define MAPI_FN_STATS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct stats_cell {
	__u64 count;
	__u64 sum_lo, sum_hi;	/* the sum, 128 bits (32-bit values overflow 64
				 * after 2^32 of them: hours at line rate) */
	__u64 sum2_lo, sum2_hi;	/* the sum of squares, 128 bits */
	__u64 min, max;
};

/* Adds v to a cell (one writer: a CPU's, or the trace reader). */
static inline void stats_cell_add(struct stats_cell *c, __u64 v)
{
	__u64 sq = v * v;	/* v is at most 32 bits */

	if (!c->count || v < c->min)
		c->min = v;
	if (!c->count || v > c->max)
		c->max = v;
	c->count++;
	c->sum_lo += v;
	c->sum_hi += c->sum_lo < v;
	c->sum2_lo += sq;
	c->sum2_hi += c->sum2_lo < sq;
}

#ifndef __bpf__
struct bpf_routine;
extern const struct bpf_routine routine_mapi_stats_add;
#endif

#endif
