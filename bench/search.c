/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * search RUNS: STR_SEARCH's cost per packet against glibc's memmem() on the
 * same bytes.
 *
 * Frames of 64, 512 and 1,500 bytes (random bytes), patterns of 4 and 32
 * bytes, searched over the whole frame; "match" puts the pattern at the
 * frame's end (both searches read everything), "miss" leaves it out.
 *
 *  - kernel: the flow STR_SEARCH + PKT_COUNTER in native XDP, run by
 *    BPF_PROG_TEST_RUN, minus an empty XDP program on the same frame;
 *  - memmem: the same search in user space.
 *
 * And MAPI 2.0's alternatives: 1, 4 and 16 patterns of 8 bytes (a||b||...)
 * over a 1,500-byte frame that holds none, one automaton in the kernel,
 * against memmem once a pattern (what searching each would take).
 *
 * One JSON line a case: medians over RUNS and their ratio.
 */
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baseline.skel.h"
#include "benchstat.h"
#include "flowprog.h"

#define REPEAT 100000		/* BPF_PROG_TEST_RUN repetitions (see filters.c) */
#define MEMMEM_LOOPS 200000

static double kernel_ns(int fd, const uint8_t *frame, uint32_t len)
{
	uint32_t ns = 0;

	if (flowprog_time(fd, frame, len, REPEAT, &ns)) {
		perror("search: BPF_PROG_TEST_RUN");
		exit(1);
	}
	return ns;
}

static double memmem_ns(const uint8_t *frame, uint32_t len, const uint8_t *pat, int m)
{
	const uint8_t *volatile sink;
	double t0 = bench_now_ns();
	int i;

	for (i = 0; i < MEMMEM_LOOPS; i++) {
		/* the compiler must not hoist the search out of the loop */
		__asm__ volatile("" : : "r"(frame) : "memory");
		sink = memmem(frame, len, pat, (size_t)m);
	}
	(void)sink;
	return (bench_now_ns() - t0) / MEMMEM_LOOPS;
}

/* the pattern as MAPI text: every byte in one |hex| run */
static void as_text(const uint8_t *pat, int m, char *out)
{
	int i;

	*out++ = '|';
	for (i = 0; i < m; i++)
		out += sprintf(out, "%02x", pat[i]);
	*out++ = '|';
	*out = 0;
}

int main(int argc, char **argv)
{
	static const uint32_t lens[] = { 64, 512, 1500 };
	static const int pats[] = { 4, 32 };
	struct baseline_bpf *skel = baseline_bpf__open_and_load();
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	uint8_t frame[1500], pat[32];
	char text[80];
	unsigned int l, p, hit, i;
	int r;

	if (!skel || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: search RUNS (1..64), as root\n");
		return 1;
	}
	srand(2002);
	for (l = 0; l < sizeof(lens) / sizeof(*lens); l++)
		for (p = 0; p < sizeof(pats) / sizeof(*pats); p++)
			for (hit = 0; hit <= 1; hit++) {
				uint32_t len = lens[l];
				int m = pats[p], passed = 0;
				struct flowprog_fn fn = { .name = "STR_SEARCH", .nargs = 3 };
				double kern[64], user[64], ratio[64];
				struct flowprog fp;

				for (i = 0; i < len; i++)
					frame[i] = (uint8_t)rand();
				for (i = 0; i < (unsigned int)m; i++)
					pat[i] = (uint8_t)rand();
				if (hit)
					memcpy(frame + len - m, pat, (size_t)m);
				as_text(pat, m, text);
				fn.args[0] = (struct mapi_arg){ MAPI_ARG_STR, { .s = text } };
				fn.args[1] = (struct mapi_arg){ MAPI_ARG_INT, { .i = 0 } };
				fn.args[2] = (struct mapi_arg){ MAPI_ARG_INT, { .i = 0 } };
				if (flowprog_build_fns(&fp, NULL, &fn, 1, FP_XDP) ||
				    flowprog_run(&fp, frame, len, &passed) || passed != (int)hit ||
				    (memmem(frame, len, pat, (size_t)m) != NULL) != (int)hit) {
					fprintf(stderr, "search: the case does not work\n");
					return 1;
				}
				for (r = 0; r < runs; r++) {
					double empty = kernel_ns(
						bpf_program__fd(skel->progs.xdp_pass), frame, len);

					kern[r] = kernel_ns(fp.prog_fd, frame, len) - empty;
					user[r] = memmem_ns(frame, len, pat, m);
					ratio[r] = kern[r] / user[r];
				}
				printf("{\"case\":\"search.%u.%d.%s\",\"frame\":%u,\"pattern\":%d,"
				       "\"unit\":\"ns/packet\",\"kernel\":%.3f,\"memmem\":%.3f,"
				       "\"median\":%.3f,\"runs\":", len, m, hit ? "match" : "miss",
				       len, m, bench_median(kern, runs), bench_median(user, runs),
				       bench_median(ratio, runs));
				bench_print_runs(ratio, runs);
				printf("}\n");
				fflush(stdout);
				flowprog_free(&fp);
			}
	for (p = 0; p < 3; p++) {
		static const int nalts[] = { 1, 4, 16 };
		int n = nalts[p], passed = 0, a;
		struct flowprog_fn fn = { .name = "STR_SEARCH", .nargs = 3 };
		double kern[64], user[64], ratio[64];
		uint8_t alts[16][8];
		char alt_text[16 * 20 + 1] = "";
		struct flowprog fp;

		for (i = 0; i < 1500; i++)
			frame[i] = (uint8_t)rand();
		for (a = 0; a < n; a++) {
			for (i = 0; i < 8; i++)
				alts[a][i] = (uint8_t)rand();
			as_text(alts[a], 8, text);
			if (a)
				strcat(alt_text, "||");
			strcat(alt_text, text);
		}
		fn.args[0] = (struct mapi_arg){ MAPI_ARG_STR, { .s = alt_text } };
		fn.args[1] = (struct mapi_arg){ MAPI_ARG_INT, { .i = 0 } };
		fn.args[2] = (struct mapi_arg){ MAPI_ARG_INT, { .i = 0 } };
		if (flowprog_build_fns(&fp, NULL, &fn, 1, FP_XDP) ||
		    flowprog_run(&fp, frame, 1500, &passed) || passed) {
			fprintf(stderr, "search: the alternatives case does not work\n");
			return 1;
		}
		for (r = 0; r < runs; r++) {
			double empty = kernel_ns(bpf_program__fd(skel->progs.xdp_pass), frame, 1500);

			kern[r] = kernel_ns(fp.prog_fd, frame, 1500) - empty;
			user[r] = 0;
			for (a = 0; a < n; a++)
				user[r] += memmem_ns(frame, 1500, alts[a], 8);
			ratio[r] = kern[r] / user[r];
		}
		printf("{\"case\":\"search.alternatives.%d\",\"frame\":1500,\"pattern\":8,"
		       "\"alternatives\":%d,\"unit\":\"ns/packet\",\"kernel\":%.3f,"
		       "\"memmem\":%.3f,\"median\":%.3f,\"runs\":", n, n,
		       bench_median(kern, runs), bench_median(user, runs), bench_median(ratio, runs));
		bench_print_runs(ratio, runs);
		printf("}\n");
		fflush(stdout);
		flowprog_free(&fp);
	}
	baseline_bpf__destroy(skel);
	return 0;
}
