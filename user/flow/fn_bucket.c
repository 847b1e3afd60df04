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
#include "sampler.h"

struct bucket {
	struct sampler sampler;
	pthread_mutex_t lock;		/* the ring, between tick() and read() */
	struct mapi_bucket_sample *ring;	/* MAPI_BUCKET_SAMPLES; NULL in mapid */
	uint64_t total;
	int partial;
	struct mapi_bucket_result *snapshot;
};

static int bucket_prepare(struct fn_instance *fi, const struct flow *f)
{
	struct sampler sampler;
	struct bucket *b;
	int ret;

	ret = sampler_init(&sampler, f, "BUCKET", 2, fi->args[2].v.s, 3, fi->args[3].v.i,
			   fi->args[0].v.i == 0 || fi->args[0].v.i == f->fd);
	if (ret)
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->sampler = sampler;
	pthread_mutex_init(&b->lock, NULL);
	fi->state = b;
	/* mapid's copy never ticks: no ring for it */
	if (!f->served && !(b->ring = calloc(MAPI_BUCKET_SAMPLES, sizeof(*b->ring))))
		return -ENOMEM;
	return 0;
}

/* n samples into the ring: of a silence longer than the ring, only the
 * last MAPI_BUCKET_SAMPLES are kept, all alike. */
static void record(void *ctx, uint64_t ts, uint64_t value, uint64_t n, int partial)
{
	struct bucket *b = ctx;
	uint64_t interval = b->sampler.interval;

	if (n > MAPI_BUCKET_SAMPLES) {
		ts += (n - MAPI_BUCKET_SAMPLES) * interval;
		b->total += n - MAPI_BUCKET_SAMPLES;
		n = MAPI_BUCKET_SAMPLES;
	}
	for (; n; n--, ts += interval)
		b->ring[b->total++ % MAPI_BUCKET_SAMPLES] =
			(struct mapi_bucket_sample){ ts, value };
	b->partial = partial;
}

static void bucket_tick(struct fn_instance *fi, struct flow *f, uint64_t start, uint64_t now,
			uint64_t value, int final)
{
	struct bucket *b = fi->state;

	pthread_mutex_lock(&b->lock);
	sampler_tick(&b->sampler, start, now, value, final, record, b);
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
		r->interval = b->sampler.interval;
		r->total = b->total;
		r->count = n;
		r->reset = b->sampler.reset;
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
	.forms = { { "iisI", "FD FID INTERVAL [RESET]", 1 } },
	.mapi2_form = 0,
	.help = "the number of function FID of flow FD sampled every INTERVAL (\"1s\", "
		"\"100ms\"), or with RESET 1 what it gained in each (struct mapi_bucket_result)",
	.result = FN_RESULT_BUCKET,
	.offloadable = 1,
	.prepare = bucket_prepare,
	.emit = fn_emit_nothing,
	.run = fn_run_pass,
	.tick = bucket_tick,
	.read = bucket_read,
	.release = bucket_release,
};
