/* SPDX-License-Identifier: BSD-2-Clause */
#include "progwalk.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int prog_walk(__u32 since, void (*fn)(__u32 id, const struct bpf_prog_info *info, void *ctx),
	      void *ctx)
{
	__u32 id = since;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;	/* freed meanwhile */
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			fn(id, &info, ctx);
		close(fd);
	}
	return errno == ENOENT ? 0 : -1;
}
