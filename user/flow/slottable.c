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

void slottable_init(struct slottable *t, uint32_t slots, uint32_t max, size_t value_size,
		    uint32_t run)
{
	memset(t, 0, sizeof(*t));
	t->mask = slots - 1;
	t->max = max;
	t->value_size = value_size;
	t->run = run;
}

static size_t table_bytes(const struct slottable *t)
{
	return ((size_t)t->mask + 2) * slottable_slot_size(t->value_size);
}

static struct keyslot *slot(const struct slottable *t, uint32_t i)
{
	return (struct keyslot *)(t->slots + (size_t)i * slottable_slot_size(t->value_size));
}

static int room(struct slottable *t)
{
	if (!t->slots)
		t->slots = calloc(1, table_bytes(t));
	if (!t->order)
		t->order = calloc((size_t)t->mask + 1, sizeof(*t->order));
	return t->slots && t->order ? 0 : -ENOMEM;
}

/* Elements from to from + n - 1 of array map fd, in batches, element i to
 * at + (i - from) * size: how many, or -errno. */
static long read_batches(int fd, uint32_t from, uint32_t n, size_t size, uint8_t *at)
{
	uint32_t chunk = 4096, count, in = from - 1, out = 0, i, got = 0;
	uint32_t *keys = malloc(chunk * sizeof(*keys));
	uint8_t *vals = malloc(chunk * size);
	int first = !from, ret = 0, done = 0;

	if (!keys || !vals)
		ret = -ENOMEM;
	while (!ret && !done && got < n) {
		count = n - got < chunk ? n - got : chunk;
		if (bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, NULL)) {
			if (errno != ENOENT) {
				ret = -errno;
				break;
			}
			done = 1;	/* the last batch, perhaps with values */
		}
		for (i = 0; i < count && !ret; i++) {
			if (keys[i] < from || keys[i] - from >= n)
				ret = -EPROTO;	/* not the array it was made as */
			else
				memcpy(at + (size_t)(keys[i] - from) * size, vals + (size_t)i * size,
				       size);
		}
		got += count;
		in = out;
		first = 0;
	}
	free(keys);
	free(vals);
	return ret ? ret : (long)got;
}

/*
 * A slot's lookup costs what some four elements of a batch do here (a
 * system call each, make bench: a read of TOP's table), so a table
 * holding up to an eighth of its slots in values is read slot by slot.
 */
int slottable_load(struct slottable *t, int fd)
{
	uint32_t head = t->mask + 1, n, i, k = 0, runs;
	size_t size = slottable_slot_size(t->value_size);
	uint8_t *list;
	long got;
	int ret = room(t);

	if (ret)
		return ret;
	t->n = 0;	/* (until read whole) */
	if (bpf_map_lookup_elem(fd, &head, slot(t, head)))
		return -errno;
	n = slot(t, head)->state < head ? slot(t, head)->state : head;
	if (n > head / 8) {
		got = read_batches(fd, 0, head + 1, size, t->slots);
		if (got < 0)
			return (int)got;
		if (got != head + 1)
			return -EPROTO;	/* not the array it was made as */
		for (i = 0; i <= t->mask; i++)
			if (slot(t, i)->state == KEYSLOT_READY)
				t->order[k++] = i + 1;
		t->n = k;
		return 0;
	}
	runs = (n + t->run - 1) / t->run;
	list = calloc((size_t)runs + 1, size);
	if (!list)
		return -ENOMEM;
	got = read_batches(fd, head + 1, runs, size, list);
	if (got >= 0 && got != runs)
		got = -EPROTO;
	for (i = 0; got >= 0 && i < n; i++)
		memcpy(&t->order[i], list + (size_t)(i / t->run) * size + (i % t->run) * 4, 4);
	free(list);
	if (got < 0)
		return (int)got;
	for (i = 0; i < n; i++) {
		uint32_t at = t->order[i] - 1;

		if (!t->order[i] || at > t->mask)
			continue;	/* (the CPU that claimed it is writing it) */
		if (bpf_map_lookup_elem(fd, &at, slot(t, at)))
			return -errno;
		t->order[k++] = t->order[i];
	}
	t->n = k;
	return 0;
}

void slottable_free(struct slottable *t)
{
	free(t->slots);
	free(t->order);
	t->slots = NULL;
	t->order = NULL;
	t->n = 0;
}

/* bpf/fn/keyslot.bpf.h's keyslot_get, with no other CPU. */
void *slottable_get(struct slottable *t, const struct field_key *k)
{
	uint64_t h = field_key_hash(k);
	struct keyslot *head;
	uint32_t i;

	if (room(t))
		return NULL;
	head = slot(t, t->mask + 1);
	for (i = 0; i < KEYSLOT_PROBES; i++) {
		uint32_t at = keyslot_index(h, i, t->mask);
		struct keyslot *s = slot(t, at);

		if (s->state == KEYSLOT_EMPTY) {
			if (head->state >= t->max)
				return NULL;
			s->state = KEYSLOT_READY;
			s->key = *k;
			t->order[head->state++] = at + 1;
			t->n = head->state;
			return s + 1;
		}
		if (keyslot_same(&s->key, k))
			return s + 1;
	}
	return NULL;
}

void *slottable_nth(const struct slottable *t, uint32_t k, const struct field_key **key)
{
	struct keyslot *s;

	if (k >= t->n || !t->order[k])
		return NULL;
	s = slot(t, t->order[k] - 1);
	/* (a slot the kernel was claiming had no key yet, and no count) */
	if (s->state != KEYSLOT_READY)
		return NULL;
	*key = &s->key;
	return s + 1;
}
