/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hookstate IFACE [ids]: what runs on an interface's hooks, as the kernel
 * says: "xdp=<program id or 0> tcx_ingress=<programs attached>
 * tcx_egress=<programs attached>", or with
 * "ids" the ids of every attached program, one a line.  Tests use it to
 * prove that nothing is left behind.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <stdio.h>

#define ATTACH_TCX_INGRESS 46
#define ATTACH_TCX_EGRESS 47

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 ids[128], cnt = 64, in = 64, flags = 0, xdp_id;
	int ifindex;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: hookstate IFACE [ids]\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "hookstate: no interface %s\n", argv[1]);
		return 1;
	}
	if (bpf_xdp_query(ifindex, 0, &q)) {
		perror("hookstate: xdp query");
		return 1;
	}
	xdp_id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id :
		 q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
	if (bpf_prog_query(ifindex, ATTACH_TCX_INGRESS, 0, &flags, ids, &in))
		in = 0;
	if (bpf_prog_query(ifindex, ATTACH_TCX_EGRESS, 0, &flags, ids + in, &cnt))
		cnt = 0;
	if (argc == 3) {
		__u32 i;

		if (xdp_id)
			printf("%u\n", xdp_id);
		for (i = 0; i < in + cnt; i++)
			printf("%u\n", ids[i]);
		return 0;
	}
	printf("xdp=%u tcx_ingress=%u tcx_egress=%u\n", xdp_id, in, cnt);
	return 0;
}
