/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cost RUNS: per-packet cost of a flow program, by BPF_PROG_TEST_RUN, against
 * an empty XDP program timed in the same run (the floor on this machine).
 * connect RUNS IFACE OTHERS: mapi_connect() latency with OTHERS other flows
 * on the interface.  Each prints JSON lines: the median of RUNS runs and
 * every run.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baseline.skel.h"
#include "benchstat.h"
#include "flowprog.h"
#include "mapi.h"
#include "pktbuild.h"

#define REPEAT 2000000u

static double time_ns(int fd, const struct pkt *p)
{
	uint32_t ns = 0;

	if (flowprog_time(fd, p->b, (uint32_t)p->len, REPEAT, &ns)) {
		perror("cost: BPF_PROG_TEST_RUN");
		exit(1);
	}
	return ns;
}

static int cost(int runs)
{
	static const char *const names[] = { "match", "no_match" };
	struct baseline_bpf *skel = baseline_bpf__open_and_load();
	struct cbpf_prog filter;
	struct flowprog fp;
	struct pkt pkts[2];
	int k, r, root;

	/* As attached: a root that tail-calls the group (native XDP, no frags). */
	if (!skel || cbpf_compile("tcp and dst port 80", LINKTYPE_ETHERNET, 0, &filter) ||
	    flowprog_build_chained(&fp, &filter, FP_XDP, 1, &root)) {
		fprintf(stderr, "cost: cannot load the programs\n");
		return 1;
	}
	pkt_bench_frame(&pkts[0], 0);
	pkt_bench_frame(&pkts[1], 1);
	for (k = 0; k < 2; k++) {
		double empty[64], flow[64], delta[64];

		for (r = 0; r < runs && r < 64; r++) {
			/* interleaved, so that both see the same machine */
			empty[r] = time_ns(bpf_program__fd(skel->progs.xdp_pass), &pkts[k]);
			flow[r] = time_ns(root, &pkts[k]);
			delta[r] = flow[r] - empty[r];
		}
		printf("{\"case\":\"cost.filter_pkt_byte.%s\",\"filter\":\"tcp and dst port 80\","
		       "\"unit\":\"ns/packet\",\"median\":%.3f,\"baseline\":%.3f,\"flow\":%.3f,"
		       "\"runs\":", names[k], bench_median(delta, r), bench_median(empty, r),
		       bench_median(flow, r));
		bench_print_runs(delta, r);
		printf("}\n");
	}
	flowprog_free(&fp);
	cbpf_prog_free(&filter);
	baseline_bpf__destroy(skel);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int new_flow(const char *dev, const char *filter)
{
	int fd = mapi_create_flow(dev);

	if (fd < 0 || mapi_apply_function(fd, "BPF_FILTER", filter) < 0 ||
	    mapi_apply_function(fd, "PKT_COUNTER") < 0 ||
	    mapi_apply_function(fd, "BYTE_COUNTER") < 0) {
		char msg[MAPI_ERRORSTR_LENGTH];

		mapi_read_error(NULL, msg);
		fprintf(stderr, "connect: %s\n", msg);
		exit(1);
	}
	return fd;
}

static int connect_latency(int runs, const char *dev, int others)
{
	double ms[256];
	int *fds = calloc((size_t)others + 1, sizeof(int));
	char filter[64];
	int i, r;

	for (i = 0; i < others; i++) {
		snprintf(filter, sizeof(filter), "tcp and dst port %d", 1000 + i);
		fds[i] = new_flow(dev, filter);
		if (mapi_connect(fds[i]) < 0) {
			fprintf(stderr, "connect: cannot connect flow %d\n", i);
			return 1;
		}
	}
	for (r = 0; r < runs && r < 256; r++) {
		int fd = new_flow(dev, "tcp and dst port 80");
		double t0 = now_ms();

		if (mapi_connect(fd) < 0) {
			fprintf(stderr, "connect: mapi_connect failed\n");
			return 1;
		}
		ms[r] = now_ms() - t0;
		mapi_close_flow(fd);
	}
	printf("{\"case\":\"connect.others_%d\",\"unit\":\"ms\",\"median\":%.3f,\"runs\":",
	       others, bench_median(ms, r));
	bench_print_runs(ms, r);
	printf("}\n");
	for (i = 0; i < others; i++)
		mapi_close_flow(fds[i]);
	free(fds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "cost"))
		return cost(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "connect"))
		return connect_latency(atoi(argv[2]), argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: cost cost RUNS | cost connect RUNS IFACE OTHERS\n");
	return 2;
}
