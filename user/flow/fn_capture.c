/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TO_BUFFER and TO_FILE: keep the packets that reach them.  TO_BUFFER([FLAG],
 * [SNAPLEN, RING_BYTES]) for mapi_get_next_pkt; TO_FILE(PATH, [SNAPLEN]) or,
 * as MAPI 2.0's, TO_FILE(FORMAT, PATH, COUNT) writes them to a pcap file.
 *
 * In the kernel both do the same: count the packet (matched), build a
 * record (the struct mapipkt header, then the first SNAPLEN bytes of the
 * frame) in a per-CPU scratch buffer, and copy it into the function's own
 * ring buffer with bpf_ringbuf_output().  A full ring refuses the record:
 * the packet is counted as dropped.  bpf_ringbuf_reserve() would save the
 * copy but reserves a constant size, SNAPLEN for every packet, which would
 * fill the ring 40 times sooner with small packets.
 *
 * TO_BUFFER's records are read by mapi_get_next_pkt(); TO_FILE's by the
 * library's own thread, which writes them to a pcap file.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "clock.h"
#include "codegen.h"
#include "error.h"
#include "functions.h"
#include "linkwatch.h"
#include "pcapwrite.h"
#include "pktqueue.h"
#include "ringbuf.h"

#define SNAPLEN_MAX 65535
/*
 * 4 MiB: room for about 2,700 full 1,514-byte frames or 40,000 minimum
 * ones, which at a million packets a second lets the reader stall for
 * 40 ms on small packets before anything is dropped, for the kernel
 * memory of a few socket buffers.
 */
#define RING_DEFAULT (4u << 20)
#define RING_MAX (1u << 30)

/* The record: struct mapipkt, with the kernel's TAI clock in ts. */
#define REC_TS 0
#define REC_IFINDEX 8
#define REC_CAPLEN 12
#define REC_WLEN 16
#define REC_DIR 20
#define REC_HDR 24
_Static_assert(offsetof(struct mapipkt, pkt) == REC_HDR, "record header is struct mapipkt");
_Static_assert(offsetof(struct mapipkt, caplen) == REC_CAPLEN, "record layout");
_Static_assert(offsetof(struct mapipkt, direction) == REC_DIR, "record layout");

/* Result slots: slot + SLOT_MATCHED, slot + SLOT_DROPPED. */
#define SLOT_MATCHED 0
#define SLOT_DROPPED 1

struct capture {
	uint32_t snaplen;
	uint32_t ring_size;
	int ring_fd, scratch_fd;
	int sleep_fd;			/* a u64: since when the reader sleeps */
	uint64_t *asleep;		/* its value, mapped (ring_reader) */
	struct ring_reader ring;
	int ring_mapped;
	uint64_t delivered;		/* atomic: readers do not hold the API lock */
	uint64_t lost;			/* atomic: TO_FILE, packets a failed write lost */
	int64_t tai_offset;		/* CLOCK_REALTIME - CLOCK_TAI, ns */
	unsigned int tai_age;		/* packets since it was read */
	struct mapipkt *pkt;		/* the packet last handed out */
	char *path;			/* TO_FILE */
	/* the file, written by the keeper or a trace's reader while a fork()
	 * flushes it and calls read its error: under file_lock */
	pthread_mutex_t file_lock;
	struct pcap_writer file;
	uint64_t count;			/* TO_FILE: packets to write (0: no end) */
	uint64_t past;			/* atomic: packets after count, not written */
	int writing;			/* atomic: its result, 1 until count are written */
	int offline;			/* over a trace: the queue, no ring */
	int nowait;			/* TO_BUFFER(NOWAIT): mapi_get_next_pkt waits not */
	struct pkt_queue queue;		/* TO_BUFFER over a trace */
};

int capture_is_buffer(const struct fn_instance *fi)
{
	return fi->desc == &fn_to_buffer;
}

int capture_is_file(const struct fn_instance *fi)
{
	return fi->desc == &fn_to_file;
}

int capture_nowait(const struct fn_instance *fi)
{
	const struct capture *c = fi->state;

	return capture_is_buffer(fi) && c->nowait;
}

const int *capture_writing(const struct fn_instance *fi)
{
	const struct capture *c = fi->state;

	return &c->writing;
}

void capture_fork_prepare(struct fn_instance *fi)
{
	struct capture *c = fi->state;

	if (c && capture_is_file(fi)) {
		pthread_mutex_lock(&c->file_lock);
		pcapw_flush(&c->file);
	}
}

void capture_fork_done(struct fn_instance *fi)
{
	struct capture *c = fi->state;

	if (c && capture_is_file(fi))
		pthread_mutex_unlock(&c->file_lock);
}

/* The file's first error, or 0. */
static int file_err(struct capture *c)
{
	int err;

	pthread_mutex_lock(&c->file_lock);
	err = c->file.err;
	pthread_mutex_unlock(&c->file_lock);
	return err;
}

static uint32_t capture_ring_bytes(const struct fn_instance *fi)
{
	const struct capture *c = fi->state;

	return c ? c->ring_size : 0;
}

static int check_snaplen(const struct fn_instance *fi, int argno, long long v,
			 struct capture *c)
{
	if (v < 0 || v > SNAPLEN_MAX)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + argno,
			       "%s snap length %lld: must be 1 to %d (0: %d, the whole frame)",
			       fi->desc->name, v, SNAPLEN_MAX, SNAPLEN_MAX);
	c->snaplen = v ? (uint32_t)v : SNAPLEN_MAX;
	return 0;
}

static int check_ring(const struct fn_instance *fi, int argno, long long v,
		      struct capture *c)
{
	long long page = sysconf(_SC_PAGESIZE);
	long long need = REC_HDR + (long long)c->snaplen + 8;

	if (!v) {
		c->ring_size = RING_DEFAULT;
		while (c->ring_size < 2 * need)
			c->ring_size *= 2;
		return 0;
	}
	if (v < page || v > RING_MAX || (v & (v - 1)))
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + argno,
			       "%s ring size %lld: must be a power of two from %lld to %u bytes "
			       "(0: %u)", fi->desc->name, v, page, RING_MAX, RING_DEFAULT);
	if (v < need)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + argno,
			       "%s ring size %lld cannot hold one packet of the snap length "
			       "(%u bytes and %d of header)", fi->desc->name, v, c->snaplen,
			       REC_HDR + 8);
	c->ring_size = (uint32_t)v;
	return 0;
}

static struct capture *capture_new(void)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (c) {
		c->ring_fd = c->scratch_fd = c->sleep_fd = -1;
		pthread_mutex_init(&c->file_lock, NULL);
	}
	return c;
}

static void capture_free(struct capture *c)
{
	if (c->offline && !c->path)
		pq_destroy(&c->queue);
	pthread_mutex_destroy(&c->file_lock);
	free(c->pkt);
	free(c->path);
	free(c);
}

static int alloc_packet(struct capture *c)
{
	c->pkt = malloc(REC_HDR + c->snaplen);
	return c->pkt ? 0 : -ENOMEM;
}

/* TO_BUFFER's forms (see fn_to_buffer): with the flag, or without. */
#define BUFFER_FLAG 1
#define BUFFER_FLAG_SIZES 3

/*
 * TO_BUFFER(FLAG) is MAPI 2.0's.  FLAG is MAPI_WAIT or MAPI_NOWAIT; a lone
 * number that is neither is refused, not taken for a snap length.
 */
static int to_buffer_prepare(struct fn_instance *fi, const struct flow *f)
{
	struct capture *c = capture_new();
	int flagged = fi->form == BUFFER_FLAG || fi->form == BUFFER_FLAG_SIZES;
	int first = flagged ? 1 : 0, ret = 0;

	if (!c)
		return -ENOMEM;
	if (flagged && fi->args[0].v.i != MAPI_WAIT && fi->args[0].v.i != MAPI_NOWAIT)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			      "TO_BUFFER flag %lld: WAIT (%d) or NOWAIT (%d), as MAPI 2.0's; a snap "
			      "length comes with a ring size: TO_BUFFER(SNAPLEN, RING_BYTES), "
			      "0 for the default ring", fi->args[0].v.i, MAPI_WAIT, MAPI_NOWAIT);
	c->nowait = flagged && fi->args[0].v.i == MAPI_NOWAIT;
	if (!ret)
		ret = check_snaplen(fi, first + 1, fi->args[first].v.i, c);
	if (!ret)
		ret = check_ring(fi, first + 2, fi->args[first + 1].v.i, c);
	if (!ret)
		ret = alloc_packet(c);
	if (ret) {
		capture_free(c);
		return ret;
	}
	if (f->trace) {
		c->offline = 1;
		pq_init(&c->queue, c->ring_size);
	}
	fi->state = c;
	return 0;
}

/* TO_FILE's forms: mapi-bpf's (PATH, [SNAPLEN]) and MAPI 2.0's (FORMAT,
 * PATH, COUNT), which writes whole packets. */
#define FILE_MAPI2 1

/* The file is created now, so that a path it cannot be written to is an
 * error of mapi_apply_function, not of mapi_connect. */
static int to_file_prepare(struct fn_instance *fi, const struct flow *f)
{
	int mapi2 = fi->form == FILE_MAPI2, at = mapi2 ? 1 : 0;
	const char *path = fi->args[at].v.s;
	struct capture *c;
	int ret = 0;

	/* MAPI 2.0 said "could not apply the function" of another format */
	if (mapi2 && fi->args[0].v.i != MFF_PCAP)
		return err_set(-EINVAL, MAPI_APPLY_FAILED,
			       "TO_FILE format %lld: only MFF_PCAP (%d) is written", fi->args[0].v.i,
			       MFF_PCAP);
	if (mapi2 && fi->args[2].v.i < 0)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 3,
			       "TO_FILE count %lld: packets to write, 0 for no end", fi->args[2].v.i);
	if (!path || !*path)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + at + 1, "TO_FILE needs a file name");
	c = capture_new();
	if (!c)
		return -ENOMEM;
	c->writing = 1;
	if (mapi2)
		c->count = (uint64_t)fi->args[2].v.i;
	ret = check_snaplen(fi, 2, mapi2 ? 0 : fi->args[1].v.i, c);
	if (!ret)
		ret = check_ring(fi, 3, 0, c);
	if (!ret && !(c->path = strdup(path)))
		ret = -ENOMEM;
	/* served by mapid: the client writes the file, with its permissions */
	if (!ret && !f->served) {
		ret = pcapw_open(&c->file, path, c->snaplen);
		if (ret)
			ret = err_set(ret, MAPI_INVALID_ARGUMENT + at + 1, "TO_FILE \"%s\": %s",
				      path, strerror(-ret));
	}
	if (ret) {
		capture_free(c);
		return ret;
	}
	c->offline = f->trace != NULL;
	fi->state = c;
	return 0;
}

static void capture_disconnect(struct fn_instance *fi)
{
	struct capture *c = fi->state;

	if (c->ring_mapped)
		ring_close(&c->ring);
	c->ring_mapped = 0;
	if (c->asleep)
		munmap(c->asleep, (size_t)sysconf(_SC_PAGESIZE));
	c->asleep = NULL;
	if (c->ring_fd >= 0)
		close(c->ring_fd);
	if (c->scratch_fd >= 0)
		close(c->scratch_fd);
	if (c->sleep_fd >= 0)
		close(c->sleep_fd);
	c->ring_fd = c->scratch_fd = c->sleep_fd = -1;
	fi->maps = 0;
}

/* Maps the ring and the reader's flag, which connect() or adopt() gave;
 * a reader then also wakes when the flow's interface goes. */
static int capture_map(struct fn_instance *fi, const struct flow *f)
{
	struct capture *c = fi->state;
	int ret;

	c->asleep = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
			 MAP_SHARED, c->sleep_fd, 0);
	if (c->asleep == MAP_FAILED) {
		ret = -errno;
		c->asleep = NULL;
		capture_disconnect(fi);
		return err_kernel(ret, "%s: mapping its reader flag", fi->desc->name);
	}
	ret = ring_open(&c->ring, c->ring_fd, c->ring_size,
			capture_is_buffer(fi) ? c->asleep : NULL);
	if (ret) {
		capture_disconnect(fi);
		return err_kernel(ret, "%s: mapping its ring buffer", fi->desc->name);
	}
	c->ring_mapped = 1;
	fi->maps = 3;
	if (f->link && capture_is_buffer(fi)) {
		ret = ring_watch(&c->ring, linkwatch_fd(f->link), EPOLLIN);
		if (ret) {
			capture_disconnect(fi);
			return err_kernel(ret, "%s: watching interface %s for its removal",
					  fi->desc->name, f->dev);
		}
	}
	return 0;
}

static int capture_connect(struct fn_instance *fi, const struct flow *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, mmapable, .map_flags = BPF_F_MMAPABLE);
	struct capture *c = fi->state;
	int ret;

	(void)f;
	c->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "mapi_ring", 0, 0, c->ring_size, NULL);
	if (c->ring_fd < 0) {
		ret = -errno;
		return ret == -EPERM ? err_set(ret, MAPI_ERR_NOMEM, "%s: creating a ring buffer "
					       "of %u bytes: %s", fi->desc->name, c->ring_size,
					       strerror(-ret)) :
			err_kernel(ret, "%s: creating a ring buffer of %u bytes", fi->desc->name,
				   c->ring_size);
	}
	/* one record being built per CPU */
	c->scratch_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_capbuf", sizeof(uint32_t),
				       (REC_HDR + c->snaplen + 7) & ~7u,
				       (uint32_t)store_ncpus(), NULL);
	if (c->scratch_fd < 0) {
		ret = -errno;
		capture_disconnect(fi);
		return err_kernel(ret, "%s: creating its per-CPU buffer", fi->desc->name);
	}
	c->sleep_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_rdsleep", sizeof(uint32_t),
				     sizeof(uint64_t), 1, &mmapable);
	if (c->sleep_fd < 0) {
		ret = -errno;
		capture_disconnect(fi);
		return err_kernel(ret, "%s: creating its reader flag", fi->desc->name);
	}
	return capture_map(fi, f);
}

/* Shared with a client of mapid: the ring and the reader's flag. */
static int capture_share(const struct fn_instance *fi, int *fds, int max)
{
	const struct capture *c = fi->state;

	if (max < 2)
		return -E2BIG;
	fds[0] = c->ring_fd;
	fds[1] = c->sleep_fd;
	return 2;
}

static int capture_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct capture *c = fi->state;

	if (n != 2) {
		int i;

		for (i = 0; i < n; i++)
			close(fds[i]);	/* they are ours, to keep or close */
		return err_set(-EPROTO, MAPI_ERR_DAEMON, "%s: mapid passed %d descriptors, not 2",
			       fi->desc->name, n);
	}
	c->ring_fd = fds[0];
	c->sleep_fd = fds[1];
	return capture_map(fi, f);
}

static void capture_release(struct fn_instance *fi)
{
	struct capture *c = fi->state;

	if (!c)
		return;
	if (capture_is_file(fi))
		pcapw_close(&c->file);	/* no writer is left */
	capture_disconnect(fi);
	capture_free(c);
	fi->state = NULL;
}

static void add_slot(struct codegen *cg, const struct fn_instance *fi, int which)
{
	cg_add_to_slot(cg, fi->slot + which, ADD_ONE);
}

static int capture_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct capture *c = fi->state;
	struct prog_buf *pb = &cg->pb;
	int drop = pb_new_label(pb), done = pb_new_label(pb), shorter = pb_new_label(pb);
	int decided = pb_new_label(pb), wake = pb_new_label(pb);

	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "%s cannot run on a NIC",
			       fi->desc->name);
	add_slot(cg, fi, SLOT_MATCHED);

	/* R0 = this CPU's record buffer */
	cg_cpu(cg, drop);
	pb_emit(pb, STX_MEM(BPF_W, RFP, R0, STK_KEY));
	pb_map_lookup(pb, c->scratch_fd, STK_KEY, drop);
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, STK_CAPTURE));

	/* the header */
	pb_emit(pb, CALL_HELPER(BPF_FUNC_ktime_get_tai_ns));
	pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, STK_CAPTURE));
	pb_emit(pb, STX_MEM(BPF_DW, R1, R0, REC_TS));
	pb_emit(pb, ST_MEM(BPF_W, R1, REC_IFINDEX, cg->flow->ifindex));
	pb_emit(pb, ST_MEM(BPF_W, R1, REC_DIR,
			   cg->target.ingress ? MAPI_DIR_IN : MAPI_DIR_OUT));
	pb_emit(pb, LDX_MEM(BPF_DW, R4, RFP, STK_WIRELEN));
	pb_emit(pb, STX_MEM(BPF_W, R1, R4, REC_WLEN));
	pb_jmp_imm(pb, BPF_JLE, R4, (int32_t)c->snaplen, shorter);
	pb_emit(pb, MOV64_IMM(R4, (int32_t)c->snaplen));
	pb_bind(pb, shorter);
	pb_emit(pb, STX_MEM(BPF_W, R1, R4, REC_CAPLEN));
	pb_jmp_imm(pb, BPF_JEQ, R4, 0, drop);

	/* the frame's first caplen bytes, wherever they lie */
	pb_emit(pb, MOV64_REG(R3, R1));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, REC_HDR));
	pb_emit(pb, MOV64_REG(R1, R_CTX));
	pb_emit(pb, MOV64_IMM(R2, 0));
	pb_emit(pb, CALL_HELPER(cg->hook == XLATE_XDP ? BPF_FUNC_xdp_load_bytes :
			       BPF_FUNC_skb_load_bytes));
	pb_jmp_imm(pb, BPF_JNE, R0, 0, drop);

	/* into the ring; a full ring refuses it.  The reader is woken only
	 * when it sleeps, and then as ringbuf.h says: at once if it has slept
	 * RING_QUIET_NS, else once RING_WAKE_BYTES wait. */
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_WAKE, BPF_RB_NO_WAKEUP));
	pb_ld_map_value(pb, R1, c->sleep_fd, 0);
	pb_emit(pb, LDX_MEM(BPF_DW, R1, R1, 0));
	pb_jmp_imm(pb, BPF_JEQ, R1, 0, decided);
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R1, STK_WAKE));
	pb_emit(pb, CALL_HELPER(BPF_FUNC_ktime_get_ns));
	pb_emit(pb, LDX_MEM(BPF_DW, R1, RFP, STK_WAKE));
	pb_emit(pb, ALU64_REG(BPF_SUB, R0, R1));
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_WAKE, BPF_RB_FORCE_WAKEUP));
	pb_jmp_imm(pb, BPF_JGE, R0, (int32_t)RING_QUIET_NS, wake);
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)c->ring_fd);
	pb_emit(pb, MOV64_IMM(R2, BPF_RB_AVAIL_DATA));
	pb_emit(pb, CALL_HELPER(BPF_FUNC_ringbuf_query));
	pb_jmp_imm(pb, BPF_JGE, R0, (int32_t)RING_WAKE_BYTES(c->ring_size), wake);
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_WAKE, BPF_RB_NO_WAKEUP));
	pb_goto(pb, decided);
	/* once woken, the reader is as good as awake: one wake-up a sleep,
	 * not one a packet until it runs */
	pb_bind(pb, wake);
	pb_ld_map_value(pb, R1, c->sleep_fd, 0);
	pb_emit(pb, ST_MEM(BPF_DW, R1, 0, 0));
	pb_bind(pb, decided);
	pb_emit(pb, LDX_MEM(BPF_DW, R4, RFP, STK_WAKE));
	pb_emit(pb, LDX_MEM(BPF_DW, R2, RFP, STK_CAPTURE));
	pb_emit(pb, LDX_MEM(BPF_W, R3, R2, REC_CAPLEN));
	pb_jmp_imm(pb, BPF_JGT, R3, (int32_t)c->snaplen, drop);	/* for the verifier */
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, REC_HDR));
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)c->ring_fd);
	pb_emit(pb, CALL_HELPER(BPF_FUNC_ringbuf_output));
	pb_jmp_imm(pb, BPF_JEQ, R0, 0, done);
	pb_bind(pb, drop);
	add_slot(cg, fi, SLOT_DROPPED);
	pb_bind(pb, done);
	return 0;
}

/*
 * A packet for TO_FILE's file, counted as written, lost (a write error stays
 * with the file; the packets it loses are counted as dropped, and the
 * flow's calls say so) or past its count.  The count's last packet closes
 * the file, complete while the flow goes on.  Its result turns 0 then, or
 * when the file fails: it writes no more either way.
 */
static void file_take(struct capture *c, uint64_t ts_ns, uint32_t caplen, uint32_t wlen,
		      const void *data)
{
	uint64_t written = __atomic_load_n(&c->delivered, __ATOMIC_RELAXED);
	int ret;

	if (c->count && written >= c->count) {
		__atomic_add_fetch(&c->past, 1, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&c->file_lock);
	ret = c->file.err ? c->file.err : pcapw_write(&c->file, ts_ns, caplen, wlen, data);
	if (!ret && written + 1 == c->count) {
		ret = pcapw_close(&c->file);
		if (ret)
			c->file.err = ret;
		else
			__atomic_store_n(&c->delivered, written + 1, __ATOMIC_RELEASE);
	} else if (!ret) {
		__atomic_store_n(&c->delivered, written + 1, __ATOMIC_RELEASE);
	}
	if (ret || written + 1 == c->count)
		__atomic_store_n(&c->writing, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->file_lock);
	if (ret)
		__atomic_add_fetch(&c->lost, 1, __ATOMIC_RELAXED);
}

/* On a packet of a trace: what the kernel's record holds, from the trace. */
static int capture_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct capture *c = fi->state;
	uint32_t caplen = p->caplen < c->snaplen ? p->caplen : c->snaplen;

	store_add(&f->host, (uint32_t)(fi->slot + SLOT_MATCHED), 1);
	if (c->path) {
		file_take(c, p->ts_ns, caplen, p->wlen, p->data);
	} else {
		struct mapipkt hdr = {
			.ts = p->ts_ns,
			.caplen = caplen,
			.wlen = p->wlen,
			.direction = 0,		/* a trace does not say */
		};

		/* -EINTR: the flow closes; out of memory: lost, and counted */
		if (pq_push(&c->queue, &hdr, p->data) == -ENOMEM)
			store_add(&f->host, (uint32_t)(fi->slot + SLOT_DROPPED), 1);
	}
	return 1;
}

void capture_trace_end(struct fn_instance *fi)
{
	struct capture *c = fi->state;

	if (c->offline && !c->path)
		pq_end(&c->queue);
}

/* The oldest record, checked; -EAGAIN if none. */
static int peek_record(struct capture *c, const struct mapipkt **rec)
{
	const void *data;
	uint32_t len;
	int ret = ring_peek(&c->ring, &data, &len);

	if (ret)
		return ret;
	*rec = data;
	if (len < REC_HDR || (*rec)->caplen > len - REC_HDR || (*rec)->caplen > c->snaplen)
		return err_set(-EIO, MAPI_ERR_INTERNAL, "a packet record of %u bytes is malformed",
			       len);
	return 0;
}

int capture_next(struct fn_instance *fi, struct mapipkt **pkt)
{
	struct capture *c = fi->state;
	const struct mapipkt *rec;
	int ret;

	if (c->offline) {
		ret = pq_pop(&c->queue, c->pkt);
		if (!ret) {
			__atomic_add_fetch(&c->delivered, 1, __ATOMIC_RELAXED);
			*pkt = c->pkt;
		}
		return ret;
	}
	if (!c->ring_mapped)
		return -ENOTCONN;
	ret = peek_record(c, &rec);
	if (ret) {
		if (ret != -EAGAIN)
			ring_consume(&c->ring);	/* never read it again */
		return ret;
	}
	memcpy(c->pkt, rec, REC_HDR + rec->caplen);
	ring_consume(&c->ring);
	/* the offset changes with a leap second at most: read it now and then */
	if (c->tai_age++ % 1024 == 0)
		c->tai_offset = tai_to_real_ns();
	c->pkt->ts += (unsigned long long)c->tai_offset;
	__atomic_add_fetch(&c->delivered, 1, __ATOMIC_RELAXED);
	*pkt = c->pkt;
	return 0;
}

int capture_wait(struct fn_instance *fi, int timeout_ms)
{
	struct capture *c = fi->state;

	if (c->offline)
		return pq_wait(&c->queue, timeout_ms);
	if (!c->ring_mapped)
		return -ENOTCONN;
	return ring_wait(&c->ring, timeout_ms);
}

int capture_watch(struct fn_instance *fi, int fd, uint32_t events)
{
	struct capture *c = fi->state;

	return c->ring_mapped ? ring_watch(&c->ring, fd, events) : -ENOTCONN;
}

void capture_interrupt(struct fn_instance *fi)
{
	struct capture *c = fi->state;

	if (c->offline && !c->path)
		pq_stop(&c->queue);
	if (c->ring_mapped)
		ring_interrupt(&c->ring);
}

/* A TO_FILE whose file failed: the error, and the packets it lost. */
static int file_error(const struct fn_instance *fi, int err)
{
	const struct capture *c = fi->state;

	return err_set(err, MAPI_ERR_IO, "TO_FILE \"%s\": writing failed: %s; %llu "
		       "packets lost so far (counted as dropped)", c->path, strerror(-err),
		       (unsigned long long)__atomic_load_n(&c->lost, __ATOMIC_ACQUIRE));
}

int capture_drain(struct fn_instance *fi)
{
	struct capture *c = fi->state;
	int64_t offset = tai_to_real_ns();
	const struct mapipkt *rec;
	int ret, err;

	if (!c->ring_mapped)
		return 0;
	/* after a failed write, or the count, every packet is still taken
	 * out, and counted: the ring must not fill (and drop) behind a file
	 * that takes no more */
	while (!(ret = peek_record(c, &rec))) {
		file_take(c, rec->ts + (uint64_t)offset, rec->caplen, rec->wlen, rec->pkt);
		ring_consume(&c->ring);
	}
	if ((err = file_err(c)))
		return file_error(fi, err);
	if (ret != -EAGAIN)
		ring_consume(&c->ring);
	return ret == -EAGAIN ? 0 : ret;
}

int capture_finish(struct fn_instance *fi)
{
	struct capture *c = fi->state;
	int ret = capture_drain(fi), closed;

	pthread_mutex_lock(&c->file_lock);
	closed = pcapw_close(&c->file);
	if (closed)
		c->file.err = closed;	/* the close's flush failed: the same */
	pthread_mutex_unlock(&c->file_lock);
	if (!ret && closed)
		ret = file_error(fi, closed);
	return ret;
}

int capture_stats(const struct flow *f, const struct fn_instance *fi,
		  struct capture_stats *st)
{
	struct capture *c = fi->state;
	int ret, err;

	memset(st, 0, sizeof(*st));
	if (!c->ring_mapped && !c->offline)
		return 0;
	/* read in the order that keeps matched >= the rest while traffic runs */
	st->delivered = __atomic_load_n(&c->delivered, __ATOMIC_ACQUIRE);
	if (c->offline)
		st->queued = c->path ? 0 : pq_count(&c->queue);
	else
		st->queued = ring_queued(&c->ring);
	ret = flow_read_slot(f, (uint32_t)(fi->slot + SLOT_DROPPED), &st->dropped);
	if (!ret)
		ret = flow_read_slot(f, (uint32_t)(fi->slot + SLOT_MATCHED), &st->matched);
	st->dropped += __atomic_load_n(&c->lost, __ATOMIC_ACQUIRE);
	st->past = __atomic_load_n(&c->past, __ATOMIC_ACQUIRE);
	/* the file's failure, at once: not only when the flow closes */
	if (!ret && capture_is_file(fi) && (err = file_err(c)))
		ret = file_error(fi, err);
	return ret;
}

const struct fn_desc fn_to_buffer = {
	.name = "TO_BUFFER",
	.forms = {
		{ "", "" },
		[BUFFER_FLAG] = { "i", "FLAG" },
		{ "ii", "SNAPLEN RING_BYTES" },
		[BUFFER_FLAG_SIZES] = { "iii", "FLAG SNAPLEN RING_BYTES" },
	},
	.mapi2_form = BUFFER_FLAG,
	.help = "keep packets for mapi_get_next_pkt (FLAG NOWAIT: it returns at once when none "
		"waits; WAIT, the default: it waits): the first SNAPLEN bytes (0: all) in a ring "
		"of RING_BYTES (0: 4 MiB); a full ring drops and counts",
	.result = FN_RESULT_PACKETS,
	.payload = 1,
	.slots = 2,
	.prepare = to_buffer_prepare,
	.connect = capture_connect,
	.emit = capture_emit,
	.run = capture_run,
	.share = capture_share,
	.adopt = capture_adopt,
	.ring_bytes = capture_ring_bytes,
	.disconnect = capture_disconnect,
	.release = capture_release,
};

const struct fn_desc fn_to_file = {
	.name = "TO_FILE",
	.forms = {
		{ "sI", "PATH [SNAPLEN]" },
		[FILE_MAPI2] = { "isi", "FORMAT PATH COUNT" },
	},
	.mapi2_form = FILE_MAPI2,
	.help = "write packets to the pcap file PATH (nanosecond timestamps), the first "
		"SNAPLEN bytes (0: all), complete when the flow is closed; or, as MAPI 2.0's, "
		"COUNT whole packets (0: no end) in FORMAT MFF_PCAP, complete then (result: "
		"an int, 1 while writing, 0 once COUNT are written)",
	.result = FN_RESULT_FILE,
	.payload = 1,
	.slots = 2,
	.prepare = to_file_prepare,
	.connect = capture_connect,
	.emit = capture_emit,
	.run = capture_run,
	.share = capture_share,
	.adopt = capture_adopt,
	.ring_bytes = capture_ring_bytes,
	.disconnect = capture_disconnect,
	.release = capture_release,
};
