/* SPDX-License-Identifier: BSD-2-Clause */
#include "functions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbpf.h"
#include "cbpf_xlate.h"
#include "codegen.h"
#include "error.h"

/* --- BPF_FILTER: a tcpdump expression ----------------------------------- */

static int bpf_filter_prepare(struct fn_instance *fi, const struct flow *f)
{
	struct cbpf_prog *prog = calloc(1, sizeof(*prog));
	int ret;

	if (!prog)
		return -ENOMEM;
	ret = cbpf_compile(fi->args[0].v.s, LINKTYPE_ETHERNET,
			   f->trace ? 0 : cbpf_netmask_of(f->dev), prog);	/* as tcpdump -r */
	if (!ret)
		ret = cbpf_check(prog);
	if (ret) {
		cbpf_prog_free(prog);
		free(prog);
		return ret;
	}
	fi->state = prog;
	fi->host_only = cbpf_loops(prog) > 0;	/* may_goto: no NIC's JIT takes it */
	return 0;
}

static int bpf_filter_emit(struct codegen *cg, const struct fn_instance *fi)
{
	struct xlate_env env;

	cg_xlate_env(cg, &env);
	return cbpf_translate(&cg->pb, fi->state, &env);
}

static int bpf_filter_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	uint32_t mem[CBPF_MEMWORDS];

	(void)f;
	/* the library's interpreter, not libpcap's: its verdicts, and like the
	 * kernel it gives up on a header chain after CBPF_MAX_BACKWARD_JUMPS
	 * (older libpcap, as Debian 12's, walks a self-naming one for ever) */
	return cbpf_exec(fi->state, p->data, p->caplen, p->wlen, mem) != 0;
}

static void bpf_filter_release(struct fn_instance *fi)
{
	if (fi->state) {
		cbpf_prog_free(fi->state);
		free(fi->state);
		fi->state = NULL;
	}
}

/* --- PKT_COUNTER, BYTE_COUNTER ------------------------------------------- */

static int no_prepare(struct fn_instance *fi, const struct flow *f)
{
	(void)fi;
	(void)f;
	return 0;
}

static int pkt_counter_emit(struct codegen *cg, const struct fn_instance *fi)
{
	cg_add_to_slot(cg, fi->slot, ADD_ONE);
	return 0;
}

static int byte_counter_emit(struct codegen *cg, const struct fn_instance *fi)
{
	cg_add_to_slot(cg, fi->slot, ADD_WIRELEN);
	return 0;
}

static int pkt_counter_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	(void)p;
	store_add(&f->host, (uint32_t)fi->slot, 1);
	return 1;
}

static int byte_counter_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	store_add(&f->host, (uint32_t)fi->slot, p->wlen);
	return 1;
}

int fn_emit_nothing(struct codegen *cg, const struct fn_instance *fi)
{
	(void)cg;
	(void)fi;
	return 0;
}

int fn_run_pass(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	(void)fi;
	(void)f;
	(void)p;
	return 1;
}

int fn_maps_share(const struct fn_instance *fi, int *const *maps, int n, int *fds, int max)
{
	int i;

	if (max < n)
		return err_set(-E2BIG, MAPI_ERR_LIMIT, "%s: no room for its %d descriptors",
			       fi->desc->name, n);
	for (i = 0; i < n; i++)
		fds[i] = *maps[i];
	return n;
}

int fn_maps_adopt(struct fn_instance *fi, int *const *maps, int n, const int *fds, int nfds)
{
	int i;

	if (nfds != n) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);	/* they are ours, to keep or close */
		return err_set(-EPROTO, MAPI_ERR_DAEMON, "%s: mapid passed %d descriptors, not %d",
			       fi->desc->name, nfds, n);
	}
	for (i = 0; i < n; i++)
		*maps[i] = fds[i];
	fi->maps = n;
	return 0;
}

void fn_maps_close(struct fn_instance *fi, int *const *maps, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (*maps[i] >= 0)
			close(*maps[i]);
		*maps[i] = -1;
	}
	fi->maps = 0;
}

static const struct fn_desc fn_bpf_filter = {
	.name = "BPF_FILTER",
	.forms = { { "s", "EXPR" } },
	.help = "keep packets that match a tcpdump filter expression",
	.result = FN_RESULT_NONE,
	.offloadable = 1,
	.lookup = FN_LOOKUP_KEY,
	.prepare = bpf_filter_prepare,
	.emit = bpf_filter_emit,
	.run = bpf_filter_run,
	.release = bpf_filter_release,
};

static const struct fn_desc fn_pkt_counter = {
	.name = "PKT_COUNTER",
	.forms = { { "", "" } },
	.help = "count packets (unsigned long long)",
	.result = FN_RESULT_U64,
	.slots = 1,
	.offloadable = 1,
	.lookup = FN_LOOKUP_PACKETS,
	.prepare = no_prepare,
	.emit = pkt_counter_emit,
	.run = pkt_counter_run,
};

static const struct fn_desc fn_byte_counter = {
	.name = "BYTE_COUNTER",
	.forms = { { "", "" } },
	.help = "count bytes on the wire, Ethernet header included, as tcpdump's "
		"length (unsigned long long)",
	.result = FN_RESULT_U64,
	.slots = 1,
	.offloadable = 1,
	.lookup = FN_LOOKUP_BYTES,
	.prepare = no_prepare,
	.emit = byte_counter_emit,
	.run = byte_counter_run,
};

static const struct fn_desc *const library[] = {
	&fn_bpf_filter,
	&fn_pkt_counter,
	&fn_byte_counter,
	&fn_str_search,
	&fn_to_buffer,
	&fn_to_file,
	&fn_sample,
	&fn_hashsamp,
	&fn_top,
	&fn_distinct,
	&fn_stats,
	&fn_dist,
	&fn_gap,
	&fn_pktinfo,
	&fn_bucket,
	&fn_threshold,
	NULL,
};

int fn_args_required(const struct fn_form *form)
{
	int n = 0;

	while (form->args[n] == 's' || form->args[n] == 'i')
		n++;
	return n;
}

int fn_args_max(const struct fn_form *form)
{
	return (int)strlen(form->args);
}

int fn_forms(const struct fn_desc *d)
{
	int n = 0;

	while (n < FN_FORMS_MAX && d->forms[n].args)
		n++;
	return n;
}

void fn_form_names(const struct fn_desc *d, char *buf, size_t len)
{
	int i, n = fn_forms(d);
	size_t used = 0;

	buf[0] = 0;
	if (n == 1) {
		snprintf(buf, len, "%s", d->forms[0].names);
		return;
	}
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s(%s)", i ? " or " : "",
					 d->forms[i].names);
}

void fn_form_letters(const struct fn_desc *d, char *buf, size_t len)
{
	int i, n = fn_forms(d);
	size_t used = 0;

	buf[0] = 0;
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "|" : "",
					 d->forms[i].args);
}

const struct fn_desc *fn_find(const char *name)
{
	const struct fn_desc *const *d;

	for (d = library; *d; d++)
		if (!strcmp((*d)->name, name))
			return *d;
	return NULL;
}

const struct fn_desc *const *fn_all(void)
{
	return library;
}
