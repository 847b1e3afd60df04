/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The value of a header field as functions key on it (fields.h), and its
 * hash: included by the functions' routines in BPF C (bpf/fn/) and by
 * their in-process halves, so that both hash a value alike.
 */
#ifndef MAPI_FIELD_KEY_H
#define MAPI_FIELD_KEY_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The words a field's program stores in M[0..4], as classic BPF loads
 * them (host order). */
struct field_key {
	__u32 kind;		/* FIELD_KIND_*: a number, or an address of a family */
	__u32 value[4];
};

/* struct field_key's kind */
#define FIELD_KIND_NUMBER 0
#define FIELD_KIND_IPV4 4
#define FIELD_KIND_IPV6 6

/* A 64-bit hash of the key: a multiply-xorshift mix of its words. */
static inline __u64 field_key_hash(const struct field_key *k)
{
	__u64 h = 0x9e3779b97f4a7c15ull ^ k->kind;
	int i;

	for (i = 0; i < 4; i++) {
		h ^= k->value[i];
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 29);
}

/* An order of keys: by kind, then by value, word by word. */
static inline int field_key_cmp(const struct field_key *a, const struct field_key *b)
{
	int i;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	for (i = 0; i < 4; i++)
		if (a->value[i] != b->value[i])
			return a->value[i] < b->value[i] ? -1 : 1;
	return 0;
}

#endif
