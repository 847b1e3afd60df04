/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MAPI 2.0 compatibility: what a MAPI 2.0 program expects where mapi-bpf's
 * own API differs, so that its sources compile unchanged with -DMAPI_V2
 * (mapi.h includes this file then):
 *
 *   - mapi_read_results(fd, fid), two arguments, returns a mapi_results_t
 *     whose res points to the result (its live value, as MAPI_REF);
 *   - struct mapipkt has MAPI 2.0's layout: ts as 32.32 fixed point
 *     (seconds since the epoch << 32 | fraction), an unsigned short
 *     ifindex, caplen, wlen, and the frame at &pkt->pkt;
 *   - mapi_loop's callback takes that packet;
 *   - mapi_connect returns -1 when permission is missing, -2 otherwise;
 *   - the information structures (flows, functions, devices, library
 *     functions, mapi_stats) have MAPI 2.0's fields, and the library
 *     function calls its (library, function) numbers;
 *   - MAPI 2.0's constant names: WAIT, NOWAIT, PERIODIC, PROBABILISTIC,
 *     TOPX_*, SORT_BY_*, FLOW_INIT..., CLIENT_SIDE...,
 *     MAPI_STR_LENGTH.  MFF_* and the error codes are mapi-bpf's own, which
 *     are MAPI 2.0's values.
 *
 * mapi-bpf's calls that MAPI 2.0 did not have and that take mapi-bpf's
 * shapes (mapi_get_next_pkt_timeout, say) are not for such programs: the
 * compiler says so.
 *
 * Without MAPI_V2 this file only declares the compatibility calls under
 * names of their own (mapi_v2_*, struct mapi2_*): mapi-bpf's API is as
 * mapi.h says.  Everything else of mapi.h is the same in both.
 */
#ifndef MAPI2_H
#define MAPI2_H

#include <sys/types.h>
#include <time.h>

#include "mapi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MAPI2_STR_LENGTH 256

/* A packet, laid out as MAPI 2.0's: the frame starts at &pkt->pkt. */
struct mapi2_pkt {
	unsigned long long ts;	/* seconds since the epoch << 32 | fraction of one */
	unsigned short ifindex;
	unsigned caplen;
	unsigned wlen;
	unsigned char pkt;	/* the frame's first byte; the rest follow it */
};

typedef struct mapi2_results {
	void *res;		/* the result, live: an unsigned long long (counters)
				 * or an int (TO_FILE's status) */
	unsigned long long ts;	/* when it was read, microseconds since the epoch */
	int size;		/* of *res, in bytes */
} mapi2_results_t;

typedef void (*mapi2_handler)(const struct mapi2_pkt *pkt);

/* Flow states, as MAPI 2.0 numbered them. */
enum { MAPI2_FLOW_INIT, MAPI2_FLOW_ACTIVE, MAPI2_FLOW_FINISHED, MAPI2_FLOW_CLOSED };

typedef struct mapi2_flow_info {
	uid_t uid;
	int fd;
	int devid;		/* its interface's index (0: a trace) */
	char device[MAPI2_STR_LENGTH];
	unsigned num_functions;
	time_t start;		/* when it was connected */
	time_t end;		/* 0: mapi-bpf does not keep it */
	int status;		/* MAPI2_FLOW_*: FINISHED once its trace is read or
				 * its interface went */
} mapi2_flow_info_t;

/* What mapi-bpf does not count: a filter's packets in and out. */
#define MAPI2_NOT_COUNTED (~0ull)

typedef struct mapi2_function_info {
	int fid;
	char name[MAPI2_STR_LENGTH];
	char libname[MAPI2_STR_LENGTH];	/* "mapi-bpf" */
	char devtype[MAPI2_STR_LENGTH];	/* the flow's backend: "in-process", "mapid",
					 * "trace" */
	unsigned long long pkts;	/* packets that reached it */
	unsigned long long passed_pkts;	/* that it passed on */
	int result_size;		/* of what mapi_read_results gives, or 0 */
} mapi2_function_info_t;

typedef struct mapi2_device_info {
	int id;				/* the interface's index */
	char device[MAPI2_STR_LENGTH];	/* its name */
	char name[MAPI2_STR_LENGTH];	/* its driver, as ethtool names it */
	char alias[MAPI2_STR_LENGTH];
	char description[1024];		/* type, state, MTU and attach modes */
	int link_speed;			/* Mbit/s; -1 when the driver does not say */
	int mpls;
	int vlan;
} mapi2_device_info_t;

typedef struct mapi2_libfunct_info {
	char name[MAPI2_STR_LENGTH];
	char descr[1024];
	char argdescr[MAPI2_STR_LENGTH];	/* the letters of its MAPI 2.0 form's
						 * arguments: s string, i int */
	char devtype[MAPI2_STR_LENGTH];
} mapi2_libfunct_info_t;

/* mapi_stats's, with MAPI 2.0's 32-bit counters (they wrap). */
struct mapi2_stat {
	unsigned int ps_recv;
	unsigned int ps_drop;
	unsigned int ps_ifdrop;
	char hostname[MAPI2_STR_LENGTH];
	char dev[MAPI2_STR_LENGTH];
};

/* The calls, as MAPI 2.0 had them; each fails as mapi-bpf's own does. */
mapi2_results_t *mapi_v2_read_results(int fd, int fid);
struct mapi2_pkt *mapi_v2_get_next_pkt(int fd, int fid);
int mapi_v2_loop(int fd, int fid, int cnt, mapi2_handler callback);
int mapi_v2_get_flow_info(int fd, mapi2_flow_info_t *info);
int mapi_v2_get_next_flow_info(int fd, mapi2_flow_info_t *info);
int mapi_v2_get_function_info(int fd, int fid, mapi2_function_info_t *info);
int mapi_v2_get_next_function_info(int fd, int fid, mapi2_function_info_t *info);
int mapi_v2_get_device_info(int devid, mapi2_device_info_t *info);
int mapi_v2_get_next_device_info(int devid, mapi2_device_info_t *info);
int mapi_v2_get_libfunct_info(int libnum, int fnum, mapi2_libfunct_info_t *info);
int mapi_v2_get_next_libfunct_info(int libnum, int fnum, mapi2_libfunct_info_t *info);
int mapi_v2_stats(const char *dev, struct mapi2_stat *stats);
/* mapi_connect: -1 when permission is missing, -2 for any other failure. */
int mapi_v2_connect(int fd);
/* mapi_apply_function without the header's checking macro (C before C11,
 * C++): reads the arguments of the function's MAPI 2.0 form, integers as
 * int (TO_FILE's count, which MAPI 2.0's programs pass as an int or an
 * unsigned long long: on x86-64 and other little-endian ABIs the int is
 * the low half of the same slot). */
int mapi_v2_apply_function(int fd, const char *funct, ...);

#ifdef MAPI_V2
#define MAPI_STR_LENGTH MAPI2_STR_LENGTH
enum { WAIT = MAPI_WAIT, NOWAIT = MAPI_NOWAIT };
enum { PERIODIC = MAPI_PERIODIC, PROBABILISTIC = MAPI_PROBABILISTIC };
enum { SORT_BY_PACKETS = MAPI_SORT_BY_PACKETS, SORT_BY_BYTES = MAPI_SORT_BY_BYTES };
enum {
	TOPX_IP = MAPI_TOPX_IP, TOPX_TCP = MAPI_TOPX_TCP, TOPX_UDP = MAPI_TOPX_UDP,
	TOPX_ICMP = MAPI_TOPX_ICMP,
	TOPX_IP_TOS = MAPI_TOPX_IP_TOS, TOPX_IP_LENGTH, TOPX_IP_ID, TOPX_IP_OFFSET,
	TOPX_IP_TTL, TOPX_IP_PROTOCOL, TOPX_IP_CHECKSUM, TOPX_IP_SRCIP, TOPX_IP_DSTIP,
	TOPX_TCP_SRCPORT, TOPX_TCP_DSTPORT, TOPX_TCP_SEQ, TOPX_TCP_ACK, TOPX_TCP_FLAGS,
	TOPX_TCP_WIN, TOPX_TCP_CRC, TOPX_TCP_URGENT, TOPX_UDP_SRCPORT, TOPX_UDP_DSTPORT,
	TOPX_UDP_LENGTH, TOPX_UDP_CHECKSUM,
};
enum { CLIENT_SIDE = 1, SERVER_SIDE, BOTH_SIDE };
enum {
	FLOW_INIT = MAPI2_FLOW_INIT,
	FLOW_ACTIVE = MAPI2_FLOW_ACTIVE,
	FLOW_FINISHED = MAPI2_FLOW_FINISHED,
	FLOW_CLOSED = MAPI2_FLOW_CLOSED,
};

#define mapipkt mapi2_pkt
#define mapi_handler mapi2_handler
#define mapi_results_t mapi2_results_t
#define mapi_flow_info_t mapi2_flow_info_t
#define mapi_function_info_t mapi2_function_info_t
#define mapi_device_info_t mapi2_device_info_t
#define mapi_libfunct_info_t mapi2_libfunct_info_t
#define mapi_stat mapi2_stat

#define mapi_read_results mapi_v2_read_results
#define mapi_get_next_pkt mapi_v2_get_next_pkt
#define mapi_loop mapi_v2_loop
#define mapi_get_flow_info mapi_v2_get_flow_info
#define mapi_get_next_flow_info mapi_v2_get_next_flow_info
#define mapi_get_function_info mapi_v2_get_function_info
#define mapi_get_next_function_info mapi_v2_get_next_function_info
#define mapi_get_device_info mapi_v2_get_device_info
#define mapi_get_next_device_info mapi_v2_get_next_device_info
#define mapi_get_libfunct_info mapi_v2_get_libfunct_info
#define mapi_get_next_libfunct_info mapi_v2_get_next_libfunct_info
#define mapi_stats mapi_v2_stats
#define mapi_connect mapi_v2_connect
#if !defined(MAPI__CHECKED) || defined(MAPI_NO_CHECKED_APPLY)
#define mapi_apply_function mapi_v2_apply_function
#endif
#endif /* MAPI_V2 */

#ifdef __cplusplus
}
#endif

#endif /* MAPI2_H */
