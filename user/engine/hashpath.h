/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel side of hash flows (hashflow.h), one set per interface:
 *
 *  - keys[hook]: a hash map from a packet's struct hf_key to the flows that
 *    want it (struct hp_value), one map for received, one for sent packets;
 *  - store: the hash flows' counters, one 64-byte line per flow and CPU in
 *    an mmapable array (element flow * ncpus + cpu), read by the process
 *    without a system call.  Flow 0 is the interface's own: its line counts
 *    the packets the hooks examined, and numbers each packet (a per-CPU
 *    packet id) so that a flow two of whose keys match one packet counts it
 *    once;
 *  - cfg: how many keys of each kind (exact, source port wild, destination
 *    port wild) each hook has: a packet is looked up only as the kinds
 *    present, one to three lookups.
 *
 * A program of each hook's chain (codegen_hash) does the lookups before
 * the groups of general flows run.
 */
#ifndef MAPI_HASHPATH_H
#define MAPI_HASHPATH_H

#include <stddef.h>
#include <stdint.h>

#include "hashflow.h"

/* Hash flows an interface holds (MAPI_ERR_LIMIT past it). */
#define HP_MAX_FLOWS 16384
/* Flows one key can name (flows with the same conversation). */
#define HP_VALUE_FLOWS 7

struct hp_value {
	uint32_t n;
	uint32_t idx[HP_VALUE_FLOWS];
};

/* The counters' line: slots of a hash flow's 64 bytes. */
#define HP_SLOT_STAMP 0		/* id of the last packet counted (per CPU) */
#define HP_SLOT_PKTS 1
#define HP_SLOT_BYTES 2
/* ... and of flow 0's line */
#define HP_SLOT_ID 0		/* packets numbered on this CPU */
#define HP_SLOT_SEEN 1		/* + hook: packets the hook examined */

struct hp_cfg {
	uint32_t keys[2];	/* per hook (HOOK_XDP, HOOK_TC): all keys */
	uint32_t wild_sport[2];	/* of which with the source port wild */
	uint32_t wild_dport[2];	/* and with the destination port wild */
};

struct hashpath {
	int keys_fd[2];
	int store_fd, cfg_fd;
	void *store;		/* mapped, read-write: lines are zeroed by us */
	size_t store_len;
	struct hp_cfg cfg;
	/* flow numbers: never used ones from next_unused; freed ones wait
	 * FREE_DELAY_MS in a ring, for packets in flight to finish */
	uint32_t next_unused;
	uint32_t *freed;
	uint64_t *freed_at;
	uint32_t nfreed, freed_head;
	uint32_t nflows;
};

int hashpath_create(struct hashpath **out);
void hashpath_destroy(struct hashpath *hp);

/*
 * Adds a flow with these keys for the hooks in hooks (bit HOOK_XDP,
 * HOOK_TC): its counters start at 0.  *idx is its number.
 */
int hashpath_add(struct hashpath *hp, const struct hf_key *keys, int n, unsigned int hooks,
		 uint32_t *idx);
void hashpath_remove(struct hashpath *hp, const struct hf_key *keys, int n,
		     unsigned int hooks, uint32_t idx);

/*
 * For a client of mapid: the counters' descriptor (still hp's) and the
 * map's id; and, from such a descriptor (now the view's), a hashpath that
 * maps them read-only, freed by hashpath_destroy().  The kernel maps a map
 * only through a descriptor that may write it (a read-only one loses
 * VM_SHARED), so a client given this one could write every flow's counts:
 * mapid gives it to root's clients only.
 */
int hashpath_share(const struct hashpath *hp, uint32_t *id);
int hashpath_view(struct hashpath **out, int store_fd);

/* A flow's counter (HP_SLOT_*), summed over the CPUs. */
uint64_t hashpath_read(const struct hashpath *hp, uint32_t idx, int slot);
/* Packets hook h examined while it had hash flows. */
uint64_t hashpath_seen(const struct hashpath *hp, int h);

#endif
