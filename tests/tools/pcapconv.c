/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcapconv [-s SNAPLEN] [-n] [-l LINKTYPE] IN OUT: rewrites a pcap trace, for
 * the tests of trace reading.
 *
 *   -s SNAPLEN  keep the first SNAPLEN bytes of each packet (caplen < len),
 *               as a capture with that snap length would have
 *   -n          write pcapng (a section, one interface with nanosecond
 *               timestamps, an enhanced packet block a packet) instead of pcap
 *   -l LINKTYPE write this link type in the header (the bytes stay the same)
 *
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracew.h"

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	unsigned int snaplen = 0;
	int opt, ng = 0, linktype = DLT_EN10MB;
	struct pcap_pkthdr *h;
	const unsigned char *data;
	struct tracew w;
	pcap_t *in;

	while ((opt = getopt(argc, argv, "s:nl:")) != -1) {
		switch (opt) {
		case 's': snaplen = (unsigned int)atoi(optarg); break;
		case 'n': ng = 1; break;
		case 'l': linktype = atoi(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: pcapconv [-s SNAPLEN] [-n] [-l LINKTYPE] IN OUT\n");
		return 2;
	}
	in = pcap_open_offline_with_tstamp_precision(argv[optind], PCAP_TSTAMP_PRECISION_NANO,
						     errbuf);
	if (!in) {
		fprintf(stderr, "pcapconv: %s\n", errbuf);
		return 1;
	}
	if (!snaplen)
		snaplen = (unsigned int)pcap_snapshot(in);
	if (tracew_open(&w, argv[optind + 1], ng, linktype, snaplen)) {
		perror("pcapconv");
		return 1;
	}
	while (pcap_next_ex(in, &h, &data) == 1)
		tracew_put(&w, (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec, data,
			   h->len, h->caplen);
	pcap_close(in);
	if (tracew_close(&w)) {
		perror("pcapconv");
		return 1;
	}
	return 0;
}
