/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flows over trace files, without privileges: what they count and keep
 * equals what libpcap's own filter says of the same packets, in pcap and
 * pcapng, whole or cut by a snap length, from a file, a FIFO or standard
 * input; and every damaged or unsupported trace gives a clear error, with
 * what was read before the damage still readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cbpf.h"
#include "mapi.h"
#include "pcap_oracle.h"
#include "pktbuild.h"
#include "sampler.h"
#include "traffic.h"
#include "tracew.h"

#define NPKTS 1500
#define TS0 1700000000123456789ull	/* the first packet's time, ns */

static char dir[64];
static struct pkt *pkts;

static uint64_t ts_of(int i)
{
	return TS0 + (uint64_t)i * 1000003u;
}

static void path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

/* The test traffic as a trace: pcap or pcapng, cut at snaplen (0: whole). */
static void write_trace(const char *path, int pcapng, uint32_t snaplen, int linktype, int n)
{
	struct tracew w;
	int i;

	assert_int_equal(tracew_open(&w, path, pcapng, linktype, snaplen), 0);
	for (i = 0; i < n; i++)
		tracew_put(&w, ts_of(i), pkts[i].b, (uint32_t)pkts[i].len, (uint32_t)pkts[i].len);
	assert_int_equal(tracew_close(&w), 0);
}

static void expect_error(int code, const char *words)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int got;

	mapi_read_error(&got, msg);
	if (got != code || !strstr(msg, words))
		fail_msg("want error %d mentioning \"%s\", got %d: %s", code, words, got, msg);
}

/* Waits (10 s at most) until the flow's trace is no longer being read. */
static void wait_read(int fd, mapi_flow_info_t *info)
{
	int i;

	for (i = 0; i < 1000; i++) {
		assert_int_equal(mapi_get_flow_info(fd, info), 0);
		if (info->trace_status != MAPI_TRACE_READING)
			return;
		usleep(10000);
	}
	fail_msg("the trace is still being read after 10 s");
}

static unsigned long long read_ull(int fd, int fid)
{
	unsigned long long *v = mapi_read_results(fd, fid, MAPI_COPY);

	assert_non_null(v);
	return *v;
}

/* What libpcap says: packets and wire bytes of the first n that pass expr,
 * each cut at snaplen. */
static void oracle(const char *expr, uint32_t snaplen, int n, unsigned long long *p,
		   unsigned long long *b)
{
	struct cbpf_prog prog;
	int i;

	assert_int_equal(cbpf_compile(expr, LINKTYPE_ETHERNET, 0, &prog), 0);
	*p = *b = 0;
	for (i = 0; i < n; i++) {
		uint32_t cap = (uint32_t)pkts[i].len;

		if (snaplen && cap > snaplen)
			cap = snaplen;
		if (oracle_run(&prog, pkts[i].b, cap, (uint32_t)pkts[i].len)) {
			(*p)++;
			*b += pkts[i].len;
		}
	}
	cbpf_prog_free(&prog);
}

/* A trace's counts under a filter equal libpcap's, pcap and pcapng, whole
 * and cut at 60 bytes (where filters looking further reject, as libpcap). */
static void test_counts(void **state)
{
	static const char *const filters[] = {
		"", "tcp and dst port 80", "udp", "ip6", "vlan", "greater 1000",
		"tcp[tcpflags] & tcp-syn != 0", "ip[2:2] > 576", "udp[100:4] = 0",
	};
	static const uint32_t snaps[] = { 0, 60 };
	char path[128];
	size_t f;
	int ng, s;

	(void)state;
	for (ng = 0; ng <= 1; ng++) {
		for (s = 0; s < 2; s++) {
			path_of(path, sizeof(path), ng ? "t.pcapng" : "t.pcap");
			write_trace(path, ng, snaps[s], 1, NPKTS);
			for (f = 0; f < sizeof(filters) / sizeof(*filters); f++) {
				unsigned long long want_p, want_b;
				mapi_flow_info_t info;
				int fd, pf, bf;

				fd = mapi_create_offline_flow(path, ng ? MFF_PCAPNG : MFF_PCAP);
				assert_true(fd > 0);
				if (*filters[f])
					assert_true(mapi_apply_function(fd, "BPF_FILTER",
									filters[f]) > 0);
				pf = mapi_apply_function(fd, "PKT_COUNTER");
				bf = mapi_apply_function(fd, "BYTE_COUNTER");
				assert_int_equal(mapi_get_flow_info(fd, &info), 0);
				assert_int_equal(info.trace_status, MAPI_TRACE_OPEN);
				assert_int_equal(mapi_connect(fd), 0);
				wait_read(fd, &info);
				assert_int_equal(info.trace_status, MAPI_TRACE_DONE);
				assert_int_equal(info.packets_seen, NPKTS);
				assert_int_equal(info.trace_first, ts_of(0));
				assert_int_equal(info.trace_last, ts_of(NPKTS - 1));
				oracle(filters[f], snaps[s], NPKTS, &want_p, &want_b);
				if (read_ull(fd, pf) != want_p || read_ull(fd, bf) != want_b)
					fail_msg("'%s' (%s, snap %u): %llu packets %llu bytes, "
						 "libpcap %llu %llu", filters[f], ng ? "pcapng" : "pcap",
						 snaps[s], read_ull(fd, pf), read_ull(fd, bf), want_p,
						 want_b);
				assert_int_equal(mapi_close_flow(fd), 0);
			}
		}
	}
}

static int looped;

static void count_pkt(const struct mapipkt *p)
{
	(void)p;
	looped++;
}

/* TO_BUFFER over a trace: the trace's packets, its timestamps, the snap
 * length; the end of the trace ends reading; nothing dropped. */
static void test_packets(void **state)
{
	struct cbpf_prog prog;
	mapi_function_info_t fi;
	unsigned long long *ref;
	char path[128];
	int fd, fid, pf, i, n = 0;

	(void)state;
	path_of(path, sizeof(path), "p.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	assert_int_equal(cbpf_compile("udp", LINKTYPE_ETHERNET, 0, &prog), 0);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(mapi_apply_function(fd, "BPF_FILTER", "udp") > 0);
	pf = mapi_apply_function(fd, "PKT_COUNTER");
	/* a small queue: the reader waits for the application, drops nothing */
	fid = mapi_apply_function(fd, "TO_BUFFER", 100, 65536);
	assert_true(fid > 0);
	assert_int_equal(mapi_connect(fd), 0);
	ref = mapi_read_results(fd, pf, MAPI_REF);
	assert_non_null(ref);
	for (i = 0; i < NPKTS; i++) {
		struct mapipkt *p;
		uint32_t len = (uint32_t)pkts[i].len;

		if (!oracle_run(&prog, pkts[i].b, len, len))
			continue;
		p = mapi_get_next_pkt(fd, fid);
		if (!p)
			fail_msg("packet %d (the %dth that matches) did not come", i, n + 1);
		assert_int_equal(p->ts, ts_of(i));
		assert_int_equal(p->wlen, len);
		assert_int_equal(p->caplen, len < 100 ? len : 100);
		assert_int_equal(p->direction, 0);
		assert_memory_equal(p->pkt, pkts[i].b, p->caplen);
		n++;
	}
	assert_null(mapi_get_next_pkt(fd, fid));
	expect_error(MAPI_ERR_TRACE_END, "no more packets");
	assert_int_equal(mapi_get_function_info(fd, fid, &fi), 0);
	assert_int_equal(fi.pkts, n);
	assert_int_equal(fi.delivered, n);
	assert_int_equal(fi.dropped, 0);
	assert_int_equal(fi.queued, 0);
	assert_int_equal(read_ull(fd, pf), n);
	/* MAPI_REF follows without calls; give the library's thread 10 ms */
	usleep(3 * MAPI_REF_REFRESH_MS * 1000);
	assert_int_equal(*(volatile unsigned long long *)ref, n);
	mapi_close_flow(fd);

	/* mapi_loop without a count ends with the trace */
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(mapi_apply_function(fd, "BPF_FILTER", "udp") > 0);
	fid = mapi_apply_function(fd, "TO_BUFFER");
	assert_int_equal(mapi_connect(fd), 0);
	looped = 0;
	assert_int_equal(mapi_loop(fd, fid, 0, count_pkt), n);
	assert_int_equal(looped, n);
	mapi_close_flow(fd);
	cbpf_prog_free(&prog);
}

/* Closing a flow whose reader waits on a full queue, nobody reading. */
static void test_close_while_reading(void **state)
{
	struct timespec t0, t1;
	char path[128];
	int fd;

	(void)state;
	path_of(path, sizeof(path), "c.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(mapi_apply_function(fd, "TO_BUFFER", 100, 4096 * 4) > 0);
	assert_int_equal(mapi_connect(fd), 0);
	usleep(20000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mapi_close_flow(fd), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
}

/* That out holds the packets of the trace that pass filter, the first
 * limit of them (0: all) and no more, byte for byte with their times;
 * returns their number. */
static int file_holds(const char *out, const char *filter, int limit)
{
	struct cbpf_prog prog;
	int i, n = 0;
	FILE *f;

	assert_int_equal(cbpf_compile(filter, LINKTYPE_ETHERNET, 0, &prog), 0);
	f = fopen(out, "rb");
	assert_non_null(f);
	/* the file: a 24-byte header, then per packet 16 bytes and the data */
	assert_int_equal(fseek(f, 24, SEEK_SET), 0);
	for (i = 0; i < NPKTS && (!limit || n < limit); i++) {
		uint32_t len = (uint32_t)pkts[i].len, h[4];
		uint8_t data[PKT_MAX];

		if (!oracle_run(&prog, pkts[i].b, len, len))
			continue;
		assert_int_equal(fread(h, 4, 4, f), 4);
		assert_int_equal((uint64_t)h[0] * 1000000000u + h[1], ts_of(i));
		assert_int_equal(h[2], len);
		assert_int_equal(h[3], len);
		assert_int_equal(fread(data, 1, len, f), len);
		assert_memory_equal(data, pkts[i].b, len);
		n++;
	}
	assert_int_equal(fgetc(f), EOF);
	fclose(f);
	cbpf_prog_free(&prog);
	return n;
}

/* TO_FILE over a trace writes what the filter keeps, with its timestamps. */
static void test_to_file(void **state)
{
	char path[128], out[128];
	mapi_flow_info_t info;
	int fd;

	(void)state;
	path_of(path, sizeof(path), "f.pcap");
	path_of(out, sizeof(out), "out.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(mapi_apply_function(fd, "BPF_FILTER", "tcp") > 0);
	assert_true(mapi_apply_function(fd, "TO_FILE", out) > 0);
	assert_int_equal(mapi_connect(fd), 0);
	wait_read(fd, &info);
	assert_int_equal(mapi_close_flow(fd), 0);
	assert_true(file_holds(out, "tcp", 0) > 0);
}

/* MAPI 2.0's TO_FILE(FORMAT, PATH, COUNT): COUNT packets, the file complete
 * once they are written, while the flow runs; its result says so, and the
 * packets after them are counted, not written. */
static void test_to_file_count(void **state)
{
	char path[128], out[128];
	mapi_function_info_t fi;
	mapi_flow_info_t info;
	int fd, fid, all, *status, k;

	(void)state;
	path_of(path, sizeof(path), "f.pcap");
	path_of(out, sizeof(out), "count.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	/* how many pass, from a whole file */
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(mapi_apply_function(fd, "BPF_FILTER", "tcp") > 0);
	fid = mapi_apply_function(fd, "TO_FILE", MFF_PCAP, out, 0);
	assert_true(fid > 0);
	assert_int_equal(mapi_connect(fd), 0);
	status = mapi_read_results(fd, fid, MAPI_REF);
	assert_non_null(status);
	wait_read(fd, &info);
	assert_int_equal(*status, 1);	/* no count: it writes until the end */
	assert_int_equal(mapi_close_flow(fd), 0);
	all = file_holds(out, "tcp", 0);
	assert_true(all > 4);

	for (k = 1; k <= all + 1; k += all / 2) {
		fd = mapi_create_offline_flow(path, MFF_PCAP);
		assert_true(mapi_apply_function(fd, "BPF_FILTER", "tcp") > 0);
		fid = mapi_apply_function(fd, "TO_FILE", MFF_PCAP, out, k);
		assert_true(fid > 0);
		assert_int_equal(mapi_connect(fd), 0);
		wait_read(fd, &info);
		assert_int_equal(*(int *)mapi_read_results(fd, fid, MAPI_COPY), k <= all ? 0 : 1);
		assert_int_equal(mapi_get_function_info(fd, fid, &fi), 0);
		assert_int_equal(fi.value, k <= all ? 0 : 1);
		assert_int_equal(fi.pkts, all);
		assert_int_equal(fi.delivered, k <= all ? k : all);
		assert_int_equal(fi.past, k <= all ? all - k : 0);
		assert_int_equal(fi.dropped + fi.queued, 0);
		/* complete before the flow is closed */
		if (k <= all)
			assert_int_equal(file_holds(out, "tcp", k), k);
		assert_int_equal(mapi_close_flow(fd), 0);
		assert_int_equal(file_holds(out, "tcp", k), k <= all ? k : all);
	}

	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_int_equal(mapi_apply_function(fd, "TO_FILE", MFF_DAG_ERF, out, 1), -1);
	expect_error(MAPI_APPLY_FAILED, "only MFF_PCAP");	/* MAPI 2.0's 7006 */
	assert_int_equal(mapi_apply_function(fd, "TO_FILE", MFF_PCAP, out, -1), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 3, "0 for no end");
	assert_int_equal(mapi_apply_function(fd, "TO_FILE", MFF_PCAP, "", 1), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "needs a file name");
	assert_int_equal(mapi_apply_function(fd, "TO_FILE", out, 0, 1), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "must be an integer");
	assert_int_equal(mapi_apply_function(fd, "TO_FILE", MFF_PCAP, out), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "must be a string");
	assert_int_equal(mapi_apply_function(fd, "TO_FILE", MFF_PCAP, out, 1, 2), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 4, "(PATH [SNAPLEN]) or (FORMAT PATH COUNT)");
	assert_int_equal(mapi_close_flow(fd), 0);
}

/* Flow n of an offline device: BPF_FILTER expr (if any), PKT_COUNTER (fid
 * *pf), BYTE_COUNTER, TO_BUFFER (fid *pb, or none), connected. */
static int device_flow(const char *dev, const char *expr, int *pf, int *pb)
{
	int fd = mapi_create_flow(dev);

	assert_true(fd > 0);
	if (*expr)
		assert_true(mapi_apply_function(fd, "BPF_FILTER", expr) > 0);
	*pf = mapi_apply_function(fd, "PKT_COUNTER");
	assert_true(mapi_apply_function(fd, "BYTE_COUNTER") == *pf + 1);
	if (pb)
		*pb = mapi_apply_function(fd, "TO_BUFFER");
	assert_int_equal(mapi_connect(fd), 0);
	return fd;
}

/* MAPI 2.0's offline device: three flows read one trace together, each
 * packet once through every one; their counts equal libpcap's, and one's
 * packets are the trace's, in order. */
static void test_offline_device(void **state)
{
	static const char *const filters[] = { "tcp", "udp", "" };
	int fds[3], pfs[3], pb = 0, i, k, n = 0;
	unsigned long long want_p, want_b;
	struct cbpf_prog prog;
	mapi_flow_info_t info;
	struct mapipkt *pkt;
	char path[128], name[MAPI_DEVNAME_LENGTH];
	struct mapi_stat st;
	char *dev;

	(void)state;
	path_of(path, sizeof(path), "dev.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	dev = mapi_create_offline_device(path, MFF_PCAP);
	assert_non_null(dev);
	assert_non_null(strchr(dev, ':'));	/* no interface's name */
	for (i = 0; i < 3; i++)
		fds[i] = device_flow(dev, filters[i], &pfs[i], i == 0 ? &pb : NULL);
	assert_int_equal(mapi_get_flow_info(fds[0], &info), 0);
	assert_int_equal(info.trace_status, MAPI_TRACE_OPEN);
	assert_string_equal(info.device, dev);
	assert_int_equal(mapi_start_offline_device(dev), 0);
	/* a flow connected after the start would miss packets: refused */
	k = mapi_create_flow(dev);
	assert_true(k > 0);
	assert_int_equal(mapi_connect(k), -1);
	expect_error(MAPI_ERR_DEVICE_STARTED, "before mapi_start_offline_device");
	assert_int_equal(mapi_close_flow(k), 0);
	assert_int_equal(mapi_start_offline_device(dev), -1);
	expect_error(MAPI_ERR_DEVICE_STARTED, "already reading");
	/* the first flow's packets: the trace's tcp packets, in order */
	assert_int_equal(cbpf_compile("tcp", LINKTYPE_ETHERNET, 0, &prog), 0);
	for (i = 0; i < NPKTS; i++) {
		if (!oracle_run(&prog, pkts[i].b, (uint32_t)pkts[i].len, (uint32_t)pkts[i].len))
			continue;
		pkt = mapi_get_next_pkt(fds[0], pb);
		assert_non_null(pkt);
		assert_int_equal(pkt->ts, ts_of(i));
		assert_int_equal(pkt->wlen, pkts[i].len);
		assert_memory_equal(pkt->pkt, pkts[i].b, pkts[i].len);
		n++;
	}
	cbpf_prog_free(&prog);
	assert_null(mapi_get_next_pkt(fds[0], pb));
	expect_error(MAPI_ERR_TRACE_END, "");
	assert_true(n > 0);
	for (i = 0; i < 3; i++) {
		wait_read(fds[i], &info);
		assert_int_equal(info.trace_status, MAPI_TRACE_DONE);
		assert_int_equal(info.packets_seen, NPKTS);
		oracle(filters[i], 0, NPKTS, &want_p, &want_b);
		assert_int_equal(read_ull(fds[i], pfs[i]), want_p);
		assert_int_equal(read_ull(fds[i], pfs[i] + 1), want_b);
	}
	/* mapi_stats of the device: the packets read */
	assert_int_equal(mapi_stats(dev, &st), 0);
	assert_int_equal(st.ps_recv, NPKTS);
	assert_int_equal(st.ps_drop + st.ps_ifdrop + st.ps_sent, 0);
	assert_string_equal(st.dev, dev);
	/* the name goes; the flows keep their results */
	snprintf(name, sizeof(name), "%s", dev);
	assert_int_equal(mapi_delete_offline_device(name), 0);
	assert_int_equal(mapi_create_flow(name), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, name);
	assert_int_equal(mapi_start_offline_device(name), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "no offline device");
	assert_int_equal(mapi_stats(name, &st), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "offline device");
	for (i = 0; i < 3; i++) {
		oracle(filters[i], 0, NPKTS, &want_p, &want_b);
		assert_int_equal(read_ull(fds[i], pfs[i]), want_p);
		assert_int_equal(mapi_close_flow(fds[i]), 0);
	}
}

/* A flow of a device closes at once while the reader waits for room in
 * another flow's full TO_BUFFER; a device deleted before its start ends
 * its flows' trace, so that no reader waits for ever; bad calls. */
static void test_offline_device_ends(void **state)
{
	struct timespec t0, t1;
	mapi_flow_info_t info;
	int full, other, pf, fid, i;
	char path[128], *dev;

	(void)state;
	path_of(path, sizeof(path), "dev.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	dev = mapi_create_offline_device(path, MFF_PCAP);
	assert_non_null(dev);
	full = mapi_create_flow(dev);
	fid = mapi_apply_function(full, "TO_BUFFER", 100, 4096 * 4);	/* never read */
	assert_true(fid > 0);
	assert_int_equal(mapi_connect(full), 0);
	other = device_flow(dev, "", &pf, NULL);
	assert_int_equal(mapi_start_offline_device(dev), 0);
	/* the reader stops at the full buffer, the other flow with it */
	for (i = 0; i < 200 && read_ull(other, pf) == 0; i++)
		usleep(10000);
	usleep(50000);
	assert_true(read_ull(other, pf) > 0);
	assert_true(read_ull(other, pf) < NPKTS);
	assert_int_equal(mapi_get_flow_info(other, &info), 0);
	assert_int_equal(info.trace_status, MAPI_TRACE_READING);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mapi_close_flow(other), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(mapi_delete_offline_device(dev), 0);
	assert_int_equal(mapi_close_flow(full), 0);

	/* deleted before it started */
	dev = mapi_create_offline_device(path, MFF_PCAP);
	assert_non_null(dev);
	full = mapi_create_flow(dev);
	fid = mapi_apply_function(full, "TO_BUFFER");
	other = mapi_create_flow(dev);	/* not connected yet */
	assert_int_equal(mapi_connect(full), 0);
	assert_int_equal(mapi_delete_offline_device(dev), 0);
	assert_null(mapi_get_next_pkt(full, fid));
	expect_error(MAPI_ERR_TRACE_END, "");
	assert_int_equal(mapi_get_flow_info(full, &info), 0);
	assert_int_equal(info.trace_status, MAPI_TRACE_FAILED);
	assert_non_null(strstr(info.trace_error, "deleted before mapi_start_offline_device"));
	assert_int_equal(mapi_connect(other), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "deleted before");
	assert_int_equal(mapi_close_flow(other), 0);
	assert_int_equal(mapi_close_flow(full), 0);

	/* bad calls */
	assert_null(mapi_create_offline_device("/nonexistent/x.pcap", MFF_PCAP));
	expect_error(MAPI_ERR_TRACE, "No such file");
	assert_null(mapi_create_offline_device(path, MFF_DAG_ERF));
	expect_error(MAPI_INVALID_ARGUMENT + 2, "MFF_DAG_ERF");
	assert_null(mapi_create_offline_device(NULL, MFF_PCAP));
	expect_error(MAPI_INVALID_ARGUMENT + 1, "NULL");
	assert_int_equal(mapi_start_offline_device(NULL), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "no offline device");
	assert_int_equal(mapi_delete_offline_device("trace:99999"), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "trace:99999");
	/* no format of mapi_create_offline_flow opens a device, with one there */
	dev = mapi_create_offline_device(path, MFF_PCAP);
	assert_non_null(dev);
	assert_int_equal(mapi_create_offline_flow(dev, -1), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "use MFF_PCAP or MFF_PCAPNG");
	assert_int_equal(mapi_create_offline_flow(NULL, -1), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "use MFF_PCAP or MFF_PCAPNG");
	assert_int_equal(mapi_delete_offline_device(dev), 0);
}

/* A TO_FILE whose file fails (past the file size limit, as on a full
 * disk): its result turns 0, so that a program waiting for it through
 * MAPI_REF does not wait for ever, and reading it then says why. */
static void test_to_file_fails(void **state)
{
	struct rlimit was, small = { 64 * 1024, 64 * 1024 };
	char path[128], out[128], *dev;
	mapi_function_info_t fi;
	mapi_flow_info_t info;
	int fd, fid, *status, i;

	(void)state;
	path_of(path, sizeof(path), "big.pcap");
	path_of(out, sizeof(out), "limited.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	dev = mapi_create_offline_device(path, MFF_PCAP);
	assert_non_null(dev);
	fd = mapi_create_flow(dev);
	signal(SIGXFSZ, SIG_IGN);	/* a write past the limit fails (EFBIG) instead */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	small.rlim_max = was.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	fid = mapi_apply_function(fd, "TO_FILE", MFF_PCAP, out, NPKTS);
	assert_true(fid > 0);
	assert_int_equal(mapi_connect(fd), 0);
	status = mapi_read_results(fd, fid, MAPI_REF);
	assert_non_null(status);
	assert_int_equal(*status, 1);
	assert_int_equal(mapi_start_offline_device(dev), 0);
	/* (flow information fails with the file: wait on the result) */
	for (i = 0; i < 1000 && *(volatile int *)status; i++)
		usleep(10000);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
	assert_int_equal(*(volatile int *)status, 0);
	assert_null(mapi_read_results(fd, fid, MAPI_COPY));
	expect_error(MAPI_ERR_IO, "File too large");
	assert_int_equal(mapi_get_flow_info(fd, &info), -1);
	expect_error(MAPI_ERR_IO, "File too large");
	assert_int_equal(mapi_get_function_info(fd, fid, &fi), -1);
	expect_error(MAPI_ERR_IO, "counted as dropped");
	assert_int_equal(mapi_close_flow(fd), -1);
	expect_error(MAPI_ERR_IO, "limited.pcap");
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(mapi_delete_offline_device(dev), 0);
}

/* SAMPLE over a trace: PERIODIC keeps exactly the VALUE-th, 2 VALUE-th, ...
 * packets reaching it; PROBABILISTIC keeps VALUE % within five standard
 * deviations, for each of 40 flows (40 seeds), and within four of the mean
 * over all of them; bad arguments name themselves. */
static void test_sample(void **state)
{
	unsigned long long want_p, want_b, total = 0;
	struct cbpf_prog prog;
	mapi_flow_info_t info;
	struct mapipkt *pkt;
	int fd, fid, pf, i, n = 0, k;
	double sd = sqrt(NPKTS * 0.25 * 0.75);
	char path[128];

	(void)state;
	path_of(path, sizeof(path), "sample.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(mapi_apply_function(fd, "BPF_FILTER", "udp") > 0);
	assert_true(mapi_apply_function(fd, "SAMPLE", 7, MAPI_PERIODIC) > 0);
	pf = mapi_apply_function(fd, "PKT_COUNTER");
	fid = mapi_apply_function(fd, "TO_BUFFER");
	assert_int_equal(mapi_connect(fd), 0);
	assert_int_equal(cbpf_compile("udp", LINKTYPE_ETHERNET, 0, &prog), 0);
	for (i = 0, k = 0; i < NPKTS; i++) {
		if (!oracle_run(&prog, pkts[i].b, (uint32_t)pkts[i].len, (uint32_t)pkts[i].len))
			continue;
		if (++k % 7)
			continue;
		pkt = mapi_get_next_pkt(fd, fid);
		assert_non_null(pkt);
		assert_int_equal(pkt->ts, ts_of(i));
		n++;
	}
	cbpf_prog_free(&prog);
	assert_null(mapi_get_next_pkt(fd, fid));
	expect_error(MAPI_ERR_TRACE_END, "");
	oracle("udp", 0, NPKTS, &want_p, &want_b);
	assert_int_equal(n, want_p / 7);
	assert_int_equal(read_ull(fd, pf), want_p / 7);
	assert_int_equal(mapi_close_flow(fd), 0);

	for (i = 0; i < 40; i++) {
		unsigned long long got;

		fd = mapi_create_offline_flow(path, MFF_PCAP);
		assert_true(mapi_apply_function(fd, "SAMPLE", 25, MAPI_PROBABILISTIC) > 0);
		pf = mapi_apply_function(fd, "PKT_COUNTER");
		assert_int_equal(mapi_connect(fd), 0);
		wait_read(fd, &info);
		got = read_ull(fd, pf);
		if (fabs((double)got - NPKTS * 0.25) > 5 * sd)
			fail_msg("SAMPLE(25, PROBABILISTIC) kept %llu of %d", got, NPKTS);
		total += got;
		assert_int_equal(mapi_close_flow(fd), 0);
	}
	if (fabs((double)total / 40 - NPKTS * 0.25) > 4 * sd / sqrt(40))
		fail_msg("SAMPLE(25, PROBABILISTIC) kept %.1f on average of %d", (double)total / 40,
			 NPKTS);

	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_int_equal(mapi_apply_function(fd, "SAMPLE", 5, 2), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "PERIODIC (0) or PROBABILISTIC (1)");
	assert_int_equal(mapi_apply_function(fd, "SAMPLE", 0, MAPI_PERIODIC), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "VALUE 1 or more");
	assert_int_equal(mapi_apply_function(fd, "SAMPLE", 101, MAPI_PROBABILISTIC), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "0 to 100");
	assert_int_equal(mapi_apply_function(fd, "SAMPLE", 5), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "SAMPLE takes 2 arguments (VALUE MODE)");
	assert_int_equal(mapi_close_flow(fd), 0);
}

/*
 * TOP over a trace, through the C API: each IP protocol listed has the
 * packets and bytes libpcap finds with "ip proto P or ip6 proto P", tagged
 * or not; the values listed, most first, add up to the packets with the
 * field; MAPI_REF is refused (a table cannot be a live reference).
 */
/* libpcap's packets and bytes of IP protocol p (either family, tagged or
 * not) among the test traffic's packets from to to (not included). */
static void protocol_oracle(unsigned int p, int from, int to, unsigned long long *packets,
			    unsigned long long *bytes)
{
	unsigned long long before_p, before_b;
	char expr[160];

	snprintf(expr, sizeof(expr), "ip proto %u or ip6 proto %u or (vlan and (ip proto %u "
		 "or ip6 proto %u))", p, p, p, p);
	oracle(expr, 0, to, packets, bytes);
	oracle(expr, 0, from, &before_p, &before_b);
	*packets -= before_p;
	*bytes -= before_b;
}

static void test_top(void **state)
{
	const struct mapi_top_result *r;
	unsigned long long sum = 0, want_p, want_b;
	mapi_flow_info_t info;
	int fd, fid, first;
	char path[128];
	unsigned int i;

	(void)state;
	path_of(path, sizeof(path), "top.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	fid = mapi_apply_function(fd, "TOP", 1000, MAPI_TOPX_IP, MAPI_TOPX_IP_PROTOCOL);
	assert_true(fid > 0);
	assert_int_equal(mapi_connect(fd), 0);
	wait_read(fd, &info);
	assert_null(mapi_read_results(fd, fid, MAPI_REF));
	expect_error(MAPI_INVALID_ARGUMENT + 3, "TOP's result is a table: read it with MAPI_COPY");
	r = mapi_read_results(fd, fid, MAPI_COPY);
	assert_non_null(r);
	assert_true(r->count > 2 && r->count == r->distinct && r->exact && !r->other_packets);
	assert_int_equal(r->sort, MAPI_SORT_BY_PACKETS);
	for (i = 0; i < r->count; i++) {
		const struct mapi_top_value *v = &r->values[i];
		unsigned int p = (unsigned int)v->value.number;

		assert_int_equal(v->value.family, 0);
		if (i)
			assert_true(v->packets <= r->values[i - 1].packets);
		protocol_oracle(p, 0, NPKTS, &want_p, &want_b);
		if (v->packets != want_p || v->bytes != want_b)
			fail_msg("protocol %u: %llu packets %llu bytes; libpcap %llu %llu", p,
				 v->packets, v->bytes, want_p, want_b);
		sum += v->packets;
	}
	/* (frames cut inside the IP header have no protocol field: they are
	 * in libpcap's "ip" but in none of its "ip proto P") */
	assert_int_equal(sum, r->packets);
	assert_int_equal(mapi_close_flow(fd), 0);

	/* per interval of 100 ms: the last, short one, to the last packet */
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	fid = mapi_apply_function(fd, "TOP", 1000, MAPI_TOPX_IP, MAPI_TOPX_IP_PROTOCOL, "100ms");
	assert_true(fid > 0);
	assert_int_equal(mapi_connect(fd), 0);
	wait_read(fd, &info);
	r = mapi_read_results(fd, fid, MAPI_COPY);
	assert_non_null(r);
	assert_true(r->interval == 100000000 && r->partial && r->end == ts_of(NPKTS - 1));
	/* the first packet of the last interval */
	for (first = 0; ts_of(first) < TS0 + (ts_of(NPKTS - 1) - TS0) / 100000000 * 100000000;
	     first++)
		;
	for (i = 0; i < r->count; i++) {
		const struct mapi_top_value *v = &r->values[i];
		unsigned int p = (unsigned int)v->value.number;

		protocol_oracle(p, first, NPKTS, &want_p, &want_b);
		if (v->packets != want_p || v->bytes != want_b)
			fail_msg("protocol %u in the last interval: %llu packets %llu bytes; libpcap "
				 "%llu %llu", p, v->packets, v->bytes, want_p, want_b);
	}
	assert_true(r->count > 1 && r->exact);
	assert_int_equal(mapi_close_flow(fd), 0);

	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_int_equal(mapi_apply_function(fd, "TOP", 5, MAPI_TOPX_UDP, MAPI_TOPX_TCP_SRCPORT), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 3, "TOPX_TCP_SRCPORT is not a field of TOPX_UDP");
	assert_int_equal(mapi_apply_function(fd, "TOP", 5, MAPI_TOPX_IP), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 3, "TOP takes (X PROTOCOL FIELD [SORT] [PREFIX] [PREFIX6]) or");
	assert_int_equal(mapi_close_flow(fd), 0);
}

/*
 * THRESHOLD's events over a trace, through mapi_wait_event: the value of a
 * counter above 100, an event every 200 ms of the trace's time at most, 3
 * at most: each event's poll time is 10 ms steps from the first packet,
 * its value the packets before it (libpcap's count of those), numbered 1,
 * 2, 3; then MAPI_ERR_TRACE_END.  A function without events is refused.
 */
static void test_threshold_events(void **state)
{
	struct mapi_threshold_event ev;
	mapi_flow_info_t info;
	uint64_t prev = 0;
	int fd, cnt, th, k, i, before;
	char path[128];

	(void)state;
	path_of(path, sizeof(path), "threshold.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	cnt = mapi_apply_function(fd, "PKT_COUNTER");
	th = mapi_apply_function(fd, "THRESHOLD", MAPI_THRESHOLD_VALUE, 0, cnt, 100,
				 MAPI_BOUNDARY_ABOVE, 200000, 1, 3);
	assert_true(cnt > 0 && th > 0);
	assert_int_equal(mapi_wait_event(fd, th, 0, &ev), -1);
	expect_error(MAPI_FLOW_NOT_CONNECTED, "");
	assert_int_equal(mapi_connect(fd), 0);
	for (k = 1; k <= 3; k++) {
		assert_int_equal(mapi_wait_event(fd, th, 5000, &ev), 0);
		assert_int_equal(ev.number, k);
		assert_int_equal((ev.ts - ts_of(0)) % 10000000, 0);
		if (k > 1)
			assert_true(ev.ts >= prev + 200000000);
		prev = ev.ts;
		for (i = 0, before = 0; i < NPKTS; i++)
			before += ts_of(i) < ev.ts;
		assert_int_equal(ev.value, before);
		assert_true(ev.value > 100);
	}
	assert_int_equal(mapi_wait_event(fd, th, 5000, &ev), -1);
	expect_error(MAPI_ERR_TRACE_END, "no more events");
	assert_int_equal(mapi_wait_event(fd, cnt, 0, &ev), -1);
	expect_error(MAPI_ERR_WRONG_FUNCTION, "PKT_COUNTER, which has no events");
	wait_read(fd, &info);
	assert_int_equal(mapi_close_flow(fd), 0);
}

/*
 * STATS and DIST of another function's number (a counter's gain every
 * 10 ms of the trace's time) against the packets' times, and DIST's form
 * told by its argument types: five integers are a header field's, a string
 * fifth is MAPI 2.0's of a result.
 */
static void test_result_of_result(void **state)
{
	const struct mapi_stats_result *st;
	const struct mapi_dist_result *d, *df;
	unsigned long long n = 0, sum = 0, sum2 = 0, lo = ~0ull, hi = 0;
	unsigned long long bins[4] = { 0 };	/* below 9, 9, 10, from 11 on */
	uint64_t end, before, prev = 0;
	mapi_flow_info_t info;
	int fd, cnt, sid, did, fid, i;
	char path[128];

	(void)state;
	path_of(path, sizeof(path), "watch.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	cnt = mapi_apply_function(fd, "PKT_COUNTER");
	sid = mapi_apply_function(fd, "STATS", 0, cnt, "10ms", 1);
	did = mapi_apply_function(fd, "DIST", 0, cnt, 9, 11, "10ms", 1, 1);
	fid = mapi_apply_function(fd, "DIST", MAPI_TOPX_IP, MAPI_TOPX_IP_TTL, 0, 256, 8);
	assert_true(cnt > 0 && sid > 0 && did > 0 && fid > 0);
	assert_int_equal(mapi_connect(fd), 0);
	wait_read(fd, &info);
	/* the whole intervals' gains; the last, short one is not a sample */
	for (end = TS0 + 10000000; end <= ts_of(NPKTS - 1); end += 10000000) {
		for (i = 0, before = 0; i < NPKTS; i++)
			before += ts_of(i) < end;
		n++;
		sum += before - prev;
		sum2 += (before - prev) * (before - prev);
		lo = before - prev < lo ? before - prev : lo;
		hi = before - prev > hi ? before - prev : hi;
		bins[before - prev < 9 ? 0 : before - prev < 11 ? before - prev - 8 : 3]++;
		prev = before;
	}
	st = mapi_read_results(fd, sid, MAPI_COPY);
	assert_non_null(st);
	assert_true(st->count == n && st->sum_lo == sum && st->sum2_lo == sum2 && !st->sum_hi);
	assert_true(st->min == lo && st->max == hi);
	d = mapi_read_results(fd, did, MAPI_COPY);
	assert_non_null(d);
	assert_true(d->bins == 2 && d->step == 1 && d->count == n);
	assert_true(d->below == bins[0] && d->counts[0] == bins[1] && d->counts[1] == bins[2] &&
		    d->above == bins[3]);
	df = mapi_read_results(fd, fid, MAPI_COPY);
	assert_non_null(df);
	assert_true(df->bins == 32 && df->step == 8 && df->count > n);
	assert_int_equal(mapi_close_flow(fd), 0);

	fd = mapi_create_offline_flow(path, MFF_PCAP);
	cnt = mapi_apply_function(fd, "PKT_COUNTER");
	assert_int_equal(mapi_apply_function(fd, "DIST", 0, cnt, 0, 10, 5, "1s"), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 5, "(INTERVAL) must be a string");
	assert_int_equal(mapi_apply_function(fd, "STATS", 0, cnt, 10), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 3, "(INTERVAL) must be a string");
	assert_int_equal(mapi_close_flow(fd), 0);
}

/*
 * HASHSAMP KEEP 1 over a trace: a record for each packet it keeps (the
 * PKT_COUNTER after it), with the trace's times, each read once: a second
 * read has none; nothing lost or missed.  The fields themselves are held
 * to a model in tests/net/test_hashsamp.sh.
 */
static void test_hashsamp_records(void **state)
{
	const struct mapi_hashsamp_result *r;
	mapi_flow_info_t info;
	int fd, hs, cnt;
	unsigned int i, k;
	char path[128];

	(void)state;
	path_of(path, sizeof(path), "hashsamp.pcap");
	write_trace(path, 0, 0, 1, NPKTS);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	hs = mapi_apply_function(fd, "HASHSAMP", 1024, 1);
	cnt = mapi_apply_function(fd, "PKT_COUNTER");
	assert_true(hs > 0 && cnt > 0);
	assert_int_equal(mapi_connect(fd), 0);
	wait_read(fd, &info);
	r = mapi_read_results(fd, hs, MAPI_COPY);
	assert_non_null(r);
	assert_true(r->keep == 1 && r->kept > 0 && r->kept == read_ull(fd, cnt));
	assert_true(r->recorded == r->kept && r->count == r->kept && !r->lost && !r->missed);
	for (i = 0, k = 0; i < r->count; i++) {
		const struct mapi_hashsamp_record *e = &r->records[i];

		assert_true(e->family == 4 || e->family == 6);
		assert_true(e->proto == 6 || e->proto == 17);
		/* the times of packets of the trace, in order */
		while (k < NPKTS && ts_of((int)k) != e->ts)
			k++;
		if (k == NPKTS)
			fail_msg("record %u: %llu is not the time of a packet after the last", i,
				 e->ts);
	}
	r = mapi_read_results(fd, hs, MAPI_COPY);
	assert_non_null(r);
	assert_true(r->count == 0 && r->recorded == r->kept);
	assert_int_equal(mapi_close_flow(fd), 0);
}

/* The samples a sampler gave, as (ts, value, n, partial). */
static uint64_t got[8][4];
static int ngot;

static void take_sample(void *ctx, uint64_t ts, uint64_t value, uint64_t n, int partial)
{
	(void)ctx;
	assert_true(ngot < 8);
	got[ngot][0] = ts;
	got[ngot][1] = value;
	got[ngot][2] = n;
	got[ngot++][3] = (uint64_t)partial;
}

/*
 * The sampler under BUCKET, STATS, DIST and TOP per interval: intervals of
 * 10 from the start (0), its own counts from 0.  A tick at 35 after one at
 * 5 finds three intervals ended: BUCKET's kind gives the first the whole
 * gain and the two others none (or the value, without RESET); TOP's kind
 * (merge) gives one sample of the three at the last end.  The final tick
 * gives the short interval to it; then nothing more.
 */
static void test_sampler(void **state)
{
	static const uint64_t split_reset[][4] = { { 10, 10, 1, 0 }, { 20, 0, 2, 0 },
						   { 37, 2, 1, 1 } };
	static const uint64_t split_value[][4] = { { 10, 10, 1, 0 }, { 20, 10, 2, 0 },
						   { 37, 12, 1, 1 } };
	static const uint64_t merged[][4] = { { 30, 10, 3, 0 }, { 37, 2, 1, 1 } };
	const struct { int reset, merge, n; const uint64_t (*want)[4]; } cases[] = {
		{ 1, 0, 3, split_reset }, { 0, 0, 3, split_value }, { 1, 1, 2, merged },
	};
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct sampler sm = { .interval = 10, .reset = cases[c].reset, .own = 1,
				      .merge = cases[c].merge };

		ngot = 0;
		sampler_tick(&sm, 0, 5, 3, 0, take_sample, NULL);
		assert_int_equal(ngot, 0);
		sampler_tick(&sm, 0, 35, 10, 0, take_sample, NULL);
		sampler_tick(&sm, 0, 37, 12, 1, take_sample, NULL);
		sampler_tick(&sm, 0, 90, 20, 1, take_sample, NULL);
		assert_int_equal(ngot, cases[c].n);
		assert_memory_equal(got, cases[c].want, sizeof(got[0]) * (size_t)cases[c].n);
	}
}

static void create_refused(const char *path, int format, int code, const char *words)
{
	if (mapi_create_offline_flow(path, format) != -1)
		fail_msg("%s was accepted", path ? path : "NULL");
	expect_error(code, words);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static size_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

static void test_bad_files(void **state)
{
	char path[128], ng[128], raw[128];
	static const uint8_t header_part[10] = { 0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0 };
	int fd;

	(void)state;
	create_refused(NULL, MFF_PCAP, MAPI_INVALID_ARGUMENT + 1, "NULL");
	create_refused("/nonexistent/x.pcap", MFF_PCAP, MAPI_ERR_TRACE, "No such file");
	create_refused(dir, MFF_PCAP, MAPI_ERR_TRACE, "is a directory");
	path_of(path, sizeof(path), "empty.pcap");
	write_bytes(path, "", 0);
	create_refused(path, MFF_PCAP, MAPI_ERR_TRACE, "empty");
	path_of(path, sizeof(path), "header.pcap");
	write_bytes(path, header_part, sizeof(header_part));
	create_refused(path, MFF_PCAP, MAPI_ERR_TRACE, "truncated");
	path_of(path, sizeof(path), "text.pcap");
	write_bytes(path, "hello, this is not a trace at all\n", 34);
	create_refused(path, MFF_PCAP, MAPI_ERR_TRACE, "format");
	/* another link type: raw IP (DLT_RAW, 12) */
	path_of(raw, sizeof(raw), "raw.pcap");
	write_trace(raw, 0, 0, 12, 5);
	create_refused(raw, MFF_PCAP, MAPI_ERR_TRACE, "link type");
	/* the format said must be the file's */
	path_of(ng, sizeof(ng), "g.pcapng");
	write_trace(ng, 1, 0, 1, 5);
	create_refused(ng, MFF_PCAP, MAPI_ERR_TRACE, "MFF_PCAPNG");
	path_of(path, sizeof(path), "g.pcap");
	write_trace(path, 0, 0, 1, 5);
	create_refused(path, MFF_PCAPNG, MAPI_ERR_TRACE, "MFF_PCAP");
	create_refused(path, 7, MAPI_INVALID_ARGUMENT + 2, "MFF_PCAP or MFF_PCAPNG");
	/* an offline flow has no direction or attach mode */
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(fd > 0);
	assert_int_equal(mapi_set_direction(fd, MAPI_DIR_IN), -1);
	expect_error(MAPI_ERR_WRONG_FUNCTION, "trace file");
	assert_int_equal(mapi_set_attach_mode(fd, MAPI_MODE_NATIVE), -1);
	expect_error(MAPI_ERR_WRONG_FUNCTION, "trace file");
	mapi_close_flow(fd);
}

/* A trace damaged after k packets: k are counted, then FAILED says why. */
static void damaged(const char *path, int k, const char *words)
{
	mapi_flow_info_t info;
	int fd, pf;

	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(fd > 0);
	pf = mapi_apply_function(fd, "PKT_COUNTER");
	assert_int_equal(mapi_connect(fd), 0);
	wait_read(fd, &info);
	assert_int_equal(info.trace_status, MAPI_TRACE_FAILED);
	if (!strstr(info.trace_error, words))
		fail_msg("want the error to mention \"%s\": %s", words, info.trace_error);
	assert_int_equal(read_ull(fd, pf), k);
	assert_int_equal(mapi_close_flow(fd), 0);
}

static void test_damaged_records(void **state)
{
	char path[128];
	size_t size;
	uint32_t huge = 0x7fffffff;
	int fd;

	(void)state;
	/* the last record cut short */
	path_of(path, sizeof(path), "cut.pcap");
	write_trace(path, 0, 0, 1, 10);
	size = file_size(path);
	assert_int_equal(truncate(path, (off_t)(size - 5)), 0);
	damaged(path, 9, "truncated");
	/* the third record's captured length beyond any snap length */
	path_of(path, sizeof(path), "len.pcap");
	write_trace(path, 0, 0, 1, 10);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &huge, 4, (off_t)(24 + 2 * 16 + pkts[0].len + pkts[1].len + 8)),
			 4);
	close(fd);
	damaged(path, 2, "bigger than snaplen");
}

struct writer {
	const char *path;
	size_t upto;		/* bytes of the trace to write before closing */
	int hold;		/* then keep the pipe open, silent, until told */
	volatile int release;
};

static void *fifo_writer(void *arg)
{
	struct writer *w = arg;
	char src[128];
	uint8_t *buf;
	FILE *in;
	int fd;

	path_of(src, sizeof(src), "src.pcap");
	in = fopen(src, "rb");
	buf = malloc(w->upto);
	if (!in || !buf || fread(buf, 1, w->upto, in) != w->upto)
		abort();
	fclose(in);
	fd = open(w->path, O_WRONLY);
	if (fd < 0 || write(fd, buf, w->upto) != (ssize_t)w->upto)
		abort();
	while (w->hold && !w->release)
		usleep(1000);
	close(fd);
	free(buf);
	return NULL;
}

/* FIFOs: one that closes inside the header, one inside a record, one that
 * stays open and silent while the flow is closed. */
static void test_fifo(void **state)
{
	struct writer w = { 0 };
	char src[128], fifo[128];
	mapi_flow_info_t info;
	pthread_t t;
	int fd, pf;

	(void)state;
	path_of(src, sizeof(src), "src.pcap");
	write_trace(src, 0, 0, 1, 10);
	path_of(fifo, sizeof(fifo), "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	w.path = fifo;

	w.upto = 12;
	assert_int_equal(pthread_create(&t, NULL, fifo_writer, &w), 0);
	create_refused(fifo, MFF_PCAP, MAPI_ERR_TRACE, "truncated");
	pthread_join(t, NULL);

	w.upto = 24 + 3 * 16 + pkts[0].len + pkts[1].len + pkts[2].len + 20;
	assert_int_equal(pthread_create(&t, NULL, fifo_writer, &w), 0);
	fd = mapi_create_offline_flow(fifo, MFF_PCAP);
	assert_true(fd > 0);
	pf = mapi_apply_function(fd, "PKT_COUNTER");
	assert_int_equal(mapi_connect(fd), 0);
	wait_read(fd, &info);
	pthread_join(t, NULL);
	assert_int_equal(info.trace_status, MAPI_TRACE_FAILED);
	assert_int_equal(read_ull(fd, pf), 3);
	mapi_close_flow(fd);

	w.hold = 1;
	w.upto = 24 + 16 + pkts[0].len;
	assert_int_equal(pthread_create(&t, NULL, fifo_writer, &w), 0);
	fd = mapi_create_offline_flow(fifo, MFF_PCAP);
	assert_true(fd > 0);
	pf = mapi_apply_function(fd, "PKT_COUNTER");
	assert_int_equal(mapi_connect(fd), 0);
	while (read_ull(fd, pf) < 1)
		usleep(1000);
	assert_int_equal(mapi_get_flow_info(fd, &info), 0);
	assert_int_equal(info.trace_status, MAPI_TRACE_READING);
	assert_int_equal(mapi_close_flow(fd), 0);	/* returns though nothing comes */
	w.release = 1;
	pthread_join(t, NULL);
	unlink(fifo);
}

/* Standard input, "-": a pipe on fd 0. */
static void test_stdin(void **state)
{
	unsigned long long want_p, want_b;
	struct writer w = { 0 };
	mapi_flow_info_t info;
	char src[128], fifo[128];
	pthread_t t;
	int fd, pf, saved, in;

	(void)state;
	path_of(src, sizeof(src), "src.pcap");
	write_trace(src, 0, 0, 1, NPKTS);
	path_of(fifo, sizeof(fifo), "stdin-fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	w.path = fifo;
	w.upto = file_size(src);
	assert_int_equal(pthread_create(&t, NULL, fifo_writer, &w), 0);
	in = open(fifo, O_RDONLY);
	assert_true(in >= 0);
	saved = dup(0);
	assert_int_equal(dup2(in, 0), 0);
	close(in);
	fd = mapi_create_offline_flow("-", MFF_PCAP);
	assert_true(fd > 0);
	assert_true(mapi_apply_function(fd, "BPF_FILTER", "tcp") > 0);
	pf = mapi_apply_function(fd, "PKT_COUNTER");
	assert_int_equal(mapi_connect(fd), 0);
	wait_read(fd, &info);
	pthread_join(t, NULL);
	oracle("tcp", 0, NPKTS, &want_p, &want_b);
	assert_int_equal(info.trace_status, MAPI_TRACE_DONE);
	assert_int_equal(read_ull(fd, pf), want_p);
	mapi_close_flow(fd);
	dup2(saved, 0);
	close(saved);
	unlink(fifo);
}

/*
 * protochain over a trace gives up after 64 headers walked, all the
 * filter's walks together, as in the kernel: a frame whose AH header names
 * itself is rejected, not walked for ever, and two walks of 40 headers
 * are past the bound where one walk of them is not.
 */
static void test_protochain_bound(void **state)
{
	static const struct {
		const char *expr;
		unsigned long long want;	/* of the four frames below */
	} cases[] = {
		{ "protochain 6", 3 },
		{ "ip6 protochain 17 or ip6 protochain 6", 2 },
	};
	struct pkt *f = calloc(4, sizeof(*f));
	mapi_flow_info_t info;
	struct tracew w;
	char path[128];
	size_t c;
	int i, fd, pf;

	(void)state;
	assert_non_null(f);
	pkt_ipv4_ah_loop(&f[0]);		/* rejected by both */
	pkt_ipv6_dstopts_chain(&f[1], 3);	/* passes both */
	pkt_ipv6_dstopts_chain(&f[2], 40);	/* 40 turns, or 80 */
	pkt_ipv6_dstopts_chain(&f[3], 0);	/* plain TCP: passes both */
	path_of(path, sizeof(path), "chains.pcap");
	assert_int_equal(tracew_open(&w, path, 0, 1, 0), 0);
	for (i = 0; i < 4; i++)
		tracew_put(&w, ts_of(i), f[i].b, (uint32_t)f[i].len, (uint32_t)f[i].len);
	assert_int_equal(tracew_close(&w), 0);
	free(f);
	for (c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
		fd = mapi_create_offline_flow(path, MFF_PCAP);
		assert_true(fd > 0);
		assert_true(mapi_apply_function(fd, "BPF_FILTER", cases[c].expr) > 0);
		pf = mapi_apply_function(fd, "PKT_COUNTER");
		assert_int_equal(mapi_connect(fd), 0);
		wait_read(fd, &info);
		assert_int_equal(info.trace_status, MAPI_TRACE_DONE);
		if (read_ull(fd, pf) != cases[c].want)
			fail_msg("'%s': %llu of the 4 frames, not %llu", cases[c].expr,
				 read_ull(fd, pf), cases[c].want);
		assert_int_equal(mapi_close_flow(fd), 0);
	}
}

static int setup(void **state)
{
	int i;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mapi-offline.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	pkts = calloc(NPKTS, sizeof(*pkts));
	traffic_seed(55);
	for (i = 0; i < NPKTS; i++)
		traffic_next(&pkts[i], TRAFFIC_ALL);
	return pkts ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	free(pkts);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_packets),
		cmocka_unit_test(test_close_while_reading),
		cmocka_unit_test(test_to_file),
		cmocka_unit_test(test_to_file_count),
		cmocka_unit_test(test_offline_device),
		cmocka_unit_test(test_offline_device_ends),
		cmocka_unit_test(test_to_file_fails),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_threshold_events),
		cmocka_unit_test(test_result_of_result),
		cmocka_unit_test(test_hashsamp_records),
		cmocka_unit_test(test_sampler),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_damaged_records),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_protochain_bound),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
