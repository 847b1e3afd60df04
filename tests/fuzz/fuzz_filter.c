/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target over tcpdump expressions: libpcap compiles what it can;
 * whatever it compiles must either be refused by cbpf_check with a message
 * or translate into programs the kernel's verifier accepts.  Runs as root.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbpf_prog prog;
	char expr[512];

	if (size >= sizeof(expr))
		return 0;
	memcpy(expr, data, size);
	expr[size] = 0;
	err_begin();
	if (cbpf_compile(expr, LINKTYPE_ETHERNET, 0, &prog))
		return 0;	/* libpcap refused it: its message is the answer */
	if (!cbpf_check(&prog))
		translate_and_verify(&prog, expr);
	cbpf_prog_free(&prog);
	return 0;
}
