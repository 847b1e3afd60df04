/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The protocol between libmapi-bpf and mapid (docs/mapid.md): messages on
 * a Unix SOCK_SEQPACKET socket, one request and one reply at a time, the
 * descriptors of a flow's maps passed with the reply (SCM_RIGHTS).
 *
 * A message is a header and a body of fields in host byte order (both ends
 * are on one machine): u32, i32, u64 and strings (a u32 length, then the
 * bytes, no NUL).  Every reply starts with a status (0, or a negative
 * errno), a MAPI error code and a message.  The decoder checks every
 * length against what is left and against the limits below: the daemon
 * reads whatever a client sends.
 */
#ifndef MAPI_PROTO_H
#define MAPI_PROTO_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "mapi.h"

#define MAPID_SOCKET_DEFAULT "/run/mapi/mapid.sock"
#define MAPID_MAGIC 0x4d415049u		/* "MAPI" */
#define MAPID_VERSION 3

/* Limits on what a message may hold. */
#define MAPID_MSG_MAX (128 * 1024)	/* bytes, header included */
#define MAPID_STR_MAX (64 * 1024)	/* a string argument (a filter) */
#define MAPID_MAX_FNS 64		/* functions a flow */
#define MAPID_MAX_ARGS 8		/* arguments a function */
#define MAPID_NAME_MAX 32		/* a function's name, NUL included */
#define MAPID_MAX_FDS 128		/* descriptors a reply passes */

enum mapid_type {
	MAPID_HELLO = 1,	/* -> u32 version; <- u64 netns inode, u32 pid */
	MAPID_CONNECT = 2,	/* -> flow spec; <- the flow, its descriptors */
	MAPID_CLOSE = 3,	/* -> u32 flow id; <- nothing */
	MAPID_LIST = 4,		/* -> u32 after this flow id; <- u32 n, n flows */
	MAPID_ATTACH = 5,	/* -> string name; <- a named flow (mapid(8)) */
	MAPID_READ = 6,		/* -> u32 flow id, fid, whole; <- bytes of its result */
	MAPID_REPLY = 0x8000,	/* a reply: the request's type | this */
};

struct mapid_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t seq;		/* a reply carries its request's */
	uint32_t len;		/* of the body */
};

/* A body being written; err is set (and stays) when it cannot grow. */
struct mbuf {
	uint8_t *data;
	size_t len, cap;
	int err;
};

/* A body being read; err is set (and stays) at the first bad field. */
struct mcur {
	const uint8_t *p;
	size_t left;
	int err;
};

void mbuf_u32(struct mbuf *b, uint32_t v);
void mbuf_i32(struct mbuf *b, int32_t v);
void mbuf_u64(struct mbuf *b, uint64_t v);
void mbuf_str(struct mbuf *b, const char *s);
/* Bytes, any: a u32 length, then them. */
void mbuf_bytes(struct mbuf *b, const void *p, size_t n);
void mbuf_free(struct mbuf *b);

uint32_t mcur_u32(struct mcur *c);
int32_t mcur_i32(struct mcur *c);
uint64_t mcur_u64(struct mcur *c);
/* A string of at most max - 1 bytes into buf (NUL-terminated); one with a
 * NUL inside is refused. */
void mcur_str(struct mcur *c, char *buf, size_t max);
/* The same, allocated (NULL on error). */
char *mcur_strdup(struct mcur *c, size_t max);
/* Bytes: where they are in the body, and *n of them (NULL on error). */
const void *mcur_bytes(struct mcur *c, size_t *n);

/* A flow as a client asks mapid to run it. */
struct mapid_fn_spec {
	char name[MAPID_NAME_MAX];
	int nargs;
	struct mapi_arg args[MAPID_MAX_ARGS];	/* strings allocated */
};

struct mapid_flow_spec {
	int32_t client_fd;	/* the client's descriptor, for listings */
	char dev[IF_NAMESIZE];
	int32_t ifindex;	/* the interface the client opened by that name */
	int32_t direction, mode_req;
	int nfns;
	struct mapid_fn_spec fns[MAPID_MAX_FNS];
};

void spec_encode(struct mbuf *b, const struct mapid_flow_spec *s);
/* 0, or -EBADMSG / -E2BIG (with a message) for what a client must not send. */
int spec_decode(struct mcur *c, struct mapid_flow_spec *s, char *why, size_t why_len);
void spec_free(struct mapid_flow_spec *s);

/* A running flow as mapid lists it. */
struct mapid_flow_entry {
	uint32_t id;
	uint32_t uid, pid;
	int32_t client_fd;
	char dev[IF_NAMESIZE];
	int32_t direction, mode_in, mode_out, lookup;
	int32_t status;		/* MAPI_FLOW_RUNNING or _STOPPED */
	uint64_t packets_seen, packets_dropped, start;
	char functions[256];	/* their names, comma-separated */
	char name[64];		/* a named flow of mapid's configuration; "" */
};

void entry_encode(struct mbuf *b, const struct mapid_flow_entry *e);
void entry_decode(struct mcur *c, struct mapid_flow_entry *e);

/*
 * One message on socket sock: its header, its body and up to MAPID_MAX_FDS
 * descriptors.  mapid_recv() takes at most maxfds descriptors, closing any
 * beyond (with maxfds 0 it takes none, and a message that carried some is
 * cut); it returns 0, -ECONNRESET when the peer has gone, or -EBADMSG for
 * a message that is not one (wrong magic, version or length, cut).  With
 * -EMFILE the message came whole but its descriptors could not all be
 * received here (none left): the body is given, without descriptors.
 * The body is allocated: free(*body).
 */
int mapid_send(int sock, uint16_t type, uint32_t seq, const struct mbuf *body,
	       const int *fds, int nfds);
int mapid_recv(int sock, struct mapid_hdr *h, uint8_t **body, int *fds, int *nfds, int maxfds);

#endif
