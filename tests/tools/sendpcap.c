/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sendpcap IFACE FILE [REPEAT]: sends every frame of a trace out of an
 * interface through a packet socket, REPEAT times (default 1), waiting
 * instead of dropping when the device is busy.  Prints how many it sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int send_frame(int s, const unsigned char *data, size_t len)
{
	for (;;) {
		if (send(s, data, len, 0) == (ssize_t)len)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("sendpcap: send");
			return -1;
		}
		nanosleep(&(struct timespec){ 0, 50000 }, NULL);
	}
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	unsigned long long sent = 0;
	struct sockaddr_ll sll;
	struct pcap_pkthdr *h;
	const unsigned char *data;
	long repeat = 1, i;
	int s, r;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: sendpcap IFACE FILE [REPEAT]\n");
		return 2;
	}
	if (argc == 4)
		repeat = atol(argv[3]);
	s = socket(AF_PACKET, SOCK_RAW, 0);
	if (s < 0) {
		perror("sendpcap: socket");
		return 1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex || bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "sendpcap: cannot bind to %s\n", argv[1]);
		return 1;
	}
	for (i = 0; i < repeat; i++) {
		pcap_t *p = pcap_open_offline(argv[2], errbuf);

		if (!p) {
			fprintf(stderr, "sendpcap: %s\n", errbuf);
			return 1;
		}
		while ((r = pcap_next_ex(p, &h, &data)) == 1) {
			if (send_frame(s, data, h->caplen))
				return 1;
			sent++;
		}
		pcap_close(p);
	}
	printf("sent %llu\n", sent);
	return 0;
}
