/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flows over trace files (pcap, pcapng; "-" for standard input).  The
 * trace is opened, and its header checked, when the flow is created; at
 * mapi_connect a thread of the flow's own reads it to its end and runs
 * every packet through the functions' in-process versions (fn_desc.run),
 * counting into the flow's memory store.  An offline device's trace is
 * read the same way for all its flows, from mapi_start_offline_device.  It is a backend (backend.h):
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

/*
 * Offline devices (MAPI 2.0's): a trace opened under a name ("trace:1")
 * that mapi_create_flow takes; its connected flows read it together once
 * it is started, each packet once through every one.  Under the API lock.
 * A flow is opened on one with the backend's open(), format TRACE_DEVICE.
 */
#define TRACE_DEVICE (-1)
/* 0 for a format mapi-bpf reads (MFF_PCAP, MFF_PCAPNG), else the error:
 * TRACE_DEVICE is not one an application may name. */
int trace_check_format(int format);
int trace_device_create(const char *path, int format, const char **name);
int trace_is_device(const char *name);
int trace_device_start(const char *name);
/* The packets its reader has read so far. */
int trace_device_packets(const char *name, uint64_t *packets);
/* Its name goes at once; its flows, started, read on to the end. */
int trace_device_delete(const char *name);
/* In a child of fork(): the parent's devices are not the child's. */
void trace_forked(void);

#endif
