/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flows found by a hash lookup instead of by running their filter.
 *
 * A flow whose filter says exactly which IPv4 conversation it wants
 * ("tcp and host 10.0.0.1 and host 10.0.0.2 and port 21 and port 40000",
 * "udp and src host A and dst host B and dst port 53", ...) and which only
 * counts (PKT_COUNTER, BYTE_COUNTER) needs no code of its own: the packet's
 * protocol, addresses and ports are looked up once in a hash table of the
 * interface, whatever the number of such flows, and the flows found count
 * it.  hf_parse() says whether an expression is such a filter and gives the
 * keys it stands for; tests/bpf/test_hash_run.c proves the lookup keeps
 * exactly the packets libpcap's filter keeps.
 */
#ifndef MAPI_HASHFLOW_H
#define MAPI_HASHFLOW_H

#include <stdint.h>

/* A port that matches any value (the other one is fixed). */
#define HF_WILD_SPORT 1
#define HF_WILD_DPORT 2

/* The lookup key, as the kernel builds it from a packet (network order). */
struct hf_key {
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t wild;		/* HF_WILD_*, or 0 */
	uint16_t pad;
	uint32_t saddr, daddr;
	uint16_t sport, dport;	/* 0 where wild */
};

/* The keys of a filter: at most 2 address orders x 4 port pairs. */
#define HF_MAX_KEYS 8

/*
 * Whether expr is a filter the hash lookup can stand for: a conjunction
 * ("and") of one protocol (tcp or udp), address terms ([src|dst] [host]
 * A.B.C.D) that fix both addresses, and port terms ([src|dst] port N) that
 * fix at least one port.  Returns 1 and the keys (a packet matches the
 * filter exactly when it matches one of them), or 0.
 */
int hf_parse(const char *expr, struct hf_key *keys, int *nkeys);

#endif
