/* SPDX-License-Identifier: BSD-2-Clause */
#include "hashflow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TERMS 8
#define MAX_WORDS 32

enum side { SIDE_EITHER, SIDE_SRC, SIDE_DST };

struct term {
	enum side side;
	uint32_t value;		/* address, or port */
};

struct spec {
	int proto;
	struct term addr[MAX_TERMS], port[MAX_TERMS];
	int naddr, nport;
};

static int is_number(const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	unsigned long n;

	if (!*s || *s == '-' || *s == '+')
		return 0;
	n = strtoul(s, &end, 10);
	if (*end || n > max)
		return 0;
	*v = (uint32_t)n;
	return 1;
}

static int is_ipv4(const char *s, uint32_t *a)
{
	struct in_addr in;
	int dots = 0;
	const char *p;

	for (p = s; *p; p++)
		dots += *p == '.';
	/* a dotted quad: libpcap reads "10.1" as a network, not a host */
	if (dots != 3 || inet_pton(AF_INET, s, &in) != 1)
		return 0;
	*a = in.s_addr;
	return 1;
}

static int set_proto(struct spec *sp, const char *w)
{
	int p = !strcmp(w, "tcp") ? IPPROTO_TCP : !strcmp(w, "udp") ? IPPROTO_UDP : 0;

	if (!p || (sp->proto && sp->proto != p))
		return 0;
	sp->proto = p;
	return 1;
}

/* One term from words[*i]; 0 if it is not one the lookup stands for. */
static int parse_term(char **w, int n, int *i, struct spec *sp)
{
	enum side side = SIDE_EITHER;
	uint32_t v;

	if (!strcmp(w[*i], "ip")) {
		(*i)++;
		return 1;
	}
	if (!strcmp(w[*i], "tcp") || !strcmp(w[*i], "udp")) {
		if (!set_proto(sp, w[(*i)++]))
			return 0;
		/* "tcp port 21", "udp src port 53": the protocol qualifies a port */
		if (*i == n || (strcmp(w[*i], "port") && strcmp(w[*i], "src") && strcmp(w[*i], "dst")))
			return 1;
	}
	if (!strcmp(w[*i], "src") || !strcmp(w[*i], "dst")) {
		side = w[*i][0] == 's' ? SIDE_SRC : SIDE_DST;
		if (++(*i) == n)
			return 0;
	}
	if (!strcmp(w[*i], "port")) {
		if (++(*i) == n || !is_number(w[*i], 65535, &v) || sp->nport == MAX_TERMS)
			return 0;
		(*i)++;
		sp->port[sp->nport++] = (struct term){ side, htons((uint16_t)v) };
		return 1;
	}
	if (!strcmp(w[*i], "host") && ++(*i) == n)
		return 0;
	if (!is_ipv4(w[*i], &v) || sp->naddr == MAX_TERMS)
		return 0;
	(*i)++;
	sp->addr[sp->naddr++] = (struct term){ side, v };
	return 1;
}

/*
 * Whether (s, d) meets every term.  A value of `fresh` stands for one no
 * term names: it meets no equality.
 */
static int meets(const struct term *t, int n, uint64_t s, uint64_t d)
{
	int i;

	for (i = 0; i < n; i++) {
		int src = s == t[i].value, dst = d == t[i].value;

		if ((t[i].side == SIDE_SRC && !src) || (t[i].side == SIDE_DST && !dst) ||
		    (t[i].side == SIDE_EITHER && !src && !dst))
			return 0;
	}
	return 1;
}

#define FRESH ((uint64_t)1 << 32)	/* no 32-bit value: named by no term */

/*
 * The (source, destination) pairs the terms allow, from the values they
 * name and FRESH: FRESH in a pair means "any value" (the terms do not look
 * at that side once the other holds).  Returns the number, or -1 if a pair
 * of two FRESH values passes (nothing is fixed).
 */
static int pairs(const struct term *t, int n, uint64_t out[][2], int max)
{
	uint64_t cand[MAX_TERMS + 1];
	int nc = 0, i, j, k, np = 0;

	for (i = 0; i < n; i++) {
		for (k = 0; k < nc && cand[k] != t[i].value; k++)
			;
		if (k == nc)
			cand[nc++] = t[i].value;
	}
	cand[nc++] = FRESH;
	for (i = 0; i < nc; i++)
		for (j = 0; j < nc; j++) {
			if (!meets(t, n, cand[i], cand[j]))
				continue;
			if (cand[i] == FRESH && cand[j] == FRESH)
				return -1;
			if (np == max)
				return -1;
			out[np][0] = cand[i];
			out[np][1] = cand[j];
			np++;
		}
	return np;
}

int hf_parse(const char *expr, struct hf_key *keys, int *nkeys)
{
	char *copy = strdup(expr ? expr : ""), *w[MAX_WORDS], *tok, *save = NULL;
	uint64_t ap[16][2], pp[16][2];
	struct spec sp = { 0 };
	int nw = 0, i = 0, na, np, a, p, ok = 0;

	*nkeys = 0;
	if (!copy)
		return 0;
	for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (nw == MAX_WORDS)
			goto out;
		w[nw++] = tok;
	}
	/* term (and term)* */
	while (i < nw) {
		if (!parse_term(w, nw, &i, &sp))
			goto out;
		if (i == nw)
			break;
		if (strcmp(w[i], "and") && strcmp(w[i], "&&"))
			goto out;
		if (++i == nw)
			goto out;
	}
	if (!sp.proto || !sp.naddr || !sp.nport)
		goto out;
	na = pairs(sp.addr, sp.naddr, ap, 16);
	np = pairs(sp.port, sp.nport, pp, 16);
	/* the addresses are fixed (no FRESH side), a port at least */
	if (na <= 0 || np <= 0)
		goto out;
	for (a = 0; a < na; a++)
		if (ap[a][0] == FRESH || ap[a][1] == FRESH)
			goto out;
	for (a = 0; a < na; a++) {
		for (p = 0; p < np; p++) {
			struct hf_key k = { .proto = (uint8_t)sp.proto };
			int q, dup = 0;

			k.saddr = (uint32_t)ap[a][0];
			k.daddr = (uint32_t)ap[a][1];
			if (pp[p][0] == FRESH)
				k.wild |= HF_WILD_SPORT;
			else
				k.sport = (uint16_t)pp[p][0];
			if (pp[p][1] == FRESH)
				k.wild |= HF_WILD_DPORT;
			else
				k.dport = (uint16_t)pp[p][1];
			/* a pair both a wildcard covers needs no key of its own */
			for (q = 0; q < np && !k.wild; q++)
				if ((pp[q][0] == FRESH && pp[q][1] == pp[p][1]) ||
				    (pp[q][1] == FRESH && pp[q][0] == pp[p][0]))
					dup = 1;
			for (q = 0; q < *nkeys && !dup; q++)
				dup = !memcmp(&keys[q], &k, sizeof(k));
			if (dup)
				continue;
			if (*nkeys == HF_MAX_KEYS)
				goto out;
			keys[(*nkeys)++] = k;
		}
	}
	ok = 1;
out:
	free(copy);
	if (!ok)
		*nkeys = 0;
	return ok;
}
