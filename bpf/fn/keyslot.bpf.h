// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * A value's slot in a slot table (user/flow/keyslot.h), for the routines
 * of bpf/fn/: found, or claimed when one of its slots is empty.
 */
#ifndef MAPI_KEYSLOT_BPF_H
#define MAPI_KEYSLOT_BPF_H

#include "user/flow/keyslot.h"

/*
 * may_goto (BPF_JMP | BPF_JCOND, 0xe5), written out for compilers that
 * have no mnemonic for it: true while the kernel lets the loop go on.  A
 * loop that tests it is verified by its states converging, a few passes,
 * rather than once for every turn: the probes of a slot table would
 * otherwise be verified KEYSLOT_PROBES times at each call, for each way
 * the caller's key may look (IPv4, IPv6, ...), and a flow with a dozen
 * TOPs would pass the verifier's million instructions.  The kernel's
 * bound (millions of turns) is never what ends these loops.
 */
#define can_loop ({ __label__ l_out, l_on; int ok_ = 1;			\
	asm volatile goto("1: .byte 0xe5, 0\n"					\
			  ".long ((%l[l_out] - 1b - 8) / 8) & 0xffff\n"		\
			  ".short 0\n" :::: l_out);				\
	goto l_on;								\
l_out:	ok_ = 0;								\
l_on:	ok_; })

static __always_inline __u32 keyslot_state(const struct keyslot *s)
{
	return *(const volatile __u32 *)&s->state;
}

/*
 * The slot of key in slots (an array map of mask + 1 slots and the head),
 * the key written when it was not there and the table holds fewer than
 * max values, the slot then appended to the order list (of runs of run
 * entries: keyslot.h); NULL when it is full or the key's KEYSLOT_PROBES
 * slots hold other values.  A new slot's value is zero (the array's, never reused).
 *
 * Claiming is a compare-and-swap of the state from EMPTY to BUSY, so that
 * two CPUs never write one slot; the key is published by an exchange to
 * READY, a full barrier, so that a CPU that reads READY (x86 keeps loads
 * in order) finds the whole key.  A CPU that finds a slot BUSY goes on to
 * the next rather than wait (a loop the verifier would walk for every
 * probe): when the claimer was putting in the same value, it is put in
 * twice, and readers add up the slots of one value.  CPUs that claim at
 * once may take the table a few values past max.
 */
static __always_inline struct keyslot *keyslot_get(void *slots, const struct field_key *key,
						   __u32 mask, __u32 max, __u32 run)
{
	__u64 h = field_key_hash(key);
	__u32 idx = keyslot_index(h, 0, mask), stop = keyslot_index(h, KEYSLOT_PROBES, mask);

	/* (no counter of probes: one the verifier knows would be a constant
	 * at every turn, the states never the same; stop is as unknown as
	 * the hash) */
	do {
		struct keyslot *s = bpf_map_lookup_elem(slots, &idx);
		__u32 st;

		if (!s)
			return NULL;
		st = keyslot_state(s);
		if (st == KEYSLOT_EMPTY) {
			/* (the head only for a new value: a packet of a known one
			 * looks up its slots alone) */
			__u32 at = mask + 1;
			struct keyslot *head = bpf_map_lookup_elem(slots, &at);

			if (!head || keyslot_state(head) >= max)
				return NULL;
			st = __sync_val_compare_and_swap(&s->state, KEYSLOT_EMPTY, KEYSLOT_BUSY);
			if (st == KEYSLOT_EMPTY) {
				__u32 k, elem, *o;

				s->key = *key;
				__sync_lock_test_and_set(&s->state, KEYSLOT_READY);
				k = __sync_fetch_and_add(&head->state, 1);
				elem = mask + 2 + k / run;	/* (past the list: no element) */
				o = bpf_map_lookup_elem(slots, &elem);
				if (o)
					o[k & (run - 1)] = idx + 1;
				return s;
			}
		}
		if (st == KEYSLOT_READY && keyslot_same(&s->key, key))
			return s;
		idx = (idx + 1) & mask;
	} while (idx != stop && can_loop);
	return NULL;
}

#endif
