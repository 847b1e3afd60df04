/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The mapid client: flows run in mapid's engine, beside every other
 * client's, and this process reads them itself.  mapi_connect sends the
 * flow (its device, direction, mode and functions with their arguments)
 * and gets back the descriptors of its result maps and ring buffers, which
 * it maps: reading a counter or a packet makes no request.  A thread of
 * the backend's watches the socket: when mapid goes, every flow of it
 * fails from then on with MAPI_ERR_DAEMON; readers waiting for packets
 * watch the socket too, and wake.
 */
#include "backend.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine.h"
#include "capture.h"
#include "error.h"
#include "functions.h"
#include "hashpath.h"
#include "log.h"
#include "proto.h"
#include "threads.h"

struct table_view;

struct mapid_client {
	int sock;
	struct table_view *views;	/* tables its conversation flows count in */
	uint32_t seq;
	int dead;		/* atomic: the socket hung up */
	int watching;
	pthread_t watcher;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int gone_error(const struct mapid_client *c)
{
	return err_set(-ECONNRESET, MAPI_ERR_DAEMON,
		       "mapid (%s) went away: the flows it ran have stopped", c->path);
}

/* A reply's status: 0, or mapid's error recorded as this call's. */
static int reply_status(struct mcur *cur)
{
	int32_t status = mcur_i32(cur), code = mcur_i32(cur);
	char msg[ERR_MSG_LEN];

	mcur_str(cur, msg, sizeof(msg));
	if (cur->err)
		return err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid sent a malformed reply");
	if (status >= 0)
		return 0;
	return err_set(status, code ? code : MAPI_ERR_DAEMON, "%s", msg);
}

/*
 * One request (req, freed) and its reply: 0 with the reply's body in *body
 * (to free) and *cur just past its status, which said yes; or the error,
 * mapid's or the socket's, with the reply and its descriptors gone.  But
 * -EMFILE when mapid said yes and this process could not take the
 * descriptors: the body is given, for the caller to undo what was done.
 */
static int call(struct mapid_client *c, uint16_t type, struct mbuf *req, uint8_t **body,
		struct mcur *cur, int *fds, int *nfds, int maxfds)
{
	struct mapid_hdr h;
	uint32_t seq = ++c->seq;
	int ret, dummy;

	*body = NULL;
	if (!nfds)
		nfds = &dummy;
	*nfds = 0;
	ret = __atomic_load_n(&c->dead, __ATOMIC_ACQUIRE) ? -ECONNRESET :
	      mapid_send(c->sock, type, seq, req, NULL, 0);
	mbuf_free(req);
	if (ret == -E2BIG)
		return err_set(ret, MAPI_ERR_LIMIT, "the flow is too large to send to mapid "
			       "(at most %d bytes)", MAPID_MSG_MAX);
	if (!ret)
		ret = mapid_recv(c->sock, &h, body, fds, nfds, maxfds);
	if ((!ret || ret == -EMFILE) && (h.type != (type | MAPID_REPLY) || h.seq != seq))
		ret = -EPROTO;
	if (!ret || ret == -EMFILE) {
		int cut = ret;

		*cur = (struct mcur){ *body, h.len, 0 };
		ret = reply_status(cur);
		if (!ret && !cut)
			return 0;
		if (!ret) {
			err_no_fds(cut, "taking the flow's maps from mapid");
			return cut;
		}
	} else if (ret == -ECONNRESET) {
		__atomic_store_n(&c->dead, 1, __ATOMIC_RELEASE);
		ret = gone_error(c);
	} else {
		ret = err_set(ret, MAPI_ERR_DAEMON, "talking to mapid (%s): %s", c->path,
			      strerror(-ret));
	}
	while (*nfds)
		close(fds[--*nfds]);
	free(*body);
	*body = NULL;
	return ret;
}

static void *watch(void *arg)
{
	struct backend *b = arg;
	struct mapid_client *c = b->ctx;
	struct pollfd p = { .fd = c->sock, .events = POLLRDHUP };

	/* replies are read by the calls; only the hang-up is ours */
	while (poll(&p, 1, -1) < 0 || !(p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)))
		;
	__atomic_store_n(&c->dead, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int mapid_open(struct backend *b, struct flow *f, const char *dev, int format)
{
	int ret = b->ops->check(b);

	(void)format;
	return ret ? ret : backend_open_device(f, dev);
}

/* The flow as mapid takes it: its functions and the arguments given. */
static int flow_spec(const struct flow *f, struct mapid_flow_spec *s)
{
	int i, j;

	memset(s, 0, sizeof(*s));
	if (f->nfns > MAPID_MAX_FNS)
		return err_set(-E2BIG, MAPI_ERR_LIMIT, "mapid runs flows of at most %d functions",
			       MAPID_MAX_FNS);
	s->client_fd = f->fd;
	snprintf(s->dev, sizeof(s->dev), "%s", f->dev);
	s->ifindex = f->ifindex;
	s->direction = f->direction;
	s->mode_req = f->mode_req;
	s->nfns = f->nfns;
	for (i = 0; i < f->nfns; i++) {
		const struct fn_instance *fi = f->fns[i];
		struct mapid_fn_spec *fn = &s->fns[i];

		snprintf(fn->name, sizeof(fn->name), "%s", fi->desc->name);
		/* what the application gave: a function's form is told by it */
		for (j = 0; j < fi->given && j < MAPID_MAX_ARGS; j++)
			fn->args[j] = fi->args[j];
		fn->nargs = j;
	}
	return 0;
}

static void close_fds(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

static int forget(struct mapid_client *c, uint32_t id)
{
	struct mbuf req = { 0 };
	struct mcur cur;
	uint8_t *body;
	int ret;

	mbuf_u32(&req, id);
	ret = call(c, MAPID_CLOSE, &req, &body, &cur, NULL, NULL, 0);
	if (!ret)
		free(body);
	return ret;
}

/* The interface tables conversation flows count in, mapped once each. */
struct table_view {
	uint32_t id;		/* the map's */
	struct hashpath *hp;
	int flows;
	struct table_view *next;
};

/* The view of table id; fd (the table, read-only) becomes its or is closed. */
static struct hashpath *view_get(struct mapid_client *c, uint32_t id, int fd)
{
	struct table_view *v;

	for (v = c->views; v && v->id != id; v = v->next)
		;
	if (v) {
		close(fd);
	} else {
		v = calloc(1, sizeof(*v));
		if (!v) {
			close(fd);
			return NULL;
		}
		if (hashpath_view(&v->hp, fd)) {
			free(v);
			return NULL;
		}
		v->id = id;
		v->next = c->views;
		c->views = v;
	}
	v->flows++;
	return v->hp;
}

static void view_put(struct mapid_client *c, const struct hashpath *hp)
{
	struct table_view **pp, *v;

	for (pp = &c->views; (v = *pp); pp = &v->next) {
		if (v->hp == hp) {
			if (--v->flows)
				return;
			*pp = v->next;
			hashpath_destroy(v->hp);
			free(v);
			return;
		}
	}
}

/*
 * The reply to a connect: the flow's id, modes and results, whether it is
 * a conversation lookup (and where it counts), then, per function, its
 * result slot and how many of its descriptors follow.  Each descriptor
 * becomes the flow's or is closed.
 */
static int adopt(struct mapid_client *c, struct flow *f, struct mcur *cur, int *fds, int nfds)
{
	uint32_t nslots, nlines, want, i, per[MAPID_MAX_FNS], idx, table;
	int32_t hashed, slot[MAPID_MAX_FNS];
	uint64_t base[2];
	int ret = 0, used;

	f->remote_id = mcur_u32(cur);
	f->mode_in = mcur_i32(cur);
	f->mode_out = mcur_i32(cur);
	nslots = mcur_u32(cur);
	nlines = mcur_u32(cur);
	hashed = mcur_i32(cur);
	idx = mcur_u32(cur);
	table = mcur_u32(cur);
	base[0] = mcur_u64(cur);
	base[1] = mcur_u64(cur);
	/* every count bounded before it is added: none can wrap the sum */
	if (nlines > STORE_MAX_LINES)
		ret = -EPROTO;
	want = (nlines & 0xff) + (hashed ? 1 : 0);
	for (i = 0; i < (uint32_t)f->nfns; i++) {
		slot[i] = mcur_i32(cur);
		per[i] = mcur_u32(cur);
		if (per[i] > MAPID_MAX_FDS)
			ret = -EPROTO;
		want += per[i] & 0xff;
		if (slot[i] < -1 || slot[i] >= (int32_t)(hashed ? STORE_LINE_SLOTS : nslots))
			ret = -EPROTO;
	}
	if (ret || cur->err || cur->left || nslots != f->nslots || want != (uint32_t)nfds ||
	    (hashed && (nlines || idx > HP_MAX_FLOWS))) {
		close_fds(fds, nfds);
		return err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid's reply does not describe flow "
			       "%d (%u results, %d descriptors)", f->fd, nslots, nfds);
	}
	used = (int)nlines;
	if (hashed) {
		/* no result maps of its own: its counters are in the table */
		f->hp_view = view_get(c, table, fds[0]);
		ret = f->hp_view ? 0 : err_set(-ENOMEM, MAPI_ERR_DAEMON,
					       "cannot map the interface's conversation counters");
		f->hashed = !ret;
		f->hash_idx = idx;
		f->seen_base[0] = base[0];
		f->seen_base[1] = base[1];
		used = 1;
	} else {
		ret = store_open_host(&f->host, nslots, fds, (int)nlines);
	}
	for (i = 0; i < (uint32_t)f->nfns; i++) {
		struct fn_instance *fi = f->fns[i];

		fi->slot = slot[i];
		if (!ret && per[i] && !fi->desc->adopt)
			ret = err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid passed descriptors for %s",
				      fi->desc->name);
		if (ret)
			close_fds(fds + used, (int)per[i]);
		else if (per[i])
			ret = fi->desc->adopt(fi, f, fds + used, (int)per[i]);
		/* a reader waiting for its packets wakes when mapid goes */
		if (!ret && capture_is_buffer(fi))
			ret = capture_watch(fi, c->sock, EPOLLRDHUP);
		used += (int)per[i];
	}
	if (ret) {
		flow_fns_disconnect(f);
		store_destroy(&f->host);
		if (f->hp_view)
			view_put(c, f->hp_view);
		f->hp_view = NULL;
		f->hashed = 0;
	}
	return ret;
}

static int mapid_connect(struct backend *b, struct flow *f)
{
	struct mapid_client *c = b->ctx;
	struct mapid_flow_spec spec;
	struct mbuf req = { 0 };
	int fds[MAPID_MAX_FDS], nfds = 0, ret;
	struct mcur cur;
	uint8_t *body;

	ret = flow_spec(f, &spec);
	if (ret)
		return ret;
	spec_encode(&req, &spec);
	ret = call(c, MAPID_CONNECT, &req, &body, &cur, fds, &nfds, MAPID_MAX_FDS);
	if (ret == -EMFILE) {
		/* connected in mapid, but its maps could not come: it goes */
		uint32_t id = mcur_u32(&cur);

		free(body);
		if (!cur.err)
			forget(c, id);
		return ret;
	}
	if (ret)
		return ret;
	ret = adopt(c, f, &cur, fds, nfds);
	if (ret)
		forget(c, f->remote_id);
	free(body);
	return ret;
}

static void mapid_close(struct backend *b, struct flow *f)
{
	struct mapid_client *c = b->ctx;

	if (f->attached)
		return;	/* a named flow is mapid's: it runs on */
	if (f->status == MAPI_FLOW_RUNNING && !f->detached &&
	    !__atomic_load_n(&c->dead, __ATOMIC_ACQUIRE)) {
		forget(c, f->remote_id);
		err_begin();	/* mapid closes a client's flows when it goes, anyway */
	}
	if (f->hp_view)
		view_put(c, f->hp_view);
	f->hp_view = NULL;
}

static int mapid_detach(struct backend *b, struct flow *f)
{
	struct mapid_client *c = b->ctx;

	/* (mapid gone: it closed its flows itself) */
	return __atomic_load_n(&c->dead, __ATOMIC_ACQUIRE) ? 0 : forget(c, f->remote_id);
}

static int mapid_stop(struct backend *b, struct flow *f)
{
	return backend_stop_frozen(f, mapid_detach);
}

static int mapid_read_slot(const struct flow *f, uint32_t slot, uint64_t *val)
{
	return f->hashed ? engine_read_hashed(f, slot, val) : store_read(&f->host, slot, val);
}

static int mapid_read_attached(const struct flow *f, int fid, int whole, void **data,
			       size_t *size)
{
	struct mapid_client *c = f->backend->ctx;
	struct mbuf req = { 0 };
	const void *p;
	struct mcur cur;
	uint8_t *body;
	size_t n;
	int ret;

	mbuf_u32(&req, f->remote_id);
	mbuf_u32(&req, (uint32_t)fid);
	mbuf_u32(&req, (uint32_t)whole);
	ret = call(c, MAPID_READ, &req, &body, &cur, NULL, NULL, 0);
	if (ret)
		return ret;
	p = mcur_bytes(&cur, &n);
	*data = p && !cur.left ? malloc(n ? n : 1) : NULL;
	if (*data)
		memcpy(*data, p, n);
	else
		ret = p && !cur.left ? -ENOMEM :
		      err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid sent a malformed result");
	*size = n;
	free(body);
	return ret;
}

static int mapid_check(const struct backend *b)
{
	const struct mapid_client *c = b->ctx;

	return __atomic_load_n(&c->dead, __ATOMIC_ACQUIRE) ? gone_error(c) : 0;
}

void backend_mapid_hang_up(struct backend *b)
{
	struct mapid_client *c = b->ctx;

	/* the watcher ends at the hang-up: shutting down makes one */
	shutdown(c->sock, SHUT_RDWR);
	if (c->watching)
		pthread_join(c->watcher, NULL);
	c->watching = 0;
	__atomic_store_n(&c->dead, 1, __ATOMIC_RELEASE);
}

static void mapid_destroy(struct backend *b)
{
	struct mapid_client *c = b->ctx;

	backend_mapid_hang_up(b);
	while (c->views) {
		struct table_view *v = c->views;

		c->views = v->next;
		hashpath_destroy(v->hp);
		free(v);
	}
	close(c->sock);
	free(c);
	free(b);
}

int backend_mapid_attach(struct backend *b, struct flow *f, const char *name)
{
	struct mapid_client *c = b->ctx;
	struct mbuf req = { 0 };
	struct mcur cur;
	uint8_t *body;
	uint32_t n, i;
	int ret;

	if (strlen(name) >= 64)
		return err_set(-ENAMETOOLONG, MAPI_INVALID_ARGUMENT + 1,
			       "a named flow's name has at most 63 bytes");
	mbuf_str(&req, name);
	ret = call(c, MAPID_ATTACH, &req, &body, &cur, NULL, NULL, 0);
	if (ret)
		return ret;
	f->remote_id = mcur_u32(&cur);
	mcur_str(&cur, f->dev, sizeof(f->dev));
	f->ifindex = mcur_i32(&cur);
	f->direction = mcur_i32(&cur);
	f->mode_in = mcur_i32(&cur);
	f->mode_out = mcur_i32(&cur);
	f->start_ns = mcur_u64(&cur);
	f->named.uid = (int)mcur_u32(&cur);
	f->named.pid = mcur_i32(&cur);
	snprintf(f->named.name, sizeof(f->named.name), "%s", name);
	n = mcur_u32(&cur);
	if (n > MAPID_MAX_FNS)
		cur.err = -EBADMSG;
	for (i = 0; !ret && !cur.err && i < n; i++) {
		char fname[MAPID_NAME_MAX];
		const struct fn_desc *d;
		struct fn_instance *fi;

		mcur_str(&cur, fname, sizeof(fname));
		d = cur.err ? NULL : fn_find(fname);
		fi = d ? calloc(1, sizeof(*fi)) : NULL;
		if (!fi) {
			ret = d ? -ENOMEM : err_set(-EPROTO, MAPI_ERR_DAEMON, "named flow \"%s\" "
						    "has a function this library lacks (%s): "
						    "mapid is another version", name, fname);
			break;
		}
		fi->desc = d;
		ret = flow_append(f, fi);
		if (ret < 0)
			fn_instance_free(fi);
		ret = ret < 0 ? ret : 0;
	}
	if (!ret && (cur.err || cur.left))
		ret = err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid sent a malformed named flow");
	free(body);
	if (ret)
		return ret;
	f->attached = 1;
	f->status = MAPI_FLOW_RUNNING;
	return 0;
}

int backend_mapid_next(struct backend *b, uint32_t after, mapi_flow_info_t *info)
{
	struct mapid_client *c = b->ctx;
	struct mapid_flow_entry e;
	struct mbuf req = { 0 };
	struct mcur cur;
	uint8_t *body;
	uint32_t n;
	int ret;

	mbuf_u32(&req, after);
	ret = call(c, MAPID_LIST, &req, &body, &cur, NULL, NULL, 0);
	if (ret)
		return ret;
	n = mcur_u32(&cur);
	if (n)
		entry_decode(&cur, &e);
	if (cur.err)
		ret = err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid sent a malformed listing");
	free(body);
	if (!ret && !n)
		ret = err_set(-ENOENT, MAPI_INVALID_FLOW, "mapid runs no flow after %u that this "
			      "process may see", after);
	if (ret)
		return ret;
	memset(info, 0, sizeof(*info));
	info->fd = (int)e.id;
	info->status = e.status == MAPI_FLOW_STOPPED ? MAPI_FLOW_STOPPED : MAPI_FLOW_RUNNING;
	snprintf(info->device, sizeof(info->device), "%s", e.dev);
	info->ifindex = (int)if_nametoindex(e.dev);
	info->num_functions = *e.functions ? 1 : 0;
	for (n = 0; e.functions[n]; n++)
		info->num_functions += e.functions[n] == ',';
	info->direction = e.direction;
	info->mode_in = e.mode_in;
	info->mode_out = e.mode_out;
	info->packets_seen = e.packets_seen;
	info->packets_dropped = e.packets_dropped;
	info->start = e.start;
	info->lookup = e.lookup;
	snprintf(info->backend, sizeof(info->backend), "mapid");
	info->owner_uid = (int)e.uid;
	info->owner_pid = (int)e.pid;
	snprintf(info->functions, sizeof(info->functions), "%s", e.functions);
	snprintf(info->name, sizeof(info->name), "%s", e.name);
	return 0;
}

static const struct backend_ops mapid_ops = {
	.name = "mapid",
	.live = 1,
	.open = mapid_open,
	.connect = mapid_connect,
	.close = mapid_close,
	.stop = mapid_stop,
	.read_slot = mapid_read_slot,
	.read_attached = mapid_read_attached,
	.check = mapid_check,
	.destroy = mapid_destroy,
};

/* The daemon's answer to HELLO: it must serve this network namespace. */
static int hello(struct mapid_client *c)
{
	struct mbuf req = { 0 };
	struct mcur cur;
	struct stat st;
	uint64_t netns;
	uint8_t *body;
	int ret;

	mbuf_u32(&req, MAPID_VERSION);
	ret = call(c, MAPID_HELLO, &req, &body, &cur, NULL, NULL, 0);
	if (ret)
		return ret;
	netns = mcur_u64(&cur);
	if (cur.err)
		ret = err_set(-EPROTO, MAPI_ERR_DAEMON, "mapid sent a malformed greeting");
	free(body);
	if (!ret && (stat("/proc/self/ns/net", &st) || (uint64_t)st.st_ino != netns))
		ret = err_set(-EXDEV, MAPI_ERR_DAEMON, "mapid (%s) serves another network "
			      "namespace than this process's", c->path);
	return ret;
}

int backend_mapid_new(struct backend **out, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mapid_client *c;
	struct backend *b;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(-ENAMETOOLONG, MAPI_ERR_DAEMON, "mapid socket path too long: %s",
			       path);
	b = calloc(1, sizeof(*b));
	c = calloc(1, sizeof(*c));
	if (!b || !c) {
		free(b);
		free(c);
		return -ENOMEM;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path));
	c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sock < 0 || connect(c->sock, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		if (c->sock >= 0)
			close(c->sock);
		free(b);
		free(c);
		return err_set(ret, MAPI_ERR_DAEMON, "mapid is not running at %s: %s", path,
			       strerror(-ret));
	}
	b->ops = &mapid_ops;
	b->ctx = c;
	ret = hello(c);
	if (!ret) {
		ret = -thread_start(&c->watcher, watch, b);
		if (ret)
			err_set(ret, MAPI_ERR_NOMEM, "cannot start a thread to watch mapid: %s",
				strerror(-ret));
		c->watching = !ret;
	}
	if (ret) {
		mapid_destroy(b);
		return ret;
	}
	*out = b;
	return 0;
}
