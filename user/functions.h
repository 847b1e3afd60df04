/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The function library: one descriptor per MAPI function, saying what its
 * arguments are, what result it gives and how it becomes eBPF.
 */
#ifndef MAPI_FUNCTIONS_H
#define MAPI_FUNCTIONS_H

#include "flow.h"

struct codegen;

enum fn_result {
	FN_RESULT_NONE,		/* no result to read (filters) */
	FN_RESULT_U64,		/* an unsigned long long */
};

struct fn_desc {
	const char *name;
	const char *args;	/* one letter an argument: s string, i integer */
	const char *arg_names;	/* for messages and help, e.g. "EXPR" */
	const char *help;	/* one line */
	enum fn_result result;
	int slots;		/* result slots it needs in the flow's store */
	int offloadable;	/* may run on a NIC */
	/* Checks arguments and builds what emit() needs; at apply time. */
	int (*prepare)(struct fn_instance *fi, const struct flow *f);
	/* Emits its eBPF into the flow program being generated. */
	int (*emit)(struct codegen *cg, const struct fn_instance *fi);
	void (*release)(struct fn_instance *fi);
};

const struct fn_desc *fn_find(const char *name);
/* The library in order, NULL-terminated, for listings. */
const struct fn_desc *const *fn_all(void);

#endif
