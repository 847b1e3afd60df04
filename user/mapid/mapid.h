/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid: the MAPI daemon.  It owns the interfaces' hooks and runs the
 * flows of every client in one engine, the library's own, so that all of
 * an interface's flows share its programs.  Clients speak the protocol of
 * proto.h over a Unix socket; mapid checks who they are (SO_PEERCRED) and
 * what they may do before it builds anything.
 */
#ifndef MAPID_H
#define MAPID_H

#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

struct mapid_config {
	char socket[108];		/* where clients connect */
	char group[64];			/* who may create flows, with root */
	char payload_group[64];		/* who may read payloads; "": as group */
	unsigned int max_flows;		/* per user, all its clients together */
	uint64_t max_ring_bytes;	/* per user: TO_BUFFER and TO_FILE rings */
};

/* The defaults, then path's settings ("key = value" lines): 0, or -1 with
 * a message naming the line. */
void config_defaults(struct mapid_config *cfg);
int config_load(struct mapid_config *cfg, const char *path, char *why, size_t len);
/* One setting (the file's key): 0, -1 for a bad value, -2 for no such key. */
int config_set(struct mapid_config *cfg, const char *key, const char *val);

/* Serving: started on a bound, listening socket; ends at SIGINT/SIGTERM,
 * every client's flows closed. */
int serve(const struct mapid_config *cfg, int listen_fd);

#endif
