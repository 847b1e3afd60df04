/* SPDX-License-Identifier: BSD-2-Clause */
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- Writing -------------------------------------------------------------- */

static void put(struct mbuf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > MAPID_MSG_MAX - sizeof(struct mapid_hdr)) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->err = -ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void mbuf_u32(struct mbuf *b, uint32_t v)
{
	put(b, &v, sizeof(v));
}

void mbuf_i32(struct mbuf *b, int32_t v)
{
	put(b, &v, sizeof(v));
}

void mbuf_u64(struct mbuf *b, uint64_t v)
{
	put(b, &v, sizeof(v));
}

void mbuf_str(struct mbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > MAPID_STR_MAX) {
		b->err = b->err ? b->err : -E2BIG;
		return;
	}
	mbuf_u32(b, (uint32_t)n);
	put(b, s, n);
}

void mbuf_bytes(struct mbuf *b, const void *p, size_t n)
{
	if (n > MAPID_MSG_MAX) {
		b->err = b->err ? b->err : -E2BIG;
		return;
	}
	mbuf_u32(b, (uint32_t)n);
	put(b, p, n);
}

void mbuf_free(struct mbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* --- Reading -------------------------------------------------------------- */

static const void *take(struct mcur *c, size_t n)
{
	const void *p = c->p;

	if (c->err || n > c->left) {
		c->err = -EBADMSG;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

uint32_t mcur_u32(struct mcur *c)
{
	const void *p = take(c, sizeof(uint32_t));
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

int32_t mcur_i32(struct mcur *c)
{
	return (int32_t)mcur_u32(c);
}

uint64_t mcur_u64(struct mcur *c)
{
	const void *p = take(c, sizeof(uint64_t));
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

/* The next string's bytes and length, if it is shorter than max. */
static const char *str_bytes(struct mcur *c, size_t max, uint32_t *n)
{
	const char *p;

	*n = mcur_u32(c);
	if (!c->err && *n >= max)
		c->err = -EBADMSG;
	p = take(c, c->err ? 0 : *n);
	if (p && memchr(p, 0, *n))
		c->err = -EBADMSG;
	return c->err ? NULL : p;
}

void mcur_str(struct mcur *c, char *buf, size_t max)
{
	uint32_t n;
	const char *p = str_bytes(c, max, &n);

	if (!p)
		n = 0;
	else
		memcpy(buf, p, n);
	buf[n] = 0;
}

char *mcur_strdup(struct mcur *c, size_t max)
{
	uint32_t n;
	const char *p = str_bytes(c, max, &n);
	char *s;

	if (!p)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s) {
		c->err = -ENOMEM;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

const void *mcur_bytes(struct mcur *c, size_t *n)
{
	uint32_t len = mcur_u32(c);
	const void *p = take(c, len);

	*n = p ? len : 0;
	return p;
}

/* --- Flow specs ----------------------------------------------------------- */

void spec_encode(struct mbuf *b, const struct mapid_flow_spec *s)
{
	int i, j;

	mbuf_i32(b, s->client_fd);
	mbuf_str(b, s->dev);
	mbuf_i32(b, s->ifindex);
	mbuf_i32(b, s->direction);
	mbuf_i32(b, s->mode_req);
	mbuf_u32(b, (uint32_t)s->nfns);
	for (i = 0; i < s->nfns; i++) {
		const struct mapid_fn_spec *fn = &s->fns[i];

		mbuf_str(b, fn->name);
		mbuf_u32(b, (uint32_t)fn->nargs);
		for (j = 0; j < fn->nargs; j++) {
			mbuf_u32(b, (uint32_t)fn->args[j].type);
			if (fn->args[j].type == MAPI_ARG_STR)
				mbuf_str(b, fn->args[j].v.s);
			else
				mbuf_u64(b, (uint64_t)fn->args[j].v.i);
		}
	}
}

static int refuse(char *why, size_t len, int err, const char *what)
{
	snprintf(why, len, "%s", what);
	return err;
}

int spec_decode(struct mcur *c, struct mapid_flow_spec *s, char *why, size_t why_len)
{
	uint32_t nfns;
	int i, j;

	memset(s, 0, sizeof(*s));
	s->client_fd = mcur_i32(c);
	mcur_str(c, s->dev, sizeof(s->dev));
	s->ifindex = mcur_i32(c);
	s->direction = mcur_i32(c);
	s->mode_req = mcur_i32(c);
	nfns = mcur_u32(c);
	if (c->err)
		return refuse(why, why_len, -EBADMSG, "a malformed flow (device name too long?)");
	if (nfns > MAPID_MAX_FNS)
		return refuse(why, why_len, -E2BIG, "more functions than a flow may hold");
	for (i = 0; i < (int)nfns; i++) {
		struct mapid_fn_spec *fn = &s->fns[i];
		uint32_t nargs;

		s->nfns = i + 1;	/* what spec_free() frees */
		mcur_str(c, fn->name, sizeof(fn->name));
		nargs = mcur_u32(c);
		if (c->err || nargs > MAPID_MAX_ARGS) {
			spec_free(s);
			return refuse(why, why_len, c->err ? -EBADMSG : -E2BIG,
				      "a malformed function, or one with too many arguments");
		}
		for (j = 0; j < (int)nargs; j++) {
			struct mapi_arg *a = &fn->args[j];
			uint32_t type = mcur_u32(c);

			fn->nargs = j + 1;
			if (type == MAPI_ARG_STR) {
				a->type = MAPI_ARG_STR;
				a->v.s = mcur_strdup(c, MAPID_STR_MAX + 1);
			} else if (type == MAPI_ARG_INT) {
				a->type = MAPI_ARG_INT;
				a->v.i = (long long)mcur_u64(c);
			} else {
				c->err = c->err ? c->err : -EBADMSG;
			}
			if (c->err) {
				spec_free(s);
				return refuse(why, why_len, -EBADMSG, "a malformed argument");
			}
		}
	}
	if (c->left) {
		spec_free(s);
		return refuse(why, why_len, -EBADMSG, "bytes after the flow");
	}
	return 0;
}

void spec_free(struct mapid_flow_spec *s)
{
	int i, j;

	for (i = 0; i < s->nfns; i++)
		for (j = 0; j < s->fns[i].nargs; j++)
			if (s->fns[i].args[j].type == MAPI_ARG_STR)
				free((char *)s->fns[i].args[j].v.s);
	s->nfns = 0;
}

/* --- Flow listings -------------------------------------------------------- */

void entry_encode(struct mbuf *b, const struct mapid_flow_entry *e)
{
	mbuf_u32(b, e->id);
	mbuf_u32(b, e->uid);
	mbuf_u32(b, e->pid);
	mbuf_i32(b, e->client_fd);
	mbuf_str(b, e->dev);
	mbuf_i32(b, e->direction);
	mbuf_i32(b, e->mode_in);
	mbuf_i32(b, e->mode_out);
	mbuf_i32(b, e->lookup);
	mbuf_i32(b, e->status);
	mbuf_u64(b, e->packets_seen);
	mbuf_u64(b, e->packets_dropped);
	mbuf_u64(b, e->start);
	mbuf_str(b, e->functions);
	mbuf_str(b, e->name);
}

void entry_decode(struct mcur *c, struct mapid_flow_entry *e)
{
	e->id = mcur_u32(c);
	e->uid = mcur_u32(c);
	e->pid = mcur_u32(c);
	e->client_fd = mcur_i32(c);
	mcur_str(c, e->dev, sizeof(e->dev));
	e->direction = mcur_i32(c);
	e->mode_in = mcur_i32(c);
	e->mode_out = mcur_i32(c);
	e->lookup = mcur_i32(c);
	e->status = mcur_i32(c);
	e->packets_seen = mcur_u64(c);
	e->packets_dropped = mcur_u64(c);
	e->start = mcur_u64(c);
	mcur_str(c, e->functions, sizeof(e->functions));
	mcur_str(c, e->name, sizeof(e->name));
}

/* --- The socket ----------------------------------------------------------- */

int mapid_send(int sock, uint16_t type, uint32_t seq, const struct mbuf *body,
	       const int *fds, int nfds)
{
	struct mapid_hdr h = { MAPID_MAGIC, MAPID_VERSION, type, seq, 0 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAPID_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 1 };
	ssize_t n;

	if (body && body->err)
		return body->err;
	if (nfds < 0 || nfds > MAPID_MAX_FDS)
		return -E2BIG;
	h.len = body ? (uint32_t)body->len : 0;
	iov[0] = (struct iovec){ &h, sizeof(h) };
	if (h.len) {
		iov[1] = (struct iovec){ body->data, body->len };
		msg.msg_iovlen = 2;
	}
	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EPIPE || errno == ECONNRESET ? -ECONNRESET : -errno;
	return (size_t)n == sizeof(h) + h.len ? 0 : -EIO;
}

int mapid_recv(int sock, struct mapid_hdr *h, uint8_t **body, int *fds, int *nfds, int maxfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAPID_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	uint8_t *buf = malloc(MAPID_MSG_MAX);
	struct iovec iov = { buf, MAPID_MSG_MAX };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int got = 0, all = 0, ret = 0;
	ssize_t n;

	*body = NULL;
	*nfds = 0;
	if (!buf)
		return -ENOMEM;
	/* Taking no descriptors, give the kernel no room for them: it drops
	 * what was sent without our closing it (a close could wait for ever
	 * on a file a hostile client chose, a FUSE one say). */
	if (maxfds > 0) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
	}
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		free(buf);
		return n == 0 || errno == ECONNRESET ? -ECONNRESET : -errno;
	}
	/* descriptors first: every one received is kept or closed */
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		int *p = (int *)CMSG_DATA(cm), k, cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		all += cnt;
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, p + k, sizeof(fd));
			if (got < maxfds)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	*nfds = got;
	/* Descriptors cut short with room left for them: the kernel could
	 * not install one here (no descriptor left), the message is whole. */
	if ((msg.msg_flags & MSG_CTRUNC) && maxfds > 0 && all < MAPID_MAX_FDS &&
	    !(msg.msg_flags & MSG_TRUNC))
		ret = -EMFILE;
	else if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(*h))
		ret = -EBADMSG;
	if (!ret || ret == -EMFILE) {
		memcpy(h, buf, sizeof(*h));
		if ((size_t)n < sizeof(*h) || h->magic != MAPID_MAGIC ||
		    h->version != MAPID_VERSION || h->len != (size_t)n - sizeof(*h))
			ret = -EBADMSG;
	}
	if (ret == -EMFILE) {
		/* the message, without its descriptors: its sender must hear */
		while (got--)
			close(fds[got]);
		*nfds = 0;
		memmove(buf, buf + sizeof(*h), h->len);
		*body = buf;
		return ret;
	}
	if (ret) {
		while (got--)
			close(fds[got]);
		*nfds = 0;
		free(buf);
		return ret;
	}
	memmove(buf, buf + sizeof(*h), h->len);
	*body = buf;
	return 0;
}
