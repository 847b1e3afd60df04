/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * manyflows IFACE N TRACE: thousands of conversation flows in one process,
 * for tests/net/test_manyflows.sh.
 *
 * Creates N flows, each "tcp and host A and host B and port P and port Q"
 * (a distinct conversation a flow) + PKT_COUNTER + BYTE_COUNTER, writes
 * TRACE: frames of those conversations, both ways, a different number for
 * each flow, and prints "ready".  Then, one command a line on stdin:
 *
 *	churn SECONDS RATE   creates and closes other conversation flows, RATE a
 *	                     second for SECONDS (each lives a second); prints
 *	                     "churned CREATED"
 *	check TIMES          prints "ok N" when every flow counted exactly TIMES
 *	                     times the frames TRACE has of it (the test sends it
 *	                     into and out of IFACE), or the flows that did not
 *	fill                 connects more flows until the library refuses;
 *	                     prints "filled TOTAL CODE MESSAGE"
 *	close                closes every flow; prints "closed"
 */
#include <arpa/inet.h>
#include <mapi.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktbuild.h"

struct conv {
	int fd, pf, bf;
	unsigned long long frames, bytes;	/* in TRACE */
};

static const char *dev;
static struct conv *convs;
static int nconvs;
static int *extra;		/* flows made by fill */
static int nextra;
static int last_code;
static char last_msg[MAPI_ERRORSTR_LENGTH];

/* Conversation i: 10.20.x.y:p <-> 10.30.x.y:q, distinct for each i. */
static void conv_of(unsigned int i, uint32_t *a, uint32_t *b, uint16_t *p, uint16_t *q)
{
	*a = 0x0a140000u | (i & 0xffff);
	*b = 0x0a1e0000u | (i & 0xffff);
	*p = (uint16_t)(1024 + (i >> 16) * 100 + i % 97);
	*q = (uint16_t)(20000 + i % 1000);
}

/* The flow of conversation i; -1 with last_code/last_msg if refused. */
static int conv_flow(unsigned int i, int *pf, int *bf)
{
	char sa[INET_ADDRSTRLEN], sb[INET_ADDRSTRLEN], expr[160];
	struct in_addr ia, ib;
	uint32_t a, b;
	uint16_t p, q;
	int fd, x = 0, y = 0;

	conv_of(i, &a, &b, &p, &q);
	ia.s_addr = htonl(a);
	ib.s_addr = htonl(b);
	inet_ntop(AF_INET, &ia, sa, sizeof(sa));
	inet_ntop(AF_INET, &ib, sb, sizeof(sb));
	snprintf(expr, sizeof(expr), "tcp and host %s and host %s and port %u and port %u", sa,
		 sb, p, q);
	fd = mapi_create_flow(dev);
	if (fd < 0 || mapi_apply_function(fd, "BPF_FILTER", expr) < 0 ||
	    (x = mapi_apply_function(fd, "PKT_COUNTER")) < 0 ||
	    (y = mapi_apply_function(fd, "BYTE_COUNTER")) < 0 || mapi_connect(fd) < 0) {
		mapi_read_error(&last_code, last_msg);
		if (fd > 0)
			mapi_close_flow(fd);
		return -1;
	}
	if (pf)
		*pf = x;
	if (bf)
		*bf = y;
	return fd;
}

/* TRACE: for flow i, 1 + i % 5 frames each way, of varied lengths. */
static int write_trace(const char *path)
{
	static const uint8_t m1[6] = { 2, 0, 0, 0, 0, 1 }, m2[6] = { 2, 0, 0, 0, 0, 2 };
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	struct pkt pk;
	int i, k, dir;

	if (!d)
		return -1;
	for (i = 0; i < nconvs; i++) {
		uint32_t a, b;
		uint16_t p, q;

		conv_of((unsigned int)i, &a, &b, &p, &q);
		for (k = 0; k < 1 + i % 5; k++)
			for (dir = 0; dir < 2; dir++) {
				struct pcap_pkthdr h = { .ts = { 1700000000, k } };
				unsigned int n = (unsigned int)(i * 7 + k * 13) % 300;

				pkt_reset(&pk);
				pkt_eth(&pk, dir ? m1 : m2, dir ? m2 : m1, 0x0800);
				pkt_ipv4_begin(&pk, dir ? b : a, dir ? a : b, 6, 0, 0);
				pkt_tcp(&pk, dir ? q : p, dir ? p : q, (uint32_t)k, 0x18);
				while (n--)
					pkt_put8(&pk, (uint8_t)n);
				pkt_ipv4_end(&pk);
				h.caplen = h.len = (unsigned int)pk.len;
				pcap_dump((unsigned char *)d, &h, pk.b);
				convs[i].frames++;
				convs[i].bytes += pk.len;
			}
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void churn(double seconds, double rate)
{
	struct { int fd; double born; } live[4096];
	int nlive = 0, created = 0, j;
	unsigned int next = 1u << 20;	/* conversations no frame of TRACE has */
	double t0 = now(), due = t0;

	while (now() - t0 < seconds) {
		struct timespec nap = { 0, 1000000 };

		while (now() >= due && nlive < 4096) {
			int fd = conv_flow(next++, NULL, NULL);

			if (fd < 0) {
				printf("err %d churn: %s\n", last_code, last_msg);
				return;
			}
			live[nlive].fd = fd;
			live[nlive++].born = now();
			created++;
			due += 1.0 / rate;
		}
		for (j = 0; j < nlive; j++)
			if (now() - live[j].born >= 1.0) {
				mapi_close_flow(live[j].fd);
				live[j--] = live[--nlive];
			}
		nanosleep(&nap, NULL);
	}
	for (j = 0; j < nlive; j++)
		mapi_close_flow(live[j].fd);
	printf("churned %d\n", created);
}

static void check(unsigned int times)
{
	int i, bad = 0;

	for (i = 0; i < nconvs; i++) {
		unsigned long long *p = mapi_read_results(convs[i].fd, convs[i].pf, MAPI_COPY), np;
		unsigned long long *b;

		np = p ? *p : ~0ull;
		b = mapi_read_results(convs[i].fd, convs[i].bf, MAPI_COPY);
		if (np != times * convs[i].frames || !b || *b != times * convs[i].bytes) {
			if (bad++ < 5)
				fprintf(stderr, "manyflows: flow %d: %llu packets %llu bytes, want "
					"%llu %llu\n", i, np, b ? *b : ~0ull,
					times * convs[i].frames, times * convs[i].bytes);
		}
	}
	if (bad)
		printf("bad %d of %d\n", bad, nconvs);
	else
		printf("ok %d\n", nconvs);
}

static void fill(void)
{
	unsigned int i = 2u << 20;
	int fd;

	while ((fd = conv_flow(i++, NULL, NULL)) > 0) {
		int *n = realloc(extra, (size_t)(nextra + 1) * sizeof(*n));

		if (!n)
			break;
		extra = n;
		extra[nextra++] = fd;
	}
	printf("filled %d %d %s\n", nconvs + nextra, last_code, last_msg);
}

int main(int argc, char **argv)
{
	char line[128];
	int i;

	if (argc != 4) {
		fprintf(stderr, "usage: manyflows IFACE N TRACE\n");
		return 2;
	}
	dev = argv[1];
	nconvs = atoi(argv[2]);
	convs = calloc((size_t)nconvs + 1, sizeof(*convs));
	if (!convs)
		return 1;
	for (i = 0; i < nconvs; i++) {
		convs[i].fd = conv_flow((unsigned int)i, &convs[i].pf, &convs[i].bf);
		if (convs[i].fd < 0) {
			printf("err %d flow %d: %s\n", last_code, i, last_msg);
			return 1;
		}
	}
	if (write_trace(argv[3]))
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		double secs, rate;
		unsigned int times;

		if (sscanf(line, "churn %lf %lf", &secs, &rate) == 2)
			churn(secs, rate);
		else if (sscanf(line, "check %u", &times) == 1)
			check(times);
		else if (!strncmp(line, "fill", 4))
			fill();
		else if (!strncmp(line, "close", 5)) {
			for (i = 0; i < nconvs; i++)
				mapi_close_flow(convs[i].fd);
			for (i = 0; i < nextra; i++)
				mapi_close_flow(extra[i]);
			nconvs = nextra = 0;
			printf("closed\n");
		} else {
			printf("err 0 bad command\n");
		}
	}
	free(convs);
	free(extra);
	return 0;
}
