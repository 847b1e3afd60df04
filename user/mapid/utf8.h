/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UTF-8, as Prometheus wants every label value: the configuration refuses
 * what is not, and the endpoint mends what it did not choose (an
 * interface's name, which the kernel takes as any bytes).
 */
#ifndef MAPID_UTF8_H
#define MAPID_UTF8_H

#include <stddef.h>

/* The bytes of the one well-formed character (RFC 3629: no overlong
 * forms, no surrogates, none past U+10FFFF) at s, of at most n bytes: 1
 * to 4, or 0 when s starts none. */
size_t utf8_char_len(const unsigned char *s, size_t n);
/* Whether the string s is UTF-8 throughout. */
int utf8_valid(const char *s);

#endif
