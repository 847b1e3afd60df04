/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The tables the kernel keeps from a field's value to a function's value
 * (TOP's counts): an array map of slots, each a struct keyslot and then
 * the value, filled in place and never emptied, and after the last slot
 * the table's head, whose state counts the slots claimed.  A value lives
 * in one of the KEYSLOT_PROBES slots after its hash; one that finds them
 * all taken by others, or the table holding as many values as it is
 * sized for, is not put in (the function counts it elsewhere).  There are
 * twice the slots of the values the table holds, so that a value seldom
 * finds its slots taken before the table is full (docs/semantics.md, TOP).
 *
 * After the head, the order list: entry k is the slot claimed k-th, plus
 * one (0: not written yet), so that a reader of a table holding few values
 * reads those slots only, not the megabytes of the whole table.  It lies
 * in the array's last elements, each holding a run of entries (a power of
 * two of them that fits a slot: entry k is word k % run of element
 * mask + 2 + k / run), not in a map of its own: a program names at most
 * 64 maps, and a flow may have a dozen tables.
 *
 * Included by the routines in BPF C (bpf/fn/keyslot.bpf.h looks up and
 * claims slots) and by the in-process half (slottable.c), which lays out
 * and probes its table alike, so that a trace and the same packets sent
 * live fill the same slots.
 */
#ifndef MAPI_KEYSLOT_H
#define MAPI_KEYSLOT_H

#include "field_key.h"

#define KEYSLOT_EMPTY 0		/* zeroed: as the kernel makes the array */
#define KEYSLOT_BUSY 1		/* claimed by a CPU that is writing the key */
#define KEYSLOT_READY 2		/* the key is there */
#define KEYSLOT_PROBES 64

struct keyslot {
	__u32 state;		/* the head's: slots claimed */
	struct field_key key;
};				/* 24 bytes: the value after it is 8-byte aligned */

/* The slot of probe i for a value of hash h (field_key_hash) in a table of
 * mask + 1 slots (a power of two), from the hash's bits 32 and up.  (TOP's
 * sketch takes its rows' cells from bits 0-47: for a value refused by its
 * slots, seldom, the last row is not independent of where it probed.) */
static inline __u32 keyslot_index(__u64 h, __u32 i, __u32 mask)
{
	return ((__u32)(h >> 32) + i) & mask;
}

/* The array's elements: slots, head, the order list's runs. */
static inline __u32 keyslot_elements(__u32 slots, __u32 run)
{
	return slots + 1 + slots / run;
}

static inline int keyslot_same(const struct field_key *a, const struct field_key *b)
{
	return a->kind == b->kind && a->value[0] == b->value[0] && a->value[1] == b->value[1] &&
	       a->value[2] == b->value[2] && a->value[3] == b->value[3];
}

#endif
