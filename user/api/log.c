/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "export.h"

static mapi_log_fn log_fn;
static void *log_ctx;

MAPI_EXPORT mapi_log_fn mapi_set_log(mapi_log_fn fn, void *ctx)
{
	mapi_log_fn old = log_fn;

	log_ctx = ctx;
	__atomic_store_n(&log_fn, fn, __ATOMIC_RELEASE);
	return old;
}

int mlog_enabled(void)
{
	return __atomic_load_n(&log_fn, __ATOMIC_ACQUIRE) != NULL;
}

void mlog(int level, const char *fmt, ...)
{
	mapi_log_fn fn = __atomic_load_n(&log_fn, __ATOMIC_ACQUIRE);
	char msg[1024];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(level, msg, log_ctx);
}
