/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Checks for the C tests that are not cmocka tests (BPF and network tiers):
 * each returns whether it held, so that a test reads
 *	if (!CHECK_OK(err, "load")) goto out;
 * and check_summary() gives the exit status.
 */
#ifndef MAPI_TESTS_CHECK_H
#define MAPI_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static unsigned long check_count, check_failed;

static inline int check_report(int ok, const char *file, int line, const char *what)
{
	check_count++;
	if (!ok) {
		check_failed++;
		fprintf(stderr, "  FAIL  %s:%d: %s\n", file, line, what);
	}
	return ok;
}

/* The condition runs first: the message may show what it computed. */
#define CHECK(cond, ...) ({						\
	int check_ok_ = !!(cond);					\
	char check_msg_[1024] = "";					\
	if (!check_ok_)							\
		snprintf(check_msg_, sizeof(check_msg_), __VA_ARGS__);	\
	check_report(check_ok_, __FILE__, __LINE__, check_msg_);	\
})

#define CHECK_OK(err, what) CHECK((err) == 0, "%s: error %d (%s)", what, (int)(err), \
				  strerror((err) < 0 ? -(err) : (err)))

static inline int check_summary(const char *name)
{
	printf("%s: %lu checks, %lu failed\n", name, check_count, check_failed);
	return check_failed ? 1 : 0;
}

#endif
