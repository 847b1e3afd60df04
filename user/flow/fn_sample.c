/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SAMPLE(VALUE, MODE), MAPI 2.0's: a filter that keeps a sample of the
 * packets reaching it.
 *
 * MAPI_PERIODIC keeps exactly one of every VALUE packets: the VALUE-th,
 * the 2 VALUE-th, ...  In the kernel the count is one u64 in an array map
 * of the function's own, shared by every CPU and by both directions, and
 * advanced with an atomic fetch-and-add: a per-CPU count would keep one of
 * every VALUE packets of each CPU, not of the flow.
 *
 * MAPI_PROBABILISTIC keeps each packet with probability VALUE % (0 to 100),
 * on its own: a xorshift64 number's high half below VALUE/100 of 2^32.  In
 * the kernel each CPU has a generator of its own, its cache line of an
 * array map's value, at the CPU's number (seeded from the kernel's random
 * bytes at connect): a few instructions, where bpf_get_prandom_u32() is a call
 * that cost 20 ns a packet.  Over a trace, one generator so seeded.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "codegen.h"
#include "error.h"
#include "functions.h"
#include "results.h"

struct sample {
	int mode;
	uint32_t value;
	uint32_t below;		/* PROBABILISTIC: keep when a u32 is below it */
	int map_fd;		/* PERIODIC: the count; PROBABILISTIC: the generators */
	uint64_t seen;		/* PERIODIC over a trace */
	uint64_t rng;		/* PROBABILISTIC over a trace */
};

/* A generator's state: alone in its cache line (the CPUs write theirs at
 * every packet). */
#define RNG_STRIDE 64

/* Marsaglia's xorshift64; its high half. */
static uint32_t xorshift64_high(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 32);
}

/* A xorshift state, never 0, from the kernel's random bytes. */
static uint64_t seed(void)
{
	uint64_t x = 0;

	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
		x = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)clock();
	return x | 1;
}

static int sample_prepare(struct fn_instance *fi, const struct flow *f)
{
	long long value = fi->args[0].v.i, mode = fi->args[1].v.i;
	struct sample *s;

	(void)f;
	if (mode != MAPI_PERIODIC && mode != MAPI_PROBABILISTIC)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			       "SAMPLE mode %lld: PERIODIC (%d) or PROBABILISTIC (%d)", mode,
			       MAPI_PERIODIC, MAPI_PROBABILISTIC);
	if (mode == MAPI_PERIODIC && value < 1)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "SAMPLE PERIODIC %lld: keeps one of every VALUE packets, VALUE 1 or "
			       "more", value);
	if (mode == MAPI_PROBABILISTIC && (value < 0 || value > 100))
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "SAMPLE PROBABILISTIC %lld: keeps VALUE %% of the packets, 0 to 100",
			       value);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mode = (int)mode;
	s->value = (uint32_t)value;
	s->below = (uint32_t)(((uint64_t)value << 32) / 100);
	s->map_fd = -1;
	s->rng = seed();
	fi->state = s;
	return 0;
}

static int sample_connect(struct fn_instance *fi, const struct flow *f)
{
	struct sample *s = fi->state;
	int ncpus = store_ncpus(), cpu;
	uint32_t zero = 0;
	uint8_t *cells;

	(void)f;
	fi->maps = 0;
	if (s->mode == MAPI_PERIODIC ? s->value == 1 : s->value == 0 || s->value == 100)
		return 0;	/* every packet, or none: no state */
	if (s->mode == MAPI_PERIODIC) {
		s->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_sample", sizeof(uint32_t),
					   sizeof(uint64_t), 1, NULL);
		if (s->map_fd < 0)
			return err_kernel(-errno, "creating SAMPLE's count");
		fi->maps = 1;
		return 0;
	}
	/* one value, a line per CPU: the verifier bounds an offset within a
	 * value, not across an array's values */
	s->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_sample_rng", sizeof(uint32_t),
				   (uint32_t)(RNG_STRIDE * ncpus), 1, NULL);
	if (s->map_fd < 0)
		return err_kernel(-errno, "creating SAMPLE's generators");
	fi->maps = 1;
	cells = calloc((size_t)ncpus, RNG_STRIDE);
	if (!cells)
		return -ENOMEM;
	for (cpu = 0; cpu < ncpus; cpu++) {
		uint64_t x = seed();

		memcpy(cells + (size_t)cpu * RNG_STRIDE, &x, sizeof(x));
	}
	if (bpf_map_update_elem(s->map_fd, &zero, cells, BPF_ANY)) {
		free(cells);
		return err_kernel(-errno, "seeding SAMPLE's generators");
	}
	free(cells);
	return 0;
}

static int sample_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct sample *s = fi->state;
	struct prog_buf *pb = &cg->pb;

	if (s->mode == MAPI_PERIODIC) {
		if (s->value == 1)
			return 0;	/* every packet */
		if (cg->offload)
			return err_set(-EOPNOTSUPP, MAPI_ERR_MODE,
				       "SAMPLE PERIODIC cannot run on a NIC");
		/* R2 = the count before this packet, for the whole flow */
		pb_ld_map_value(pb, R1, s->map_fd, 0);
		pb_emit(pb, MOV64_IMM(R2, 1));
		pb_emit(pb, insn(BPF_STX | BPF_DW | BPF_ATOMIC, R1, R2, 0, BPF_ADD | BPF_FETCH));
		pb_emit(pb, ALU64_IMM(BPF_MOD, R2, (int32_t)s->value));
		pb_jmp_imm(pb, BPF_JNE, R2, (int32_t)s->value - 1, cg->flow_end);
		return 0;
	}
	if (s->value == 100)
		return 0;
	if (s->value == 0) {
		/* none: a test that always holds, not a goto, which would leave
		 * the functions after it unreachable (the verifier refuses those) */
		pb_emit(pb, MOV64_IMM(R0, 0));
		pb_jmp_imm(pb, BPF_JEQ, R0, 0, cg->flow_end);
		return 0;
	}
	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE,
			       "SAMPLE PROBABILISTIC cannot run on a NIC");
	/* R1 = this CPU's generator */
	cg_cpu(cg, cg->flow_end);
	pb_emit(pb, ALU64_IMM(BPF_LSH, R0, 6));
	_Static_assert(RNG_STRIDE == 1 << 6, "the shift is the stride");
	pb_ld_map_value(pb, R1, s->map_fd, 0);
	pb_emit(pb, ALU64_REG(BPF_ADD, R1, R0));
	/* xorshift64 of it, kept; its high half below s->below keeps */
	pb_emit(pb, LDX_MEM(BPF_DW, R2, R1, 0));
	pb_emit(pb, MOV64_REG(R3, R2));
	pb_emit(pb, ALU64_IMM(BPF_LSH, R3, 13));
	pb_emit(pb, ALU64_REG(BPF_XOR, R2, R3));
	pb_emit(pb, MOV64_REG(R3, R2));
	pb_emit(pb, ALU64_IMM(BPF_RSH, R3, 7));
	pb_emit(pb, ALU64_REG(BPF_XOR, R2, R3));
	pb_emit(pb, MOV64_REG(R3, R2));
	pb_emit(pb, ALU64_IMM(BPF_LSH, R3, 17));
	pb_emit(pb, ALU64_REG(BPF_XOR, R2, R3));
	pb_emit(pb, STX_MEM(BPF_DW, R1, R2, 0));
	pb_emit(pb, ALU64_IMM(BPF_RSH, R2, 32));
	pb_emit(pb, MOV32_IMM(R3, (int32_t)s->below));	/* zero-extended: unsigned */
	pb_jmp_reg(pb, BPF_JGE, R2, R3, cg->flow_end);
	return 0;
}

static int sample_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct sample *s = fi->state;

	(void)f;
	(void)p;
	if (s->mode == MAPI_PERIODIC)
		return ++s->seen % s->value == 0;
	if (s->value == 100)
		return 1;
	return s->value && xorshift64_high(&s->rng) < s->below;
}

static void sample_disconnect(struct fn_instance *fi)
{
	struct sample *s = fi->state;

	if (s->map_fd >= 0)
		close(s->map_fd);
	s->map_fd = -1;
	fi->maps = 0;
}

static void sample_release(struct fn_instance *fi)
{
	if (fi->state)
		sample_disconnect(fi);
	free(fi->state);
	fi->state = NULL;
}

const struct fn_desc fn_sample = {
	.name = "SAMPLE",
	.forms = { { "ii", "VALUE MODE" } },
	.help = "keep a sample of the packets: MODE PERIODIC, exactly one of every VALUE (the "
		"VALUE-th, the 2 VALUE-th, ...); PROBABILISTIC, each with probability VALUE %",
	.result = FN_RESULT_NONE,
	.prepare = sample_prepare,
	.connect = sample_connect,
	.emit = sample_emit,
	.run = sample_run,
	.disconnect = sample_disconnect,
	.release = sample_release,
};
