/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the API layer: what the files of the exported calls share.
 *
 * One lock serializes every exported call; mapi_get_next_pkt() lets it go
 * while it waits, and mapi_close_flow() waits for such readers to leave.
 * An exported call reads:
 *     api_begin(); ...checks and work...; on failure return api_fail(ret);
 *     api_end(); return result;
 */
#ifndef MAPI_API_H
#define MAPI_API_H

#include <pthread.h>
#include <stdint.h>

#include "export.h"
#include "flow.h"

extern pthread_mutex_t api_lock;
/* Broadcast when a thread that waited for a flow's packets leaves it. */
extern pthread_cond_t api_reader_left;

void api_begin(void);
/* Publishes the error of negative errno ret, lets the lock go, returns -1
 * (or NULL). */
int api_fail(int ret);
void *api_fail_ptr(int ret);
void api_end(void);

/* The flow of descriptor fd; MAPI_INVALID_FLOW if there is none, or
 * code (MAPI 2.0's differ by call: docs/semantics.md, Errors). */
int api_lookup_flow(int fd, struct flow **f);
int api_lookup_flow_as(int fd, struct flow **f, int code);
/* The function fid of f; code if it has none. */
int api_lookup_fn(const struct flow *f, int fid, struct fn_instance **fi, int code);
int api_must_be_running(const struct flow *f);
/* Connected, and stopped for good since (its interface went): then its
 * programs are taken off, at the first call that sees it, and its counts
 * are final (mapi_get_function_info still gives them).  Every call that
 * reads a flow's counts asks this first. */
int api_stopped(struct flow *f);
/* 0 while a live flow's interface is there; else MAPI_ERR_DEVICE_GONE. */
int api_interface_check(struct flow *f);
/* Whether descriptor fd still names f (it may have been closed while the
 * lock was let go). */
int api_flow_is(int fd, const struct flow *f);
/* The flow of descriptor fd, or NULL: no checks, no error. */
struct flow *api_flow_at(int fd);
struct mapipkt;

/* mapi_loop, calling each(pkt, ctx) without the lock; a failure of each
 * (negative errno, its error set) ends the loop with it. */
int api_loop(int fd, int fid, int cnt, int (*each)(const struct mapipkt *pkt, void *ctx),
	     void *ctx);
/* The packets f's TO_BUFFERs and TO_FILEs lost (full rings, a failed file). */
int api_flow_dropped(const struct flow *f, uint64_t *dropped);
/* The open flows in descriptor order:
 *     for (fd = 0; (f = api_next_flow(&fd)); ) */
struct flow *api_next_flow(int *fd);

/*
 * fork(), with the lock held: before it, TO_FILE buffers are written out;
 * in the child, every flow becomes the parent's copy (f->inherited) and
 * the engine and the connection to mapid are left to the parent.
 */
void api_fork_prepare(void);
/* After it, in parent and child (before api_forked): the files' locks. */
void api_fork_done(void);
void api_forked(void);

/* The connection to mapid, made if need be; NULL when there is none (or
 * MAPI_BACKEND=in-process). */
struct backend *api_mapid(void);

/* The backends' work between calls (hooks left idle), all of it with
 * force: when the next is due (CLOCK_MONOTONIC ms), or 0. */
uint64_t api_housekeep(int force);

/*
 * keeper.c: a thread of the library's own does what must happen between
 * calls: it refreshes MAPI_REF values, writes TO_FILE packets to their
 * files and lets the backends detach idle hooks.  It runs while there is
 * such work; these tell it what there is (called with the lock held).
 */
int keeper_kick(void);
void keeper_count_refs(int delta);
void keeper_count_files(int delta);
/* Functions of live flows it ticks (flow_ticks), every MAPI_REF_REFRESH_MS. */
void keeper_count_ticks(int delta);
void keeper_idle_due(uint64_t due);

#endif
