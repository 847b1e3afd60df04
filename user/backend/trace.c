/* SPDX-License-Identifier: BSD-2-Clause */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "capture.h"
#include "error.h"
#include "functions.h"
#include "mapi.h"
#include "threads.h"

#define PCAPNG_MAGIC 0x0a0d0d0au
#define READ_BUFFER (256 * 1024)

/*
 * A trace being read, for one flow (mapi_create_offline_flow) or for the
 * flows of an offline device (mapi_create_offline_device), each packet
 * once through every connected flow.
 */
struct trace {
	char path[4096];
	int fd;			/* the file; reads wait on it and on stop_fd */
	int stop_fd;		/* an eventfd: the reading ends */
	FILE *file;		/* fd, read through read_cookie() */
	pcap_t *pcap;
	pthread_t thread;
	int started;
	struct trace_info info;	/* status and packets: atomic; the rest once */
	/* the flows it feeds: connected ones in flows[] (a closed one's
	 * entry set to NULL, never moved, so the reader misses none) */
	pthread_mutex_t lock;
	pthread_cond_t left;	/* the reader left the flow it ran */
	int leaving;		/* closing flows waiting on left */
	struct flow **flows;
	int nflows, room;
	const struct flow *running;	/* the flow whose functions run now */
	int refs;		/* flows opened on it, and a device's name */
	/* an offline device: its name, and the next in the list */
	char device[MAPI_DEVNAME_LENGTH];
	int shared;		/* an offline device's, started by its own call */
	struct trace *next;
};

/* The offline devices, by name (under the API lock); a child of fork()
 * keeps its parent's as they are, never used. */
static struct trace *devices, *parents_devices;
static unsigned int device_serial;

/*
 * libpcap reads the trace through this: a read that also returns (as the
 * end of the file) when the flow closes, so that a reader stuck on a pipe
 * nobody writes to can be stopped.
 */
static ssize_t read_cookie(void *cookie, char *buf, size_t size)
{
	struct trace *t = cookie;
	struct pollfd p[2] = {
		{ .fd = t->fd, .events = POLLIN },
		{ .fd = t->stop_fd, .events = POLLIN },
	};

	for (;;) {
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			return 0;
		n = read(t->fd, buf, size);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

static int close_cookie(void *cookie)
{
	(void)cookie;
	return 0;	/* the fds are the trace's */
}

static int bad_trace(const char *path, const char *why)
{
	return err_set(-EINVAL, MAPI_ERR_TRACE, "trace %s: %s", path, why);
}

/* The file's first four bytes, for a regular file; 0 if it cannot tell. */
static uint32_t magic_of(int fd)
{
	uint32_t m = 0;

	if (pread(fd, &m, sizeof(m), 0) != (ssize_t)sizeof(m))
		return 0;
	return m;
}

static void trace_free(struct trace *t)
{
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->left);
	free(t->flows);
	if (t->pcap)
		pcap_close(t->pcap);	/* closes t->file */
	else if (t->file)
		fclose(t->file);
	if (t->fd > 2)
		close(t->fd);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	free(t);
}

int trace_check_format(int format)
{
	if (format >= MFF_RAW && format <= MFF_NAPATECH)
		return err_set(-EOPNOTSUPP, MAPI_INVALID_ARGUMENT + 2,
			       "trace format %s: mapi-bpf reads pcap and pcapng files (MFF_PCAP, "
			       "MFF_PCAPNG); convert others first (editcap, for one)",
			       (const char *const[]){ "MFF_RAW", "MFF_DAG_ERF", "MFF_COMBO6",
						      "MFF_NAPATECH" }[format - MFF_RAW]);
	if (format != MFF_PCAP && format != MFF_PCAPNG)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			       "trace format %d: use MFF_PCAP or MFF_PCAPNG", format);
	return 0;
}

static int trace_open(struct trace **out, const char *path, int format)
{
	static const cookie_io_functions_t io = { .read = read_cookie, .close = close_cookie };
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct trace *t;
	struct stat st;
	int ret = 0;

	*out = NULL;
	if (!path)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1, "the trace's path is NULL");
	ret = trace_check_format(format);
	if (ret)
		return ret;
	if (strlen(path) >= sizeof(t->path))
		return bad_trace("(path)", "the path is too long");
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->stop_fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->left, NULL);
	snprintf(t->path, sizeof(t->path), "%s", path);
	if (!strcmp(path, "-")) {
		t->fd = STDIN_FILENO;
	} else {
		t->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (t->fd < 0) {
			ret = bad_trace(path, strerror(errno));
			goto fail;
		}
	}
	if (fstat(t->fd, &st)) {
		ret = bad_trace(path, strerror(errno));	/* standard input closed, say */
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = bad_trace(path, "is a directory");
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		uint32_t m = magic_of(t->fd);

		/* (a file of /proc says it has 0 bytes, and has some) */
		if (st.st_size == 0 && !m) {
			ret = bad_trace(path, "the file is empty");
			goto fail;
		}
		if (m && (m == PCAPNG_MAGIC) != (format == MFF_PCAPNG)) {
			ret = bad_trace(path, m == PCAPNG_MAGIC ?
					"is a pcapng file: open it with MFF_PCAPNG" :
					"is not a pcapng file: open it with MFF_PCAP");
			goto fail;
		}
	}
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->file = t->stop_fd >= 0 ? fopencookie(t, "r", io) : NULL;
	if (!t->file) {
		ret = -ENOMEM;
		goto fail;
	}
	setvbuf(t->file, NULL, _IOFBF, READ_BUFFER);
	t->pcap = pcap_fopen_offline_with_tstamp_precision(t->file, PCAP_TSTAMP_PRECISION_NANO,
							   errbuf);
	if (!t->pcap) {
		ret = bad_trace(path, *errbuf ? errbuf : "not a pcap or pcapng file");
		goto fail;
	}
	if (pcap_datalink(t->pcap) != DLT_EN10MB) {
		char why[160];

		snprintf(why, sizeof(why), "link type %s (%d) is not supported: mapi-bpf reads "
			 "Ethernet traces", pcap_datalink_val_to_name(pcap_datalink(t->pcap)) ?: "?",
			 pcap_datalink(t->pcap));
		ret = bad_trace(path, why);
		goto fail;
	}
	t->info.status = MAPI_TRACE_OPEN;
	*out = t;
	return 0;
fail:
	trace_free(t);
	return ret;
}

static const char *trace_name(const struct trace *t)
{
	const char *slash = strrchr(t->path, '/');

	return slash ? slash + 1 : t->path;
}

/* f's ticked functions at time now, before the packet of that time: those
 * of another function's number (BUCKET, THRESHOLD, ...) with the number
 * they watch (of f's own functions, the API checked), those with a clock
 * of their own (TOP per interval) with 0; the flow's clock starts at the
 * trace's first packet, start. */
static void tick_watchers(struct flow *f, uint64_t start, uint64_t now, int final)
{
	int i;

	for (i = 0; i < f->nfns; i++) {
		struct fn_instance *fi = f->fns[i], *wfi;
		uint64_t v;

		if (!flow_ticks(fi))
			continue;
		if (!flow_watches(fi))
			fi->desc->tick(fi, f, start, now, 0, final);
		else if ((wfi = flow_fn(f, flow_watch_fid(fi))) && !flow_read_number(f, wfi, &v))
			fi->desc->tick(fi, f, start, now, v, final);
	}
}

/* Packet p through flow f's functions, in order; the trace began at
 * start. */
static void run_flow(struct flow *f, const struct trace_pkt *p, uint64_t start)
{
	int i;

	tick_watchers(f, start, p->ts_ns, 0);
	store_add(&f->host, FLOW_SLOT_SEEN, 1);
	for (i = 0; i < f->nfns; i++)
		if (!f->fns[i]->desc->run(f->fns[i], f, p))
			break;
}

/* The trace (from first_ns) has no more packets for f's TO_BUFFERs, and
 * its last, at time last_ns, was the last its BUCKETs and THRESHOLDs see. */
static void flow_trace_end(struct flow *f, uint64_t first_ns, uint64_t last_ns)
{
	int i;

	tick_watchers(f, first_ns, last_ns, 1);
	for (i = 0; i < f->nfns; i++)
		if (capture_is_buffer(f->fns[i]))
			capture_trace_end(f->fns[i]);
}

/* No more packets, for every flow: status (MAPI_TRACE_DONE or _FAILED,
 * whose message is written before) first, so that a reader told of the
 * end finds the trace ended. */
static void trace_end(struct trace *t, int status)
{
	int k;

	__atomic_store_n(&t->info.status, status, __ATOMIC_RELEASE);
	pthread_mutex_lock(&t->lock);
	for (k = 0; k < t->nflows; k++)
		if (t->flows[k])
			flow_trace_end(t->flows[k], t->info.first_ns, t->info.last_ns);
	pthread_mutex_unlock(&t->lock);
}

/*
 * The reader: every packet through every connected flow.  The lock is not
 * held while a flow's functions run, which may wait for room in its
 * TO_BUFFER: a flow closing meanwhile waits only for the reader to leave
 * it (trace_leave), not for another flow's application to read.
 */
static void *trace_main(void *arg)
{
	struct trace *t = arg;
	struct pcap_pkthdr *h;
	const unsigned char *data;
	int r, k, status;

	while ((r = pcap_next_ex(t->pcap, &h, &data)) == 1) {
		struct trace_pkt p = {
			.data = data,
			.caplen = h->caplen,
			.wlen = h->len,
			/* a trace opened for nanoseconds has them in tv_usec */
			.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec,
		};

		if (!t->info.packets)
			t->info.first_ns = p.ts_ns;
		__atomic_store_n(&t->info.last_ns, p.ts_ns, __ATOMIC_RELAXED);
		pthread_mutex_lock(&t->lock);
		for (k = 0; k < t->nflows; k++) {
			struct flow *f = t->flows[k];

			if (!f)
				continue;
			t->running = f;
			pthread_mutex_unlock(&t->lock);
			run_flow(f, &p, t->info.first_ns);
			pthread_mutex_lock(&t->lock);
			t->running = NULL;
			if (t->leaving)
				pthread_cond_broadcast(&t->left);
		}
		pthread_mutex_unlock(&t->lock);
		__atomic_store_n(&t->info.packets, t->info.packets + 1, __ATOMIC_RELEASE);
	}
	status = MAPI_TRACE_DONE;
	if (r == PCAP_ERROR) {
		status = MAPI_TRACE_FAILED;
		t->info.code = MAPI_ERR_TRACE;
		snprintf(t->info.msg, sizeof(t->info.msg), "trace %.60s: %.120s (after %llu packets)",
			 trace_name(t), pcap_geterr(t->pcap), (unsigned long long)t->info.packets);
	}
	trace_end(t, status);
	return NULL;
}

static int trace_start(struct trace *t)
{
	int ret;

	__atomic_store_n(&t->info.status, MAPI_TRACE_READING, __ATOMIC_RELEASE);
	ret = thread_start(&t->thread, trace_main, t);
	if (ret) {
		__atomic_store_n(&t->info.status, MAPI_TRACE_OPEN, __ATOMIC_RELEASE);
		return err_set(-ret, MAPI_ERR_NOMEM, "cannot start the trace's reader: %s",
			       strerror(ret));
	}
	t->started = 1;
	return 0;
}

/* Flow f is fed from now on (it is connected). */
static int trace_join(struct trace *t, struct flow *f)
{
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	if (t->nflows == t->room) {
		int room = t->room ? 2 * t->room : 4;
		struct flow **more = realloc(t->flows, (size_t)room * sizeof(*more));

		if (more) {
			t->flows = more;
			t->room = room;
		} else {
			ret = -ENOMEM;
		}
	}
	if (!ret)
		t->flows[t->nflows++] = f;
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* Flow f is no longer fed: once this returns, the reader does not touch
 * it.  Its TO_BUFFERs stop waiting for room first (for good: it closes). */
static void trace_leave(struct trace *t, struct flow *f)
{
	int i;

	for (i = 0; i < f->nfns; i++)
		if (capture_is_buffer(f->fns[i]))
			capture_interrupt(f->fns[i]);
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nflows; i++)
		if (t->flows[i] == f)
			t->flows[i] = NULL;
	t->leaving++;
	while (t->running == f)
		pthread_cond_wait(&t->left, &t->lock);
	t->leaving--;
	pthread_mutex_unlock(&t->lock);
}

/* A connect that failed after trace_join, before any reader ran: f may
 * connect again, its TO_BUFFERs as they were. */
static void trace_unjoin(struct trace *t, struct flow *f)
{
	pthread_mutex_lock(&t->lock);
	if (t->nflows && t->flows[t->nflows - 1] == f)
		t->nflows--;
	pthread_mutex_unlock(&t->lock);
}

void trace_info(struct trace *t, struct trace_info *info)
{
	memset(info, 0, sizeof(*info));
	info->status = __atomic_load_n(&t->info.status, __ATOMIC_ACQUIRE);
	if (info->status == MAPI_TRACE_FAILED) {	/* written before the status */
		info->code = t->info.code;
		memcpy(info->msg, t->info.msg, sizeof(info->msg));
	}
	info->packets = __atomic_load_n(&t->info.packets, __ATOMIC_ACQUIRE);
	if (info->packets) {	/* the first is written before the count */
		info->first_ns = t->info.first_ns;
		info->last_ns = __atomic_load_n(&t->info.last_ns, __ATOMIC_RELAXED);
	}
}

/* One reference fewer; the last stops the reader and frees the trace. */
static void trace_put(struct trace *t)
{
	uint64_t one = 1;

	if (--t->refs > 0)
		return;
	if (t->started) {
		/* unblock the reader: its file (no flow is left to wait on) */
		if (write(t->stop_fd, &one, sizeof(one)) < 0) {
			/* already written: it is awake */
		}
		pthread_join(t->thread, NULL);
	}
	trace_free(t);
}

/* --- Offline devices ------------------------------------------------------- */

static struct trace *device_find(const char *name)
{
	struct trace *t;

	for (t = devices; t; t = t->next)
		if (!strcmp(t->device, name))
			return t;
	return NULL;
}

int trace_is_device(const char *name)
{
	return name && device_find(name) != NULL;
}

static int no_device(const char *name)
{
	return err_set(-ENODEV, MAPI_NO_SUCH_DEVICE, "no offline device named \"%s\" "
		       "(mapi_create_offline_device makes one)", name ? name : "(NULL)");
}

int trace_device_create(const char *path, int format, const char **name)
{
	struct trace *t = NULL;
	int ret = trace_open(&t, path, format);

	if (ret)
		return ret;
	snprintf(t->device, sizeof(t->device), "trace:%u", ++device_serial);
	t->shared = 1;
	t->refs = 1;	/* the name's */
	t->next = devices;
	devices = t;
	*name = t->device;
	return 0;
}

int trace_device_start(const char *name)
{
	struct trace *t = name ? device_find(name) : NULL;

	if (!t)
		return no_device(name);
	if (t->started)
		return err_set(-EALREADY, MAPI_ERR_DEVICE_STARTED,
			       "offline device %s is already reading its trace", name);
	return trace_start(t);
}

/* A device deleted before it started: its flows' trace ends unread, so
 * that nothing waits for packets that will not come. */
static void trace_unread(struct trace *t)
{
	snprintf(t->info.msg, sizeof(t->info.msg), "offline device %s was deleted before "
		 "mapi_start_offline_device: its trace was not read", t->device);
	t->info.code = MAPI_ERR_TRACE;
	trace_end(t, MAPI_TRACE_FAILED);
}

int trace_device_packets(const char *name, uint64_t *packets)
{
	struct trace *t = name ? device_find(name) : NULL;

	if (!t)
		return no_device(name);
	*packets = __atomic_load_n(&t->info.packets, __ATOMIC_ACQUIRE);
	return 0;
}

int trace_device_delete(const char *name)
{
	struct trace **p;

	for (p = &devices; *p; p = &(*p)->next) {
		if (name && !strcmp((*p)->device, name)) {
			struct trace *t = *p;

			*p = t->next;
			if (!t->started)
				trace_unread(t);
			trace_put(t);	/* a started one's flows read on, to the end */
			return 0;
		}
	}
	return no_device(name);
}

void trace_forked(void)
{
	struct trace **end = &parents_devices;

	while (*end)
		end = &(*end)->next;
	*end = devices;
	devices = NULL;
}

/* --- The trace backend ---------------------------------------------------- */

/* source: a trace file in format, or an offline device (TRACE_DEVICE). */
static int trace_backend_open(struct backend *b, struct flow *f, const char *source,
			      int format)
{
	struct trace *t = NULL;
	int ret;

	(void)b;
	if (format == TRACE_DEVICE) {
		t = device_find(source);
		if (!t)
			return no_device(source);
		t->refs++;
		f->trace = t;
		snprintf(f->dev, sizeof(f->dev), "%s", t->device);
		return 0;
	}
	ret = trace_open(&t, source, format);
	if (ret)
		return ret;
	t->refs = 1;
	f->trace = t;
	/* the file's name, cut to what flow information holds */
	snprintf(f->dev, sizeof(f->dev), "%.*s", (int)sizeof(f->dev) - 1, trace_name(t));
	return 0;
}

/* A flow's own trace starts with it; an offline device's flows join it
 * before it starts, so that each sees every packet. */
static int trace_backend_connect(struct backend *b, struct flow *f)
{
	struct trace *t = f->trace;
	int ret = 0;

	(void)b;
	if (t->shared && t->started)
		return err_set(-EALREADY, MAPI_ERR_DEVICE_STARTED,
			       "offline device %s is already reading its trace: connect its flows "
			       "before mapi_start_offline_device", f->dev);
	if (t->shared && __atomic_load_n(&t->info.status, __ATOMIC_ACQUIRE) == MAPI_TRACE_FAILED)
		return err_set(-ENODEV, MAPI_NO_SUCH_DEVICE, "%s", t->info.msg);
	ret = store_create_memory(&f->host, f->nslots);
	if (!ret)
		ret = trace_join(t, f);
	if (!ret && !t->shared) {
		ret = trace_start(t);
		if (ret)
			trace_unjoin(t, f);
	}
	if (ret)
		store_destroy(&f->host);
	return ret;
}

/* The reader leaves f (and stops, with the last flow of its trace). */
static void trace_backend_close(struct backend *b, struct flow *f)
{
	(void)b;
	trace_leave(f->trace, f);
	trace_put(f->trace);
	f->trace = NULL;
}

static int trace_backend_read_slot(const struct flow *f, uint32_t slot, uint64_t *val)
{
	return store_read(&f->host, slot, val);
}

static const struct backend_ops trace_ops = {
	.name = "trace",
	.open = trace_backend_open,
	.connect = trace_backend_connect,
	.close = trace_backend_close,
	.read_slot = trace_backend_read_slot,
};

static struct backend trace_backend = { .ops = &trace_ops };

struct backend *backend_trace(void)
{
	return &trace_backend;
}
