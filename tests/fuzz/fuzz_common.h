/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What both fuzz targets check of a classic program that passed
 * cbpf_check(): it translates, and the kernel's verifier accepts the
 * translation at every hook.  Anything else aborts: a finding.
 */
#ifndef MAPI_FUZZ_COMMON_H
#define MAPI_FUZZ_COMMON_H

#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cbpf.h"
#include "codegen.h"
#include "ebpf_dump.h"
#include "error.h"
#include "loader.h"

/* What to look at when the kernel refuses a translation. */
static void show(const struct cbpf_prog *prog, const struct prog_buf *pb)
{
	char *text = NULL;

	if (!cbpf_dump(prog, &text))
		fprintf(stderr, "classic:\n%s", text);
	free(text);
	if (!ebpf_dump(pb->insns, pb->len, &text))
		fprintf(stderr, "eBPF:\n%s", text);
	free(text);
}

static void translate_and_verify(const struct cbpf_prog *prog, const char *what)
{
	static const struct prog_target targets[] = {
		{ .hook = XLATE_XDP, .frags = 0 },
		{ .hook = XLATE_XDP, .frags = 1 },
		{ .hook = XLATE_TC },
	};
	size_t t;

	for (t = 0; t < sizeof(targets) / sizeof(*targets); t++) {
		struct codegen cg;
		int ret, fd;

		err_begin();
		ret = codegen_filter(&cg, &targets[t], prog);
		if (ret) {
			fprintf(stderr, "%s: checked, but not translated (%d)\n", what, ret);
			abort();
		}
		fd = loader_load(&cg.pb, &targets[t]);
		if (fd < 0) {
			int code;
			char msg[ERR_MSG_LEN];

			err_publish(fd);
			err_last(&code, msg, sizeof(msg));
			fprintf(stderr, "%s: translated, but the kernel refused it at target %zu: %s\n",
				what, t, msg);
			show(prog, &cg.pb);
			abort();
		}
		pb_free(&cg.pb);
		close(fd);
	}
}

#endif
