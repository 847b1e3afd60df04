/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The library's housekeeping thread (api.h says what it does).  It holds
 * the API lock while it works, so that its reads and writes never race a
 * call that closes a flow.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "backend.h"
#include "capture.h"
#include "clock.h"
#include "error.h"
#include "functions.h"
#include "linkwatch.h"
#include "mapi.h"
#include "threads.h"

static int nrefs;			/* MAPI_REF results of open flows */
static int nfiles;			/* TO_FILE functions of connected flows */
static int nticks;			/* functions ticked (flow_ticks) of connected live flows */
static uint64_t idle_due;		/* next idle hook to detach (ms), or 0 */
static int keeper_on, keeper_done, keeper_stop;
static pthread_t keeper;
static pthread_cond_t keeper_wake;	/* on CLOCK_MONOTONIC: keeper_init() */

void keeper_count_refs(int delta)
{
	nrefs += delta;
}

void keeper_count_files(int delta)
{
	nfiles += delta;
}

void keeper_count_ticks(int delta)
{
	nticks += delta;
}

/* BUCKET, THRESHOLD, ...: the number each watches, now.  When that flow has
 * closed (its descriptor may be another's by now: its serial says) or lost
 * its interface, a last, final tick, with the last number read.  A
 * function with a clock of its own (TOP's INTERVAL): a tick, final when
 * its flow lost its interface. */
static void tick_watchers(void)
{
	uint64_t now = realtime_ns();
	struct flow *f, *w;
	int fd, i;

	for (fd = 0; (f = api_next_flow(&fd));) {
		if (f->status != MAPI_FLOW_RUNNING || !f->backend->ops->live || f->inherited)
			continue;
		for (i = 0; i < f->nfns; i++) {
			struct fn_instance *fi = f->fns[i], *wfi;

			if (!flow_ticks(fi) || fi->watch_ended)
				continue;
			if (!flow_watches(fi)) {	/* a clock of its own */
				api_stopped(f);
				fi->watch_ended = f->detached;
				fi->desc->tick(fi, f, f->start_ns, now, 0, f->detached);
				continue;
			}
			w = api_flow_at(flow_watch_fd(fi) ? flow_watch_fd(fi) : f->fd);
			if (!w || w->serial != fi->watch_serial) {
				fi->watch_ended = 1;
				fi->desc->tick(fi, f, f->start_ns, now, fi->watch_value, 1);
				continue;
			}
			if (w->status != MAPI_FLOW_RUNNING)
				continue;	/* not connected yet */
			api_stopped(w);	/* its interface went: its final values */
			wfi = flow_fn(w, flow_watch_fid(fi));
			if (!wfi || flow_read_number(w, wfi, &fi->watch_value))
				continue;
			fi->watch_ended = w->detached;
			fi->desc->tick(fi, f, f->start_ns, now, fi->watch_value, w->detached);
		}
	}
	err_begin();
}

void keeper_idle_due(uint64_t due)
{
	idle_due = due;
	if (due)
		keeper_kick();	/* if it cannot start, idle hooks go at exit */
}

static void refresh_refs(void)
{
	struct flow *f;
	int fd, i;

	for (fd = 0; (f = api_next_flow(&fd));) {
		uint64_t v;

		if (f->status != MAPI_FLOW_RUNNING || f->inherited)
			continue;
		api_stopped(f);	/* its interface went: final values, from now on */
		for (i = 0; i < f->nfns; i++) {
			struct fn_instance *fi = f->fns[i];

			if (fi->ref_on && !flow_read_number(f, fi, &v))
				__atomic_store_n(&fi->ref, v, __ATOMIC_RELAXED);
		}
	}
	err_begin();
}

/* TO_FILE: the rings into their files.  A write error stays with the
 * file and is reported when its flow closes. */
static void drain_files(void)
{
	struct flow *f;
	int fd, i;

	for (fd = 0; (f = api_next_flow(&fd));) {
		if (f->status != MAPI_FLOW_RUNNING || !f->backend->ops->live || f->inherited)
			continue;
		api_stopped(f);	/* its interface went: nothing more comes */
		for (i = 0; i < f->nfns; i++)
			if (capture_is_file(f->fns[i]))
				capture_drain(f->fns[i]);
	}
	err_begin();
}

static void deadline_after(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static void *keeper_main(void *arg)
{
	struct timespec t;

	(void)arg;
	pthread_mutex_lock(&api_lock);
	while (!keeper_stop && (nrefs || nfiles || nticks || idle_due)) {
		long wait = MAPI_REF_REFRESH_MS;

		if (!nrefs && !nfiles && !nticks)
			wait = (long)(idle_due - monotonic_ms());
		deadline_after(&t, wait > 0 ? wait : 0);
		pthread_cond_timedwait(&keeper_wake, &api_lock, &t);
		if (keeper_stop)
			break;
		if (nrefs)
			refresh_refs();
		if (nfiles)
			drain_files();
		if (nticks)
			tick_watchers();
		if (idle_due && idle_due <= monotonic_ms())
			idle_due = api_housekeep(0);
	}
	keeper_done = 1;
	pthread_mutex_unlock(&api_lock);
	return NULL;
}

int keeper_kick(void)
{
	int ret;

	if (keeper_on && !keeper_done) {
		pthread_cond_signal(&keeper_wake);
		return 0;
	}
	if (keeper_on)
		pthread_join(keeper, NULL);	/* it has ended: reap it */
	keeper_on = keeper_done = keeper_stop = 0;
	ret = thread_start(&keeper, keeper_main, NULL);
	if (ret)
		return err_set(-ret, MAPI_ERR_NOMEM,
			       "cannot start the library's housekeeping thread: %s", strerror(ret));
	keeper_on = 1;
	return 0;
}

static void wake_init(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&keeper_wake, &ca);
	pthread_condattr_destroy(&ca);
}

/*
 * fork(): the child must not inherit the lock held by a thread it does not
 * have (the keeper's, say), nor believe that thread runs, nor wait on a
 * condition that thread was waiting on (destroying it would wait for ever).
 * Its flows stay the parent's (api_forked).
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&api_lock);
	linkwatch_fork_prepare();
	api_fork_prepare();
}

static void fork_parent(void)
{
	api_fork_done();
	linkwatch_fork_parent();
	pthread_mutex_unlock(&api_lock);
}

static void fork_child(void)
{
	linkwatch_fork_child();
	keeper_on = keeper_done = keeper_stop = 0;
	/* the inherited flows are the parent's: nothing to refresh or write */
	nrefs = nfiles = nticks = 0;
	idle_due = 0;
	wake_init();
	api_fork_done();
	api_forked();
	pthread_mutex_unlock(&api_lock);
}

__attribute__((constructor)) static void keeper_init(void)
{
	wake_init();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* At exit: the keeper stops, idle hooks go now. */
__attribute__((destructor)) static void keeper_shutdown(void)
{
	int join;

	pthread_mutex_lock(&api_lock);
	keeper_stop = 1;
	join = keeper_on;
	keeper_on = 0;
	pthread_cond_signal(&keeper_wake);
	api_housekeep(1);
	idle_due = 0;
	pthread_mutex_unlock(&api_lock);
	if (join)
		pthread_join(keeper, NULL);
}
