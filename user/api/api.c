/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The exported mapi_* calls: the flow table, argument and state checks, and
 * the translation of internal errors into MAPI's -1 + mapi_read_error().
 * One lock serializes every call; mapi_get_next_pkt() does not hold it while
 * it waits, and mapi_close_flow() waits for such readers to leave.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "capture.h"
#include "caps.h"
#include "cbpf.h"
#include "codegen.h"
#include "ebpf_dump.h"
#include "engine.h"
#include "error.h"
#include "export.h"
#include "flow.h"
#include "functions.h"
#include "log.h"
#include "mapi.h"
#include "trace.h"

static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;

/* Flow descriptors are never reused, so a stale one is always an error. */
static struct flow **flow_table;	/* indexed by fd; NULL once closed */
static int table_cap;
static int next_fd = 1;

/*
 * A thread of the library's own does what must happen between calls: it
 * refreshes MAPI_REF values and detaches hooks left idle.  It runs while
 * there is such work and ends when there is none.
 */
static int nrefs;			/* MAPI_REF results of open flows */
static int nfiles;			/* TO_FILE functions of connected flows */
static uint64_t idle_due;		/* next idle hook to detach (ms), or 0 */
static int keeper_on, keeper_done, keeper_stop;
static pthread_t keeper;
static pthread_cond_t keeper_wake = PTHREAD_COND_INITIALIZER;
/* Signalled when a reader of a closing flow has left it. */
static pthread_cond_t reader_left = PTHREAD_COND_INITIALIZER;
static int keeper_kick(void);

static void api_begin(void)
{
	pthread_mutex_lock(&api_lock);
	err_begin();
}

static int api_fail(int ret)
{
	err_publish(ret);
	pthread_mutex_unlock(&api_lock);
	return -1;
}

static void *api_fail_ptr(int ret)
{
	api_fail(ret);
	return NULL;
}

static void api_end(void)
{
	pthread_mutex_unlock(&api_lock);
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static int lookup_flow(int fd, struct flow **f)
{
	if (fd <= 0 || fd >= next_fd)
		return err_set(-EBADF, MAPI_INVALID_FLOW,
			       "invalid flow descriptor %d: no flow was created with it", fd);
	if (!flow_table[fd])
		return err_set(-EBADF, MAPI_INVALID_FLOW,
			       "invalid flow descriptor %d: that flow was closed", fd);
	*f = flow_table[fd];
	return 0;
}

static int lookup_fn(const struct flow *f, int fid, struct fn_instance **fi)
{
	if (fid <= 0 || fid > f->nfns)
		return err_set(-ENOENT, MAPI_FUNCTION_NOT_FOUND,
			       "flow %d has no function %d (its functions are 1..%d)",
			       f->fd, fid, f->nfns);
	*fi = f->fns[fid - 1];
	return 0;
}

static int must_be_new(const struct flow *f, const char *what)
{
	if (f->status != MAPI_FLOW_INIT)
		return err_set(-EBUSY, MAPI_FLOW_ALREADY_ACTIVE,
			       "flow %d is already connected: %s", f->fd, what);
	return 0;
}

static int must_be_running(const struct flow *f)
{
	if (f->status != MAPI_FLOW_RUNNING)
		return err_set(-ENOTCONN, MAPI_FLOW_NOT_CONNECTED,
			       "flow %d is not connected: call mapi_connect first", f->fd);
	return 0;
}

int flow_read_slot(const struct flow *f, uint32_t slot, uint64_t *val)
{
	uint64_t host = 0, dev = 0;
	int ret;

	if (f->hashed)
		return engine_read_hashed(f, slot, val);
	ret = store_read(&f->host, slot, &host);
	if (!ret && f->nic.nlines)
		ret = store_read(&f->nic, slot, &dev);
	if (ret)
		return err_set(ret, MAPI_ERR_KERNEL, "reading the results of flow %d: %s",
			       f->fd, strerror(-ret));
	*val = host + dev;
	return 0;
}

/* --- Flows ----------------------------------------------------------------*/

/* The link types whose frames start with an Ethernet header. */
static int check_link_type(const char *dev)
{
	struct ifreq ifr;
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;	/* cannot tell; attaching will */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, dev, strlen(dev));
	if (!ioctl(s, SIOCGIFHWADDR, &ifr) && ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER &&
	    ifr.ifr_hwaddr.sa_family != ARPHRD_LOOPBACK)
		ret = err_set(-EOPNOTSUPP, MAPI_ERR_UNSUPPORTED,
			      "%s is not an Ethernet interface (ARP hardware type %d): "
			      "mapi-bpf monitors Ethernet and loopback interfaces",
			      dev, ifr.ifr_hwaddr.sa_family);
	close(s);
	return ret;
}

static int is_loopback(const char *dev)
{
	struct ifreq ifr;
	int s, lo = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, dev, strlen(dev));
	if (!ioctl(s, SIOCGIFHWADDR, &ifr))
		lo = ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK;
	close(s);
	return lo;
}

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

/* A new flow named name, with the defaults: both directions, any mode. */
static struct flow *flow_new(const char *name)
{
	struct flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	snprintf(f->dev, sizeof(f->dev), "%s", name);
	f->status = MAPI_FLOW_INIT;
	f->direction = MAPI_DIR_BOTH;
	f->mode_req = MAPI_MODE_AUTO;
	f->nslots = FLOW_SLOT_SEEN + 1;
	store_init(&f->host);
	store_init(&f->nic);
	f->group[0] = f->group[1] = -1;
	return f;
}

MAPI_EXPORT int mapi_create_flow(const char *dev)
{
	struct flow *f = NULL;
	unsigned int ifindex;
	int ret;

	api_begin();
	if (!dev)
		return api_fail(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
					"mapi_create_flow: the device name is NULL"));
	if (!*dev || strlen(dev) >= IF_NAMESIZE || !(ifindex = if_nametoindex(dev)))
		return api_fail(err_set(-ENODEV, MAPI_NO_SUCH_DEVICE,
					"no network interface named \"%s\" (`ip link` lists them)",
					dev));
	ret = check_link_type(dev);
	if (ret)
		return api_fail(ret);
	f = flow_new(dev);
	if (!f)
		return api_fail(-ENOMEM);
	f->ifindex = (int)ifindex;
	ret = table_add(f);
	if (ret) {
		free(f);
		return api_fail(ret);
	}
	api_end();
	return f->fd;
}

MAPI_EXPORT int mapi_create_offline_flow(const char *path, int format)
{
	struct trace *t = NULL;
	struct flow *f;
	int ret;

	api_begin();
	ret = trace_open(&t, path, format);
	if (ret)
		return api_fail(ret);
	f = flow_new(trace_name(t));
	if (!f) {
		trace_close(t);
		return api_fail(-ENOMEM);
	}
	f->trace = t;
	ret = table_add(f);
	if (ret) {
		trace_close(t);
		free(f);
		return api_fail(ret);
	}
	api_end();
	return f->fd;
}

static int must_be_live(const struct flow *f, const char *what)
{
	if (f->trace)
		return err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION,
			       "flow %d reads a trace file, which has no %s", f->fd, what);
	return 0;
}

MAPI_EXPORT int mapi_set_direction(int fd, int direction)
{
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = must_be_live(f, "direction to choose");
	if (!ret)
		ret = must_be_new(f, "set the direction before mapi_connect");
	if (!ret && direction != MAPI_DIR_IN && direction != MAPI_DIR_OUT &&
	    direction != MAPI_DIR_BOTH)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			      "direction %d: use MAPI_DIR_IN, MAPI_DIR_OUT or MAPI_DIR_BOTH",
			      direction);
	if (ret)
		return api_fail(ret);
	f->direction = direction;
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_set_attach_mode(int fd, int mode)
{
	int base = mode & ~MAPI_MODE_REQUIRE;
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = must_be_live(f, "attach mode");
	if (!ret)
		ret = must_be_new(f, "set the attach mode before mapi_connect");
	if (!ret && base != MAPI_MODE_AUTO && base != MAPI_MODE_NATIVE &&
	    base != MAPI_MODE_GENERIC && base != MAPI_MODE_OFFLOAD)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			      "attach mode %#x: use MAPI_MODE_AUTO, _NATIVE, _GENERIC or "
			      "_OFFLOAD, optionally | MAPI_MODE_REQUIRE", mode);
	if (!ret && base == MAPI_MODE_AUTO && (mode & MAPI_MODE_REQUIRE))
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			      "MAPI_MODE_AUTO cannot be demanded: name the mode to require");
	if (ret)
		return api_fail(ret);
	f->mode_req = mode;
	api_end();
	return 0;
}

static void fn_free(struct fn_instance *fi)
{
	if (fi->desc->release)
		fi->desc->release(fi);
	args_free(fi->args, fi->nargs);
	free(fi);
}

static int apply(int fd, const char *funct, const struct mapi_arg *in, int n,
		 const struct fn_desc *d)
{
	struct fn_instance *fi, **fns;
	struct flow *f = NULL;
	int ret;

	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = must_be_new(f, "apply functions before mapi_connect");
	if (ret)
		return ret;
	fi = calloc(1, sizeof(*fi));
	if (!fi)
		return -ENOMEM;
	fi->desc = d;
	fi->slot = -1;
	ret = args_check(d, in, n, &fi->args);
	if (ret) {
		free(fi);
		return ret;
	}
	fi->nargs = fn_args_max(d);
	ret = d->prepare(fi, f);
	if (!ret) {
		fns = realloc(f->fns, (size_t)(f->nfns + 1) * sizeof(*fns));
		if (fns)
			f->fns = fns;
		else
			ret = -ENOMEM;
	}
	if (ret) {
		fn_free(fi);
		return ret;
	}
	if (d->slots) {
		fi->slot = (int)f->nslots;
		f->nslots += (uint32_t)d->slots;
	}
	f->fns[f->nfns++] = fi;
	fi->fid = f->nfns;
	(void)funct;
	return fi->fid;
}

static int find_fn(const char *funct, const struct fn_desc **d)
{
	if (!funct)
		return err_set(-EINVAL, MAPI_FUNCTION_NOT_FOUND, "the function name is NULL");
	*d = fn_find(funct);
	if (!*d)
		return err_set(-ENOENT, MAPI_FUNCTION_NOT_FOUND,
			       "no function named \"%s\" (`mapi functions` lists them)", funct);
	return 0;
}

MAPI_EXPORT int mapi_apply_function_args(int fd, const char *funct,
					 const struct mapi_arg *args, int n)
{
	const struct fn_desc *d = NULL;
	struct flow *f = NULL;
	int ret;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = find_fn(funct, &d);
	if (!ret)
		ret = apply(fd, funct, args, n, d);
	if (ret < 0)
		return api_fail(ret);
	api_end();
	return ret;
}

/* The plain function (the header's macro hides it from C11 callers). */
MAPI_EXPORT int (mapi_apply_function)(int fd, const char *funct, ...)
{
	const struct fn_desc *d = NULL;
	struct mapi_arg *args = NULL;
	struct flow *f = NULL;
	va_list ap;
	int n = 0, ret;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = find_fn(funct, &d);
	if (!ret) {
		va_start(ap, funct);
		ret = args_from_va(d, ap, &args, &n);
		va_end(ap);
	}
	if (!ret)
		ret = apply(fd, funct, args, n, d);
	free(args);	/* the strings belong to the caller; apply() copied them */
	if (ret < 0)
		return api_fail(ret);
	api_end();
	return ret;
}

/* Functions with kernel objects of their own create them (before the engine
 * loads the code that names them). */
static void fns_disconnect(struct flow *f, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (f->fns[i]->desc->disconnect)
			f->fns[i]->desc->disconnect(f->fns[i]);
}

static int fns_connect(struct flow *f)
{
	int i, ret = 0;

	if (f->trace)
		return 0;	/* in the process: nothing in the kernel */
	for (i = 0; i < f->nfns && !ret; i++)
		if (f->fns[i]->desc->connect)
			ret = f->fns[i]->desc->connect(f->fns[i], f);
	if (ret)
		fns_disconnect(f, i);
	return ret;
}

MAPI_EXPORT int mapi_connect(int fd)
{
	struct flow *f = NULL;
	char name[16];
	int i, ret;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = must_be_new(f, "a flow connects once");
	if (ret)
		return api_fail(ret);
	if (f->trace) {
		ret = store_create_memory(&f->host, f->nslots);
		if (!ret)
			ret = trace_start(f->trace, f);
		if (ret) {
			store_destroy(&f->host);
			return api_fail(ret);
		}
		f->status = MAPI_FLOW_RUNNING;
		f->start_ns = now_ns();
		api_end();
		return 0;
	}
	if (if_nametoindex(f->dev) != (unsigned int)f->ifindex)
		return api_fail(err_set(-ENODEV, MAPI_NO_SUCH_DEVICE,
					"interface %s disappeared after the flow was created",
					f->dev));
	ret = caps_check(f->dev);
	if (ret)
		return api_fail(ret);
	/* libpcap ignores what a loopback interface sends (every packet is
	 * received too): a flow on it sees each packet once, as tcpdump does. */
	if (f->direction == MAPI_DIR_BOTH && is_loopback(f->dev))
		f->direction = MAPI_DIR_IN;
	snprintf(name, sizeof(name), "mapi_f%d", f->fd);
	/* a conversation flow counts in its interface's tables */
	ret = engine_hashable(f) ? 0 : store_create_host(&f->host, f->nslots, name);
	if (ret)
		return api_fail(ret);
	ret = fns_connect(f);
	if (!ret) {
		ret = engine_connect(f);
		if (ret)
			fns_disconnect(f, f->nfns);
	}
	if (ret) {
		store_destroy(&f->host);
		return api_fail(ret);
	}
	f->status = MAPI_FLOW_RUNNING;
	f->start_ns = now_ns();
	for (i = 0; i < f->nfns; i++)
		if (capture_is_file(f->fns[i]))
			nfiles++;
	if (nfiles && keeper_kick()) {
		log_warn("no housekeeping thread: TO_FILE files are written when their "
			 "flows close");
		err_begin();
	}
	api_end();
	return 0;
}

/* --- Results --------------------------------------------------------------*/

static void refresh_refs(void)
{
	int fd, i;

	for (fd = 1; fd < next_fd; fd++) {
		struct flow *f = flow_table[fd];
		uint64_t v;

		if (!f || f->status != MAPI_FLOW_RUNNING)
			continue;
		for (i = 0; i < f->nfns; i++) {
			struct fn_instance *fi = f->fns[i];

			if (fi->ref_on && !flow_read_slot(f, (uint32_t)fi->slot, &v))
				__atomic_store_n(&fi->ref, v, __ATOMIC_RELAXED);
		}
	}
	err_begin();
}

/* TO_FILE: the rings into their files.  A write error stays with the
 * file and is reported when its flow closes. */
static void drain_files(void)
{
	int fd, i;

	for (fd = 1; fd < next_fd; fd++) {
		struct flow *f = flow_table[fd];

		if (!f || f->status != MAPI_FLOW_RUNNING)
			continue;
		for (i = 0; i < f->nfns; i++)
			if (capture_is_file(f->fns[i]))
				capture_drain(f->fns[i]);
	}
	err_begin();
}

static void deadline_after(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static uint64_t monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void *keeper_main(void *arg)
{
	struct timespec t;

	(void)arg;
	pthread_mutex_lock(&api_lock);
	while (!keeper_stop && (nrefs || nfiles || idle_due)) {
		long wait = MAPI_REF_REFRESH_MS;

		if (!nrefs && !nfiles)
			wait = (long)(idle_due - monotonic_ms());
		deadline_after(&t, wait > 0 ? wait : 0);
		pthread_cond_timedwait(&keeper_wake, &api_lock, &t);
		if (keeper_stop)
			break;
		if (nrefs)
			refresh_refs();
		if (nfiles)
			drain_files();
		if (idle_due && idle_due <= monotonic_ms())
			idle_due = engine_housekeep(0);
	}
	keeper_done = 1;
	pthread_mutex_unlock(&api_lock);
	return NULL;
}

/* Makes sure the keeper runs; called with the API lock held. */
static int keeper_kick(void)
{
	pthread_condattr_t ca;
	int ret;

	if (keeper_on && !keeper_done) {
		pthread_cond_signal(&keeper_wake);
		return 0;
	}
	if (keeper_on)
		pthread_join(keeper, NULL);	/* it has ended: reap it */
	keeper_on = keeper_done = keeper_stop = 0;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&keeper_wake);
	pthread_cond_init(&keeper_wake, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&keeper, NULL, keeper_main, NULL);
	if (ret)
		return err_set(-ret, MAPI_ERR_NOMEM,
			       "cannot start the library's housekeeping thread: %s", strerror(ret));
	keeper_on = 1;
	return 0;
}

/* At exit: the keeper stops, idle hooks go now. */
__attribute__((destructor)) static void keeper_shutdown(void)
{
	int join;

	pthread_mutex_lock(&api_lock);
	keeper_stop = 1;
	join = keeper_on;
	keeper_on = 0;
	pthread_cond_signal(&keeper_wake);
	engine_housekeep(1);
	idle_due = 0;
	pthread_mutex_unlock(&api_lock);
	if (join)
		pthread_join(keeper, NULL);
}

MAPI_EXPORT void *mapi_read_results(int fd, int fid, int type)
{
	struct fn_instance *fi = NULL;
	struct flow *f = NULL;
	uint64_t v;
	int ret;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = lookup_fn(f, fid, &fi);
	if (!ret && type != MAPI_COPY && type != MAPI_REF)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			      "result type %d: use MAPI_COPY or MAPI_REF", type);
	if (!ret && fi->desc->result != FN_RESULT_U64)
		ret = err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION,
			      "function %d of flow %d (%s) has no result to read%s",
			      fid, fd, fi->desc->name,
			      fi->desc->result == FN_RESULT_PACKETS ?
			      ": it keeps packets for mapi_get_next_pkt" : "");
	if (!ret)
		ret = must_be_running(f);
	if (!ret)
		ret = flow_read_slot(f, (uint32_t)fi->slot, &v);
	if (ret)
		return api_fail_ptr(ret);
	if (type == MAPI_COPY) {
		fi->copy = v;
		api_end();
		return &fi->copy;
	}
	__atomic_store_n(&fi->ref, v, __ATOMIC_RELAXED);
	if (!fi->ref_on) {
		ret = keeper_kick();
		if (ret)
			return api_fail_ptr(ret);
		fi->ref_on = 1;
		nrefs++;
	}
	api_end();
	return &fi->ref;
}

/* --- Packets ---------------------------------------------------------------*/

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

	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = lookup_fn(f, fid, &fi);
	if (!ret && !capture_is_buffer(fi))
		ret = err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION,
			      "function %d of flow %d is %s, not TO_BUFFER: it keeps no packets "
			      "for mapi_get_next_pkt", fid, fd, fi->desc->name);
	if (!ret)
		ret = must_be_running(f);
	if (!ret && fi->reading)
		ret = err_set(-EBUSY, MAPI_ERR_BUSY,
			      "another thread is already waiting for the packets of function %d "
			      "of flow %d", fid, fd);
	if (ret)
		return ret;
	ret = capture_next(fi, pkt);
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
	if (flow_table[fd] != f) {
		pthread_cond_broadcast(&reader_left);
		return err_set(-EBADF, MAPI_INVALID_FLOW,
			       "flow %d was closed while waiting for a packet", fd);
	}
	if (ret == -ETIMEDOUT)
		return err_set(ret, MAPI_ERR_TIMEOUT, "no packet within %d ms", timeout_ms);
	return trace_end_or(f, ret);
}

MAPI_EXPORT struct mapipkt *mapi_get_next_pkt_timeout(int fd, int fid, int timeout_ms)
{
	struct mapipkt *pkt = NULL;
	int ret;

	api_begin();
	ret = next_pkt(fd, fid, timeout_ms < 0 ? -1 : timeout_ms, &pkt);
	if (ret)
		return api_fail_ptr(ret);
	api_end();
	return pkt;
}

MAPI_EXPORT struct mapipkt *mapi_get_next_pkt(int fd, int fid)
{
	return mapi_get_next_pkt_timeout(fd, fid, -1);
}

MAPI_EXPORT int mapi_loop(int fd, int fid, int cnt, mapi_handler callback)
{
	struct mapipkt *pkt;
	int n = 0, ret = 0;

	api_begin();
	if (!callback)
		return api_fail(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 4,
					"mapi_loop: the callback is NULL"));
	while (cnt <= 0 || n < cnt) {
		ret = next_pkt(fd, fid, -1, &pkt);
		if (ret)
			break;
		api_end();
		callback(pkt);	/* without the lock: it may call the library */
		n++;
		api_begin();
	}
	/* without a count, the loop runs until the flow is closed or its
	 * trace ends */
	if (ret && !(cnt <= 0 && ((n > 0 && ret == -EBADF) || ret == -ENODATA)))
		return api_fail(ret);
	api_end();
	return n;
}

MAPI_EXPORT int mapi_close_flow(int fd)
{
	struct flow *f = NULL;
	int i, ret, file_err = 0;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (ret)
		return api_fail(ret);
	flow_table[fd] = NULL;
	/* threads waiting for its packets leave before it goes */
	if (f->readers) {
		for (i = 0; i < f->nfns; i++)
			if (capture_is_buffer(f->fns[i]))
				capture_interrupt(f->fns[i]);
		while (f->readers)
			pthread_cond_wait(&reader_left, &api_lock);
	}
	if (f->trace) {
		trace_close(f->trace);	/* stops and joins its reader */
	} else if (f->status == MAPI_FLOW_RUNNING) {
		engine_disconnect(f);
		idle_due = engine_housekeep(0);
	}
	for (i = 0; i < f->nfns; i++) {
		struct fn_instance *fi = f->fns[i];

		if (capture_is_file(fi)) {
			nfiles -= f->status == MAPI_FLOW_RUNNING;
			ret = capture_finish(fi);	/* the programs no longer run */
			if (ret && !file_err)
				file_err = ret;
		}
		nrefs -= fi->ref_on;
		fn_free(fi);
	}
	free(f->fns);
	store_destroy(&f->host);
	store_destroy(&f->nic);
	free(f);
	if (idle_due)
		keeper_kick();	/* if it cannot start, idle hooks go at exit */
	if (file_err)
		return api_fail(file_err);	/* closed all the same */
	err_begin();
	api_end();
	return 0;
}

/* --- Information and errors ----------------------------------------------*/

static int result_kind(const struct fn_desc *d)
{
	switch (d->result) {
	case FN_RESULT_U64: return MAPI_RES_ULL;
	case FN_RESULT_PACKETS: return MAPI_RES_PACKETS;
	case FN_RESULT_FILE: return MAPI_RES_FILE;
	default: return MAPI_RES_NONE;
	}
}

MAPI_EXPORT int mapi_get_flow_info(int fd, mapi_flow_info_t *info)
{
	struct flow *f = NULL;
	uint64_t seen = 0, dropped = 0;
	struct capture_stats cs;
	int i, ret;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (!ret && !info)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			      "mapi_get_flow_info: info is NULL");
	if (!ret && f->status == MAPI_FLOW_RUNNING)
		ret = flow_read_slot(f, FLOW_SLOT_SEEN, &seen);
	for (i = 0; !ret && f->status == MAPI_FLOW_RUNNING && i < f->nfns; i++) {
		if (!capture_is_buffer(f->fns[i]) && !capture_is_file(f->fns[i]))
			continue;
		ret = capture_stats(f, f->fns[i], &cs);
		dropped += cs.dropped;
	}
	if (ret)
		return api_fail(ret);
	memset(info, 0, sizeof(*info));
	info->fd = f->fd;
	info->status = f->status;
	memcpy(info->device, f->dev, sizeof(f->dev) < sizeof(info->device) ?
	       sizeof(f->dev) : sizeof(info->device));
	info->ifindex = f->ifindex;
	info->num_functions = f->nfns;
	info->direction = f->direction;
	info->mode_in = f->mode_in;
	info->mode_out = f->mode_out;
	info->packets_seen = seen;
	info->packets_dropped = dropped;
	info->start = f->start_ns;
	info->lookup = f->status == MAPI_FLOW_RUNNING && f->hashed;
	if (f->trace) {
		struct trace_info ti;

		trace_info(f->trace, &ti);
		info->trace_status = f->status == MAPI_FLOW_RUNNING ? ti.status : MAPI_TRACE_OPEN;
		info->trace_first = ti.first_ns;
		info->trace_last = ti.last_ns;
		snprintf(info->trace_error, sizeof(info->trace_error), "%s", ti.msg);
	}
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_get_function_info(int fd, int fid, mapi_function_info_t *info)
{
	struct fn_instance *fi = NULL;
	struct capture_stats cs = { 0 };
	struct flow *f = NULL;
	uint64_t v = 0;
	int ret;

	api_begin();
	ret = lookup_flow(fd, &f);
	if (!ret)
		ret = lookup_fn(f, fid, &fi);
	if (!ret && !info)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			      "mapi_get_function_info: info is NULL");
	if (!ret && f->status == MAPI_FLOW_RUNNING) {
		if (capture_is_buffer(fi) || capture_is_file(fi))
			ret = capture_stats(f, fi, &cs);
		else if (fi->desc->result == FN_RESULT_U64)
			ret = flow_read_slot(f, (uint32_t)fi->slot, &v);
	}
	if (ret)
		return api_fail(ret);
	memset(info, 0, sizeof(*info));
	info->fid = fi->fid;
	snprintf(info->name, sizeof(info->name), "%s", fi->desc->name);
	info->result = result_kind(fi->desc);
	info->value = v;
	info->pkts = cs.matched;
	info->delivered = cs.delivered;
	info->dropped = cs.dropped;
	info->queued = cs.queued;
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_get_libfunct_info(int n, mapi_libfunct_info_t *info)
{
	const struct fn_desc *const *all = fn_all();
	int i, ret = 0;

	api_begin();
	for (i = 0; i < n && all[i]; i++)
		;
	if (n < 0 || !all[i])
		ret = err_set(-ENOENT, MAPI_FUNCTION_NOT_FOUND,
			      "the library has no function number %d", n);
	else if (!info)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			      "mapi_get_libfunct_info: info is NULL");
	if (ret)
		return api_fail(ret);
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", all[i]->name);
	snprintf(info->args, sizeof(info->args), "%s", all[i]->arg_names);
	snprintf(info->argtypes, sizeof(info->argtypes), "%s", all[i]->args);
	snprintf(info->descr, sizeof(info->descr), "%s", all[i]->help);
	info->result = result_kind(all[i]);
	api_end();
	return 0;
}

MAPI_EXPORT char *mapi_dump_filter(const char *expr, int what)
{
	struct prog_target target = { .hook = what & MAPI_DUMP_TC ? XLATE_TC : XLATE_XDP };
	struct cbpf_prog prog = { 0 };
	char *classic = NULL, *ebpf = NULL, *out = NULL;
	size_t size = 0, ebpf_len = 0;
	struct codegen cg;
	FILE *f;
	int ret;

	api_begin();
	if (!expr)
		return api_fail_ptr(err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
					    "mapi_dump_filter: the expression is NULL"));
	ret = cbpf_compile(expr, LINKTYPE_ETHERNET, 0, &prog);
	if (!ret && (what & MAPI_DUMP_CLASSIC))
		ret = cbpf_dump(&prog, &classic);
	if (!ret && (what & MAPI_DUMP_EBPF)) {
		ret = codegen_filter(&cg, &target, &prog);
		if (!ret) {
			ret = ebpf_dump(cg.pb.insns, cg.pb.len, &ebpf);
			ebpf_len = cg.pb.len;
			pb_free(&cg.pb);
		}
	}
	if (!ret) {
		f = open_memstream(&out, &size);
		if (!f) {
			ret = -ENOMEM;
		} else {
			if (classic)
				fprintf(f, "classic BPF (libpcap), %zu instructions:\n%s", prog.len,
					classic);
			if (ebpf)
				fprintf(f, "%seBPF (%s), %zu instructions; it returns 1 when the "
					   "packet passes:\n%s", classic ? "\n" : "",
					what & MAPI_DUMP_TC ? "tc" : "native XDP", ebpf_len, ebpf);
			if (fclose(f))
				ret = -ENOMEM;
		}
	}
	free(classic);
	free(ebpf);
	cbpf_prog_free(&prog);
	if (ret) {
		free(out);
		return api_fail_ptr(ret);
	}
	api_end();
	return out;
}

MAPI_EXPORT const char *mapi_mode_name(int mode)
{
	switch (mode & ~MAPI_MODE_REQUIRE) {
	case MAPI_MODE_NONE: return "none";
	case MAPI_MODE_AUTO: return "auto";
	case MAPI_MODE_NATIVE: return "native";
	case MAPI_MODE_GENERIC: return "generic";
	case MAPI_MODE_OFFLOAD: return "offload";
	case MAPI_MODE_TCX: return "tcx";
	default: return "unknown";
	}
}

MAPI_EXPORT int mapi_read_error(int *err_no, char *errstr)
{
	if (!err_no && !errstr)
		return -1;
	return err_last(err_no, errstr, MAPI_ERRORSTR_LENGTH);
}
