/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading a generated program into the kernel, with the verifier's reasons. */
#ifndef MAPI_LOADER_H
#define MAPI_LOADER_H

#include "cbpf_xlate.h"
#include "ebpf_asm.h"

/*
 * Loads pb as an XDP (hook XLATE_XDP) or tc program.  offload_ifindex > 0
 * binds it to that NIC.  Returns a program fd, or a negative errno with the
 * verifier's reason recorded (and its log sent to the debug log).
 */
int loader_load(const struct prog_buf *pb, enum xlate_hook hook, int offload_ifindex);

#endif
