/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * THRESHOLD(TYPE, FD, FID, THRESHOLD, BOUNDARY, TIMEOUT, DIVIDER, COUNT),
 * MAPI 2.0's: events when another function's number, or its change over a
 * window of polls, crosses a bound (mapi.h).  No kernel part: tick()
 * (functions.h) polls the watched number every MAPI_THRESHOLD_POLL_MS of
 * the flow's time (the wall clock live, the packets' times over a trace),
 * and an event wakes the thread waiting in mapi_wait_event (next_event):
 * no polling in the application.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "functions.h"

#define POLL_NS (MAPI_THRESHOLD_POLL_MS * 1000000ull)
#define MAX_DIVIDER 60000	/* polls in a window: 10 minutes */
/* polls a tick takes one by one before it skips a silence (a trace's
 * gap): 10,000 s of trace time */
#define MAX_POLLS_A_TICK 1000000

struct threshold {
	int type, boundary;
	uint64_t bound, timeout_ns, count;
	uint32_t divider;
	uint64_t *history;		/* the last divider + 1 polls' values */
	uint64_t polls;
	int started;
	uint64_t next_poll;
	uint64_t events;
	struct mapi_threshold_event last;
	struct mapi_threshold_event queue[MAPI_THRESHOLD_EVENTS];
	uint64_t taken;			/* events mapi_wait_event has returned */
	int ended, interrupted;
	pthread_mutex_t lock;
	pthread_cond_t more;		/* an event came, or no more can */
	struct mapi_threshold_result snapshot;
};

static int threshold_prepare(struct fn_instance *fi, const struct flow *f)
{
	long long type = fi->args[0].v.i, bound = fi->args[3].v.i, boundary = fi->args[4].v.i;
	long long timeout = fi->args[5].v.i, divider = fi->args[6].v.i, count = fi->args[7].v.i;
	pthread_condattr_t ca;
	struct threshold *t;

	if (type != MAPI_THRESHOLD_VALUE && type != MAPI_THRESHOLD_CHANGE)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "THRESHOLD TYPE %lld: MAPI_THRESHOLD_VALUE (%d) or "
			       "MAPI_THRESHOLD_CHANGE (%d)", type, MAPI_THRESHOLD_VALUE,
			       MAPI_THRESHOLD_CHANGE);
	if (bound < 0)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 4,
			       "THRESHOLD THRESHOLD %lld: 0 or more", bound);
	if (boundary < MAPI_BOUNDARY_ABOVE || boundary > MAPI_BOUNDARY_BELOW)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 5,
			       "THRESHOLD BOUNDARY %lld: MAPI_BOUNDARY_ABOVE (%d), _EQUAL (%d) or "
			       "_BELOW (%d)", boundary, MAPI_BOUNDARY_ABOVE, MAPI_BOUNDARY_EQUAL,
			       MAPI_BOUNDARY_BELOW);
	if (timeout < 0)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 6,
			       "THRESHOLD TIMEOUT %lld: microseconds, 0 or more", timeout);
	if (divider < 1 || divider > MAX_DIVIDER)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 7,
			       "THRESHOLD DIVIDER %lld: 1 to %d polls of %d ms", divider, MAX_DIVIDER,
			       MAPI_THRESHOLD_POLL_MS);
	if (count < 0)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 8,
			       "THRESHOLD COUNT %lld: 0 (no limit) or more", count);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	fi->state = t;
	/* mapid's copy never ticks: no history for it */
	t->history = calloc(f->served ? 1 : (size_t)divider + 1, sizeof(*t->history));
	if (!t->history)
		return -ENOMEM;
	t->type = (int)type;
	t->boundary = (int)boundary;
	t->bound = (uint64_t)bound;
	t->timeout_ns = (uint64_t)timeout * 1000;
	t->divider = (uint32_t)divider;
	t->count = (uint64_t)count;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->more, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

static int crosses(const struct threshold *t, uint64_t x)
{
	switch (t->boundary) {
	case MAPI_BOUNDARY_ABOVE: return x > t->bound;
	case MAPI_BOUNDARY_EQUAL: return x == t->bound;
	default: return x < t->bound;
	}
}

/* A poll at time ts, the watched number being value (t->lock held). */
static void poll_once(struct threshold *t, uint64_t ts, uint64_t value)
{
	uint32_t k = t->divider + 1;
	uint64_t x;

	t->history[t->polls % k] = value;
	t->polls++;
	if (t->type == MAPI_THRESHOLD_CHANGE) {
		if (t->polls < k)
			return;		/* no whole window yet */
		x = t->history[t->polls % k];	/* the oldest: divider polls ago */
		x = value > x ? value - x : 0;	/* (a number that went down: no change) */
	} else {
		x = value;
	}
	if (!crosses(t, x) || (t->count && t->events >= t->count))
		return;
	if (t->events && ts < t->last.ts + t->timeout_ns)
		return;
	t->events++;
	t->last = (struct mapi_threshold_event){ ts, x, t->events };
	t->queue[(t->events - 1) % MAPI_THRESHOLD_EVENTS] = t->last;
	pthread_cond_broadcast(&t->more);
}

static void threshold_tick(struct fn_instance *fi, struct flow *f, uint64_t start, uint64_t now,
			   uint64_t value, int final)
{
	struct threshold *t = fi->state;
	int polls = 0;

	pthread_mutex_lock(&t->lock);
	if (!t->started) {	/* polls from the flow's start */
		t->started = 1;
		t->next_poll = start;
	}
	while (now >= t->next_poll && polls++ < MAX_POLLS_A_TICK) {
		poll_once(t, t->next_poll, value);
		t->next_poll += POLL_NS;
	}
	/* a long silence: the rest of its polls skipped, as nothing moved
	 * (the window holds the same value by now), on the same 10 ms steps */
	if (now >= t->next_poll)
		t->next_poll += ((now - t->next_poll) / POLL_NS + 1) * POLL_NS;
	if (final || (t->count && t->events >= t->count)) {
		t->ended = 1;
		pthread_cond_broadcast(&t->more);
	}
	pthread_mutex_unlock(&t->lock);
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int threshold_next_event(struct fn_instance *fi, int timeout_ms, void *ev)
{
	struct threshold *t = fi->state;
	struct timespec deadline;
	int ret = 0;

	if (timeout_ms > 0)
		deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&t->lock);
	/* events the ring no longer holds are gone: the oldest it holds next */
	if (t->events - t->taken > MAPI_THRESHOLD_EVENTS)
		t->taken = t->events - MAPI_THRESHOLD_EVENTS;
	while (t->taken == t->events && !ret) {
		if (t->interrupted)
			ret = -ESHUTDOWN;
		else if (t->ended)
			ret = -ENODATA;
		else if (!timeout_ms)
			ret = -ETIMEDOUT;
		else if (timeout_ms < 0)
			pthread_cond_wait(&t->more, &t->lock);
		else if (pthread_cond_timedwait(&t->more, &t->lock, &deadline) == ETIMEDOUT &&
			 t->taken == t->events)
			ret = -ETIMEDOUT;
	}
	if (!ret)
		memcpy(ev, &t->queue[t->taken++ % MAPI_THRESHOLD_EVENTS], sizeof(t->last));
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static void threshold_interrupt(struct fn_instance *fi)
{
	struct threshold *t = fi->state;

	pthread_mutex_lock(&t->lock);
	t->interrupted = 1;
	pthread_cond_broadcast(&t->more);
	pthread_mutex_unlock(&t->lock);
}

static int threshold_read(struct fn_instance *fi, struct flow *f, const void **out,
			  size_t *size)
{
	struct threshold *t = fi->state;

	(void)f;
	pthread_mutex_lock(&t->lock);
	memset(&t->snapshot, 0, sizeof(t->snapshot));
	t->snapshot.events = t->events;
	t->snapshot.done = t->count && t->events >= t->count;
	t->snapshot.last = t->last;
	pthread_mutex_unlock(&t->lock);
	*out = &t->snapshot;
	*size = sizeof(t->snapshot);
	return 0;
}

static void threshold_release(struct fn_instance *fi)
{
	struct threshold *t = fi->state;

	if (!t)
		return;
	/* The lock and condition are not destroyed: a child of fork() frees
	 * its copy of the flow, whose condition may still count a thread of
	 * the parent's waiting (destroying it would wait for ever); on Linux
	 * they hold nothing to free. */
	free(t->history);
	free(t);
	fi->state = NULL;
}

const struct fn_desc fn_threshold = {
	.name = "THRESHOLD",
	.forms = { { "iiiiiiii", "TYPE FD FID THRESHOLD BOUNDARY TIMEOUT DIVIDER COUNT", 2 } },
	.help = "an event (mapi_wait_event) when the number of function FID of flow FD, or its "
		"change over DIVIDER polls of 10 ms (TYPE), is above, equal to or below THRESHOLD "
		"(BOUNDARY), at most one per TIMEOUT us, COUNT at most (0: no limit)",
	.result = FN_RESULT_THRESHOLD,
	.offloadable = 1,
	.prepare = threshold_prepare,
	.emit = fn_emit_nothing,
	.run = fn_run_pass,
	.tick = threshold_tick,
	.next_event = threshold_next_event,
	.interrupt = threshold_interrupt,
	.read = threshold_read,
	.release = threshold_release,
};
