/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MAPI as text.  A function: its name, then its arguments, strings in
 * double quotes, numbers and MAPI's constants bare ("TOP 10 TOPX_IP
 * TOPX_IP_SRCIP SORT_BY_BYTES 24"): `mapi run` takes functions so, and
 * mapid's named flows are written so in its configuration, one syntax
 * parsed here.  A field's value (TOP's, DISTINCT's) as both print it.
 * Only libc and mapi.h: the mapi tool links this file beside the library.
 */
#ifndef MAPI_FNTEXT_H
#define MAPI_FNTEXT_H

#include <stddef.h>

#include "mapi.h"

/* Arguments a function's text may hold. */
#define FNTEXT_MAX_ARGS 11

/*
 * Splits text, in place, into *name and at most FNTEXT_MAX_ARGS arguments
 * (strings point into text).  Returns their number, or -1 with why set: an
 * empty text, a quoted name, a string not closed, too many arguments.
 */
int fntext_parse(char *text, char **name, struct mapi_arg *args, char *why, size_t len);

/* The value of one of MAPI's constant names (TOPX_IP, MAPI_TOPX_IP, ...):
 * 1 and *v, or 0 when word names none. */
int fntext_constant(const char *word, long long *v);

/* A field's value: a number, an address, or address/prefix when cut to
 * one. */
void field_value_text(const struct mapi_field_value *v, char *buf, size_t len);

#endif
