/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_search_run: STR_SEARCH in the kernel against a plain search in C.
 *
 * Each case is a pattern, an offset and a depth, written in MAPI's pattern
 * syntax (text, |hex| runs, \| and \\) from random bytes.  The flow
 * STR_SEARCH + PKT_COUNTER runs (BPF_PROG_TEST_RUN) on frames built for the
 * case: the pattern planted inside the window, at its edges, across its end,
 * before it, not at all, or almost (one byte changed).  The kernel's
 * verdict must be the verdict of memmem() over the window
 * [offset, min(offset + depth, length)), in native XDP, in XDP with
 * fragments (frames up to 9 KB over several pages) and at tc.  Cases of
 * MAPI 2.0's alternatives (a||b||c) match when memmem finds any one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbpf.h"
#include "check.h"
#include "flowprog.h"
#include "mapi.h"
#include "tracew.h"

#define CASES 150
#define FRAMES_PER_CASE 24

static const enum flowprog_kind kinds[] = { FP_XDP, FP_XDP_FRAGS, FP_TC };
static unsigned long verdicts, matches;

static uint64_t rng = 0x5eed2002;

static uint32_t below(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Bytes from a small alphabet, so that near-matches are common. */
static uint8_t some_byte(void)
{
	static const uint8_t alpha[] = { 0x00, 'E', '@', '|', '\\', 0xff, 'a' };

	return below(4) ? alpha[below(sizeof(alpha))] : (uint8_t)below(256);
}

/* pat as MAPI pattern text: printable bytes as text, the rest as |hex|. */
static void encode(const uint8_t *pat, int m, char *out)
{
	int i, in_hex = 0;

	for (i = 0; i < m; i++) {
		int text = pat[i] >= 0x20 && pat[i] < 0x7f && pat[i] != ' ' && below(3);

		if (in_hex && (text || !below(4))) {
			*out++ = '|';	/* close the run (sometimes split runs) */
			in_hex = 0;
		}
		if (text) {
			if (pat[i] == '|' || pat[i] == '\\')
				*out++ = '\\';
			*out++ = (char)pat[i];
			continue;
		}
		if (!in_hex)
			*out++ = '|';
		else if (below(2))
			*out++ = ' ';
		in_hex = 1;
		out += sprintf(out, below(2) ? "%02x" : "%02X", pat[i]);
	}
	if (in_hex)
		*out++ = '|';
	*out = 0;
}

static int reference(const uint8_t *frame, uint32_t len, const uint8_t *pat, int m,
		     uint32_t offset, uint32_t depth)
{
	uint32_t end = depth && offset + depth < len ? offset + depth : len;

	if (offset >= end || end - offset < (uint32_t)m)
		return 0;
	return memmem(frame + offset, end - offset, pat, (size_t)m) != NULL;
}

#define ALTS_MAX 16

/* Alternatives: n of them, alt[i] of len[i] bytes. */
struct alts {
	uint8_t b[ALTS_MAX][255];
	int len[ALTS_MAX];
	int n;
};

/* A frame for the case: where = 0 random, 1..5 the pattern placed. */
static uint32_t make_frame(uint8_t *f, uint32_t max, const uint8_t *pat, int m,
			   uint32_t offset, uint32_t depth)
{
	uint32_t len = 14 + below(max - 13), at, i, win_end;

	for (i = 0; i < max; i++)
		f[i] = some_byte();
	f[12] = 0x88;	/* an ethertype no harness parses */
	f[13] = 0xb5;
	win_end = depth ? offset + depth : len;
	switch (below(7)) {
	case 0:
		return len;
	case 1:		/* ends exactly at the window's end */
		at = win_end - (uint32_t)m;
		break;
	case 2:		/* one byte past it */
		at = win_end - (uint32_t)m + 1;
		break;
	case 3:		/* starts exactly at the offset, or one before */
		at = offset - below(2);
		break;
	case 4:		/* across the window's end */
		at = win_end - (uint32_t)m / 2;
		break;
	default:	/* anywhere in the window */
		at = offset + below(win_end > offset ? win_end - offset : 1);
		break;
	}
	if (at < 14 || at > max || at + (uint32_t)m > max)
		return len;
	if (at + (uint32_t)m > len)
		len = at + (uint32_t)m + below(max - at - (uint32_t)m + 1);
	memcpy(f + at, pat, (size_t)m);
	if (!below(4))
		f[at + below((uint32_t)m)] ^= 0x01;	/* a look-alike */
	return len;
}

/* The trace half: the same search over the trace of the frames the last
 * kind ran on; how many it kept. */
static long offline_count(const char *trace, const char *text, uint32_t offset, uint32_t depth)
{
	int fd = mapi_create_offline_flow(trace, MFF_PCAP), fid;
	unsigned long long *v;
	mapi_flow_info_t info;
	long n = -1;

	if (fd < 0 || mapi_apply_function(fd, "STR_SEARCH", text, (int)offset, (int)depth) < 0 ||
	    (fid = mapi_apply_function(fd, "PKT_COUNTER")) < 0 || mapi_connect(fd) < 0)
		return -1;
	do {
		if (mapi_get_flow_info(fd, &info) < 0)
			break;
	} while (info.trace_status == MAPI_TRACE_READING && !usleep(1000));
	v = info.trace_status == MAPI_TRACE_DONE ? mapi_read_results(fd, fid, MAPI_COPY) : NULL;
	if (v)
		n = (long)*v;
	mapi_close_flow(fd);
	return n;
}

static int run_alts(const struct alts *al, uint32_t offset, uint32_t depth)
{
	char trace[64];
	long wanted = 0, offline;
	struct tracew w;
	static uint8_t frame[9216];
	char text[ALTS_MAX * (4 * 256 + 8)];
	struct flowprog_fn fn = { .name = "STR_SEARCH", .nargs = 3 };
	int i, ok = 1, a, longest = 0;
	unsigned int k;
	char *t = text;

	for (a = 0; a < al->n; a++) {
		if (a) {
			*t++ = '|';	/* MAPI 2.0's separator */
			*t++ = '|';
		}
		encode(al->b[a], al->len[a], t);
		t += strlen(t);
		if (al->len[a] > longest)
			longest = al->len[a];
	}
	fn.args[0] = (struct mapi_arg){ MAPI_ARG_STR, { .s = text } };
	fn.args[1] = (struct mapi_arg){ MAPI_ARG_INT, { .i = offset } };
	fn.args[2] = (struct mapi_arg){ MAPI_ARG_INT, { .i = depth } };
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		uint32_t max = flowprog_max_frame(kinds[k]);
		struct flowprog fp;
		int err = flowprog_build_fns(&fp, NULL, &fn, 1, kinds[k]);

		if (!CHECK_OK(err, "building STR_SEARCH")) {
			char msg[MAPI_ERRORSTR_LENGTH];

			mapi_read_error(NULL, msg);
			fprintf(stderr, "  pattern \"%s\" offset %u depth %u: %s\n", text, offset,
				depth, msg);
			flowprog_free(&fp);
			return 0;
		}
		/* the last kind's frames, for the trace half */
		if (k + 1 == sizeof(kinds) / sizeof(kinds[0])) {
			snprintf(trace, sizeof(trace), "/tmp/mapi-search.%d.pcap", (int)getpid());
			if (!CHECK_OK(tracew_open(&w, trace, 0, LINKTYPE_ETHERNET, 0), "a trace")) {
				flowprog_free(&fp);
				return 0;
			}
		}
		for (i = 0; i < FRAMES_PER_CASE; i++) {
			/* one of them planted (or none), the verdict any one's */
			int pick = (int)below((uint32_t)al->n), want = 0, got;
			uint32_t len = make_frame(frame, max, al->b[pick], al->len[pick], offset,
						  depth);

			for (a = 0; a < al->n; a++)
				want |= reference(frame, len, al->b[a], al->len[a], offset, depth);
			if (k + 1 == sizeof(kinds) / sizeof(kinds[0])) {
				tracew_put(&w, 1000000000ull + (uint64_t)i, frame, len, len);
				wanted += want;
			}
			err = flowprog_run(&fp, frame, len, &got);
			if (!CHECK_OK(err, "running"))
				break;
			verdicts++;
			matches += (unsigned long)want;
			if (!CHECK(got == want, "pattern \"%.300s\" (%d alternatives, the longest %d "
				   "bytes) offset %u depth %u, kind %u, frame of %u bytes: kernel %d, "
				   "memmem %d", text, al->n, longest, offset, depth, k, len, got, want))
				ok = 0;
		}
		flowprog_free(&fp);
	}
	if (!CHECK_OK(tracew_close(&w), "writing the trace"))
		return 0;
	offline = offline_count(trace, text, offset, depth);
	unlink(trace);
	if (!CHECK(offline == wanted, "pattern \"%.300s\" offset %u depth %u over a trace: "
		   "kept %ld, memmem %ld", text, offset, depth, offline, wanted))
		ok = 0;
	return ok;
}

static int run_case(const uint8_t *pat, int m, uint32_t offset, uint32_t depth)
{
	static struct alts one;

	memcpy(one.b[0], pat, (size_t)m);
	one.len[0] = m;
	one.n = 1;
	return run_alts(&one, offset, depth);
}

/*
 * A jumbo frame of 9,216 bytes over several pages (XDP with fragments): the
 * pattern in its last bytes is found with a window to the end, and not
 * with a window one byte short.
 */
static void jumbo_edges(void)
{
	static uint8_t frame[9216];
	static const char pat[] = "END-OF-JUMBO";
	struct flowprog_fn fn = { .name = "STR_SEARCH", .nargs = 3 };
	uint32_t len = sizeof(frame), m = sizeof(pat) - 1;
	struct flowprog fp;
	int got, depth;

	memset(frame, 'x', len);
	memcpy(frame + len - m, pat, m);
	for (depth = 0; depth <= 1; depth++) {
		fn.args[0] = (struct mapi_arg){ MAPI_ARG_STR, { .s = pat } };
		fn.args[1] = (struct mapi_arg){ MAPI_ARG_INT, { .i = 14 } };
		/* 0: to the end; else one byte short of it */
		fn.args[2] = (struct mapi_arg){ MAPI_ARG_INT, { .i = depth ? len - 15 : 0 } };
		if (!CHECK_OK(flowprog_build_fns(&fp, NULL, &fn, 1, FP_XDP_FRAGS), "jumbo")) {
			flowprog_free(&fp);
			return;
		}
		if (CHECK_OK(flowprog_run(&fp, frame, len, &got), "running a jumbo frame"))
			CHECK(got == !depth, "jumbo frame, window %s: kernel %d",
			      depth ? "one byte short" : "to the end", got);
		flowprog_free(&fp);
	}
}

int main(void)
{
	static const uint8_t worm[] = { 0, 0, 'E', 0, 0, 'E', 0, 0, '@', 0 };
	static const int lengths[] = { 1, 2, 3, 4, 7, 10, 16, 17, 32, 64, 200, 255 };
	uint8_t pat[255];
	int c, i, m;

	/* the seed's own: the worm in the first 100 bytes */
	run_case(worm, sizeof(worm), 0, 100);
	run_case(worm, sizeof(worm), 42, 0);
	jumbo_edges();
	for (c = 0; c < CASES; c++) {
		uint32_t offset, depth;

		m = lengths[below(sizeof(lengths) / sizeof(lengths[0]))];
		for (i = 0; i < m; i++)
			pat[i] = some_byte();
		/* periodic patterns test the automaton's fall-backs */
		if (below(3) == 0)
			for (i = 1 + (int)below(3); i < m; i++)
				pat[i] = pat[i % (1 + (int)below(2))];
		offset = below(4) ? below(300) : below(3000);
		depth = below(3) ? 0 : (uint32_t)m + below(600);
		run_case(pat, m, offset, depth);
	}
	/* MAPI 2.0's alternatives: 2 to 16, together at most 255 bytes,
	 * sharing prefixes and suffixes often (the automaton's fall-backs) */
	for (c = 0; c < CASES / 2; c++) {
		static struct alts al;
		uint32_t offset, depth;
		int a, total = 0, longest = 0;

		/* up to four: the word skip's; more: every byte stepped */
		al.n = 2 + (int)below(c % 2 ? 3 : ALTS_MAX - 1);
		for (a = 0; a < al.n; a++) {
			m = 1 + (int)below(al.n > 4 ? 14 : a ? 40 : 64);
			if (total + m > 255)
				m = 255 - total;
			if (m < 1) {
				al.n = a;
				break;
			}
			for (i = 0; i < m; i++)
				al.b[a][i] = a && below(3) == 0 && i < al.len[0] ? al.b[0][i]
									: some_byte();
			if (a && below(4) == 0 && m <= al.len[0])	/* a suffix of the first */
				memcpy(al.b[a], al.b[0] + al.len[0] - m, (size_t)m);
			al.len[a] = m;
			total += m;
			if (m > longest)
				longest = m;
		}
		offset = below(4) ? below(300) : below(3000);
		depth = below(3) ? 0 : (uint32_t)longest + below(600);
		run_alts(&al, offset, depth);
	}
	printf("test_search_run: %lu verdicts (%lu matches) over %d cases and 3 program kinds\n",
	       verdicts, matches, CASES + CASES / 2 + 2);
	CHECK(matches > verdicts / 10 && matches < verdicts - verdicts / 10,
	      "the frames mix matches (%lu) and misses", matches);
	return check_summary("test_search_run");
}
