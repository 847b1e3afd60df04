/* SPDX-License-Identifier: BSD-2-Clause */
/* The clocks the library keeps time with. */
#ifndef MAPI_CLOCK_H
#define MAPI_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC: deadlines, idle times. */
static inline uint64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static inline uint64_t monotonic_ms(void)
{
	return monotonic_ns() / 1000000u;
}

/* CLOCK_REALTIME, ns since the epoch: what a flow tells of its start. */
static inline uint64_t realtime_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

#endif
