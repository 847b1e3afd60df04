/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * delaylink TUN IFACE DST-MAC MS: puts a host MS milliseconds away from the
 * far end of an Ethernet link.  IP packets the local stack sends to TUN (a
 * tun device it creates) leave IFACE MS ms later, in order, framed to
 * DST-MAC from IFACE's own address; IPv4 frames IFACE receives go up TUN at
 * once.  The far end then sees what a monitor on a server's link sees of a
 * client a network away: each answer one round trip after the question.
 *
 * This kernel has no netem, so the delay is made here.  SIGUSR1 drops it to
 * zero (packets already waiting keep their order).  Prints "ready" once
 * TUN exists; frames lost because the queue was full are counted on exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_LEN 16384
#define MAX_PACKET 1600

struct held {
	long long due;	/* ns, CLOCK_MONOTONIC */
	unsigned int len;
	unsigned char frame[ETH_HLEN + MAX_PACKET];
};

static struct held queue[QUEUE_LEN];
static unsigned int head, tail;	/* queue[head..tail) wait, mod QUEUE_LEN */
static volatile sig_atomic_t no_delay, stop;

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void on_usr1(int sig)
{
	(void)sig;
	no_delay = 1;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_tun(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A packet socket on ifindex for IPv4 frames, deaf to those it sends. */
static int open_link(int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = ifindex };
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_IP));

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int parse_mac(const char *s, unsigned char mac[ETH_ALEN])
{
	unsigned int b[ETH_ALEN];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = (unsigned char)b[i];
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char dst[ETH_ALEN], src[ETH_ALEN], buf[MAX_PACKET + ETH_HLEN];
	unsigned long long full = 0, sent = 0;
	struct ifreq ifr = { 0 };
	long long delay;
	int tun, link, ifindex, ctl;

	if (argc != 5 || parse_mac(argv[3], dst) < 0 || atoi(argv[4]) < 0) {
		fprintf(stderr, "usage: delaylink TUN IFACE DST-MAC MS\n");
		return 2;
	}
	delay = atoll(argv[4]) * 1000000LL;
	ifindex = (int)if_nametoindex(argv[2]);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[2]);
	ctl = socket(AF_INET, SOCK_DGRAM, 0);
	if (!ifindex || ctl < 0 || ioctl(ctl, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "delaylink: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	close(ctl);
	memcpy(src, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	tun = open_tun(argv[1]);
	link = open_link(ifindex);
	if (tun < 0 || link < 0) {
		fprintf(stderr, "delaylink: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGUSR1, on_usr1);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[2] = { { .fd = tun, .events = POLLIN },
					 { .fd = link, .events = POLLIN } };
		long long t = now_ns(), wait_ms = -1;
		ssize_t n;

		/* send what is due */
		while (head != tail && (no_delay || queue[head].due <= t)) {
			if (send(link, queue[head].frame, queue[head].len, 0) < 0 && errno == EAGAIN)
				break;
			sent++;
			head = (head + 1) % QUEUE_LEN;
		}
		if (head != tail)
			wait_ms = no_delay ? 1 : (queue[head].due - t) / 1000000 + 1;
		if (poll(pfd, 2, (int)wait_ms) < 0 && errno != EINTR)
			break;
		/* from the local stack: frame it and hold it */
		while ((n = read(tun, buf, MAX_PACKET)) > 0) {
			struct held *h = &queue[tail];

			if ((tail + 1) % QUEUE_LEN == head) {
				full++;
				continue;
			}
			memcpy(h->frame, dst, ETH_ALEN);
			memcpy(h->frame + ETH_ALEN, src, ETH_ALEN);
			h->frame[12] = 0x08;
			h->frame[13] = 0x00;
			memcpy(h->frame + ETH_HLEN, buf, (size_t)n);
			h->len = ETH_HLEN + (unsigned int)n;
			h->due = now_ns() + (no_delay ? 0 : delay);
			tail = (tail + 1) % QUEUE_LEN;
		}
		/* from the link: up to the local stack */
		while ((n = recv(link, buf, sizeof(buf), 0)) > ETH_HLEN)
			if (write(tun, buf + ETH_HLEN, (size_t)n - ETH_HLEN) < 0 && errno != EAGAIN)
				break;
	}
	fprintf(stderr, "delaylink: sent %llu, lost to a full queue %llu\n", sent, full);
	return 0;
}
