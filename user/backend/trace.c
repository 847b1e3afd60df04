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

struct trace {
	char path[4096];
	int fd;			/* the file; reads wait on it and on stop_fd */
	int stop_fd;		/* an eventfd: the flow closes */
	FILE *file;		/* fd, read through read_cookie() */
	pcap_t *pcap;
	struct flow *flow;
	pthread_t thread;
	int started;
	struct trace_info info;	/* status and packets: atomic; the rest once */
};

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
	if (format == MFF_RAW || format == MFF_DAG_ERF || format == MFF_NAPATECH)
		return err_set(-EOPNOTSUPP, MAPI_INVALID_ARGUMENT + 2,
			       "trace format %s: mapi-bpf reads pcap and pcapng files (MFF_PCAP, "
			       "MFF_PCAPNG); convert others first (editcap, for one)",
			       format == MFF_RAW ? "MFF_RAW" : format == MFF_DAG_ERF ?
			       "MFF_DAG_ERF" : "MFF_NAPATECH");
	if (format != MFF_PCAP && format != MFF_PCAPNG)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			       "trace format %d: use MFF_PCAP or MFF_PCAPNG", format);
	if (strlen(path) >= sizeof(t->path))
		return bad_trace("(path)", "the path is too long");
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->stop_fd = -1;
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
	t->info.status = MAPI_TRACE_READING;
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

/* The reader: every packet through the flow's functions, in order. */
static void *trace_main(void *arg)
{
	struct trace *t = arg;
	struct flow *f = t->flow;
	struct pcap_pkthdr *h;
	const unsigned char *data;
	int r, i, status;

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
		store_add(&f->host, FLOW_SLOT_SEEN, 1);
		for (i = 0; i < f->nfns; i++)
			if (!f->fns[i]->desc->run(f->fns[i], f, &p))
				break;
		__atomic_store_n(&t->info.packets, t->info.packets + 1, __ATOMIC_RELEASE);
	}
	status = MAPI_TRACE_DONE;
	if (r == PCAP_ERROR) {
		status = MAPI_TRACE_FAILED;
		t->info.code = MAPI_ERR_TRACE;
		snprintf(t->info.msg, sizeof(t->info.msg), "trace %.60s: %.120s (after %llu packets)",
			 trace_name(t), pcap_geterr(t->pcap), (unsigned long long)t->info.packets);
	}
	/* the status first: a reader told of the end finds the trace ended */
	__atomic_store_n(&t->info.status, status, __ATOMIC_RELEASE);
	for (i = 0; i < f->nfns; i++)
		if (capture_is_buffer(f->fns[i]))
			capture_trace_end(f->fns[i]);
	return NULL;
}

static int trace_start(struct trace *t, struct flow *f)
{
	int ret;

	t->flow = f;
	ret = thread_start(&t->thread, trace_main, t);
	if (ret)
		return err_set(-ret, MAPI_ERR_NOMEM, "cannot start the trace's reader: %s",
			       strerror(ret));
	t->started = 1;
	return 0;
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

static void trace_close(struct trace *t)
{
	uint64_t one = 1;
	int i;

	if (t->started) {
		/* unblock the reader: its file, and a full TO_BUFFER queue */
		if (write(t->stop_fd, &one, sizeof(one)) < 0) {
			/* already written: it is awake */
		}
		for (i = 0; i < t->flow->nfns; i++)
			if (capture_is_buffer(t->flow->fns[i]))
				capture_interrupt(t->flow->fns[i]);
		pthread_join(t->thread, NULL);
	}
	trace_free(t);
}

/* --- The trace backend ---------------------------------------------------- */

static int trace_backend_open(struct backend *b, struct flow *f, const char *path, int format)
{
	struct trace *t = NULL;
	int ret;

	(void)b;
	ret = trace_open(&t, path, format);
	if (ret)
		return ret;
	f->trace = t;
	/* the file's name, cut to what flow information holds */
	snprintf(f->dev, sizeof(f->dev), "%.*s", (int)sizeof(f->dev) - 1, trace_name(t));
	return 0;
}

static int trace_backend_connect(struct backend *b, struct flow *f)
{
	int ret;

	(void)b;
	ret = store_create_memory(&f->host, f->nslots);
	if (!ret)
		ret = trace_start(f->trace, f);
	if (ret)
		store_destroy(&f->host);
	return ret;
}

/* Stops and joins the reader, which may be running. */
static void trace_backend_close(struct backend *b, struct flow *f)
{
	(void)b;
	trace_close(f->trace);
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
