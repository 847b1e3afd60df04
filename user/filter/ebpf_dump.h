/* SPDX-License-Identifier: BSD-2-Clause */
/* eBPF instructions as text, for people (mapi compile, debugging). */
#ifndef MAPI_EBPF_DUMP_H
#define MAPI_EBPF_DUMP_H

#include <linux/bpf.h>
#include <stddef.h>

/* One line an instruction, numbered; *text is malloc'ed. */
int ebpf_dump(const struct bpf_insn *insns, size_t n, char **text);

#endif
