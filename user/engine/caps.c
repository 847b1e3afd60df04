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
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

static int has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

int caps_check(const char *dev)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	char missing[64] = "";
	int sys;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d))
		return 0;	/* cannot tell: let the kernel decide */
	sys = has_cap(d, CAP_SYS_ADMIN);
	/* the verifier lets only CAP_PERFMON do the pointer arithmetic every
	 * flow program does (the frame's length is data_end - data) */
	if (!sys && !has_cap(d, CAP_BPF))
		strcat(missing, " and CAP_BPF");
	if (!sys && !has_cap(d, CAP_PERFMON))
		strcat(missing, " and CAP_PERFMON");
	if (!sys && !has_cap(d, CAP_NET_ADMIN))
		strcat(missing, " and CAP_NET_ADMIN");
	if (!*missing)
		return 0;
	return err_set(-EPERM, MAPI_ERR_PERMISSION,
		       "missing %s: loading flow programs needs CAP_BPF and CAP_PERFMON, "
		       "attaching them to %s CAP_NET_ADMIN (run as root, grant them: setcap "
		       "cap_bpf,cap_perfmon,cap_net_admin+ep PROGRAM, or use mapid)", missing + 5,
		       dev);
}
