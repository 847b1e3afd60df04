/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's event loop and its clients.  One thread: a client's request is
 * read, checked and answered before the next event, so the engine needs no
 * lock.  Every message is bounded by proto.h's limits and every field
 * checked before use; a client that sends what the protocol does not allow
 * gets an error and nothing else changes; one that does not read its
 * replies, or goes, is dropped and its flows closed at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "capture.h"
#include "clock.h"
#include "engine.h"
#include "error.h"
#include "functions.h"
#include "linkwatch.h"
#include "log.h"
#include "mapid.h"
#include "server.h"

static gid_t group_id(const char *name)
{
	struct group *g = *name ? getgrnam(name) : NULL;

	return g ? g->gr_gid : (gid_t)-1;
}

/* Whether a peer with primary group gid and these groups is in group want. */
static int in_group(gid_t want, gid_t gid, const gid_t *groups, int n)
{
	int i;

	if (want == (gid_t)-1)
		return 0;
	if (gid == want)
		return 1;
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return 1;
	return 0;
}

/* --- Replies --------------------------------------------------------------- */

static void reply_head(struct mbuf *b, int status, int code, const char *msg)
{
	mbuf_i32(b, status);
	mbuf_i32(b, code);
	mbuf_str(b, msg ? msg : "");
}

/* Sends a reply; a client that cannot take it (it does not read) is
 * dropped by the caller. */
static int reply(struct client *c, const struct mapid_hdr *req, struct mbuf *b,
		 const int *fds, int nfds)
{
	int ret = mapid_send(c->sock, (uint16_t)(req->type | MAPID_REPLY), req->seq, b, fds,
			     nfds);

	mbuf_free(b);
	if (ret)
		log_info("client pid %d: reply not sent (%s): dropped", (int)c->pid,
			 strerror(-ret));
	return ret;
}

static int reply_error(struct client *c, const struct mapid_hdr *req, int err)
{
	struct mbuf b = { 0 };
	char msg[ERR_MSG_LEN] = "";
	int code = MAPI_ERR_INTERNAL;

	if (err_pending())
		err_pending_copy(&code, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "mapid: %s", strerror(-err));
	reply_head(&b, err, code, msg);
	return reply(c, req, &b, NULL, 0);
}

/* --- Flows ----------------------------------------------------------------- */

void server_stop(struct server *s, struct served *sv)
{
	struct served **pp;

	for (pp = &s->flows; *pp; pp = &(*pp)->next) {
		if (*pp == sv) {
			*pp = sv->next;
			break;
		}
	}
	s->engine->ops->close(s->engine, sv->f);
	linkwatch_put(sv->f->link);
	flow_free(sv->f);
	sv->owner->use->nflows--;
	sv->owner->use->ring_bytes -= sv->ring_bytes;
	free(sv);
	err_begin();
}

static struct served *find_flow(const struct server *s, uint32_t id)
{
	struct served *sv;

	for (sv = s->flows; sv; sv = sv->next)
		if ((uint32_t)sv->f->fd == id)
			return sv;
	return NULL;
}

/* The next flow id: positive, and none a running flow has (they wrap). */
static int flow_id(struct server *s)
{
	int id;

	do {
		id = s->next_id = s->next_id >= INT_MAX - 1 ? 1 : s->next_id + 1;
	} while (find_flow(s, (uint32_t)id));
	return id;
}

/* Into the list, in id order (listings page by id). */
void server_insert(struct server *s, struct served *sv)
{
	struct served **pp;

	for (pp = &s->flows; *pp && (*pp)->f->fd < sv->f->fd; pp = &(*pp)->next)
		;
	sv->next = *pp;
	*pp = sv;
}

int server_run_flow(struct server *s, struct flow *f)
{
	int ret;

	f->fd = flow_id(s);
	/* listening before the programs attach (`mapi flows` says which
	 * stopped); a client watches for its own reads */
	ret = linkwatch_get(f->ifindex, &f->link);
	if (!ret)
		ret = s->engine->ops->connect(s->engine, f);
	if (ret) {
		linkwatch_put(f->link);
		f->link = NULL;
		flow_free(f);
		return ret;
	}
	f->status = MAPI_FLOW_RUNNING;
	f->start_ns = realtime_ns();
	return 0;
}

static int refuse_payload(const struct server *s, const struct fn_desc *d)
{
	return err_set(-EPERM, MAPI_ERR_PERMISSION,
		       "%s shows packet payloads, which mapid lets only root and the members "
		       "of group \"%s\" read", d->name,
		       *s->cfg->payload_group ? s->cfg->payload_group : s->cfg->group);
}

/* The client's flow as the spec says, checked, built and running. */
static int flow_start(struct server *s, struct client *c, const struct mapid_flow_spec *sp,
		      struct served **out)
{
	struct served *sv;
	struct flow *f;
	int i, ret;

	if (!c->may_flow)
		return err_set(-EPERM, MAPI_ERR_PERMISSION,
			       "user %u may not create flows: mapid lets root and the members "
			       "of group \"%s\" do that", (unsigned int)c->uid, s->cfg->group);
	if (c->use->nflows >= s->cfg->max_flows)
		return err_set(-EMFILE, MAPI_ERR_LIMIT,
			       "user %u already has %u flows, mapid's limit a user (max_flows)",
			       (unsigned int)c->uid, c->use->nflows);
	/* mapid's clients read host maps: a NIC's counters would not reach them */
	if ((sp->mode_req & ~MAPI_MODE_REQUIRE) == MAPI_MODE_OFFLOAD)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE,
			       "mapid does not offload flows to a NIC: use MAPI_BACKEND=in-process "
			       "for that");
	sv = calloc(1, sizeof(*sv));
	f = flow_new("", s->engine);
	if (!sv || !f) {
		free(sv);
		flow_free(f);
		return -ENOMEM;
	}
	f->served = 1;
	/* a conversation lookup's client maps the interface's table, which
	 * the kernel lets a mapper write: only root's may (hashpath.h) */
	f->own_maps = c->uid != 0;
	ret = s->engine->ops->open(s->engine, f, sp->dev, 0);
	/* the interface the client opened, not another made since by its name */
	if (!ret && f->ifindex != sp->ifindex)
		ret = err_set(-ENODEV, MAPI_NO_SUCH_DEVICE,
			      "interface %s disappeared after the flow was created (the one of "
			      "that name now is another)", sp->dev);
	if (!ret)
		ret = flow_set_direction(f, sp->direction);
	if (!ret)
		ret = flow_set_mode(f, sp->mode_req);
	for (i = 0; !ret && i < sp->nfns; i++) {
		const struct fn_desc *d = fn_find(sp->fns[i].name);

		if (!d)
			ret = err_set(-ENOENT, MAPI_FUNCTION_NOT_FOUND,
				      "no function named \"%s\"", sp->fns[i].name);
		else if (d->payload && !c->may_payload)
			ret = refuse_payload(s, d);
		else
			ret = flow_apply(f, d, sp->fns[i].args, sp->fns[i].nargs);
		ret = ret < 0 ? ret : 0;
	}
	for (i = 0; !ret && i < f->nfns; i++)
		if (f->fns[i]->desc->ring_bytes)
			sv->ring_bytes += f->fns[i]->desc->ring_bytes(f->fns[i]);
	if (!ret && c->use->ring_bytes + sv->ring_bytes > s->cfg->max_ring_bytes)
		ret = err_set(-ENOSPC, MAPI_ERR_LIMIT,
			      "user %u's ring buffers would take %llu bytes, past mapid's limit "
			      "of %llu a user (max_ring_bytes)", (unsigned int)c->uid,
			      (unsigned long long)(c->use->ring_bytes + sv->ring_bytes),
			      (unsigned long long)s->cfg->max_ring_bytes);
	if (ret) {
		flow_free(f);
		free(sv);
		return ret;
	}
	ret = server_run_flow(s, f);
	if (ret) {
		free(sv);
		return ret;
	}
	sv->f = f;
	sv->owner = c;
	sv->client_fd = sp->client_fd;
	c->use->nflows++;
	c->use->ring_bytes += sv->ring_bytes;
	*out = sv;
	return 0;
}

/* The connect reply: the flow, and the descriptors the client maps.  0
 * once sent; 1 when an error was sent instead (the flow must go), negative
 * when nothing could be sent. */
static int connect_reply(struct client *c, const struct mapid_hdr *req, struct served *sv)
{
	const struct flow *f = sv->f;
	int fds[MAPID_MAX_FDS], nfds = 0, i, n, lookup_fd = -1;
	struct mbuf b = { 0 };
	uint32_t table = 0;

	/* a conversation flow counts in the interface's table: the client
	 * maps it read-only */
	if (f->hashed) {
		lookup_fd = engine_share_lookup(f, &table);
		if (lookup_fd < 0)
			return reply_error(c, req, lookup_fd) ? -EIO : 1;
	}
	reply_head(&b, 0, 0, NULL);
	mbuf_u32(&b, (uint32_t)f->fd);
	mbuf_i32(&b, f->mode_in);
	mbuf_i32(&b, f->mode_out);
	mbuf_u32(&b, f->nslots);
	mbuf_u32(&b, f->host.nlines);
	mbuf_i32(&b, f->hashed);
	mbuf_u32(&b, f->hash_idx);
	mbuf_u32(&b, table);
	mbuf_u64(&b, f->seen_base[0]);
	mbuf_u64(&b, f->seen_base[1]);
	for (i = 0; i < (int)f->host.nlines; i++)
		fds[nfds++] = f->host.lines[i].map_fd;
	if (lookup_fd >= 0)
		fds[nfds++] = lookup_fd;
	for (i = 0; i < f->nfns; i++) {
		const struct fn_instance *fi = f->fns[i];

		n = fi->desc->share ? fi->desc->share(fi, fds + nfds, MAPID_MAX_FDS - nfds) : 0;
		if (n < 0) {
			mbuf_free(&b);
			return reply_error(c, req, n) ? -EIO : 1;
		}
		mbuf_i32(&b, fi->slot);
		mbuf_u32(&b, (uint32_t)n);
		nfds += n;
	}
	return reply(c, req, &b, fds, nfds);
}

static int do_connect(struct server *s, struct client *c, const struct mapid_hdr *h,
		      struct mcur *cur)
{
	struct mapid_flow_spec spec;
	struct served *sv = NULL;
	char why[128];
	int ret;

	ret = spec_decode(cur, &spec, why, sizeof(why));
	if (ret)
		return reply_error(c, h, err_set(ret, MAPI_ERR_DAEMON, "mapid: %s", why));
	ret = flow_start(s, c, &spec, &sv);
	spec_free(&spec);
	if (ret)
		return reply_error(c, h, ret);
	server_insert(s, sv);
	log_info("flow %d of pid %d (uid %u) on %s: %d functions", sv->f->fd, (int)c->pid,
		 (unsigned int)c->uid, sv->f->dev, sv->f->nfns);
	ret = connect_reply(c, h, sv);
	if (ret)
		server_stop(s, sv);	/* the client never got it */
	return ret < 0 ? ret : 0;
}

static int do_close(struct server *s, struct client *c, const struct mapid_hdr *h,
		    struct mcur *cur)
{
	uint32_t id = mcur_u32(cur);
	struct served *sv = cur->err || cur->left ? NULL : find_flow(s, id);
	struct mbuf b = { 0 };

	if (!sv || (sv->owner != c && c->uid != 0))
		return reply_error(c, h, err_set(-ENOENT, MAPI_INVALID_FLOW,
						 "mapid runs no flow %u of this client", id));
	if (sv->named)
		return reply_error(c, h, err_set(-EPERM, MAPI_INVALID_FLOW,
						 "flow %u is \"%s\", a named flow of mapid's "
						 "configuration: it goes when the configuration loses "
						 "it (and mapid is sent SIGHUP)", id,
						 sv->named->spec.name));
	server_stop(s, sv);
	reply_head(&b, 0, 0, NULL);
	return reply(c, h, &b, NULL, 0);
}

/* Flows after an id: a client's own, every client's for root.  The reply
 * holds at most 256 (the client asks again after the last). */
static int do_list(struct server *s, struct client *c, const struct mapid_hdr *h,
		   struct mcur *cur)
{
	uint32_t after = mcur_u32(cur), n = 0;
	struct mbuf b = { 0 };
	struct served *sv;
	size_t count_at;

	if (cur->err || cur->left)
		return reply_error(c, h, err_set(-EBADMSG, MAPI_ERR_DAEMON,
						 "mapid: a malformed listing request"));
	reply_head(&b, 0, 0, NULL);
	count_at = b.len;
	mbuf_u32(&b, 0);	/* the count, written at the end */
	for (sv = s->flows; sv && n < 256; sv = sv->next) {
		struct mapid_flow_entry e = { 0 };
		const struct flow *f = sv->f;
		uint64_t v;
		int i;

		/* named flows are the machine's: whoever may create flows sees them */
		if ((uint32_t)f->fd <= after ||
		    (sv->owner != c && c->uid != 0 && !(sv->named && c->may_flow)))
			continue;
		e.id = (uint32_t)f->fd;
		e.uid = sv->owner->uid;
		e.pid = (uint32_t)sv->owner->pid;
		e.client_fd = sv->client_fd;
		snprintf(e.dev, sizeof(e.dev), "%s", f->dev);
		e.direction = f->direction;
		e.mode_in = f->mode_in;
		e.mode_out = f->mode_out;
		e.start = f->start_ns;
		e.lookup = f->hashed;
		e.status = f->link && linkwatch_gone(f->link) ? MAPI_FLOW_STOPPED :
							       MAPI_FLOW_RUNNING;
		if (!flow_read_slot(f, FLOW_SLOT_SEEN, &v))
			e.packets_seen = v;
		for (i = 0; i < f->nfns; i++) {
			struct capture_stats cs;

			if ((capture_is_buffer(f->fns[i]) || capture_is_file(f->fns[i])) &&
			    !capture_stats(f, f->fns[i], &cs))
				e.packets_dropped += cs.dropped;
		}
		flow_function_names(f, e.functions, sizeof(e.functions));
		if (sv->named)
			snprintf(e.name, sizeof(e.name), "%s", sv->named->spec.name);
		entry_encode(&b, &e);
		n++;
	}
	err_begin();
	if (!b.err)
		memcpy(b.data + count_at, &n, sizeof(n));
	return reply(c, h, &b, NULL, 0);
}

static struct named *named_find(const struct server *s, const char *name)
{
	struct named *n;

	for (n = s->named; n && strcmp(n->spec.name, name); n = n->next)
		;
	return n;
}

/* A named flow, for a client to read: what it is, and its functions. */
static int do_attach(struct server *s, struct client *c, const struct mapid_hdr *h,
		     struct mcur *cur)
{
	char name[NAMED_NAME_MAX];
	struct mbuf b = { 0 };
	const struct flow *f;
	struct named *n;
	int i;

	mcur_str(cur, name, sizeof(name));
	if (cur->err || cur->left)
		return reply_error(c, h, err_set(-EBADMSG, MAPI_ERR_DAEMON,
						 "mapid: a malformed attach request"));
	if (!c->may_flow)
		return reply_error(c, h, err_set(-EPERM, MAPI_ERR_PERMISSION,
						 "user %u may not read named flows: mapid lets root "
						 "and the members of group \"%s\" do that",
						 (unsigned int)c->uid, s->cfg->group));
	n = named_find(s, name);
	if (!n)
		return reply_error(c, h, err_set(-ENOENT, MAPI_INVALID_FLOW,
						 "mapid's configuration names no flow \"%s\" (mapi "
						 "flows lists them)", name));
	if (!n->sv)
		return reply_error(c, h, err_set(-ENODEV, MAPI_ERR_DAEMON,
						 "named flow \"%s\" does not run: %s", name, n->why));
	f = n->sv->f;
	reply_head(&b, 0, 0, NULL);
	mbuf_u32(&b, (uint32_t)f->fd);
	mbuf_str(&b, f->dev);
	mbuf_i32(&b, f->ifindex);
	mbuf_i32(&b, f->direction);
	mbuf_i32(&b, f->mode_in);
	mbuf_i32(&b, f->mode_out);
	mbuf_u64(&b, f->start_ns);
	mbuf_u32(&b, (uint32_t)n->sv->owner->uid);
	mbuf_i32(&b, (int32_t)n->sv->owner->pid);
	mbuf_u32(&b, (uint32_t)f->nfns);
	for (i = 0; i < f->nfns; i++)
		mbuf_str(&b, f->fns[i]->desc->name);
	return reply(c, h, &b, NULL, 0);
}

/* A result of a named flow's function, read by mapid (the client holds
 * nothing it could write): its number, or whole (fn_desc.read's struct);
 * fid 0: the packets the flow examined. */
static int do_read(struct server *s, struct client *c, const struct mapid_hdr *h,
		   struct mcur *cur)
{
	uint32_t id = mcur_u32(cur), fid = mcur_u32(cur), whole = mcur_u32(cur);
	struct served *sv = cur->err || cur->left || whole > 1 ? NULL : find_flow(s, id);
	const void *snap = NULL;
	struct mbuf b = { 0 };
	size_t size = 0;
	uint64_t v = 0;
	int ret;

	if (!sv || !sv->named || !c->may_flow)
		return reply_error(c, h, err_set(-ENOENT, MAPI_INVALID_FLOW,
						 "mapid runs no named flow %u (its interface may "
						 "have gone: it started again under another number)",
						 id));
	if (fid > (uint32_t)sv->f->nfns)
		return reply_error(c, h, err_set(-ENOENT, MAPI_FUNCTION_NOT_FOUND,
						 "named flow \"%s\" has no function %u",
						 sv->named->spec.name, fid));
	/* the endpoint reads the same functions' snapshots */
	pthread_mutex_lock(&sv->named->read_lock);
	if (!fid) {
		ret = flow_read_slot(sv->f, FLOW_SLOT_SEEN, &v);
	} else {
		struct fn_instance *fi = sv->f->fns[fid - 1];

		if (whole && fi->desc->read)
			ret = fi->desc->read(fi, sv->f, &snap, &size);
		else if (!whole && (fi->desc->slots || fi->desc->read_u64))
			ret = flow_read_number(sv->f, fi, &v);
		else
			ret = err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION,
				      "function %u of named flow \"%s\" (%s) has no result to read",
				      fid, sv->named->spec.name, fi->desc->name);
	}
	if (!ret) {
		reply_head(&b, 0, 0, NULL);
		if (snap)
			mbuf_bytes(&b, snap, size);
		else
			mbuf_bytes(&b, &v, sizeof(v));
	}
	pthread_mutex_unlock(&sv->named->read_lock);
	if (ret)
		return reply_error(c, h, ret);
	if (b.err || b.len > MAPID_MSG_MAX - sizeof(struct mapid_hdr)) {
		mbuf_free(&b);
		return reply_error(c, h, err_set(-E2BIG, MAPI_ERR_LIMIT,
						 "function %u of named flow \"%s\": its result is "
						 "larger than a message of mapid's (%d bytes)", fid,
						 sv->named->spec.name, MAPID_MSG_MAX));
	}
	return reply(c, h, &b, NULL, 0);
}

static int do_hello(struct client *c, const struct mapid_hdr *h, struct mcur *cur)
{
	uint32_t version = mcur_u32(cur);
	struct mbuf b = { 0 };
	struct stat st;

	if (cur->err || cur->left || version != MAPID_VERSION)
		return reply_error(c, h, err_set(-EPROTO, MAPI_ERR_DAEMON,
						 "mapid speaks protocol version %d", MAPID_VERSION));
	if (stat("/proc/self/ns/net", &st))
		st.st_ino = 0;
	reply_head(&b, 0, 0, NULL);
	mbuf_u64(&b, (uint64_t)st.st_ino);
	mbuf_u32(&b, (uint32_t)getpid());
	return reply(c, h, &b, NULL, 0);
}

/* One request: 0, or negative when the client is to be dropped. */
static int handle(struct server *s, struct client *c)
{
	struct mapid_hdr h;
	uint8_t *body = NULL;
	int fds[1], nfds, ret;
	struct mcur cur;

	err_begin();	/* this request's errors only */
	ret = mapid_recv(c->sock, &h, &body, fds, &nfds, 0);	/* no descriptors taken */
	if (ret == -EAGAIN)
		return 0;
	if (ret == -EBADMSG) {
		h = (struct mapid_hdr){ .type = 0 };
		return reply_error(c, &h, err_set(ret, MAPI_ERR_DAEMON,
						  "mapid: not a message of its protocol"));
	}
	if (ret)
		return ret;
	cur = (struct mcur){ body, h.len, 0 };
	switch (h.type) {
	case MAPID_HELLO: ret = do_hello(c, &h, &cur); break;
	case MAPID_CONNECT: ret = do_connect(s, c, &h, &cur); break;
	case MAPID_CLOSE: ret = do_close(s, c, &h, &cur); break;
	case MAPID_LIST: ret = do_list(s, c, &h, &cur); break;
	case MAPID_ATTACH: ret = do_attach(s, c, &h, &cur); break;
	case MAPID_READ: ret = do_read(s, c, &h, &cur); break;
	default:
		ret = reply_error(c, &h, err_set(-EPROTO, MAPI_ERR_DAEMON,
						 "mapid: no request of type %u", h.type));
	}
	free(body);
	return ret;
}

/* --- Clients --------------------------------------------------------------- */

/* The usage of uid's clients, made for its first. */
static struct usage *usage_get(struct server *s, uid_t uid)
{
	struct usage *u;

	for (u = s->users; u && u->uid != uid; u = u->next)
		;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return NULL;
		u->uid = uid;
		u->next = s->users;
		s->users = u;
	}
	u->clients++;
	return u;
}

static void usage_put(struct server *s, struct usage *u)
{
	struct usage **pp;

	if (--u->clients)
		return;
	for (pp = &s->users; *pp != u; pp = &(*pp)->next)
		;
	*pp = u->next;
	free(u);
}

static void client_drop(struct server *s, struct client *c)
{
	struct served *sv, *next;
	struct client **pp;
	unsigned int n = 0;

	for (sv = s->flows; sv; sv = next) {
		next = sv->next;
		if (sv->owner == c) {
			server_stop(s, sv);
			n++;
		}
	}
	for (pp = &s->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->nclients--;
	usage_put(s, c->use);
	if (n)
		log_info("pid %d went: its %u flows closed", (int)c->pid, n);
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->sock, NULL);
	close(c->sock);
	free(c);
}

static void client_accept(struct server *s, int listen_fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[MAX_GROUPS];
	socklen_t glen = sizeof(groups);
	struct epoll_event ev = { .events = EPOLLIN };
	struct client *c;
	int sock, ngroups;

	sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (sock < 0 && (errno == EMFILE || errno == ENFILE) && s->spare_fd >= 0) {
		/* out of descriptors: the waiting client would keep the socket
		 * readable for ever; take it with the spare one and let it go */
		close(s->spare_fd);
		sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (sock >= 0)
			close(sock);
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		log_warn("out of file descriptors: a client was refused");
		return;
	}
	if (sock < 0)
		return;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		close(sock);
		return;
	}
	ngroups = getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) ? 0 :
		  (int)(glen / sizeof(gid_t));
	c = calloc(1, sizeof(*c));
	if (c)
		c->use = usage_get(s, cred.uid);
	if (!c || !c->use || s->nclients >= MAX_CLIENTS ||
	    (cred.uid != 0 && c->use->clients > MAX_USER_CLIENTS)) {
		if (c && c->use) {
			log_warn("uid %u has %u connections (at most %d a user, %d in all): one "
				 "refused", (unsigned int)cred.uid, c->use->clients - 1,
				 MAX_USER_CLIENTS, MAX_CLIENTS);
			usage_put(s, c->use);
		}
		free(c);
		close(sock);
		return;
	}
	c->sock = sock;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->may_flow = cred.uid == 0 || in_group(s->gid, cred.gid, groups, ngroups);
	c->may_payload = cred.uid == 0 ||
			 (c->may_flow && (!*s->cfg->payload_group ||
					  in_group(s->payload_gid, cred.gid, groups, ngroups)));
	ev.data.ptr = c;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, sock, &ev)) {
		usage_put(s, c->use);
		close(sock);
		free(c);
		return;
	}
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
}

/* SIGHUP: the configuration read again.  One that does not read, or whose
 * named flows do not check, changes nothing. */
static void reload(struct server *s)
{
	struct mapid_config next;
	char why[512];
	int bad = 0;

	/* (a file that does not read is freed by config_read; one whose
	 * flows do not check, here) */
	if (config_read(&next, s->src, why, sizeof(why)))
		bad = 1;
	else if (named_check(&next, s->src->path ? s->src->path : "mapid", why, sizeof(why)))
		bad = 2;
	if (bad) {
		if (bad == 2)
			config_free(&next);
		log_warn("SIGHUP: %s: the configuration in use stays", why);
		return;
	}
	if (strcmp(next.socket, s->cfg->socket))
		log_warn("SIGHUP: socket %s: a restart takes it (mapid serves %s)", next.socket,
			 s->cfg->socket);
	snprintf(next.socket, sizeof(next.socket), "%s", s->cfg->socket);
	named_reconcile(s, &next);
	if (metrics_apply(s, &next, why, sizeof(why))) {
		/* the endpoint in use stays, and so do its settings: the next
		 * SIGHUP tries the new ones again */
		log_warn("SIGHUP: %s: metrics stay %s", why,
			 *s->cfg->metrics ? s->cfg->metrics : "off");
		memcpy(next.metrics, s->cfg->metrics, sizeof(next.metrics));
		memcpy(next.metrics_user, s->cfg->metrics_user, sizeof(next.metrics_user));
		memcpy(next.metrics_password, s->cfg->metrics_password,
		       sizeof(next.metrics_password));
	}
	config_free(s->cfg);
	*s->cfg = next;
	s->gid = group_id(s->cfg->group);
	s->payload_gid = group_id(s->cfg->payload_group);
	s->status_dirty = 1;
	log_info("SIGHUP: configuration read again: %d named flows", s->cfg->nflows);
}

int serve(const struct mapid_source *src, struct mapid_config *cfg, int listen_fd)
{
	struct server s = { .src = src, .cfg = cfg,
			    .spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC) };
	struct rlimit rl;
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t due = 0;
	sigset_t sigs;
	char why[512];
	int sfd = -1, ret = 0, stop = 0;

	/* every flow holds maps and programs: as many descriptors as allowed */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.status_lock, NULL);
	s.config_client = (struct client){ .sock = -1, .uid = 0, .pid = getpid(), .may_flow = 1,
					   .may_payload = 1, .use = &s.config_use };
	s.gid = group_id(cfg->group);
	s.payload_gid = group_id(cfg->payload_group);
	if (s.gid == (gid_t)-1)
		log_warn("there is no group \"%s\": only root may create flows", cfg->group);
	if (*cfg->payload_group && s.payload_gid == (gid_t)-1)
		log_warn("there is no group \"%s\": only root may read payloads",
			 cfg->payload_group);
	s.epoll_fd = -1;
	ret = backend_local_new(&s.engine);
	if (ret)
		goto out;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || s.epoll_fd < 0) {
		ret = -errno;
		goto out;
	}
	/* the endpoint's thread starts with every signal blocked (threads.h) */
	ret = metrics_apply(&s, cfg, why, sizeof(why));
	if (ret) {
		log_warn("%s", why);
		goto out;
	}
	named_reconcile(&s, cfg);
	ev.data.ptr = &listen_fd;
	epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
	ev.data.ptr = &sfd;
	epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, sfd, &ev);
	while (!stop) {
		struct epoll_event evs[32];
		uint64_t now, named_due;
		int timeout = -1, n, i;

		now = monotonic_ms();
		if (due)
			timeout = due > now ? (int)(due - now) : 0;
		n = epoll_wait(s.epoll_fd, evs, 32, timeout);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &listen_fd) {
				client_accept(&s, listen_fd);
			} else if (p == &sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
				    si.ssi_signo == SIGHUP)
					reload(&s);
				else
					stop = 1;
			} else {
				struct client *c = p;

				/* a client that hung up is read out first */
				if (handle(&s, c) || (evs[i].events & (EPOLLHUP | EPOLLERR) &&
						      !(evs[i].events & EPOLLIN)))
					client_drop(&s, c);
				s.status_dirty = 1;
			}
		}
		/* hooks left without flows detach once idle long enough */
		due = s.engine->ops->housekeep(s.engine, 0);
		named_due = named_housekeep(&s);
		if (named_due && (!due || named_due < due))
			due = named_due;
		/* the snapshot: every second, and soon after a change, but at
		 * most every STATUS_MIN_MS however busy the clients keep it */
		if (s.http) {
			uint64_t next;

			now = monotonic_ms();
			next = s.status_made + (s.status_dirty ? STATUS_MIN_MS : 1000);
			if (now >= next) {
				metrics_status(&s);
				s.status_dirty = 0;
				s.status_made = now;
				next = now + 1000;
			}
			if (!due || next < due)
				due = next;
		}
	}
out:
	metrics_stop(&s);
	named_stop_all(&s);
	while (s.clients)
		client_drop(&s, s.clients);
	backend_destroy(s.engine);
	if (sfd >= 0)
		close(sfd);
	if (s.epoll_fd >= 0)
		close(s.epoll_fd);
	if (s.spare_fd >= 0)
		close(s.spare_fd);
	pthread_mutex_destroy(&s.lock);
	pthread_mutex_destroy(&s.status_lock);
	return ret;
}
