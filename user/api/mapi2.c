/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MAPI 2.0's calls where mapi-bpf's differ (include/mapi2.h): each calls
 * mapi-bpf's own, which checks and fails as it always does, and gives its
 * answer in MAPI 2.0's shape.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "error.h"
#include "functions.h"
#include "mapi.h"
#include "mapi2.h"

/* ns since the epoch as MAPI 2.0's 32.32 fixed point */
static unsigned long long fixed_32_32(unsigned long long ns)
{
	unsigned long long sec = ns / 1000000000ull, frac = ns % 1000000000ull;

	return sec << 32 | ((frac << 32) / 1000000000ull);
}

/* p in MAPI 2.0's layout, in *buf (of *room bytes, grown as need be). */
static int v2_packet(void **buf, size_t *room, const struct mapipkt *p,
		     struct mapi2_pkt **out)
{
	size_t need = offsetof(struct mapi2_pkt, pkt) + p->caplen;
	struct mapi2_pkt *v2;

	if (need < sizeof(*v2))
		need = sizeof(*v2);
	if (need > *room) {
		void *more = realloc(*buf, need);

		if (!more)
			return -ENOMEM;
		*buf = more;
		*room = need;
	}
	v2 = *buf;
	v2->ts = fixed_32_32(p->ts);
	v2->ifindex = (unsigned short)p->ifindex;
	v2->caplen = p->caplen;
	v2->wlen = p->wlen;
	/* the frame from &pkt->pkt on, in the buffer's bytes */
	memcpy((unsigned char *)v2 + offsetof(struct mapi2_pkt, pkt), p->pkt, p->caplen);
	*out = v2;
	return 0;
}

/* Function fid of flow fd, under the lock, after a call of mapi-bpf's own
 * succeeded on it (it may have been closed since). */
static int lookup_in(int fd, int fid, struct flow **f, struct fn_instance **fi)
{
	int ret = api_lookup_flow_as(fd, f, MAPI_INVALID_FLOW_OR_FID);

	return ret ? ret : api_lookup_fn(*f, fid, fi, MAPI_INVALID_FLOW_OR_FID);
}

static int lookup(int fd, int fid, struct fn_instance **fi)
{
	struct flow *f = NULL;

	return lookup_in(fd, fid, &f, fi);
}

MAPI_EXPORT struct mapi2_pkt *mapi_v2_get_next_pkt(int fd, int fid)
{
	struct mapipkt *p = mapi_get_next_pkt(fd, fid);
	struct fn_instance *fi = NULL;
	struct mapi2_pkt *v2 = NULL;
	int ret;

	if (!p)
		return NULL;
	api_begin();
	ret = lookup(fd, fid, &fi);
	if (!ret)
		ret = v2_packet(&fi->v2_pkt, &fi->v2_room, p, &v2);
	if (ret)
		return api_fail_ptr(ret);
	api_end();
	return v2;
}

struct v2_loop {
	mapi2_handler callback;
	void *buf;
	size_t room;
};

static int call_v2(const struct mapipkt *p, void *ctx)
{
	struct v2_loop *l = ctx;
	struct mapi2_pkt *v2;
	int ret = v2_packet(&l->buf, &l->room, p, &v2);

	if (ret)
		return err_set(ret, MAPI_ERR_NOMEM, "mapi_loop: no memory for a packet");
	l->callback(v2);
	return 0;
}

MAPI_EXPORT int mapi_v2_loop(int fd, int fid, int cnt, mapi2_handler callback)
{
	struct v2_loop l = { .callback = callback };
	int n;

	if (!callback) {
		api_begin();
		return api_fail(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 4,
					"mapi_loop: the callback is NULL"));
	}
	n = api_loop(fd, fid, cnt, call_v2, &l);
	free(l.buf);
	return n;
}

MAPI_EXPORT mapi2_results_t *mapi_v2_read_results(int fd, int fid)
{
	struct fn_instance *fi = NULL;
	struct flow *f = NULL;
	mapi2_results_t *r;
	struct timespec now;
	int ret, copy;
	void *live;

	/* a counter, live as MAPI 2.0's shared memory; a table, as a snapshot;
	 * and so is a named flow's counter, which only mapid reads */
	api_begin();
	ret = lookup_in(fd, fid, &f, &fi);
	copy = !ret && (fi->desc->read || f->attached);
	api_end();
	live = mapi_read_results(fd, fid, copy ? MAPI_COPY : MAPI_REF);
	if (!live)
		return NULL;
	api_begin();
	ret = lookup(fd, fid, &fi);
	if (!ret && !fi->v2_result && !(fi->v2_result = calloc(1, sizeof(*r))))
		ret = -ENOMEM;
	if (ret)
		return api_fail_ptr(ret);
	r = fi->v2_result;
	clock_gettime(CLOCK_REALTIME, &now);
	r->res = live;
	r->ts = (unsigned long long)now.tv_sec * 1000000ull +
		(unsigned long long)now.tv_nsec / 1000ull;
	r->size = fi->desc->read ? (int)fi->copy_size :
		  fi->desc->result == FN_RESULT_FILE ? (int)sizeof(int) :
		  (int)sizeof(unsigned long long);
	api_end();
	return r;
}

static void v2_flow(const mapi_flow_info_t *in, mapi2_flow_info_t *out)
{
	memset(out, 0, sizeof(*out));
	out->uid = (uid_t)in->owner_uid;
	out->fd = in->fd;
	out->devid = in->ifindex;
	snprintf(out->device, sizeof(out->device), "%s", in->device);
	out->num_functions = (unsigned)in->num_functions;
	out->start = (time_t)(in->start / 1000000000ull);
	if (in->status == MAPI_FLOW_INIT)
		out->status = MAPI2_FLOW_INIT;
	else if (in->status == MAPI_FLOW_STOPPED || in->trace_status == MAPI_TRACE_DONE ||
		 in->trace_status == MAPI_TRACE_FAILED)
		out->status = MAPI2_FLOW_FINISHED;
	else
		out->status = MAPI2_FLOW_ACTIVE;
}

static int info_null(const void *info, int argno)
{
	if (info)
		return 0;
	api_begin();
	return api_fail(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + argno, "info is NULL"));
}

/* What get (mapi-bpf's call, or its iterator) says, in MAPI 2.0's shape. */
static int flow_as_v2(int fd, mapi2_flow_info_t *info, int (*get)(int, mapi_flow_info_t *))
{
	mapi_flow_info_t in;

	if (info_null(info, 2) || get(fd, &in))
		return -1;
	v2_flow(&in, info);
	return 0;
}

MAPI_EXPORT int mapi_v2_get_flow_info(int fd, mapi2_flow_info_t *info)
{
	return flow_as_v2(fd, info, mapi_get_flow_info);
}

MAPI_EXPORT int mapi_v2_get_next_flow_info(int fd, mapi2_flow_info_t *info)
{
	return flow_as_v2(fd, info, mapi_get_next_flow_info);
}

/* MAPI 2.0's function information: the packets that reached a function,
 * where mapi-bpf counts them (TO_BUFFER, TO_FILE, which pass every one
 * on); MAPI2_NOT_COUNTED elsewhere. */
static int v2_function(int fd, const mapi_function_info_t *in, mapi2_function_info_t *out)
{
	mapi_flow_info_t flow;

	if (mapi_get_flow_info(fd, &flow))
		return -1;
	memset(out, 0, sizeof(*out));
	out->fid = in->fid;
	snprintf(out->name, sizeof(out->name), "%s", in->name);
	snprintf(out->libname, sizeof(out->libname), "mapi-bpf");
	snprintf(out->devtype, sizeof(out->devtype), "%s", flow.backend);
	if (in->result == MAPI_RES_PACKETS || in->result == MAPI_RES_FILE)
		out->pkts = out->passed_pkts = in->pkts;
	else
		out->pkts = out->passed_pkts = MAPI2_NOT_COUNTED;
	out->result_size = in->result == MAPI_RES_ULL ? (int)sizeof(unsigned long long) :
			   in->result == MAPI_RES_FILE ? (int)sizeof(int) : 0;
	return 0;
}

static int function_as_v2(int fd, int fid, mapi2_function_info_t *info,
			  int (*get)(int, int, mapi_function_info_t *))
{
	mapi_function_info_t in;

	if (info_null(info, 3) || get(fd, fid, &in))
		return -1;
	return v2_function(fd, &in, info);
}

MAPI_EXPORT int mapi_v2_get_function_info(int fd, int fid, mapi2_function_info_t *info)
{
	return function_as_v2(fd, fid, info, mapi_get_function_info);
}

MAPI_EXPORT int mapi_v2_get_next_function_info(int fd, int fid, mapi2_function_info_t *info)
{
	return function_as_v2(fd, fid, info, mapi_get_next_function_info);
}

static void v2_device(const mapi_device_info_t *in, mapi2_device_info_t *out)
{
	memset(out, 0, sizeof(*out));
	out->id = in->id;
	snprintf(out->device, sizeof(out->device), "%s", in->name);
	snprintf(out->name, sizeof(out->name), "%s", in->description);
	snprintf(out->alias, sizeof(out->alias), "%s", in->alias);
	snprintf(out->description, sizeof(out->description),
		 "%s, %s, mtu %d, native XDP %s, offload %s", in->type, in->up ? "up" : "down",
		 in->mtu, in->native, in->offload);
	out->link_speed = in->link_speed < 0 || in->link_speed > 0x7fffffff ? -1 :
			  (int)in->link_speed;
}

static int device_as_v2(int devid, mapi2_device_info_t *info,
			int (*get)(int, mapi_device_info_t *))
{
	mapi_device_info_t in;

	if (info_null(info, 2) || get(devid, &in))
		return -1;
	v2_device(&in, info);
	return 0;
}

MAPI_EXPORT int mapi_v2_get_device_info(int devid, mapi2_device_info_t *info)
{
	return device_as_v2(devid, info, mapi_get_device_info);
}

MAPI_EXPORT int mapi_v2_get_next_device_info(int devid, mapi2_device_info_t *info)
{
	return device_as_v2(devid, info, mapi_get_next_device_info);
}

/* MAPI 2.0's argument letters: those of the function's MAPI 2.0 form,
 * lower case (it had no optional arguments). */
static void v2_letters(const struct fn_desc *d, char *buf, size_t len)
{
	const char *a = d->forms[d->mapi2_form].args;
	size_t i;

	for (i = 0; a[i] && i + 1 < len; i++)
		buf[i] = a[i] == 'S' ? 's' : a[i] == 'I' ? 'i' : a[i];
	buf[i] = 0;
}

MAPI_EXPORT int mapi_v2_get_libfunct_info(int libnum, int fnum, mapi2_libfunct_info_t *info)
{
	mapi_libfunct_info_t in;
	mapi_lib_info_t lib;

	if (info_null(info, 3) || mapi_get_library_info(libnum, &lib) ||
	    mapi_get_libfunct_info(fnum, &in))
		return -1;
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", in.name);
	snprintf(info->descr, sizeof(info->descr), "%s", in.descr);
	v2_letters(fn_all()[fnum], info->argdescr, sizeof(info->argdescr));
	snprintf(info->devtype, sizeof(info->devtype), "%s", lib.libname);
	return 0;
}

MAPI_EXPORT int mapi_v2_get_next_libfunct_info(int libnum, int fnum,
					      mapi2_libfunct_info_t *info)
{
	return mapi_v2_get_libfunct_info(libnum, fnum < 0 ? 0 : fnum + 1, info);
}

MAPI_EXPORT int mapi_v2_connect(int fd)
{
	int code = 0;

	if (!mapi_connect(fd))
		return 0;
	mapi_read_error(&code, NULL);
	return code == MAPI_ERR_PERMISSION ? -1 : -2;
}

MAPI_EXPORT int mapi_v2_stats(const char *dev, struct mapi2_stat *stats)
{
	struct mapi_stat in;

	if (info_null(stats, 2) || mapi_stats(dev, &in))
		return -1;
	memset(stats, 0, sizeof(*stats));
	stats->ps_recv = (unsigned int)in.ps_recv;
	stats->ps_drop = (unsigned int)in.ps_drop;
	stats->ps_ifdrop = (unsigned int)in.ps_ifdrop;
	snprintf(stats->hostname, sizeof(stats->hostname), "%s", in.hostname);
	snprintf(stats->dev, sizeof(stats->dev), "%s", in.dev);
	return 0;
}
