/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * STR_SEARCH(PATTERN, OFFSET, DEPTH): keeps packets that contain PATTERN
 * inside a window of the frame, searched in the kernel.
 *
 * PATTERN is text with |hex hex ...| runs for bytes and \| (\\) for a
 * literal pipe (backslash); "||" separates alternatives, any one of which
 * matches (MAPI 2.0's).  The window starts OFFSET bytes into the frame
 * and spans DEPTH bytes (0: to the end); the whole pattern must lie inside
 * it.  The search is a finite automaton (Aho-Corasick's, with every
 * transition computed): one table lookup a byte, whatever the patterns'
 * number and length, O(window) a packet.  The table lives in a map of the function's
 * own; the scan runs in a bpf_loop callback, 64 bytes a round, so that the
 * verifier checks it once whatever the window.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen.h"
#include "error.h"
#include "functions.h"

/* States are bytes: alternatives of m bytes together have at most m + 1. */
#define PATTERN_MAX 255
/* A window may start anywhere in the largest frame the kernel builds. */
#define OFFSET_MAX 65535
/* Bytes a round of the callback reads (eight 8-byte words). */
#define ROUND 64
#define ROUND_SHIFT 6

/* MAPI 2.0's a||b: alternatives, any one of which matches. */
#define SEARCH_ALTS_MAX 16
/* A word is skipped when it holds none of the bytes that leave the start,
 * if there are at most this many: a test each, cheaper than 8 steps. */
#define SKIP_FIRSTS_MAX 4

struct search {
	uint8_t pat[PATTERN_MAX];	/* the alternatives, one after another */
	int alt_len[SEARCH_ALTS_MAX];
	int nalt;
	int shortest, longest;		/* of the alternatives, in bytes */
	int offset, depth;
	uint8_t *table;		/* the automaton: the next state */
	int accept;		/* the first state where an alternative ends */
	uint8_t firsts[SKIP_FIRSTS_MAX];	/* the bytes that leave the start, */
	int nfirst;		/* if so few (else 0: no word is skipped) */
	int map_fd;
};

static int bad_pattern(int code, const char *pattern, const char *why)
{
	return err_set(-EINVAL, code, "STR_SEARCH pattern \"%s\": %s", pattern, why);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * MAPI's pattern syntax into bytes: the alternatives one after another in
 * out, alt_len[i] bytes each.  Outside a |hex| run, "||" separates two
 * alternatives (MAPI 2.0's "abcd|||65 66|||ijkl" is abcd, ef and ijkl).
 */
static int search_parse(const char *s, uint8_t *out, int *alt_len, int *nalt)
{
	const char *p = s;
	int n = 0, start = 0;

	*nalt = 0;
	for (;;) {
		if (!*p || (p[0] == '|' && p[1] == '|')) {
			/* the end of an alternative */
			if (n == start)
				return bad_pattern(MAPI_STR_SEARCH_BAD_PATTERN, s,
						   *p || *nalt ? "an alternative is empty" :
								 "the pattern is empty");
			if (*nalt == SEARCH_ALTS_MAX)
				return bad_pattern(MAPI_STR_SEARCH_BAD_PATTERN, s,
						   "more than 16 alternatives");
			alt_len[(*nalt)++] = n - start;
			start = n;
			if (!*p)
				return 0;
			p += 2;
			continue;
		}
		if (*p == '|') {
			int digits = 0, hi = 0;

			for (p++; *p && *p != '|'; p++) {
				int v = hexval(*p);

				if (*p == ' ')
					continue;
				if (v < 0) {
					char why[64];

					snprintf(why, sizeof(why), "'%c' is not a hex digit inside |...|",
						 *p);
					return bad_pattern(MAPI_STR_SEARCH_BAD_HEX, s, why);
				}
				if (digits++ % 2 == 0) {
					hi = v;
					continue;
				}
				if (n == PATTERN_MAX)
					goto too_long;
				out[n++] = (uint8_t)(hi << 4 | v);
			}
			if (!*p)
				return bad_pattern(MAPI_STR_SEARCH_UNTERMINATED, s,
						   "a |...| run is not closed");
			if (digits % 2)
				return bad_pattern(MAPI_STR_SEARCH_BAD_HEX, s,
						   "odd number of hex digits inside |...|");
			if (!digits)
				return bad_pattern(MAPI_STR_SEARCH_BAD_HEX, s, "empty |...| run");
			p++;
			continue;
		}
		if (*p == '\\') {
			if (p[1] != '|' && p[1] != '\\')
				return bad_pattern(MAPI_STR_SEARCH_BAD_PATTERN, s,
						   "\\ escapes only | and \\");
			p++;
		}
		if (n == PATTERN_MAX)
			goto too_long;
		out[n++] = (uint8_t)*p++;
	}
too_long:
	return bad_pattern(MAPI_STR_SEARCH_BAD_PATTERN, s,
			   "longer than 255 bytes (its alternatives together)");
}

/*
 * The automaton: table[s * 256 + c] is the state after c in state s.
 * It has a row for every byte value a state could be, not only those it
 * uses: any state * 256 + byte is then inside it, which the verifier sees
 * without a check that would split its paths.  64 KiB a search.
 *
 * Aho-Corasick's, with every transition computed: the states are the
 * prefixes of the alternatives (a trie), and a byte that leaves the trie
 * goes where the longest suffix that is a prefix of one leads, so that
 * one table lookup a byte finds any of them.  States at which an
 * alternative ends are numbered last, from st->accept: the scan stops at
 * the first state >= accept.  With one alternative it is
 * Knuth-Morris-Pratt's automaton.
 */
#define TABLE_SIZE (256 * 256)

static int search_dfa(struct search *st)
{
	/* trie[s * 256 + c]: the child, or 0; 0 is the root.  At most 256
	 * states: the root and one a byte of the alternatives. */
	uint16_t *trie = calloc(TABLE_SIZE, sizeof(*trie)), fail[256], queue[256], order[256];
	uint8_t ends[256] = { 0 }, renum[256];
	int nstates = 1, i, k, head = 0, tail = 0, off = 0, c, s, n = 0, naccept = 0;

	st->table = calloc(1, TABLE_SIZE);
	if (!trie || !st->table) {
		free(trie);
		free(st->table);
		st->table = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < st->nalt; off += st->alt_len[i++]) {
		for (s = 0, k = 0; k < st->alt_len[i]; k++) {
			uint16_t *next = &trie[s * 256 + st->pat[off + k]];

			if (!*next)
				*next = (uint16_t)nstates++;
			s = *next;
		}
		ends[s] = 1;
	}
	/* breadth first: each state's fall-back before its children's; the
	 * transitions of a state made whole from its fall-back's */
	fail[0] = 0;
	queue[tail++] = 0;
	while (head < tail) {
		s = queue[head++];
		order[n++] = (uint16_t)s;
		ends[s] |= ends[fail[s]];	/* an alternative ends in a suffix */
		for (c = 0; c < 256; c++) {
			uint16_t child = trie[s * 256 + c];

			if (child) {
				fail[child] = s ? trie[fail[s] * 256 + c] : 0;
				queue[tail++] = child;
			} else {
				trie[s * 256 + c] = s ? trie[fail[s] * 256 + c] : 0;
			}
		}
	}
	/* numbered: the states that accept after the others, root first */
	for (k = 0, i = 0; i < n; i++)
		if (!ends[order[i]])
			renum[order[i]] = (uint8_t)k++;
	st->accept = k;
	for (i = 0; i < n; i++)
		if (ends[order[i]])
			renum[order[i]] = (uint8_t)(k + naccept++);
	for (s = 0; s < nstates; s++)
		if (!ends[s])
			for (c = 0; c < 256; c++)
				st->table[renum[s] * 256 + c] = renum[trie[s * 256 + c]];
	free(trie);
	/* the bytes that leave the start: a word without any is skipped
	 * (emit_scan), when they are few */
	st->nfirst = 0;
	for (c = 0; c < 256; c++) {
		if (!st->table[c])
			continue;
		if (st->nfirst == SKIP_FIRSTS_MAX) {
			st->nfirst = 0;
			break;
		}
		st->firsts[st->nfirst++] = (uint8_t)c;
	}
	return 0;
}

static int search_prepare(struct fn_instance *fi, const struct flow *f)
{
	struct search *st = calloc(1, sizeof(*st));
	int ret, i;

	(void)f;
	if (!st)
		return -ENOMEM;
	st->map_fd = -1;
	st->offset = (int)fi->args[1].v.i;
	st->depth = (int)fi->args[2].v.i;
	ret = search_parse(fi->args[0].v.s, st->pat, st->alt_len, &st->nalt);
	st->shortest = PATTERN_MAX;
	for (i = 0; !ret && i < st->nalt; i++) {
		if (st->alt_len[i] < st->shortest)
			st->shortest = st->alt_len[i];
		if (st->alt_len[i] > st->longest)
			st->longest = st->alt_len[i];
	}
	if (!ret && st->offset < 0)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			      "STR_SEARCH offset %d: must not be negative", st->offset);
	if (!ret && st->depth < 0)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			      "STR_SEARCH depth %d: must not be negative (0: to the end)",
			      st->depth);
	/* every alternative must be able to match: one that never could is a
	 * mistake to say, not to carry */
	if (!ret && st->offset > OFFSET_MAX - st->longest)
		ret = err_set(-EINVAL, MAPI_STR_SEARCH_BAD_RANGE,
			      "STR_SEARCH offset %d: no frame is that long (at most %d bytes)",
			      st->offset, OFFSET_MAX);
	if (!ret && st->depth && st->depth < st->longest)
		ret = err_set(-EINVAL, MAPI_STR_SEARCH_BAD_RANGE,
			      "STR_SEARCH depth %d is shorter than the pattern%s (%d bytes): "
			      "%s could match", st->depth, st->nalt > 1 ? "'s longest alternative" : "",
			      st->longest, st->nalt > 1 ? "that alternative never" : "nothing");
	/* a window past the largest frame is one to its end (and offset +
	 * depth then stays far from overflowing) */
	if (!ret && st->depth > OFFSET_MAX + 1)
		st->depth = OFFSET_MAX + 1;
	if (!ret)
		ret = search_dfa(st);
	if (ret) {
		free(st);
		return ret;
	}
	fi->state = st;
	return 0;
}

static int search_connect(struct fn_instance *fi, const struct flow *f)
{
	struct search *st = fi->state;
	uint32_t key = 0;
	int fd;

	(void)f;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_search", sizeof(key),
			    TABLE_SIZE, 1, NULL);
	if (fd < 0)
		return err_kernel(-errno, "creating the STR_SEARCH table");
	if (bpf_map_update_elem(fd, &key, st->table, BPF_ANY) || bpf_map_freeze(fd)) {
		int err = -errno;

		close(fd);
		return err_set(err, MAPI_ERR_KERNEL, "filling the STR_SEARCH table: %s",
			       strerror(-err));
	}
	st->map_fd = fd;
	fi->maps = 1;
	return 0;
}

static void search_disconnect(struct fn_instance *fi)
{
	struct search *st = fi->state;

	if (st->map_fd >= 0)
		close(st->map_fd);
	st->map_fd = -1;
	fi->maps = 0;
}

static void search_release(struct fn_instance *fi)
{
	struct search *st = fi->state;

	if (!st)
		return;
	search_disconnect(fi);
	free(st->table);
	free(st);
	fi->state = NULL;
}

/* The callback's registers. */
#define C_ARGS R6	/* the struct on the caller's stack */
#define C_POS R7
#define C_END R8
#define C_STATE R9
#define C_TABLE R3

/* One byte (in the low 8 bits of reg) through the automaton; found if done. */
static void step(struct prog_buf *pb, int reg, int accept, int found)
{
	pb_emit(pb, ALU64_IMM(BPF_AND, reg, 0xff));
	/* state * 256 + byte: with ADD, not OR, the verifier's bounds stay
	 * exact (a state is a byte: below TABLE_SIZE) */
	pb_emit(pb, ALU64_IMM(BPF_LSH, C_STATE, 8));
	pb_emit(pb, ALU64_REG(BPF_ADD, C_STATE, reg));
	pb_emit(pb, MOV64_REG(R4, C_TABLE));
	pb_emit(pb, ALU64_REG(BPF_ADD, R4, C_STATE));
	pb_emit(pb, LDX_MEM(BPF_B, C_STATE, R4, 0));
	pb_jmp_imm(pb, BPF_JGE, C_STATE, accept, found);
}

/* In state 0, the word in R0 holds none of the bytes that leave it: to
 * skip; else to steps. */
static void emit_skip_test(struct prog_buf *pb, const uint8_t *firsts, int n, int steps,
			   int skip)
{
	int i;

	/* state 0?  Asked of a copy (a shift breaks the verifier's link), so
	 * that the answer does not split the state's range */
	pb_emit(pb, MOV64_REG(R1, C_STATE));
	pb_emit(pb, ALU64_IMM(BPF_LSH, R1, 1));
	pb_jmp_imm(pb, BPF_JNE, R1, 0, steps);
	for (i = 0; i < n; i++) {
		/* a zero byte in word ^ (byte * 0x0101...): the byte is there */
		pb_ld_imm64(pb, R1, 0, 0x0101010101010101ull * firsts[i]);
		pb_emit(pb, ALU64_REG(BPF_XOR, R1, R0));
		pb_ld_imm64(pb, R4, 0, 0x0101010101010101ull);
		pb_emit(pb, MOV64_REG(R5, R1));
		pb_emit(pb, ALU64_REG(BPF_SUB, R5, R4));
		pb_emit(pb, ALU64_IMM(BPF_XOR, R1, -1));
		pb_emit(pb, ALU64_REG(BPF_AND, R5, R1));
		pb_ld_imm64(pb, R4, 0, 0x8080808080808080ull);
		pb_emit(pb, ALU64_REG(BPF_AND, R5, R4));
		pb_jmp_imm(pb, BPF_JNE, R5, 0, steps);
	}
	pb_goto(pb, skip);
}

/*
 * The bytes [R2, R2 + n), n = args->n (1..ROUND), a word at a time, low
 * byte first, then the last n % 8 one by one.  In state 0, when at most
 * four bytes leave state 0 (the alternatives' first bytes), a word without
 * any of them (a test for a zero byte in word ^ byte * 0x0101..., a few
 * ALU operations each) is skipped whole.  On random data that skips nearly every word; the
 * automaton's steps, a dependent load each, run only where the pattern may
 * start.  R2 is a packet pointer or the stack buffer: the same code serves
 * both, which the verifier checks once for each.  Goes to `full` after n
 * = ROUND bytes, to `done` after fewer, to `found` on a match.
 */
static void emit_scan(struct prog_buf *pb, const struct search *st, int full, int done,
		      int found)
{
	int tail = pb_new_label(pb), w, k;

	/*
	 * Written for the verifier as much as for speed: R2 stays put (a word
	 * is R2 + 8w), so that every path into the tail and into the next word
	 * arrives with the same pointer; and n is compared only on a fresh
	 * copy (n - 8(w+1), an ALU result), so that what a comparison learns
	 * does not narrow the n kept on the stack.  Each way through then
	 * leaves few distinct states, and the verifier prunes the rest.
	 */
	for (w = 0; w < ROUND / 8; w++) {
		int skip = pb_new_label(pb), steps = pb_new_label(pb);

		pb_emit(pb, LDX_MEM(BPF_DW, R5, C_ARGS, SEARCH_N));
		pb_emit(pb, ALU64_IMM(BPF_XOR, R5, 0));
		pb_jmp_imm(pb, BPF_JLT, R5, 8 * (w + 1), tail);
		pb_emit(pb, LDX_MEM(BPF_DW, R0, R2, (int16_t)(8 * w)));
		/* in state 0, a word without a byte that leaves it is skipped
		 * (unless many bytes do) */
		if (st->nfirst)
			emit_skip_test(pb, st->firsts, st->nfirst, steps, skip);
		pb_bind(pb, steps);
		for (k = 0; k < 8; k++) {
			pb_emit(pb, MOV64_REG(R1, R0));
			if (k)
				pb_emit(pb, ALU64_IMM(BPF_RSH, R1, 8 * k));
			step(pb, R1, st->accept, found);
		}
		pb_bind(pb, skip);
	}
	pb_goto(pb, full);

	/* the last n % 8 bytes, from R2 + (n & ~7): only ever the buffer */
	pb_bind(pb, tail);
	pb_emit(pb, LDX_MEM(BPF_DW, R5, C_ARGS, SEARCH_N));
	pb_emit(pb, MOV64_REG(R1, R5));
	pb_emit(pb, ALU64_IMM(BPF_AND, R1, ROUND - 8));
	pb_emit(pb, ALU64_REG(BPF_ADD, R2, R1));
	pb_emit(pb, ALU64_IMM(BPF_AND, R5, 7));
	for (k = 0; k < 7; k++) {
		pb_jmp_imm(pb, BPF_JLE, R5, k, done);
		pb_emit(pb, LDX_MEM(BPF_B, R1, R2, (int16_t)k));
		step(pb, R1, st->accept, found);
	}
	pb_goto(pb, done);
}

/*
 * The callback, bpf_loop's round `index`: the bytes [pos, pos + n) of the
 * window, pos = offset + ROUND * index, n = min(ROUND, end - pos).
 * Returns 1 (stop) at the end of the window, on a match (args->found = 1)
 * or when the frame ends early; 0 to go on.  Only the automaton's state
 * carries from round to round, so the verifier's view of a round converges
 * after two: the position comes from the index, not from the previous
 * round.
 */
static void emit_callback(struct codegen *cg, const struct fn_instance *fi, int label)
{
	const struct search *st = fi->state;
	struct prog_buf *pb = &cg->pb;
	int stop = pb_new_label(pb), found = pb_new_label(pb);
	int save = pb_new_label(pb), helper = pb_new_label(pb), scan = pb_new_label(pb);
	int whole = pb_new_label(pb);
	int16_t data_off = cg->hook == XLATE_XDP ? offsetof(struct xdp_md, data) :
						   offsetof(struct __sk_buff, data);
	int16_t end_off = cg->hook == XLATE_XDP ? offsetof(struct xdp_md, data_end) :
						  offsetof(struct __sk_buff, data_end);

	pb_subprog(pb);
	pb_bind(pb, label);
	pb_emit(pb, MOV64_REG(C_ARGS, R2));
	pb_jmp_imm(pb, BPF_JGT, R1, OFFSET_MAX / ROUND + 2, stop);
	pb_emit(pb, MOV64_REG(C_POS, R1));
	pb_emit(pb, ALU64_IMM(BPF_LSH, C_POS, ROUND_SHIFT));
	pb_emit(pb, ALU64_IMM(BPF_ADD, C_POS, st->offset));
	pb_emit(pb, LDX_MEM(BPF_DW, C_END, C_ARGS, SEARCH_END));
	pb_jmp_reg(pb, BPF_JGE, C_POS, C_END, stop);
	pb_emit(pb, LDX_MEM(BPF_DW, C_STATE, C_ARGS, SEARCH_STATE));
	pb_emit(pb, ALU64_IMM(BPF_AND, C_STATE, 0xff));	/* a byte, for the verifier */

	/* n = min(end - pos, ROUND) */
	pb_emit(pb, MOV64_REG(R4, C_END));
	pb_emit(pb, ALU64_REG(BPF_SUB, R4, C_POS));
	pb_jmp_imm(pb, BPF_JLE, R4, ROUND, whole);
	pb_emit(pb, MOV64_IMM(R4, ROUND));
	pb_bind(pb, whole);
	pb_jmp_imm(pb, BPF_JEQ, R4, 0, stop);
	pb_emit(pb, STX_MEM(BPF_DW, C_ARGS, R4, SEARCH_N));

	/* straight from the packet when all ROUND bytes are in its linear part
	 * (always, with linear frames, but at the window's end) */
	pb_jmp_imm(pb, BPF_JLT, R4, ROUND, helper);
	pb_jmp_imm(pb, BPF_JGT, C_POS, 0xffff - ROUND, helper);	/* the kernel's bound */
	pb_emit(pb, LDX_MEM(BPF_DW, R1, C_ARGS, SEARCH_CTX));
	pb_emit(pb, LDX_MEM(BPF_W, R2, R1, data_off));
	pb_emit(pb, LDX_MEM(BPF_W, R1, R1, end_off));
	pb_emit(pb, ALU64_REG(BPF_ADD, R2, C_POS));
	pb_emit(pb, MOV64_REG(R5, R2));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R5, ROUND));
	pb_jmp_reg(pb, BPF_JGT, R5, R1, helper);
	pb_goto(pb, scan);

	/* else through the helper, into the buffer */
	pb_bind(pb, helper);
	pb_emit(pb, LDX_MEM(BPF_DW, R1, C_ARGS, SEARCH_CTX));
	pb_emit(pb, MOV64_REG(R2, C_POS));
	pb_emit(pb, MOV64_REG(R3, C_ARGS));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, SEARCH_BUF));
	pb_emit(pb, CALL_HELPER(cg->hook == XLATE_XDP ? BPF_FUNC_xdp_load_bytes :
			       BPF_FUNC_skb_load_bytes));
	pb_jmp_imm(pb, BPF_JNE, R0, 0, stop);	/* the frame ends sooner */
	pb_emit(pb, MOV64_REG(R2, C_ARGS));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, SEARCH_BUF));

	pb_bind(pb, scan);
	pb_ld_map_value(pb, C_TABLE, st->map_fd, 0);
	emit_scan(pb, st, save, stop, found);

	/* go on with the next round */
	pb_bind(pb, save);
	pb_emit(pb, STX_MEM(BPF_DW, C_ARGS, C_STATE, SEARCH_STATE));
	pb_emit(pb, MOV64_IMM(R0, 0));
	pb_emit(pb, EXIT_INSN());

	pb_bind(pb, found);
	pb_emit(pb, ST_MEM(BPF_DW, C_ARGS, SEARCH_FOUND, 1));
	pb_bind(pb, stop);
	pb_emit(pb, MOV64_IMM(R0, 1));
	pb_emit(pb, EXIT_INSN());
}

/*
 * In the flow: the window [offset, min(offset + depth, len)) and the scan;
 * a packet without the pattern leaves the flow.
 */
static int search_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct search *st = fi->state;
	struct prog_buf *pb = &cg->pb;
	int cb = cg_defer(cg, fi, emit_callback);

	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "STR_SEARCH cannot run on a NIC");
	pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, STK_WIRELEN));
	if (st->depth) {
		int shorter = pb_new_label(pb);

		pb_jmp_imm(pb, BPF_JLE, R1, st->offset + st->depth, shorter);
		pb_emit(pb, MOV64_IMM(R1, st->offset + st->depth));
		pb_bind(pb, shorter);
	}
	/* too short a window for any alternative: no match */
	pb_jmp_imm(pb, BPF_JLT, R1, st->offset + st->shortest, cg->flow_end);
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R1, STK_SEARCH + SEARCH_END));
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_SEARCH + SEARCH_STATE, 0));
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_SEARCH + SEARCH_FOUND, 0));
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R_CTX, STK_SEARCH + SEARCH_CTX));
	/* rounds: the window over ROUND, plus one for a tail through the
	 * helper and one for the first partial round */
	pb_emit(pb, ALU64_IMM(BPF_SUB, R1, st->offset));
	pb_emit(pb, ALU64_IMM(BPF_DIV, R1, ROUND));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R1, 2));
	pb_ld_func(pb, R2, cb);
	pb_emit(pb, MOV64_REG(R3, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, STK_SEARCH));
	pb_emit(pb, MOV64_IMM(R4, 0));
	pb_emit(pb, CALL_HELPER(BPF_FUNC_loop));
	pb_emit(pb, LDX_MEM(BPF_DW, R0, RFP, STK_SEARCH + SEARCH_FOUND));
	pb_jmp_imm(pb, BPF_JEQ, R0, 0, cg->flow_end);
	return 0;
}

/*
 * In the process, on a packet of a trace: the same automaton over the same
 * window, which ends where the captured bytes end.
 */
static int search_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	const struct search *st = fi->state;
	uint32_t end = p->caplen, pos, state = 0;

	(void)f;
	if (st->depth && (uint32_t)(st->offset + st->depth) < end)
		end = (uint32_t)(st->offset + st->depth);
	if (end < (uint32_t)(st->offset + st->shortest))
		return 0;
	for (pos = (uint32_t)st->offset; pos < end; pos++) {
		state = st->table[state * 256 + p->data[pos]];
		if (state >= (uint32_t)st->accept)
			return 1;
	}
	return 0;
}

const struct fn_desc fn_str_search = {
	.name = "STR_SEARCH",
	.forms = { { "sii", "PATTERN OFFSET DEPTH" } },
	.help = "keep packets with PATTERN (text, |hex| runs, \\| for |; a||b: either) inside "
		"DEPTH bytes (0: to the end) from byte OFFSET of the frame",
	.result = FN_RESULT_NONE,
	.payload = 1,
	.prepare = search_prepare,
	.connect = search_connect,
	.emit = search_emit,
	.run = search_run,
	.disconnect = search_disconnect,
	.release = search_release,
};
