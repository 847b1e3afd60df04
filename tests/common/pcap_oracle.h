/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libpcap's own interpreter (pcap_offline_filter), the reference that
 * translated filters must agree with.  Kept in its own translation unit:
 * <pcap/bpf.h> and <linux/bpf.h> cannot meet.
 */
#ifndef MAPI_TESTS_PCAP_ORACLE_H
#define MAPI_TESTS_PCAP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "cbpf.h"

/* What libpcap's interpreter returns for prog on a frame (0 = rejected). */
unsigned int oracle_run(const struct cbpf_prog *prog, const uint8_t *pkt,
			uint32_t caplen, uint32_t wirelen);

#endif
