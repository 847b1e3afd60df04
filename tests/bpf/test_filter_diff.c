/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_filter_diff FILTERS: the differential test of BPF_FILTER.
 *
 * Every expression of FILTERS (tests/data/filters.txt), plus the largest
 * realistic ones (200 ORed hosts, 100 ORed ports, deep nesting), is compiled
 * by libpcap and translated; each translation runs in the kernel
 * (BPF_PROG_TEST_RUN) on every frame of the filter corpus
 * (tests/common/corpus.c, fixed seed), as native XDP on linear frames, as
 * XDP taking fragments and at tc.  Its verdict must be the verdict of
 * libpcap's pcap_offline_filter() on the same frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbpf_xlate.h"
#include "check.h"
#include "flowprog.h"
#include "mapi.h"
#include "pcap_oracle.h"
#include "pktbuild.h"
#include "traffic.h"

#define CORPUS_SEED 2026
#define CORPUS_FRAMES 2500

static struct pkt *corpus;
static unsigned long pairs, mismatches, tc_refused;

static const enum flowprog_kind kinds[] = { FP_XDP, FP_XDP_FRAGS, FP_TC };

static const char *kind_name(enum flowprog_kind k)
{
	return k == FP_XDP ? "XDP" : k == FP_XDP_FRAGS ? "XDP with fragments" : "tc";
}

/* The tc harness refuses an IPv4 or IPv6 frame too short for its header. */
static int tc_refuses(const struct pkt *p)
{
	uint16_t type;

	if (p->len < 14)
		return 1;
	type = (uint16_t)(p->b[12] << 8 | p->b[13]);
	return (type == 0x0800 && p->len < 34) || (type == 0x86dd && p->len < 54);
}

static void report(const char *expr, enum flowprog_kind k, int i, int got, int want)
{
	const struct pkt *p = &corpus[i];
	char hex[3 * 48 + 1] = "";
	size_t j;

	for (j = 0; j < p->len && j < 48; j++)
		sprintf(hex + 3 * j, "%02x ", p->b[j]);
	fprintf(stderr, "  MISMATCH '%s' at %s, frame %d (%zu bytes): kernel %s, libpcap %s\n"
			"           %s\n", expr, kind_name(k), i, p->len,
		got ? "passes" : "rejects", want ? "passes" : "rejects", hex);
}

/* The library's own interpreter (cbpf_exec, the in-process half of the
 * functions that key on fields) gives libpcap's verdicts too. */
static void differ_exec(const char *expr, const struct cbpf_prog *prog)
{
	unsigned long bad = 0;
	uint32_t mem[CBPF_MEMWORDS];
	int i;

	for (i = 0; i < CORPUS_FRAMES; i++) {
		const struct pkt *p = &corpus[i];
		int got = cbpf_exec(prog, p->b, (uint32_t)p->len, (uint32_t)p->len, mem) != 0;
		int want = oracle_run(prog, p->b, (uint32_t)p->len, (uint32_t)p->len) != 0;

		pairs++;
		bad += got != want;
	}
	CHECK(bad == 0, "'%s': cbpf_exec disagrees with libpcap on %lu frames", expr, bad);
}

static void differ(const char *expr)
{
	struct cbpf_prog prog;
	unsigned int h;
	int err, i;

	err = cbpf_compile(expr, LINKTYPE_ETHERNET, 0, &prog);
	if (!CHECK_OK(err, expr))
		return;
	differ_exec(expr, &prog);
	for (h = 0; h < sizeof(kinds) / sizeof(*kinds); h++) {
		unsigned long bad = 0;
		struct flowprog fp;

		err = flowprog_build(&fp, &prog, kinds[h], 0);
		if (!CHECK(!err, "'%s' at %s does not load", expr, kind_name(kinds[h]))) {
			char msg[MAPI_ERRORSTR_LENGTH];

			mapi_read_error(NULL, msg);
			fprintf(stderr, "           %s\n", msg);
			flowprog_free(&fp);
			continue;
		}
		for (i = 0; i < CORPUS_FRAMES; i++) {
			const struct pkt *p = &corpus[i];
			int got, want;

			if (p->len > flowprog_max_frame(kinds[h]))
				continue;
			err = flowprog_run(&fp, p->b, (uint32_t)p->len, &got);
			if (err == -EINVAL && kinds[h] == FP_TC && tc_refuses(p)) {
				tc_refused++;
				continue;
			}
			if (!CHECK_OK(err, "test run"))
				break;
			want = oracle_run(&prog, p->b, (uint32_t)p->len, (uint32_t)p->len) != 0;
			pairs++;
			if (got != want) {
				if (mismatches++ < 20)
					report(expr, kinds[h], i, got, want);
				bad++;
			}
		}
		CHECK(bad == 0, "'%s' at %s: %lu frames disagree with libpcap", expr,
		      kind_name(kinds[h]), bad);
		flowprog_free(&fp);
	}
	cbpf_prog_free(&prog);
}

/*
 * protochain's loops give up, as libpcap's interpreter does, after
 * CBPF_MAX_BACKWARD_JUMPS turns a packet, all loops together: the
 * kernel's bound on loops is millions of turns a packet, so this count is
 * what keeps a crafted chain cheap.  An IPv6 frame with n
 * destination-options headers before TCP takes n turns a walk; an IPv4 AH
 * header that names itself as the next would take them for ever (older
 * libpcap, as Debian 12's 1.10.3, never ends on it, so it is not asked).
 */
/* The verdict of expr on frame p at every hook and by cbpf_exec: want. */
static void chain_verdicts(const char *expr, const struct pkt *p, int want, const char *what)
{
	uint32_t mem[CBPF_MEMWORDS];
	struct cbpf_prog prog;
	unsigned int h;
	int got;

	if (!CHECK_OK(cbpf_compile(expr, LINKTYPE_ETHERNET, 0, &prog), expr))
		return;
	got = cbpf_exec(&prog, p->b, (uint32_t)p->len, (uint32_t)p->len, mem) != 0;
	CHECK(got == want, "'%s' on %s: cbpf_exec %s", expr, what, got ? "passes" : "rejects");
	for (h = 0; h < sizeof(kinds) / sizeof(*kinds); h++) {
		struct flowprog fp;

		if (!CHECK(!flowprog_build(&fp, &prog, kinds[h], 0), "'%s' at %s does not load",
			   expr, kind_name(kinds[h]))) {
			flowprog_free(&fp);
			continue;
		}
		if (CHECK_OK(flowprog_run(&fp, p->b, (uint32_t)p->len, &got), "test run"))
			CHECK(got == want, "'%s' at %s on %s: %s, want %s", expr,
			      kind_name(kinds[h]), what, got ? "passes" : "rejects",
			      want ? "passes" : "rejects");
		pairs++;
		flowprog_free(&fp);
	}
	cbpf_prog_free(&prog);
}

static void chain_bound(void)
{
	static const struct {
		const char *expr;
		int walks;	/* of the whole chain, when it ends in TCP */
		int tcp;	/* the filter passes a chain ending in TCP */
	} exprs[] = {
		{ "ip6 protochain 6", 1, 1 },
		{ "protochain 6", 1, 1 },
		{ "protochain 0", 1, 0 },
		/* the first walk finds no UDP, the second TCP: 2n turns */
		{ "ip6 protochain 17 or ip6 protochain 6", 2, 1 },
	};
	static const int lengths[] = { 0, 1, 2, 31, 32, 33, 34, CBPF_MAX_BACKWARD_JUMPS - 1,
				       CBPF_MAX_BACKWARD_JUMPS, CBPF_MAX_BACKWARD_JUMPS + 1,
				       CBPF_MAX_BACKWARD_JUMPS + 2, 200 };
	struct pkt *p = malloc(sizeof(*p));
	char what[64];
	size_t e, i;

	for (e = 0; e < sizeof(exprs) / sizeof(*exprs); e++) {
		const char *expr = exprs[e].expr;

		for (i = 0; i < sizeof(lengths) / sizeof(*lengths); i++) {
			int n = lengths[i], turns = exprs[e].walks * n;
			int want = exprs[e].tcp && turns <= CBPF_MAX_BACKWARD_JUMPS;
			struct cbpf_prog prog;

			pkt_ipv6_dstopts_chain(p, n);
			snprintf(what, sizeof(what), "%d extension headers", n);
			chain_verdicts(expr, p, want, what);
			/* within the bound, libpcap says the same */
			if (turns <= CBPF_MAX_BACKWARD_JUMPS &&
			    !cbpf_compile(expr, LINKTYPE_ETHERNET, 0, &prog)) {
				CHECK((oracle_run(&prog, p->b, (uint32_t)p->len,
						  (uint32_t)p->len) != 0) == want,
				      "'%s' on %s: libpcap disagrees with the bound's rule",
				      expr, what);
				cbpf_prog_free(&prog);
			}
		}
		pkt_ipv4_ah_loop(p);
		chain_verdicts(expr, p, 0, "an IPv4 AH header naming itself next");
	}
	free(p);
}

/* "A or B or ..." of n terms made by term(i). */
static char *big_or(int n, void (*term)(char *, size_t, int))
{
	size_t cap = (size_t)n * 48 + 16, len = 0;
	char *s = malloc(cap), t[48];
	int i;

	for (i = 0; i < n; i++) {
		term(t, sizeof(t), i);
		len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? " or " : "", t);
	}
	return s;
}

static void host_term(char *t, size_t n, int i)
{
	snprintf(t, n, "host 10.%d.%d.%d", 1 + i / 250, (i * 7) % 256, i % 250 + 1);
}

static void port_term(char *t, size_t n, int i)
{
	snprintf(t, n, "port %d", i < 20 ? (int[]){ 20, 21, 22, 23, 25, 53, 67, 68, 80, 110, 123,
					     137, 143, 161, 179, 443, 514, 1024, 2002, 8080 }[i]
					: 3000 + i);
}

/* (((a and (b or not (c and ...))))): depth levels of alternating operators. */
static char *deep(int depth)
{
	static const char *const atoms[] = {
		"tcp", "udp", "port 80", "host 10.1.0.80", "ip6", "vlan", "len > 100",
		"icmp", "net 192.168.0.0/16", "port 53",
	};
	size_t cap = (size_t)depth * 40 + 64, len = 0;
	char *s = malloc(cap);
	int i;

	for (i = 0; i < depth; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s(%s %s ", i % 3 == 2 ? "not " : "",
					atoms[i % 10], i % 2 ? "or" : "and");
	len += (size_t)snprintf(s + len, cap - len, "arp");
	for (i = 0; i < depth; i++)
		len += (size_t)snprintf(s + len, cap - len, ")");
	return s;
}

int main(int argc, char **argv)
{
	char line[4096];
	char *big;
	FILE *f;
	int i, n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: test_filter_diff FILTERS\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	corpus = calloc(CORPUS_FRAMES, sizeof(*corpus));
	traffic_seed(CORPUS_SEED);
	for (i = 0; i < CORPUS_FRAMES; i++)
		traffic_corpus_next(&corpus[i]);

	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!*line || *line == '#')
			continue;
		differ(line);
		n++;
	}
	fclose(f);

	chain_bound();

	big = big_or(200, host_term);
	differ(big);
	free(big);
	big = big_or(100, port_term);
	differ(big);
	free(big);
	big = deep(40);
	differ(big);
	free(big);
	n += 3;

	printf("  %d expressions x %d frames: %lu (expression, frame, hook) verdicts compared, "
	       "%lu mismatches; %lu truncated IP frames ran at XDP only (the tc test harness "
	       "refuses them)\n", n, CORPUS_FRAMES, pairs, mismatches, tc_refused);
	free(corpus);
	return check_summary("test_filter_diff");
}
