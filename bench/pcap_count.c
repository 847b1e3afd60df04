/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap_count IFACE FILTER...: counts the packets that match FILTER the way
 * a libpcap application does (every packet copied to user space, filtered
 * in the kernel by classic BPF), until SIGINT or SIGTERM.  Then prints
 * "counted N received R dropped D" (pcap_stats).  Prints "ready" once the
 * capture runs.  The peer mapi-bpf is compared with.
 */
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static pcap_t *p;

static void stop(int sig)
{
	(void)sig;
	pcap_breakloop(p);
}

static void count(unsigned char *user, const struct pcap_pkthdr *h, const unsigned char *d)
{
	(void)h;
	(void)d;
	(*(unsigned long long *)user)++;
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE], expr[1024] = "";
	unsigned long long n = 0;
	struct bpf_program bp;
	struct pcap_stat st;
	struct sigaction sa;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: pcap_count IFACE [FILTER...]\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		strncat(expr, argv[i], sizeof(expr) - strlen(expr) - 2);
		strcat(expr, " ");
	}
	p = pcap_create(argv[1], errbuf);
	if (!p || pcap_activate(p) < 0) {
		fprintf(stderr, "pcap_count: %s\n", p ? pcap_geterr(p) : errbuf);
		return 1;
	}
	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(p, &bp) < 0) {
		fprintf(stderr, "pcap_count: %s\n", pcap_geterr(p));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (pcap_dispatch(p, -1, count, (unsigned char *)&n) >= 0)
		;
	if (pcap_stats(p, &st) == 0)
		printf("counted %llu received %u dropped %u\n", n, st.ps_recv, st.ps_drop);
	pcap_close(p);
	return 0;
}
