/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DIST(MAPI_PKT_SIZE, MIN, MAX, STEP) and DIST(PROTOCOL, FIELD, MIN, MAX,
 * STEP): a histogram of the frames' wire length or of a header field that
 * is a number (mapi.h), exact.  DIST(FD, FID, MIN, MAX, INTERVAL [, STEP
 * [, RESET]]), MAPI 2.0's: of another function's number sampled every
 * INTERVAL (sampler.h), in the process as BUCKET.
 *
 * In the kernel: the value (the field's program, fields.h, or the wire
 * length) goes to the routine mapi_dist_add (bpf/fn/dist.bpf.c), which
 * counts it in this CPU's bin of a per-CPU array map, without atomics; a
 * read sums the CPUs.  Over a trace: the bins in memory, the same bin
 * arithmetic (fn_dist.h).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen.h"
#include "error.h"
#include "fields.h"
#include "fn_dist.h"
#include "functions.h"
#include "sampler.h"

_Static_assert(DIST_MAX_BINS == MAPI_DIST_MAX_BINS, "mapi.h says how many bins");

enum { DIST_SIZE, DIST_FIELD, DIST_WATCH };	/* its forms */

struct dist {
	int size;			/* of the frames, not of a field */
	int watch;			/* of another function's number */
	struct sampler sampler;
	struct field_spec fs;
	struct cbpf_prog prog;
	uint64_t min, step;
	uint32_t bins;
	int bins_fd;
	pthread_mutex_t lock;		/* memory, between the reader and a read */
	uint64_t *memory;		/* a flow over a trace, or watching: bins + 2 */
	struct mapi_dist_result *snapshot;
};

/* DIST(FD, FID, MIN, MAX, INTERVAL) without a STEP: the smallest that
 * makes DIST_MAX_BINS bins at most, MAX rounded up to a whole step. */
static long long default_step(long long min, long long max)
{
	return max > min ? (max - min + DIST_MAX_BINS - 1) / DIST_MAX_BINS : 1;
}

static int dist_prepare(struct fn_instance *fi, const struct flow *f)
{
	int field = fi->form == DIST_FIELD, watch = fi->form == DIST_WATCH, ret = 0;
	int a = field || watch ? 2 : 1, at_step = watch ? 5 : a + 2;
	long long min = fi->args[a].v.i, max = fi->args[a + 1].v.i, step = fi->args[at_step].v.i;
	struct sampler sampler = { 0 };
	struct dist *d;

	if (watch) {
		ret = sampler_init(&sampler, f, "DIST", 4, fi->args[4].v.s, 6, fi->args[6].v.i,
				   fi->args[0].v.i == 0 || fi->args[0].v.i == f->fd);
		if (ret)
			return ret;
		if (fi->given < 6) {
			step = default_step(min, max);
			if (max > min)
				max = min + (max - min + step - 1) / step * step;
		}
	}
	if (fi->form == DIST_SIZE && fi->args[0].v.i != MAPI_PKT_SIZE)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "DIST %lld: MAPI_PKT_SIZE (%d), or a PROTOCOL and a FIELD",
			       fi->args[0].v.i, MAPI_PKT_SIZE);
	if (field) {
		ret = field_check((int)fi->args[0].v.i, (int)fi->args[1].v.i, 1, 2);
		if (!ret && field_is_address((int)fi->args[1].v.i))
			ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
				      "DIST of %s: an address is not a number",
				      field_name((int)fi->args[1].v.i));
		if (ret)
			return ret;
	}
	if (min < 0)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + a + 1, "DIST MIN %lld: 0 or more",
			       min);
	if (max <= min)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + a + 2,
			       "DIST MAX %lld: more than MIN (%lld)", max, min);
	if (step < 1 || (max - min) % step || (max - min) / step > DIST_MAX_BINS)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + at_step + 1,
			       "DIST STEP %lld: MAX - MIN (%lld) in whole steps, %d bins at most",
			       step, max - min, DIST_MAX_BINS);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	fi->state = d;
	d->size = fi->form == DIST_SIZE;
	d->watch = watch;
	d->sampler = sampler;
	d->min = (uint64_t)min;
	d->step = (uint64_t)step;
	d->bins = (uint32_t)((max - min) / step);
	d->bins_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	if ((f->trace || watch) && !(d->memory = calloc(d->bins + 2, sizeof(*d->memory))))
		return -ENOMEM;
	if (field) {
		d->fs = (struct field_spec){ (int)fi->args[0].v.i, (int)fi->args[1].v.i, 32, 128 };
		ret = field_program(&d->fs, 0, &d->prog);
	}
	return ret;
}

static int dist_connect(struct fn_instance *fi, const struct flow *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, ro, .map_flags = BPF_F_RDONLY);
	struct dist *d = fi->state;

	(void)f;
	if (d->watch)
		return 0;
	fi->maps = 1;
	d->bins_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "mapi_dist", sizeof(uint32_t),
				    sizeof(uint64_t), d->bins + 2, &ro);
	if (d->bins_fd < 0)
		return err_kernel(-errno, "creating DIST's bins");
	return 0;
}

static int dist_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct dist *d = fi->state;
	struct prog_buf *pb = &cg->pb;
	int skip = pb_new_label(pb), ret;

	if (d->watch)
		return fn_emit_nothing(cg, fi);
	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "DIST cannot run on a NIC");
	if (d->size) {
		pb_emit(pb, LDX_MEM(BPF_DW, R2, RFP, STK_WIRELEN));
	} else {
		ret = field_emit(cg, &d->prog, skip);
		if (ret)
			return ret;
		pb_emit(pb, LDX_MEM(BPF_W, R2, RFP, STK_SCRATCH + 4));	/* M[1] */
	}
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)d->bins_fd);
	pb_ld_imm64(pb, R3, 0, d->min);
	pb_ld_imm64(pb, R4, 0, d->step);
	pb_emit(pb, MOV64_IMM(R5, (int32_t)d->bins));
	cg_call_routine(cg, &routine_mapi_dist_add);
	pb_bind(pb, skip);
	return 0;
}

static int dist_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct dist *d = fi->state;
	uint32_t mem[CBPF_MEMWORDS];
	uint64_t v = p->wlen;

	if (d->watch)
		return fn_run_pass(fi, f, p);
	if (!d->size) {
		if (!cbpf_exec(&d->prog, p->data, p->caplen, p->wlen, mem))
			return 1;
		v = mem[1];
	}
	pthread_mutex_lock(&d->lock);
	d->memory[dist_bin(v, d->min, d->step, d->bins)]++;
	pthread_mutex_unlock(&d->lock);
	return 1;
}

/* n samples of the number watched (an interval cut short is not one). */
static void add_samples(void *ctx, uint64_t ts, uint64_t value, uint64_t n, int partial)
{
	struct dist *d = ctx;

	(void)ts;
	if (!partial)
		d->memory[dist_bin(value, d->min, d->step, d->bins)] += n;
}

static void dist_tick(struct fn_instance *fi, struct flow *f, uint64_t start, uint64_t now,
		      uint64_t value, int final)
{
	struct dist *d = fi->state;

	pthread_mutex_lock(&d->lock);
	sampler_tick(&d->sampler, start, now, value, final, add_samples, d);
	pthread_mutex_unlock(&d->lock);
}

static int dist_read(struct fn_instance *fi, struct flow *f, const void **out, size_t *size)
{
	struct dist *d = fi->state;
	int ncpus = store_ncpus(), c, memory = f->trace || d->watch;
	struct mapi_dist_result *r;
	uint64_t *cpus = NULL;
	uint32_t i;

	r = calloc(1, sizeof(*r) + d->bins * sizeof(r->counts[0]));
	if (!r || (!memory && !(cpus = calloc((size_t)ncpus, sizeof(*cpus))))) {
		free(r);
		return -ENOMEM;
	}
	r->min = d->min;
	r->step = d->step;
	r->max = d->min + d->bins * d->step;
	r->bins = d->bins;
	if (memory)
		pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->bins + 2; i++) {
		uint64_t n = 0;

		if (memory) {
			n = d->memory[i];
		} else if (bpf_map_lookup_elem(d->bins_fd, &i, cpus)) {
			free(cpus);
			free(r);
			return err_kernel(-errno, "reading DIST's bins");
		} else {
			for (c = 0; c < ncpus; c++)
				n += cpus[c];
		}
		if (!i)
			r->below = n;
		else if (i == d->bins + 1)
			r->above = n;
		else
			r->counts[i - 1] = n;
		r->count += n;
	}
	if (memory)
		pthread_mutex_unlock(&d->lock);
	free(cpus);
	free(d->snapshot);
	d->snapshot = r;
	*out = r;
	*size = sizeof(*r) + d->bins * sizeof(r->counts[0]);
	return 0;
}

static int dist_share(const struct fn_instance *fi, int *fds, int max)
{
	struct dist *d = fi->state;
	int *const maps[] = { &d->bins_fd };

	return fn_maps_share(fi, maps, !d->watch, fds, max);
}

static int dist_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct dist *d = fi->state;
	int *const maps[] = { &d->bins_fd };

	(void)f;
	return fn_maps_adopt(fi, maps, !d->watch, fds, n);
}

static void dist_disconnect(struct fn_instance *fi)
{
	struct dist *d = fi->state;
	int *const maps[] = { &d->bins_fd };

	fn_maps_close(fi, maps, 1);
}

static void dist_release(struct fn_instance *fi)
{
	struct dist *d = fi->state;

	if (!d)
		return;
	dist_disconnect(fi);
	cbpf_prog_free(&d->prog);
	free(d->memory);
	free(d->snapshot);
	pthread_mutex_destroy(&d->lock);
	free(d);
	fi->state = NULL;
}

const struct fn_desc fn_dist = {
	.name = "DIST",
	.forms = { [DIST_SIZE] = { "iiii", "MAPI_PKT_SIZE MIN MAX STEP" },
		   [DIST_FIELD] = { "iiiii", "PROTOCOL FIELD MIN MAX STEP" },
		   [DIST_WATCH] = { "iiiisII", "FD FID MIN MAX INTERVAL [STEP] [RESET]", 1 } },
	.mapi2_form = DIST_WATCH,
	.help = "a histogram of the frames' length on the wire (MAPI_PKT_SIZE), of a header "
		"field that is a number, or of function FID of flow FD sampled every INTERVAL as "
		"BUCKET: bins of STEP from MIN to MAX, one below and one above, exact "
		"(struct mapi_dist_result)",
	.result = FN_RESULT_DIST,
	.prepare = dist_prepare,
	.connect = dist_connect,
	.emit = dist_emit,
	.run = dist_run,
	.tick = dist_tick,
	.read = dist_read,
	.share = dist_share,
	.adopt = dist_adopt,
	.disconnect = dist_disconnect,
	.release = dist_release,
};
