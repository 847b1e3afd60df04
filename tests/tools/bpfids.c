/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bpfids prog: "ID NAME" for every BPF program the kernel holds.
 * bpfids lastmap: the highest map id in use (0: none).
 * bpfids maps: every map id in use, one a line.
 *
 * Unlike bpftool, this never opens a map (progwalk.h says why that
 * matters): tests that watch objects go away use it, and list maps with
 * bpftool only once the programs that filled the arrays are gone.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "progwalk.h"

static void print_prog(__u32 id, const struct bpf_prog_info *info, void *ctx)
{
	(void)ctx;
	printf("%u %s\n", id, info->name);
}

static int map_ids(int all)
{
	__u32 id = 0, last = 0;

	while (!bpf_map_get_next_id(id, &id)) {
		if (all)
			printf("%u\n", id);
		last = id;
	}
	if (!all)
		printf("%u\n", last);
	return errno == ENOENT ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "prog"))
		return prog_walk(0, print_prog, NULL) ? 1 : 0;
	if (argc == 2 && !strcmp(argv[1], "lastmap"))
		return map_ids(0);
	if (argc == 2 && !strcmp(argv[1], "maps"))
		return map_ids(1);
	fprintf(stderr, "usage: bpfids prog | bpfids lastmap | bpfids maps\n");
	return 2;
}
