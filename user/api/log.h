/* SPDX-License-Identifier: BSD-2-Clause */
/* The library's only way to say something: the application's log callback. */
#ifndef MAPI_LOG_H
#define MAPI_LOG_H

#include "mapi.h"

void mlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True if a callback is installed, to skip building long messages for nobody. */
int mlog_enabled(void);

#define log_warn(...) mlog(MAPI_LOG_WARN, __VA_ARGS__)
#define log_info(...) mlog(MAPI_LOG_INFO, __VA_ARGS__)
#define log_debug(...) mlog(MAPI_LOG_DEBUG, __VA_ARGS__)

#endif
