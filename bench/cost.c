/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cost RUNS: per-packet cost of a flow program, by BPF_PROG_TEST_RUN, against
 * an empty XDP program timed in the same run (the floor on this machine):
 * as attached (with fragment support) and as a driver that refuses that
 * gets it (_linear).
 * connect RUNS IFACE OTHERS: mapi_connect() latency with OTHERS other flows
 * on the interface.
 *
 * Conversation flows (filters that fix the addresses, protocol and a port,
 * found by a hash lookup), shaped like an FTP tracker's data connections
 * ("tcp and host C and host S and port P"):
 * convs RUNS: per-packet cost of the hook's programs as attached (the root,
 * then the hash flows' program) with 1, 10, 100 and 1,000 such flows, on a
 * frame of one of them, against the empty XDP program.
 * convs-connect RUNS IFACE N: connects N such flows on IFACE through the
 * library, prints "ready N" and waits for a line on standard input (the
 * caller measures memory meanwhile), then times creating and connecting
 * flow N+1, RUNS times (each closed again).
 *
 * functions RUNS: per-packet cost of each function of the library that
 * has no case of its own, alone before a PKT_COUNTER, over the counter
 * alone (as attached, XDP with fragments), against the empty program.
 *
 * top-keys RUNS: TOP 10 of the source address over 100,000 possible
 * sources, Zipf-distributed, then DISTINCT of the sources over the same
 * packets: the per-packet cost of each over the counter alone, each packet
 * run once (BPF_PROG_TEST_RUN of one repeat, for both), the kernel memory
 * of their maps, and how far their answers are from the exact ones.
 *
 * Each prints JSON lines: the median of RUNS runs and every run.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "baseline.skel.h"
#include "keyfeed.skel.h"
#include "slottouch.skel.h"
#include "benchstat.h"
#include "codegen.h"
#include "flowprog.h"
#include "functions.h"
#include "hashflow.h"
#include "hashpath.h"
#include "loader.h"
#include "mapi.h"
#include "pktbuild.h"

#define REPEAT 2000000u
#define MAX_RUNS 64

static double time_ns_n(int fd, const struct pkt *p, uint32_t repeat)
{
	uint32_t ns = 0;

	if (flowprog_time(fd, p->b, (uint32_t)p->len, repeat, &ns)) {
		perror("BPF_PROG_TEST_RUN");
		exit(1);
	}
	return ns;
}

static double time_ns(int fd, const struct pkt *p)
{
	return time_ns_n(fd, p, REPEAT);
}

/* The root and group of one flow, as attached at target: its cost on each
 * frame, against the empty program. */
static int cost_at(int runs, const struct cbpf_prog *filter, int target, const char *variant,
		   int empty_fd)
{
	static const char *const names[] = { "match", "no_match" };
	struct flowprog fp;
	struct pkt pkts[2];
	int k, r, root;

	if (flowprog_build_chained(&fp, filter, target, 1, &root)) {
		fprintf(stderr, "cost: cannot load the programs\n");
		return 1;
	}
	pkt_bench_frame(&pkts[0], 0);
	pkt_bench_frame(&pkts[1], 1);
	for (k = 0; k < 2; k++) {
		double empty[64], flow[64], delta[64];

		for (r = 0; r < runs && r < 64; r++) {
			/* interleaved, so that both see the same machine */
			empty[r] = time_ns(empty_fd, &pkts[k]);
			flow[r] = time_ns(root, &pkts[k]);
			delta[r] = flow[r] - empty[r];
		}
		printf("{\"case\":\"cost.filter_pkt_byte%s.%s\",\"filter\":\"tcp and dst port 80\","
		       "\"unit\":\"ns/packet\",\"median\":%.3f,\"baseline\":%.3f,\"flow\":%.3f,"
		       "\"runs\":", variant, names[k], bench_median(delta, r),
		       bench_median(empty, r), bench_median(flow, r));
		bench_print_runs(delta, r);
		printf("}\n");
	}
	flowprog_free(&fp);
	return 0;
}

/* As attached: a root that tail-calls the group, in native XDP with
 * fragment support; and without, for a driver that refuses it. */
static int cost(int runs)
{
	struct baseline_bpf *skel = baseline_bpf__open_and_load();
	struct cbpf_prog filter;
	int ret;

	if (!skel || cbpf_compile("tcp and dst port 80", LINKTYPE_ETHERNET, 0, &filter)) {
		fprintf(stderr, "cost: cannot load the programs\n");
		return 1;
	}
	ret = cost_at(runs, &filter, FP_XDP_FRAGS, "", bpf_program__fd(skel->progs.xdp_pass));
	if (!ret)
		ret = cost_at(runs, &filter, FP_XDP, "_linear", bpf_program__fd(skel->progs.xdp_pass));
	cbpf_prog_free(&filter);
	baseline_bpf__destroy(skel);
	return ret;
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
			char msg[MAPI_ERRORSTR_LENGTH];

			mapi_read_error(NULL, msg);
			fprintf(stderr, "connect: mapi_connect: %s\n", msg);
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

/* --- conversation flows ---------------------------------------------------- */

/* Flow i: the bench frame's conversation for i = 0, other clients after. */
static void conv_filter(char *buf, size_t len, int i)
{
	if (i == 0)
		snprintf(buf, len, "tcp and host 10.1.0.1 and host 10.1.0.80 and port 80");
	else
		snprintf(buf, len, "tcp and host 10.2.%d.%d and host 10.1.0.80 and port 80",
			 i / 250, 1 + i % 250);
}

/* The root and hash program of a native XDP hook over hp; returns the root. */
static int load_chain(struct hashpath *hp, int *array_fd, int *hash_fd)
{
	struct prog_target t = { .hook = XLATE_XDP, .ingress = 1 };
	uint32_t slot = CHAIN_HASH_SLOT;
	struct prog_buf pb;
	int root;

	*array_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "mapi_bench_chain", 4, 4,
				   CHAIN_SLOTS, NULL);
	if (*array_fd < 0 || codegen_hash(&pb, &t, *array_fd, hp))
		return -1;
	*hash_fd = loader_load(&pb, &t);
	pb_free(&pb);
	if (*hash_fd < 0 || bpf_map_update_elem(*array_fd, &slot, hash_fd, BPF_ANY) ||
	    codegen_root(&pb, &t, *array_fd))
		return -1;
	root = loader_load(&pb, &t);
	pb_free(&pb);
	return root;
}

static int convs_cost(int runs)
{
	static const int counts[] = { 1, 10, 100, 1000 };
	struct baseline_bpf *skel = baseline_bpf__open_and_load();
	struct hf_key keys[HF_MAX_KEYS];
	struct hashpath *hp;
	int array_fd, hash_fd, root, c, i = 0, n, r;
	char filter[128];
	uint32_t idx, frame_flow = 0;
	struct pkt p;

	if (!skel || hashpath_create(&hp) || (root = load_chain(hp, &array_fd, &hash_fd)) < 0) {
		fprintf(stderr, "convs: cannot load the programs\n");
		return 1;
	}
	pkt_bench_frame(&p, 0);
	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	for (c = 0; c < 4; c++) {
		double empty[MAX_RUNS], flows[MAX_RUNS], delta[MAX_RUNS];

		/* add flows up to the count (the tables are live: no reload) */
		for (; i < counts[c]; i++) {
			conv_filter(filter, sizeof(filter), i);
			if (!hf_parse(filter, keys, &n) || hashpath_add(hp, keys, n, 1, &idx)) {
				fprintf(stderr, "convs: cannot add '%s'\n", filter);
				return 1;
			}
			if (i == 0)
				frame_flow = idx;
		}
		for (r = 0; r < runs; r++) {
			empty[r] = time_ns(bpf_program__fd(skel->progs.xdp_pass), &p);
			flows[r] = time_ns(root, &p);
			delta[r] = flows[r] - empty[r];
		}
		printf("{\"case\":\"convs.cost_%d\",\"flows\":%d,\"unit\":\"ns/packet\","
		       "\"median\":%.3f,\"baseline\":%.3f,\"flow\":%.3f,\"runs\":", counts[c],
		       counts[c], bench_median(delta, runs), bench_median(empty, runs),
		       bench_median(flows, runs));
		bench_print_runs(delta, runs);
		printf("}\n");
	}
	/* the frame's flow counted every run of every count */
	if (hashpath_read(hp, frame_flow, HP_SLOT_PKTS) == 0) {
		fprintf(stderr, "convs: the frame's flow counted nothing\n");
		return 1;
	}
	hashpath_destroy(hp);
	baseline_bpf__destroy(skel);
	return 0;
}

static int conv_flow(const char *dev, int i)
{
	char filter[128];
	int fd;

	conv_filter(filter, sizeof(filter), i);
	fd = mapi_create_flow(dev);
	if (fd < 0 || mapi_apply_function(fd, "BPF_FILTER", filter) < 0 ||
	    mapi_apply_function(fd, "PKT_COUNTER") < 0 ||
	    mapi_apply_function(fd, "BYTE_COUNTER") < 0 || mapi_connect(fd) < 0) {
		char msg[MAPI_ERRORSTR_LENGTH];

		mapi_read_error(NULL, msg);
		fprintf(stderr, "convs: flow %d: %s\n", i, msg);
		exit(1);
	}
	return fd;
}

static int convs_connect(int runs, const char *dev, int n)
{
	double ms[MAX_RUNS];
	char line[16];
	int i, r;

	for (i = 0; i < n; i++)
		conv_flow(dev, i);
	printf("ready %d\n", n);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	for (r = 0; r < runs; r++) {
		double t0 = now_ms();
		int fd = conv_flow(dev, n + r);

		ms[r] = now_ms() - t0;
		mapi_close_flow(fd);
	}
	printf("{\"case\":\"convs.connect_%d\",\"unit\":\"ms\",\"median\":%.3f,\"runs\":", n + 1,
	       bench_median(ms, runs));
	bench_print_runs(ms, runs);
	printf("}\n");
	return 0;
}

/* The functions: name, then its arguments; a function that fills a ring
 * of its own (HASHSAMP's records) runs fewer packets a run, its ring
 * emptied between runs as the library's thread empties it. */
#define RING_REPEAT 2000u
static const struct {
	const char *label;
	struct flowprog_fn fn;
} lib_fns[] = {
	{ "sample_periodic_10", { "SAMPLE", { { MAPI_ARG_INT, { .i = 10 } },
					      { MAPI_ARG_INT, { .i = MAPI_PERIODIC } } }, 2 } },
	{ "sample_probabilistic_50", { "SAMPLE", { { MAPI_ARG_INT, { .i = 50 } },
						   { MAPI_ARG_INT, { .i = MAPI_PROBABILISTIC } } },
				       2 } },
	{ "hashsamp_512", { "HASHSAMP", { { MAPI_ARG_INT, { .i = 512 } } }, 1 } },
	{ "hashsamp_1024_keep", { "HASHSAMP", { { MAPI_ARG_INT, { .i = 1024 } },
						{ MAPI_ARG_INT, { .i = 1 } } }, 2 } },
	{ "stats_pkt_size", { "STATS", { { MAPI_ARG_INT, { .i = MAPI_PKT_SIZE } } }, 1 } },
	{ "gap", { "GAP", { { 0 } }, 0 } },
	{ "pktinfo_ts", { "PKTINFO", { { MAPI_ARG_INT, { .i = MAPI_PKT_TS } } }, 1 } },
	{ "dist_pkt_size", { "DIST", { { MAPI_ARG_INT, { .i = MAPI_PKT_SIZE } },
				       { MAPI_ARG_INT, { .i = 0 } },
				       { MAPI_ARG_INT, { .i = 1600 } },
				       { MAPI_ARG_INT, { .i = 100 } } }, 4 } },
	{ "stats_ttl", { "STATS", { { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
				    { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_TTL } } }, 2 } },
	/* one source, always in the table */
	{ "top_srcip", { "TOP", { { MAPI_ARG_INT, { .i = 10 } },
				  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
				  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_SRCIP } } }, 3 } },
	{ "distinct_dstip", { "DISTINCT", { { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
					    { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_DSTIP } } }, 2 } },
	{ "distinct_dstip_per_srcip", { "DISTINCT",
					{ { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
					  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_DSTIP } },
					  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
					  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_SRCIP } } }, 4 } },
};

/* Every function of lib_fns, or the one labelled only. */
static int functions_cost(int runs, const char *only)
{
	struct baseline_bpf *skel = baseline_bpf__open_and_load();
	struct flowprog counter;
	struct fn_instance *fi;
	struct pkt p;
	size_t k;
	int r, ring;

	if (!skel || flowprog_build_fns(&counter, NULL, NULL, 0, FP_XDP_FRAGS)) {
		fprintf(stderr, "functions: cannot load the programs\n");
		return 1;
	}
	pkt_bench_frame(&p, 0);
	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	for (k = 0; k < sizeof(lib_fns) / sizeof(lib_fns[0]); k++) {
		double empty[MAX_RUNS], alone[MAX_RUNS], with[MAX_RUNS], delta[MAX_RUNS];
		struct flowprog fp;

		if (only && strcmp(only, lib_fns[k].label))
			continue;
		if (flowprog_build_fns(&fp, NULL, &lib_fns[k].fn, 1, FP_XDP_FRAGS)) {
			char msg[MAPI_ERRORSTR_LENGTH];
			int code;

			mapi_read_error(&code, msg);
			fprintf(stderr, "functions: cannot load %s: %s\n", lib_fns[k].label, msg);
			return 1;
		}
		fi = fp.flow->fns[0];
		ring = fi->desc->ring_bytes && fi->desc->ring_bytes(fi);
		for (r = 0; r < runs; r++) {
			uint32_t n = ring ? RING_REPEAT : REPEAT;

			/* interleaved, so that all see the same machine */
			empty[r] = time_ns_n(bpf_program__fd(skel->progs.xdp_pass), &p, n);
			alone[r] = time_ns_n(counter.prog_fd, &p, n);
			with[r] = time_ns_n(fp.prog_fd, &p, n);
			delta[r] = with[r] - alone[r];
			if (ring)
				fi->desc->tick(fi, fp.flow, 0, 0, 0, 0);
		}
		printf("{\"case\":\"function.%s\",\"unit\":\"ns/packet\",\"median\":%.3f,"
		       "\"baseline\":%.3f,\"counter\":%.3f,\"runs\":", lib_fns[k].label,
		       bench_median(delta, runs), bench_median(empty, runs),
		       bench_median(alone, runs));
		bench_print_runs(delta, runs);
		printf("}\n");
		fflush(stdout);
		flowprog_free(&fp);
	}
	if (!only || !strcmp(only, "clock_alone")) {
		double empty[MAX_RUNS], delta[MAX_RUNS];

		/* bpf_ktime_get_ns() alone, over the counter alone: what GAP and
		 * PKTINFO cannot go below */
		for (r = 0; r < runs; r++) {
			empty[r] = time_ns(bpf_program__fd(skel->progs.xdp_pass), &p);
			delta[r] = time_ns(bpf_program__fd(skel->progs.xdp_clock), &p) -
				   time_ns(bpf_program__fd(skel->progs.xdp_count), &p);
		}
		printf("{\"case\":\"function.clock_alone\",\"unit\":\"ns/packet\",\"median\":%.3f,"
		       "\"baseline\":%.3f,\"runs\":", bench_median(delta, runs),
		       bench_median(empty, runs));
		bench_print_runs(delta, runs);
		printf("}\n");
	}
	flowprog_free(&counter);
	baseline_bpf__destroy(skel);
	return 0;
}

/* Kernel memory of the maps a program names (fdinfo's memlock). */
static unsigned long long prog_map_memory(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t ids[64], len = sizeof(info), i;
	unsigned long long total = 0;

	info.nr_map_ids = 64;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return 0;
	for (i = 0; i < info.nr_map_ids; i++) {
		int fd = bpf_map_get_fd_by_id(ids[i]);
		char path[64], line[128];
		unsigned long long v;
		FILE *f;

		if (fd < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "memlock: %llu", &v) == 1)
				total += v;
		if (f)
			fclose(f);
		close(fd);
	}
	return total;
}

#define TOP_KEYS 100000
#define TOP_PACKETS 400000

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The stream of TOP_PACKETS UDP frames from the sources src as one test
 * run each (bpf/keyfeed.bpf.c): what prog_fd costs a packet over the
 * counter alone. */
static struct keyfeed_bpf *keyfeed;

static int keyfeed_load(const uint32_t *src)
{
	uint32_t i, one = 1, n = TOP_PACKETS;

	keyfeed = keyfeed_bpf__open_and_load();
	if (!keyfeed)
		return -1;
	for (i = 0; i < TOP_PACKETS; i++) {
		uint32_t be = htonl(src[i]);

		if (bpf_map_update_elem(bpf_map__fd(keyfeed->maps.sources), &i, &be, 0))
			return -1;
	}
	return bpf_map_update_elem(bpf_map__fd(keyfeed->maps.cursor), &one, &n, 0);
}

static double feed_time(int prog_fd)
{
	uint32_t zero = 0, ns = 0;
	struct pkt p;

	pkt_bench_frame(&p, 1);
	if (bpf_map_update_elem(bpf_map__fd(keyfeed->maps.under_test), &zero, &prog_fd, 0) ||
	    bpf_map_update_elem(bpf_map__fd(keyfeed->maps.cursor), &zero, &zero, 0) ||
	    flowprog_time(bpf_program__fd(keyfeed->progs.xdp_keyfeed), p.b, (uint32_t)p.len,
			  TOP_PACKETS, &ns)) {
		perror("keyfeed");
		exit(1);
	}
	return ns;
}

static double stream_cost(int counter_fd, int prog_fd)
{
	double alone = feed_time(counter_fd);

	return feed_time(prog_fd) - alone;
}

/* The same stream, each packet a test run of its own: the caches as a
 * system call leaves them, cold (the cost of a first packet after idle). */
static double cold_cost(int counter_fd, int prog_fd, const uint32_t *src)
{
	double with = 0, alone = 0;
	int i;

	for (i = 0; i < TOP_PACKETS; i++) {
		struct pkt p;
		uint32_t a = 0, b = 0;

		pkt_bench_frame(&p, 1);
		p.b[26] = (uint8_t)(src[i] >> 24);
		p.b[27] = (uint8_t)(src[i] >> 16);
		p.b[28] = (uint8_t)(src[i] >> 8);
		p.b[29] = (uint8_t)src[i];
		if (flowprog_time(counter_fd, p.b, (uint32_t)p.len, 1, &a) ||
		    flowprog_time(prog_fd, p.b, (uint32_t)p.len, 1, &b)) {
			perror("BPF_PROG_TEST_RUN");
			exit(1);
		}
		alone += a;
		with += b;
	}
	return (with - alone) / TOP_PACKETS;
}

/* A DISTINCT over the stream src, runs times streamed and once cold: its
 * result, or NULL (said why); fp to free. */
static const struct mapi_distinct_result *distinct_stream(const struct flowprog_fn *fn, int runs,
							  int counter_fd, const uint32_t *src,
							  struct flowprog *fp, double *delta,
							  double *cold)
{
	const void *out;
	size_t size;
	int run;

	if (flowprog_build_fns(fp, NULL, fn, 1, FP_XDP_FRAGS)) {
		fprintf(stderr, "distinct-keys: cannot load the program\n");
		return NULL;
	}
	for (run = 0; run < runs; run++)
		delta[run] = stream_cost(counter_fd, fp->prog_fd);
	*cold = cold_cost(counter_fd, fp->prog_fd, src);
	if (fp->flow->fns[0]->desc->read(fp->flow->fns[0], fp->flow, &out, &size)) {
		fprintf(stderr, "distinct-keys: cannot read DISTINCT\n");
		flowprog_free(fp);
		return NULL;
	}
	return out;
}

/* DISTINCT destinations per source over the same stream: each source has
 * one destination, and the table holds the first MAPI_DISTINCT_TABLE
 * sources; the others count as other. */
static int distinct_per_keys_cost(int runs, int counter_fd, const uint32_t *src, int exact)
{
	const struct flowprog_fn fn = { "DISTINCT", { { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
						      { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_DSTIP } },
						      { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
						      { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_SRCIP } } },
					4 };
	const struct mapi_distinct_result *r;
	double delta[MAX_RUNS], cold;
	struct flowprog fp;
	unsigned int i, ones = 0;

	r = distinct_stream(&fn, runs, counter_fd, src, &fp, delta, &cold);
	if (!r)
		return 1;
	for (i = 0; i < r->count; i++)
		ones += r->values[i].distinct == 1;
	printf("{\"case\":\"function.distinct_per_100k_keys\",\"unit\":\"ns/packet\","
	       "\"median\":%.3f,\"keys\":%d,\"per_values\":%u,\"table\":%d,"
	       "\"other_packets\":%llu,\"listed_with_one\":%u,\"listed\":%u,"
	       "\"kernel_bytes\":%llu,\"cold\":%.3f,\"runs\":",
	       bench_median(delta, runs), exact, r->per_values,
	       exact < MAPI_DISTINCT_TABLE ? exact : MAPI_DISTINCT_TABLE, r->other_packets, ones,
	       r->count, prog_map_memory(fp.prog_fd) - prog_map_memory(counter_fd), cold);
	bench_print_runs(delta, runs);
	printf("}\n");
	flowprog_free(&fp);
	return 0;
}

/* DISTINCT over the same stream: its cost, memory and error. */
static int distinct_keys_cost(int runs, int counter_fd, const uint32_t *src,
			      const uint32_t *count)
{
	const struct flowprog_fn fn = { "DISTINCT", { { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
						      { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_SRCIP } } },
					2 };
	const struct mapi_distinct_result *r;
	double delta[MAX_RUNS], cold;
	struct flowprog fp;
	int i, exact = 0;

	r = distinct_stream(&fn, runs, counter_fd, src, &fp, delta, &cold);
	if (!r)
		return 1;
	for (i = 0; i < TOP_KEYS; i++)
		exact += count[i] > 0;
	printf("{\"case\":\"function.distinct_100k_keys\",\"unit\":\"ns/packet\",\"median\":%.3f,"
	       "\"keys\":%d,\"exact\":%d,\"estimate\":%llu,\"relative_error\":%.5f,"
	       "\"standard_error\":%.4f,\"kernel_bytes\":%llu,\"cold\":%.3f,\"runs\":",
	       bench_median(delta, runs), TOP_KEYS, exact, r->distinct,
	       fabs((double)r->distinct - exact) / exact, r->error,
	       prog_map_memory(fp.prog_fd) - prog_map_memory(counter_fd), cold);
	bench_print_runs(delta, runs);
	printf("}\n");
	flowprog_free(&fp);
	return distinct_per_keys_cost(runs, counter_fd, src, exact);
}

/*
 * The floor under TOP's and DISTINCT's costs over the same stream
 * (bpf/slottouch.bpf.c): one line of a table laid out as theirs reached
 * at each packet's first slot, over the same work at a slot that stays in
 * the cache: what the memory costs.
 */
static int table_floor_cost(int runs)
{
	struct slottouch_bpf *touch = slottouch_bpf__open_and_load();
	const struct {
		const char *label;
		struct bpf_program *prog, *hot;
		struct bpf_map *map;
	} cases[] = {
		{ "top_100k_floor", touch ? touch->progs.xdp_touch_top : NULL,
		  touch ? touch->progs.xdp_touch_top_hot : NULL,
		  touch ? touch->maps.top_table : NULL },
		{ "distinct_per_100k_floor", touch ? touch->progs.xdp_touch_distinct : NULL,
		  touch ? touch->progs.xdp_touch_distinct_hot : NULL,
		  touch ? touch->maps.distinct_table : NULL },
	};
	double delta[MAX_RUNS];
	size_t c;
	int run;

	if (!touch) {
		fprintf(stderr, "top-keys: cannot load bpf/slottouch.bpf.c\n");
		return 1;
	}
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (run = 0; run < runs; run++)
			delta[run] = stream_cost(bpf_program__fd(cases[c].hot),
						 bpf_program__fd(cases[c].prog));
		printf("{\"case\":\"function.%s\",\"unit\":\"ns/packet\",\"median\":%.3f,"
		       "\"kernel_bytes\":%llu,\"runs\":", cases[c].label, bench_median(delta, runs),
		       (unsigned long long)bpf_map__max_entries(cases[c].map) *
			       bpf_map__value_size(cases[c].map));
		bench_print_runs(delta, runs);
		printf("}\n");
	}
	slottouch_bpf__destroy(touch);
	return 0;
}

static int top_keys_cost(int runs)
{
	static uint32_t src[TOP_PACKETS], count[TOP_KEYS];
	const struct flowprog_fn top = { "TOP", { { MAPI_ARG_INT, { .i = 10 } },
						  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
						  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_SRCIP } } }, 3 };
	double cdf[TOP_KEYS], sum = 0, delta[MAX_RUNS], recall, worst = 0, read_ms, cold;
	struct flowprog counter, fp;
	const struct mapi_top_result *r;
	struct fn_instance *fi;
	const void *out;
	size_t size;
	int i, k, run, found = 0, ret;
	uint32_t exact[10];

	if (flowprog_build_fns(&counter, NULL, NULL, 0, FP_XDP_FRAGS) ||
	    flowprog_build_fns(&fp, NULL, &top, 1, FP_XDP_FRAGS)) {
		fprintf(stderr, "top-keys: cannot load the programs\n");
		return 1;
	}
	/* Zipf (s = 1) over the keys, drawn by inverting the CDF */
	for (i = 0; i < TOP_KEYS; i++)
		cdf[i] = sum += 1.0 / (i + 1);
	for (i = 0; i < TOP_PACKETS; i++) {
		double u = (double)(next_rand() >> 11) / 9007199254740992.0 * sum;
		int lo = 0, hi = TOP_KEYS - 1;

		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* key lo, under a scrambled address so that rank is not order */
		src[i] = 0x0a000000u + (uint32_t)((lo * 2654435761u) % 0xffffffu);
		count[lo]++;
	}
	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	if (keyfeed_load(src)) {
		fprintf(stderr, "top-keys: cannot load the key feed\n");
		keyfeed_bpf__destroy(keyfeed);
		return 1;
	}
	for (run = 0; run < runs; run++)
		delta[run] = stream_cost(counter.prog_fd, fp.prog_fd);
	cold = cold_cost(counter.prog_fd, fp.prog_fd, src);
	/* the exact top 10: keys 0..9 of the Zipf law, unless a draw says otherwise */
	for (k = 0; k < 10; k++) {
		int best = -1;

		for (i = 0; i < TOP_KEYS; i++) {
			int taken = 0, j;

			for (j = 0; j < k; j++)
				taken |= exact[j] == (uint32_t)i;
			if (!taken && (best < 0 || count[i] > count[best]))
				best = i;
		}
		exact[k] = (uint32_t)best;
	}
	/* a read walks the whole table (as TOP per interval does at each
	 * interval's end): its time */
	fi = fp.flow->fns[0];
	read_ms = now_ms();
	if (fi->desc->read(fi, fp.flow, &out, &size)) {
		fprintf(stderr, "top-keys: cannot read TOP\n");
		return 1;
	}
	read_ms = now_ms() - read_ms;
	r = out;
	for (k = 0; k < 10 && k < (int)r->count; k++) {
		const struct mapi_top_value *v = &r->values[k];
		const unsigned char *ad = v->value.addr;
		uint32_t a = (uint32_t)ad[0] << 24 | (uint32_t)ad[1] << 16 | (uint32_t)ad[2] << 8 |
			     ad[3];

		for (i = 0; i < 10; i++) {
			uint32_t want = 0x0a000000u + (uint32_t)((exact[i] * 2654435761u) % 0xffffffu);
			double truth = (double)count[exact[i]] * (runs + 1);	/* and cold */

			if (a != want)
				continue;
			found++;
			worst = fmax(worst, fabs((double)v->packets - truth) / truth);
		}
	}
	recall = found / 10.0;
	printf("{\"case\":\"function.top_100k_keys\",\"unit\":\"ns/packet\",\"median\":%.3f,"
	       "\"keys\":%d,\"packets\":%d,\"kernel_bytes\":%llu,\"distinct\":%u,"
	       "\"spilled\":%u,\"recall_top10\":%.2f,\"max_relative_error\":%.5f,"
	       "\"read_ms\":%.3f,\"cold\":%.3f,\"runs\":",
	       bench_median(delta, runs), TOP_KEYS, TOP_PACKETS,
	       prog_map_memory(fp.prog_fd) - prog_map_memory(counter.prog_fd), r->distinct,
	       r->spilled, recall, worst, read_ms, cold);
	bench_print_runs(delta, runs);
	printf("}\n");
	fflush(stdout);
	flowprog_free(&fp);
	ret = distinct_keys_cost(runs, counter.prog_fd, src, count);
	if (!ret)
		ret = table_floor_cost(runs);
	flowprog_free(&counter);
	keyfeed_bpf__destroy(keyfeed);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "cost"))
		return cost(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "connect"))
		return connect_latency(atoi(argv[2]), argv[3], atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "convs"))
		return convs_cost(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "convs-connect"))
		return convs_connect(atoi(argv[2]), argv[3], atoi(argv[4]));
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "functions"))
		return functions_cost(atoi(argv[2]), argc == 4 ? argv[3] : NULL);
	if (argc == 3 && !strcmp(argv[1], "top-keys"))
		return top_keys_cost(atoi(argv[2]));
	fprintf(stderr, "usage: cost cost RUNS | cost connect RUNS IFACE OTHERS |\n"
			"       cost convs RUNS | cost convs-connect RUNS IFACE N |\n"
			"       cost functions RUNS [LABEL] | cost top-keys RUNS\n");
	return 2;
}
