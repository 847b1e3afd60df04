/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The engine: runs every connected flow of this process on its interface's
 * hooks, XDP for received packets and tcx for sent ones (engine.c tells
 * how).  Links are not pinned: when the process dies, the kernel detaches
 * everything.
 */
#ifndef MAPI_ENGINE_H
#define MAPI_ENGINE_H

#include <stdint.h>

#include "flow.h"

enum hook_id { HOOK_XDP, HOOK_TC, HOOK_COUNT };

/*
 * Whether f runs as a conversation flow (hashflow.h): its filter fixes a
 * conversation, it only counts, and its interface has enough flows for the
 * lookup to pay.  If so it is marked for it, needs no store of its own,
 * and its results are read with engine_read_hashed().
 */
int engine_hashable(struct flow *f);
int engine_read_hashed(const struct flow *f, uint32_t slot, uint64_t *val);

/* Starts running f (connected, with its host store created unless hashed). */
int engine_connect(struct flow *f);

/* Stops running f; it never fails: problems are logged. */
void engine_disconnect(struct flow *f);

/*
 * Detaches hooks that have had no flow for long enough (all idle hooks
 * with force).  Returns when the next one is due (CLOCK_MONOTONIC, ms), or
 * 0 if none waits.
 */
uint64_t engine_housekeep(int force);

#endif
