/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapi capture: the packets that match a filter (and a string search),
 * kept by TO_BUFFER in the kernel, printed one a line or written to a pcap
 * file.  Only matching packets cross into user space.
 */
#include <limits.h>
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "cli.h"
#include "mapi.h"

static const char capture_usage[] =
	"usage: mapi capture [-i IFACE | -r FILE] [-w FILE|-] [-s SNAPLEN] [-c COUNT] [-B KIB]\n"
	"                    [--search PATTERN[,OFFSET[,DEPTH]]] [-Q in|out|inout]\n"
	"                    [--mode auto|native|generic] [-v] [FILTER...]\n"
	"\n"
	"Captures the packets that match FILTER (tcpdump's language; all packets\n"
	"when none is given) on IFACE and prints one line each, or writes them to\n"
	"a pcap file.  The filter and the search run in the kernel.\n"
	"\n"
	"  -i IFACE     interface (default: the first one that is up, as tcpdump)\n"
	"  -r FILE      read a pcap or pcapng trace instead (- for standard input)\n"
	"  -w FILE      write a pcap file (nanosecond timestamps); - for stdout\n"
	"  -s SNAPLEN   keep the first SNAPLEN bytes of each packet (default: all,\n"
	"               up to 65535)\n"
	"  -c COUNT     stop after COUNT packets\n"
	"  -B KIB       the kernel's ring buffer, in KiB (a power of two; default\n"
	"               4096): packets arriving while it is full are dropped and\n"
	"               counted\n"
	"  --search PATTERN[,OFFSET[,DEPTH]]\n"
	"               keep only packets that contain PATTERN (MAPI's syntax: text\n"
	"               with |hex| bytes, \\| for |) within DEPTH bytes (0: to the\n"
	"               end) from byte OFFSET of the frame (default 0,0)\n"
	"  -Q DIR       in, out or inout (default inout: both, as tcpdump)\n"
	"  --mode MODE  where received packets are examined (see mapi count)\n"
	"  -v           say where the flow runs\n"
	"\n"
	"Each line: the time, In or Out (live), and what the packet is.  Ctrl-C or\n"
	"SIGTERM stops it; the counts then go to stderr, drops included.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_int(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end)
		die("--search: %s \"%s\" is not a number", what, s);
	if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
		die("--search: %s \"%s\" is out of range (%d to %d)", what, s, INT_MIN, INT_MAX);
	return (int)v;
}

/* PATTERN[,OFFSET[,DEPTH]]: the numbers come after the last commas, so the
 * pattern may hold commas when both numbers are given. */
static void parse_search(char *s, char **pattern, int *offset, int *depth)
{
	char *c1 = strrchr(s, ','), *c2;

	*pattern = s;
	*offset = *depth = 0;
	if (!c1)
		return;
	*c1 = 0;
	c2 = strrchr(s, ',');
	if (c2) {
		*c2 = 0;
		*offset = parse_int(c2 + 1, "OFFSET");
		*depth = parse_int(c1 + 1, "DEPTH");
	} else {
		*offset = parse_int(c1 + 1, "OFFSET");
	}
}

int cmd_capture(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "search", required_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'm' },
		{ 0, 0, 0, 0 },
	};
	const char *dev = NULL, *out = NULL, *rfile = NULL;
	char *search = NULL, *pattern = NULL, *filter;
	unsigned long long limit = 0, n = 0, ring_kib = 0;
	int dir = MAPI_DIR_BOTH, mode = MAPI_MODE_AUTO, verbose = 0, snaplen = 0;
	int c, fd, fid, offset, depth, gone = 0;
	pcap_dumper_t *dump = NULL;
	mapi_function_info_t fi;
	mapi_flow_info_t info;
	struct sigaction sa;
	pcap_t *dead = NULL;

	while ((c = getopt_long(argc, argv, "+i:r:w:s:c:B:Q:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': dev = optarg; break;
		case 'r': rfile = optarg; break;
		case 'w': out = optarg; break;
		case 's': snaplen = (int)parse_count_max(optarg, "-s", INT_MAX); break;
		case 'c': limit = parse_count(optarg, "-c"); break;
		case 'B': ring_kib = parse_count(optarg, "-B"); break;
		case 'S': search = optarg; break;
		case 'Q': dir = parse_direction(optarg); break;
		case 'm': mode = parse_mode(optarg); break;
		case 'v': verbose++; break;
		case 'h': fputs(capture_usage, stdout); return 0;
		default: die_bad_option("capture", argv);
		}
	}
	if (ring_kib > (1u << 20))
		die("-B %llu: at most 1048576 KiB", ring_kib);
	if (out && !strcmp(out, "-") && cli_std_closed(STDOUT_FILENO))
		die("-w -: standard output is closed");
	filter = join_args(argc - optind, argv + optind);
	if (rfile && (dev || dir != MAPI_DIR_BOTH || mode != MAPI_MODE_AUTO))
		die("capture: -i, -Q and --mode do not go with -r");
	if (!rfile && !dev)
		dev = default_device();
	cli_logging(verbose);

	fd = rfile ? cli_trace_flow(rfile, filter) : cli_flow(dev, dir, mode, filter);
	if (search) {
		parse_search(search, &pattern, &offset, &depth);
		if (mapi_apply_function(fd, "STR_SEARCH", pattern, offset, depth) < 0)
			die_mapi("--search");
	}
	if ((fid = mapi_apply_function(fd, "TO_BUFFER", snaplen, (int)(ring_kib * 1024))) < 0)
		die_mapi(snaplen ? "-s" : ring_kib ? "-B" : "capture");
	if (out) {
		dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, snaplen ? snaplen : 65535,
							    PCAP_TSTAMP_PRECISION_NANO);
		dump = dead ? pcap_dump_open(dead, out) : NULL;
		if (!dump)
			die("-w %s: %s", out, dead ? pcap_geterr(dead) : "out of memory");
	}

	/* no SA_RESTART: a signal ends the wait for the next packet */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (mapi_connect(fd) < 0)
		die_mapi(rfile ? rfile : dev);
	if (mapi_get_flow_info(fd, &info) == 0 && verbose && !rfile)
		fprintf(stderr, "mapi: capturing on %s: received packets in %s, sent in %s\n",
			dev, mapi_mode_name(info.mode_in), mapi_mode_name(info.mode_out));
	fprintf(stderr, "mapi: capturing %s%s%s on %s\n", *filter ? filter : "all packets",
		search ? " containing " : "", search ? pattern : "", rfile ? rfile : dev);

	while (!stop && (!limit || n < limit)) {
		struct mapipkt *pkt = mapi_get_next_pkt_timeout(fd, fid, 100);

		if (!pkt) {
			int code;

			mapi_read_error(&code, NULL);
			if (code == MAPI_ERR_TIMEOUT)
				continue;
			if (code == MAPI_ERR_TRACE_END)
				break;
			if (code == MAPI_ERR_DEVICE_GONE && (gone = 1))
				break;
			die_mapi("reading packets");
		}
		n++;
		if (dump) {
			struct pcap_pkthdr h = {
				.ts.tv_sec = (time_t)(pkt->ts / 1000000000ull),
				/* nanoseconds, in a file opened for them */
				.ts.tv_usec = (suseconds_t)(pkt->ts % 1000000000ull),
				.caplen = pkt->caplen,
				.len = pkt->wlen,
			};

			errno = 0;
			pcap_dump((unsigned char *)dump, &h, pkt->pkt);
			/* pcap_dump says nothing of a failed write: the stream does */
			if (ferror(pcap_dump_file(dump)))
				die("-w %s: %s: %llu packets captured, fewer written", out,
				    errno ? strerror(errno) : "writing failed", n);
		} else {
			cli_print_packet(pkt);
			cli_check_stdout(0);
		}
	}
	if (mapi_get_function_info(fd, fid, &fi) < 0 || mapi_get_flow_info(fd, &info) < 0)
		die_mapi("capture");
	if (dump) {
		errno = 0;
		if (pcap_dump_flush(dump) || ferror(pcap_dump_file(dump)))
			die("-w %s: %s: %llu packets captured, fewer written", out,
			    errno ? strerror(errno) : "writing failed", n);
		pcap_dump_close(dump);
		pcap_close(dead);
	} else {
		cli_check_stdout(1);
	}
	mapi_close_flow(fd);
	/* captured + dropped + left = matched, once the traffic stopped */
	fprintf(stderr, "%llu packets captured\n%llu packets matched\n"
		"%llu packets dropped by the ring buffer\n"
		"%llu packets left in the ring, not read\n", n, fi.pkts, fi.dropped, fi.queued);
	free(filter);
	if (info.trace_status == MAPI_TRACE_FAILED) {
		fprintf(stderr, "mapi: %s\n", info.trace_error);
		return 1;
	}
	return gone ? cli_interface_gone(dev) : 0;
}
