/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target over trace files: any bytes, offered as a pcap or
 * pcapng file to a flow with every function, must either be refused with
 * an error or read to an end (done, or failed with a reason), with the
 * flow's results consistent: no crash, no hang, no sanitizer report.
 * The bytes come as a regular file, or as a stream the reader cannot seek
 * (a pipe, a FIFO, standard input), written by a thread as the library
 * reads: the input's last byte chooses which.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding: say which check, with the library's last error. */
#define FINDING() finding(__LINE__)
static void finding(int line)
{
	char msg[MAPI_ERRORSTR_LENGTH] = "";
	int code = 0;

	mapi_read_error(&code, msg);
	fprintf(stderr, "fuzz_trace: check at line %d failed (last error %d: %s)\n", line, code,
		msg);
	abort();
}

static void drop(const struct mapipkt *p)
{
	(void)p;
}

enum way { WAY_FILE, WAY_PIPE, WAY_FIFO, WAY_STDIN, WAYS };

/* The writing end of a stream: the input, then the end of the stream. */
struct writer {
	pthread_t thread;
	const uint8_t *data;
	size_t size;
	int fd;			/* a pipe's writing end, or -1 */
	const char *fifo;	/* else a FIFO to open */
	int stop;		/* atomic: the reader is done, give up */
};

static void *write_stream(void *arg)
{
	struct writer *w = arg;
	size_t off = 0;
	int fd = w->fd;

	/* a FIFO opens once its reader has: wait for it, unless it is done */
	while (fd < 0 && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		fd = open(w->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno != ENXIO)
			abort();
		if (fd < 0)
			nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	}
	if (fd >= 0)
		fcntl(fd, F_SETFL, 0);
	/* a reader that stopped early makes the write fail (EPIPE) */
	while (fd >= 0 && off < w->size) {
		ssize_t n = write(fd, w->data + off, w->size - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The input as way says, named in path: the descriptor to close after
 * (the memfd, the reading end), or -1. */
static int offer(enum way way, const uint8_t *data, size_t size, struct writer *w, char *path,
		 size_t len, const char *fifo)
{
	int p[2], rfd = -1;

	memset(w, 0, sizeof(*w));
	w->data = data;
	w->size = size;
	w->fd = -1;
	if (way == WAY_FILE) {
		rfd = memfd_create("trace", MFD_CLOEXEC);
		if (rfd < 0 || write(rfd, data, size) != (ssize_t)size)
			abort();
		snprintf(path, len, "/proc/self/fd/%d", rfd);
		return rfd;
	}
	if (way == WAY_FIFO) {
		w->fifo = fifo;
		snprintf(path, len, "%s", fifo);
	} else {
		if (pipe2(p, O_CLOEXEC))
			abort();
		w->fd = p[1];
		rfd = p[0];
		if (way == WAY_STDIN) {
			if (dup2(p[0], STDIN_FILENO) < 0)
				abort();
			close(p[0]);
			rfd = -1;
			snprintf(path, len, "-");
		} else {
			snprintf(path, len, "/proc/self/fd/%d", p[0]);
		}
	}
	if (pthread_create(&w->thread, NULL, write_stream, w))
		abort();
	return rfd;
}

static void offered(enum way way, struct writer *w, int rfd)
{
	if (rfd >= 0)
		close(rfd);
	if (way == WAY_STDIN) {
		/* standard input back to nothing, so the writer's write fails */
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0)
			abort();
		close(null);
	}
	if (way != WAY_FILE) {
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
		pthread_join(w->thread, NULL);
	}
}

static char fifo_path[64];

static void remove_fifo(void)
{
	unlink(fifo_path);
}

static const char *the_fifo(void)
{
	if (!*fifo_path) {
		snprintf(fifo_path, sizeof(fifo_path), "/tmp/mapi-fuzz-trace.%d", (int)getpid());
		unlink(fifo_path);
		if (mkfifo(fifo_path, 0600))
			abort();
		atexit(remove_fifo);
		signal(SIGPIPE, SIG_IGN);	/* a writer whose reader stopped */
	}
	return fifo_path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ng_magic[4] = { 0x0a, 0x0d, 0x0d, 0x0a };
	enum way way = size ? (enum way)(data[size - 1] % WAYS) : WAY_FILE;
	unsigned long long *pkts, *seen;
	mapi_flow_info_t info;
	struct writer w;
	char path[64];
	int rfd, fd, pf = 0, tb = 0, n;

	rfd = offer(way, data, size, &w, path, sizeof(path), the_fifo());
	/* a stream is told by its first bytes, whatever the format said */
	fd = mapi_create_offline_flow(path, way == WAY_FILE && size >= 4 &&
						    !memcmp(data, ng_magic, 4) ? MFF_PCAPNG : MFF_PCAP);
	if (fd < 0) {
		int code;

		mapi_read_error(&code, NULL);
		if (code != MAPI_ERR_TRACE)
			FINDING();	/* a bad file must say so */
		offered(way, &w, rfd);
		return 0;
	}
	if (mapi_apply_function(fd, "BPF_FILTER", "ip or ip6 or vlan") < 0 ||
	    (pf = mapi_apply_function(fd, "PKT_COUNTER")) < 0 ||
	    mapi_apply_function(fd, "BYTE_COUNTER") < 0 ||
	    mapi_apply_function(fd, "STR_SEARCH", "|00|", 14, 0) < 0 ||
	    (tb = mapi_apply_function(fd, "TO_BUFFER", 128, 8192)) < 0 ||
	    mapi_connect(fd) < 0)
		FINDING();
	/* reading the packets to the end also waits for the trace's end */
	n = mapi_loop(fd, tb, 0, drop);
	if (n < 0 || mapi_get_flow_info(fd, &info) < 0)
		FINDING();
	if (info.trace_status != MAPI_TRACE_DONE && info.trace_status != MAPI_TRACE_FAILED)
		FINDING();
	if (info.trace_status == MAPI_TRACE_FAILED && !info.trace_error[0])
		FINDING();	/* a failure says why */
	pkts = mapi_read_results(fd, pf, MAPI_COPY);
	if (!pkts)
		FINDING();
	seen = malloc(sizeof(*seen));
	*seen = info.packets_seen;
	/* the chain narrows: seen >= filtered >= kept */
	if (*pkts > *seen || (unsigned long long)n > *pkts)
		FINDING();
	free(seen);
	if (mapi_close_flow(fd) < 0)
		FINDING();
	offered(way, &w, rfd);
	return 0;
}
