/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hash_run: conversation flows found by a hash lookup count exactly
 * the packets libpcap's filter keeps.
 *
 * Filters in every form hf_parse() takes (both directions or one, one port
 * or two, equal ports, protocol-qualified ports, "ip and", "&&") are
 * recognized, given their keys, and all added at once to one set of hash
 * tables; the hook's hash program then runs (BPF_PROG_TEST_RUN, native XDP,
 * XDP with fragments and tc) on frames built around the same addresses and
 * ports: right and wrong protocol, addresses and ports swapped, IP options
 * of every length, first and later fragments, frames cut inside the headers,
 * 802.1Q tags, IPv6, ARP, header lengths below 5.  After each frame every
 * flow's packet and byte counters must have moved exactly as
 * pcap_offline_filter() says of its filter on that frame: once or not at
 * all.  Filters the lookup cannot stand for must not be recognized.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "codegen.h"
#include "flowprog.h"
#include "hashflow.h"
#include "hashpath.h"
#include "loader.h"
#include "pcap_oracle.h"
#include "pktbuild.h"

#define A "10.7.0.1"
#define B "10.7.0.2"
#define C "10.7.0.3"

static const char *const recognized[] = {
	"tcp and host " A " and host " B " and port 20 and port 4000",
	"tcp and host " A " and host " B " and port 4000",
	"udp and src host " A " and dst host " B " and dst port 53",
	"udp and src host " B " and dst host " A " and src port 53",
	"tcp and src " A " and dst " B " and src port 4000 and dst port 20",
	"tcp port 20 and host " A " and host " B,
	"ip and tcp and host " B " and host " C " and port 20 and port 20",
	"tcp && host " A " && host " C " && dst port 4001",
	"udp and host " A " and host " B " and src port 53 and port 53",
	"tcp and dst host " A " and src host " C " and src port 4000",
	"tcp and host " A " and host " B " and port 20",
	"tcp and src host " A " and dst host " A " and port 20",
};

static const char *const not_recognized[] = {
	"host " A,
	"tcp and host " A " and port 20",
	"tcp and host " A " and host " A " and port 20",
	"tcp and host " A " and host " B,
	"host " A " and host " B " and port 20",
	"tcp or udp and host " A " and host " B " and port 20",
	"tcp and not host " A " and host " B " and port 20",
	"tcp and (host " A " and host " B ") and port 20",
	"tcp and host " A " and host " B " and port ftp",
	"tcp and host 10.7 and host " B " and port 20",
	"tcp and net 10.7.0.0/24 and host " B " and port 20",
	"tcp and udp and host " A " and host " B " and port 20",
	"sctp and host " A " and host " B " and port 20",
	"tcp and host " A " and host " B " and port 70000",
	"",
};

#define NFLOWS (sizeof(recognized) / sizeof(*recognized))

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return ntohl(a.s_addr);
}

static uint64_t rng = 77;

static uint32_t below(uint32_t n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((rng >> 33) % n);
}

/* A frame around the test's addresses and ports. */
static void make_frame(struct pkt *p)
{
	static const uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 }, mac2[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint16_t ports[] = { 20, 4000, 4001, 53, 21, 0 };
	const char *addrs[] = { A, B, C, "10.7.0.9" };
	uint32_t s = ip(addrs[below(4)]), d = ip(addrs[below(4)]);
	unsigned int kind = below(100), opts = below(4) ? 0 : 4 * below(11), proto;
	uint16_t frag = below(8) ? (below(2) ? 0x2000 : 0) : (uint16_t)(1 + below(50));

	pkt_reset(p);
	if (kind < 4) {			/* 802.1Q: the filters do not look inside */
		pkt_eth(p, mac1, mac2, 0x8100);
		pkt_vlan(p, 5, 0x0800);
	} else if (kind < 8) {		/* IPv6 */
		uint8_t a6[16] = { 0xfd };

		pkt_eth(p, mac1, mac2, 0x86dd);
		pkt_ipv6_begin(p, a6, a6, 6);
		pkt_tcp(p, 20, 4000, 1, 0x10);
		pkt_ipv6_end(p);
		return;
	} else if (kind < 10) {		/* ARP */
		pkt_eth(p, mac1, mac2, 0x0806);
		pkt_arp(p, 1, mac2, s, d);
		return;
	} else {
		pkt_eth(p, mac1, mac2, 0x0800);
	}
	proto = below(10) < 6 ? 6 : below(4) ? 17 : 1;
	pkt_ipv4_begin(p, s, d, (uint8_t)proto, opts, frag);
	if (proto == 6)
		pkt_tcp(p, ports[below(6)], ports[below(6)], 7, 0x18);
	else if (proto == 17) {
		pkt_udp_begin(p, ports[below(6)], ports[below(6)]);
		pkt_udp_end(p);
	} else {
		pkt_icmp_echo(p, 8, 1);
	}
	while (below(3))
		pkt_put8(p, (uint8_t)below(256));
	pkt_ipv4_end(p);
	if (kind >= 10 && kind < 14)	/* a header length below 5 */
		p->b[14] = (uint8_t)(0x40 | below(5));
	if (kind >= 14 && kind < 22)	/* cut anywhere in the headers */
		p->len = 14 + below((unsigned int)p->len - 13);
	if (kind >= 22 && kind < 30) {	/* cut inside the ports */
		size_t at = 14 + (size_t)(p->b[14] & 0xf) * 4 + below(4);

		if (at < p->len)
			p->len = at;
	}
}

/* The tc test harness refuses an IPv4 frame too short for its header. */
static int tc_refuses(const struct pkt *p)
{
	uint16_t type = p->len >= 14 ? (uint16_t)(p->b[12] << 8 | p->b[13]) : 0;

	return p->len < 14 || (type == 0x0800 && p->len < 34) || (type == 0x86dd && p->len < 54);
}

static int run_kind(enum flowprog_kind kind, int nframes)
{
	struct prog_target t = { .hook = kind == FP_TC ? XLATE_TC : XLATE_XDP,
				 .frags = kind == FP_XDP_FRAGS, .ingress = kind != FP_TC };
	struct cbpf_prog progs[NFLOWS];
	struct hf_key keys[NFLOWS][HF_MAX_KEYS];
	uint64_t pkts[NFLOWS] = { 0 }, bytes[NFLOWS] = { 0 };
	int nkeys[NFLOWS], array_fd, root, i, f, mism = 0;
	uint32_t idx[NFLOWS];
	struct hashpath *hp;
	struct prog_buf pb;
	struct pkt p;

	if (!CHECK_OK(hashpath_create(&hp), "creating the hash tables"))
		return 0;
	for (f = 0; f < (int)NFLOWS; f++) {
		CHECK(hf_parse(recognized[f], keys[f], &nkeys[f]), "'%s' is recognized",
		      recognized[f]);
		CHECK_OK(cbpf_compile(recognized[f], LINKTYPE_ETHERNET, 0, &progs[f]), "compile");
		CHECK_OK(hashpath_add(hp, keys[f], nkeys[f], 3, &idx[f]), "adding a flow");
	}
	array_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "mapi_test_chain", 4, 4, 1, NULL);
	if (!CHECK(array_fd >= 0, "prog array") ||
	    !CHECK_OK(codegen_hash(&pb, &t, array_fd, hp), "building the hash program"))
		return 0;
	root = loader_load(&pb, &t);
	pb_free(&pb);
	if (!CHECK(root >= 0, "the hash program loads (kind %d)", kind))
		return 0;
	for (i = 0; i < nframes; i++) {
		make_frame(&p);
		if (kind == FP_TC && tc_refuses(&p))
			continue;
		if (!CHECK_OK(flowprog_time(root, p.b, (uint32_t)p.len, 1, NULL), "running"))
			break;
		for (f = 0; f < (int)NFLOWS; f++) {
			int want = oracle_run(&progs[f], p.b, (uint32_t)p.len, (uint32_t)p.len) != 0;
			uint64_t np = hashpath_read(hp, idx[f], HP_SLOT_PKTS);
			uint64_t nb = hashpath_read(hp, idx[f], HP_SLOT_BYTES);

			if (!CHECK(np - pkts[f] == (uint64_t)want &&
				   nb - bytes[f] == (want ? p.len : 0),
				   "kind %d, '%s', frame %d (%zu bytes, %02x%02x...): counted %llu "
				   "(%llu bytes), libpcap %d", kind, recognized[f], i, p.len,
				   p.b[12], p.b[13], (unsigned long long)(np - pkts[f]),
				   (unsigned long long)(nb - bytes[f]), want))
				mism++;
			if (np - pkts[f] != (uint64_t)want && getenv("HASH_DUMP")) {
				size_t j;

				for (j = 0; j < p.len; j++)
					fprintf(stderr, "%02x%s", p.b[j], j % 16 == 15 ? "\n" : " ");
				fprintf(stderr, "\n");
			}
			pkts[f] = np;
			bytes[f] = nb;
		}
	}
	for (f = 0; f < (int)NFLOWS; f++) {
		CHECK(pkts[f] > 0, "'%s' matched some frames (%llu)", recognized[f],
		      (unsigned long long)pkts[f]);
		hashpath_remove(hp, keys[f], nkeys[f], 3, idx[f]);
		cbpf_prog_free(&progs[f]);
	}
	CHECK(hp->cfg.keys[0] == 0 && hp->cfg.keys[1] == 0, "every key removed");
	close(root);
	close(array_fd);
	hashpath_destroy(hp);
	printf("kind %d: %d frames x %zu flows, %d mismatches\n", kind, nframes, NFLOWS, mism);
	return 1;
}

int main(void)
{
	static const enum flowprog_kind kinds[] = { FP_XDP, FP_XDP_FRAGS, FP_TC };
	struct hf_key keys[HF_MAX_KEYS];
	size_t i;
	int n;

	for (i = 0; i < sizeof(not_recognized) / sizeof(*not_recognized); i++)
		CHECK(!hf_parse(not_recognized[i], keys, &n), "'%s' is not taken for a hash flow",
		      not_recognized[i]);
	CHECK(hf_parse(recognized[0], keys, &n) && n == 4,
	      "both directions, both ports: 4 keys (%d)", n);
	CHECK(hf_parse(recognized[2], keys, &n) && n == 1 && keys[0].wild == HF_WILD_SPORT,
	      "one direction, destination port: one key, source port any");
	for (i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		run_kind(kinds[i], 20000);
	return check_summary("test_hash_run");
}
