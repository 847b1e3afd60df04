/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid [OPTIONS]: the MAPI daemon (mapid(8)).  A thin shell: options and
 * the configuration file, the socket, then serve().
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "mapid.h"

#define CONFIG_DEFAULT "/etc/mapi/mapid.conf"

static int use_syslog, verbose;

static void log_line(int level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == MAPI_LOG_DEBUG && !verbose)
		return;
	if (use_syslog)
		syslog(level == MAPI_LOG_WARN ? LOG_WARNING : level == MAPI_LOG_INFO ? LOG_INFO :
		       LOG_DEBUG, "%s", msg);
	else
		fprintf(stderr, "mapid: %s\n", msg);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mapid [OPTIONS]\n\n"
		"The MAPI daemon: runs the flows of every application on this machine in one\n"
		"engine, so that they share each interface's programs.  libmapi-bpf uses it\n"
		"when it listens (MAPI_BACKEND=mapid demands it, =in-process avoids it).\n\n"
		"  --foreground          stay in the terminal, log to stderr (else syslog)\n"
		"  --config FILE         settings (default %s, if it exists)\n"
		"  --socket PATH         where clients connect (default %s)\n"
		"  --group NAME          who may create flows, besides root (default mapi)\n"
		"  --payload-group NAME  who may use TO_BUFFER, TO_FILE, STR_SEARCH\n"
		"                        (default: whoever may create flows)\n"
		"  --max-flows N         flows a user's clients may have (default 1024)\n"
		"  --max-ring-bytes N    ring-buffer bytes a user's clients may have, K/M/G\n"
		"                        (default 256M)\n"
		"  --metrics ADDR        serve Prometheus at HOST[:PORT], [IPV6][:PORT] or\n"
		"                        unix:PATH (port %d by default; default off)\n"
		"  --check-config        check the configuration, its named flows'\n"
		"                        functions included, say what is wrong and where,\n"
		"                        and exit (0: good)\n"
		"  -v                    log debugging detail too\n"
		"  --help, --version\n\n"
		"SIGHUP reads the configuration again: named flows added, removed or\n"
		"changed, the others untouched (their counts go on).\n",
		CONFIG_DEFAULT, MAPID_SOCKET_DEFAULT, METRICS_PORT_DEFAULT);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mapid: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Whether a mapid answers at path. */
static int someone_listens(const struct sockaddr_un *sa)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), ok;

	if (s < 0)
		return 0;
	ok = !connect(s, (const struct sockaddr *)sa, sizeof(*sa));
	close(s);
	return ok;
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	int s, bound;
	mode_t old;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("--socket %s: longer than a socket path may be", path);
	memcpy(sa.sun_path, path, strlen(path));
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0755) && errno != EEXIST)
		die("cannot make %s: %s", dir, strerror(errno));
	if (someone_listens(&sa))
		die("another mapid serves %s", path);
	unlink(path);	/* left by one that died */
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	/* anyone may connect: mapid reads each client's credentials and says
	 * what it may do, rather than leave it a bare "permission denied".
	 * The mode comes with bind (a chmod after it would follow whatever
	 * stands at the path by then). */
	old = umask(0111);
	bound = s >= 0 && !bind(s, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (!bound || listen(s, 64))
		die("cannot listen at %s: %s", path, strerror(errno));
	return s;
}

int main(int argc, char **argv)
{
	enum { O_FOREGROUND = 256, O_CONFIG, O_CHECK, O_HELP, O_VERSION, O_SOCKET, O_GROUP,
	       O_PAYLOAD, O_FLOWS, O_RING, O_METRICS };
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, O_FOREGROUND },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		/* each as the file's key would say it: they win over the file */
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "group", required_argument, NULL, O_GROUP },
		{ "payload-group", required_argument, NULL, O_PAYLOAD },
		{ "max-flows", required_argument, NULL, O_FLOWS },
		{ "max-ring-bytes", required_argument, NULL, O_RING },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ 0 },
	};
	static const char *const keys[] = { [O_SOCKET] = "socket", [O_GROUP] = "group",
		[O_PAYLOAD] = "payload_group", [O_FLOWS] = "max_flows",
		[O_RING] = "max_ring_bytes", [O_METRICS] = "metrics" };
	struct mapid_source src = { 0 };
	struct mapid_config cfg;
	char why[512];
	sigset_t hup;
	int foreground = 0, check = 0, c, s, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'v': verbose = 1; break;
		case O_FOREGROUND: foreground = 1; break;
		case O_CONFIG: src.path = optarg; break;
		case O_CHECK: check = 1; break;
		case O_HELP: usage(stdout); return 0;
		case O_VERSION: printf("mapid %d.%d\n", MAPI_VERSION_MAJOR, MAPI_VERSION_MINOR);
			return 0;
		case '?':
			die("unknown option %s (mapid --help lists them)", argv[optind - 1]);
		case ':':
			die("%s needs a value", argv[optind - 1]);
		default:
			if (src.noverrides == CONFIG_MAX_OVERRIDES)
				die("too many options");
			src.key[src.noverrides] = keys[c];
			src.value[src.noverrides] = optarg;
			src.option[src.noverrides++] = opts[c - O_FOREGROUND].name;
			break;
		}
	}
	if (optind < argc)
		die("unexpected argument \"%s\" (mapid --help)", argv[optind]);
	if (!src.path && !access(CONFIG_DEFAULT, F_OK))
		src.path = CONFIG_DEFAULT;
	if (config_read(&cfg, &src, why, sizeof(why)))
		die("%s", why);
	if (check) {
		ret = named_check(&cfg, src.path ? src.path : "mapid", why, sizeof(why));
		if (ret)
			fprintf(stderr, "mapid: %s\n", why);
		else
			printf("%s: good: %d named flows%s%s\n", src.path ? src.path : "(no file)",
			       cfg.nflows, *cfg.metrics ? ", metrics at " : "", cfg.metrics);
		config_free(&cfg);
		return ret ? 1 : 0;
	}
	if (geteuid() != 0)
		die("mapid runs as root: it loads and attaches BPF programs for its clients");
	/* a SIGHUP before serve() watches for it waits there, not kills */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	if (named_check(&cfg, src.path ? src.path : "mapid", why, sizeof(why)))
		die("%s", why);
	mapi_set_log(log_line, NULL);
	s = listen_at(cfg.socket);
	if (!foreground) {
		if (daemon(0, 0))
			die("cannot become a daemon: %s", strerror(errno));
		use_syslog = 1;
		openlog("mapid", LOG_PID, LOG_DAEMON);
	}
	log_line(MAPI_LOG_INFO, "serving", NULL);
	ret = serve(&src, &cfg, s);
	unlink(cfg.socket);
	close(s);
	config_free(&cfg);
	if (ret) {
		snprintf(why, sizeof(why), "stopped: %s", strerror(-ret));
		log_line(MAPI_LOG_WARN, why, NULL);
		return 1;
	}
	return 0;
}
