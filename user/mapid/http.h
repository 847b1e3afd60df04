/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's HTTP endpoint: GET /metrics for Prometheus, on a thread of its
 * own so that a scrape never waits for the event loop, and no client,
 * slow or hostile, holds up another.  It speaks just enough HTTP/1.x for
 * that: one request a connection, no body, closed after the answer.
 */
#ifndef MAPID_HTTP_H
#define MAPID_HTTP_H

#include <stddef.h>

/* A request head longer than this is refused (431). */
#define HTTP_MAX_HEAD 8192
/* A path (the target before any query) this long or longer is refused (414). */
#define HTTP_MAX_PATH 256
/* Connections served at once; one past them is answered 503 and closed. */
#define HTTP_MAX_CONNS 64
/* From accept to the last byte written: a client slower than that is dropped. */
#define HTTP_DEADLINE_MS 5000

struct http_server;

struct http_config {
	/* "HOST:PORT" (IPv4 dotted or a name), "[IPV6]:PORT", or "unix:/PATH" */
	char listen[128];
	/* basic authentication when user[0]: user and password must match */
	char user[64];
	char password[128];
};

/* Makes the body of a scrape: a malloc'd *body of *len bytes (the caller frees it), 0,
 * or a negative errno (answered 500).  openmetrics: the client accepts OpenMetrics text
 * (the body must then end with "# EOF\n"; render makes that). Called on the server's thread. */
typedef int (*http_render_fn)(void *ctx, int openmetrics, char **body, size_t *len);

/* Listens at cfg->listen and serves GET /metrics on a thread of its own until http_stop:
 * 0, or a negative errno with a message in why (an address that does not parse, a port
 * taken, ...). Port 0 takes a free port: http_port() says which (0 for a Unix socket). */
int http_start(const struct http_config *cfg, http_render_fn render, void *ctx,
	       struct http_server **out, char *why, size_t len);
/* Whether http_start would take addr as an address (nothing is bound, no
 * name resolved): 0, or a negative errno with a message in why. */
int http_listen_check(const char *addr, char *why, size_t len);
/* New credentials for the requests from now on ("" and "": none). */
void http_set_auth(struct http_server *h, const char *user, const char *password);
int http_port(const struct http_server *h);
void http_stop(struct http_server *h);	/* joins the thread, closes every socket; NULL is fine */

enum http_method {
	HTTP_OTHER,	/* any other token: answered 405 */
	HTTP_GET,
	HTTP_HEAD,
};

enum http_auth {
	HTTP_AUTH_NONE,		/* no Authorization header */
	HTTP_AUTH_BASIC,	/* Basic, decoded into user and password */
	HTTP_AUTH_BAD,		/* another scheme, bad base64, no ':', too long, twice */
};

/* The parts of a request head mapid acts on. */
struct http_request {
	enum http_method method;	/* case matters: "get" is HTTP_OTHER */
	int minor;			/* HTTP/1.minor: 0 or 1 */
	char path[HTTP_MAX_PATH];	/* the target up to any '?', as sent (not decoded) */
	int openmetrics;		/* Accept lists application/openmetrics-text, q > 0 */
	int has_body;			/* Content-Length > 0, or a Transfer-Encoding */
	enum http_auth auth;
	/* HTTP_AUTH_BASIC: the credentials, NUL-padded to the end (compared whole) */
	char user[64];
	char password[128];
};

/* 1: a whole request head is in buf[0..len) (*used: its bytes); 0: more is needed;
 * negative: malformed (-EMSGSIZE when the head passes HTTP_MAX_HEAD bytes,
 * -ENAMETOOLONG for a path of HTTP_MAX_PATH bytes or more, -EPROTONOSUPPORT for an
 * HTTP version other than 1.0 and 1.1, -EINVAL for the rest).  Only whole lines are
 * judged, so that what a prefix of a request gives (1 or an error) the whole gives too. */
int http_parse_request(const char *buf, size_t len, struct http_request *req, size_t *used);

#endif
