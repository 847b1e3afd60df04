/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A deterministic mix of Ethernet frames: TCP and UDP over IPv4 and IPv6 to
 * web, DNS, SSH and random ports, ICMP, ARP, 802.1Q, IPv4 fragments and
 * options, other ethertypes and truncated frames, from 15 to 1518 bytes.
 * The same seed always gives the same bytes (our own PRNG, not libc's).
 */
#ifndef MAPI_TESTS_TRAFFIC_H
#define MAPI_TESTS_TRAFFIC_H

#include <stdint.h>

#include "pktbuild.h"

enum traffic_vlan {
	TRAFFIC_ALL,		/* some 802.1Q frames among the others */
	TRAFFIC_NO_VLAN,
	TRAFFIC_VLAN_ONLY,
};

void traffic_seed(uint64_t seed);
uint64_t traffic_rand(void);
/* The next frame of the mix. */
void traffic_next(struct pkt *p, enum traffic_vlan vlan);

/*
 * The next frame of the Slapper test: UDP to dport carrying the worm's
 * signature inside, at the edge of, across or past the first 100 bytes,
 * from port 2002 or not, exact or almost.  Returns 1 when the frame is one
 * the seed's application must report (UDP from port 2002, the signature
 * within the first 100 bytes).
 */
int traffic_worm_next(struct pkt *p, uint16_t dport);
/* A frame the seed's application must report. */
void traffic_worm_one(struct pkt *p, uint16_t dport);

/* The next frame of the filter corpus (tests/common/corpus.c). */
void traffic_corpus_next(struct pkt *p);

#endif
