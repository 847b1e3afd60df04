/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target over mapid's HTTP request parser (user/mapid/http.c),
 * what anyone who reaches the port may send.  Beyond no crash and no
 * sanitizer report: what the parser gives is consistent (a prefix of the
 * bytes never says more than the whole does, the server's cheap scan for
 * a head's end never misses one, the credentials are padded with NULs as
 * the constant-time comparison needs), and the answer made from it is a
 * well-formed HTTP response, whatever the request and with or without a
 * password configured.
 *
 * http.c is mapid's, not the library's, so it is not among the objects
 * the fuzz build makes: it is compiled here, into this target, which also
 * reaches its static functions.
 */
#include "../../user/mapid/http.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void finding(const char *what)
{
	fprintf(stderr, "fuzz_http: %s\n", what);
	abort();
}

static int fake_render(void *ctx, int openmetrics, char **body, size_t *len)
{
	static const char om[] = "x_total 1\n# EOF\n", text[] = "x_total 1\n";
	const char *t = openmetrics ? om : text;

	if (*(const int *)ctx)
		return -EIO;
	*len = strlen(t);
	*body = malloc(*len);
	if (!*body)
		return -ENOMEM;
	memcpy(*body, t, *len);
	return 0;
}

/* After the string, nothing but NULs: compared whole, the arrays must
 * differ exactly when the strings do. */
static void check_padded(const char *a, size_t n, const char *what)
{
	size_t l = strnlen(a, n), i;

	if (l == n)
		finding(what);
	for (i = l; i < n; i++)
		if (a[i])
			finding(what);
}

static void check_request(const char *buf, size_t used, const struct http_request *req)
{
	if (!used || used > HTTP_MAX_HEAD || buf[used - 1] != '\n')
		finding("a head that does not end in a line's end, or past the limit");
	if (req->method != HTTP_GET && req->method != HTTP_HEAD && req->method != HTTP_OTHER)
		finding("no such method");
	if (req->minor != 0 && req->minor != 1)
		finding("a version other than 1.0 and 1.1 taken");
	check_padded(req->path, sizeof(req->path), "the path is not NUL-padded");
	if (req->path[0] != '/' && strcmp(req->path, "*"))
		finding("a path that is neither absolute nor *");
	if (strchr(req->path, '?'))
		finding("the query kept in the path");
	check_padded(req->user, sizeof(req->user), "the user is not NUL-padded");
	check_padded(req->password, sizeof(req->password), "the password is not NUL-padded");
	if (req->auth == HTTP_AUTH_BASIC) {
		if (strchr(req->user, ':'))
			finding("a ':' in the user");
	} else if (req->user[0] || req->password[0]) {
		finding("credentials kept from a header that was not believed");
	}
	/* the server parses only once its scan sees a head end: wherever the
	 * bytes were split between reads */
	if (!head_ends(buf, 0, used))
		finding("a head whose end the scan misses");
	if (!head_ends(buf, 0, used / 2) && !head_ends(buf, used / 2, used))
		finding("a head whose end the scan misses across a split");
}

/* What the server answers, from the parser's result: a status line,
 * Content-Length that says the body's length, Connection: close. */
static void check_answer(struct http_server *h, int ret, const struct http_request *req)
{
	static struct conn c;
	const char *end, *cl;
	unsigned long want;
	size_t head;

	memset(&c, 0, sizeof(c));
	serve_request(h, &c, ret, req);
	if (c.state != C_WRITE || c.out_len >= sizeof(c.out))
		finding("no answer, or one past its array");
	c.out[c.out_len] = 0;
	if (strncmp(c.out, "HTTP/1.1 ", 9))
		finding("no status line");
	end = strstr(c.out, "\r\n\r\n");
	cl = strstr(c.out, "\r\nContent-Length: ");
	if (!end || !cl || cl > end || !strstr(c.out, "\r\nConnection: close\r\n"))
		finding("an answer without its head, Content-Length or Connection: close");
	head = (size_t)(end + 4 - c.out);
	want = strtoul(cl + strlen("\r\nContent-Length: "), NULL, 10);
	if (ret == 1 && req->method == HTTP_HEAD) {
		if (c.out_len != head || c.body_len)
			finding("a body in the answer to HEAD");
	} else if (c.out_len - head + c.body_len != want) {
		finding("Content-Length is not the body's length");
	}
	if (ret == 1 && h->user[0] && !strncmp(c.out, "HTTP/1.1 200", 12) &&
	    (req->auth != HTTP_AUTH_BASIC || strcmp(req->user, h->user) ||
	     strcmp(req->password, h->password)))
		finding("answered without the right credentials");
	free(c.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_server h;
	static int fail;
	const char *buf = (const char *)data;
	struct http_request req, part;
	size_t used, pused, k, cuts[3];
	int ret, pret, i;

	if (size > 2 * HTTP_MAX_HEAD)
		return 0;
	ret = http_parse_request(buf, size, &req, &used);
	if (ret != 1 && ret != 0 && ret != -EMSGSIZE && ret != -ENAMETOOLONG &&
	    ret != -EPROTONOSUPPORT && ret != -EINVAL)
		finding("a result the server does not know");
	if (ret == 0 && size > HTTP_MAX_HEAD)
		finding("more wanted past the limit");
	if (ret == 1)
		check_request(buf, used, &req);

	/* a prefix: more wanted, or what the whole says */
	cuts[0] = size / 2;
	cuts[1] = size ? size - 1 : 0;
	cuts[2] = ret == 1 ? used - 1 : size / 3;
	for (i = 0; i < 3; i++) {
		k = cuts[i];
		pret = http_parse_request(buf, k, &part, &pused);
		if (!pret)
			continue;
		if (pret != ret)
			finding("a prefix says other than the whole");
		if (ret == 1 && (pused != used || memcmp(&part, &req, sizeof(req))))
			finding("a prefix reads another request than the whole");
	}

	/* the answer, with and without a password, and with render failing */
	h.render = fake_render;
	h.ctx = &fail;
	fail = size && data[0] & 1;
	memset(h.user, 0, sizeof(h.user));
	memset(h.password, 0, sizeof(h.password));
	check_answer(&h, ret, &req);
	memcpy(h.user, "user", 4);
	memcpy(h.password, "pass", 4);
	check_answer(&h, ret, &req);
	return 0;
}
