/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's HTTP endpoint for Prometheus.  mapid runs as root and this port
 * may face a network, so every request is taken as hostile: the head is
 * bounded and read whole before anything is done with it, a body is never
 * read, each connection has a deadline, and one thread polls them all
 * without blocking, so that a client that sends nothing, or reads
 * nothing, costs a slot and not another client's scrape.  One request a
 * connection, closed after the answer: Prometheus asks for no more, and
 * there is then no framing to get wrong.
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "threads.h"

/* After the answer, what the client still sends is read and dropped for
 * this long: a close with unread bytes would reset the connection, and
 * the reset can overtake the answer on its way. */
#define LINGER_MS 1000
/* Empty lines taken before a request line (RFC 9112 2.2 asks for one). */
#define MAX_LEADING_EMPTY 4
/* A refused connection is logged at most this often. */
#define REFUSED_LOG_MS 60000

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define PROM_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define OPENMETRICS_TYPE "application/openmetrics-text"

/* --- The request parser ---------------------------------------------------- */

/* RFC 9110 5.6.2: the characters of a token (a method, a header's name). */
static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* What one head counts to refuse duplicates. */
struct head_seen {
	unsigned int hosts, lengths;
};

static int parse_version(const char *s, size_t n, struct http_request *req)
{
	if (n != 8 || memcmp(s, "HTTP/", 5) || s[5] < '0' || s[5] > '9' || s[6] != '.' ||
	    s[7] < '0' || s[7] > '9')
		return -EINVAL;
	if (s[5] != '1' || s[7] > '1')
		return -EPROTONOSUPPORT;
	req->minor = s[7] - '0';
	return 0;
}

/* Origin form ("/metrics?x"), absolute form ("http://host/metrics", which
 * RFC 9112 3.2.2 has servers take) or "*"; the path is kept to its '?'. */
static int parse_target(const char *s, size_t n, struct http_request *req)
{
	size_t i, end;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || s[i] == '#')
			return -EINVAL;
	if (n == 1 && s[0] == '*') {
		req->path[0] = '*';
		return 0;
	}
	if (s[0] != '/') {
		size_t skip = n >= 7 && !strncasecmp(s, "http://", 7) ? 7 :
			      n >= 8 && !strncasecmp(s, "https://", 8) ? 8 : 0;

		if (!skip)
			return -EINVAL;
		for (i = skip; i < n && s[i] != '/' && s[i] != '?'; i++)
			;
		if (i == skip)
			return -EINVAL;		/* no authority */
		if (i == n || s[i] == '?') {
			req->path[0] = '/';
			return 0;
		}
		s += i;
		n -= i;
	}
	for (end = 0; end < n && s[end] != '?'; end++)
		;
	if (end >= sizeof(req->path))
		return -ENAMETOOLONG;
	memcpy(req->path, s, end);
	return 0;
}

/* "METHOD SP TARGET SP HTTP/1.x", one space each (RFC 9112 3). */
static int parse_request_line(const char *s, size_t n, struct http_request *req)
{
	const char *sp1 = memchr(s, ' ', n), *target, *sp2;
	size_t i, mlen, rest;
	int ret;

	if (!sp1 || sp1 == s)
		return -EINVAL;
	mlen = (size_t)(sp1 - s);
	for (i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)s[i]))
			return -EINVAL;
	if (mlen == 3 && !memcmp(s, "GET", 3))
		req->method = HTTP_GET;
	else if (mlen == 4 && !memcmp(s, "HEAD", 4))
		req->method = HTTP_HEAD;
	target = sp1 + 1;
	rest = n - mlen - 1;
	sp2 = memchr(target, ' ', rest);
	if (!sp2 || sp2 == target)
		return -EINVAL;
	ret = parse_version(sp2 + 1, rest - (size_t)(sp2 - target) - 1, req);
	return ret ? ret : parse_target(target, (size_t)(sp2 - target), req);
}

/* q=0 says "not this one" (RFC 9110 12.4.2): 0, 0., 0.0, 0.00, 0.000. */
static int q_is_zero(const char *v, size_t n)
{
	size_t i;

	if (!n || v[0] != '0' || n > 5 || (n > 1 && v[1] != '.'))
		return 0;
	for (i = 2; i < n; i++)
		if (v[i] != '0')
			return 0;
	return 1;
}

/* i past a quoted string that starts at v[i] (its backslash escapes too). */
static size_t skip_quoted(const char *v, size_t n, size_t i)
{
	for (i++; i < n && v[i] != '"'; i++)
		if (v[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

/* Whether an Accept value lists OpenMetrics text, with any parameters, at
 * a q above 0.  What does not parse is skipped to its next ',': Accept
 * only ever chooses between two answers, both of them fine. */
static int accepts_openmetrics(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start;
		int match, refused = 0;

		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		for (start = i; i < n && (is_tchar((unsigned char)v[i]) || v[i] == '/'); i++)
			;
		match = i - start == strlen(OPENMETRICS_TYPE) &&
			!strncasecmp(v + start, OPENMETRICS_TYPE, i - start);
		for (;;) {
			size_t name, nlen, val;

			while (i < n && is_ows(v[i]))
				i++;
			if (i >= n || v[i] == ',')
				break;
			if (v[i] != ';') {
				/* not a media range: on to the next */
				while (i < n && v[i] != ',')
					i = v[i] == '"' ? skip_quoted(v, n, i) : i + 1;
				match = 0;
				break;
			}
			for (i++; i < n && is_ows(v[i]); i++)
				;
			for (name = i; i < n && is_tchar((unsigned char)v[i]); i++)
				;
			nlen = i - name;
			if (i >= n || v[i] != '=')
				continue;
			i++;
			if (i < n && v[i] == '"') {
				i = skip_quoted(v, n, i);
				continue;
			}
			for (val = i; i < n && is_tchar((unsigned char)v[i]); i++)
				;
			if (nlen == 1 && (v[name] == 'q' || v[name] == 'Q') &&
			    q_is_zero(v + val, i - val))
				refused = 1;
		}
		if (match && !refused)
			return 1;
	}
	return 0;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 4648 base64, its padding optional, into out[0..cap): the bytes, or
 * -1 (a character outside the alphabet, a length no encoding has, bits
 * left over that are not zero: only one spelling of each value). */
static int b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	if (n && !(n % 4) && s[n - 1] == '=') {
		n--;
		if (s[n - 1] == '=')
			n--;
	}
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		return -1;
	return (int)o;
}

/* "Basic" token68 (RFC 7617): "user:password", neither too long for the
 * request's arrays, no control characters, the user without ':'. */
static void parse_authorization(const char *v, size_t n, struct http_request *req)
{
	unsigned char dec[sizeof(req->user) + sizeof(req->password)];
	const unsigned char *colon;
	size_t i, ulen, plen;
	int dn;

	if (req->auth != HTTP_AUTH_NONE) {
		/* two of them: neither is believed */
		memset(req->user, 0, sizeof(req->user));
		memset(req->password, 0, sizeof(req->password));
		req->auth = HTTP_AUTH_BAD;
		return;
	}
	req->auth = HTTP_AUTH_BAD;
	if (n < 6 || strncasecmp(v, "basic", 5) || v[5] != ' ')
		return;
	for (i = 5; i < n && v[i] == ' '; i++)
		;
	dn = b64_decode(v + i, n - i, dec, sizeof(dec));
	if (dn < 0)
		return;
	for (i = 0; i < (size_t)dn; i++)
		if (dec[i] < ' ' || dec[i] == 0x7f)
			goto out;
	colon = memchr(dec, ':', (size_t)dn);
	if (!colon)
		goto out;
	ulen = (size_t)(colon - dec);
	plen = (size_t)dn - ulen - 1;
	if (ulen >= sizeof(req->user) || plen >= sizeof(req->password))
		goto out;
	memcpy(req->user, dec, ulen);
	memcpy(req->password, colon + 1, plen);
	req->auth = HTTP_AUTH_BASIC;
out:
	explicit_bzero(dec, sizeof(dec));
}

static int header_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && !strncasecmp(name, want, n);
}

/* "name: value" (RFC 9112 5): no space before the colon, no folded lines,
 * no control characters in the value. */
static int parse_header(const char *s, size_t n, struct http_request *req,
			struct head_seen *seen)
{
	const char *colon = memchr(s, ':', n), *v;
	size_t i, nlen, vlen;

	if (!colon || colon == s)
		return -EINVAL;
	nlen = (size_t)(colon - s);
	for (i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)s[i]))
			return -EINVAL;
	v = colon + 1;
	vlen = n - nlen - 1;
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < ' ' && c != '\t') || c == 0x7f)
			return -EINVAL;
	}
	while (vlen && is_ows(*v)) {
		v++;
		vlen--;
	}
	while (vlen && is_ows(v[vlen - 1]))
		vlen--;

	if (header_is(s, nlen, "host")) {
		if (++seen->hosts > 1)
			return -EINVAL;
	} else if (header_is(s, nlen, "accept")) {
		if (accepts_openmetrics(v, vlen))
			req->openmetrics = 1;
	} else if (header_is(s, nlen, "authorization")) {
		parse_authorization(v, vlen, req);
	} else if (header_is(s, nlen, "content-length")) {
		/* a second one, or a list, is how requests are smuggled */
		if (++seen->lengths > 1 || !vlen)
			return -EINVAL;
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -EINVAL;
			if (v[i] != '0')
				req->has_body = 1;
		}
	} else if (header_is(s, nlen, "transfer-encoding")) {
		req->has_body = 1;
	}
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req, size_t *used)
{
	size_t lim = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD, pos = 0;
	struct head_seen seen = { 0 };
	int have_line = 0, empty = 0, ret;

	memset(req, 0, sizeof(*req));
	*used = 0;
	if (!buf || !len)
		return 0;
	for (;;) {
		const char *line = buf + pos, *nl = memchr(line, '\n', lim - pos);
		size_t n;

		if (!nl)
			return len > HTTP_MAX_HEAD ? -EMSGSIZE : 0;
		n = (size_t)(nl - line);
		pos += n + 1;
		/* CRLF, or a bare LF (RFC 9112 2.2); a CR anywhere else is a
		 * control character, refused below */
		if (n && line[n - 1] == '\r')
			n--;
		if (!have_line) {
			if (!n) {
				if (++empty > MAX_LEADING_EMPTY)
					return -EINVAL;
				continue;
			}
			ret = parse_request_line(line, n, req);
			if (ret)
				return ret;
			have_line = 1;
			continue;
		}
		if (!n) {
			if (req->minor == 1 && !seen.hosts)
				return -EINVAL;		/* RFC 9112 3.2 */
			*used = pos;
			return 1;
		}
		ret = parse_header(line, n, req, &seen);
		if (ret)
			return ret;
	}
}

/* --- The server ------------------------------------------------------------ */

enum conn_state {
	C_FREE,
	C_READ,		/* the head, until whole */
	C_WRITE,	/* the answer */
	C_LINGER,	/* answered, our side shut: reading to the client's close */
};

struct conn {
	enum conn_state state;
	int fd;
	uint64_t deadline;	/* monotonic ms */
	size_t in_len;
	char in[HTTP_MAX_HEAD + 1];	/* one byte more: the head was too long */
	char out[1024];			/* status line, headers, a short body of ours */
	size_t out_len;
	char *body;			/* render's, or NULL */
	size_t body_len;
	size_t sent;			/* of out, then body */
};

struct http_server {
	int lfd, wake_fd;
	int port;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* "": TCP */
	dev_t unix_dev;
	ino_t unix_ino;
	/* NUL-padded to the end, so that comparing whole arrays compares the
	 * strings; under auth_lock (http_set_auth changes them) */
	pthread_mutex_t auth_lock;
	char user[sizeof(((struct http_config *)0)->user)];
	char password[sizeof(((struct http_config *)0)->password)];
	http_render_fn render;
	void *ctx;
	pthread_t thread;
	uint64_t accept_pause;	/* no accepting before (out of descriptors) */
	uint64_t refused_logged;
	unsigned long refused;
	unsigned int nconns;
	struct conn conns[HTTP_MAX_CONNS];
};

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* RFC 9110 5.6.7's IMF-fixdate; by hand, for strftime's names follow the locale. */
static void http_date(char *s, size_t n)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					     "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11) {
		snprintf(s, n, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(s, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The answer, queued: status line and headers (extra: more of them, each
 * ending in CRLF), then text (a short body of ours) or body (render's,
 * which the connection then owns).  head_only: HEAD's, the length still
 * that of the body not sent. */
static void answer(struct conn *c, int status, const char *extra, const char *type,
		   const char *text, char *body, size_t blen, int head_only)
{
	char date[64];
	int n;

	if (text)
		blen = strlen(text);
	http_date(date, sizeof(date));
	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n%s\r\n%s",
		     status, reason(status), date, type, blen, extra ? extra : "",
		     text && !head_only ? text : "");
	/* our own texts are short: never cut, but never past the array either */
	c->out_len = n < 0 ? 0 : (size_t)n < sizeof(c->out) ? (size_t)n : sizeof(c->out) - 1;
	if (head_only || !body) {
		free(body);
	} else {
		c->body = body;
		c->body_len = blen;
	}
	c->sent = 0;
	c->state = C_WRITE;
}

/* Both compared whole, always both: the time taken says nothing of where
 * a guess went wrong, nor of how long the secrets are. */
static int authorized(struct http_server *h, const struct http_request *req)
{
	volatile unsigned char d = 0;
	size_t i;

	pthread_mutex_lock(&h->auth_lock);
	for (i = 0; i < sizeof(h->user); i++)
		d |= (unsigned char)(h->user[i] ^ req->user[i]);
	for (i = 0; i < sizeof(h->password); i++)
		d |= (unsigned char)(h->password[i] ^ req->password[i]);
	pthread_mutex_unlock(&h->auth_lock);
	return req->auth == HTTP_AUTH_BASIC && !d;
}

static int auth_wanted(struct http_server *h)
{
	int wanted;

	pthread_mutex_lock(&h->auth_lock);
	wanted = h->user[0] != 0;
	pthread_mutex_unlock(&h->auth_lock);
	return wanted;
}

static void serve_request(struct http_server *h, struct conn *c, int ret,
			  const struct http_request *req)
{
	int head = ret == 1 && req->method == HTTP_HEAD;
	char *body = NULL;
	size_t blen = 0;

	if (ret < 0) {
		answer(c, ret == -EMSGSIZE ? 431 : ret == -ENAMETOOLONG ? 414 :
		       ret == -EPROTONOSUPPORT ? 505 : 400, NULL, TEXT_PLAIN,
		       ret == -EMSGSIZE ? "request head too long\n" :
		       ret == -ENAMETOOLONG ? "path too long\n" :
		       ret == -EPROTONOSUPPORT ? "HTTP/1.0 or HTTP/1.1 only\n" : "bad request\n",
		       NULL, 0, 0);
		return;
	}
	if (auth_wanted(h) && !authorized(h, req)) {
		answer(c, 401, "WWW-Authenticate: Basic realm=\"mapid\"\r\n", TEXT_PLAIN,
		       "authentication required\n", NULL, 0, head);
		return;
	}
	if (req->method == HTTP_OTHER) {
		answer(c, 405, "Allow: GET, HEAD\r\n", TEXT_PLAIN, "GET or HEAD only\n", NULL, 0,
		       0);
		return;
	}
	if (req->has_body) {
		answer(c, 400, NULL, TEXT_PLAIN, "a GET has no body\n", NULL, 0, head);
		return;
	}
	if (!strcmp(req->path, "/")) {
		answer(c, 200, NULL, TEXT_PLAIN, "mapid: metrics are at /metrics\n", NULL, 0, head);
		return;
	}
	if (strcmp(req->path, "/metrics")) {
		answer(c, 404, NULL, TEXT_PLAIN, "not found: metrics are at /metrics\n", NULL, 0,
		       head);
		return;
	}
	/* on failure render's *body is not looked at: it may not be ours */
	if (h->render(h->ctx, req->openmetrics, &body, &blen)) {
		answer(c, 500, NULL, TEXT_PLAIN, "the metrics could not be made\n", NULL, 0, head);
		return;
	}
	answer(c, 200, NULL, req->openmetrics ? OPENMETRICS : PROM_TEXT, NULL, body, blen, head);
}

static void conn_close(struct http_server *h, struct conn *c)
{
	close(c->fd);
	free(c->body);
	c->body = NULL;
	c->fd = -1;
	c->state = C_FREE;
	h->nconns--;
}

/* Until EOF, an error, or nothing more for now; the deadline ends it too.
 * A few reads an event: a client that keeps sending must not keep the
 * thread from the others. */
static void conn_linger(struct http_server *h, struct conn *c)
{
	int i;

	for (i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(h, c);
		return;
	}
}

static void conn_write(struct http_server *h, struct conn *c, uint64_t now)
{
	while (c->sent < c->out_len + c->body_len) {
		struct iovec iov[2];
		struct msghdr m = { .msg_iov = iov };
		ssize_t n;

		if (c->sent < c->out_len) {
			iov[0].iov_base = c->out + c->sent;
			iov[0].iov_len = c->out_len - c->sent;
			iov[1].iov_base = c->body;
			iov[1].iov_len = c->body_len;
			m.msg_iovlen = c->body_len ? 2 : 1;
		} else {
			iov[0].iov_base = c->body + (c->sent - c->out_len);
			iov[0].iov_len = c->body_len - (c->sent - c->out_len);
			m.msg_iovlen = 1;
		}
		n = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(h, c);
		return;
	}
	free(c->body);
	c->body = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	if (c->deadline > now + LINGER_MS)
		c->deadline = now + LINGER_MS;
	conn_linger(h, c);
}

/* Whether buf[from..to) ends a head: a blank line, after LF or CRLF.  The
 * head is parsed only then, so that a client sending a byte at a time
 * costs one parse, not one a byte. */
static int head_ends(const char *buf, size_t from, size_t to)
{
	size_t i;

	for (i = from ? from - 1 : 0; i < to; i++) {
		if (buf[i] != '\n')
			continue;
		if ((i >= 1 && buf[i - 1] == '\n') ||
		    (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))
			return 1;
	}
	return 0;
}

static void conn_read(struct http_server *h, struct conn *c, uint64_t now)
{
	struct http_request req;
	size_t used;
	int ret;

	for (;;) {
		size_t before = c->in_len;
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			conn_close(h, c);
			return;
		}
		if (n == 0) {
			/* the client has said all it will: a head cut short is
			 * answered if what came is already wrong */
			ret = http_parse_request(c->in, c->in_len, &req, &used);
			if (!ret) {
				conn_close(h, c);
				return;
			}
			break;
		}
		c->in_len += (size_t)n;
		if (c->in_len < sizeof(c->in) && !head_ends(c->in, before, c->in_len))
			continue;
		ret = http_parse_request(c->in, c->in_len, &req, &used);
		if (ret)
			break;
		if (c->in_len == sizeof(c->in)) {
			ret = -EMSGSIZE;	/* the parser says so first: kept safe */
			break;
		}
	}
	serve_request(h, c, ret, &req);
	/* the credentials are not kept past their use */
	explicit_bzero(&req, sizeof(req));
	explicit_bzero(c->in, c->in_len);
	conn_write(h, c, now);
}

static void conn_event(struct http_server *h, struct conn *c, uint64_t now)
{
	switch (c->state) {
	case C_READ: conn_read(h, c, now); break;
	case C_WRITE: conn_write(h, c, now); break;
	case C_LINGER: conn_linger(h, c); break;
	case C_FREE: break;
	}
}

/* One past the limit: told so in a line it may never read, and closed. */
static void refuse(struct http_server *h, int fd, uint64_t now)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Type: " TEXT_PLAIN "\r\nContent-Length: 5\r\n"
				   "Connection: close\r\nRetry-After: 1\r\n\r\nbusy\n";

	(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	h->refused++;
	if (!h->refused_logged || now - h->refused_logged >= REFUSED_LOG_MS) {
		log_warn("http: %lu connection(s) refused: %d already open", h->refused,
			 HTTP_MAX_CONNS);
		h->refused = 0;
		h->refused_logged = now;
	}
}

static void accept_all(struct http_server *h, uint64_t now)
{
	int i, fd;

	/* bounded: a flood of connections still lets the open ones on */
	for (i = 0; i < 4 * HTTP_MAX_CONNS; i++) {
		struct conn *c = NULL;
		int k;

		fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			/* out of descriptors, say: the listening socket stays
			 * readable, and polling it now would only spin */
			h->accept_pause = now + 100;
			return;
		}
		for (k = 0; k < HTTP_MAX_CONNS && !c; k++)
			if (h->conns[k].state == C_FREE)
				c = &h->conns[k];
		if (!c) {
			refuse(h, fd, now);
			continue;
		}
		c->fd = fd;
		c->state = C_READ;
		c->deadline = now + HTTP_DEADLINE_MS;
		c->in_len = 0;
		c->out_len = 0;
		c->body = NULL;
		c->body_len = 0;
		c->sent = 0;
		h->nconns++;
	}
}

static void *http_loop(void *arg)
{
	struct http_server *h = arg;
	struct pollfd pfd[HTTP_MAX_CONNS + 2];
	struct conn *which[HTTP_MAX_CONNS + 2];

	for (;;) {
		uint64_t now = monotonic_ms(), next = UINT64_MAX;
		int n = 0, i, timeout, listening;

		pfd[n++] = (struct pollfd){ .fd = h->wake_fd, .events = POLLIN };
		listening = now >= h->accept_pause;
		if (listening)
			pfd[n++] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
		else
			next = h->accept_pause;
		for (i = 0; i < HTTP_MAX_CONNS; i++) {
			struct conn *c = &h->conns[i];

			if (c->state == C_FREE)
				continue;
			if (c->deadline <= now) {
				conn_close(h, c);
				continue;
			}
			if (c->deadline < next)
				next = c->deadline;
			which[n] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd,
				.events = c->state == C_WRITE ? POLLOUT : POLLIN };
		}
		timeout = next == UINT64_MAX ? -1 : next - now > 60000 ? 60000 : (int)(next - now);
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			/* nothing else poll can say here is worth a retry loop */
			log_warn("http: poll: %s: no longer serving", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		now = monotonic_ms();
		/* the open ones first: one that just closed frees its slot for
		 * a connection waiting behind it */
		for (i = 1 + listening; i < n; i++)
			if (pfd[i].revents)
				conn_event(h, which[i], now);
		if (listening && pfd[1].revents)
			accept_all(h, now);
	}
	return NULL;
}

/* --- Listening ------------------------------------------------------------- */

/* Whether a path may be bound: nothing there, or a socket nobody answers
 * at (left by a process that died), which is removed.  Anything else is
 * someone's and stays. */
static int unix_claim(const struct sockaddr_un *sa, const char *addr, char *why, size_t len)
{
	struct stat st;
	int s, r, e;

	if (lstat(sa->sun_path, &st)) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		say(why, len, "http listen \"%s\": %s", addr, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		say(why, len, "http listen \"%s\": the path exists and is not a socket", addr);
		return -EEXIST;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		e = errno;
		say(why, len, "http listen \"%s\": %s", addr, strerror(e));
		return -e;
	}
	r = connect(s, (const struct sockaddr *)sa, sizeof(*sa));
	e = errno;
	close(s);
	if (r && e == ECONNREFUSED) {
		if (!unlink(sa->sun_path) || errno == ENOENT)
			return 0;
		e = errno;
		say(why, len, "http listen \"%s\": cannot remove the stale socket: %s", addr,
		    strerror(e));
		return -e;
	}
	if (!r || e == EAGAIN || e == EINPROGRESS || e == EPROTOTYPE) {
		say(why, len, "http listen \"%s\": another process listens there", addr);
		return -EADDRINUSE;
	}
	say(why, len, "http listen \"%s\": %s", addr, strerror(e));
	return -e;
}

static int listen_unix(struct http_server *h, const char *addr, const char *path, char *why,
		       size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int s, ret;

	memcpy(sa.sun_path, path, strlen(path));
	ret = unix_claim(&sa, addr, why, len);
	if (ret)
		return ret;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ret = -errno;
		say(why, len, "http listen \"%s\": %s", addr, strerror(-ret));
		return ret;
	}
	/* owner and group: the mode comes with bind, as mapid's own socket's
	 * (a chmod after it would follow whatever stands at the path by then) */
	old = umask(0117);
	ret = bind(s, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!ret && lstat(path, &st))
		ret = -errno;
	if (!ret && listen(s, 128)) {
		ret = -errno;
		unlink(path);
	}
	if (ret) {
		say(why, len, "http listen \"%s\": %s", addr, strerror(-ret));
		close(s);
		return ret;
	}
	memcpy(h->unix_path, path, strlen(path) + 1);
	h->unix_dev = st.st_dev;
	h->unix_ino = st.st_ino;
	h->lfd = s;
	h->port = 0;
	return 0;
}

static int port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

/* Binds the first of the addresses that takes it. */
static int listen_tcp(struct http_server *h, const char *addr, const char *host,
		      const char *port, int family, int numeric, char *why, size_t len)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0) };
	struct addrinfo *res, *ai;
	int ret = -EADDRNOTAVAIL, gai, one = 1;

	gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		ret = gai == EAI_SYSTEM ? -errno : numeric ? -EINVAL : -EADDRNOTAVAIL;
		say(why, len, "http listen \"%s\": %s %s", addr,
		    numeric ? "not an address:" : "cannot resolve it:",
		    gai == EAI_SYSTEM ? strerror(-ret) : gai_strerror(gai));
		return ret;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       ai->ai_protocol);

		if (s < 0) {
			ret = -errno;
			continue;
		}
		if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(s, ai->ai_addr, ai->ai_addrlen) || listen(s, 128) ||
		    getsockname(s, (struct sockaddr *)&ss, &sl)) {
			ret = -errno;
			close(s);
			continue;
		}
		h->lfd = s;
		h->port = port_of((struct sockaddr *)&ss);
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	say(why, len, "http listen \"%s\": %s", addr, strerror(-ret));
	return ret;
}

/* A listen address taken apart: a Unix socket's path, or a host and port. */
struct listen_addr {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* "": TCP */
	char host[sizeof(((struct http_config *)0)->listen)];
	char port[8];
	int family, numeric;
};

/* "HOST:PORT", "[IPV6]:PORT" or "unix:/PATH", each checked here so that
 * a mistake is named as one, not as whatever getaddrinfo makes of it. */
static int parse_listen(const char *addr, struct listen_addr *la, char *why, size_t len)
{
	static const char forms[] = "give HOST:PORT, [IPV6]:PORT or unix:/PATH";
	const char *colon, *p;
	unsigned long pn = 0;
	size_t hlen;

	memset(la, 0, sizeof(*la));
	la->family = AF_UNSPEC;
	if (strnlen(addr, sizeof(la->host)) == sizeof(la->host)) {
		say(why, len, "http listen: longer than %zu characters", sizeof(la->host) - 1);
		return -EINVAL;
	}
	if (!strncmp(addr, "unix:", 5)) {
		const char *path = addr + 5;

		if (path[0] != '/') {
			say(why, len, "http listen \"%s\": the socket's path must be absolute",
			    addr);
			return -EINVAL;
		}
		if (strlen(path) >= sizeof(la->path)) {
			say(why, len, "http listen \"%s\": longer than a socket path may be", addr);
			return -ENAMETOOLONG;
		}
		memcpy(la->path, path, strlen(path) + 1);
		return 0;
	}
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (!rb || rb[1] != ':') {
			say(why, len, "http listen \"%s\": %s", addr, forms);
			return -EINVAL;
		}
		hlen = (size_t)(rb - addr - 1);
		memcpy(la->host, addr + 1, hlen);
		colon = rb + 1;
		la->family = AF_INET6;
		la->numeric = 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon) {
			say(why, len, "http listen \"%s\": no port: %s", addr, forms);
			return -EINVAL;
		}
		hlen = (size_t)(colon - addr);
		memcpy(la->host, addr, hlen);
		if (memchr(la->host, ':', hlen)) {
			say(why, len, "http listen \"%s\": an IPv6 address goes in brackets, "
			    "as [::1]:9100", addr);
			return -EINVAL;
		}
	}
	la->host[hlen] = 0;
	if (!hlen) {
		say(why, len, "http listen \"%s\": no host (0.0.0.0 or [::] listens on every "
		    "address)", addr);
		return -EINVAL;
	}
	for (p = colon + 1; *p >= '0' && *p <= '9' && pn <= 65535; p++)
		pn = pn * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p || pn > 65535) {
		say(why, len, "http listen \"%s\": the port must be a number from 0 to 65535",
		    addr);
		return -EINVAL;
	}
	snprintf(la->port, sizeof(la->port), "%lu", pn);
	if (la->family == AF_INET6) {
		struct addrinfo hints = { .ai_family = AF_INET6, .ai_flags = AI_NUMERICHOST },
				*res;

		/* getaddrinfo, not inet_pton: it takes a scope, as fe80::1%eth0 */
		if (getaddrinfo(la->host, NULL, &hints, &res)) {
			say(why, len, "http listen \"%s\": %s is not an IPv6 address", addr,
			    la->host);
			return -EINVAL;
		}
		freeaddrinfo(res);
	} else if (strspn(la->host, "0123456789.") == hlen) {
		struct in_addr a;

		/* digits and dots mean an IPv4 address, and only the dotted
		 * quad: not inet_aton's "127.1" */
		if (inet_pton(AF_INET, la->host, &a) != 1) {
			say(why, len, "http listen \"%s\": %s is not an IPv4 address", addr,
			    la->host);
			return -EINVAL;
		}
		la->family = AF_INET;
		la->numeric = 1;
	}
	return 0;
}

int http_listen_check(const char *addr, char *why, size_t len)
{
	struct listen_addr la;

	if (why && len)
		why[0] = 0;
	return parse_listen(addr, &la, why, len);
}

static int listen_at(struct http_server *h, const char *addr, char *why, size_t len)
{
	struct listen_addr la;
	int ret = parse_listen(addr, &la, why, len);

	if (ret)
		return ret;
	if (la.path[0])
		return listen_unix(h, addr, la.path, why, len);
	return listen_tcp(h, addr, la.host, la.port, la.family, la.numeric, why, len);
}

static void copy_padded(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);

	memset(dst, 0, n);
	memcpy(dst, src, l);
}

int http_start(const struct http_config *cfg, http_render_fn render, void *ctx,
	       struct http_server **out, char *why, size_t len)
{
	char addr[sizeof(cfg->listen)];
	struct http_server *h;
	int ret, i;

	if (why && len)
		why[0] = 0;
	if (out)
		*out = NULL;
	if (!cfg || !render || !out) {
		say(why, len, "http: no configuration, render or handle");
		return -EINVAL;
	}
	memcpy(addr, cfg->listen, sizeof(addr));
	addr[sizeof(addr) - 1] = 0;
	if (strnlen(cfg->listen, sizeof(cfg->listen)) == sizeof(cfg->listen)) {
		say(why, len, "http listen: longer than %zu characters", sizeof(cfg->listen) - 1);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		say(why, len, "http: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	h->lfd = -1;
	pthread_mutex_init(&h->auth_lock, NULL);
	for (i = 0; i < HTTP_MAX_CONNS; i++)
		h->conns[i].fd = -1;
	copy_padded(h->user, sizeof(h->user), cfg->user);
	copy_padded(h->password, sizeof(h->password), cfg->password);
	h->render = render;
	h->ctx = ctx;
	h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->wake_fd < 0) {
		ret = -errno;
		say(why, len, "http: eventfd: %s", strerror(-ret));
		goto fail;
	}
	ret = listen_at(h, addr, why, len);
	if (ret)
		goto fail;
	ret = -thread_start(&h->thread, http_loop, h);
	if (ret) {
		say(why, len, "http: cannot start its thread: %s", strerror(-ret));
		goto fail;
	}
	*out = h;
	return 0;
fail:
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->unix_path[0])
		unlink(h->unix_path);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	explicit_bzero(h->password, sizeof(h->password));
	pthread_mutex_destroy(&h->auth_lock);
	free(h);
	return ret;
}

void http_set_auth(struct http_server *h, const char *user, const char *password)
{
	pthread_mutex_lock(&h->auth_lock);
	copy_padded(h->user, sizeof(h->user), user);
	copy_padded(h->password, sizeof(h->password), password);
	pthread_mutex_unlock(&h->auth_lock);
}

int http_port(const struct http_server *h)
{
	return h ? h->port : 0;
}

void http_stop(struct http_server *h)
{
	uint64_t one = 1;
	struct stat st;
	int i;

	if (!h)
		return;
	(void)!write(h->wake_fd, &one, sizeof(one));
	pthread_join(h->thread, NULL);
	for (i = 0; i < HTTP_MAX_CONNS; i++)
		if (h->conns[i].state != C_FREE)
			conn_close(h, &h->conns[i]);
	close(h->lfd);
	close(h->wake_fd);
	/* only the socket bound here: another may have taken the path since */
	if (h->unix_path[0] && !lstat(h->unix_path, &st) && S_ISSOCK(st.st_mode) &&
	    st.st_dev == h->unix_dev && st.st_ino == h->unix_ino)
		unlink(h->unix_path);
	explicit_bzero(h->password, sizeof(h->password));
	pthread_mutex_destroy(&h->auth_lock);
	free(h);
}
