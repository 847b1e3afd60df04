/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How the application mix changes with time: the bytes of each kind of
 * traffic in every second, from BUCKETs of byte counters counted in the
 * kernel, one flow a kind.
 *
 *	traffic_mix IFACE [SECONDS]
 *
 * Each second it prints each kind's share of the second's bytes; at the
 * end, each kind's total, from its counter.
 */
#include <mapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const struct { const char *name, *filter; } kinds[] = {
	{ "web", "tcp port 80 or tcp port 443" },
	{ "mail", "tcp port 25 or tcp port 587 or tcp port 993" },
	{ "dns", "udp port 53" },
	{ "ssh", "tcp port 22" },
	{ "other", "not (tcp port 80 or tcp port 443 or tcp port 25 or tcp port 587 or "
		   "tcp port 993 or udp port 53 or tcp port 22)" },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int fail(const char *call)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "traffic_mix: %s: %s (MAPI error %d)\n", call, msg, code);
	return 1;
}

int main(int argc, char **argv)
{
	int fd[NKINDS], bytes[NKINDS], bucket[NKINDS], seconds = 10, s;
	unsigned long long seen = 0;	/* samples printed */
	size_t k;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: traffic_mix IFACE [SECONDS]\n");
		return 2;
	}
	if (argc > 2 && (seconds = atoi(argv[2])) <= 0) {
		fprintf(stderr, "traffic_mix: SECONDS must be positive\n");
		return 2;
	}
	for (k = 0; k < NKINDS; k++) {
		if ((fd[k] = mapi_create_flow(argv[1])) < 0)
			return fail("mapi_create_flow");
		if (mapi_apply_function(fd[k], "BPF_FILTER", kinds[k].filter) < 0)
			return fail("BPF_FILTER");
		if ((bytes[k] = mapi_apply_function(fd[k], "BYTE_COUNTER")) < 0)
			return fail("BYTE_COUNTER");
		/* what the counter gained in each second */
		bucket[k] = mapi_apply_function(fd[k], "BUCKET", fd[k], bytes[k], "1s", 1);
		if (bucket[k] < 0)
			return fail("BUCKET");
		if (mapi_connect(fd[k]) < 0)
			return fail("mapi_connect");
	}
	for (s = 0; s < seconds; s++) {
		const struct mapi_bucket_result *r[NKINDS];
		unsigned long long got[NKINDS], all = 0, n = ~0ull;

		sleep(1);
		usleep(20000);	/* a sample is read within 10 ms after its second */
		for (k = 0; k < NKINDS; k++) {
			r[k] = mapi_read_results(fd[k], bucket[k], MAPI_COPY);
			if (!r[k])
				return fail("mapi_read_results");
			n = r[k]->total < n ? r[k]->total : n;
		}
		if (n <= seen)
			continue;
		/* second n of every flow: the flows' seconds are alike, each from
		 * its connect, a few milliseconds apart */
		for (k = 0; k < NKINDS; k++) {
			unsigned long long back = r[k]->total - n;

			got[k] = back < r[k]->count ? r[k]->samples[r[k]->count - 1 - back].value : 0;
			all += got[k];
		}
		seen = n;
		printf("second %llu:", n);
		for (k = 0; k < NKINDS; k++)
			printf(" %s %.1f%%", kinds[k].name, all ? 100.0 * (double)got[k] / (double)all : 0);
		printf(" (%llu bytes)\n", all);
		fflush(stdout);
	}
	for (k = 0; k < NKINDS; k++) {
		unsigned long long *v = mapi_read_results(fd[k], bytes[k], MAPI_COPY);

		if (!v)
			return fail("mapi_read_results");
		printf("total %s %llu bytes\n", kinds[k].name, *v);
		mapi_close_flow(fd[k]);
	}
	return 0;
}
