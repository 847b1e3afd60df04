// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Someone else's XDP program, for the coexistence tests: a firewall that
 * drops IPv4 UDP datagrams to port 9 (discard) and passes everything
 * else.  Tests attach it with `ip link set dev X xdp obj drop_udp9.bpf.o`
 * before mapi-bpf, which must then count exactly what it passes.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_IP 0x0800
#define DISCARD_PORT 9

SEC("xdp")
int drop_udp9(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_UDP || ip->frag_off & bpf_htons(0x1fff))
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	return udp->dest == bpf_htons(DISCARD_PORT) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
