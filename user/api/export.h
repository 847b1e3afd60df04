/* SPDX-License-Identifier: BSD-2-Clause */
/* The library is built with -fvisibility=hidden: only these symbols leave it. */
#ifndef MAPI_EXPORT_H
#define MAPI_EXPORT_H
#define MAPI_EXPORT __attribute__((visibility("default")))
#endif
