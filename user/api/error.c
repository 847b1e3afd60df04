/* SPDX-License-Identifier: BSD-2-Clause */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "mapi.h"

struct err_state {
	int code;
	char msg[ERR_MSG_LEN];
};

static __thread struct err_state pending;
static __thread int pending_set;
static __thread struct err_state last;

int err_vset(int errnum, int code, const char *fmt, va_list ap)
{
	if (!pending_set) {
		pending.code = code;
		vsnprintf(pending.msg, sizeof(pending.msg), fmt, ap);
		pending_set = 1;
	}
	return errnum < 0 ? errnum : -errnum;
}

int err_set(int errnum, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = err_vset(errnum, code, fmt, ap);
	va_end(ap);
	return ret;
}

int err_is_no_fds(int ret)
{
	return ret == -EMFILE || ret == -ENFILE;
}

int err_no_fds(int ret, const char *what)
{
	struct rlimit rl;

	if (ret == -ENFILE)
		return err_set(ret, MAPI_ERR_LIMIT, "%s: the system has no file descriptor left "
			       "(ENFILE: fs.file-max)", what);
	if (getrlimit(RLIMIT_NOFILE, &rl))
		rl.rlim_cur = 0;
	return err_set(ret, MAPI_ERR_LIMIT, "%s: the process has no file descriptor left "
		       "(EMFILE: its limit, ulimit -n, is %llu; a flow holds a few: maps, "
		       "programs, rings)", what, (unsigned long long)rl.rlim_cur);
}

int err_kernel(int ret, const char *fmt, ...)
{
	char what[ERR_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err_is_no_fds(ret))
		return err_no_fds(ret, what);
	return err_set(ret, ret == -ENOMEM ? MAPI_ERR_NOMEM : MAPI_ERR_KERNEL, "%s: %s", what,
		       strerror(-ret));
}

void err_begin(void)
{
	pending_set = 0;
}

int err_pending(void)
{
	return pending_set;
}

void err_pending_copy(int *code, char *msg, unsigned int len)
{
	*code = pending_set ? pending.code : MAPI_ERR_INTERNAL;
	snprintf(msg, len, "%s", pending_set ? pending.msg : "unknown failure");
}

/* A MAPI code for a failure that only left an errno behind. */
static int code_of_errno(int errnum)
{
	switch (errnum) {
	case ENOMEM:
		return MAPI_ERR_NOMEM;
	case EPERM:
	case EACCES:
		return MAPI_ERR_PERMISSION;
	case ENODEV:
		return MAPI_NO_SUCH_DEVICE;
	case EMFILE:
	case ENFILE:
		return MAPI_ERR_LIMIT;
	case EINVAL:
		return MAPI_INVALID_ARGUMENT;
	default:
		return MAPI_ERR_INTERNAL;
	}
}

void err_publish(int ret)
{
	int errnum = ret < 0 ? -ret : ret;

	if (pending_set) {
		last = pending;
	} else {
		last.code = code_of_errno(errnum);
		snprintf(last.msg, sizeof(last.msg), "%s", strerror(errnum));
	}
	pending_set = 0;
}

int err_last(int *code, char *msg, unsigned int len)
{
	if (code)
		*code = last.code;
	if (msg && len)
		snprintf(msg, len, "%s", last.code ? last.msg : "no error");
	return 0;
}
