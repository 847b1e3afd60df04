/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The third MAPI application: detect the Slapper worm.  Slapper spreads
 * over UDP port 2002; its packets carry |00 00|E|00 00|E|00 00|@|00| in
 * their first 100 bytes.  The filter and the search run in the kernel;
 * only worm packets reach this program.
 *
 *	slapper IFACE [-c COUNT] [-t SECONDS] [FILTER]
 *
 * FILTER names the traffic to watch (default "udp and src port 2002"; to
 * watch only traffic to the web servers, add them:
 * "udp and src port 2002 and dst net 192.0.2.0/24").  For each worm
 * packet it prints the time, addresses, ports, length and the first bytes
 * of the UDP payload in hex; at the end, how many it saw and dropped.
 */
#include <arpa/inet.h>
#include <mapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHOW_BYTES 16

static int fail(const char *call)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "slapper: %s: %s (MAPI error %d)\n", call, msg, code);
	return 1;
}

static unsigned int get16(const unsigned char *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* Prints one worm packet: time src.port > dst.port: length, bytes. */
static void show(const struct mapipkt *pkt)
{
	const unsigned char *p = pkt->pkt, *end = pkt->pkt + pkt->caplen, *udp = NULL;
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?", when[32];
	time_t sec = (time_t)(pkt->ts / 1000000000ull);
	unsigned int type, off = 12;
	struct tm tm;
	int i;

	/* Ethernet, 802.1Q tags, then IPv4 or IPv6 */
	while (p + off + 2 <= end && ((type = get16(p + off)) == 0x8100 || type == 0x88a8))
		off += 4;
	type = p + off + 2 <= end ? get16(p + off) : 0;
	p += off + 2;
	if (type == 0x0800 && p + 20 <= end && p[9] == 17) {
		inet_ntop(AF_INET, p + 12, src, sizeof(src));
		inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
		udp = p + (p[0] & 0xf) * 4;
	} else if (type == 0x86dd && p + 40 <= end && p[6] == 17) {
		inet_ntop(AF_INET6, p + 8, src, sizeof(src));
		inet_ntop(AF_INET6, p + 24, dst, sizeof(dst));
		udp = p + 40;
	}
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%s.%06llu ", when, pkt->ts % 1000000000ull / 1000);
	if (udp && udp + 8 <= end) {
		printf("%s.%u > %s.%u: length %u:", src, get16(udp), dst, get16(udp + 2),
		       pkt->wlen);
		for (i = 0, p = udp + 8; i < SHOW_BYTES && p < end; i++, p++)
			printf(" %02x", *p);
	} else {
		printf("(not UDP over IP) length %u", pkt->wlen);
	}
	printf("\n");
	fflush(stdout);
}

static unsigned long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000 + (unsigned long long)t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *dev, *filter = "udp and src port 2002";
	unsigned long long deadline = 0, seen = 0;
	long count = 0, seconds = 0;
	mapi_function_info_t info;
	struct mapipkt *pkt;
	int fd, fid, opt;

	while ((opt = getopt(argc, argv, "c:t:h")) != -1) {
		switch (opt) {
		case 'c':
			count = strtol(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: slapper IFACE [-c COUNT] [-t SECONDS] [FILTER]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc || argc - optind > 2 || count < 0 || seconds < 0) {
		fprintf(stderr, "usage: slapper IFACE [-c COUNT] [-t SECONDS] [FILTER]\n");
		return 2;
	}
	dev = argv[optind];
	if (optind + 1 < argc)
		filter = argv[optind + 1];

	if ((fd = mapi_create_flow(dev)) < 0)
		return fail("mapi_create_flow");
	if (mapi_apply_function(fd, "BPF_FILTER", filter) < 0)
		return fail("BPF_FILTER");
	if (mapi_apply_function(fd, "STR_SEARCH", "|00 00|E|00 00|E|00 00|@|00|", 0, 100) < 0)
		return fail("STR_SEARCH");
	if ((fid = mapi_apply_function(fd, "TO_BUFFER")) < 0)
		return fail("TO_BUFFER");
	if (mapi_connect(fd) < 0)
		return fail("mapi_connect");
	/* stdout may be a pipe to a test: say when the flow runs */
	fprintf(stderr, "slapper: watching %s for \"%s\"\n", dev, filter);

	if (seconds)
		deadline = now_ms() + (unsigned long long)seconds * 1000;
	while (!count || seen < (unsigned long long)count) {
		if (deadline) {
			unsigned long long now = now_ms();

			if (now >= deadline)
				break;
			pkt = mapi_get_next_pkt_timeout(fd, fid, (int)(deadline - now));
		} else {
			pkt = mapi_get_next_pkt(fd, fid);
		}
		if (!pkt) {
			int code;

			mapi_read_error(&code, NULL);
			if (code == MAPI_ERR_TIMEOUT)
				break;
			return fail("mapi_get_next_pkt");
		}
		show(pkt);
		seen++;
	}
	if (mapi_get_function_info(fd, fid, &info) < 0)
		return fail("mapi_get_function_info");
	fprintf(stderr, "slapper: %llu worm packets, %llu delivered, %llu dropped\n",
		info.pkts, info.delivered, info.dropped);
	mapi_close_flow(fd);
	return 0;
}
