/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where a flow's results live in the kernel: one BPF array map per flow.
 *
 * On the host the map holds one line of counters per CPU (each line a whole
 * number of cache lines), updated without atomics by whichever CPU runs the
 * packet, and mapped read-only into the process: reading a result is summing
 * one slot over the CPUs, with no system call.  A program offloaded to a NIC
 * cannot know its CPU or use mmap, so a device store is a single line,
 * bound to the device, updated atomically and read with a map lookup.
 */
#ifndef MAPI_RESULTS_H
#define MAPI_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#define STORE_LINE 64	/* bytes: one cache line */

struct result_store {
	int map_fd;		/* -1: no store */
	int device;		/* bound to a NIC (offload) */
	uint32_t nslots;	/* u64 slots in a line */
	uint32_t stride;	/* bytes per CPU line (host) */
	uint32_t ncpus;		/* lines (host) */
	void *mem;		/* host: the mapped map value */
	size_t mem_len;
};

#define RESULT_STORE_NONE { .map_fd = -1 }

int store_create_host(struct result_store *st, uint32_t nslots, const char *name);
int store_create_device(struct result_store *st, uint32_t nslots, int ifindex,
			const char *name);
/* Sum of slot over every CPU (host) or the slot's value (device). */
int store_read(const struct result_store *st, uint32_t slot, uint64_t *val);
void store_destroy(struct result_store *st);

/* Number of CPUs lines are kept for (the kernel's possible CPUs). */
int store_ncpus(void);

#endif
