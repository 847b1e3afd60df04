/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The first MAPI application: how many packets reach my web server in ten
 * seconds?
 *
 *	packet_count IFACE [SECONDS] [FILTER]
 *
 * The filter defaults to the original's "tcp and dst port 80".
 */
#include <mapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fail(const char *call)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "packet_count: %s: %s (MAPI error %d)\n", call, msg, code);
	return 1;
}

int main(int argc, char **argv)
{
	const char *dev, *filter = "tcp and dst port 80";
	unsigned long long *cnt;
	int fd, fid, seconds = 10;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: packet_count IFACE [SECONDS] [FILTER]\n");
		return 2;
	}
	dev = argv[1];
	if (argc > 2)
		seconds = atoi(argv[2]);
	if (argc > 3)
		filter = argv[3];
	if (seconds <= 0) {
		fprintf(stderr, "packet_count: SECONDS must be a positive number\n");
		return 2;
	}

	if ((fd = mapi_create_flow(dev)) < 0)
		return fail("mapi_create_flow");
	if (mapi_apply_function(fd, "BPF_FILTER", filter) < 0)
		return fail("BPF_FILTER");
	if ((fid = mapi_apply_function(fd, "PKT_COUNTER")) < 0)
		return fail("PKT_COUNTER");
	if (mapi_connect(fd) < 0)
		return fail("mapi_connect");

	sleep((unsigned int)seconds);

	if (!(cnt = mapi_read_results(fd, fid, MAPI_COPY)))
		return fail("mapi_read_results");
	printf("pkts:%llu\n", *cnt);
	mapi_close_flow(fd);
	return 0;
}
