/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The exported calls that make, connect and close flows: the flow table,
 * argument and state checks, the choice of backend, and the translation of
 * internal errors into MAPI's -1 + mapi_read_error().
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "args.h"
#include "backend.h"
#include "capture.h"
#include "clock.h"
#include "error.h"
#include "functions.h"
#include "linkwatch.h"
#include "log.h"
#include "mapi.h"
#include "mapi2.h"
#include "proto.h"
#include "trace.h"

pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;

/* Flow descriptors are never reused, so a stale one is always an error. */
static struct flow **flow_table;	/* indexed by fd; NULL once closed */
static int table_cap;
static int next_fd = 1;

pthread_cond_t api_reader_left = PTHREAD_COND_INITIALIZER;

/* The in-process engine, made for the first flow on an interface that
 * does not go to mapid; and the connection to mapid, while it serves. */
static struct backend *local, *remote;
/* In a child of fork(): the parent's, inherited, never used (volatile: kept
 * though never read, so that they stay reachable, not leaked) */
static struct backend *volatile parents_local, *volatile parents_remote;

void api_begin(void)
{
	pthread_mutex_lock(&api_lock);
	err_begin();
}

int api_fail(int ret)
{
	err_publish(ret);
	pthread_mutex_unlock(&api_lock);
	return -1;
}

void *api_fail_ptr(int ret)
{
	api_fail(ret);
	return NULL;
}

void api_end(void)
{
	pthread_mutex_unlock(&api_lock);
}

/* The flow of descriptor fd, whether or not what runs it is still there;
 * code: the call's for a bad descriptor. */
static int lookup_any(int fd, struct flow **f, int code)
{
	if (fd <= 0 || fd >= next_fd)
		return err_set(-EBADF, code,
			       "invalid flow descriptor %d: no flow was created with it", fd);
	if (!flow_table[fd])
		return err_set(-EBADF, code,
			       "invalid flow descriptor %d: that flow was closed", fd);
	*f = flow_table[fd];
	return 0;
}

int api_lookup_flow(int fd, struct flow **f)
{
	return api_lookup_flow_as(fd, f, MAPI_INVALID_FLOW);
}

int api_lookup_flow_as(int fd, struct flow **f, int code)
{
	int ret = lookup_any(fd, f, code);
	const struct backend *b = ret ? NULL : (*f)->backend;

	if (!ret && (*f)->inherited)
		return err_set(-EBADF, code,
			       "flow %d is process %d's, inherited by fork(): it runs for that "
			       "process only, and this one may only close its copy", fd,
			       (*f)->owner_pid);
	return ret || !b->ops->check ? ret : b->ops->check(b);
}

int api_lookup_fn(const struct flow *f, int fid, struct fn_instance **fi, int code)
{
	if (fid <= 0 || fid > f->nfns)
		return err_set(-ENOENT, code,
			       "flow %d has no function %d (its functions are 1..%d)",
			       f->fd, fid, f->nfns);
	*fi = f->fns[fid - 1];
	return 0;
}

struct flow *api_flow_at(int fd)
{
	return fd > 0 && fd < next_fd ? flow_table[fd] : NULL;
}

int api_flow_is(int fd, const struct flow *f)
{
	return fd > 0 && fd < next_fd && flow_table[fd] == f;
}

struct flow *api_next_flow(int *fd)
{
	while (++*fd < next_fd)
		if (flow_table[*fd])
			return flow_table[*fd];
	return NULL;
}

/* code: the call's for a connected flow (MAPI 2.0's differ by call). */
static int must_be_new(const struct flow *f, const char *what, int code)
{
	if (f->status != MAPI_FLOW_INIT)
		return err_set(-EBUSY, code,
			       "flow %d is already connected: %s", f->fd, what);
	return 0;
}

int api_must_be_running(const struct flow *f)
{
	if (f->status != MAPI_FLOW_RUNNING)
		return err_set(-ENOTCONN, MAPI_FLOW_NOT_CONNECTED,
			       "flow %d is not connected: call mapi_connect first", f->fd);
	return 0;
}

int api_stopped(struct flow *f)
{
	if (f->status != MAPI_FLOW_RUNNING || !f->link || !linkwatch_gone(f->link))
		return 0;
	/* Deleted, its programs went with it; moved to another namespace,
	 * they would go on counting there: taken off now, at the first look,
	 * so that what is read from here on is final.  (A child of fork()'s
	 * copy is the parent's to stop.) */
	if (!f->detached && !f->inherited && f->backend->ops->stop &&
	    !f->backend->ops->stop(f->backend, f)) {
		f->detached = 1;
		keeper_idle_due(api_housekeep(0));	/* a hook it leaves idle goes */
	}
	err_begin();	/* a detach that failed is tried again at the next look */
	return 1;
}

int api_interface_check(struct flow *f)
{
	if (api_stopped(f))
		return err_set(-ENODEV, MAPI_ERR_DEVICE_GONE,
			       "flow %d: interface %s went away (deleted, or moved to another "
			       "network namespace): the flow has stopped", f->fd, f->dev);
	return 0;
}

/* A connection to mapid whose last flow closed and that can serve no more
 * (mapid went) goes, whether or not it is still the current one. */
static void backend_put(struct backend *b)
{
	if (--b->flows || b == local || !b->ops->check || !b->ops->check(b))
		return;
	if (b == remote)
		remote = NULL;
	backend_destroy(b);
	err_begin();
}

/* The connection to mapid, made if there is none (or it went): 0, or why
 * not. */
static int mapid_connection(void)
{
	const char *path = getenv("MAPI_SOCKET");

	if (remote && remote->ops->check(remote)) {
		err_begin();	/* it went: try anew; its flows keep it until they close */
		if (!remote->flows)
			backend_destroy(remote);
		remote = NULL;
	}
	if (remote)
		return 0;
	return backend_mapid_new(&remote, path && *path ? path : MAPID_SOCKET_DEFAULT);
}

/*
 * What runs a new live flow.  MAPI_BACKEND=mapid or in-process forces one;
 * otherwise mapid when it listens at its socket (MAPI_SOCKET, else
 * MAPID_SOCKET_DEFAULT) and serves this network namespace, else this
 * process's own engine.
 */
static int live_backend(struct backend **b)
{
	const char *want = getenv("MAPI_BACKEND");
	int ret;

	if (want && *want && strcmp(want, "mapid") && strcmp(want, "in-process"))
		return err_set(-EINVAL, MAPI_ERR_UNSUPPORTED,
			       "MAPI_BACKEND=%s: use mapid or in-process (unset: mapid when "
			       "it runs)", want);
	if (!want || !*want || !strcmp(want, "mapid")) {
		ret = mapid_connection();
		if (!ret) {
			*b = remote;
			return 0;
		}
		if (want && *want)
			return ret;	/* demanded */
		err_begin();	/* not there: this process runs its flows */
	}
	ret = local ? 0 : backend_local_new(&local);
	*b = local;
	return ret;
}

MAPI_EXPORT const char *mapi_backend(void)
{
	struct backend *b = NULL;
	int ret;

	api_begin();
	ret = live_backend(&b);
	if (ret)
		return api_fail_ptr(ret);
	api_end();
	return b->ops->name;
}

/* At exit the connection to mapid is hung up (mapid closes what the
 * process left open) and its watcher ends; the backend stays, for flows
 * still open and threads still in a call, which now see MAPI_ERR_DAEMON. */
__attribute__((destructor)) static void remote_shutdown(void)
{
	struct backend *b;

	pthread_mutex_lock(&api_lock);
	b = remote;
	pthread_mutex_unlock(&api_lock);
	if (b)
		backend_mapid_hang_up(b);
}

/* fn on every function of every flow. */
static void each_function(void (*fn)(struct fn_instance *fi))
{
	struct flow *f;
	int fd, i;

	for (fd = 0; (f = api_next_flow(&fd));)
		for (i = 0; i < f->nfns; i++)
			fn(f->fns[i]);
}

void api_fork_prepare(void)
{
	each_function(capture_fork_prepare);
}

void api_fork_done(void)
{
	each_function(capture_fork_done);
}

void api_forked(void)
{
	struct flow *f;
	int fd;

	for (fd = 0; (f = api_next_flow(&fd));)
		f->inherited = 1;
	/* the parent's engine and connection to mapid, left as they are (kept,
	 * not freed: freeing would detach or close what the parent runs); this
	 * process's own flows get their own */
	parents_local = local;
	parents_remote = remote;
	local = remote = NULL;
	trace_forked();
}

struct backend *api_mapid(void)
{
	const char *want = getenv("MAPI_BACKEND");

	if (want && !strcmp(want, "in-process"))
		return NULL;
	if (mapid_connection())
		err_begin();
	return remote;
}

uint64_t api_housekeep(int force)
{
	return local && local->ops->housekeep ? local->ops->housekeep(local, force) : 0;
}

/* --- Flows ----------------------------------------------------------------*/

static int table_add(struct flow *f)
{
	if (next_fd == INT_MAX)
		return err_set(-EMFILE, MAPI_ERR_LIMIT, "flow descriptors exhausted");
	if (next_fd >= table_cap) {
		int ncap = table_cap ? table_cap * 2 : 64;
		struct flow **t = realloc(flow_table, (size_t)ncap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t + table_cap, 0, (size_t)(ncap - table_cap) * sizeof(*t));
		flow_table = t;
		table_cap = ncap;
	}
	f->fd = next_fd++;
	flow_table[f->fd] = f;
	return 0;
}

/* A flow of backend b over source, in the table: its descriptor. */
static int create(struct backend *b, const char *source, int format)
{
	struct flow *f = flow_new("", b);
	int ret;

	if (!f)
		return -ENOMEM;
	ret = b->ops->open(b, f, source, format);
	if (ret) {
		flow_free(f);
		return ret;
	}
	ret = table_add(f);
	if (ret) {
		b->ops->close(b, f);
		flow_free(f);
		return ret;
	}
	b->flows++;
	f->owner_pid = (int)getpid();
	return f->fd;
}

MAPI_EXPORT int mapi_create_flow(const char *dev)
{
	struct backend *b = NULL;
	int ret;

	api_begin();
	if (!dev)
		return api_fail(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
					"mapi_create_flow: the device name is NULL"));
	/* an offline device's name cannot be an interface's (':') */
	if (trace_is_device(dev))
		ret = create(backend_trace(), dev, TRACE_DEVICE);
	else if (!(ret = live_backend(&b)))
		ret = create(b, dev, 0);
	if (ret < 0)
		return api_fail(ret);
	api_end();
	return ret;
}

MAPI_EXPORT int mapi_attach_flow(const char *name)
{
	struct backend *b;
	struct flow *f;
	int ret;

	api_begin();
	if (!name)
		return api_fail(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
					"mapi_attach_flow: the name is NULL"));
	b = api_mapid();
	if (!b)
		return api_fail(err_set(-ENOENT, MAPI_ERR_DAEMON,
					"named flows are mapid's, and no mapid serves this "
					"process (MAPI_SOCKET, MAPI_BACKEND)"));
	f = flow_new("", b);
	if (!f)
		return api_fail(-ENOMEM);
	ret = backend_mapid_attach(b, f, name);
	if (!ret)
		ret = table_add(f);
	if (ret) {
		flow_free(f);
		return api_fail(ret);
	}
	b->flows++;
	f->owner_pid = (int)getpid();
	api_end();
	return f->fd;
}

MAPI_EXPORT int mapi_create_offline_flow(const char *path, int format)
{
	int ret;

	api_begin();
	ret = trace_check_format(format);
	if (!ret)
		ret = create(backend_trace(), path, format);
	if (ret < 0)
		return api_fail(ret);
	api_end();
	return ret;
}

static int must_be_live(const struct flow *f, const char *what)
{
	if (!f->backend->ops->live)
		return err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION,
			       "flow %d reads a trace file, which has no %s", f->fd, what);
	return 0;
}

MAPI_EXPORT int mapi_set_direction(int fd, int direction)
{
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = api_lookup_flow(fd, &f);
	if (!ret)
		ret = must_be_live(f, "direction to choose");
	if (!ret)
		ret = must_be_new(f, "set the direction before mapi_connect", MAPI_FLOW_ALREADY_ACTIVE);
	if (!ret)
		ret = flow_set_direction(f, direction);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_set_attach_mode(int fd, int mode)
{
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = api_lookup_flow(fd, &f);
	if (!ret)
		ret = must_be_live(f, "attach mode");
	if (!ret)
		ret = must_be_new(f, "set the attach mode before mapi_connect",
				  MAPI_FLOW_ALREADY_ACTIVE);
	if (!ret)
		ret = flow_set_mode(f, mode);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

/* The flow fd, not yet connected, and the function named funct: checked
 * in MAPI 2.0's order, with its codes. */
static int apply_target(int fd, const char *funct, struct flow **f, const struct fn_desc **d)
{
	int ret = api_lookup_flow_as(fd, f, MAPI_INVALID_FLOW_OR_FID);

	if (!ret)
		ret = must_be_new(*f, "apply functions before mapi_connect", MAPI_APPLY_CONNECTED);
	if (ret)
		return ret;
	if (!funct)
		return err_set(-EINVAL, MAPI_FUNCTION_NOT_FOUND, "the function name is NULL");
	*d = fn_find(funct);
	if (!*d)
		return err_set(-ENOENT, MAPI_FUNCTION_NOT_FOUND,
			       "no function named \"%s\" (`mapi functions` lists them)", funct);
	return 0;
}

/*
 * A function of another function's number (fn_form.watch), just applied
 * as fid: the flow and function its arguments name (flow 0: its own) must
 * be this process's, the function one with a number; a live flow watches a
 * live one; over a trace, a function applied before it to its own flow
 * (the trace's reader gives both the same packets).  Checked after
 * flow_apply, on its arguments as checked there, so that a bad argument
 * before these is reported first; refused, the function is taken off.
 */
static int check_watched(struct flow *f, int fid)
{
	struct fn_instance *fi = flow_fn(f, fid), *wfi = NULL;
	int a, wfd, wfid, ret = 0;
	struct flow *w = f;

	if (!fi || !flow_watches(fi))
		return fid;
	a = fi->desc->forms[fi->form].watch - 1;
	wfd = flow_watch_fd(fi);
	wfid = flow_watch_fid(fi);
	if (wfd)
		ret = api_lookup_flow_as(wfd, &w, MAPI_INVALID_ARGUMENT + a + 1);
	if (!ret && (w == f ? wfid >= fid : 0))
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + a + 2,
			      "%s: function %d of its own flow is not one applied before it",
			      fi->desc->name, wfid);
	if (!ret)
		ret = api_lookup_fn(w, wfid, &wfi, MAPI_INVALID_ARGUMENT + a + 2);
	if (!ret && !wfi->desc->slots && !wfi->desc->read_u64)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + a + 2,
			      "%s: function %d of flow %d is %s, which has no number to watch",
			      fi->desc->name, wfid, wfd, wfi->desc->name);
	if (!ret && f->trace && w != f)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + a + 1,
			      "%s over a trace watches a function of its own flow (%d), not of "
			      "flow %d", fi->desc->name, f->fd, wfd);
	if (!ret && !f->trace && w->trace)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + a + 1,
			      "%s on an interface cannot watch flow %d, which reads a trace: its "
			      "clock is the trace's", fi->desc->name, wfd);
	if (ret) {
		flow_drop_last(f);
		return ret;
	}
	fi->watch_serial = w->serial;
	return fid;
}

MAPI_EXPORT int mapi_apply_function_args(int fd, const char *funct,
					 const struct mapi_arg *args, int n)
{
	const struct fn_desc *d = NULL;
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = apply_target(fd, funct, &f, &d);
	if (!ret)
		ret = flow_apply(f, d, args, n);
	if (ret > 0)
		ret = check_watched(f, ret);
	if (ret < 0)
		return api_fail(ret);
	api_end();
	return ret;
}

/* A call without the arguments' number and types: the required
 * arguments of the function's first form (mapi-bpf's own), or of its MAPI
 * 2.0 form, are read. */
static int apply_va(int fd, const char *funct, int mapi2, va_list ap)
{
	const struct fn_desc *d = NULL;
	struct mapi_arg *args = NULL;
	struct flow *f = NULL;
	int n = 0, ret;

	api_begin();
	ret = apply_target(fd, funct, &f, &d);
	if (!ret)
		ret = args_from_va(d, mapi2 ? d->mapi2_form : 0, ap, &args, &n);
	if (!ret)
		ret = flow_apply(f, d, args, n);
	if (ret > 0)
		ret = check_watched(f, ret);
	free(args);	/* the strings belong to the caller; flow_apply copied them */
	if (ret < 0)
		return api_fail(ret);
	api_end();
	return ret;
}

/* The plain function (the header's macro hides it from C11 callers). */
MAPI_EXPORT int (mapi_apply_function)(int fd, const char *funct, ...)
{
	va_list ap;
	int ret;

	va_start(ap, funct);
	ret = apply_va(fd, funct, 0, ap);
	va_end(ap);
	return ret;
}

/* The same for MAPI 2.0's programs (mapi2.h), which pass its forms. */
MAPI_EXPORT int mapi_v2_apply_function(int fd, const char *funct, ...)
{
	va_list ap;
	int ret;

	va_start(ap, funct);
	ret = apply_va(fd, funct, 1, ap);
	va_end(ap);
	return ret;
}

static int count_files(const struct flow *f)
{
	int i, n = 0;

	for (i = 0; i < f->nfns; i++)
		n += capture_is_file(f->fns[i]);
	return n;
}

/* Functions of a live flow the library thread ticks (flow_ticks). */
static int count_ticks(const struct flow *f)
{
	int i, n = 0;

	for (i = 0; i < f->nfns && f->backend->ops->live; i++)
		n += flow_ticks(f->fns[i]);
	return n;
}

MAPI_EXPORT int mapi_connect(int fd)
{
	struct flow *f = NULL;
	int ret, files, ticks;

	api_begin();
	ret = api_lookup_flow(fd, &f);
	if (!ret)
		ret = must_be_new(f, "a flow connects once", MAPI_FLOW_ALREADY_ACTIVE);
	if (ret)
		return api_fail(ret);
	/* the thread that ticks its BUCKETs and THRESHOLDs runs first (it
	 * ticks running flows only): without it they would never sample */
	ticks = count_ticks(f);
	if (ticks) {
		keeper_count_ticks(ticks);
		ret = keeper_kick();
	}
	/* listening before the programs attach: no removal goes unheard */
	if (!ret && f->backend->ops->live)
		ret = linkwatch_get(f->ifindex, &f->link);
	/* (a TO_BUFFER's reader also wakes when it goes: capture_map) */
	if (!ret)
		ret = f->backend->ops->connect(f->backend, f);
	if (ret) {
		keeper_count_ticks(-ticks);
		linkwatch_put(f->link);
		f->link = NULL;
		return api_fail(ret);
	}
	f->status = MAPI_FLOW_RUNNING;
	f->start_ns = realtime_ns();
	files = f->backend->ops->live ? count_files(f) : 0;
	if (files) {
		keeper_count_files(files);
		if (keeper_kick()) {
			log_warn("no housekeeping thread: TO_FILE files are written when their "
				 "flows close");
			err_begin();
		}
	}
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_close_flow(int fd)
{
	struct flow *f = NULL;
	int i, ret, file_err = 0;
	uint64_t due;

	api_begin();
	ret = lookup_any(fd, &f, MAPI_INVALID_FLOW);
	if (ret)
		return api_fail(ret);
	flow_table[fd] = NULL;
	if (f->inherited) {
		/* the parent's: its kernel objects, its file, its daemon stay
		 * as they are; this copy's memory goes (files were written out
		 * at the fork, so freeing writes nothing twice) */
		linkwatch_put(f->link);
		flow_free(f);
		api_end();
		return 0;
	}
	/* threads waiting for its packets or events leave before it goes */
	if (f->readers) {
		for (i = 0; i < f->nfns; i++) {
			if (capture_is_buffer(f->fns[i]))
				capture_interrupt(f->fns[i]);
			if (f->fns[i]->desc->interrupt)
				f->fns[i]->desc->interrupt(f->fns[i]);
		}
		while (f->readers)
			pthread_cond_wait(&api_reader_left, &api_lock);
	}
	f->backend->ops->close(f->backend, f);
	due = api_housekeep(0);
	if (f->status == MAPI_FLOW_RUNNING && f->backend->ops->live) {
		keeper_count_files(-count_files(f));
		keeper_count_ticks(-count_ticks(f));
	}
	for (i = 0; i < f->nfns; i++) {
		struct fn_instance *fi = f->fns[i];

		if (capture_is_file(fi)) {
			ret = capture_finish(fi);	/* the programs no longer run */
			if (ret && !file_err)
				file_err = ret;
		}
		if (fi->ref_on)
			keeper_count_refs(-1);
	}
	/* what ran it went away: closed all the same, and said */
	if (!file_err && f->backend->ops->check)
		file_err = f->backend->ops->check(f->backend);
	backend_put(f->backend);
	linkwatch_put(f->link);
	flow_free(f);
	keeper_idle_due(due);
	if (file_err)
		return api_fail(file_err);	/* closed all the same */
	err_begin();
	api_end();
	return 0;
}
