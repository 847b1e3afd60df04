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
	size_t value_size;	/* after each struct keyslot, a multiple of 8 */
	uint8_t *slots;		/* mask + 1 slots, then the head; NULL: not yet */
};

/* The bytes of the table: as an array map's value of slottable_slot_size
 * (the kernel's element size), mask + 2 of them. */
size_t slottable_slot_size(size_t value_size);
void slottable_init(struct slottable *t, uint32_t slots, uint32_t max, size_t value_size);

/* Reads the kernel's table, array map fd, in batches: 0 or -errno.  (Not
 * mapped into memory: the kernel maps no descriptor opened read-only, as
 * mapid's clients hold theirs, and a copy costs a few milliseconds.) */
int slottable_load(struct slottable *t, int fd);
void slottable_free(struct slottable *t);

/* The value of k in a table in memory, put in as the kernel's routine
 * would (zeroed); NULL when it would not be (full, its slots taken, or no
 * memory). */
void *slottable_get(struct slottable *t, const struct field_key *k);

/* Slot i (0 to mask): its key and value, or NULL when it holds none. */
void *slottable_at(const struct slottable *t, uint32_t i, const struct field_key **k);

#endif
