/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A bounded queue of packets between two threads of the process: where a
 * flow over a trace file keeps TO_BUFFER's packets.  Unlike a live ring,
 * a full queue makes the trace reader wait: a trace can be read again, so
 * nothing is dropped.
 */
#ifndef MAPI_PKTQUEUE_H
#define MAPI_PKTQUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "mapi.h"

struct pkt_queue {
	pthread_mutex_t lock;
	pthread_cond_t more, room;
	struct pq_node *head, *tail;
	size_t bytes, cap;
	uint64_t count;
	int ended;	/* no more packets will come */
	int stopped;	/* the flow closes: nobody waits any more */
};

void pq_init(struct pkt_queue *q, size_t cap_bytes);
void pq_destroy(struct pkt_queue *q);

/* Appends a packet (the header hdr, hdr->caplen bytes of data), waiting
 * for room; 0, or -EINTR once stopped, -ENOMEM. */
int pq_push(struct pkt_queue *q, const struct mapipkt *hdr, const uint8_t *data);

/*
 * Moves the oldest packet into out (room for max_caplen bytes): 0,
 * -EAGAIN when empty, -ENODATA when empty and ended.
 */
int pq_pop(struct pkt_queue *q, struct mapipkt *out);

/* Waits for a packet: 0, -ENODATA (ended, empty), -EINTR (stopped) or
 * -ETIMEDOUT after timeout_ms (< 0: no limit). */
int pq_wait(struct pkt_queue *q, int timeout_ms);

void pq_end(struct pkt_queue *q);
void pq_stop(struct pkt_queue *q);
uint64_t pq_count(struct pkt_queue *q);

#endif
