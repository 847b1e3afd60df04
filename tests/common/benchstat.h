/* SPDX-License-Identifier: BSD-2-Clause */
/* What the benchmarks share: the clock they time user space with, medians. */
#ifndef MAPI_TESTS_BENCHSTAT_H
#define MAPI_TESTS_BENCHSTAT_H

/* CLOCK_MONOTONIC in nanoseconds. */
double bench_now_ns(void);

/* The median of v[0..n) (n >= 1); v is left as it was. */
double bench_median(const double *v, int n);

/* Prints v[0..n) as a JSON array. */
void bench_print_runs(const double *v, int n);

#endif
