/* SPDX-License-Identifier: BSD-2-Clause */
#include "sampler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "flow.h"

/* The longest interval: a day (longer ones would be read once a run). */
#define MAX_INTERVAL_NS (86400ull * 1000000000ull)

/* "1s", "100ms", "500us", "2m": an interval in ns, or 0. */
static uint64_t interval_ns(const char *s)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "us", 1000ull }, { "ms", 1000000ull }, { "s", 1000000000ull },
		{ "m", 60000000000ull },
	};
	char *end;
	unsigned long long n;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return 0;
	n = strtoull(s, &end, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			return n && n <= UINT64_MAX / units[i].ns ? n * units[i].ns : 0;
	return 0;
}

int sampler_init(struct sampler *s, const struct flow *f, const char *fn, int interval_arg,
		 const char *interval, int reset_arg, long long reset, int own)
{
	uint64_t ns = interval_ns(interval);

	if (!ns)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + interval_arg + 1,
			       "%s INTERVAL \"%s\": a number and us, ms, s or m", fn,
			       interval ?: "");
	if (ns > MAX_INTERVAL_NS)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + interval_arg + 1,
			       "%s INTERVAL \"%s\": a day at most", fn, interval);
	if (ns < 1000000ull * MAPI_REF_REFRESH_MS && !f->trace)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + interval_arg + 1,
			       "%s INTERVAL \"%s\": at least %d ms on an interface (it is read "
			       "that often)", fn, interval, MAPI_REF_REFRESH_MS);
	if (reset != 0 && reset != 1)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + reset_arg + 1, "%s RESET %lld: 0 or 1",
			       fn, reset);
	memset(s, 0, sizeof(*s));
	s->interval = ns;
	s->reset = (int)reset;
	s->own = own;
	return 0;
}

/* The sample of an interval at whose end the number is value. */
static uint64_t sample(struct sampler *s, uint64_t value)
{
	/* (a number that went down, as a frozen store read at 0 would: no
	 * gain, not 2^64) */
	uint64_t gain = value > s->base ? value - s->base : 0;

	s->base = value;
	return s->reset ? gain : value;
}

void sampler_tick(struct sampler *s, uint64_t start, uint64_t now, uint64_t value, int final,
		  sample_fn fn, void *ctx)
{
	uint64_t passed;

	if (s->ended)
		return;
	if (!s->started) {
		/* intervals from the flow's start: its own counts were 0 then */
		s->started = 1;
		s->next = start + s->interval;
		s->base = s->own ? 0 : value;
	}
	if (now >= s->next) {
		/* the first interval that ended holds the whole gain; the
		 * others of a silence, none */
		passed = (now - s->next) / s->interval + 1;
		if (s->merge) {
			fn(ctx, s->next + (passed - 1) * s->interval, sample(s, value), passed, 0);
		} else {
			fn(ctx, s->next, sample(s, value), 1, 0);
			if (passed > 1)
				fn(ctx, s->next + s->interval, sample(s, value), passed - 1, 0);
		}
		s->next += passed * s->interval;
	}
	/* the last, short interval, to the end (the trace's last packet
	 * included) */
	if (final) {
		fn(ctx, now, sample(s, value), 1, 1);
		s->ended = 1;
	}
}
