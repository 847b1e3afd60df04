/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapi: network monitoring from the shell, on MAPI flows that run in the
 * kernel.  One subcommand a job; `mapi COMMAND --help` for each.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mapi.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "count", cmd_count, "count packets and bytes that match a filter, per interval" },
	{ "capture", cmd_capture, "print or save the packets that match a filter and a search" },
	{ "run", cmd_run, "apply any chain of MAPI functions, print every result per interval" },
	{ "info", cmd_info, "interfaces, the attach modes each supports, kernel features" },
	{ "flows", cmd_flows, "the flows mapid runs: owner, interface, modes, packets, drops" },
	{ "functions", cmd_functions, "list the MAPI function library" },
	{ "compile", cmd_compile, "show the classic BPF and the eBPF a filter becomes" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: mapi COMMAND [OPTIONS] [FILTER...]\n\n"
		   "Network monitoring with MAPI flows that run in the kernel (XDP and tc).\n\n"
		   "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`mapi COMMAND --help` describes each.  The manual is mapi(1).\n");
}

static int std_closed[3];

int cli_std_closed(int fd)
{
	return fd >= 0 && fd < 3 && std_closed[fd];
}

/*
 * Descriptors 0 to 2 that the tool was started without are opened on
 * /dev/null before anything else is opened, so that nothing takes their
 * place (the library's eventfd read as the trace of "-r -", a capture
 * written into a ring buffer's descriptor).  -r - and -w - refuse them.
 */
static void std_fds_safe(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		std_closed[fd] = 1;
		if (open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			_exit(1);	/* nowhere to say it */
	}
}

int main(int argc, char **argv)
{
	size_t i;

	std_fds_safe();
	opterr = 0;	/* the subcommands say what was wrong, in one line */
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mapi %d.%d\n", MAPI_VERSION_MAJOR, MAPI_VERSION_MINOR);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	die("unknown command \"%s\" (mapi --help lists them)", argv[1]);
}
