/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fourth MAPI application: account passive FTP transfers.  FTP data
 * connections use ports chosen at run time: the program watches the control
 * connection (TCP port 21) for the server's "227 Entering Passive Mode" and
 * "229 Entering Extended Passive Mode" replies, learns each data endpoint
 * from the packet, and creates a flow for that data connection while
 * traffic runs (its filter fixes the conversation, so the library finds it
 * with a hash lookup however many there are).  When the connection has
 * closed, it reports the transfer and closes the flow.
 *
 *	ftp_track IFACE [-n TRANSFERS] [-t SECONDS]
 *
 * It stops after TRANSFERS reports, after SECONDS, or on SIGINT or SIGTERM.
 * One line a transfer:
 *	transfer client=C client_port=CP server=S port=P packets=N bytes=B
 *		duration=D complete=yes|no closed=yes|no
 *
 * closed=yes once each side has sent a FIN (or one a RST); transfers still
 * open when it stops are reported with what they counted so far, closed=no.
 * A data port announced but not connected to within a minute is forgotten.
 * At the end, on standard error, how many control packets (replies, SYN,
 * FIN, RST) the kernel dropped because this program read them too slowly:
 * transfers they belonged to may be missing or reported late.
 *
 * A flow counts from its creation on.  The client connects one round trip
 * after the reply passed the interface, so on a link to clients a network
 * away the flow is there first; a client nearer than the time it takes to
 * create a flow (tens of microseconds to a millisecond) can beat it.  The
 * tracker says which: complete=yes when the connection's SYN passed after
 * the flow was connected (every packet of the connection was counted),
 * complete=no when it passed before that or was not seen (the first packets
 * may be missing from the counts).
 */
#include <arpa/inet.h>
#include <mapi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRANSFERS 1024
/*
 * A transfer is reported this long after both sides sent FIN: by then its
 * last ACK is in, and so is a FIN sent again after a retransmission
 * timeout (at least 200 ms) and the RST that may close it for good.
 */
#define SETTLE_MS 1000
/* An announced data port nobody connects to within this is forgotten. */
#define UNUSED_S 60

struct transfer {
	char client[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
	unsigned int port, client_port;	/* client_port: from its SYN, or 0 */
	int fd, pkt_fid, byte_fid;
	unsigned long long connected;	/* wall clock (ns) when the flow was live */
	unsigned long long syn_ts, last_ts;	/* packet times (ns) */
	double announced;	/* monotonic time of the 227 or 229 reply */
	double fin_at;	/* monotonic time it was seen closing, or 0 */
	unsigned int fins;	/* FIN_* seen (a FIN sent again counts once) */
};

#define FIN_CLIENT 1
#define FIN_SERVER 2

static struct transfer xfers[MAX_TRANSFERS];
static int nxfers;
static long reported;
static const char *iface;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long long wall_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *call)
{
	char msg[MAPI_ERRORSTR_LENGTH];
	int code;

	mapi_read_error(&code, msg);
	fprintf(stderr, "ftp_track: %s: %s (MAPI error %d)\n", call, msg, code);
	return 1;
}

/* The IPv4 and TCP headers of an Ethernet frame; 0 if it is not one. */
static int tcp_of(const struct mapipkt *p, const unsigned char **ip, const unsigned char **tcp,
		  const unsigned char **payload, const unsigned char **end)
{
	const unsigned char *f = p->pkt, *e = p->pkt + p->caplen;

	if (p->caplen < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6)
		return 0;
	*ip = f + 14;
	*tcp = *ip + (**ip & 0xf) * 4;
	if (*tcp + 20 > e)
		return 0;
	*payload = *tcp + ((*tcp)[12] >> 4) * 4;
	*end = e;
	return *payload <= e;
}

static void report(struct transfer *x);

/* A flow for the data connection between client and server:port. */
static void track(const char *client, const char *server, unsigned int port)
{
	struct transfer *x;
	char expr[128];
	int i;

	/* the port again: the connection it named before is over */
	for (i = 0; i < nxfers; i++)
		if (xfers[i].port == port && !strcmp(xfers[i].client, client) &&
		    !strcmp(xfers[i].server, server)) {
			report(&xfers[i]);
			xfers[i--] = xfers[--nxfers];
		}
	if (nxfers == MAX_TRANSFERS) {
		fprintf(stderr, "ftp_track: too many transfers at once\n");
		return;
	}
	x = &xfers[nxfers];
	snprintf(expr, sizeof(expr), "tcp and host %s and host %s and port %u", client, server,
		 port);
	if ((x->fd = mapi_create_flow(iface)) < 0) {
		fail(expr);
		return;
	}
	if (mapi_apply_function(x->fd, "BPF_FILTER", expr) < 0 ||
	    (x->pkt_fid = mapi_apply_function(x->fd, "PKT_COUNTER")) < 0 ||
	    (x->byte_fid = mapi_apply_function(x->fd, "BYTE_COUNTER")) < 0 ||
	    mapi_connect(x->fd) < 0) {
		fail(expr);
		mapi_close_flow(x->fd);
		return;
	}
	x->connected = wall_ns();
	snprintf(x->client, sizeof(x->client), "%s", client);
	snprintf(x->server, sizeof(x->server), "%s", server);
	x->port = port;
	x->client_port = 0;
	x->syn_ts = x->last_ts = 0;
	x->announced = now();
	x->fin_at = 0;
	x->fins = 0;
	nxfers++;
}

/* A reply on the control connection: 227 or 229 names the data port. */
static void control(const struct mapipkt *p, const unsigned char *ip, const unsigned char *pl,
		    const unsigned char *end)
{
	char text[256], server[INET_ADDRSTRLEN], client[INET_ADDRSTRLEN];
	unsigned int h1, h2, h3, h4, p1, p2, port;
	size_t n = (size_t)(end - pl) < sizeof(text) - 1 ? (size_t)(end - pl) : sizeof(text) - 1;
	const char *s;

	(void)p;
	memcpy(text, pl, n);
	text[n] = 0;
	inet_ntop(AF_INET, ip + 16, client, sizeof(client));	/* the reply goes to it */
	if (!strncmp(text, "227 ", 4) && (s = strchr(text, '(')) &&
	    sscanf(s, "(%u,%u,%u,%u,%u,%u)", &h1, &h2, &h3, &h4, &p1, &p2) == 6) {
		snprintf(server, sizeof(server), "%u.%u.%u.%u", h1, h2, h3, h4);
		track(client, server, p1 * 256 + p2);
	} else if (!strncmp(text, "229 ", 4) && (s = strstr(text, "(|||")) &&
		   sscanf(s, "(|||%u|)", &port) == 1) {
		inet_ntop(AF_INET, ip + 12, server, sizeof(server));
		track(client, server, port);
	}
}

/* The tracked data connection a packet belongs to, or NULL; and its way. */
static struct transfer *transfer_of(const unsigned char *ip, const unsigned char *tcp,
				    int *from_client)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	unsigned int sport = (unsigned int)tcp[0] << 8 | tcp[1];
	unsigned int dport = (unsigned int)tcp[2] << 8 | tcp[3];
	int i;

	inet_ntop(AF_INET, ip + 12, src, sizeof(src));
	inet_ntop(AF_INET, ip + 16, dst, sizeof(dst));
	for (i = 0; i < nxfers; i++) {
		struct transfer *x = &xfers[i];
		int to_server = !strcmp(x->client, src) && !strcmp(x->server, dst) &&
				x->port == dport &&
				(!x->client_port || x->client_port == sport);
		int to_client = !strcmp(x->client, dst) && !strcmp(x->server, src) &&
				x->port == sport &&
				(!x->client_port || x->client_port == dport);

		if (to_server || to_client) {
			*from_client = to_server;
			return x;
		}
	}
	return NULL;
}

/* A SYN, FIN or RST of a data connection: it opens or closes. */
static void data_event(const struct mapipkt *p, const unsigned char *ip,
		       const unsigned char *tcp)
{
	int from_client = 0;
	struct transfer *x = transfer_of(ip, tcp, &from_client);
	unsigned int flags = tcp[13];

	if (!x)
		return;
	if ((flags & 0x12) == 0x02) {	/* a SYN: the client's opens it */
		if (from_client && !x->client_port) {
			x->client_port = (unsigned int)tcp[0] << 8 | tcp[1];
			x->syn_ts = p->ts;
		}
		return;
	}
	if (!(flags & 0x05))
		return;
	x->last_ts = p->ts;
	if (flags & 0x04)	/* a reset ends it at once */
		x->fins = FIN_CLIENT | FIN_SERVER;
	else
		x->fins |= from_client ? FIN_CLIENT : FIN_SERVER;
	if (x->fins == (FIN_CLIENT | FIN_SERVER) && !x->fin_at)
		x->fin_at = now();
}

/* One transfer's line. */
static void report(struct transfer *x)
{
	unsigned long long *pk = mapi_read_results(x->fd, x->pkt_fid, MAPI_COPY);
	unsigned long long *by = mapi_read_results(x->fd, x->byte_fid, MAPI_COPY);
	unsigned long long end = x->fin_at ? x->last_ts : wall_ns();
	double duration = x->syn_ts && end > x->syn_ts ? (double)(end - x->syn_ts) / 1e9 : 0;

	if (pk && by)
		printf("transfer client=%s client_port=%u server=%s port=%u packets=%llu "
		       "bytes=%llu duration=%.3f complete=%s closed=%s\n",
		       x->client, x->client_port, x->server, x->port, *pk, *by, duration,
		       x->syn_ts > x->connected ? "yes" : "no", x->fin_at ? "yes" : "no");
	else
		fail("mapi_read_results");
	fflush(stdout);
	mapi_close_flow(x->fd);
	reported++;
}

/*
 * Reports and forgets the transfers that have settled (all of them when
 * stopping), and forgets the data ports nobody used.
 */
static void report_done(int stopping)
{
	int i;

	for (i = 0; i < nxfers; i++) {
		struct transfer *x = &xfers[i];

		if (!x->client_port && now() - x->announced > UNUSED_S) {
			fprintf(stderr, "ftp_track: nobody connected to %s:%u in %d s: forgotten\n",
				x->server, x->port, UNUSED_S);
			mapi_close_flow(x->fd);
		} else if (stopping ? x->client_port != 0 :
				      x->fin_at && now() - x->fin_at >= SETTLE_MS / 1000.0) {
			report(x);
		} else if (stopping) {
			mapi_close_flow(x->fd);
		} else {
			continue;
		}
		xfers[i--] = xfers[--nxfers];
	}
}

int main(int argc, char **argv)
{
	long want = 0, seconds = 0;
	double deadline = 0;
	mapi_function_info_t info;
	int fd, fid, opt;

	while ((opt = getopt(argc, argv, "n:t:h")) != -1) {
		switch (opt) {
		case 'n': want = strtol(optarg, NULL, 10); break;
		case 't': seconds = strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: ftp_track IFACE [-n TRANSFERS] [-t SECONDS]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1 || want < 0 || seconds < 0) {
		fprintf(stderr, "usage: ftp_track IFACE [-n TRANSFERS] [-t SECONDS]\n");
		return 2;
	}
	iface = argv[optind];
	/* the server's control replies; every SYN, FIN or RST */
	if ((fd = mapi_create_flow(argv[optind])) < 0)
		return fail("mapi_create_flow");
	if (mapi_apply_function(fd, "BPF_FILTER",
				"tcp src port 21 or tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0") < 0)
		return fail("BPF_FILTER");
	if ((fid = mapi_apply_function(fd, "TO_BUFFER", 512, 0)) < 0)
		return fail("TO_BUFFER");
	if (mapi_connect(fd) < 0)
		return fail("mapi_connect");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "ftp_track: watching %s\n", argv[optind]);
	if (seconds)
		deadline = now() + (double)seconds;

	while (!stop && (!want || reported < want) && (!deadline || now() < deadline)) {
		struct mapipkt *p = mapi_get_next_pkt_timeout(fd, fid, 50);
		const unsigned char *ip, *tcp, *pl, *end;

		if (p && tcp_of(p, &ip, &tcp, &pl, &end)) {
			unsigned int sport = (unsigned int)tcp[0] << 8 | tcp[1];

			if (tcp[13] & 0x07)	/* SYN, FIN or RST */
				data_event(p, ip, tcp);
			else if (sport == 21 && pl < end)
				control(p, ip, pl, end);
		} else if (!p) {
			int code;

			mapi_read_error(&code, NULL);
			if (code != MAPI_ERR_TIMEOUT)
				return fail("mapi_get_next_pkt");
		}
		report_done(0);
	}
	if (!want || reported < want)
		report_done(1);
	if (mapi_get_function_info(fd, fid, &info) < 0)
		return fail("mapi_get_function_info");
	fprintf(stderr, "ftp_track: %ld transfers; %llu control packets, %llu dropped\n",
		reported, info.pkts, info.dropped);
	mapi_close_flow(fd);
	return 0;
}
