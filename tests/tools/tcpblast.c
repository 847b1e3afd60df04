/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcpblast recv PORT: accepts TCP connections and reads them to the end.
 * tcpblast send ADDR PORT BYTES: connects and writes BYTES bytes of the
 * pattern "MAPI" + a counter, in large writes, so that the kernel builds
 * segmentation-offload super-packets whose payload lies in page fragments
 * (what tc sees on egress as non-linear skbs).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int recv_all(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1, c;
	char buf[65536];

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 16)) {
		perror("tcpblast: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while ((c = accept(s, NULL, NULL)) >= 0) {
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
	return 0;
}

static int send_all(const char *addr, int port, long bytes)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static char chunk[256 * 1024];
	int s = socket(AF_INET, SOCK_STREAM, 0);
	long left = bytes;
	size_t i;

	for (i = 0; i + 8 <= sizeof(chunk); i += 8)
		snprintf(chunk + i, 9, "MAPI%04zx", (i / 8) & 0xffff);
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1 ||
	    connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("tcpblast: connect");
		return 1;
	}
	while (left > 0) {
		ssize_t n = write(s, chunk, left < (long)sizeof(chunk) ? (size_t)left : sizeof(chunk));

		if (n <= 0) {
			perror("tcpblast: write");
			return 1;
		}
		left -= n;
	}
	shutdown(s, SHUT_WR);
	while (read(s, chunk, sizeof(chunk)) > 0)
		;
	close(s);
	printf("sent %ld\n", bytes);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return recv_all(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_all(argv[2], atoi(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: tcpblast recv PORT | tcpblast send ADDR PORT BYTES\n");
	return 2;
}
