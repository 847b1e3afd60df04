/* SPDX-License-Identifier: BSD-2-Clause */
/* mapi_get_next_pkt and mapi_loop: the packets a TO_BUFFER keeps. */
#include <errno.h>
#include <limits.h>

#include "api.h"
#include "backend.h"
#include "capture.h"
#include "error.h"
#include "functions.h"
#include "mapi.h"

/* mapi_get_next_pkt's timeout: as the function says (TO_BUFFER's flag) */
#define WAIT_AS_FLAGGED INT_MIN

static int trace_end_or(const struct flow *f, int ret)
{
	if (ret == -ENODATA)
		return err_set(ret, MAPI_ERR_TRACE_END,
			       "flow %d: its trace has no more packets", f->fd);
	return ret;
}

/*
 * The next packet of TO_BUFFER fid: taken under the API lock when one is
 * waiting; otherwise the lock is let go while the thread waits, and the flow
 * is kept alive by f->readers (mapi_close_flow waits for them to leave).
 * Called and returns with the lock held.
 */
static int next_pkt(int fd, int fid, int timeout_ms, struct mapipkt **pkt)
{
	struct fn_instance *fi = NULL;
	struct flow *f = NULL;
	int ret;

	/* MAPI 2.0's order and codes: the connection before the function id;
	 * one code for a bad flow and a bad function id */
	ret = api_lookup_flow_as(fd, &f, MAPI_INVALID_FLOW_OR_FID);
	if (!ret)
		ret = api_must_be_running(f);
	if (!ret)
		ret = api_lookup_fn(f, fid, &fi, MAPI_INVALID_FLOW_OR_FID);
	if (!ret && !capture_is_buffer(fi))
		ret = err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION,
			      "function %d of flow %d is %s, not TO_BUFFER: it keeps no packets "
			      "for mapi_get_next_pkt", fid, fd, fi->desc->name);
	if (!ret && fi->reading)
		ret = err_set(-EBUSY, MAPI_ERR_BUSY,
			      "another thread is already waiting for the packets of function %d "
			      "of flow %d", fid, fd);
	if (ret)
		return ret;
	/* mapi_get_next_pkt waits as the function says (TO_BUFFER's flag) */
	if (timeout_ms == WAIT_AS_FLAGGED)
		timeout_ms = capture_nowait(fi) ? 0 : -1;
	ret = capture_next(fi, pkt);
	/* what its ring holds still comes, then the interface's going */
	if (ret == -EAGAIN && api_interface_check(f))
		return -ENODEV;
	if (ret != -EAGAIN || !timeout_ms)
		return trace_end_or(f, ret == -EAGAIN ? err_set(-ETIMEDOUT, MAPI_ERR_TIMEOUT,
								"no packet is waiting") : ret);
	fi->reading = 1;
	f->readers++;
	pthread_mutex_unlock(&api_lock);
	do {
		ret = capture_wait(fi, timeout_ms);
		if (!ret)
			ret = capture_next(fi, pkt);
	} while (ret == -EAGAIN);
	pthread_mutex_lock(&api_lock);
	fi->reading = 0;
	f->readers--;
	if (!api_flow_is(fd, f)) {
		pthread_cond_broadcast(&api_reader_left);
		/* ESHUTDOWN, not EBADF: mapi_loop tells it from a bad descriptor */
		return err_set(-ESHUTDOWN, MAPI_INVALID_FLOW_OR_FID,
			       "flow %d was closed while waiting for a packet", fd);
	}
	if (ret && api_interface_check(f))
		return -ENODEV;		/* its interface went while it waited */
	if (ret && f->backend->ops->check && f->backend->ops->check(f->backend))
		return -ECONNRESET;	/* mapid went away while it waited */
	if (ret == -ECONNRESET)	/* the same, seen before the watcher said so */
		return err_set(ret, MAPI_ERR_DAEMON, "mapid went away while flow %d waited for "
			       "a packet: the flows it ran have stopped", fd);
	if (ret == -ETIMEDOUT)
		return err_set(ret, MAPI_ERR_TIMEOUT, "no packet within %d ms", timeout_ms);
	return trace_end_or(f, ret);
}

static struct mapipkt *get_next(int fd, int fid, int timeout_ms)
{
	struct mapipkt *pkt = NULL;
	int ret;

	api_begin();
	ret = next_pkt(fd, fid, timeout_ms, &pkt);
	if (ret)
		return api_fail_ptr(ret);
	api_end();
	return pkt;
}

MAPI_EXPORT struct mapipkt *mapi_get_next_pkt_timeout(int fd, int fid, int timeout_ms)
{
	return get_next(fd, fid, timeout_ms < 0 ? -1 : timeout_ms);
}

MAPI_EXPORT struct mapipkt *mapi_get_next_pkt(int fd, int fid)
{
	return get_next(fd, fid, WAIT_AS_FLAGGED);
}

int api_loop(int fd, int fid, int cnt, int (*each)(const struct mapipkt *pkt, void *ctx),
	     void *ctx)
{
	struct mapipkt *pkt;
	int n = 0, ret = 0;

	api_begin();
	while (cnt <= 0 || n < cnt) {
		ret = next_pkt(fd, fid, -1, &pkt);
		if (ret)
			break;
		api_end();
		ret = each(pkt, ctx);	/* without the lock: it may call the library */
		api_begin();
		if (ret)
			return api_fail(ret);
		n++;
	}
	/* without a count, the loop runs until the flow is closed (by the
	 * callback, or by another thread while it waits, before any packet as
	 * after) or its trace ends */
	if (ret && !(cnt <= 0 && ((n > 0 && ret == -EBADF) || ret == -ESHUTDOWN ||
				  ret == -ENODATA)))
		return api_fail(ret);
	api_end();
	return n;
}

static int call_handler(const struct mapipkt *pkt, void *ctx)
{
	const mapi_handler *callback = ctx;

	(*callback)(pkt);
	return 0;
}

MAPI_EXPORT int mapi_loop(int fd, int fid, int cnt, mapi_handler callback)
{
	if (!callback) {
		api_begin();
		return api_fail(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 4,
					"mapi_loop: the callback is NULL"));
	}
	return api_loop(fd, fid, cnt, call_handler, &callback);
}
