/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The engine: runs connected flows on their interfaces' hooks, XDP for
 * received packets and tcx for sent ones (engine.c tells how).  All its
 * state is in a context, struct engine: the library's in-process backend
 * has one, mapid has one for all its clients.  Links are not pinned: when
 * the process that holds an engine dies, the kernel detaches everything.
 * An engine is not thread-safe: its user serializes the calls.
 */
#ifndef MAPI_ENGINE_H
#define MAPI_ENGINE_H

#include <stdint.h>

#include "flow.h"

enum hook_id { HOOK_XDP, HOOK_TC, HOOK_COUNT };

struct engine;

int engine_new(struct engine **e);
/* Detaches every hook; its flows must have been disconnected. */
void engine_free(struct engine *e);

/*
 * Whether f runs as a conversation flow (hashflow.h): its filter fixes a
 * conversation, it only counts, and its interface has enough flows for the
 * lookup to pay.  If so it is marked for it, needs no store of its own,
 * and its results are read with engine_read_hashed().
 */
int engine_hashable(struct engine *e, struct flow *f);
int engine_read_hashed(const struct flow *f, uint32_t slot, uint64_t *val);

/* mapid: the descriptor of the table conversation flow f counts in (the
 * engine's: a copy goes to f's client, to map as f->hp_view). */
int engine_share_lookup(const struct flow *f, uint32_t *id);

/* Starts running f (connected, with its host store created unless hashed). */
int engine_connect(struct engine *e, struct flow *f);

/* Stops running f; it never fails: problems are logged. */
void engine_disconnect(struct engine *e, struct flow *f);

/*
 * Detaches hooks that have had no flow for long enough (all idle hooks
 * with force).  Returns when the next one is due (CLOCK_MONOTONIC, ms), or
 * 0 if none waits.
 */
uint64_t engine_housekeep(struct engine *e, int force);

#endif
