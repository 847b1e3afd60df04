/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Port scans and a telescope's view: the sources that talk to the most
 * distinct destinations, counted in the kernel by DISTINCT.
 *
 *	scan_detect IFACE [SECONDS] [LIMIT] [FILTER]
 *
 * Every second it reports each source that has talked to more than LIMIT
 * (default 100) distinct destinations so far, once, as it crosses LIMIT;
 * at the end the five sources with the most destinations.  Estimates:
 * HyperLogLog, within about 6.5 % (one standard error).
 */
#include <arpa/inet.h>
#include <mapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WATCH 20	/* sources looked at each second */
#define MAX_REPORTED 1000

static int fail(const char *call)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "scan_detect: %s: %s (MAPI error %d)\n", call, msg, code);
	return 1;
}

static void source(const struct mapi_field_value *v, char *buf, size_t len)
{
	if (!inet_ntop(v->family == 4 ? AF_INET : AF_INET6, v->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

int main(int argc, char **argv)
{
	static struct mapi_field_value reported[MAX_REPORTED];
	const struct mapi_distinct_result *r = NULL;
	int fd, fid, seconds = 10, i, nreported = 0;
	unsigned long long limit = 100;
	char name[64];
	unsigned int k;

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: scan_detect IFACE [SECONDS] [LIMIT] [FILTER]\n");
		return 2;
	}
	if (argc > 2)
		seconds = atoi(argv[2]);
	if (argc > 3)
		limit = strtoull(argv[3], NULL, 10);
	if (seconds <= 0) {
		fprintf(stderr, "scan_detect: SECONDS must be positive\n");
		return 2;
	}
	if ((fd = mapi_create_flow(argv[1])) < 0)
		return fail("mapi_create_flow");
	if (argc > 4 && mapi_apply_function(fd, "BPF_FILTER", argv[4]) < 0)
		return fail("BPF_FILTER");
	fid = mapi_apply_function(fd, "DISTINCT", MAPI_TOPX_IP, MAPI_TOPX_IP_DSTIP, MAPI_TOPX_IP,
				  MAPI_TOPX_IP_SRCIP, WATCH);
	if (fid < 0)
		return fail("DISTINCT");
	if (mapi_connect(fd) < 0)
		return fail("mapi_connect");
	for (i = 1; i <= seconds; i++) {
		sleep(1);
		if (!(r = mapi_read_results(fd, fid, MAPI_COPY)))
			return fail("mapi_read_results");
		for (k = 0; k < r->count && r->values[k].distinct > limit; k++) {
			int j, seen = 0;

			for (j = 0; j < nreported; j++)
				seen |= !memcmp(&reported[j], &r->values[k].value, sizeof(reported[j]));
			if (seen || nreported == MAX_REPORTED)
				continue;
			reported[nreported++] = r->values[k].value;
			source(&r->values[k].value, name, sizeof(name));
			printf("second %d: %s talks to about %llu destinations (%llu packets)\n", i,
			       name, r->values[k].distinct, r->values[k].packets);
			fflush(stdout);
		}
	}
	printf("%llu destinations in all, %u sources\n", r->distinct, r->per_values);
	for (k = 0; k < r->count && k < 5; k++) {
		source(&r->values[k].value, name, sizeof(name));
		printf("source %s destinations %llu packets %llu\n", name, r->values[k].distinct,
		       r->values[k].packets);
	}
	mapi_close_flow(fd);
	return 0;
}
