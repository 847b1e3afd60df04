/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Another function's number sampled every interval: what BUCKET keeps and
 * the STATS and DIST of another function's result summarize.  The
 * intervals run from the flow's start; a sample is the number at an
 * interval's end, or with reset what it gained during the interval.
 */
#ifndef MAPI_SAMPLER_H
#define MAPI_SAMPLER_H

#include <stdint.h>

struct flow;

struct sampler {
	uint64_t interval;		/* ns */
	int reset;
	int own;			/* it watches its own flow, whose counts start at 0 */
	int merge;			/* intervals that ended between two ticks: one
					 * sample (see sampler_tick) */
	int started, ended;
	uint64_t next;			/* the next interval's end */
	uint64_t base;			/* the number at the last end (reset) */
};

/*
 * Checks an INTERVAL ("1s", "100ms", "500us", "2m": a day at most, and on
 * an interface not shorter than it is read) and a RESET (0 or 1), given as
 * arguments (from 0) interval_arg and reset_arg of function fn; own: FD
 * names its own flow.
 */
int sampler_init(struct sampler *s, const struct flow *f, const char *fn, int interval_arg,
		 const char *interval, int reset_arg, long long reset, int own);

/*
 * n samples of the same value, the first at the end of an interval ts, the
 * others an interval apart; partial: one sample, of an interval cut short
 * at ts (the flow's end).
 */
typedef void (*sample_fn)(void *ctx, uint64_t ts, uint64_t value, uint64_t n, int partial);

/*
 * The watched number is value at now (the flow started at start): the
 * samples of every interval that ended since the last tick, given to fn;
 * final: the flow ends at now, its last interval is a partial sample and
 * no more come.  With merge, the intervals that ended since the last tick
 * are one sample, at the last one's end, n their number: for a sampler
 * that reads more than a number (TOP), which a late tick (the library's
 * thread held up) must not split into a full interval and empty ones.
 */
void sampler_tick(struct sampler *s, uint64_t start, uint64_t now, uint64_t value, int final,
		  sample_fn fn, void *ctx);

#endif
