/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowctl: drives libmapi-bpf from a script on standard input, one command a
 * line, one answer a line ("ok ..." or "err CODE MESSAGE"), so that shell
 * tests can create, connect, read and close flows while traffic runs.
 *
 *	create DEV              -> ok FD
 *	attach NAME             -> ok FD         mapid's named flow NAME
 *	dir FD in|out|both      -> ok
 *	mode FD MODE [require]  -> ok            MODE: auto native generic offload
 *	apply FD FUNC [ARG...]  -> ok FID        ARG: "quoted string" or integer
 *	connect FD              -> ok
 *	read FD FID             -> ok VALUE      (MAPI_COPY)
 *	ref FD FID              -> ok VALUE      (MAPI_REF, the value behind it now)
 *	info FD                 -> ok seen=N mode_in=M mode_out=M status=S dropped=N
 *	                           lookup=L backend=B name=NAME|- owner=UID:PID
 *	finfo FD FID            -> ok pkts=N delivered=N dropped=N queued=N past=N
 *	                           value=N
 *	pkt FD FID              -> ok CAPLEN WLEN  waits for a TO_BUFFER packet
 *	close FD                -> ok
 *	nofile N                -> ok OPEN     exactly N more descriptors may be
 *	                                         opened (OPEN: below the limit)
 *	wait FD FID VALUE MS    -> ok VALUE      until the result reaches VALUE
 *	refwait FD FID VALUE MS -> ok VALUE      the same, watching a MAPI_REF
 *	                                         pointer with no library call
 *	echo TEXT               -> TEXT
 */
#include <errno.h>
#include <fcntl.h>
#include <mapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_TOKENS 16

static int tokenize(char *line, char **tok, int *quoted)
{
	int n = 0;
	char *p = line;

	while (*p && n < MAX_TOKENS) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		quoted[n] = *p == '"';
		if (quoted[n]) {
			char *end = strchr(++p, '"');

			tok[n++] = p;
			if (!end)
				break;
			*end = 0;
			p = end + 1;
		} else {
			tok[n++] = p;
			p += strcspn(p, " \t\n");
			if (*p)
				*p++ = 0;
		}
	}
	return n;
}

static void reply_err(void)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	printf("err %d %s\n", code, msg);
}

static int mode_of(const char *s)
{
	if (!strcmp(s, "native"))
		return MAPI_MODE_NATIVE;
	if (!strcmp(s, "generic"))
		return MAPI_MODE_GENERIC;
	if (!strcmp(s, "offload"))
		return MAPI_MODE_OFFLOAD;
	if (!strcmp(s, "auto"))
		return MAPI_MODE_AUTO;
	return -1;
}

static int is_integer(const char *s)
{
	char *end;

	errno = 0;
	strtoll(s, &end, 0);
	return *s && !*end && !errno;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static void run(char **tok, int *quoted, int n)
{
	const char *cmd = tok[0];
	int fd = n > 1 ? atoi(tok[1]) : 0;

	if (!strcmp(cmd, "echo")) {
		int i;

		for (i = 1; i < n; i++)
			printf("%s%s", tok[i], i + 1 < n ? " " : "");
		printf("\n");
	} else if (!strcmp(cmd, "create") && n == 2) {
		int r = mapi_create_flow(tok[1]);

		r < 0 ? reply_err() : (void)printf("ok %d\n", r);
	} else if (!strcmp(cmd, "attach") && n == 2) {
		int r = mapi_attach_flow(tok[1]);

		r < 0 ? reply_err() : (void)printf("ok %d\n", r);
	} else if (!strcmp(cmd, "dir") && n == 3) {
		int d = !strcmp(tok[2], "in") ? MAPI_DIR_IN : !strcmp(tok[2], "out") ?
			MAPI_DIR_OUT : !strcmp(tok[2], "both") ? MAPI_DIR_BOTH : atoi(tok[2]);

		mapi_set_direction(fd, d) < 0 ? reply_err() : (void)printf("ok\n");
	} else if (!strcmp(cmd, "mode") && (n == 3 || n == 4)) {
		int m = mode_of(tok[2]);

		if (n == 4 && !strcmp(tok[3], "require"))
			m |= MAPI_MODE_REQUIRE;
		mapi_set_attach_mode(fd, m) < 0 ? reply_err() : (void)printf("ok\n");
	} else if (!strcmp(cmd, "apply") && n >= 3) {
		struct mapi_arg args[MAX_TOKENS];
		int i, r;

		for (i = 3; i < n; i++) {
			if (!quoted[i] && is_integer(tok[i])) {
				args[i - 3].type = MAPI_ARG_INT;
				args[i - 3].v.i = strtoll(tok[i], NULL, 0);
			} else {
				args[i - 3].type = MAPI_ARG_STR;
				args[i - 3].v.s = tok[i];
			}
		}
		r = mapi_apply_function_args(fd, tok[2], args, n - 3);
		r < 0 ? reply_err() : (void)printf("ok %d\n", r);
	} else if (!strcmp(cmd, "connect") && n == 2) {
		mapi_connect(fd) < 0 ? reply_err() : (void)printf("ok\n");
	} else if ((!strcmp(cmd, "read") || !strcmp(cmd, "ref")) && n == 3) {
		int type = !strcmp(cmd, "read") ? MAPI_COPY : MAPI_REF, fid = atoi(tok[2]);
		mapi_function_info_t fi = { .result = MAPI_RES_ULL };
		void *v;

		mapi_get_function_info(fd, fid, &fi);	/* what kind of result */
		v = mapi_read_results(fd, fid, type);
		if (!v)
			reply_err();
		else if (fi.result == MAPI_RES_FILE)	/* TO_FILE's: an int */
			printf("ok %d\n", *(int *)v);
		else
			printf("ok %llu\n", *(unsigned long long *)v);
	} else if (!strcmp(cmd, "wait") && n == 5) {
		unsigned long long want = strtoull(tok[3], NULL, 0), *v = NULL;
		unsigned long long deadline = now_ms() + strtoull(tok[4], NULL, 0);

		for (;;) {
			v = mapi_read_results(fd, atoi(tok[2]), MAPI_COPY);
			if (!v || *v >= want || now_ms() > deadline)
				break;
			nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
		}
		v ? (void)printf("ok %llu\n", *v) : reply_err();
	} else if (!strcmp(cmd, "refwait") && n == 5) {
		unsigned long long want = strtoull(tok[3], NULL, 0);
		unsigned long long deadline = now_ms() + strtoull(tok[4], NULL, 0);
		volatile unsigned long long *v = mapi_read_results(fd, atoi(tok[2]), MAPI_REF);

		while (v && *v < want && now_ms() <= deadline)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
		v ? (void)printf("ok %llu\n", *v) : reply_err();
	} else if (!strcmp(cmd, "info") && n == 2) {
		mapi_flow_info_t info;

		if (mapi_get_flow_info(fd, &info) < 0)
			reply_err();
		else
			printf("ok seen=%llu mode_in=%s mode_out=%s status=%d dropped=%llu "
			       "lookup=%d backend=%s name=%s owner=%d:%d\n", info.packets_seen,
			       mapi_mode_name(info.mode_in), mapi_mode_name(info.mode_out),
			       info.status, info.packets_dropped, info.lookup,
			       info.backend, *info.name ? info.name : "-", info.owner_uid,
			       info.owner_pid);
	} else if (!strcmp(cmd, "finfo") && n == 3) {
		mapi_function_info_t fi;

		if (mapi_get_function_info(fd, atoi(tok[2]), &fi) < 0)
			reply_err();
		else
			printf("ok pkts=%llu delivered=%llu dropped=%llu queued=%llu past=%llu "
			       "value=%llu\n", fi.pkts, fi.delivered, fi.dropped, fi.queued, fi.past,
			       fi.value);
	} else if (!strcmp(cmd, "pkt") && n == 3) {
		struct mapipkt *pkt = mapi_get_next_pkt(fd, atoi(tok[2]));

		pkt ? (void)printf("ok %u %u\n", pkt->caplen, pkt->wlen) : reply_err();
	} else if (!strcmp(cmd, "close") && n == 2) {
		mapi_close_flow(fd) < 0 ? reply_err() : (void)printf("ok\n");
	} else if (!strcmp(cmd, "nofile") && n == 2) {
		/* exactly N more descriptors may be opened: the limit goes just
		 * past the Nth free number, holes below the highest open one
		 * counted (a new descriptor takes the lowest free number) */
		struct rlimit rl;
		int want = atoi(tok[1]), open_now = 0, k;

		for (k = 0; k < 4096 && (want > 0 || fcntl(k, F_GETFD) >= 0); k++) {
			if (fcntl(k, F_GETFD) >= 0)
				open_now++;
			else
				want--;
		}
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = (rlim_t)k;
		setrlimit(RLIMIT_NOFILE, &rl) ? (void)printf("err 0 setrlimit\n") :
						(void)printf("ok %d\n", open_now);
	} else {
		printf("err 0 flowctl: bad command \"%s\" with %d arguments\n", cmd, n - 1);
	}
}

static void log_to_stderr(int level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level <= MAPI_LOG_INFO)
		fprintf(stderr, "flowctl: %s\n", msg);
}

int main(void)
{
	char line[4096], *tok[MAX_TOKENS];
	int quoted[MAX_TOKENS], n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mapi_set_log(log_to_stderr, NULL);
	while (fgets(line, sizeof(line), stdin)) {
		n = tokenize(line, tok, quoted);
		if (n > 0 && tok[0][0] != '#')
			run(tok, quoted, n);
	}
	return 0;
}
