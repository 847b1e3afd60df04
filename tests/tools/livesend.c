/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * livesend IFACE COUNT [tcp80|udp]: sends COUNT copies of a frame out of a
 * veth as fast as the kernel can, with BPF_PROG_TEST_RUN's live-frames mode
 * on an XDP_TX program (the receiving veth needs an XDP program attached).
 * Prints "sent COUNT in SECONDS s".  tcp80 (the default) is a TCP segment
 * to port 80; udp a datagram to port 53.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "livesend.skel.h"
#include "pktbuild.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}


int main(int argc, char **argv)
{
	struct xdp_md ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .batch_size = 64);
	struct livesend_bpf *skel;
	unsigned long long count, left;
	struct pkt frame;
	double t0, t1;
	int err;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "tcp80") &&
				     strcmp(argv[3], "udp"))) {
		fprintf(stderr, "usage: livesend IFACE COUNT [tcp80|udp]\n");
		return 2;
	}
	libbpf_set_print(quiet);
	ctx.ingress_ifindex = if_nametoindex(argv[1]);
	if (!ctx.ingress_ifindex) {
		fprintf(stderr, "livesend: no interface %s\n", argv[1]);
		return 1;
	}
	count = strtoull(argv[2], NULL, 10);
	pkt_bench_frame(&frame, argc == 4 && !strcmp(argv[3], "udp"));
	skel = livesend_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "livesend: cannot load the XDP_TX program\n");
		return 1;
	}
	opts.data_in = frame.b;
	opts.data_size_in = (uint32_t)frame.len;
	ctx.data_end = (uint32_t)frame.len;	/* the kernel wants the context to agree */
	t0 = now();
	/* repeat is 32 bits wide: send in rounds */
	for (left = count; left > 0;) {
		uint32_t n = left > 1000000000ull ? 1000000000u : (uint32_t)left;

		opts.repeat = n;
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_tx), &opts);
		if (err) {
			perror("livesend: BPF_PROG_TEST_RUN");
			return 1;
		}
		left -= n;
	}
	t1 = now();
	printf("sent %llu in %.6f s\n", count, t1 - t0);
	livesend_bpf__destroy(skel);
	return 0;
}
