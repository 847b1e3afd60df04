/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's UTF-8 check (user/mapid/utf8.c) against glibc's iconv, which
 * decodes UTF-8 as RFC 3629 has it: the same verdict on every string of a
 * million random ones drawn from the bytes where the rules are (leads,
 * continuations, the overlong, surrogate and past-U+10FFFF edges), and on
 * each sequence of up to 3 bytes from those.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <iconv.h>

#include <cmocka.h>

#include "utf8.h"

static iconv_t cd;

/* iconv's verdict on n bytes (no NUL among them). */
static int iconv_valid(const unsigned char *s, size_t n)
{
	char out[64], *in = (char *)s, *o = out;
	size_t left = n, room = sizeof(out);

	iconv(cd, NULL, NULL, NULL, NULL);
	return iconv(cd, &in, &left, &o, &room) != (size_t)-1 && left == 0;
}

/* The bytes the rules turn on, and a few plain ones. */
static const unsigned char edges[] = {
	0x01, 'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
	0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xff,
};
#define NEDGES (sizeof(edges) / sizeof(edges[0]))

static void check(const unsigned char *s, size_t n)
{
	char z[16];
	int want = iconv_valid(s, n);

	memcpy(z, s, n);
	z[n] = 0;
	if (utf8_valid(z) != want) {
		char hex[64] = "";
		size_t i;

		for (i = 0; i < n; i++)
			snprintf(hex + 2 * i, sizeof(hex) - 2 * i, "%02x", s[i]);
		fail_msg("%s: utf8_valid says %d, iconv %d", hex, !want, want);
	}
}

static void every_short_sequence(void **state)
{
	unsigned char s[4];
	size_t a, b, c;

	(void)state;
	for (a = 0; a < NEDGES; a++) {
		s[0] = edges[a];
		check(s, 1);
		for (b = 0; b < NEDGES; b++) {
			s[1] = edges[b];
			check(s, 2);
			for (c = 0; c < NEDGES; c++) {
				s[2] = edges[c];
				check(s, 3);
			}
		}
	}
}

static void random_strings(void **state)
{
	unsigned char s[12];
	unsigned int seed = 7;
	int i;

	(void)state;
	for (i = 0; i < 1000000; i++) {
		size_t n = 1 + (size_t)rand_r(&seed) % 10, k;

		for (k = 0; k < n; k++)
			s[k] = rand_r(&seed) % 4 ? edges[rand_r(&seed) % NEDGES] :
			       (unsigned char)(1 + rand_r(&seed) % 255);
		check(s, n);
	}
}

static void char_len(void **state)
{
	(void)state;
	assert_int_equal(utf8_char_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(utf8_char_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	/* a sequence longer than the bytes given is none */
	assert_int_equal(utf8_char_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
	assert_int_equal(utf8_char_len((const unsigned char *)"a", 0), 0);
	assert_true(utf8_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(char_len),
		cmocka_unit_test(every_short_sequence),
		cmocka_unit_test(random_strings),
	};
	int ret;

	cd = iconv_open("UTF-32LE", "UTF-8");
	if (cd == (iconv_t)-1) {
		fprintf(stderr, "test_utf8: no iconv from UTF-8\n");
		return 1;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	iconv_close(cd);
	return ret;
}
