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

/* CLOCK_REALTIME - CLOCK_TAI (the kernel's bpf_ktime_get_tai_ns): whole
 * seconds (the TAI offset), so rounded. */
static inline int64_t tai_to_real_ns(void)
{
	struct timespec real, tai;
	int64_t d;

	clock_gettime(CLOCK_TAI, &tai);
	clock_gettime(CLOCK_REALTIME, &real);
	d = (int64_t)(real.tv_sec - tai.tv_sec) * 1000000000 + (real.tv_nsec - tai.tv_nsec);
	return (d >= 0 ? d + 500000000 : d - 500000000) / 1000000000 * 1000000000;
}

#endif
