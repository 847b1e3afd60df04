/* SPDX-License-Identifier: BSD-2-Clause */
#include "traffic.h"

#include <string.h>

static uint64_t rng_state;

void traffic_seed(uint64_t seed)
{
	rng_state = seed;
}

uint64_t traffic_rand(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int below(unsigned int n)
{
	return (unsigned int)(traffic_rand() % n);
}

static const uint8_t mac_mon[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void random_mac(uint8_t m[6])
{
	m[0] = 0x02;
	m[1] = 0x00;
	m[2] = 0x00;
	m[3] = 0x00;
	m[4] = (uint8_t)below(4);
	m[5] = (uint8_t)(2 + below(30));
}

static uint32_t random_ip(void)
{
	static const uint32_t servers[] = { 0x0a010050, 0x0a010015, 0x0a010035 };

	if (below(2))
		return servers[below(3)];
	return 0x0a010000 | (1 + below(40));
}

static void random_payload(struct pkt *p, unsigned int n)
{
	while (n--)
		pkt_put8(p, (uint8_t)traffic_rand());
}

static uint16_t tcp_port(void)
{
	unsigned int r = below(100);

	return r < 40 ? 80 : r < 55 ? 443 : r < 65 ? 22 : (uint16_t)(1024 + below(60000));
}

static uint16_t udp_port(void)
{
	unsigned int r = below(100);

	return r < 30 ? 53 : r < 50 ? 2002 : r < 60 ? 80 : (uint16_t)(1024 + below(60000));
}

/* Room left for payload in a frame of at most max bytes. */
static unsigned int room(const struct pkt *p, unsigned int max)
{
	return p->len < max ? max - (unsigned int)p->len : 0;
}

static void l4(struct pkt *p, int proto, unsigned int max)
{
	static const uint8_t flags[] = { 0x02, 0x10, 0x18, 0x11, 0x04, 0x12 };
	unsigned int n;

	if (proto == 6) {
		pkt_tcp(p, (uint16_t)(1024 + below(60000)), tcp_port(), (uint32_t)traffic_rand(),
			flags[below(sizeof(flags))]);
	} else {
		pkt_udp_begin(p, below(5) ? (uint16_t)(1024 + below(60000)) : 2002, udp_port());
	}
	n = room(p, max);
	random_payload(p, below(3) ? below(n < 200 ? n + 1 : 200) : below(n + 1));
	if (proto == 17)
		pkt_udp_end(p);
}

void traffic_next(struct pkt *p, enum traffic_vlan vlan)
{
	uint8_t src[6], dst[6];
	unsigned int r = below(100), n;

	/* 75..84 is the 802.1Q range */
	if (vlan == TRAFFIC_NO_VLAN && r >= 75 && r < 85)
		r = r < 80 ? 0 : 30;
	else if (vlan == TRAFFIC_VLAN_ONLY)
		r = 75;

	random_mac(src);
	memcpy(dst, below(4) ? mac_mon : mac_bcast, 6);
	pkt_reset(p);
	if (r < 30) {			/* IPv4 TCP, sometimes with options */
		pkt_eth(p, dst, src, 0x0800);
		pkt_ipv4_begin(p, random_ip(), random_ip(), 6, below(10) ? 0 : 4 * (1 + below(2)), 0);
		l4(p, 6, 1514);
		pkt_ipv4_end(p);
	} else if (r < 50) {		/* IPv4 UDP */
		pkt_eth(p, dst, src, 0x0800);
		pkt_ipv4_begin(p, random_ip(), random_ip(), 17, 0, 0);
		l4(p, 17, 1514);
		pkt_ipv4_end(p);
	} else if (r < 58) {		/* ICMP echo */
		pkt_eth(p, dst, src, 0x0800);
		pkt_ipv4_begin(p, random_ip(), random_ip(), 1, 0, 0);
		pkt_icmp_echo(p, below(2) ? 8 : 0, (uint16_t)traffic_rand());
		random_payload(p, below(500));
		pkt_ipv4_end(p);
	} else if (r < 65) {		/* ARP */
		pkt_eth(p, below(2) ? mac_bcast : dst, src, 0x0806);
		pkt_arp(p, below(2) ? 1 : 2, src, random_ip(), random_ip());
	} else if (r < 75) {		/* IPv6 TCP/UDP */
		uint8_t s6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, d6[16];

		s6[15] = (uint8_t)(1 + below(20));
		memcpy(d6, s6, 16);
		d6[15] = below(2) ? 0x80 : (uint8_t)(1 + below(20));
		pkt_eth(p, dst, src, 0x86dd);
		n = below(2) ? 6 : 17;
		pkt_ipv6_begin(p, s6, d6, (uint8_t)n);
		l4(p, (int)n, 1514);
		pkt_ipv6_end(p);
	} else if (r < 85) {		/* 802.1Q, IPv4 inside */
		pkt_eth(p, dst, src, 0x8100);
		pkt_vlan(p, (uint16_t)(1 + below(10)), 0x0800);
		n = below(2) ? 6 : 17;
		pkt_ipv4_begin(p, random_ip(), random_ip(), (uint8_t)n, 0, 0);
		l4(p, (int)n, 1518);
		pkt_ipv4_end(p);
	} else if (r < 90) {		/* a later IPv4 fragment of a UDP datagram */
		pkt_eth(p, dst, src, 0x0800);
		pkt_ipv4_begin(p, random_ip(), random_ip(), 17, 0, (uint16_t)(1 + below(100)));
		random_payload(p, 8 + below(1000));
		pkt_ipv4_end(p);
	} else if (r < 95) {		/* other ethertypes */
		pkt_eth(p, below(2) ? mac_bcast : dst, src, below(2) ? 0x88cc : 0x9000);
		random_payload(p, 46 + below(200));
	} else {			/* truncated IPv4: header cut short */
		pkt_eth(p, dst, src, 0x0800);
		pkt_put8(p, 0x45);
		random_payload(p, below(20));
	}
}


/* The Slapper worm's signature, as the seed's application searches it. */
static const uint8_t worm_sig[] = { 0, 0, 'E', 0, 0, 'E', 0, 0, '@', 0 };

static int worm_frame(struct pkt *p, unsigned int kase, uint16_t dport)
{
	uint8_t src[6];
	unsigned int at, len, i;
	uint16_t sport = kase == 5 ? 2003 : 2002;
	int worm;

	/* where the signature starts in the frame, against a window of the
	 * first 100 bytes; the UDP payload starts at byte 42 (IPv4), 62 (IPv6) */
	switch (kase) {
	case 0: at = 42 + below(20); worm = 1; break;		/* well inside */
	case 1: at = 100 - sizeof(worm_sig); worm = 1; break;	/* ends at byte 100 */
	case 2: at = 101 - sizeof(worm_sig); worm = 0; break;	/* one byte too far */
	case 3: at = 96; worm = 0; break;			/* across the end */
	case 4: at = 200 + below(100); worm = 0; break;		/* far outside */
	case 5: at = 50; worm = 0; break;			/* from another port */
	case 6: at = 50; worm = 0; break;			/* a look-alike */
	case 7: at = 62 + below(20); worm = 1; break;		/* over IPv6 */
	default: at = 0; worm = 0; break;			/* no signature */
	}
	len = at + sizeof(worm_sig) + below(300);
	if (len < 60)
		len = 60;
	random_mac(src);
	pkt_reset(p);
	pkt_eth(p, mac_mon, src, kase == 7 ? 0x86dd : 0x0800);
	if (kase == 7) {
		uint8_t s6[16] = { 0xfd }, d6[16] = { 0xfd };

		s6[15] = (uint8_t)(1 + below(20));
		d6[15] = 0x80;
		pkt_ipv6_begin(p, s6, d6, 17);
	} else {
		pkt_ipv4_begin(p, random_ip(), 0x0a010050, 17, 0, 0);
	}
	pkt_udp_begin(p, sport, dport);
	/* payload without the signature's bytes, so that it appears only
	 * where it is put */
	for (i = (unsigned int)p->len; i < len; i++)
		pkt_put8(p, (uint8_t)('a' + below(26)));
	if (at) {
		memcpy(p->b + at, worm_sig, sizeof(worm_sig));
		if (kase == 6)
			p->b[at + 1 + below(sizeof(worm_sig) - 1)] ^= 0x20;
	}
	pkt_udp_end(p);
	if (kase == 7)
		pkt_ipv6_end(p);
	else
		pkt_ipv4_end(p);
	return worm;
}

int traffic_worm_next(struct pkt *p, uint16_t dport)
{
	return worm_frame(p, below(9), dport);
}

void traffic_worm_one(struct pkt *p, uint16_t dport)
{
	worm_frame(p, 0, dport);
}
