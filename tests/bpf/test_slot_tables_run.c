/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_slot_tables_run: the tables the kernel keeps from a field's value
 * to a function's value (keyslot.h: TOP's counts, DISTINCT's registers
 * under each per value) are the tables a flow over a trace fills, and
 * their readers make one value of every value's slots.
 *
 * - Same table: a flow runs (BPF_PROG_TEST_RUN) frames from twice as many
 *   sources as the table holds, each source coming back at random, so
 *   that values collide in their slots, the table fills up and later
 *   values are refused; the same keys, made here from the addresses sent,
 *   go into a slot table in memory (slottable_get, what a flow over a
 *   trace uses).  The kernel's table, read back, must be that table byte
 *   for byte, head included; the result must say what the memory table
 *   says.  TOP's table is also read early, while it holds few values
 *   (slot by slot, as its order list names them).
 * - Probes: 65 values whose hashes pick one slot fill its 64 probes, and
 *   the last is refused though the table is nearly empty.
 * - Two CPUs: both send the same new sources at once, so that both claim
 *   a slot for one value now and then (keyslot.bpf.h puts it in twice);
 *   TOP and DISTINCT must still count each value once, with all its
 *   packets.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fields.h"
#include "flowprog.h"
#include "fn_distinct.h"
#include "fn_top.h"
#include "functions.h"
#include "pktbuild.h"
#include "slottable.h"

#define EARLY 1000		/* values when TOP's table is read early */
#define DESTINATIONS 256	/* DISTINCT's: of each source, one of these */
/* sources both CPUs send: were each put in twice, DISTINCT's table would
 * still have room for them all */
#define RACED (DISTINCT_TABLE / 2)
/* the maps holding the tables: TOP's first, DISTINCT's after its
 * registers of all packets */
enum { TOP_TABLE_MAP = 0, DISTINCT_TABLE_MAP = 1 };

static const struct flowprog_fn top_src = {
	"TOP", { { MAPI_ARG_INT, { .i = 10 } }, { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
		 { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_SRCIP } } }, 3
};
/* distinct destinations per source */
static const struct flowprog_fn distinct_dst_per_src = {
	"DISTINCT", { { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
		      { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_DSTIP } },
		      { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
		      { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_SRCIP } } }, 4
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static struct field_key ipv4_key(uint32_t addr)
{
	return (struct field_key){ FIELD_KIND_IPV4, { addr, 0, 0, 0 } };
}

/* The bench's UDP frame from src to dst. */
static void frame(struct pkt *p, uint32_t src, uint32_t dst)
{
	int i;

	pkt_bench_frame(p, 1);
	for (i = 0; i < 4; i++) {
		p->b[26 + i] = (uint8_t)(src >> (24 - 8 * i));
		p->b[30 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
}

/* The frame from src to dst run once: 0 or a negative errno. */
static int run_frame(struct flowprog *fp, uint32_t src, uint32_t dst, size_t *len)
{
	struct pkt p;

	frame(&p, src, dst);
	*len = p.len;
	return flowprog_time(fp->prog_fd, p.b, (uint32_t)p.len, 1, NULL);
}

static int send_frame(struct flowprog *fp, uint32_t src, uint32_t dst, size_t *len)
{
	return CHECK_OK(run_frame(fp, src, dst, len), "BPF_PROG_TEST_RUN") ? 0 : -1;
}

/* The kernel's table of function fi (its map number map), read into t. */
static int load_table(struct fn_instance *fi, int map, struct slottable *t)
{
	int fds[3], ret = fi->desc->share(fi, fds, 3);

	if (!CHECK(ret > map, "%s shares its maps (%d)", fi->desc->name, ret))
		return -1;
	ret = slottable_load(t, fds[map]);
	return CHECK(!ret, "reading %s's table: error %d", fi->desc->name, ret) ? 0 : -1;
}

static int same_slots(const struct slottable *kernel, const struct slottable *memory,
		      const char *what)
{
	size_t bytes = ((size_t)memory->mask + 2) * slottable_slot_size(memory->value_size);

	return CHECK(kernel->n == memory->n, "%s: the kernel's table holds %u values, memory's %u",
		     what, kernel->n, memory->n) &
	       CHECK(!memcmp(kernel->slots, memory->slots, bytes),
		     "%s: the kernel's table is the one in memory, slot by slot and its head", what);
}

/* The early read: the same values, in the same order, in the same slots. */
static void same_early(const struct slottable *kernel, const struct slottable *memory)
{
	size_t slot = slottable_slot_size(memory->value_size);
	uint32_t k, bad = 0;

	CHECK(kernel->n == memory->n, "early: the kernel's table holds %u values, not %u",
	      kernel->n, memory->n);
	for (k = 0; k < kernel->n && k < memory->n; k++) {
		size_t at = (size_t)(memory->order[k] - 1) * slot;

		bad += kernel->order[k] != memory->order[k] ||
		       memcmp(kernel->slots + at, memory->slots + at, slot);
	}
	CHECK(!bad, "early: %u of %u values not in the same slot, or not as in memory", bad,
	      memory->n);
}

/* Empty tables laid out as TOP's and as DISTINCT's per table. */
static void top_table(struct slottable *t)
{
	slottable_init(t, TOP_TABLE_SLOTS, TOP_TABLE_VALUES, sizeof(struct top_count),
		       TOP_ORDER_RUN);
}

static void distinct_table(struct slottable *t)
{
	slottable_init(t, DISTINCT_TABLE_SLOTS, DISTINCT_TABLE, sizeof(struct distinct_per),
		       DISTINCT_ORDER_RUN);
}

static int build(struct flowprog *fp, const struct flowprog_fn *fns, int n)
{
	int ret = flowprog_build_fns(fp, NULL, fns, n, FP_XDP_FRAGS);

	return CHECK(!ret, "%s's program: error %d", fns[0].name, ret) ? 0 : -1;
}

static void top_same_table(void)
{
	const uint32_t sources = 2 * TOP_TABLE_VALUES, packets = 3 * sources;
	struct slottable kernel, memory;
	uint64_t refused_packets = 0, refused_bytes = 0;
	const struct mapi_top_result *r;
	struct fn_instance *fi;
	struct flowprog fp;
	const void *out;
	size_t size, len;
	uint32_t i;

	if (build(&fp, &top_src, 1))
		return;
	top_table(&memory);
	top_table(&kernel);
	fi = fp.flow->fns[0];
	for (i = 0; i < packets; i++) {
		/* the first sources each a new one, then any again */
		uint32_t src = 0x0b000000u + (i < sources ? i : next_rand() % sources);
		struct field_key key = ipv4_key(src);
		struct top_count *c;

		if (send_frame(&fp, src, 0x0a010050, &len))
			goto out;
		c = slottable_get(&memory, &key);
		if (c) {
			c->packets++;
			c->bytes += len;
		} else {
			refused_packets++;
			refused_bytes += len;
		}
		if (i + 1 == EARLY) {
			if (load_table(fi, TOP_TABLE_MAP, &kernel))
				goto out;
			same_early(&kernel, &memory);
		}
	}
	if (load_table(fi, TOP_TABLE_MAP, &kernel))
		goto out;
	same_slots(&kernel, &memory, "TOP");
	CHECK(memory.n == TOP_TABLE_VALUES, "TOP: the table holds %u values, not %u", memory.n,
	      TOP_TABLE_VALUES);
	CHECK(refused_packets > sources - TOP_TABLE_VALUES,
	      "TOP: the sources past the table were refused (%llu packets)",
	      (unsigned long long)refused_packets);
	if (!CHECK_OK(fi->desc->read(fi, fp.flow, &out, &size), "reading TOP"))
		goto out;
	r = out;
	CHECK(r->distinct == memory.n, "TOP: %u values in its table, not %u", r->distinct,
	      memory.n);
	CHECK(r->other_packets == refused_packets && r->other_bytes == refused_bytes,
	      "TOP: other %llu packets %llu bytes, not %llu, %llu", r->other_packets,
	      r->other_bytes, (unsigned long long)refused_packets,
	      (unsigned long long)refused_bytes);
	CHECK(r->packets == packets, "TOP: %llu packets, not %u", r->packets, packets);
out:
	slottable_free(&kernel);
	slottable_free(&memory);
	flowprog_free(&fp);
}

/* What mapi_distinct_add does to a per value's registers. */
static void raise_reg(struct distinct_per *v, uint64_t h)
{
	uint32_t idx = (uint32_t)(h >> (64 - DISTINCT_PER_BITS));
	uint32_t rank = distinct_rank(h, DISTINCT_PER_BITS);

	if (v->reg[idx] < rank)
		v->reg[idx] = (uint8_t)rank;
}

static void distinct_same_table(void)
{
	const uint32_t sources = 2 * DISTINCT_TABLE, packets = 3 * sources;
	struct slottable kernel, memory;
	const struct mapi_distinct_result *r;
	uint64_t refused = 0;
	struct fn_instance *fi;
	struct flowprog fp;
	const void *out;
	size_t size, len;
	uint32_t i;

	if (build(&fp, &distinct_dst_per_src, 1))
		return;
	distinct_table(&memory);
	distinct_table(&kernel);
	fi = fp.flow->fns[0];
	for (i = 0; i < packets; i++) {
		uint32_t src = 0x0b000000u + (i < sources ? i : next_rand() % sources);
		uint32_t dst = 0x0a010000u + next_rand() % DESTINATIONS;
		struct field_key key = ipv4_key(src), dkey = ipv4_key(dst);
		struct distinct_per *v;

		if (send_frame(&fp, src, dst, &len))
			goto out;
		v = slottable_get(&memory, &key);
		if (v) {
			v->packets++;
			raise_reg(v, field_key_hash(&dkey));
		} else {
			refused++;
		}
	}
	if (load_table(fi, DISTINCT_TABLE_MAP, &kernel))
		goto out;
	same_slots(&kernel, &memory, "DISTINCT");
	CHECK(memory.n == DISTINCT_TABLE, "DISTINCT: the table holds %u values, not %u",
	      memory.n, DISTINCT_TABLE);
	if (!CHECK_OK(fi->desc->read(fi, fp.flow, &out, &size), "reading DISTINCT"))
		goto out;
	r = out;
	CHECK(r->per_values == memory.n, "DISTINCT: %u per values, not %u", r->per_values,
	      memory.n);
	CHECK(r->other_packets == refused, "DISTINCT: other %llu packets, not %llu",
	      r->other_packets, (unsigned long long)refused);
	CHECK(r->packets == packets, "DISTINCT: %llu packets, not %u", r->packets, packets);
out:
	slottable_free(&kernel);
	slottable_free(&memory);
	flowprog_free(&fp);
}

/* TOP's first slot for a source. */
static uint32_t top_first_slot(uint32_t src)
{
	struct field_key key = ipv4_key(src);

	return keyslot_index(field_key_hash(&key), 0, TOP_TABLE_SLOTS - 1);
}

static void top_probes(void)
{
	uint32_t src[KEYSLOT_PROBES + 1], want, a, n = 0, i;
	struct slottable kernel, memory;
	const struct mapi_top_result *r;
	struct fn_instance *fi;
	struct flowprog fp;
	const void *out;
	size_t size, len;
	int in_memory = 0;

	want = top_first_slot(0x0c000000u);
	for (a = 0x0c000000u; n <= KEYSLOT_PROBES && a < 0x0d000000u; a++)
		if (top_first_slot(a) == want)
			src[n++] = a;
	if (!CHECK(n == KEYSLOT_PROBES + 1, "%u sources whose first slot is %u", n, want))
		return;
	if (build(&fp, &top_src, 1))
		return;
	top_table(&memory);
	top_table(&kernel);
	fi = fp.flow->fns[0];
	for (i = 0; i < n; i++) {
		struct field_key key = ipv4_key(src[i]);
		struct top_count *c;

		if (send_frame(&fp, src[i], 0x0a010050, &len))
			goto out;
		c = slottable_get(&memory, &key);
		if (c) {
			c->packets++;
			c->bytes += len;
			in_memory++;
		}
	}
	CHECK(in_memory == KEYSLOT_PROBES, "probes: memory's table took %d of the %u", in_memory,
	      n);
	for (i = 0; i < memory.n; i++)
		CHECK(memory.order[i] - 1 == ((want + i) & (TOP_TABLE_SLOTS - 1)),
		      "probes: the %u-th value in slot %u, not %u", i, memory.order[i] - 1,
		      (want + i) & (TOP_TABLE_SLOTS - 1));
	if (load_table(fi, TOP_TABLE_MAP, &kernel))
		goto out;
	same_slots(&kernel, &memory, "probes");
	if (!CHECK_OK(fi->desc->read(fi, fp.flow, &out, &size), "reading TOP"))
		goto out;
	r = out;
	CHECK(r->distinct == KEYSLOT_PROBES && r->other_packets == 1,
	      "probes: the kernel's table took %u and refused %llu packets, not %d and 1",
	      r->distinct, r->other_packets, KEYSLOT_PROBES);
out:
	slottable_free(&kernel);
	slottable_free(&memory);
	flowprog_free(&fp);
}

/* --- two CPUs ------------------------------------------------------------ */

struct racer {
	struct flowprog *fp;
	int cpu;
	uint32_t *arrived;	/* racers at the line, over all turns */
	int failed, unpinned;
};

/* Both racers send source k at once: each waits at the line until the
 * other is there too (no third thread spinning: two CPUs). */
static void *race(void *arg)
{
	struct racer *x = arg;
	cpu_set_t set;
	uint32_t k;
	size_t len;

	CPU_ZERO(&set);
	CPU_SET(x->cpu, &set);
	/* (unpinned, the scheduler may still put them on two CPUs: race on,
	 * never leave the other waiting at the line) */
	x->unpinned = sched_setaffinity(0, sizeof(set), &set) != 0;
	for (k = 0; k < RACED; k++) {
		__atomic_add_fetch(x->arrived, 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(x->arrived, __ATOMIC_ACQUIRE) < 2 * (k + 1))
			if (x->unpinned)
				sched_yield();	/* the other may need this CPU */
		/* (no CHECK here: the checks count from one thread) */
		if (run_frame(x->fp, 0x0e000000u + k, 0x0a010050, &len))
			x->failed = 1;
	}
	return NULL;
}

static void two_cpus(void)
{
	const struct flowprog_fn fns[2] = { top_src, distinct_dst_per_src };
	uint32_t arrived = 0;
	struct racer x[2];
	struct slottable kernel;
	const struct mapi_top_result *top;
	const struct mapi_distinct_result *d;
	struct flowprog fp;
	pthread_t t[2];
	int running[2] = { 0, 0 };
	const void *out;
	size_t size;
	uint32_t i;
	int started = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("  skip  two CPUs: this machine has one\n");
		return;
	}
	if (build(&fp, fns, 2))
		return;
	for (i = 0; i < 2; i++) {
		x[i] = (struct racer){ &fp, (int)i, &arrived, 0, 0 };
		running[i] = !pthread_create(&t[i], NULL, race, &x[i]);
		started += running[i];
	}
	if (!CHECK(started == 2, "start two racers"))
		__atomic_add_fetch(&arrived, 2 * RACED, __ATOMIC_SEQ_CST);	/* none waits */
	for (i = 0; i < 2; i++)
		if (running[i])
			pthread_join(t[i], NULL);
	if (started < 2 || !CHECK(!x[0].failed && !x[1].failed, "both CPUs sent every source"))
		goto out;
	if (x[0].unpinned || x[1].unpinned)
		printf("  note  two CPUs: a racer could not be pinned to its CPU\n");
	top_table(&kernel);
	if (!load_table(fp.flow->fns[0], TOP_TABLE_MAP, &kernel))
		printf("  note  two CPUs: %u of %d sources put in TOP's table twice%s\n",
		       kernel.n - RACED, RACED,
		       kernel.n == RACED ? " (the readers' merging went untried)" : "");
	slottable_free(&kernel);
	if (!CHECK_OK(fp.flow->fns[0]->desc->read(fp.flow->fns[0], fp.flow, &out, &size),
		      "reading TOP"))
		goto out;
	top = out;
	CHECK(top->distinct == RACED && top->packets == 2 * RACED && !top->other_packets,
	      "two CPUs: TOP has %u values and %llu packets (%llu other), not %d and %d",
	      top->distinct, top->packets, top->other_packets, RACED, 2 * RACED);
	for (i = 0; i < top->count; i++)
		CHECK(top->values[i].packets == 2, "two CPUs: TOP's value %u has %llu packets, not 2",
		      i, top->values[i].packets);
	if (!CHECK_OK(fp.flow->fns[1]->desc->read(fp.flow->fns[1], fp.flow, &out, &size),
		      "reading DISTINCT"))
		goto out;
	d = out;
	CHECK(d->per_values == RACED && d->packets == 2 * RACED && !d->other_packets,
	      "two CPUs: DISTINCT has %u per values and %llu packets (%llu other), not %d, %d",
	      d->per_values, d->packets, d->other_packets, RACED, 2 * RACED);
	for (i = 0; i < d->count; i++)
		CHECK(d->values[i].packets == 2 && d->values[i].distinct == 1,
		      "two CPUs: DISTINCT's value %u: %llu packets, %llu distinct, not 2 and 1", i,
		      d->values[i].packets, d->values[i].distinct);
out:
	flowprog_free(&fp);
}

int main(void)
{
	top_same_table();
	distinct_same_table();
	top_probes();
	two_cpus();
	return check_summary("test_slot_tables_run");
}
