/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DIST(MAPI_PKT_SIZE, MIN, MAX, STEP) and DIST(PROTOCOL, FIELD, MIN, MAX,
 * STEP): a histogram of the frames' wire length or of a header field that
 * is a number (mapi.h), exact.
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

_Static_assert(DIST_MAX_BINS == MAPI_DIST_MAX_BINS, "mapi.h says how many bins");

struct dist {
	int size;			/* of the frames, not of a field */
	struct field_spec fs;
	struct cbpf_prog prog;
	uint64_t min, step;
	uint32_t bins;
	int bins_fd;
	pthread_mutex_t lock;		/* memory, between the reader and a read */
	uint64_t *memory;		/* a flow over a trace: bins + 2 */
	struct mapi_dist_result *snapshot;
};

static int dist_prepare(struct fn_instance *fi, const struct flow *f)
{
	int field = fi->form == 1, a = field ? 2 : 1, ret = 0;
	long long min = fi->args[a].v.i, max = fi->args[a + 1].v.i, step = fi->args[a + 2].v.i;
	struct dist *d;

	if (!field && fi->args[0].v.i != MAPI_PKT_SIZE)
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
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + a + 3,
			       "DIST STEP %lld: MAX - MIN (%lld) in whole steps, %d bins at most",
			       step, max - min, DIST_MAX_BINS);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	fi->state = d;
	d->size = !field;
	d->min = (uint64_t)min;
	d->step = (uint64_t)step;
	d->bins = (uint32_t)((max - min) / step);
	d->bins_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	if (f->trace && !(d->memory = calloc(d->bins + 2, sizeof(*d->memory))))
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

	(void)f;
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

static int dist_read(struct fn_instance *fi, struct flow *f, const void **out, size_t *size)
{
	struct dist *d = fi->state;
	int ncpus = store_ncpus(), c;
	struct mapi_dist_result *r;
	uint64_t *cpus = NULL;
	uint32_t i;

	r = calloc(1, sizeof(*r) + d->bins * sizeof(r->counts[0]));
	if (!r || (!f->trace && !(cpus = calloc((size_t)ncpus, sizeof(*cpus))))) {
		free(r);
		return -ENOMEM;
	}
	r->min = d->min;
	r->step = d->step;
	r->max = d->min + d->bins * d->step;
	r->bins = d->bins;
	if (f->trace)
		pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->bins + 2; i++) {
		uint64_t n = 0;

		if (f->trace) {
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
	if (f->trace)
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

	return fn_maps_share(fi, maps, 1, fds, max);
}

static int dist_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct dist *d = fi->state;
	int *const maps[] = { &d->bins_fd };

	(void)f;
	return fn_maps_adopt(fi, maps, 1, fds, n);
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
	.forms = { { "iiii", "MAPI_PKT_SIZE MIN MAX STEP" },
		   { "iiiii", "PROTOCOL FIELD MIN MAX STEP" } },
	.help = "a histogram of the frames' length on the wire (MAPI_PKT_SIZE) or of a header "
		"field that is a number: bins of STEP from MIN to MAX, one below and one above, "
		"exact (struct mapi_dist_result)",
	.result = FN_RESULT_DIST,
	.prepare = dist_prepare,
	.connect = dist_connect,
	.emit = dist_emit,
	.run = dist_run,
	.read = dist_read,
	.share = dist_share,
	.adopt = dist_adopt,
	.disconnect = dist_disconnect,
	.release = dist_release,
};
