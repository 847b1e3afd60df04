/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bpfids prog: "ID NAME" for every BPF program the kernel holds.
 * bpfids lastmap: the highest map id in use (0: none).
 *
 * Unlike bpftool, this never opens a map.  bpftool (prog show included,
 * looking for metadata) opens maps by id; opening and closing a prog array
 * whose last user fd was just closed, before the kernel has cleared it,
 * queues the clearing twice and leaks a reference: the array is never
 * freed.  Tests that watch objects go away use this instead, and list maps
 * with bpftool only once the programs that filled the arrays are gone.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int list_progs(void)
{
	__u32 id = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;	/* freed meanwhile */
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			printf("%u %s\n", id, info.name);
		close(fd);
	}
	return errno == ENOENT ? 0 : 1;
}

static int last_map(void)
{
	__u32 id = 0, last = 0;

	while (!bpf_map_get_next_id(id, &id))
		last = id;
	printf("%u\n", last);
	return errno == ENOENT ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "prog"))
		return list_progs();
	if (argc == 2 && !strcmp(argv[1], "lastmap"))
		return last_map();
	fprintf(stderr, "usage: bpfids prog | bpfids lastmap\n");
	return 2;
}
