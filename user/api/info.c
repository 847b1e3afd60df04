/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The information calls (flows, functions, the function library), the
 * filter dump, and mapi_read_error().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "backend.h"
#include "capture.h"
#include "cbpf.h"
#include "codegen.h"
#include "ebpf_dump.h"
#include "error.h"
#include "functions.h"
#include "mapi.h"
#include "trace.h"

/* --- Information and errors ----------------------------------------------*/

static int result_kind(const struct fn_desc *d)
{
	switch (d->result) {
	case FN_RESULT_U64: return MAPI_RES_ULL;
	case FN_RESULT_PACKETS: return MAPI_RES_PACKETS;
	case FN_RESULT_FILE: return MAPI_RES_FILE;
	case FN_RESULT_TOP: return MAPI_RES_TOP;
	case FN_RESULT_DISTINCT: return MAPI_RES_DISTINCT;
	case FN_RESULT_STATS: return MAPI_RES_STATS;
	case FN_RESULT_DIST: return MAPI_RES_DIST;
	case FN_RESULT_BUCKET: return MAPI_RES_BUCKET;
	case FN_RESULT_THRESHOLD: return MAPI_RES_THRESHOLD;
	case FN_RESULT_HASHSAMP: return MAPI_RES_HASHSAMP;
	default: return MAPI_RES_NONE;
	}
}

int api_flow_dropped(const struct flow *f, uint64_t *dropped)
{
	struct capture_stats cs;
	int i, ret = 0;

	*dropped = 0;
	for (i = 0; !ret && f->status == MAPI_FLOW_RUNNING && i < f->nfns; i++) {
		if (!capture_is_buffer(f->fns[i]) && !capture_is_file(f->fns[i]))
			continue;
		ret = capture_stats(f, f->fns[i], &cs);
		*dropped += cs.dropped;
	}
	return ret;
}

/* What flow information says of f. */
static int flow_info(struct flow *f, mapi_flow_info_t *info)
{
	uint64_t seen = 0, dropped = 0;
	int ret = 0, stopped = api_stopped(f);

	if (f->status == MAPI_FLOW_RUNNING)
		ret = flow_read_slot(f, FLOW_SLOT_SEEN, &seen);
	if (!ret)
		ret = api_flow_dropped(f, &dropped);
	if (ret)
		return ret;
	memset(info, 0, sizeof(*info));
	info->fd = f->fd;
	info->status = stopped ? MAPI_FLOW_STOPPED : f->status;
	memcpy(info->device, f->dev, sizeof(f->dev) < sizeof(info->device) ?
	       sizeof(f->dev) : sizeof(info->device));
	info->ifindex = f->ifindex;
	info->num_functions = f->nfns;
	info->direction = f->direction;
	info->mode_in = f->mode_in;
	info->mode_out = f->mode_out;
	info->packets_seen = seen;
	info->packets_dropped = dropped;
	info->start = f->start_ns;
	info->lookup = f->status == MAPI_FLOW_RUNNING && f->hashed;
	snprintf(info->backend, sizeof(info->backend), "%s", f->backend->ops->name);
	info->owner_uid = f->attached ? f->named.uid : (int)getuid();
	info->owner_pid = f->attached ? f->named.pid : f->owner_pid;
	if (f->attached)
		snprintf(info->name, sizeof(info->name), "%s", f->named.name);
	flow_function_names(f, info->functions, sizeof(info->functions));
	if (f->trace) {
		struct trace_info ti;

		trace_info(f->trace, &ti);
		info->trace_status = f->status == MAPI_FLOW_RUNNING ? ti.status : MAPI_TRACE_OPEN;
		info->trace_first = ti.first_ns;
		info->trace_last = ti.last_ns;
		snprintf(info->trace_error, sizeof(info->trace_error), "%s", ti.msg);
	}
	return 0;
}

MAPI_EXPORT int mapi_get_flow_info(int fd, mapi_flow_info_t *info)
{
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = api_lookup_flow(fd, &f);
	if (!ret && !info)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			      "mapi_get_flow_info: info is NULL");
	if (!ret)
		ret = flow_info(f, info);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

/* The next flow of this process's own (not one a fork inherited). */
static struct flow *next_own_flow(int *fd)
{
	struct flow *f;

	while ((f = api_next_flow(fd)) && f->inherited)
		;
	return f;
}

MAPI_EXPORT int mapi_get_next_flow_info(int fd, mapi_flow_info_t *info)
{
	struct backend *b;
	struct flow *f;
	int ret, at = fd < 0 ? 0 : fd;

	api_begin();
	if (!info)
		return api_fail(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
					"mapi_get_next_flow_info: info is NULL"));
	b = api_mapid();
	if (b)
		ret = backend_mapid_next(b, (uint32_t)at, info);
	else if ((f = next_own_flow(&at)))
		ret = flow_info(f, info);
	else
		ret = err_set(-ENOENT, MAPI_INVALID_FLOW, "this process has no flow after %d", fd);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

/* What function information says of fi, a function of f. */
static int function_info(struct flow *f, const struct fn_instance *fi,
			 mapi_function_info_t *info)
{
	struct capture_stats cs = { 0 };
	uint64_t v = 0;
	int ret = 0;

	api_stopped(f);	/* its interface went: final values, from now on */
	if (f->status == MAPI_FLOW_RUNNING) {
		if (capture_is_buffer(fi) || capture_is_file(fi))
			ret = capture_stats(f, fi, &cs);
		else if (fi->desc->slots || fi->desc->read_u64)	/* a counter, TOP's packets */
			ret = flow_read_number(f, (struct fn_instance *)fi, &v);
	}
	if (ret)
		return ret;
	memset(info, 0, sizeof(*info));
	info->fid = fi->fid;
	snprintf(info->name, sizeof(info->name), "%s", fi->desc->name);
	info->result = result_kind(fi->desc);
	info->value = v;
	info->pkts = cs.matched;
	info->delivered = cs.delivered;
	info->dropped = cs.dropped;
	info->queued = cs.queued;
	info->past = cs.past;
	if (capture_is_file(fi))
		info->value = (unsigned long long)__atomic_load_n(capture_writing(fi),
								  __ATOMIC_ACQUIRE);
	return 0;
}

MAPI_EXPORT int mapi_get_function_info(int fd, int fid, mapi_function_info_t *info)
{
	struct fn_instance *fi = NULL;
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = api_lookup_flow(fd, &f);
	if (!ret)
		ret = api_lookup_fn(f, fid, &fi, MAPI_FUNCTION_INFO_NOT_FOUND);
	if (!ret && !info)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			      "mapi_get_function_info: info is NULL");
	if (!ret)
		ret = function_info(f, fi, info);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_get_next_function_info(int fd, int fid, mapi_function_info_t *info)
{
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = api_lookup_flow(fd, &f);
	if (!ret && !info)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			      "mapi_get_next_function_info: info is NULL");
	if (!ret && (fid < 0 ? 0 : fid) >= f->nfns)
		ret = err_set(-ENOENT, MAPI_FUNCTION_INFO_NOT_FOUND,
			      "flow %d has no function after %d (its functions are 1..%d)", fd, fid,
			      f->nfns);
	if (!ret)
		ret = function_info(f, f->fns[fid < 0 ? 0 : fid], info);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

/* DiMAPI's questions of flow fd: answer, as every flow of mapi-bpf runs
 * on this machine; -1 for a descriptor that is not a flow's. */
static int local_flow(int fd, int answer)
{
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = api_lookup_flow(fd, &f);
	if (ret)
		return api_fail(ret);
	api_end();
	return answer;
}

MAPI_EXPORT int mapi_is_remote(int fd)
{
	return local_flow(fd, 0);
}

MAPI_EXPORT int mapi_get_scope_size(int fd)
{
	return local_flow(fd, 1);
}

/* MAPI 2.0 had several function libraries, numbered from 0; mapi-bpf's
 * functions are one. */
static int library_info(int libnum, mapi_lib_info_t *info)
{
	const struct fn_desc *const *all = fn_all();
	int n = 0;

	if (libnum != 0)
		return err_set(-ENOENT, MAPI_FUNCTION_NOT_FOUND,
			       "no function library number %d: mapi-bpf has one, number 0", libnum);
	if (!info)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2, "the library's info is NULL");
	while (all[n])
		n++;
	memset(info, 0, sizeof(*info));
	info->id = 0;
	snprintf(info->libname, sizeof(info->libname), "mapi-bpf");
	info->functs = (unsigned int)n;
	return 0;
}

MAPI_EXPORT int mapi_get_library_info(int libnum, mapi_lib_info_t *info)
{
	int ret;

	api_begin();
	ret = library_info(libnum, info);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_get_next_library_info(int libnum, mapi_lib_info_t *info)
{
	int ret;

	api_begin();
	ret = library_info(libnum < 0 ? 0 : libnum + 1, info);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_get_libfunct_info(int n, mapi_libfunct_info_t *info)
{
	const struct fn_desc *const *all = fn_all();
	int i, ret = 0;

	api_begin();
	for (i = 0; i < n && all[i]; i++)
		;
	if (n < 0 || !all[i])
		ret = err_set(-ENOENT, MAPI_FUNCTION_NOT_FOUND,
			      "the library has no function number %d", n);
	else if (!info)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			      "mapi_get_libfunct_info: info is NULL");
	if (ret)
		return api_fail(ret);
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", all[i]->name);
	fn_form_names(all[i], info->args, sizeof(info->args));
	fn_form_letters(all[i], info->argtypes, sizeof(info->argtypes));
	snprintf(info->descr, sizeof(info->descr), "%s", all[i]->help);
	info->result = result_kind(all[i]);
	api_end();
	return 0;
}

MAPI_EXPORT char *mapi_dump_filter(const char *expr, int what)
{
	struct prog_target target = { .hook = what & MAPI_DUMP_TC ? XLATE_TC : XLATE_XDP,
				      .ingress = !(what & MAPI_DUMP_TC) };
	struct cbpf_prog prog = { 0 };
	char *classic = NULL, *ebpf = NULL, *out = NULL;
	size_t size = 0, ebpf_len = 0;
	struct codegen cg;
	FILE *f;
	int ret;

	api_begin();
	if (!expr)
		return api_fail_ptr(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
					    "mapi_dump_filter: the expression is NULL"));
	if (!(what & (MAPI_DUMP_CLASSIC | MAPI_DUMP_EBPF)) ||
	    (what & ~(MAPI_DUMP_CLASSIC | MAPI_DUMP_EBPF | MAPI_DUMP_TC)))
		return api_fail_ptr(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
					    "mapi_dump_filter: what %#x: ask for MAPI_DUMP_CLASSIC, "
					    "MAPI_DUMP_EBPF or both, | MAPI_DUMP_TC", what));
	ret = cbpf_compile(expr, LINKTYPE_ETHERNET, 0, &prog);
	if (!ret && (what & MAPI_DUMP_CLASSIC))
		ret = cbpf_dump(&prog, &classic);
	if (!ret && (what & MAPI_DUMP_EBPF)) {
		ret = codegen_filter(&cg, &target, &prog);
		if (!ret) {
			ret = ebpf_dump(cg.pb.insns, cg.pb.len, &ebpf);
			ebpf_len = cg.pb.len;
			pb_free(&cg.pb);
		}
	}
	if (!ret) {
		f = open_memstream(&out, &size);
		if (!f) {
			ret = -ENOMEM;
		} else {
			if (classic)
				fprintf(f, "classic BPF (libpcap), %zu instructions:\n%s", prog.len,
					classic);
			if (ebpf)
				fprintf(f, "%seBPF (%s), %zu instructions; it returns 1 when the "
					   "packet passes:\n%s", classic ? "\n" : "",
					what & MAPI_DUMP_TC ? "tc" : "native XDP", ebpf_len, ebpf);
			if (fclose(f))
				ret = -ENOMEM;
		}
	}
	free(classic);
	free(ebpf);
	cbpf_prog_free(&prog);
	if (ret) {
		free(out);
		return api_fail_ptr(ret);
	}
	api_end();
	return out;
}

MAPI_EXPORT const char *mapi_mode_name(int mode)
{
	switch (mode & ~MAPI_MODE_REQUIRE) {
	case MAPI_MODE_NONE: return "none";
	case MAPI_MODE_AUTO: return "auto";
	case MAPI_MODE_NATIVE: return "native";
	case MAPI_MODE_GENERIC: return "generic";
	case MAPI_MODE_OFFLOAD: return "offload";
	case MAPI_MODE_TCX: return "tcx";
	default: return "unknown";
	}
}

MAPI_EXPORT int mapi_read_error(int *err_no, char *errstr)
{
	if (!err_no && !errstr)
		return -1;
	return err_last(err_no, errstr, MAPI_ERRORSTR_LENGTH);
}
