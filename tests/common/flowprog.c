/* SPDX-License-Identifier: BSD-2-Clause */
#include "flowprog.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "codegen.h"
#include "error.h"
#include "functions.h"
#include "loader.h"

uint32_t flowprog_max_frame(enum flowprog_kind kind)
{
	/* XDP with fragments spreads a large frame over pages; the others
	 * want it in one page, less head- and tailroom. */
	return kind == FP_XDP_FRAGS ? 9216 : 3500;
}

/* A library function, as mapi_apply_function makes it, connected. */
static int add_fn(struct flowprog *fp, const struct flowprog_fn *spec, struct fn_instance **out)
{
	const struct fn_desc *d = fn_find(spec->name);
	struct fn_instance *fi;
	int ret;

	if (!d)
		return -ENOENT;
	fi = calloc(1, sizeof(*fi));
	if (!fi)
		return -ENOMEM;
	fi->desc = d;
	fi->slot = -1;
	*out = fi;
	ret = args_check(d, spec->args, spec->nargs, &fi->args);
	if (ret)
		return ret;
	fi->nargs = fn_args_max(d);
	ret = d->prepare(fi, &fp->flow);
	if (ret)
		return ret;
	if (d->slots) {
		fi->slot = (int)fp->flow.nslots;
		fp->flow.nslots += (uint32_t)d->slots;
	}
	return d->connect ? d->connect(fi, &fp->flow) : 0;
}

static int build(struct flowprog *fp, const struct cbpf_prog *filter,
		 const struct flowprog_fn *extra, int nextra,
		 enum flowprog_kind kind, int with_bytes, int chained)
{
	struct prog_target target = {
		.hook = kind == FP_TC ? XLATE_TC : XLATE_XDP,
		.frags = kind == FP_XDP_FRAGS,
	};
	struct flow *f = &fp->flow;
	struct flow *flows[1] = { f };
	struct codegen cg;
	int n = 0, ret, i;

	memset(fp, 0, sizeof(*fp));
	fp->prog_fd = fp->root_fd = fp->array_fd = -1;
	store_init(&f->host);
	store_init(&f->nic);
	f->direction = MAPI_DIR_BOTH;
	f->nslots = FLOW_SLOT_SEEN + 1;
	if (filter) {
		struct cbpf_prog *copy = calloc(1, sizeof(*copy));

		if (!copy)
			return -ENOMEM;
		copy->insns = calloc(filter->len ? filter->len : 1, sizeof(*copy->insns));
		if (!copy->insns) {
			free(copy);
			return -ENOMEM;
		}
		memcpy(copy->insns, filter->insns, filter->len * sizeof(*copy->insns));
		copy->len = filter->len;
		fp->filter.desc = fn_find("BPF_FILTER");
		fp->filter.state = copy;
		fp->filter.slot = -1;
		fp->fns[n++] = &fp->filter;
	}
	for (i = 0; i < nextra; i++) {
		if (i == FLOWPROG_MAX_FNS)
			return -E2BIG;
		ret = add_fn(fp, &extra[i], &fp->extra[i]);
		if (ret)
			return ret;
		fp->fns[n++] = fp->extra[i];
	}
	fp->counter.desc = fn_find("PKT_COUNTER");
	fp->counter.slot = (int)f->nslots++;
	fp->fns[n++] = &fp->counter;
	if (with_bytes) {
		fp->bytes.desc = fn_find("BYTE_COUNTER");
		fp->bytes.slot = (int)f->nslots++;
		fp->fns[n++] = &fp->bytes;
	}
	f->fns = fp->fns;
	f->nfns = n;

	ret = store_create_host(&f->host, f->nslots, "mapi_test");
	if (ret)
		return ret;
	if (chained) {
		fp->array_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "mapi_test_chain", 4, 4, 2,
					      NULL);
		if (fp->array_fd < 0)
			return -errno;
	}
	/* one group: the last, which jumps nowhere */
	ret = codegen_build(&cg, &target, NULL, flows, 1);
	if (ret)
		return ret;
	ret = loader_load(&cg.pb, &target);
	pb_free(&cg.pb);
	if (ret < 0)
		return ret;
	fp->prog_fd = ret;
	if (chained) {
		struct prog_buf pb;
		uint32_t zero = 0;

		if (bpf_map_update_elem(fp->array_fd, &zero, &fp->prog_fd, BPF_ANY))
			return -errno;
		ret = codegen_root(&pb, &target, fp->array_fd);
		if (!ret)
			ret = loader_load(&pb, &target);
		pb_free(&pb);
		if (ret < 0)
			return ret;
		fp->root_fd = ret;
	}
	return 0;
}

int flowprog_build(struct flowprog *fp, const struct cbpf_prog *filter,
		   enum flowprog_kind kind, int with_bytes)
{
	int ret;

	err_begin();
	ret = build(fp, filter, NULL, 0, kind, with_bytes, 0);
	if (ret)
		err_publish(ret);	/* so that mapi_read_error() says why */
	return ret;
}

int flowprog_build_fns(struct flowprog *fp, const struct cbpf_prog *filter,
		       const struct flowprog_fn *fns, int nfns, enum flowprog_kind kind)
{
	int ret;

	err_begin();
	ret = build(fp, filter, fns, nfns, kind, 0, 0);
	if (ret)
		err_publish(ret);
	return ret;
}

int flowprog_build_chained(struct flowprog *fp, const struct cbpf_prog *filter,
			   enum flowprog_kind kind, int with_bytes, int *root_fd)
{
	int ret;

	err_begin();
	ret = build(fp, filter, NULL, 0, kind, with_bytes, 1);
	if (ret)
		err_publish(ret);
	*root_fd = fp->root_fd;
	return ret;
}

int flowprog_time(int prog_fd, const void *pkt, uint32_t len, uint32_t repeat,
		  uint32_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	if (ns)
		*ns = opts.duration;
	return 0;
}

int flowprog_run(struct flowprog *fp, const void *pkt, uint32_t len, int *passed)
{
	uint64_t v;
	int ret;

	ret = flowprog_time(fp->prog_fd, pkt, len, 1, NULL);
	if (ret)
		return ret;
	ret = store_read(&fp->flow.host, (uint32_t)fp->counter.slot, &v);
	if (ret)
		return ret;
	*passed = v != fp->count;
	fp->count = v;
	return 0;
}

void flowprog_free(struct flowprog *fp)
{
	int i;

	if (fp->root_fd >= 0)
		close(fp->root_fd);
	if (fp->array_fd >= 0)
		close(fp->array_fd);
	if (fp->prog_fd >= 0)
		close(fp->prog_fd);
	if (fp->filter.desc && fp->filter.desc->release)
		fp->filter.desc->release(&fp->filter);
	for (i = 0; i < FLOWPROG_MAX_FNS && fp->extra[i]; i++) {
		struct fn_instance *fi = fp->extra[i];

		if (fi->state && fi->desc->release)
			fi->desc->release(fi);
		args_free(fi->args, fi->nargs);
		free(fi);
		fp->extra[i] = NULL;
	}
	store_destroy(&fp->flow.host);
	fp->prog_fd = -1;
}
