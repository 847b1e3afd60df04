/* SPDX-License-Identifier: BSD-2-Clause */
#include "linkwatch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "mapi.h"
#include "threads.h"

struct link_watch {
	int ifindex;
	int gone;		/* atomic */
	int event_fd;		/* readable once gone */
	int refs;
	int inherited;		/* a child of fork()'s copy of the parent's */
	struct link_watch *next;
};

/* The list is changed by get and put (one thread at a time) and read by
 * the listener: the lock is for the two of them. */
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct link_watch *watches;
static int nl_sock = -1, stop_fd = -1, listening;
static pthread_t listener;

static void mark_gone(struct link_watch *w)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&w->gone, 1, __ATOMIC_ACQ_REL))
		return;
	if (write(w->event_fd, &one, sizeof(one)) < 0) {
		/* the counter is set already: the descriptor is readable */
	}
}

/* 1 if this namespace has no interface ifindex (any other answer, one
 * that could not be had included, is not proof). */
static int no_such_link(int ifindex)
{
	char name[IF_NAMESIZE];

	return !if_indextoname((unsigned int)ifindex, name) && errno == ENXIO;
}

/* Interface ifindex was said to go (0: look at every interface watched);
 * marked gone once it is seen to be so. */
static void links_gone(int ifindex)
{
	struct link_watch *w;

	if (ifindex && !no_such_link(ifindex))
		return;
	pthread_mutex_lock(&watch_lock);
	for (w = watches; w; w = w->next)
		if (ifindex ? w->ifindex == ifindex : no_such_link(w->ifindex))
			mark_gone(w);
	pthread_mutex_unlock(&watch_lock);
}

/* The kernel's messages in buf: the links deleted (or moved away). */
static void read_notifications(const void *buf, size_t len)
{
	const struct nlmsghdr *h;

	for (h = buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		const struct ifinfomsg *ifi = NLMSG_DATA(h);

		/* (a bridge says RTM_DELLINK, AF_BRIDGE, of a port that leaves it:
		 * that port stays) */
		if (h->nlmsg_type == RTM_DELLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifi)) &&
		    ifi->ifi_family == AF_UNSPEC && ifi->ifi_index > 0)
			links_gone(ifi->ifi_index);
	}
}

static void *listen_links(void *arg)
{
	struct pollfd p[2] = { { .fd = nl_sock, .events = POLLIN },
			       { .fd = stop_fd, .events = POLLIN } };
	uint32_t buf[8192];

	(void)arg;
	/* what went before the socket listened, or while nothing did */
	links_gone(0);
	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		/* read on any event: an error (ENOBUFS) is taken by reading */
		n = recvfrom(nl_sock, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &flen);
		if (n < 0 && errno == ENOBUFS)
			links_gone(0);	/* notifications were lost: look */
		else if (n > 0 && flen == sizeof(from) && from.nl_pid == 0)
			read_notifications(buf, (size_t)n);	/* from the kernel only */
	}
	return NULL;
}

/* No listener from now on (there is none, or it has ended). */
static void forget_listener(void)
{
	listening = 0;
	if (nl_sock >= 0)
		close(nl_sock);
	if (stop_fd >= 0)
		close(stop_fd);
	nl_sock = stop_fd = -1;
}

static void stop_listening(void)
{
	uint64_t one = 1;

	if (listening) {
		if (write(stop_fd, &one, sizeof(one)) < 0) {
			/* set already */
		}
		pthread_join(listener, NULL);
	}
	forget_listener();
}

static int start_listening(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int ret;

	nl_sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (nl_sock < 0 || stop_fd < 0 || bind(nl_sock, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		stop_listening();
		return err_kernel(ret, "listening for interfaces going away (rtnetlink)");
	}
	ret = thread_start(&listener, listen_links, NULL);
	if (ret) {
		stop_listening();
		return err_set(-ret, MAPI_ERR_NOMEM,
			       "cannot start the thread that watches interfaces: %s", strerror(ret));
	}
	listening = 1;
	return 0;
}

int linkwatch_get(int ifindex, struct link_watch **out)
{
	char name[IF_NAMESIZE];
	struct link_watch *w;
	int ret;

	for (w = watches; w; w = w->next) {
		if (w->ifindex == ifindex && !linkwatch_gone(w) && !w->inherited) {
			w->refs++;
			*out = w;
			return 0;
		}
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(-ENOMEM, MAPI_ERR_NOMEM, "out of memory");
	w->ifindex = ifindex;
	w->refs = 1;
	w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->event_fd < 0) {
		ret = -errno;
		free(w);
		return err_kernel(ret, "watching interface %d for its removal", ifindex);
	}
	pthread_mutex_lock(&watch_lock);
	w->next = watches;
	watches = w;
	pthread_mutex_unlock(&watch_lock);
	ret = listening ? 0 : start_listening();
	if (ret) {
		linkwatch_put(w);
		return ret;
	}
	/* gone before the listener heard of it */
	if (!if_indextoname((unsigned int)ifindex, name) && errno == ENXIO)
		mark_gone(w);
	*out = w;
	return 0;
}

void linkwatch_put(struct link_watch *w)
{
	struct link_watch **p;
	int last;

	if (!w || --w->refs)
		return;
	pthread_mutex_lock(&watch_lock);
	for (p = &watches; *p != w; p = &(*p)->next)
		;
	*p = w->next;
	last = !watches;
	pthread_mutex_unlock(&watch_lock);
	close(w->event_fd);
	free(w);
	if (last)
		stop_listening();	/* it never waits for this thread */
}

int linkwatch_gone(const struct link_watch *w)
{
	return __atomic_load_n(&w->gone, __ATOMIC_ACQUIRE);
}

int linkwatch_fd(const struct link_watch *w)
{
	return w->event_fd;
}

void linkwatch_fork_prepare(void)
{
	pthread_mutex_lock(&watch_lock);
}

void linkwatch_fork_parent(void)
{
	pthread_mutex_unlock(&watch_lock);
}

void linkwatch_fork_child(void)
{
	struct link_watch *w;

	forget_listener();
	/* the watches it has are its copies of the parent's flows': their
	 * descriptors are the parent's too, so none serves a new flow */
	for (w = watches; w; w = w->next)
		w->inherited = 1;
	pthread_mutex_unlock(&watch_lock);
}
