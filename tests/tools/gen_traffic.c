/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_traffic mix SEED COUNT FILE [all|no-vlan|vlan-only]
 * gen_traffic corpus SEED COUNT FILE
 * gen_traffic worm SEED COUNT FILE [DPORT]
 * gen_traffic worm-one SEED COUNT FILE DPORT
 *
 * Writes the deterministic traffic mix, or the filter corpus, of
 * tests/traffic.h to a pcap file, so that what a test uses is known
 * exactly.  The worm traffic (the Slapper test) also prints how many of
 * its frames the seed's application must report: "worm N".
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

int main(int argc, char **argv)
{
	struct pcap_pkthdr h;
	pcap_dumper_t *d;
	struct pkt p;
	long count, i;
	enum traffic_vlan vlan = TRAFFIC_ALL;
	int corpus = 0, worm = 0, worms = 0, worm_one = 0;
	uint16_t dport = 80;
	pcap_t *pd;

	if (argc >= 5 && (!strcmp(argv[1], "worm") || !strcmp(argv[1], "worm-one"))) {
		worm = 1;
		worm_one = !strcmp(argv[1], "worm-one");
		if (argc == 6)
			dport = (uint16_t)atoi(argv[5]);
		argc = argc <= 6 ? 5 : 0;
	} else if (argc == 6 && !strcmp(argv[5], "all"))
		vlan = TRAFFIC_ALL;
	else if (argc == 6 && !strcmp(argv[5], "no-vlan"))
		vlan = TRAFFIC_NO_VLAN;
	else if (argc == 6 && !strcmp(argv[5], "vlan-only"))
		vlan = TRAFFIC_VLAN_ONLY;
	else if (argc != 5)
		argc = 0;
	if (argc == 5 && !strcmp(argv[1], "corpus")) {
		corpus = 1;
	} else if (argc == 0 || (strcmp(argv[1], "mix") && !worm)) {
		fprintf(stderr, "usage: gen_traffic mix SEED COUNT FILE [all|no-vlan|vlan-only]\n"
				"       gen_traffic corpus SEED COUNT FILE\n"
				"       gen_traffic worm SEED COUNT FILE [DPORT]\n"
				"       gen_traffic worm-one SEED COUNT FILE DPORT\n");
		return 2;
	}
	traffic_seed(strtoull(argv[2], NULL, 0));
	count = atol(argv[3]);
	pd = pcap_open_dead(DLT_EN10MB, PKT_MAX);
	d = pcap_dump_open(pd, argv[4]);
	if (!d) {
		fprintf(stderr, "gen_traffic: %s\n", pcap_geterr(pd));
		return 1;
	}
	for (i = 0; i < count; i++) {
		if (corpus)
			traffic_corpus_next(&p);
		else if (worm_one)
			traffic_worm_one(&p, dport), worms++;
		else if (worm)
			worms += traffic_worm_next(&p, dport);
		else
			traffic_next(&p, vlan);
		h.ts.tv_sec = 1700000000 + i / 1000;
		h.ts.tv_usec = (i % 1000) * 1000;
		h.caplen = h.len = (unsigned int)p.len;
		pcap_dump((unsigned char *)d, &h, p.b);
	}
	pcap_dump_close(d);
	pcap_close(pd);
	if (worm)
		printf("worm %d\n", worms);
	return 0;
}
