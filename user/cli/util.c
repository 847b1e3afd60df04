/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mapi.h"

void die(const char *fmt, ...)
{
	va_list ap;

	fputs("mapi: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void die_mapi(const char *what)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	die("%s: %s (MAPI error %d)", what, msg, code);
}

char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		die("out of memory");
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

const char *default_device(void)
{
	static char name[64];
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_if_t *all, *d;

	if (pcap_findalldevs(&all, errbuf) < 0)
		die("cannot list interfaces: %s", errbuf);
	for (d = all; d; d = d->next) {
		if (!(d->flags & PCAP_IF_LOOPBACK) && (d->flags & PCAP_IF_UP) &&
		    strcmp(d->name, "any") && !strchr(d->name, ':')) {
			snprintf(name, sizeof(name), "%s", d->name);
			break;
		}
	}
	pcap_freealldevs(all);
	if (!*name)
		die("no interface is up: name one with -i");
	return name;
}

double parse_seconds(const char *s, const char *opt)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || !isfinite(v))
		die("%s: \"%s\" is not a positive number of seconds", opt, s);
	return v;
}

unsigned long long parse_count(const char *s, const char *opt)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0)
		die("%s: \"%s\" is not a positive whole number", opt, s);
	return v;
}

int parse_direction(const char *s)
{
	if (!strcmp(s, "in"))
		return MAPI_DIR_IN;
	if (!strcmp(s, "out"))
		return MAPI_DIR_OUT;
	if (!strcmp(s, "inout"))
		return MAPI_DIR_BOTH;
	die("-Q: direction \"%s\" is not in, out or inout", s);
}

int parse_mode(const char *s)
{
	if (!strcmp(s, "auto"))
		return MAPI_MODE_AUTO;
	if (!strcmp(s, "native"))
		return MAPI_MODE_NATIVE | MAPI_MODE_REQUIRE;
	if (!strcmp(s, "generic"))
		return MAPI_MODE_GENERIC | MAPI_MODE_REQUIRE;
	if (!strcmp(s, "offload"))
		return MAPI_MODE_OFFLOAD | MAPI_MODE_REQUIRE;
	die("--mode: \"%s\" is not auto, native, generic or offload", s);
}

int cli_flow(const char *dev, int dir, int mode, const char *filter)
{
	int fd = mapi_create_flow(dev);

	if (fd < 0)
		die_mapi(dev);
	if (mapi_set_direction(fd, dir) < 0 || mapi_set_attach_mode(fd, mode) < 0)
		die_mapi(dev);
	if (*filter && mapi_apply_function(fd, "BPF_FILTER", filter) < 0)
		die_mapi("filter");
	return fd;
}

/* pcapng files start with their section header block's type. */
static int trace_format(const char *path)
{
	unsigned char m[4];
	FILE *f;
	int fmt = MFF_PCAP;

	if (!strcmp(path, "-"))
		return MFF_PCAP;	/* a stream: the library finds out */
	f = fopen(path, "rb");
	if (f && fread(m, 1, 4, f) == 4 && m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d &&
	    m[3] == 0x0a)
		fmt = MFF_PCAPNG;
	if (f)
		fclose(f);
	return fmt;
}

int cli_trace_flow(const char *path, const char *filter)
{
	int fd = mapi_create_offline_flow(path, trace_format(path));

	if (fd < 0)
		die_mapi(path);
	if (*filter && mapi_apply_function(fd, "BPF_FILTER", filter) < 0)
		die_mapi("filter");
	return fd;
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_line(int level, const char *msg, void *ctx)
{
	int verbose = *(int *)ctx;

	if (level <= MAPI_LOG_WARN || (verbose && level <= MAPI_LOG_INFO) || verbose > 1)
		fprintf(stderr, "mapi: %s%s\n", level <= MAPI_LOG_WARN ? "warning: " : "", msg);
}

void cli_logging(int verbose)
{
	static int level;

	level = verbose;
	mapi_set_log(log_line, &level);
}
