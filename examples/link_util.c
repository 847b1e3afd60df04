/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The second MAPI application: link utilization in Mbit/s, every second.
 *
 *	link_util IFACE [SECONDS] [copy|ref] [FILTER]
 *
 * With "copy" (the default) it reads a fresh snapshot every second
 * (MAPI_COPY); with "ref" it reads the counter once (MAPI_REF) and then
 * just looks at it: the library keeps the value current.  At the end it
 * prints the total, for comparison with other tools.
 */
#include <mapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *call)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "link_util: %s: %s (MAPI error %d)\n", call, msg, code);
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long long *cnt = NULL, prev = 0;
	const char *dev, *filter = NULL;
	int fd, fid, seconds = 10, by_ref = 0, i;

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: link_util IFACE [SECONDS] [copy|ref] [FILTER]\n");
		return 2;
	}
	dev = argv[1];
	if (argc > 2)
		seconds = atoi(argv[2]);
	if (argc > 3) {
		if (!strcmp(argv[3], "ref"))
			by_ref = 1;
		else if (strcmp(argv[3], "copy")) {
			fprintf(stderr, "link_util: read mode must be copy or ref\n");
			return 2;
		}
	}
	if (argc > 4)
		filter = argv[4];
	if (seconds <= 0) {
		fprintf(stderr, "link_util: SECONDS must be a positive number\n");
		return 2;
	}

	if ((fd = mapi_create_flow(dev)) < 0)
		return fail("mapi_create_flow");
	if (filter && mapi_apply_function(fd, "BPF_FILTER", filter) < 0)
		return fail("BPF_FILTER");
	if ((fid = mapi_apply_function(fd, "BYTE_COUNTER")) < 0)
		return fail("BYTE_COUNTER");
	if (mapi_connect(fd) < 0)
		return fail("mapi_connect");

	if (by_ref && !(cnt = mapi_read_results(fd, fid, MAPI_REF)))
		return fail("mapi_read_results");
	for (i = 0; i < seconds; i++) {
		sleep(1);
		if (!by_ref && !(cnt = mapi_read_results(fd, fid, MAPI_COPY)))
			return fail("mapi_read_results");
		printf("%.6f Mbit/s\n", (double)(*cnt - prev) * 8 / 1000000.0);
		fflush(stdout);
		prev = *cnt;
	}
	/* A last exact reading: a MAPI_REF value may lag by MAPI_REF_REFRESH_MS. */
	if (!(cnt = mapi_read_results(fd, fid, MAPI_COPY)))
		return fail("mapi_read_results");
	printf("bytes:%llu\n", *cnt);
	mapi_close_flow(fd);
	return 0;
}
