/* SPDX-License-Identifier: BSD-2-Clause */
/* Arguments of mapi_apply_function, checked against a function's signature. */
#ifndef MAPI_ARGS_H
#define MAPI_ARGS_H

#include <stdarg.h>

#include "functions.h"

/*
 * Checks n arguments against the form of d that takes n and returns owned
 * copies in *out (strings duplicated), the form's index in *which.  Errors
 * name the argument: MAPI_INVALID_ARGUMENT plus its position.
 */
int args_check(const struct fn_desc *d, const struct mapi_arg *in, int n,
	       struct mapi_arg **out, int *which);

/* Reads the required arguments of d's form which from a va_list, trusting
 * their count and types. */
int args_from_va(const struct fn_desc *d, int which, va_list ap, struct mapi_arg **out,
		 int *n);

void args_free(struct mapi_arg *args, int n);

#endif
