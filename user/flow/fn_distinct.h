/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DISTINCT's HyperLogLog registers, as its routine (bpf/fn/distinct.bpf.c)
 * and user/flow/fn_distinct.c both see them: the same hash (field_key.h),
 * index and rank in both, so a trace and its packets sent live leave the
 * same registers.
 */
#ifndef MAPI_FN_DISTINCT_H
#define MAPI_FN_DISTINCT_H

#include "keyslot.h"

/* Registers: 2^12 for the count over all packets (1.6 % standard error),
 * 2^8 under each value of the per field (6.5 %). */
#define DISTINCT_ALL_BITS 12
#define DISTINCT_PER_BITS 8
#define DISTINCT_ALL_REGS (1 << DISTINCT_ALL_BITS)
#define DISTINCT_PER_REGS (1 << DISTINCT_PER_BITS)
/* Values of the per field the kernel's table holds: a slot table
 * (keyslot.h) of twice as many slots of struct distinct_slot. */
#define DISTINCT_TABLE 16384
#define DISTINCT_TABLE_SLOTS (2 * DISTINCT_TABLE)
#define DISTINCT_ORDER_RUN 64	/* the order list's entries a slot's room */

struct distinct_all {
	__u8 reg[DISTINCT_ALL_REGS];
};

struct distinct_per {
	__u64 packets;
	__u8 reg[DISTINCT_PER_REGS];
};

struct distinct_slot {
	struct keyslot head;
	struct distinct_per per;
};				/* 288 bytes */

/* Leading zeros of x, which is not 0. */
static inline __u32 distinct_clz64(__u64 x)
{
	__u32 n = 0;

	if (!(x >> 32)) { n += 32; x <<= 32; }
	if (!(x >> 48)) { n += 16; x <<= 16; }
	if (!(x >> 56)) { n += 8; x <<= 8; }
	if (!(x >> 60)) { n += 4; x <<= 4; }
	if (!(x >> 62)) { n += 2; x <<= 2; }
	if (!(x >> 63))
		n += 1;
	return n;
}

/* A value of hash h goes to register h >> (64 - bits), with the rank of
 * the bits below: 1 + their leading zeros (at most 65 - bits). */
static inline __u32 distinct_rank(__u64 h, int bits)
{
	return distinct_clz64(h << bits | (1ull << (bits - 1))) + 1;
}

#ifndef __bpf__
struct bpf_routine;
extern const struct bpf_routine routine_mapi_distinct_add;
#endif

#endif
