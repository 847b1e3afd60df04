// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Baselines for the benchmarks: the least an XDP program can do (the floor
 * every per-packet cost is measured against), the least one can do that
 * still tells how many packets it saw, and the kernel's clock read once
 * (the floor of the functions that timestamp packets: GAP, PKTINFO).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&seen, &key);

	if (n)
		(*n)++;
	return XDP_PASS;
}

SEC("xdp")
int xdp_clock(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&seen, &key);

	if (n)
		*n = bpf_ktime_get_ns();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
