/* SPDX-License-Identifier: BSD-2-Clause */
/* mapi compile: what a tcpdump filter expression becomes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "mapi.h"

static const char compile_usage[] =
	"usage: mapi compile [-d | -e] [--tc] EXPR...\n"
	"\n"
	"Prints what a tcpdump filter expression becomes: libpcap's classic BPF, as\n"
	"`tcpdump -d` prints it, and the eBPF mapi-bpf translates it into, as it runs\n"
	"in native XDP (the filter alone: it returns 1 when the packet passes).\n"
	"\n"
	"  -d     only the classic BPF\n"
	"  -e     only the eBPF\n"
	"  --tc   the eBPF as it runs at tc (sent packets)\n";

int cmd_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "tc", no_argument, NULL, 't' },
		{ 0, 0, 0, 0 },
	};
	int what = MAPI_DUMP_CLASSIC | MAPI_DUMP_EBPF, c;
	char *expr, *text;

	while ((c = getopt_long(argc, argv, "+deh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': what = (what & MAPI_DUMP_TC) | MAPI_DUMP_CLASSIC; break;
		case 'e': what = (what & MAPI_DUMP_TC) | MAPI_DUMP_EBPF; break;
		case 't': what |= MAPI_DUMP_TC; break;
		case 'h': fputs(compile_usage, stdout); return 0;
		default: die_bad_option("compile", argv);
		}
	}
	if (optind == argc)
		die("compile: no filter expression (mapi compile --help)");
	expr = join_args(argc - optind, argv + optind);
	text = mapi_dump_filter(expr, what);
	if (!text)
		die_mapi("compile");
	fputs(text, stdout);
	free(text);
	free(expr);
	return 0;
}
