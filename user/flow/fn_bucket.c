/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * BUCKET(FD, FID, INTERVAL [, RESET]), MAPI 2.0's: another function's
 * number sampled every INTERVAL (mapi.h), the last MAPI_BUCKET_SAMPLES
 * samples kept.  No kernel part: tick() (functions.h) is given the watched
 * number, and takes a sample for each interval boundary passed since the
 * last tick, at the boundary's time.  Over a trace the ticks come before
 * each packet, so a sample holds exactly the packets before its time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "functions.h"

/* The longest interval: a day (longer ones would be read once a run). */
#define MAX_INTERVAL_NS (86400ull * 1000000000ull)

struct bucket {
	uint64_t interval;		/* ns */
	int reset;
	int own;			/* it watches its own flow, whose counts start at 0 */
	int started;
	uint64_t next;			/* the next boundary */
	uint64_t base;			/* the value at the last boundary (RESET) */
	pthread_mutex_t lock;		/* the ring, between tick() and read() */
	struct mapi_bucket_sample *ring;	/* MAPI_BUCKET_SAMPLES; NULL in mapid */
	uint64_t total;
	int partial;
	struct mapi_bucket_result *snapshot;
};

/* "1s", "100ms", "500us", "2m": an interval in ns, or 0. */
static uint64_t interval_ns(const char *s)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "us", 1000ull }, { "ms", 1000000ull }, { "s", 1000000000ull },
		{ "m", 60000000000ull },
	};
	char *end;
	unsigned long long n;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return 0;
	n = strtoull(s, &end, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			return n && n <= UINT64_MAX / units[i].ns ? n * units[i].ns : 0;
	return 0;
}

static int bucket_prepare(struct fn_instance *fi, const struct flow *f)
{
	uint64_t ns = interval_ns(fi->args[2].v.s);
	struct bucket *b;

	if (!ns)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			       "BUCKET INTERVAL \"%s\": a number and us, ms, s or m",
			       fi->args[2].v.s ?: "");
	if (ns > MAX_INTERVAL_NS)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			       "BUCKET INTERVAL \"%s\": a day at most", fi->args[2].v.s);
	if (ns < 1000000ull * MAPI_REF_REFRESH_MS && !f->trace)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			       "BUCKET INTERVAL \"%s\": at least %d ms on an interface (it is read "
			       "that often)", fi->args[2].v.s, MAPI_REF_REFRESH_MS);
	if (fi->args[3].v.i != 0 && fi->args[3].v.i != 1)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 4, "BUCKET RESET %lld: 0 or 1",
			       fi->args[3].v.i);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->interval = ns;
	b->reset = (int)fi->args[3].v.i;
	b->own = fi->args[0].v.i == 0 || fi->args[0].v.i == f->fd;
	pthread_mutex_init(&b->lock, NULL);
	fi->state = b;
	/* mapid's copy never ticks: no ring for it */
	if (!f->served && !(b->ring = calloc(MAPI_BUCKET_SAMPLES, sizeof(*b->ring))))
		return -ENOMEM;
	return 0;
}

static void record(struct bucket *b, uint64_t ts, uint64_t value)
{
	/* (a number that went down, as a frozen store read at 0 would: no
	 * gain, not 2^64) */
	uint64_t gain = value > b->base ? value - b->base : 0;

	b->ring[b->total % MAPI_BUCKET_SAMPLES] = (struct mapi_bucket_sample){
		ts, b->reset ? gain : value,
	};
	b->total++;
	b->base = value;
}

static void bucket_tick(struct fn_instance *fi, uint64_t start, uint64_t now, uint64_t value,
			int final)
{
	struct bucket *b = fi->state;
	uint64_t passed;

	pthread_mutex_lock(&b->lock);
	if (!b->started) {
		/* intervals from the flow's start: its own counts were 0 then */
		b->started = 1;
		b->next = start + b->interval;
		b->base = b->own ? 0 : value;
	}
	if (!b->partial && now >= b->next) {
		passed = (now - b->next) / b->interval + 1;
		/* a silence longer than the ring: its first sample (what came
		 * before it), then only the last MAPI_BUCKET_SAMPLES, alike */
		if (passed > MAPI_BUCKET_SAMPLES + 1) {
			record(b, b->next, value);
			b->next += (passed - MAPI_BUCKET_SAMPLES) * b->interval;
			b->total += passed - 1 - MAPI_BUCKET_SAMPLES;
		}
		while (now >= b->next) {
			record(b, b->next, value);
			b->next += b->interval;
		}
	}
	/* the last, short interval, to the end (the trace's last packet
	 * included) */
	if (final && !b->partial) {
		record(b, now, value);
		b->partial = 1;
	}
	pthread_mutex_unlock(&b->lock);
}

static int bucket_read(struct fn_instance *fi, struct flow *f, const void **out, size_t *size)
{
	struct bucket *b = fi->state;
	struct mapi_bucket_result *r;
	uint64_t i, first;
	unsigned int n;

	(void)f;
	if (!b->ring)
		return err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION, "BUCKET: mapid's copy has no samples");
	pthread_mutex_lock(&b->lock);
	n = b->total < MAPI_BUCKET_SAMPLES ? (unsigned int)b->total : MAPI_BUCKET_SAMPLES;
	r = calloc(1, sizeof(*r) + n * sizeof(r->samples[0]));
	if (r) {
		r->interval = b->interval;
		r->total = b->total;
		r->count = n;
		r->reset = b->reset;
		r->partial = b->partial;
		first = b->total - n;
		for (i = 0; i < n; i++)
			r->samples[i] = b->ring[(first + i) % MAPI_BUCKET_SAMPLES];
	}
	pthread_mutex_unlock(&b->lock);
	if (!r)
		return -ENOMEM;
	free(b->snapshot);
	b->snapshot = r;
	*out = r;
	*size = sizeof(*r) + n * sizeof(r->samples[0]);
	return 0;
}

static void bucket_release(struct fn_instance *fi)
{
	struct bucket *b = fi->state;

	if (!b)
		return;
	free(b->snapshot);
	free(b->ring);
	pthread_mutex_destroy(&b->lock);
	free(b);
	fi->state = NULL;
}

const struct fn_desc fn_bucket = {
	.name = "BUCKET",
	.forms = { { "iisI", "FD FID INTERVAL [RESET]" } },
	.mapi2_form = 0,
	.help = "the number of function FID of flow FD sampled every INTERVAL (\"1s\", "
		"\"100ms\"), or with RESET 1 what it gained in each (struct mapi_bucket_result)",
	.result = FN_RESULT_BUCKET,
	.offloadable = 1,
	.watches = 1,
	.watch_arg = 0,
	.prepare = bucket_prepare,
	.emit = fn_emit_nothing,
	.run = fn_run_pass,
	.tick = bucket_tick,
	.read = bucket_read,
	.release = bucket_release,
};
