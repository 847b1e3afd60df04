/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcapcmp A B [EXPR...]: compares two captures packet for packet (captured
 * bytes, captured length, wire length; not timestamps), after keeping in
 * each only the packets that match EXPR by libpcap's filter.  Prints
 * "same N" and exits 0, or says where they first differ and exits 1.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

struct side {
	const char *name;
	pcap_t *p;
	struct bpf_program bp;
	unsigned long n;
};

static int open_side(struct side *s, const char *path, const char *expr)
{
	char errbuf[PCAP_ERRBUF_SIZE];

	s->name = path;
	s->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!s->p) {
		fprintf(stderr, "pcapcmp: %s\n", errbuf);
		return -1;
	}
	if (pcap_compile(s->p, &s->bp, expr, 1, 0) < 0) {
		fprintf(stderr, "pcapcmp: %s\n", pcap_geterr(s->p));
		return -1;
	}
	return 0;
}

static void close_side(struct side *s)
{
	if (!s->p)
		return;
	pcap_freecode(&s->bp);
	pcap_close(s->p);
}

/* The next matching packet: 1, or 0 at the end. */
static int next(struct side *s, struct pcap_pkthdr **h, const unsigned char **d)
{
	int r;

	while ((r = pcap_next_ex(s->p, h, d)) == 1)
		if (pcap_offline_filter(&s->bp, *h, *d)) {
			s->n++;
			return 1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct side a = { 0 }, b = { 0 };
	char expr[4096] = "";
	int i, ret = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: pcapcmp A B [EXPR...]\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (i > 3)
			strncat(expr, " ", sizeof(expr) - strlen(expr) - 1);
		strncat(expr, argv[i], sizeof(expr) - strlen(expr) - 1);
	}
	if (open_side(&a, argv[1], expr) || open_side(&b, argv[2], expr)) {
		ret = 2;
		goto out;
	}
	for (;;) {
		struct pcap_pkthdr *ha, *hb;
		const unsigned char *da, *db;
		int ra = next(&a, &ha, &da), rb = next(&b, &hb, &db);

		if (!ra && !rb)
			break;
		if (ra != rb) {
			printf("%s ends after %lu packets, %s goes on\n", ra ? b.name : a.name,
			       ra ? b.n : a.n, ra ? a.name : b.name);
			ret = 1;
			goto out;
		}
		if (ha->caplen != hb->caplen || ha->len != hb->len ||
		    memcmp(da, db, ha->caplen)) {
			printf("packet %lu differs: %u/%u bytes in %s, %u/%u in %s\n", a.n,
			       ha->caplen, ha->len, a.name, hb->caplen, hb->len, b.name);
			ret = 1;
			goto out;
		}
	}
	printf("same %lu\n", a.n);
out:
	close_side(&a);
	close_side(&b);
	return ret;
}
