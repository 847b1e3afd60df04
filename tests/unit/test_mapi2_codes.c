/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The same failure gives MAPI 2.0's code, in the same call and checked in
 * the same order: one test a row of the table in mapi2-reference.md
 * ("Error codes MAPI 2.0 gave").  Connected flows read a trace file, so
 * that no privilege is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <cmocka.h>

#include "cbpf.h"
#include "mapi.h"
#include "pktbuild.h"
#include "tracew.h"

static char trace[64];
static unsigned int frame_len;	/* the trace's one frame */

static void expect_error(int code, const char *words)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int got = 0;

	mapi_read_error(&got, msg);
	if (got != code || !strstr(msg, words))
		fail_msg("want code %d mentioning \"%s\", got %d: %s", code, words, got, msg);
}

static void expect_code(int code)
{
	expect_error(code, "");
}

/* A flow over the trace with PKT_COUNTER (fid 1) and TO_BUFFER (fid 2),
 * connected or not. */
static int trace_flow(int connect)
{
	int fd = mapi_create_offline_flow(trace, MFF_PCAP);

	assert_true(fd > 0);
	assert_int_equal(mapi_apply_function(fd, "PKT_COUNTER"), 1);
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER"), 2);
	if (connect)
		assert_int_equal(mapi_connect(fd), 0);
	return fd;
}

static int setup(void **state)
{
	struct tracew w;
	struct pkt p;

	(void)state;
	snprintf(trace, sizeof(trace), "/tmp/mapi-codes.%d.pcap", (int)getpid());
	pkt_bench_frame(&p, 0);
	frame_len = (unsigned int)p.len;
	if (tracew_open(&w, trace, 0, LINKTYPE_ETHERNET, 0))
		return -1;
	tracew_put(&w, 1000000000ull, p.b, (uint32_t)p.len, (uint32_t)p.len);
	return tracew_close(&w);
}

static int teardown(void **state)
{
	(void)state;
	unlink(trace);
	return 0;
}

static void nothing(const struct mapipkt *p)
{
	(void)p;
}

/* 6147: a bad flow descriptor or function id in get_next_pkt, loop and apply */
static void test_invalid_flow_or_fid(void **state)
{
	int fd = trace_flow(1), closed = trace_flow(0);

	(void)state;
	mapi_close_flow(closed);
	assert_null(mapi_get_next_pkt(0, 2));
	expect_code(6147);
	assert_null(mapi_get_next_pkt(-3, 2));
	expect_code(6147);
	assert_null(mapi_get_next_pkt(fd + 1000, 2));
	expect_code(6147);
	assert_null(mapi_get_next_pkt(fd, 0));
	expect_code(6147);
	assert_null(mapi_get_next_pkt(fd, 9));
	expect_code(6147);
	assert_int_equal(mapi_loop(closed, 2, 1, nothing), -1);
	expect_code(6147);
	assert_int_equal(mapi_loop(fd, 9, 1, nothing), -1);
	expect_code(6147);
	assert_int_equal(mapi_loop(fd, -1, 1, nothing), -1);
	expect_code(6147);
	assert_int_equal(mapi_apply_function(0, "PKT_COUNTER"), -1);
	expect_code(6147);
	assert_int_equal(mapi_apply_function(closed, "PKT_COUNTER"), -1);
	expect_code(6147);
	assert_int_equal(MAPI_INVALID_FLOW_OR_FID, 6147);
	mapi_close_flow(fd);
}

/* 6145: mapi_read_results with function id 0; 6145 for a bad descriptor
 * elsewhere; 6144 for another unknown id */
static void test_read_results_ids(void **state)
{
	int fd = trace_flow(1);

	(void)state;
	assert_null(mapi_read_results(fd, 0, MAPI_COPY));
	expect_code(6145);
	assert_null(mapi_read_results(fd, -2, MAPI_COPY));
	expect_code(6145);
	assert_null(mapi_read_results(fd + 1000, 1, MAPI_COPY));
	expect_code(6145);
	assert_null(mapi_read_results(fd, 9, MAPI_COPY));
	expect_code(6144);
	mapi_close_flow(fd);
}

/* 6143: a function id of a flow not connected: the connection first */
static void test_connection_before_id(void **state)
{
	int fd = trace_flow(0);

	(void)state;
	assert_null(mapi_read_results(fd, 9, MAPI_COPY));
	expect_code(6143);
	assert_null(mapi_read_results(fd, 0, MAPI_COPY));
	expect_code(6143);
	assert_null(mapi_get_next_pkt(fd, 9));
	expect_code(6143);
	assert_null(mapi_get_next_pkt(fd, 1));	/* not TO_BUFFER, but not connected first */
	expect_code(6143);
	assert_int_equal(mapi_loop(fd, 9, 1, nothing), -1);
	expect_code(6143);
	mapi_close_flow(fd);
}

/* 6150: mapi_get_function_info with an unknown fid */
static void test_function_info_unknown(void **state)
{
	mapi_function_info_t info;
	int fd = trace_flow(1), nc = trace_flow(0);

	(void)state;
	assert_int_equal(mapi_get_function_info(fd, 9, &info), -1);
	expect_code(6150);
	assert_int_equal(mapi_get_function_info(fd, 0, &info), -1);
	expect_code(6150);
	assert_int_equal(mapi_get_function_info(nc, 3, &info), -1);
	expect_code(6150);
	assert_int_equal(mapi_get_function_info(fd, 1, &info), 0);
	mapi_close_flow(fd);
	mapi_close_flow(nc);
}

/* 7006: applying to a connected flow, even a function that does not exist */
static void test_apply_connected(void **state)
{
	int fd = trace_flow(1);

	(void)state;
	assert_int_equal(mapi_apply_function(fd, "PKT_COUNTER"), -1);
	expect_code(7006);
	assert_int_equal(mapi_apply_function(fd, "NO_SUCH_FUNCTION"), -1);
	expect_code(7006);
	mapi_close_flow(fd);
}

/* 3200: no such device; 3081: connecting twice */
static void test_device_and_connect(void **state)
{
	int fd = trace_flow(1);

	(void)state;
	assert_int_equal(mapi_create_flow("nosuch0"), -1);
	expect_code(3200);
	assert_int_equal(mapi_connect(fd), -1);
	expect_code(3081);
	mapi_close_flow(fd);
}

/* STR_SEARCH: 3503 unterminated |, 3504 depth shorter than the pattern,
 * 3505 not a pattern */
static void test_str_search(void **state)
{
	int fd = trace_flow(0);

	(void)state;
	assert_int_equal(mapi_apply_function(fd, "STR_SEARCH", "ab|41", 0, 0), -1);
	expect_code(3503);
	assert_int_equal(mapi_apply_function(fd, "STR_SEARCH", "abcdef", 0, 3), -1);
	expect_code(3504);
	assert_int_equal(mapi_apply_function(fd, "STR_SEARCH", "", 0, 0), -1);
	expect_code(3505);
	assert_int_equal(mapi_apply_function(fd, "STR_SEARCH", "|4g|", 0, 0), -1);
	expect_code(3505);
	mapi_close_flow(fd);
}

/* After the connection and the id, what the function is: mapi-bpf's own
 * code (MAPI 2.0 had none for it) */
static void test_wrong_function(void **state)
{
	int fd = mapi_create_offline_flow(trace, MFF_PCAP), filter, buffer, counter;

	(void)state;
	assert_true(fd > 0);
	filter = mapi_apply_function(fd, "BPF_FILTER", "tcp");
	buffer = mapi_apply_function(fd, "TO_BUFFER");
	counter = mapi_apply_function(fd, "PKT_COUNTER");
	assert_int_equal(mapi_connect(fd), 0);
	assert_null(mapi_read_results(fd, filter, MAPI_COPY));
	expect_error(MAPI_ERR_WRONG_FUNCTION, "BPF_FILTER");
	assert_null(mapi_read_results(fd, buffer, MAPI_COPY));
	expect_error(MAPI_ERR_WRONG_FUNCTION, "no result to read");
	assert_null(mapi_read_results(fd, counter, 3));
	expect_error(MAPI_INVALID_ARGUMENT + 3, "MAPI_COPY or MAPI_REF");
	assert_null(mapi_get_next_pkt(fd, counter));
	expect_error(MAPI_ERR_WRONG_FUNCTION, "PKT_COUNTER, not TO_BUFFER");
	mapi_close_flow(fd);
}

/* TO_BUFFER(NOWAIT): NULL at once when no packet waits, the packets when
 * some do; WAIT (and no flag) waits for them.  The trace comes down a pipe
 * kept open, so that its end is not what answers. */
static void test_nowait(void **state)
{
	int fd, nowait, none, waiting, p[2], t;
	char path[64], buf[4096];
	struct mapipkt *pkt;
	ssize_t n;

	(void)state;
	t = open(trace, O_RDONLY);
	n = read(t, buf, sizeof(buf));
	close(t);
	assert_true(n > 24 && !pipe(p) && write(p[1], buf, (size_t)n) == n);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	fd = mapi_create_offline_flow(path, MFF_PCAP);
	assert_true(fd > 0);
	/* NOWAIT's first: the trace's reader gives it the frame before WAIT's
	 * reader, which the test waits on, can wake */
	nowait = mapi_apply_function(fd, "TO_BUFFER", MAPI_NOWAIT);
	waiting = mapi_apply_function(fd, "TO_BUFFER", MAPI_WAIT);
	assert_true(mapi_apply_function(fd, "BPF_FILTER", "udp") > 0);	/* the frame is TCP */
	none = mapi_apply_function(fd, "TO_BUFFER", MAPI_NOWAIT);
	assert_int_equal(mapi_connect(fd), 0);
	/* the one frame: WAIT waits for it, NOWAIT then has it too */
	pkt = mapi_get_next_pkt(fd, waiting);
	assert_non_null(pkt);
	assert_int_equal(pkt->wlen, frame_len);
	pkt = mapi_get_next_pkt(fd, nowait);
	assert_non_null(pkt);
	assert_int_equal(pkt->wlen, frame_len);
	/* then none waits, and more may come: NULL at once */
	assert_null(mapi_get_next_pkt(fd, nowait));
	expect_code(MAPI_ERR_TIMEOUT);
	assert_null(mapi_get_next_pkt(fd, none));
	expect_code(MAPI_ERR_TIMEOUT);
	/* the trace ends: that is said then */
	close(p[1]);
	assert_null(mapi_get_next_pkt(fd, waiting));
	expect_code(MAPI_ERR_TRACE_END);
	mapi_close_flow(fd);
	close(p[0]);
}

/* MAPI 2.0's calls for walking a flow's functions and asking if it is
 * remote */
static void test_iterators(void **state)
{
	mapi_function_info_t info;
	int fd = trace_flow(1), fid = 0, n = 0;

	(void)state;
	while (mapi_get_next_function_info(fd, fid, &info) == 0) {
		assert_int_equal(info.fid, fid + 1);
		assert_string_equal(info.name, fid ? "TO_BUFFER" : "PKT_COUNTER");
		fid = info.fid;
		n++;
	}
	expect_code(6150);
	assert_int_equal(n, 2);
	assert_int_equal(mapi_get_next_function_info(fd + 1000, 0, &info), -1);
	expect_code(6145);
	assert_int_equal(mapi_is_remote(fd), 0);
	assert_int_equal(mapi_is_remote(fd + 1000), -1);
	expect_code(6145);
	mapi_close_flow(fd);
}

/* MAPI 2.0's device information: lo is there, ids are interface indexes,
 * the walk ends with MAPI_NO_SUCH_DEVICE */
static void test_devices(void **state)
{
	mapi_device_info_t d;
	int id = 0, n = 0, lo = 0;

	(void)state;
	while (mapi_get_next_device_info(id, &d) == 0) {
		assert_true(d.id > id);
		assert_int_equal((int)if_nametoindex(d.name), d.id);
		lo += !strcmp(d.name, "lo") && !strcmp(d.type, "loopback");
		id = d.id;
		n++;
	}
	expect_code(MAPI_NO_SUCH_DEVICE);
	assert_true(n >= 1);
	assert_int_equal(lo, 1);
	assert_int_equal(mapi_get_device_info((int)if_nametoindex("lo"), &d), 0);
	assert_string_equal(d.name, "lo");
	assert_int_equal(mapi_get_device_info(0, &d), -1);
	expect_code(3200);
	assert_int_equal(mapi_get_device_info(id + 1000, &d), -1);
	expect_code(3200);
}

/* 7000 + n: a bad argument n; 7004: mapi_loop's NULL callback */
static void test_arguments(void **state)
{
	int fd = trace_flow(0);

	(void)state;
	assert_int_equal(mapi_apply_function(fd, "STR_SEARCH", "abc", -1, 0), -1);
	expect_code(7002);
	assert_int_equal(mapi_apply_function(fd, "STR_SEARCH", "abc", 0, -1), -1);
	expect_code(7003);
	assert_int_equal(mapi_connect(fd), 0);
	assert_int_equal(mapi_loop(fd, 2, 1, NULL), -1);
	expect_code(7004);
	mapi_close_flow(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_flow_or_fid),
		cmocka_unit_test(test_read_results_ids),
		cmocka_unit_test(test_connection_before_id),
		cmocka_unit_test(test_function_info_unknown),
		cmocka_unit_test(test_apply_connected),
		cmocka_unit_test(test_device_and_connect),
		cmocka_unit_test(test_str_search),
		cmocka_unit_test(test_wrong_function),
		cmocka_unit_test(test_nowait),
		cmocka_unit_test(test_iterators),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
