/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packets TO_BUFFER and TO_FILE keep: how the API layer reads them.
 *
 * In the kernel each such function counts the packets that reach it
 * (matched) and copies each one into a ring buffer of its own; when the
 * ring is full the packet is dropped and counted (dropped).  In user space
 * a packet read from the ring is delivered (to the application, or to the
 * file).  Once the traffic stops and the ring is read out,
 * matched = delivered + dropped, exactly.
 */
#ifndef MAPI_CAPTURE_H
#define MAPI_CAPTURE_H

#include <stdint.h>

#include "flow.h"

struct capture_stats {
	uint64_t matched;	/* packets that reached the function */
	uint64_t delivered;	/* handed to the application or written */
	uint64_t dropped;	/* lost because the ring was full */
	uint64_t queued;	/* in the ring, not read yet */
	uint64_t past;		/* TO_FILE: after its count, not written */
};

/* True for TO_BUFFER (read with mapi_get_next_pkt) / TO_FILE. */
int capture_is_buffer(const struct fn_instance *fi);
int capture_is_file(const struct fn_instance *fi);
/* TO_BUFFER(NOWAIT): mapi_get_next_pkt does not wait for a packet. */
int capture_nowait(const struct fn_instance *fi);

/*
 * The next packet of a connected TO_BUFFER: 0 and *pkt (valid until the
 * next call for fi, or the flow's end), -EAGAIN if none is waiting, or
 * -ENODATA at the end of a trace.
 */
int capture_next(struct fn_instance *fi, struct mapipkt **pkt);
/* Waits for a packet (0), capture_interrupt() (-EINTR), the end of a
 * trace (-ENODATA) or timeout_ms (-ETIMEDOUT). */
int capture_wait(struct fn_instance *fi, int timeout_ms);
void capture_interrupt(struct fn_instance *fi);
/* Waits end (-ECONNRESET) on the epoll events of fd too (ring_watch):
 * mapid's socket hangs up, the flow's interface goes. */
int capture_watch(struct fn_instance *fi, int fd, uint32_t events);

/* TO_FILE: writes every waiting packet to the file; 0 or negative errno. */
int capture_drain(struct fn_instance *fi);
/* TO_FILE, once its programs no longer run: the rest, and the file closed. */
int capture_finish(struct fn_instance *fi);

/* TO_FILE's result, live: 1 while it writes, 0 once its count of packets
 * is written (never, without a count). */
const int *capture_writing(const struct fn_instance *fi);

/* TO_FILE, around fork(): what its file buffers is written out, and no
 * writer touches the file until capture_fork_done (in parent and child). */
void capture_fork_prepare(struct fn_instance *fi);
void capture_fork_done(struct fn_instance *fi);

/* A flow over a trace: the trace has no more packets. */
void capture_trace_end(struct fn_instance *fi);


int capture_stats(const struct flow *f, const struct fn_instance *fi,
		  struct capture_stats *st);

#endif
