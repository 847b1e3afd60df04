/* SPDX-License-Identifier: BSD-2-Clause */
#include "tracew.h"

#include <pcap/pcap.h>

static void put32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f);
}

static void put16(FILE *f, uint16_t v)
{
	fwrite(&v, 2, 1, f);
}

static void pcapng_header(FILE *f, int linktype, uint32_t snaplen)
{
	/* section header block */
	put32(f, 0x0a0d0d0a);
	put32(f, 28);
	put32(f, 0x1a2b3c4d);
	put16(f, 1);
	put16(f, 0);
	put32(f, 0xffffffff);	/* section length: unknown (-1) */
	put32(f, 0xffffffff);
	put32(f, 28);
	/* interface description block, if_tsresol = 9: nanoseconds */
	put32(f, 1);
	put32(f, 32);
	put16(f, (uint16_t)linktype);
	put16(f, 0);
	put32(f, snaplen);
	put16(f, 9);
	put16(f, 1);
	put32(f, 9);		/* the value, padded */
	put32(f, 0);		/* end of options */
	put32(f, 32);
}

int tracew_open(struct tracew *w, const char *path, int pcapng, int linktype,
		uint32_t snaplen)
{
	w->ng = NULL;
	w->dead = w->dump = NULL;
	w->snaplen = snaplen ? snaplen : 262144;
	if (pcapng) {
		w->ng = fopen(path, "wb");
		if (!w->ng)
			return -1;
		pcapng_header(w->ng, linktype, w->snaplen);
		return 0;
	}
	w->dead = pcap_open_dead_with_tstamp_precision(linktype, (int)w->snaplen,
						       PCAP_TSTAMP_PRECISION_NANO);
	w->dump = w->dead ? pcap_dump_open(w->dead, path) : NULL;
	return w->dump ? 0 : -1;
}

void tracew_put(struct tracew *w, uint64_t ts_ns, const uint8_t *data, uint32_t len,
		uint32_t caplen)
{
	static const unsigned char zeros[4];

	if (caplen > w->snaplen)
		caplen = w->snaplen;
	if (w->ng) {
		uint32_t pad = (4 - caplen % 4) % 4, blen = 32 + caplen + pad;

		put32(w->ng, 6);	/* enhanced packet block */
		put32(w->ng, blen);
		put32(w->ng, 0);	/* interface 0 */
		put32(w->ng, (uint32_t)(ts_ns >> 32));
		put32(w->ng, (uint32_t)ts_ns);
		put32(w->ng, caplen);
		put32(w->ng, len);
		fwrite(data, 1, caplen, w->ng);
		fwrite(zeros, 1, pad, w->ng);
		put32(w->ng, blen);
	} else {
		struct pcap_pkthdr h = {
			.ts.tv_sec = (time_t)(ts_ns / 1000000000u),
			.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u),	/* ns */
			.caplen = caplen,
			.len = len,
		};

		pcap_dump(w->dump, &h, data);
	}
}

int tracew_close(struct tracew *w)
{
	int ret = 0;

	if (w->ng)
		ret = fclose(w->ng) ? -1 : 0;
	if (w->dump)
		pcap_dump_close(w->dump);
	if (w->dead)
		pcap_close(w->dead);
	return ret;
}
