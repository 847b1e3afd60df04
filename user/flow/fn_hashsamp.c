/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HASHSAMP(RANGE [, KEEP]), MAPI 2.0's: a filter that keeps whole TCP and
 * UDP conversations, those whose hash of the 5-tuple (the same both ways)
 * is below RANGE of 1024: a sample of conversations, not of packets.
 *
 * The hash is a classic program (fields.h, conv_sample_program), so the
 * kernel runs its translation and a trace runs it in cbpf_exec: the same
 * conversations both ways.
 *
 * KEEP 1 records each packet kept (mapi.h): the classic program leaves its
 * 5-tuple in M[], the program adds bytes 4 to 15 of a TCP header (a
 * helper's load: a header cut short leaves them 0, as the classic program
 * could not), the time and the length, and copies the 96 bytes from M[0]
 * to the frame's end of the stack into a ring buffer of its own; a full
 * ring refuses the record, which is counted as lost.  The library's thread
 * drains the ring every MAPI_REF_REFRESH_MS into MAPI_HASHSAMP_RECORDS
 * records kept for the application (tick(), as BUCKET is ticked); a record
 * overwritten there before a read is counted as missed.  Over a trace the
 * records are made from the packets' bytes in the process.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "codegen.h"
#include "error.h"
#include "fields.h"
#include "functions.h"
#include "ringbuf.h"

/* The kernel's record: the frame of the program from M[0] on. */
#define REC_SIZE (-STK_SCRATCH)
#define REC_TS (STK_SPILL - STK_SCRATCH)	/* u64, TAI */
#define REC_WLEN (STK_WIRELEN - STK_SCRATCH)	/* u64 */
#define REC_TCP (4 * CONV_M_TCP)		/* TCP header bytes 4 to 15 */
#define TCP_BYTES 12
_Static_assert(CONV_M_WORDS <= CBPF_MEMWORDS, "the record's words are scratch memory");
_Static_assert(STK_SPILL + 16 == STK_BUF && STK_BUF + 8 == STK_WIRELEN &&
	       STK_WIRELEN + 8 == 0 && STK_SCRATCH + 64 == STK_SPILL,
	       "the record is the frame from M[0] to its end");

/* 2,500 records: 10 ms of a quarter of a million packets kept a second. */
#define RING_BYTES (256u << 10)

/* Result slots: packets kept, and those the ring had no room for. */
enum { S_KEPT, S_LOST, HASHSAMP_SLOTS };

struct hashsamp {
	struct cbpf_prog prog;
	int keep;
	int ring_fd;
	struct ring_reader ring;
	int ring_mapped;
	pthread_mutex_t lock;		/* the records, between a drain and a read */
	struct mapi_hashsamp_record *records;	/* MAPI_HASHSAMP_RECORDS */
	uint64_t recorded, missed;
	unsigned int first, pending;	/* the records not read yet */
	struct mapi_hashsamp_result *snapshot;
};

static int hashsamp_prepare(struct fn_instance *fi, const struct flow *f)
{
	long long range = fi->args[0].v.i, keep = fi->args[1].v.i;
	struct hashsamp *h;

	if (range < 0 || range > 1 << CONV_HASH_BITS)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "HASHSAMP RANGE %lld: 0 to %d (of %d hash values)", range,
			       1 << CONV_HASH_BITS, 1 << CONV_HASH_BITS);
	if (keep != 0 && keep != 1)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			       "HASHSAMP KEEP %lld: 0, or 1 to record the packets kept", keep);
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	fi->state = h;
	h->keep = (int)keep;
	h->ring_fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	/* mapid's copy is not read: no records for it */
	if (h->keep && !f->served &&
	    !(h->records = calloc(MAPI_HASHSAMP_RECORDS, sizeof(*h->records))))
		return -ENOMEM;
	fi->clocked = h->keep && !f->served && !f->trace;
	fi->host_only = h->keep;	/* a ring buffer */
	return conv_sample_program((uint32_t)range, h->keep, &h->prog);
}

static int hashsamp_connect(struct fn_instance *fi, const struct flow *f)
{
	struct hashsamp *h = fi->state;
	int ret;

	fi->maps = 0;
	if (!h->keep)
		return 0;
	h->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "mapi_hashsamp", 0, 0, RING_BYTES,
				    NULL);
	if (h->ring_fd < 0)
		return err_kernel(-errno, "creating HASHSAMP's ring of records");
	fi->maps = 1;
	if (f->served)
		return 0;	/* the client reads it */
	ret = ring_open(&h->ring, h->ring_fd, RING_BYTES, NULL);
	if (ret)
		return err_kernel(ret, "HASHSAMP: mapping its ring of records");
	h->ring_mapped = 1;
	return 0;
}

static int hashsamp_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct hashsamp *h = fi->state;
	struct prog_buf *pb = &cg->pb;
	struct xlate_env env;
	int udp, done, ret;

	cg_xlate_env(cg, &env);	/* rejects to the flow's end: a filter */
	ret = cbpf_translate(pb, &h->prog, &env);
	if (ret || !h->keep)
		return ret;
	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "HASHSAMP KEEP 1 cannot run on a NIC");
	udp = pb_new_label(pb);
	done = pb_new_label(pb);
	/* a TCP header's bytes 4 to 15, or 0s */
	pb_emit(pb, ST_MEM(BPF_W, RFP, STK_SCRATCH + REC_TCP, 0));
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_SCRATCH + REC_TCP + 4, 0));
	pb_emit(pb, LDX_MEM(BPF_W, R0, RFP, STK_SCRATCH + 4 * CONV_M_PROTO));
	pb_jmp_imm(pb, BPF_JNE, R0, 6, udp);
	pb_emit(pb, MOV64_REG(R1, R_CTX));
	pb_emit(pb, LDX_MEM(BPF_W, R2, RFP, STK_SCRATCH + 4 * CONV_M_L4));
	pb_emit(pb, ALU64_IMM(BPF_AND, R2, 0xffff));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, 4));
	pb_emit(pb, MOV64_REG(R3, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R3, STK_SCRATCH + REC_TCP));
	pb_emit(pb, MOV64_IMM(R4, TCP_BYTES));
	pb_emit(pb, CALL_HELPER(cg->hook == XLATE_XDP ? BPF_FUNC_xdp_load_bytes :
			       BPF_FUNC_skb_load_bytes));
	pb_jmp_imm(pb, BPF_JEQ, R0, 0, udp);
	/* (cut short: whatever a failed load left is 0 again) */
	pb_emit(pb, ST_MEM(BPF_W, RFP, STK_SCRATCH + REC_TCP, 0));
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_SCRATCH + REC_TCP + 4, 0));
	pb_bind(pb, udp);
	pb_emit(pb, CALL_HELPER(BPF_FUNC_ktime_get_tai_ns));
	pb_emit(pb, STX_MEM(BPF_DW, RFP, R0, STK_SCRATCH + REC_TS));
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_SCRATCH + REC_TS + 8, 0));
	pb_emit(pb, ST_MEM(BPF_DW, RFP, STK_SCRATCH + REC_TS + 16, 0));
	cg_add_to_slot(cg, fi->slot + S_KEPT, ADD_ONE);
	/* no wake-up: the library's thread drains the ring on its clock */
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)h->ring_fd);
	pb_emit(pb, MOV64_REG(R2, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, STK_SCRATCH));
	pb_emit(pb, MOV64_IMM(R3, REC_SIZE));
	pb_emit(pb, MOV64_IMM(R4, BPF_RB_NO_WAKEUP));
	pb_emit(pb, CALL_HELPER(BPF_FUNC_ringbuf_output));
	pb_jmp_imm(pb, BPF_JEQ, R0, 0, done);
	cg_add_to_slot(cg, fi->slot + S_LOST, ADD_ONE);
	pb_bind(pb, done);
	return 0;
}

/* A record from the program's words m (host-order values of 4 bytes),
 * the TCP header's bytes 4 to 15 (or 0s), the time and the length. */
static void make_record(struct mapi_hashsamp_record *r, const uint32_t *m, const uint8_t *tcp,
			uint64_t ts, uint32_t wlen)
{
	int w;

	memset(r, 0, sizeof(*r));
	r->ts = ts;
	r->wlen = wlen;
	r->family = (unsigned char)(m[CONV_M_L4] >> 16);
	r->proto = (unsigned char)m[CONV_M_PROTO];
	r->sport = (unsigned short)m[CONV_M_SPORT];
	r->dport = (unsigned short)m[CONV_M_DPORT];
	for (w = 0; w < (r->family == 6 ? 4 : 1); w++) {
		uint32_t s = m[CONV_M_SRC + w], d = m[CONV_M_DST + w];
		int k;

		for (k = 0; k < 4; k++) {
			r->saddr[4 * w + k] = (uint8_t)(s >> (24 - 8 * k));
			r->daddr[4 * w + k] = (uint8_t)(d >> (24 - 8 * k));
		}
	}
	if (r->proto == 6) {
		r->seq = (uint32_t)tcp[0] << 24 | (uint32_t)tcp[1] << 16 | (uint32_t)tcp[2] << 8 |
			 tcp[3];
		r->tcp_flags = tcp[13 - 4];
	}
}

/* One more record, for the application (h->lock held). */
static void keep_record(struct hashsamp *h, const struct mapi_hashsamp_record *r)
{
	h->records[(h->first + h->pending) % MAPI_HASHSAMP_RECORDS] = *r;
	h->recorded++;
	if (h->pending < MAPI_HASHSAMP_RECORDS) {
		h->pending++;
	} else {	/* the oldest unread goes */
		h->first = (h->first + 1) % MAPI_HASHSAMP_RECORDS;
		h->missed++;
	}
}

static int hashsamp_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct hashsamp *h = fi->state;
	uint32_t mem[CBPF_MEMWORDS];
	struct mapi_hashsamp_record r;
	uint8_t tcp[TCP_BYTES] = { 0 };
	uint32_t l4;

	if (!cbpf_exec(&h->prog, p->data, p->caplen, p->wlen, mem))
		return 0;
	if (!h->keep)
		return 1;
	l4 = (mem[CONV_M_L4] & 0xffff) + 4;
	if (mem[CONV_M_PROTO] == 6 && l4 + TCP_BYTES <= p->caplen)
		memcpy(tcp, p->data + l4, TCP_BYTES);
	make_record(&r, mem, tcp, p->ts_ns, p->wlen);
	store_add(&f->host, (uint32_t)fi->slot + S_KEPT, 1);
	pthread_mutex_lock(&h->lock);
	keep_record(h, &r);
	pthread_mutex_unlock(&h->lock);
	return 1;
}

/* The kernel's records, into those kept (h->lock held). */
static void drain(struct hashsamp *h)
{
	int64_t tai = tai_to_real_ns();
	const void *data;
	uint32_t len;

	while (h->ring_mapped && !ring_peek(&h->ring, &data, &len)) {
		const uint8_t *rec = data;
		struct mapi_hashsamp_record r;
		uint32_t m[CONV_M_WORDS];
		uint64_t ts, wlen;

		if (len == REC_SIZE) {
			memcpy(m, rec, sizeof(m));
			memcpy(&ts, rec + REC_TS, sizeof(ts));
			memcpy(&wlen, rec + REC_WLEN, sizeof(wlen));
			make_record(&r, m, rec + REC_TCP, ts + (uint64_t)tai, (uint32_t)wlen);
			keep_record(h, &r);
		} else {	/* (not the program's: counted, not kept) */
			h->recorded++;
			h->missed++;
		}
		ring_consume(&h->ring);
	}
}

static void hashsamp_tick(struct fn_instance *fi, struct flow *f, uint64_t start, uint64_t now,
			  uint64_t value, int final)
{
	struct hashsamp *h = fi->state;

	(void)f;
	(void)start;
	(void)now;
	(void)value;
	(void)final;
	pthread_mutex_lock(&h->lock);
	drain(h);
	pthread_mutex_unlock(&h->lock);
}

static int hashsamp_read(struct fn_instance *fi, struct flow *f, const void **out, size_t *size)
{
	struct hashsamp *h = fi->state;
	struct mapi_hashsamp_result *r;
	uint64_t kept = 0, lost = 0;
	unsigned int i, n;
	int ret = 0;

	if (h->keep && !h->records)
		return err_set(-EINVAL, MAPI_ERR_WRONG_FUNCTION, "HASHSAMP: mapid's copy has no records");
	pthread_mutex_lock(&h->lock);
	drain(h);
	/* the counts after the records, lost before kept (the program counts
	 * a packet kept before it may lose its record): recorded + lost is
	 * never more than kept */
	if (h->keep) {
		ret = flow_read_slot(f, (uint32_t)fi->slot + S_LOST, &lost);
		if (!ret)
			ret = flow_read_slot(f, (uint32_t)fi->slot + S_KEPT, &kept);
	}
	n = h->pending;
	r = ret ? NULL : calloc(1, sizeof(*r) + n * sizeof(r->records[0]));
	if (r) {
		r->keep = h->keep;
		r->kept = kept;
		r->lost = lost;
		r->recorded = h->recorded;
		r->missed = h->missed;
		r->count = n;
		for (i = 0; i < n; i++)
			r->records[i] = h->records[(h->first + i) % MAPI_HASHSAMP_RECORDS];
		h->first = (h->first + n) % MAPI_HASHSAMP_RECORDS;
		h->pending = 0;
	}
	pthread_mutex_unlock(&h->lock);
	if (ret)
		return ret;
	if (!r)
		return -ENOMEM;
	free(h->snapshot);
	h->snapshot = r;
	*out = r;
	*size = sizeof(*r) + n * sizeof(r->records[0]);
	return 0;
}

static uint32_t hashsamp_ring_bytes(const struct fn_instance *fi)
{
	const struct hashsamp *h = fi->state;

	return h && h->keep ? RING_BYTES : 0;
}

static int hashsamp_share(const struct fn_instance *fi, int *fds, int max)
{
	struct hashsamp *h = fi->state;
	int *const maps[] = { &h->ring_fd };

	return fn_maps_share(fi, maps, h->keep, fds, max);
}

static int hashsamp_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct hashsamp *h = fi->state;
	int *const maps[] = { &h->ring_fd };
	int ret;

	(void)f;
	ret = fn_maps_adopt(fi, maps, h->keep, fds, n);
	if (ret || !h->keep)
		return ret;
	ret = ring_open(&h->ring, h->ring_fd, RING_BYTES, NULL);
	if (ret)
		return err_kernel(ret, "HASHSAMP: mapping its ring of records");
	h->ring_mapped = 1;
	return 0;
}

static void hashsamp_disconnect(struct fn_instance *fi)
{
	struct hashsamp *h = fi->state;
	int *const maps[] = { &h->ring_fd };

	/* (not drained: its records go with it; and a forked child that
	 * closes an inherited flow must not move the parent's ring) */
	if (h->ring_mapped)
		ring_close(&h->ring);
	h->ring_mapped = 0;
	fn_maps_close(fi, maps, 1);
}

static void hashsamp_release(struct fn_instance *fi)
{
	struct hashsamp *h = fi->state;

	if (!h)
		return;
	hashsamp_disconnect(fi);
	cbpf_prog_free(&h->prog);
	free(h->records);
	free(h->snapshot);
	pthread_mutex_destroy(&h->lock);
	free(h);
	fi->state = NULL;
}

const struct fn_desc fn_hashsamp = {
	.name = "HASHSAMP",
	.forms = { { "iI", "RANGE [KEEP]" } },
	.help = "keep whole TCP and UDP conversations: those whose 5-tuple hash, the same both "
		"ways, is below RANGE of 1024; KEEP 1 records each packet kept (addresses, ports, "
		"TCP sequence and flags, time, length: struct mapi_hashsamp_result)",
	.result = FN_RESULT_HASHSAMP,
	.slots = HASHSAMP_SLOTS,
	.offloadable = 1,
	.prepare = hashsamp_prepare,
	.connect = hashsamp_connect,
	.emit = hashsamp_emit,
	.run = hashsamp_run,
	.tick = hashsamp_tick,
	.read = hashsamp_read,
	.share = hashsamp_share,
	.adopt = hashsamp_adopt,
	.ring_bytes = hashsamp_ring_bytes,
	.disconnect = hashsamp_disconnect,
	.release = hashsamp_release,
};
