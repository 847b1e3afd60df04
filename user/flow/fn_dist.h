/* SPDX-License-Identifier: BSD-2-Clause */
/* DIST's bins, as its routine (bpf/fn/dist.bpf.c) and user/flow/fn_dist.c
 * both see them. */
#ifndef MAPI_FN_DIST_H
#define MAPI_FN_DIST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bins between MIN and MAX, and one below and one above. */
#define DIST_MAX_BINS 1024

/* The bin of v: 0 below min, 1 + (v - min) / step within, bins + 1 from
 * max on (max = min + bins * step). */
static inline __u32 dist_bin(__u64 v, __u64 min, __u64 step, __u32 bins)
{
	__u64 i;

	if (v < min)
		return 0;
	i = (v - min) / step;
	return i >= bins ? bins + 1 : (__u32)i + 1;
}

#ifndef __bpf__
struct bpf_routine;
extern const struct bpf_routine routine_mapi_dist_add;
#endif

#endif
