/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A sharp rise in TCP SYNs (the DoS job): THRESHOLD on a counter of SYNs
 * counted in the kernel, the alert waited for without polling.
 *
 *	syn_flood IFACE [SECONDS] [LIMIT]
 *
 * Alerts when more than LIMIT (default 500) connection attempts (SYN
 * without ACK) arrive within 100 ms, at most once a second.  At the end,
 * the SYNs counted and the alerts.
 */
#include <mapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int fail(const char *call)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "syn_flood: %s: %s (MAPI error %d)\n", call, msg, code);
	return 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct mapi_threshold_event ev;
	int fd, syns, alarm, seconds = 10, alerts = 0, limit = 500;
	unsigned long long *n;
	double end;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: syn_flood IFACE [SECONDS] [LIMIT]\n");
		return 2;
	}
	if (argc > 2)
		seconds = atoi(argv[2]);
	if (argc > 3)
		limit = atoi(argv[3]);
	if (seconds <= 0 || limit < 0) {
		fprintf(stderr, "syn_flood: SECONDS must be positive, LIMIT 0 or more\n");
		return 2;
	}
	if ((fd = mapi_create_flow(argv[1])) < 0)
		return fail("mapi_create_flow");
	if (mapi_apply_function(fd, "BPF_FILTER", "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn") < 0)
		return fail("BPF_FILTER");
	if ((syns = mapi_apply_function(fd, "PKT_COUNTER")) < 0)
		return fail("PKT_COUNTER");
	/* the counter's change over 10 polls of 10 ms, above LIMIT, once a second at most */
	alarm = mapi_apply_function(fd, "THRESHOLD", MAPI_THRESHOLD_CHANGE, fd, syns, limit,
				    MAPI_BOUNDARY_ABOVE, 1000000, 10, 0);
	if (alarm < 0)
		return fail("THRESHOLD");
	if (mapi_connect(fd) < 0)
		return fail("mapi_connect");
	printf("watching %s for more than %d SYNs in 100 ms\n", argv[1], limit);
	fflush(stdout);
	for (end = now() + seconds; now() < end;) {
		if (mapi_wait_event(fd, alarm, (int)((end - now()) * 1000) + 1, &ev) < 0) {
			int code;

			mapi_read_error(&code, NULL);
			if (code == MAPI_ERR_TIMEOUT)
				break;
			return fail("mapi_wait_event");
		}
		alerts++;
		printf("alert %llu: %llu SYNs in 100 ms, at %.3f\n", ev.number, ev.value,
		       (double)ev.ts / 1e9);
		fflush(stdout);
	}
	if (!(n = mapi_read_results(fd, syns, MAPI_COPY)))
		return fail("mapi_read_results");
	printf("syns %llu alerts %d\n", *n, alerts);
	mapi_close_flow(fd);
	return 0;
}
