/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's HTTP endpoint (user/mapid/http.c), as Prometheus and as a
 * hostile client see it: the parser over whole, split and malformed
 * heads; then a server on 127.0.0.1 and on a Unix socket, asked with
 * plain sockets, for what it answers and for what it refuses, and for
 * whether a client that sends nothing holds up anyone else.  Needs no
 * privileges; takes about ten seconds (two deadlines are waited out).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "http.h"

#define BODY "# TYPE mapi_test_total counter\nmapi_test_total 42\n"
#define OM_BODY "# TYPE mapi_test counter\nmapi_test_total 42\n# EOF\n"
#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define OM_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define PROMETHEUS_ACCEPT "application/openmetrics-text;version=1.0.0," \
	"application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"

struct render_ctx {
	int calls, openmetrics, fail;
};

static int render(void *arg, int openmetrics, char **body, size_t *len)
{
	struct render_ctx *r = arg;
	const char *text = openmetrics ? OM_BODY : BODY;

	__atomic_add_fetch(&r->calls, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&r->openmetrics, openmetrics, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->fail, __ATOMIC_SEQ_CST))
		return -EIO;
	*body = strdup(text);
	if (!*body)
		return -ENOMEM;
	*len = strlen(text);
	return 0;
}

/* --- The parser ------------------------------------------------------------- */

static int parse(const char *s, struct http_request *req)
{
	size_t used;

	return http_parse_request(s, strlen(s), req, &used);
}

static void test_parse_whole(void **state)
{
	const char *s = GET_METRICS;
	struct http_request req;
	size_t used;

	(void)state;
	assert_int_equal(http_parse_request(s, strlen(s), &req, &used), 1);
	assert_int_equal(used, strlen(s));
	assert_int_equal(req.method, HTTP_GET);
	assert_int_equal(req.minor, 1);
	assert_string_equal(req.path, "/metrics");
	assert_int_equal(req.openmetrics, 0);
	assert_int_equal(req.has_body, 0);
	assert_int_equal(req.auth, HTTP_AUTH_NONE);
}

/* Every prefix short of the blank line wants more; the whole is one
 * request; what follows it is not the head's. */
static void test_parse_split(void **state)
{
	const char *s = "GET /metrics?name=x HTTP/1.1\r\nHost: t\r\nAccept: " PROMETHEUS_ACCEPT
			"\r\n\r\nGET / HTTP/1.1\r\n";
	size_t head = strstr(s, "\r\n\r\n") - s + 4, k, used;
	struct http_request req;

	(void)state;
	for (k = 0; k < head; k++) {
		int ret = http_parse_request(s, k, &req, &used);

		if (ret)
			fail_msg("prefix of %zu bytes: %d, want 0", k, ret);
	}
	for (k = head; k <= strlen(s); k++) {
		assert_int_equal(http_parse_request(s, k, &req, &used), 1);
		assert_int_equal(used, head);
		assert_string_equal(req.path, "/metrics");
		assert_int_equal(req.openmetrics, 1);
	}
}

static void test_parse_bare_lf(void **state)
{
	const char *s = "HEAD / HTTP/1.0\nAccept: application/openmetrics-text\n\n";
	struct http_request req;
	size_t used;

	(void)state;
	assert_int_equal(http_parse_request(s, strlen(s), &req, &used), 1);
	assert_int_equal(used, strlen(s));
	assert_int_equal(req.method, HTTP_HEAD);
	assert_int_equal(req.minor, 0);	/* and 1.0 needs no Host */
	assert_string_equal(req.path, "/");
	assert_int_equal(req.openmetrics, 1);
	/* mixed, and an empty line or two before the request line */
	assert_int_equal(parse("\r\n\nGET /metrics HTTP/1.1\nhost: t\r\n\n", &req), 1);
	assert_int_equal(parse("\n\n\n\n\nGET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", &req),
			 -EINVAL);
}

static void test_parse_header_case(void **state)
{
	struct http_request req;

	(void)state;
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nhOsT: t\r\n"
			       "aCCEPT: APPLICATION/OpenMetrics-Text; Version=1.0.0\r\n"
			       "AUTHORIZATION: bAsIc dXNlcjpwYXNz\r\n"
			       "CONTENT-length: 0\r\n\r\n", &req), 1);
	assert_int_equal(req.openmetrics, 1);
	assert_int_equal(req.auth, HTTP_AUTH_BASIC);
	assert_string_equal(req.user, "user");
	assert_string_equal(req.password, "pass");
	assert_int_equal(req.has_body, 0);
	/* the method's case matters, the version's too */
	assert_int_equal(parse("get /metrics HTTP/1.1\r\nHost: t\r\n\r\n", &req), 1);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_int_equal(parse("GET /metrics http/1.1\r\nHost: t\r\n\r\n", &req), -EINVAL);
}

static void test_parse_fields(void **state)
{
	struct http_request req;

	(void)state;
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 12\r\n\r\n",
			       &req), 1);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_int_equal(req.has_body, 1);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: t\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n", &req), 1);
	assert_int_equal(req.has_body, 1);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 000\r\n\r\n",
			       &req), 1);
	assert_int_equal(req.has_body, 0);
	assert_int_equal(parse("GET http://example.org:9100/metrics?x HTTP/1.1\r\nHost: t\r\n\r\n",
			       &req), 1);
	assert_string_equal(req.path, "/metrics");
	assert_int_equal(parse("GET /a%20b?c=/metrics HTTP/1.1\r\nHost: t\r\n\r\n", &req), 1);
	assert_string_equal(req.path, "/a%20b");
	/* values trimmed, obs-text taken */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost:\t t \t\r\nX-A: caf\xc3\xa9\r\n\r\n", &req),
			 1);
}

static void test_parse_accept(void **state)
{
	static const struct {
		const char *accept;
		int openmetrics;
	} cases[] = {
		{ PROMETHEUS_ACCEPT, 1 },
		{ "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", 0 },
		{ "application/openmetrics-text;q=0", 0 },
		{ "application/openmetrics-text; q=0.000, text/plain", 0 },
		{ "application/openmetrics-text;q=0.001", 1 },
		{ "text/plain;x=\"a,application/openmetrics-text\"", 0 },
		{ "text/plain;x=\"a\\\"b\", application/openmetrics-text", 1 },
		{ "application/openmetrics-textual", 0 },
		{ "xapplication/openmetrics-text", 0 },
		{ ",,, application/openmetrics-text ,", 1 },
		{ "=;;\"\", application/openmetrics-text", 1 },
		{ "", 0 },
	};
	struct http_request req;
	char s[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(s, sizeof(s), "GET /metrics HTTP/1.1\r\nHost: t\r\nAccept: %s\r\n\r\n",
			 cases[i].accept);
		assert_int_equal(parse(s, &req), 1);
		if (req.openmetrics != cases[i].openmetrics)
			fail_msg("Accept: %s: openmetrics %d", cases[i].accept, req.openmetrics);
	}
	/* a second Accept counts too */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: t\r\nAccept: text/plain\r\n"
			       "Accept: application/openmetrics-text\r\n\r\n", &req), 1);
	assert_int_equal(req.openmetrics, 1);
}

static void test_parse_authorization(void **state)
{
	static const struct {
		const char *value;
		enum http_auth auth;
		const char *user, *password;
	} cases[] = {
		{ "Basic dXNlcjpwYXNz", HTTP_AUTH_BASIC, "user", "pass" }, /* user:pass */
		{ "Basic   dXNlcjpwYTpzcw==", HTTP_AUTH_BASIC, "user", "pa:ss" }, /* user:pa:ss */
		{ "Basic dXNlcjpwYXM=", HTTP_AUTH_BASIC, "user", "pas" },
		{ "Basic dXNlcjpwYXM", HTTP_AUTH_BASIC, "user", "pas" }, /* unpadded */
		{ "Basic OnBhc3M=", HTTP_AUTH_BASIC, "", "pass" }, /* :pass */
		{ "Basic dXNlcjo=", HTTP_AUTH_BASIC, "user", "" }, /* user: */
		{ "Basic dXNlcnBhc3M=", HTTP_AUTH_BAD, "", "" }, /* no colon */
		{ "Basic dXNlcjpwYXNz=", HTTP_AUTH_BAD, "", "" }, /* bad padding */
		{ "Basic dXNlcjpwYXN=", HTTP_AUTH_BAD, "", "" }, /* bits left */
		{ "Basic dXN*cjpwYXNz", HTTP_AUTH_BAD, "", "" },
		{ "Basic dXNlcjpwYXNzAA==", HTTP_AUTH_BAD, "", "" }, /* a NUL */
		{ "Basic", HTTP_AUTH_BAD, "", "" },
		{ "Basic ", HTTP_AUTH_BAD, "", "" },
		{ "Bearer dXNlcjpwYXNz", HTTP_AUTH_BAD, "", "" },
		{ "Basicx dXNlcjpwYXNz", HTTP_AUTH_BAD, "", "" },
	};
	struct http_request req;
	char s[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: t\r\nAuthorization: %s\r\n\r\n",
			 cases[i].value);
		assert_int_equal(parse(s, &req), 1);
		if (req.auth != cases[i].auth || strcmp(req.user, cases[i].user) ||
		    strcmp(req.password, cases[i].password))
			fail_msg("Authorization: %s: %d \"%s\" \"%s\"", cases[i].value, req.auth,
				 req.user, req.password);
	}
	/* two: neither believed */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: t\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
			       "Authorization: Basic dXNlcjpwYXNz\r\n\r\n", &req), 1);
	assert_int_equal(req.auth, HTTP_AUTH_BAD);
	assert_string_equal(req.user, "");
	/* as long as the arrays take, and one more: bad, not cut */
	{
		static const struct {
			const char *first, *each, *last;
			int times;
			enum http_auth auth;
		} sizes[] = {
			{ "dTp4", "eHh4", "", 42, HTTP_AUTH_BASIC },	/* "u:", 127 x */
			{ "dTp4", "eHh4", "", 43, HTTP_AUTH_BAD },	/* "u:", 130 x */
			{ "dXV1", "dXV1", "Onh4", 20, HTTP_AUTH_BASIC },	/* 63 u, ":xx" */
			{ "dXV1", "dXV1", "Onh4", 21, HTTP_AUTH_BAD },	/* 66 u, ":xx" */
			{ "dXV1", "dXV1", "Onh4", 90, HTTP_AUTH_BAD },	/* past both */
		};
		char b64[400];

		for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
			size_t n = strlen(sizes[i].first);
			int k;

			memcpy(b64, sizes[i].first, n);
			for (k = 0; k < sizes[i].times; k++, n += 4)
				memcpy(b64 + n, sizes[i].each, 4);
			memcpy(b64 + n, sizes[i].last, strlen(sizes[i].last) + 1);
			n += strlen(sizes[i].last);
			snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: t\r\n"
				 "Authorization: Basic %s\r\n\r\n", b64);
			assert_int_equal(parse(s, &req), 1);
			if (req.auth != sizes[i].auth)
				fail_msg("credentials of %zu bytes: %d", n / 4 * 3, req.auth);
			if (req.auth == HTTP_AUTH_BASIC)
				assert_int_equal(strlen(req.user) + strlen(req.password),
						 (size_t)(n / 4 * 3 - 1));
		}
	}
}

static void test_parse_malformed(void **state)
{
	static const struct {
		const char *req;
		int ret;
	} cases[] = {
		{ "garbage\r\n\r\n", -EINVAL },
		{ "GET\r\n\r\n", -EINVAL },
		{ "GET /\r\n\r\n", -EINVAL },			/* HTTP/0.9 */
		{ "GET  /metrics HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "GET /metrics  HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1 \r\nHost: t\r\n\r\n", -EINVAL },
		{ " GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "GET metrics HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "GET /me#trics HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "GET /m\x7f HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "G(T /metrics HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/2.0\r\nHost: t\r\n\r\n", -EPROTONOSUPPORT },
		{ "GET /metrics HTTP/1.2\r\nHost: t\r\n\r\n", -EPROTONOSUPPORT },
		{ "GET /metrics HTTP/0.9\r\n\r\n", -EPROTONOSUPPORT },
		{ "GET /metrics HTTP/1.1\r\n\r\n", -EINVAL },			/* no Host */
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost : t\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\n: t\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost: t\rx\r\n\r\n", -EINVAL },	/* bare CR */
		{ "GET /metrics HTTP/1.1\r\nHost: t\r\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost: \x01\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
		  "Content-Length: 1\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", -EINVAL },
		{ "GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\n", -EINVAL },
		{ "GET http:///metrics HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
		{ "GET ftp://h/metrics HTTP/1.1\r\nHost: t\r\n\r\n", -EINVAL },
	};
	static const char nul[] = "GET /metrics HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	struct http_request req;
	char s[HTTP_MAX_HEAD + 64];
	size_t i, used, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int ret = parse(cases[i].req, &req);

		if (ret != cases[i].ret)
			fail_msg("%s: %d, want %d", cases[i].req, ret, cases[i].ret);
	}
	assert_int_equal(http_parse_request(nul, sizeof(nul) - 1, &req, &used), -EINVAL);

	/* a path of HTTP_MAX_PATH - 1 bytes is taken, one more is not */
	n = (size_t)snprintf(s, sizeof(s), "GET /");
	memset(s + n, 'p', HTTP_MAX_PATH - 2);
	snprintf(s + n + HTTP_MAX_PATH - 2, sizeof(s) - n - HTTP_MAX_PATH + 2,
		 "?q HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(parse(s, &req), 1);
	assert_int_equal(strlen(req.path), HTTP_MAX_PATH - 1);
	memset(s + n, 'p', HTTP_MAX_PATH - 1);
	snprintf(s + n + HTTP_MAX_PATH - 1, sizeof(s) - n - HTTP_MAX_PATH + 1,
		 " HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(parse(s, &req), -ENAMETOOLONG);

	/* a head of exactly HTTP_MAX_HEAD bytes is taken; past it, refused
	 * as soon as the byte past it is in, and before */
	n = (size_t)snprintf(s, sizeof(s), "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Pad: ");
	memset(s + n, 'a', HTTP_MAX_HEAD - n - 4);
	memcpy(s + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	assert_int_equal(http_parse_request(s, HTTP_MAX_HEAD, &req, &used), 1);
	assert_int_equal(used, HTTP_MAX_HEAD);
	memcpy(s + HTTP_MAX_HEAD - 4, "aa\r\n\r\n", 6);
	assert_int_equal(http_parse_request(s, HTTP_MAX_HEAD, &req, &used), 0);
	assert_int_equal(http_parse_request(s, HTTP_MAX_HEAD + 1, &req, &used), -EMSGSIZE);
	assert_int_equal(http_parse_request(s, HTTP_MAX_HEAD + 2, &req, &used), -EMSGSIZE);
}

/* --- The server ------------------------------------------------------------- */

static struct render_ctx rctx;
static struct http_server *srv;
static int srv_port;

struct reply {
	char *raw;		/* all that came, NUL-ended */
	size_t len;
	int status;
	const char *body;	/* after the blank line */
	size_t body_len;
};

static void reply_free(struct reply *r)
{
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

static void set_timeout(int s, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
}

static int connect_tcp(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	set_timeout(s, 10000);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		fail_msg("connect to port %d: %s", port, strerror(errno));
	return s;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	set_timeout(s, 10000);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		fail_msg("connect to %s: %s", path, strerror(errno));
	return s;
}

static void send_all(int s, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(s, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			fail_msg("send: %s", w ? strerror(errno) : "nothing sent");
		p += w;
		n -= (size_t)w;
	}
}

/* All the server sends, to its close: 0, or -errno (a reset, the timeout). */
static int read_reply(int s, struct reply *r)
{
	size_t cap = 4096;
	char *head;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->raw = malloc(cap);
	assert_non_null(r->raw);
	for (;;) {
		ssize_t n;

		if (r->len + 1 == cap) {
			cap *= 2;
			r->raw = realloc(r->raw, cap);
			assert_non_null(r->raw);
		}
		n = recv(s, r->raw + r->len, cap - 1 - r->len, 0);
		if (n > 0) {
			r->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		ret = n ? -errno : 0;
		break;
	}
	r->raw[r->len] = 0;
	if (sscanf(r->raw, "HTTP/1.1 %d ", &r->status) != 1)
		r->status = 0;
	head = strstr(r->raw, "\r\n\r\n");
	if (head) {
		r->body = head + 4;
		r->body_len = r->len - (size_t)(r->body - r->raw);
	}
	return ret;
}

/* A header's value, or NULL: the head is ours, so a plain search will do. */
static const char *header(const struct reply *r, const char *name, char *out, size_t n)
{
	const char *p = r->raw, *end = r->body ? r->body : r->raw + r->len;
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n")) && p < end) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)(e - v), v);
			return out;
		}
	}
	return NULL;
}

static void ask_at(int s, const char *req, size_t len, struct reply *r)
{
	int ret;

	send_all(s, req, len);
	ret = read_reply(s, r);
	close(s);
	if (ret)
		fail_msg("reading the reply: %s", strerror(-ret));
}

static void ask(int port, const char *req, struct reply *r)
{
	ask_at(connect_tcp(port), req, strlen(req), r);
}

static void expect_status(const struct reply *r, int status)
{
	char v[64];

	if (r->status != status)
		fail_msg("want %d, got: %s", status, r->raw);
	if (!header(r, "Connection", v, sizeof(v)) || strcmp(v, "close"))
		fail_msg("no Connection: close in %s", r->raw);
	if (!header(r, "Content-Length", v, sizeof(v)))
		fail_msg("no Content-Length in %s", r->raw);
}

static void expect_body(const struct reply *r, const char *type, const char *body)
{
	char v[128];

	assert_non_null(r->body);
	assert_non_null(header(r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, type);
	assert_non_null(header(r, "Content-Length", v, sizeof(v)));
	assert_int_equal(strtoul(v, NULL, 10), strlen(body));
	assert_int_equal(r->body_len, strlen(body));
	assert_memory_equal(r->body, body, strlen(body));
}

static int start(const char *listen, const char *user, const char *password,
		 struct http_server **h)
{
	struct http_config cfg = { 0 };
	char why[256];
	int ret;

	snprintf(cfg.listen, sizeof(cfg.listen), "%s", listen);
	snprintf(cfg.user, sizeof(cfg.user), "%s", user);
	snprintf(cfg.password, sizeof(cfg.password), "%s", password);
	ret = http_start(&cfg, render, &rctx, h, why, sizeof(why));
	if (ret)
		fail_msg("http_start(%s): %d: %s", listen, ret, why);
	return http_port(*h);
}

static int setup(void **state)
{
	(void)state;
	srv_port = start("127.0.0.1:0", "", "", &srv);
	return srv_port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	http_stop(srv);
	return 0;
}

static void test_get(void **state)
{
	struct reply r;
	char v[64];
	int calls = __atomic_load_n(&rctx.calls, __ATOMIC_SEQ_CST);

	(void)state;
	ask(srv_port, GET_METRICS, &r);
	expect_status(&r, 200);
	expect_body(&r, PROM_TYPE, BODY);
	assert_non_null(header(&r, "Date", v, sizeof(v)));
	assert_int_equal(strlen(v), strlen("Sun, 06 Nov 1994 08:49:37 GMT"));
	assert_int_equal(__atomic_load_n(&rctx.calls, __ATOMIC_SEQ_CST), calls + 1);
	assert_int_equal(__atomic_load_n(&rctx.openmetrics, __ATOMIC_SEQ_CST), 0);
	reply_free(&r);

	/* HTTP/1.0, bare LF, the request sent a byte at a time */
	{
		const char *s = "GET /metrics?x=1 HTTP/1.0\n\n";
		int c = connect_tcp(srv_port);
		size_t i;

		for (i = 0; s[i]; i++) {
			send_all(c, s + i, 1);
			usleep(1000);
		}
		assert_int_equal(read_reply(c, &r), 0);
		close(c);
		expect_status(&r, 200);
		expect_body(&r, PROM_TYPE, BODY);
		reply_free(&r);
	}
}

static void test_head(void **state)
{
	struct reply r;
	char v[64];

	(void)state;
	ask(srv_port, "HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	expect_status(&r, 200);
	assert_non_null(r.body);
	assert_int_equal(r.body_len, 0);
	assert_non_null(header(&r, "Content-Length", v, sizeof(v)));
	assert_int_equal(strtoul(v, NULL, 10), strlen(BODY));
	reply_free(&r);
	ask(srv_port, "HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	expect_status(&r, 404);
	assert_int_equal(r.body_len, 0);
	reply_free(&r);
}

static void test_openmetrics(void **state)
{
	struct reply r;

	(void)state;
	ask(srv_port, "GET /metrics HTTP/1.1\r\nHost: t\r\nAccept: " PROMETHEUS_ACCEPT "\r\n\r\n",
	    &r);
	expect_status(&r, 200);
	expect_body(&r, OM_TYPE, OM_BODY);
	assert_int_equal(__atomic_load_n(&rctx.openmetrics, __ATOMIC_SEQ_CST), 1);
	reply_free(&r);
	ask(srv_port, "GET /metrics HTTP/1.1\r\nHost: t\r\n"
	    "Accept: text/plain;version=0.0.4\r\n\r\n", &r);
	expect_body(&r, PROM_TYPE, BODY);
	reply_free(&r);
}

static void test_refused_requests(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", 404 },
		{ "GET /metricsx HTTP/1.1\r\nHost: t\r\n\r\n", 404 },
		{ "garbage\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1\r\n\r\n", 400 },
		{ "GET /metrics HTTP/2.0\r\nHost: t\r\n\r\n", 505 },
		{ "GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", 400 },
		{ "GET /metrics HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		  400 },
		{ "DELETE /metrics HTTP/1.1\r\nHost: t\r\n\r\n", 405 },
		{ "\x16\x03\x01\x02\x05\x01\x02\x03\x03\xfc\x03\x03\r\n\r\n", 400 },	/* TLS */
	};
	struct reply r;
	char v[64], *big;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		ask(srv_port, cases[i].req, &r);
		expect_status(&r, cases[i].status);
		reply_free(&r);
	}
	ask(srv_port, "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", &r);
	expect_status(&r, 405);
	assert_non_null(header(&r, "Allow", v, sizeof(v)));
	assert_string_equal(v, "GET, HEAD");
	reply_free(&r);
	ask(srv_port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	expect_status(&r, 200);
	assert_non_null(header(&r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "text/plain; charset=utf-8");
	assert_non_null(strstr(r.body, "/metrics"));
	reply_free(&r);

	/* a head past 8 KiB, never ended: refused, and the answer arrives
	 * whole although the client was still sending */
	big = malloc(4 * HTTP_MAX_HEAD);
	assert_non_null(big);
	n = (size_t)snprintf(big, 64, "GET /metrics HTTP/1.1\r\nHost: t\r\n");
	while (n + 32 < 4 * HTTP_MAX_HEAD)
		n += (size_t)snprintf(big + n, 32, "X-Pad: aaaaaaaaaaaaaaaaaaaa\r\n");
	ask_at(connect_tcp(srv_port), big, n, &r);
	free(big);
	expect_status(&r, 431);
	reply_free(&r);
}

static void test_render_fails(void **state)
{
	struct reply r;

	(void)state;
	__atomic_store_n(&rctx.fail, 1, __ATOMIC_SEQ_CST);
	ask(srv_port, GET_METRICS, &r);
	__atomic_store_n(&rctx.fail, 0, __ATOMIC_SEQ_CST);
	expect_status(&r, 500);
	reply_free(&r);
	ask(srv_port, GET_METRICS, &r);
	expect_status(&r, 200);
	reply_free(&r);
}

static void test_basic_auth(void **state)
{
	struct http_server *h;
	struct reply r;
	char v[128];
	int port = start("127.0.0.1:0", "prom", "s3cret:x", &h);

	(void)state;
	ask(port, GET_METRICS, &r);
	expect_status(&r, 401);
	assert_non_null(header(&r, "WWW-Authenticate", v, sizeof(v)));
	assert_string_equal(v, "Basic realm=\"mapid\"");
	reply_free(&r);
	/* prom:s3cret, a prefix of the password */
	ask(port, "GET /metrics HTTP/1.1\r\nHost: t\r\n"
	    "Authorization: Basic cHJvbTpzM2NyZXQ=\r\n\r\n", &r);
	expect_status(&r, 401);
	reply_free(&r);
	/* prom:s3cret:xy, longer */
	ask(port, "GET /metrics HTTP/1.1\r\nHost: t\r\n"
	    "Authorization: Basic cHJvbTpzM2NyZXQ6eHk=\r\n\r\n", &r);
	expect_status(&r, 401);
	reply_free(&r);
	/* Prom:s3cret:x, the user's case */
	ask(port, "GET /metrics HTTP/1.1\r\nHost: t\r\n"
	    "Authorization: Basic UHJvbTpzM2NyZXQ6eA==\r\n\r\n", &r);
	expect_status(&r, 401);
	reply_free(&r);
	/* every path asks first */
	ask(port, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	expect_status(&r, 401);
	reply_free(&r);
	/* prom:s3cret:x */
	ask(port, "GET /metrics HTTP/1.1\r\nHost: t\r\n"
	    "authorization: basic cHJvbTpzM2NyZXQ6eA==\r\n\r\n", &r);
	expect_status(&r, 200);
	expect_body(&r, PROM_TYPE, BODY);
	reply_free(&r);
	http_stop(h);

	/* no user configured: Authorization is ignored */
	ask(srv_port, "GET /metrics HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer x\r\n\r\n", &r);
	expect_status(&r, 200);
	reply_free(&r);
}

/* A client that connects and says nothing: another's scrape is answered
 * at once, and the silent one is dropped at its deadline. */
static void test_silent_client(void **state)
{
	struct reply r;
	uint64_t t0 = monotonic_ms(), t;
	int quiet = connect_tcp(srv_port), half = connect_tcp(srv_port);
	char c;

	(void)state;
	send_all(half, "GET /metrics HTTP/1.1\r\nHo", 25);
	ask(srv_port, GET_METRICS, &r);
	t = monotonic_ms() - t0;
	expect_status(&r, 200);
	reply_free(&r);
	if (t > 1000)
		fail_msg("answered in %llu ms with a silent client open", (unsigned long long)t);
	assert_int_equal(recv(quiet, &c, 1, 0), 0);
	t = monotonic_ms() - t0;
	if (t < HTTP_DEADLINE_MS - 500 || t > HTTP_DEADLINE_MS + 2000)
		fail_msg("the silent client was dropped after %llu ms", (unsigned long long)t);
	assert_int_equal(recv(half, &c, 1, 0), 0);
	close(quiet);
	close(half);
}

static int flood_stop;

/* Sends without end, after its request: the server, answered, reads on
 * to drop what comes. */
static void *flood(void *arg)
{
	static const char req[] = "POST /metrics HTTP/1.1\r\nHost: t\r\n"
				  "Content-Length: 1000000000\r\n\r\n";
	static char junk[65536];
	int s = *(int *)arg;

	if (send(s, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		return NULL;
	while (!__atomic_load_n(&flood_stop, __ATOMIC_SEQ_CST))
		if (send(s, junk, sizeof(junk), MSG_NOSIGNAL) < 0)
			break;
	return NULL;
}

/* A client that sends without end holds up no one either. */
static void test_flooding_client(void **state)
{
	struct reply r;
	pthread_t t;
	uint64_t t0;
	int s = connect_tcp(srv_port), i;

	(void)state;
	set_timeout(s, 3000);
	__atomic_store_n(&flood_stop, 0, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_create(&t, NULL, flood, &s), 0);
	usleep(100000);
	for (i = 0; i < 5; i++) {
		t0 = monotonic_ms();
		ask(srv_port, GET_METRICS, &r);
		expect_status(&r, 200);
		reply_free(&r);
		if (monotonic_ms() - t0 > 500)
			fail_msg("a scrape took %llu ms beside a flood",
				 (unsigned long long)(monotonic_ms() - t0));
	}
	__atomic_store_n(&flood_stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	close(s);
}

/* HTTP_MAX_CONNS idle clients: one more is refused at once, without a
 * word from the idle ones; when some go, a scrape is answered again. */
static void test_connection_limit(void **state)
{
	int idle[HTTP_MAX_CONNS], i, extra, port, answered = 0;
	struct http_server *h;
	struct pollfd pfd[HTTP_MAX_CONNS];
	uint64_t t0;
	struct reply r;

	(void)state;
	port = start("127.0.0.1:0", "", "", &h);
	for (i = 0; i < HTTP_MAX_CONNS; i++)
		idle[i] = connect_tcp(port);
	t0 = monotonic_ms();
	extra = connect_tcp(port);
	read_reply(extra, &r);
	close(extra);
	/* it sent nothing, so the close does not reset the 503 */
	if (r.status != 503)
		fail_msg("the connection past the limit got: %s", r.raw);
	reply_free(&r);
	if (monotonic_ms() - t0 > 1000)
		fail_msg("the connection past the limit was not refused at once");
	for (i = 0; i < HTTP_MAX_CONNS; i++)
		pfd[i] = (struct pollfd){ .fd = idle[i], .events = POLLIN };
	assert_int_equal(poll(pfd, HTTP_MAX_CONNS, 100), 0);

	for (i = 0; i < 8; i++)
		close(idle[i]);
	/* the server learns of the closes as soon as it polls again: a try
	 * may still come before that */
	for (t0 = monotonic_ms(); monotonic_ms() - t0 < 2000; usleep(20000)) {
		int s = connect_tcp(port);

		send_all(s, GET_METRICS, strlen(GET_METRICS));
		read_reply(s, &r);
		close(s);
		answered = r.status == 200;
		reply_free(&r);
		if (answered)
			break;
	}
	assert_true(answered);
	/* and stopped with 56 connections open */
	http_stop(h);
	for (i = 8; i < HTTP_MAX_CONNS; i++) {
		char c;

		assert_true(recv(idle[i], &c, 1, 0) <= 0);
		close(idle[i]);
	}
}

static void test_stop_with_connections(void **state)
{
	struct http_server *h;
	int port = start("127.0.0.1:0", "", "", &h), quiet, half, unread, i;
	char c;
	uint64_t t0;

	(void)state;
	quiet = connect_tcp(port);
	half = connect_tcp(port);
	send_all(half, "GET /metr", 9);
	unread = connect_tcp(port);
	send_all(unread, GET_METRICS, strlen(GET_METRICS));
	/* the answer is written when the request is read: wait for it */
	{
		struct pollfd p = { .fd = unread, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 5000), 1);
	}
	t0 = monotonic_ms();
	http_stop(h);
	if (monotonic_ms() - t0 > 500)
		fail_msg("http_stop took %llu ms", (unsigned long long)(monotonic_ms() - t0));
	assert_true(recv(quiet, &c, 1, 0) <= 0);
	assert_true(recv(half, &c, 1, 0) <= 0);
	close(quiet);
	close(half);
	close(unread);
	/* nobody listens there now */
	i = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		assert_int_not_equal(connect(i, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	close(i);
	http_stop(NULL);
}

static void test_unix_socket(void **state)
{
	char path[96], listen[128], why[256];
	struct http_config cfg = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct http_server *h, *h2;
	struct reply r;
	struct stat st;
	int s, fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/mapi-http.%d.sock", (int)getpid());
	snprintf(listen, sizeof(listen), "unix:%s", path);
	unlink(path);

	/* a stale socket, bound and closed, is replaced */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	assert_int_equal(start(listen, "", "", &h), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	ask_at(connect_unix(path), GET_METRICS, strlen(GET_METRICS), &r);
	expect_status(&r, 200);
	expect_body(&r, PROM_TYPE, BODY);
	reply_free(&r);

	/* a live one is not */
	snprintf(cfg.listen, sizeof(cfg.listen), "%s", listen);
	assert_int_equal(http_start(&cfg, render, &rctx, &h2, why, sizeof(why)), -EADDRINUSE);
	assert_non_null(strstr(why, path));
	assert_null(h2);
	http_stop(h);
	assert_int_not_equal(lstat(path, &st), 0);

	/* nor is what is not a socket */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(http_start(&cfg, render, &rctx, &h2, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "not a socket"));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
}

static void test_listen_strings(void **state)
{
	static const char *const bad[] = {
		"", "localhost", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536",
		"127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:80x", ":9100", "::1:9100",
		"[::1]9100", "[::1]", "[::1:9100", "[not-v6]:9100", "127.1:9100",
		"1.2.3.256:9100", "unix:relative.sock", "unix:",
	};
	struct http_config cfg = { 0 };
	struct http_server *h, *h2;
	char why[256];
	size_t i;
	int port, ret;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(cfg.listen, sizeof(cfg.listen), "%s", bad[i]);
		h = (struct http_server *)1;
		ret = http_start(&cfg, render, &rctx, &h, why, sizeof(why));
		if (ret != -EINVAL)
			fail_msg("listen \"%s\": %d (%s)", bad[i], ret, why);
		if (!strstr(why, "\"") || (bad[i][0] && !strstr(why, bad[i])))
			fail_msg("listen \"%s\": the message does not name it: %s", bad[i], why);
		assert_null(h);
	}
	/* a name, resolved; then its port, taken */
	port = start("localhost:0", "", "", &h);
	assert_true(port > 0);
	snprintf(cfg.listen, sizeof(cfg.listen), "127.0.0.1:%d", srv_port);
	assert_int_equal(http_start(&cfg, render, &rctx, &h2, why, sizeof(why)), -EADDRINUSE);
	assert_non_null(strstr(why, cfg.listen));
	http_stop(h);
	/* a path longer than a socket's address takes */
	memset(cfg.listen, 'x', sizeof(cfg.listen) - 8);
	memcpy(cfg.listen, "unix:/", 6);
	cfg.listen[sizeof(cfg.listen) - 8] = 0;
	assert_int_equal(http_start(&cfg, render, &rctx, &h2, why, sizeof(why)), -ENAMETOOLONG);
	assert_non_null(strstr(why, cfg.listen));
	/* nor past its array, unterminated */
	memset(cfg.listen, 'x', sizeof(cfg.listen));
	assert_int_equal(http_start(&cfg, render, &rctx, &h2, why, sizeof(why)), -EINVAL);
	/* IPv6, where there is a ::1 */
	snprintf(cfg.listen, sizeof(cfg.listen), "[::1]:0");
	ret = http_start(&cfg, render, &rctx, &h, why, sizeof(why));
	if (ret == -EADDRNOTAVAIL || ret == -EAFNOSUPPORT) {
		print_message("no IPv6 loopback here: [::1] not tried (%s)\n", why);
	} else {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
					   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		struct reply r;
		int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

		assert_int_equal(ret, 0);
		sa.sin6_port = htons((uint16_t)http_port(h));
		set_timeout(s, 10000);
		assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		ask_at(s, GET_METRICS, strlen(GET_METRICS), &r);
		expect_status(&r, 200);
		reply_free(&r);
		http_stop(h);
	}
	assert_int_equal(http_start(NULL, render, &rctx, &h, why, sizeof(why)), -EINVAL);
	assert_int_equal(http_start(&cfg, NULL, &rctx, &h, why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_whole),
		cmocka_unit_test(test_parse_split),
		cmocka_unit_test(test_parse_bare_lf),
		cmocka_unit_test(test_parse_header_case),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_accept),
		cmocka_unit_test(test_parse_authorization),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_refused_requests),
		cmocka_unit_test(test_render_fails),
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_silent_client),
		cmocka_unit_test(test_flooding_client),
		cmocka_unit_test(test_connection_limit),
		cmocka_unit_test(test_stop_with_connections),
		cmocka_unit_test(test_unix_socket),
		cmocka_unit_test(test_listen_strings),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
