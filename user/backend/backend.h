/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What runs a flow.  The API layer opens, connects, reads and closes flows
 * through this interface whatever runs them, as libpcap's capture modules
 * sit behind pcap-int.h.  Its implementations:
 *   - local.c: the in-process engine; the process loads and attaches the
 *     programs itself (the embedded default, no daemon needed);
 *   - trace.c: the trace-file reader; the flow runs in the process over a
 *     pcap file, through the functions' in-process versions;
 *   - mapid.c: the mapid client; mapid runs the flow in its engine, with
 *     every other client's, and passes the flow's maps to the process,
 *     which reads them itself.
 * Every call is made with the API lock held.
 */
#ifndef MAPI_BACKEND_H
#define MAPI_BACKEND_H

#include <stdint.h>

#include "flow.h"

struct backend;

struct backend_ops {
	const char *name;	/* for flow information */
	int live;		/* runs on an interface: directions, attach modes */
	/*
	 * Opens source for the new flow f and names it: an interface, or a
	 * trace file in format (MFF_*).  Errors say what is wrong with it.
	 */
	int (*open)(struct backend *b, struct flow *f, const char *source, int format);
	/* Starts running f, whose functions are all applied. */
	int (*connect)(struct backend *b, struct flow *f);
	/*
	 * Stops f if it runs and frees what open() made.  It never fails:
	 * problems are logged.  No thread waits for f's packets any more.
	 */
	void (*close)(struct backend *b, struct flow *f);
	/* Takes running f's programs off (its interface went away), its
	 * results still readable (from memory: backend_stop_frozen); close()
	 * then frees the rest.  0, or it may be tried again. */
	int (*stop)(struct backend *b, struct flow *f);
	/* The total of a result slot of running flow f. */
	int (*read_slot)(const struct flow *f, uint32_t slot, uint64_t *val);
	/* A flow attached to one of mapid's named flows (f->attached): the
	 * number of its function fid (0: the packets it examined), or with
	 * whole its struct result, which mapid reads for it, in *data
	 * (malloc'd).  NULL: no such flows. */
	int (*read_attached)(const struct flow *f, int fid, int whole, void **data,
			     size_t *size);
	/* 0 while what runs f is there; else why not (MAPI_ERR_DAEMON).  It
	 * makes no system call.  NULL: always there. */
	int (*check)(const struct backend *b);
	/*
	 * Work that falls due between calls (hooks left idle), all of it now
	 * with force.  Returns when the next is due (CLOCK_MONOTONIC, ms), or
	 * 0 if none waits.  NULL if the backend has none.
	 */
	uint64_t (*housekeep)(struct backend *b, int force);
	void (*destroy)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
	void *ctx;		/* the implementation's own */
	int flows;		/* flows it has open: the API's count */
};

/* The in-process engine: a backend with an engine of its own. */
int backend_local_new(struct backend **b);

/*
 * A client of the mapid listening at path: connected, and the daemon's
 * answer checked.  -ENOENT or -ECONNREFUSED (and a message) when none
 * listens there, -EXDEV when it serves another network namespace.
 */
int backend_mapid_new(struct backend **b, const char *path);

/* Hangs up on mapid and waits for the watcher to end: b's flows fail
 * with MAPI_ERR_DAEMON from then on; b stays until destroyed. */
void backend_mapid_hang_up(struct backend *b);

/* The first flow mapid runs above id after, that this client may see:
 * 0, or -ENOENT (MAPI_INVALID_FLOW) after the last. */
int backend_mapid_next(struct backend *b, uint32_t after, mapi_flow_info_t *info);

/* Makes f, new, the reader of mapid's named flow name: its interface,
 * direction and functions (no arguments: mapid has them), running. */
int backend_mapid_attach(struct backend *b, struct flow *f, const char *name);

/* The interface a live flow monitors: checked, and named in f. */
int backend_open_device(struct flow *f, const char *dev);
/* A backend's stop: detach takes f's programs off, and f's results as
 * they were then are kept in memory for its reads from now on. */
int backend_stop_frozen(struct flow *f, int (*detach)(struct backend *b, struct flow *f));

/* The trace-file reader; it keeps no state outside its flows. */
struct backend *backend_trace(void);

void backend_destroy(struct backend *b);

#endif
