/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How flows become running programs.
 *
 * Each hook of an interface (XDP for received packets, tcx for sent ones)
 * runs a fixed root program, attached once through a bpf_link, that jumps
 * (tail call) into a chain of group programs held in a prog array: group k
 * runs its flows one after the other, then jumps to group k+1.  Connecting
 * or closing a flow rebuilds only the group it belongs to and replaces it
 * in the prog array, an atomic pointer swap: every packet runs either the
 * old or the new group, and every other flow keeps its maps, so no count
 * is lost or doubled.
 *
 * Why groups: the verifier's time grows faster than linearly with a
 * program's size (about a microsecond per instruction it explores here), so
 * one program for all flows would make each connect slower than the last.
 * Why a root and a prog array: replacing an attached XDP program costs
 * milliseconds of RCU waiting; replacing a prog array slot, microseconds.
 * The conversation flows' hash lookup is a program of the chain too, in a
 * slot of its own the root jumps to first (codegen.h): the first
 * conversation flow of an interface fills that slot, nothing is swapped.
 *
 * On a NIC (offload) there are no tail calls: one program holds every flow
 * and is swapped through its link.
 */
#include "engine.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "codegen.h"
#include "error.h"
#include "functions.h"
#include "loader.h"
#include "hashpath.h"
#include "linkwatch.h"
#include "log.h"
#include "threads.h"

/*
 * enum bpf_attach_type's BPF_TCX_EGRESS (Linux 6.6).  The UAPI headers this
 * is built against may predate it; the kernel, not the headers, decides.
 */
#define ATTACH_TCX_INGRESS 46
#define ATTACH_TCX_EGRESS 47

/* The kernel gives loopback this index in every network namespace. */
#define LOOPBACK_IFINDEX 1

/* Flows on a hook before conversation flows become lookups (lookup_pays). */
#define HASH_MIN_FLOWS 16
/* A group grows until its program has this many instructions. */
#define GROUP_MAX_INSNS 2000

static const char *const hook_names[HOOK_COUNT] = { "ingress", "egress" };

struct group {
	struct flow **flows;
	size_t nflows, cap;
	int prog_fd;		/* -1: empty slot */
};

struct hook {
	struct prog_target target;	/* what its programs are built for */
	int link_fd;		/* -1: not attached */
	int root_fd;		/* host: the attached root */
	int array_fd;		/* host: the chain of groups */
	int hash_fd;		/* host: the hash flows' program, in the chain */
	int mode;		/* MAPI_MODE_* */
	struct group groups[CHAIN_MAX];
	int ngroups;
	int nhash;		/* conversation flows it serves */
	uint64_t idle_since;	/* ms: attached with no flows since then; 0: busy */
};

struct iface {
	struct engine *eng;
	int ifindex;
	char name[IF_NAMESIZE];
	struct hook hooks[HOOK_COUNT];
	size_t nflows;
	struct hashpath *hp;	/* conversation flows' tables, made for the first */
	struct link_watch *link;	/* says when it goes: then its hooks are
					 * dead, and an interface of its index
					 * (moved back, say) is another */
	struct iface *next;
};

/* One engine runs the flows of a process (the library's), or of every
 * client of mapid: all its state is here. */
struct engine {
	struct iface *ifaces;
};

/*
 * Attaching a hook costs tens of milliseconds of kernel waiting (RCU grace
 * periods under the RTNL lock), and so does detaching it.  A hook whose
 * last flow closed stays attached, passing everything, for this long, so
 * that a flow connected meanwhile takes milliseconds; then it goes.
 */
#define IDLE_DETACH_MS 1000

static int offloaded(const struct hook *hk)
{
	return hk->target.offload_ifindex > 0;
}

static void hook_reset(struct hook *hk)
{
	int k;

	hk->link_fd = hk->root_fd = hk->array_fd = hk->hash_fd = -1;
	hk->mode = MAPI_MODE_NONE;
	hk->idle_since = 0;
	memset(&hk->target, 0, sizeof(hk->target));
	for (k = 0; k < CHAIN_MAX; k++)
		hk->groups[k].prog_fd = -1;
	hk->ngroups = 0;
	hk->nhash = 0;
}

/* Detaches the hook and frees what it holds (the link goes first). */
static void hook_close(struct hook *hk)
{
	int k;

	if (hk->link_fd >= 0)
		close(hk->link_fd);
	if (hk->root_fd >= 0)
		close(hk->root_fd);
	if (hk->array_fd >= 0)
		close(hk->array_fd);
	if (hk->hash_fd >= 0)
		close(hk->hash_fd);
	for (k = 0; k < CHAIN_MAX; k++) {
		if (hk->groups[k].prog_fd >= 0)
			close(hk->groups[k].prog_fd);
		free(hk->groups[k].flows);
		hk->groups[k].flows = NULL;
		hk->groups[k].nflows = hk->groups[k].cap = 0;
	}
	hook_reset(hk);
}

static struct iface *iface_find(const struct engine *e, int ifindex)
{
	struct iface *ifc;

	for (ifc = e->ifaces; ifc && (ifc->ifindex != ifindex || linkwatch_gone(ifc->link));
	     ifc = ifc->next)
		;
	return ifc;
}

static int iface_get(struct engine *e, const struct flow *f, struct iface **out)
{
	struct iface *ifc = iface_find(e, f->ifindex);
	int h, ret;

	*out = ifc;
	if (ifc)
		return 0;
	ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return -ENOMEM;
	ret = linkwatch_get(f->ifindex, &ifc->link);
	if (ret) {
		free(ifc);
		return ret;
	}
	ifc->eng = e;
	ifc->ifindex = f->ifindex;
	memcpy(ifc->name, f->dev, sizeof(ifc->name));
	for (h = 0; h < HOOK_COUNT; h++)
		hook_reset(&ifc->hooks[h]);
	ifc->next = e->ifaces;
	e->ifaces = ifc;
	*out = ifc;
	return 0;
}

/* Frees ifc once no flow uses it and no hook is attached. */
static void iface_put(struct iface *ifc)
{
	struct iface **pp;
	int h;

	if (ifc->nflows)
		return;
	for (h = 0; h < HOOK_COUNT; h++)
		if (ifc->hooks[h].link_fd >= 0)
			return;
	for (pp = &ifc->eng->ifaces; *pp; pp = &(*pp)->next) {
		if (*pp == ifc) {
			*pp = ifc->next;
			break;
		}
	}
	hashpath_destroy(ifc->hp);
	linkwatch_put(ifc->link);
	free(ifc);
}

/* --- Groups ----------------------------------------------------------------*/

/*
 * Builds group k's program from its flows, plus `add` if not NULL, minus
 * `drop` if not NULL.  Only builds: loading is the slow part, done apart.
 * The last group does not jump on (a jump to an empty slot costs a few
 * nanoseconds a packet); the group before a new one is rebuilt to.
 */
static int group_build(struct hook *hk, int k, struct flow *add, struct flow *drop,
		       struct codegen *cg)
{
	struct group *g = &hk->groups[k];
	struct cg_chain chain = { k + 1 < hk->ngroups ? hk->array_fd : -1, (uint32_t)k + 1 };
	struct flow **sel = calloc(g->nflows + 1, sizeof(*sel));
	size_t i, n = 0;
	int ret;

	if (!sel)
		return -ENOMEM;
	for (i = 0; i < g->nflows; i++)
		if (g->flows[i] != drop)
			sel[n++] = g->flows[i];
	if (add)
		sel[n++] = add;
	ret = codegen_build(cg, &hk->target, offloaded(hk) ? NULL : &chain, sel, n);
	free(sel);
	return ret;
}

/* Builds group k's program as group_build() does and loads it: a prog fd. */
static int group_load(struct hook *hk, int k, struct flow *add, struct flow *drop)
{
	struct codegen cg;
	int ret;

	ret = group_build(hk, k, add, drop, &cg);
	if (ret)
		return ret;
	ret = loader_load(&cg.pb, &hk->target);
	pb_free(&cg.pb);
	return ret;
}

static uint32_t group_maps(const struct hook *hk, int k)
{
	const struct group *g = &hk->groups[k];
	uint32_t maps = 0;
	size_t i;

	for (i = 0; i < g->nflows; i++)
		maps += codegen_maps_of(g->flows[i], offloaded(hk));
	return maps;
}

/*
 * Chooses the group f joins on hook h and builds its program: the first
 * group with room (result maps a program may name, instructions that keep
 * it quick to verify), else a new group at the end of the chain.
 */
static int group_place(struct iface *ifc, enum hook_id h, struct flow *f, int *group,
		       struct codegen *cg)
{
	struct hook *hk = &ifc->hooks[h];
	uint32_t fmaps = codegen_maps_of(f, offloaded(hk));
	int k, last = offloaded(hk) ? 1 : CHAIN_MAX, ret;

	for (k = 0; k < last; k++) {
		if (k < hk->ngroups && group_maps(hk, k) + fmaps > CG_MAX_MAPS)
			continue;
		ret = group_build(hk, k, f, NULL, cg);
		if (ret == -E2BIG && k < hk->ngroups && hk->groups[k].nflows) {
			err_begin();	/* full: try the next group */
			continue;
		}
		if (ret)
			return ret;
		if (cg->pb.len > GROUP_MAX_INSNS && k < hk->ngroups && hk->groups[k].nflows) {
			pb_free(&cg->pb);
			continue;
		}
		*group = k;
		return 0;
	}
	if (offloaded(hk))
		return err_set(-E2BIG, MAPI_ERR_LIMIT,
			       "%s: the NIC's program holds no more flows (at most %d result "
			       "maps)", ifc->name, CG_MAX_MAPS);
	return err_set(-E2BIG, MAPI_ERR_LIMIT,
		       "%s: the %s chain is full (%d groups of flows): close flows, or use "
		       "filters that are simpler", ifc->name, hook_names[h], CHAIN_MAX);
}

static int group_append(struct group *g, struct flow *f)
{
	if (g->nflows == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 8;
		struct flow **p = realloc(g->flows, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		g->flows = p;
		g->cap = ncap;
	}
	g->flows[g->nflows++] = f;
	return 0;
}

static void group_remove(struct group *g, struct flow *f)
{
	size_t i;

	for (i = 0; i < g->nflows; i++) {
		if (g->flows[i] == f) {
			memmove(&g->flows[i], &g->flows[i + 1],
				(g->nflows - i - 1) * sizeof(*g->flows));
			g->nflows--;
			return;
		}
	}
}

/* Makes program prog run as group k: a prog array slot, or the link. */
static int group_install(struct iface *ifc, enum hook_id h, int k, int prog)
{
	struct hook *hk = &ifc->hooks[h];
	uint32_t key = (uint32_t)k;
	int ret;

	if (offloaded(hk))
		ret = bpf_link_update(hk->link_fd, prog, NULL);
	else if (prog < 0)
		ret = bpf_map_delete_elem(hk->array_fd, &key);
	else
		ret = bpf_map_update_elem(hk->array_fd, &key, &prog, BPF_ANY);
	if (ret && !(prog < 0 && errno == ENOENT))
		return err_set(-errno, MAPI_ERR_ATTACH, "%s: replacing a program of the %s hook: %s",
			       ifc->name, hook_names[h], strerror(errno));
	return 0;
}

/* --- Attaching ------------------------------------------------------------ */

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

/* The first function of f that cannot run on a NIC, or NULL. */
static const char *not_offloadable(const struct flow *f)
{
	int i;

	for (i = 0; i < f->nfns; i++)
		if (!f->fns[i]->desc->offloadable || f->fns[i]->host_only)
			return f->fns[i]->desc->name;
	return NULL;
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

/* Puts the hash flows' program into hook h's chain. */
static int hash_install(struct iface *ifc, enum hook_id h)
{
	struct hook *hk = &ifc->hooks[h];
	uint32_t slot = CHAIN_HASH_SLOT;
	struct prog_buf pb;
	int prog, ret;

	ret = codegen_hash(&pb, &hk->target, hk->array_fd, ifc->hp);
	prog = ret ? ret : loader_load(&pb, &hk->target);
	pb_free(&pb);
	if (prog < 0)
		return prog;
	if (bpf_map_update_elem(hk->array_fd, &slot, &prog, BPF_ANY)) {
		ret = -errno;
		close(prog);
		return err_set(ret, MAPI_ERR_KERNEL, "%s: filling a prog array: %s", ifc->name,
			       strerror(-ret));
	}
	if (hk->hash_fd >= 0)
		close(hk->hash_fd);
	hk->hash_fd = prog;
	return 0;
}

/* Takes the hash flows' program out of hook h's chain. */
static void hash_uninstall(struct iface *ifc, enum hook_id h)
{
	struct hook *hk = &ifc->hooks[h];
	uint32_t slot = CHAIN_HASH_SLOT;

	if (hk->hash_fd < 0)
		return;
	bpf_map_delete_elem(hk->array_fd, &slot);
	close(hk->hash_fd);
	hk->hash_fd = -1;
}

/* The root and its prog array; group 0 is installed separately. */
static int root_create(struct iface *ifc, enum hook_id h)
{
	struct hook *hk = &ifc->hooks[h];
	struct prog_buf pb;
	int ret;

	hk->array_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, h == HOOK_XDP ? "mapi_xdp_chain" :
				      "mapi_tc_chain", sizeof(uint32_t), sizeof(uint32_t),
				      CHAIN_SLOTS, NULL);
	if (hk->array_fd < 0)
		return err_kernel(-errno, "%s: creating a prog array", ifc->name);
	ret = codegen_root(&pb, &hk->target, hk->array_fd);
	if (!ret) {
		ret = loader_load(&pb, &hk->target);
		if (ret >= 0) {
			hk->root_fd = ret;
			ret = 0;
		}
	}
	pb_free(&pb);
	if (!ret && ifc->hp)
		ret = hash_install(ifc, h);
	return ret;
}

/* Loads group 0 with f and attaches; on a NIC, the group is the program. */
static int attach_try(struct iface *ifc, enum hook_id h, struct flow *f, int mode, int frags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	struct hook *hk = &ifc->hooks[h];
	/* received packets run in XDP, or at tc ingress after another's XDP */
	enum xlate_hook type = h == HOOK_XDP && mode != MAPI_MODE_TCX ? XLATE_XDP : XLATE_TC;
	int prog, ret, target;

	if (hk->root_fd >= 0 && (hk->target.frags != frags || hk->target.hook != type)) {
		/* a chain's programs must agree on their type and on frags */
		close(hk->root_fd);
		close(hk->array_fd);
		if (hk->hash_fd >= 0)
			close(hk->hash_fd);
		hk->root_fd = hk->array_fd = hk->hash_fd = -1;
	}
	hk->mode = mode;
	hk->target.hook = type;
	hk->target.ingress = h == HOOK_XDP;
	hk->target.offload_ifindex = mode == MAPI_MODE_OFFLOAD ? ifc->ifindex : 0;
	hk->target.frags = frags;
	if (mode != MAPI_MODE_OFFLOAD && hk->root_fd < 0) {
		ret = root_create(ifc, h);
		if (ret)
			return ret;
	}
	/* a conversation flow has no code: the group starts empty */
	prog = group_load(hk, 0, f->hashed ? NULL : f, NULL);
	if (prog < 0)
		return prog;
	if (mode == MAPI_MODE_OFFLOAD) {
		target = prog;
	} else {
		uint32_t zero = 0;

		if (bpf_map_update_elem(hk->array_fd, &zero, &prog, BPF_ANY)) {
			ret = -errno;
			close(prog);
			return err_set(ret, MAPI_ERR_KERNEL, "%s: filling a prog array: %s",
				       ifc->name, strerror(-ret));
		}
		target = hk->root_fd;
	}
	hk->groups[0].prog_fd = prog;
	hk->ngroups = 1;
	if (type == XLATE_XDP) {
		lopts.flags = xdp_flags_of(mode);
		hk->link_fd = bpf_link_create(target, ifc->ifindex, BPF_XDP, &lopts);
	} else {
		hk->link_fd = bpf_link_create(target, ifc->ifindex, h == HOOK_XDP ?
					      ATTACH_TCX_INGRESS : ATTACH_TCX_EGRESS, NULL);
	}
	if (hk->link_fd < 0)
		return -errno;
	return f->hashed ? 0 : group_append(&hk->groups[0], f);
}

/*
 * Attaches hook h of ifc at tc through tcx for its first flow f: sent
 * packets always, received ones when another XDP program runs.  tcx is
 * multi-attach: any number of programs run there, one after the other.
 */
static int attach_tcx(struct iface *ifc, enum hook_id h, struct flow *f)
{
	struct hook *hk = &ifc->hooks[h];
	int ret = attach_try(ifc, h, f, MAPI_MODE_TCX, 0);
	int link_failed = ret && hk->link_fd < 0 && hk->groups[0].prog_fd >= 0;

	if (!ret)
		return 0;
	hook_close(hk);
	if (link_failed && ret == -EINVAL)
		return err_set(ret, MAPI_ERR_ATTACH,
			       "%s: the kernel cannot attach tc programs through tcx (Linux 6.6 "
			       "or later)%s", ifc->name, h == HOOK_TC ?
			       ": monitor received packets only (MAPI_DIR_IN)" : "");
	if (link_failed && err_is_no_fds(ret))
		return err_no_fds(ret, "attaching the programs");
	if (link_failed)
		return err_set(ret, MAPI_ERR_ATTACH, "%s: attaching to tc %s: %s", ifc->name,
			       hook_names[h], strerror(-ret));
	return ret;
}

/* Another's XDP program (id other) holds the interface: received packets at
 * tc ingress after it, unless an XDP mode is demanded. */
static int attach_after(struct iface *ifc, struct flow *f, uint32_t other)
{
	if (f->mode_req & MAPI_MODE_REQUIRE)
		return err_set(-EBUSY, MAPI_ERR_ATTACH,
			       "%s already runs XDP program id %u, which this process did not "
			       "attach: only one XDP program can run on an interface, so %s XDP "
			       "cannot be demanded (detach that program, or let received packets "
			       "be taken at tc ingress: do not demand a mode)", ifc->name, other,
			       mapi_mode_name(f->mode_req & ~MAPI_MODE_REQUIRE));
	/* another's XDP program, or another process's flows: after it */
	log_warn("%s: XDP program id %u, not this process's, runs on the interface: received "
		 "packets are taken at tc ingress (tcx), after it (what it drops or redirects "
		 "is not seen)", ifc->name, other);
	return attach_tcx(ifc, HOOK_XDP, f);
}

/* Attaches hook h of ifc for its first flow f. */
static int attach_new(struct iface *ifc, enum hook_id h, struct flow *f)
{
	struct hook *hk = &ifc->hooks[h];
	char reason[256] = "";
	int modes[3], n, i, ret = 0;
	uint32_t other;

	if (h == HOOK_TC)
		return attach_tcx(ifc, h, f);
	if (other_xdp_program(ifc, &other))
		return attach_after(ifc, f, other);
	n = xdp_candidates(f->mode_req, modes);
	for (i = 0; i < n; i++) {
		int m = modes[i];

		/* loopback never has native XDP: to say so each time is noise */
		if (i > 0 && ifc->ifindex == LOOPBACK_IFINDEX && modes[i - 1] == MAPI_MODE_NATIVE)
			log_info("%s: loopback has no native XDP; trying %s XDP", ifc->name,
				 mapi_mode_name(m));
		else if (i > 0)
			log_warn("%s: %s XDP unavailable (%s); trying %s XDP", ifc->name,
				 mapi_mode_name(modes[i - 1]), reason, mapi_mode_name(m));
		if (m == MAPI_MODE_OFFLOAD && not_offloadable(f)) {
			snprintf(reason, sizeof(reason), "%s cannot run on a NIC", not_offloadable(f));
			ret = -EOPNOTSUPP;
			continue;
		}
		if (m == MAPI_MODE_OFFLOAD) {
			ret = store_create_device(&f->nic, f->nslots, ifc->ifindex, "mapi_dev");
			if (ret) {
				snprintf(reason, sizeof(reason),
					 "the device refused an offloaded map: %s", strerror(-ret));
				continue;
			}
		}
		/* XDP takes fragments.  While a program without them runs, a
		 * driver caps the MTU at about a page (veth caps its peer's):
		 * monitoring must not change what the interface can do, and
		 * they cost a helper call a packet (bpf_xdp_get_buff_len, a
		 * nanosecond or two).  Without them only where the driver
		 * refuses them in native XDP, and on a NIC. */
		ret = attach_try(ifc, h, f, m, m != MAPI_MODE_OFFLOAD);
		if (ret && m == MAPI_MODE_NATIVE && hk->link_fd < 0 && hk->groups[0].prog_fd >= 0) {
			close(hk->groups[0].prog_fd);
			hk->groups[0].prog_fd = -1;
			hk->ngroups = 0;
			err_begin();
			ret = attach_try(ifc, h, f, m, 0);
			if (!ret)
				log_info("%s: the driver takes no XDP program with fragments: "
					 "while flows run, its MTU may be capped", ifc->name);
		}
		/* someone attached an XDP program since we looked (another
		 * monitor starting at the same moment): after it, as above */
		if ((ret == -EEXIST || ret == -EBUSY) && hk->link_fd < 0 &&
		    hk->groups[0].prog_fd >= 0 && other_xdp_program(ifc, &other)) {
			hook_close(hk);
			store_destroy(&f->nic);
			err_begin();
			return attach_after(ifc, f, other);
		}
		if (!ret) {
			log_info("%s: flows on received packets run in %s XDP", ifc->name,
				 mapi_mode_name(m));
			return 0;
		}
		if (err_is_no_fds(ret)) {
			/* not the mode's fault: no other mode would do better */
			hook_close(hk);
			store_destroy(&f->nic);
			return err_no_fds(ret, "attaching the programs");
		}
		if (hk->groups[0].prog_fd < 0 && m != MAPI_MODE_OFFLOAD) {
			hook_close(hk);
			return ret;	/* a program the kernel refused: not a mode problem */
		}
		snprintf(reason, sizeof(reason), "%s: %s",
			 hk->groups[0].prog_fd < 0 ? "the device refused the program" :
						     "attach refused", strerror(-ret));
		err_begin();	/* handled: a fallback follows, or the summary below */
		if (m == MAPI_MODE_OFFLOAD) {
			hook_close(hk);
			store_destroy(&f->nic);
		} else {
			/* keep the root for the next mode; drop the group */
			close(hk->groups[0].prog_fd);
			hk->groups[0].prog_fd = -1;
			hk->ngroups = 0;
		}
	}
	hook_close(hk);
	if (f->mode_req & MAPI_MODE_REQUIRE)
		return err_set(ret ? ret : -EOPNOTSUPP, MAPI_ERR_MODE,
			       "%s: %s XDP was demanded but is unavailable: %s", ifc->name,
			       mapi_mode_name(f->mode_req & ~MAPI_MODE_REQUIRE), reason);
	return err_set(ret ? ret : -EOPNOTSUPP, MAPI_ERR_ATTACH,
		       "%s: no XDP mode could attach: %s", ifc->name, reason);
}

/* --- Adding and removing flows ---------------------------------------------*/

/* Rebuilds group k, the last, so that it jumps on to a new group k+1. */
static int group_link_on(struct iface *ifc, enum hook_id h, int k)
{
	struct hook *hk = &ifc->hooks[h];
	int prog, ret;

	hk->ngroups++;	/* so that group k is built with its jump */
	prog = group_load(hk, k, NULL, NULL);
	hk->ngroups--;
	if (prog < 0)
		return prog;
	ret = group_install(ifc, h, k, prog);
	if (ret) {
		close(prog);
		return ret;
	}
	close(hk->groups[k].prog_fd);
	hk->groups[k].prog_fd = prog;
	return 0;
}

/* What adding a flow did to one hook, to undo it if the other hook fails. */
struct hook_change {
	struct iface *ifc;
	struct flow *f;
	enum hook_id h;
	int ret;
	int attached;		/* the hook was attached for f */
	int group;		/* the group f joined */
	int old_prog;		/* that group's program before, or -1 */
	uint64_t was_idle;	/* the hook's idle_since before */
	int code;		/* the error, for a change made on another thread */
	char msg[ERR_MSG_LEN];
};

static int hook_add(struct hook_change *c)
{
	struct hook *hk = &c->ifc->hooks[c->h];
	struct codegen cg;
	uint32_t other;
	int prog, ret;

	c->old_prog = -1;
	if (hk->idle_since && c->h == HOOK_XDP && (c->f->mode_req & MAPI_MODE_REQUIRE) &&
	    (c->f->mode_req & ~MAPI_MODE_REQUIRE) != hk->mode)
		hook_close(hk);	/* idle in another mode: start over */
	if (hk->idle_since && c->h == HOOK_XDP && hk->mode == MAPI_MODE_TCX &&
	    !other_xdp_program(c->ifc, &other))
		hook_close(hk);	/* at tc ingress, but XDP is free again */
	if (hk->link_fd < 0) {
		c->attached = 1;
		c->group = 0;
		return attach_new(c->ifc, c->h, c->f);
	}
	if (c->f->hashed) {	/* no code: the root looks it up */
		c->group = -1;
		c->was_idle = hk->idle_since;
		hk->idle_since = 0;
		return 0;
	}
	ret = group_place(c->ifc, c->h, c->f, &c->group, &cg);
	if (ret)
		return ret;
	prog = loader_load(&cg.pb, &hk->target);
	pb_free(&cg.pb);
	if (prog < 0)
		return prog;
	if (c->group == hk->ngroups && c->group > 0) {
		ret = group_link_on(c->ifc, c->h, c->group - 1);
		if (ret) {
			close(prog);
			return ret;
		}
	}
	ret = group_append(&hk->groups[c->group], c->f);
	if (!ret)
		ret = group_install(c->ifc, c->h, c->group, prog);
	if (ret) {
		group_remove(&hk->groups[c->group], c->f);
		close(prog);
		return ret;
	}
	c->old_prog = hk->groups[c->group].prog_fd;
	hk->groups[c->group].prog_fd = prog;
	if (c->group >= hk->ngroups)
		hk->ngroups = c->group + 1;
	c->was_idle = hk->idle_since;
	hk->idle_since = 0;
	return 0;
}

/* Reverts a hook_add that succeeded. */
static void hook_undo(struct hook_change *c)
{
	struct hook *hk = &c->ifc->hooks[c->h];
	struct group *g;

	if (c->attached) {
		hook_close(hk);
		return;
	}
	if (c->group < 0) {	/* a conversation flow changed no group */
		hk->idle_since = c->was_idle;
		return;
	}
	g = &hk->groups[c->group];
	if (group_install(c->ifc, c->h, c->group, c->old_prog))
		log_warn("%s: restoring a program of the %s hook failed", c->ifc->name,
			 hook_names[c->h]);
	close(g->prog_fd);
	g->prog_fd = c->old_prog;
	group_remove(g, c->f);
	if (c->old_prog < 0 && c->group == hk->ngroups - 1)
		hk->ngroups--;
	hk->idle_since = c->was_idle;
}

static void *hook_add_thread(void *arg)
{
	struct hook_change *c = arg;

	err_begin();
	c->ret = hook_add(c);
	if (c->ret)
		err_pending_copy(&c->code, c->msg, sizeof(c->msg));
	return NULL;
}

/* --- Conversation flows ----------------------------------------------------*/

static unsigned int hooks_of(const struct flow *f)
{
	return (f->direction & MAPI_DIR_IN ? 1u << HOOK_XDP : 0) |
	       (f->direction & MAPI_DIR_OUT ? 1u << HOOK_TC : 0);
}

/*
 * Whether a conversation flow should be a lookup rather than a program.
 * The lookup costs a packet about as much as a dozen compiled conversation
 * filters, then nothing more however many flows it serves: so it starts
 * when a hook the flow uses already runs HASH_MIN_FLOWS flows, and once
 * the interface has it, every conversation flow uses it.  Flows compiled
 * before stay compiled: they count the same.
 */
static int lookup_pays(const struct iface *ifc, const struct flow *f)
{
	int h, k;

	if (!ifc)
		return 0;
	if (ifc->hp)
		return 1;
	for (h = 0; h < HOOK_COUNT; h++) {
		size_t n = 0;

		if (!(hooks_of(f) & (1u << h)))
			continue;
		for (k = 0; k < ifc->hooks[h].ngroups; k++)
			n += ifc->hooks[h].groups[k].nflows;
		if (n >= HASH_MIN_FLOWS)
			return 1;
	}
	return 0;
}

int engine_hashable(struct engine *e, struct flow *f)
{
	const struct fn_instance *filter = f->nfns ? f->fns[0] : NULL;
	struct iface *ifc;
	int i;

	f->hashed = 0;
	if (f->own_maps)
		return 0;
	if (!filter || filter->desc->lookup != FN_LOOKUP_KEY ||
	    (f->mode_req & ~MAPI_MODE_REQUIRE) == MAPI_MODE_OFFLOAD)
		return 0;
	for (i = 1; i < f->nfns; i++)
		if (f->fns[i]->desc->lookup != FN_LOOKUP_PACKETS &&
		    f->fns[i]->desc->lookup != FN_LOOKUP_BYTES)
			return 0;
	ifc = iface_find(e, f->ifindex);
	/* a NIC runs general flows only */
	if (ifc && offloaded(&ifc->hooks[HOOK_XDP]) && (f->direction & MAPI_DIR_IN))
		return 0;
	if (!lookup_pays(ifc, f) || !hf_parse(filter->args[0].v.s, f->hkeys, &f->nhkeys))
		return 0;
	f->hashed = 1;
	/* its counters are the lookup's */
	for (i = 1; i < f->nfns; i++)
		f->fns[i]->slot = f->fns[i]->desc->lookup == FN_LOOKUP_PACKETS ? HP_SLOT_PKTS :
										 HP_SLOT_BYTES;
	return 1;
}

int engine_read_hashed(const struct flow *f, uint32_t slot, uint64_t *val)
{
	const struct hashpath *hp = f->iface ? f->iface->hp : f->hp_view;
	int h;

	if (!hp)
		return -ENOTCONN;
	if (slot != FLOW_SLOT_SEEN) {
		*val = hashpath_read(hp, f->hash_idx, (int)slot);
		return 0;
	}
	*val = 0;
	for (h = 0; h < HOOK_COUNT; h++)
		if (hooks_of(f) & (1u << h))
			*val += hashpath_seen(hp, h) - f->seen_base[h];
	return 0;
}

/*
 * The interface's hash tables, made for its first conversation flow, and
 * the program that looks packets up in them, put into the chain of each
 * hook already attached (hooks attached later get theirs in root_create).
 */
static int hash_tables(struct iface *ifc)
{
	int h, ret;

	if (ifc->hp)
		return 0;
	ret = hashpath_create(&ifc->hp);
	if (ret)
		return ret;
	for (h = 0; h < HOOK_COUNT; h++) {
		struct hook *hk = &ifc->hooks[h];

		if (hk->link_fd < 0 || offloaded(hk))
			continue;
		ret = hash_install(ifc, h);
		if (ret) {
			while (h-- > 0)
				hash_uninstall(ifc, h);
			hashpath_destroy(ifc->hp);
			ifc->hp = NULL;
			return ret;
		}
	}
	return 0;
}

static int hash_add(struct iface *ifc, struct flow *f)
{
	int h, ret = hashpath_add(ifc->hp, f->hkeys, f->nhkeys, hooks_of(f), &f->hash_idx);

	if (ret)
		return ret;
	for (h = 0; h < HOOK_COUNT; h++) {
		if (!(hooks_of(f) & (1u << h)))
			continue;
		ifc->hooks[h].nhash++;
		f->seen_base[h] = hashpath_seen(ifc->hp, h);
	}
	return 0;
}

static void hash_remove(struct iface *ifc, struct flow *f)
{
	int h, k;

	hashpath_remove(ifc->hp, f->hkeys, f->nhkeys, hooks_of(f), f->hash_idx);
	for (h = 0; h < HOOK_COUNT; h++) {
		struct hook *hk = &ifc->hooks[h];
		int users = 0;

		if (!(hooks_of(f) & (1u << h)) || hk->link_fd < 0)
			continue;
		hk->nhash--;
		for (k = 0; k < hk->ngroups; k++)
			users += (int)hk->groups[k].nflows;
		if (!users && !hk->nhash)
			hk->idle_since = monotonic_ms();
	}
}

/* Checks that f can join the mode the XDP hook already runs in. */
static int join_mode(struct iface *ifc, struct flow *f)
{
	struct hook *hk = &ifc->hooks[HOOK_XDP];
	int want = f->mode_req & ~MAPI_MODE_REQUIRE;

	if (hk->link_fd < 0 || hk->idle_since || !(f->direction & MAPI_DIR_IN))
		return 0;
	if ((f->mode_req & MAPI_MODE_REQUIRE) && want != hk->mode)
		return err_set(-EBUSY, MAPI_ERR_MODE,
			       "%s: its flows already take received packets in %s mode, and one "
			       "mode serves an interface's flows: %s cannot be demanded", ifc->name,
			       mapi_mode_name(hk->mode), mapi_mode_name(want));
	if (offloaded(hk) && not_offloadable(f))
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE,
			       "%s: its flows run on the NIC, where %s cannot run: close them "
			       "first, or give this flow a direction of MAPI_DIR_OUT",
			       ifc->name, not_offloadable(f));
	if (offloaded(hk))
		return store_create_device(&f->nic, f->nslots, ifc->ifindex, "mapi_dev");
	return 0;
}

int engine_connect(struct engine *e, struct flow *f)
{
	struct iface *ifc = NULL;
	struct hook_change in = { .h = HOOK_XDP, .old_prog = -1 };
	struct hook_change out = { .h = HOOK_TC, .old_prog = -1 };
	int both = (f->direction & MAPI_DIR_BOTH) == MAPI_DIR_BOTH;
	pthread_t tid;
	int threaded = 0, ret;

	ret = iface_get(e, f, &ifc);
	if (ret)
		return ret;
	ret = join_mode(ifc, f);
	if (ret) {
		iface_put(ifc);
		return ret;
	}
	if (f->hashed) {
		ret = hash_tables(ifc);
		if (ret) {
			iface_put(ifc);
			return ret;
		}
	}
	in.ifc = out.ifc = ifc;
	in.f = out.f = f;
	/* Loading and attaching wait on the kernel (verification, RCU grace
	 * periods): the egress side works on a thread of its own meanwhile.
	 * Only the ingress side, on this thread, may log. */
	if (both && !thread_start(&tid, hook_add_thread, &out))
		threaded = 1;
	if (f->direction & MAPI_DIR_IN)
		in.ret = hook_add(&in);
	if (threaded) {
		pthread_join(tid, NULL);
		if (out.ret && !in.ret)
			err_set(out.ret, out.code, "%s", out.msg);
	} else if (f->direction & MAPI_DIR_OUT && !in.ret) {
		out.ret = hook_add(&out);
	}
	ret = in.ret ? in.ret : out.ret;
	if (ret) {
		if ((f->direction & MAPI_DIR_IN) && !in.ret)
			hook_undo(&in);
		if ((f->direction & MAPI_DIR_OUT) && !out.ret && (threaded || !in.ret))
			hook_undo(&out);
		store_destroy(&f->nic);
		iface_put(ifc);
		return ret;
	}
	if (f->hashed) {
		ret = hash_add(ifc, f);
		if (ret) {
			if (f->direction & MAPI_DIR_IN)
				hook_undo(&in);
			if (f->direction & MAPI_DIR_OUT)
				hook_undo(&out);
			iface_put(ifc);
			return ret;
		}
	}
	if (in.old_prog >= 0)
		close(in.old_prog);
	if (out.old_prog >= 0)
		close(out.old_prog);
	f->group[HOOK_XDP] = f->direction & MAPI_DIR_IN && !f->hashed ? in.group : -1;
	f->group[HOOK_TC] = f->direction & MAPI_DIR_OUT && !f->hashed ? out.group : -1;
	f->iface = ifc;
	ifc->nflows++;
	f->mode_in = f->direction & MAPI_DIR_IN ? ifc->hooks[HOOK_XDP].mode : MAPI_MODE_NONE;
	f->mode_out = f->direction & MAPI_DIR_OUT ? ifc->hooks[HOOK_TC].mode : MAPI_MODE_NONE;
	return 0;
}

/* Takes f out of hook h: its group is rebuilt without it. */
static void hook_remove(struct iface *ifc, enum hook_id h, struct flow *f)
{
	struct hook *hk = &ifc->hooks[h];
	int k = f->group[h], prog = -1, ret = 0, users = 0, i;
	struct group *g;

	if (k < 0 || hk->link_fd < 0)
		return;
	g = &hk->groups[k];
	for (i = 0; i < hk->ngroups; i++)
		users += (int)hk->groups[i].nflows;
	if (users == 1 && offloaded(hk)) {
		hook_close(hk);	/* a NIC program cannot idle empty: it is the flow */
		return;
	}
	if (g->nflows > 1 || k < hk->ngroups - 1 || offloaded(hk)) {
		prog = group_load(hk, k, NULL, f);
		ret = prog < 0 ? prog : 0;
	}
	if (!ret)
		ret = group_install(ifc, h, k, prog);
	if (ret) {
		/* The old program keeps running f's code into f's maps, which
		 * the kernel keeps alive until the group is next replaced. */
		log_warn("%s: taking flow %d out of the %s hook's program failed; it stays "
			 "until the group changes again", ifc->name, f->fd, hook_names[h]);
		if (prog >= 0)
			close(prog);
		group_remove(g, f);
		err_begin();
		return;
	}
	if (g->prog_fd >= 0)
		close(g->prog_fd);
	g->prog_fd = prog;
	group_remove(g, f);
	while (hk->ngroups > 0 && hk->groups[hk->ngroups - 1].prog_fd < 0)
		hk->ngroups--;
	if (users == 1 && !hk->nhash)
		hk->idle_since = monotonic_ms();
}

void engine_disconnect(struct engine *e, struct flow *f)
{
	struct iface *ifc = f->iface;
	int h;

	if (!ifc || ifc->eng != e)
		return;
	if (f->hashed)
		hash_remove(ifc, f);
	for (h = 0; h < HOOK_COUNT; h++)
		hook_remove(ifc, (enum hook_id)h, f);
	ifc->nflows--;
	f->iface = NULL;
	iface_put(ifc);
}

uint64_t engine_housekeep(struct engine *e, int force)
{
	uint64_t now = monotonic_ms(), next = 0;
	struct iface *ifc, *nxt;
	int h;

	for (ifc = e->ifaces; ifc; ifc = nxt) {
		nxt = ifc->next;
		for (h = 0; h < HOOK_COUNT; h++) {
			struct hook *hk = &ifc->hooks[h];
			uint64_t due = hk->idle_since + IDLE_DETACH_MS;

			if (!hk->idle_since)
				continue;
			if (force || due <= now)
				hook_close(hk);
			else if (!next || due < next)
				next = due;
		}
		iface_put(ifc);
	}
	return next;
}

int engine_share_lookup(const struct flow *f, uint32_t *id)
{
	if (!f->hashed || !f->iface || !f->iface->hp)
		return -EINVAL;
	return hashpath_share(f->iface->hp, id);
}

int engine_new(struct engine **e)
{
	*e = calloc(1, sizeof(**e));
	return *e ? 0 : -ENOMEM;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	engine_housekeep(e, 1);
	free(e);
}
