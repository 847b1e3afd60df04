/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid: the MAPI daemon.  It owns the interfaces' hooks and runs the
 * flows of every client in one engine, the library's own, so that all of
 * an interface's flows share its programs.  Clients speak the protocol of
 * proto.h over a Unix socket; mapid checks who they are (SO_PEERCRED) and
 * what they may do before it builds anything.  Its configuration may name
 * flows of its own, which run without a client and are served to
 * Prometheus (named.c, metrics.c).
 */
#ifndef MAPID_H
#define MAPID_H

#include <net/if.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

#define NAMED_NAME_MAX 64	/* a named flow's name, NUL included */
#define NAMED_MAX_LABELS 16
#define NAMED_LABEL_MAX 64	/* a label's name */
#define NAMED_VALUE_MAX 256	/* a label's value */
#define NAMED_MAX_FLOWS 100000

struct named_label {
	char name[NAMED_LABEL_MAX];
	char value[NAMED_VALUE_MAX];
};

/* A flow the configuration names ("[flow NAME]"), as written. */
struct named_spec {
	char name[NAMED_NAME_MAX];
	char dev[IF_NAMESIZE];
	int direction;				/* MAPI_DIR_* */
	int line;				/* of its "[flow NAME]" */
	int nlabels;
	struct named_label labels[NAMED_MAX_LABELS];
	int nfns;
	char *fns[MAPID_MAX_FNS];		/* each function's text (fntext.h) */
	int fn_lines[MAPID_MAX_FNS];
};

struct mapid_config {
	char socket[108];		/* where clients connect */
	char group[64];			/* who may create flows, with root */
	char payload_group[64];		/* who may read payloads; "": as group */
	unsigned int max_flows;		/* per user, all its clients together */
	uint64_t max_ring_bytes;	/* per user: TO_BUFFER and TO_FILE rings */
	/* the Prometheus endpoint: "" off, "HOST:PORT", "[IPV6]:PORT" or
	 * "unix:PATH"; basic authentication when metrics_user is set */
	char metrics[128];
	char metrics_user[64];
	char metrics_password[128];
	struct named_spec *flows;	/* the named flows, in the file's order */
	int nflows;
};

/* Where the settings come from: a file (or NULL), then the command line's
 * options as the file's keys would say them, which win.  Read at start
 * and again at each SIGHUP. */
#define CONFIG_MAX_OVERRIDES 8
struct mapid_source {
	const char *path;
	int noverrides;
	const char *key[CONFIG_MAX_OVERRIDES];
	const char *value[CONFIG_MAX_OVERRIDES];
	const char *option[CONFIG_MAX_OVERRIDES];	/* its name, for messages */
};

/* The port mapid's endpoint takes when "metrics" names only an address:
 * in Prometheus' range for exporters, and no common exporter's. */
#define METRICS_PORT_DEFAULT 9578

/* The defaults, then src's file and overrides into cfg: 0, or -1 with a
 * message naming the file's line.  Only the file's syntax and values are
 * checked: named_check() checks its flows' functions. */
void config_defaults(struct mapid_config *cfg);
int config_read(struct mapid_config *cfg, const struct mapid_source *src, char *why, size_t len);
/* One setting (the file's key): 0, -1 for a bad value (why may say more),
 * -2 for no such key. */
int config_set(struct mapid_config *cfg, const char *key, const char *val, char *why,
	       size_t len);
void config_free(struct mapid_config *cfg);

/* Whether two specs run the same flow: interface, direction and functions
 * (labels change only what the endpoint says of it). */
int named_spec_same_flow(const struct named_spec *a, const struct named_spec *b);

/* Checks each named flow's functions as mapid would build them (no
 * kernel object is made): 0, or -1 with a message naming the line. */
int named_check(const struct mapid_config *cfg, const char *path, char *why, size_t len);

/* Serving: started on a bound, listening socket; ends at SIGINT/SIGTERM,
 * every client's flows closed.  SIGHUP reads src again. */
int serve(const struct mapid_source *src, struct mapid_config *cfg, int listen_fd);

#endif
