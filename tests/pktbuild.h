/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Building test frames byte by byte: Ethernet, 802.1Q, ARP, IPv4 (options,
 * fragments), IPv6, TCP, UDP, ICMP.  Lengths and the IPv4 header checksum
 * are filled in when a header is closed.
 */
#ifndef MAPI_TESTS_PKTBUILD_H
#define MAPI_TESTS_PKTBUILD_H

#include <stdint.h>
#include <string.h>

#define PKT_MAX 9216

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
	size_t l3, l4;		/* where the open IP and UDP headers start */
};

static inline void pkt_reset(struct pkt *p)
{
	p->len = p->l3 = p->l4 = 0;
}

static inline void pkt_put8(struct pkt *p, uint8_t v)
{
	if (p->len < PKT_MAX)
		p->b[p->len++] = v;
}

static inline void pkt_put16(struct pkt *p, uint16_t v)
{
	pkt_put8(p, (uint8_t)(v >> 8));
	pkt_put8(p, (uint8_t)v);
}

static inline void pkt_put32(struct pkt *p, uint32_t v)
{
	pkt_put16(p, (uint16_t)(v >> 16));
	pkt_put16(p, (uint16_t)v);
}

static inline void pkt_put(struct pkt *p, const void *d, size_t n)
{
	const uint8_t *s = d;

	while (n--)
		pkt_put8(p, *s++);
}

static inline void pkt_set16(struct pkt *p, size_t at, uint16_t v)
{
	p->b[at] = (uint8_t)(v >> 8);
	p->b[at + 1] = (uint8_t)v;
}

static inline void pkt_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6],
			   uint16_t type)
{
	pkt_put(p, dst, 6);
	pkt_put(p, src, 6);
	pkt_put16(p, type);
}

static inline void pkt_vlan(struct pkt *p, uint16_t tci, uint16_t type)
{
	pkt_put16(p, tci);
	pkt_put16(p, type);
}

static inline void pkt_arp(struct pkt *p, uint16_t op, const uint8_t sha[6], uint32_t spa,
			   uint32_t tpa)
{
	static const uint8_t zero[6];

	pkt_put16(p, 1);
	pkt_put16(p, 0x0800);
	pkt_put8(p, 6);
	pkt_put8(p, 4);
	pkt_put16(p, op);
	pkt_put(p, sha, 6);
	pkt_put32(p, spa);
	pkt_put(p, zero, 6);
	pkt_put32(p, tpa);
}

/* opt_len: bytes of IP options (multiple of 4); frag: offset in 8-byte units */
static inline void pkt_ipv4_begin(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
				  unsigned int opt_len, uint16_t frag)
{
	p->l3 = p->len;
	pkt_put8(p, (uint8_t)(0x40 | (5 + opt_len / 4)));
	pkt_put8(p, 0);
	pkt_put16(p, 0);			/* total length, at end */
	pkt_put16(p, (uint16_t)(p->len * 7919));	/* id */
	pkt_put16(p, frag);
	pkt_put8(p, 64);
	pkt_put8(p, proto);
	pkt_put16(p, 0);			/* checksum, at end */
	pkt_put32(p, src);
	pkt_put32(p, dst);
	while (opt_len--)
		pkt_put8(p, opt_len ? 1 : 0);	/* NOPs, then end of options */
}

static inline void pkt_ipv4_end(struct pkt *p)
{
	size_t hl = (size_t)(p->b[p->l3] & 0xf) * 4, i;
	uint32_t sum = 0;

	pkt_set16(p, p->l3 + 2, (uint16_t)(p->len - p->l3));
	for (i = 0; i < hl; i += 2)
		sum += (uint32_t)(p->b[p->l3 + i] << 8 | p->b[p->l3 + i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	pkt_set16(p, p->l3 + 10, (uint16_t)~sum);
}

static inline void pkt_ipv6_begin(struct pkt *p, const uint8_t src[16],
				  const uint8_t dst[16], uint8_t next)
{
	p->l3 = p->len;
	pkt_put32(p, 0x60000000);
	pkt_put16(p, 0);			/* payload length, at end */
	pkt_put8(p, next);
	pkt_put8(p, 64);
	pkt_put(p, src, 16);
	pkt_put(p, dst, 16);
}

static inline void pkt_ipv6_end(struct pkt *p)
{
	pkt_set16(p, p->l3 + 4, (uint16_t)(p->len - p->l3 - 40));
}

static inline void pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t seq,
			   uint8_t flags)
{
	pkt_put16(p, sport);
	pkt_put16(p, dport);
	pkt_put32(p, seq);
	pkt_put32(p, flags & 0x10 ? seq ^ 0x5a5a5a5a : 0);
	pkt_put8(p, 5 << 4);
	pkt_put8(p, flags);
	pkt_put16(p, 65535);
	pkt_put16(p, 0);
	pkt_put16(p, 0);
}

static inline void pkt_udp_begin(struct pkt *p, uint16_t sport, uint16_t dport)
{
	p->l4 = p->len;
	pkt_put16(p, sport);
	pkt_put16(p, dport);
	pkt_put16(p, 0);			/* length, at end */
	pkt_put16(p, 0);
}

static inline void pkt_udp_end(struct pkt *p)
{
	pkt_set16(p, p->l4 + 4, (uint16_t)(p->len - p->l4));
}

static inline void pkt_icmp_echo(struct pkt *p, uint8_t type, uint16_t id)
{
	pkt_put8(p, type);
	pkt_put8(p, 0);
	pkt_put16(p, 0);
	pkt_put16(p, id);
	pkt_put16(p, 1);
}

/*
 * The benchmarks' frame: 02:..:02 -> 02:..:01, 10.1.0.1 -> 10.1.0.80, a
 * TCP segment to port 80 (or a UDP datagram to port 53) with 64 bytes of
 * payload: 118 (110) bytes.
 */
/* An IPv6 TCP SYN behind n destination-options headers (8 bytes each):
 * protochain walks n headers to find TCP. */
static inline void pkt_ipv6_dstopts_chain(struct pkt *p, int n)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 }, a[16] = { 0x20, 1, 0xd, 0xb8, [15] = 1 };
	int i;

	pkt_reset(p);
	pkt_eth(p, mac, mac, 0x86dd);
	pkt_ipv6_begin(p, a, a, n ? 60 : 6);
	for (i = 0; i < n; i++) {
		pkt_put8(p, i + 1 < n ? 60 : 6);
		pkt_put8(p, 0);		/* 8 bytes long */
		pkt_put32(p, 0x01040000);	/* PadN of 4 */
		pkt_put16(p, 0);
	}
	pkt_tcp(p, 1024, 80, 1, 0x02);
	pkt_ipv6_end(p);
}

/* An IPv4 frame whose AH header names AH as the next header and its own
 * offset as where it is: protochain would walk it for ever. */
static inline void pkt_ipv4_ah_loop(struct pkt *p)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };

	pkt_reset(p);
	pkt_eth(p, mac, mac, 0x0800);
	pkt_ipv4_begin(p, 0x0a000001, 0x0a000002, 51, 0, 0);
	pkt_put8(p, 51);	/* next: AH again */
	pkt_put8(p, 3);		/* (3 + 2) * 4 = 20: the offset of this header */
	pkt_put16(p, 0);
	pkt_put32(p, 1);	/* SPI */
	pkt_put32(p, 1);	/* sequence */
	pkt_put32(p, 0);	/* ICV */
	pkt_put32(p, 0);
	pkt_tcp(p, 1024, 80, 1, 0x02);
	pkt_ipv4_end(p);
}

static inline void pkt_bench_frame(struct pkt *p, int udp)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 1 }, src[6] = { 2, 0, 0, 0, 0, 2 };
	int i;

	pkt_reset(p);
	pkt_eth(p, dst, src, 0x0800);
	pkt_ipv4_begin(p, 0x0a010001, 0x0a010050, udp ? 17 : 6, 0, 0);
	if (udp)
		pkt_udp_begin(p, 40000, 53);
	else
		pkt_tcp(p, 40000, 80, 1, 0x18);
	for (i = 0; i < 64; i++)
		pkt_put8(p, (uint8_t)i);
	if (udp)
		pkt_udp_end(p);
	pkt_ipv4_end(p);
}

#endif
