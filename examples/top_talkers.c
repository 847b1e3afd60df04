/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which subnet sends most: the /24s (IPv4) and /48s (IPv6) with the most
 * bytes sent, every second, counted in the kernel by TOP.
 *
 *	top_talkers IFACE [SECONDS] [N] [FILTER]
 *
 * Each second it prints the N (default 5) sources that sent the most bytes
 * in that second (a TOP per interval of "1s"), and whether the list is
 * exact (TOP's table held every source).  At the end, the N with the most
 * in all (a TOP since the start, on the same flow).
 */
#include <arpa/inet.h>
#include <mapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_N 100

static int fail(const char *call)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "top_talkers: %s: %s (MAPI error %d)\n", call, msg, code);
	return 1;
}

static void subnet(const struct mapi_field_value *v, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(v->family == 4 ? AF_INET : AF_INET6, v->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, v->prefix);
}

int main(int argc, char **argv)
{
	const struct mapi_top_result *r = NULL;
	unsigned long long last_end = 0;
	int fd, fid, total, seconds = 10, n = 5, i;
	unsigned int k;
	char name[64];

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: top_talkers IFACE [SECONDS] [N] [FILTER]\n");
		return 2;
	}
	if (argc > 2)
		seconds = atoi(argv[2]);
	if (argc > 3)
		n = atoi(argv[3]);
	if (seconds <= 0 || n <= 0 || n > MAX_N) {
		fprintf(stderr, "top_talkers: SECONDS must be positive, N 1 to %d\n", MAX_N);
		return 2;
	}
	if ((fd = mapi_create_flow(argv[1])) < 0)
		return fail("mapi_create_flow");
	if (argc > 4 && mapi_apply_function(fd, "BPF_FILTER", argv[4]) < 0)
		return fail("BPF_FILTER");
	fid = mapi_apply_function(fd, "TOP", n, MAPI_TOPX_IP, MAPI_TOPX_IP_SRCIP, "1s",
				  MAPI_SORT_BY_BYTES, 24, 48);
	total = mapi_apply_function(fd, "TOP", n, MAPI_TOPX_IP, MAPI_TOPX_IP_SRCIP,
				    MAPI_SORT_BY_BYTES, 24, 48);
	if (fid < 0 || total < 0)
		return fail("TOP");
	if (mapi_connect(fd) < 0)
		return fail("mapi_connect");
	for (i = 1; i <= seconds;) {
		/* (each second's list is there within 10 ms after it ends) */
		usleep(100000);
		if (!(r = mapi_read_results(fd, fid, MAPI_COPY)))
			return fail("mapi_read_results");
		if (r->end == last_end)
			continue;
		last_end = r->end;
		printf("second %d: %llu bytes from %u subnets%s\n", i++, r->bytes,
		       r->distinct + r->spilled, r->exact ? "" : " (not all in the table)");
		for (k = 0; k < r->count; k++) {
			subnet(&r->values[k].value, name, sizeof(name));
			printf("  %-24s %12llu bytes %10llu packets\n", name, r->values[k].bytes,
			       r->values[k].packets);
		}
		fflush(stdout);
	}
	if (!(r = mapi_read_results(fd, total, MAPI_COPY)))
		return fail("mapi_read_results");
	for (k = 0; k < r->count; k++) {
		subnet(&r->values[k].value, name, sizeof(name));
		printf("total %s %llu packets %llu bytes\n", name, r->values[k].packets,
		       r->values[k].bytes);
	}
	mapi_close_flow(fd);
	return 0;
}
