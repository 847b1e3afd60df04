/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target over mapid's protocol parser (transport/proto.c): any
 * bytes, sent as one message on a socket, are read as mapid reads a
 * client's request and as a client reads mapid's reply.  No crash, no
 * sanitizer report; and a flow spec that decodes encodes back to the
 * same bytes (nothing read is misread).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void finding(const char *what)
{
	fprintf(stderr, "fuzz_proto: %s\n", what);
	abort();
}

/* The body as mapid reads a request of its type. */
static void as_request(const struct mapid_hdr *h, const uint8_t *body)
{
	struct mcur c = { body, h->len, 0 };
	struct mapid_flow_spec spec;
	char why[128];

	if (h->type != MAPID_CONNECT) {
		(void)mcur_u32(&c);
		return;
	}
	if (spec_decode(&c, &spec, why, sizeof(why)))
		return;
	{
		struct mbuf b = { 0 };

		spec_encode(&b, &spec);
		if (b.err || b.len != h->len || memcmp(b.data, body, b.len))
			finding("a decoded flow does not encode back to its bytes");
		mbuf_free(&b);
	}
	spec_free(&spec);
}

/* The body as a client reads a reply: status, message, then a listing. */
static void as_reply(const struct mapid_hdr *h, const uint8_t *body)
{
	struct mcur c = { body, h->len, 0 };
	struct mapid_flow_entry e;
	char msg[512];
	uint32_t n, i;

	(void)mcur_i32(&c);
	(void)mcur_i32(&c);
	mcur_str(&c, msg, sizeof(msg));
	n = mcur_u32(&c);
	for (i = 0; i < n && !c.err; i++)
		entry_decode(&c, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapid_hdr h;
	uint8_t *body = NULL;
	int sv[2], fds[4], nfds = 0, ret;

	if (size > MAPID_MSG_MAX + 64)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		finding("no socketpair");
	if (size && send(sv[0], data, size, MSG_DONTWAIT) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;	/* more than the socket takes: mapid never sees it */
	}
	close(sv[0]);
	ret = mapid_recv(sv[1], &h, &body, fds, &nfds, 4);
	if (ret == -EMFILE)
		finding("descriptors said cut from a message that carried none");
	if (!ret) {
		if (nfds)
			finding("descriptors from a message that carried none");
		as_request(&h, body);
		as_reply(&h, body);
		free(body);
	}
	close(sv[1]);
	return 0;
}
