/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The function library: one descriptor per MAPI function, saying what its
 * arguments are, what result it gives and how it becomes eBPF.
 */
#ifndef MAPI_FUNCTIONS_H
#define MAPI_FUNCTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct codegen;

/* A packet of a trace file, as an offline flow's functions see it. */
struct trace_pkt {
	const uint8_t *data;
	uint32_t caplen;	/* bytes in data */
	uint32_t wlen;		/* length on the wire */
	uint64_t ts_ns;		/* the trace's timestamp, ns since the epoch */
};

enum fn_result {
	FN_RESULT_NONE,		/* no result to read (filters) */
	FN_RESULT_U64,		/* an unsigned long long */
	FN_RESULT_PACKETS,	/* packets, read with mapi_get_next_pkt */
	FN_RESULT_FILE,		/* packets, written to a file */
	FN_RESULT_TOP,		/* struct mapi_top_result, made by read() */
	FN_RESULT_DISTINCT,	/* struct mapi_distinct_result, made by read() */
	FN_RESULT_STATS,	/* struct mapi_stats_result, made by read() */
	FN_RESULT_DIST,		/* struct mapi_dist_result, made by read() */
	FN_RESULT_BUCKET,	/* struct mapi_bucket_result, made by read() */
	FN_RESULT_THRESHOLD,	/* struct mapi_threshold_result; events */
	FN_RESULT_HASHSAMP,	/* struct mapi_hashsamp_result, made by read() */
};

/*
 * One way of calling a function: its arguments, one letter each, s string,
 * i integer; upper case (S, I): optional, and only after the required ones.
 * A missing optional argument reads as 0 (integers) or NULL (strings).
 */
struct fn_form {
	const char *args;
	const char *names;	/* for messages and help, e.g. "EXPR" */
	/* A form of another function's number (BUCKET, THRESHOLD, STATS and
	 * DIST of a result): 1 + the argument that names the flow watched, the
	 * next the function (see tick() below); 0: it watches nothing. */
	int watch;
};

/* A function may have several forms (MAPI 2.0's and mapi-bpf's), told
 * apart by their number of arguments, and where two take the same number,
 * by which of them are strings. */
#define FN_FORMS_MAX 4

struct fn_desc {
	const char *name;
	struct fn_form forms[FN_FORMS_MAX];	/* the first: .args NULL ends them */
	/* the form MAPI 2.0 had, which its programs' plain calls pass
	 * (mapi_apply_function under MAPI_V2 without C11) */
	int mapi2_form;
	const char *help;	/* one line */
	enum fn_result result;
	int slots;		/* result slots it needs in the flow's store */
	int offloadable;	/* may run on a NIC */
	int payload;		/* shows payloads (mapid may restrict it) */
	/* What an interface's conversation table can do in its stead, for a
	 * flow of a filter and counters only (docs/semantics.md): */
	enum fn_lookup {
		FN_LOOKUP_NONE,		/* nothing: the flow runs as a program */
		FN_LOOKUP_KEY,		/* the filter whose expression names the
					 * conversation (its first function) */
		FN_LOOKUP_PACKETS,	/* a counter the table keeps: its packets */
		FN_LOOKUP_BYTES,	/* or its bytes */
	} lookup;
	/* Checks arguments and builds what emit() needs; at apply time. */
	int (*prepare)(struct fn_instance *fi, const struct flow *f);
	/* Creates its kernel objects (maps) when the flow connects; sets
	 * fi->maps to the number of maps its code names. */
	int (*connect)(struct fn_instance *fi, const struct flow *f);
	/* Emits its eBPF into the flow program being generated. */
	int (*emit)(struct codegen *cg, const struct fn_instance *fi);
	/*
	 * Runs the function on a packet of a trace, in the process (a flow over
	 * a trace file): 1 passes it on, 0 stops it.  Results go to the flow's
	 * memory store.  The same semantics as emit()'s code: the tests run
	 * both on the same packets.
	 */
	int (*run)(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p);
	/*
	 * A result that is one unsigned long long but not a slot's sum (GAP,
	 * PKTINFO): its value now, for mapi_read_results, MAPI_REF's refresh
	 * and the function's information (flow_read_number).
	 */
	int (*read_u64)(struct fn_instance *fi, struct flow *f, uint64_t *v);
	/*
	 * A result that is a struct of mapi.h, not one slot: makes a snapshot
	 * of it (of the flow's kernel state, or of the trace's in memory),
	 * which the instance keeps until the next read or its release; *out
	 * points at it, *size is its length.  A running flow only.
	 */
	int (*read)(struct fn_instance *fi, struct flow *f, const void **out, size_t *size);
	/*
	 * A form of another function's result (fn_form.watch), with no kernel
	 * part: two of its arguments name the flow and the function whose
	 * number (first result slot) it watches; the API checks them when it
	 * is applied.  tick() is given that number
	 * now, and when its flow's clock started: every MAPI_REF_REFRESH_MS by
	 * the library thread, for a live flow, with the wall clock and the
	 * connect time; over a trace, before each packet, with its time and
	 * the first packet's.  Once more, final, when no more can come (the
	 * trace ended, the watched flow closed or lost its interface).
	 * Through mapid it runs in the client: mapid's copy (f->served) never
	 * ticks.  A function with a clock of its own (TOP with an INTERVAL)
	 * sets fi->clocked in prepare() and is ticked so, with value 0.
	 */
	void (*tick)(struct fn_instance *fi, struct flow *f, uint64_t start_ns, uint64_t now_ns,
		     uint64_t value, int final);
	/* Its next event for mapi_wait_event (THRESHOLD): 0, -ETIMEDOUT,
	 * -ENODATA when no more can come, -ESHUTDOWN when interrupted; without
	 * the API lock.  interrupt() makes a waiting thread return. */
	int (*next_event)(struct fn_instance *fi, int timeout_ms, void *ev);
	void (*interrupt)(struct fn_instance *fi);
	/*
	 * When mapid runs the flow for a client: the descriptors of what
	 * connect() made that the client reads itself (ring buffers), at most
	 * max; their number.  NULL: none.
	 */
	int (*share)(const struct fn_instance *fi, int *fds, int max);
	/* In the client: takes those descriptors (now its own) instead of
	 * connect(); disconnect() closes them. */
	int (*adopt)(struct fn_instance *fi, const struct flow *f, const int *fds, int n);
	/* The bytes of kernel memory its ring buffers take (mapid's limit of
	 * a user's); NULL: none. */
	uint32_t (*ring_bytes)(const struct fn_instance *fi);
	/* Frees what connect() made (the flow is no longer running). */
	void (*disconnect)(struct fn_instance *fi);
	void (*release)(struct fn_instance *fi);
};

/* For a function with no kernel part: emit() that emits nothing, and
 * run() that passes every packet on. */
int fn_emit_nothing(struct codegen *cg, const struct fn_instance *fi);
int fn_run_pass(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p);

/*
 * For a function whose kernel objects are maps of its own (TOP, DISTINCT,
 * STATS), given its n descriptors by address: what share() hands mapid's
 * client (their number, or an error when max is too few), what adopt()
 * takes in the client (exactly n, else all closed and an error), and what
 * disconnect() closes (each set to -1 after).
 */
int fn_maps_share(const struct fn_instance *fi, int *const *maps, int n, int *fds, int max);
int fn_maps_adopt(struct fn_instance *fi, int *const *maps, int n, const int *fds, int nfds);
void fn_maps_close(struct fn_instance *fi, int *const *maps, int n);

/* The number of arguments a form requires, and takes at most. */
int fn_args_required(const struct fn_form *form);
int fn_args_max(const struct fn_form *form);
int fn_forms(const struct fn_desc *d);

/* Every form, as help shows it: "EXPR", or "(PATH [SNAPLEN]) or (FORMAT
 * PATH COUNT)"; their letters, "sI|isi". */
void fn_form_names(const struct fn_desc *d, char *buf, size_t len);
void fn_form_letters(const struct fn_desc *d, char *buf, size_t len);

const struct fn_desc *fn_find(const char *name);

/* The functions of other files. */
extern const struct fn_desc fn_str_search;
extern const struct fn_desc fn_to_buffer;
extern const struct fn_desc fn_to_file;
extern const struct fn_desc fn_sample;
extern const struct fn_desc fn_top;
extern const struct fn_desc fn_distinct;
extern const struct fn_desc fn_hashsamp;
extern const struct fn_desc fn_stats;
extern const struct fn_desc fn_dist;
extern const struct fn_desc fn_gap;
extern const struct fn_desc fn_pktinfo;
extern const struct fn_desc fn_bucket;
extern const struct fn_desc fn_threshold;
/* The library in order, NULL-terminated, for listings. */
const struct fn_desc *const *fn_all(void);

#endif
