/* SPDX-License-Identifier: BSD-2-Clause */
#include "results.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "mapi.h"

int store_ncpus(void)
{
	static int n;
	int v = __atomic_load_n(&n, __ATOMIC_RELAXED);

	if (!v) {
		v = libbpf_num_possible_cpus();
		if (v > 0)	/* a failure (no descriptor left, say) may pass */
			__atomic_store_n(&n, v, __ATOMIC_RELAXED);
	}
	return v;
}

uint32_t store_line_size(void)
{
	return (uint32_t)store_ncpus() * STORE_LINE;
}

static size_t mapped_len(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (store_line_size() + page - 1) / page * page;
}

/* 0 once the possible CPUs are counted (a line is a slot per CPU). */
static int cpus_counted(void)
{
	int n = store_ncpus();

	return n > 0 ? 0 : err_kernel(n < 0 ? n : -ENOENT, "counting the possible CPUs");
}

int store_line_map(const char *name)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	int fd = cpus_counted();

	if (fd)
		return fd;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), store_line_size(), 1,
			    &opts);
	if (fd < 0)
		return err_kernel(-errno, "creating a result map");
	return fd;
}

void store_init(struct result_store *st)
{
	uint32_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < STORE_MAX_LINES; i++) {
		st->lines[i].map_fd = -1;
		st->lines[i].table_index = -1;
	}
}

/* Line l is the map fd (now the store's), mapped read-only. */
static int line_map(struct result_store *st, uint32_t i, int fd)
{
	struct store_line *l = &st->lines[i];
	int ret = cpus_counted();

	l->map_fd = fd;
	st->nlines = i + 1;
	if (ret)
		return ret;
	l->mem = mmap(NULL, mapped_len(), PROT_READ, MAP_SHARED, fd, 0);
	if (l->mem == MAP_FAILED) {
		int err = -errno;

		l->mem = NULL;
		return err_kernel(err, "mapping a result map");
	}
	return 0;
}

static uint32_t lines_for(uint32_t nslots)
{
	return (nslots + STORE_LINE_SLOTS - 1) / STORE_LINE_SLOTS;
}

int store_create_host(struct result_store *st, uint32_t nslots, const char *name)
{
	uint32_t nlines = lines_for(nslots), i;

	store_init(st);
	if (nlines == 0 || nlines > STORE_MAX_LINES)
		return err_set(-E2BIG, MAPI_ERR_LIMIT, "a flow holds at most %d results",
			       STORE_MAX_LINES * STORE_LINE_SLOTS - 1);
	for (i = 0; i < nlines; i++) {
		char lname[16];
		int fd, ret;

		snprintf(lname, sizeof(lname), "%.12s_%u", name, i);
		fd = store_line_map(lname);
		ret = fd < 0 ? fd : line_map(st, i, fd);
		if (ret) {
			store_destroy(st);
			return ret;
		}
	}
	st->nslots = nslots;
	return 0;
}

int store_open_host(struct result_store *st, uint32_t nslots, const int *fds, int nfds)
{
	uint32_t i;
	int ret = 0;

	store_init(st);
	if (nfds <= 0 || (uint32_t)nfds != lines_for(nslots) || nfds > STORE_MAX_LINES)
		ret = err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid passed %d result maps for %u "
			      "results", nfds, nslots);
	for (i = 0; nfds > 0 && i < (uint32_t)nfds; i++) {
		if (ret)
			close(fds[i]);
		else
			ret = line_map(st, i, fds[i]);
	}
	if (ret) {
		store_destroy(st);
		return ret;
	}
	st->nslots = nslots;
	return 0;
}

int store_create_device(struct result_store *st, uint32_t nslots, int ifindex,
			const char *name)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_ifindex = (uint32_t)ifindex);
	int fd;

	store_init(st);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), nslots * 8, 1, &opts);
	if (fd < 0)
		return -errno;	/* the caller explains: it decides on a fallback */
	st->lines[0].map_fd = fd;
	st->nlines = 1;
	st->device = 1;
	st->nslots = nslots;
	return 0;
}

int store_create_memory(struct result_store *st, uint32_t nslots)
{
	store_init(st);
	if (nslots > STORE_MAX_LINES * STORE_LINE_SLOTS)
		return err_set(-E2BIG, MAPI_ERR_LIMIT, "a flow holds at most %d results",
			       STORE_MAX_LINES * STORE_LINE_SLOTS - 1);
	st->memory = calloc(nslots, sizeof(*st->memory));
	if (!st->memory)
		return -ENOMEM;
	st->nslots = nslots;
	return 0;
}

int store_read(const struct result_store *st, uint32_t slot, uint64_t *val)
{
	const struct store_line *l;
	uint64_t sum = 0;
	int cpu;

	if (st->memory && slot < st->nslots) {
		*val = __atomic_load_n(&st->memory[slot], __ATOMIC_RELAXED);
		return 0;
	}
	if (!st->nlines || slot >= st->nslots)
		return -EINVAL;
	if (st->device) {
		uint64_t *line = calloc(st->nslots, sizeof(*line));
		uint32_t key = 0;
		int err = 0;

		if (!line)
			return -ENOMEM;
		if (bpf_map_lookup_elem(st->lines[0].map_fd, &key, line))
			err = -errno;
		else
			*val = line[slot];
		free(line);
		return err;
	}
	l = &st->lines[slot / STORE_LINE_SLOTS];
	for (cpu = 0; cpu < store_ncpus(); cpu++) {
		const uint64_t *p = (const uint64_t *)((const char *)l->mem +
						       (size_t)cpu * STORE_LINE) +
				    slot % STORE_LINE_SLOTS;

		sum += __atomic_load_n(p, __ATOMIC_RELAXED);
	}
	*val = sum;
	return 0;
}

void store_destroy(struct result_store *st)
{
	uint32_t i;

	for (i = 0; i < STORE_MAX_LINES; i++) {
		if (st->lines[i].mem)
			munmap(st->lines[i].mem, mapped_len());
		if (st->lines[i].map_fd >= 0)
			close(st->lines[i].map_fd);
	}
	free(st->memory);
	store_init(st);
}
