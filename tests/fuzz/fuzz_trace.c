/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target over trace files: any bytes, offered as a pcap or
 * pcapng file to a flow with every function, must either be refused with
 * an error or read to an end (done, or failed with a reason), with the
 * flow's results consistent: no crash, no hang, no sanitizer report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding: say which check, with the library's last error. */
#define FINDING() finding(__LINE__)
static void finding(int line)
{
	char msg[MAPI_ERRORSTR_LENGTH] = "";
	int code = 0;

	mapi_read_error(&code, msg);
	fprintf(stderr, "fuzz_trace: check at line %d failed (last error %d: %s)\n", line, code,
		msg);
	abort();
}

static void drop(const struct mapipkt *p)
{
	(void)p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ng_magic[4] = { 0x0a, 0x0d, 0x0d, 0x0a };
	unsigned long long *pkts, *seen;
	mapi_flow_info_t info;
	char path[64];
	int mfd, fd, pf = 0, tb = 0, n;

	mfd = memfd_create("trace", MFD_CLOEXEC);
	if (mfd < 0 || write(mfd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	fd = mapi_create_offline_flow(path, size >= 4 && !memcmp(data, ng_magic, 4) ?
						    MFF_PCAPNG : MFF_PCAP);
	if (fd < 0) {
		int code;

		mapi_read_error(&code, NULL);
		if (code != MAPI_ERR_TRACE)
			FINDING();	/* a bad file must say so */
		close(mfd);
		return 0;
	}
	if (mapi_apply_function(fd, "BPF_FILTER", "ip or ip6 or vlan") < 0 ||
	    (pf = mapi_apply_function(fd, "PKT_COUNTER")) < 0 ||
	    mapi_apply_function(fd, "BYTE_COUNTER") < 0 ||
	    mapi_apply_function(fd, "STR_SEARCH", "|00|", 14, 0) < 0 ||
	    (tb = mapi_apply_function(fd, "TO_BUFFER", 128, 8192)) < 0 ||
	    mapi_connect(fd) < 0)
		FINDING();
	/* reading the packets to the end also waits for the trace's end */
	n = mapi_loop(fd, tb, 0, drop);
	if (n < 0 || mapi_get_flow_info(fd, &info) < 0)
		FINDING();
	if (info.trace_status != MAPI_TRACE_DONE && info.trace_status != MAPI_TRACE_FAILED)
		FINDING();
	if (info.trace_status == MAPI_TRACE_FAILED && !info.trace_error[0])
		FINDING();	/* a failure says why */
	pkts = mapi_read_results(fd, pf, MAPI_COPY);
	if (!pkts)
		FINDING();
	seen = malloc(sizeof(*seen));
	*seen = info.packets_seen;
	/* the chain narrows: seen >= filtered >= kept */
	if (*pkts > *seen || (unsigned long long)n > *pkts)
		FINDING();
	free(seen);
	if (mapi_close_flow(fd) < 0)
		FINDING();
	close(mfd);
	return 0;
}
