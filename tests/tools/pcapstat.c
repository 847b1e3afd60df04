/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcapstat FILE [EXPR...]: packets and wire bytes of a trace that match a
 * tcpdump expression, by libpcap's own pcap_offline_filter().  The truth
 * the tests compare mapi-bpf's counters with.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE], expr[4096] = "";
	unsigned long long pkts = 0, bytes = 0;
	struct pcap_pkthdr *h;
	struct bpf_program bp;
	const unsigned char *data;
	pcap_t *p;
	int i, r;

	if (argc < 2) {
		fprintf(stderr, "usage: pcapstat FILE [EXPR...]\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (i > 2)
			strncat(expr, " ", sizeof(expr) - strlen(expr) - 1);
		strncat(expr, argv[i], sizeof(expr) - strlen(expr) - 1);
	}
	p = pcap_open_offline(argv[1], errbuf);
	if (!p) {
		fprintf(stderr, "pcapstat: %s\n", errbuf);
		return 1;
	}
	if (pcap_compile(p, &bp, expr, 1, 0) < 0) {
		fprintf(stderr, "pcapstat: %s\n", pcap_geterr(p));
		return 1;
	}
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		if (pcap_offline_filter(&bp, h, data)) {
			pkts++;
			bytes += h->len;
		}
	}
	if (r == -1) {
		fprintf(stderr, "pcapstat: %s\n", pcap_geterr(p));
		return 1;
	}
	printf("%llu %llu\n", pkts, bytes);
	pcap_freecode(&bp);
	pcap_close(p);
	return 0;
}
