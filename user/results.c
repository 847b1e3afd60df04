/* SPDX-License-Identifier: BSD-2-Clause */
#include "results.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "mapi.h"

int store_ncpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n;
}

static int map_error(int err, const char *what)
{
	return err_set(err, MAPI_ERR_KERNEL, "creating the %s result map: %s",
		       what, strerror(-err));
}

int store_create_host(struct result_store *st, uint32_t nslots, const char *name)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	long page = sysconf(_SC_PAGESIZE);
	int ncpus = store_ncpus();
	uint32_t stride = (nslots * 8 + STORE_LINE - 1) / STORE_LINE * STORE_LINE;
	uint32_t key = 0;
	int fd;

	if (ncpus <= 0)
		return err_set(ncpus ? ncpus : -ENOENT, MAPI_ERR_KERNEL,
			       "cannot count the possible CPUs");
	memset(st, 0, sizeof(*st));
	st->map_fd = -1;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(key),
			    stride * (uint32_t)ncpus, 1, &opts);
	if (fd < 0)
		return map_error(-errno, "host");
	st->mem_len = ((size_t)stride * ncpus + page - 1) / page * page;
	st->mem = mmap(NULL, st->mem_len, PROT_READ, MAP_SHARED, fd, 0);
	if (st->mem == MAP_FAILED) {
		int err = -errno;

		close(fd);
		st->mem = NULL;
		return map_error(err, "mapping the host");
	}
	st->map_fd = fd;
	st->nslots = nslots;
	st->stride = stride;
	st->ncpus = (uint32_t)ncpus;
	return 0;
}

int store_create_device(struct result_store *st, uint32_t nslots, int ifindex,
			const char *name)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_ifindex = (uint32_t)ifindex);
	uint32_t key = 0;
	int fd;

	memset(st, 0, sizeof(*st));
	st->map_fd = -1;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(key), nslots * 8, 1, &opts);
	if (fd < 0)
		return -errno;	/* the caller explains: it decides on a fallback */
	st->map_fd = fd;
	st->device = 1;
	st->nslots = nslots;
	st->stride = nslots * 8;
	st->ncpus = 1;
	return 0;
}

int store_read(const struct result_store *st, uint32_t slot, uint64_t *val)
{
	uint64_t sum = 0;
	uint32_t cpu;

	if (st->map_fd < 0 || slot >= st->nslots)
		return -EINVAL;
	if (st->device) {
		uint64_t *line = calloc(st->nslots, sizeof(*line));
		uint32_t key = 0;
		int err = 0;

		if (!line)
			return -ENOMEM;
		if (bpf_map_lookup_elem(st->map_fd, &key, line))
			err = -errno;
		else
			*val = line[slot];
		free(line);
		return err;
	}
	for (cpu = 0; cpu < st->ncpus; cpu++) {
		const uint64_t *p = (const uint64_t *)((const char *)st->mem +
						       (size_t)cpu * st->stride) + slot;

		sum += __atomic_load_n(p, __ATOMIC_RELAXED);
	}
	*val = sum;
	return 0;
}

void store_destroy(struct result_store *st)
{
	if (st->mem)
		munmap(st->mem, st->mem_len);
	if (st->map_fd >= 0)
		close(st->map_fd);
	memset(st, 0, sizeof(*st));
	st->map_fd = -1;
}
