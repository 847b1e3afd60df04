/* SPDX-License-Identifier: BSD-2-Clause */
#include "slottable.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t slottable_slot_size(size_t value_size)
{
	return sizeof(struct keyslot) + ((value_size + 7) & ~(size_t)7);
}

void slottable_init(struct slottable *t, uint32_t slots, uint32_t max, size_t value_size)
{
	memset(t, 0, sizeof(*t));
	t->mask = slots - 1;
	t->max = max;
	t->value_size = value_size;
}

static size_t table_bytes(const struct slottable *t)
{
	return ((size_t)t->mask + 2) * slottable_slot_size(t->value_size);
}

static struct keyslot *slot(const struct slottable *t, uint32_t i)
{
	return (struct keyslot *)(t->slots + (size_t)i * slottable_slot_size(t->value_size));
}

int slottable_load(struct slottable *t, int fd)
{
	size_t size = slottable_slot_size(t->value_size);
	uint32_t chunk = 4096, count, in = 0, out = 0, i, n = t->mask + 2;
	uint32_t *keys = malloc(chunk * sizeof(*keys));
	uint8_t *vals = malloc(chunk * size);
	int first = 1, ret = 0, done = 0;

	if (!t->slots)
		t->slots = malloc(table_bytes(t));
	if (!keys || !vals || !t->slots)
		ret = -ENOMEM;
	while (!ret && !done) {
		count = chunk;
		if (bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, NULL)) {
			if (errno != ENOENT) {
				ret = -errno;
				break;
			}
			done = 1;	/* the last batch, perhaps with values */
		}
		for (i = 0; i < count && !ret; i++) {
			if (keys[i] >= n)
				ret = -EPROTO;	/* not the array it was made as */
			else
				memcpy(slot(t, keys[i]), vals + (size_t)i * size, size);
		}
		in = out;
		first = 0;
	}
	free(keys);
	free(vals);
	return ret;
}

void slottable_free(struct slottable *t)
{
	free(t->slots);
	t->slots = NULL;
}

/* bpf/fn/keyslot.bpf.h's keyslot_get, with no other CPU. */
void *slottable_get(struct slottable *t, const struct field_key *k)
{
	uint64_t h = field_key_hash(k);
	struct keyslot *head;
	uint32_t i;

	if (!t->slots && !(t->slots = calloc(1, table_bytes(t))))
		return NULL;
	head = slot(t, t->mask + 1);
	for (i = 0; i < KEYSLOT_PROBES; i++) {
		struct keyslot *s = slot(t, keyslot_index(h, i, t->mask));

		if (s->state == KEYSLOT_EMPTY) {
			if (head->state >= t->max)
				return NULL;
			s->state = KEYSLOT_READY;
			s->key = *k;
			head->state++;
			return s + 1;
		}
		if (keyslot_same(&s->key, k))
			return s + 1;
	}
	return NULL;
}

void *slottable_at(const struct slottable *t, uint32_t i, const struct field_key **k)
{
	struct keyslot *s;

	if (!t->slots || i > t->mask)
		return NULL;
	s = slot(t, i);
	/* (a slot the kernel was claiming had no key yet, and no count) */
	if (s->state != KEYSLOT_READY)
		return NULL;
	*k = &s->key;
	return s + 1;
}
