/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_top_slots_run: TOP's table in the kernel and over a trace is one
 * table.  A flow with TOP on source addresses runs (BPF_PROG_TEST_RUN)
 * frames from twice as many sources as the table holds, each source
 * coming back at random, so that values collide in their slots, the table
 * fills up and later values are refused; the same keys, made here from
 * the addresses sent, go into a slot table in memory (slottable_get, what
 * a flow over a trace uses).  The kernel's table, read back, must be that
 * table byte for byte: the same values in the same slots with the same
 * counts, and the same head.  TOP's result must say what the memory table
 * says: the values it holds, and as "other" the packets it refused.  Read
 * early, while it holds few values (slot by slot, as its order list names
 * them), it must hold the same slots, claimed in the same order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fields.h"
#include "flowprog.h"
#include "fn_top.h"
#include "functions.h"
#include "pktbuild.h"
#include "slottable.h"

#define SOURCES (2 * TOP_TABLE_VALUES)
#define PACKETS (3 * SOURCES)
#define EARLY 1000		/* values when the table is read early */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static size_t slot_bytes(void)
{
	return slottable_slot_size(sizeof(struct top_count));
}

/* The early read: the same values, in the same order, in the same slots. */
static void same_early(const struct slottable *kernel, const struct slottable *memory)
{
	uint32_t k, bad = 0;

	CHECK(kernel->n == memory->n, "early: the kernel's table holds %u values, not %u",
	      kernel->n, memory->n);
	for (k = 0; k < kernel->n && k < memory->n; k++) {
		size_t at = (size_t)(memory->order[k] - 1) * slot_bytes();

		bad += kernel->order[k] != memory->order[k] ||
		       memcmp(kernel->slots + at, memory->slots + at, slot_bytes());
	}
	CHECK(!bad, "early: %u of %u values not in the same slot, or not as in memory", bad,
	      memory->n);
}

int main(void)
{
	const struct flowprog_fn top = { "TOP", { { MAPI_ARG_INT, { .i = 10 } },
						  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP } },
						  { MAPI_ARG_INT, { .i = MAPI_TOPX_IP_SRCIP } } }, 3 };
	struct slottable kernel, memory;
	uint64_t refused_packets = 0, refused_bytes = 0;
	const struct mapi_top_result *r;
	struct fn_instance *fi;
	struct flowprog fp;
	const void *out;
	size_t size, bytes;
	uint32_t i, in_table = 0;
	int fds[3], passed, ret;

	if (!CHECK_OK(flowprog_build_fns(&fp, NULL, &top, 1, FP_XDP_FRAGS), "TOP's program"))
		return check_summary("test_top_slots_run");
	slottable_init(&memory, TOP_TABLE_SLOTS, TOP_TABLE_VALUES, sizeof(struct top_count),
		       TOP_ORDER_RUN);
	slottable_init(&kernel, TOP_TABLE_SLOTS, TOP_TABLE_VALUES, sizeof(struct top_count),
		       TOP_ORDER_RUN);
	fi = fp.flow->fns[0];
	for (i = 0; i < PACKETS; i++) {
		/* the first SOURCES packets each a new source, then any again */
		uint32_t src = 0x0b000000u + (i < SOURCES ? i : next_rand() % SOURCES);
		struct field_key key = { FIELD_KIND_IPV4, { src, 0, 0, 0 } };
		struct top_count *c;
		struct pkt p;

		pkt_bench_frame(&p, 1);
		p.b[26] = (uint8_t)(src >> 24);
		p.b[27] = (uint8_t)(src >> 16);
		p.b[28] = (uint8_t)(src >> 8);
		p.b[29] = (uint8_t)src;
		ret = flowprog_run(&fp, p.b, (uint32_t)p.len, &passed);
		if (ret) {
			CHECK_OK(ret, "BPF_PROG_TEST_RUN");
			goto out;
		}
		c = slottable_get(&memory, &key);
		if (c) {
			c->packets++;
			c->bytes += p.len;
		} else {
			refused_packets++;
			refused_bytes += p.len;
		}
		if (i + 1 != EARLY)
			continue;
		ret = fi->desc->share(fi, fds, 3);
		if (!CHECK(ret == 3, "TOP shares its 3 maps (%d)", ret))
			goto out;
		ret = slottable_load(&kernel, fds[0]);
		if (!CHECK_OK(ret, "reading the kernel's table early"))
			goto out;
		same_early(&kernel, &memory);
	}
	ret = slottable_load(&kernel, fds[0]);
	if (!CHECK_OK(ret, "reading the kernel's table"))
		goto out;
	bytes = ((size_t)TOP_TABLE_SLOTS + 1) * slot_bytes();
	CHECK(!memcmp(kernel.slots, memory.slots, bytes),
	      "the kernel's table is the one in memory, slot by slot");
	in_table = memory.n;
	CHECK(kernel.n == in_table, "the kernel's table holds %u values, memory's %u", kernel.n,
	      in_table);
	CHECK(in_table == TOP_TABLE_VALUES, "the table holds %u values, not %u", in_table,
	      TOP_TABLE_VALUES);
	CHECK(refused_packets > SOURCES - TOP_TABLE_VALUES,
	      "the sources past the table were refused (%llu packets)",
	      (unsigned long long)refused_packets);
	ret = fi->desc->read(fi, fp.flow, &out, &size);
	if (!CHECK_OK(ret, "reading TOP"))
		goto out;
	r = out;
	CHECK(r->distinct == in_table, "TOP: %u values in its table, not %u", r->distinct,
	      in_table);
	CHECK(r->other_packets == refused_packets && r->other_bytes == refused_bytes,
	      "TOP: other %llu packets %llu bytes, not %llu, %llu", r->other_packets,
	      r->other_bytes, (unsigned long long)refused_packets,
	      (unsigned long long)refused_bytes);
	CHECK(r->packets == PACKETS, "TOP: %llu packets, not %u", r->packets, PACKETS);
out:
	slottable_free(&kernel);
	slottable_free(&memory);
	flowprog_free(&fp);
	return check_summary("test_top_slots_run");
}
