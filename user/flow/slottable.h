/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A slot table (keyslot.h) as user space sees it: a copy of the kernel's,
 * read from its array map, or one in memory that a flow over a trace
 * fills as the kernel's routine would (one writer, the caller's lock).
 * Both are read by the same walk.
 */
#ifndef MAPI_SLOTTABLE_H
#define MAPI_SLOTTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "keyslot.h"

struct slottable {
	uint32_t mask, max;	/* slots - 1 (a power of two), values it holds */
	uint32_t run;		/* the order list's entries an element */
	size_t value_size;	/* after each struct keyslot, a multiple of 8 */
	uint8_t *slots;		/* mask + 1 slots, then the head; NULL: not yet */
	uint32_t *order;	/* the order list's entries (keyslot.h), n of them */
	uint32_t n;
};

/* The bytes of a slot: the array map's value size (keyslot_elements() of
 * them, with the order list's). */
size_t slottable_slot_size(size_t value_size);
void slottable_init(struct slottable *t, uint32_t slots, uint32_t max, size_t value_size,
		    uint32_t run);

/*
 * Reads the kernel's table, array map fd: 0 or -errno.  A table holding
 * few values is read slot by slot, as its order list names them; a fuller
 * one whole, in batches.  (Not mapped into memory: the kernel maps no
 * descriptor opened read-only, as mapid's clients hold theirs.)
 */
int slottable_load(struct slottable *t, int fd);
void slottable_free(struct slottable *t);

/* The value of k in a table in memory, put in as the kernel's routine
 * would (zeroed); NULL when it would not be (full, its slots taken, or no
 * memory). */
void *slottable_get(struct slottable *t, const struct field_key *k);

/* The k-th of the t->n values held (in the order they were put in, over
 * a trace): its key and value, or NULL when its slot was not ready yet. */
void *slottable_nth(const struct slottable *t, uint32_t k, const struct field_key **key);

#endif
