/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What going through mapid costs, against the same work in process.  The
 * backend is the environment's (MAPI_BACKEND), so one binary measures both.
 *
 * daemon read RUNS IFACE: ns per MAPI_COPY read of a counter of a connected flow
 *   (1,000,000 reads a run); then, between two getppid() calls that mark
 *   them for strace, 100,000 more reads: the system calls they make.
 * daemon flows N IFACE: connects N flows "tcp and dst port 2000+k" + PKT_COUNTER,
 *   prints "ready BACKEND", and holds them until it is killed.
 * daemon attached RUNS IFACE: ns per packet of the XDP program attached to IFACE
 *   (whoever attached it), by BPF_PROG_TEST_RUN on a TCP frame to port 80
 *   (every flow above examines it, none keeps it), minus the empty XDP
 *   program on the same frame in the same run.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "baseline.skel.h"
#include "benchstat.h"
#include "flowprog.h"
#include "mapi.h"
#include "pktbuild.h"

#define MAX_RUNS 64

static void die_mapi(const char *what)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "mapid bench: %s: %s (%d)\n", what, msg, code);
	exit(1);
}

static int counting_flow(const char *dev, const char *filter, int *fid)
{
	int fd = mapi_create_flow(dev);

	if (fd < 0 || (filter && mapi_apply_function(fd, "BPF_FILTER", filter) < 0) ||
	    (*fid = mapi_apply_function(fd, "PKT_COUNTER")) < 0 || mapi_connect(fd) < 0)
		die_mapi("a counting flow");
	return fd;
}

static const char *backend_of(int fd)
{
	static mapi_flow_info_t info;

	if (mapi_get_flow_info(fd, &info) < 0)
		die_mapi("mapi_get_flow_info");
	return info.backend;
}

static int reads(int runs, const char *dev)
{
	double ns[MAX_RUNS];
	volatile unsigned long long sink = 0;
	int fid, fd = counting_flow(dev, NULL, &fid), r, i;

	for (r = 0; r < runs && r < MAX_RUNS; r++) {
		double t0 = bench_now_ns();

		for (i = 0; i < 1000000; i++)
			sink += *(unsigned long long *)mapi_read_results(fd, fid, MAPI_COPY);
		ns[r] = (bench_now_ns() - t0) / 1e6;
	}
	syscall(SYS_getppid);	/* strace's marks: the reads between them */
	for (i = 0; i < 100000; i++)
		sink += *(unsigned long long *)mapi_read_results(fd, fid, MAPI_COPY);
	syscall(SYS_getppid);
	printf("{\"case\":\"mapid.read.%s\",\"unit\":\"ns/read\",\"median\":%.3f,\"runs\":",
	       backend_of(fd), bench_median(ns, r));
	bench_print_runs(ns, r);
	printf("}\n");
	mapi_close_flow(fd);
	return 0;
}

static int hold_flows(int n, const char *dev)
{
	int *fds = calloc((size_t)n, sizeof(*fds)), fid, i;
	char filter[64];

	if (!fds)
		return 1;
	for (i = 0; i < n; i++) {
		snprintf(filter, sizeof(filter), "tcp and dst port %d", 2000 + i);
		fds[i] = counting_flow(dev, filter, &fid);
	}
	printf("ready %s\n", backend_of(fds[0]));
	fflush(stdout);
	for (;;)
		pause();	/* the flows go with the process */
}

static int attached(int runs, const char *dev)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct baseline_bpf *skel = baseline_bpf__open_and_load();
	double empty[MAX_RUNS], delta[MAX_RUNS];
	int ifindex = (int)if_nametoindex(dev), fd, r;
	struct pkt p;

	if (!skel || !ifindex || bpf_xdp_query(ifindex, 0, &q) || !(q.prog_id | q.drv_prog_id)) {
		fprintf(stderr, "mapid bench: nothing attached to %s\n", dev);
		return 1;
	}
	fd = bpf_prog_get_fd_by_id(q.prog_id ? q.prog_id : q.drv_prog_id);
	if (fd < 0) {
		perror("mapid bench: the attached program");
		return 1;
	}
	pkt_bench_frame(&p, 0);
	for (r = 0; r < runs && r < MAX_RUNS; r++) {
		uint32_t e = 0, a = 0;

		if (flowprog_time(bpf_program__fd(skel->progs.xdp_pass), p.b, (uint32_t)p.len,
				  1000000, &e) ||
		    flowprog_time(fd, p.b, (uint32_t)p.len, 1000000, &a)) {
			perror("mapid bench: BPF_PROG_TEST_RUN");
			return 1;
		}
		empty[r] = e;
		delta[r] = (double)a - e;
	}
	printf("{\"case\":\"mapid.attached\",\"unit\":\"ns/packet\",\"median\":%.3f,"
	       "\"baseline\":%.3f,\"runs\":", bench_median(delta, r), bench_median(empty, r));
	bench_print_runs(delta, r);
	printf("}\n");
	close(fd);
	baseline_bpf__destroy(skel);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "read"))
		return reads(atoi(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "flows"))
		return hold_flows(atoi(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "attached"))
		return attached(atoi(argv[2]), argv[3]);
	fprintf(stderr, "usage: daemon read RUNS IFACE | daemon flows N IFACE | "
			"daemon attached RUNS IFACE\n");
	return 2;
}
