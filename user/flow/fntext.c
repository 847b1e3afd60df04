/* SPDX-License-Identifier: BSD-2-Clause */
/* MAPI as text (fntext.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fntext.h"

/* MAPI's constant names, taken bare for their values, as in a C program. */
static const struct { const char *name; int value; } constants[] = {
	{ "WAIT", MAPI_WAIT }, { "NOWAIT", MAPI_NOWAIT },
	{ "MAPI_WAIT", MAPI_WAIT }, { "MAPI_NOWAIT", MAPI_NOWAIT },
	{ "MFF_PCAP", MFF_PCAP },
	{ "PERIODIC", MAPI_PERIODIC }, { "PROBABILISTIC", MAPI_PROBABILISTIC },
	{ "MAPI_PERIODIC", MAPI_PERIODIC }, { "MAPI_PROBABILISTIC", MAPI_PROBABILISTIC },
#define BOTH(name) { #name, MAPI_##name }, { "MAPI_" #name, MAPI_##name }
	BOTH(TOPX_IP), BOTH(TOPX_TCP), BOTH(TOPX_UDP), BOTH(TOPX_ICMP),
	BOTH(TOPX_IP_TOS), BOTH(TOPX_IP_LENGTH), BOTH(TOPX_IP_ID), BOTH(TOPX_IP_OFFSET),
	BOTH(TOPX_IP_TTL), BOTH(TOPX_IP_PROTOCOL), BOTH(TOPX_IP_CHECKSUM), BOTH(TOPX_IP_SRCIP),
	BOTH(TOPX_IP_DSTIP), BOTH(TOPX_TCP_SRCPORT), BOTH(TOPX_TCP_DSTPORT), BOTH(TOPX_TCP_SEQ),
	BOTH(TOPX_TCP_ACK), BOTH(TOPX_TCP_FLAGS), BOTH(TOPX_TCP_WIN), BOTH(TOPX_TCP_CRC),
	BOTH(TOPX_TCP_URGENT), BOTH(TOPX_UDP_SRCPORT), BOTH(TOPX_UDP_DSTPORT),
	BOTH(TOPX_UDP_LENGTH), BOTH(TOPX_UDP_CHECKSUM), BOTH(SORT_BY_PACKETS),
	BOTH(SORT_BY_BYTES), BOTH(PKT_SIZE), BOTH(PKT_TS), BOTH(THRESHOLD_VALUE),
	BOTH(THRESHOLD_CHANGE), BOTH(BOUNDARY_ABOVE), BOTH(BOUNDARY_EQUAL), BOTH(BOUNDARY_BELOW),
#undef BOTH
};

int fntext_constant(const char *word, long long *v)
{
	size_t i;

	for (i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
		if (!strcmp(word, constants[i].name)) {
			*v = constants[i].value;
			return 1;
		}
	}
	return 0;
}

int fntext_parse(char *text, char **name, struct mapi_arg *args, char *why, size_t len)
{
	char *p = text;
	int n = -1;

	for (;;) {
		char *word, *end;
		int quoted;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		quoted = *p == '"';
		if (quoted) {
			word = ++p;
			end = strchr(p, '"');
			if (!end) {
				snprintf(why, len, "a string is not closed with \"");
				return -1;
			}
			*end = 0;
			p = end + 1;
		} else {
			word = p;
			p += strcspn(p, " \t");
			if (*p)
				*p++ = 0;
		}
		if (n < 0) {
			if (quoted) {
				snprintf(why, len, "a function's name comes first, unquoted");
				return -1;
			}
			*name = word;
			n = 0;
			continue;
		}
		if (n == FNTEXT_MAX_ARGS) {
			snprintf(why, len, "%s: at most %d arguments", *name, FNTEXT_MAX_ARGS);
			return -1;
		}
		if (!quoted) {
			char *e;
			long long v;

			errno = 0;
			v = strtoll(word, &e, 0);
			if ((*word && !*e && !errno) || fntext_constant(word, &v)) {
				args[n].type = MAPI_ARG_INT;
				args[n++].v.i = v;
				continue;
			}
		}
		args[n].type = MAPI_ARG_STR;
		args[n++].v.s = word;
	}
	if (n < 0) {
		snprintf(why, len, "no function named");
		return -1;
	}
	return n;
}

void field_value_text(const struct mapi_field_value *v, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (!v->family) {
		snprintf(buf, len, "%llu", v->number);
		return;
	}
	inet_ntop(v->family == 4 ? AF_INET : AF_INET6, v->addr, addr, sizeof(addr));
	if (v->prefix < (v->family == 4 ? 32u : 128u))
		snprintf(buf, len, "%s/%u", addr, v->prefix);
	else
		snprintf(buf, len, "%s", addr);
}
