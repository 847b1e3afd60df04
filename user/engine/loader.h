/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading a generated program into the kernel, with the verifier's reasons. */
#ifndef MAPI_LOADER_H
#define MAPI_LOADER_H

#include "cbpf_xlate.h"
#include "ebpf_asm.h"

/* What a generated program is for. */
struct prog_target {
	enum xlate_hook hook;
	int offload_ifindex;	/* > 0: runs on that NIC */
	int frags;		/* XDP: frames may come in several buffers */
	int ingress;		/* it sees received packets (XDP or tc ingress);
				 * else sent ones (tc egress) */
};

/*
 * Loads pb for target.  Returns a program fd, or a negative errno with the
 * verifier's reason recorded (and its log sent to the debug log).
 */
int loader_load(const struct prog_buf *pb, const struct prog_target *t);

#endif
