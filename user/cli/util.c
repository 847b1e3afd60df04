/* SPDX-License-Identifier: BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

void die_bad_option(const char *cmd, char **argv)
{
	/* getopt leaves optind past what it could not use */
	die("%s: unknown option or missing value at '%s' (mapi %s --help)", cmd,
	    argv[optind - 1], cmd);
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

/* A wait longer than this is taken a day at a time: a time_t holds no more
 * than about 9.2e18 seconds, and a wait past it would fail at once. */
#define LONGEST_WAIT 86400.0

void cli_check_stdout(int flush)
{
	if (flush)
		errno = 0;	/* else errno is still the failed write's */
	if ((flush && fflush(stdout)) || ferror(stdout))
		die("writing standard output: %s", errno ? strerror(errno) : "failed");
}

void cli_stop_signals(sigset_t *stop)
{
	sigemptyset(stop);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGTERM);
	/* even when started with them ignored (in the background of a
	 * script), as tcpdump does */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

int cli_wait_until(double until, const sigset_t *stop)
{
	double left = fmin(until - now_seconds(), LONGEST_WAIT);
	struct timespec ts = { 0, 0 };

	if (left > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
	}
	return sigtimedwait(stop, NULL, &ts) > 0;
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

unsigned long long parse_count_max(const char *s, const char *opt, unsigned long long max)
{
	unsigned long long v = parse_count(s, opt);

	if (v > max)
		die("%s: \"%s\" is too large (at most %llu)", opt, s, max);
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

/*
 * pcapng files start with their section header block's type.  Only a
 * regular file is looked at, and by pread, which consumes nothing: from a
 * pipe, a FIFO or a process substitution the library finds out itself (it
 * reads both formats from a stream).
 */
static int trace_format(const char *path)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	int fmt = MFF_PCAP;
	unsigned char m[4];
	struct stat st;

	if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) && pread(fd, m, 4, 0) == 4 &&
	    m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a)
		fmt = MFF_PCAPNG;
	if (fd > STDIN_FILENO)
		close(fd);
	return fmt;
}

int cli_trace_flow(const char *path, const char *filter)
{
	int fd;

	if (!strcmp(path, "-") && cli_std_closed(STDIN_FILENO))
		die("-r -: standard input is closed");
	fd = mapi_create_offline_flow(path, trace_format(path));

	if (fd < 0)
		die_mapi(path);
	if (*filter && mapi_apply_function(fd, "BPF_FILTER", filter) < 0)
		die_mapi("filter");
	return fd;
}

int cli_flow_stopped(int fd)
{
	mapi_flow_info_t info;

	if (mapi_get_flow_info(fd, &info) < 0)
		die_mapi("flow information");
	return info.status == MAPI_FLOW_STOPPED;
}

int cli_interface_gone(const char *dev)
{
	fprintf(stderr, "mapi: %s: the interface went away (deleted, or moved to another "
		"network namespace); the counts above are final\n", dev);
	return 1;
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

static unsigned int get16(const unsigned char *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

void cli_print_packet(const struct mapipkt *pkt)
{
	const unsigned char *p = pkt->pkt, *end = pkt->pkt + pkt->caplen;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], when[16];
	time_t sec = (time_t)(pkt->ts / 1000000000ull);
	unsigned int type = 0, off = 12, proto = 0, hl = 0, frag = 0;
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%s.%06llu %s", when, pkt->ts % 1000000000ull / 1000,
	       pkt->direction == MAPI_DIR_IN ? "In  " : pkt->direction == MAPI_DIR_OUT ? "Out " :
	       "");	/* a trace does not say */
	while (p + off + 2 <= end && ((type = get16(p + off)) == 0x8100 || type == 0x88a8)) {
		printf("vlan %u, ", p + off + 4 <= end ? get16(p + off + 2) & 0xfff : 0);
		off += 4;
	}
	if (p + off + 2 > end) {
		printf("truncated frame, length %u\n", pkt->wlen);
		return;
	}
	p += off + 2;
	if (type == 0x0800 && p + 20 <= end) {
		inet_ntop(AF_INET, p + 12, src, sizeof(src));
		inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
		proto = p[9];
		hl = (p[0] & 0xfu) * 4;
		frag = (get16(p + 6) & 0x1fff) != 0;	/* a later fragment: no ports */
	} else if (type == 0x86dd && p + 40 <= end) {
		inet_ntop(AF_INET6, p + 8, src, sizeof(src));
		inet_ntop(AF_INET6, p + 24, dst, sizeof(dst));
		proto = p[6];
		hl = 40;
	} else {
		printf("%s, ethertype 0x%04x, length %u\n", type == 0x0806 ? "ARP" : "Ethernet",
		       type, pkt->wlen);
		return;
	}
	printf("%s ", type == 0x0800 ? "IP" : "IP6");
	if ((proto == 6 || proto == 17) && !frag && p + hl + 4 <= end)
		printf("%s.%u > %s.%u: %s, length %u\n", src, get16(p + hl), dst,
		       get16(p + hl + 2), proto == 6 ? "TCP" : "UDP", pkt->wlen);
	else
		printf("%s > %s: %s%s, length %u\n", src, dst,
		       proto == 6 ? "TCP" : proto == 17 ? "UDP" : proto == 1 ? "ICMP" :
		       proto == 58 ? "ICMP6" : "IP", frag ? " (fragment)" : "", pkt->wlen);
}
