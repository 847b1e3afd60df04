/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A one-flow program built by the real code generator (classic filter +
 * PKT_COUNTER), loaded but not attached, and run with BPF_PROG_TEST_RUN:
 * how tests and benchmarks exercise the kernel side without a network.
 */
#ifndef MAPI_TESTS_FLOWPROG_H
#define MAPI_TESTS_FLOWPROG_H

#include <stdint.h>

#include "cbpf.h"
#include "cbpf_xlate.h"
#include "flow.h"

/* Functions from the library placed before the counter (flowprog_build_fns),
 * at most. */
#define FLOWPROG_MAX_FNS 4

struct flowprog_fn {
	const char *name;
	struct mapi_arg args[4];
	int nargs;
};

struct flowprog {
	struct flow *flow;	/* built as the library builds flows (flow.h) */
	int connected;		/* its functions' kernel objects exist */
	uint32_t counter_slot;	/* the PKT_COUNTER's */
	int prog_fd;
	int root_fd, array_fd;	/* flowprog_build_chained() */
	uint64_t count;		/* counter value after the last run */
};

/* The program variants the engine attaches. */
enum flowprog_kind {
	FP_XDP,		/* XDP, linear frames only (a driver refusing fragments) */
	FP_XDP_FRAGS,	/* XDP taking multi-buffer frames, as attached */
	FP_TC,		/* tc: skbs, linear or not */
};

/*
 * filter: the classic program (copied), or NULL for none.  with_bytes adds
 * a BYTE_COUNTER after the PKT_COUNTER.  Returns 0 or a negative errno (the
 * library's error state says why).
 */
int flowprog_build(struct flowprog *fp, const struct cbpf_prog *filter,
		   enum flowprog_kind kind, int with_bytes);

/*
 * The same with library functions (checked and prepared as
 * mapi_apply_function does) between the filter and the PKT_COUNTER: the
 * counter then counts what they pass.
 */
int flowprog_build_fns(struct flowprog *fp, const struct cbpf_prog *filter,
		       const struct flowprog_fn *fns, int nfns, enum flowprog_kind kind);

/* The largest frame BPF_PROG_TEST_RUN takes for a kind (a page, or more). */
uint32_t flowprog_max_frame(enum flowprog_kind kind);

/*
 * The program as it runs attached: a root that tail-calls the flow program
 * through a prog array.  *root_fd runs it; flowprog_free() frees it.
 */
int flowprog_build_chained(struct flowprog *fp, const struct cbpf_prog *filter,
			   enum flowprog_kind kind, int with_bytes, int *root_fd);

/* Runs one frame through it; *passed tells whether the filter kept it. */
int flowprog_run(struct flowprog *fp, const void *pkt, uint32_t len, int *passed);

/* Runs one frame `repeat` times; *ns is the kernel's time per run. */
int flowprog_time(int prog_fd, const void *pkt, uint32_t len, uint32_t repeat,
		  uint32_t *ns);

void flowprog_free(struct flowprog *fp);

#endif
