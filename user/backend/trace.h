/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flows over trace files (pcap, pcapng; "-" for standard input).  The
 * trace is opened, and its header checked, when the flow is created; at
 * mapi_connect a thread of the flow's own reads it to its end and runs
 * every packet through the functions' in-process versions (fn_desc.run),
 * counting into the flow's memory store.  It is a backend (backend.h):
 * backend_trace() opens, runs and closes such flows.
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

/* What the reader of a trace flow has done so far. */
void trace_info(struct trace *t, struct trace_info *info);

#endif
