// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * A stream of packets from many sources in one BPF_PROG_TEST_RUN, for the
 * benchmarks of functions with tables (TOP, DISTINCT): each run writes
 * the next IPv4 source address of a list into the frame, which the test
 * run keeps from one repeat to the next, and tail-calls the program under
 * test.  Timed against the same stream into a program that only counts,
 * the difference is a function's cost a packet as traffic would see it,
 * its table warm or not as the keys make it, not as a system call leaves
 * the caches before each packet.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define KEYFEED_SOURCES (1 << 19)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KEYFEED_SOURCES);
	__type(key, __u32);
	__type(value, __u32);		/* in network order */
} sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);		/* the next source, how many there are */
	__type(key, __u32);
	__type(value, __u32);
} cursor SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} under_test SEC(".maps");

SEC("xdp.frags")
int xdp_keyfeed(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0, one = 1, *next = bpf_map_lookup_elem(&cursor, &zero);
	__u32 *count = bpf_map_lookup_elem(&cursor, &one), *src;

	if (!next || !count || data + 30 > data_end)
		return XDP_ABORTED;
	src = bpf_map_lookup_elem(&sources, next);
	if (!src)
		return XDP_ABORTED;
	*(__u32 *)(data + 26) = *src;	/* the IPv4 source, after 14 + 12 bytes */
	*next = *next + 1 < *count ? *next + 1 : 0;
	bpf_tail_call(ctx, &under_test, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
