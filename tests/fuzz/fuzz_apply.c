/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target over what mapid does with a client's functions once
 * their spec decodes (fuzz_proto covers the decoding): any function of the
 * library, with any number of arguments of any type and value, applied to
 * a flow as mapid applies them to its copy (flow_apply: the form chosen,
 * the arguments checked, the function's prepare()), then the flow freed.
 * No crash, no sanitizer report, no leak; and a refusal always says why
 * with a code of MAPI's.
 *
 * Input: for each function, a byte choosing it, a byte the number of its
 * arguments (at most 11), then each argument: a byte 0 (an integer, 8
 * bytes follow) or 1 (a string, a length byte and that many bytes).
 * TO_FILE is left out: its arguments name files to write.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"
#include "flow.h"
#include "functions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FNS 8
#define MAX_ARGS 11

static const struct backend_ops fuzz_ops = { .name = "fuzz" };
static struct backend fuzz_backend = { .ops = &fuzz_ops };

/* The next n bytes of the input, or NULL at its end. */
static const uint8_t *take(const uint8_t **data, size_t *size, size_t n)
{
	const uint8_t *p = *data;

	if (*size < n)
		return NULL;
	*data += n;
	*size -= n;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fn_desc *const *all = fn_all();
	char strings[MAX_ARGS][256];
	size_t nall = 0;
	struct flow *f;
	int k;

	while (all[nall])
		nall++;
	f = flow_new("fuzz0", &fuzz_backend);
	if (!f)
		return 0;
	f->served = 1;	/* mapid's copy */
	for (k = 0; k < MAX_FNS; k++) {
		struct mapi_arg args[MAX_ARGS];
		const uint8_t *p, *q;
		const struct fn_desc *d;
		int n, i, ret, code;
		char msg[ERR_MSG_LEN];

		if (!(p = take(&data, &size, 2)))
			break;
		d = all[p[0] % nall];
		n = p[1] % (MAX_ARGS + 1);
		for (i = 0; i < n; i++) {
			if (!(q = take(&data, &size, 1)))
				break;
			if (q[0] & 1) {
				const uint8_t *len = take(&data, &size, 1), *s;

				if (!len || !(s = take(&data, &size, len[0])))
					break;
				memcpy(strings[i], s, len[0]);
				strings[i][len[0]] = 0;
				args[i] = (struct mapi_arg){ MAPI_ARG_STR, { .s = strings[i] } };
			} else {
				const uint8_t *v = take(&data, &size, 8);
				long long x;

				if (!v)
					break;
				memcpy(&x, v, sizeof(x));
				/* mostly small numbers, as arguments are */
				if (q[0] & 2)
					x %= 2048;
				args[i] = (struct mapi_arg){ MAPI_ARG_INT, { .i = x } };
			}
		}
		if (!strcmp(d->name, "TO_FILE"))
			continue;
		err_begin();
		ret = flow_apply(f, d, args, i);
		if (ret < 0) {
			err_publish(ret);
			err_last(&code, msg, sizeof(msg));
			if (code <= 0 || !msg[0]) {
				fprintf(stderr, "fuzz_apply: %s refused without a code or a message\n",
					d->name);
				abort();
			}
		}
	}
	flow_free(f);
	return 0;
}
