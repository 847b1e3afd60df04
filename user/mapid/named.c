/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Named flows: the flows mapid's configuration names ("[flow NAME]"),
 * which run with no client, are listed with every other flow and served
 * to Prometheus.  They are built as a client's flow is, from the
 * functions' text (fntext.h), in mapid's one engine, so that they share
 * the interface's programs with every other flow.
 *
 * A SIGHUP reconciles the running set with the file: a flow whose
 * interface, direction and functions are the same goes on untouched (its
 * counts with it; only its labels may change), the others are stopped
 * and started anew.  A flow that cannot start (its interface is not
 * there yet) or whose interface goes is tried again every few seconds:
 * until it runs the endpoint says so, and gives no number for it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "clock.h"
#include "error.h"
#include "flow.h"
#include "fntext.h"
#include "functions.h"
#include "linkwatch.h"
#include "log.h"
#include "server.h"

#define NAMED_RETRY_MS 5000

const char *named_refusal(const struct fn_instance *fi)
{
	if (fi->desc->ring_bytes && fi->desc->ring_bytes(fi))
		return "it fills a ring that only an application reads: a named flow has none";
	if (flow_ticks(fi))
		return "it samples at intervals, which mapid does not do for named flows: "
		       "Prometheus samples their counters itself (rate(), increase())";
	return NULL;
}

/* Applies sp's functions to f: 0, or -1 with why naming the line. */
static int apply_all(struct flow *f, const struct named_spec *sp, const char *path, char *why,
		     size_t len)
{
	int i;

	for (i = 0; i < sp->nfns; i++) {
		struct mapi_arg args[FNTEXT_MAX_ARGS];
		char *text = strdup(sp->fns[i]), *name = NULL, msg[512] = "";
		const struct fn_desc *d;
		const char *no;
		int n, code, ret;

		if (!text) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		n = fntext_parse(text, &name, args, msg, sizeof(msg));
		d = n < 0 ? NULL : fn_find(name);
		if (n >= 0 && !d)
			snprintf(msg, sizeof(msg), "no function named \"%s\" (mapi functions lists "
				 "them)", name);
		if (d) {
			err_begin();
			ret = flow_apply(f, d, args, n);
			if (ret < 0) {
				err_pending_copy(&code, msg, sizeof(msg));
				if (!*msg)
					snprintf(msg, sizeof(msg), "%s", strerror(-ret));
			} else if ((no = named_refusal(f->fns[f->nfns - 1]))) {
				snprintf(msg, sizeof(msg), "%s cannot be in a named flow: %s", name, no);
			}
		}
		free(text);
		if (*msg) {
			snprintf(why, len, "%s:%d: flow \"%s\": %s", path, sp->fn_lines[i], sp->name,
				 msg);
			return -1;
		}
	}
	return 0;
}

int named_check(const struct mapid_config *cfg, const char *path, char *why, size_t len)
{
	int i, ret = 0;

	for (i = 0; !ret && i < cfg->nflows; i++) {
		struct flow *f = flow_new(cfg->flows[i].dev, NULL);

		if (!f) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		/* as named_start builds it: the direction first, which a
		 * function may depend on */
		if (flow_set_direction(f, cfg->flows[i].direction)) {
			char msg[256] = "";
			int code;

			err_pending_copy(&code, msg, sizeof(msg));
			snprintf(why, len, "%s:%d: flow \"%s\": %s", path, cfg->flows[i].line,
				 cfg->flows[i].name, msg);
			ret = -1;
		}
		if (!ret)
			ret = apply_all(f, &cfg->flows[i], path, why, len);
		flow_free(f);
	}
	err_begin();
	return ret;
}

/* Starts n's flow: 0, or -1 with n->why set. */
static int named_start(struct server *s, struct named *n)
{
	struct served *sv = calloc(1, sizeof(*sv));
	struct flow *f = flow_new("", s->engine);
	int code, ret;

	*n->why = 0;
	if (!sv || !f) {
		free(sv);
		flow_free(f);
		snprintf(n->why, sizeof(n->why), "out of memory");
		return -1;
	}
	err_begin();
	ret = s->engine->ops->open(s->engine, f, n->spec.dev, 0);
	if (!ret)
		ret = flow_set_direction(f, n->spec.direction);
	if (!ret && apply_all(f, &n->spec, "mapid", n->why, sizeof(n->why)))
		ret = -EINVAL;
	if (!ret) {
		ret = server_run_flow(s, f);
		if (ret)
			f = NULL;	/* freed */
	}
	if (ret) {
		if (!*n->why) {
			err_pending_copy(&code, n->why, sizeof(n->why));
			if (!*n->why)
				snprintf(n->why, sizeof(n->why), "%s", strerror(-ret));
		}
		flow_free(f);
		free(sv);
		err_begin();
		return -1;
	}
	sv->f = f;
	sv->owner = &s->config_client;
	sv->client_fd = -1;
	sv->named = n;
	s->config_use.nflows++;
	server_insert(s, sv);
	pthread_mutex_lock(&s->lock);
	n->sv = sv;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Stops n's flow, if it runs; the endpoint no longer sees it. */
static void named_halt(struct server *s, struct named *n)
{
	struct served *sv = n->sv;

	if (!sv)
		return;
	pthread_mutex_lock(&s->lock);
	n->sv = NULL;
	pthread_mutex_unlock(&s->lock);
	server_stop(s, sv);
}

static void spec_copy_free(struct named_spec *sp)
{
	int i;

	for (i = 0; i < sp->nfns; i++)
		free(sp->fns[i]);
	sp->nfns = 0;
}

/* A copy of sp whose texts it owns: 0, or -ENOMEM. */
static int spec_copy(struct named_spec *dst, const struct named_spec *sp)
{
	int i;

	*dst = *sp;
	for (i = 0; i < sp->nfns; i++) {
		dst->fns[i] = strdup(sp->fns[i]);
		if (!dst->fns[i]) {
			dst->nfns = i;
			spec_copy_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

static void named_free(struct server *s, struct named *n)
{
	named_halt(s, n);
	spec_copy_free(&n->spec);
	pthread_mutex_destroy(&n->read_lock);
	free(n);
}

static void try_start(struct server *s, struct named *n, const char *what)
{
	if (!named_start(s, n)) {
		log_info("named flow \"%s\" on %s %s: flow %d", n->spec.name, n->spec.dev, what,
			 n->sv->f->fd);
		return;
	}
	log_warn("named flow \"%s\" on %s does not run: %s (tried again every %d s)",
		 n->spec.name, n->spec.dev, n->why, NAMED_RETRY_MS / 1000);
	n->retry_ms = monotonic_ms() + NAMED_RETRY_MS;
}

void named_reconcile(struct server *s, const struct mapid_config *cfg)
{
	struct named *old = s->named, *kept = NULL, **tail = &kept, *n, *next;
	int i;

	/* the new list in the file's order: each flow the one of that name
	 * already running when it runs the same, else a new one.  Under the
	 * lock: the endpoint walks the list these nodes are taken from */
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < cfg->nflows; i++) {
		const struct named_spec *sp = &cfg->flows[i];
		struct named **pp;

		for (pp = &old; *pp && strcmp((*pp)->spec.name, sp->name); pp = &(*pp)->next)
			;
		n = *pp;
		if (n && named_spec_same_flow(&n->spec, sp)) {
			*pp = n->next;
			n->spec.nlabels = sp->nlabels;
			memcpy(n->spec.labels, sp->labels, sizeof(sp->labels));
			n->spec.line = sp->line;
			memcpy(n->spec.fn_lines, sp->fn_lines, sizeof(sp->fn_lines));
		} else {
			n = calloc(1, sizeof(*n));
			if (!n || spec_copy(&n->spec, sp)) {
				free(n);
				log_warn("named flow \"%s\": out of memory", sp->name);
				continue;
			}
			pthread_mutex_init(&n->read_lock, NULL);
		}
		n->next = NULL;
		*tail = n;
		tail = &n->next;
	}
	/* what the file no longer has, or has changed, stops first: a changed
	 * flow's new version may need what the old one holds */
	s->named = kept;
	pthread_mutex_unlock(&s->lock);
	for (n = old; n; n = next) {
		next = n->next;
		log_info("named flow \"%s\" stopped", n->spec.name);
		named_free(s, n);
	}
	for (n = s->named; n; n = n->next)
		if (!n->sv)
			try_start(s, n, "started");
}

uint64_t named_housekeep(struct server *s)
{
	uint64_t now = monotonic_ms(), due = 0;
	struct named *n;

	for (n = s->named; n; n = n->next) {
		if (n->sv && n->sv->f->link && linkwatch_gone(n->sv->f->link)) {
			named_halt(s, n);
			snprintf(n->why, sizeof(n->why), "interface %s went away", n->spec.dev);
			log_warn("named flow \"%s\": %s: stopped (tried again every %d s)",
				 n->spec.name, n->why, NAMED_RETRY_MS / 1000);
			n->retry_ms = now + NAMED_RETRY_MS;
			s->status_dirty = 1;
		}
		if (!n->sv && now >= n->retry_ms) {
			try_start(s, n, "started again");
			s->status_dirty = 1;
		}
		if (!n->sv && (!due || n->retry_ms < due))
			due = n->retry_ms;
		/* a running flow's interface is watched: look again soon */
		if (n->sv && (!due || now + 1000 < due))
			due = now + 1000;
	}
	return due;
}

void named_stop_all(struct server *s)
{
	struct named *n, *next;

	pthread_mutex_lock(&s->lock);
	n = s->named;
	s->named = NULL;
	pthread_mutex_unlock(&s->lock);
	for (; n; n = next) {
		next = n->next;
		named_free(s, n);
	}
}
