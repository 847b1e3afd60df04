/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcap_oracle.h"

#include <pcap/pcap.h>

unsigned int oracle_run(const struct cbpf_prog *prog, const uint8_t *pkt,
			uint32_t caplen, uint32_t wirelen)
{
	struct bpf_program bp = {
		.bf_len = (unsigned int)prog->len,
		.bf_insns = (struct bpf_insn *)prog->insns,
	};
	struct pcap_pkthdr h = { .caplen = caplen, .len = wirelen };

	return (unsigned int)pcap_offline_filter(&bp, &h, pkt);
}
