/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writing a pcap file (Ethernet, nanosecond timestamps), the format
 * tcpdump -r and Wireshark read.  The format is a 24-byte file header and
 * a 16-byte header before each packet; nothing else is needed.
 */
#ifndef MAPI_PCAPWRITE_H
#define MAPI_PCAPWRITE_H

#include <stdint.h>
#include <stdio.h>

struct pcap_writer {
	FILE *f;
	int err;		/* first write error (negative errno), sticky */
};

/* Creates (or truncates) path and writes the file header. */
int pcapw_open(struct pcap_writer *w, const char *path, uint32_t snaplen);
int pcapw_write(struct pcap_writer *w, uint64_t ts_ns, uint32_t caplen, uint32_t wlen,
		const void *data);
/* Writes out what is buffered (before a fork, whose child must not write
 * it again); 0 or the file's error. */
int pcapw_flush(struct pcap_writer *w);
/* Flushes and closes; returns the first error of the file's life. */
int pcapw_close(struct pcap_writer *w);

#endif
