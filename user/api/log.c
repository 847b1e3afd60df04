/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* libbpf's messages (a file it could not open, say) go where the
 * library's own go: a library never prints. */
static int libbpf_to_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	(void)level;
	if (!mlog_enabled())
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	mlog(MAPI_LOG_DEBUG, "libbpf: %s", msg);
	return 0;
}

/* At load: an application that sets libbpf's print function itself, in
 * main, has the last word. */
__attribute__((constructor)) static void route_libbpf(void)
{
	libbpf_set_print(libbpf_to_log);
}
