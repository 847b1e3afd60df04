/* SPDX-License-Identifier: BSD-2-Clause */
/* mapi_read_results: a function's result, as a snapshot or a live value. */
#include <errno.h>

#include "api.h"
#include "capture.h"
#include "error.h"
#include "functions.h"
#include "mapi.h"

MAPI_EXPORT void *mapi_read_results(int fd, int fid, int type)
{
	struct fn_instance *fi = NULL;
	struct flow *f = NULL;
	uint64_t v;
	int ret;

	api_begin();
	/* MAPI 2.0's order and codes: the connection before the function id,
	 * and an id of 0 or less as an invalid flow */
	ret = api_lookup_flow(fd, &f);
	if (!ret)
		ret = api_must_be_running(f);
	if (!ret)
		ret = api_lookup_fn(f, fid, &fi, fid <= 0 ? MAPI_INVALID_FLOW : MAPI_FUNCTION_NOT_FOUND);
	if (!ret && type != MAPI_COPY && type != MAPI_REF)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			      "result type %d: use MAPI_COPY or MAPI_REF", type);
	if (!ret && fi->desc->result != FN_RESULT_U64 && fi->desc->result != FN_RESULT_FILE &&
	    !fi->desc->read)
		ret = err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION,
			      "function %d of flow %d (%s) has no result to read%s",
			      fid, fd, fi->desc->name,
			      fi->desc->result == FN_RESULT_PACKETS ?
			      ": it keeps packets for mapi_get_next_pkt" : "");
	if (!ret)
		ret = api_interface_check(f);
	if (!ret && fi->desc->read) {
		/* a struct: a snapshot, which a reference could not keep
		 * consistent while the kernel counts */
		const void *snap = NULL;
		size_t size;

		if (type == MAPI_REF)
			ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
				      "%s's result is a table: read it with MAPI_COPY",
				      fi->desc->name);
		if (!ret)
			ret = flow_read_struct(f, fi, &snap, &size);
		if (ret)
			return api_fail_ptr(ret);
		fi->copy_size = size;
		api_end();
		return (void *)snap;
	}
	if (!ret && fi->desc->result == FN_RESULT_FILE) {
		/* MAPI 2.0's status, an int that the writer keeps up to date;
		 * a file that failed says so instead */
		const int *live = capture_writing(fi);
		struct capture_stats cs;

		ret = capture_stats(f, fi, &cs);
		if (ret)
			return api_fail_ptr(ret);
		if (type == MAPI_REF) {
			api_end();
			return (void *)live;
		}
		fi->copy_int = __atomic_load_n(live, __ATOMIC_ACQUIRE);
		api_end();
		return &fi->copy_int;
	}
	/* a named flow's number comes from mapid, a message each time: one
	 * kept live would be a message every MAPI_REF_REFRESH_MS */
	if (!ret && type == MAPI_REF && f->attached)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			      "flow %d reads mapid's named flow: read its results with MAPI_COPY",
			      fd);
	if (!ret)
		ret = flow_read_number(f, fi, &v);
	if (ret)
		return api_fail_ptr(ret);
	if (type == MAPI_COPY) {
		fi->copy = v;
		api_end();
		return &fi->copy;
	}
	/* MAPI_REF: the keeper refreshes the value while the flow is open */
	__atomic_store_n(&fi->ref, v, __ATOMIC_RELAXED);
	if (!fi->ref_on) {
		ret = keeper_kick();
		if (ret)
			return api_fail_ptr(ret);
		fi->ref_on = 1;
		keeper_count_refs(1);
	}
	api_end();
	return &fi->ref;
}
