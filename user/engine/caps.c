/* SPDX-License-Identifier: BSD-2-Clause */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "mapi.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

int caps_check(const char *dev)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int sys, bpf, net;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d))
		return 0;	/* cannot tell: let the kernel decide */
	sys = has_cap(d, CAP_SYS_ADMIN);
	bpf = sys || has_cap(d, CAP_BPF);
	net = sys || has_cap(d, CAP_NET_ADMIN);
	if (!bpf && !net)
		return err_set(-EPERM, MAPI_ERR_PERMISSION,
			       "missing CAP_BPF and CAP_NET_ADMIN: loading eBPF programs needs "
			       "CAP_BPF and attaching them to %s needs CAP_NET_ADMIN (run as "
			       "root, or grant them: setcap cap_bpf,cap_net_admin+ep PROGRAM)", dev);
	if (!bpf)
		return err_set(-EPERM, MAPI_ERR_PERMISSION,
			       "missing CAP_BPF: loading eBPF programs needs it (run as root, or "
			       "grant it: setcap cap_bpf,cap_net_admin+ep PROGRAM)");
	if (!net)
		return err_set(-EPERM, MAPI_ERR_PERMISSION,
			       "missing CAP_NET_ADMIN: attaching programs to %s needs it (run "
			       "as root, or grant it: setcap cap_bpf,cap_net_admin+ep PROGRAM)", dev);
	return 0;
}
