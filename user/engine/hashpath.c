/* SPDX-License-Identifier: BSD-2-Clause */
#include "hashpath.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "mapi.h"
#include "results.h"

/* A freed flow number is not given again before packets that may still
 * count into it have surely left the programs. */
#define FREE_DELAY_MS 100
/* Keys a hook's map holds: every flow with its most keys. */
#define MAX_KEYS (HP_MAX_FLOWS * HF_MAX_KEYS)

static uint32_t ncpus(void)
{
	return (uint32_t)store_ncpus();
}

static uint64_t *line(const struct hashpath *hp, uint32_t idx, uint32_t cpu)
{
	return (uint64_t *)((char *)hp->store + ((size_t)idx * ncpus() + cpu) * STORE_LINE);
}

void hashpath_destroy(struct hashpath *hp)
{
	int h;

	if (!hp)
		return;
	if (hp->store)
		munmap(hp->store, hp->store_len);
	for (h = 0; h < 2; h++)
		if (hp->keys_fd[h] >= 0)
			close(hp->keys_fd[h]);
	if (hp->store_fd >= 0)
		close(hp->store_fd);
	if (hp->cfg_fd >= 0)
		close(hp->cfg_fd);
	free(hp->freed);
	free(hp->freed_at);
	free(hp);
}

int hashpath_create(struct hashpath **out)
{
	LIBBPF_OPTS(bpf_map_create_opts, nopre, .map_flags = BPF_F_NO_PREALLOC);
	LIBBPF_OPTS(bpf_map_create_opts, mmapable, .map_flags = BPF_F_MMAPABLE);
	struct hashpath *hp = calloc(1, sizeof(*hp));
	uint32_t zero = 0;
	int h, ret;

	*out = NULL;
	if (!hp)
		return -ENOMEM;
	hp->keys_fd[0] = hp->keys_fd[1] = hp->store_fd = hp->cfg_fd = -1;
	hp->freed = calloc(HP_MAX_FLOWS, sizeof(*hp->freed));
	hp->freed_at = calloc(HP_MAX_FLOWS, sizeof(*hp->freed_at));
	if (!hp->freed || !hp->freed_at || store_ncpus() <= 0) {
		hashpath_destroy(hp);
		return -ENOMEM;
	}
	for (h = 0; h < 2; h++) {
		hp->keys_fd[h] = bpf_map_create(BPF_MAP_TYPE_HASH, h ? "mapi_hkeys_out" :
						"mapi_hkeys_in", sizeof(struct hf_key),
						sizeof(struct hp_value), MAX_KEYS, &nopre);
		if (hp->keys_fd[h] < 0)
			goto fail;
	}
	/* flow 0 is the interface's own line */
	hp->store_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_hstore", sizeof(uint32_t),
				      STORE_LINE, (HP_MAX_FLOWS + 1) * ncpus(), &mmapable);
	hp->cfg_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_hcfg", sizeof(uint32_t),
				    sizeof(struct hp_cfg), 1, NULL);
	if (hp->store_fd < 0 || hp->cfg_fd < 0)
		goto fail;
	if (bpf_map_update_elem(hp->cfg_fd, &zero, &hp->cfg, BPF_ANY))
		goto fail;
	hp->store_len = (size_t)(HP_MAX_FLOWS + 1) * ncpus() * STORE_LINE;
	hp->store = mmap(NULL, hp->store_len, PROT_READ | PROT_WRITE, MAP_SHARED, hp->store_fd, 0);
	if (hp->store == MAP_FAILED) {
		hp->store = NULL;
		goto fail;
	}
	hp->next_unused = 1;
	*out = hp;
	return 0;
fail:
	ret = -errno;
	hashpath_destroy(hp);
	return err_kernel(ret, "creating the interface's hash flow tables");
}

int hashpath_share(const struct hashpath *hp, uint32_t *id)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(hp->store_fd, &info, &len))
		return err_set(-errno, MAPI_ERR_KERNEL, "the conversation counters' id: %s",
			       strerror(errno));
	*id = info.id;
	return hp->store_fd;
}

int hashpath_view(struct hashpath **out, int store_fd)
{
	struct hashpath *hp = calloc(1, sizeof(*hp));
	int ret;

	*out = NULL;
	if (!hp) {
		close(store_fd);
		return -ENOMEM;
	}
	hp->keys_fd[0] = hp->keys_fd[1] = hp->cfg_fd = -1;
	hp->store_fd = store_fd;
	hp->store_len = (size_t)(HP_MAX_FLOWS + 1) * ncpus() * STORE_LINE;
	hp->store = mmap(NULL, hp->store_len, PROT_READ, MAP_SHARED, store_fd, 0);
	if (hp->store == MAP_FAILED) {
		ret = -errno;
		hp->store = NULL;
		hashpath_destroy(hp);
		return err_set(ret, MAPI_ERR_KERNEL, "mapping the conversation counters: %s",
			       strerror(-ret));
	}
	*out = hp;
	return 0;
}

static int take_number(struct hashpath *hp, uint32_t *idx)
{
	if (hp->nfreed && hp->freed_at[hp->freed_head] + FREE_DELAY_MS <= monotonic_ms()) {
		*idx = hp->freed[hp->freed_head];
		hp->freed_head = (hp->freed_head + 1) % HP_MAX_FLOWS;
		hp->nfreed--;
		return 0;
	}
	if (hp->next_unused <= HP_MAX_FLOWS) {
		*idx = hp->next_unused++;
		return 0;
	}
	if (hp->nfreed)
		return err_set(-EAGAIN, MAPI_ERR_LIMIT,
			       "hash flows: all %d numbers are taken or were freed less than "
			       "%d ms ago", HP_MAX_FLOWS, FREE_DELAY_MS);
	return err_set(-ENOSPC, MAPI_ERR_LIMIT,
		       "an interface holds at most %d conversation flows", HP_MAX_FLOWS);
}

static void give_number(struct hashpath *hp, uint32_t idx)
{
	uint32_t tail = (hp->freed_head + hp->nfreed) % HP_MAX_FLOWS;

	hp->freed[tail] = idx;
	hp->freed_at[tail] = monotonic_ms();
	hp->nfreed++;
}

static int cfg_update(struct hashpath *hp)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(hp->cfg_fd, &zero, &hp->cfg, BPF_ANY))
		return err_set(-errno, MAPI_ERR_KERNEL, "updating the hash flow tables: %s",
			       strerror(errno));
	return 0;
}

/* Adds (add) or removes idx from key k of hook h's map. */
static int key_update(struct hashpath *hp, int h, const struct hf_key *k, uint32_t idx, int add)
{
	struct hp_value v = { 0 };
	int exists = !bpf_map_lookup_elem(hp->keys_fd[h], k, &v);
	uint32_t i;

	if (add) {
		if (exists && v.n == HP_VALUE_FLOWS)
			return err_set(-ENOSPC, MAPI_ERR_LIMIT,
				       "at most %d flows can watch the same conversation",
				       HP_VALUE_FLOWS);
		v.idx[v.n++] = idx;
	} else {
		for (i = 0; i < v.n && v.idx[i] != idx; i++)
			;
		if (!exists || i == v.n)
			return 0;
		v.idx[i] = v.idx[--v.n];
		if (!v.n) {
			bpf_map_delete_elem(hp->keys_fd[h], k);
			hp->cfg.keys[h]--;
			hp->cfg.wild_sport[h] -= k->wild == HF_WILD_SPORT;
			hp->cfg.wild_dport[h] -= k->wild == HF_WILD_DPORT;
			return 0;
		}
	}
	if (bpf_map_update_elem(hp->keys_fd[h], k, &v, BPF_ANY))
		return err_set(-errno, errno == ENOMEM || errno == E2BIG ? MAPI_ERR_NOMEM :
			       MAPI_ERR_KERNEL, "adding a conversation flow's key: %s",
			       strerror(errno));
	if (add && !exists) {
		hp->cfg.keys[h]++;
		hp->cfg.wild_sport[h] += k->wild == HF_WILD_SPORT;
		hp->cfg.wild_dport[h] += k->wild == HF_WILD_DPORT;
	}
	return 0;
}

void hashpath_remove(struct hashpath *hp, const struct hf_key *keys, int n,
		     unsigned int hooks, uint32_t idx)
{
	int h, i;

	for (h = 0; h < 2; h++)
		if (hooks & (1u << h))
			for (i = 0; i < n; i++)
				key_update(hp, h, &keys[i], idx, 0);
	cfg_update(hp);
	give_number(hp, idx);
	hp->nflows--;
}

int hashpath_add(struct hashpath *hp, const struct hf_key *keys, int n, unsigned int hooks,
		 uint32_t *idx)
{
	uint32_t cpu;
	int h, i, ret;

	ret = take_number(hp, idx);
	if (ret)
		return ret;
	/* zeroed before any key leads to it */
	for (cpu = 0; cpu < ncpus(); cpu++)
		memset(line(hp, *idx, cpu), 0, STORE_LINE);
	hp->nflows++;
	for (h = 0; h < 2 && !ret; h++)
		for (i = 0; i < n && !ret && (hooks & (1u << h)); i++)
			ret = key_update(hp, h, &keys[i], *idx, 1);
	if (!ret)
		ret = cfg_update(hp);
	if (ret)
		hashpath_remove(hp, keys, n, hooks, *idx);
	return ret;
}

uint64_t hashpath_read(const struct hashpath *hp, uint32_t idx, int slot)
{
	uint64_t sum = 0;
	uint32_t cpu;

	for (cpu = 0; cpu < ncpus(); cpu++)
		sum += __atomic_load_n(&line(hp, idx, cpu)[slot], __ATOMIC_RELAXED);
	return sum;
}

uint64_t hashpath_seen(const struct hashpath *hp, int h)
{
	return hashpath_read(hp, 0, HP_SLOT_SEEN + h);
}
