/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xdpattach IFACE pass|count: attaches a baseline XDP program (bpf/baseline)
 * in native mode until SIGINT or SIGTERM.  "count" then prints how many
 * packets it saw.  Prints "ready" once attached.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "baseline.skel.h"

int main(int argc, char **argv)
{
	struct baseline_bpf *skel;
	struct bpf_link *link;
	struct bpf_program *prog;
	unsigned long long total = 0;
	sigset_t stop;
	int ifindex, sig, ncpus, i;

	if (argc != 3 || (strcmp(argv[2], "pass") && strcmp(argv[2], "count"))) {
		fprintf(stderr, "usage: xdpattach IFACE pass|count\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	skel = baseline_bpf__open_and_load();
	if (!ifindex || !skel) {
		fprintf(stderr, "xdpattach: no interface %s, or cannot load\n", argv[1]);
		return 1;
	}
	prog = strcmp(argv[2], "pass") ? skel->progs.xdp_count : skel->progs.xdp_pass;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	link = bpf_program__attach_xdp(prog, ifindex);
	if (!link) {
		fprintf(stderr, "xdpattach: cannot attach to %s\n", argv[1]);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&stop, &sig);
	ncpus = libbpf_num_possible_cpus();
	{
		unsigned long long per_cpu[ncpus];
		__u32 key = 0;

		if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.seen), &key, per_cpu))
			for (i = 0; i < ncpus; i++)
				total += per_cpu[i];
	}
	if (prog == skel->progs.xdp_count)
		printf("seen %llu\n", total);
	bpf_link__destroy(link);
	baseline_bpf__destroy(skel);
	return 0;
}
