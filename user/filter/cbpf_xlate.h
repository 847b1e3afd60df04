/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classic BPF -> eBPF, in process.
 *
 * The translated code is spliced into a flow program: it falls through when
 * the packet passes the filter and jumps to reject_label when it does not.
 * It keeps the classic interpreter's semantics exactly (libpcap's
 * bpf_filter()): a load past the end of the packet rejects it, division or
 * modulo by zero rejects it, shifts by 32 or more do what the linked
 * libpcap does (cbpf_shift_mod32()), scratch memory starts zeroed.
 *
 * Register contract with the surrounding program: R6 holds the context
 * (struct xdp_md or struct __sk_buff), R7 and R8 the packet's data and
 * data_end; the code uses R0-R5 freely and leaves R6-R9 alone.
 */
#ifndef MAPI_CBPF_XLATE_H
#define MAPI_CBPF_XLATE_H

#include <stdint.h>

#include "cbpf.h"
#include "ebpf_asm.h"

enum xlate_hook {
	XLATE_XDP,	/* context is struct xdp_md */
	XLATE_TC,	/* context is struct __sk_buff */
};

struct xlate_env {
	enum xlate_hook hook;
	int16_t wirelen_off;	/* fp offset of the frame's wire length (u64) */
	int16_t scratch_off;	/* fp offset of M[0..15], 4 bytes each */
	int16_t buf_off;	/* fp offset of an 8-byte load buffer */
	int16_t spill_off;	/* fp offset of 16 bytes to keep A and X */
	int16_t loop_off;	/* fp offset of two u64: the backward jumps made, a hidden zero */
	int linear_only;	/* the frame is all linear (XDP without fragments,
				 * offload): beyond data_end is beyond the end */
	int shift_mod32;	/* shifts by >= 32 use the count mod 32, not give 0 */
	int reject_label;
};

/* A packet's filter gives up (rejects) after this many backward jumps, all
 * loops together (newer libpcap's interpreter does the same; Debian 12's
 * 1.10.3 has no bound). */
#define CBPF_MAX_BACKWARD_JUMPS 64
/* Loops (backward jump targets) a program may have.  libpcap makes at most
 * 30 (protochain makes two, ip and ip6 protochain one, and it runs out of
 * scratch registers past 15 protochains); each costs the verifier a few
 * thousand instructions, so that 64 stay far below its million. */
#define CBPF_MAX_LOOPS 64

/* Stack bytes the translated code needs at scratch_off (M[0..15]). */
#define XLATE_SCRATCH_BYTES (CBPF_MEMWORDS * 4)

/*
 * Checks that a classic program can be translated: valid opcodes, forward
 * jumps that stay inside the program, a final return.  Returns 0 or
 * -EINVAL with a message naming the instruction.
 */
int cbpf_check(const struct cbpf_prog *prog);
/* The loops (targets of backward jumps) of a checked program. */
int cbpf_loops(const struct cbpf_prog *prog);

/* Emits the translation of prog into pb; returns 0 or a negative errno. */
int cbpf_translate(struct prog_buf *pb, const struct cbpf_prog *prog,
		   const struct xlate_env *env);

#endif
