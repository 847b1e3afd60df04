/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which monitored interfaces went away.  When an interface is deleted (or
 * moved to another network namespace) the kernel detaches its programs:
 * the flows on it have stopped counting for good, and must say so rather
 * than report frozen numbers as live.  A thread listens to the kernel's
 * link notifications (rtnetlink) while any interface is watched and marks
 * the watches of the interfaces that went.
 *
 * linkwatch_get and linkwatch_put are called by one thread at a time (the
 * API lock); linkwatch_gone and linkwatch_fd by any thread.
 */
#ifndef MAPI_LINKWATCH_H
#define MAPI_LINKWATCH_H

struct link_watch;

/*
 * A watch of interface ifindex of this network namespace, made or shared:
 * 0, or a negative errno (a message says why) when the notifications
 * cannot be listened to.  An interface already gone is marked at once.
 */
int linkwatch_get(int ifindex, struct link_watch **w);
void linkwatch_put(struct link_watch *w);

/* 1 once its interface has gone; no system call. */
int linkwatch_gone(const struct link_watch *w);

/* A descriptor that becomes readable (and stays so) when it goes: for a
 * thread that sleeps in poll or epoll to wake. */
int linkwatch_fd(const struct link_watch *w);

/*
 * fork(), from the API's handlers, inside its lock (the order every call
 * takes them in): the child has no listener, and the socket it inherits
 * is the parent's to read.  Its watches stay for its copies of the
 * parent's flows; a watch it makes starts a listener of its own, which
 * first looks at every interface watched.
 */
void linkwatch_fork_prepare(void);
void linkwatch_fork_parent(void);
void linkwatch_fork_child(void);

#endif
