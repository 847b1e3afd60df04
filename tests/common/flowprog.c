/* SPDX-License-Identifier: BSD-2-Clause */
#include "flowprog.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
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

/* Library function name with its arguments, applied to f as
 * mapi_apply_function applies it: its function id. */
static int apply(struct flow *f, const char *name, const struct mapi_arg *args, int nargs)
{
	const struct fn_desc *d = fn_find(name);

	return d ? flow_apply(f, d, args, nargs) : -ENOENT;
}

/* The filter, compiled by the caller, as BPF_FILTER's prepared state. */
static int append_filter(struct flow *f, const struct cbpf_prog *filter)
{
	struct fn_instance *fi = calloc(1, sizeof(*fi));
	struct cbpf_prog *copy = calloc(1, sizeof(*copy));
	int ret = -ENOMEM;

	if (fi && copy)
		copy->insns = calloc(filter->len ? filter->len : 1, sizeof(*copy->insns));
	if (!fi || !copy || !copy->insns) {
		free(copy);
		free(fi);
		return ret;
	}
	memcpy(copy->insns, filter->insns, filter->len * sizeof(*copy->insns));
	copy->len = filter->len;
	fi->desc = fn_find("BPF_FILTER");
	fi->state = copy;
	ret = flow_append(f, fi);
	if (ret < 0)
		fn_instance_free(fi);
	return ret;
}

/* What reads a test flow's results: its host store (a function's read()
 * reads its counters through the backend, as in the library). */
static int test_read_slot(const struct flow *f, uint32_t slot, uint64_t *val)
{
	return store_read(&f->host, slot, val);
}

static const struct backend_ops test_ops = { .name = "test", .read_slot = test_read_slot };
static struct backend test_backend = { .ops = &test_ops };

static int build(struct flowprog *fp, const struct cbpf_prog *filter,
		 const struct flowprog_fn *extra, int nextra,
		 enum flowprog_kind kind, int with_bytes, int chained)
{
	struct prog_target target = {
		.hook = kind == FP_TC ? XLATE_TC : XLATE_XDP,
		.frags = kind == FP_XDP_FRAGS,
		.ingress = kind != FP_TC,	/* tc as the engine runs it: egress */
	};
	struct codegen cg;
	struct flow *f;
	int ret = 0, i;

	memset(fp, 0, sizeof(*fp));
	fp->prog_fd = fp->root_fd = fp->array_fd = -1;
	if (nextra > FLOWPROG_MAX_FNS)
		return -E2BIG;
	f = fp->flow = flow_new("test", &test_backend);
	if (!f)
		return -ENOMEM;
	if (filter)
		ret = append_filter(f, filter);
	for (i = 0; i < nextra && ret >= 0; i++)
		ret = apply(f, extra[i].name, extra[i].args, extra[i].nargs);
	if (ret >= 0)
		ret = apply(f, "PKT_COUNTER", NULL, 0);
	if (ret >= 0)
		fp->counter_slot = (uint32_t)f->fns[ret - 1]->slot;
	if (ret >= 0 && with_bytes)
		ret = apply(f, "BYTE_COUNTER", NULL, 0);
	if (ret < 0)
		return ret;

	ret = store_create_host(&f->host, f->nslots, "mapi_test");
	if (ret)
		return ret;
	ret = flow_fns_connect(f);
	if (ret)
		return ret;
	fp->connected = 1;
	if (chained) {
		fp->array_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "mapi_test_chain", 4, 4, 2,
					      NULL);
		if (fp->array_fd < 0)
			return -errno;
	}
	/* one group: the last, which jumps nowhere */
	ret = codegen_build(&cg, &target, NULL, &f, 1);
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
	ret = store_read(&fp->flow->host, fp->counter_slot, &v);
	if (ret)
		return ret;
	*passed = v != fp->count;
	fp->count = v;
	return 0;
}

void flowprog_free(struct flowprog *fp)
{
	if (fp->root_fd >= 0)
		close(fp->root_fd);
	if (fp->array_fd >= 0)
		close(fp->array_fd);
	if (fp->prog_fd >= 0)
		close(fp->prog_fd);
	if (fp->connected)
		flow_fns_disconnect(fp->flow);
	flow_free(fp->flow);
	fp->flow = NULL;
	fp->connected = 0;
	fp->root_fd = fp->array_fd = fp->prog_fd = -1;
}
