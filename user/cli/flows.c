/* SPDX-License-Identifier: BSD-2-Clause */
/* mapi flows: the flows mapid runs (every client's, for root). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mapi.h"

static const char *direction_name(int d)
{
	return d == MAPI_DIR_IN ? "in" : d == MAPI_DIR_OUT ? "out" : "inout";
}

int cmd_flows(int argc, char **argv)
{
	mapi_flow_info_t info;
	int fd = 0, n = 0, code;
	char msg[MAPI_ERRORSTR_LENGTH];

	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: mapi flows\n\n"
			       "Lists the flows mapid runs, one a line: mapid's number, the owner's\n"
			       "uid and pid, the flow's name (a named flow of mapid's configuration;\n"
			       "- for an application's), the interface and direction, the attach\n"
			       "modes (received,\n"
			       "sent), whether it runs as a program or a conversation lookup (or\n"
			       "stopped: its interface went away), packets\n"
			       "seen, packets dropped by full rings, the functions.\n"
			       "A user sees their own flows and the named ones; root sees every\n"
			       "client's.  Without\n"
			       "mapid there is nothing to list.\n");
			return 0;
		}
		die("flows takes no arguments (mapi flows --help)");
	}
	while (mapi_get_next_flow_info(fd, &info) == 0) {
		if (!n++)
			printf("%-6s %-6s %-8s %-12s %-10s %-5s %-15s %-7s %12s %9s  %s\n", "FLOW",
			       "UID", "PID", "NAME", "DEVICE", "DIR", "MODES", "RUNS", "SEEN", "DROPPED",
			       "FUNCTIONS");
		snprintf(msg, sizeof(msg), "%s,%s", mapi_mode_name(info.mode_in),
			 mapi_mode_name(info.mode_out));
		printf("%-6d %-6d %-8d %-12s %-10s %-5s %-15s %-7s %12llu %9llu  %s\n", info.fd,
		       info.owner_uid, info.owner_pid, *info.name ? info.name : "-", info.device,
		       direction_name(info.direction),
		       msg, info.status == MAPI_FLOW_STOPPED ? "stopped" : info.lookup ? "lookup" :
		       "program", info.packets_seen,
		       info.packets_dropped, info.functions);
		fd = info.fd;
	}
	mapi_read_error(&code, msg);
	if (code != MAPI_INVALID_FLOW)
		die("listing flows: %s", msg);
	if (!n)
		fprintf(stderr, "mapi: no flows\n");
	return 0;
}
