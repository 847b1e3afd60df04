/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A program written as for MAPI 2.0, built with -DMAPI_V2 and nothing
 * changed for mapi-bpf: two flows read one offline device together.
 *
 *	mapi2_trace TRACE FILTER1 FILTER2 OUT1 OUT2
 *
 * Flow 1 keeps FILTER1's packets in TO_BUFFER(WAIT) and counts them; this
 * program reads them with mapi_get_next_pkt (the frame at &pkt->pkt, ts
 * in 32.32) and writes them to OUT1 (pcap, nanoseconds).  Flow 2 writes
 * FILTER2's packets with MAPI 2.0's TO_FILE(MFF_PCAP, OUT2, 0), keeps
 * them in a TO_BUFFER too and counts them; mapi_loop counts those.  Then
 * it prints, from mapi_read_results(fd, fid) (a mapi_results_t):
 *	flow1 pkts=N bytes=B read=R
 *	flow2 pkts=N looped=L tofile=S
 * and its flows' information.  A second mapi_connect must return -2.  Then,
 * in MAPI 2.0's shapes:
 *	flows N                 mapi_get_next_flow_info from -1
 *	stats recv=R drop=D     mapi_stats of the device
 *	device ID NAME          mapi_get_next_device_info(0): the first interface
 *	library NAME N          mapi_get_next_library_info(-1), its functions
 *	args NAME=LETTERS ...   mapi_get_next_libfunct_info over them
 */
#include <mapi.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int looped;
static int loop_ok = 1;

static int die(const char *what)
{
	int err_no;
	char error[MAPI_ERRORSTR_LENGTH];

	mapi_read_error(&err_no, error);
	fprintf(stderr, "%s failed: %d %s\n", what, err_no, error);
	exit(1);
}

static void count_packet(const struct mapipkt *pkt)
{
	const unsigned char *frame = &pkt->pkt;

	/* an Ethernet frame: its type field is IPv4, IPv6, ARP or a VLAN tag */
	if (pkt->caplen < 14 || pkt->caplen > pkt->wlen || !(frame[12] == 0x08 ||
							      frame[12] == 0x86 ||
							      frame[12] == 0x81))
		loop_ok = 0;
	looped++;
}

static unsigned long long result_ull(int fd, int fid)
{
	mapi_results_t *r = mapi_read_results(fd, fid);

	if (!r)
		die("mapi_read_results");
	if (r->size != sizeof(unsigned long long))
		die("a counter's size");
	return *(unsigned long long *)r->res;
}

int main(int argc, char *argv[])
{
	int fd1, fd2, buf1, cnt1, bytes1, cnt2, file2, buf2, read = 0;
	mapi_flow_info_t finfo;
	mapi_function_info_t fninfo;
	mapi_device_info_t dinfo;
	mapi_libfunct_info_t lfinfo;
	mapi_lib_info_t linfo;
	struct mapi_stat stats;
	int n, fd;
	struct mapipkt *pkt;
	pcap_dumper_t *out;
	mapi_results_t *r;
	pcap_t *dead;
	char *dev;

	if (argc != 6) {
		fprintf(stderr, "usage: mapi2_trace TRACE FILTER1 FILTER2 OUT1 OUT2\n");
		return 2;
	}
	if ((dev = mapi_create_offline_device(argv[1], MFF_PCAP)) == NULL)
		die("mapi_create_offline_device");

	if ((fd1 = mapi_create_flow(dev)) < 0)
		die("mapi_create_flow 1");
	if (mapi_apply_function(fd1, "BPF_FILTER", argv[2]) < 0)
		die("BPF_FILTER 1");
	if ((cnt1 = mapi_apply_function(fd1, "PKT_COUNTER")) < 0)
		die("PKT_COUNTER 1");
	if ((bytes1 = mapi_apply_function(fd1, "BYTE_COUNTER")) < 0)
		die("BYTE_COUNTER 1");
	if ((buf1 = mapi_apply_function(fd1, "TO_BUFFER", WAIT)) < 0)
		die("TO_BUFFER 1");

	if ((fd2 = mapi_create_flow(dev)) < 0)
		die("mapi_create_flow 2");
	if (mapi_apply_function(fd2, "BPF_FILTER", argv[3]) < 0)
		die("BPF_FILTER 2");
	if ((cnt2 = mapi_apply_function(fd2, "PKT_COUNTER")) < 0)
		die("PKT_COUNTER 2");
	if ((file2 = mapi_apply_function(fd2, "TO_FILE", MFF_PCAP, argv[5], 0)) < 0)
		die("TO_FILE 2");
	if ((buf2 = mapi_apply_function(fd2, "TO_BUFFER", WAIT)) < 0)
		die("TO_BUFFER 2");

	if (mapi_connect(fd1) < 0 || mapi_connect(fd2) < 0)
		die("mapi_connect");
	/* connected twice: MAPI 2.0's -2 for what is not a permission */
	if (mapi_connect(fd1) != -2)
		die("a second mapi_connect (not -2)");
	if (mapi_get_flow_info(fd1, &finfo) < 0)
		die("mapi_get_flow_info");
	if (finfo.status != FLOW_ACTIVE || strcmp(finfo.device, dev))
		die("flow 1's information before the start");
	if (mapi_start_offline_device(dev) < 0)
		die("mapi_start_offline_device");

	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
	out = dead ? pcap_dump_open(dead, argv[4]) : NULL;
	if (!out) {
		fprintf(stderr, "cannot write %s\n", argv[4]);
		return 1;
	}
	while ((pkt = mapi_get_next_pkt(fd1, buf1)) != NULL) {
		struct pcap_pkthdr h;
		unsigned long long frac = pkt->ts & 0xffffffffull;

		h.ts.tv_sec = (time_t)(pkt->ts >> 32);
		/* nanoseconds, rounded: the fraction keeps them exactly */
		h.ts.tv_usec = (suseconds_t)((frac * 1000000000ull + (1ull << 31)) >> 32);
		h.caplen = pkt->caplen;
		h.len = pkt->wlen;
		pcap_dump((unsigned char *)out, &h, &pkt->pkt);
		read++;
	}
	pcap_dump_close(out);
	pcap_close(dead);

	if (mapi_loop(fd2, buf2, 0, count_packet) < 0)
		die("mapi_loop");
	if (!loop_ok)
		die("a looped packet's frame");

	printf("flow1 pkts=%llu bytes=%llu read=%d\n", result_ull(fd1, cnt1),
	       result_ull(fd1, bytes1), read);
	if ((r = mapi_read_results(fd2, file2)) == NULL || r->size != sizeof(int))
		die("TO_FILE's result");
	printf("flow2 pkts=%llu looped=%d tofile=%d\n", result_ull(fd2, cnt2), looped,
	       *(int *)r->res);
	if (mapi_get_flow_info(fd2, &finfo) < 0)
		die("mapi_get_flow_info");
	if (mapi_get_function_info(fd2, buf2, &fninfo) < 0)
		die("mapi_get_function_info");
	printf("flow2 status=%s functions=%u buffer=%s pkts=%llu\n",
	       finfo.status == FLOW_FINISHED ? "finished" : "other", finfo.num_functions,
	       fninfo.name, fninfo.pkts);

	for (n = 0, fd = 0; mapi_get_next_flow_info(fd, &finfo) == 0; fd = finfo.fd)
		n++;
	printf("flows %d\n", n);
	if (mapi_stats(dev, &stats) < 0)
		die("mapi_stats");
	printf("stats recv=%u drop=%u\n", stats.ps_recv, stats.ps_drop);
	if (mapi_get_next_device_info(0, &dinfo) < 0)
		die("mapi_get_next_device_info");
	printf("device %d %s\n", dinfo.id, dinfo.device);
	if (mapi_get_next_library_info(-1, &linfo) < 0)
		die("mapi_get_next_library_info");
	printf("library %s %u\nargs", linfo.libname, linfo.functs);
	for (n = -1; mapi_get_next_libfunct_info(linfo.id, n, &lfinfo) == 0; n++)
		printf(" %s=%s", lfinfo.name, lfinfo.argdescr);
	printf("\n");

	if (mapi_close_flow(fd1) < 0 || mapi_close_flow(fd2) < 0)
		die("mapi_close_flow");
	if (mapi_delete_offline_device(dev) < 0)
		die("mapi_delete_offline_device");
	return 0;
}
