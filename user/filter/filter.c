/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The only translation unit that includes libpcap: tcpdump expressions are
 * compiled here into classic BPF, which cbpf_xlate.c turns into eBPF.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbpf.h"
#include "error.h"
#include "mapi.h"

_Static_assert(sizeof(struct cbpf_insn) == sizeof(struct bpf_insn),
	       "classic instruction layout differs from libpcap's");

/* libpcap's own limit on a snapshot; filters never look further than this. */
#define FILTER_SNAPLEN 262144

void cbpf_prog_free(struct cbpf_prog *prog)
{
	free(prog->insns);
	prog->insns = NULL;
	prog->len = 0;
}

int cbpf_compile(const char *expr, int linktype, uint32_t netmask,
		 struct cbpf_prog *out)
{
	struct bpf_program bp;
	pcap_t *p;
	int ret = 0;

	out->insns = NULL;
	out->len = 0;
	p = pcap_open_dead(linktype, FILTER_SNAPLEN);
	if (!p)
		return -ENOMEM;
	if (pcap_compile(p, &bp, expr, 1, netmask) < 0) {
		/* the reason first: a long expression would push it out of the
		 * message */
		ret = err_set(-EINVAL, MAPI_BPF_FILTER_ERROR,
			      "BPF_FILTER: %s, in \"%s\"", pcap_geterr(p), expr);
		goto out;
	}
	out->insns = calloc(bp.bf_len, sizeof(*out->insns));
	if (!out->insns) {
		ret = -ENOMEM;
	} else {
		memcpy(out->insns, bp.bf_insns, bp.bf_len * sizeof(*out->insns));
		out->len = bp.bf_len;
	}
	pcap_freecode(&bp);
out:
	pcap_close(p);
	return ret;
}

int cbpf_shift_mod32(void)
{
	static int answer = -1;	/* asked once; threads that race ask twice */

	if (__atomic_load_n(&answer, __ATOMIC_RELAXED) < 0) {
		/* ld #1; ldx #33; lsh x; ret a: 2 if the count is taken mod 32 */
		struct bpf_insn probe[] = {
			{ BPF_LD | BPF_IMM, 0, 0, 1 },
			{ BPF_LDX | BPF_IMM, 0, 0, 33 },
			{ BPF_ALU | BPF_LSH | BPF_X, 0, 0, 0 },
			{ BPF_RET | BPF_A, 0, 0, 0 },
		};
		struct bpf_program bp = { 4, probe };
		struct pcap_pkthdr h = { .caplen = 1, .len = 1 };
		unsigned char byte = 0;

		__atomic_store_n(&answer, pcap_offline_filter(&bp, &h, &byte) == 2,
				 __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&answer, __ATOMIC_RELAXED);
}

uint32_t cbpf_netmask_of(const char *dev)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	bpf_u_int32 net, mask;

	if (pcap_lookupnet(dev, &net, &mask, errbuf) < 0)
		return 0;
	return mask;
}

int cbpf_dump(const struct cbpf_prog *prog, char **text)
{
	struct bpf_program bp = {
		.bf_len = (unsigned int)prog->len,
		.bf_insns = (struct bpf_insn *)prog->insns,
	};
	size_t size = 0, i;
	FILE *f;

	f = open_memstream(text, &size);
	if (!f)
		return -ENOMEM;
	for (i = 0; i < prog->len; i++)
		fprintf(f, "%s\n", bpf_image(&bp.bf_insns[i], (int)i));
	if (fclose(f))
		return -ENOMEM;
	return 0;
}
