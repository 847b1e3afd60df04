/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TOP's table, as its routine (bpf/fn/top.bpf.c) and user/flow/fn_top.c
 * both see it.
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

#ifndef __bpf__
struct bpf_routine;
extern const struct bpf_routine routine_mapi_top_count;
#endif

#endif
