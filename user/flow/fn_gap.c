/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GAP, MAPI 2.0's: the time between the last two packets that reached it,
 * in ns (an unsigned long long; 0 before the second).
 *
 * In the kernel: one array map of its own holds the last packet's time and
 * the gap; each packet swaps its time (bpf_ktime_get_ns) for the last one
 * atomically, so packets on two CPUs at once give a gap between two of
 * them, never between a packet and itself.  Over a trace: the packets'
 * times.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>

#include "codegen.h"
#include "error.h"
#include "functions.h"

struct gap_value {
	uint64_t last;		/* the last packet's time, 0 before the first */
	uint64_t gap;
};

struct gap {
	int map_fd;
	struct gap_value memory;	/* a flow over a trace (one writer) */
};

static int gap_prepare(struct fn_instance *fi, const struct flow *f)
{
	struct gap *g = calloc(1, sizeof(*g));

	(void)f;
	if (!g)
		return -ENOMEM;
	g->map_fd = -1;
	fi->state = g;
	return 0;
}

static int gap_connect(struct fn_instance *fi, const struct flow *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, ro, .map_flags = BPF_F_RDONLY);
	struct gap *g = fi->state;

	(void)f;
	fi->maps = 1;
	g->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_gap", sizeof(uint32_t),
				   sizeof(struct gap_value), 1, &ro);
	if (g->map_fd < 0)
		return err_kernel(-errno, "creating GAP's value");
	return 0;
}

static int gap_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct gap *g = fi->state;
	struct prog_buf *pb = &cg->pb;
	int skip = pb_new_label(pb);

	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "GAP cannot run on a NIC");
	pb_emit(pb, CALL_HELPER(BPF_FUNC_ktime_get_ns));
	pb_ld_map_value(pb, R1, g->map_fd, 0);
	pb_emit(pb, MOV64_REG(R2, R0));
	pb_emit(pb, insn(BPF_STX | BPF_DW | BPF_ATOMIC, R1, R2, 0, BPF_XCHG));	/* R2: the last */
	pb_jmp_imm(pb, BPF_JEQ, R2, 0, skip);
	pb_emit(pb, ALU64_REG(BPF_SUB, R0, R2));
	pb_emit(pb, STX_MEM(BPF_DW, R1, R0, (int16_t)offsetof(struct gap_value, gap)));
	pb_bind(pb, skip);
	return 0;
}

static int gap_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct gap *g = fi->state;

	(void)f;
	if (g->memory.last)
		__atomic_store_n(&g->memory.gap, p->ts_ns - g->memory.last, __ATOMIC_RELAXED);
	g->memory.last = p->ts_ns;
	return 1;
}

static int gap_read(struct fn_instance *fi, struct flow *f, uint64_t *v)
{
	struct gap *g = fi->state;
	struct gap_value gv;
	uint32_t zero = 0;

	if (f->trace) {
		*v = __atomic_load_n(&g->memory.gap, __ATOMIC_RELAXED);
		return 0;
	}
	if (bpf_map_lookup_elem(g->map_fd, &zero, &gv))
		return err_kernel(-errno, "reading GAP's value");
	*v = gv.gap;
	return 0;
}

static int gap_share(const struct fn_instance *fi, int *fds, int max)
{
	struct gap *g = fi->state;
	int *const maps[] = { &g->map_fd };

	return fn_maps_share(fi, maps, 1, fds, max);
}

static int gap_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct gap *g = fi->state;
	int *const maps[] = { &g->map_fd };

	(void)f;
	return fn_maps_adopt(fi, maps, 1, fds, n);
}

static void gap_disconnect(struct fn_instance *fi)
{
	struct gap *g = fi->state;
	int *const maps[] = { &g->map_fd };

	fn_maps_close(fi, maps, 1);
}

static void gap_release(struct fn_instance *fi)
{
	if (fi->state)
		gap_disconnect(fi);
	free(fi->state);
	fi->state = NULL;
}

const struct fn_desc fn_gap = {
	.name = "GAP",
	.forms = { { "", "" } },
	.help = "the time between the last two packets that reached it, ns (unsigned long long)",
	.result = FN_RESULT_U64,
	.prepare = gap_prepare,
	.connect = gap_connect,
	.emit = gap_emit,
	.run = gap_run,
	.read_u64 = gap_read,
	.share = gap_share,
	.adopt = gap_adopt,
	.disconnect = gap_disconnect,
	.release = gap_release,
};
