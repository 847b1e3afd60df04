/* SPDX-License-Identifier: BSD-2-Clause */
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "mapi.h"

#define VERIFIER_LOG_SIZE (1u << 20)

/* The verifier's reason: the last line before its statistics. */
static void verifier_reason(const char *log, char *out, size_t len)
{
	const char *end = log + strlen(log), *start;

	while (end > log && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (start = end; start > log && start[-1] != '\n'; start--)
		;
	if (!strncmp(start, "processed ", 10) && start > log) {
		end = start - 1;
		for (start = end; start > log && start[-1] != '\n'; start--)
			;
	}
	snprintf(out, len, "%.*s", (int)(end - start), start);
}

int loader_load(const struct prog_buf *pb, const struct prog_target *t)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	char reason[256] = "";
	char *log;
	int fd, err;

	/* Only read when loading fails: libbpf then loads again with logging. */
	log = calloc(1, VERIFIER_LOG_SIZE);
	if (!log)
		return -ENOMEM;
	opts.log_buf = log;
	opts.log_size = VERIFIER_LOG_SIZE;
	if (t->hook == XLATE_XDP) {
		opts.expected_attach_type = BPF_XDP;
		if (t->offload_ifindex > 0)
			opts.prog_ifindex = (uint32_t)t->offload_ifindex;
		else if (t->frags)
			opts.prog_flags = BPF_F_XDP_HAS_FRAGS;
		fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "mapi_xdp", "Dual BSD/GPL",
				   pb->insns, pb->len, &opts);
	} else {
		fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mapi_tc_egress", "Dual BSD/GPL",
				   pb->insns, pb->len, &opts);
	}
	if (fd >= 0) {
		free(log);
		return fd;
	}
	err = -errno;
	if (*log) {
		size_t len = strlen(log);

		log_debug("verifier log:\n%s", len > 4000 ? log + len - 4000 : log);
		verifier_reason(log, reason, sizeof(reason));
	}
	free(log);
	return err_set(err, MAPI_ERR_KERNEL,
		       "the kernel refused a %s program of %zu instructions: %s%s%s",
		       t->hook == XLATE_XDP ? "XDP" : "tc", pb->len, strerror(-err),
		       *reason ? ": " : "", reason);
}
