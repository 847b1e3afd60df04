/* SPDX-License-Identifier: BSD-2-Clause */
#include "pktqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pq_node {
	struct pq_node *next;
	struct mapipkt pkt;	/* then its bytes */
};

void pq_init(struct pkt_queue *q, size_t cap_bytes)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->more, &ca);
	pthread_cond_init(&q->room, &ca);
	pthread_condattr_destroy(&ca);
	q->cap = cap_bytes;
}

void pq_destroy(struct pkt_queue *q)
{
	while (q->head) {
		struct pq_node *n = q->head;

		q->head = n->next;
		free(n);
	}
	/* The lock and conditions are not destroyed: a child of fork() frees
	 * its copy of the flow, whose conditions may still count a thread of
	 * the parent's waiting (destroying them would wait for ever); on
	 * Linux they hold nothing to free. */
}

static size_t node_size(uint32_t caplen)
{
	return sizeof(struct pq_node) + caplen;
}

int pq_push(struct pkt_queue *q, const struct mapipkt *hdr, const uint8_t *data)
{
	size_t size = node_size(hdr->caplen);
	struct pq_node *n = malloc(size);

	if (!n)
		return -ENOMEM;
	n->next = NULL;
	n->pkt = *hdr;
	memcpy(n->pkt.pkt, data, hdr->caplen);
	pthread_mutex_lock(&q->lock);
	/* one packet always fits, however large */
	while (!q->stopped && q->head && q->bytes + size > q->cap)
		pthread_cond_wait(&q->room, &q->lock);
	if (q->stopped) {
		pthread_mutex_unlock(&q->lock);
		free(n);
		return -EINTR;
	}
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	q->bytes += size;
	q->count++;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

int pq_pop(struct pkt_queue *q, struct mapipkt *out)
{
	struct pq_node *n;
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	n = q->head;
	if (n) {
		q->head = n->next;
		if (!q->head)
			q->tail = NULL;
		q->bytes -= node_size(n->pkt.caplen);
		q->count--;
		pthread_cond_signal(&q->room);
	} else {
		ret = q->ended ? -ENODATA : -EAGAIN;
	}
	pthread_mutex_unlock(&q->lock);
	if (n) {
		memcpy(out, &n->pkt, sizeof(*out) + n->pkt.caplen);
		free(n);
	}
	return ret;
}

int pq_wait(struct pkt_queue *q, int timeout_ms)
{
	struct timespec until;
	int ret = 0;

	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&q->lock);
	while (!q->head && !q->ended && !q->stopped && !ret) {
		if (timeout_ms < 0)
			pthread_cond_wait(&q->more, &q->lock);
		else if (pthread_cond_timedwait(&q->more, &q->lock, &until) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	}
	if (q->head)
		ret = 0;
	else if (q->stopped)
		ret = -EINTR;
	else if (q->ended)
		ret = -ENODATA;
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static void set_flag(struct pkt_queue *q, int *flag)
{
	pthread_mutex_lock(&q->lock);
	*flag = 1;
	pthread_cond_broadcast(&q->more);
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->lock);
}

void pq_end(struct pkt_queue *q)
{
	set_flag(q, &q->ended);
}

void pq_stop(struct pkt_queue *q)
{
	set_flag(q, &q->stopped);
}

uint64_t pq_count(struct pkt_queue *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}
