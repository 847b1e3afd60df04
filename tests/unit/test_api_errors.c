/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Every bad input to the API that can be judged without the kernel: the
 * call fails with -1 or NULL, and mapi_read_error() gives the original
 * MAPI code and a message that says what to fix.  Needs no privileges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mapi.h"

static void expect_error(int code, const char *words)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int got;

	assert_int_equal(mapi_read_error(&got, msg), 0);
	if (got != code || !strstr(msg, words))
		fail_msg("want error %d mentioning \"%s\", got %d: %s", code, words, got, msg);
}

static int new_flow(void)
{
	int fd = mapi_create_flow("lo");

	assert_true(fd > 0);
	return fd;
}

static void test_read_error_itself(void **state)
{
	char msg[MAPI_ERRORSTR_LENGTH];

	(void)state;
	assert_int_equal(mapi_read_error(NULL, NULL), -1);
	assert_int_equal(mapi_read_error(NULL, msg), 0);
}

static void test_create_flow(void **state)
{
	char longname[64];

	(void)state;
	assert_int_equal(mapi_create_flow(NULL), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "NULL");
	assert_int_equal(mapi_create_flow("nosuch0"), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "nosuch0");
	assert_int_equal(mapi_create_flow(""), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "no network interface");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(mapi_create_flow(longname), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "xxxx");
}

static void test_unknown_function(void **state)
{
	int fd = new_flow();

	(void)state;
	assert_int_equal(mapi_apply_function(fd, "PACKET_COUNTER"), -1);
	expect_error(MAPI_FUNCTION_NOT_FOUND, "PACKET_COUNTER");
	assert_int_equal(mapi_apply_function_args(fd, NULL, NULL, 0), -1);
	expect_error(MAPI_FUNCTION_NOT_FOUND, "NULL");
	mapi_close_flow(fd);
}

static void test_filter_syntax(void **state)
{
	int fd = new_flow();

	(void)state;
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", "tcp and and port 80"), -1);
	expect_error(MAPI_BPF_FILTER_ERROR, "syntax error");
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", "port 99999"), -1);
	expect_error(MAPI_BPF_FILTER_ERROR, "99999");
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", "host no-such-host.invalid"), -1);
	expect_error(MAPI_BPF_FILTER_ERROR, "no-such-host.invalid");
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", "inbound"), -1);
	expect_error(MAPI_BPF_FILTER_ERROR, "mapi_set_direction");
	{
		/* a long expression keeps libpcap's reason in the message */
		char expr[700] = "";
		int i;

		for (i = 0; i < 40; i++)
			strcat(expr, "host 10.0.0.1 or ");
		strcat(expr, "and");
		assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", expr), -1);
		expect_error(MAPI_BPF_FILTER_ERROR, "syntax error");
	}
	/* a failed apply leaves the flow usable and its function ids dense */
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", "tcp"), 1);
	assert_int_equal(mapi_apply_function(fd, "PKT_COUNTER"), 2);
	mapi_close_flow(fd);
}

static void test_arguments(void **state)
{
	int fd = new_flow();

	(void)state;
	/* missing */
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER"), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "BPF_FILTER takes 1 argument (EXPR), got 0");
	/* too many */
	assert_int_equal(mapi_apply_function(fd, "PKT_COUNTER", 5), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "takes no arguments");
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", "tcp", "udp"), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "got 2");
	/* wrong type */
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", 80), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "must be a string, not a signed integer");
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", NULL), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "is NULL");
	assert_int_equal(mapi_apply_function(fd, "BPF_FILTER", 2.5), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "floating-point");
	/* the plain function, as C++ and older C call it */
	assert_int_equal((mapi_apply_function)(fd, "BPF_FILTER", "udp"), 1);
	assert_int_equal((mapi_apply_function)(fd, "BYTE_COUNTER"), 2);
	mapi_close_flow(fd);
}

static void search_refused(const char *pattern, int offset, int depth, int code,
			   const char *words)
{
	int fd = new_flow();

	if (mapi_apply_function(fd, "STR_SEARCH", pattern, offset, depth) != -1)
		fail_msg("STR_SEARCH(\"%s\", %d, %d) was accepted", pattern, offset, depth);
	expect_error(code, words);
	mapi_close_flow(fd);
}

static void test_search_arguments(void **state)
{
	char big[300];
	int fd = new_flow();

	(void)state;
	search_refused("|00 00", 0, 0, MAPI_STR_SEARCH_UNTERMINATED, "not closed");
	search_refused("ab|0|", 0, 0, MAPI_STR_SEARCH_BAD_HEX, "odd number of hex digits");
	search_refused("|0g|", 0, 0, MAPI_STR_SEARCH_BAD_HEX, "'g' is not a hex digit");
	search_refused("||", 0, 0, MAPI_STR_SEARCH_BAD_PATTERN, "an alternative is empty");
	search_refused("ab||", 0, 0, MAPI_STR_SEARCH_BAD_PATTERN, "an alternative is empty");
	search_refused("ab||||cd", 0, 0, MAPI_STR_SEARCH_BAD_PATTERN, "an alternative is empty");
	search_refused("a||b||c||d||e||f||g||h||i||j||k||l||m||n||o||p||q", 0, 0,
		       MAPI_STR_SEARCH_BAD_PATTERN, "more than 16 alternatives");
	search_refused("ab||abcdef", 0, 5, MAPI_STR_SEARCH_BAD_RANGE, "longest alternative");
	/* MAPI 2.0's alternatives, text and hex mixed */
	assert_true(mapi_apply_function(fd, "STR_SEARCH", "abcd|||65 66|||ijkl", 0, 0) > 0);
	assert_true(mapi_apply_function(fd, "STR_SEARCH", "|41||||42|||\\|", 0, 0) > 0);
	search_refused("", 0, 0, MAPI_STR_SEARCH_BAD_PATTERN, "empty");
	search_refused("a\\b\\q", 0, 0, MAPI_STR_SEARCH_BAD_PATTERN, "escapes only");
	search_refused("abcdef", 0, 5, MAPI_STR_SEARCH_BAD_RANGE, "shorter than the pattern");
	search_refused("abc", -1, 0, MAPI_INVALID_ARGUMENT + 2, "must not be negative");
	search_refused("abc", 0, -4, MAPI_INVALID_ARGUMENT + 3, "must not be negative");
	search_refused("abc", 65535, 0, MAPI_STR_SEARCH_BAD_RANGE, "no frame is that long");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	search_refused(big, 0, 0, MAPI_STR_SEARCH_BAD_PATTERN, "longer than 255 bytes");
	/* accepted: escapes, spaces in runs, the longest pattern, the last offset */
	assert_true(mapi_apply_function(fd, "STR_SEARCH", "\\|a\\\\|41 4a|", 0, 0) > 0);
	big[255] = 0;
	assert_true(mapi_apply_function(fd, "STR_SEARCH", big, 0, 255) > 0);
	assert_true(mapi_apply_function(fd, "STR_SEARCH", "ab", 65533, 0) > 0);
	assert_int_equal(mapi_apply_function(fd, "STR_SEARCH", "ab", 0), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 3, "takes 3 arguments");
	mapi_close_flow(fd);
}

static void test_capture_arguments(void **state)
{
	int fd = new_flow(), fid;

	(void)state;
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", -1, 0), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "snap length -1");
	/* one number is MAPI 2.0's flag, never a snap length read as one */
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", 512), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "WAIT (0) or NOWAIT (1)");
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", 2, 128, 0), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "WAIT (0) or NOWAIT (1)");
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", MAPI_NOWAIT, 70000, 0), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "must be 1 to 65535");
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", MAPI_WAIT, 0, 100000), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 3, "power of two");
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", 70000, 0), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "must be 1 to 65535");
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", 0, 100000), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "power of two");
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", 0, 4096), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "cannot hold one packet");
	assert_int_equal(mapi_apply_function(fd, "TO_BUFFER", 0, 0, 0, 1), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 4, "TO_BUFFER takes () or (FLAG) or (SNAPLEN RING_BYTES) or (FLAG SNAPLEN RING_BYTES), got 4");
	assert_int_equal(mapi_apply_function(fd, "TO_FILE", "/nonexistent/dir/x.pcap"), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "No such file or directory");
	assert_int_equal(mapi_apply_function(fd, "TO_FILE", ""), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "needs a file name");
	/* defaults, and the optional arguments given */
	assert_true(mapi_apply_function(fd, "TO_BUFFER") > 0);
	assert_true(mapi_apply_function(fd, "TO_BUFFER", MAPI_NOWAIT) > 0);
	assert_true(mapi_apply_function(fd, "TO_BUFFER", MAPI_WAIT, 128, 1 << 16) > 0);
	fid = mapi_apply_function(fd, "TO_BUFFER", 128, 1 << 16);
	assert_true(fid > 0);
	/* before connect (the connection is checked first, as MAPI 2.0 did:
	 * test_mapi2_codes checks what follows on connected flows) */
	assert_null(mapi_get_next_pkt(fd, fid));
	expect_error(MAPI_FLOW_NOT_CONNECTED, "mapi_connect");
	assert_null(mapi_read_results(fd, fid, MAPI_COPY));
	expect_error(MAPI_FLOW_NOT_CONNECTED, "mapi_connect");
	assert_int_equal(mapi_loop(fd, fid, 1, NULL), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 4, "callback is NULL");
	mapi_close_flow(fd);
	/* a closed flow */
	assert_null(mapi_get_next_pkt(fd, fid));
	expect_error(MAPI_INVALID_FLOW_OR_FID, "was closed");
}

/* A function's forms are told by their number of arguments, and where two
 * take the same number, by which are strings: no two of one function take
 * the same arguments.  Every form is listed. */
static void test_function_forms(void **state)
{
	mapi_libfunct_info_t fi;
	int n, multi = 0;

	(void)state;
	for (n = 0; mapi_get_libfunct_info(n, &fi) == 0; n++) {
		/* every way of calling it: its arguments' letters, lower case */
		char taken[64][16], *form, *save = NULL;
		int forms = 0, ntaken = 0, i;

		for (form = strtok_r(fi.argtypes, "|", &save); form || !forms;
		     form = strtok_r(NULL, "|", &save)) {
			const char *a = form ? form : "";
			int need = 0, most = (int)strlen(a), k, j;

			assert_true(most < 16);
			while (a[need] == 's' || a[need] == 'i')
				need++;
			for (k = need; k <= most; k++) {
				assert_true(ntaken < 64);
				for (j = 0; j < k; j++)
					taken[ntaken][j] = (char)(a[j] == 'S' ? 's' : a[j] == 'I' ? 'i' : a[j]);
				taken[ntaken][k] = 0;
				for (i = 0; i < ntaken; i++)
					if (!strcmp(taken[i], taken[ntaken]))
						fail_msg("%s: two forms take \"%s\"", fi.name, taken[i]);
				ntaken++;
			}
			forms++;
			if (!form)
				break;
		}
		multi += forms > 1;
		if (forms > 1 && !strstr(fi.args, ") or ("))
			fail_msg("%s lists its forms as \"%s\"", fi.name, fi.args);
	}
	assert_true(n >= 6);
	assert_true(multi >= 2);	/* TO_BUFFER's and TO_FILE's */
}

/* MAPI 2.0's library calls: one library, number 0, of every function;
 * mapi_stats and mapi_get_scope_size refuse what they cannot describe. */
static void test_library_info(void **state)
{
	mapi_libfunct_info_t fi;
	mapi_lib_info_t lib;
	struct mapi_stat st;
	int n, fd;

	(void)state;
	for (n = 0; mapi_get_libfunct_info(n, &fi) == 0; n++)
		;
	assert_int_equal(mapi_get_next_library_info(-1, &lib), 0);
	assert_int_equal(lib.id, 0);
	assert_string_equal(lib.libname, "mapi-bpf");
	assert_int_equal(lib.functs, n);
	assert_int_equal(mapi_get_library_info(0, &lib), 0);
	assert_int_equal(mapi_get_next_library_info(0, &lib), -1);
	expect_error(MAPI_FUNCTION_NOT_FOUND, "number 0");
	assert_int_equal(mapi_get_library_info(1, &lib), -1);
	expect_error(MAPI_FUNCTION_NOT_FOUND, "no function library number 1");
	assert_int_equal(mapi_get_library_info(0, NULL), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "NULL");
	assert_int_equal(mapi_stats(NULL, &st), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 1, "NULL");
	assert_int_equal(mapi_stats("lo", NULL), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "NULL");
	assert_int_equal(mapi_stats("nosuchif0", &st), -1);
	expect_error(MAPI_NO_SUCH_DEVICE, "nosuchif0");
	assert_int_equal(mapi_stats("lo", &st), 0);
	assert_string_equal(st.dev, "lo");
	assert_int_equal(mapi_get_scope_size(12345), -1);
	expect_error(MAPI_INVALID_FLOW, "12345");
	fd = new_flow();
	assert_int_equal(mapi_get_scope_size(fd), 1);
	assert_int_equal(mapi_close_flow(fd), 0);
}

static void test_flow_options(void **state)
{
	int fd = new_flow();

	(void)state;
	assert_int_equal(mapi_set_direction(fd, 7), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "MAPI_DIR_IN");
	assert_int_equal(mapi_set_direction(fd, MAPI_DIR_OUT), 0);
	assert_int_equal(mapi_set_attach_mode(fd, 42), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "MAPI_MODE_AUTO");
	assert_int_equal(mapi_set_attach_mode(fd, MAPI_MODE_AUTO | MAPI_MODE_REQUIRE), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "cannot be demanded");
	assert_int_equal(mapi_set_attach_mode(fd, MAPI_MODE_TCX), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "attach mode");
	assert_int_equal(mapi_set_attach_mode(fd, MAPI_MODE_GENERIC | MAPI_MODE_REQUIRE), 0);
	mapi_close_flow(fd);
}

static void test_descriptors(void **state)
{
	mapi_flow_info_t info;
	int fd = new_flow(), fid;

	(void)state;
	fid = mapi_apply_function(fd, "PKT_COUNTER");
	assert_int_equal(fid, 1);
	/* unknown fd and fid */
	assert_null(mapi_read_results(fd + 1000, fid, MAPI_COPY));
	expect_error(MAPI_INVALID_FLOW, "no flow was created");
	assert_null(mapi_read_results(-1, fid, MAPI_COPY));
	expect_error(MAPI_INVALID_FLOW, "-1");
	/* read before connect: said before the function id is looked at */
	assert_null(mapi_read_results(fd, 7, MAPI_COPY));
	expect_error(MAPI_FLOW_NOT_CONNECTED, "mapi_connect");
	assert_null(mapi_read_results(fd, fid, MAPI_COPY));
	expect_error(MAPI_FLOW_NOT_CONNECTED, "mapi_connect");
	assert_null(mapi_get_next_pkt(fd, fid));
	expect_error(MAPI_FLOW_NOT_CONNECTED, "mapi_connect");
	/* information */
	assert_int_equal(mapi_get_flow_info(fd, NULL), -1);
	expect_error(MAPI_INVALID_ARGUMENT + 2, "NULL");
	assert_int_equal(mapi_get_flow_info(fd, &info), 0);
	assert_int_equal(info.fd, fd);
	assert_int_equal(info.status, MAPI_FLOW_INIT);
	assert_string_equal(info.device, "lo");
	assert_int_equal(info.num_functions, 1);
	assert_int_equal(info.mode_in, MAPI_MODE_NONE);
	/* close, close again, use after close */
	assert_int_equal(mapi_close_flow(fd), 0);
	assert_int_equal(mapi_close_flow(fd), -1);
	expect_error(MAPI_INVALID_FLOW, "was closed");
	assert_int_equal(mapi_apply_function(fd, "PKT_COUNTER"), -1);
	expect_error(MAPI_INVALID_FLOW_OR_FID, "was closed");
	assert_int_equal(mapi_connect(fd), -1);
	expect_error(MAPI_INVALID_FLOW, "was closed");
	assert_int_equal(mapi_close_flow(0), -1);
	expect_error(MAPI_INVALID_FLOW, "0");
}

static void test_mode_names(void **state)
{
	(void)state;
	assert_string_equal(mapi_mode_name(MAPI_MODE_NATIVE), "native");
	assert_string_equal(mapi_mode_name(MAPI_MODE_GENERIC), "generic");
	assert_string_equal(mapi_mode_name(MAPI_MODE_OFFLOAD | MAPI_MODE_REQUIRE), "offload");
	assert_string_equal(mapi_mode_name(MAPI_MODE_TCX), "tcx");
	assert_string_equal(mapi_mode_name(MAPI_MODE_NONE), "none");
	assert_string_equal(mapi_mode_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_error_itself),
		cmocka_unit_test(test_create_flow),
		cmocka_unit_test(test_unknown_function),
		cmocka_unit_test(test_filter_syntax),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_search_arguments),
		cmocka_unit_test(test_capture_arguments),
		cmocka_unit_test(test_function_forms),
		cmocka_unit_test(test_library_info),
		cmocka_unit_test(test_flow_options),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_mode_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
