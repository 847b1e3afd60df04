/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapi count: packets and bytes that match a filter, per interval.  The
 * counting happens in the kernel (BPF_FILTER + PKT_COUNTER + BYTE_COUNTER);
 * the tool only reads two counters per interval.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mapi.h"

static const char count_usage[] =
	"usage: mapi count [-i IFACE | -r FILE] [-I SECONDS] [-c COUNT] [-Q in|out|inout]\n"
	"                  [--mode auto|native|generic|offload] [--json] [-v] [FILTER...]\n"
	"\n"
	"Counts the packets and bytes that match FILTER (tcpdump's language; all\n"
	"packets when none is given) on IFACE, and prints them every interval; or\n"
	"in the trace FILE, and prints one line for the whole trace.\n"
	"\n"
	"  -i IFACE     interface (default: the first one that is up, as tcpdump)\n"
	"  -r FILE      a pcap or pcapng trace instead (- for standard input); the\n"
	"               rates are over the time between its first and last packet\n"
	"  -I SECONDS   interval between lines (default 1; fractions allowed)\n"
	"  -c COUNT     stop once COUNT packets have matched\n"
	"  -Q DIR       in, out or inout (default inout: both, as tcpdump)\n"
	"  --mode MODE  where received packets are counted: auto (native XDP, else\n"
	"               generic), or native, generic or offload, demanded\n"
	"  --json       one JSON object a line\n"
	"  -v           say where the flow runs\n"
	"\n"
	"Each line: the time, packets and bytes in the interval, packets/s and\n"
	"Mbit/s; on a terminal, one line rewritten each interval.  Ctrl-C or\n"
	"SIGTERM stops it; the totals then go to stderr.\n"
	"Bytes are frame lengths as tcpdump reports them, Ethernet header included.\n";

struct reading {
	double t;
	unsigned long long pkts, bytes;
};

static unsigned long long read_counter(int fd, int fid, int *gone)
{
	unsigned long long *v = *gone ? NULL : mapi_read_results(fd, fid, MAPI_COPY);
	mapi_function_info_t fi;
	int code;

	if (v)
		return *v;
	mapi_read_error(&code, NULL);
	if (!*gone && code != MAPI_ERR_DEVICE_GONE)
		die_mapi("reading the counters");
	/* the interface went: the count is final, and information still says it */
	*gone = 1;
	if (mapi_get_function_info(fd, fid, &fi) < 0)
		die_mapi("reading the counters");
	return fi.value;
}

/* The counters now; 1 if the interface went (the counts are final). */
static int read_counters(int fd, int pkt_fid, int byte_fid, struct reading *r)
{
	int gone = 0;

	r->t = now_seconds();
	r->pkts = read_counter(fd, pkt_fid, &gone);
	r->bytes = read_counter(fd, byte_fid, &gone);
	if (gone)	/* both final: what the first read said stands */
		r->pkts = read_counter(fd, pkt_fid, &gone);
	return gone;
}

/* On a terminal one line is rewritten in place each interval. */
static int live_line;

static void print_interval(const struct reading *a, const struct reading *b, int json)
{
	unsigned long long p = b->pkts - a->pkts, by = b->bytes - a->bytes;
	double dt = b->t - a->t, pps = dt > 0 ? (double)p / dt : 0;
	double mbps = dt > 0 ? (double)by * 8 / dt / 1e6 : 0;

	if (json) {
		printf("{\"time\":%.6f,\"interval\":%.6f,\"packets\":%llu,\"bytes\":%llu,"
		       "\"pps\":%.3f,\"mbps\":%.6f,\"total_packets\":%llu,\"total_bytes\":%llu}\n",
		       b->t, dt, p, by, pps, mbps, b->pkts, b->bytes);
	} else {
		time_t sec = (time_t)b->t;
		struct tm tm;
		char ts[16];

		localtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		printf("%s%s.%03d  %10llu pkts  %12llu bytes  %12.1f pkt/s  %10.3f Mbit/s%s",
		       live_line ? "\r\033[K" : "", ts, (int)(fmod(b->t, 1.0) * 1000), p, by, pps,
		       mbps, live_line ? "" : "\n");
	}
	cli_check_stdout(1);
}

/* The whole trace in one line; 1 if it was damaged (what was read is shown). */
static int count_trace(const char *path, const char *filter, int json, const sigset_t *stop)
{
	struct reading first = { 0 }, cur;
	int fd = cli_trace_flow(path, filter), pkt_fid, byte_fid;
	mapi_flow_info_t info;

	if ((pkt_fid = mapi_apply_function(fd, "PKT_COUNTER")) < 0 ||
	    (byte_fid = mapi_apply_function(fd, "BYTE_COUNTER")) < 0)
		die_mapi("count");
	if (mapi_connect(fd) < 0)
		die_mapi(path);
	sigprocmask(SIG_BLOCK, stop, NULL);
	for (;;) {
		if (mapi_get_flow_info(fd, &info) < 0)
			die_mapi(path);
		if (info.trace_status != MAPI_TRACE_READING)
			break;
		if (cli_wait_until(now_seconds() + 0.01, stop))
			break;	/* stopped: what was read so far */
	}
	read_counters(fd, pkt_fid, byte_fid, &cur);
	first.t = (double)info.trace_first / 1e9;
	cur.t = (double)info.trace_last / 1e9;
	print_interval(&first, &cur, json);
	fprintf(stderr, "%llu packets (%llu bytes) counted in %s\n", cur.pkts, cur.bytes, path);
	mapi_close_flow(fd);
	if (info.trace_status == MAPI_TRACE_FAILED) {
		fprintf(stderr, "mapi: %s\n", info.trace_error);
		return 1;
	}
	return 0;
}

int cmd_count(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "mode", required_argument, NULL, 'm' },
		{ 0, 0, 0, 0 },
	};
	const char *dev = NULL, *rfile = NULL;
	double interval = 1.0, poll;
	unsigned long long limit = 0;
	int dir = MAPI_DIR_BOTH, mode = MAPI_MODE_AUTO, json = 0, verbose = 0;
	int c, fd, pkt_fid, byte_fid, stopped = 0, gone = 0;
	struct reading first, prev, cur;
	mapi_flow_info_t info;
	sigset_t stop;
	char *filter;
	double next;

	while ((c = getopt_long(argc, argv, "+i:r:I:c:Q:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': dev = optarg; break;
		case 'r': rfile = optarg; break;
		case 'I': interval = parse_seconds(optarg, "-I"); break;
		case 'c': limit = parse_count(optarg, "-c"); break;
		case 'Q': dir = parse_direction(optarg); break;
		case 'm': mode = parse_mode(optarg); break;
		case 'j': json = 1; break;
		case 'v': verbose++; break;
		case 'h': fputs(count_usage, stdout); return 0;
		default: die_bad_option("count", argv);
		}
	}
	filter = join_args(argc - optind, argv + optind);
	if (rfile && (dev || limit || dir != MAPI_DIR_BOTH || mode != MAPI_MODE_AUTO))
		die("count: -r reads a whole trace: -i, -c, -Q and --mode do not go with it");
	cli_logging(verbose);

	cli_stop_signals(&stop);

	if (rfile) {
		c = count_trace(rfile, filter, json, &stop);
		free(filter);
		return c;
	}
	if (!dev)
		dev = default_device();
	live_line = !json && isatty(STDOUT_FILENO);
	fd = cli_flow(dev, dir, mode, filter);
	if ((pkt_fid = mapi_apply_function(fd, "PKT_COUNTER")) < 0 ||
	    (byte_fid = mapi_apply_function(fd, "BYTE_COUNTER")) < 0)
		die_mapi("count");

	if (mapi_connect(fd) < 0)
		die_mapi(dev);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (mapi_get_flow_info(fd, &info) == 0 && verbose)
		fprintf(stderr, "mapi: counting on %s: received packets in %s, sent in %s\n",
			dev, mapi_mode_name(info.mode_in), mapi_mode_name(info.mode_out));
	if (!json)
		fprintf(stderr, "mapi: counting %s on %s, every %g s\n",
			*filter ? filter : "all packets", dev, interval);

	if (read_counters(fd, pkt_fid, byte_fid, &first))
		return cli_interface_gone(dev);
	prev = first;
	next = first.t + interval;
	/* With -c, look often enough to stop soon after the count is reached;
	 * without, often enough to end soon after the interface goes (a read
	 * is two loads from memory). */
	poll = fmin(interval, limit ? 0.01 : 0.25);
	while (!stopped) {
		double wake = fmin(next, now_seconds() + poll);

		stopped = cli_wait_until(wake, &stop);
		gone = read_counters(fd, pkt_fid, byte_fid, &cur);
		if ((limit && cur.pkts - first.pkts >= limit) || gone)
			stopped = 1;
		if (cur.t >= next || stopped) {
			print_interval(&prev, &cur, json);
			prev = cur;
			next += interval * ceil((cur.t - next) / interval + 1e-9);
		}
	}
	if (live_line)
		printf("\n");
	fprintf(stderr, "%llu packets (%llu bytes) counted on %s in %.3f s\n",
		cur.pkts - first.pkts, cur.bytes - first.bytes, dev, cur.t - first.t);
	fprintf(stderr, "0 packets dropped: counting happens in the kernel\n");
	mapi_close_flow(fd);
	free(filter);
	return gone ? cli_interface_gone(dev) : 0;
}
