/* SPDX-License-Identifier: BSD-2-Clause */
#include "engine.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen.h"
#include "loader.h"
#include "error.h"
#include "functions.h"
#include "log.h"

/*
 * enum bpf_attach_type's BPF_TCX_EGRESS (Linux 6.6).  The UAPI headers this
 * is built against may predate it; the kernel, not the headers, decides.
 */
#define ATTACH_TCX_EGRESS 47

enum hook_id { HOOK_XDP, HOOK_TC, HOOK_COUNT };

static const char *const hook_names[HOOK_COUNT] = { "ingress (XDP)", "egress (tc)" };

struct hook {
	int link_fd;		/* -1: not attached */
	int prog_fd;		/* the program the link runs */
	int mode;		/* MAPI_MODE_* */
};

struct iface {
	int ifindex;
	char name[IF_NAMESIZE];
	struct hook hooks[HOOK_COUNT];
	struct flow **flows;	/* connected flows, in connect order */
	size_t nflows, cap;
	struct iface *next;
};

static struct iface *ifaces;

static int hook_dir(enum hook_id h)
{
	return h == HOOK_XDP ? MAPI_DIR_IN : MAPI_DIR_OUT;
}

static struct iface *iface_get(const struct flow *f)
{
	struct iface *ifc;
	int h;

	for (ifc = ifaces; ifc; ifc = ifc->next)
		if (ifc->ifindex == f->ifindex)
			return ifc;
	ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return NULL;
	ifc->ifindex = f->ifindex;
	memcpy(ifc->name, f->dev, sizeof(ifc->name));
	for (h = 0; h < HOOK_COUNT; h++) {
		ifc->hooks[h].link_fd = -1;
		ifc->hooks[h].prog_fd = -1;
	}
	ifc->next = ifaces;
	ifaces = ifc;
	return ifc;
}

static void iface_put(struct iface *ifc)
{
	struct iface **pp;

	if (ifc->nflows)
		return;
	for (pp = &ifaces; *pp; pp = &(*pp)->next) {
		if (*pp == ifc) {
			*pp = ifc->next;
			break;
		}
	}
	free(ifc->flows);
	free(ifc);
}

static int iface_add_flow(struct iface *ifc, struct flow *f)
{
	if (ifc->nflows == ifc->cap) {
		size_t ncap = ifc->cap ? ifc->cap * 2 : 8;
		struct flow **p = realloc(ifc->flows, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ifc->flows = p;
		ifc->cap = ncap;
	}
	ifc->flows[ifc->nflows++] = f;
	return 0;
}

static void iface_remove_flow(struct iface *ifc, struct flow *f)
{
	size_t i;

	for (i = 0; i < ifc->nflows; i++) {
		if (ifc->flows[i] == f) {
			memmove(&ifc->flows[i], &ifc->flows[i + 1],
				(ifc->nflows - i - 1) * sizeof(*ifc->flows));
			ifc->nflows--;
			return;
		}
	}
}

/* Builds and loads the program of hook h with the flows that use it. */
static int hook_load(struct iface *ifc, enum hook_id h, int offload, int *prog_fd)
{
	struct flow **sel;
	struct codegen cg;
	size_t i, n = 0;
	int fd, ret;

	sel = calloc(ifc->nflows ? ifc->nflows : 1, sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	for (i = 0; i < ifc->nflows; i++)
		if (ifc->flows[i]->direction & hook_dir(h))
			sel[n++] = ifc->flows[i];
	ret = codegen_build(&cg, h == HOOK_XDP ? XLATE_XDP : XLATE_TC, offload, sel, n);
	free(sel);
	if (ret)
		return ret;

	fd = loader_load(&cg.pb, cg.hook, offload ? ifc->ifindex : 0);
	pb_free(&cg.pb);
	if (fd < 0)
		return fd;
	*prog_fd = fd;
	return 0;
}

static int xdp_flags_of(int mode)
{
	switch (mode) {
	case MAPI_MODE_NATIVE:
		return XDP_FLAGS_DRV_MODE;
	case MAPI_MODE_GENERIC:
		return XDP_FLAGS_SKB_MODE;
	default:
		return XDP_FLAGS_HW_MODE;
	}
}

/* The modes to try, best first, for a flow's request. */
static int xdp_candidates(int req, int modes[3])
{
	int require = req & MAPI_MODE_REQUIRE, n = 0;

	switch (req & ~MAPI_MODE_REQUIRE) {
	case MAPI_MODE_OFFLOAD:
		modes[n++] = MAPI_MODE_OFFLOAD;
		if (require)
			break;
		/* fall through */
	case MAPI_MODE_AUTO:
	case MAPI_MODE_NATIVE:
		modes[n++] = MAPI_MODE_NATIVE;
		if (require)
			break;
		/* fall through */
	case MAPI_MODE_GENERIC:
		modes[n++] = MAPI_MODE_GENERIC;
		break;
	}
	return n;
}

static int other_xdp_program(const struct iface *ifc, uint32_t *id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifc->ifindex, 0, &q))
		return 0;
	*id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id :
	      q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
	return *id != 0;
}

/* Attaches the first XDP program of ifc, trying the modes f asks for. */
static int xdp_attach_new(struct iface *ifc, struct flow *f, int *prog_fd, int *link_fd,
			  int *mode)
{
	char reason[256] = "";
	int modes[3], n, i, host_prog = -1, ret = 0;
	uint32_t other;

	if (other_xdp_program(ifc, &other))
		return err_set(-EBUSY, MAPI_ERR_ATTACH,
			       "%s already runs XDP program id %u, which this process did not "
			       "attach: only one XDP program can run on an interface (detach it, "
			       "or close the other mapi application)", ifc->name, other);
	n = xdp_candidates(f->mode_req, modes);
	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = xdp_flags_of(modes[i]));
		int m = modes[i], pfd, lfd;

		if (i > 0)
			log_warn("%s: %s XDP unavailable (%s); trying %s XDP", ifc->name,
				 mapi_mode_name(modes[i - 1]), reason, mapi_mode_name(m));
		if (m == MAPI_MODE_OFFLOAD) {
			ret = store_create_device(&f->nic, f->nslots, ifc->ifindex, "mapi_dev");
			if (ret) {
				snprintf(reason, sizeof(reason),
					 "the device refused an offloaded map: %s", strerror(-ret));
				err_begin();
				continue;
			}
			ret = hook_load(ifc, HOOK_XDP, 1, &pfd);
			if (ret) {
				snprintf(reason, sizeof(reason),
					 "the device refused the program: %s", strerror(-ret));
				store_destroy(&f->nic);
				err_begin();
				continue;
			}
		} else {
			if (host_prog < 0) {
				ret = hook_load(ifc, HOOK_XDP, 0, &host_prog);
				if (ret)
					return ret;	/* a program bug, not a mode problem */
			}
			pfd = host_prog;
		}
		lfd = bpf_link_create(pfd, ifc->ifindex, BPF_XDP, &lopts);
		if (lfd >= 0) {
			if (host_prog >= 0 && pfd != host_prog)
				close(host_prog);
			*prog_fd = pfd;
			*link_fd = lfd;
			*mode = m;
			log_info("%s: flows on received packets run in %s XDP", ifc->name,
				 mapi_mode_name(m));
			return 0;
		}
		ret = -errno;
		snprintf(reason, sizeof(reason), "attach refused: %s", strerror(-ret));
		if (m == MAPI_MODE_OFFLOAD) {
			close(pfd);
			store_destroy(&f->nic);
		}
	}
	if (host_prog >= 0)
		close(host_prog);
	if (f->mode_req & MAPI_MODE_REQUIRE)
		return err_set(ret ? ret : -EOPNOTSUPP, MAPI_ERR_MODE,
			       "%s: %s XDP was demanded but is unavailable: %s", ifc->name,
			       mapi_mode_name(f->mode_req & ~MAPI_MODE_REQUIRE), reason);
	return err_set(ret ? ret : -EOPNOTSUPP, MAPI_ERR_ATTACH,
		       "%s: no XDP mode could attach: %s", ifc->name, reason);
}

static int tc_attach_new(struct iface *ifc, int *prog_fd, int *link_fd, int *mode)
{
	int pfd, lfd, ret;

	ret = hook_load(ifc, HOOK_TC, 0, &pfd);
	if (ret)
		return ret;
	lfd = bpf_link_create(pfd, ifc->ifindex, ATTACH_TCX_EGRESS, NULL);
	if (lfd < 0) {
		ret = -errno;
		close(pfd);
		if (ret == -EINVAL)
			return err_set(ret, MAPI_ERR_ATTACH,
				       "%s: the kernel cannot attach tc programs through tcx "
				       "(Linux 6.6 or later): monitor received packets only "
				       "(MAPI_DIR_IN)", ifc->name);
		return err_set(ret, MAPI_ERR_ATTACH, "%s: attaching to tc egress: %s",
			       ifc->name, strerror(-ret));
	}
	*prog_fd = pfd;
	*link_fd = lfd;
	*mode = MAPI_MODE_TCX;
	return 0;
}

/* Swaps hook h's program for one built from the current flow list. */
static int hook_swap(struct iface *ifc, enum hook_id h, int *old_prog)
{
	struct hook *hk = &ifc->hooks[h];
	int pfd, ret;

	ret = hook_load(ifc, h, hk->mode == MAPI_MODE_OFFLOAD, &pfd);
	if (ret)
		return ret;
	if (bpf_link_update(hk->link_fd, pfd, NULL)) {
		ret = -errno;
		close(pfd);
		return err_set(ret, MAPI_ERR_ATTACH, "%s: swapping the %s program: %s",
			       ifc->name, hook_names[h], strerror(-ret));
	}
	*old_prog = hk->prog_fd;
	hk->prog_fd = pfd;
	return 0;
}

/* Checks that f can join the mode hook h already runs in. */
static int join_mode(struct iface *ifc, struct flow *f)
{
	struct hook *hk = &ifc->hooks[HOOK_XDP];
	int want = f->mode_req & ~MAPI_MODE_REQUIRE;

	if (hk->link_fd < 0 || !(f->direction & MAPI_DIR_IN))
		return 0;
	if ((f->mode_req & MAPI_MODE_REQUIRE) && want != hk->mode)
		return err_set(-EBUSY, MAPI_ERR_MODE,
			       "%s: this process already runs flows in %s XDP, and one XDP "
			       "mode serves an interface: %s cannot be demanded", ifc->name,
			       mapi_mode_name(hk->mode), mapi_mode_name(want));
	if (hk->mode == MAPI_MODE_OFFLOAD)
		return store_create_device(&f->nic, f->nslots, ifc->ifindex, "mapi_dev");
	return 0;
}

struct step {
	enum hook_id h;
	int old_prog;		/* to restore on rollback; -1 if newly attached */
};

int engine_connect(struct flow *f)
{
	struct iface *ifc = iface_get(f);
	struct step done[HOOK_COUNT];
	int ndone = 0, ret, h, i;

	if (!ifc)
		return -ENOMEM;
	ret = join_mode(ifc, f);
	if (!ret)
		ret = iface_add_flow(ifc, f);
	if (ret) {
		store_destroy(&f->nic);
		iface_put(ifc);
		return ret;
	}
	for (h = 0; h < HOOK_COUNT && !ret; h++) {
		struct hook *hk = &ifc->hooks[h];
		int old = -1;

		if (!(f->direction & hook_dir(h)))
			continue;
		if (hk->link_fd >= 0)
			ret = hook_swap(ifc, h, &old);
		else if (h == HOOK_XDP)
			ret = xdp_attach_new(ifc, f, &hk->prog_fd, &hk->link_fd, &hk->mode);
		else
			ret = tc_attach_new(ifc, &hk->prog_fd, &hk->link_fd, &hk->mode);
		if (!ret)
			done[ndone++] = (struct step){ h, old };
	}
	if (ret) {
		for (i = 0; i < ndone; i++) {
			struct hook *hk = &ifc->hooks[done[i].h];

			if (done[i].old_prog < 0) {
				close(hk->link_fd);
				close(hk->prog_fd);
				hk->link_fd = hk->prog_fd = -1;
				hk->mode = MAPI_MODE_NONE;
			} else {
				if (bpf_link_update(hk->link_fd, done[i].old_prog, NULL))
					log_warn("%s: restoring the %s program failed: %s",
						 ifc->name, hook_names[done[i].h], strerror(errno));
				close(hk->prog_fd);
				hk->prog_fd = done[i].old_prog;
			}
		}
		iface_remove_flow(ifc, f);
		store_destroy(&f->nic);
		iface_put(ifc);
		return ret;
	}
	for (i = 0; i < ndone; i++)
		if (done[i].old_prog >= 0)
			close(done[i].old_prog);
	f->iface = ifc;
	f->mode_in = f->direction & MAPI_DIR_IN ? ifc->hooks[HOOK_XDP].mode : MAPI_MODE_NONE;
	f->mode_out = f->direction & MAPI_DIR_OUT ? ifc->hooks[HOOK_TC].mode : MAPI_MODE_NONE;
	return 0;
}

void engine_disconnect(struct flow *f)
{
	struct iface *ifc = f->iface;
	int h;

	if (!ifc)
		return;
	iface_remove_flow(ifc, f);
	for (h = 0; h < HOOK_COUNT; h++) {
		struct hook *hk = &ifc->hooks[h];
		size_t i, users = 0;
		int old;

		if (!(f->direction & hook_dir(h)) || hk->link_fd < 0)
			continue;
		for (i = 0; i < ifc->nflows; i++)
			users += !!(ifc->flows[i]->direction & hook_dir(h));
		if (!users) {
			close(hk->link_fd);
			close(hk->prog_fd);
			hk->link_fd = hk->prog_fd = -1;
			hk->mode = MAPI_MODE_NONE;
			continue;
		}
		/* On failure the old program keeps running f's code into f's
		 * maps, which the kernel keeps alive until a later swap. */
		err_begin();
		if (hook_swap(ifc, h, &old))
			log_warn("%s: removing flow %d from the %s program failed; it stays "
				 "until the next change", ifc->name, f->fd, hook_names[h]);
		else
			close(old);
		err_begin();
	}
	f->iface = NULL;
	iface_put(ifc);
}
