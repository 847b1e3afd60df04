/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-process backend: this process runs its flows in an engine of its
 * own, loading and attaching the programs itself (it needs CAP_BPF and
 * CAP_NET_ADMIN).
 */
#include "backend.h"

#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caps.h"
#include "engine.h"
#include "error.h"
#include "functions.h"
#include "mapi.h"

/* Interface dev's index and ARP hardware type (-1 if it cannot be told):
 * 0, -ENODEV, or why it could not be asked (no descriptor left, say, which
 * if_nametoindex would not tell from a missing interface). */
static int device_lookup(const char *dev, unsigned int *ifindex, int *type)
{
	struct ifreq ifr;
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, dev, strlen(dev));
	if (ioctl(s, SIOCGIFINDEX, &ifr))
		ret = errno == ENODEV || errno == ENXIO ? -ENODEV : -errno;
	*ifindex = ret ? 0 : (unsigned int)ifr.ifr_ifindex;
	*type = -1;
	if (!ret && !ioctl(s, SIOCGIFHWADDR, &ifr))
		*type = ifr.ifr_hwaddr.sa_family;
	close(s);
	return ret;
}

static int lookup_error(int ret, const char *dev)
{
	if (ret == -ENODEV)
		return err_set(ret, MAPI_NO_SUCH_DEVICE,
			       "no network interface named \"%s\" (`ip link` lists them)", dev);
	return err_kernel(ret, "looking up interface %s", dev);
}

int backend_open_device(struct flow *f, const char *dev)
{
	unsigned int ifindex;
	int type, ret;

	if (!*dev || strlen(dev) >= IF_NAMESIZE)
		return lookup_error(-ENODEV, dev);
	ret = device_lookup(dev, &ifindex, &type);
	if (ret)
		return lookup_error(ret, dev);
	/* the link types whose frames start with an Ethernet header; one
	 * that cannot be told fails at attach if at all */
	if (type >= 0 && type != ARPHRD_ETHER && type != ARPHRD_LOOPBACK)
		return err_set(-EOPNOTSUPP, MAPI_ERR_UNSUPPORTED,
			       "%s is not an Ethernet interface (ARP hardware type %d): "
			       "mapi-bpf monitors Ethernet and loopback interfaces", dev, type);
	snprintf(f->dev, sizeof(f->dev), "%s", dev);
	f->ifindex = (int)ifindex;
	return 0;
}

/* At connect: f's interface is still there with the index it had (not
 * another of the same name): 0 and its ARP hardware type (-1: not told),
 * or why not.  (mapid checks its clients' by the index they send.) */
static int check_device(const struct flow *f, int *type)
{
	unsigned int now;
	int ret = device_lookup(f->dev, &now, type);

	if (ret && ret != -ENODEV)
		return lookup_error(ret, f->dev);
	if (now != (unsigned int)f->ifindex)
		return err_set(-ENODEV, MAPI_NO_SUCH_DEVICE,
			       "interface %s disappeared after the flow was created", f->dev);
	return 0;
}

static int local_open(struct backend *b, struct flow *f, const char *dev, int format)
{
	(void)b;
	(void)format;
	return backend_open_device(f, dev);
}

static int local_connect(struct backend *b, struct flow *f)
{
	struct engine *e = b->ctx;
	char name[16];
	int ret, type;

	ret = check_device(f, &type);
	if (!ret)
		ret = caps_check(f->dev);
	if (ret)
		return ret;
	/* libpcap ignores what a loopback interface sends (every packet is
	 * received too): a flow on it sees each packet once, as tcpdump does. */
	if (f->direction == MAPI_DIR_BOTH && type == ARPHRD_LOOPBACK)
		f->direction = MAPI_DIR_IN;
	snprintf(name, sizeof(name), "mapi_f%d", f->fd);
	/* a conversation flow counts in its interface's tables */
	ret = engine_hashable(e, f) ? 0 : store_create_host(&f->host, f->nslots, name);
	if (ret)
		return ret;
	ret = flow_fns_connect(f);
	if (!ret) {
		ret = engine_connect(e, f);
		if (ret)
			flow_fns_disconnect(f);
	}
	if (ret)
		store_destroy(&f->host);
	return ret;
}

static void local_close(struct backend *b, struct flow *f)
{
	if (f->status == MAPI_FLOW_RUNNING && !f->detached)
		engine_disconnect(b->ctx, f);
}

/* f's results now, in memory: every slot a function of it reads (a
 * conversation flow's are the table's, past its own count). */
static int snapshot(const struct flow *f, struct result_store *frozen)
{
	uint32_t n = f->nslots, slot;
	uint64_t v;
	int i;

	for (i = 0; i < f->nfns; i++) {
		const struct fn_instance *fi = f->fns[i];
		uint32_t end = (uint32_t)fi->slot + (uint32_t)(fi->desc->slots ? fi->desc->slots : 1);

		if (fi->slot >= 0 && end > n)
			n = end;
	}
	if (store_create_memory(frozen, n))
		return -ENOMEM;
	for (slot = 0; slot < n; slot++)
		if (!f->backend->ops->read_slot(f, slot, &v))
			store_add(frozen, slot, v);
	return 0;
}

int backend_stop_frozen(struct flow *f, int (*detach)(struct backend *b, struct flow *f))
{
	struct result_store frozen;
	int hashed = f->hashed, made = -1, ret;

	/* A conversation flow counts in its interface's table, which the
	 * detach takes from it: read first.  A flow's own maps outlive the
	 * detach: read after, so that nothing counted in between is left out
	 * (a TO_BUFFER's matched covers what its ring got). */
	if (hashed)
		made = snapshot(f, &frozen);
	ret = detach(f->backend, f);
	if (!hashed)
		made = snapshot(f, &frozen);
	if (!made) {
		store_destroy(&f->host);
		store_destroy(&f->nic);
		f->host = frozen;
		f->hashed = 0;	/* its counters are the memory's now */
	}
	return ret;
}

static int local_detach(struct backend *b, struct flow *f)
{
	engine_disconnect(b->ctx, f);
	return 0;
}

static int local_stop(struct backend *b, struct flow *f)
{
	return backend_stop_frozen(f, local_detach);
}

static int local_read_slot(const struct flow *f, uint32_t slot, uint64_t *val)
{
	uint64_t host = 0, dev = 0;
	int ret;

	if (f->hashed)
		return engine_read_hashed(f, slot, val);
	ret = store_read(&f->host, slot, &host);
	if (!ret && f->nic.nlines)
		ret = store_read(&f->nic, slot, &dev);
	if (ret)
		return ret;
	*val = host + dev;
	return 0;
}

static uint64_t local_housekeep(struct backend *b, int force)
{
	return engine_housekeep(b->ctx, force);
}

static void local_destroy(struct backend *b)
{
	engine_free(b->ctx);
	free(b);
}

static const struct backend_ops local_ops = {
	.name = "in-process",
	.live = 1,
	.open = local_open,
	.connect = local_connect,
	.close = local_close,
	.stop = local_stop,
	.read_slot = local_read_slot,
	.housekeep = local_housekeep,
	.destroy = local_destroy,
};

int backend_local_new(struct backend **out)
{
	struct backend *b = calloc(1, sizeof(*b));
	struct engine *e;
	int ret;

	if (!b)
		return -ENOMEM;
	ret = engine_new(&e);
	if (ret) {
		free(b);
		return ret;
	}
	b->ops = &local_ops;
	b->ctx = e;
	*out = b;
	return 0;
}

void backend_destroy(struct backend *b)
{
	if (b && b->ops->destroy)
		b->ops->destroy(b);
}
