/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapi.h - the Monitoring Application Programming Interface (MAPI) on eBPF.
 *
 * An application describes what it wants to see as a *network flow*: a
 * subset of an interface's traffic, narrowed and measured by an ordered chain
 * of functions (BPF_FILTER, PKT_COUNTER, BYTE_COUNTER, ...).  Every function
 * runs inside the kernel (XDP for received packets, tc for sent ones); only
 * the results the application asks for cross into user space.
 *
 *	int fd = mapi_create_flow("eth0");
 *	mapi_apply_function(fd, "BPF_FILTER", "tcp and dst port 80");
 *	int fid = mapi_apply_function(fd, "PKT_COUNTER");
 *	mapi_connect(fd);
 *	sleep(10);
 *	unsigned long long *n = mapi_read_results(fd, fid, MAPI_COPY);
 *	mapi_close_flow(fd);
 *
 * Every call that fails returns -1 (NULL for pointers) and leaves a numeric
 * code and a message for mapi_read_error().  The library never prints.
 */
#ifndef MAPI_H
#define MAPI_H

#ifdef __cplusplus
extern "C" {
#endif

#define MAPI_VERSION_MAJOR 0
#define MAPI_VERSION_MINOR 1

/* --- Reading results ---------------------------------------------------- */

/*
 * MAPI_COPY: a snapshot, taken at the call, in memory the library owns.  It
 * stays valid and unchanged until the next MAPI_COPY read of the same function
 * or until the flow is closed.  There is one snapshot a function, not one a
 * thread: threads that read the same function each copy the value out
 * before another reads it (or read with MAPI_REF, which they may share).
 *
 * MAPI_REF: a pointer whose target keeps showing the live value without
 * another call.  The library refreshes it from the kernel every
 * MAPI_REF_REFRESH_MS milliseconds on a thread of its own, so the value lags
 * the kernel by at most that much.  It stays valid until the flow is closed.
 */
#define MAPI_COPY 1
#define MAPI_REF 2
#define MAPI_REF_REFRESH_MS 10

/* --- Errors -------------------------------------------------------------- */

#define MAPI_ERRORSTR_LENGTH 512

/*
 * Codes of the original MAPI (2.0), given for the same failures, in the
 * same calls, checked in the same order (a flow's connection before a
 * function id).
 */
#define MAPI_BPF_FILTER_ERROR 1025	/* BPF_FILTER expression rejected (libpcap's text) */
#define MAPI_FLOW_ALREADY_ACTIVE 3081	/* flow already connected (mapi_connect twice) */
#define MAPI_NO_SUCH_DEVICE 3200	/* no such network interface ("no driver for
					 * the device") */
#define MAPI_STR_SEARCH_UNTERMINATED 3503 /* a |hex| run of a search pattern not closed */
#define MAPI_STR_SEARCH_BAD_RANGE 3504	/* search window (depth) cannot hold the pattern */
#define MAPI_STR_SEARCH_BAD_PATTERN 3505 /* not a search pattern (empty, bad hex...) */
#define MAPI_STR_SEARCH_BAD_HEX MAPI_STR_SEARCH_BAD_PATTERN
#define MAPI_FLOW_NOT_CONNECTED 6143	/* flow not connected yet */
#define MAPI_FUNCTION_NOT_FOUND 6144	/* unknown function name, or id (mapi_read_results) */
#define MAPI_INVALID_FLOW 6145		/* invalid flow descriptor; mapi_read_results: or
					 * function id 0 */
#define MAPI_INVALID_FLOW_OR_FID 6147	/* mapi_get_next_pkt, mapi_loop,
					 * mapi_apply_function: invalid flow or
					 * function id */
#define MAPI_FUNCTION_INFO_NOT_FOUND 6150 /* mapi_get_function_info: no such function;
					   * mapi_get_next_function_info: none after */
#define MAPI_INVALID_ARGUMENT 7000	/* bad argument; 7001..7011 name argument 1..11 */
#define MAPI_APPLY_CONNECTED 7006	/* could not apply the function: the flow is
					 * connected (MAPI 2.0's code, which is also
					 * that of a bad argument 6) */
#define MAPI_APPLY_FAILED 7006		/* the same code for TO_FILE's format other
					 * than MFF_PCAP, as MAPI 2.0 gave it */

/* Codes added by mapi-bpf, in a range the original never used. */
#define MAPI_ERR_PERMISSION 10001	/* a capability or mapid's permission is missing */
#define MAPI_ERR_KERNEL 10002		/* the kernel refused a map or program */
#define MAPI_ERR_ATTACH 10003		/* could not attach to the interface */
#define MAPI_ERR_MODE 10004		/* demanded attach mode not available */
#define MAPI_ERR_NOMEM 10005		/* out of memory */
#define MAPI_ERR_WRONG_FUNCTION 10006	/* function exists but cannot do that */
#define MAPI_ERR_LIMIT 10007		/* a size or count limit was exceeded */
#define MAPI_ERR_INTERNAL 10008		/* bug: please report it */
#define MAPI_ERR_UNSUPPORTED 10009	/* not supported on this device or kernel */
#define MAPI_ERR_TIMEOUT 10010		/* no packet arrived in time */
#define MAPI_ERR_BUSY 10011		/* another thread already waits there */
#define MAPI_ERR_TRACE 10012		/* a trace file is missing, damaged or unsupported */
#define MAPI_ERR_TRACE_END 10013	/* the trace has no more packets */
#define MAPI_ERR_DAEMON 10014		/* mapid is not there, refused, or went away */
#define MAPI_ERR_IO 10015		/* writing a file failed (TO_FILE) */
#define MAPI_ERR_DEVICE_GONE 10016	/* the flow's interface went away: it stopped */
#define MAPI_ERR_DEVICE_STARTED 10017	/* the offline device already reads its trace */

/*
 * The last error of the calling thread.  Either pointer may be NULL; errstr
 * must hold MAPI_ERRORSTR_LENGTH bytes.  Returns 0, or -1 if both are NULL.
 * Reading does not clear the error; the next failing call replaces it.
 */
int mapi_read_error(int *err_no, char *errstr);

/* --- Flows ----------------------------------------------------------------*/

/* A new flow on a network interface.  Returns a flow descriptor (> 0). */
int mapi_create_flow(const char *dev);

/*
 * A new flow over a trace file instead of an interface: path names a pcap
 * or pcapng file ("-": standard input), format says which (MFF_PCAP,
 * MFF_PCAPNG).  The file is opened and its header checked now
 * (MAPI_ERR_TRACE says what is wrong); at mapi_connect a thread reads it
 * to its end, running every function on every packet with the results a
 * live flow would give on the same packets.  mapi_get_flow_info says when
 * the trace is finished; results stay readable until the flow is closed.
 * Needs no privileges.
 */
/* MAPI 2.0's values; its formats of capture cards (MFF_RAW, MFF_DAG_ERF,
 * MFF_COMBO6, MFF_NAPATECH) are refused with a message: convert such
 * traces first. */
#define MFF_PCAP 0
#define MFF_RAW 1
#define MFF_DAG_ERF 2
#define MFF_COMBO6 3
#define MFF_NAPATECH 4
#define MFF_PCAPNG 16
int mapi_create_offline_flow(const char *path, int format);

/*
 * MAPI 2.0's offline devices: a trace file opened as a device, whose name
 * ("trace:1"; no interface's name holds ':') mapi_create_flow takes, so
 * that several flows read one trace together.  Connect its flows, then
 * mapi_start_offline_device reads the trace once, each packet through
 * every connected flow, in the order they connected; a flow connected
 * after the start is refused (MAPI_ERR_DEVICE_STARTED).  A flow's
 * TO_BUFFER that fills waits for its reader, so one slow reader holds up
 * the device's other flows: nothing is dropped.  mapi_delete_offline_device
 * removes the name; started flows read on to the end, unstarted ones see
 * the trace fail.  The name returned stays valid until then.  Formats and
 * errors as mapi_create_offline_flow's.  Needs no privileges.
 */
char *mapi_create_offline_device(const char *path, int format);
int mapi_start_offline_device(const char *dev);
int mapi_delete_offline_device(const char *dev);

/*
 * Direction of traffic a flow sees.  A flow sees both, like tcpdump -i dev;
 * set this before mapi_connect() to see one (like tcpdump -Q in|out).
 */
#define MAPI_DIR_IN 1
#define MAPI_DIR_OUT 2
#define MAPI_DIR_BOTH (MAPI_DIR_IN | MAPI_DIR_OUT)
int mapi_set_direction(int fd, int direction);

/*
 * Where a flow's ingress side runs.  MAPI_MODE_AUTO tries native XDP, then
 * generic XDP.  MAPI_MODE_OFFLOAD tries the NIC first (XDP hardware offload),
 * then native, then generic.  Each fallback is logged with its reason; with
 * MAPI_MODE_REQUIRE the requested mode is demanded and mapi_connect() fails
 * (MAPI_ERR_MODE) instead of falling back.  Flows of one process on one
 * interface share a program, so they share its mode: the first connected
 * flow chooses it.  Egress always runs at tc, attached through tcx (a
 * bpf_link, Linux 6.6 or later).  When another XDP program (another
 * process's flows, a firewall) already runs on the interface, received
 * packets are taken at tc ingress through tcx instead, after that program:
 * what it drops or redirects is not seen (mode MAPI_MODE_TCX, logged);
 * MAPI_MODE_REQUIRE with an XDP mode then fails instead.
 */
#define MAPI_MODE_NONE 0	/* not attached in that direction */
#define MAPI_MODE_AUTO 1
#define MAPI_MODE_NATIVE 2	/* XDP in the driver */
#define MAPI_MODE_GENERIC 3	/* XDP on the kernel's skb path */
#define MAPI_MODE_OFFLOAD 4	/* XDP on the NIC */
#define MAPI_MODE_TCX 5		/* tc, through a bpf_link (tcx) */
#define MAPI_MODE_REQUIRE 0x100
int mapi_set_attach_mode(int fd, int mode);

/*
 * Appends a function to the flow's chain and returns its function id
 * (> 0).  Functions run in the order they were applied; a filtering function
 * stops a packet for the functions after it.  Arguments follow the function
 * name; `mapi functions` lists each function's arguments.
 *
 * In C11 the macro below passes the number and the types of the arguments
 * too, so that a missing or mistyped argument is an error
 * (MAPI_INVALID_ARGUMENT + n) instead of undefined behaviour.  The plain
 * function, (mapi_apply_function)(...), which C++ and older C call, reads
 * the arguments the function requires and trusts the caller to pass them;
 * optional arguments need the macro or mapi_apply_function_args().
 */
int mapi_apply_function(int fd, const char *funct, ...);

/* Starts the flow: its functions begin to run in the kernel. */
int mapi_connect(int fd);

/*
 * The result of function fid: MAPI_COPY or MAPI_REF (see above).
 * PKT_COUNTER and BYTE_COUNTER give an unsigned long long.
 */
void *mapi_read_results(int fd, int fid, int type);

/* --- Packets --------------------------------------------------------------*/

/*
 * A packet kept by TO_BUFFER.  The kernel copies each packet that reaches
 * TO_BUFFER into the function's ring buffer; when the reader falls behind
 * and the ring is full, packets are dropped there and counted
 * (mapi_get_function_info, mapi_get_flow_info).  Once traffic stops and
 * the ring is read out, delivered + dropped = the packets that reached it.
 */
struct mapipkt {
	unsigned long long ts;	/* wall clock, nanoseconds since the epoch */
	unsigned int ifindex;	/* interface it was seen on */
	unsigned int caplen;	/* bytes in pkt[]: min(wlen, snap length) */
	unsigned int wlen;	/* length on the wire */
	unsigned int direction;	/* MAPI_DIR_IN or MAPI_DIR_OUT; 0 from a trace */
	unsigned char pkt[];	/* the frame, from its Ethernet header */
};

/* SAMPLE's modes (MAPI 2.0's PERIODIC and PROBABILISTIC). */
#define MAPI_PERIODIC 0		/* SAMPLE(VALUE, MAPI_PERIODIC): one of every VALUE */
#define MAPI_PROBABILISTIC 1	/* SAMPLE(VALUE, MAPI_PROBABILISTIC): VALUE % at random */

/*
 * TOP(X, PROTOCOL, FIELD [, SORT [, PREFIX [, PREFIX6]]]), MAPI 2.0's: the X
 * values of a header field with the most packets (or bytes).  PROTOCOL and
 * FIELD are MAPI 2.0's numbers; a field of another protocol than the one
 * named is an error.  Addresses are IPv4 and IPv6 alike, cut to PREFIX bits
 * (IPv4, default 32) and PREFIX6 bits (IPv6, default 128): "which /24".
 * docs/semantics.md says which packets have each field.
 */
#define MAPI_TOPX_IP 1
#define MAPI_TOPX_TCP 2
#define MAPI_TOPX_UDP 3
#define MAPI_TOPX_ICMP 4	/* MAPI 2.0 had no ICMP field: refused */
#define MAPI_TOPX_IP_TOS 1	/* IPv6: the traffic class */
#define MAPI_TOPX_IP_LENGTH 2	/* total length (IPv6: payload length + 40) */
#define MAPI_TOPX_IP_ID 3	/* IPv4 only */
#define MAPI_TOPX_IP_OFFSET 4	/* fragment offset, 8-byte units; IPv4 only */
#define MAPI_TOPX_IP_TTL 5	/* IPv6: the hop limit */
#define MAPI_TOPX_IP_PROTOCOL 6	/* IPv6: the next header */
#define MAPI_TOPX_IP_CHECKSUM 7	/* IPv4 only */
#define MAPI_TOPX_IP_SRCIP 8
#define MAPI_TOPX_IP_DSTIP 9
#define MAPI_TOPX_TCP_SRCPORT 10
#define MAPI_TOPX_TCP_DSTPORT 11
#define MAPI_TOPX_TCP_SEQ 12
#define MAPI_TOPX_TCP_ACK 13
#define MAPI_TOPX_TCP_FLAGS 14	/* the flags byte */
#define MAPI_TOPX_TCP_WIN 15
#define MAPI_TOPX_TCP_CRC 16	/* the checksum */
#define MAPI_TOPX_TCP_URGENT 17
#define MAPI_TOPX_UDP_SRCPORT 18
#define MAPI_TOPX_UDP_DSTPORT 19
#define MAPI_TOPX_UDP_LENGTH 20
#define MAPI_TOPX_UDP_CHECKSUM 21
#define MAPI_SORT_BY_PACKETS 1	/* TOP's SORT (the default) */
#define MAPI_SORT_BY_BYTES 2
#define MAPI_TOP_MAX 1000	/* TOP's X at most */

/* A value of a header field, in the results of TOP and DISTINCT. */
struct mapi_field_value {
	unsigned int family;	/* 0: a number; 4 or 6: an address */
	unsigned int prefix;	/* of an address: the bits kept (the rest are 0) */
	unsigned long long number;	/* family 0 */
	unsigned char addr[16];	/* network order; IPv4 in the first 4 */
};

/* One value of TOP's result. */
struct mapi_top_value {
	struct mapi_field_value value;
	unsigned long long packets;
	unsigned long long bytes;	/* on the wire, as BYTE_COUNTER */
	/* how much of packets (bytes) is estimated, for a value kept beside
	 * the table (0 when the sketch had nothing for it yet: then exact
	 * too): the true count is at most packets, and at least packets -
	 * error_packets (in the kernel, but for a packet that raced with the
	 * value's eviction from the spill table) */
	unsigned long long error_packets;
	unsigned long long error_bytes;
};

/*
 * TOP's result (MAPI_RES_TOP), read with MAPI_COPY: a snapshot the library
 * keeps until the next read of the function, from any thread (a program
 * that compares two readings copies the first).
 *
 * The kernel keeps a table of up to MAPI_TOP_TABLE values, each counted
 * exactly from its first packet.  A packet of a new value that finds the
 * table full (or, seldom, the value's 64 slots in it taken: docs/
 * semantics.md) is counted in other_packets and other_bytes instead, and in a
 * Count-Min sketch (4 rows of 4096 cells), whose estimate of a value
 * exceeds its true count by at most e/4096 of "other" with probability
 * 98 %; the MAPI_TOP_SPILL values seen last among those are kept beside
 * the table, each with the sketch's estimate of what it had before (its
 * error) and an exact count since, and listed with the others (docs/
 * semantics.md: a heavy value that comes after the table filled up is
 * found).  exact says that the list is the true top X: every value listed
 * is exact, and nothing went to "other" or the last value listed has at
 * least as much as all of "other".
 *
 * TOP(X, PROTOCOL, FIELD, INTERVAL [, SORT [, PREFIX [, PREFIX6]]]): the
 * same of each INTERVAL ("1s", as BUCKET's) from the flow's start, every
 * count what it gained in the interval: the result is the last interval
 * that ended (end; over a trace, after its last packet, the short one to
 * it, partial), the values that had no packets in it left out.  Intervals
 * that end between two of the library's readings come as one (interval
 * their length).
 */
#define MAPI_TOP_TABLE 65536
#define MAPI_TOP_SPILL 4096
struct mapi_top_result {
	unsigned int count;		/* values[] listed, most first, at most X */
	unsigned int distinct;		/* values in the table */
	unsigned int spilled;		/* values kept beside it (estimated) */
	int exact;
	int sort;			/* MAPI_SORT_BY_* */
	int partial;			/* its interval ended before its time */
	unsigned long long packets;	/* packets that had the field */
	unsigned long long bytes;
	unsigned long long other_packets;	/* of values the table had no room for */
	unsigned long long other_bytes;
	unsigned long long interval;	/* ns; 0: since the flow's start */
	unsigned long long end;		/* of the interval, ns since the epoch (0: none
					 * ended yet) */
	struct mapi_top_value values[];
};

/*
 * DISTINCT(PROTOCOL, FIELD [, PER_PROTOCOL, PER_FIELD [, X]]), mapi-bpf's:
 * how many distinct values a header field takes (TOP's protocols and
 * fields), over all packets and, with a per field, under each of its
 * values: "distinct destinations per source", the port scan.  HyperLogLog
 * registers in the kernel (docs/semantics.md): estimates, with a relative
 * standard error of 1.6 % over all packets and 6.5 % per value (nearly
 * exact below a few hundred, where it counts linearly).
 */
#define MAPI_DISTINCT_TABLE 16384	/* per values the kernel holds */

struct mapi_distinct_value {
	struct mapi_field_value value;	/* of the per field */
	unsigned long long distinct;	/* of the field, under it: an estimate */
	unsigned long long packets;	/* packets counted under it */
};

/* DISTINCT's result (MAPI_RES_DISTINCT), read with MAPI_COPY: a snapshot
 * kept until the function's next read, from any thread. */
struct mapi_distinct_result {
	unsigned long long distinct;	/* over all packets: an estimate */
	double error;			/* its relative standard error */
	double per_error;		/* that of values[].distinct */
	unsigned long long packets;	/* packets with the field (and the per field) */
	unsigned long long other_packets;	/* of per values the table had no room for
						 * (full, or out of kernel memory): in
						 * distinct, not under a value */
	unsigned int count;		/* values[]: the X per values with the most
					 * distinct values, most first (0 without a per field) */
	unsigned int per_values;	/* per values in the table */
	struct mapi_distinct_value values[];
};

/*
 * STATS(MAPI_PKT_SIZE) and STATS(PROTOCOL, FIELD): running statistics of
 * the frames' length on the wire, or of a header field that is a number
 * (TOP's protocols and fields), over the packets that reach it.  Exact.
 * STATS(FD, FID, INTERVAL [, RESET]), MAPI 2.0's (its TICKS the interval):
 * the same of another function's number sampled as BUCKET samples it
 * (below), over the whole intervals; count is the samples.
 */
#define MAPI_PKT_TS 1		/* PKTINFO's (MAPI 2.0's PKT_TS) */
#define MAPI_PKT_SIZE 2		/* STATS', DIST's and PKTINFO's (PKT_SIZE) */

/* STATS's result (MAPI_RES_STATS), read with MAPI_COPY: a snapshot kept
 * until the function's next read, from any thread. */
struct mapi_stats_result {
	unsigned long long count;	/* values (packets with the field) */
	unsigned long long sum_hi;	/* the sum: sum_hi * 2^64 + sum_lo */
	unsigned long long sum_lo;
	unsigned long long sum2_hi;	/* the sum of squares: sum2_hi * 2^64 + sum2_lo */
	unsigned long long sum2_lo;
	unsigned long long min;		/* 0 when count is 0 */
	unsigned long long max;
	double mean;
	double stddev;			/* of the values (population) */
};

/*
 * DIST(MAPI_PKT_SIZE, MIN, MAX, STEP) and DIST(PROTOCOL, FIELD, MIN, MAX,
 * STEP): a histogram of the frames' length on the wire or of a header field
 * that is a number (TOP's protocols and fields): bins of STEP from MIN to
 * MAX, and one below MIN and one from MAX on; exact.  DIST(FD, FID, MIN,
 * MAX, INTERVAL [, STEP [, RESET]]), MAPI 2.0's: of another function's
 * number sampled as STATS samples it; without a STEP, the smallest that
 * makes MAPI_DIST_MAX_BINS bins at most, MAX rounded up to a whole step.
 * The string INTERVAL tells it from the field form.
 */
#define MAPI_DIST_MAX_BINS 1024

/* DIST's result (MAPI_RES_DIST), read with MAPI_COPY: a snapshot kept
 * until the function's next read, from any thread. */
struct mapi_dist_result {
	unsigned long long min, max, step;	/* counts[i]: min + i step to min + (i + 1) step */
	unsigned long long count;		/* values */
	unsigned long long below;		/* below min */
	unsigned long long above;		/* from max on */
	unsigned int bins;			/* counts[] */
	int pad;
	unsigned long long counts[];
};

/*
 * HASHSAMP(RANGE [, KEEP]), MAPI 2.0's: a filter that keeps whole TCP and
 * UDP conversations, those whose 5-tuple hash (the same both ways) is
 * below RANGE of 1024.  With KEEP 1 a record of each packet kept, its
 * headers' fields, is kept for the application: mapi_read_results
 * (MAPI_COPY) gives those taken since the last read, at most
 * MAPI_HASHSAMP_RECORDS; none is lost without being counted.
 */
#define MAPI_HASHSAMP_RECORDS 4096

struct mapi_hashsamp_record {
	unsigned long long ts;		/* ns since the epoch */
	unsigned int wlen;		/* the frame's length on the wire */
	unsigned char family;		/* 4 or 6 */
	unsigned char proto;		/* 6 TCP, 17 UDP */
	unsigned char tcp_flags;	/* 0 for UDP, or a TCP header cut short */
	unsigned char pad;
	unsigned short sport, dport;	/* host order */
	unsigned int seq;		/* TCP's sequence number, host order */
	unsigned char saddr[16];	/* network order; IPv4 in the first 4 bytes */
	unsigned char daddr[16];
};

/* HASHSAMP's result (MAPI_RES_HASHSAMP), read with MAPI_COPY. */
struct mapi_hashsamp_result {
	unsigned long long kept;	/* packets kept (KEEP 1; 0 with KEEP 0) */
	unsigned long long recorded;	/* records taken, read or not */
	unsigned long long lost;	/* packets kept without a record: the kernel's
					 * ring was full */
	unsigned long long missed;	/* records taken but overwritten before a read
					 * (more than MAPI_HASHSAMP_RECORDS between two) */
	unsigned int count;		/* records[]: since the last read, oldest first */
	int keep;
	struct mapi_hashsamp_record records[];
};

/*
 * BUCKET(FD, FID, INTERVAL [, RESET]), MAPI 2.0's: the number of function
 * FID of flow FD (a counter, or any function's first number) sampled every
 * INTERVAL ("1s", "100ms", "500us"), each sample the value then, or with
 * RESET 1 what it gained during the interval.  Flow FD is one of this
 * process's (0: BUCKET's own); over a trace it is BUCKET's own flow, and the samples are
 * exact: a sample at time t holds the packets before t.  Live, a sample
 * is read within MAPI_REF_REFRESH_MS after its time.
 */
#define MAPI_BUCKET_SAMPLES 4096	/* the last ones kept */

struct mapi_bucket_sample {
	unsigned long long ts;		/* the end of its interval, ns since the epoch */
	unsigned long long value;
};

/* BUCKET's result (MAPI_RES_BUCKET), read with MAPI_COPY: a snapshot kept
 * until the function's next read, from any thread. */
struct mapi_bucket_result {
	unsigned long long interval;	/* ns */
	unsigned long long total;	/* samples taken */
	unsigned int count;		/* samples[]: the last, oldest first */
	int reset;
	int partial;			/* the last sample ends before its interval
					 * did: the trace ended, or the flow watched
					 * closed or lost its interface */
	int pad;
	struct mapi_bucket_sample samples[];
};

/*
 * THRESHOLD(TYPE, FD, FID, THRESHOLD, BOUNDARY, TIMEOUT, DIVIDER, COUNT),
 * MAPI 2.0's: an event when the number of function FID of flow FD (TYPE
 * MAPI_THRESHOLD_VALUE), or its change over the last DIVIDER polls
 * (MAPI_THRESHOLD_CHANGE), is above, equal to or below THRESHOLD
 * (BOUNDARY); at most one event per TIMEOUT microseconds; none after COUNT
 * events (0: no limit).  It polls every MAPI_THRESHOLD_POLL_MS.  An
 * application waits for the events with mapi_wait_event, or reads their
 * number with mapi_read_results.  Flow FD as for BUCKET.
 */
#define MAPI_THRESHOLD_VALUE 0
#define MAPI_THRESHOLD_CHANGE 1
#define MAPI_BOUNDARY_ABOVE 1
#define MAPI_BOUNDARY_EQUAL 2
#define MAPI_BOUNDARY_BELOW 3
#define MAPI_THRESHOLD_POLL_MS 10

struct mapi_threshold_event {
	unsigned long long ts;		/* the poll's time, ns since the epoch */
	unsigned long long value;	/* the value, or the change, that crossed */
	unsigned long long number;	/* 1 for the first event */
};

/* THRESHOLD's result (MAPI_RES_THRESHOLD), read with MAPI_COPY. */
struct mapi_threshold_result {
	unsigned long long events;	/* so far */
	int done;			/* COUNT events came: no more will */
	int pad;
	struct mapi_threshold_event last;	/* the last event (number 0: none) */
};

/*
 * The next event of THRESHOLD fid that this process has not taken yet,
 * waiting up to timeout_ms (-1: for ever) without polling: 0 and *ev, or
 * -1 with MAPI_ERR_TIMEOUT, or MAPI_ERR_TRACE_END when a trace has ended
 * (or COUNT events came) and no event is left.  Events wait for it in
 * order, the last MAPI_THRESHOLD_EVENTS of them.
 */
#define MAPI_THRESHOLD_EVENTS 256
int mapi_wait_event(int fd, int fid, int timeout_ms, struct mapi_threshold_event *ev);

/* TO_BUFFER's flag, MAPI 2.0's first argument: TO_BUFFER(MAPI_NOWAIT)
 * makes mapi_get_next_pkt return NULL at once (MAPI_ERR_TIMEOUT) when no
 * packet waits.  mapi_loop waits for its packets whatever the flag. */
#define MAPI_WAIT 0
#define MAPI_NOWAIT 1

/*
 * The next packet of TO_BUFFER function fid; blocks until one arrives (with
 * TO_BUFFER(MAPI_NOWAIT): NULL at once when none waits).  The
 * packet stays valid until the next call for the same fid or the flow's
 * close: it is the function's one packet buffer, not to be shared between
 * threads (one thread at a time reads a function's packets anyway).  One thread at a time may wait on a fid (else MAPI_ERR_BUSY); if
 * another thread closes the flow, the waiting call returns NULL
 * (MAPI_INVALID_FLOW).
 */
struct mapipkt *mapi_get_next_pkt(int fd, int fid);

/* The same, waiting at most timeout_ms (0: not at all; < 0: forever);
 * NULL with MAPI_ERR_TIMEOUT when nothing came. */
struct mapipkt *mapi_get_next_pkt_timeout(int fd, int fid, int timeout_ms);

/*
 * Calls callback for each packet of TO_BUFFER function fid, cnt of them
 * (cnt <= 0: until the flow is closed, by another thread or the callback,
 * or its trace ends).
 * Returns the number handled, or -1 on error.
 */
typedef void (*mapi_handler)(const struct mapipkt *pkt);
int mapi_loop(int fd, int fid, int cnt, mapi_handler callback);

/* Stops the flow and frees everything it holds.  In a child of fork(), a
 * flow of the parent's can only be closed, which frees the child's copy and
 * leaves the parent's flow running (docs/semantics.md). */
int mapi_close_flow(int fd);

/* --- Information --------------------------------------------------------- */

#define MAPI_DEVNAME_LENGTH 16

/* Flow states. */
#define MAPI_FLOW_INIT 1	/* created; functions may be applied */
#define MAPI_FLOW_RUNNING 2	/* connected */
/* Connected, but its interface went away (deleted, or moved to another
 * network namespace): the kernel detached its programs.  Its counts are
 * final; mapi_read_results fails with MAPI_ERR_DEVICE_GONE, and so does
 * mapi_get_next_pkt once the packets it kept are read.  An interface of
 * the same name made again is another interface: a new flow monitors it. */
#define MAPI_FLOW_STOPPED 3

/* Where the reading of a flow's trace file is. */
#define MAPI_TRACE_NONE 0	/* a live flow */
#define MAPI_TRACE_OPEN 1	/* opened, not connected yet */
#define MAPI_TRACE_READING 2	/* packets are being read */
#define MAPI_TRACE_DONE 3	/* read to its end */
#define MAPI_TRACE_FAILED 4	/* stopped at damaged data: trace_error says where */

typedef struct mapi_flow_info {
	int fd;
	int status;			/* MAPI_FLOW_INIT, _RUNNING or _STOPPED */
	char device[MAPI_DEVNAME_LENGTH];
	int ifindex;
	int num_functions;
	int direction;			/* MAPI_DIR_* */
	int mode_in;			/* MAPI_MODE_* in use for received packets */
	int mode_out;			/* MAPI_MODE_* in use for sent packets */
	unsigned long long packets_seen; /* packets the flow examined */
	unsigned long long packets_dropped; /* lost by its TO_BUFFER/TO_FILE rings */
	unsigned long long start;	/* connect time, ns since the epoch */
	/* a flow over a trace file (device: the file's name) */
	int trace_status;		/* MAPI_TRACE_* */
	unsigned long long trace_first;	/* timestamps of its first and last */
	unsigned long long trace_last;	/* packets read, ns since the epoch */
	char trace_error[256];		/* when MAPI_TRACE_FAILED */
	/* 1: a conversation flow found by the interface's hash lookup, with no
	 * program of its own (docs/semantics.md); 0: it runs as a program */
	int lookup;
	/* what runs it: "in-process" (this process), "mapid" or "trace" */
	char backend[16];
	/* who owns it (mapi_get_next_flow_info lists other processes' flows
	 * too), and its functions' names, comma-separated */
	int owner_uid;
	int owner_pid;
	char functions[256];
	/* a named flow of mapid's configuration (mapid(8)): its name; else "" */
	char name[64];
} mapi_flow_info_t;

int mapi_get_flow_info(int fd, mapi_flow_info_t *info);

/*
 * A flow of mapid's configuration, by its name (mapid(8): "[flow NAME]"),
 * to read: a descriptor of a running flow whose functions are numbered
 * 1, 2, ... in the configuration's order.  Read only: mapi_read_results
 * (MAPI_COPY; mapid reads the result and sends it; MAPI_REF is refused,
 * as it would mean a message every MAPI_REF_REFRESH_MS), mapi_get_flow_info and
 * the function information work, applying functions does not, and
 * mapi_close_flow lets go of it, the flow running on in mapid.  Root and
 * the members of mapid's group may; MAPI_ERR_DAEMON without a mapid.
 */
int mapi_attach_flow(const char *name);

/*
 * MAPI 2.0's iterator: the first flow whose descriptor is above fd (0 for
 * the first of all).  While mapid runs it lists every flow mapid runs, a
 * client's own, or every client's for root (fd and info->fd are then
 * mapid's flow numbers, and packets_seen is read by mapid); without mapid,
 * this process's own flows.  -1 with MAPI_INVALID_FLOW after the last.
 */
int mapi_get_next_flow_info(int fd, mapi_flow_info_t *info);

/*
 * What a flow on an interface created now would run in: "mapid" (it
 * listens, and MAPI_BACKEND does not say in-process), "in-process", or
 * NULL when MAPI_BACKEND demands a mapid that is not there (the error says
 * why).
 */
const char *mapi_backend(void);

/* What kind of result a function gives. */
#define MAPI_RES_NONE 0		/* no result: a filter */
#define MAPI_RES_ULL 1		/* an unsigned long long */
#define MAPI_RES_PACKETS 2	/* packets, for mapi_get_next_pkt (TO_BUFFER) */
#define MAPI_RES_FILE 3		/* packets, written to a file (TO_FILE) */
#define MAPI_RES_TOP 4		/* struct mapi_top_result (TOP) */
#define MAPI_RES_DISTINCT 5	/* struct mapi_distinct_result (DISTINCT) */
#define MAPI_RES_STATS 6	/* struct mapi_stats_result (STATS) */
#define MAPI_RES_BUCKET 7	/* struct mapi_bucket_result (BUCKET) */
#define MAPI_RES_THRESHOLD 8	/* struct mapi_threshold_result (THRESHOLD), and events */
#define MAPI_RES_DIST 9		/* struct mapi_dist_result (DIST) */
#define MAPI_RES_HASHSAMP 10	/* struct mapi_hashsamp_result (HASHSAMP) */

/*
 * Function fid of a flow.  For TO_BUFFER and TO_FILE: pkts reached it,
 * delivered went to the application (or the file), dropped were lost to a
 * full ring, queued wait in the ring, past came after a TO_FILE's count
 * and were not written; pkts = delivered + dropped + queued + past once
 * traffic stops (while it runs they are read at slightly different
 * moments).  For a counter, value is its count; for TO_FILE, its result
 * (1 while it writes, 0 once its count is written).
 */
typedef struct mapi_function_info {
	int fid;
	char name[32];
	int result;			/* MAPI_RES_* */
	unsigned long long value;
	unsigned long long pkts;
	unsigned long long delivered;
	unsigned long long dropped;
	unsigned long long queued;
	unsigned long long past;
} mapi_function_info_t;

int mapi_get_function_info(int fd, int fid, mapi_function_info_t *info);

/* MAPI 2.0's iterator: the function of flow fd after fid (0: the first);
 * -1 with MAPI_FUNCTION_INFO_NOT_FOUND after the last. */
int mapi_get_next_function_info(int fd, int fid, mapi_function_info_t *info);

/* MAPI 2.0 (DiMAPI): whether flow fd spans remote sensors.  0: every flow
 * of mapi-bpf runs on this machine (in this process, or in its mapid);
 * -1 for a descriptor that is not a flow's. */
int mapi_is_remote(int fd);

/* What a function of the library is, as `mapi functions` lists it. */

typedef struct mapi_libfunct_info {
	char name[32];
	/* argument names, space-separated, e.g. "EXPR"; a function with
	 * several forms, told apart by their number of arguments, lists each
	 * in parentheses: "(PATH [SNAPLEN]) or (FORMAT PATH COUNT)" */
	char args[128];
	/* one letter an argument: s string, i int (upper case: optional);
	 * forms separated by '|': "sI|isi" */
	char argtypes[32];
	char descr[320];
	int result;		/* MAPI_RES_* */
} mapi_libfunct_info_t;

/* Function n (from 0) of the library; -1 with MAPI_FUNCTION_NOT_FOUND past the end. */
int mapi_get_libfunct_info(int n, mapi_libfunct_info_t *info);

/* MAPI 2.0's function libraries: mapi-bpf's functions are one, number 0,
 * "mapi-bpf".  The next after libnum (-1: the first); -1 with
 * MAPI_FUNCTION_NOT_FOUND when there is none. */
typedef struct mapi_lib_info {
	int id;
	char libname[64];
	unsigned int functs;	/* its functions: mapi_get_libfunct_info's */
} mapi_lib_info_t;

int mapi_get_library_info(int libnum, mapi_lib_info_t *info);
int mapi_get_next_library_info(int libnum, mapi_lib_info_t *info);

/* MAPI 2.0 (DiMAPI): the sensors flow fd spans: 1, this machine. */
int mapi_get_scope_size(int fd);

/* --- Devices --------------------------------------------------------------- */

/*
 * MAPI 2.0's device information: a network interface of this network
 * namespace, as a flow would find it.  Looks without attaching anything:
 * native XDP support is known from the driver.
 */
typedef struct mapi_device_info {
	int id;				/* its interface index: the devid of these calls */
	char name[MAPI_DEVNAME_LENGTH];
	char alias[64];			/* `ip link set DEV alias ...`, or "" */
	char description[32];		/* its driver, as ethtool names it, or "" */
	long long link_speed;		/* Mbit/s; -1 when the driver does not say */
	int up;				/* administratively up */
	int mtu;
	char type[16];			/* "ethernet" or "loopback" (what flows monitor),
					 * or "other" */
	char native[16];		/* native XDP: "yes", "no", or "unknown" (a driver
					 * mapi-bpf does not know: a flow tries it first) */
	char offload[16];		/* "possible" (a NIC that runs BPF) or "no" */
} mapi_device_info_t;

/* Device devid; -1 with MAPI_NO_SUCH_DEVICE if there is none. */
int mapi_get_device_info(int devid, mapi_device_info_t *info);
/* The first device whose id is above devid (0: the first of all); -1 with
 * MAPI_NO_SUCH_DEVICE after the last. */
int mapi_get_next_device_info(int devid, mapi_device_info_t *info);

/*
 * MAPI 2.0's statistics of a device, as the kernel and this process's
 * flows count them: for an interface of this network namespace, the
 * packets it received (ps_recv) and sent (ps_sent, which flows see too:
 * both directions, as tcpdump), and dropped itself (ps_ifdrop: no buffer,
 * missed, as `ip -s link` says); for an offline device, the packets read
 * so far.  ps_drop: the packets this process's flows on dev lost to full
 * rings, as their mapi_get_flow_info says (a flow's failed TO_FILE makes
 * mapi_stats fail with MAPI_ERR_IO, as every call that reports on it).
 */
struct mapi_stat {
	unsigned long long ps_recv;
	unsigned long long ps_drop;
	unsigned long long ps_ifdrop;
	unsigned long long ps_sent;
	char hostname[64];
	char dev[MAPI_DEVNAME_LENGTH];
};

/* 0, or -1 with MAPI_NO_SUCH_DEVICE for a name that is neither. */
int mapi_stats(const char *dev, struct mapi_stat *stats);

/*
 * What a BPF_FILTER expression becomes, as text for people: libpcap's
 * classic BPF (MAPI_DUMP_CLASSIC, as `tcpdump -d` prints it) and the eBPF
 * it is translated into (MAPI_DUMP_EBPF: as for native XDP; with
 * MAPI_DUMP_TC, as at tc), each a section.  Returns a string to free(),
 * or NULL (libpcap's message through mapi_read_error).
 */
#define MAPI_DUMP_CLASSIC 1
#define MAPI_DUMP_EBPF 2
#define MAPI_DUMP_TC 4
char *mapi_dump_filter(const char *expr, int what);

/* A short name for a MAPI_MODE_* value ("native", "tcx", ...). */
const char *mapi_mode_name(int mode);

/* --- Logging ------------------------------------------------------------- */

#define MAPI_LOG_ERROR 1
#define MAPI_LOG_WARN 2
#define MAPI_LOG_INFO 3
#define MAPI_LOG_DEBUG 4

/*
 * The library reports what it decides on its own (a fallback to another
 * attach mode, the verifier's log of a refused program) through this
 * callback.  Without one, nothing is reported.  Returns the previous one.
 * libbpf's own messages come through it too (MAPI_LOG_DEBUG): the library
 * sets libbpf's print function when it is loaded, so that it never prints
 * itself (an application that sets it afterwards has the last word).
 */
typedef void (*mapi_log_fn)(int level, const char *msg, void *ctx);
mapi_log_fn mapi_set_log(mapi_log_fn fn, void *ctx);

/* --- Argument checking for mapi_apply_function --------------------------- */

enum mapi_arg_type {
	MAPI_ARG_STR = 1,
	MAPI_ARG_INT,
	MAPI_ARG_UINT,
	MAPI_ARG_DOUBLE,
	MAPI_ARG_PTR,
};

struct mapi_arg {
	int type;			/* enum mapi_arg_type */
	union {
		const char *s;
		long long i;
		unsigned long long u;
		double d;
		const void *p;
	} v;
};

/* What the macro mapi_apply_function() calls: n arguments, with types. */
int mapi_apply_function_args(int fd, const char *funct,
			     const struct mapi_arg *args, int n);

#define MAPI__NARGS(...) MAPI__NARGS_(__VA_ARGS__, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define MAPI__NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, N, ...) N
#define MAPI__CAT(a, b) MAPI__CAT_(a, b)
#define MAPI__CAT_(a, b) a##b

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
static inline struct mapi_arg mapi__arg_str(const char *s) { struct mapi_arg a = { MAPI_ARG_STR, { .s = s } }; return a; }
static inline struct mapi_arg mapi__arg_int(long long i) { struct mapi_arg a = { MAPI_ARG_INT, { .i = i } }; return a; }
static inline struct mapi_arg mapi__arg_uint(unsigned long long u) { struct mapi_arg a = { MAPI_ARG_UINT, { .u = u } }; return a; }
static inline struct mapi_arg mapi__arg_dbl(double d) { struct mapi_arg a = { MAPI_ARG_DOUBLE, { .d = d } }; return a; }
static inline struct mapi_arg mapi__arg_ptr(const void *p) { struct mapi_arg a = { MAPI_ARG_PTR, { .p = p } }; return a; }
#define MAPI__ARG(x) _Generic((x),					\
	char *: mapi__arg_str, const char *: mapi__arg_str,		\
	signed char: mapi__arg_int, short: mapi__arg_int, int: mapi__arg_int, \
	long: mapi__arg_int, long long: mapi__arg_int,			\
	unsigned char: mapi__arg_uint, unsigned short: mapi__arg_uint,	\
	unsigned int: mapi__arg_uint, unsigned long: mapi__arg_uint,	\
	unsigned long long: mapi__arg_uint,				\
	float: mapi__arg_dbl, double: mapi__arg_dbl,			\
	default: mapi__arg_ptr)(x)
#define MAPI__CHECKED 1
#endif

#if defined(MAPI__CHECKED) && !defined(MAPI_NO_CHECKED_APPLY)
#define MAPI__APPLY_2(fd, f) mapi_apply_function_args(fd, f, 0, 0)
#define MAPI__APPLY_3(fd, f, a) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a) }, 1)
#define MAPI__APPLY_4(fd, f, a, b) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b) }, 2)
#define MAPI__APPLY_5(fd, f, a, b, c) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c) }, 3)
#define MAPI__APPLY_6(fd, f, a, b, c, d) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c), \
				   MAPI__ARG(d) }, 4)
#define MAPI__APPLY_7(fd, f, a, b, c, d, e) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c), \
				   MAPI__ARG(d), MAPI__ARG(e) }, 5)
#define MAPI__APPLY_8(fd, f, a, b, c, d, e, g) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c), \
				   MAPI__ARG(d), MAPI__ARG(e), MAPI__ARG(g) }, 6)
#define MAPI__APPLY_9(fd, f, a, b, c, d, e, g, h) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c), \
				   MAPI__ARG(d), MAPI__ARG(e), MAPI__ARG(g), MAPI__ARG(h) }, 7)
#define MAPI__APPLY_10(fd, f, a, b, c, d, e, g, h, i) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c), \
				   MAPI__ARG(d), MAPI__ARG(e), MAPI__ARG(g), MAPI__ARG(h), \
				   MAPI__ARG(i) }, 8)
#define MAPI__APPLY_11(fd, f, a, b, c, d, e, g, h, i, j) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c), \
				   MAPI__ARG(d), MAPI__ARG(e), MAPI__ARG(g), MAPI__ARG(h), \
				   MAPI__ARG(i), MAPI__ARG(j) }, 9)
#define MAPI__APPLY_12(fd, f, a, b, c, d, e, g, h, i, j, k) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c), \
				   MAPI__ARG(d), MAPI__ARG(e), MAPI__ARG(g), MAPI__ARG(h), \
				   MAPI__ARG(i), MAPI__ARG(j), MAPI__ARG(k) }, 10)
#define MAPI__APPLY_13(fd, f, a, b, c, d, e, g, h, i, j, k, l) mapi_apply_function_args(fd, f, \
	(const struct mapi_arg[]){ MAPI__ARG(a), MAPI__ARG(b), MAPI__ARG(c), \
				   MAPI__ARG(d), MAPI__ARG(e), MAPI__ARG(g), MAPI__ARG(h), \
				   MAPI__ARG(i), MAPI__ARG(j), MAPI__ARG(k), MAPI__ARG(l) }, 11)
#define mapi_apply_function(...) \
	MAPI__CAT(MAPI__APPLY_, MAPI__NARGS(__VA_ARGS__))(__VA_ARGS__)
#endif

#ifdef __cplusplus
}
#endif

/* MAPI 2.0's programs: cc -DMAPI_V2 (mapi2.h says what changes). */
#ifdef MAPI_V2
#include "mapi2.h"
#endif

#endif /* MAPI_H */
