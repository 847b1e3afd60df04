/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The translator on fixed classic programs, without the kernel: programs it
 * must refuse (with a message naming the construct) and expressions it
 * must accept.  Their run-time behaviour is checked in tests/bpf.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cbpf.h"
#include "cbpf_xlate.h"
#include "error.h"
#include "mapi.h"

#define S(code, k) { (code), 0, 0, (k) }
#define J(code, k, jt, jf) { (code), (jt), (jf), (k) }

static void expect_refused(const struct cbpf_insn *insns, size_t n, const char *words)
{
	struct cbpf_prog prog = { (struct cbpf_insn *)insns, n };
	char msg[MAPI_ERRORSTR_LENGTH];
	int code, ret;

	err_begin();
	ret = cbpf_check(&prog);
	assert_int_equal(ret, -EINVAL);
	err_publish(ret);
	err_last(&code, msg, sizeof(msg));
	assert_int_equal(code, MAPI_BPF_FILTER_ERROR);
	if (!strstr(msg, words))
		fail_msg("want a message mentioning \"%s\", got: %s", words, msg);
}

static void test_refused(void **state)
{
	const struct cbpf_insn self[] = { S(CBPF_LD | CBPF_IMM, 1),
					  S(CBPF_JMP | CBPF_JA, (uint32_t)-1),
					  S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn before_start[] = { S(CBPF_JMP | CBPF_JA, (uint32_t)-3),
						  S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn past_end[] = { J(CBPF_JMP | CBPF_JEQ | CBPF_K, 0, 0, 5),
					      S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn ja_past_end[] = { S(CBPF_JMP | CBPF_JA, 1),
						 S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn no_ret[] = { S(CBPF_LD | CBPF_IMM, 1) };
	const struct cbpf_insn bad_op[] = { S(0xff, 0), S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn bad_mem[] = { S(CBPF_ST, 16), S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn div0[] = { S(CBPF_ALU | CBPF_DIV | CBPF_K, 0),
					  S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn mod0[] = { S(CBPF_ALU | CBPF_MOD | CBPF_K, 0),
					  S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn shift[] = { S(CBPF_ALU | CBPF_LSH | CBPF_K, 32),
					   S(CBPF_RET | CBPF_K, 1) };
	const struct cbpf_insn ancillary[] = { S(CBPF_LD | CBPF_H | CBPF_ABS, 0xfffff004),
					       S(CBPF_RET | CBPF_A, 0) };
	/* two loops across each other: heads 1 and 2, back jumps from 3 and 5 */
	const struct cbpf_insn across[] = { S(CBPF_LD | CBPF_IMM, 1),
					    J(CBPF_JMP | CBPF_JEQ | CBPF_K, 0, 5, 0),
					    J(CBPF_JMP | CBPF_JEQ | CBPF_K, 0, 4, 0),
					    S(CBPF_JMP | CBPF_JA, (uint32_t)-3),
					    S(CBPF_ALU | CBPF_ADD | CBPF_K, 1),
					    S(CBPF_JMP | CBPF_JA, (uint32_t)-4),
					    S(CBPF_RET | CBPF_K, 0),
					    S(CBPF_RET | CBPF_K, 1) };

	(void)state;
	expect_refused(self, 3, "jump to itself");
	expect_refused(before_start, 2, "past the end");
	expect_refused(past_end, 2, "past the end");
	expect_refused(ja_past_end, 2, "past the end");
	expect_refused(no_ret, 1, "does not end with a return");
	expect_refused(bad_op, 2, "unknown opcode");
	expect_refused(bad_mem, 2, "scratch memory");
	expect_refused(div0, 2, "division by the constant zero");
	expect_refused(mod0, 2, "division by the constant zero");
	expect_refused(shift, 2, "more than 31 bits");
	expect_refused(ancillary, 2, "capture metadata");
	expect_refused(NULL, 0, "empty");
	expect_refused(across, 8, "a loop inside or across another loop");
}

/* n loops one after the other, each going round while A is not 0 (it is
 * 1): 3 n + 2 instructions. */
static struct cbpf_insn *loops(int n, size_t *len)
{
	struct cbpf_insn *p = calloc((size_t)n * 3 + 2, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	p[0] = (struct cbpf_insn)S(CBPF_LD | CBPF_IMM, 1);
	for (i = 0; i < n; i++) {
		p[1 + 3 * i] = (struct cbpf_insn)J(CBPF_JMP | CBPF_JEQ | CBPF_K, 0, 2, 0);
		p[2 + 3 * i] = (struct cbpf_insn)S(CBPF_ALU | CBPF_ADD | CBPF_K, 0);
		p[3 + 3 * i] = (struct cbpf_insn)S(CBPF_JMP | CBPF_JA, (uint32_t)-3);
	}
	p[1 + 3 * n] = (struct cbpf_insn)S(CBPF_RET | CBPF_K, 1);
	*len = (size_t)n * 3 + 2;
	return p;
}

/* CBPF_MAX_LOOPS loops are taken, one more is refused. */
static void test_loop_bound(void **state)
{
	struct cbpf_insn *p;
	struct cbpf_prog prog;
	size_t len;

	(void)state;
	p = loops(CBPF_MAX_LOOPS, &len);
	assert_non_null(p);
	prog = (struct cbpf_prog){ p, len };
	err_begin();
	assert_int_equal(cbpf_check(&prog), 0);
	assert_int_equal(cbpf_loops(&prog), CBPF_MAX_LOOPS);
	free(p);
	p = loops(CBPF_MAX_LOOPS + 1, &len);
	assert_non_null(p);
	expect_refused(p, len, "more than 64 loops");
	free(p);
}

/* Expressions libpcap compiles must translate, with a reject path. */
static void test_translates(void **state)
{
	static const char *const exprs[] = {
		"tcp and dst port 80", "udp or icmp", "vlan and ip", "ip6 and tcp",
		"ether broadcast", "len > 100", "tcp[tcpflags] & tcp-syn != 0",
		"ether[4294967295:4] = 1",
		"ip[2:2] / (ip[8] - ip[8]) == 0", "mpls and udp", "pppoes and ip",
		"ip[0] << ip[1] != 0", "arp or rarp", "sctp", "igmp", "icmp6",
		"ip protochain 17", "ip6 protochain 6",
		/* the most protochains libpcap compiles: 30 loops */
		"protochain 1 or protochain 2 or protochain 3 or protochain 4 or protochain 5 or "
		"protochain 6 or protochain 7 or protochain 8 or protochain 9 or protochain 10 or "
		"protochain 11 or protochain 12 or protochain 13 or protochain 14 or protochain 15",
	};
	struct xlate_env env = {
		.hook = XLATE_TC, .wirelen_off = -8, .scratch_off = -96, .buf_off = -16,
		.spill_off = -32, .loop_off = -240,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(exprs) / sizeof(*exprs); i++) {
		struct cbpf_prog prog;
		struct prog_buf pb;

		err_begin();
		assert_int_equal(cbpf_compile(exprs[i], LINKTYPE_ETHERNET, 0, &prog), 0);
		pb_init(&pb);
		env.reject_label = pb_new_label(&pb);
		assert_int_equal(cbpf_translate(&pb, &prog, &env), 0);
		pb_bind(&pb, env.reject_label);
		pb_emit(&pb, EXIT_INSN());
		assert_int_equal(pb_finish(&pb), 0);
		assert_true(pb.len > prog.len);
		pb_free(&pb);
		cbpf_prog_free(&prog);
	}
}

/* A filter that can never pass still leaves its successor reachable. */
static void test_never_accepts(void **state)
{
	const struct cbpf_insn r0[] = { S(CBPF_RET | CBPF_K, 0) };
	struct cbpf_prog prog = { (struct cbpf_insn *)r0, 1 };
	struct xlate_env env = {
		.hook = XLATE_XDP, .wirelen_off = -8, .scratch_off = -96, .buf_off = -16,
		.spill_off = -32, .loop_off = -240,
	};
	struct prog_buf pb;
	size_t i;
	int conditional = 0;

	(void)state;
	pb_init(&pb);
	env.reject_label = pb_new_label(&pb);
	assert_int_equal(cbpf_translate(&pb, &prog, &env), 0);
	for (i = 0; i < pb.len; i++)
		conditional |= BPF_CLASS(pb.insns[i].code) == BPF_JMP &&
			       BPF_OP(pb.insns[i].code) == BPF_JEQ && pb.insns[i].dst_reg == 6;
	assert_true(conditional);
	pb_free(&pb);
}

static void test_dump(void **state)
{
	struct cbpf_prog prog;
	char *text = NULL;

	(void)state;
	assert_int_equal(cbpf_compile("tcp", LINKTYPE_ETHERNET, 0, &prog), 0);
	assert_int_equal(cbpf_dump(&prog, &text), 0);
	assert_non_null(strstr(text, "(000) ldh      [12]"));
	free(text);
	cbpf_prog_free(&prog);
}

/* mapi_dump_filter, what `mapi compile` prints. */
static void test_public_dump(void **state)
{
	char *both = mapi_dump_filter("tcp and dst port 80", MAPI_DUMP_CLASSIC | MAPI_DUMP_EBPF);
	char *tc = mapi_dump_filter("udp", MAPI_DUMP_EBPF | MAPI_DUMP_TC);
	char *classic = mapi_dump_filter("udp", MAPI_DUMP_CLASSIC);
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	(void)state;
	assert_non_null(both);
	assert_non_null(strstr(both, "classic BPF (libpcap), 16 instructions"));
	assert_non_null(strstr(both, "(014) ret      #262144"));
	assert_non_null(strstr(both, "eBPF (native XDP)"));
	assert_non_null(strstr(both, "r4 = be16 r4"));
	assert_non_null(tc);
	assert_non_null(strstr(tc, "eBPF (tc)"));
	assert_null(strstr(tc, "classic"));
	assert_non_null(classic);
	assert_null(strstr(classic, "eBPF"));
	assert_null(mapi_dump_filter("udp and and", MAPI_DUMP_EBPF));
	mapi_read_error(&code, msg);
	assert_int_equal(code, MAPI_BPF_FILTER_ERROR);
	/* asking for nothing, or for what does not exist, is an error */
	assert_null(mapi_dump_filter("tcp", 0));
	mapi_read_error(&code, msg);
	assert_int_equal(code, MAPI_INVALID_ARGUMENT + 2);
	assert_null(mapi_dump_filter("tcp", MAPI_DUMP_TC));
	assert_null(mapi_dump_filter("tcp", MAPI_DUMP_EBPF | 0x100));
	free(both);
	free(tc);
	free(classic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_loop_bound),
		cmocka_unit_test(test_translates),
		cmocka_unit_test(test_never_accepts),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_public_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
