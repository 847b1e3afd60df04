/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The classic-to-eBPF translator, run in the kernel (BPF_PROG_TEST_RUN) at
 * both hooks, against libpcap's interpreter on the same frames:
 *
 *  - every instruction, with the edge cases the interpreter defines (loads
 *    at and past the end, indirect offsets that overflow, division and
 *    modulo by zero, shifts by 32 or more, uninitialized scratch memory);
 *    each computed value is probed exactly, not only the final verdict;
 *  - tcpdump expressions compiled by libpcap, over the traffic mix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mapi.h"
#include "flowprog.h"
#include "pcap_oracle.h"
#include "traffic.h"

#define S(code, k) { (code), 0, 0, (k) }
#define J(code, k, jt, jf) { (code), (jt), (jf), (k) }
#define MAX_BODY 8

struct frame {
	uint8_t *data;
	uint32_t len;
};

static struct frame frames[16];
static int nframes;


static void add_frame(uint32_t len)
{
	struct frame *f = &frames[nframes++];
	struct pkt p;
	uint32_t i;

	f->data = malloc(len);
	f->len = len;
	for (i = 0; i < len; i++)
		f->data[i] = (uint8_t)traffic_rand();
	/* A real IPv4/TCP header at the front, so that header idioms see
	 * plausible values. */
	pkt_reset(&p);
	do
		traffic_next(&p, TRAFFIC_NO_VLAN);
	while (p.len < 54 || p.b[12] != 0x08 || p.b[13] != 0x00);
	memcpy(f->data, p.b, len < 54 ? len : 54);
	/* The tc test harness refuses IP frames shorter than their headers:
	 * short frames carry an experimental ethertype instead. */
	if (len < 54 && len >= 14) {
		f->data[12] = 0x88;
		f->data[13] = 0xb5;
	}
}

static const char *last_error(void)
{
	static char msg[MAPI_ERRORSTR_LENGTH];

	mapi_read_error(NULL, msg);
	return msg;
}

static const enum flowprog_kind kinds[] = { FP_XDP, FP_XDP_FRAGS, FP_TC };
#define NKINDS 3

static const char *kind_name(enum flowprog_kind k)
{
	return k == FP_XDP ? "XDP" : k == FP_XDP_FRAGS ? "XDP with fragments" : "tc";
}

/* Runs prog on the given frames in every program kind; compares verdicts. */
static void compare(const struct cbpf_prog *prog, const char *name, int first, int last)
{
	struct flowprog fp;
	int h, i, got, err;

	for (h = 0; h < NKINDS; h++) {
		err = flowprog_build(&fp, prog, kinds[h], 0);
		if (!CHECK(!err, "%s at %s: building the flow program: %s", name,
			   kind_name(kinds[h]), last_error())) {
			flowprog_free(&fp);
			continue;
		}
		for (i = first; i <= last; i++) {
			const struct frame *f = &frames[i];
			int want;

			if (f->len > flowprog_max_frame(kinds[h]))
				continue;
			want = oracle_run(prog, f->data, f->len, f->len) != 0;
			err = flowprog_run(&fp, f->data, f->len, &got);
			if (!CHECK(!err, "%s at %s on a %u-byte frame: test run failed: %s", name,
				   kind_name(kinds[h]), f->len, strerror(-err)))
				break;
			CHECK(got == want, "%s at %s on a %u-byte frame: kernel %s, libpcap %s",
			      name, kind_name(kinds[h]), f->len, got ? "passes" : "rejects",
			      want ? "passes" : "rejects");
		}
		flowprog_free(&fp);
	}
}

/*
 * Probes the exact value a body leaves in A: libpcap's interpreter says
 * what it is (body; ret a), then body; jeq #value must pass in the kernel
 * exactly when it passes in libpcap.
 */
static void probe(const struct cbpf_insn *body, size_t n, const char *name)
{
	struct cbpf_insn insns[MAX_BODY + 3];
	struct cbpf_prog prog = { insns, n + 1 };
	int i;

	memcpy(insns, body, n * sizeof(*body));
	insns[n] = (struct cbpf_insn)S(CBPF_RET | CBPF_A, 0);
	compare(&prog, name, 0, nframes - 1);

	for (i = 0; i < nframes; i++) {
		unsigned int v = oracle_run(&prog, frames[i].data, frames[i].len, frames[i].len);
		struct cbpf_insn probe_insns[MAX_BODY + 3];
		struct cbpf_prog pprog = { probe_insns, n + 3 };
		char pname[160];

		memcpy(probe_insns, body, n * sizeof(*body));
		probe_insns[n] = (struct cbpf_insn)J(CBPF_JMP | CBPF_JEQ | CBPF_K, v, 0, 1);
		probe_insns[n + 1] = (struct cbpf_insn)S(CBPF_RET | CBPF_K, 1);
		probe_insns[n + 2] = (struct cbpf_insn)S(CBPF_RET | CBPF_K, 0);
		snprintf(pname, sizeof(pname), "%s == %#x", name, v);
		compare(&pprog, pname, i, i);
	}
}

#define PROBE(name, ...) do {						\
	const struct cbpf_insn body_[] = { __VA_ARGS__ };		\
	probe(body_, sizeof(body_) / sizeof(body_[0]), name);		\
} while (0)

static void test_loads(void)
{
	static const uint32_t abs_offsets[] = {
		0, 1, 10, 12, 13, 56, 58, 59, 60, 61, 62, 63, 124, 1510, 1511, 1512,
		1513, 1514, 2996, 2998, 2999, 3000, 8996, 8999, 9000, 32764, 32765,
		65534, 65535, 65536, 0x7fffffff, 0xfffff000u - 4,
	};
	static const uint32_t sizes[] = { CBPF_W, CBPF_H, CBPF_B };
	static const uint32_t ind[][2] = {
		{ 0, 0 }, { 2, 10 }, { 14, 0 }, { 1500, 10 }, { 58, 1 }, { 0xffff, 1 },
		{ 0x7ffffff0, 0x10 }, { 0xffffffff, 1 }, { 1, 0x7fffffff },
		{ 0x80000000, 0x7fffffff }, { 32766, 0 }, { 8990, 6 },
	};
	static const uint32_t msh[] = { 0, 14, 59, 60, 1513, 2999, 8999, 9000 };
	char name[96];
	size_t i, s;

	for (s = 0; s < 3; s++) {
		for (i = 0; i < sizeof(abs_offsets) / sizeof(*abs_offsets); i++) {
			snprintf(name, sizeof(name), "ld%c [%u]", "whb"[s], abs_offsets[i]);
			PROBE(name, S(CBPF_LD | sizes[s] | CBPF_ABS, abs_offsets[i]));
		}
		for (i = 0; i < sizeof(ind) / sizeof(*ind); i++) {
			snprintf(name, sizeof(name), "ldx #%#x; ld%c [x + %#x]", ind[i][0],
				 "whb"[s], ind[i][1]);
			PROBE(name, S(CBPF_LDX | CBPF_IMM, ind[i][0]),
			      S(CBPF_LD | sizes[s] | CBPF_IND, ind[i][1]));
		}
	}
	for (i = 0; i < sizeof(msh) / sizeof(*msh); i++) {
		snprintf(name, sizeof(name), "ldxb 4*([%u]&0xf); txa", msh[i]);
		PROBE(name, S(CBPF_LDX | CBPF_B | CBPF_MSH, msh[i]), S(CBPF_MISC | CBPF_TXA, 0));
	}
	PROBE("ldxb 4*([14]&0xf); ldh [x + 14]", S(CBPF_LDX | CBPF_B | CBPF_MSH, 14),
	      S(CBPF_LD | CBPF_H | CBPF_IND, 14));
	PROBE("ld len", S(CBPF_LD | CBPF_W | CBPF_LEN, 0));
	PROBE("ldx len; txa", S(CBPF_LDX | CBPF_W | CBPF_LEN, 0), S(CBPF_MISC | CBPF_TXA, 0));
	PROBE("ld #0x89abcdef", S(CBPF_LD | CBPF_IMM, 0x89abcdef));
}

static void test_alu(void)
{
	static const struct { uint16_t op; const char *name; } ops[] = {
		{ CBPF_ADD, "add" }, { CBPF_SUB, "sub" }, { CBPF_MUL, "mul" },
		{ CBPF_DIV, "div" }, { CBPF_MOD, "mod" }, { CBPF_AND, "and" },
		{ CBPF_OR, "or" }, { CBPF_XOR, "xor" }, { CBPF_LSH, "lsh" },
		{ CBPF_RSH, "rsh" },
	};
	static const uint32_t pairs[][2] = {
		{ 0, 0 }, { 5, 3 }, { 0xffffffff, 1 }, { 0x80000000, 0xffffffff },
		{ 7, 0 }, { 1, 31 }, { 0xffffffff, 32 }, { 1, 33 }, { 0xdeadbeef, 0x10001 },
		{ 0x12345678, 64 }, { 3, 0x80000001 },
	};
	char name[96];
	size_t o, p;

	for (o = 0; o < sizeof(ops) / sizeof(*ops); o++) {
		for (p = 0; p < sizeof(pairs) / sizeof(*pairs); p++) {
			uint32_t a = pairs[p][0], k = pairs[p][1];

			/* Constant divisors of 0 and constant shifts by 32 or more are
			 * invalid programs (test_cbpf_check). */
			int div = ops[o].op == CBPF_DIV || ops[o].op == CBPF_MOD;
			int shift = ops[o].op == CBPF_LSH || ops[o].op == CBPF_RSH;

			snprintf(name, sizeof(name), "ld #%#x; %s #%#x", a, ops[o].name, k);
			if (!(div && k == 0) && !(shift && k >= 32))
				PROBE(name, S(CBPF_LD | CBPF_IMM, a),
				      S(CBPF_ALU | ops[o].op | CBPF_K, k));
			snprintf(name, sizeof(name), "ld #%#x; ldx #%#x; %s x", a, k, ops[o].name);
			PROBE(name, S(CBPF_LD | CBPF_IMM, a), S(CBPF_LDX | CBPF_IMM, k),
			      S(CBPF_ALU | ops[o].op | CBPF_X, 0));
		}
	}
	PROBE("ld #5; neg", S(CBPF_LD | CBPF_IMM, 5), S(CBPF_ALU | CBPF_NEG, 0));
	PROBE("ld #0x80000000; neg", S(CBPF_LD | CBPF_IMM, 0x80000000), S(CBPF_ALU | CBPF_NEG, 0));
	PROBE("ld #0; neg", S(CBPF_LD | CBPF_IMM, 0), S(CBPF_ALU | CBPF_NEG, 0));
	PROBE("ldb [14]; add [x=len]; tax; txa", S(CBPF_LD | CBPF_B | CBPF_ABS, 14),
	      S(CBPF_LDX | CBPF_W | CBPF_LEN, 0), S(CBPF_ALU | CBPF_ADD | CBPF_X, 0),
	      S(CBPF_MISC | CBPF_TAX, 0), S(CBPF_LD | CBPF_IMM, 0), S(CBPF_MISC | CBPF_TXA, 0));
}

/*
 * Scratch memory never stored to reads as 0 (newer libpcap zeroes it; older
 * leaves stack garbage, so libpcap cannot be the reference here).
 */
static void never_stored_is_zero(void)
{
	const struct cbpf_insn a[] = { S(CBPF_LD | CBPF_MEM, 5), S(CBPF_RET | CBPF_A, 0) };
	const struct cbpf_insn x[] = { S(CBPF_LDX | CBPF_MEM, 2), S(CBPF_MISC | CBPF_TXA, 0),
				       J(CBPF_JMP | CBPF_JEQ | CBPF_K, 0, 0, 1),
				       S(CBPF_RET | CBPF_K, 1), S(CBPF_RET | CBPF_K, 0) };
	struct cbpf_prog pa = { (struct cbpf_insn *)a, 2 }, px = { (struct cbpf_insn *)x, 5 };
	struct flowprog fp;
	int got = -1, err;

	err = flowprog_build(&fp, &pa, FP_XDP, 0);
	if (CHECK_OK(err, "ld M[5]; ret a"))
		err = flowprog_run(&fp, frames[4].data, frames[4].len, &got);
	CHECK(!err && got == 0, "ld M[5] (never stored); ret a rejects");
	flowprog_free(&fp);
	err = flowprog_build(&fp, &px, FP_TC, 0);
	if (CHECK_OK(err, "ldx M[2]; txa; jeq #0"))
		err = flowprog_run(&fp, frames[4].data, frames[4].len, &got);
	CHECK(!err && got == 1, "ldx M[2] (never stored) reads 0");
	flowprog_free(&fp);
}

static void test_scratch_and_jumps(void)
{
	PROBE("st M[3]; ld M[3]", S(CBPF_LD | CBPF_IMM, 7), S(CBPF_ST, 3),
	      S(CBPF_LD | CBPF_IMM, 0), S(CBPF_LD | CBPF_MEM, 3));
	PROBE("stx M[15]; ld M[15]", S(CBPF_LDX | CBPF_IMM, 9), S(CBPF_STX, 15),
	      S(CBPF_LD | CBPF_MEM, 15));
	never_stored_is_zero();
	PROBE("ld #1; ja 1; ld #2; add #3", S(CBPF_LD | CBPF_IMM, 1), S(CBPF_JMP | CBPF_JA, 1),
	      S(CBPF_LD | CBPF_IMM, 2), S(CBPF_ALU | CBPF_ADD | CBPF_K, 3));

	static const struct { uint16_t op; const char *name; } jops[] = {
		{ CBPF_JEQ, "jeq" }, { CBPF_JGT, "jgt" }, { CBPF_JGE, "jge" }, { CBPF_JSET, "jset" },
	};
	static const uint32_t pairs[][2] = {
		{ 5, 5 }, { 5, 4 }, { 4, 5 }, { 0x80000000, 1 }, { 1, 0x80000000 },
		{ 0xffffffff, 0xfffffffe }, { 6, 1 }, { 0, 0 },
	};
	static const uint8_t jts[][2] = { { 0, 1 }, { 1, 0 }, { 1, 1 }, { 0, 2 } };
	char name[128];
	size_t o, p, j;

	for (o = 0; o < 4; o++) {
		for (p = 0; p < sizeof(pairs) / sizeof(*pairs); p++) {
			for (j = 0; j < sizeof(jts) / sizeof(*jts); j++) {
				uint32_t a = pairs[p][0], k = pairs[p][1];
				uint8_t jt = jts[j][0], jf = jts[j][1];

				snprintf(name, sizeof(name), "ld #%#x; %s #%#x jt %u jf %u", a,
					 jops[o].name, k, jt, jf);
				PROBE(name, S(CBPF_LD | CBPF_IMM, a),
				      J(CBPF_JMP | jops[o].op | CBPF_K, k, jt, jf),
				      S(CBPF_LD | CBPF_IMM, 100), S(CBPF_ALU | CBPF_ADD | CBPF_K, 10),
				      S(CBPF_ALU | CBPF_ADD | CBPF_K, 1));
				snprintf(name, sizeof(name), "ld #%#x; ldx #%#x; %s x jt %u jf %u",
					 a, k, jops[o].name, jt, jf);
				PROBE(name, S(CBPF_LD | CBPF_IMM, a), S(CBPF_LDX | CBPF_IMM, k),
				      J(CBPF_JMP | jops[o].op | CBPF_X, 0, jt, jf),
				      S(CBPF_LD | CBPF_IMM, 100), S(CBPF_ALU | CBPF_ADD | CBPF_K, 10),
				      S(CBPF_ALU | CBPF_ADD | CBPF_K, 1));
			}
		}
	}
}

static void test_returns(void)
{
	const struct cbpf_insn r0[] = { S(CBPF_RET | CBPF_K, 0) };
	const struct cbpf_insn r1[] = { S(CBPF_RET | CBPF_K, 0x40000) };
	const struct cbpf_insn ra0[] = { S(CBPF_LD | CBPF_IMM, 0), S(CBPF_RET | CBPF_A, 0) };
	struct cbpf_prog p;

	p = (struct cbpf_prog){ (struct cbpf_insn *)r0, 1 };
	compare(&p, "ret #0", 0, nframes - 1);
	p = (struct cbpf_prog){ (struct cbpf_insn *)r1, 1 };
	compare(&p, "ret #0x40000", 0, nframes - 1);
	p = (struct cbpf_prog){ (struct cbpf_insn *)ra0, 2 };
	compare(&p, "ld #0; ret a", 0, nframes - 1);
}

/* An IPv4 or IPv6 frame too short for its network header. */
static int tc_refuses(const struct pkt *p)
{
	uint16_t type = (uint16_t)(p->b[12] << 8 | p->b[13]);

	return (type == 0x0800 && p->len < 34) || (type == 0x86dd && p->len < 54);
}

/* tcpdump expressions, compiled by libpcap, over the traffic mix. */
static void test_expressions(void)
{
	static const char *const exprs[] = {
		"", "tcp", "udp", "icmp", "arp", "ip6", "vlan", "ip and not tcp",
		"tcp and dst port 80", "tcp port 22 or tcp port 443", "udp dst port 53",
		"host 10.1.0.80", "src net 10.1.0.0/27", "dst host 10.1.0.21 and udp",
		"portrange 1000-3000", "greater 1000", "less 100", "len > 1400",
		"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "ip[2:2] > 576",
		"ip[6:2] & 0x1fff != 0", "ip[0] & 0xf > 5", "ether broadcast",
		"ether host 02:00:00:00:00:01", "ether proto 0x88cc", "vlan and udp",
		"vlan 3", "ip6 and tcp", "icmp[icmptype] == icmp-echo", "udp[8:2] = 0x1234",
		"tcp[((tcp[12:1] & 0xf0) >> 2):1] = 0x47", "ip[9] * 2 + 1 > 13",
		"ip[2:2] / (ip[8] - ip[8]) == 0", "ip[2:2] % 7 == 3", "ip[0] << ip[1] != 0",
		"ip[4:4] >> (ip[5] & 0x3f) == 1", "ip[8] ^ 0xff == 0xbf",
		"(ip[1] << 4) | (ip[1] >> 4) != 0", "not (tcp or udp or icmp)",
		"ip multicast or ip6 multicast", "ether multicast",
	};
	enum { N = 3000 };
	static struct pkt pkts[N];
	unsigned long pairs = 0, refused = 0;
	size_t e;
	int i, h;

	traffic_seed(42);
	for (i = 0; i < N; i++)
		traffic_next(&pkts[i], TRAFFIC_ALL);
	for (e = 0; e < sizeof(exprs) / sizeof(*exprs); e++) {
		struct cbpf_prog prog;
		int err = cbpf_compile(exprs[e], LINKTYPE_ETHERNET, 0, &prog);

		if (!CHECK_OK(err, exprs[e]))
			continue;
		for (h = 0; h < NKINDS; h++) {
			struct flowprog fp;
			unsigned long bad = 0;

			err = flowprog_build(&fp, &prog, kinds[h], 0);
			if (CHECK_OK(err, exprs[e])) {
				for (i = 0; i < N && !err; i++) {
					int got, want = oracle_run(&prog, pkts[i].b, (uint32_t)pkts[i].len,
								   (uint32_t)pkts[i].len) != 0;

					err = flowprog_run(&fp, pkts[i].b, (uint32_t)pkts[i].len, &got);
					/* The tc harness refuses truncated IP headers;
					 * the XDP run covers those frames. */
					if (err == -EINVAL && kinds[h] == FP_TC && tc_refuses(&pkts[i])) {
						err = 0;
						refused++;
						continue;
					}
					bad += !err && got != want;
					pairs++;
				}
				CHECK(!err, "'%s' at %s: test run on a %zu-byte frame: %s", exprs[e],
				      kind_name(kinds[h]), pkts[i - 1].len, strerror(-err));
				CHECK(bad == 0, "'%s' at %s: %lu of %d frames disagree with libpcap",
				      exprs[e], kind_name(kinds[h]), bad, N);
			}
			flowprog_free(&fp);
		}
		cbpf_prog_free(&prog);
	}
	printf("  %lu (expression, frame, hook) verdicts compared; %lu truncated IP frames "
	       "run at XDP only (the tc test harness refuses them)\n", pairs, refused);
}

/*
 * Loops whose values the verifier could follow exactly (constants added
 * at every round, kept in A, X or M[]) and whose exit it never reaches
 * load all the same, and give up at the 65th jump back, as cbpf_exec:
 * libpcap 1.10.3 would go round for ever, so the rule is the oracle.
 */
static void test_loops_of_constants(void)
{
	const struct cbpf_insn in_a[] = {
		S(CBPF_LD | CBPF_IMM, 1), S(CBPF_ALU | CBPF_ADD | CBPF_K, 2),
		J(CBPF_JMP | CBPF_JEQ | CBPF_K, 0, 1, 0),	/* A odd: never 0 */
		S(CBPF_JMP | CBPF_JA, (uint32_t)-3), S(CBPF_RET | CBPF_K, 1),
	};
	const struct cbpf_insn in_x_and_m[] = {
		S(CBPF_LDX | CBPF_IMM, 1), S(CBPF_ST, 2),
		S(CBPF_LD | CBPF_MEM, 2), S(CBPF_ALU | CBPF_ADD | CBPF_K, 2), S(CBPF_ST, 2),
		S(CBPF_MISC | CBPF_TXA, 0), S(CBPF_ALU | CBPF_ADD | CBPF_K, 4),
		S(CBPF_MISC | CBPF_TAX, 0),
		J(CBPF_JMP | CBPF_JEQ | CBPF_K, 0, 1, 0),	/* X odd: never 0 */
		S(CBPF_JMP | CBPF_JA, (uint32_t)-8), S(CBPF_RET | CBPF_K, 1),
	};
	const struct { const struct cbpf_insn *insns; size_t n; const char *name; } progs[] = {
		{ in_a, sizeof(in_a) / sizeof(*in_a), "a loop adding 2 to A" },
		{ in_x_and_m, sizeof(in_x_and_m) / sizeof(*in_x_and_m),
		  "a loop adding to M[2] and X" },
	};
	uint32_t mem[CBPF_MEMWORDS];
	struct flowprog fp;
	size_t p;
	int h, got, err;

	for (p = 0; p < sizeof(progs) / sizeof(*progs); p++) {
		struct cbpf_prog prog = { (struct cbpf_insn *)progs[p].insns, progs[p].n };

		CHECK(!cbpf_exec(&prog, frames[4].data, frames[4].len, frames[4].len, mem),
		      "%s: cbpf_exec gives up", progs[p].name);
		for (h = 0; h < NKINDS; h++) {
			err = flowprog_build(&fp, &prog, kinds[h], 0);
			if (CHECK(!err, "%s at %s loads: %s", progs[p].name, kind_name(kinds[h]),
				  err ? last_error() : "") &&
			    CHECK(!flowprog_run(&fp, frames[4].data, frames[4].len, &got),
				  "%s at %s: test run", progs[p].name, kind_name(kinds[h])))
				CHECK(!got, "%s at %s: gives up (rejects)", progs[p].name,
				      kind_name(kinds[h]));
			flowprog_free(&fp);
		}
	}
}

int main(void)
{
	static const uint32_t lens[] = { 14, 15, 33, 54, 60, 64, 128, 1514, 3000, 9000 };
	size_t i;

	traffic_seed(7);
	for (i = 0; i < sizeof(lens) / sizeof(*lens); i++)
		add_frame(lens[i]);
	test_loads();
	test_alu();
	test_scratch_and_jumps();
	test_returns();
	test_expressions();
	test_loops_of_constants();
	for (i = 0; i < (size_t)nframes; i++)
		free(frames[i].data);
	return check_summary("test_xlate_run");
}
