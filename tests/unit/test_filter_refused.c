/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_filter_refused FILE: every expression of FILE (tests/data/
 * filters-refused.txt, "EXPR<TAB>WORDS" a line) is refused by BPF_FILTER
 * at apply time with MAPI_BPF_FILTER_ERROR and a message containing WORDS:
 * libpcap's own, or mapi-bpf's for what needs a live capture.  None gives a
 * wrong program.  Needs no privileges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mapi.h"

static const char *path;

static void test_refused(void **state)
{
	char line[1024], msg[MAPI_ERRORSTR_LENGTH];
	int fd = mapi_create_flow("lo"), code, n = 0;
	FILE *f = fopen(path, "r");

	(void)state;
	assert_non_null(f);
	assert_true(fd > 0);
	while (fgets(line, sizeof(line), f)) {
		char *words;

		line[strcspn(line, "\n")] = 0;
		if (!*line || *line == '#')
			continue;
		words = strchr(line, '\t');
		assert_non_null(words);
		*words++ = 0;
		if (mapi_apply_function(fd, "BPF_FILTER", line) != -1)
			fail_msg("'%s' was accepted", line);
		mapi_read_error(&code, msg);
		if (code != MAPI_BPF_FILTER_ERROR || !strstr(msg, words))
			fail_msg("'%s': want error %d mentioning \"%s\", got %d: %s", line,
				 MAPI_BPF_FILTER_ERROR, words, code, msg);
		n++;
	}
	fclose(f);
	print_message("%d expressions refused with a reason\n", n);
	assert_true(n >= 10);
	mapi_close_flow(fd);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_refused) };

	if (argc != 2) {
		fprintf(stderr, "usage: test_filter_refused FILE\n");
		return 2;
	}
	path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
