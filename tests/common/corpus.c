/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The filter corpus: frames that exercise every part of tcpdump's language.
 * IPv4 with options and fragments, IPv6 with chains of extension headers,
 * TCP, UDP, ICMP, ICMPv6, SCTP, IGMP, GRE, ARP, RARP, 802.1Q and QinQ, MPLS
 * label stacks, PPPoE, 802.3/LLC, unicast, broadcast and multicast
 * addresses, frames from 14 to 9,000 bytes and frames cut short anywhere.
 * Deterministic for a seed (traffic_seed()).
 */
#include <string.h>

#include "traffic.h"

static unsigned int below(unsigned int n)
{
	return (unsigned int)(traffic_rand() % n);
}

static int chance(unsigned int percent)
{
	return below(100) < percent;
}

static void payload(struct pkt *p, unsigned int n)
{
	while (n--)
		pkt_put8(p, (uint8_t)traffic_rand());
}

/* A payload length: mostly small, sometimes up to a jumbo frame. */
static unsigned int some_bytes(const struct pkt *p)
{
	unsigned int max = chance(8) ? 9000 : 1514, used = (unsigned int)p->len;

	if (used >= max)
		return 0;
	return chance(60) ? below(64) : below(max - used + 1);
}

static void mac(uint8_t m[6], int dst)
{
	static const uint8_t kinds[][6] = {
		{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
		{ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 },
	};

	if (dst && chance(40)) {
		memcpy(m, kinds[below(5)], 6);
		return;
	}
	m[0] = 0x02;
	m[1] = m[2] = m[3] = 0;
	m[4] = (uint8_t)below(3);
	m[5] = (uint8_t)(1 + below(20));
}

static uint32_t ip4(void)
{
	static const uint32_t fixed[] = {
		0x0a010050, 0x0a010015, 0xc0a80101, 0xc0a80164, 0xac100001, 0xe0000001,
		0xe00000fb, 0xffffffff, 0x0a0100ff, 0x7f000001,
	};

	if (chance(50))
		return fixed[below(10)];
	switch (below(3)) {
	case 0: return 0x0a010000 | below(256);
	case 1: return 0xc0a80000 | below(65536);
	default: return (uint32_t)traffic_rand();
	}
}

static void ip6(uint8_t a[16])
{
	static const uint8_t fd[2] = { 0xfd, 0x00 }, doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a, 0, 16);
	switch (below(4)) {
	case 0: memcpy(a, fd, 2); a[15] = (uint8_t)(1 + below(8)); break;
	case 1: memcpy(a, doc, 4); a[15] = (uint8_t)below(256); break;
	case 2: a[0] = 0xff; a[1] = 0x02; a[15] = (uint8_t)(1 + below(2)); break;
	default:
		for (int i = 0; i < 16; i++)
			a[i] = (uint8_t)traffic_rand();
	}
}

static uint16_t port(void)
{
	static const uint16_t common[] = {
		20, 21, 22, 23, 25, 53, 67, 68, 80, 110, 123, 137, 143, 161, 179, 443, 514,
		1024, 2002, 3000, 8080, 65535,
	};

	return chance(70) ? common[below(sizeof(common) / sizeof(*common))]
			  : (uint16_t)below(65536);
}

static void tcp(struct pkt *p)
{
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01, 0x29, 0xff, 0x00 };
	size_t at = p->len;
	unsigned int opt = chance(30) ? 4 * below(11) : 0, i;

	pkt_tcp(p, port(), port(), (uint32_t)traffic_rand(), flags[below(sizeof(flags))]);
	p->b[at + 12] = (uint8_t)((5 + opt / 4) << 4);
	for (i = 0; i < opt; i++)
		pkt_put8(p, i + 1 == opt ? 0 : 1);
	payload(p, some_bytes(p));
}

static void udp(struct pkt *p)
{
	pkt_udp_begin(p, port(), port());
	payload(p, some_bytes(p));
	pkt_udp_end(p);
}

static void icmp(struct pkt *p, uint8_t v6)
{
	static const uint8_t t4[] = { 0, 3, 5, 8, 11, 13, 14 }, t6[] = { 1, 128, 129, 133, 134, 135, 136 };

	pkt_put8(p, v6 ? t6[below(7)] : t4[below(7)]);
	pkt_put8(p, (uint8_t)below(4));
	pkt_put16(p, 0);
	pkt_put32(p, (uint32_t)traffic_rand());
	payload(p, some_bytes(p));
}

static void sctp(struct pkt *p)
{
	pkt_put16(p, port());
	pkt_put16(p, port());
	pkt_put32(p, (uint32_t)traffic_rand());
	pkt_put32(p, 0);
	payload(p, some_bytes(p));
}

static void igmp(struct pkt *p)
{
	static const uint8_t t[] = { 0x11, 0x16, 0x17, 0x22 };

	pkt_put8(p, t[below(4)]);
	pkt_put8(p, 0);
	pkt_put16(p, 0);
	pkt_put32(p, ip4());
}

static void inner(struct pkt *p, int depth);

/* A transport (or tunnelled) payload for IP protocol number proto. */
static void transport(struct pkt *p, uint8_t proto, int depth)
{
	switch (proto) {
	case 6: tcp(p); break;
	case 17: udp(p); break;
	case 1: icmp(p, 0); break;
	case 58: icmp(p, 1); break;
	case 132: sctp(p); break;
	case 2: igmp(p); break;
	case 47:	/* GRE, then an inner IPv4 packet */
		pkt_put16(p, 0);
		pkt_put16(p, 0x0800);
		inner(p, depth + 1);
		break;
	default: payload(p, some_bytes(p));
	}
}

static uint8_t some_proto(void)
{
	static const uint8_t protos[] = { 6, 6, 6, 17, 17, 1, 132, 2, 47, 50, 89, 103 };

	return protos[below(sizeof(protos))];
}

static void ipv4(struct pkt *p, int depth)
{
	uint8_t proto = some_proto();
	unsigned int opt = chance(15) ? 4 * (1 + below(10)) : 0;
	uint16_t frag = 0;

	if (chance(10))
		frag = chance(50) ? 0x2000 : (uint16_t)(below(2) << 13 | (1 + below(200)));
	else if (chance(20))
		frag = 0x4000;	/* don't fragment */
	pkt_ipv4_begin(p, ip4(), ip4(), proto, opt, frag);
	p->b[p->l3 + 1] = (uint8_t)below(256);	/* TOS */
	p->b[p->l3 + 8] = (uint8_t)(1 + below(255));	/* TTL */
	if (frag & 0x1fff)
		payload(p, some_bytes(p));
	else
		transport(p, proto, depth);
	pkt_ipv4_end(p);
}

static void ipv6(struct pkt *p, int depth)
{
	static const uint8_t ext[] = { 0, 43, 44, 60, 51 };
	uint8_t s[16], d[16], last = some_proto() == 1 ? 58 : some_proto();
	unsigned int n = chance(40) ? 1 + below(3) : 0, i;
	size_t next_at;

	ip6(s);
	ip6(d);
	pkt_ipv6_begin(p, s, d, 0);
	next_at = p->l3 + 6;
	for (i = 0; i < n; i++) {
		uint8_t e = ext[below(sizeof(ext))];

		p->b[next_at] = e;
		next_at = p->len;
		pkt_put8(p, 0);	/* next header, filled in later */
		if (e == 44) {	/* fragment header: 8 bytes */
			pkt_put8(p, 0);
			pkt_put16(p, (uint16_t)(chance(50) ? 1 : below(65536)));
			pkt_put32(p, (uint32_t)traffic_rand());
		} else if (e == 51) {	/* AH: length in 4-byte units, minus 2 */
			pkt_put8(p, 4);
			payload(p, 22);
		} else {		/* length in 8-byte units, minus 1 */
			uint8_t len = (uint8_t)below(3);

			pkt_put8(p, len);
			payload(p, 6 + 8u * len);
		}
	}
	p->b[next_at] = last;
	transport(p, last, depth);
	pkt_ipv6_end(p);
}

/* An IPv4 or IPv6 packet (tunnels nest once). */
static void inner(struct pkt *p, int depth)
{
	if (depth > 1 || chance(70))
		ipv4(p, depth + 1);
	else
		ipv6(p, depth + 1);
}

static void arp(struct pkt *p, const uint8_t src[6])
{
	pkt_arp(p, (uint16_t)(1 + below(4)), src, ip4(), ip4());
}

void traffic_corpus_next(struct pkt *p)
{
	uint8_t dst[6], src[6];
	unsigned int r = below(100), i;
	uint16_t type;

	mac(dst, 1);
	mac(src, 0);
	pkt_reset(p);
	if (r < 3) {			/* nothing but an Ethernet header */
		pkt_eth(p, dst, src, (uint16_t)(chance(50) ? 0x0800 : below(65536)));
		return;
	}
	if (r < 6) {			/* 802.3 length and LLC (STP, SNAP) */
		pkt_eth(p, dst, src, (uint16_t)(38 + below(100)));
		if (chance(50)) {
			pkt_put8(p, 0x42); pkt_put8(p, 0x42); pkt_put8(p, 0x03);
		} else {
			pkt_put8(p, 0xaa); pkt_put8(p, 0xaa); pkt_put8(p, 0x03);
			pkt_put8(p, 0); pkt_put8(p, 0); pkt_put8(p, 0);
			pkt_put16(p, chance(50) ? 0x0800 : 0x809b);
		}
		payload(p, 35 + below(60));
		return;
	}
	if (r < 10) {			/* random bytes after an Ethernet header */
		pkt_eth(p, dst, src, (uint16_t)below(65536));
		payload(p, below(200));
		return;
	}
	if (r < 16) {			/* ARP, RARP */
		pkt_eth(p, dst, src, chance(70) ? 0x0806 : 0x8035);
		arp(p, src);
	} else if (r < 26) {		/* 802.1Q, QinQ */
		int outer_ad = chance(30);

		pkt_eth(p, dst, src, outer_ad ? 0x88a8 : 0x8100);
		type = chance(60) ? 0x0800 : chance(50) ? 0x86dd : chance(50) ? 0x8100 : 0x0806;
		if (outer_ad && chance(70))
			type = 0x8100;
		pkt_vlan(p, (uint16_t)(below(8) << 13 | below(4096)), type);
		if (type == 0x8100) {
			type = chance(70) ? 0x0800 : 0x86dd;
			pkt_vlan(p, (uint16_t)below(4096), type);
		}
		if (type == 0x0800)
			ipv4(p, 0);
		else if (type == 0x86dd)
			ipv6(p, 0);
		else
			arp(p, src);
	} else if (r < 33) {		/* MPLS label stack */
		unsigned int labels = 1 + below(3);

		pkt_eth(p, dst, src, chance(80) ? 0x8847 : 0x8848);
		for (i = 0; i < labels; i++)
			pkt_put32(p, (uint32_t)(below(1 << 20) << 12 | below(8) << 9 |
						(i + 1 == labels) << 8 | (1 + below(255))));
		if (chance(80))
			ipv4(p, 0);
		else
			ipv6(p, 0);
	} else if (r < 39) {		/* PPPoE session and discovery */
		int session = chance(80);

		pkt_eth(p, dst, src, session ? 0x8864 : 0x8863);
		pkt_put8(p, 0x11);
		pkt_put8(p, session ? 0 : 0x09);
		pkt_put16(p, (uint16_t)below(65536));
		pkt_put16(p, 0);
		if (session) {
			int v6 = chance(30);

			pkt_put16(p, v6 ? 0x0057 : 0x0021);
			if (v6)
				ipv6(p, 0);
			else
				ipv4(p, 0);
		} else {
			payload(p, below(40));
		}
	} else if (r < 70) {
		pkt_eth(p, dst, src, 0x0800);
		ipv4(p, 0);
	} else {
		pkt_eth(p, dst, src, 0x86dd);
		ipv6(p, 0);
	}
	/* cut short anywhere past the Ethernet header */
	if (chance(12) && p->len > 15)
		p->len = 14 + below((unsigned int)p->len - 14);
}
