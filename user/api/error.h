/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Errors inside libmapi-bpf.
 *
 * Internal functions return a negative errno.  Where they know more than
 * errno can say, they also record a MAPI code and a message with err_set().
 * Only the exported mapi_* calls turn that into -1 (or NULL) plus the
 * thread's last error, which mapi_read_error() returns.
 */
#ifndef MAPI_ERROR_H
#define MAPI_ERROR_H

#include <stdarg.h>

#define ERR_MSG_LEN 512

/*
 * Records code and message as the pending error of this thread and returns
 * -errnum, so that a failing path reads: return err_set(-EINVAL, CODE, ...).
 * The first error recorded during a call wins: it is the cause, later ones
 * are consequences.
 */
int err_set(int errnum, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int err_vset(int errnum, int code, const char *fmt, va_list ap);

/*
 * Whether negative errno ret says no file descriptor was left: EMFILE (the
 * process's limit) or ENFILE (the system's).  err_no_fds() records it as
 * MAPI_ERR_LIMIT, naming the limit, for what could not be done: it is not
 * a lack of memory, a refusing verifier or a missing interface.
 */
int err_is_no_fds(int ret);
int err_no_fds(int ret, const char *what);

/*
 * A kernel object (a map, a mapping, a program's descriptor) that could not
 * be made, for negative errno ret: "WHAT: reason", MAPI_ERR_LIMIT when no
 * descriptor was left, MAPI_ERR_NOMEM for memory, MAPI_ERR_KERNEL else.
 */
int err_kernel(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Forgets the pending error: called when an exported call starts. */
void err_begin(void);

/*
 * Called by an exported call that failed with negative errno ret: publishes
 * the pending error, or one derived from ret if nothing was recorded.
 */
void err_publish(int ret);

/* True if an error is pending in this thread. */
int err_pending(void);

/* Copies this thread's pending error, to hand it to another thread. */
void err_pending_copy(int *code, char *msg, unsigned int len);

/* The MAPI code and message of the thread's last published error. */
int err_last(int *code, char *msg, unsigned int len);

#endif
