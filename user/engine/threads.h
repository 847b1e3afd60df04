/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The library's own threads (the keeper, a trace's reader, the listener
 * for interfaces going, mapid's watcher, a hook's second compile) take no
 * signals: a signal the application means for itself (Ctrl-C, which it
 * blocks and waits for, say) must not land in one of them, where its
 * default action would end the process.
 */
#ifndef MAPI_THREADS_H
#define MAPI_THREADS_H

#include <pthread.h>

/* pthread_create, the new thread with every signal blocked: 0 or an
 * error number, as pthread_create. */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
