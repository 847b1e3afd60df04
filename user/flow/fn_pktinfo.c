/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PKTINFO(MAPI_PKT_TS | MAPI_PKT_SIZE), MAPI 2.0's: the last packet that
 * reached it, its time (ns since the epoch) or its length on the wire (an
 * unsigned long long; 0 before the first).
 *
 * In the kernel: one u64 in an array map of its own, stored by each packet
 * (the last writer, of packets on two CPUs at once, is the last packet);
 * the time is CLOCK_TAI's (bpf_ktime_get_tai_ns), turned into the wall
 * clock when read, as TO_BUFFER's records are.  Over a trace: the packets'
 * times and lengths.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "codegen.h"
#include "error.h"
#include "functions.h"

struct pktinfo {
	int what;		/* MAPI_PKT_TS or MAPI_PKT_SIZE */
	int map_fd;
	uint64_t memory;	/* a flow over a trace */
};

static int pktinfo_prepare(struct fn_instance *fi, const struct flow *f)
{
	struct pktinfo *pi;

	(void)f;
	if (fi->args[0].v.i != MAPI_PKT_TS && fi->args[0].v.i != MAPI_PKT_SIZE)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "PKTINFO %lld: MAPI_PKT_TS (%d) or MAPI_PKT_SIZE (%d)", fi->args[0].v.i,
			       MAPI_PKT_TS, MAPI_PKT_SIZE);
	pi = calloc(1, sizeof(*pi));
	if (!pi)
		return -ENOMEM;
	pi->what = (int)fi->args[0].v.i;
	pi->map_fd = -1;
	fi->state = pi;
	return 0;
}

static int pktinfo_connect(struct fn_instance *fi, const struct flow *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, ro, .map_flags = BPF_F_RDONLY);
	struct pktinfo *pi = fi->state;

	(void)f;
	fi->maps = 1;
	pi->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_pktinfo", sizeof(uint32_t),
				    sizeof(uint64_t), 1, &ro);
	if (pi->map_fd < 0)
		return err_kernel(-errno, "creating PKTINFO's value");
	return 0;
}

static int pktinfo_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct pktinfo *pi = fi->state;
	struct prog_buf *pb = &cg->pb;

	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "PKTINFO cannot run on a NIC");
	if (pi->what == MAPI_PKT_TS)
		pb_emit(pb, CALL_HELPER(BPF_FUNC_ktime_get_tai_ns));
	else
		pb_emit(pb, LDX_MEM(BPF_DW, R0, RFP, STK_WIRELEN));
	pb_ld_map_value(pb, R1, pi->map_fd, 0);
	pb_emit(pb, STX_MEM(BPF_DW, R1, R0, 0));
	return 0;
}

static int pktinfo_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct pktinfo *pi = fi->state;

	(void)f;
	__atomic_store_n(&pi->memory, pi->what == MAPI_PKT_TS ? p->ts_ns : p->wlen,
			 __ATOMIC_RELAXED);
	return 1;
}

static int pktinfo_read(struct fn_instance *fi, struct flow *f, uint64_t *v)
{
	struct pktinfo *pi = fi->state;
	uint32_t zero = 0;

	if (f->trace) {
		*v = __atomic_load_n(&pi->memory, __ATOMIC_RELAXED);
		return 0;
	}
	if (bpf_map_lookup_elem(pi->map_fd, &zero, v))
		return err_kernel(-errno, "reading PKTINFO's value");
	if (pi->what == MAPI_PKT_TS && *v)
		*v += (uint64_t)tai_to_real_ns();
	return 0;
}

static int pktinfo_share(const struct fn_instance *fi, int *fds, int max)
{
	struct pktinfo *pi = fi->state;
	int *const maps[] = { &pi->map_fd };

	return fn_maps_share(fi, maps, 1, fds, max);
}

static int pktinfo_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct pktinfo *pi = fi->state;
	int *const maps[] = { &pi->map_fd };

	(void)f;
	return fn_maps_adopt(fi, maps, 1, fds, n);
}

static void pktinfo_disconnect(struct fn_instance *fi)
{
	struct pktinfo *pi = fi->state;
	int *const maps[] = { &pi->map_fd };

	fn_maps_close(fi, maps, 1);
}

static void pktinfo_release(struct fn_instance *fi)
{
	if (fi->state)
		pktinfo_disconnect(fi);
	free(fi->state);
	fi->state = NULL;
}

const struct fn_desc fn_pktinfo = {
	.name = "PKTINFO",
	.forms = { { "i", "MAPI_PKT_TS|MAPI_PKT_SIZE" } },
	.help = "the last packet that reached it: its time, ns since the epoch (MAPI_PKT_TS), or "
		"its length on the wire (MAPI_PKT_SIZE) (unsigned long long)",
	.result = FN_RESULT_U64,
	.prepare = pktinfo_prepare,
	.connect = pktinfo_connect,
	.emit = pktinfo_emit,
	.run = pktinfo_run,
	.read_u64 = pktinfo_read,
	.share = pktinfo_share,
	.adopt = pktinfo_adopt,
	.disconnect = pktinfo_disconnect,
	.release = pktinfo_release,
};
