/* SPDX-License-Identifier: BSD-2-Clause */
/* mapi functions: the function library, with arguments and a line of help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mapi.h"

int cmd_functions(int argc, char **argv)
{
	mapi_libfunct_info_t fi;
	int n;

	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: mapi functions\n\n"
			       "Lists the functions a flow can apply, with their arguments and\n"
			       "what they give (apply them with mapi_apply_function).  Arguments in\n"
			       "brackets are optional; a function with several forms (MAPI 2.0's and\n"
			       "mapi-bpf's) lists each in parentheses, told apart by the number of\n"
			       "arguments.\n");
			return 0;
		}
		die("functions takes no arguments (mapi functions --help)");
	}
	for (n = 0; mapi_get_libfunct_info(n, &fi) == 0; n++)
		printf("%s%s%s\n    %s\n", fi.name, *fi.args ? " " : "", fi.args, fi.descr);
	return 0;
}
