/* SPDX-License-Identifier: BSD-2-Clause */
/* mapid's settings: defaults, and the configuration file (mapid(8)). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapid.h"

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

int config_set(struct mapid_config *cfg, const char *key, const char *val)
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
	return -2;
}

int config_load(struct mapid_config *cfg, const char *path, char *why, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int n = 0, ret = 0;

	if (!f) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		char *key, *val, *eq;

		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, len, "%s:%d: line too long", path, n);
			ret = -1;
			break;
		}
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(why, len, "%s:%d: want \"key = value\"", path, n);
			ret = -1;
			break;
		}
		*eq = 0;
		val = trim(eq + 1);
		key = trim(key);
		ret = config_set(cfg, key, val);
		if (ret == -2)
			snprintf(why, len, "%s:%d: unknown setting \"%s\" (socket, group, "
				 "payload_group, max_flows, max_ring_bytes)", path, n, key);
		else if (ret)
			snprintf(why, len, "%s:%d: bad value \"%s\" for %s", path, n, val, key);
	}
	fclose(f);
	return ret ? -1 : 0;
}
