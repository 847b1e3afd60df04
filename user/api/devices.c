/* SPDX-License-Identifier: BSD-2-Clause */
/* mapi_get_device_info: the network interfaces a flow could monitor;
 * mapi_stats: what was received and lost on one. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "error.h"
#include "mapi.h"
#include "trace.h"

/* Drivers with native XDP in Linux 6.x, and those that offload it. */
static const char *const native_drivers[] = {
	"veth", "virtio_net", "tun", "bonding", "netdevsim", "ixgbe", "ixgbevf", "i40e",
	"ice", "igb", "igc", "mlx4_en", "mlx5_core", "bnxt_en", "nfp", "qede", "ena",
	"hv_netvsc", "gve", "sfc", "thunder-nicvf", "mvneta", "mvpp2", "dpaa2-eth", "fec",
	"stmmaceth", "st_gmac", "lan966x-switch", "cpsw", "am65-cpsw-nuss", "enetc",
	"fbnic", "idpf", "octeontx2-nicpf", "ionic", "mana", "xen-netfront", NULL,
};
static const char *const offload_drivers[] = { "nfp", "netdevsim", NULL };

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

/* The alias, from sysfs (the kernel's IFLA_IFALIAS): "" if none. */
static void read_alias(const char *name, char *out, size_t len)
{
	char path[64];
	FILE *f;

	*out = 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifalias", name);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = 0;
	else
		*out = 0;
	fclose(f);
}

/* What info says of interface ifindex: 0, or -ENODEV. */
static int describe(int s, unsigned int ifindex, mapi_device_info_t *info)
{
	struct ethtool_drvinfo drv = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_cmd link = { .cmd = ETHTOOL_GSET };
	struct ifreq ifr;
	uint32_t speed;
	int hwtype = -1;

	memset(info, 0, sizeof(*info));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)ifindex;
	if (ioctl(s, SIOCGIFNAME, &ifr))
		return -ENODEV;
	info->id = (int)ifindex;
	snprintf(info->name, sizeof(info->name), "%s", ifr.ifr_name);
	if (!ioctl(s, SIOCGIFFLAGS, &ifr))
		info->up = !!(ifr.ifr_flags & IFF_UP);
	if (!ioctl(s, SIOCGIFMTU, &ifr))
		info->mtu = ifr.ifr_mtu;
	if (!ioctl(s, SIOCGIFHWADDR, &ifr))
		hwtype = ifr.ifr_hwaddr.sa_family;
	ifr.ifr_data = (void *)&drv;
	if (!ioctl(s, SIOCETHTOOL, &ifr))
		snprintf(info->description, sizeof(info->description), "%s", drv.driver);
	info->link_speed = -1;
	ifr.ifr_data = (void *)&link;
	if (!ioctl(s, SIOCETHTOOL, &ifr)) {
		/* (not ethtool_cmd_speed(): its int shift overflows for an
		 * unknown speed, 0xffff << 16) */
		speed = (uint32_t)link.speed_hi << 16 | link.speed;
		if (speed && speed != (uint32_t)SPEED_UNKNOWN)
			info->link_speed = speed;
	}
	read_alias(info->name, info->alias, sizeof(info->alias));
	if (hwtype == ARPHRD_LOOPBACK) {
		snprintf(info->type, sizeof(info->type), "loopback");
		snprintf(info->native, sizeof(info->native), "no");
		snprintf(info->offload, sizeof(info->offload), "no");
	} else if (hwtype == ARPHRD_ETHER) {
		snprintf(info->type, sizeof(info->type), "ethernet");
		snprintf(info->native, sizeof(info->native), "%s",
			 in_list(native_drivers, info->description) ? "yes" : "unknown");
		snprintf(info->offload, sizeof(info->offload), "%s",
			 in_list(offload_drivers, info->description) ? "possible" : "no");
	} else {
		snprintf(info->type, sizeof(info->type), "other");	/* flows refuse it */
		snprintf(info->native, sizeof(info->native), "no");
		snprintf(info->offload, sizeof(info->offload), "no");
	}
	return 0;
}

/* Interface devid (next: the first above it), described. */
static int device_info(int devid, int next, mapi_device_info_t *info)
{
	struct if_nameindex *ifs, *i;
	unsigned int want;
	int s, ret;

	if (!info)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2, "the device info is NULL");
	if (!next && devid <= 0)
		return err_set(-ENODEV, MAPI_NO_SUCH_DEVICE, "no device %d (ids are interface "
			       "indexes, from 1)", devid);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_kernel(-errno, "looking at the interfaces");
	if (!next) {
		ret = describe(s, (unsigned int)devid, info);
		close(s);
		if (ret)
			return err_set(ret, MAPI_NO_SUCH_DEVICE, "no device %d (`ip link` lists "
				       "them)", devid);
		return 0;
	}
	do {
		/* the lowest index above devid (again, above one that went since) */
		ifs = if_nameindex();
		if (!ifs) {
			ret = -errno;
			close(s);
			return err_kernel(ret, "listing the interfaces");
		}
		for (want = 0, i = ifs; i->if_index; i++)
			if ((int)i->if_index > devid && (!want || i->if_index < want))
				want = i->if_index;
		if_freenameindex(ifs);
		ret = want ? describe(s, want, info) : -ENODEV;
		devid = (int)want;
	} while (ret && want);
	close(s);
	if (ret)
		return err_set(ret, MAPI_NO_SUCH_DEVICE, "no device after the last");
	return 0;
}

MAPI_EXPORT int mapi_get_device_info(int devid, mapi_device_info_t *info)
{
	int ret;

	api_begin();
	ret = device_info(devid, 0, info);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

MAPI_EXPORT int mapi_get_next_device_info(int devid, mapi_device_info_t *info)
{
	int ret;

	api_begin();
	ret = device_info(devid < 0 ? 0 : devid, 1, info);
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}

/* The interface's counters, from /proc/self/net/dev, which shows this
 * network namespace's: "dev: rx_bytes rx_packets errs drop fifo frame
 * compressed multicast tx_bytes tx_packets ...".  Its drop column is the
 * kernel's rx_dropped plus rx_missed_errors. */
static int interface_counters(const char *dev, struct mapi_stat *st)
{
	char line[512];
	FILE *f = fopen("/proc/self/net/dev", "re");
	int ret = -ENODEV;

	if (!f)
		return err_kernel(-errno, "reading /proc/self/net/dev");
	while (ret == -ENODEV && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *name = line;
		unsigned long long v[10];

		if (!colon)
			continue;
		*colon = 0;
		while (*name == ' ')
			name++;
		if (strcmp(name, dev))
			continue;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) != 10) {
			ret = err_set(-EPROTO, MAPI_ERR_INTERNAL,
				      "/proc/self/net/dev: cannot read %s's line", dev);
			break;
		}
		st->ps_recv = v[1];
		st->ps_ifdrop = v[3];
		st->ps_sent = v[9];
		ret = 0;
	}
	fclose(f);
	return ret == -ENODEV ? err_set(ret, MAPI_NO_SUCH_DEVICE, "no network interface or "
					"offline device named \"%s\"", dev) : ret;
}

MAPI_EXPORT int mapi_stats(const char *dev, struct mapi_stat *stats)
{
	struct flow *f;
	int fd, ret = 0;

	api_begin();
	if (!dev)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1, "mapi_stats: dev is NULL");
	else if (!stats)
		ret = err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2, "mapi_stats: stats is NULL");
	if (!ret) {
		memset(stats, 0, sizeof(*stats));
		snprintf(stats->dev, sizeof(stats->dev), "%s", dev);
		if (gethostname(stats->hostname, sizeof(stats->hostname) - 1))
			stats->hostname[0] = 0;
		uint64_t packets = 0;

		ret = trace_is_device(dev) ? trace_device_packets(dev, &packets) :
					     interface_counters(dev, stats);
		stats->ps_recv += packets;
	}
	/* what this process's flows on it lost: their rings' drops */
	for (fd = 0; !ret && (f = api_next_flow(&fd));) {
		uint64_t lost;

		if (f->inherited || strcmp(f->dev, dev))
			continue;
		ret = api_flow_dropped(f, &lost);
		stats->ps_drop += lost;
	}
	if (ret)
		return api_fail(ret);
	api_end();
	return 0;
}
