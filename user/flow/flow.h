/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A network flow and the function instances applied to it, and how a flow
 * is built (flow.c).  What runs a connected flow is its backend
 * (backend.h).
 */
#ifndef MAPI_FLOW_H
#define MAPI_FLOW_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "hashflow.h"
#include "mapi.h"
#include "results.h"

struct backend;
struct fn_desc;
struct hashpath;
struct iface;
struct link_watch;
struct trace;

struct fn_instance {
	const struct fn_desc *desc;
	int fid;
	struct mapi_arg *args;		/* owned; strings are copies */
	int nargs;			/* in args: as many as it takes at most */
	int given;			/* of them, given by the application */
	int form;			/* which of the function's forms they are */
	void *state;			/* what prepare() built, for emit() */
	int slot;			/* first result slot, or -1 */
	int maps;			/* maps its code names, once connected */
	int host_only;			/* not on a NIC, though its function may be
					 * (fn_desc.offloadable): set by prepare() */
	int reading;			/* a thread waits in mapi_get_next_pkt */
	unsigned long long copy;	/* MAPI_COPY snapshot */
	size_t copy_size;		/* of a struct result's, its read()'s */
	int copy_int;			/* the same, of a result that is an int */
	/* what MAPI 2.0's calls hand out (mapi2.c): its read_results view,
	 * and its last packet in MAPI 2.0's layout */
	void *v2_result;
	void *v2_pkt;
	size_t v2_room;
	unsigned long long ref;		/* MAPI_REF value, refreshed */
	int ref_on;
	/* a function that watches another's number (fn_desc.tick): the last
	 * the library thread read, and whether its final tick came */
	uint64_t watch_value;
	int watch_ended;
	int clocked;			/* ticked, though it watches nothing */
	uint64_t watch_serial;		/* the watched flow's serial */
	void *remote_copy;		/* an attached flow's: the last result read */
};

/* Result slot 0 of every flow counts the packets it examined. */
#define FLOW_SLOT_SEEN 0

struct flow {
	int fd;
	uint64_t serial;		/* unique in the process: a descriptor is
					 * used again, a serial never */
	struct backend *backend;	/* what runs it */
	int status;			/* MAPI_FLOW_INIT / MAPI_FLOW_RUNNING */
	char dev[IF_NAMESIZE];
	int ifindex;
	int direction;			/* MAPI_DIR_* */
	int mode_req;			/* MAPI_MODE_* | MAPI_MODE_REQUIRE */
	struct fn_instance **fns;
	int nfns;
	uint32_t nslots;		/* result slots, FLOW_SLOT_SEEN included */
	struct result_store host;	/* counts of programs run by the host, or of
					 * the trace reader (in memory) */
	struct result_store nic;	/* counts of a program offloaded to the NIC */
	struct iface *iface;		/* set while connected */
	int group[2];			/* where the engine runs it, per hook */
	int mode_in, mode_out;		/* MAPI_MODE_* in use */
	unsigned long long start_ns;	/* connect time */
	int readers;			/* threads waiting for its packets */
	struct trace *trace;		/* a flow over a trace file, or NULL */
	int served;			/* mapid runs it for a client: only its
					 * kernel half is built here (no files) */
	uint32_t remote_id;		/* a client's flow: its id in mapid */
	int owner_pid;			/* the process that created it */
	int inherited;			/* a child of fork()'s copy of it: only
					 * closing it (freeing the copy) is allowed */
	int own_maps;			/* its counts only in maps of its own, never
					 * in the interface's shared table */
	/* a conversation flow (hashflow.h): found by a lookup, no code */
	int hashed;
	uint32_t hash_idx;
	struct hf_key hkeys[HF_MAX_KEYS];
	int nhkeys;
	uint64_t seen_base[2];		/* the hooks' packet counts at connect */
	struct hashpath *hp_view;	/* a client of mapid: the table, mapped */
	struct link_watch *link;	/* a live flow, connected: says when its
					 * interface goes */
	int detached;			/* its interface went: its programs were
					 * taken off (backend_ops.stop) */
	int attached;			/* the reader of one of mapid's named flows:
					 * its results read by request, read only */
	struct {
		char name[64];
		int uid, pid;		/* its owner: mapid */
	} named;			/* of an attached flow */
};

/* A new flow named name, run by b, with the defaults: both directions,
 * any attach mode, no functions. */
struct flow *flow_new(const char *name, struct backend *b);

/* The packets it sees (MAPI_DIR_*) and where it asks to attach
 * (MAPI_MODE_*, | MAPI_MODE_REQUIRE), checked. */
int flow_set_direction(struct flow *f, int direction);
int flow_set_mode(struct flow *f, int mode);

/*
 * Applies function d with n arguments: checks them against its signature,
 * prepares it (a filter compiles) and appends it.  Returns its function id
 * or a negative errno.
 */
int flow_apply(struct flow *f, const struct fn_desc *d, const struct mapi_arg *args, int n);

/* Takes the last function applied off f again (the API refused it after
 * flow_apply: what it watches, say) and frees it. */
void flow_drop_last(struct flow *f);

/* Appends fi, already prepared, to f: its function id and result slots. */
int flow_append(struct flow *f, struct fn_instance *fi);

/* Creates the kernel objects of f's functions (maps their code names),
 * before a backend loads that code; and frees them. */
int flow_fns_connect(struct flow *f);
void flow_fns_disconnect(struct flow *f);

/* Function fid of f (1 for the first), or NULL. */
struct fn_instance *flow_fn(const struct flow *f, int fid);
/* Whether fi watches another function's number (its form's watch), and
 * which flow (0: its own) and function; whether it is ticked (it watches,
 * or has a clock of its own). */
int flow_watches(const struct fn_instance *fi);
int flow_ticks(const struct fn_instance *fi);
int flow_watch_fd(const struct fn_instance *fi);
int flow_watch_fid(const struct fn_instance *fi);

/* The number of function fi of f, an unsigned long long result: its
 * read_u64, or its first slot's total. */
int flow_read_number(struct flow *f, struct fn_instance *fi, uint64_t *val);

/* Total of a result slot over every store of the flow, from its backend
 * (of an attached flow: FLOW_SLOT_SEEN only). */
int flow_read_slot(const struct flow *f, uint32_t slot, uint64_t *val);

/* A result that is a struct (fn_desc.read), as read() makes it, or as
 * mapid reads it for an attached flow. */
int flow_read_struct(struct flow *f, struct fn_instance *fi, const void **out, size_t *size);

/* Its functions' names, comma-separated, cut to len. */
void flow_function_names(const struct flow *f, char *buf, size_t len);

/* Frees f, which no longer runs: its functions and its stores. */
void flow_free(struct flow *f);
void fn_instance_free(struct fn_instance *fi);

#endif
