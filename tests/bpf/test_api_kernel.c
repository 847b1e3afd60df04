/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The API against the kernel, in a network namespace of its own with veth
 * pairs: state errors after connect, attach modes and their fallbacks
 * (offload is refused by veth, which has no NIC behind it), conflicts with
 * other XDP programs, missing capabilities, vanished interfaces, readers of
 * TO_BUFFER packets and the flow closed under them, conversation flows (hash
 * lookups) beside general ones.  After each case nothing may stay attached.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ebpf_asm.h"
#include "mapi.h"
#include "pktbuild.h"
#include "progwalk.h"

#define ATTACH_TCX_INGRESS 46
#define ATTACH_TCX_EGRESS 47

static char logbuf[8192];

static void collect_log(int level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static int last_code(char *msg)
{
	int code;

	mapi_read_error(&code, msg);
	return code;
}

static int error_is(int code, const char *words)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int got = last_code(msg);

	return CHECK(got == code && strstr(msg, words),
		     "want error %d mentioning \"%s\", got %d: %s", code, words, got, msg);
}

static int sh(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

/* xdp program id and number of tcx egress programs on dev */
static void hooks_of(const char *dev, unsigned int *xdp, unsigned int *tcx)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 ids[8], cnt = 8, flags = 0;
	int ifindex = (int)if_nametoindex(dev);

	*xdp = *tcx = 0;
	if (!bpf_xdp_query(ifindex, 0, &q))
		*xdp = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	if (!bpf_prog_query(ifindex, ATTACH_TCX_EGRESS, 0, &flags, ids, &cnt))
		*tcx = cnt;
	cnt = 8;
	if (!bpf_prog_query(ifindex, ATTACH_TCX_INGRESS, 0, &flags, ids, &cnt))
		*tcx += cnt;	/* received packets after another's XDP program */
}

/* Idle hooks stay attached a second after their last flow: wait up to 5. */
static void nothing_attached(const char *dev, const char *when)
{
	unsigned int xdp, tcx;
	int i;

	for (i = 0; i < 500; i++) {
		hooks_of(dev, &xdp, &tcx);
		if (!xdp && !tcx)
			break;
		usleep(10000);
	}
	CHECK(xdp == 0 && tcx == 0, "%s: %s still has xdp program %u and %u tcx programs",
	      when, dev, xdp, tcx);
}

static int counting_flow(const char *dev)
{
	int fd = mapi_create_flow(dev);

	CHECK(fd > 0, "create a flow on %s", dev);
	CHECK(mapi_apply_function(fd, "PKT_COUNTER") == 1, "apply PKT_COUNTER");
	return fd;
}

static void test_state_errors(void)
{
	mapi_flow_info_t info;
	unsigned long long *v;
	int fd = counting_flow("v1");

	if (!CHECK(mapi_connect(fd) == 0, "connect"))
		return;
	CHECK(mapi_apply_function(fd, "BYTE_COUNTER") == -1, "apply after connect fails");
	error_is(MAPI_APPLY_CONNECTED, "before mapi_connect");	/* MAPI 2.0's 7006 */
	CHECK(mapi_connect(fd) == -1, "connect twice fails");
	error_is(MAPI_FLOW_ALREADY_ACTIVE, "connects once");
	CHECK(mapi_set_direction(fd, MAPI_DIR_IN) == -1, "direction after connect fails");
	error_is(MAPI_FLOW_ALREADY_ACTIVE, "before mapi_connect");
	v = mapi_read_results(fd, 1, MAPI_COPY);
	CHECK(v && *v == 0, "a connected flow reads 0 before traffic");
	CHECK(mapi_get_flow_info(fd, &info) == 0 && info.status == MAPI_FLOW_RUNNING &&
	      info.mode_in == MAPI_MODE_NATIVE && info.mode_out == MAPI_MODE_TCX &&
	      info.start > 0, "info: running, native XDP and tcx (%d, %d)",
	      info.mode_in, info.mode_out);
	mapi_close_flow(fd);
	nothing_attached("v1", "after close");
}

static void test_offload_fallback(void)
{
	mapi_flow_info_t info;
	int fd = counting_flow("v1");

	logbuf[0] = 0;
	mapi_set_attach_mode(fd, MAPI_MODE_OFFLOAD);
	CHECK(mapi_connect(fd) == 0, "offload asked, not demanded: connects");
	CHECK(mapi_get_flow_info(fd, &info) == 0 && info.mode_in == MAPI_MODE_NATIVE,
	      "fell back to native XDP (mode %d)", info.mode_in);
	CHECK(strstr(logbuf, "offload XDP unavailable") != NULL,
	      "the fallback is logged with its reason: %.900s", logbuf);
	mapi_close_flow(fd);

	fd = counting_flow("v1");
	mapi_set_attach_mode(fd, MAPI_MODE_OFFLOAD | MAPI_MODE_REQUIRE);
	CHECK(mapi_connect(fd) == -1, "offload demanded on veth fails");
	error_is(MAPI_ERR_MODE, "offload XDP was demanded but is unavailable");
	nothing_attached("v1", "after a refused offload");
	mapi_close_flow(fd);
}

static void test_modes(void)
{
	mapi_flow_info_t info;
	int a = counting_flow("v2"), b, c;

	mapi_set_attach_mode(a, MAPI_MODE_GENERIC | MAPI_MODE_REQUIRE);
	CHECK(mapi_connect(a) == 0, "generic demanded: connects");
	CHECK(mapi_get_flow_info(a, &info) == 0 && info.mode_in == MAPI_MODE_GENERIC,
	      "runs in generic XDP (mode %d)", info.mode_in);
	b = counting_flow("v2");
	mapi_set_attach_mode(b, MAPI_MODE_NATIVE | MAPI_MODE_REQUIRE);
	CHECK(mapi_connect(b) == -1, "native demanded where generic runs: fails");
	error_is(MAPI_ERR_MODE, "already take received packets in generic mode");
	c = counting_flow("v2");
	CHECK(mapi_connect(c) == 0, "a flow that demands nothing joins generic");
	CHECK(mapi_get_flow_info(c, &info) == 0 && info.mode_in == MAPI_MODE_GENERIC,
	      "and runs in generic XDP (mode %d)", info.mode_in);
	mapi_close_flow(a);
	mapi_close_flow(b);
	mapi_close_flow(c);
	nothing_attached("v2", "after the mode tests");

	a = mapi_create_flow("lo");
	mapi_apply_function(a, "PKT_COUNTER");
	CHECK(mapi_connect(a) == 0, "a flow on loopback connects");
	CHECK(mapi_get_flow_info(a, &info) == 0 && info.direction == MAPI_DIR_IN &&
	      info.mode_in == MAPI_MODE_GENERIC && info.mode_out == MAPI_MODE_NONE,
	      "loopback: received packets only, generic XDP (dir %d, in %d, out %d)",
	      info.direction, info.mode_in, info.mode_out);
	mapi_close_flow(a);

	a = counting_flow("v2");
	mapi_set_direction(a, MAPI_DIR_OUT);
	CHECK(mapi_connect(a) == 0, "an egress-only flow connects");
	{
		unsigned int xdp, tcx;

		hooks_of("v2", &xdp, &tcx);
		CHECK(xdp == 0 && tcx == 1, "egress only: no XDP program, one tcx (%u, %u)",
		      xdp, tcx);
	}
	mapi_close_flow(a);
	nothing_attached("v2", "after the egress-only flow");
}

/*
 * Someone else's XDP program holds the interface: received packets are
 * taken at tc ingress, after it; demanding an XDP mode fails.
 */
static void test_foreign_program(void)
{
	struct bpf_insn pass[] = { MOV64_IMM(R0, XDP_PASS), EXIT_INSN() };
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_XDP);
	unsigned int xdp, tcx;
	mapi_flow_info_t info;
	int prog, link, fd;

	prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "foreign", "GPL", pass, 2, &opts);
	if (!CHECK(prog >= 0, "load a foreign XDP program"))
		return;
	link = bpf_link_create(prog, (int)if_nametoindex("v3"), BPF_XDP, NULL);
	CHECK(link >= 0, "attach it to v3");
	fd = counting_flow("v3");
	mapi_set_attach_mode(fd, MAPI_MODE_NATIVE | MAPI_MODE_REQUIRE);
	CHECK(mapi_connect(fd) == -1, "native XDP demanded beside a foreign program: refused");
	error_is(MAPI_ERR_ATTACH, "which this process did not attach");
	mapi_close_flow(fd);
	fd = counting_flow("v3");
	CHECK(mapi_connect(fd) == 0, "not demanded: it connects");
	CHECK(mapi_get_flow_info(fd, &info) == 0 && info.mode_in == MAPI_MODE_TCX &&
	      info.mode_out == MAPI_MODE_TCX, "received packets at tc ingress (mode %s)",
	      mapi_mode_name(info.mode_in));
	hooks_of("v3", &xdp, &tcx);
	CHECK(xdp != 0 && tcx == 2, "the foreign program stays; tcx ingress and egress "
	      "beside it (%u, %u)", xdp, tcx);
	mapi_close_flow(fd);
	close(link);
	close(prog);
	nothing_attached("v3", "after the foreign program left");
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * Forks children for ms milliseconds, one at a time: each must create and
 * close a flow on v4 at once (5 s at most, or it dies of its alarm) and say
 * so through a pipe (under valgrind the exit status is valgrind's, about
 * memory the parent's threads hold).  Counts them, those that hung and
 * those that failed.
 */
static void fork_children(long ms, int *n, int *hung, int *failed)
{
	struct timespec start;

	*n = *hung = *failed = 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (elapsed_ms(&start) < ms) {
		int status = 0, p[2];
		char ok = 0;
		pid_t pid;

		if (pipe(p)) {
			++*failed;
			break;
		}
		pid = fork();
		if (pid == 0) {
			int c;

			alarm(5);	/* a child stuck on a lock dies of it */
			c = mapi_create_flow("v4");
			ok = c > 0 && mapi_close_flow(c) == 0;
			if (write(p[1], &ok, 1) != 1)
				ok = 0;
			_exit(0);
		}
		close(p[1]);
		++*n;
		if (pid < 0 || read(p[0], &ok, 1) != 1 || waitpid(pid, &status, 0) != pid)
			WIFSIGNALED(status) ? ++*hung : ++*failed;
		else if (!ok)
			++*failed;
		close(p[0]);
	}
}

/*
 * fork() while the library's own thread holds its lock (it does while it
 * detaches a hook left idle, a second after the last flow closed, for tens
 * of milliseconds): the child, which does not have that thread, must be
 * able to call the library at once, whenever the fork fell.
 */
static void test_fork(void)
{
	int fd = counting_flow("v4"), hung, failed, n;

	if (!CHECK(mapi_connect(fd) == 0, "connect a flow on v4"))
		return;
	mapi_close_flow(fd);
	/* the idle hook goes a second after the close: fork across it */
	fork_children(1500, &n, &hung, &failed);
	CHECK(!hung && !failed, "%d children forked while the idle hook went used the library "
	      "(%d hung, %d failed)", n, hung, failed);
	nothing_attached("v4", "after the idle hook went");
}

static int churn_stop;

/* Connects and closes flows on v4 until told to stop: every connect takes
 * the API lock and then the interface watch's. */
static void *churn(void *arg)
{
	int *n = arg;

	while (!__atomic_load_n(&churn_stop, __ATOMIC_ACQUIRE)) {
		int fd = counting_flow("v4");

		if (mapi_connect(fd) == 0)
			++*n;
		mapi_close_flow(fd);
	}
	return NULL;
}

/*
 * fork() while another thread connects and closes flows: fork takes the
 * library's locks in the order every call does, so neither the parent nor
 * the child hangs, and the child can use the library.
 */
static void test_fork_while_connecting(void)
{
	int hung, failed, n, connects = 0;
	pthread_t t;

	if (!CHECK(pthread_create(&t, NULL, churn, &connects) == 0, "start connecting"))
		return;
	alarm(60);	/* a parent stuck in fork() fails the test by dying */
	fork_children(1500, &n, &hung, &failed);
	__atomic_store_n(&churn_stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	alarm(0);
	CHECK(!hung && !failed && connects > 0, "%d children forked while %d flows connected and "
	      "closed (%d hung, %d failed)", n, connects, hung, failed);
	nothing_attached("v4", "after connecting while forking");
}

static int drop_caps(const int *caps, int n)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int i;

	if (syscall(SYS_capget, &hdr, d))
		return -1;
	for (i = 0; i < n; i++)
		d[caps[i] / 32].effective &= ~(1u << (caps[i] % 32));
	return (int)syscall(SYS_capset, &hdr, d);
}

/* In a child that lacks the capabilities, connect fails and names them. */
static void test_capabilities(void)
{
	static const struct {
		int caps[2];
		const char *words;
	} cases[] = {
		{ { 39 /* CAP_BPF */, CAP_SYS_ADMIN }, "missing CAP_BPF" },
		{ { CAP_NET_ADMIN, CAP_SYS_ADMIN }, "missing CAP_NET_ADMIN" },
		/* the verifier refuses a flow's pointer arithmetic without it */
		{ { 38 /* CAP_PERFMON */, CAP_SYS_ADMIN }, "missing CAP_PERFMON" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			int fd = counting_flow("v4");

			check_count = check_failed = 0;
			if (drop_caps(cases[i].caps, 2))
				_exit(2);
			CHECK(mapi_connect(fd) == -1, "connect without the capability fails");
			error_is(MAPI_ERR_PERMISSION, cases[i].words);
			_exit(check_failed ? 1 : 0);
		}
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child without capabilities (%s) passed its checks", cases[i].words);
	}
	nothing_attached("v4", "after the capability checks");
}

static void test_vanished_interface(void)
{
	int fd;

	sh("ip link add gone0 type veth peer name gone1");
	fd = counting_flow("gone0");
	sh("ip link del gone0");
	CHECK(mapi_connect(fd) == -1, "connect after the interface vanished fails");
	error_is(MAPI_NO_SUCH_DEVICE, "gone0");
	mapi_close_flow(fd);
}

/* Sends n frames of 60 bytes out of dev (received by its veth peer); the
 * first payload byte of frame i is i. */
static int send_frames(const char *dev, int n)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	unsigned char frame[60];
	int s, i, sent = 0;

	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	to.sll_ifindex = (int)if_nametoindex(dev);
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);			/* broadcast */
	frame[6] = 0x02;
	frame[12] = 0x88;			/* a local experimental ethertype */
	frame[13] = 0xb5;
	for (i = 0; i < n; i++) {
		frame[14] = (unsigned char)i;
		sent += sendto(s, frame, sizeof(frame), 0, (struct sockaddr *)&to,
			       sizeof(to)) == (ssize_t)sizeof(frame);
	}
	close(s);
	return sent == n ? 0 : -1;
}

static int buffer_flow(const char *dev, int *fid)
{
	int fd = mapi_create_flow(dev);

	CHECK(fd > 0, "create a flow on %s", dev);
	mapi_set_direction(fd, MAPI_DIR_IN);
	*fid = mapi_apply_function(fd, "TO_BUFFER");
	CHECK(*fid == 1, "apply TO_BUFFER");
	CHECK(mapi_connect(fd) == 0, "connect a TO_BUFFER flow");
	return fd;
}

struct reader {
	int fd, fid;
	struct mapipkt *pkt;
	int code;
	char msg[MAPI_ERRORSTR_LENGTH];
};

static void *read_one(void *arg)
{
	struct reader *r = arg;

	r->pkt = mapi_get_next_pkt(r->fd, r->fid);
	if (!r->pkt)
		mapi_read_error(&r->code, r->msg);
	return NULL;
}

/* Waits until another thread waits for the packets of fd/fid. */
static int reader_waits(int fd, int fid)
{
	int i, code;

	for (i = 0; i < 500; i++) {
		if (!mapi_get_next_pkt_timeout(fd, fid, 0)) {
			mapi_read_error(&code, NULL);
			if (code == MAPI_ERR_BUSY)
				return 1;
		}
		usleep(10000);
	}
	return 0;
}

static int join_within(pthread_t t, int seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	return pthread_timedjoin_np(t, NULL, &ts);
}

static int looped, loop_fd;
static unsigned char loop_first[8];

static void count_packet(const struct mapipkt *p)
{
	if (looped < 8)
		loop_first[looped] = p->caplen == 60 && p->wlen == 60 &&
				     p->direction == MAPI_DIR_IN ? p->pkt[14] : 0xee;
	looped++;
}

static void close_after_two(const struct mapipkt *p)
{
	(void)p;
	if (++looped == 2)
		mapi_close_flow(loop_fd);
}

static void *loop_until_closed(void *arg)
{
	*(int *)arg = mapi_loop(loop_fd, 1, 0, count_packet);
	return NULL;
}

/*
 * After fork() a flow stays its creator's: the child may not read it, and
 * closing its copy leaves the parent's flow running; the child's own flows
 * (beside the parent's XDP program: at tc ingress) work.
 */
static void test_fork_flows(void)
{
	int fd = counting_flow("v4"), p[2], status = 0, i;
	unsigned long long *v, before;
	char bad = -1;
	pid_t pid;

	if (!CHECK(mapi_connect(fd) == 0, "connect a flow on v4") || !CHECK(!pipe(p), "a pipe"))
		return;
	pid = fork();
	if (pid == 0) {
		char msg[MAPI_ERRORSTR_LENGTH] = "";
		int code = 0, c;

		alarm(10);
		bad = 0;
		if (mapi_read_results(fd, 1, MAPI_COPY))
			bad |= 1;
		mapi_read_error(&code, msg);
		if (code != MAPI_INVALID_FLOW || !strstr(msg, "inherited by fork()"))
			bad |= 2;
		if (mapi_close_flow(fd) != 0)
			bad |= 4;
		c = mapi_create_flow("v4");
		if (c < 0 || mapi_apply_function(c, "PKT_COUNTER") != 1 || mapi_connect(c) != 0)
			bad |= 8;
		if (mapi_close_flow(c) != 0)
			bad |= 16;
		if (write(p[1], &bad, 1) != 1)
			bad = 0;
		_exit(0);	/* the answer is the pipe's (under valgrind, the status is not) */
	}
	close(p[1]);
	CHECK(pid > 0 && read(p[0], &bad, 1) == 1 && waitpid(pid, &status, 0) == pid,
	      "the child answered");
	close(p[0]);
	CHECK(bad == 0, "the child may not read the parent's flow, closes its copy, runs its own "
	      "(failures %#x)", bad);
	v = mapi_read_results(fd, 1, MAPI_COPY);
	before = v ? *v : 0;
	CHECK(v && send_frames("p4", 5) == 0, "the parent's flow still reads; send 5 frames");
	for (i = 0; i < 200 && v && *v < before + 5; i++) {
		usleep(10000);
		v = mapi_read_results(fd, 1, MAPI_COPY);
	}
	CHECK(v && *v == before + 5, "and counts them: the child's close left it running "
	      "(%llu after %llu)", v ? *v : 0, before);
	mapi_close_flow(fd);
	nothing_attached("v4", "after the fork's flows");
}

static void test_readers(void)
{
	struct reader r = { 0 };
	struct mapipkt *p;
	pthread_t t;
	int fd, fid, i, loop_ret = -2;

	fd = buffer_flow("v2", &fid);
	r.fd = fd;
	r.fid = fid;
	CHECK(mapi_get_next_pkt_timeout(fd, fid, 0) == NULL, "nothing to read yet");
	error_is(MAPI_ERR_TIMEOUT, "no packet is waiting");
	CHECK(mapi_get_next_pkt_timeout(fd, fid, 30) == NULL, "nothing within 30 ms");
	error_is(MAPI_ERR_TIMEOUT, "within 30 ms");

	/* a packet wakes a waiting reader */
	if (!CHECK(pthread_create(&t, NULL, read_one, &r) == 0, "start a reader"))
		return;
	CHECK(reader_waits(fd, fid), "the reader waits (and a second one is refused)");
	CHECK(send_frames("p2", 1) == 0, "send a frame");
	CHECK(join_within(t, 5) == 0, "the reader got up");
	CHECK(r.pkt && r.pkt->caplen == 60 && r.pkt->pkt[14] == 0, "it has the frame");

	/* closing the flow wakes a waiting reader, which fails cleanly */
	r.pkt = NULL;
	if (!CHECK(pthread_create(&t, NULL, read_one, &r) == 0, "start a reader"))
		return;
	CHECK(reader_waits(fd, fid), "the reader waits");
	CHECK(mapi_close_flow(fd) == 0, "close the flow under it");
	CHECK(join_within(t, 5) == 0, "the reader left");
	CHECK(!r.pkt && r.code == MAPI_INVALID_FLOW_OR_FID && strstr(r.msg, "closed while waiting"),
	      "and says why: %d %s", r.code, r.msg);

	/* mapi_loop without a count, the flow closed by another thread before
	 * any packet: it ends, 0 handled, as it would after some */
	fd = buffer_flow("v2", &fid);
	loop_fd = fd;
	looped = 0;
	if (CHECK(pthread_create(&t, NULL, loop_until_closed, &loop_ret) == 0,
		  "start a looping thread")) {
		CHECK(reader_waits(fd, fid), "the loop waits");
		CHECK(mapi_close_flow(fd) == 0, "close the flow under it");
		CHECK(join_within(t, 5) == 0, "the loop left");
		CHECK(loop_ret == 0 && looped == 0, "mapi_loop returned 0 packets handled (%d)",
		      loop_ret);
	}

	/* mapi_loop: a count; then until the callback closes the flow */
	fd = buffer_flow("v2", &fid);
	CHECK(send_frames("p2", 5) == 0, "send 5 frames");
	looped = 0;
	CHECK(mapi_loop(fd, fid, 3, count_packet) == 3, "mapi_loop handles 3");
	CHECK(looped == 3 && !memcmp(loop_first, "\0\1\2", 3),
	      "the callback saw frames 0, 1, 2 in order, whole (%d)", looped);
	p = mapi_get_next_pkt(fd, fid);
	CHECK(p && p->pkt[14] == 3, "the next packet is frame 3");
	loop_fd = fd;
	looped = 0;
	CHECK(send_frames("p2", 2) == 0, "send 2 more");
	i = mapi_loop(fd, fid, 0, close_after_two);
	CHECK(i == 2, "mapi_loop without a count ends when the callback closes the flow (%d)", i);
	CHECK(mapi_get_next_pkt(fd, fid) == NULL, "the flow is gone");
	error_is(MAPI_INVALID_FLOW_OR_FID, "was closed");
	nothing_attached("v2", "after the readers");

	/* packets cannot be kept on a NIC */
	fd = mapi_create_flow("v2");
	mapi_apply_function(fd, "TO_BUFFER");
	mapi_set_attach_mode(fd, MAPI_MODE_OFFLOAD | MAPI_MODE_REQUIRE);
	CHECK(mapi_connect(fd) == -1, "offload demanded for TO_BUFFER fails");
	error_is(MAPI_ERR_MODE, "TO_BUFFER cannot run on a NIC");
	mapi_close_flow(fd);
	/* nor HASHSAMP's records, though HASHSAMP alone may run there: the
	 * engine says so, not the device */
	fd = mapi_create_flow("v2");
	mapi_apply_function(fd, "HASHSAMP", 512, 1);
	mapi_set_attach_mode(fd, MAPI_MODE_OFFLOAD | MAPI_MODE_REQUIRE);
	CHECK(mapi_connect(fd) == -1, "offload demanded for HASHSAMP KEEP 1 fails");
	error_is(MAPI_ERR_MODE, "HASHSAMP cannot run on a NIC");
	mapi_close_flow(fd);
	/* nor a filter with loops (protochain's may_goto) */
	fd = mapi_create_flow("v2");
	mapi_apply_function(fd, "BPF_FILTER", "protochain 6");
	mapi_set_attach_mode(fd, MAPI_MODE_OFFLOAD | MAPI_MODE_REQUIRE);
	CHECK(mapi_connect(fd) == -1, "offload demanded for a protochain filter fails");
	error_is(MAPI_ERR_MODE, "BPF_FILTER cannot run on a NIC");
	mapi_close_flow(fd);
	nothing_attached("v2", "after a refused offload");
}

/* Sends n TCP segments src:sport -> dst:dport out of dev; returns a frame's length. */
static int send_tcp(const char *dev, uint32_t src, uint32_t dst, uint16_t sport,
		    uint16_t dport, int n)
{
	static const uint8_t mac_dst[6] = { 2, 0, 0, 0, 0, 1 }, mac_src[6] = { 2, 0, 0, 0, 0, 2 };
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct pkt p;
	int s, i, sent = 0;

	pkt_reset(&p);
	pkt_eth(&p, mac_dst, mac_src, 0x0800);
	pkt_ipv4_begin(&p, src, dst, 6, 0, 0);
	pkt_tcp(&p, sport, dport, 1, 0x18);
	pkt_put(&p, "conversation", 12);
	pkt_ipv4_end(&p);
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	to.sll_ifindex = (int)if_nametoindex(dev);
	for (i = 0; i < n; i++)
		sent += sendto(s, p.b, p.len, 0, (struct sockaddr *)&to, sizeof(to)) ==
			(ssize_t)p.len;
	close(s);
	return sent == n ? (int)p.len : -1;
}

static int counter_flow(const char *dev, const char *filter, int dir, int *pkts, int *bytes)
{
	int fd = mapi_create_flow(dev);

	mapi_set_direction(fd, dir);
	CHECK(mapi_apply_function(fd, "BPF_FILTER", filter) == 1, "filter '%s'", filter);
	*pkts = mapi_apply_function(fd, "PKT_COUNTER");
	*bytes = mapi_apply_function(fd, "BYTE_COUNTER");
	CHECK(mapi_connect(fd) == 0, "connect '%s'", filter);
	return fd;
}

/* Waits (5 s at most) until fid of fd has counted want; returns the count. */
static unsigned long long count_reaches(int fd, int fid, unsigned long long want)
{
	unsigned long long *v = NULL;
	int i;

	for (i = 0; i < 500; i++) {
		v = mapi_read_results(fd, fid, MAPI_COPY);
		if (!v || *v >= want)
			break;
		usleep(10000);
	}
	return v ? *v : ~0ULL;
}

static int runs_as_lookup(int fd)
{
	mapi_flow_info_t info;

	return mapi_get_flow_info(fd, &info) == 0 ? info.lookup : -1;
}

/*
 * Conversation flows: compiled while the interface runs few flows, looked
 * up once it runs many (the lookup joining hooks already attached, and a
 * hook attached after it), each counting exactly its conversation.
 */
static void test_conversations(void)
{
	const char *conv = "tcp and host 10.0.0.1 and host 10.0.0.2 and port 21";
	unsigned long long *ref;
	int c1, c2, c3, p1, p2, p3, b1, b2, b3, g, gp, gb, len, i;
	int others[15], op, ob;

	/* few flows: a program */
	g = counter_flow("v3", "tcp", MAPI_DIR_IN, &gp, &gb);
	c1 = counter_flow("v3", conv, MAPI_DIR_IN, &p1, &b1);
	CHECK(runs_as_lookup(c1) == 0, "beside one flow, a conversation flow is a program");
	/* sixteen flows on the hook: the next is a lookup */
	for (i = 0; i < 15; i++) {
		char filter[64];

		snprintf(filter, sizeof(filter), "udp and port %d", 1000 + i);
		others[i] = counter_flow("v3", filter, MAPI_DIR_IN, &op, &ob);
	}
	c2 = counter_flow("v3", conv, MAPI_DIR_IN, &p2, &b2);
	CHECK(runs_as_lookup(c2) == 1, "beside sixteen flows, a conversation flow is a lookup");
	/* both directions: the tc hook attaches now, with the lookup in it */
	c3 = counter_flow("v3", conv, MAPI_DIR_BOTH, &p3, &b3);
	CHECK(runs_as_lookup(c3) == 1, "and so is the next, sent packets included");
	ref = mapi_read_results(c2, p2, MAPI_REF);

	len = send_tcp("p3", 0x0a000002, 0x0a000001, 40000, 21, 3);
	CHECK(len > 0, "send the conversation's segments");
	CHECK(send_tcp("p3", 0x0a000002, 0x0a000001, 40000, 22, 2) > 0,
	      "and two to another port");
	CHECK(send_tcp("v3", 0x0a000001, 0x0a000002, 21, 40000, 4) == len,
	      "and four the other way, sent from the monitored side");
	CHECK(count_reaches(g, gp, 5) == 5, "the general flow counts the 5 received");
	CHECK(count_reaches(c1, p1, 3) == 3, "the compiled conversation flow counts its 3");
	CHECK(count_reaches(c2, p2, 3) == 3, "the looked-up one too");
	CHECK(count_reaches(c2, b2, 3ULL * (unsigned)len) == 3ULL * (unsigned)len,
	      "and their bytes");
	CHECK(count_reaches(c3, p3, 7) == 7, "the one on both hooks counts 3 + 4");
	CHECK(count_reaches(c1, b1, 3ULL * (unsigned)len) == 3ULL * (unsigned)len &&
	      count_reaches(c3, b3, 7ULL * (unsigned)len) == 7ULL * (unsigned)len,
	      "bytes the same way");
	usleep(3 * 1000 * MAPI_REF_REFRESH_MS);
	CHECK(ref && *ref == 3, "MAPI_REF of a conversation flow follows it (%llu)",
	      ref ? *ref : 0ULL);
	CHECK(mapi_close_flow(c1) == 0 && mapi_close_flow(c2) == 0 && mapi_close_flow(c3) == 0 &&
	      mapi_close_flow(g) == 0, "close them");
	for (i = 0; i < 15; i++)
		mapi_close_flow(others[i]);
	nothing_attached("v3", "after the conversation flows");
}

/* Whether this process holds a descriptor of program id (its fdinfo says):
 * another test suite running at the same time loads programs too. */
static int ours(__u32 id)
{
	char path[64], line[128];
	int fd, found = 0;

	for (fd = 0; fd < 4096 && !found; fd++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			unsigned int v;

			found = sscanf(line, "prog_id: %u", &v) == 1 && v == id;
		}
		fclose(f);
	}
	return found;
}

static void count_mapi_xdp(__u32 id, const struct bpf_prog_info *info, void *ctx)
{
	if (info->type == BPF_PROG_TYPE_XDP && !strcmp(info->name, "mapi_xdp") && ours(id))
		++*(int *)ctx;
}

/* This process's XDP programs named mapi_xdp with an id above `since`. */
static int mapi_xdp_programs(__u32 since)
{
	int n = 0;

	return prog_walk(since, count_mapi_xdp, &n) ? -1 : n;
}

/*
 * A filter with loops (protochain) verifies in a few thousand instructions:
 * its flow shares a group with others, and their connects still succeed.
 */
static void test_loops_share(void)
{
	__u32 since = 0, id = 0;
	int fds[4], p, b, i;

	while (!bpf_prog_get_next_id(id, &id))
		since = id;
	fds[0] = counter_flow("v4", "protochain 6", MAPI_DIR_IN, &p, &b);
	for (i = 1; i < 4; i++) {
		char filter[32];

		snprintf(filter, sizeof(filter), "tcp and port %d", 2000 + i);
		fds[i] = counter_flow("v4", filter, MAPI_DIR_IN, &p, &b);
	}
	/* the root and one group for all four */
	CHECK(mapi_xdp_programs(since) == 2,
	      "a protochain flow shares its group: %d XDP programs, want 2",
	      mapi_xdp_programs(since));
	CHECK(send_tcp("p4", 0x0a000002, 0x0a000001, 40000, 2002, 3) > 0,
	      "send three segments to port 2002");
	CHECK(count_reaches(fds[0], p, 3) == 3 && count_reaches(fds[2], p, 3) == 3,
	      "the protochain flow and the port 2002 flow count them");
	CHECK(count_reaches(fds[1], p, 0) == 0 && count_reaches(fds[3], p, 0) == 0,
	      "the other ports' flows do not");
	for (i = 0; i < 4; i++)
		mapi_close_flow(fds[i]);
	nothing_attached("v4", "after the protochain flow");
}

int main(void)
{
	int i;

	if (unshare(CLONE_NEWNET)) {
		perror("test_api_kernel: unshare (needs root)");
		return 77;
	}
	/* no IPv6: no neighbour discovery frames on the quiet links */
	sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
	for (i = 1; i <= 4; i++) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "ip link add v%d type veth peer name p%d && "
			 "ip link set v%d up && ip link set p%d up", i, i, i, i);
		if (sh(cmd)) {
			fprintf(stderr, "test_api_kernel: cannot create veth pairs\n");
			return 1;
		}
	}
	sh("ip link set lo up");
	mapi_set_log(collect_log, NULL);
	test_state_errors();
	test_offload_fallback();
	test_modes();
	test_foreign_program();
	test_fork();
	test_fork_while_connecting();
	test_fork_flows();
	test_capabilities();
	test_vanished_interface();
	test_readers();
	test_conversations();
	test_loops_share();
	return check_summary("test_api_kernel");
}
