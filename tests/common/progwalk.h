/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The BPF programs the kernel holds, walked without opening a map.
 *
 * bpftool (prog show included, looking for metadata) opens maps by id;
 * opening and closing a prog array whose last user fd was just closed,
 * before the kernel has cleared it, queues the clearing twice and leaks a
 * reference: the array is never freed.  Tests that watch objects go away
 * walk programs with this instead.
 */
#ifndef MAPI_TESTS_PROGWALK_H
#define MAPI_TESTS_PROGWALK_H

#include <bpf/bpf.h>

/*
 * Calls fn for each program with an id above `since` (those freed meanwhile
 * are skipped).  0, or -1 when the walk itself failed.
 */
int prog_walk(__u32 since, void (*fn)(__u32 id, const struct bpf_prog_info *info, void *ctx),
	      void *ctx);

#endif
