/* SPDX-License-Identifier: BSD-2-Clause */
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "mapi.h"

#define VERIFIER_LOG_SIZE (1u << 20)

/*
 * Programs with subprograms (bpf_loop callbacks) must tell the verifier
 * where each starts and what it is (BTF func_info).  One BTF object,
 * loaded once, serves them all: the main function and the callback type.
 */
static int btf_fd = -1;
static uint32_t btf_main_id, btf_callback_id;
static pthread_mutex_t btf_lock = PTHREAD_MUTEX_INITIALIZER;

static int program_btf(void)
{
	struct btf *btf;
	const void *raw;
	uint32_t size;
	int ret = 0, i64, vptr, proto;

	pthread_mutex_lock(&btf_lock);
	if (btf_fd >= 0)
		goto out;
	btf = btf__new_empty();
	if (!btf) {
		ret = -ENOMEM;
		goto out;
	}
	i64 = btf__add_int(btf, "long", 8, BTF_INT_SIGNED);
	vptr = btf__add_ptr(btf, 0);
	proto = btf__add_func_proto(btf, i64);
	btf__add_func_param(btf, "ctx", vptr);
	btf_main_id = (uint32_t)btf__add_func(btf, "mapi_flow", BTF_FUNC_GLOBAL, proto);
	proto = btf__add_func_proto(btf, i64);
	btf__add_func_param(btf, "index", i64);
	btf__add_func_param(btf, "data", vptr);
	btf_callback_id = (uint32_t)btf__add_func(btf, "mapi_callback", BTF_FUNC_STATIC, proto);
	raw = btf__raw_data(btf, &size);
	if ((int)btf_main_id < 0 || (int)btf_callback_id < 0 || !raw) {
		ret = -ENOMEM;
	} else {
		btf_fd = bpf_btf_load(raw, size, NULL);
		if (btf_fd < 0)
			ret = err_kernel(-errno, "loading program BTF");
	}
	btf__free(btf);
out:
	pthread_mutex_unlock(&btf_lock);
	return ret;
}

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
	struct bpf_func_info *fi = NULL;
	char reason[256] = "";
	char *log;
	size_t i;
	int fd, err;

	if (pb->nsubprogs) {
		err = program_btf();
		if (err)
			return err;
		fi = calloc(pb->nsubprogs + 1, sizeof(*fi));
		if (!fi)
			return -ENOMEM;
		fi[0] = (struct bpf_func_info){ 0, btf_main_id };
		for (i = 0; i < pb->nsubprogs; i++)
			fi[i + 1] = (struct bpf_func_info){ (uint32_t)pb->subprogs[i], btf_callback_id };
		opts.prog_btf_fd = (uint32_t)btf_fd;
		opts.func_info = fi;
		opts.func_info_cnt = (uint32_t)pb->nsubprogs + 1;
		opts.func_info_rec_size = sizeof(*fi);
	}

	/* Only read when loading fails: libbpf then loads again with logging. */
	log = calloc(1, VERIFIER_LOG_SIZE);
	if (!log) {
		free(fi);
		return -ENOMEM;
	}
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
		fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS,
				   t->ingress ? "mapi_tc_ingress" : "mapi_tc_egress", "Dual BSD/GPL",
				   pb->insns, pb->len, &opts);
	}
	free(fi);
	if (fd >= 0) {
		free(log);
		return fd;
	}
	err = -errno;
	if (err_is_no_fds(err)) {
		free(log);
		return err_no_fds(err, "loading a program");	/* verified, not refused */
	}
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
