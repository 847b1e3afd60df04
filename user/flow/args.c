/* SPDX-License-Identifier: BSD-2-Clause */
#include "args.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* The name of argument i (0-based) in a form's "A B C" list. */
static void arg_name(const struct fn_form *form, int i, char *buf, size_t len)
{
	const char *p = form->names;
	size_t n;

	while (i-- > 0 && p) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || !*p) {
		snprintf(buf, len, "?");
		return;
	}
	n = strcspn(p, " ");
	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

static const char *type_name(int t)
{
	switch (t) {
	case MAPI_ARG_STR: return "a string";
	case MAPI_ARG_INT: return "a signed integer";
	case MAPI_ARG_UINT: return "an unsigned integer";
	case MAPI_ARG_DOUBLE: return "a floating-point number";
	default: return "a pointer";
	}
}

static int bad_arg(const struct fn_desc *d, const struct fn_form *form, int i,
		   const char *fmt, const char *what)
{
	char name[64];

	arg_name(form, i, name, sizeof(name));
	return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + (i < 11 ? i + 1 : 11),
		       "%s argument %d (%s) %s%s", d->name, i + 1, name, fmt, what);
}

void args_free(struct mapi_arg *args, int n)
{
	int i;

	if (!args)
		return;
	for (i = 0; i < n; i++)
		if (args[i].type == MAPI_ARG_STR)
			free((char *)args[i].v.s);
	free(args);
}

/* n arguments fit no form of d: how many it takes. */
static int bad_count(const struct fn_desc *d, int n)
{
	const struct fn_form *form = &d->forms[0];
	int need = fn_args_required(form), most = fn_args_max(form), i, forms = fn_forms(d);
	char names[160];

	if (forms > 1) {
		for (i = 1; i < forms; i++) {
			if (fn_args_required(&d->forms[i]) < need)
				need = fn_args_required(&d->forms[i]);
			if (fn_args_max(&d->forms[i]) > most)
				most = fn_args_max(&d->forms[i]);
		}
		fn_form_names(d, names, sizeof(names));
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + (n < need ? n + 1 :
			       n > most ? (most < 10 ? most + 1 : 11) : (n < 11 ? n : 11)),
			       "%s takes %s, got %d argument%s", d->name, names, n,
			       n == 1 ? "" : "s");
	}
	if (most == 0)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + (n < 11 ? n : 11),
			       "%s takes no arguments, got %d", d->name, n);
	if (need == most)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + (n < need ? n + 1 : need + 1),
			       "%s takes %d argument%s (%s), got %d", d->name, need,
			       need == 1 ? "" : "s", form->names, n);
	return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + (n < need ? n + 1 : most + 1),
		       "%s takes %d to %d arguments (%s), got %d", d->name, need, most,
		       form->names, n);
}

/* Whether the strings of in are where form takes strings. */
static int strings_fit(const struct fn_form *form, const struct mapi_arg *in, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if ((in[i].type == MAPI_ARG_STR) != (form->args[i] == 's' || form->args[i] == 'S'))
			return 0;
	return 1;
}

int args_check(const struct fn_desc *d, const struct mapi_arg *in, int n,
	       struct mapi_arg **out, int *which)
{
	const struct fn_form *form = NULL;
	struct mapi_arg *copy;
	int i, most, room;

	*out = NULL;
	if (n < 0 || (n && !in))
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT, "%s: bad argument list", d->name);
	/* the form is told by the number of arguments, and among forms of the
	 * same number by where the strings are: the first that takes them, or
	 * the first of that number, whose check then says what is wrong */
	for (i = fn_forms(d) - 1; i >= 0; i--)
		if (n >= fn_args_required(&d->forms[i]) && n <= fn_args_max(&d->forms[i]) &&
		    (!form || strings_fit(&d->forms[i], in, n) || !strings_fit(form, in, n))) {
			form = &d->forms[i];
			*which = i;
		}
	if (!form)
		return bad_count(d, n);
	most = fn_args_max(form);
	/* as many as the longest form takes, and one more, zeroed: a missing
	 * optional argument reads as 0/NULL, whichever form was given */
	for (i = 0, room = most; i < fn_forms(d); i++)
		if (fn_args_max(&d->forms[i]) > room)
			room = fn_args_max(&d->forms[i]);
	copy = calloc((size_t)room + 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (i = n; i < most; i++)
		copy[i].type = form->args[i] == 'S' ? MAPI_ARG_STR : MAPI_ARG_INT;
	for (i = 0; i < n; i++) {
		const struct mapi_arg *a = &in[i];
		int ret = 0;

		switch (form->args[i]) {
		case 'S':
		case 's':
			if (a->type != MAPI_ARG_STR && !(a->type == MAPI_ARG_PTR && !a->v.p))
				ret = bad_arg(d, form, i, "must be a string, not ", type_name(a->type));
			else if (!a->v.s)
				ret = bad_arg(d, form, i, "is NULL", "");
			else if (!(copy[i].v.s = strdup(a->v.s)))
				ret = -ENOMEM;
			copy[i].type = MAPI_ARG_STR;
			break;
		case 'I':
		case 'i':
			if (a->type == MAPI_ARG_INT && a->v.i >= INT_MIN && a->v.i <= INT_MAX)
				copy[i].v.i = a->v.i;
			else if (a->type == MAPI_ARG_UINT && a->v.u <= INT_MAX)
				copy[i].v.i = (long long)a->v.u;
			else if (a->type == MAPI_ARG_INT || a->type == MAPI_ARG_UINT)
				ret = bad_arg(d, form, i, "does not fit in an int", "");
			else
				ret = bad_arg(d, form, i, "must be an integer, not ", type_name(a->type));
			copy[i].type = MAPI_ARG_INT;
			break;
		}
		if (ret) {
			args_free(copy, most);
			return ret;
		}
	}
	*out = copy;
	return 0;
}

int args_from_va(const struct fn_desc *d, int which, va_list ap, struct mapi_arg **out, int *n)
{
	const struct fn_form *form = &d->forms[which];
	int want = fn_args_required(form), i;
	struct mapi_arg *a = calloc(want ? want : 1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	for (i = 0; i < want; i++) {
		if (form->args[i] == 's' || form->args[i] == 'S') {
			a[i].type = MAPI_ARG_STR;
			a[i].v.s = va_arg(ap, const char *);
		} else {
			a[i].type = MAPI_ARG_INT;
			a[i].v.i = va_arg(ap, int);
		}
	}
	*out = a;
	*n = want;
	return 0;
}
