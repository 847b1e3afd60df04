/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Building a flow: creating it, applying functions, creating the kernel
 * objects its functions name, freeing it.  The API layer, the backends
 * and the tests all build flows with these, so that a flow a test runs is
 * the flow an application gets.
 */
#include "flow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "backend.h"
#include "error.h"
#include "functions.h"

struct flow *flow_new(const char *name, struct backend *b)
{
	struct flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	static uint64_t serials;

	snprintf(f->dev, sizeof(f->dev), "%s", name);
	f->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	f->backend = b;
	f->status = MAPI_FLOW_INIT;
	f->direction = MAPI_DIR_BOTH;
	f->mode_req = MAPI_MODE_AUTO;
	f->nslots = FLOW_SLOT_SEEN + 1;
	store_init(&f->host);
	store_init(&f->nic);
	f->group[0] = f->group[1] = -1;
	return f;
}

int flow_set_direction(struct flow *f, int direction)
{
	if (direction != MAPI_DIR_IN && direction != MAPI_DIR_OUT && direction != MAPI_DIR_BOTH)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			       "direction %d: use MAPI_DIR_IN, MAPI_DIR_OUT or MAPI_DIR_BOTH",
			       direction);
	f->direction = direction;
	return 0;
}

int flow_set_mode(struct flow *f, int mode)
{
	int base = mode & ~MAPI_MODE_REQUIRE;

	if (base != MAPI_MODE_AUTO && base != MAPI_MODE_NATIVE && base != MAPI_MODE_GENERIC &&
	    base != MAPI_MODE_OFFLOAD)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			       "attach mode %#x: use MAPI_MODE_AUTO, _NATIVE, _GENERIC or "
			       "_OFFLOAD, optionally | MAPI_MODE_REQUIRE", mode);
	if (base == MAPI_MODE_AUTO && (mode & MAPI_MODE_REQUIRE))
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			       "MAPI_MODE_AUTO cannot be demanded: name the mode to require");
	f->mode_req = mode;
	return 0;
}

void fn_instance_free(struct fn_instance *fi)
{
	if (fi->desc->release)
		fi->desc->release(fi);
	args_free(fi->args, fi->nargs);
	free(fi->v2_result);
	free(fi->v2_pkt);
	free(fi->remote_copy);
	free(fi);
}

int flow_append(struct flow *f, struct fn_instance *fi)
{
	struct fn_instance **fns = realloc(f->fns, (size_t)(f->nfns + 1) * sizeof(*fns));

	if (!fns)
		return -ENOMEM;
	f->fns = fns;
	fi->slot = -1;
	if (fi->desc->slots) {
		fi->slot = (int)f->nslots;
		f->nslots += (uint32_t)fi->desc->slots;
	}
	f->fns[f->nfns++] = fi;
	fi->fid = f->nfns;
	return fi->fid;
}

void flow_drop_last(struct flow *f)
{
	struct fn_instance *fi;

	if (!f->nfns)
		return;
	fi = f->fns[--f->nfns];
	if (fi->slot >= 0)
		f->nslots = (uint32_t)fi->slot;
	fn_instance_free(fi);
}

int flow_apply(struct flow *f, const struct fn_desc *d, const struct mapi_arg *args, int n)
{
	struct fn_instance *fi = calloc(1, sizeof(*fi));
	int ret;

	if (!fi)
		return -ENOMEM;
	fi->desc = d;
	fi->slot = -1;
	ret = args_check(d, args, n, &fi->args, &fi->form);
	if (ret) {
		free(fi);
		return ret;
	}
	fi->nargs = fn_args_max(&d->forms[fi->form]);
	fi->given = n;
	ret = d->prepare(fi, f);
	if (!ret)
		ret = flow_append(f, fi);
	if (ret < 0)
		fn_instance_free(fi);
	return ret;
}

static void fns_disconnect(struct flow *f, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (f->fns[i]->desc->disconnect)
			f->fns[i]->desc->disconnect(f->fns[i]);
}

int flow_fns_connect(struct flow *f)
{
	int i, ret = 0;

	for (i = 0; i < f->nfns && !ret; i++)
		if (f->fns[i]->desc->connect)
			ret = f->fns[i]->desc->connect(f->fns[i], f);
	if (ret)
		fns_disconnect(f, i);
	return ret;
}

void flow_fns_disconnect(struct flow *f)
{
	fns_disconnect(f, f->nfns);
}

struct fn_instance *flow_fn(const struct flow *f, int fid)
{
	return fid >= 1 && fid <= f->nfns ? f->fns[fid - 1] : NULL;
}

int flow_watches(const struct fn_instance *fi)
{
	return fi->desc->forms[fi->form].watch != 0;
}

int flow_ticks(const struct fn_instance *fi)
{
	return fi->desc->tick && (flow_watches(fi) || fi->clocked);
}

int flow_watch_fd(const struct fn_instance *fi)
{
	return (int)fi->args[fi->desc->forms[fi->form].watch - 1].v.i;
}

int flow_watch_fid(const struct fn_instance *fi)
{
	return (int)fi->args[fi->desc->forms[fi->form].watch].v.i;
}

static int read_attached_number(const struct flow *f, int fid, uint64_t *val);

int flow_read_number(struct flow *f, struct fn_instance *fi, uint64_t *val)
{
	if (f->attached)
		return read_attached_number(f, fi->fid, val);
	if (fi->desc->read_u64)
		return fi->desc->read_u64(fi, f, val);
	return flow_read_slot(f, (uint32_t)fi->slot, val);
}

/* A number mapid reads for an attached flow: function fid's, 0 the seen. */
static int read_attached_number(const struct flow *f, int fid, uint64_t *val)
{
	void *data = NULL;
	size_t size;
	int ret = f->backend->ops->read_attached(f, fid, 0, &data, &size);

	if (!ret && size != sizeof(*val))
		ret = err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid sent a result of %zu bytes for a "
			      "number", size);
	if (!ret)
		memcpy(val, data, sizeof(*val));
	free(data);
	return ret;
}

/* The bytes a struct result of this kind takes, by what its head says
 * it lists; 0 when n bytes hold no head. */
static size_t result_size(int result, const void *p, size_t n)
{
#define SIZE_OF(type, member)                                                              \
	(n < sizeof(struct type) ? 0 :                                                     \
	 sizeof(struct type) + ((const struct type *)p)->count *                          \
	 sizeof(((const struct type *)p)->member[0]))

	switch (result) {
	case FN_RESULT_TOP: return SIZE_OF(mapi_top_result, values);
	case FN_RESULT_DISTINCT: return SIZE_OF(mapi_distinct_result, values);
	case FN_RESULT_HASHSAMP: return SIZE_OF(mapi_hashsamp_result, records);
	case FN_RESULT_BUCKET: return SIZE_OF(mapi_bucket_result, samples);
	case FN_RESULT_STATS: return sizeof(struct mapi_stats_result);
	case FN_RESULT_THRESHOLD: return sizeof(struct mapi_threshold_result);
	case FN_RESULT_DIST:
		return n < sizeof(struct mapi_dist_result) ? 0 :
		       sizeof(struct mapi_dist_result) +
		       ((const struct mapi_dist_result *)p)->bins * sizeof(unsigned long long);
	default: return 0;
	}
#undef SIZE_OF
}

int flow_read_struct(struct flow *f, struct fn_instance *fi, const void **out, size_t *size)
{
	void *data = NULL;
	size_t want;
	int ret;

	if (!f->attached)
		return fi->desc->read(fi, f, out, size);
	ret = f->backend->ops->read_attached(f, fi->fid, 1, &data, size);
	if (ret)
		return ret;
	/* what the application reads past the head is as long as the head
	 * says, whatever mapid (another version, say) sent */
	want = result_size(fi->desc->result, data, *size);
	if (!want || want != *size) {
		free(data);
		return err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid sent %zu bytes for %s's result, "
			       "which takes %zu", *size, fi->desc->name, want);
	}
	free(fi->remote_copy);
	fi->remote_copy = data;
	*out = data;
	return 0;
}

int flow_read_slot(const struct flow *f, uint32_t slot, uint64_t *val)
{
	int ret = f->attached ? slot == FLOW_SLOT_SEEN ? read_attached_number(f, 0, val) :
				-EOPNOTSUPP : f->backend->ops->read_slot(f, slot, val);

	if (ret && !err_pending())
		return err_set(ret, MAPI_ERR_KERNEL, "reading the results of flow %d: %s", f->fd,
			       strerror(-ret));
	return ret;
}

void flow_function_names(const struct flow *f, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < f->nfns && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
					 f->fns[i]->desc->name);
}

void flow_free(struct flow *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < f->nfns; i++)
		fn_instance_free(f->fns[i]);
	free(f->fns);
	store_destroy(&f->host);
	store_destroy(&f->nic);
	free(f);
}
