/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcapwrite.h"

#include <errno.h>
#include <string.h>

#define PCAP_MAGIC_NS 0xa1b23c4du	/* nanosecond timestamps */
#define LINKTYPE_EN10MB 1

struct file_header {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct record_header {
	uint32_t sec, nsec;
	uint32_t caplen, wlen;
};

static int put(struct pcap_writer *w, const void *p, size_t n)
{
	if (!w->err && n && fwrite(p, n, 1, w->f) != 1)
		w->err = errno ? -errno : -EIO;
	return w->err;
}

int pcapw_open(struct pcap_writer *w, const char *path, uint32_t snaplen)
{
	struct file_header h = {
		.magic = PCAP_MAGIC_NS, .major = 2, .minor = 4,
		.snaplen = snaplen, .linktype = LINKTYPE_EN10MB,
	};

	w->err = 0;
	w->f = fopen(path, "wbe");
	if (!w->f)
		return -errno;
	if (put(w, &h, sizeof(h)) || fflush(w->f)) {
		int ret = w->err ? w->err : -errno;

		fclose(w->f);
		w->f = NULL;
		return ret;
	}
	return 0;
}

int pcapw_write(struct pcap_writer *w, uint64_t ts_ns, uint32_t caplen, uint32_t wlen,
		const void *data)
{
	struct record_header r = {
		.sec = (uint32_t)(ts_ns / 1000000000u),
		.nsec = (uint32_t)(ts_ns % 1000000000u),
		.caplen = caplen,
		.wlen = wlen,
	};

	put(w, &r, sizeof(r));
	return put(w, data, caplen);
}

int pcapw_flush(struct pcap_writer *w)
{
	if (w->f && fflush(w->f) && !w->err)
		w->err = -errno;
	return w->err;
}

int pcapw_close(struct pcap_writer *w)
{
	int ret = w->err;

	if (!w->f)
		return ret;
	if (fclose(w->f) && !ret)
		ret = -errno;
	w->f = NULL;
	return ret;
}
