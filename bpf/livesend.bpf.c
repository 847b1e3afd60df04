// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The traffic generator's program: run by BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES on a veth, every frame it bounces with XDP_TX
 * leaves through that veth for real, at millions of packets a second.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
