/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's Prometheus endpoint: what a scrape of /metrics says (http.c
 * serves it, on a thread of its own).
 *
 * Named flows: each counter a flow's functions keep, as a counter with
 * the labels flow, interface, direction and the configuration's own (and
 * fid, where a flow has two functions of one kind); TOP's values as a
 * bounded set of gauges, one a value and one "other"; DIST as a
 * histogram, STATS as a summary with its minimum and maximum.  A flow
 * that does not run (its interface is not there) has no numbers, only
 * mapi_named_flow_up 0: a zero would be a lie.
 *
 * mapid itself: its clients and their flows, the flows and attach modes
 * of each interface, the ring drops of its clients' flows, from the
 * snapshot the loop makes (metrics_status) after each change and every
 * second, so a scrape never touches what the loop is changing.
 *
 * A scrape holds the lock the loop takes to put a named flow in or take
 * one out, and each flow's read lock while it reads that flow (server.h);
 * it reads only maps, and the kernel's packet path never waits on it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "clock.h"
#include "flow.h"
#include "fntext.h"
#include "functions.h"
#include "http.h"
#include "mapi.h"
#include "server.h"
#include "utf8.h"

/* What a family is: its name (without _total), type and help. */
struct family {
	const char *name;
	const char *type;	/* counter, gauge, histogram, summary */
	const char *help;
};

enum {
	F_UP, F_SEEN, F_PACKETS, F_BYTES, F_RESULT, F_TOP_PACKETS, F_TOP_BYTES, F_DISTINCT,
	F_STATS, F_STATS_MIN, F_STATS_MAX, F_DIST, F_FLOW_FAMILIES
};

static const struct family flow_families[F_FLOW_FAMILIES] = {
	[F_UP] = { "mapi_named_flow_up", "gauge",
		   "1 while the named flow runs; 0 when it cannot (its interface is not there)" },
	[F_SEEN] = { "mapi_flow_seen_packets", "counter",
		     "Packets the named flow examined (before its functions)" },
	[F_PACKETS] = { "mapi_flow_packets", "counter", "Packets counted by PKT_COUNTER" },
	[F_BYTES] = { "mapi_flow_bytes", "counter",
		      "Bytes counted by BYTE_COUNTER, as tcpdump's length" },
	[F_RESULT] = { "mapi_flow_result", "gauge",
		       "The number a function gives (GAP: ns, PKTINFO: its field)" },
	[F_TOP_PACKETS] = { "mapi_flow_top_packets", "gauge",
			    "Packets of each of TOP's values since the flow started; value "
			    "other: the rest" },
	[F_TOP_BYTES] = { "mapi_flow_top_bytes", "gauge",
			  "Bytes of each of TOP's values since the flow started; value "
			  "other: the rest" },
	[F_DISTINCT] = { "mapi_flow_distinct", "gauge",
			 "Distinct values of DISTINCT's field (an estimate)" },
	[F_STATS] = { "mapi_flow_stats", "summary", "STATS: the values' count and sum" },
	[F_STATS_MIN] = { "mapi_flow_stats_min", "gauge", "STATS: the smallest value" },
	[F_STATS_MAX] = { "mapi_flow_stats_max", "gauge", "STATS: the largest value" },
	[F_DIST] = { "mapi_flow_dist", "histogram", "DIST: the values' histogram" },
};

/* The families a function's result goes to (-1 ends), or none. */
static const int *families_of(const struct fn_instance *fi)
{
	static const int none[] = { -1 }, packets[] = { F_PACKETS, -1 }, bytes[] = { F_BYTES, -1 },
			 result[] = { F_RESULT, -1 },
			 top[] = { F_TOP_PACKETS, F_TOP_BYTES, -1 }, distinct[] = { F_DISTINCT, -1 },
			 stats[] = { F_STATS, F_STATS_MIN, F_STATS_MAX, -1 }, dist[] = { F_DIST, -1 };

	switch (fi->desc->result) {
	case FN_RESULT_U64:
		if (fi->desc->lookup == FN_LOOKUP_PACKETS)
			return packets;
		if (fi->desc->lookup == FN_LOOKUP_BYTES)
			return bytes;
		return result;
	case FN_RESULT_TOP: return top;
	case FN_RESULT_DISTINCT: return distinct;
	case FN_RESULT_STATS: return stats;
	case FN_RESULT_DIST: return dist;
	default: return none;
	}
}

static int in_family(const struct fn_instance *fi, int fam)
{
	const int *p;

	for (p = families_of(fi); *p >= 0; p++)
		if (*p == fam)
			return 1;
	return 0;
}

struct out {
	FILE *f;
	int om;		/* OpenMetrics */
};

static void family_head(struct out *o, const char *name, const char *type, const char *help)
{
	const char *suffix = !o->om && !strcmp(type, "counter") ? "_total" : "";

	fprintf(o->f, "# HELP %s%s %s.\n# TYPE %s%s %s\n", name, suffix, help, name, suffix,
		type);
}

/* A label's value, escaped as both formats want; a byte that is not
 * UTF-8 (the configuration's values are, an interface's name may not be)
 * as U+FFFD, so that the scrape still parses. */
static void label_value(FILE *f, const char *v)
{
	size_t n = strlen(v), k;

	while (n) {
		k = utf8_char_len((const unsigned char *)v, n);
		if (!k) {
			fputs("\xef\xbf\xbd", f);
			k = 1;
		} else if (*v == '\\' || *v == '"') {
			fprintf(f, "\\%c", *v);
		} else if (*v == '\n') {
			fputs("\\n", f);
		} else {
			fwrite(v, 1, k, f);
		}
		v += k;
		n -= k;
	}
}

static void label(FILE *f, int *first, const char *name, const char *value)
{
	fprintf(f, "%s%s=\"", *first ? "" : ",", name);
	label_value(f, value);
	fputc('"', f);
	*first = 0;
}

static const char *direction_name(int d)
{
	return d == MAPI_DIR_IN ? "in" : d == MAPI_DIR_OUT ? "out" : "inout";
}

/* A sample of a named flow's: name, its labels, and the extra label (fid,
 * value, le) if any; no value yet. */
static void flow_sample(struct out *o, const char *name, const struct named *n,
			const struct fn_instance *fi, const char *xname, const char *xvalue)
{
	int first = 1, i, same = 0;
	char fid[16];

	fprintf(o->f, "%s{", name);
	label(o->f, &first, "flow", n->spec.name);
	label(o->f, &first, "interface", n->spec.dev);
	label(o->f, &first, "direction", direction_name(n->spec.direction));
	for (i = 0; i < n->spec.nlabels; i++)
		label(o->f, &first, n->spec.labels[i].name, n->spec.labels[i].value);
	/* the function's number only where the flow has two of a kind */
	if (fi && n->sv) {
		const struct flow *f = n->sv->f;

		for (i = 0; i < f->nfns; i++)
			same += families_of(f->fns[i])[0] == families_of(fi)[0];
		if (same > 1) {
			snprintf(fid, sizeof(fid), "%d", fi->fid);
			label(o->f, &first, "fid", fid);
		}
	}
	if (xname)
		label(o->f, &first, xname, xvalue);
	fputs("} ", o->f);
}

static void top_samples(struct out *o, const struct named *n, struct fn_instance *fi,
			const struct mapi_top_result *r, int bytes)
{
	const char *name = bytes ? "mapi_flow_top_bytes" : "mapi_flow_top_packets";
	unsigned int k;
	char v[64];

	for (k = 0; k < r->count; k++) {
		field_value_text(&r->values[k].value, v, sizeof(v));
		flow_sample(o, name, n, fi, "value", v);
		fprintf(o->f, "%llu\n", bytes ? r->values[k].bytes : r->values[k].packets);
	}
	/* everything not listed: the table's smaller values and what it had no
	 * room for, so that the series sum to the field's total */
	{
		unsigned long long listed = 0;

		for (k = 0; k < r->count; k++)
			listed += bytes ? r->values[k].bytes : r->values[k].packets;
		flow_sample(o, name, n, fi, "value", "other");
		/* (the listed may hold estimates: never below 0) */
		fprintf(o->f, "%llu\n", (bytes ? r->bytes : r->packets) > listed ?
			(bytes ? r->bytes : r->packets) - listed : 0);
	}
}

static void dist_samples(struct out *o, const struct named *n, struct fn_instance *fi,
			 const struct mapi_dist_result *r)
{
	unsigned long long cum = r->below;
	unsigned int i;
	char le[32];

	/* values are whole numbers: a bin [a, b) holds those <= b - 1 */
	if (r->min > 0) {
		snprintf(le, sizeof(le), "%llu", r->min - 1);
		flow_sample(o, "mapi_flow_dist_bucket", n, fi, "le", le);
		fprintf(o->f, "%llu\n", cum);
	}
	for (i = 0; i < r->bins; i++) {
		cum += r->counts[i];
		snprintf(le, sizeof(le), "%llu", r->min + (unsigned long long)(i + 1) * r->step - 1);
		flow_sample(o, "mapi_flow_dist_bucket", n, fi, "le", le);
		fprintf(o->f, "%llu\n", cum);
	}
	flow_sample(o, "mapi_flow_dist_bucket", n, fi, "le", "+Inf");
	fprintf(o->f, "%llu\n", r->count);
	flow_sample(o, "mapi_flow_dist_count", n, fi, NULL, NULL);
	fprintf(o->f, "%llu\n", r->count);
}

/* One family's samples over every running named flow; errors reading a
 * function leave its samples out (counted in mapid_scrape_errors). */
static void flow_family(struct out *o, struct server *s, int fam, unsigned long long *errors)
{
	const struct family *fd = &flow_families[fam];
	char name[96];
	struct named *n;
	int i, head = 0;

	snprintf(name, sizeof(name), "%s%s", fd->name, !strcmp(fd->type, "counter") ? "_total" : "");
	for (n = s->named; n; n = n->next) {
		struct flow *f = n->sv ? n->sv->f : NULL;
		uint64_t v;

		if (fam == F_UP) {
			if (!head++)
				family_head(o, fd->name, fd->type, fd->help);
			flow_sample(o, name, n, NULL, NULL, NULL);
			fprintf(o->f, "%d\n", f ? 1 : 0);
			continue;
		}
		if (!f)
			continue;
		if (fam == F_SEEN) {
			if (flow_read_slot(f, FLOW_SLOT_SEEN, &v)) {
				++*errors;
				continue;
			}
			if (!head++)
				family_head(o, fd->name, fd->type, fd->help);
			flow_sample(o, name, n, NULL, NULL, NULL);
			fprintf(o->f, "%llu\n", (unsigned long long)v);
			continue;
		}
		pthread_mutex_lock(&n->read_lock);
		for (i = 0; i < f->nfns; i++) {
			struct fn_instance *fi = f->fns[i];
			const void *r = NULL;
			size_t size;

			if (!in_family(fi, fam))
				continue;
			if (fi->desc->result == FN_RESULT_U64 ? flow_read_number(f, fi, &v) :
			    fi->desc->read(fi, f, &r, &size)) {
				++*errors;
				continue;
			}
			if (!head++)
				family_head(o, fd->name, fd->type, fd->help);
			switch (fam) {
			case F_PACKETS: case F_BYTES: case F_RESULT:
				flow_sample(o, name, n, fi, NULL, NULL);
				fprintf(o->f, "%llu\n", (unsigned long long)v);
				break;
			case F_TOP_PACKETS: case F_TOP_BYTES:
				top_samples(o, n, fi, r, fam == F_TOP_BYTES);
				break;
			case F_DISTINCT:
				flow_sample(o, name, n, fi, NULL, NULL);
				fprintf(o->f, "%llu\n",
					((const struct mapi_distinct_result *)r)->distinct);
				break;
			case F_STATS: {
				const struct mapi_stats_result *st = r;

				flow_sample(o, "mapi_flow_stats_count", n, fi, NULL, NULL);
				fprintf(o->f, "%llu\n", st->count);
				flow_sample(o, "mapi_flow_stats_sum", n, fi, NULL, NULL);
				/* exact below 2^64; a float past it, as Prometheus keeps it */
				if (st->sum_hi)
					fprintf(o->f, "%.17g\n", (double)st->sum_hi * 18446744073709551616.0 +
						(double)st->sum_lo);
				else
					fprintf(o->f, "%llu\n", st->sum_lo);
				break;
			}
			case F_STATS_MIN: case F_STATS_MAX: {
				const struct mapi_stats_result *st = r;

				flow_sample(o, name, n, fi, NULL, NULL);
				fprintf(o->f, "%llu\n", fam == F_STATS_MIN ? st->min : st->max);
				break;
			}
			case F_DIST:
				dist_samples(o, n, fi, r);
				break;
			}
		}
		pthread_mutex_unlock(&n->read_lock);
	}
}

static void mapid_families(struct out *o, const struct status *st)
{
	char v[32];
	int i;

	/* OpenMetrics has a type for it (its family named without _info);
	 * the text format has the gauge of 1 that stands for one */
	if (o->om)
		family_head(o, "mapid_build", "info", "mapid's version, as labels");
	else
		family_head(o, "mapid_build_info", "gauge", "mapid's version, as labels");
	fprintf(o->f, "mapid_build_info{version=\"%d.%d\",protocol=\"%d\"} 1\n", MAPI_VERSION_MAJOR,
		MAPI_VERSION_MINOR, MAPID_VERSION);
	if (!st)
		return;
	family_head(o, "mapid_clients", "gauge", "Applications connected to mapid");
	fprintf(o->f, "mapid_clients %d\n", st->nclients);
	family_head(o, "mapid_interface_flows", "gauge",
		    "Flows mapid runs on each interface, named and applications' ones");
	for (i = 0; i < st->niface; i++) {
		int first = 1;

		fputs("mapid_interface_flows{", o->f);
		label(o->f, &first, "interface", st->iface[i].dev);
		fprintf(o->f, "} %d\n", st->iface[i].flows);
	}
	family_head(o, "mapid_hook_mode", "gauge",
		    "1 for where each interface's packets are examined: mode native, generic "
		    "(XDP), tc, offload");
	for (i = 0; i < st->niface; i++) {
		int d;

		for (d = 0; d < 2; d++) {
			int mode = d ? st->iface[i].mode_out : st->iface[i].mode_in, first = 1;

			if (!mode)
				continue;
			fputs("mapid_hook_mode{", o->f);
			label(o->f, &first, "interface", st->iface[i].dev);
			label(o->f, &first, "direction", d ? "out" : "in");
			label(o->f, &first, "mode", mapi_mode_name(mode));
			fputs("} 1\n", o->f);
		}
	}
	family_head(o, "mapid_client_flows", "gauge", "Flows of each connected application");
	for (i = 0; i < st->nclient; i++)
		fprintf(o->f, "mapid_client_flows{uid=\"%u\",pid=\"%d\"} %d\n",
			(unsigned int)st->client[i].uid, (int)st->client[i].pid,
			st->client[i].flows);
	family_head(o, "mapid_ring_dropped_packets", "counter",
		    "Packets lost by full TO_BUFFER and TO_FILE rings of each running flow");
	for (i = 0; i < st->nring; i++) {
		int first = 1;

		fputs("mapid_ring_dropped_packets_total{", o->f);
		snprintf(v, sizeof(v), "%d", st->ring[i].id);
		label(o->f, &first, "flow_id", v);
		snprintf(v, sizeof(v), "%u", (unsigned int)st->ring[i].uid);
		label(o->f, &first, "uid", v);
		label(o->f, &first, "interface", st->ring[i].dev);
		fprintf(o->f, "} %llu\n", (unsigned long long)st->ring[i].dropped);
	}
}

static int render(void *ctx, int om, char **body, size_t *len)
{
	struct server *s = ctx;
	unsigned long long errors = 0;
	uint64_t t0 = monotonic_ns();
	struct out o = { .om = om };
	int fam;

	o.f = open_memstream(body, len);
	if (!o.f)
		return -errno;
	pthread_mutex_lock(&s->status_lock);
	mapid_families(&o, s->status);
	pthread_mutex_unlock(&s->status_lock);
	pthread_mutex_lock(&s->lock);
	for (fam = 0; fam < F_FLOW_FAMILIES; fam++)
		flow_family(&o, s, fam, &errors);
	s->scrapes++;
	family_head(&o, "mapid_scrapes", "counter", "Scrapes of this endpoint");
	fprintf(o.f, "mapid_scrapes%s %llu\n", "_total", (unsigned long long)s->scrapes);
	s->scrape_errors += errors;
	family_head(&o, "mapid_scrape_errors", "counter",
		    "Results of named flows a scrape could not read (left out of it)");
	fprintf(o.f, "mapid_scrape_errors_total %llu\n", (unsigned long long)s->scrape_errors);
	pthread_mutex_unlock(&s->lock);
	family_head(&o, "mapid_scrape_duration_seconds", "gauge",
		    "How long this scrape took to read its numbers");
	fprintf(o.f, "mapid_scrape_duration_seconds %.6f\n", (double)(monotonic_ns() - t0) / 1e9);
	if (om)
		fputs("# EOF\n", o.f);
	if (fclose(o.f)) {
		free(*body);
		*body = NULL;
		return -ENOMEM;
	}
	return 0;
}

int metrics_apply(struct server *s, const struct mapid_config *next, char *why, size_t len)
{
	struct http_config hc = { 0 };
	struct http_server *h, *old;
	int ret;

	if (s->http && !strcmp(next->metrics, s->cfg->metrics)) {
		http_set_auth(s->http, next->metrics_user, next->metrics_password);
		return 0;
	}
	if (!*next->metrics) {
		http_stop(s->http);
		s->http = NULL;
		return 0;
	}
	snprintf(hc.listen, sizeof(hc.listen), "%s", next->metrics);
	snprintf(hc.user, sizeof(hc.user), "%s", next->metrics_user);
	snprintf(hc.password, sizeof(hc.password), "%s", next->metrics_password);
	metrics_status(s);
	ret = http_start(&hc, render, s, &h, why, len);
	explicit_bzero(hc.password, sizeof(hc.password));
	if (ret)
		return ret;
	old = s->http;
	s->http = h;
	http_stop(old);
	return 0;
}

static void status_free(struct status *st)
{
	if (!st)
		return;
	free(st->iface);
	free(st->client);
	free(st->ring);
	free(st);
}

void metrics_stop(struct server *s)
{
	http_stop(s->http);
	s->http = NULL;
	status_free(s->status);
	s->status = NULL;
}

static int client_cmp(const void *a, const void *b)
{
	const struct status_client *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The snapshot of clients, interfaces and rings, swapped in whole. */
void metrics_status(struct server *s)
{
	struct status *st = calloc(1, sizeof(*st)), *old;
	unsigned int nflows = 0;
	struct client *c;
	struct served *sv;
	int i, n;

	if (!st)
		return;
	for (sv = s->flows; sv; sv = sv->next)
		nflows++;
	st->iface = calloc(nflows + 1, sizeof(*st->iface));
	st->client = calloc(s->nclients + 1, sizeof(*st->client));
	st->ring = calloc(nflows + 1, sizeof(*st->ring));
	if (!st->iface || !st->client || !st->ring) {
		status_free(st);
		return;
	}
	/* one series a process: its connections' flows together */
	st->nclients = (int)s->nclients;
	for (c = s->clients; c; c = c->next) {
		st->client[st->nclient].uid = c->uid;
		st->client[st->nclient++].pid = c->pid;
	}
	qsort(st->client, (size_t)st->nclient, sizeof(*st->client), client_cmp);
	for (i = 0, n = 0; i < st->nclient; i++)
		if (!n || client_cmp(&st->client[n - 1], &st->client[i]))
			st->client[n++] = st->client[i];
	st->nclient = n;
	for (sv = s->flows; sv; sv = sv->next) {
		const struct flow *f = sv->f;
		struct status_client key = { .uid = sv->owner->uid, .pid = sv->owner->pid }, *who;

		for (i = 0; i < st->niface && strcmp(st->iface[i].dev, f->dev); i++)
			;
		if (i == st->niface)
			snprintf(st->iface[st->niface++].dev, sizeof(st->iface[0].dev), "%s", f->dev);
		st->iface[i].flows++;
		if (f->mode_in)
			st->iface[i].mode_in = f->mode_in;
		if (f->mode_out)
			st->iface[i].mode_out = f->mode_out;
		who = sv->owner == &s->config_client ? NULL :
		      bsearch(&key, st->client, (size_t)st->nclient, sizeof(*st->client),
			      client_cmp);
		if (who)
			who->flows++;
		for (i = 0; i < f->nfns; i++) {
			struct status_ring *r = &st->ring[st->nring];
			struct capture_stats cs;

			if ((capture_is_buffer(f->fns[i]) || capture_is_file(f->fns[i])) &&
			    !capture_stats(f, f->fns[i], &cs)) {
				if (!r->id) {
					r->id = f->fd;
					r->uid = sv->owner->uid;
					snprintf(r->dev, sizeof(r->dev), "%s", f->dev);
				}
				r->dropped += cs.dropped;
			}
		}
		if (st->ring[st->nring].id)
			st->nring++;
	}
	pthread_mutex_lock(&s->status_lock);
	old = s->status;
	s->status = st;
	pthread_mutex_unlock(&s->status_lock);
	status_free(old);
}
