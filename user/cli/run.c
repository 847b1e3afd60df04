/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapi run: any chain of MAPI functions from the command line, one flow,
 * every function's result printed at each interval.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fntext.h"
#include "mapi.h"

static const char run_usage[] =
	"usage: mapi run [-i IFACE | -r FILE] [-I SECONDS] [-Q in|out|inout]\n"
	"                [--mode auto|native|generic|offload] [--json] [-v] FUNCTION...\n"
	"       mapi run -n NAME [-I SECONDS] [--json]\n"
	"\n"
	"Applies the functions to one flow, in order, and prints the result of each\n"
	"function that has one at every interval (with -r: once, for the whole\n"
	"trace).  A FUNCTION is one argument: its name, then its arguments, strings\n"
	"in double quotes, numbers and MAPI's constants (WAIT, NOWAIT, MFF_PCAP,\n"
	"PERIODIC, PROBABILISTIC, TOPX_IP, TOPX_IP_SRCIP, SORT_BY_BYTES, PKT_SIZE,\n"
	"THRESHOLD_CHANGE, BOUNDARY_ABOVE, ...) bare, e.g.\n"
	"\n"
	"  mapi run -i eth0 'BPF_FILTER \"tcp and dst port 80\"' PKT_COUNTER BYTE_COUNTER\n"
	"  mapi run -i eth0 'BPF_FILTER \"udp\"' 'STR_SEARCH \"|00 00|E\" 0 100' TO_BUFFER\n"
	"  mapi run -i eth0 'TOP 10 TOPX_IP TOPX_IP_SRCIP SORT_BY_BYTES 24'\n"
	"  mapi run -i eth0 'TOP 10 TOPX_IP TOPX_IP_SRCIP \"1s\" SORT_BY_BYTES 24'  (each second)\n"
	"  mapi run -i eth0 PKT_COUNTER 'BUCKET 0 1 \"1s\" 1'   (FD 0: this flow)\n"
	"  mapi run -i eth0 PKT_COUNTER 'STATS 0 1 \"1s\" 1'    (packets a second)\n"
	"\n"
	"`mapi functions` lists them.  Packets kept by TO_BUFFER are printed one a\n"
	"line as they come (mapi capture's format); TOP's values as a table under\n"
	"the line.\n"
	"\n"
	"  -i IFACE     interface (default: the first one that is up, as tcpdump)\n"
	"  -r FILE      a pcap or pcapng trace instead (- for standard input)\n"
	"  -n NAME      no FUNCTION: the results of mapid's named flow NAME (mapid(8)),\n"
	"               which runs on after\n"
	"  -I SECONDS   interval between result lines (default 1; fractions allowed)\n"
	"  -Q DIR       in, out or inout (default inout: both, as tcpdump)\n"
	"  --mode MODE  where received packets are examined (see mapi count)\n"
	"  --json       one JSON object a line: time and each function's result\n"
	"  -v           say where the flow runs\n"
	"\n"
	"Ctrl-C or SIGTERM stops it after a last result line.\n";

#define MAX_FNS 64

struct fn {
	int fid;
	mapi_libfunct_info_t info;
};

/* One FUNCTION argument into its name and arguments; dies when malformed. */
static int parse_spec(char *spec, const char *orig, char **name, struct mapi_arg *args)
{
	char why[128];
	int n = fntext_parse(spec, name, args, why, sizeof(why));

	if (n < 0)
		die("run: '%s': %s", orig, why);
	return n;
}

static const struct mapi_top_result *read_top(int fd, const mapi_function_info_t *fi)
{
	const struct mapi_top_result *r = mapi_read_results(fd, fi->fid, MAPI_COPY);

	if (!r)
		die_mapi(fi->name);
	return r;
}

static void print_top_json(const struct mapi_top_result *r)
{
	unsigned int k;
	char v[64];

	if (r->interval)
		printf(",\"interval\":%llu,\"end\":%llu,\"partial\":%s", r->interval, r->end,
		       r->partial ? "true" : "false");
	printf(",\"packets\":%llu,\"bytes\":%llu,\"other_packets\":%llu,\"other_bytes\":%llu,"
	       "\"distinct\":%u,\"spilled\":%u,\"exact\":%s,\"values\":[", r->packets, r->bytes,
	       r->other_packets, r->other_bytes, r->distinct, r->spilled,
	       r->exact ? "true" : "false");
	for (k = 0; k < r->count; k++) {
		const struct mapi_top_value *e = &r->values[k];

		field_value_text(&e->value, v, sizeof(v));
		printf("%s{\"value\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"error_packets\":%llu,"
		       "\"error_bytes\":%llu}", k ? "," : "", v, e->packets, e->bytes,
		       e->error_packets, e->error_bytes);
	}
	printf("]}");
}

/* The table under the result line. */
static void print_top_table(int fid, const struct mapi_top_result *r)
{
	unsigned int k;
	char v[64];

	printf("  TOP[%d]: %u of %u values, %llu packets, %llu bytes", fid, r->count,
	       r->distinct + r->spilled, r->packets, r->bytes);
	if (r->interval && r->end)
		printf(" in the %.3f s to %.6f%s", (double)r->interval / 1e9, (double)r->end / 1e9,
		       r->partial ? " (cut short)" : "");
	else if (r->interval)
		printf(" (no interval of %.3f s has ended)", (double)r->interval / 1e9);
	if (r->other_packets)
		printf("; %llu packets (%llu bytes) of values the table had no room for (%u of "
		       "them kept, estimated)%s", r->other_packets, r->other_bytes, r->spilled,
		       r->exact ? "" : ": the list may be off");
	printf("\n  %4s  %-40s %12s %14s\n", "#", "value", "packets", "bytes");
	for (k = 0; k < r->count; k++) {
		const struct mapi_top_value *e = &r->values[k];

		field_value_text(&e->value, v, sizeof(v));
		printf("  %4u  %-40s %12llu %14llu", k + 1, v, e->packets, e->bytes);
		if (e->error_packets || e->error_bytes)	/* the true count is at most this less */
			printf("  (at most %llu packets, %llu bytes too many)", e->error_packets,
			       e->error_bytes);
		printf("\n");
	}
}

static const struct mapi_distinct_result *read_distinct(int fd, int fid)
{
	const struct mapi_distinct_result *r = mapi_read_results(fd, fid, MAPI_COPY);

	if (!r)
		die_mapi("DISTINCT");
	return r;
}

static void print_distinct_json(const struct mapi_distinct_result *r)
{
	unsigned int k;
	char v[64];

	printf(",\"distinct\":%llu,\"error\":%.4f,\"per_error\":%.4f,\"packets\":%llu,"
	       "\"other_packets\":%llu,\"per_values\":%u,\"values\":[", r->distinct, r->error,
	       r->per_error, r->packets, r->other_packets, r->per_values);
	for (k = 0; k < r->count; k++) {
		field_value_text(&r->values[k].value, v, sizeof(v));
		printf("%s{\"value\":\"%s\",\"distinct\":%llu,\"packets\":%llu}", k ? "," : "", v,
		       r->values[k].distinct, r->values[k].packets);
	}
	printf("]}");
}

/* The per values under the result line. */
static void print_distinct_table(int fid, const struct mapi_distinct_result *r)
{
	unsigned int k;
	char v[64];

	if (!r->per_values && !r->other_packets)
		return;
	printf("  DISTINCT[%d]: %u of %u values, each estimated within %.1f %% (one standard "
	       "error)", fid, r->count, r->per_values, 100 * r->per_error);
	if (r->other_packets)
		printf("; %llu packets of values the table had no room for", r->other_packets);
	printf("\n  %4s  %-40s %12s %12s\n", "#", "value", "distinct", "packets");
	for (k = 0; k < r->count; k++) {
		field_value_text(&r->values[k].value, v, sizeof(v));
		printf("  %4u  %-40s %12llu %12llu\n", k + 1, v, r->values[k].distinct,
		       r->values[k].packets);
	}
}

/* A DIST's bins that hold values, under the result line. */
static void print_dist_table(int fid, const struct mapi_dist_result *r)
{
	unsigned int k;

	if (r->below)
		printf("  DIST[%d]: below %llu: %llu\n", fid, r->min, r->below);
	for (k = 0; k < r->bins; k++)
		if (r->counts[k])
			printf("  DIST[%d]: %llu to %llu: %llu\n", fid, r->min + k * r->step,
			       r->min + (k + 1) * r->step - 1, r->counts[k]);
	if (r->above)
		printf("  DIST[%d]: %llu or more: %llu\n", fid, r->max, r->above);
}

/* "10.0.0.1:80" or "[fd00::1]:80". */
static void endpoint_text(int family, const unsigned char *addr, unsigned int port, char *buf,
			  size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(buf, len, family == 6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void print_hashsamp_json(const struct mapi_hashsamp_result *r)
{
	char src[64], dst[64];
	unsigned int k;

	printf(",\"keep\":%d,\"kept\":%llu,\"recorded\":%llu,\"lost\":%llu,\"missed\":%llu,"
	       "\"records\":[", r->keep, r->kept, r->recorded, r->lost, r->missed);
	for (k = 0; k < r->count; k++) {
		const struct mapi_hashsamp_record *e = &r->records[k];

		endpoint_text(e->family, e->saddr, e->sport, src, sizeof(src));
		endpoint_text(e->family, e->daddr, e->dport, dst, sizeof(dst));
		printf("%s{\"ts\":%llu,\"wlen\":%u,\"proto\":%u,\"src\":\"%s\",\"dst\":\"%s\","
		       "\"seq\":%u,\"flags\":%u}", k ? "," : "", e->ts, e->wlen, e->proto, src, dst,
		       e->seq, e->tcp_flags);
	}
	printf("]}");
}

/* HASHSAMP KEEP 1's records since the last line, under it. */
static void print_hashsamp_records(int fid, const struct mapi_hashsamp_result *r)
{
	char src[64], dst[64];
	unsigned int k;

	for (k = 0; k < r->count; k++) {
		const struct mapi_hashsamp_record *e = &r->records[k];

		endpoint_text(e->family, e->saddr, e->sport, src, sizeof(src));
		endpoint_text(e->family, e->daddr, e->dport, dst, sizeof(dst));
		printf("  HASHSAMP[%d]: %.6f %s %s > %s", fid, (double)e->ts / 1e9,
		       e->proto == 6 ? "TCP" : "UDP", src, dst);
		if (e->proto == 6)
			printf(" seq %u flags 0x%02x", e->seq, e->tcp_flags);
		printf(" length %u\n", e->wlen);
	}
}

/* A BUCKET's last samples under the result line. */
static void print_bucket_table(int fid, const struct mapi_bucket_result *r)
{
	unsigned int k = r->count > 10 ? r->count - 10 : 0;

	for (; k < r->count; k++)
		printf("  BUCKET[%d]: %.6f %llu%s\n", fid, (double)r->samples[k].ts / 1e9,
		       r->samples[k].value, r->partial && k + 1 == r->count ? " (to the trace's end)" :
		       "");
}

static void print_results(int fd, const struct fn *fns, int nfns, double t, int json)
{
	/* a table's snapshot, read once for its line and its table */
	const void *snap[MAX_FNS] = { 0 };
	int i, first = 1;

	if (json)
		printf("{\"time\":%.6f,\"results\":[", t);
	else {
		time_t sec = (time_t)t;
		struct tm tm;
		char ts[16];

		localtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		printf("%s.%03d", ts, (int)(fmod(t, 1.0) * 1000));
	}
	for (i = 0; i < nfns; i++) {
		mapi_function_info_t fi;

		if (fns[i].info.result == MAPI_RES_NONE)
			continue;
		if (mapi_get_function_info(fd, fns[i].fid, &fi) < 0)
			die_mapi(fns[i].info.name);
		if (fns[i].info.result == MAPI_RES_DIST) {
			const struct mapi_dist_result *r = mapi_read_results(fd, fi.fid, MAPI_COPY);
			unsigned int k;

			if (!r)
				die_mapi(fi.name);
			snap[i] = r;
			if (json) {
				printf("%s{\"fid\":%d,\"function\":\"%s\",\"min\":%llu,\"max\":%llu,"
				       "\"step\":%llu,\"count\":%llu,\"below\":%llu,\"above\":%llu,"
				       "\"counts\":[", first ? "" : ",", fi.fid, fi.name, r->min, r->max,
				       r->step, r->count, r->below, r->above);
				for (k = 0; k < r->bins; k++)
					printf("%s%llu", k ? "," : "", r->counts[k]);
				printf("]}");
			} else {
				printf("  %s[%d]=%llu values", fi.name, fi.fid, r->count);
			}
		} else if (fns[i].info.result == MAPI_RES_BUCKET) {
			const struct mapi_bucket_result *r = mapi_read_results(fd, fi.fid, MAPI_COPY);
			unsigned int k;

			if (!r)
				die_mapi(fi.name);
			snap[i] = r;
			if (json) {
				printf("%s{\"fid\":%d,\"function\":\"%s\",\"interval\":%llu,"
				       "\"total\":%llu,\"reset\":%d,\"partial\":%d,\"samples\":[",
				       first ? "" : ",", fi.fid, fi.name, r->interval, r->total, r->reset,
				       r->partial);
				for (k = 0; k < r->count; k++)
					printf("%s[%llu,%llu]", k ? "," : "", r->samples[k].ts,
					       r->samples[k].value);
				printf("]}");
			} else {
				printf("  %s[%d]=%llu samples", fi.name, fi.fid, r->total);
			}
		} else if (fns[i].info.result == MAPI_RES_HASHSAMP) {
			const struct mapi_hashsamp_result *r = mapi_read_results(fd, fi.fid,
										 MAPI_COPY);

			if (!r)
				die_mapi(fi.name);
			snap[i] = r;
			if (json) {
				printf("%s{\"fid\":%d,\"function\":\"%s\"", first ? "" : ",", fi.fid,
				       fi.name);
				print_hashsamp_json(r);
			} else if (r->keep) {
				printf("  %s[%d]=%llu kept, %llu recorded, %llu lost, %llu missed", fi.name,
				       fi.fid, r->kept, r->recorded, r->lost, r->missed);
			}
		} else if (fns[i].info.result == MAPI_RES_THRESHOLD) {
			const struct mapi_threshold_result *r = mapi_read_results(fd, fi.fid,
										  MAPI_COPY);

			if (!r)
				die_mapi(fi.name);
			if (json)
				printf("%s{\"fid\":%d,\"function\":\"%s\",\"events\":%llu,\"done\":%d,"
				       "\"last\":{\"ts\":%llu,\"value\":%llu,\"number\":%llu}}",
				       first ? "" : ",", fi.fid, fi.name, r->events, r->done, r->last.ts,
				       r->last.value, r->last.number);
			else if (r->events)
				printf("  %s[%d]=%llu events, the last at %.6f (%llu)", fi.name, fi.fid,
				       r->events, (double)r->last.ts / 1e9, r->last.value);
			else
				printf("  %s[%d]=0 events", fi.name, fi.fid);
		} else if (fns[i].info.result == MAPI_RES_STATS) {
			const struct mapi_stats_result *r = mapi_read_results(fd, fi.fid, MAPI_COPY);

			if (!r)
				die_mapi(fi.name);
			if (json)
				printf("%s{\"fid\":%d,\"function\":\"%s\",\"count\":%llu,\"sum_hi\":%llu,"
				       "\"sum_lo\":%llu,\"sum2_hi\":%llu,\"sum2_lo\":%llu,\"min\":%llu,"
				       "\"max\":%llu,\"mean\":%.6f,\"stddev\":%.6f}", first ? "" : ",",
				       fi.fid, fi.name, r->count, r->sum_hi, r->sum_lo, r->sum2_hi,
				       r->sum2_lo, r->min, r->max, r->mean, r->stddev);
			else
				printf("  %s[%d]=%llu values, min %llu, max %llu, mean %.2f, sd %.2f",
				       fi.name, fi.fid, r->count, r->min, r->max, r->mean, r->stddev);
		} else if (fns[i].info.result == MAPI_RES_DISTINCT) {
			const struct mapi_distinct_result *r = read_distinct(fd, fi.fid);

			snap[i] = r;
			if (json) {
				printf("%s{\"fid\":%d,\"function\":\"%s\"", first ? "" : ",", fi.fid,
				       fi.name);
				print_distinct_json(r);
			} else {
				printf("  %s[%d]=%llu distinct (%.1f %%)", fi.name, fi.fid, r->distinct,
				       100 * r->error);
			}
		} else if (fns[i].info.result == MAPI_RES_TOP) {
			const struct mapi_top_result *r = read_top(fd, &fi);

			snap[i] = r;
			if (json) {
				printf("%s{\"fid\":%d,\"function\":\"%s\"", first ? "" : ",", fi.fid,
				       fi.name);
				print_top_json(r);
			} else {
				printf("  %s[%d]=%llu packets", fi.name, fi.fid, r->packets);
			}
		} else if (fns[i].info.result == MAPI_RES_ULL) {
			if (json)
				printf("%s{\"fid\":%d,\"function\":\"%s\",\"value\":%llu}",
				       first ? "" : ",", fi.fid, fi.name, fi.value);
			else
				printf("  %s[%d]=%llu", fi.name, fi.fid, fi.value);
		} else if (json) {
			printf("%s{\"fid\":%d,\"function\":\"%s\",\"packets\":%llu,\"delivered\":%llu,"
			       "\"dropped\":%llu,\"past\":%llu}", first ? "" : ",", fi.fid, fi.name,
			       fi.pkts, fi.delivered, fi.dropped, fi.past);
		} else {
			printf("  %s[%d]=%llu packets, %llu delivered, %llu dropped", fi.name, fi.fid,
			       fi.pkts, fi.delivered, fi.dropped);
			if (fi.past)	/* a TO_FILE with a count: after it */
				printf(", %llu past the count", fi.past);
		}
		first = 0;
	}
	printf(json ? "]}\n" : "\n");
	for (i = 0; i < nfns && !json; i++) {
		if (fns[i].info.result == MAPI_RES_TOP)
			print_top_table(fns[i].fid, snap[i]);
		if (fns[i].info.result == MAPI_RES_DISTINCT)
			print_distinct_table(fns[i].fid, snap[i]);
		if (fns[i].info.result == MAPI_RES_BUCKET)
			print_bucket_table(fns[i].fid, snap[i]);
		if (fns[i].info.result == MAPI_RES_DIST)
			print_dist_table(fns[i].fid, snap[i]);
		if (fns[i].info.result == MAPI_RES_HASHSAMP)
			print_hashsamp_records(fns[i].fid, snap[i]);
	}
	cli_check_stdout(1);
}

/* Prints the packets waiting in the TO_BUFFERs; 1 when a trace has ended
 * for all of them. */
static int drain(int fd, const struct fn *fns, int nfns, int json)
{
	int i, ended = 0, buffers = 0;

	for (i = 0; i < nfns; i++) {
		int k;

		if (fns[i].info.result != MAPI_RES_PACKETS)
			continue;
		buffers++;
		for (k = 0; k < 10000; k++) {
			struct mapipkt *p = mapi_get_next_pkt_timeout(fd, fns[i].fid, 0);
			int code;

			if (p) {
				if (!json)
					cli_print_packet(p);
				continue;
			}
			mapi_read_error(&code, NULL);
			if (code == MAPI_ERR_TRACE_END)
				ended++;
			else if (code != MAPI_ERR_TIMEOUT && code != MAPI_ERR_DEVICE_GONE)
				die_mapi("reading packets");
			break;
		}
	}
	return buffers && ended == buffers;
}


/* mapi run -n NAME: a named flow of mapid's, read until stopped. */
static int run_named(const char *name, double interval, int json, sigset_t *stop)
{
	int fd = mapi_attach_flow(name), nfns = 0, stopped = 0, k;
	mapi_function_info_t fi;
	struct fn fns[MAX_FNS];
	double next;

	if (fd < 0)
		die_mapi(name);
	while (nfns < MAX_FNS && mapi_get_next_function_info(fd, nfns, &fi) == 0) {
		fns[nfns].fid = fi.fid;
		for (k = 0; mapi_get_libfunct_info(k, &fns[nfns].info) == 0; k++)
			if (!strcmp(fns[nfns].info.name, fi.name))
				break;
		nfns++;
	}
	sigprocmask(SIG_BLOCK, stop, NULL);
	next = now_seconds() + interval;
	while (!stopped) {
		stopped = cli_wait_until(next, stop);
		print_results(fd, fns, nfns, now_seconds(), json);
		next += interval * ceil((now_seconds() - next) / interval + 1e-9);
	}
	if (mapi_close_flow(fd) < 0)
		die_mapi("closing");
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "mode", required_argument, NULL, 'm' },
		{ 0, 0, 0, 0 },
	};
	const char *dev = NULL, *rfile = NULL, *named = NULL;
	int dir = MAPI_DIR_BOTH, mode = MAPI_MODE_AUTO, json = 0, verbose = 0;
	int c, fd, i, nfns = 0, buffers = 0, stopped = 0, gone = 0;
	double interval = 1.0, next;
	struct fn fns[MAX_FNS];
	mapi_flow_info_t info;
	sigset_t stop;

	while ((c = getopt_long(argc, argv, "+i:r:n:I:Q:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': dev = optarg; break;
		case 'n': named = optarg; break;
		case 'r': rfile = optarg; break;
		case 'I': interval = parse_seconds(optarg, "-I"); break;
		case 'Q': dir = parse_direction(optarg); break;
		case 'm': mode = parse_mode(optarg); break;
		case 'j': json = 1; break;
		case 'v': verbose++; break;
		case 'h': fputs(run_usage, stdout); return 0;
		default: die_bad_option("run", argv);
		}
	}
	if (named && (optind < argc || dev || rfile || dir != MAPI_DIR_BOTH ||
		      mode != MAPI_MODE_AUTO))
		die("run: -n takes no FUNCTION, -i, -r, -Q or --mode: the named flow has them");
	if (optind == argc && !named)
		die("run: no FUNCTION given (mapi run --help)");
	if (argc - optind > MAX_FNS)
		die("run: at most %d functions", MAX_FNS);
	if (rfile && (dev || dir != MAPI_DIR_BOTH || mode != MAPI_MODE_AUTO))
		die("run: -i, -Q and --mode do not go with -r");
	if (!rfile && !dev && !named)
		dev = default_device();
	cli_logging(verbose);

	cli_stop_signals(&stop);
	if (named)
		return run_named(named, interval, json, &stop);
	fd = rfile ? cli_trace_flow(rfile, "") : cli_flow(dev, dir, mode, "");
	for (i = optind; i < argc; i++) {
		struct mapi_arg args[FNTEXT_MAX_ARGS];
		char *spec = strdup(argv[i]), *name = NULL;
		int n, k;

		if (!spec)
			die("out of memory");
		n = parse_spec(spec, argv[i], &name, args);
		fns[nfns].fid = mapi_apply_function_args(fd, name, args, n);
		if (fns[nfns].fid < 0)
			die_mapi(argv[i]);
		for (k = 0; mapi_get_libfunct_info(k, &fns[nfns].info) == 0; k++)
			if (!strcmp(fns[nfns].info.name, name))
				break;
		buffers += fns[nfns].info.result == MAPI_RES_PACKETS;
		nfns++;
		free(spec);
	}

	if (mapi_connect(fd) < 0)
		die_mapi(rfile ? rfile : dev);
	sigprocmask(SIG_BLOCK, &stop, NULL);	/* taken between readings from now */
	if (verbose && !rfile && mapi_get_flow_info(fd, &info) == 0)
		fprintf(stderr, "mapi: running on %s: received packets in %s, sent in %s\n", dev,
			mapi_mode_name(info.mode_in), mapi_mode_name(info.mode_out));

	next = now_seconds() + interval;
	while (!stopped) {
		int ended = buffers ? drain(fd, fns, nfns, json) : 0;

		if (rfile) {
			if (mapi_get_flow_info(fd, &info) < 0)
				die_mapi(rfile);
			if (info.trace_status != MAPI_TRACE_READING && (!buffers || ended))
				break;
			stopped = cli_wait_until(now_seconds() + 0.01, &stop);
			continue;
		}
		/* soon after its interface goes, the flow ends (its counts are final) */
		stopped = cli_wait_until(fmin(next, now_seconds() + (buffers ? 0.01 : 0.25)), &stop);
		if (cli_flow_stopped(fd)) {
			drain(fd, fns, nfns, json);	/* what the rings kept */
			stopped = gone = 1;
		}
		if (now_seconds() >= next || stopped) {
			print_results(fd, fns, nfns, now_seconds(), json);
			next += interval * ceil((now_seconds() - next) / interval + 1e-9);
		}
	}
	if (rfile) {
		print_results(fd, fns, nfns, (double)info.trace_last / 1e9, json);
		if (mapi_close_flow(fd) < 0)
			die_mapi("closing");	/* a TO_FILE's last writes, say */
		if (info.trace_status == MAPI_TRACE_FAILED) {
			fprintf(stderr, "mapi: %s\n", info.trace_error);
			return 1;
		}
		return 0;
	}
	if (mapi_close_flow(fd) < 0)
		die_mapi("closing");
	return gone ? cli_interface_gone(dev) : 0;
}
