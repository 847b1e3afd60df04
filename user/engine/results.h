/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where a flow's results live in the kernel: BPF array maps of the flow's
 * own.
 *
 * On the host a flow's result slots (u64) are grouped in lines of 8.  Each
 * line is one map whose single value holds one 64-byte line per CPU, so a
 * packet updates its own CPU's line without atomics and no two CPUs share a
 * cache line.  The maps are mapped read-only into the process: reading a
 * result is summing one slot over the CPUs, with no system call.  All line
 * maps have the same shape, so that the interface's flow table (an array
 * of maps) can hold any of them.
 *
 * A program offloaded to a NIC cannot know its CPU or use mmap: a device
 * store is a single map bound to the device, one u64 a slot, updated
 * atomically and read with a map lookup.
 *
 * A flow over a trace file runs in the process: its store is plain memory,
 * one u64 a slot, written by the thread that reads the trace.
 */
#ifndef MAPI_RESULTS_H
#define MAPI_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#define STORE_LINE 64				/* bytes: one cache line */
#define STORE_LINE_SLOTS (STORE_LINE / 8)	/* u64 slots in a line */
#define STORE_MAX_LINES 8			/* a flow has at most 64 slots */

struct store_line {
	int map_fd;
	void *mem;		/* host: the mapped value, one line per CPU */
	int table_index;	/* its place in the interface's flow table, or -1 */
};

struct result_store {
	int device;		/* bound to a NIC (offload) */
	uint64_t *memory;	/* in the process (trace files), or NULL */
	uint32_t nslots;
	uint32_t nlines;	/* 0: no store */
	struct store_line lines[STORE_MAX_LINES];
};

/* The maps of a store are created only by these; nslots <= 8 * 8. */
int store_create_host(struct result_store *st, uint32_t nslots, const char *name);
int store_create_device(struct result_store *st, uint32_t nslots, int ifindex,
			const char *name);
int store_create_memory(struct result_store *st, uint32_t nslots);
/* A host store of nslots whose line maps another process made (mapid):
 * the nfds descriptors become the store's, closed on failure too. */
int store_open_host(struct result_store *st, uint32_t nslots, const int *fds, int nfds);
/* Adds v to slot of a memory store (one writer; readers see whole values). */
static inline void store_add(struct result_store *st, uint32_t slot, uint64_t v)
{
	__atomic_store_n(&st->memory[slot], st->memory[slot] + v, __ATOMIC_RELAXED);
}

/* Sum of slot over every CPU (host) or the slot's value (device, memory). */
int store_read(const struct result_store *st, uint32_t slot, uint64_t *val);
void store_destroy(struct result_store *st);
void store_init(struct result_store *st);

/* Number of CPUs lines are kept for (the kernel's possible CPUs). */
int store_ncpus(void);
/* Value size of a host line map: one 64-byte line per CPU. */
uint32_t store_line_size(void);
/* Creates a map of a host line's shape (also the flow table's template). */
int store_line_map(const char *name);

#endif
