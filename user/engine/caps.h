/* SPDX-License-Identifier: BSD-2-Clause */
/* The capabilities a flow needs, checked before the kernel says EPERM. */
#ifndef MAPI_CAPS_H
#define MAPI_CAPS_H

/*
 * 0 if this process may load and attach flow programs (CAP_BPF,
 * CAP_PERFMON and CAP_NET_ADMIN, or CAP_SYS_ADMIN which implies them);
 * otherwise -EPERM with a message naming what is missing.
 */
int caps_check(const char *dev);

#endif
