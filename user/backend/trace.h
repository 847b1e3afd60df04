/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flows over trace files (pcap, pcapng; "-" for standard input).  The
 * trace is opened, and its header checked, when the flow is created; at
 * mapi_connect a thread of the flow's own reads it to its end and runs
 * every packet through the functions' in-process versions (fn_desc.run),
 * counting into the flow's memory store.
 */
#ifndef MAPI_TRACE_H
#define MAPI_TRACE_H

#include <stdint.h>

#include "flow.h"

struct trace_info {
	int status;			/* MAPI_TRACE_* */
	uint64_t packets;		/* read so far */
	uint64_t first_ns, last_ns;	/* timestamps of the first and last */
	int code;			/* when failed: MAPI code and message */
	char msg[256];
};

/* Opens path (format MFF_*); errors say what is wrong with the file. */
int trace_open(struct trace **t, const char *path, int format);
/* Starts reading into flow f (its store and functions ready). */
int trace_start(struct trace *t, struct flow *f);
void trace_info(struct trace *t, struct trace_info *info);
/* The name flow information shows for it: the file's base name. */
const char *trace_name(const struct trace *t);
/* Stops the reader (the functions' waits interrupted first) and frees. */
void trace_close(struct trace *t);

#endif
