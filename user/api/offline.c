/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MAPI 2.0's offline devices: a trace that several flows read together,
 * each packet once through every one (the reading is in trace.c).
 */
#include <errno.h>

#include "api.h"
#include "error.h"
#include "mapi.h"
#include "trace.h"

MAPI_EXPORT char *mapi_create_offline_device(const char *path, int format)
{
	const char *name = NULL;
	int ret;

	api_begin();
	ret = trace_device_create(path, format, &name);
	if (ret)
		return api_fail_ptr(ret);
	api_end();
	return (char *)name;
}

MAPI_EXPORT int mapi_start_offline_device(const char *dev)
{
	int ret;

	api_begin();
	ret = trace_device_start(dev);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_delete_offline_device(const char *dev)
{
	int ret;

	api_begin();
	ret = trace_device_delete(dev);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}
