/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * filters RUNS: the cost of translated filters against libpcap's own
 * interpreter, on the same frames (the filter corpus, frames up to a page).
 *
 *  - eBPF: each filter alone (codegen_filter, native XDP on linear frames)
 *    run by BPF_PROG_TEST_RUN on every frame, minus an empty XDP program
 *    run on the same frames in the same run;
 *  - libpcap: pcap_offline_filter() over the same frames, timed in user
 *    space.
 *
 * Prints one JSON line a filter: the medians over RUNS and their ratio.
 */
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "baseline.skel.h"
#include "benchstat.h"
#include "codegen.h"
#include "flowprog.h"
#include "pcap_oracle.h"
#include "traffic.h"

/*
 * BPF_PROG_TEST_RUN with more than one repetition puts the XDP program in
 * the kernel's XDP dispatcher and takes it out again (two RCU waits, some
 * 16 ms a call): few frames, many repetitions each.
 */
#define FRAMES 24
#define REPEAT 200000	/* BPF_PROG_TEST_RUN repetitions a frame */
#define PCAP_LOOPS 200000	/* passes of libpcap over the frames */

static const char *const filters[] = {
	"tcp and dst port 80",
	"udp port 53",
	"host 10.1.0.80",
	"net 192.168.0.0/16 and tcp",
	"tcp[tcpflags] & tcp-syn != 0",
	"ip6 and tcp",
	"vlan and udp",
	"port 20 or port 21 or port 22 or port 23 or port 25 or port 53 or port 80 or port 443",
	"ip[2:2] > 576",
	"not arp and not icmp and len > 100",
};

static struct pkt *frames;
static int nframes;

/* Mean kernel time per run over every frame (ns). */
static double kernel_ns(int fd)
{
	double total = 0;
	int i;

	for (i = 0; i < nframes; i++) {
		uint32_t ns = 0;

		if (flowprog_time(fd, frames[i].b, (uint32_t)frames[i].len, REPEAT, &ns)) {
			perror("filters: BPF_PROG_TEST_RUN");
			exit(1);
		}
		total += ns;
	}
	return total / nframes;
}

static double libpcap_ns(const struct cbpf_prog *prog)
{
	volatile unsigned int sink = 0;
	double t0 = bench_now_ns();
	int l, i;

	for (l = 0; l < PCAP_LOOPS / 100; l++)
		for (i = 0; i < nframes; i++)
			sink += oracle_run(prog, frames[i].b, (uint32_t)frames[i].len,
					   (uint32_t)frames[i].len);
	(void)sink;
	return (bench_now_ns() - t0) / ((double)(PCAP_LOOPS / 100) * nframes);
}

int main(int argc, char **argv)
{
	struct baseline_bpf *skel = baseline_bpf__open_and_load();
	struct prog_target t = { .hook = XLATE_XDP, .ingress = 1 };
	int runs = argc > 1 ? atoi(argv[1]) : 5, r;
	size_t f;

	if (!skel || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: filters RUNS (1..64), as root\n");
		return 1;
	}
	frames = calloc(FRAMES, sizeof(*frames));
	traffic_seed(2026);
	while (nframes < FRAMES) {
		traffic_corpus_next(&frames[nframes]);
		if (frames[nframes].len <= flowprog_max_frame(FP_XDP))
			nframes++;
	}
	for (f = 0; f < sizeof(filters) / sizeof(*filters); f++) {
		double ebpf[64], pcap[64], ratio[64];
		struct cbpf_prog prog;
		struct codegen cg;
		int fd;

		if (cbpf_compile(filters[f], LINKTYPE_ETHERNET, 0, &prog) ||
		    codegen_filter(&cg, &t, &prog)) {
			fprintf(stderr, "filters: cannot build '%s'\n", filters[f]);
			return 1;
		}
		fd = loader_load(&cg.pb, &t);
		pb_free(&cg.pb);
		if (fd < 0) {
			fprintf(stderr, "filters: cannot load '%s'\n", filters[f]);
			return 1;
		}
		for (r = 0; r < runs; r++) {
			double empty = kernel_ns(bpf_program__fd(skel->progs.xdp_pass));

			ebpf[r] = kernel_ns(fd) - empty;
			pcap[r] = libpcap_ns(&prog);
			ratio[r] = ebpf[r] / pcap[r];
		}
		printf("{\"case\":\"filter.%zu\",\"filter\":\"%s\",\"unit\":\"ns/packet\","
		       "\"ebpf\":%.3f,\"libpcap\":%.3f,\"median\":%.3f,\"runs\":",
		       f, filters[f], bench_median(ebpf, runs), bench_median(pcap, runs),
		       bench_median(ratio, runs));
		bench_print_runs(ratio, runs);
		printf("}\n");
		fflush(stdout);
		close(fd);
		cbpf_prog_free(&prog);
	}
	free(frames);
	baseline_bpf__destroy(skel);
	return 0;
}
