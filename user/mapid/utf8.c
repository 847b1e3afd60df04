/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "utf8.h"

size_t utf8_char_len(const unsigned char *s, size_t n)
{
	unsigned int c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (!n)
		return 0;
	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;	/* a continuation byte, an overlong lead, past U+10FFFF */
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	/* the second byte's range is narrower after these leads (RFC 3629 4) */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;

	while (n) {
		k = utf8_char_len(p, n);
		if (!k)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}
