/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapi info: what this machine offers a flow: its interfaces and the attach
 * modes each supports, the kernel's features, the privileges at hand.
 * Looks without changing anything: nothing is attached to an interface.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "mapi.h"

static const char info_usage[] =
	"usage: mapi info [--json]\n"
	"\n"
	"Shows the kernel and its BPF features, whether this process has the\n"
	"privileges flows need, whether its flows would run in mapid or in the\n"
	"process, and every network interface with the XDP modes it\n"
	"supports (native XDP as its driver offers it; generic XDP on any Ethernet\n"
	"or loopback interface; offload on NICs that run BPF).  Nothing is attached\n"
	"to look: native support is known from the driver, and a driver not known\n"
	"to mapi is marked \"unknown\" (mapi then tries native XDP and falls back).\n"
	"\n"
	"  --json   one JSON object\n";

#define ATTACH_TCX_EGRESS 47	/* BPF_TCX_EGRESS, newer than these headers */

static int has_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return 0;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* 1 yes, 0 no, -1 cannot tell (no privileges to ask). */
static int probe_xdp_frags(void)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = BPF_F_XDP_HAS_FRAGS,
		    .expected_attach_type = BPF_XDP);
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "mapi_probe", "GPL", prog, 2, &o);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EPERM ? -1 : 0;
}

static int probe_tcx(void)
{
	__u32 ids[1], cnt = 1, flags = 0;

	if (!bpf_prog_query((int)if_nametoindex("lo"), ATTACH_TCX_EGRESS, 0, &flags, ids, &cnt))
		return 1;
	return errno == EPERM ? -1 : 0;
}

static int probe_result(int r)
{
	return r < 0 ? -1 : r == 1;
}

static const char *yes_no(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "unknown (needs CAP_BPF)";
}

/* s with " and \\ escaped (and control bytes dropped), for JSON. */
static const char *json_escaped(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && n + 2 < len; s++) {
		if ((unsigned char)*s < 0x20)
			continue;
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = 0;
	return out;
}

static const char *json_bool(int v)
{
	return v > 0 ? "true" : v == 0 ? "false" : "null";
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 },
	};
	int c, json = 0, btf, cap_bpf, cap_perf, cap_net, loop, ringbuf, frags, tcx, first = 1;
	int id, code;
	mapi_device_info_t d;
	char alias[2 * sizeof(d.alias)];
	char why[MAPI_ERRORSTR_LENGTH] = "";
	const char *backend;
	struct utsname u;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': fputs(info_usage, stdout); return 0;
		default: die_bad_option("info", argv);
		}
	}
	if (optind != argc)
		die("info takes no arguments (mapi info --help)");
	uname(&u);
	btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	cap_bpf = has_cap(CAP_BPF);
	cap_net = has_cap(CAP_NET_ADMIN);
	cap_perf = has_cap(CAP_PERFMON);
	libbpf_set_print(NULL);
	loop = probe_result(libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_loop, NULL));
	ringbuf = probe_result(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL));
	if (!cap_bpf)
		loop = ringbuf = -1;
	frags = probe_xdp_frags();
	tcx = probe_tcx();
	backend = mapi_backend();
	if (!backend)
		mapi_read_error(NULL, why);

	if (json)
		printf("{\"kernel\":\"%s\",\"btf\":%s,\"cap_bpf\":%s,\"cap_perfmon\":%s,"
		       "\"cap_net_admin\":%s,"
		       "\"bpf_loop\":%s,\"ringbuf\":%s,\"xdp_frags\":%s,\"tcx\":%s,"
		       "\"flows_run_in\":\"%s\",\"interfaces\":[",
		       u.release, json_bool(btf), json_bool(cap_bpf), json_bool(cap_perf),
		       json_bool(cap_net),
		       json_bool(loop), json_bool(ringbuf), json_bool(frags), json_bool(tcx),
		       backend ? backend : "none");
	else
		printf("kernel      %s, BTF %s\n"
		       "privileges  CAP_BPF %s, CAP_PERFMON %s, CAP_NET_ADMIN %s\n"
		       "features    bpf_loop %s, ring buffers %s, XDP fragments %s, tcx %s\n"
		       "flows run   %s%s\n"
		       "\n%-16s %-4s %-9s %6s  %-12s %-8s %-8s %-8s %s\n",
		       u.release, btf ? "yes" : "no (flows cannot load)", cap_bpf ? "yes" : "no",
		       cap_perf ? "yes" : "no", cap_net ? "yes" : "no", yes_no(loop), yes_no(ringbuf), yes_no(frags),
		       yes_no(tcx), !backend ? "nowhere: " : !strcmp(backend, "mapid") ?
		       "in mapid" : "in this process (no mapid listens)", backend ? "" : why,
		       "interface", "up", "type", "mtu", "driver", "native", "generic",
		       "offload", "tc egress");
	for (id = 0; mapi_get_next_device_info(id, &d) == 0; id = d.id) {
		int flows = strcmp(d.type, "other") != 0;

		if (json)
			printf("%s{\"name\":\"%s\",\"ifindex\":%d,\"up\":%s,\"type\":\"%s\","
			       "\"mtu\":%d,\"driver\":\"%s\",\"speed_mbps\":%lld,\"alias\":\"%s\","
			       "\"native\":\"%s\",\"generic\":%s,\"offload\":\"%s\",\"tc\":%s}",
			       first ? "" : ",", d.name, d.id, d.up ? "true" : "false", d.type, d.mtu,
			       d.description, d.link_speed, json_escaped(d.alias, alias, sizeof(alias)),
			       d.native, flows ? "true" : "false", d.offload,
			       flows && tcx ? "true" : "false");
		else
			printf("%-16s %-4s %-9s %6d  %-12s %-8s %-8s %-8s %s\n", d.name,
			       d.up ? "yes" : "no", d.type, d.mtu, *d.description ? d.description : "-",
			       d.native, flows ? "yes" : "no", d.offload,
			       !flows ? "no" : tcx > 0 ? "yes" : tcx == 0 ? "no" : "unknown");
		first = 0;
	}
	mapi_read_error(&code, why);
	if (code != MAPI_NO_SUCH_DEVICE)
		die("listing the interfaces: %s", why);
	if (json)
		printf("]}\n");
	return 0;
}
