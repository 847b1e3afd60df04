/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capbuf: a TO_BUFFER reader for the tests.
 *
 *	capbuf [-s SNAPLEN] [-r RING] [-S PATTERN -o OFFSET -d DEPTH] [-w] [-C] [-T]
 *	       -n COUNT IFACE OUT.pcap [FILTER]
 *
 * Creates a flow (BPF_FILTER FILTER; with -C, PKT_COUNTER and BYTE_COUNTER;
 * STR_SEARCH if -S; TO_BUFFER), connects
 * it and prints "ready".  With -w it then waits for a line on standard input
 * before it reads anything: a paused reader, whose ring overflows.  It reads
 * until delivered + dropped reaches COUNT (or nothing comes for 5 s), writes
 * every packet it got to OUT.pcap (nanosecond timestamps, libpcap's writer)
 * and prints
 *	matched=M delivered=D dropped=X queued=Q in=I out=O ts_ok=0|1 ifindex_ok=0|1
 *	flow_dropped=X [pkts=P bytes=B] [stats recv=R sent=S ifdrop=I drop=X]
 * where ts_ok says every timestamp lies between the connect and the end of
 * reading by this process's own clock, and -T adds mapi_stats of IFACE.
 */
#include <mapi.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "capbuf: %s: %s (%d)\n", what, msg, code);
	return 1;
}

static unsigned long long wall_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

int main(int argc, char **argv)
{
	long snaplen = 0, ring = 0, offset = 0, depth = 0, count = -1;
	const char *pattern = NULL, *dev, *out, *filter = NULL;
	unsigned long long t0, n_in = 0, n_out = 0;
	int fd, fid, opt, wait_line = 0, ts_ok = 1, if_ok = 1, counters = 0, pf = 0, bf = 0;
	int stats = 0;
	mapi_function_info_t fi;
	mapi_flow_info_t flow;
	pcap_dumper_t *dump;
	pcap_t *dead;
	char line[16];

	while ((opt = getopt(argc, argv, "s:r:S:o:d:wCTn:")) != -1) {
		switch (opt) {
		case 's': snaplen = atol(optarg); break;
		case 'r': ring = atol(optarg); break;
		case 'S': pattern = optarg; break;
		case 'o': offset = atol(optarg); break;
		case 'd': depth = atol(optarg); break;
		case 'w': wait_line = 1; break;
		case 'C': counters = 1; break;
		case 'T': stats = 1; break;
		case 'n': count = atol(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3 || count < 0) {
		fprintf(stderr, "usage: capbuf [-s SNAPLEN] [-r RING] [-S PATTERN -o OFFSET "
				"-d DEPTH] [-w] -n COUNT IFACE OUT.pcap [FILTER]\n");
		return 2;
	}
	dev = argv[optind];
	out = argv[optind + 1];
	if (argc - optind == 3)
		filter = argv[optind + 2];

	if ((fd = mapi_create_flow(dev)) < 0)
		return fail("create");
	if (filter && mapi_apply_function(fd, "BPF_FILTER", filter) < 0)
		return fail("BPF_FILTER");
	if (counters && ((pf = mapi_apply_function(fd, "PKT_COUNTER")) < 0 ||
			 (bf = mapi_apply_function(fd, "BYTE_COUNTER")) < 0))
		return fail("counters");
	if (pattern && mapi_apply_function(fd, "STR_SEARCH", pattern, (int)offset,
					   (int)depth) < 0)
		return fail("STR_SEARCH");
	if ((fid = mapi_apply_function(fd, "TO_BUFFER", (int)snaplen, (int)ring)) < 0)
		return fail("TO_BUFFER");
	t0 = wall_ns();
	if (mapi_connect(fd) < 0)
		return fail("connect");
	printf("ready\n");
	fflush(stdout);
	if (wait_line && !fgets(line, sizeof(line), stdin))
		return 1;

	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
	dump = pcap_dump_open(dead, out);
	if (!dump) {
		fprintf(stderr, "capbuf: %s\n", pcap_geterr(dead));
		return 1;
	}
	for (;;) {
		struct pcap_pkthdr h;
		struct mapipkt *p;

		if (mapi_get_function_info(fd, fid, &fi) < 0)
			return fail("function info");
		if (fi.delivered + fi.dropped >= (unsigned long long)count && !fi.queued)
			break;
		p = mapi_get_next_pkt_timeout(fd, fid, 5000);
		if (!p) {
			int code;

			mapi_read_error(&code, NULL);
			if (code == MAPI_ERR_TIMEOUT)
				break;
			return fail("get_next_pkt");
		}
		if (p->ts < t0 || p->ts > wall_ns())
			ts_ok = 0;
		if (p->ifindex != if_nametoindex(dev))
			if_ok = 0;
		n_in += p->direction == MAPI_DIR_IN;
		n_out += p->direction == MAPI_DIR_OUT;
		h.ts.tv_sec = (time_t)(p->ts / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(p->ts % 1000000000ull);	/* nanoseconds */
		h.caplen = p->caplen;
		h.len = p->wlen;
		pcap_dump((unsigned char *)dump, &h, p->pkt);
	}
	pcap_dump_close(dump);
	pcap_close(dead);
	if (mapi_get_function_info(fd, fid, &fi) < 0)
		return fail("function info");
	if (mapi_get_flow_info(fd, &flow) < 0)
		return fail("flow info");
	printf("matched=%llu delivered=%llu dropped=%llu queued=%llu in=%llu out=%llu "
	       "ts_ok=%d ifindex_ok=%d flow_dropped=%llu", fi.pkts, fi.delivered, fi.dropped,
	       fi.queued, n_in, n_out, ts_ok, if_ok, flow.packets_dropped);
	if (counters) {
		unsigned long long *p = mapi_read_results(fd, pf, MAPI_COPY), pkts;

		if (!p)
			return fail("PKT_COUNTER");
		pkts = *p;
		if (!(p = mapi_read_results(fd, bf, MAPI_COPY)))
			return fail("BYTE_COUNTER");
		printf(" pkts=%llu bytes=%llu", pkts, *p);
	}
	if (stats) {
		struct mapi_stat st;

		if (mapi_stats(dev, &st) < 0)
			return fail("mapi_stats");
		printf(" stats recv=%llu sent=%llu ifdrop=%llu drop=%llu", st.ps_recv, st.ps_sent,
		       st.ps_ifdrop, st.ps_drop);
	}
	printf("\n");
	if (mapi_close_flow(fd) < 0)
		return fail("close");
	return 0;
}
