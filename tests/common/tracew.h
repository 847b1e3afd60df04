/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writing the traces tests read: pcap (libpcap's writer, nanosecond
 * timestamps) or pcapng (written here: libpcap reads pcapng but does not
 * write it), with a snap length that cuts packets as a capture would.
 */
#ifndef MAPI_TESTS_TRACEW_H
#define MAPI_TESTS_TRACEW_H

#include <stdint.h>
#include <stdio.h>

struct tracew {
	FILE *ng;		/* pcapng */
	void *dead, *dump;	/* pcap: libpcap's handles */
	uint32_t snaplen;
};

/* snaplen 0: 262144, nothing cut. */
int tracew_open(struct tracew *w, const char *path, int pcapng, int linktype,
		uint32_t snaplen);
/* One packet of len bytes on the wire (cut at the snap length). */
void tracew_put(struct tracew *w, uint64_t ts_ns, const uint8_t *data, uint32_t len,
		uint32_t caplen);
int tracew_close(struct tracew *w);

#endif
