/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's state, shared by its parts: the event loop and its clients
 * (serve.c), the named flows of its configuration (named.c) and the
 * Prometheus endpoint (metrics.c), which reads on a thread of its own.
 *
 * One thread changes everything here.  The endpoint's thread reads only
 * the named flows and the status snapshot, each under a lock of its own:
 * the loop takes lock to put a built flow in or take one out (never while
 * it builds one, so a scrape never waits on a connect), status_lock to
 * swap the snapshot, and a named flow's read_lock to read it for a client.
 * The loop so waits for a whole scrape only when the named flows change.
 */
#ifndef MAPID_SERVER_H
#define MAPID_SERVER_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "mapid.h"

#define MAX_GROUPS 256
/* The status snapshot is made at most this often (ms). */
#define STATUS_MIN_MS 100
/* Connections at once: a user's (root's are not counted), and everyone's. */
#define MAX_USER_CLIENTS 64
#define MAX_CLIENTS 4096

struct flow;
struct fn_instance;
struct http_server;

/* What one user's clients hold together: the limits are a user's, so that
 * more connections buy no more. */
struct usage {
	uid_t uid;
	unsigned int clients;
	unsigned int nflows;
	uint64_t ring_bytes;
	struct usage *next;
};

struct client {
	int sock;			/* -1: mapid's configuration (named flows) */
	uid_t uid;
	pid_t pid;
	int may_flow, may_payload;	/* from its credentials, at connect */
	struct usage *use;		/* its user's */
	struct client *next;
};

/* A flow mapid runs: a client's, or a named one (named set). */
struct served {
	struct flow *f;
	struct client *owner;
	int client_fd;
	uint64_t ring_bytes;
	struct named *named;
	struct served *next;
};

/* A named flow: its spec, and its flow while it runs. */
struct named {
	struct named_spec spec;		/* its function texts owned */
	struct served *sv;		/* running; NULL: not, for why */
	/* held while its results are read: fn_desc.read keeps its snapshot in
	 * the function, and the endpoint and a client's READ both read */
	pthread_mutex_t read_lock;
	char why[256];
	uint64_t retry_ms;		/* when to try again (monotonic) */
	struct named *next;
};

/* What the endpoint says of mapid besides named flows: made by the loop
 * after each change and every second, read by the endpoint's thread. */
struct status_iface {
	char dev[16];
	int flows;
	int mode_in, mode_out;		/* of the flows on it: MAPI_MODE_* in use */
};

struct status_client {
	uid_t uid;
	pid_t pid;
	int flows;
};

struct status_ring {
	int id;
	uid_t uid;
	char dev[16];
	uint64_t dropped;
};

struct status {
	int nclients;
	int niface, nclient, nring;
	struct status_iface *iface;
	struct status_client *client;
	struct status_ring *ring;
};

struct server {
	const struct mapid_source *src;
	struct mapid_config *cfg;
	int spare_fd;			/* given up to refuse a client past the
					 * descriptor limit, then taken again */
	struct backend *engine;
	gid_t gid, payload_gid;		/* (gid_t)-1: no such group */
	int epoll_fd;
	struct client *clients;
	unsigned int nclients;
	struct usage *users;
	struct served *flows;		/* in id order */
	int next_id;
	/* the configuration's flows: owned by this client, which no socket has */
	struct client config_client;
	struct usage config_use;
	pthread_mutex_t lock;		/* of named: the list, each one's sv */
	struct named *named;
	pthread_mutex_t status_lock;
	struct status *status;
	int status_dirty;		/* a change since status_made (monotonic ms) */
	uint64_t status_made;
	struct http_server *http;
	uint64_t scrapes, scrape_errors;	/* under lock */
};

/* Builds nothing: gives f, opened and with its functions applied, an id
 * and its interface's watch, and connects it.  On failure f is freed. */
int server_run_flow(struct server *s, struct flow *f);
/* Into the server's flows (in id order), out of them and closed. */
void server_insert(struct server *s, struct served *sv);
void server_stop(struct server *s, struct served *sv);

/* Named flows (named.c): from cfg, at start and at each SIGHUP (those
 * whose interface, direction and functions are unchanged go on); tried
 * again, and stopped when their interface goes, by named_housekeep (the
 * next time it is due, monotonic ms); all stopped. */
void named_reconcile(struct server *s, const struct mapid_config *cfg);
uint64_t named_housekeep(struct server *s);
void named_stop_all(struct server *s);
/* Why fi may not be in a named flow (no one reads it, or it needs ticks),
 * or NULL. */
const char *named_refusal(const struct fn_instance *fi);

/* The endpoint (metrics.c): the one next's metrics settings name, in
 * place of the one running.  At another address it starts before the old
 * one stops, and the old one stays when it cannot start (0, or a negative
 * errno with why); at the same address only the credentials change.
 * Stopped with mapid; the snapshot of the rest, made by the loop. */
int metrics_apply(struct server *s, const struct mapid_config *next, char *why, size_t len);
void metrics_stop(struct server *s);
void metrics_status(struct server *s);

#endif
