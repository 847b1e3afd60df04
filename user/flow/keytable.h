/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A table in memory from a field's value (struct field_key) to a value of
 * a fixed size, holding at most a given number: the in-process half of the
 * kernel hash tables of functions over a trace (TOP, DISTINCT), which
 * refuse a new key when full as the kernel's do.  Open addressing, grown
 * by doubling; one writer, the caller's lock.
 */
#ifndef MAPI_KEYTABLE_H
#define MAPI_KEYTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "field_key.h"

struct keytable {
	size_t value_size, max;
	size_t cap, n;		/* slots, keys in them */
	uint8_t *used;
	uint8_t *slots;		/* key, then value, each slot */
};

void keytable_init(struct keytable *t, size_t value_size, size_t max);
void keytable_free(struct keytable *t);

/* The value of k; when absent and insert, a new one, zeroed, unless the
 * table holds max keys already (or memory ran out): then NULL. */
void *keytable_get(struct keytable *t, const struct field_key *k, int insert);

/* Slot i (0 to t->cap - 1): its key and value, or NULL when empty. */
void *keytable_at(const struct keytable *t, size_t i, const struct field_key **k);

#endif
