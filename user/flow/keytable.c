/* SPDX-License-Identifier: BSD-2-Clause */
#include "keytable.h"

#include <stdlib.h>
#include <string.h>

void keytable_init(struct keytable *t, size_t value_size, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->value_size = value_size;
	t->max = max;
}

void keytable_free(struct keytable *t)
{
	free(t->used);
	free(t->slots);
	keytable_init(t, t->value_size, t->max);
}

/* A slot: the key, then the value, 8-byte aligned. */
#define KEY_ROOM ((sizeof(struct field_key) + 7) & ~(size_t)7)

static size_t slot_size(const struct keytable *t)
{
	return KEY_ROOM + ((t->value_size + 7) & ~(size_t)7);
}

static uint8_t *slot(const struct keytable *t, size_t i)
{
	return t->slots + i * slot_size(t);
}

/* The slot of k, or the empty one where it would go. */
static size_t find(const struct keytable *t, const struct field_key *k)
{
	size_t i;

	for (i = (size_t)field_key_hash(k) & (t->cap - 1); t->used[i]; i = (i + 1) & (t->cap - 1))
		if (!memcmp(slot(t, i), k, sizeof(*k)))
			break;
	return i;
}

/* Room for one more key, the table at most half full. */
static int grow(struct keytable *t)
{
	struct keytable bigger = *t;
	size_t i;

	if (t->cap && t->n * 2 < t->cap)
		return 0;
	bigger.cap = t->cap ? t->cap * 2 : 64;
	bigger.used = calloc(bigger.cap, 1);
	bigger.slots = malloc(bigger.cap * slot_size(t));
	if (!bigger.used || !bigger.slots) {
		free(bigger.used);
		free(bigger.slots);
		return -1;
	}
	for (i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->used[i])
			continue;
		j = find(&bigger, (const struct field_key *)slot(t, i));
		bigger.used[j] = 1;
		memcpy(slot(&bigger, j), slot(t, i), slot_size(t));
	}
	free(t->used);
	free(t->slots);
	*t = bigger;
	return 0;
}

void *keytable_get(struct keytable *t, const struct field_key *k, int insert)
{
	size_t i;

	if (t->cap) {
		i = find(t, k);
		if (t->used[i])
			return slot(t, i) + KEY_ROOM;
	}
	if (!insert || t->n == t->max || grow(t))
		return NULL;
	i = find(t, k);
	t->used[i] = 1;
	t->n++;
	memcpy(slot(t, i), k, sizeof(*k));
	memset(slot(t, i) + KEY_ROOM, 0, t->value_size);
	return slot(t, i) + KEY_ROOM;
}

void *keytable_at(const struct keytable *t, size_t i, const struct field_key **k)
{
	if (i >= t->cap || !t->used[i])
		return NULL;
	*k = (const struct field_key *)slot(t, i);
	return slot(t, i) + KEY_ROOM;
}
