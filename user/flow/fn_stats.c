/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * STATS(MAPI_PKT_SIZE) and STATS(PROTOCOL, FIELD): count, sum, sum of
 * squares, minimum and maximum of the frames' wire length or of a header
 * field that is a number (mapi.h), exact.  STATS(FD, FID, INTERVAL [,
 * RESET]), MAPI 2.0's: the same of another function's number sampled
 * every INTERVAL (sampler.h), in the process as BUCKET.
 *
 * In the kernel: the field's classic program (fields.h) leaves the value
 * in M[1] (or the wire length is taken); the routine mapi_stats_add
 * (bpf/fn/stats.bpf.c) adds it to this CPU's cell of a per-CPU array map,
 * without atomics; a read merges the CPUs' cells.  Over a trace: one cell
 * in memory, the same arithmetic (fn_stats.h).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen.h"
#include "error.h"
#include "fields.h"
#include "fn_stats.h"
#include "functions.h"
#include "sampler.h"

enum { STATS_SIZE, STATS_FIELD, STATS_WATCH };	/* its forms */

struct stats {
	int size;			/* of the frames, not of a field */
	int watch;			/* of another function's number */
	struct sampler sampler;
	struct field_spec fs;
	struct cbpf_prog prog;
	int cells_fd;
	pthread_mutex_t lock;		/* memory, between the reader and a read */
	struct stats_cell memory;	/* a flow over a trace, or watching */
	struct mapi_stats_result snapshot;
};

static int stats_prepare(struct fn_instance *fi, const struct flow *f)
{
	struct sampler sampler = { 0 };
	struct stats *s;
	int ret = 0;

	if (fi->form == STATS_WATCH) {
		ret = sampler_init(&sampler, f, "STATS", 2, fi->args[2].v.s, 3, fi->args[3].v.i,
				   fi->args[0].v.i == 0 || fi->args[0].v.i == f->fd);
		if (ret)
			return ret;
	}
	if (fi->form == STATS_SIZE && fi->args[0].v.i != MAPI_PKT_SIZE)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "STATS %lld: MAPI_PKT_SIZE (%d), or a PROTOCOL and a FIELD",
			       fi->args[0].v.i, MAPI_PKT_SIZE);
	if (fi->form == STATS_FIELD) {
		ret = field_check((int)fi->args[0].v.i, (int)fi->args[1].v.i, 1, 2);
		if (!ret && field_is_address((int)fi->args[1].v.i))
			ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
				      "STATS of %s: an address is not a number",
				      field_name((int)fi->args[1].v.i));
		if (ret)
			return ret;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	fi->state = s;
	s->size = fi->form == STATS_SIZE;
	s->watch = fi->form == STATS_WATCH;
	s->sampler = sampler;
	s->cells_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (fi->form == STATS_FIELD) {
		s->fs = (struct field_spec){ (int)fi->args[0].v.i, (int)fi->args[1].v.i, 32, 128 };
		ret = field_program(&s->fs, 0, &s->prog);
	}
	return ret;
}

static int stats_connect(struct fn_instance *fi, const struct flow *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, ro, .map_flags = BPF_F_RDONLY);
	struct stats *s = fi->state;

	(void)f;
	if (s->watch)
		return 0;
	fi->maps = 1;
	s->cells_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "mapi_stats", sizeof(uint32_t),
				     sizeof(struct stats_cell), 1, &ro);
	if (s->cells_fd < 0)
		return err_kernel(-errno, "creating STATS's cells");
	return 0;
}

static int stats_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct stats *s = fi->state;
	struct prog_buf *pb = &cg->pb;
	int skip = pb_new_label(pb), ret;

	if (s->watch)
		return fn_emit_nothing(cg, fi);
	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "STATS cannot run on a NIC");
	if (s->size) {
		pb_emit(pb, LDX_MEM(BPF_DW, R2, RFP, STK_WIRELEN));
	} else {
		ret = field_emit(cg, &s->prog, skip);
		if (ret)
			return ret;
		pb_emit(pb, LDX_MEM(BPF_W, R2, RFP, STK_SCRATCH + 4));	/* M[1] */
	}
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)s->cells_fd);
	cg_call_routine(cg, &routine_mapi_stats_add);
	pb_bind(pb, skip);
	return 0;
}

static int stats_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct stats *s = fi->state;
	uint32_t mem[CBPF_MEMWORDS];
	uint64_t v = p->wlen;

	if (s->watch)
		return fn_run_pass(fi, f, p);
	if (!s->size) {
		if (!cbpf_exec(&s->prog, p->data, p->caplen, p->wlen, mem))
			return 1;
		v = mem[1];
	}
	pthread_mutex_lock(&s->lock);
	stats_cell_add(&s->memory, v);
	pthread_mutex_unlock(&s->lock);
	return 1;
}

/* n samples of the number watched: value, any 64 bits (the sums wrap at
 * 2^128, which realistic numbers do not reach). */
static void add_samples(void *ctx, uint64_t ts, uint64_t value, uint64_t n, int partial)
{
	struct stats *s = ctx;
	struct stats_cell *c = &s->memory;
	unsigned __int128 sum = (unsigned __int128)c->sum_hi << 64 | c->sum_lo;
	unsigned __int128 sum2 = (unsigned __int128)c->sum2_hi << 64 | c->sum2_lo;

	(void)ts;
	if (partial)
		return;	/* an interval cut short is not a sample of INTERVAL */
	if (!c->count || value < c->min)
		c->min = value;
	if (!c->count || value > c->max)
		c->max = value;
	c->count += n;
	sum += (unsigned __int128)value * n;
	sum2 += (unsigned __int128)value * value * n;
	c->sum_hi = (uint64_t)(sum >> 64);
	c->sum_lo = (uint64_t)sum;
	c->sum2_hi = (uint64_t)(sum2 >> 64);
	c->sum2_lo = (uint64_t)sum2;
}

static void stats_tick(struct fn_instance *fi, struct flow *f, uint64_t start, uint64_t now,
		       uint64_t value, int final)
{
	struct stats *s = fi->state;

	pthread_mutex_lock(&s->lock);
	sampler_tick(&s->sampler, start, now, value, final, add_samples, s);
	pthread_mutex_unlock(&s->lock);
}

/* Adds cell b to cell a. */
static void merge(struct stats_cell *a, const struct stats_cell *b)
{
	if (!b->count)
		return;
	if (!a->count || b->min < a->min)
		a->min = b->min;
	if (!a->count || b->max > a->max)
		a->max = b->max;
	a->count += b->count;
	a->sum_hi += b->sum_hi;
	a->sum_lo += b->sum_lo;
	a->sum_hi += a->sum_lo < b->sum_lo;
	a->sum2_hi += b->sum2_hi;
	a->sum2_lo += b->sum2_lo;
	a->sum2_hi += a->sum2_lo < b->sum2_lo;
}

static int stats_read(struct fn_instance *fi, struct flow *f, const void **out, size_t *size)
{
	struct stats *s = fi->state;
	struct mapi_stats_result *r = &s->snapshot;
	struct stats_cell all = { 0 };
	int ncpus = store_ncpus(), i;
	uint32_t zero = 0;

	if (f->trace || s->watch) {
		pthread_mutex_lock(&s->lock);
		all = s->memory;
		pthread_mutex_unlock(&s->lock);
	} else {
		struct stats_cell *cells = calloc((size_t)ncpus, sizeof(*cells));

		if (!cells)
			return -ENOMEM;
		if (bpf_map_lookup_elem(s->cells_fd, &zero, cells)) {
			free(cells);
			return err_kernel(-errno, "reading STATS's cells");
		}
		for (i = 0; i < ncpus; i++)
			merge(&all, &cells[i]);
		free(cells);
	}
	memset(r, 0, sizeof(*r));
	r->count = all.count;
	r->sum_hi = all.sum_hi;
	r->sum_lo = all.sum_lo;
	r->sum2_hi = all.sum2_hi;
	r->sum2_lo = all.sum2_lo;
	r->min = all.min;
	r->max = all.max;
	if (all.count) {
		/* in 128 bits: n sum2 - sum^2 would need 256; long double's 64-bit
		 * mantissa keeps the variance's digits for any realistic values */
		unsigned __int128 sum = (unsigned __int128)all.sum_hi << 64 | all.sum_lo;
		unsigned __int128 sum2 = (unsigned __int128)all.sum2_hi << 64 | all.sum2_lo;
		long double n = (long double)all.count, mean = (long double)sum / n;
		long double var = ((long double)sum2 - mean * (long double)sum) / n;

		r->mean = (double)mean;
		r->stddev = (double)sqrtl(var > 0 ? var : 0);
	}
	*out = r;
	*size = sizeof(*r);
	return 0;
}

static int stats_share(const struct fn_instance *fi, int *fds, int max)
{
	struct stats *s = fi->state;
	int *const maps[] = { &s->cells_fd };

	return fn_maps_share(fi, maps, !s->watch, fds, max);
}

static int stats_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct stats *s = fi->state;
	int *const maps[] = { &s->cells_fd };

	(void)f;
	return fn_maps_adopt(fi, maps, !s->watch, fds, n);
}

static void stats_disconnect(struct fn_instance *fi)
{
	struct stats *s = fi->state;
	int *const maps[] = { &s->cells_fd };

	fn_maps_close(fi, maps, 1);
}

static void stats_release(struct fn_instance *fi)
{
	struct stats *s = fi->state;

	if (!s)
		return;
	stats_disconnect(fi);
	cbpf_prog_free(&s->prog);
	pthread_mutex_destroy(&s->lock);
	free(s);
	fi->state = NULL;
}

const struct fn_desc fn_stats = {
	.name = "STATS",
	.forms = { [STATS_SIZE] = { "i", "MAPI_PKT_SIZE" },
		   [STATS_FIELD] = { "ii", "PROTOCOL FIELD" },
		   [STATS_WATCH] = { "iisI", "FD FID INTERVAL [RESET]", 1 } },
	.mapi2_form = STATS_WATCH,
	.help = "count, sum, sum of squares, minimum, maximum, mean and standard deviation of "
		"the frames' length on the wire (MAPI_PKT_SIZE), of a header field that is a "
		"number (TOP's TOPX_ names), or of function FID of flow FD sampled every INTERVAL "
		"as BUCKET, exact (struct mapi_stats_result)",
	.result = FN_RESULT_STATS,
	.prepare = stats_prepare,
	.connect = stats_connect,
	.emit = stats_emit,
	.run = stats_run,
	.tick = stats_tick,
	.read = stats_read,
	.share = stats_share,
	.adopt = stats_adopt,
	.disconnect = stats_disconnect,
	.release = stats_release,
};
