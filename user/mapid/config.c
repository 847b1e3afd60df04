/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's settings: defaults, and the configuration file (mapid(8)):
 * "key = value" lines, then a section for each named flow,
 *
 *	[flow web]
 *	interface = eth0
 *	direction = in
 *	label site = athens
 *	function = BPF_FILTER "tcp and port 80"
 *	function = PKT_COUNTER
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "mapi.h"
#include "mapid.h"
#include "utf8.h"

void config_defaults(struct mapid_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket, sizeof(cfg->socket), "%s", MAPID_SOCKET_DEFAULT);
	snprintf(cfg->group, sizeof(cfg->group), "mapi");
	cfg->max_flows = 1024;
	cfg->max_ring_bytes = 256ull << 20;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* A whole number from 1 to max, with an optional K, M or G. */
static int parse_size(const char *v, uint64_t max, uint64_t *out)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || *v == '-')
		return -1;
	if (*end == 'K' || *end == 'M' || *end == 'G') {
		unsigned int shift = *end == 'K' ? 10 : *end == 'M' ? 20 : 30;

		if (n > (max >> shift))
			return -1;
		n <<= shift;
		end++;
	}
	if (*end || n == 0 || n > max)
		return -1;
	*out = n;
	return 0;
}

static int set_string(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -1;
	snprintf(dst, size, "%s", v);
	return 0;
}

/* "off", "unix:/PATH", "HOST[:PORT]" or "[IPV6][:PORT]": an address alone
 * takes the default port. */
static int set_metrics(struct mapid_config *cfg, const char *v, char *why, size_t len)
{
	const char *close = *v == '[' ? strchr(v, ']') : NULL;
	char addr[sizeof(cfg->metrics)];
	int has_port;

	if (!strcmp(v, "off") || !*v) {
		*cfg->metrics = 0;
		return 0;
	}
	/* an address alone, as "127.0.0.1" or "[::1]", takes the default port */
	has_port = !strncmp(v, "unix:", 5) || (close ? close[1] != 0 : strchr(v, ':') != NULL);
	if (snprintf(addr, sizeof(addr), has_port ? "%s" : "%s:%d", v, METRICS_PORT_DEFAULT) >=
	    (int)sizeof(addr)) {
		snprintf(why, len, "longer than %zu characters", sizeof(addr) - 1);
		return -1;
	}
	/* the endpoint's own parser: what checks here is what it listens at */
	if (http_listen_check(addr, why, len))
		return -1;
	memcpy(cfg->metrics, addr, sizeof(addr));
	return 0;
}

int config_set(struct mapid_config *cfg, const char *key, const char *val, char *why,
	       size_t len)
{
	uint64_t v;

	if (!strcmp(key, "socket"))
		return *val == '/' ? set_string(cfg->socket, sizeof(cfg->socket), val) : -1;
	if (!strcmp(key, "group"))
		return set_string(cfg->group, sizeof(cfg->group), val);
	if (!strcmp(key, "payload_group"))
		return set_string(cfg->payload_group, sizeof(cfg->payload_group), val);
	if (!strcmp(key, "max_flows")) {
		if (parse_size(val, 1000000, &v))
			return -1;
		cfg->max_flows = (unsigned int)v;
		return 0;
	}
	if (!strcmp(key, "max_ring_bytes"))
		return parse_size(val, 1ull << 40, &cfg->max_ring_bytes);
	if (!strcmp(key, "metrics"))
		return set_metrics(cfg, val, why, len);
	if (!strcmp(key, "metrics_user"))
		return strchr(val, ':') ? -1 :
		       set_string(cfg->metrics_user, sizeof(cfg->metrics_user), val);
	if (!strcmp(key, "metrics_password"))
		return set_string(cfg->metrics_password, sizeof(cfg->metrics_password), val);
	return -2;
}

void config_free(struct mapid_config *cfg)
{
	int i, j;

	for (i = 0; i < cfg->nflows; i++)
		for (j = 0; j < cfg->flows[i].nfns; j++)
			free(cfg->flows[i].fns[j]);
	free(cfg->flows);
	cfg->flows = NULL;
	cfg->nflows = 0;
}

/* A name of letters, digits and _ . -, starting with a letter or _. */
static int good_name(const char *s, size_t max, int dots)
{
	size_t i;

	if (!*s || strlen(s) >= max || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (i = 1; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    !(dots && (s[i] == '.' || s[i] == '-')))
			return 0;
	return 1;
}

/* UTF-8 (as Prometheus wants label values) without control characters
 * (which a line of the file, a log line or a label would not show). */
static int printable_utf8(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return utf8_valid(s);
}

/* The labels mapid puts on a flow's series itself, and Prometheus' own. */
static int reserved_label(const char *name)
{
	static const char *const ours[] = { "flow", "interface", "direction", "fid",
					    "function", "value", "le", "quantile", "job",
					    "instance" };
	size_t i;

	if (!strncmp(name, "__", 2))
		return 1;
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (!strcmp(name, ours[i]))
			return 1;
	return 0;
}

/* "[flow NAME]": a new named flow, or -1 with why. */
static int section_start(struct mapid_config *cfg, char *head, int line, char *why, size_t len)
{
	struct named_spec *sp, *grown;
	char *name;
	int i;

	if (strncmp(head, "flow", 4) || !isspace((unsigned char)head[4])) {
		snprintf(why, len, "want \"[flow NAME]\"");
		return -1;
	}
	name = trim(head + 4);
	if (!good_name(name, NAMED_NAME_MAX, 1)) {
		snprintf(why, len, "flow name \"%s\": letters, digits, _ . - (a letter or _ "
			 "first), at most %d", name, NAMED_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < cfg->nflows; i++) {
		if (!strcmp(cfg->flows[i].name, name)) {
			snprintf(why, len, "flow \"%s\" is named already, at line %d", name,
				 cfg->flows[i].line);
			return -1;
		}
	}
	if (cfg->nflows >= NAMED_MAX_FLOWS) {
		snprintf(why, len, "more than %d named flows", NAMED_MAX_FLOWS);
		return -1;
	}
	grown = realloc(cfg->flows, (size_t)(cfg->nflows + 1) * sizeof(*grown));
	if (!grown) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	cfg->flows = grown;
	sp = &cfg->flows[cfg->nflows++];
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->name, sizeof(sp->name), "%s", name);
	sp->direction = MAPI_DIR_BOTH;
	sp->line = line;
	return 0;
}

/* A line of a named flow's section: 0, -1 with why. */
static int flow_set(struct named_spec *sp, const char *key, const char *val, int line, char *why,
		    size_t len)
{
	if (!strcmp(key, "interface")) {
		if (!*val || strlen(val) >= sizeof(sp->dev) || strchr(val, '/') ||
		    strchr(val, ' ') || !printable_utf8(val)) {
			snprintf(why, len, "bad interface name \"%s\"", val);
			return -1;
		}
		snprintf(sp->dev, sizeof(sp->dev), "%s", val);
		return 0;
	}
	if (!strcmp(key, "direction")) {
		if (!strcmp(val, "in"))
			sp->direction = MAPI_DIR_IN;
		else if (!strcmp(val, "out"))
			sp->direction = MAPI_DIR_OUT;
		else if (!strcmp(val, "inout"))
			sp->direction = MAPI_DIR_BOTH;
		else {
			snprintf(why, len, "direction \"%s\": in, out or inout", val);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "function")) {
		if (sp->nfns >= MAPID_MAX_FNS) {
			snprintf(why, len, "more than %d functions in flow \"%s\"", MAPID_MAX_FNS,
				 sp->name);
			return -1;
		}
		if (!*val) {
			snprintf(why, len, "an empty function");
			return -1;
		}
		sp->fns[sp->nfns] = strdup(val);
		if (!sp->fns[sp->nfns]) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		sp->fn_lines[sp->nfns++] = line;
		return 0;
	}
	if (!strncmp(key, "label", 5) && isspace((unsigned char)key[5])) {
		const char *name = trim((char *)key + 5);
		int i;

		if (!good_name(name, NAMED_LABEL_MAX, 0) || reserved_label(name)) {
			snprintf(why, len, "label name \"%s\": letters, digits and _, not "
				 "starting with __, not one of mapid's (flow, interface, "
				 "direction, fid, function, value, le, quantile) or "
				 "Prometheus' (job, instance)", name);
			return -1;
		}
		for (i = 0; i < sp->nlabels; i++) {
			if (!strcmp(sp->labels[i].name, name)) {
				snprintf(why, len, "label \"%s\" given twice", name);
				return -1;
			}
		}
		if (sp->nlabels >= NAMED_MAX_LABELS || strlen(val) >= NAMED_VALUE_MAX) {
			snprintf(why, len, "at most %d labels a flow, values of at most %d bytes",
				 NAMED_MAX_LABELS, NAMED_VALUE_MAX - 1);
			return -1;
		}
		if (!printable_utf8(val)) {
			snprintf(why, len, "label \"%s\": its value must be UTF-8, without "
				 "control characters", name);
			return -1;
		}
		snprintf(sp->labels[sp->nlabels].name, NAMED_LABEL_MAX, "%s", name);
		snprintf(sp->labels[sp->nlabels++].value, NAMED_VALUE_MAX, "%s", val);
		return 0;
	}
	snprintf(why, len, "unknown setting \"%s\" of a flow (interface, direction, label NAME, "
		 "function)", key);
	return -1;
}

static int config_load(struct mapid_config *cfg, const char *path, char *why, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[4096], msg[512];
	struct named_spec *sp;
	int n = 0, ret = 0, i;

	if (!f) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		char *key, *val, *eq;

		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, len, "%s:%d: line too long (at most %zu bytes)", path, n,
				 sizeof(line) - 2);
			ret = -1;
			break;
		}
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		if (*key == '[') {
			char *end = key + strlen(key) - 1;

			*msg = 0;
			if (*end != ']')
				snprintf(msg, sizeof(msg), "want \"[flow NAME]\"");
			else
				*end = 0;
			if (*msg || section_start(cfg, trim(key + 1), n, msg, sizeof(msg))) {
				snprintf(why, len, "%s:%d: %s", path, n, msg);
				ret = -1;
			}
			continue;
		}
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(why, len, "%s:%d: want \"key = value\"", path, n);
			ret = -1;
			break;
		}
		*eq = 0;
		val = trim(eq + 1);
		key = trim(key);
		if (cfg->nflows) {
			if (flow_set(&cfg->flows[cfg->nflows - 1], key, val, n, msg, sizeof(msg))) {
				snprintf(why, len, "%s:%d: %s", path, n, msg);
				ret = -1;
			}
			continue;
		}
		*msg = 0;
		ret = config_set(cfg, key, val, msg, sizeof(msg));
		if (ret == -2)
			snprintf(why, len, "%s:%d: unknown setting \"%s\" (socket, group, "
				 "payload_group, max_flows, max_ring_bytes, metrics, metrics_user, "
				 "metrics_password, or a [flow NAME] section)", path, n, key);
		else if (ret && *msg)
			snprintf(why, len, "%s:%d: bad value for %s: %s", path, n, key, msg);
		else if (ret)
			snprintf(why, len, "%s:%d: bad value \"%s\" for %s", path, n, val, key);
	}
	fclose(f);
	for (i = 0; !ret && i < cfg->nflows; i++) {
		sp = &cfg->flows[i];
		if (!*sp->dev || !sp->nfns) {
			snprintf(why, len, "%s:%d: flow \"%s\" needs %s", path, sp->line, sp->name,
				 !*sp->dev ? "an interface (interface = NAME)" :
				 "a function (function = NAME ARGS...)");
			ret = -1;
		}
	}
	return ret ? -1 : 0;
}

int config_read(struct mapid_config *cfg, const struct mapid_source *src, char *why, size_t len)
{
	int i;

	config_defaults(cfg);
	if (src->path && config_load(cfg, src->path, why, len)) {
		config_free(cfg);
		return -1;
	}
	for (i = 0; i < src->noverrides; i++) {
		char msg[256] = "";

		if (config_set(cfg, src->key[i], src->value[i], msg, sizeof(msg))) {
			if (*msg)
				snprintf(why, len, "bad value for --%s: %s", src->option[i], msg);
			else
				snprintf(why, len, "bad value \"%s\" for --%s", src->value[i],
					 src->option[i]);
			config_free(cfg);
			return -1;
		}
	}
	if (!*cfg->metrics_user != !*cfg->metrics_password) {
		snprintf(why, len, "%s: metrics_user and metrics_password go together",
			 src->path ? src->path : "mapid");
		config_free(cfg);
		return -1;
	}
	return 0;
}

int named_spec_same_flow(const struct named_spec *a, const struct named_spec *b)
{
	int i;

	if (strcmp(a->dev, b->dev) || a->direction != b->direction || a->nfns != b->nfns)
		return 0;
	for (i = 0; i < a->nfns; i++)
		if (strcmp(a->fns[i], b->fns[i]))
			return 0;
	return 1;
}
