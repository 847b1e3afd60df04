/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The engine: for each interface, one XDP program (received packets) and
 * one tc program (sent packets) that run every connected flow of this
 * process.  Connecting or closing a flow builds the hook's program anew
 * and swaps it in atomically through its bpf_link; flows keep their maps,
 * so no other flow's counts move.  Links are not pinned: when the process
 * dies, the kernel detaches everything.
 */
#ifndef MAPI_ENGINE_H
#define MAPI_ENGINE_H

#include "flow.h"

/* Starts running f (connected, with its host store created). */
int engine_connect(struct flow *f);

/* Stops running f; it never fails: problems are logged. */
void engine_disconnect(struct flow *f);

#endif
