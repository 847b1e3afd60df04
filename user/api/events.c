/* SPDX-License-Identifier: BSD-2-Clause */
/* mapi_wait_event: the events of a THRESHOLD, waited for without polling. */
#include <errno.h>

#include "api.h"
#include "error.h"
#include "functions.h"
#include "mapi.h"

MAPI_EXPORT int mapi_wait_event(int fd, int fid, int timeout_ms,
				struct mapi_threshold_event *ev)
{
	struct fn_instance *fi = NULL;
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = api_lookup_flow_as(fd, &f, MAPI_INVALID_FLOW_OR_FID);
	if (!ret)
		ret = api_must_be_running(f);
	if (!ret)
		ret = api_lookup_fn(f, fid, &fi, MAPI_INVALID_FLOW_OR_FID);
	if (!ret && !fi->desc->next_event)
		ret = err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION,
			      "function %d of flow %d is %s, which has no events", fid, fd,
			      fi->desc->name);
	if (!ret && !ev)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 4, "mapi_wait_event: ev is NULL");
	if (!ret && fi->reading)
		ret = err_set(-EBUSY, MAPI_ERR_BUSY,
			      "another thread is already waiting for the events of function %d "
			      "of flow %d", fid, fd);
	if (ret)
		return api_fail(ret);
	/* the wait lets the lock go: the flow stays while f->readers says so
	 * (mapi_close_flow interrupts the wait, then waits for it to leave) */
	fi->reading = 1;
	f->readers++;
	pthread_mutex_unlock(&api_lock);
	ret = fi->desc->next_event(fi, timeout_ms < 0 ? -1 : timeout_ms, ev);
	pthread_mutex_lock(&api_lock);
	fi->reading = 0;
	f->readers--;
	if (!api_flow_is(fd, f)) {
		pthread_cond_broadcast(&api_reader_left);
		return api_fail(err_set(-ESHUTDOWN, MAPI_INVALID_FLOW_OR_FID,
					"flow %d was closed while waiting for an event", fd));
	}
	if (ret == -ENODATA && api_interface_check(f))
		return api_fail(-ENODEV);	/* no more: its interface went */
	if (ret == -ETIMEDOUT)
		ret = err_set(ret, MAPI_ERR_TIMEOUT, "no event within %d ms", timeout_ms);
	else if (ret == -ENODATA)
		ret = err_set(ret, MAPI_ERR_TRACE_END,
			      "function %d of flow %d has no more events (its COUNT of them "
			      "came, or %s)", fid, fd,
			      f->trace ? "its trace ended" : "the flow it watches closed");
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}
