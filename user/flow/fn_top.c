/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TOP(X, PROTOCOL, FIELD [, SORT [, PREFIX [, PREFIX6]]]), MAPI 2.0's: the X
 * values of a header field with the most packets or bytes (mapi.h).  With
 * an INTERVAL, those of each interval: at its end (tick(), sampler.h) the
 * tables are read whole and the gain of every value since the last end is
 * ranked.
 *
 * In the kernel: the field's classic program (fields.h) leaves the value in
 * M[0..4] on the stack; the flow's slots count the packets that have the
 * field; the routine mapi_top_count (bpf/fn/top.bpf.c) counts the value in
 * a slot table of MAPI_TOP_TABLE values (keyslot.h) and says when it has no
 * room for it: the packet then counts in the "other" slots, and
 * mapi_top_spill counts it in a Count-Min sketch and an LRU table of the
 * values seen last (fn_top.h).  The maps are created read-only for system
 * calls: only the program writes them, and mapid hands them to a client as
 * they are.  The result is read by copying the table (its slots in use,
 * or all of it when full: slottable.h) and the spill table, walking them,
 * and picking the top X.
 *
 * Over a trace: the same classic program in cbpf_exec(), a slot table in
 * memory filled alike, the same sketch, and an exact LRU (the kernel's is
 * approximate): a trace and its packets sent live give the same result
 * while the values fit the table, and results within the same bounds
 * beyond it.
 *
 * Kernel memory: the table 5.6 MiB (131,072 slots of 40 bytes, an array:
 * the kernel's hash table measured twice the cost a packet, make bench:
 * function.top_*), the sketch 256 KiB, the spill table (an LRU is
 * preallocated) 1.5 MiB.  One table for every CPU, with atomic adds, not
 * one per CPU: its memory does not grow with the CPUs.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen.h"
#include "error.h"
#include "fields.h"
#include "fn_top.h"
#include "functions.h"
#include "sampler.h"
#include "slottable.h"

_Static_assert(TOP_SPILL_VALUES == MAPI_TOP_SPILL, "mapi.h says how many values spill");
_Static_assert(TOP_TABLE_VALUES == MAPI_TOP_TABLE, "mapi.h says how many values the table holds");
_Static_assert(sizeof(struct top_slot) == sizeof(struct keyslot) + sizeof(struct top_count),
	       "a slot as slottable.c lays it out");
_Static_assert(TOP_ORDER_RUN * 4 <= sizeof(struct top_slot) && TOP_TABLE_SLOTS >= TOP_ORDER_RUN &&
	       !(TOP_ORDER_RUN & (TOP_ORDER_RUN - 1)),
	       "the order list's run fits a slot, a power of two");

/* Result slots: packets and bytes with the field, and those of values the
 * table had no room for. */
enum { S_PACKETS, S_BYTES, S_OTHER_PACKETS, S_OTHER_BYTES, TOP_SLOTS };

enum { TOP_TOTAL, TOP_INTERVAL };	/* its forms */

struct top_entry {
	struct field_key key;
	struct top_count count;
	struct top_count error;		/* of a value kept beside the table */
	int spilled;			/* it is one of those */
};

/* The in-process spill table: an exact LRU, chained hash buckets. */
#define LRU_BUCKETS (2 * TOP_SPILL_VALUES)
struct lru_node {
	struct field_key key;
	struct top_spilled v;
	int hnext, newer, older;
};
struct top_lru {
	struct lru_node *nodes;		/* TOP_SPILL_VALUES */
	int *heads;			/* LRU_BUCKETS, -1: empty */
	int n, newest, oldest;
	struct top_sketch *sketch;
};

struct top {
	struct field_spec fs;
	struct cbpf_prog prog;
	unsigned int x;
	int sort;
	int table_fd, sketch_fd, spill_fd;
	pthread_mutex_t lock;		/* table, between the reader and a read */
	struct slottable table;		/* a copy of the kernel's; over a trace, the table */
	struct top_lru lru;
	struct mapi_top_result *snapshot;	/* the last read's */
	/* with an INTERVAL: the values and counts at the last interval's end,
	 * sorted by key, and the result of that interval (under lock) */
	int per_interval;
	struct sampler sampler;
	struct top_entry *before;
	size_t nbefore;
	uint64_t slots_before[TOP_SLOTS];
	struct mapi_top_result *last;
	size_t last_size;
};

/* Argument n of the form without an INTERVAL (SORT is 3), as given. */
static int arg(const struct fn_instance *fi, int n, int dflt)
{
	n += fi->form == TOP_INTERVAL && n >= 3;
	return fi->given > n ? (int)fi->args[n].v.i : dflt;
}

/* Its number for a message (7000 + it). */
static int argno(const struct fn_instance *fi, int n)
{
	return MAPI_INVALID_ARGUMENT + n + 1 + (fi->form == TOP_INTERVAL && n >= 3);
}

static int top_prepare(struct fn_instance *fi, const struct flow *f)
{
	long long x = fi->args[0].v.i;
	struct sampler sampler = { 0 };
	struct top *t;
	int ret;

	if (fi->form == TOP_INTERVAL) {
		ret = sampler_init(&sampler, f, "TOP", 3, fi->args[3].v.s, 0, 0, 1);
		if (ret)
			return ret;
	}
	if (x < 1 || x > MAPI_TOP_MAX)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "TOP X %lld: 1 to %d values", x, MAPI_TOP_MAX);
	ret = field_check((int)fi->args[1].v.i, (int)fi->args[2].v.i, 2, 3);
	if (ret)
		return ret;
	if (arg(fi, 3, MAPI_SORT_BY_PACKETS) != MAPI_SORT_BY_PACKETS &&
	    arg(fi, 3, MAPI_SORT_BY_PACKETS) != MAPI_SORT_BY_BYTES)
		return err_set(-EINVAL, argno(fi, 3),
			       "TOP SORT %d: SORT_BY_PACKETS (%d) or SORT_BY_BYTES (%d)",
			       arg(fi, 3, 0), MAPI_SORT_BY_PACKETS, MAPI_SORT_BY_BYTES);
	if (fi->given > 4 + (fi->form == TOP_INTERVAL) &&
	    !field_is_address((int)fi->args[2].v.i))
		return err_set(-EINVAL, argno(fi, 4),
			       "TOP PREFIX: %s is not an address", field_name((int)fi->args[2].v.i));
	if (arg(fi, 4, 32) < 0 || arg(fi, 4, 32) > 32)
		return err_set(-EINVAL, argno(fi, 4),
			       "TOP PREFIX %d: 0 to 32 bits of an IPv4 address", arg(fi, 4, 0));
	if (arg(fi, 5, 128) < 0 || arg(fi, 5, 128) > 128)
		return err_set(-EINVAL, argno(fi, 5),
			       "TOP PREFIX6 %d: 0 to 128 bits of an IPv6 address", arg(fi, 5, 0));
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->x = (unsigned int)x;
	t->sort = arg(fi, 3, MAPI_SORT_BY_PACKETS);
	t->fs = (struct field_spec){ (int)fi->args[1].v.i, (int)fi->args[2].v.i,
				     arg(fi, 4, 32), arg(fi, 5, 128) };
	t->table_fd = t->sketch_fd = t->spill_fd = -1;
	t->per_interval = fi->form == TOP_INTERVAL;
	t->sampler = sampler;
	t->sampler.merge = 1;
	fi->clocked = t->per_interval && !f->served;	/* (mapid's copy is not read) */
	slottable_init(&t->table, TOP_TABLE_SLOTS, TOP_TABLE_VALUES, sizeof(struct top_count),
		       TOP_ORDER_RUN);
	pthread_mutex_init(&t->lock, NULL);
	fi->state = t;
	ret = field_program(&t->fs, 0, &t->prog);
	return ret;
}

static int top_connect(struct fn_instance *fi, const struct flow *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, ro, .map_flags = BPF_F_RDONLY);
	struct top *t = fi->state;

	(void)f;
	fi->maps = 3;
	t->table_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_top", sizeof(uint32_t),
				     sizeof(struct top_slot),
				     keyslot_elements(TOP_TABLE_SLOTS, TOP_ORDER_RUN), &ro);
	if (t->table_fd < 0)
		return err_kernel(-errno, "creating TOP's table");
	t->sketch_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_top_sketch", sizeof(uint32_t),
				      sizeof(struct top_sketch), 1, &ro);
	if (t->sketch_fd < 0)
		return err_kernel(-errno, "creating TOP's sketch");
	t->spill_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "mapi_top_spill", sizeof(struct field_key),
				     sizeof(struct top_spilled), TOP_SPILL_VALUES, &ro);
	if (t->spill_fd < 0)
		return err_kernel(-errno, "creating TOP's spill table");
	return 0;
}

static int top_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct top *t = fi->state;
	struct prog_buf *pb = &cg->pb;
	int skip = pb_new_label(pb), ret;

	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "TOP cannot run on a NIC");
	ret = field_emit(cg, &t->prog, skip);
	if (ret)
		return ret;
	cg_add_to_slot(cg, fi->slot + S_PACKETS, ADD_ONE);
	cg_add_to_slot(cg, fi->slot + S_BYTES, ADD_WIRELEN);
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)t->table_fd);
	pb_emit(pb, MOV64_REG(R2, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, STK_SCRATCH));	/* the key: M[0..4] */
	pb_emit(pb, LDX_MEM(BPF_DW, R3, RFP, STK_WIRELEN));
	cg_call_routine(cg, &routine_mapi_top_count);
	pb_jmp_imm(pb, BPF_JEQ, R0, 0, skip);
	/* the table is full */
	cg_add_to_slot(cg, fi->slot + S_OTHER_PACKETS, ADD_ONE);
	cg_add_to_slot(cg, fi->slot + S_OTHER_BYTES, ADD_WIRELEN);
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)t->sketch_fd);
	pb_ld_imm64(pb, R2, BPF_PSEUDO_MAP_FD, (uint32_t)t->spill_fd);
	pb_emit(pb, MOV64_REG(R3, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, STK_SCRATCH));
	pb_emit(pb, LDX_MEM(BPF_DW, R4, RFP, STK_WIRELEN));
	cg_call_routine(cg, &routine_mapi_top_spill);
	pb_bind(pb, skip);
	return 0;
}

/* --- the tables in memory ------------------------------------------------ */

static void lru_unlink(struct top_lru *l, int i)
{
	struct lru_node *n = &l->nodes[i];

	if (n->newer >= 0)
		l->nodes[n->newer].older = n->older;
	else
		l->newest = n->older;
	if (n->older >= 0)
		l->nodes[n->older].newer = n->newer;
	else
		l->oldest = n->newer;
}

static void lru_push(struct top_lru *l, int i)
{
	l->nodes[i].older = l->newest;
	l->nodes[i].newer = -1;
	if (l->newest >= 0)
		l->nodes[l->newest].newer = i;
	l->newest = i;
	if (l->oldest < 0)
		l->oldest = i;
}

static int lru_init(struct top_lru *l)
{
	int i;

	l->nodes = calloc(TOP_SPILL_VALUES, sizeof(*l->nodes));
	l->heads = malloc(LRU_BUCKETS * sizeof(*l->heads));
	l->sketch = calloc(1, sizeof(*l->sketch));
	if (!l->nodes || !l->heads || !l->sketch) {
		free(l->nodes);
		free(l->heads);
		free(l->sketch);
		l->nodes = NULL;
		l->heads = NULL;
		l->sketch = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < LRU_BUCKETS; i++)
		l->heads[i] = -1;
	l->newest = l->oldest = -1;
	return 0;
}

/* mapi_top_spill's work, in memory. */
static int spill_memory(struct top_lru *l, const struct field_key *k, uint32_t len)
{
	uint64_t h = field_key_hash(k), est_p = UINT64_MAX, est_b = UINT64_MAX;
	int row, i, *link;

	if (!l->nodes && lru_init(l))
		return -ENOMEM;
	for (row = 0; row < TOP_SKETCH_ROWS; row++) {
		struct top_count *c = &l->sketch->cell[row][top_cell(h, row)];

		est_p = c->packets < est_p ? c->packets : est_p;
		est_b = c->bytes < est_b ? c->bytes : est_b;
		c->packets++;
		c->bytes += len;
	}
	for (i = l->heads[h & (LRU_BUCKETS - 1)]; i >= 0; i = l->nodes[i].hnext)
		if (!memcmp(&l->nodes[i].key, k, sizeof(*k)))
			break;
	if (i >= 0) {
		lru_unlink(l, i);
	} else {
		if (l->n < TOP_SPILL_VALUES) {
			i = l->n++;
		} else {	/* the oldest makes room */
			i = l->oldest;
			lru_unlink(l, i);
			for (link = &l->heads[field_key_hash(&l->nodes[i].key) & (LRU_BUCKETS - 1)];
			     *link != i; link = &l->nodes[*link].hnext)
				;
			*link = l->nodes[i].hnext;
		}
		l->nodes[i].key = *k;
		l->nodes[i].v = (struct top_spilled){ { est_p, est_b }, { 0, 0 } };
		l->nodes[i].hnext = l->heads[h & (LRU_BUCKETS - 1)];
		l->heads[h & (LRU_BUCKETS - 1)] = i;
	}
	lru_push(l, i);
	l->nodes[i].v.since.packets++;
	l->nodes[i].v.since.bytes += len;
	return 0;
}

static int top_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct top *t = fi->state;
	uint32_t mem[CBPF_MEMWORDS];
	struct top_count *e;

	if (!cbpf_exec(&t->prog, p->data, p->caplen, p->wlen, mem))
		return 1;
	store_add(&f->host, (uint32_t)fi->slot + S_PACKETS, 1);
	store_add(&f->host, (uint32_t)fi->slot + S_BYTES, p->wlen);
	pthread_mutex_lock(&t->lock);
	e = slottable_get(&t->table, (const struct field_key *)mem);
	if (e) {
		e->packets++;
		e->bytes += p->wlen;
	} else {
		/* (under the lock, as the table: a read sees both or neither) */
		store_add(&f->host, (uint32_t)fi->slot + S_OTHER_PACKETS, 1);
		store_add(&f->host, (uint32_t)fi->slot + S_OTHER_BYTES, p->wlen);
		spill_memory(&t->lru, (const struct field_key *)mem, p->wlen);
	}
	pthread_mutex_unlock(&t->lock);
	return 1;
}

/* --- reading ----------------------------------------------------------------- */

/* A value kept beside it: its estimate before, plus its exact count since. */
static void from_spill(struct top_entry *e, const void *val)
{
	const struct top_spilled *v = val;

	e->count.packets = v->base.packets + v->since.packets;
	e->count.bytes = v->base.bytes + v->since.bytes;
	e->error = v->base;
	e->spilled = 1;
}

/* Appends every entry of the spill table, hash map fd, to all, read in
 * batches, at most max in all. */
static int spill_walk(int fd, struct top_entry *all, size_t *have, size_t max)
{
	uint32_t chunk = 1024, count, batch_in = 0, batch_out = 0, i;
	struct field_key *keys = malloc(chunk * sizeof(*keys));
	struct top_spilled *vals = malloc(chunk * sizeof(*vals));
	int first = 1, ret = 0, done = 0;

	if (!keys || !vals)
		ret = -ENOMEM;
	while (!ret && !done) {
		count = chunk;
		if (bpf_map_lookup_batch(fd, first ? NULL : &batch_in, &batch_out, keys, vals,
					 &count, NULL)) {
			if (errno != ENOENT) {
				ret = err_kernel(-errno, "reading TOP's spill table");
				break;
			}
			done = 1;	/* the last batch, perhaps with values */
		}
		for (i = 0; i < count && *have < max; i++, (*have)++) {
			memset(&all[*have], 0, sizeof(all[*have]));
			all[*have].key = keys[i];
			from_spill(&all[*have], &vals[i]);
		}
		batch_in = batch_out;
		first = 0;
	}
	free(keys);
	free(vals);
	return ret;
}

/*
 * Every value of the tables, the kernel's or over a trace those in memory
 * (t->lock held): the slot table's, exact, and then those kept beside it
 * (*spilled of them).  A value may be in two slots (keyslot.bpf.h) and in
 * the table and spilled too (put in after it was spilled): merge_same adds
 * those up.
 */
static int entries(struct top *t, int trace, struct top_entry **out, size_t *n,
		   size_t *spilled)
{
	struct top_entry *all;
	const struct field_key *key;
	const struct top_count *c;
	size_t have = 0, in_table, max;
	uint32_t i;
	int ret = 0, k;

	if (!trace && (ret = slottable_load(&t->table, t->table_fd)))
		return err_kernel(ret, "reading TOP's table");
	/* (the LRU hash's slack: CPUs inserting at once take it past its size) */
	max = t->table.n + TOP_SPILL_VALUES + 64 + 2 * (size_t)store_ncpus();
	all = malloc(max * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < t->table.n; i++) {
		if (!(c = slottable_nth(&t->table, i, &key)))
			continue;
		memset(&all[have], 0, sizeof(all[have]));
		all[have].key = *key;
		all[have++].count = *c;
	}
	in_table = have;
	if (!trace)
		ret = spill_walk(t->spill_fd, all, &have, max);
	for (k = 0; trace && k < t->lru.n; k++, have++) {
		memset(&all[have], 0, sizeof(all[have]));
		all[have].key = t->lru.nodes[k].key;
		from_spill(&all[have], &t->lru.nodes[k].v);
	}
	if (ret) {
		free(all);
		return ret;
	}
	*spilled = have - in_table;
	*out = all;
	*n = have;
	return 0;
}

static int by_packets(const void *a, const void *b)
{
	const struct top_count *x = &((const struct top_entry *)a)->count;
	const struct top_count *y = &((const struct top_entry *)b)->count;

	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return field_key_cmp(&((const struct top_entry *)a)->key, &((const struct top_entry *)b)->key);
}

static int by_bytes(const void *a, const void *b)
{
	const struct top_count *x = &((const struct top_entry *)a)->count;
	const struct top_count *y = &((const struct top_entry *)b)->count;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return field_key_cmp(&((const struct top_entry *)a)->key, &((const struct top_entry *)b)->key);
}

static void value_of(const struct top *t, const struct top_entry *e, struct mapi_top_value *v)
{
	field_value_of(&e->key, &t->fs, &v->value);
	v->packets = e->count.packets;
	v->bytes = e->count.bytes;
	v->error_packets = e->error.packets;
	v->error_bytes = e->error.bytes;
}

static int by_key(const void *a, const void *b)
{
	return field_key_cmp(&((const struct top_entry *)a)->key,
			     &((const struct top_entry *)b)->key);
}

/*
 * One entry for each value: the slots of a value put in twice, and a value
 * in the table and spilled too, add up (the spilled part's error with
 * them); a value is spilled when it is only beside the table.  Returns
 * the entries left, and *spilled of them beside the table.
 */
static size_t merge_same(struct top_entry *all, size_t n, size_t *spilled)
{
	size_t i, k = 0;

	qsort(all, n, sizeof(*all), by_key);
	for (i = 0; i < n; i++) {
		if (k && !field_key_cmp(&all[k - 1].key, &all[i].key)) {
			all[k - 1].count.packets += all[i].count.packets;
			all[k - 1].count.bytes += all[i].count.bytes;
			all[k - 1].error.packets += all[i].error.packets;
			all[k - 1].error.bytes += all[i].error.bytes;
			all[k - 1].spilled &= all[i].spilled;
			continue;
		}
		all[k++] = all[i];
	}
	for (*spilled = 0, i = 0; i < k; i++)
		*spilled += (size_t)all[i].spilled;
	return k;
}

/* Every value now, one entry each, sorted by key, and the counts. */
static int collect(struct fn_instance *fi, struct flow *f, struct top_entry **out, size_t *n,
		   size_t *spilled, uint64_t *slot)
{
	struct top *t = fi->state;
	struct top_entry *all = NULL;
	int ret, s;

	/* the tables, then the counts: a value spilled after the counts were
	 * read would make "exact" claim a list that is not */
	pthread_mutex_lock(&t->lock);	/* over a trace, the tables and the counts at once */
	ret = entries(t, f->trace != NULL, &all, n, spilled);
	for (s = 0; s < TOP_SLOTS && !ret; s++)
		ret = flow_read_slot(f, (uint32_t)(fi->slot + s), &slot[s]);
	pthread_mutex_unlock(&t->lock);
	if (ret) {
		free(all);
		return ret;
	}
	*n = merge_same(all, *n, spilled);
	*out = all;
	return 0;
}

/* The result of entries all (reordered), with the counts slot; NULL when
 * out of memory. */
static struct mapi_top_result *make_result(const struct top *t, struct top_entry *all,
					   size_t n, size_t spilled, const uint64_t *slot,
					   size_t *size)
{
	struct mapi_top_result *r;
	size_t i, listed;
	int estimated = 0;

	qsort(all, n, sizeof(*all), t->sort == MAPI_SORT_BY_BYTES ? by_bytes : by_packets);
	listed = n < t->x ? n : t->x;
	r = calloc(1, sizeof(*r) + listed * sizeof(r->values[0]));
	if (!r)
		return NULL;
	r->count = (unsigned int)listed;
	r->distinct = (unsigned int)(n - spilled);
	r->spilled = (unsigned int)spilled;
	r->sort = t->sort;
	r->packets = slot[S_PACKETS];
	r->bytes = slot[S_BYTES];
	r->other_packets = slot[S_OTHER_PACKETS];
	r->other_bytes = slot[S_OTHER_BYTES];
	for (i = 0; i < listed; i++) {
		value_of(t, &all[i], &r->values[i]);
		estimated |= r->values[i].error_packets || r->values[i].error_bytes;
	}
	if (!r->other_packets && !estimated)
		r->exact = 1;
	else if (listed == t->x && !estimated)
		r->exact = t->sort == MAPI_SORT_BY_BYTES ?
			   r->values[listed - 1].bytes >= r->other_bytes :
			   r->values[listed - 1].packets >= r->other_packets;
	*size = sizeof(*r) + listed * sizeof(r->values[0]);
	return r;
}

/* a - b, or 0 for a count that went down (a spilled value evicted and
 * seen again starts from the sketch's estimate anew) */
static uint64_t gain(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/*
 * What each value of now (sorted by key) gained since before (sorted by
 * key), in place: the values with none are dropped.  Returns those left;
 * *spilled counts those kept beside the table among them.
 */
static size_t gains(struct top_entry *now, size_t n, const struct top_entry *before,
		    size_t nbefore, size_t *spilled)
{
	size_t i, j = 0, k = 0;

	*spilled = 0;
	for (i = 0; i < n; i++) {
		struct top_entry e = now[i];
		int c = 1;

		while (j < nbefore && (c = field_key_cmp(&before[j].key, &e.key)) < 0)
			j++;
		if (j < nbefore && !c) {
			e.count.packets = gain(e.count.packets, before[j].count.packets);
			e.count.bytes = gain(e.count.bytes, before[j].count.bytes);
		}
		if (!e.count.packets)
			continue;
		*spilled += e.spilled;
		now[k++] = e;
	}
	return k;
}

struct top_clock {
	struct fn_instance *fi;
	struct flow *f;
};

/* The end at ts of n intervals (more than one: the tick came late), the
 * tables read, every value's gain since the last end ranked. */
static void interval_end(void *ctx, uint64_t ts, uint64_t value, uint64_t n, int partial)
{
	struct top_clock *c = ctx;
	struct top *t = c->fi->state;
	struct top_entry *now = NULL, *keep;
	uint64_t slot[TOP_SLOTS], diff[TOP_SLOTS];
	struct mapi_top_result *r;
	size_t count = 0, nkeep, spilled, size;
	int s;

	(void)value;
	if (collect(c->fi, c->f, &now, &count, &spilled, slot))
		return;	/* (read again at the next end: that interval holds this one's) */
	keep = malloc((count ? count : 1) * sizeof(*keep));
	if (!keep) {
		free(now);
		return;
	}
	memcpy(keep, now, count * sizeof(*keep));
	nkeep = count;
	for (s = 0; s < TOP_SLOTS; s++)
		diff[s] = gain(slot[s], t->slots_before[s]);
	count = gains(now, count, t->before, t->nbefore, &spilled);
	r = make_result(t, now, count, spilled, diff, &size);
	free(now);
	if (!r) {
		free(keep);
		return;
	}
	r->end = ts;
	r->interval = n * t->sampler.interval;
	r->partial = partial;
	pthread_mutex_lock(&t->lock);
	free(t->last);
	t->last = r;
	t->last_size = size;
	pthread_mutex_unlock(&t->lock);
	free(t->before);
	t->before = keep;
	t->nbefore = nkeep;
	memcpy(t->slots_before, slot, sizeof(slot));
}

static void top_tick(struct fn_instance *fi, struct flow *f, uint64_t start, uint64_t now,
		     uint64_t value, int final)
{
	struct top *t = fi->state;
	struct top_clock c = { fi, f };

	(void)value;
	sampler_tick(&t->sampler, start, now, 0, final, interval_end, &c);
}

static int top_read(struct fn_instance *fi, struct flow *f, const void **out, size_t *size)
{
	struct top *t = fi->state;
	struct mapi_top_result *r;
	struct top_entry *all = NULL;
	uint64_t slot[TOP_SLOTS] = { 0 };
	size_t n = 0, spilled = 0;
	int ret;

	if (t->per_interval) {
		/* the last interval's, or before one ended, an empty one */
		pthread_mutex_lock(&t->lock);
		*size = t->last ? t->last_size : sizeof(*r);
		r = calloc(1, *size);
		if (r && t->last) {
			memcpy(r, t->last, *size);
		} else if (r) {
			r->sort = t->sort;
			r->exact = 1;
			r->interval = t->sampler.interval;
		}
		pthread_mutex_unlock(&t->lock);
		if (!r)
			return -ENOMEM;
	} else {
		ret = collect(fi, f, &all, &n, &spilled, slot);
		if (ret)
			return ret;
		r = make_result(t, all, n, spilled, slot, size);
		free(all);
		if (!r)
			return -ENOMEM;
	}
	free(t->snapshot);
	t->snapshot = r;
	*out = r;
	return 0;
}

/* --- mapid, and the end -------------------------------------------------- */

/* Its maps, by address (fn_maps_*). */
#define TOP_MAPS(t) { &(t)->table_fd, &(t)->sketch_fd, &(t)->spill_fd }
#define TOP_NMAPS 3

static int top_share(const struct fn_instance *fi, int *fds, int max)
{
	struct top *t = fi->state;
	int *const maps[] = TOP_MAPS(t);

	return fn_maps_share(fi, maps, TOP_NMAPS, fds, max);
}

static int top_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct top *t = fi->state;
	int *const maps[] = TOP_MAPS(t);

	(void)f;
	return fn_maps_adopt(fi, maps, TOP_NMAPS, fds, n);
}

static void top_disconnect(struct fn_instance *fi)
{
	struct top *t = fi->state;
	int *const maps[] = TOP_MAPS(t);

	fn_maps_close(fi, maps, TOP_NMAPS);
}

static void top_release(struct fn_instance *fi)
{
	struct top *t = fi->state;

	if (!t)
		return;
	top_disconnect(fi);
	cbpf_prog_free(&t->prog);
	slottable_free(&t->table);
	free(t->lru.nodes);
	free(t->lru.heads);
	free(t->lru.sketch);
	free(t->snapshot);
	free(t->before);
	free(t->last);
	pthread_mutex_destroy(&t->lock);
	free(t);
	fi->state = NULL;
}

const struct fn_desc fn_top = {
	.name = "TOP",
	.forms = { [TOP_TOTAL] = { "iiiIII", "X PROTOCOL FIELD [SORT] [PREFIX] [PREFIX6]" },
		   [TOP_INTERVAL] = { "iiisIII",
				      "X PROTOCOL FIELD INTERVAL [SORT] [PREFIX] [PREFIX6]" } },
	.help = "the X values of a header field with the most packets (SORT_BY_PACKETS) or "
		"bytes (SORT_BY_BYTES), since the start or in each INTERVAL (\"1s\"), e.g. TOP "
		"10 TOPX_IP TOPX_IP_SRCIP SORT_BY_BYTES 24: the /24s sending most (struct "
		"mapi_top_result)",
	.result = FN_RESULT_TOP,
	.slots = TOP_SLOTS,
	.prepare = top_prepare,
	.connect = top_connect,
	.emit = top_emit,
	.run = top_run,
	.tick = top_tick,
	.read = top_read,
	.share = top_share,
	.adopt = top_adopt,
	.disconnect = top_disconnect,
	.release = top_release,
};
